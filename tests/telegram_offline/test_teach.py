"""/declined, /taught, their buttons and /stats, without a network (the offline Bot API of
tests/auxil): who may press, what each press edits, and what the engine answers afterwards."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import pytest

from auxil.offline import ADMIN, STRANGER, OfflineBot
from auxil.telegram_html import check_telegram_html
from auxil.updates import callback_data, group_chat, message, user
from bot.locales import t
from bot.telegram.keyboards import MAX_CALLBACK_BYTES, TeachPick, TeachRemove, decode, encode

DECLINED = "dapat duit banyak ke kerja ni"  # "good money in this job?" (Malay chat): declined
VARIANT = "kerja ni dapat duit banyak ke"  # the same words in another order, from another user
SALARY = 2
NOT_COVERED = t("ms", "not_covered")
Json = dict[str, Any]


def text_of(sent: list[Json]) -> str:
    return "\n".join(m["text"] for m in sent)


async def review(bot: OfflineBot) -> list[Json]:
    """/declined as the admin: the header, then one message per question."""
    return await bot.say("/declined", sender=user(ADMIN))


async def press(bot: OfflineBot, data: str, markup: Json, sender: int = ADMIN) -> tuple[Json, Json | None]:
    """Press a button under a message with `markup`; the callback answer and the edit it made (if any)."""
    before = len(bot.api.of("editMessageText"))
    answer = await bot.press(data, sender=user(sender), markup=markup)
    edits = bot.api.of("editMessageText")[before:]
    return answer.params, edits[0].params if edits else None


def data_starting(params: Json, prefix: str) -> list[str]:
    return [d for d in callback_data(params) if d.startswith(prefix)]


async def teach_salary(bot: OfflineBot) -> tuple[Json, Json]:
    """The user's declined question, taught to the salary section in two taps; (item, taught edit)."""
    await bot.say(DECLINED)
    _, item = await review(bot)
    [choose] = data_starting(item, "v1:ts:")
    _, sections = await press(bot, choose, item["reply_markup"])
    assert sections is not None
    pick = next(d for d in data_starting(sections, "v1:tp:") if d.split(":")[3] == str(SALARY))
    _, taught = await press(bot, pick, sections["reply_markup"])
    assert taught is not None
    return item, taught


async def test_a_declined_question_is_taught_in_two_taps_and_answers_at_once(bot: OfflineBot) -> None:
    [declined] = await bot.say(DECLINED)
    assert declined["text"].startswith(html.escape(NOT_COVERED, quote=False))
    header, item = await review(bot)
    assert header["text"].startswith("Questions I could not answer well")
    assert item["text"] == f"❓ <b>{DECLINED}</b>\nasked 1× · Bahasa Melayu"
    assert [b["text"] for row in item["reply_markup"]["inline_keyboard"] for b in row] == [
        t("en", "review_choose"), t("en", "review_dismiss"),
    ]  # fmt: skip

    [choose] = data_starting(item, "v1:ts:")
    answer, sections = await press(bot, choose, item["reply_markup"])  # tap 1
    assert "text" not in answer
    assert sections is not None
    labels = [b["text"] for row in sections["reply_markup"]["inline_keyboard"] for b in row]
    assert labels[-1] == t("en", "review_back")
    assert len(labels) == 5, "the four Malay sections (the question's language), then back"
    assert all(label.startswith("Jualan Dalaman › ") for label in labels[:-1])
    pick = next(d for d in data_starting(sections, "v1:tp:") if d.split(":")[3] == str(SALARY))
    answer, taught = await press(bot, pick, sections["reply_markup"])  # tap 2
    assert answer["text"] == t("en", "review_taught_toast")
    assert taught is not None
    assert taught["text"] == html.escape(t("en", "review_taught", question=DECLINED, title="Jualan Dalaman",
                                           heading="Kelebihan Jualan Dalam"), quote=False)  # fmt: skip
    assert data_starting(taught, "v1:tr:"), "an undo button"
    check_telegram_html(taught["text"])

    again = text_of(await bot.say(DECLINED))
    variant = text_of(await bot.say(VARIANT, sender=user(1002, "ms")))
    for text in (again, variant):
        assert text.startswith("<b>Kelebihan Jualan Dalam</b>")
        assert "$45,000" in text
    [taught_row] = bot.store.taught_phrasings()
    assert (taught_row.text, taught_row.section, taught_row.admin_id, taught_row.times_used) == (
        DECLINED, SALARY, ADMIN, 2,
    )  # fmt: skip
    [stats] = await bot.say("/stats", sender=user(ADMIN))
    assert t("en", "stats_taught", count=1, used=2) in stats["text"]
    [empty] = await review(bot)
    assert empty["text"] == t("en", "review_empty"), "a taught question leaves the review"


async def test_undo_brings_the_decline_back(bot: OfflineBot) -> None:
    _, taught = await teach_salary(bot)
    [undo] = data_starting(taught, "v1:tr:")
    _, removed = await press(bot, undo, taught["reply_markup"])
    assert removed is not None
    assert removed["text"].startswith(f"Removed: “{DECLINED}”")
    assert bot.store.taught_phrasings() == []
    assert text_of(await bot.say(DECLINED)).startswith(html.escape(NOT_COVERED, quote=False))
    answer, edit = await press(bot, undo, taught["reply_markup"])
    assert (answer["text"], edit) == (t("en", "button_expired"), None), "undone already"


async def test_a_stranger_pressing_the_admins_buttons_is_refused(bot: OfflineBot) -> None:
    await bot.say(DECLINED)
    _, item = await review(bot)
    question_id = int(data_starting(item, "v1:ts:")[0].split(":")[2])
    for data in (*callback_data(item), encode(TeachPick(question_id, "inside-sales", SALARY))):
        answer, edit = await press(bot, data, item["reply_markup"], sender=STRANGER)
        assert answer["text"] == t("en", "admin_only")
        assert answer["show_alert"] is True
        assert edit is None
    assert bot.store.taught_phrasings() == []
    [refused] = await bot.say("/declined", sender=user(STRANGER))
    [refused_too] = await bot.say("/taught", sender=user(STRANGER))
    assert refused["text"] == refused_too["text"] == html.escape(t("en", "admin_only"), quote=False)


async def test_dismissing_hides_a_question_until_it_is_asked_again(bot: OfflineBot) -> None:
    await bot.say("resepi rendang ayam")
    _, item = await review(bot)
    [dismiss] = data_starting(item, "v1:tx:")
    _, edit = await press(bot, dismiss, item["reply_markup"])
    assert edit is not None
    assert edit["text"] == html.escape(t("en", "review_dismissed", question="resepi rendang ayam"), quote=False)
    [empty] = await review(bot)
    assert empty["text"] == t("en", "review_empty")
    await bot.say("Resepi rendang ayam?")
    _, back = await review(bot)
    assert "Resepi rendang ayam?" in back["text"]


async def test_back_returns_to_the_question(bot: OfflineBot) -> None:
    await bot.say(DECLINED)
    _, item = await review(bot)
    _, sections = await press(bot, data_starting(item, "v1:ts:")[0], item["reply_markup"])
    assert sections is not None
    _, back = await press(bot, data_starting(sections, "v1:tb:")[0], sections["reply_markup"])
    assert back is not None
    assert (back["text"], back["reply_markup"]) == (item["text"], item["reply_markup"])


async def test_the_review_lists_the_most_asked_first(bot: OfflineBot) -> None:
    await bot.say("resepi rendang ayam")
    for _ in range(3):
        await bot.say(DECLINED)
    _, first, second = await review(bot)
    assert "3×" in first["text"]
    assert DECLINED in first["text"]
    assert "resepi rendang ayam" in second["text"]
    [stats] = await bot.say("/stats", sender=user(ADMIN))
    top = stats["text"].split(t("en", "stats_top_declined"))[1]
    assert top.index(DECLINED) < top.index("resepi rendang ayam")


async def test_taught_lists_and_removes(bot: OfflineBot) -> None:
    [empty] = await bot.say("/taught", sender=user(ADMIN))
    assert empty["text"] == t("en", "taught_empty")
    await teach_salary(bot)
    [listed] = await bot.say("/taught", sender=user(ADMIN))
    assert listed["text"] == "\n".join([
        t("en", "taught_header", count=1),
        html.escape(t("en", "taught_line", n=1, question=DECLINED, title="Jualan Dalaman",
                      heading="Kelebihan Jualan Dalam", language="Bahasa Melayu", used=0), quote=False),
    ])  # fmt: skip
    [remove] = data_starting(listed, "v1:tr:")
    assert decode(remove) == TeachRemove(bot.store.taught_phrasings()[0].id, True)
    _, relisted = await press(bot, remove, listed["reply_markup"])
    assert relisted is not None
    assert relisted["text"] == t("en", "taught_empty")


async def test_a_purged_question_or_changed_content_makes_a_button_expire(bot: OfflineBot) -> None:
    await bot.say(DECLINED)
    _, item = await review(bot)
    question_id = int(data_starting(item, "v1:ts:")[0].split(":")[2])
    for data in (encode(TeachPick(question_id, "inside-sales", 9)), encode(TeachPick(question_id, "gone", 0)),
                 encode(TeachPick(10_000, "inside-sales", 0)), "v1:ts:10000", "v1:tz:1"):  # fmt: skip
        answer, edit = await press(bot, data, item["reply_markup"])
        assert (answer["text"], edit) == (t("en", "button_expired"), None), data
    assert bot.store.taught_phrasings() == []


async def test_a_phrasing_whose_section_is_gone_after_a_reload_shows_in_stats(bot: OfflineBot) -> None:
    await teach_salary(bot)
    for path in bot.content.glob("*/inside-sales.md"):  # every translation keeps only its first two sections
        text = path.read_text(encoding="utf-8")
        path.write_text(text[: text.index("\n## ", text.index("\n## ", text.index("\n## ") + 1) + 1)], "utf-8")
    await bot.say("/reload", sender=user(ADMIN))
    assert text_of(await bot.say(DECLINED)).startswith(html.escape(NOT_COVERED, quote=False)), "ignored"
    [stats] = await bot.say("/stats", sender=user(ADMIN))
    assert t("en", "stats_unmatched", count=1) in stats["text"]
    assert f"“{DECLINED}” → inside-sales #3" in stats["text"]
    [listed] = await bot.say("/taught", sender=user(ADMIN))
    assert "no longer in the content, ignored" in listed["text"]


async def test_nothing_in_groups(bot: OfflineBot) -> None:
    bot.api.clear()
    for command in ("/declined", "/taught"):
        await bot.feed(message=message(command, sender=user(ADMIN), chat=group_chat()))
    assert bot.api.calls == []


@pytest.mark.parametrize("slug", ["inside-sales", "ж" * 64])
def test_teach_buttons_fit_telegrams_limit(slug: str) -> None:
    for action in (TeachPick(2**31, slug, 99), TeachRemove(2**31, True)):
        data = encode(action)
        assert len(data.encode()) <= MAX_CALLBACK_BYTES
        assert decode(data, [slug]) == action


async def test_taught_phrasings_are_loaded_at_start_up(make_bot: Callable[..., Any]) -> None:
    first: OfflineBot = await make_bot()
    first.store.teach_phrasing(DECLINED, "ms", "inside-sales", SALARY, admin_id=ADMIN)
    # A second Application over the same store, as after a restart.
    from bot.telegram.app import build_application

    services = first.app.bot_data["services"]
    engine = services.engine
    engine.set_taught([])
    build_application(services.settings, engine, first.store, request=first.api, rate_limiter=False)
    answer = engine.answer(DECLINED)
    assert answer.answered
    assert answer.phrasing is not None
    assert answer.phrasing.text == DECLINED
