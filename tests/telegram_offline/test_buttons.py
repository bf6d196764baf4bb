"""/lang and the buttons under answers; the callback-data codec."""

from __future__ import annotations

import html

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auxil.offline import OfflineBot
from auxil.telegram_html import check_telegram_html
from auxil.updates import buttons, callback_data, group_chat, user
from bot.locales import t
from bot.telegram.keyboards import MAX_CALLBACK_BYTES, Feedback, OpenSection, SetLanguage, decode, encode
from telegram_offline.conftest import error_records


async def test_lang_pins_and_unpins_the_answer_language(bot: OfflineBot) -> None:
    [menu] = await bot.say("/lang", sender=user(language_code="ms"))
    assert callback_data(menu) == ["v1:l:ar", "v1:l:hi", "v1:l:ms", "v1:l:pl", "v1:l:ru", "v1:l:-"]
    assert buttons(menu)[-1]["text"] == "✓ " + t("ms", "language_auto")

    await bot.press("v1:l:ru", sender=user(language_code="ms"))
    assert bot.store.get_language(1001) == "ru"
    [edit] = [c.params for c in bot.api.of("editMessageText")]
    assert edit["text"] == html.escape(t("ru", "language_set", language="Русский"), quote=False)
    [answer] = await bot.say("Berapakah gaji wakil jualan dalaman?", sender=user(language_code="ms"))
    assert "«Внутри продаж»" in answer["text"], "answers now come from the Russian article"

    await bot.press("v1:l:-")
    assert bot.store.get_language(1001) is None
    replies = await bot.say("Berapakah gaji wakil jualan dalaman?")
    assert "Jualan Dalaman" in replies[0]["text"]


async def test_opening_a_section_from_a_button(bot: OfflineBot) -> None:
    answer = await bot.press("v1:s:hi:3:inside-sales")
    assert "text" not in answer.params
    [section] = bot.api.sent()
    assert section["text"].startswith("<b>हाइलाइट्स</b>")
    assert "v1:s:hi:0:inside-sales" in callback_data(section)
    check_telegram_html(section["text"])


@pytest.mark.parametrize(
    "data",
    ["v0:s:ru:0:inside-sales", "v1:s:ru:99:inside-sales", "v1:s:xx:0:nope", "garbage", "", "v1:l:zz", "v1:f:abc:1"],
)
async def test_stale_or_foreign_buttons_are_answered_politely(
    bot: OfflineBot, data: str, errors: pytest.LogCaptureFixture
) -> None:
    answer = await bot.press(data)
    assert answer.params["text"] == t("en", "button_expired")
    assert bot.api.sent() == []
    assert error_records(errors) == []


async def test_feedback_is_recorded_and_the_buttons_go(bot: OfflineBot) -> None:
    [answer] = (await bot.say("Berapakah gaji wakil jualan dalaman?"))[-1:]
    up = next(d for d in callback_data(answer) if d.startswith("v1:f:") and d.endswith(":1"))
    pressed = await bot.press(up, markup=answer["reply_markup"])
    assert pressed.params["text"] == t("en", "feedback_thanks")
    assert bot.store.stats().feedback_up == 1
    [edit] = [c.params for c in bot.api.of("editMessageReplyMarkup")]
    assert not any(d.startswith("v1:f:") for d in callback_data(edit))
    assert any(d.startswith("v1:s:") for d in callback_data(edit))
    # A vote in a group keeps the buttons for the others.
    await bot.press(up, sender=user(5), chat=group_chat(), markup=answer["reply_markup"])
    assert len(bot.api.of("editMessageReplyMarkup")) == 1
    assert bot.store.stats().feedback_up == 2


@given(
    slug=st.from_regex(r"[\w][\w-]{0,63}", fullmatch=True).filter(lambda s: ":" not in s),
    lang=st.from_regex(r"[a-z]{2}", fullmatch=True),
    index=st.integers(0, 10_000),
    question_id=st.integers(0, 2**62),
)
def test_callback_data_round_trips_within_64_bytes(slug: str, lang: str, index: int, question_id: int) -> None:
    for action in (
        OpenSection(slug, lang, index),
        SetLanguage(lang),
        SetLanguage(None),
        Feedback(question_id, True),
        Feedback(question_id, False),
    ):
        data = encode(action)
        assert len(data.encode()) <= MAX_CALLBACK_BYTES
        assert decode(data, [slug, "other"]) == action
