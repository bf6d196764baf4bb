"""The command line: `python -m bot ask|check-content|eval|run|backup|bench|export-questions`.

`ask` is a contract other tools rely on: `--json` prints one object per question, one per line.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path

from bot.bootstrap import EXIT_USAGE, exit_status, make_engine
from bot.domain.engine import AnswerEngine
from bot.domain.evaluation import evaluate, format_report, read_cases
from bot.domain.render import LinkResolver, answer_json, render_text
from bot.domain.search.semantic import Progress
from bot.environment import Environment
from bot.settings import Settings, check_content_dir, check_data_dir
from bot.store import backup_database, database_path

APP_UPDATES = 2_000  # `bench --app-updates`: enough for a steady rate, a few seconds per Application

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

    backup = commands.add_parser("backup", help="copy the store (DATA_DIR) consistently, also while the bot runs")
    backup.add_argument("file", type=Path, help="where to write the copy (a directory: a timestamped file in it)")
    export = commands.add_parser("export-questions", help="write taught phrasings into the articles' front matter")
    export.add_argument("directory", nargs="?", type=Path, help="default: $CONTENT_DIR or content/")
    export.add_argument("--patch", action="store_true", help="print a unified diff instead of writing the files")

    bench = commands.add_parser("bench", help="measure speed and memory (prints figures)")
    bench.add_argument("--content", type=Path, help="content directory to measure (default: content/)")
    bench.add_argument(
        "--articles-per-language",
        type=int,
        default=0,
        help="also generate and measure a synthetic corpus of this many articles per language",
    )
    bench.add_argument("--questions", type=Path, help="question TSV (default: ../shared/eval/dev.tsv if present)")
    bench.add_argument(
        "--chat-questions",
        type=Path,
        help="questions as people type them in chats (default: ../shared/eval/chat-dev.tsv if present)",
    )
    bench.add_argument("--repeat", type=int, default=20, help="passes over the questions")
    bench.add_argument(
        "--app-updates",
        type=int,
        default=APP_UPDATES,
        help=f"message updates each Application processes in the throughput figures (default {APP_UPDATES:,})",
    )
    return parser


def main(argv: Sequence[str] | None = None, env: Environment | None = None) -> int:
    env = env or Environment()
    args = build_parser().parse_args(argv)
    return exit_status(env, lambda: _dispatch(args, env))


def _dispatch(args: argparse.Namespace, env: Environment) -> int:
    settings = env.settings
    if args.command in _CONTENT_SETTING:
        check_content_dir(*_content_source(args, settings))
    if args.command == "ask":
        return _ask(args, settings, env)
    if args.command == "check-content":
        return _check_content(args.directory or settings.content_dir, settings, env)
    if args.command == "eval":
        return _eval(args, settings, env)
    if args.command == "export-questions":
        from bot.export_questions import run_export  # reads the store and writes content: only here

        return run_export(args.directory or settings.content_dir, args.patch, settings, env)
    if args.command == "run":
        from bot.telegram.app import run  # python-telegram-bot loads only for the bot: `ask` starts faster

        return run(settings, env)
    if args.command == "backup":
        return _backup(args.file, settings, env)
    if args.command == "bench":
        from bot.bench.cli import run_benchmarks  # developer tooling: not loaded by the other commands

        return run_benchmarks(args, settings, env)
    return EXIT_USAGE


# Commands that load content, and the option that overrides CONTENT_DIR for each.
_CONTENT_SETTING = {"ask": "--content", "eval": "--content", "check-content": "DIR"}


def _content_source(args: argparse.Namespace, settings: Settings) -> tuple[Path, str]:
    override: Path | None = args.directory if args.command == "check-content" else args.content
    return (override, _CONTENT_SETTING[args.command]) if override else (settings.content_dir, "CONTENT_DIR")


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
    engine = make_engine(settings, args.content)
    env.out(format_report(evaluate(engine, read_cases(args.file))))
    return 0


def _backup(target: Path, settings: Settings, env: Environment) -> int:
    source = database_path(settings.data_dir)
    check_data_dir(settings.data_dir)
    if not source.is_file():
        env.err(f"nothing to back up: there is no store at {source} (DATA_DIR={str(settings.data_dir)!r})")
        return 1
    if target.is_dir():
        target = target / f"bot-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.sqlite3"
    if target.resolve() == source.resolve():
        env.err(f"{target} is the store itself: choose another file")
        return 2
    if not target.parent.is_dir():
        env.err(f"cannot write {target}: {target.parent} is not a directory")
        return 2
    try:
        report = backup_database(source, target)
    except sqlite3.Error as exc:
        env.err(f"backup of {source} failed: {exc}")
        return 1
    env.out(
        f"backed up {source} to {report.target}: {report.pages} pages, {report.bytes:,} bytes, integrity ok "
        f"({report.seconds:.2f} s)"
    )
    return 0
