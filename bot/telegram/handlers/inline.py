"""Inline mode: `@BotName question` in any chat lists the best matching sections; an empty query lists
the article's sections. Choosing a result posts its text (HTML, with links) as the user's message."""

from __future__ import annotations

import asyncio
import hashlib

from telegram import InlineQueryResultArticle, InputTextMessageContent, LinkPreviewOptions, Update
from telegram.constants import InlineQueryLimit, ParseMode
from telegram.ext import Application, ChosenInlineResultHandler, InlineQueryHandler

from bot.domain.engine import SectionRef
from bot.domain.render import LinkResolver, render_html, section_html
from bot.store import MAX_QUESTION_CHARS
from bot.telegram.context import Context, Outcome, observed
from bot.telegram.replies import answer_for

CACHE_SECONDS = 60  # results depend on the user's pinned language, hence is_personal as well
DESCRIPTION_CHARS = 100
MAX_ALL_SECTIONS = InlineQueryLimit.RESULTS  # 50


def result_id(kind: str, ref: SectionRef) -> str:
    """Unique per result and at most 64 bytes whatever the slug."""
    raw = f"{kind}:{ref.article.lang}:{ref.section.index}:{ref.article.slug}"
    return raw if len(raw.encode()) <= 64 else f"{kind}:" + hashlib.blake2b(raw.encode(), digest_size=16).hexdigest()


def one_line(text: str, limit: int = DESCRIPTION_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _article(kind: str, ref: SectionRef, html_text: str) -> InlineQueryResultArticle:
    return InlineQueryResultArticle(
        id=result_id(kind, ref),
        title=one_line(ref.section.heading, 64),
        description=one_line(f"{ref.article.title} — {ref.section.text}"),
        input_message_content=InputTextMessageContent(
            html_text, parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)
        ),
    )


def section_result(ref: SectionRef, links: LinkResolver) -> InlineQueryResultArticle:
    return _article("s", ref, section_html(ref, links)[0])  # one message is all an inline result can post


@observed("inline_query")
async def inline_query(update: Update, context: Context) -> Outcome:
    query = update.inline_query
    assert query is not None
    svc = context.services
    user = query.from_user
    pinned = context.pinned_language
    links = svc.links()
    text = query.query.strip()[:MAX_QUESTION_CHARS]
    if not text:
        lang = context.content_language
        refs = svc.engine.topics(lang, limit=MAX_ALL_SECTIONS)
        await query.answer([section_result(ref, links) for ref in refs], cache_time=CACHE_SECONDS, is_personal=True)
        return Outcome(language=lang)
    answer = await asyncio.to_thread(answer_for, svc.engine, text, pinned, user.language_code)
    results: list[InlineQueryResultArticle] = []
    if answer.answered and answer.article is not None and answer.section is not None:
        best = SectionRef(answer.article, answer.section)
        results.append(_article("a", best, render_html(answer, links)[0]))
        results += [section_result(ref, links) for ref in answer.alternatives]
    else:
        results += [section_result(ref, links) for ref in answer.suggestions]
    await query.answer(results[:MAX_ALL_SECTIONS], cache_time=CACHE_SECONDS, is_personal=True)
    return Outcome(answer.language, answer.answered, answer.score)


@observed("chosen_inline_result")
async def chosen_result(update: Update, context: Context) -> Outcome:
    """Only counted (it arrives when inline feedback is enabled in BotFather); nothing to send."""
    return Outcome()


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(InlineQueryHandler(inline_query))
    app.add_handler(ChosenInlineResultHandler(chosen_result))
