"""The excerpt: the paragraph of the chosen section that holds the fact asked for, trimmed around it.

A paragraph is chosen by the question words it covers (rarest first) and by its best sentence's cosine
with the question, so "how much does Oracle pay?" shows the salary paragraph, not the section's first.
A paragraph too long for a chat message is cut to the sentences around the best one, links kept.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from bot.domain.content import Block, Section, Span
from bot.domain.search.tuning import TUNING, Tuning
from bot.domain.text import sentence_bounds

# (block number, sentence spans) -> a score per sentence: how much of the question each one holds
SentenceScorer = Callable[[int, Sequence[tuple[int, int]]], list[float]]


def choose_excerpt(
    section: Section,
    lexical: Mapping[int, tuple[float, float]],
    dense: Mapping[int, float],
    score_sentences: SentenceScorer,
    tuning: Tuning = TUNING,
) -> tuple[Block, ...]:
    """`lexical`: block -> (coverage, BM25); `dense`: block -> best sentence cosine."""
    if section.is_summary or not section.blocks:
        return section.blocks  # the highlights are short: show them all
    best = max(range(len(section.blocks)), key=lambda b: _block_rank(b, lexical, dense))
    return (trim(section.blocks[best], lambda spans: score_sentences(best, spans), tuning.max_excerpt_chars),)


def _block_rank(
    block: int, lexical: Mapping[int, tuple[float, float]], dense: Mapping[int, float]
) -> tuple[float, ...]:
    cover, bm25 = lexical.get(block, (0.0, 0.0))
    top_cover = max((c for c, _ in lexical.values()), default=0.0)
    low, high = min(dense.values(), default=0.0), max(dense.values(), default=0.0)
    # Each signal as a share of its best in this section, so neither dominates by its scale.
    lexical_share = cover / top_cover if top_cover else 0.0
    dense_share = (dense.get(block, low) - low) / (high - low) if high > low else 0.0
    return (lexical_share + dense_share, bm25, -block)


def trim(block: Block, score_sentences: Callable[[Sequence[tuple[int, int]]], list[float]], max_chars: int) -> Block:
    """A long paragraph is cut to the sentences around the best one, links kept."""
    text = block.text
    if len(text) <= max_chars:
        return block
    sentences = sentence_bounds(text, longest=max_chars)
    hits = score_sentences(sentences)
    best = max(range(len(sentences)), key=lambda i: hits[i])
    start, end = sentences[best]
    left, right = best - 1, best + 1
    while True:  # grow around the best sentence while it fits, preferring sentences that match
        options = [i for i in (left, right) if 0 <= i < len(sentences)]
        options = [i for i in options if max(end, sentences[i][1]) - min(start, sentences[i][0]) <= max_chars]
        if not options:
            break
        pick = max(options, key=lambda i: (hits[i], -i))
        start, end = min(start, sentences[pick][0]), max(end, sentences[pick][1])
        left, right = (left - 1, right) if pick == left else (left, right + 1)
    return Block(block.kind, slice_spans(block.spans, start, end), block.line)


def slice_spans(spans: Sequence[Span], start: int, end: int) -> tuple[Span, ...]:
    """The spans covering text[start:end], cut at the edges, links kept on the pieces."""
    result: list[Span] = []
    offset = 0
    for span in spans:
        lo, hi = max(start, offset), min(end, offset + len(span.text))
        if lo < hi:
            result.append(Span(span.text[lo - offset : hi - offset], span.href))
        offset += len(span.text)
    if result:
        result[0] = Span(result[0].text.lstrip(), result[0].href)
        result[-1] = Span(result[-1].text.rstrip(), result[-1].href)
    return tuple(s for s in result if s.text)
