"""Teaching end to end: the real bot (`build_application`, long polling, SQLite on disk) against the Bot API
emulator. A user's question is declined; an admin opens /declined and assigns it to a section in two taps;
the user asking again and another user asking a close variant are both answered from that section, also
after a restart and after /reload; a stranger pressing the admin's buttons is refused; removing the
phrasing brings the decline back. Run with -s to see the conversation as the users and the admin saw it.
"""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path

import pytest

from bot.locales import t

from .harness import EmulatorServer, FakeUser, Reply, TelegramUser, private_chat
from .test_bot_e2e import ADMIN, CONTENT, STRANGER, assert_good_html, data_of, replies_until_keyboard, running_bot

DECLINED = "dapat duit banyak ke kerja ni"  # "good money in this job?" (Malay chat): declined
VARIANT = "kerja ni dapat duit banyak ke?"  # the same words in another order, from another user
SALARY_SECTION = 2
SALARY_HEADING = "Kelebihan Jualan Dalam"  # the Malay article's: the detector takes the question for Malay


@pytest.fixture
def content_copy(tmp_path: Path) -> Path:
    target = tmp_path / "content"
    shutil.copytree(CONTENT, target)
    return target


class Transcript:
    """What each side saw, printed at the end (visible with pytest -s)."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def user(self, who: str, text: str) -> None:
        self.lines.append(f"{who} > {text}")

    def bot(self, to: str, reply: Reply | dict[str, object]) -> None:
        text = html.unescape(re.sub(r"<[^>]+>", "", str(reply.get("text", ""))))
        buttons = [b["text"] for row in (reply.get("reply_markup") or {}).get("inline_keyboard", []) for b in row]  # type: ignore[attr-defined]
        self.lines.append(f"bot > {to}: " + text.replace("\n", "\n      "))
        if buttons:
            self.lines.append("      buttons: " + " | ".join(buttons))

    def note(self, text: str) -> None:
        self.lines.append(f"--- {text}")


async def ask(telegram_user: TelegramUser, chat_user: FakeUser, question: str, log: Transcript) -> str:
    chat = private_chat(user_id=chat_user.id, first_name=chat_user.first_name, language_code=chat_user.language_code)
    log.user(chat_user.first_name, question)
    await telegram_user.send_text(chat, question)
    replies = await replies_until_keyboard(telegram_user, chat.id)
    for reply in replies:
        assert_good_html(reply)
        log.bot(chat_user.first_name, reply)
    return replies[0]["text"]


def answered_from_salary(text: str) -> bool:
    return text.startswith(f"<b>{SALARY_HEADING}</b>") and "$45,000" in text


def declined(text: str) -> bool:
    return text.startswith(html.escape(t("ms", "not_covered"), quote=False))


async def test_an_admin_teaches_a_declined_question_from_the_chat(
    emulator: EmulatorServer, telegram_user: TelegramUser, content_copy: Path, tmp_path: Path
) -> None:
    log = Transcript()
    dmitri = FakeUser(1001, "Dmitri", "ru")
    aisyah = FakeUser(1002, "Aisyah", "ms")
    admin_chat = private_chat(user_id=ADMIN, first_name="Admin", language_code="en")
    mallory = FakeUser(STRANGER, "Mallory", "en")

    async with running_bot(emulator, telegram_user, tmp_path) as bot:
        assert declined(await ask(telegram_user, dmitri, DECLINED, log))

        log.user("Admin", "/declined")
        await telegram_user.send_command(admin_chat, "/declined")
        header = await telegram_user.wait_for_reply(admin_chat.id)
        item = await telegram_user.wait_for_reply(admin_chat.id)
        log.bot("Admin", header)
        log.bot("Admin", item)
        assert DECLINED in item["text"]

        choose = next(d for d in data_of(item) if d.startswith("v1:ts:"))
        log.user("Admin", f"taps “{t('en', 'review_choose')}”")
        await telegram_user.press_button(item, choose)  # tap 1
        await telegram_user.wait_for_call("answerCallbackQuery")
        sections = await telegram_user.wait_for_call("editMessageText")
        log.bot("Admin (the same message, edited)", sections)
        pick = next(d for d in data_of(sections) if d.startswith("v1:tp:") and d.split(":")[3] == str(SALARY_SECTION))

        log.user("Mallory (a stranger)", "taps the admin's section button")
        await telegram_user.press_button(sections.message, pick, sender=mallory)
        refused = await telegram_user.wait_for_call("answerCallbackQuery")
        log.bot("Mallory", {"text": f"(alert) {refused['text']}"})
        assert refused["text"] == t("en", "admin_only")
        assert bot.store.taught_phrasings() == []

        log.user("Admin", f"taps “Jualan Dalaman › {SALARY_HEADING}”")
        await telegram_user.press_button(sections.message, pick)  # tap 2
        toast = await telegram_user.wait_for_call("answerCallbackQuery")
        taught = await telegram_user.wait_for_call("editMessageText")
        log.bot("Admin (toast)", {"text": toast["text"]})
        log.bot("Admin (the same message, edited)", taught)
        assert taught["text"].startswith("✅ Taught")

        assert answered_from_salary(await ask(telegram_user, dmitri, DECLINED, log))
        assert answered_from_salary(await ask(telegram_user, aisyah, VARIANT, log))

        log.user("Admin", "/stats")
        await telegram_user.send_command(admin_chat, "/stats")
        stats = await telegram_user.wait_for_reply(admin_chat.id)
        log.bot("Admin", stats)
        assert t("en", "stats_taught", count=1, used=2) in stats["text"]
        bot.assert_clean()

    log.note("the bot restarts (a new process would see the same DATA_DIR)")
    async with running_bot(emulator, telegram_user, tmp_path) as bot:
        assert answered_from_salary(await ask(telegram_user, dmitri, DECLINED, log))
        log.user("Admin", "/reload")
        await telegram_user.send_command(admin_chat, "/reload")
        log.bot("Admin", await telegram_user.wait_for_reply(admin_chat.id))
        assert answered_from_salary(await ask(telegram_user, aisyah, VARIANT, log))

        log.user("Admin", "/taught")
        await telegram_user.send_command(admin_chat, "/taught")
        listed = await telegram_user.wait_for_reply(admin_chat.id)
        log.bot("Admin", listed)
        assert "answered 4×" in listed["text"], "two before the restart, two after"
        [remove] = [d for d in data_of(listed) if d.startswith("v1:tr:")]
        log.user("Admin", "taps 🗑 1")
        await telegram_user.press_button(listed, remove)
        await telegram_user.wait_for_call("answerCallbackQuery")
        log.bot("Admin (the same message, edited)", await telegram_user.wait_for_call("editMessageText"))
        assert declined(await ask(telegram_user, dmitri, DECLINED, log))
        assert bot.store.taught_phrasings() == []
        bot.assert_clean()

    print("\n" + "\n".join(log.lines))
