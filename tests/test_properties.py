"""Property tests (hypothesis): detection, retrieval and rendering with arbitrary Unicode never fail, and
rendering always yields balanced Telegram HTML within the message limit."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest
from conftest import LANGUAGES, TELEGRAM_LIMIT
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from auxil.telegram_html import check_telegram_html
from bot.domain.content import Block, Span
from bot.domain.engine import AnswerEngine
from bot.domain.render import LinkResolver, answer_json, block_html, pack, render_html, render_text, utf16_length

SPECIALS = [
    "\u200f", "\u202e", "\u200b", "\ufeff", "\u2028", "\ud7ff", "\ue000", "\ufffd", "\x00", "\x07", "\x1b",
    "\x7f", "\r\n", "\t", " ", "  ", "🙂", "👍🏽", "🇲🇾", "❤️‍🔥", "&amp;", "&", "<b>", "</b>", "&#x3C;", "&lt;",
    "</a>", "<a href='x'>", "<script>alert(1)</script>", "<blockquote>", '"', "'", ">", "<", "State Farm",
    "AA-ISP", "sprzedaż", "zimne rozmowy", "продажи", "холодные звонки", "المبيعات", "राज्य", "बिक्री",
    "jualan dalaman", "gaji", "?", "؟", "।", "...", ",.", "2018", "$29,661",
]  # fmt: skip
fragments = st.one_of(st.text(max_size=30), st.sampled_from(SPECIALS))
mixed_text = st.lists(fragments, max_size=30).map("".join)
questions = st.one_of(mixed_text, st.text(max_size=5_000))
RESOLVERS = [
    LinkResolver(frozenset({"inside-sales"})),
    LinkResolver(frozenset({"inside-sales"}), "InsideSalesBot", "https://example.com/base/"),
]
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def parses(href: str) -> bool:
    try:
        urlsplit(href.strip())
    except ValueError:
        return False
    return True


HREF_SAMPLES = [
    "/coldcalling", "/inside-sales", "inside-sales", "javascript:alert(1)", "https://example.com/?a=1&b=<2>",
    "mailto:x@y.z", "tg://resolve?domain=x", "//host/p", "#frag", "?q", 'https://e.com/"onclick="x',
    "data:text/html,<b>", "https://e.com/" + "é" * 50,
]  # fmt: skip
hrefs = st.one_of(
    st.none(),
    st.sampled_from(HREF_SAMPLES),
    st.text(max_size=200),
    st.text(max_size=100).map(lambda s: "/" + s),
    st.text(max_size=100).map(lambda s: "https://example.com/" + s),
)
spans = st.builds(Span, text=mixed_text, href=hrefs)
blocks = st.builds(
    Block,
    kind=st.sampled_from(["paragraph", "quote", "item"]),
    spans=st.lists(spans, max_size=8).map(tuple),
    line=st.integers(min_value=1, max_value=10_000),
)


@FAST
@given(
    text=questions,
    hints=st.lists(
        st.one_of(
            st.none(), st.text(max_size=10), st.sampled_from(["pl-PL", "id", "ru", "ar", "hi", "ms", "en", "pt-BR", ""])
        ),
        max_size=3,
    ),
)
def test_detection_never_fails(engine: AnswerEngine, text: str, hints: list[str | None]) -> None:
    detector = engine.snapshot.detector
    first = detector._detect(text, hints)  # the unguarded steps
    assert first.lang in LANGUAGES
    detection = detector.detect(text, hints)
    assert detection == first
    assert detector.detect(text, hints) == detection  # deterministic


@FAST
@given(question=questions, pinned=st.sampled_from([None, *LANGUAGES, "en", "xx"]))
def test_answering_never_fails_and_renders_valid_html(engine: AnswerEngine, question: str, pinned: str | None) -> None:
    answer = engine.answer(question, lang=pinned)
    assert answer.language in LANGUAGES
    assert 0.0 <= answer.score <= 1.0
    if answer.answered:
        assert answer.article is not None
        assert answer.section is not None
        assert answer.excerpt
        assert answer.section not in [ref.section for ref in answer.alternatives]
    else:
        assert answer.section is None
        assert answer.suggestions
    for resolver in RESOLVERS:
        messages = render_html(answer, resolver)
        assert messages
        for message in messages:
            check_telegram_html(message)
            assert "<script" not in message.lower()
        assert render_text(answer, resolver)
        data = answer_json(answer, resolver)
        assert json.loads(json.dumps(data, ensure_ascii=False))["question"] == question


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.large_base_example])
@given(question=st.text(min_size=2_000, max_size=5_000))
def test_long_questions(engine: AnswerEngine, question: str) -> None:
    answer = engine.answer(question)
    assert answer.language in LANGUAGES
    for message in render_html(answer, RESOLVERS[1]):
        check_telegram_html(message)


@settings(max_examples=150, deadline=None)
@given(block=blocks, resolver=st.sampled_from(RESOLVERS), limit=st.sampled_from([TELEGRAM_LIMIT, 1_024]))
def test_block_html_is_valid_and_loses_nothing(block: Block, resolver: LinkResolver, limit: int) -> None:
    pieces = block_html(block, resolver, limit)
    visible = []
    for piece in pieces:
        text, _ = check_telegram_html(piece, limit)
        visible.append(text.removeprefix("• ") if block.kind == "item" else text)
    assert "".join("".join(visible).split()) == "".join(block.text.split())
    for message in pack(pieces, limit):
        check_telegram_html(message, limit)


@settings(max_examples=150, deadline=None)
@given(
    parts=st.lists(
        st.text(min_size=1, max_size=300).map(lambda s: s.replace("<", "&lt;").replace("&", "&amp;")), max_size=30
    ),
    limit=st.sampled_from([TELEGRAM_LIMIT, 500, 50]),
)
def test_pack_keeps_fragments_whole_and_in_order(parts: list[str], limit: int) -> None:
    fragments = [p for p in parts if utf16_length(p) <= limit]
    messages = pack(fragments, limit)
    assert all(utf16_length(m) <= limit for m in messages)
    assert "\n\n".join(messages) == "\n\n".join(f for f in fragments)
    assert len(messages) <= len(fragments)


@settings(max_examples=200, deadline=None)
@given(href=st.one_of(hrefs, mixed_text))
def test_resolved_links_are_absolute_and_safe(href: str | None) -> None:
    assume(href is None or parses(href))
    for resolver in RESOLVERS:
        url = resolver.resolve(href)
        if url is None:
            continue
        scheme = urlsplit(url).scheme.lower()
        assert scheme in {"http", "https", "tg", "mailto"}
        assert not url.lower().lstrip().startswith(("javascript:", "data:", "vbscript:"))


@pytest.mark.parametrize("href", ["http://[::1", "//[x", "http://[vx]/"])
def test_resolve_never_raises(href: str) -> None:
    for resolver in RESOLVERS:
        assert resolver.resolve(href) is None
