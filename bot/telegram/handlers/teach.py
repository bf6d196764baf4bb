"""Teaching the bot from the chat (admins, private chat only: the questions are users' words).

/declined lists the questions the bot declined or answered with low confidence, most asked first, each
with two buttons: one opens the sections on offer (the bot's best guesses first), the other dismisses it.
Picking a section stores the question as an example phrasing of that section, and it answers at once.
/taught lists the taught phrasings, each with a button to remove it (undo).

Who may press is checked on every press by numeric admin id, so a button forwarded to, or left in a chat
with, anyone else does nothing. `/declined csv` falls through to the CSV export in handlers/admin.py.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Sequence

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from bot.domain.engine import SectionRef
from bot.domain.phrasings import Phrasing
from bot.domain.render import escape
from bot.locales import language_name, t
from bot.store import ReviewQuestion, TaughtPhrasing
from bot.telegram.context import Context, Outcome, Services, observed
from bot.telegram.guards import admin_only, admin_only_else
from bot.telegram.keyboards import (
    TEACH_PREFIX,
    Action,
    TeachBack,
    TeachChoose,
    TeachDismiss,
    TeachPick,
    TeachRemove,
    decode,
    encode,
    label,
)
from bot.telegram.replies import reply, unless_unchanged
from bot.telegram.updates import PRIVATE

logger = logging.getLogger(__name__)

REVIEW_ONLY = filters.Regex(r"^/declined(@\w+)?\s*$")  # with an argument ("csv") it is admin.py's export
REVIEW_LIMIT = 10  # one message each: the most asked first
SECTIONS_OFFERED = 8
TAUGHT_SHOWN = 15  # one editable message: keep it well under Telegram's 4,096 characters
QUOTE_CHARS = 120
SECTION_LABEL_CHARS = 60
REMOVE_BUTTONS_PER_ROW = 5


# --- the store's taught phrasings -> the engine ------------------------------------------------------


def sync_taught(svc: Services) -> None:
    """Hand the store's taught phrasings to the engine (at start-up, after every teach and undo)."""
    try:
        rows = svc.store.taught_phrasings()
    except sqlite3.Error:
        logger.warning("could not read the taught phrasings; answering without them", exc_info=True)
        return
    svc.engine.set_taught([as_phrasing(row) for row in rows])


def as_phrasing(row: TaughtPhrasing) -> Phrasing:
    return Phrasing(row.slug, row.section, row.text, row.language, "taught", row.id)


def stats_lines(svc: Services, ui_lang: str) -> list[str]:
    """For /stats: how many phrasings were taught, how often they answered, which no longer match."""
    rows = svc.store.taught_phrasings()
    lines = [escape(t(ui_lang, "stats_taught", count=len(rows), used=sum(r.times_used for r in rows)))]
    unmatched = svc.engine.unmatched_taught()
    if unmatched:
        lines.append(escape(t(ui_lang, "stats_unmatched", count=len(unmatched))))
        lines += [f"• “{escape(_quote(p.text))}” → {escape(p.slug)} #{p.section + 1}" for p in unmatched]
    return lines


# --- /declined ---------------------------------------------------------------------------------------


@observed("review")
@admin_only
async def review(update: Update, context: Context) -> Outcome:
    svc, ui_lang = context.services, context.ui_language
    items = await asyncio.to_thread(svc.store.review_questions, REVIEW_LIMIT)
    if not items:
        await reply(update, context, escape(t(ui_lang, "review_empty")))
        return Outcome(language=ui_lang)
    await reply(update, context, escape(t(ui_lang, "review_header", count=len(items))))
    for item in items:
        await reply(update, context, _item_text(item, ui_lang), keyboard=_item_keyboard(item.id, ui_lang))
    return Outcome(language=ui_lang)


def _item_text(item: ReviewQuestion, ui_lang: str) -> str:
    key = "review_item_low" if item.answered else "review_item"
    details = t(ui_lang, key, count=item.count, language=language_name(item.language))
    return f"❓ <b>{escape(_quote(item.question, 400))}</b>\n{escape(details)}"


def _item_keyboard(question_id: int, ui_lang: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[_button(t(ui_lang, "review_choose"), TeachChoose(question_id)),
          _button(t(ui_lang, "review_dismiss"), TeachDismiss(question_id))]]
    )  # fmt: skip


def _button(text: str, action: Action, limit: int = SECTION_LABEL_CHARS) -> InlineKeyboardButton:
    return InlineKeyboardButton(label(text, limit), callback_data=encode(action))


def _quote(text: str, limit: int = QUOTE_CHARS) -> str:
    return label(text, limit)


def _where(ref: SectionRef) -> str:
    return f"{ref.article.title} › {ref.section.heading}"


def _section_ref(svc: Services, slug: str, index: int, lang: str) -> SectionRef | None:
    """The section in `lang`, else in any translation that has it."""
    found = svc.engine.section(slug, lang, index)
    if found is not None:
        return found
    for other in sorted(svc.engine.library.translations(slug)):
        found = svc.engine.section(slug, other, index)
        if found is not None:
            return found
    return None


# --- the buttons -------------------------------------------------------------------------------------


async def _refuse_press(update: Update, context: Context) -> Outcome:
    """A stranger's press on an admin's button (an old message, a forwarded one): an alert, nothing done."""
    if update.callback_query is not None:
        await update.callback_query.answer(t(context.ui_language, "admin_only"), show_alert=True)
    return Outcome(language=context.ui_language, answered=False)


@observed("teach_button")
async def on_teach_button(update: Update, context: Context) -> Outcome:
    query = update.callback_query
    assert query is not None  # guaranteed by the handler
    if not (query.data or "").startswith(TEACH_PREFIX):  # PTB hands presses without data to every pattern
        await query.answer(t(context.ui_language, "button_expired"))
        return Outcome(language=context.ui_language)
    return await _teach_press(update, context) or Outcome(language=context.ui_language)


@admin_only_else(_refuse_press)
async def _teach_press(update: Update, context: Context) -> Outcome:
    query = update.callback_query
    assert query is not None
    assert query.data is not None
    svc, ui_lang = context.services, context.ui_language
    action = decode(query.data, svc.engine.library.slugs)
    done = False
    if query.message is not None:
        try:
            done = await _act(svc, query, action, ui_lang)
        except sqlite3.Error:
            logger.warning("a teaching button failed on the store", exc_info=True)
    if not done:
        await query.answer(t(ui_lang, "button_expired"))
    return Outcome(language=ui_lang, answered=done)


async def _act(svc: Services, query: CallbackQuery, action: Action | None, ui_lang: str) -> bool:
    """Carry out one press; False when the button no longer applies (purged question, changed content)."""
    if isinstance(action, TeachRemove):
        return await _remove(svc, query, action, ui_lang)
    if not isinstance(action, TeachChoose | TeachPick | TeachBack | TeachDismiss):
        return False
    item = await asyncio.to_thread(svc.store.kept_question, action.question_id)
    if item is None:
        return False
    if isinstance(action, TeachChoose):
        refs = svc.engine.candidates(item.question, item.language, SECTIONS_OFFERED)
        rows = [[_button(_where(ref), TeachPick(item.id, ref.article.slug, ref.section.index))] for ref in refs]
        rows.append([_button(t(ui_lang, "review_back"), TeachBack(item.id))])
        text = _item_text(item, ui_lang) + "\n\n" + escape(t(ui_lang, "review_pick"))
        await _edit(query, text, InlineKeyboardMarkup(rows))
    elif isinstance(action, TeachBack):
        await _edit(query, _item_text(item, ui_lang), _item_keyboard(item.id, ui_lang))
    elif isinstance(action, TeachDismiss):
        await asyncio.to_thread(svc.store.dismiss_question, item.id, query.from_user.id)
        await _edit(query, escape(t(ui_lang, "review_dismissed", question=_quote(item.question))), None)
    else:
        ref = _section_ref(svc, action.slug, action.index, item.language)
        if ref is None:
            return False
        row = await asyncio.to_thread(
            svc.store.teach_phrasing, item.question, item.language, action.slug, action.index, query.from_user.id
        )
        await asyncio.to_thread(sync_taught, svc)  # re-analyses every phrasing: off the event loop
        text = t(ui_lang, "review_taught", question=_quote(item.question), title=ref.article.title,
                 heading=ref.section.heading)  # fmt: skip
        undo = InlineKeyboardMarkup([[_button(t(ui_lang, "taught_undo"), TeachRemove(row.id, False))]])
        await _edit(query, escape(text), undo)
        await query.answer(t(ui_lang, "review_taught_toast"))
        return True
    await query.answer()
    return True


async def _remove(svc: Services, query: CallbackQuery, action: TeachRemove, ui_lang: str) -> bool:
    removed = await asyncio.to_thread(svc.store.remove_taught_phrasing, action.phrasing_id)
    if removed is None:
        return False
    await asyncio.to_thread(sync_taught, svc)
    if action.from_list:
        text, keyboard = _taught_list(svc, await asyncio.to_thread(svc.store.taught_phrasings), ui_lang)
        await _edit(query, text, keyboard)
    else:
        ref = _section_ref(svc, removed.slug, removed.section, removed.language)
        title, heading = (ref.article.title, ref.section.heading) if ref else (removed.slug, f"#{removed.section + 1}")
        await _edit(query, escape(t(ui_lang, "taught_removed", question=_quote(removed.text), title=title,
                                    heading=heading)), None)  # fmt: skip
    await query.answer()
    return True


async def _edit(query: CallbackQuery, text: str, keyboard: InlineKeyboardMarkup | None) -> None:
    with unless_unchanged():  # a double tap
        await query.edit_message_text(text, reply_markup=keyboard)


# --- /taught -----------------------------------------------------------------------------------------


@observed("taught")
@admin_only
async def taught(update: Update, context: Context) -> Outcome:
    svc, ui_lang = context.services, context.ui_language
    rows = await asyncio.to_thread(svc.store.taught_phrasings)
    text, keyboard = _taught_list(svc, rows, ui_lang)
    await reply(update, context, text, keyboard=keyboard)
    return Outcome(language=ui_lang)


def _taught_list(
    svc: Services, rows: Sequence[TaughtPhrasing], ui_lang: str
) -> tuple[str, InlineKeyboardMarkup | None]:
    if not rows:
        return escape(t(ui_lang, "taught_empty")), None
    lines = [escape(t(ui_lang, "taught_header", count=len(rows)))]
    buttons = []
    for n, row in enumerate(rows[:TAUGHT_SHOWN], start=1):
        ref = _section_ref(svc, row.slug, row.section, row.language)
        if ref is None:
            line = t(ui_lang, "taught_line_missing", n=n, question=_quote(row.text), slug=row.slug,
                     index=row.section + 1)  # fmt: skip
        else:
            line = t(ui_lang, "taught_line", n=n, question=_quote(row.text), title=ref.article.title,
                     heading=ref.section.heading, language=language_name(row.language),
                     used=row.times_used)  # fmt: skip
        lines.append(escape(line))
        buttons.append(_button(t(ui_lang, "taught_remove", n=n), TeachRemove(row.id, True)))
    if len(rows) > TAUGHT_SHOWN:
        lines.append(escape(t(ui_lang, "taught_more", count=len(rows) - TAUGHT_SHOWN)))
    keyboard = [buttons[i : i + REMOVE_BUTTONS_PER_ROW] for i in range(0, len(buttons), REMOVE_BUTTONS_PER_ROW)]
    return "\n".join(lines), InlineKeyboardMarkup(keyboard)


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Before admin.register: a bare /declined is the review here; `/declined csv` goes on to admin.py."""
    app.add_handler(CommandHandler("declined", review, filters=PRIVATE & REVIEW_ONLY))
    app.add_handler(CommandHandler("taught", taught, filters=PRIVATE))
    app.add_handler(CallbackQueryHandler(on_teach_button, pattern=f"^{TEACH_PREFIX}"))
