"""Answers -> plain text (command line), Telegram HTML (messages of at most 4,096 characters) and JSON.

Links: a site-relative target naming an article of ours becomes a deep link into the bot when its
username is known; otherwise LINK_BASE_URL + path when that is set; otherwise the link text stays plain.
A relative URL is never emitted.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import regex

from bot.domain.content import Block, Span
from bot.domain.engine import Answer, SectionRef
from bot.locales import language_name, t

TELEGRAM_LIMIT = 4096
_DEEP_LINK_PAYLOAD = regex.compile(r"^[A-Za-z0-9_-]{1,64}$")
_SAFE_SCHEMES = {"http", "https", "tg", "mailto"}


def utf16_length(text: str) -> int:
    """Telegram measures messages in UTF-16 code units (an emoji counts two)."""
    return len(text.encode("utf-16-le")) // 2


@dataclass(frozen=True)
class LinkResolver:
    slugs: frozenset[str] = frozenset()
    bot_username: str | None = None
    base_url: str | None = None

    def resolve(self, href: str | None) -> str | None:
        if not href or "\x00" in href:  # Telegram's parser rejects the whole message for a NUL in a link
            return None
        try:
            parts = urlsplit(href.strip())
        except ValueError:  # 'http://[::1' and the like
            return None
        if parts.scheme:
            web = parts.scheme.lower() in ("http", "https")
            if parts.scheme.lower() not in _SAFE_SCHEMES or (web and not parts.hostname):
                return None  # 'https:/path' has no host: relative in effect, and Telegram rejects it
            return href.strip()
        if parts.netloc:  # '//host/path'
            return "https:" + href.strip()
        path = parts.path
        if not path:
            return None  # '#anchor' alone: nothing to point at outside the site
        slug = path.strip("/").split("/")[0]
        if slug in self.slugs and self.bot_username and _DEEP_LINK_PAYLOAD.match(slug):
            return f"https://t.me/{self.bot_username}?start={slug}"
        if self.base_url:
            tail = path.lstrip("./") + (f"?{parts.query}" if parts.query else "")
            tail += f"#{parts.fragment}" if parts.fragment else ""
            return self.base_url.rstrip("/") + "/" + tail
        return None

    def article_url(self, slug: str) -> str | None:
        return self.resolve("/" + slug)


# --- plain text ------------------------------------------------------------------------------------------


def _block_text(block: Block) -> str:
    text = block.text
    if block.kind == "item":
        return "• " + text
    if block.kind == "quote":
        return "“" + text + "”"
    return text


def languages_note(answer: Answer, how_to_choose: str) -> str | None:
    """For a question in a language the articles lack: which languages they are in, and how to choose."""
    if not answer.content_languages:
        return None
    lang = answer.ui_language
    names = ", ".join(language_name(code) for code in answer.content_languages)
    return t(lang, "articles_languages", languages=names, language=language_name(answer.language)) + (
        " " + t(lang, how_to_choose)
    )


def render_text(answer: Answer, links: LinkResolver) -> str:
    lang = answer.ui_language
    note = languages_note(answer, "choose_language_cli")
    if not answer.answered or answer.article is None or answer.section is None:
        lines = [t(lang, "not_covered")]
        if answer.suggestions:
            lines += ["", t(lang, "try_topics")] + [f"• {ref.section.heading}" for ref in answer.suggestions]
        return "\n".join(lines + (["", note] if note else []))
    lines = [f"{answer.section.heading} — {t(lang, 'source', title=answer.article.title)}", ""]
    lines += [_block_text(block) for block in answer.excerpt]
    resolved = resolved_links(answer.excerpt, links)
    if resolved:
        lines += ["", t(lang, "links") + ":"] + [f"• {text}: {url}" for text, url in resolved]
    if answer.alternatives:
        lines += [
            "",
            t(lang, "other_sections") + ": " + " · ".join(r.section.heading for r in answer.alternatives),
        ]
    return "\n".join(lines + (["", note] if note else []))


def resolved_links(blocks: Iterable[Block], links: LinkResolver) -> list[tuple[str, str]]:
    seen: dict[str, str] = {}
    for block in blocks:
        for span in block.links:
            url = links.resolve(span.href)
            if url and url not in seen.values():
                seen[span.text.strip()] = url
    return list(seen.items())


def answer_json(answer: Answer, links: LinkResolver) -> dict[str, Any]:
    """The `ask --json` contract: one object per question."""
    article = answer.article
    return {
        "question": answer.question,
        "language": answer.language,
        "question_language": answer.question_language or answer.language,
        "language_method": answer.detection.method,
        "mode": answer.mode,
        "answered": answer.answered,
        "article": article.slug if article else None,
        "title": article.title if article else None,
        "heading": answer.section.heading if answer.section else None,
        "section": answer.section.index if answer.section else None,
        "excerpt": "\n".join(_block_text(b) for b in answer.excerpt),
        "url": links.article_url(article.slug) if article else None,
        "links": [{"text": text, "url": url} for text, url in resolved_links(answer.excerpt, links)],
        "score": round(answer.score, 4),
        "alternatives": [ref.section.heading for ref in answer.alternatives],
        "suggestions": [ref.section.heading for ref in answer.suggestions],
    }


# --- Telegram HTML -----------------------------------------------------------------------------------------


def escape(text: str) -> str:
    return html.escape(text, quote=False)


def render_html(answer: Answer, links: LinkResolver, *, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """The answer as Telegram HTML messages, each balanced and at most `limit` UTF-16 units."""
    lang = answer.ui_language
    note = languages_note(answer, "choose_language_telegram")
    tail = [f"<i>{escape(note)}</i>"] if note else []
    if not answer.answered or answer.article is None or answer.section is None:
        head = [escape(t(lang, "not_covered"))]
        if answer.suggestions:
            head.append(escape(t(lang, "try_topics")) + "\n" + "\n".join(
                "• " + escape(ref.section.heading) for ref in answer.suggestions
            ))  # fmt: skip
        return pack(head + tail, limit)
    fragments = [
        f"<b>{escape(answer.section.heading)}</b>\n<i>{escape(t(lang, 'source', title=answer.article.title))}</i>"
    ]
    fragments += [piece for block in answer.excerpt for piece in block_html(block, links, limit)]
    return pack(fragments + tail, limit)


def section_html(ref: SectionRef, links: LinkResolver, *, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """A whole section (used when a user opens one from a button or a deep link)."""
    lang = ref.article.lang
    fragments = [f"<b>{escape(ref.section.heading)}</b>\n<i>{escape(t(lang, 'source', title=ref.article.title))}</i>"]
    fragments += [piece for block in ref.section.blocks for piece in block_html(block, links, limit)]
    return pack(fragments, limit)


def block_html(block: Block, links: LinkResolver, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """One block as one or more balanced HTML fragments, split between words when too long."""
    prefix, suffix = {"item": ("• ", ""), "quote": ("<blockquote>", "</blockquote>")}.get(block.kind, ("", ""))
    room = limit - utf16_length(prefix) - utf16_length(suffix)
    pieces: list[str] = []
    current = ""
    for atom in _atoms(block.spans, links, room):
        if current and utf16_length(current) + utf16_length(atom) > room:
            pieces.append(current)
            current = ""
        current += atom
    if current.strip():
        pieces.append(current)
    return [prefix + piece.strip() + suffix for piece in pieces if piece.strip()]


def _atoms(spans: Iterable[Span], links: LinkResolver, room: int) -> Iterator[str]:
    """Indivisible HTML pieces: escaped words with their trailing space, or whole short links."""
    for span in spans:
        url = links.resolve(span.href)
        opening = f'<a href="{html.escape(url, quote=True)}">' if url else ""
        overhead = utf16_length(opening) + len("</a>")
        if url and overhead > room // 2:
            url = None  # a URL too long to share a message with its text: keep the text, drop the link
        if url:
            for chunk in _chunks(span.text, room - overhead):
                yield f"{opening}{escape(chunk)}</a>"
        else:
            yield from (escape(word) for word in _chunks_by_word(span.text, room))


def _chunks(text: str, size: int) -> Iterator[str]:
    """Raw text cut into pieces that stay under `size` once escaped (an entity costs up to 5 characters)."""
    step = max(1, size // 5)
    if utf16_length(escape(text)) <= size:
        yield text
        return
    for start in range(0, len(text), step):
        yield text[start : start + step]


def _chunks_by_word(text: str, room: int) -> Iterator[str]:
    for word in regex.findall(r"\S+\s*|\s+", text):
        yield from _chunks(word, room)


def pack(fragments: Iterable[str], limit: int = TELEGRAM_LIMIT, separator: str = "\n\n") -> list[str]:
    """Join fragments into as few messages as fit, never splitting a fragment."""
    messages: list[str] = []
    current = ""
    for fragment in fragments:
        candidate = current + separator + fragment if current else fragment
        if utf16_length(candidate) <= limit:
            current = candidate
            continue
        if current:
            messages.append(current)
        current = fragment
    if current:
        messages.append(current)
    return messages
