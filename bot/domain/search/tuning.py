"""Every number retrieval is tuned by, in one place, with the figures that set it.

Lexical figures were set on `dev.tsv` (questions in the articles' words); the fusion and decision figures
on `dev.tsv` plus our own `tests/data/extra_questions.tsv`, then checked, unchanged, on `chat-dev.tsv`
(questions as people type them in chats). Ratios and cosines, not raw BM25 scores, so they do not drift
with the size of the library; the benchmark checks them on 10,000 articles.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Tuning:
    # --- lexical (BM25) -----------------------------------------------------------------------------
    k1: float = 1.2
    b: float = 0.75
    heading_weight: float = 1.5
    description_weight: float = 0.5  # a tie-breaker towards the introduction, not a rival to the body
    prefix_weight: float = 0.5  # a shared stem prefix is weaker evidence than a shared stem
    pair_weight: float = 0.5  # two question words side by side in the text: a phrase
    other_passages_share: float = 0.25  # a section is its best passage plus this share of the rest
    stopword_df_share: float = 0.2  # a listed stop word is ignored when this common in the content
    stopword_weight: float = 0.3  # stop lists mix in content words ("jualan"): keep those, lightly
    name_weight: float = 0.3  # a name other translations spell and this one transliterates
    fuzzy_cutoff: float = 82  # rapidfuzz ratio for a misspelt word to count as the content's word
    fuzzy_share: float = 0.8  # a corrected spelling counts for less than the word as written
    prefix_match: float = 0.8  # a shared prefix ("покупка"/"покупатели") counts for most of a stem
    summary_source_min: float = 0.2  # a highlight bullet is credited to a body section this similar
    candidates: int = 8  # sections re-ranked by coverage, per language
    # --- lexical-only decision (no embedding model): dev.tsv 36/40 sections, 10/10 declined ---------
    min_coverage: float = 0.35
    min_coverage_on_topic: float = 0.3  # the question names the article's topic
    min_coverage_unknown_words: float = 0.6  # two or more words the content never uses: how off-topic looks
    min_exact_coverage: float = 0.2  # typo corrections alone never make an answer
    # --- fusion ---------------------------------------------------------------------------------------
    # A concept's score is lexical + dense_weight * dense, dense being the best cosine of its units mapped
    # to 0..1 between dense_floor (what unrelated questions reach) and dense_floor + dense_spread.
    dense_floor: float = 0.80
    dense_spread: float = 0.10
    dense_weight: float = 1.0
    reach_weight: float = 0.2  # the prior of a concept in every language (orders, never decides)
    dense_candidates: int = 8  # concepts taken from the dense ranking, beside the lexical ones
    # Up to this many articles are embedded sentence by sentence (all of a library this size), the
    # most-translated first; the rest by their outline (headings, description, highlights): 10,000
    # articles' every sentence (~500,000 units) would take about 3.5 hours on two cores and ~760 MB.
    dense_full_text_articles: int = 1000
    topic_only_others: float = 0.5  # "what is <topic>?": other sections keep this share of their evidence
    # --- hybrid decision ------------------------------------------------------------------------------
    answer_at: float = 0.75  # fused score of the best concept needed to answer
    low_confidence_margin: float = 0.25  # answered, but this close to declining: kept for admins to review
    lexical_low_confidence: float = 0.5  # the same for the lexical-only decision (coverage)
    dense_alone_at: float = 0.88  # a cosine this high answers whatever the words say
    # Skip the embedder when lexical evidence alone decides: this coverage and this lead over the next
    # concept, whatever unknown words surround them. Over the 571 questions of every set, skipping at
    # these values changes no outcome at 5 or at 10,000 articles (a lead of 0.2 loses three at 10,000);
    # the model is asked for a third of the benchmark's questions instead of 61%.
    lexical_sure_coverage: float = 0.5
    lexical_sure_lead: float = 0.3
    # --- excerpt ------------------------------------------------------------------------------------
    max_excerpt_chars: int = 700
    unit_longest: int = 350  # a sentence longer than this is embedded in pieces
    unit_shortest: int = 40  # a sentence shorter than this is embedded with the next


TUNING = Tuning()
