"""Rendering: link resolution, plain text, Telegram HTML (escaping, balance, limits, splitting), the
not-covered message in each language, and the JSON contract."""

from __future__ import annotations

import json
import re

import pytest
from conftest import (
    ALIASES,
    DEV_TSV,
    HEADINGS,
    LANGUAGES,
    TELEGRAM_LIMIT,
    MakeContent,
    is_absolute_url,
)

from auxil.telegram_html import check_telegram_html
from bot import locales
from bot.domain.content import Block, Span
from bot.domain.engine import Answer, AnswerEngine, SectionRef
from bot.domain.evaluation import read_cases
from bot.domain.render import (
    LinkResolver,
    answer_json,
    block_html,
    escape,
    pack,
    render_html,
    render_text,
    section_html,
    utf16_length,
)

SLUGS = frozenset({"inside-sales"})
BASE = "https://example.com/"
RESOLVERS = {
    "none": LinkResolver(SLUGS),
    "username": LinkResolver(SLUGS, "InsideSalesBot"),
    "base": LinkResolver(SLUGS, None, BASE),
    "both": LinkResolver(SLUGS, "InsideSalesBot", BASE),
}
PL_SALARY = "Ile płaci State Farm?"
MS_COLD = "Apakah panggilan dingin?"
OFF_TOPIC = {
    "ms": "Resipi sup borscht",
    "pl": "Jak ugotować barszcz czerwony?",
    "ru": "Как приготовить борщ?",
    "ar": "كيف أطبخ حساء البرش؟",
    "hi": "बोर्श सूप कैसे बनाएं?",
}
JSON_KEYS = {"language", "answered", "article", "heading", "excerpt", "url", "links", "score", "alternatives"}


# --- links ----------------------------------------------------------------------------------------------


def test_existing_slug_with_bot_username_is_a_deep_link() -> None:
    resolver = LinkResolver(SLUGS, "InsideSalesBot")
    assert resolver.resolve("/inside-sales") == "https://t.me/InsideSalesBot?start=inside-sales"
    assert resolver.resolve("inside-sales/") == "https://t.me/InsideSalesBot?start=inside-sales"
    assert resolver.article_url("inside-sales") == "https://t.me/InsideSalesBot?start=inside-sales"
    # The deep link wins over the base URL.
    assert RESOLVERS["both"].resolve("/inside-sales") == "https://t.me/InsideSalesBot?start=inside-sales"


def test_existing_slug_without_username_uses_the_base_url() -> None:
    assert RESOLVERS["base"].resolve("/inside-sales") == "https://example.com/inside-sales"
    assert LinkResolver(SLUGS, None, "https://example.com").resolve("/inside-sales") == (
        "https://example.com/inside-sales"
    )


def test_unknown_slug_uses_the_base_url() -> None:
    resolver = RESOLVERS["both"]
    assert resolver.resolve("/coldcalling") == "https://example.com/coldcalling"
    assert resolver.resolve("/coldcalling?x=1#part") == "https://example.com/coldcalling?x=1#part"
    assert resolver.resolve("terms/a-b") == "https://example.com/terms/a-b"
    assert LinkResolver(SLUGS, None, "https://example.com/wiki/").resolve("/x") == "https://example.com/wiki/x"


@pytest.mark.parametrize("href", ["/coldcalling", "/inside-sales", "coldcalling", "#top", "?q=1", "", None])
def test_nothing_to_resolve_against_gives_none(href: str | None) -> None:
    assert RESOLVERS["none"].resolve(href) is None
    deep = LinkResolver(SLUGS, "InsideSalesBot").resolve(href)
    assert deep == ("https://t.me/InsideSalesBot?start=inside-sales" if href == "/inside-sales" else None)


def test_absolute_links_pass_through() -> None:
    resolver = RESOLVERS["none"]
    assert resolver.resolve("https://www.investopedia.com/x") == "https://www.investopedia.com/x"
    assert resolver.resolve("http://example.org") == "http://example.org"
    assert resolver.resolve("//example.org/x") == "https://example.org/x"
    assert resolver.resolve("mailto:sales@example.com") == "mailto:sales@example.com"
    assert resolver.resolve("tg://resolve?domain=x") == "tg://resolve?domain=x"


@pytest.mark.parametrize(
    "href",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "vbscript:msgbox(1)",
        "data:text/html,<script>alert(1)</script>",
        "file:///etc/passwd",
    ],
)
def test_unsafe_schemes_rejected(href: str) -> None:
    for resolver in RESOLVERS.values():
        assert resolver.resolve(href) is None


@pytest.mark.parametrize("href", ["https:/coldcalling", "http:foo"])
def test_http_url_without_host_is_not_emitted(href: str) -> None:
    url = RESOLVERS["none"].resolve(href)
    assert url is None or is_absolute_url(url)


def test_unresolved_link_stays_plain_text(engine: AnswerEngine) -> None:
    answer = engine.answer(MS_COLD)
    assert any(block.links for block in answer.excerpt)
    resolver = RESOLVERS["none"]
    text = render_text(answer, resolver)
    assert "panggilan dingin" in text
    assert "/coldcalling" not in text
    assert locales.t("ms", "links") + ":" not in text
    (message,) = render_html(answer, resolver)
    visible, hrefs = check_telegram_html(message)
    assert "panggilan dingin" in visible
    assert hrefs == []
    data = answer_json(answer, resolver)
    assert (data["url"], data["links"]) == (None, [])


@pytest.mark.parametrize("resolver_name", sorted(RESOLVERS))
def test_never_a_relative_url_in_any_output(engine: AnswerEngine, resolver_name: str) -> None:
    resolver = RESOLVERS[resolver_name]
    for article in engine.library.articles:
        for section in article.sections:
            for message in section_html(SectionRef(article, section), resolver):
                _, hrefs = check_telegram_html(message)
                assert all(is_absolute_url(h) for h in hrefs)
    for question in (MS_COLD, PL_SALARY, "Что такое холодные звонки?", "कोल्ड कॉलिंग क्या है?"):
        answer = engine.answer(question)
        for message in render_html(answer, resolver):
            check_telegram_html(message)
        data = answer_json(answer, resolver)
        urls = [data["url"], *(link["url"] for link in data["links"])]
        assert all(url is None or is_absolute_url(url) for url in urls)
        text = render_text(answer, resolver)
        assert not re.search(r"(?<![\w:/])/(coldcalling|customer|outside-sales|telemarketing|add-on-sales)", text)


def test_links_resolve_in_every_output(engine: AnswerEngine) -> None:
    answer = engine.answer(MS_COLD)
    resolver = RESOLVERS["both"]
    text = render_text(answer, resolver)
    assert "• panggilan dingin: https://example.com/coldcalling" in text
    assert "• jualan luar: https://example.com/outside-sales" in text
    (message,) = render_html(answer, resolver)
    assert '<a href="https://example.com/coldcalling">panggilan dingin</a>' in message
    data = answer_json(answer, resolver)
    assert {"text": "panggilan dingin", "url": "https://example.com/coldcalling"} in data["links"]
    assert data["url"] == "https://t.me/InsideSalesBot?start=inside-sales"


# --- plain text -------------------------------------------------------------------------------------------


def test_plain_text_has_heading_title_excerpt_links_and_alternatives(engine: AnswerEngine) -> None:
    answer = engine.answer("Berapa gaji wakil jualan dalaman?")
    assert answer.section is not None
    assert answer.article is not None
    text = render_text(answer, RESOLVERS["base"])
    first = text.splitlines()[0]
    assert first.startswith(answer.section.heading)
    assert answer.article.title in first
    assert answer.excerpt[0].text in text
    if answer.alternatives:
        assert locales.t("ms", "other_sections") in text
        assert all(ref.section.heading in text for ref in answer.alternatives)


def test_plain_text_quote_and_items(engine: AnswerEngine) -> None:
    highlights = engine.answer("Sorotan utama artikel")
    text = render_text(highlights, RESOLVERS["none"])
    assert text.count("\n• ") >= 3
    ms = engine.library.article("inside-sales", "ms")
    assert ms is not None
    quote = ms.sections[1].blocks[-1]
    fake = Answer("q", "ms", highlights.detection, True, ms, ms.sections[1], (quote,), 1.0, (), ())
    assert f"“{quote.text}”" in render_text(fake, RESOLVERS["none"])


@pytest.mark.parametrize("lang", LANGUAGES)
def test_plain_text_not_covered_lists_topics(engine: AnswerEngine, lang: str) -> None:
    answer = engine.answer(OFF_TOPIC[lang])
    text = render_text(answer, RESOLVERS["none"])
    assert text.startswith(locales.t(lang, "not_covered"))
    assert locales.t(lang, "try_topics") in text
    for heading in HEADINGS[lang]:
        assert f"• {heading}" in text


# --- Telegram HTML ---------------------------------------------------------------------------------------

HTML_ARTICLE = (
    '---\ntitle: "Tom & Jerry <script>alert(1)</script>"\n---\n\n'
    "## Soalan <b>tebal</b> & jawapan\n\n"
    "Guna tag <b>tebal</b> & <i>condong</i>, &amp; &#x3C; &lt;script&gt; dan [pautan <b>x</b>](/x?a=1&b=2) "
    "atau </a> <blockquote> <pre>.\n\n"
    "<script>alert(2)</script>\n\n"
    "> Petikan </blockquote> & <a href='javascript:alert(1)'>klik</a>\n"
)


@pytest.fixture
def html_engine(make_content: MakeContent) -> AnswerEngine:
    root = make_content({"ms/html.md": HTML_ARTICLE, "pl/a.md": "# T\n\n## S\n\nCoś zupełnie innego.\n"})
    return AnswerEngine.from_directory(root, aliases=ALIASES)


def test_html_escapes_content_and_look_alikes(html_engine: AnswerEngine) -> None:
    ref = html_engine.section("html", "ms", 0)
    assert ref is not None
    for resolver in (RESOLVERS["none"], LinkResolver(frozenset({"html"}), "Bot", BASE)):
        messages = section_html(ref, resolver)
        joined = "\n".join(messages)
        for message in messages:
            check_telegram_html(message)
        assert "<script" not in joined
        assert "&lt;script&gt;" in joined
        assert "&lt;b&gt;tebal&lt;/b&gt;" in joined
        assert "Tom &amp; Jerry" in joined
        assert "&amp;amp;" not in joined  # '&amp;' in Markdown is '&', escaped once
        assert "&lt;a href='javascript:alert(1)'&gt;klik&lt;/a&gt;" in joined  # raw HTML link: shown as text
        assert 'href="javascript' not in joined.lower()
    with_base = "\n".join(section_html(ref, LinkResolver(frozenset({"html"}), "Bot", BASE)))
    assert '<a href="https://example.com/x?a=1&amp;b=2">pautan &lt;b&gt;x&lt;/b&gt;</a>' in with_base


def test_html_answer_for_html_laden_question(html_engine: AnswerEngine) -> None:
    answer = html_engine.answer("<script>alert(1)</script> tebal condong <b>pautan</b> &amp;", lang="ms")
    assert answer.answered
    for message in render_html(answer, RESOLVERS["base"]):
        check_telegram_html(message)
        assert "<script" not in message
    declined = html_engine.answer("<script>alert('x')</script>", lang="ms")
    for message in render_html(declined, RESOLVERS["base"]):
        check_telegram_html(message)
        assert "<script" not in message


@pytest.mark.parametrize("resolver_name", sorted(RESOLVERS))
def test_all_real_answers_are_valid_telegram_html(engine: AnswerEngine, resolver_name: str) -> None:
    for case in read_cases(DEV_TSV):
        answer = engine.answer(case.question)
        messages = render_html(answer, RESOLVERS[resolver_name])
        assert messages
        for message in messages:
            check_telegram_html(message)


def test_html_heading_and_source_line(engine: AnswerEngine) -> None:
    answer = engine.answer(PL_SALARY)
    assert answer.section is not None
    assert answer.article is not None
    (message,) = render_html(answer, RESOLVERS["none"])
    title_line = escape(locales.t("pl", "source", title=answer.article.title))
    assert message.startswith(f"<b>{escape(answer.section.heading)}</b>\n<i>{title_line}</i>\n\n")
    assert "29 661" in message


def words_text(count: int) -> str:
    base = ["sprzedaż", "A&B", "<b>", "&amp;", "wewnętrzna", "słowo", "x<y>z", "&#x3C;", "</a>"]
    return " ".join(f"{base[i % len(base)]}{i}" for i in range(count))


def test_splitting_a_20000_char_block_at_word_boundaries() -> None:
    text = words_text(2_000)
    text = text[: text.rfind(" ", 0, 20_000)]
    assert len(text) > 19_000
    block = Block("paragraph", (Span(text),), 1)
    pieces = block_html(block, RESOLVERS["none"])
    assert len(pieces) >= 6  # ~20,000 characters, with every '&', '<' and '>' growing when escaped
    visible = [check_telegram_html(piece)[0] for piece in pieces]
    assert " ".join(visible) == text  # cut only between words; nothing lost, nothing doubled
    messages = pack(pieces)
    assert all(utf16_length(m) <= TELEGRAM_LIMIT for m in messages)
    for message in messages:
        check_telegram_html(message)


def test_splitting_never_inside_a_tag_or_entity() -> None:
    text = " ".join(["&<>"] * 3_000)  # every character is escaped into an entity
    spans = (Span(text[:6_000]), Span(text[6_000:9_000], "/linked"), Span(text[9_000:]))
    block = Block("quote", spans, 1)
    pieces = block_html(block, RESOLVERS["base"])
    assert len(pieces) > 1
    for piece in pieces:
        check_telegram_html(piece)  # balanced <blockquote>/<a>, entities whole
        assert piece.startswith("<blockquote>")
        assert piece.endswith("</blockquote>")


def test_a_long_word_is_cut_into_pieces_that_fit() -> None:
    block = Block("item", (Span("x" * 10_000 + "&" * 3_000),), 1)
    pieces = block_html(block, RESOLVERS["none"])
    assert all(utf16_length(p) <= TELEGRAM_LIMIT for p in pieces)
    assert "".join(check_telegram_html(p)[0].removeprefix("• ") for p in pieces) == "x" * 10_000 + "&" * 3_000


def test_emoji_count_as_two_units() -> None:
    assert utf16_length("🙂") == 2
    assert utf16_length("a") == 1
    assert utf16_length("👍🏽") == 4
    assert utf16_length("ł") == 1
    block = Block("paragraph", (Span(" ".join(["🙂"] * 3_000)),), 1)  # 5,999 characters, 8,999 units
    pieces = block_html(block, RESOLVERS["none"])
    assert len(pieces) == 3
    assert all(utf16_length(p) <= TELEGRAM_LIMIT for p in pieces)
    assert max(len(p) for p in pieces) < TELEGRAM_LIMIT * 0.75  # characters alone would have fitted more
    messages = pack(pieces)
    assert len(messages) == 3
    assert all(utf16_length(m) <= TELEGRAM_LIMIT for m in messages)


def test_pack_joins_what_fits_and_keeps_order() -> None:
    assert pack(["a", "b", "c"]) == ["a\n\nb\n\nc"]
    assert pack(["x" * 3_000, "y" * 1_000, "z" * 100]) == ["x" * 3_000 + "\n\n" + "y" * 1_000, "z" * 100]
    assert pack(["🙂" * 2_000, "🙂" * 100]) == ["🙂" * 2_000, "🙂" * 100]  # 4,000 + 2 + 200 units > 4,096
    assert pack([]) == []
    assert pack(["a", "b"], limit=3) == ["a", "b"]


def test_long_section_renders_as_several_valid_messages(make_content: MakeContent) -> None:
    paragraph = words_text(2_000)
    root = make_content(
        {"ms/a.md": f"# T\n\n## Panjang\n\n{paragraph}\n\n- satu\n- dua\n", "pl/a.md": "# T\n\n## S\n\nx\n"}
    )
    engine = AnswerEngine.from_directory(root)
    ref = engine.section("a", "ms", 0)
    assert ref is not None
    messages = section_html(ref, RESOLVERS["base"])
    assert len(messages) >= 5
    for message in messages:
        check_telegram_html(message)
    assert messages[0].startswith("<b>Panjang</b>")
    assert messages[-1].endswith("• satu\n\n• dua")


def test_long_link_url_still_fits() -> None:
    url = "https://example.com/" + "x" * 3_000
    block = Block("paragraph", (Span("a " * 900, url),), 1)
    pieces = block_html(block, RESOLVERS["none"])
    assert all(utf16_length(p) <= TELEGRAM_LIMIT for p in pieces)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_not_covered_html_in_each_language(engine: AnswerEngine, lang: str) -> None:
    assert locales.has(lang, "not_covered")
    assert locales.has(lang, "try_topics")
    assert locales.t(lang, "not_covered") != locales.t("en", "not_covered")
    answer = engine.answer(OFF_TOPIC[lang])
    assert (answer.answered, answer.language) == (False, lang)
    messages = render_html(answer, RESOLVERS["both"])
    (message,) = messages
    check_telegram_html(message)
    assert message.startswith(escape(locales.t(lang, "not_covered")))
    assert escape(locales.t(lang, "try_topics")) in message
    for heading in HEADINGS[lang]:
        assert "• " + escape(heading) in message
    assert locales.t("en", "not_covered") not in message


# --- JSON -------------------------------------------------------------------------------------------------


def test_json_contract_answered(engine: AnswerEngine) -> None:
    answer = engine.answer(PL_SALARY)
    data = answer_json(answer, RESOLVERS["base"])
    assert set(data) >= JSON_KEYS
    assert json.loads(json.dumps(data, ensure_ascii=False)) == data
    assert data["language"] == "pl"
    assert data["answered"] is True
    assert data["article"] == "inside-sales"
    assert data["heading"] == HEADINGS["pl"][2]
    assert "29 661" in data["excerpt"]
    assert data["url"] == "https://example.com/inside-sales"
    assert isinstance(data["links"], list)
    assert all(set(link) == {"text", "url"} and is_absolute_url(link["url"]) for link in data["links"])
    assert isinstance(data["score"], float)
    assert 0 < data["score"] <= 1
    assert isinstance(data["alternatives"], list)
    assert all(heading in HEADINGS["pl"] for heading in data["alternatives"])
    assert data["heading"] not in data["alternatives"]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_json_headings_exactly_as_in_content(engine: AnswerEngine, lang: str) -> None:
    answer = engine.answer("AA-ISP", lang=lang)
    data = answer_json(answer, RESOLVERS["none"])
    assert data["heading"] == HEADINGS[lang][2]
    assert data["language"] == lang
    assert data["url"] is None


def test_json_contract_declined(engine: AnswerEngine) -> None:
    data = answer_json(engine.answer(OFF_TOPIC["ru"]), RESOLVERS["both"])
    assert set(data) >= JSON_KEYS
    assert data["answered"] is False
    assert (data["article"], data["heading"], data["url"]) == (None, None, None)
    assert (data["excerpt"], data["links"], data["alternatives"]) == ("", [], [])
    assert data["language"] == "ru"
    assert isinstance(data["score"], float)
    assert data["suggestions"] == list(HEADINGS["ru"])
