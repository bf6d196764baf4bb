"""Questions as people type them, end to end through the emulator with hybrid retrieval: English (a
language the articles lack) from a user whose Telegram is in English, before and after a /lang pin, and
Russian and Hindi typed in Latin letters."""

from __future__ import annotations

import html
from pathlib import Path

from bot.locales import t

from .harness import EmulatorServer, TelegramUser, private_chat
from .test_bot_e2e import assert_good_html, content_copy, data_of, replies_until_keyboard, running_bot

__all__ = ["content_copy"]  # a fixture, imported so that pytest finds it here


def text_of(replies: list) -> str:  # type: ignore[type-arg]
    return "\n".join(reply["text"] for reply in replies)


async def test_english_question_is_answered_and_says_which_languages_the_articles_are_in(
    emulator: EmulatorServer, telegram_user: TelegramUser, content_copy: Path, tmp_path: Path
) -> None:
    chat = private_chat(first_name="Emma", language_code="en")
    async with running_bot(emulator, telegram_user, tmp_path, default_content_language="ms") as bot:
        assert bot.app.bot_data["services"].engine.mode == "hybrid"
        await telegram_user.send_text(chat, "average salary for inside sales at Oracle")
        answer = await replies_until_keyboard(telegram_user, chat.id)

        await telegram_user.send_command(chat, "/lang")
        menu = await telegram_user.wait_for_reply(chat.id)
        await telegram_user.press_button(menu, "v1:l:pl")  # the menu is edited: "answers will now be in Polski"
        await telegram_user.send_text(chat, "is cold calling part of inside sales?")
        pinned = await replies_until_keyboard(telegram_user, chat.id)

    for reply in (*answer, *pinned):
        assert_good_html(reply)
    text = text_of(answer)
    assert text.startswith("<b>Kelebihan Jualan Dalam</b>"), "the salary section, from the default content language"
    assert "$50,565" in text, "the excerpt holds the fact asked for (what Oracle pays)"
    assert "My articles are in" in text, "the interface speaks English"
    assert "Choose another with /lang." in text
    assert t("en", "helpful") in str(answer[-1].buttons), "and so do the buttons"
    pinned_text = text_of(pinned)
    assert pinned_text.startswith("<b>Zrozumienie sprzedaży wewnętrznej</b>"), "cold calling, from the Polish article"
    assert "zimne" in pinned_text
    assert t("pl", "helpful") in str(pinned[-1].buttons), "the pinned language speaks the interface"
    bot.assert_clean()


async def test_russian_and_hindi_typed_in_latin_letters(
    emulator: EmulatorServer, telegram_user: TelegramUser, content_copy: Path, tmp_path: Path
) -> None:
    russian = private_chat(first_name="Dmitri", language_code="ru")
    hindi = private_chat(first_name="Priya", language_code="hi")
    async with running_bot(emulator, telegram_user, tmp_path) as bot:
        await telegram_user.send_text(russian, "vnutrennie prodazhi zarplata")
        salary = await replies_until_keyboard(telegram_user, russian.id)
        await telegram_user.send_text(hindi, "inside sales ka matlab kya hai")
        meaning = await replies_until_keyboard(telegram_user, hindi.id)

    for reply in (*salary, *meaning):
        assert_good_html(reply)
    assert text_of(salary).startswith("<b>Преимущества внутренних продаж</b>")
    assert "45 000" in text_of(salary)
    assert "v1:f:" in " ".join(data_of(salary[-1]))
    assert text_of(meaning).startswith(f"<b>{html.escape('बिक्री के अंदर क्या हैं?', quote=False)}</b>")
    bot.assert_clean()
