"""The corpus generator and the benchmark run end to end on tiny corpora (their output, not their speed)."""

from __future__ import annotations

import argparse
import io
import threading
import time
from pathlib import Path

import pytest

from bot.bench import throughput
from bot.bench.cli import run_benchmarks
from bot.bench.questions import builtin_cases
from bot.bench.reload import reload_while_answering
from bot.bootstrap import make_engine
from bot.cli import build_parser
from bot.corpus import SYNTHETIC_PREFIX, generate_corpus, synthetic_slug
from bot.corpus import main as corpus_main
from bot.domain.content import load_library
from bot.domain.render import LinkResolver
from bot.environment import Environment
from bot.settings import Settings

SEEDS = Path(__file__).resolve().parents[1] / "content"
LANGUAGES = ("ar", "hi", "ms", "pl", "ru")


def settings(*, semantic: bool = False) -> Settings:
    """Lexical unless asked: embedding generated corpora would cost minutes per test."""
    return Settings(_env_file=None, semantic=semantic)  # type: ignore[call-arg]


@pytest.fixture(scope="module")
def tiny_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("corpus")
    generate_corpus(out, 3, seeds_dir=SEEDS)
    return out


def test_generator_writes_valid_articles_with_the_real_ones_verbatim(tiny_corpus: Path) -> None:
    library = load_library(tiny_corpus)
    assert library.languages == LANGUAGES
    assert len(library.articles) == 15
    for lang in LANGUAGES:
        real = SEEDS / lang / "inside-sales.md"
        assert (tiny_corpus / lang / "inside-sales.md").read_bytes() == real.read_bytes()
        slugs = sorted(a.slug for a in library.in_language(lang))
        assert slugs == ["inside-sales", synthetic_slug(lang, 1), synthetic_slug(lang, 2)]
    assert {len(library.translations(slug)) for slug in library.slugs} == {1, 5}  # made-up topics: one language
    for article in library.articles:
        if not article.slug.startswith(SYNTHETIC_PREFIX):
            continue
        assert article.title
        assert article.description
        assert article.keywords
        assert 4 <= len(article.sections) <= 6  # 3-5 sections and the highlights
        highlights = article.sections[-1]
        assert highlights.is_summary
        assert len(highlights.blocks) == 3
        text = (tiny_corpus / article.lang / f"{article.slug}.md").read_text(encoding="utf-8")
        assert text.startswith("---\nkeywords: ")
        assert "\ntitle: " in text
        assert "\ndescription: " in text


def test_generator_keeps_each_language_in_its_script(tiny_corpus: Path) -> None:
    library = load_library(tiny_corpus)
    ranges = {"ar": ("\u0600", "\u06ff"), "hi": ("\u0900", "\u097f"), "ru": ("\u0400", "\u04ff")}
    for article in library.articles:
        if article.lang in ranges and article.slug.startswith(SYNTHETIC_PREFIX):
            low, high = ranges[article.lang]
            letters = [ch for ch in article.sections[0].text if ch.isalpha()]
            assert sum(low <= ch <= high for ch in letters) > 0.9 * len(letters)


def test_generator_is_deterministic_and_runs_from_the_command_line(
    tmp_path: Path, tiny_corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "again"
    assert corpus_main([str(out), "--articles-per-language", "3", "--seeds", str(SEEDS)]) == 0
    assert "15 articles" in capsys.readouterr().out
    for path in sorted(tiny_corpus.rglob("*.md")):
        assert (out / path.relative_to(tiny_corpus)).read_bytes() == path.read_bytes()
    # A smaller corpus written over a larger one leaves no stale synthetic articles behind.
    generate_corpus(out, 2, seeds_dir=SEEDS)
    assert len(load_library(out).articles) == 10


def test_bench_command_is_wired() -> None:
    args = build_parser().parse_args(["bench", "--articles-per-language", "3", "--repeat", "2"])
    assert args.articles_per_language == 3
    assert args.repeat == 2


@pytest.mark.timeout(600)  # every step for real, the embedding model included: slow on a busy 2-core machine
def test_bench_runs_end_to_end_on_a_tiny_corpus(tmp_path: Path) -> None:
    questions = tmp_path / "questions.tsv"
    questions.write_text(
        "# lang\tsections\tquestion\n"
        "ms\t0,3\tJualan dalaman tu apa?\n"
        "ru\t1\tЧто такое лидогенерация?\n"
        "pl\t-\tJak zmienić oponę w samochodzie?\n",
        encoding="utf-8",
    )
    out, err = io.StringIO(), io.StringIO()
    env = Environment(stdout=out, stderr=err, settings_factory=lambda: settings(semantic=True))
    args = argparse.Namespace(
        content=SEEDS, articles_per_language=2, questions=questions, chat_questions=None, repeat=2, app_updates=30
    )
    assert run_benchmarks(args, env.settings, env) == 0
    report = out.getvalue()
    for label in (
        "## Machine",
        "CPU",
        "Python",
        "## Content: ",
        "### Load and start-up",
        "load/index",
        "`check-content`",
        "start-up to first answer",
        "peak RSS",
        "### Per question",
        "detection (detector.detect)",
        "retrieval (retriever.search)",
        "rendering (render_html)",
        "ours: answer + render",
        "naive detection (langdetect)",
        "naive retrieval (extractOne WRatio)",
        "ratio ours/naive",
        "### Accuracy",
        "### Meaning (answered: hybrid)",
        "e5-only (every question embedded, closest passage wins)",
        "hybrid per question <=",
        "### Reload while answering",
        "answers given during the reload",
        "### Application throughput",
        "updates/s",
        "## Content: synthetic, 10 articles",
        "Generated by `bot.corpus`",
        "## Summary",
        "benchmark under 10 minutes",
    ):
        assert label in report, label
    assert "failed** (exit" not in report  # the fresh `check-content` and `ask` processes worked


def test_answers_continue_from_the_old_snapshot_during_a_reload(tmp_path: Path) -> None:
    generate_corpus(tmp_path, 20, seeds_dir=SEEDS)  # 100 articles: a reload takes a noticeable while
    engine = make_engine(settings(), tmp_path)
    old = engine.snapshot
    old_ids = {id(article) for article in old.library.articles}
    questions = [case.question for case in builtin_cases()]
    reloading = threading.Event()
    reloaded = threading.Event()
    stop = threading.Event()
    errors: list[BaseException] = []
    # (asked while reloading, snapshot in place before, after, which snapshot the answer's articles are from)
    records: list[tuple[bool, bool, bool, str]] = []

    def answer_forever() -> None:
        number = 0
        while not stop.is_set():
            during = reloading.is_set() and not reloaded.is_set()
            before = engine.snapshot is old
            try:
                answer = engine.answer(questions[number % len(questions)])
            except Exception as exc:
                errors.append(exc)
                continue
            after = engine.snapshot is old
            articles = [answer.article] if answer.article else []
            articles += [ref.article for ref in (*answer.alternatives, *answer.suggestions)]
            sources = {"old" if id(a) in old_ids else "new" for a in articles}
            records.append((during, before, after, "/".join(sorted(sources))))
            number += 1

    worker = threading.Thread(target=answer_forever, daemon=True)
    worker.start()
    deadline = time.monotonic() + 10
    while len(records) < 20 and time.monotonic() < deadline:
        time.sleep(0.01)
    reloading.set()
    engine.reload()
    reloaded.set()
    count = len(records)
    while len(records) < count + 20 and time.monotonic() < deadline + 10:
        time.sleep(0.01)
    stop.set()
    worker.join(timeout=10)

    assert not errors
    assert engine.snapshot is not old  # swapped
    during = [r for r in records if r[0] and r[2]]
    assert len(during) > 0, "no answers were given while reloading"
    assert all(r[3] == "old" for r in records if r[1] and r[2])  # old snapshot before and after: old content
    assert all(r[3] == "new" for r in records if not r[1])  # asked after the swap: new content
    assert all("/" not in r[3] for r in records)  # never a mix of both

    figures = reload_while_answering(engine, questions, settle_seconds=0.05)
    assert figures.swapped
    assert figures.answers_during > 0
    assert figures.from_old_during == figures.answers_during
    assert figures.errors == figures.violations == figures.mixed == 0


def test_a_broken_application_fails_the_benchmark(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real application's throughput is the figure that matters: no "not measured" row hides a break."""

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("handlers could not be registered")

    monkeypatch.setattr(throughput, "build_application", broken)
    engine = make_engine(settings(), SEEDS)
    links = LinkResolver(engine.library.slugs, "bench_bot", None)
    with pytest.raises(RuntimeError, match="handlers could not be registered"):
        throughput.application_throughput(engine, builtin_cases(), links, settings(), updates=5)


def test_app_updates_is_a_documented_option() -> None:
    parser = build_parser()
    assert parser.parse_args(["bench"]).app_updates == 2_000
    assert parser.parse_args(["bench", "--app-updates", "30"]).app_updates == 30
