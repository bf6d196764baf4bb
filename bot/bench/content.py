"""Everything measured on one content directory."""

from __future__ import annotations

import gc
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.bench.naive import NaiveBaseline
from bot.bench.offline import BENCH_BOT_USERNAME
from bot.bench.questions import QuestionFigures, accuracy_naive, accuracy_ours, measure_questions
from bot.bench.reload import ReloadFigures, reload_while_answering
from bot.bench.semantic import SemanticFigures, measure_semantic
from bot.bench.throughput import AppFigures, application_throughput
from bot.bench.timing import ProcessFigures, rss_mb, run_process
from bot.bootstrap import make_engine
from bot.domain.evaluation import Case, Report
from bot.domain.language import parse_aliases
from bot.domain.render import LinkResolver
from bot.environment import Environment
from bot.settings import Settings


@dataclass
class ContentFigures:
    name: str
    directory: Path
    articles: int = 0
    sections: int = 0
    languages: tuple[str, ...] = ()
    load_seconds: float = 0.0
    index_rss_mb: float = 0.0
    check: ProcessFigures | None = None
    startup: ProcessFigures | None = None
    imports: ProcessFigures | None = None
    naive_build_seconds: float = 0.0
    questions: QuestionFigures | None = None
    ours: Report | None = None
    naive: Report | None = None
    reload: ReloadFigures | None = None
    app: AppFigures | None = None
    chat: Report | None = None  # ours on the chat-style questions
    mode: str = "lexical"  # what answered: "hybrid" once the passage vectors are ready
    semantic: SemanticFigures | None = None

    @property
    def ratio(self) -> float:
        assert self.questions is not None
        return self.questions.p("total")[0] / self.questions.p("naive total")[0]


def bench_content(
    name: str,
    directory: Path,
    cases: Sequence[Case],
    repeat: int,
    settings: Settings,
    env: Environment,
    *,
    app_updates: int,
    chat_cases: Sequence[Case] = (),
) -> ContentFigures:
    figures = ContentFigures(name, directory)
    progress = env.err
    progress(f"[bench] {name}: loading and indexing {directory} ...")
    gc.collect()
    before = rss_mb()
    started = time.perf_counter()
    engine = make_engine(settings, directory)
    figures.load_seconds = time.perf_counter() - started
    gc.collect()
    figures.index_rss_mb = rss_mb() - before
    report = engine.report()
    figures.articles, figures.sections, figures.languages = report.articles, report.sections, report.languages

    progress(f"[bench] {name}: check-content and start-up in fresh processes ...")
    figures.check = run_process(["check-content", str(directory)])
    first = next((c.question for c in cases if c.sections is not None), cases[0].question)
    figures.startup = run_process(["ask", "--content", str(directory), first])
    figures.imports = run_process(["--help"])

    progress(f"[bench] {name}: {len(cases)} questions x {repeat}, ours and naive side by side ...")
    started = time.perf_counter()
    naive = NaiveBaseline(engine.library, parse_aliases(settings.language_aliases))
    figures.naive_build_seconds = time.perf_counter() - started
    naive.detect("warm up the langdetect profiles")
    links = LinkResolver(engine.library.slugs, settings.bot_username or BENCH_BOT_USERNAME, settings.link_base_url)
    figures.questions = measure_questions(engine, naive, cases, repeat, links)
    figures.ours = accuracy_ours(engine, cases)
    figures.naive = accuracy_naive(naive, cases)
    del naive
    figures.mode = engine.mode
    if chat_cases:
        figures.chat = accuracy_ours(engine, chat_cases)
    if engine.mode == "hybrid":
        progress(f"[bench] {name}: hybrid beside e5-only ...")
        sets = {"dev": cases, "chat": chat_cases} if chat_cases else {"dev": cases}
        figures.semantic = measure_semantic(engine, sets, min(repeat, 3))

    progress(f"[bench] {name}: reload while answering ...")
    figures.reload = reload_while_answering(engine, [c.question for c in cases])
    gc.collect()

    progress(f"[bench] {name}: Application throughput, {app_updates} updates ...")
    figures.app = application_throughput(engine, cases, links, settings, app_updates)
    return figures
