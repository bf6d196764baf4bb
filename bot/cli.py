"""The command line: `python -m bot ask|check-content|eval|run|bench`.

`ask` is a contract other tools rely on: `--json` prints one object per question, one per line.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from collections.abc import Sequence
from pathlib import Path

from bot.domain.content import ContentError
from bot.domain.engine import AnswerEngine, SemanticSetup
from bot.domain.language import parse_aliases
from bot.domain.render import LinkResolver, answer_json, render_text
from bot.domain.search.semantic import Progress, load_embedder
from bot.environment import Environment
from bot.settings import Settings

PROGRESS_EVERY_SECONDS = 5.0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Inside-sales answer bot.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    ask = commands.add_parser("ask", help="answer a question from the command line (no Telegram needed)")
    ask.add_argument("question", nargs="+", help="the question, or '-' to read one question per line from stdin")
    ask.add_argument("--json", action="store_true", help="one JSON object per answer, one per line")
    ask.add_argument("--lang", help="answer in this language instead of detecting it (ISO 639-1)")
    ask.add_argument("--content", type=Path, help="content directory (default: $CONTENT_DIR or content/)")

    check = commands.add_parser("check-content", help="validate a content directory")
    check.add_argument("directory", nargs="?", type=Path, help="default: $CONTENT_DIR or content/")

    evaluate = commands.add_parser("eval", help="score detection and retrieval on a TSV of questions")
    evaluate.add_argument("file", type=Path)
    evaluate.add_argument("--content", type=Path)

    commands.add_parser("run", help="start the Telegram bot (needs TELEGRAM_BOT_TOKEN)")

    bench = commands.add_parser("bench", help="measure speed and memory (prints figures)")
    bench.add_argument("--content", type=Path, help="content directory to measure (default: content/)")
    bench.add_argument(
        "--articles-per-language",
        type=int,
        default=0,
        help="also generate and measure a synthetic corpus of this many articles per language",
    )
    bench.add_argument("--questions", type=Path, help="question TSV (default: ../shared/eval/dev.tsv if present)")
    bench.add_argument("--repeat", type=int, default=20, help="passes over the questions")
    return parser


def main(argv: Sequence[str] | None = None, env: Environment | None = None) -> int:
    env = env or Environment()
    args = build_parser().parse_args(argv)
    settings = env.settings
    try:
        if args.command == "ask":
            return _ask(args, settings, env)
        if args.command == "check-content":
            return _check_content(args.directory or settings.content_dir, settings, env)
        if args.command == "eval":
            return _eval(args, settings, env)
        if args.command == "run":
            from bot.telegram.app import run

            return run(settings, env)
        if args.command == "bench":
            from bot.bench import run_benchmarks

            return run_benchmarks(args, settings, env)
    except ContentError as exc:
        env.err(f"content rejected ({len(exc.problems)} problem{'s' * (len(exc.problems) != 1)}):")
        for problem in exc.problems:
            env.err(str(problem))
        return 1
    except KeyboardInterrupt:
        return 130
    return 2


def make_engine(settings: Settings, content_dir: Path | None = None, *, embed: bool = True) -> AnswerEngine:
    """The engine for a process that is starting: large directories load on every core (no threads run
    yet, so forking worker processes is safe). `embed=False` leaves the passage vectors to the caller
    (the bot computes them in the background and answers lexically meanwhile)."""
    embedder, status = load_embedder(settings.semantic, settings.semantic_model)
    if not status.enabled:
        logging.getLogger(__name__).warning("answering lexically only: %s", status.detail)
    return AnswerEngine.from_directory(
        content_dir or settings.content_dir,
        default_language=settings.default_language,
        aliases=parse_aliases(settings.language_aliases),
        parallel=True,
        semantic=SemanticSetup(embedder, status, settings.data_dir / "vectors"),
        default_content_language=settings.default_content_language,
        embed=embed,
    )


def _ask(args: argparse.Namespace, settings: Settings, env: Environment) -> int:
    engine = make_engine(settings, args.content)  # loaded once, however many questions follow
    links = LinkResolver(engine.library.slugs, settings.bot_username, settings.link_base_url)
    questions = (line.strip() for line in env.stdin) if args.question == ["-"] else iter([" ".join(args.question)])
    for question in questions:  # every line, a blank one too: answers line up with the questions
        answer = engine.answer(question, lang=args.lang)
        if args.json:
            env.out(json.dumps(answer_json(answer, links), ensure_ascii=False))
        else:
            env.out(render_text(answer, links))
            if args.question == ["-"]:
                env.out()
    return 0


def _check_content(directory: Path, settings: Settings, env: Environment) -> int:
    started = time.perf_counter()
    engine = make_engine(settings, directory, embed=False)
    report = engine.report()
    env.out(
        f"{directory}: OK — {report.articles} articles, {report.sections} sections, "
        f"languages: {', '.join(report.languages)} (loaded and indexed in {time.perf_counter() - started:.2f} s)"
    )
    for article in report.detected:
        env.out(f"note: {article.path}: language not declared, detected as {article.lang!r}; set 'lang' to be sure")
    _embed_with_progress(engine, env)
    return 0


def _embed_with_progress(engine: AnswerEngine, env: Environment) -> None:
    """Compute (or read from the cache) the passage vectors, saying how far it got every few seconds."""
    status = engine.semantic.status
    if not status.enabled:
        env.out(f"meaning: lexical only — {status.detail}")
        return
    started = time.perf_counter()
    shown = [started]

    def report(progress: Progress) -> None:
        now = time.perf_counter()
        if now - shown[0] >= PROGRESS_EVERY_SECONDS:
            shown[0] = now
            env.err(f"embedding passages: {progress.done:,}/{progress.total:,}")

    engine.embed(report=report)
    dense = engine.snapshot.retriever.dense
    total, embedded = (len(dense.units), dense.embedded) if dense else (0, 0)
    env.out(
        f"meaning: {status.detail}; {total:,} passages, {embedded:,} embedded now "
        f"({total - embedded:,} from the cache) in {time.perf_counter() - started:.1f} s"
    )


def _eval(args: argparse.Namespace, settings: Settings, env: Environment) -> int:
    from bot.domain.evaluation import evaluate, format_report, read_cases

    engine = make_engine(settings, args.content)
    env.out(format_report(evaluate(engine, read_cases(args.file))))
    return 0
