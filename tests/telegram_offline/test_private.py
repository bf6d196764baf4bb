"""Private chats: /start, /help, questions and their answers."""

from __future__ import annotations

import dataclasses
import html
from typing import Any

import pytest

from auxil.offline import ADMIN, BOT_USERNAME, OfflineBot
from auxil.telegram_html import check_telegram_html
from auxil.updates import buttons, callback_data, user
from bot.locales import t


async def test_start_greets_in_the_users_language_with_sections(bot: OfflineBot) -> None:
    [greeting] = await bot.say("/start", sender=user(language_code="ru", first_name="Иван"))
    assert greeting["text"].startswith("Здравствуйте, Иван!")
    assert "Внутри продаж" in greeting["text"]
    labels = [b["text"] for b in buttons(greeting)]
    assert labels[:4] == [
        "Что такое внутренние продажи?",
        "Понимание внутренних продаж",
        "Преимущества внутренних продаж",
        "Особенности",
    ]
    assert all(data.startswith("v1:s:ru:") for data in callback_data(greeting))
    check_telegram_html(greeting["text"])


async def test_start_without_content_in_the_users_language_offers_the_languages(bot: OfflineBot) -> None:
    [greeting] = await bot.say("/start", sender=user(language_code="de", first_name="<Eve & Co>"))
    assert greeting["text"].startswith("Hello, &lt;Eve &amp; Co&gt;!")  # English strings, name escaped
    languages = [d for d in callback_data(greeting) if d.startswith("v1:l:")]
    assert len(languages) == 4, "the four content languages besides the one shown"
    check_telegram_html(greeting["text"])


async def test_start_with_a_deep_link_opens_the_article(bot: OfflineBot) -> None:
    [opened] = await bot.say("/start inside-sales", sender=user(language_code="pl"))
    assert opened["text"].startswith("<b>Co to jest sprzedaż wewnętrzna?</b>")
    assert "v1:s:pl:1:inside-sales" in callback_data(opened)
    assert "v1:s:ru:0:inside-sales" in callback_data(opened)  # the same section in another language
    check_telegram_html(opened["text"])
    [unknown] = await bot.say("/start no-such-article", sender=user(language_code="pl", first_name="Ola"))
    greeting = t("pl", "greeting", name=", Ola", topics="Sprzedaż wewnętrzna")
    assert unknown["text"] == html.escape(greeting, quote=False), "an unknown article: the greeting"


async def test_help_is_in_the_users_language_and_admins_learn_more(bot: OfflineBot) -> None:
    [plain] = await bot.say("/help", sender=user(language_code="ms"))
    assert "/lang" in plain["text"]
    assert f"@{BOT_USERNAME}" in plain["text"]
    assert plain["text"].startswith(
        html.escape(t("ms", "help", topics="Jualan Dalaman", bot=BOT_USERNAME), quote=False)[:40]
    )
    assert "/reload" not in plain["text"]
    [admin] = await bot.say("/help", sender=user(ADMIN))
    assert "/reload" in admin["text"]


async def test_a_question_gets_excerpt_buttons_and_feedback(bot: OfflineBot) -> None:
    replies = await bot.say("Чем внутренние продажи отличаются от внешних?", sender=user(language_code="en"))
    assert replies
    for sent in replies:
        check_telegram_html(sent["text"])
        assert "reply_parameters" not in sent  # a private chat: no quoting
    answer = replies[-1]
    assert replies[0]["text"].startswith("<b>")
    assert "«Внутри продаж»" in replies[0]["text"]
    data = callback_data(answer)
    assert any(d.startswith("v1:s:ru:") for d in data), "next-best sections"
    assert {f"v1:s:{lang}:" for lang in ("ar", "hi", "ms", "pl")} <= {d[:8] for d in data}, "other languages"
    assert data[-2:] == [d for d in data if d.startswith("v1:f:")]
    stats = bot.store.stats()
    assert (stats.total_questions, stats.answered_questions) == (1, 1)


async def test_a_weak_answer_is_kept_for_review(bot: OfflineBot, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = bot.app.bot_data["services"].engine
    real = engine.answer

    weak = [False]  # the retriever's verdict: answered, but close to declining

    def scored(question: str, **kwargs: Any) -> Any:
        return dataclasses.replace(real(question, **kwargs), low_confidence=weak[0])

    monkeypatch.setattr(engine, "answer", scored)
    await bot.say("Berapakah gaji wakil jualan dalaman?")
    assert bot.store.export_declined() == [], "a confident answer's text is not kept"
    weak[0] = True
    await bot.say("Berapakah gaji wakil jualan dalaman?")
    assert bot.store.stats().low_confidence_questions == 1
    [kept] = bot.store.export_declined()
    assert (kept.answered, kept.question) == (True, "Berapakah gaji wakil jualan dalaman?")


@pytest.mark.parametrize(
    ("question", "language"),
    [
        ("Berapakah gaji wakil jualan dalaman?", "ms"),
        ("Jakie są zalety sprzedaży wewnętrznej?", "pl"),
        ("ما المقصود بالمبيعات الداخلية؟", "ar"),
        ("आंतरिक बिक्री के लाभ क्या हैं?", "hi"),
        ("Чем внутренние продажи отличаются от внешних?", "ru"),
    ],
)
async def test_questions_in_each_language_are_answered_in_it(bot: OfflineBot, question: str, language: str) -> None:
    replies = await bot.say(question)
    assert replies
    title = bot.app.bot_data["services"].engine.library.article("inside-sales", language).title
    assert html.escape(title, quote=False) in replies[0]["text"]
    assert bot.store.stats().by_language[0].language == language


async def test_a_declined_question_lists_topics_and_is_kept_for_review(bot: OfflineBot) -> None:
    [declined] = await bot.say("xyzzy?", sender=user(language_code="ms"))  # too short to detect: the hint
    assert html.escape(t("ms", "not_covered"), quote=False) in declined["text"]
    assert callback_data(declined), "the topics as buttons"
    assert not any(d.startswith("v1:f:") for d in callback_data(declined)), "no feedback on a refusal"
    [row] = bot.store.export_declined()
    assert row.question == "xyzzy?"


async def test_html_in_a_question_is_never_echoed(bot: OfflineBot) -> None:
    question = '<b>bold</b> <a href="javascript:alert(1)">x</a> <script>alert(1)</script> & jualan dalaman?'
    replies = await bot.say(question)
    assert replies
    for sent in replies:
        check_telegram_html(sent["text"])
        assert "<script" not in sent["text"]
        assert "javascript:" not in sent["text"]


async def test_a_4000_character_message_is_answered_within_limits(bot: OfflineBot) -> None:
    question = ("Berapakah gaji wakil jualan dalaman? " * 200)[:4000]
    replies = await bot.say(question)
    assert replies
    for sent in replies:
        check_telegram_html(sent["text"])
    junk = await bot.say("<" * 4000)
    assert len(junk) == 1
    check_telegram_html(junk[0]["text"])
