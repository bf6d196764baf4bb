"""Inline keyboards and their callback data.

Callback data is short, versioned text (Telegram allows 64 bytes), so buttons under old messages keep
working across restarts and a future format can tell old buttons apart:

    v1:s:<lang>:<section index>:<slug>   open a section (a slug too long to fit becomes ~<hash>)
    v1:l:<lang>                          pin the answer language ("-" = automatic)
    v1:f:<question id>:<1|0>             feedback on an answer
    v1:ts:<question id>                  admins: the sections on offer for a kept question
    v1:tp:<question id>:<index>:<slug>   admins: teach the question as a phrasing of that section
    v1:tb:<question id>                  admins: back from the sections to the question
    v1:tx:<question id>                  admins: dismiss the question
    v1:tr:<phrasing id>:<1|0>            admins: remove a taught phrasing (1: from the /taught list)
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain.content import Article, Library
from bot.domain.engine import Answer, SectionRef
from bot.locales import language_name, t

VERSION = "v1"
MAX_CALLBACK_BYTES = 64
LABEL_CHARS = 48
ALTERNATIVES_SHOWN = 3
LANGUAGES_PER_ROW = 3
_LANG = re.compile(r"^[a-z]{2}$")
_HASHED = "~"


@dataclass(frozen=True)
class OpenSection:
    slug: str
    lang: str
    index: int


@dataclass(frozen=True)
class SetLanguage:
    lang: str | None  # None: answer in the language of the question


@dataclass(frozen=True)
class Feedback:
    question_id: int
    helpful: bool


@dataclass(frozen=True)
class TeachChoose:
    question_id: int


@dataclass(frozen=True)
class TeachPick:
    question_id: int
    slug: str
    index: int


@dataclass(frozen=True)
class TeachBack:
    question_id: int


@dataclass(frozen=True)
class TeachDismiss:
    question_id: int


@dataclass(frozen=True)
class TeachRemove:
    phrasing_id: int
    from_list: bool


TeachAction = TeachChoose | TeachPick | TeachBack | TeachDismiss | TeachRemove
TEACH_PREFIX = f"{VERSION}:t"  # every admin teaching button's data starts so (a handler pattern)
Action = OpenSection | SetLanguage | Feedback | TeachAction


def slug_hash(slug: str) -> str:
    return _HASHED + hashlib.blake2b(slug.encode(), digest_size=6).hexdigest()


def encode(action: Action) -> str:
    if isinstance(action, OpenSection):
        data = f"{VERSION}:s:{action.lang}:{action.index}:{action.slug}"
        if len(data.encode()) > MAX_CALLBACK_BYTES:  # slugs may be 64 non-ASCII letters
            data = f"{VERSION}:s:{action.lang}:{action.index}:{slug_hash(action.slug)}"
    elif isinstance(action, SetLanguage):
        data = f"{VERSION}:l:{action.lang or '-'}"
    elif isinstance(action, Feedback):
        data = f"{VERSION}:f:{action.question_id}:{int(action.helpful)}"
    else:
        data = _encode_teach(action)
    if len(data.encode()) > MAX_CALLBACK_BYTES:
        raise ValueError(f"callback data too long: {data!r}")
    return data


def _encode_teach(action: TeachAction) -> str:
    if isinstance(action, TeachPick):
        data = f"{VERSION}:tp:{action.question_id}:{action.index}:{action.slug}"
        if len(data.encode()) > MAX_CALLBACK_BYTES:
            data = f"{VERSION}:tp:{action.question_id}:{action.index}:{slug_hash(action.slug)}"
        return data
    if isinstance(action, TeachRemove):
        return f"{VERSION}:tr:{action.phrasing_id}:{int(action.from_list)}"
    kind = {TeachChoose: "ts", TeachBack: "tb", TeachDismiss: "tx"}[type(action)]
    return f"{VERSION}:{kind}:{action.question_id}"


def _decode_teach(kind: str, args: list[str], slugs: Iterable[str]) -> Action | None:
    if not args or not args[0].isdigit():
        return None
    number = int(args[0])
    if kind == "tp" and len(args) == 3 and args[1].isdigit():
        slug = args[2]
        if slug.startswith(_HASHED):
            slug = next((s for s in slugs if slug_hash(s) == slug), "")
        return TeachPick(number, slug, int(args[1])) if slug else None
    if kind == "tr" and len(args) == 2 and args[1] in ("0", "1"):
        return TeachRemove(number, args[1] == "1")
    simple: dict[str, type[TeachChoose | TeachBack | TeachDismiss]] = {
        "ts": TeachChoose, "tb": TeachBack, "tx": TeachDismiss,
    }  # fmt: skip
    found = simple.get(kind)
    return found(number) if found is not None and len(args) == 1 else None


def decode(data: str | None, slugs: Iterable[str] = ()) -> Action | None:
    """Parse callback data; None for anything unknown, malformed or from another version."""
    parts = (data or "").split(":")
    if len(parts) < 3 or parts[0] != VERSION:
        return None
    kind, args = parts[1], parts[2:]
    try:
        if kind == "s" and len(args) == 3 and _LANG.match(args[0]) and args[1].isdigit():
            slug = args[2]
            if slug.startswith(_HASHED):
                slug = next((s for s in slugs if slug_hash(s) == slug), "")
            return OpenSection(slug, args[0], int(args[1])) if slug else None
        if kind == "l" and len(args) == 1 and (args[0] == "-" or _LANG.match(args[0])):
            return SetLanguage(None if args[0] == "-" else args[0])
        if kind == "f" and len(args) == 2 and args[0].isdigit() and args[1] in ("0", "1"):
            return Feedback(int(args[0]), args[1] == "1")
        if kind.startswith("t"):
            return _decode_teach(kind, args, slugs)
    except ValueError:
        return None
    return None


def label(text: str, limit: int = LABEL_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _button(text: str, action: Action) -> InlineKeyboardButton:
    return InlineKeyboardButton(label(text), callback_data=encode(action))


def _section_button(ref: SectionRef) -> InlineKeyboardButton:
    return _button(ref.section.heading, OpenSection(ref.article.slug, ref.article.lang, ref.section.index))


def _translation_row(article: Article, index: int, library: Library) -> list[list[InlineKeyboardButton]]:
    """The same section in the article's other languages (same position, else the article's start)."""
    buttons = []
    for lang, other in sorted(library.translations(article.slug).items()):
        if lang == article.lang:
            continue
        position = index if index < len(other.sections) else 0
        buttons.append(_button("🌐 " + language_name(lang), OpenSection(other.slug, lang, position)))
    return [buttons[i : i + LANGUAGES_PER_ROW] for i in range(0, len(buttons), LANGUAGES_PER_ROW)]


def feedback_row(question_id: int, ui_lang: str) -> list[InlineKeyboardButton]:
    return [
        _button("👍 " + t(ui_lang, "helpful"), Feedback(question_id, True)),
        _button("👎 " + t(ui_lang, "not_helpful"), Feedback(question_id, False)),
    ]


def is_feedback_row(row: Sequence[InlineKeyboardButton]) -> bool:
    return any(isinstance(b.callback_data, str) and b.callback_data.startswith(f"{VERSION}:f:") for b in row)


def answer_keyboard(
    answer: Answer, library: Library, ui_lang: str, question_id: int | None, *, compact: bool = False
) -> InlineKeyboardMarkup | None:
    """Next-best sections, the same section in other languages, feedback; only feedback when compact."""
    rows: list[list[InlineKeyboardButton]] = []
    if not compact:
        if answer.answered and answer.article is not None and answer.section is not None:
            rows += [[_section_button(ref)] for ref in answer.alternatives[:ALTERNATIVES_SHOWN]]
            rows += _translation_row(answer.article, answer.section.index, library)
        else:
            rows += [[_section_button(ref)] for ref in answer.suggestions]
    if answer.answered and question_id is not None:
        rows.append(feedback_row(question_id, ui_lang))
    return InlineKeyboardMarkup(rows) if rows else None


def section_keyboard(ref: SectionRef, library: Library) -> InlineKeyboardMarkup | None:
    """The article's other sections, then the same section in other languages."""
    rows = [
        [_section_button(SectionRef(ref.article, section))]
        for section in ref.article.sections
        if section.index != ref.section.index
    ]
    rows += _translation_row(ref.article, ref.section.index, library)
    return InlineKeyboardMarkup(rows) if rows else None


def topics_keyboard(refs: Iterable[SectionRef], languages: Sequence[str] = ()) -> InlineKeyboardMarkup | None:
    """Sections as buttons, plus (optionally) buttons to switch to another content language."""
    rows = [[_section_button(ref)] for ref in refs]
    buttons = [_button("🌐 " + language_name(lang), SetLanguage(lang)) for lang in languages]
    rows += [buttons[i : i + LANGUAGES_PER_ROW] for i in range(0, len(buttons), LANGUAGES_PER_ROW)]
    return InlineKeyboardMarkup(rows) if rows else None


def language_keyboard(languages: Sequence[str], current: str | None, ui_lang: str) -> InlineKeyboardMarkup:
    def mark(selected: bool, text: str) -> str:
        return ("✓ " if selected else "") + text

    buttons = [_button(mark(lang == current, language_name(lang)), SetLanguage(lang)) for lang in languages]
    rows = [buttons[i : i + LANGUAGES_PER_ROW] for i in range(0, len(buttons), LANGUAGES_PER_ROW)]
    rows.append([_button(mark(current is None, t(ui_lang, "language_auto")), SetLanguage(None))])
    return InlineKeyboardMarkup(rows)
