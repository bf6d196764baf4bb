"""Fusion and decision: lexical and dense evidence become one score per concept, and one calibrated
answer-or-decline.

Lexical evidence is a section's coverage of the question (0..1), scaled by its BM25 relative to the best
section's so that, between sections covering the same words, the one that says them more wins. Dense
evidence is the concept's best unit cosine in any language, mapped to 0..1 between what unrelated
questions reach (`dense_floor`) and what a paraphrase of the text reaches. The two add up. A question is
answered when the best concept's fused score clears `answer_at`, or its cosine alone is very high.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from bot.domain.search.lexical import LexicalResult
from bot.domain.search.tuning import TUNING, Tuning


@dataclass(frozen=True)
class Evidence:
    concept: int
    lexical: float  # 0..1
    dense: float | None  # the best unit cosine; None when the embedder was not asked
    score: float  # fused


def lexical_evidence(result: LexicalResult, concept_of: Mapping[int, int], tuning: Tuning = TUNING) -> dict[int, float]:
    """concept -> lexical evidence, from the ranked matches of one language (`concept_of`: sid -> concept)."""
    if not result.ranked:
        return {}
    top = max(m.score for m in result.ranked) or 1.0
    evidence: dict[int, float] = {}
    best_slug = result.ranked[0].article.slug
    for match in result.ranked:
        value = match.coverage * math.sqrt(max(match.score, 0.0) / top)
        if result.topic_only and match is not result.ranked[0] and match.article.slug == best_slug:
            value *= tuning.topic_only_others  # "what is <topic>?" is the introduction's to answer
        concept = concept_of[match.sid]
        evidence[concept] = max(evidence.get(concept, 0.0), value)
    return evidence


def dense_share(cosine: float, tuning: Tuning = TUNING) -> float:
    return max(0.0, (cosine - tuning.dense_floor) / tuning.dense_spread)


def fuse(
    lexical: Mapping[int, float],
    concept_cosines: np.ndarray | None,
    tuning: Tuning = TUNING,
    *,
    reach: np.ndarray | None = None,
    allowed: np.ndarray | None = None,
) -> list[Evidence]:
    """Every candidate concept (the lexical ones and the dense ranking's best), best first; only the
    `allowed` ones (a mask per concept) when given: those the answer language has.

    `reach` (per concept, 0..1: the share of the library's languages it is published in) is a prior
    that orders near-ties: "key points?" names no article, and every article has key points; the one
    translated into every language is the library's main one. It orders, it never decides: an answer
    still needs its own evidence. Exact ties go to the lower concept number, the library's order."""
    candidates: set[int] = set(lexical) if allowed is None else {c for c in lexical if allowed[c]}
    if concept_cosines is not None and len(concept_cosines):
        eligible = concept_cosines if allowed is None else np.where(allowed, concept_cosines, -np.inf)
        count = min(tuning.dense_candidates, int(np.count_nonzero(np.isfinite(eligible))))
        if count:
            candidates.update(int(c) for c in np.argpartition(-eligible, count - 1)[:count])
    ranked = []
    for concept in candidates:
        cosine = float(concept_cosines[concept]) if concept_cosines is not None else None
        dense = dense_share(cosine, tuning) if cosine is not None else 0.0
        lex = lexical.get(concept, 0.0)
        ranked.append(Evidence(concept, lex, cosine, lex + tuning.dense_weight * dense))
    if reach is None:
        ranked.sort(key=lambda e: (-e.score, e.concept))
    else:
        ranked.sort(key=lambda e: (-(e.score + tuning.reach_weight * float(reach[e.concept])), e.concept))
    return ranked


def answers(best: Evidence, tuning: Tuning = TUNING) -> bool:
    """The hybrid decision."""
    if best.dense is not None and best.dense >= tuning.dense_alone_at:
        return True
    return best.score >= tuning.answer_at


def lexically_decided(
    result: LexicalResult, evidence: Mapping[int, float], tuning: Tuning = TUNING, *, own_language: bool = True
) -> bool:
    """Lexical evidence alone settles it, so the embedder cannot change the outcome:
    - no word of the question met the content in any reading (`evidence` is pooled over them), or in its
      own language only through typo corrections: declined, for the model alone does not clear the answer
      bar on such a question, except by mistake ("كيف أتعامل مع اعتراضات العميل على السعر");
    - read in its own language (`own_language`), the best section covers most of the question and leads
      the next by a wide margin: words the content lacks ("tu", "ya", "bhai") do not move an answer
      that clear.
    Over every question set, at 5 and at 10,000 articles, skipping the model in these cases changes no
    outcome (`Tuning.lexical_sure_coverage` says more)."""
    if not evidence or (own_language and result.known_share == 0.0):
        return True
    best = result.best
    if not own_language or best is None or not best.confident(tuning):
        return False
    values = sorted(evidence.values(), reverse=True)
    lead = values[0] - (values[1] if len(values) > 1 else 0.0)
    return best.coverage >= tuning.lexical_sure_coverage and lead >= tuning.lexical_sure_lead
