"""`python -m bot bench`: speed, memory and accuracy figures, ours beside the naive approach, as Markdown.

These are figures, not timed tests. For each content directory (the real one, then optionally a synthetic
corpus of N articles per language written by `bot.corpus`) it measures:

- load/index time in-process, `check-content` and start-up to first answer (`ask`) in fresh processes, with
  their peak resident memory;
- steady per-question time split into detection, retrieval and rendering (p50/p99), next to the naive
  approach run on the same questions in the same loop (langdetect + `rapidfuzz.process.extractOne` over
  headings and highlight bullets), and the ratio between the two, which holds on a noisy machine;
- accuracy of both on the question set (questions about the real articles must find *their* sections);
- a reload while a thread keeps answering: answers given during it, their latency, and which snapshot
  each came from;
- the python-telegram-bot `Application` processing message updates with an offline request, on one core.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import html
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import regex
from rapidfuzz import fuzz, process, utils

from bot.bootstrap import make_engine
from bot.domain.content import Article, Library
from bot.domain.engine import Answer, AnswerEngine, Snapshot
from bot.domain.evaluation import Case, read_cases
from bot.domain.language import parse_aliases
from bot.domain.render import LinkResolver, render_html
from bot.environment import Environment
from bot.settings import Settings

REAL_SLUG = "inside-sales"  # the real articles: questions about them must still find them in a big corpus
NAIVE_SCORE_CUTOFF = 60.0  # WRatio below this: the naive approach says "not covered"
APP_UPDATES = 2_000
RELOAD_PACE = 100.0  # questions a second while reloading: over three times what Telegram lets a bot send
BENCH_BOT_USERNAME = "bench_bot"
DEFAULT_QUESTIONS = Path("../shared/eval/dev.tsv")
GOAL_RATIO = 0.5
GOAL_SECONDS = 30.0
GOAL_P99_MS = 20.0
GOAL_MEMORY_MB = 1024.0
GOAL_UPDATES_PER_SECOND = 1_000.0
GOAL_BENCH_MINUTES = 10.0

_BUILTIN = """\
ms\t0,3\tJualan dalaman tu apa?
ms\t1\tApakah penjanaan utama?
ms\t2\tPersatuan industri untuk jualan dalaman
ms\t-\tSiapa perdana menteri Malaysia?
pl\t0,3\tDefinicja sprzedaży wewnętrznej
pl\t1\tNa czym polega generowanie leadów?
pl\t2\tIle płaci State Farm?
pl\t-\tJak zmienić oponę w samochodzie?
ar\t0,3\tعرّف المبيعات الداخلية
ar\t1\tما هو إنشاء العملاء المحتملين؟
ar\t2\tلماذا يحب المستهلكون الشراء عبر الإنترنت؟
ar\t-\tكيف أغير إطار السيارة؟
hi\t0,3\tआंतरिक बिक्री की परिभाषा
hi\t1\tलीड जनरेशन क्या है?
hi\t2\tलोग ऑनलाइन खरीदारी क्यों पसंद करते हैं?
hi\t-\tकार का टायर कैसे बदलें?
ru\t0,3\tОпределение внутренних продаж
ru\t1\tЧто такое лидогенерация?
ru\t2\tПочему покупатели любят покупать онлайн?
ru\t-\tКак поменять колесо у машины?
"""


# --- small helpers -----------------------------------------------------------------------------------------


def builtin_cases() -> list[Case]:
    cases: list[Case] = []
    for number, line in enumerate(_BUILTIN.splitlines(), start=1):
        lang, sections, question = line.split("\t")
        wanted = None if sections == "-" else frozenset(int(s) for s in sections.split(","))
        cases.append(Case(number, lang, wanted, question))
    return cases


def load_questions(path: Path | None) -> tuple[list[Case], str]:
    if path is not None:
        return read_cases(path), str(path)
    if DEFAULT_QUESTIONS.is_file():
        return read_cases(DEFAULT_QUESTIONS), str(DEFAULT_QUESTIONS)
    return builtin_cases(), "built-in list"


def percentiles_ms(values_ns: Sequence[int]) -> tuple[float, float]:
    if not values_ns:
        return (float("nan"), float("nan"))
    p50, p99 = np.percentile(np.asarray(values_ns, dtype=np.float64), [50, 99])
    return float(p50) / 1e6, float(p99) / 1e6


def rss_mb() -> float:
    """The process's resident memory now (Linux), else its peak."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return peak_rss_mb()


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def machine_description() -> list[tuple[str, str]]:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    memory = ""
    with contextlib.suppress(OSError, ValueError, IndexError):
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f"{kib / 2**20:.1f} GiB"
    import rapidfuzz
    import telegram

    return [
        ("CPU", cpu),
        ("cores usable", str(usable)),
        ("memory", memory or "unknown"),
        ("OS", f"{platform.system()} {platform.release()}"),
        ("Python", f"{platform.python_implementation()} {platform.python_version()}"),
        ("libraries", f"python-telegram-bot {telegram.__version__}, rapidfuzz {rapidfuzz.__version__}, "
                      f"numpy {np.__version__}"),
    ]  # fmt: skip


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    cells = [[str(c) for c in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(cells[0], widths, strict=True)) + " |"]
    lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    lines += ["| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |" for row in cells[1:]]
    return lines


def _ms(value: float) -> str:
    return f"{value:.3f}" if value < 10 else f"{value:.1f}"


def _share(pair: tuple[int, int]) -> str:
    hits, total = pair
    return f"{hits}/{total} ({100 * hits / total:.0f}%)" if total else "n/a"


# --- fresh processes -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProcessFigures:
    seconds: float
    peak_rss_mb: float
    returncode: int
    output: str


def run_process(arguments: Sequence[str]) -> ProcessFigures:
    """Run `python -m bot ...` in a fresh interpreter: wall time, its own peak RSS (wait4), its output."""
    environment = dict(os.environ)
    root = str(Path(__file__).resolve().parents[1])
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [root, environment.get("PYTHONPATH")]))
    with tempfile.TemporaryFile() as output:
        started = time.perf_counter()
        child = subprocess.Popen(
            [sys.executable, "-m", "bot", *arguments], stdout=output, stderr=subprocess.STDOUT, env=environment
        )
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        output.seek(0)
        text = output.read().decode("utf-8", "replace")
    return ProcessFigures(seconds, usage.ru_maxrss / 1024, child.returncode, text)


# --- the naive approach ------------------------------------------------------------------------------------


class NaiveBaseline:
    """The design card taken literally: seeded langdetect (id -> ms), then rapidfuzz `extractOne` with
    WRatio over the headings and highlight bullets of that language; below NAIVE_SCORE_CUTOFF, declined."""

    def __init__(self, library: Library, aliases: Mapping[str, Sequence[str]]) -> None:
        from langdetect import DetectorFactory

        DetectorFactory.seed = 0
        self.aliases = aliases
        self.choices: dict[str, list[str]] = {}
        self.targets: dict[str, list[tuple[str, int]]] = {}
        for article in library.articles:
            choices = self.choices.setdefault(article.lang, [])
            targets = self.targets.setdefault(article.lang, [])
            for section in article.sections:
                choices.append(section.heading)
                targets.append((article.slug, section.index))
                if section.is_summary:
                    for block in section.blocks:
                        choices.append(block.text)
                        targets.append((article.slug, section.index))

    def detect(self, question: str) -> str | None:
        from langdetect import detect
        from langdetect.lang_detect_exception import LangDetectException

        try:
            code = str(detect(question)).split("-")[0]
        except LangDetectException:
            return None
        if code in self.choices:
            return code
        return next((alias for alias in self.aliases.get(code, ()) if alias in self.choices), code)

    def search(self, question: str, lang: str | None) -> tuple[str, int] | None:
        choices = self.choices.get(lang or "")
        if not choices or lang is None:
            return None
        found = process.extractOne(
            question, choices, scorer=fuzz.WRatio, processor=utils.default_process, score_cutoff=NAIVE_SCORE_CUTOFF
        )
        return self.targets[lang][found[2]] if found else None


# --- per question -----------------------------------------------------------------------------------------


@dataclass
class QuestionFigures:
    samples: dict[str, list[int]] = field(default_factory=dict)  # name -> nanoseconds
    methods: Counter[str] = field(default_factory=Counter)  # how our detector settled the language
    messages: int = 0

    def add(self, name: str, nanoseconds: int) -> None:
        self.samples.setdefault(name, []).append(nanoseconds)

    def p(self, name: str) -> tuple[float, float]:
        return percentiles_ms(self.samples.get(name, []))


def measure_questions(
    engine: AnswerEngine, naive: NaiveBaseline, cases: Sequence[Case], repeat: int, links: LinkResolver
) -> QuestionFigures:
    """Ours and the naive approach, interleaved question by question so both see the same machine.

    Per question: the whole answer as the bot gives it (engine.answer + render_html), then its parts
    called directly with the same inputs (detector, retriever, render), then the naive approach.
    The first pass runs on cold caches and is reported on its own; the steady figures are the others.
    """
    figures = QuestionFigures()
    snap = engine.snapshot
    clock = time.perf_counter_ns
    for number in range(max(1, repeat)):
        steady = number > 0 or repeat <= 1
        for case in cases:
            question = case.question
            t0 = clock()
            answer = engine.answer(question)
            t1 = clock()
            messages = render_html(answer, links)
            t2 = clock()
            detection = snap.detector.detect(question, ())
            t3 = clock()
            snap.retriever.search(question, detection.lang)
            t4 = clock()
            n0 = clock()
            lang = naive.detect(question)
            n1 = clock()
            naive.search(question, lang)
            n2 = clock()
            if not steady:
                figures.add("cold total", t2 - t0)
                figures.add("cold naive", n2 - n0)
                continue
            figures.add("total", t2 - t0)
            figures.add("answer", t1 - t0)
            figures.add("rendering", t2 - t1)
            figures.add("detection", t3 - t2)
            figures.add("retrieval", t4 - t3)
            figures.add("naive detection", n1 - n0)
            figures.add("naive retrieval", n2 - n1)
            figures.add("naive total", n2 - n0)
            figures.methods[detection.method] += 1
            figures.messages += len(messages)
    return figures


# --- accuracy ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Accuracy:
    language: tuple[int, int]
    sections: tuple[int, int]
    declined: tuple[int, int]
    right: Mapping[int, bool]  # case line -> right answer (language and section, or declined)
    got: Mapping[int, str]  # case line -> what was answered


def _tally(
    cases: Sequence[Case], language_ok: Mapping[int, bool], ok: Mapping[int, bool], got: Mapping[int, str]
) -> Accuracy:
    on_topic = [c for c in cases if c.sections is not None]
    off_topic = [c for c in cases if c.sections is None]
    return Accuracy(
        (sum(language_ok[c.line] for c in cases), len(cases)),
        (sum(ok[c.line] for c in on_topic), len(on_topic)),
        (sum(ok[c.line] for c in off_topic), len(off_topic)),
        {c.line: ok[c.line] and language_ok[c.line] for c in cases},
        dict(got),
    )


def _right_section(case: Case, slug: str | None, index: int | None) -> bool:
    if case.sections is None:
        return slug is None
    return slug == REAL_SLUG and index in case.sections


def accuracy_ours(engine: AnswerEngine, cases: Sequence[Case]) -> Accuracy:
    language_ok: dict[int, bool] = {}
    ok: dict[int, bool] = {}
    got: dict[int, str] = {}
    for case in cases:
        answer = engine.answer(case.question)
        slug = answer.article.slug if answer.answered and answer.article else None
        index = answer.section.index if answer.answered and answer.section else None
        language_ok[case.line] = answer.language == case.lang
        ok[case.line] = _right_section(case, slug, index)
        got[case.line] = f"{answer.language} {slug}#{index}" if slug else f"{answer.language} declined"
    return _tally(cases, language_ok, ok, got)


def accuracy_naive(naive: NaiveBaseline, cases: Sequence[Case]) -> Accuracy:
    language_ok: dict[int, bool] = {}
    ok: dict[int, bool] = {}
    got: dict[int, str] = {}
    for case in cases:
        lang = naive.detect(case.question)
        target = naive.search(case.question, lang)
        language_ok[case.line] = lang == case.lang
        ok[case.line] = _right_section(case, *(target or (None, None)))
        got[case.line] = f"{lang} {target[0]}#{target[1]}" if target else f"{lang} declined"
    return _tally(cases, language_ok, ok, got)


# --- reload while answering ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReloadFigures:
    seconds: float
    pace: float | None
    answers_during: int  # answers asked and given while reload() ran
    from_old_during: int  # ... of which from the old snapshot
    answers_total: int
    from_old: int
    from_new: int
    violations: int  # an answer from another snapshot than the one in place before and after it
    mixed: int  # an answer mixing articles of both snapshots
    errors: int
    latency_p50_ms: float
    latency_max_ms: float
    swapped: bool


def _snapshot_articles(snapshot: Snapshot) -> set[int]:
    return {id(article) for article in snapshot.library.articles}


def _answer_articles(answer: Answer) -> list[Article]:
    found = [answer.article] if answer.article is not None else []
    found += [ref.article for ref in (*answer.alternatives, *answer.suggestions)]
    return found


def reload_while_answering(
    engine: AnswerEngine,
    questions: Sequence[str],
    *,
    settle_seconds: float = 0.1,
    pace_per_second: float | None = RELOAD_PACE,
) -> ReloadFigures:
    """A thread answers questions while the main thread reloads; every answer is traced to the snapshot its
    articles belong to (by identity), and checked against the snapshot in place around it.

    The questions come at most `pace_per_second` (a pause of 1/pace after each answer; None: back to back).
    Back to back is a worst case no bot sees (Telegram caps a bot at about 30 messages a second): a thread
    that never waits keeps the GIL, and each of the reload's thousands of file reads waits up to the switch
    interval to get it back."""
    old = engine.snapshot
    old_ids = _snapshot_articles(old)
    # start, end, source, consistent, mixed, the old snapshot still in place after the answer
    records: list[tuple[int, int, str, bool, bool, bool]] = []
    errors: list[BaseException] = []
    stop = threading.Event()
    clock = time.perf_counter_ns

    def answer_forever() -> None:
        number = 0
        while not stop.is_set():
            if pace_per_second:
                # A gap after each answer, not a schedule to keep: a thread that falls behind and answers
                # back to back to catch up would hold the GIL and starve the reload it is meant to watch.
                time.sleep(1 / pace_per_second)
            question = questions[number % len(questions)]
            number += 1
            before = engine.snapshot
            start = clock()
            try:
                answer = engine.answer(question)
            except Exception as exc:  # counted and reported: the point is that there are none
                errors.append(exc)
                continue
            end = clock()
            after = engine.snapshot
            ids = {id(a) for a in _answer_articles(answer)}
            in_old, in_new = bool(ids & old_ids), bool(ids - old_ids)
            source = "old" if in_old and not in_new else "new" if in_new and not in_old else "none"
            consistent = before is not after or source == "none" or (source == "old") == (before is old)
            records.append((start, end, source, consistent, in_old and in_new, after is old))

    worker = threading.Thread(target=answer_forever, name="bench-answering", daemon=True)
    worker.start()
    time.sleep(settle_seconds)
    began = clock()
    engine.reload()
    ended = clock()
    time.sleep(settle_seconds)
    stop.set()
    worker.join()
    new = engine.snapshot
    during = [r for r in records if r[0] >= began and r[1] <= ended and r[5]]  # asked and answered before the swap
    latencies = [r[1] - r[0] for r in during]
    p50 = percentiles_ms(latencies)[0] if latencies else 0.0
    return ReloadFigures(
        seconds=(ended - began) / 1e9,
        pace=pace_per_second,
        answers_during=len(during),
        from_old_during=sum(1 for r in during if r[2] == "old"),
        answers_total=len(records),
        from_old=sum(1 for r in records if r[2] == "old"),
        from_new=sum(1 for r in records if r[2] == "new"),
        violations=sum(1 for r in records if not r[3]),
        mixed=sum(1 for r in records if r[4]),
        errors=len(errors),
        latency_p50_ms=p50,
        latency_max_ms=max(latencies, default=0) / 1e6,
        swapped=new is not old,
    )


# --- the python-telegram-bot Application -------------------------------------------------------------------

BOT_USER: dict[str, Any] = {
    "id": 7_000_000_001, "is_bot": True, "first_name": "Inside Sales", "username": BENCH_BOT_USERNAME,
    "can_join_groups": True, "can_read_all_group_messages": False, "supports_inline_queries": False,
}  # fmt: skip
_TAG = regex.compile(r"<[^>]+>")


def _offline_request_class() -> type[Any]:
    from telegram.request import BaseRequest, RequestData

    class OfflineRequest(BaseRequest):
        """Answers the Bot API locally with the JSON Telegram would send: no network at all."""

        def __init__(self) -> None:
            self.calls: Counter[str] = Counter()
            self._message_id = 0

        @property
        def read_timeout(self) -> float | None:
            return 5.0

        async def initialize(self) -> None:
            return None

        async def shutdown(self) -> None:
            return None

        async def do_request(
            self,
            url: str,
            method: str,
            request_data: RequestData | None = None,
            read_timeout: object = None,
            write_timeout: object = None,
            connect_timeout: object = None,
            pool_timeout: object = None,
        ) -> tuple[int, bytes]:
            endpoint = url.rstrip("/").rsplit("/", 1)[-1]
            self.calls[endpoint] += 1
            parameters = request_data.parameters if request_data is not None else {}
            result: Any = True
            if endpoint == "getMe":
                result = BOT_USER
            elif endpoint == "getUpdates":
                result = []
            elif endpoint in ("sendMessage", "editMessageText"):
                self._message_id += 1
                chat_id = parameters.get("chat_id", 1)
                result = {
                    "message_id": self._message_id,
                    "date": int(time.time()),
                    "chat": {"id": int(str(chat_id)), "type": "private", "first_name": "User"},
                    "from": BOT_USER,
                    "text": html.unescape(_TAG.sub("", str(parameters.get("text", "")))),
                }
            return 200, json.dumps({"ok": True, "result": result}, ensure_ascii=False).encode("utf-8")

    return OfflineRequest


@dataclass(frozen=True)
class AppRun:
    label: str
    updates: int
    seconds: float
    messages_sent: int
    note: str = ""

    @property
    def per_second(self) -> float:
        return self.updates / self.seconds if self.seconds else float("inf")


@dataclass(frozen=True)
class AppFigures:
    runs: tuple[AppRun, ...]
    pinned: str

    @property
    def main(self) -> AppRun:
        """The real application when it could be built, else the bench's own handler."""
        return next((r for r in self.runs if r.label.startswith("real") and r.seconds > 0), self.runs[0])


@contextlib.contextmanager
def one_core() -> Iterator[str]:
    """Pin the calling thread (the event loop's) to one core for the measurement, where the OS allows."""
    if not hasattr(os, "sched_setaffinity"):
        yield "not pinned"
        return
    before = os.sched_getaffinity(0)
    core = min(before)
    try:
        os.sched_setaffinity(0, {core})
    except OSError:
        yield "not pinned"
        return
    try:
        yield f"pinned to core {core}"
    finally:
        os.sched_setaffinity(0, before)


def _update_payloads(cases: Sequence[Case], count: int) -> list[dict[str, Any]]:
    now = int(time.time())
    payloads: list[dict[str, Any]] = []
    for number in range(count):
        case = cases[number % len(cases)]
        user = 100_000 + number % 97
        person = {"id": user, "is_bot": False, "first_name": "User", "language_code": case.lang}
        chat = {"id": user, "type": "private", "first_name": "User"}
        message = {"message_id": number + 1, "date": now, "chat": chat, "from": person, "text": case.question}
        payloads.append({"update_id": number + 1, "message": message})
    return payloads


async def _timed(application: Any, payloads: Sequence[dict[str, Any]]) -> float:
    from telegram import Update

    started = time.perf_counter()
    for payload in payloads:
        await application.process_update(Update.de_json(payload, application.bot))
    return time.perf_counter() - started


async def _bench_handler_run(
    engine: AnswerEngine | None, links: LinkResolver, payloads: Sequence[dict[str, Any]]
) -> tuple[float, int]:
    """A minimal Application: one MessageHandler answering with engine + render_html + reply_text (or,
    without an engine, replying "ok": what the framework itself costs)."""
    from telegram import LinkPreviewOptions, Update
    from telegram.constants import ParseMode
    from telegram.ext import Application, ContextTypes, MessageHandler, filters

    request = _offline_request_class()()
    application = Application.builder().token("123456:BENCH-offline").request(request).updater(None).build()
    no_preview = LinkPreviewOptions(is_disabled=True)

    async def on_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None or message.text is None:
            return
        if engine is None:
            await message.reply_text("ok")
            return
        user = update.effective_user
        answer = engine.answer(message.text, hints=(user.language_code if user else None,))
        for text in render_html(answer, links):
            await message.reply_text(text, parse_mode=ParseMode.HTML, link_preview_options=no_preview)

    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, on_message))
    await application.initialize()
    try:
        seconds = await _timed(application, payloads)
    finally:
        await application.shutdown()
    return seconds, request.calls["sendMessage"]


async def _real_app_run(
    engine: AnswerEngine, settings: Settings, payloads: Sequence[dict[str, Any]]
) -> tuple[float, int]:
    """bot/telegram/app.py's Application with all its handlers (question log in an in-memory store, no
    rate limiter: that one waits for Telegram's limits, which is the network's share, not ours)."""
    from pydantic import SecretStr

    from bot.store import Store
    from bot.telegram.app import build_application

    app_settings = settings.model_copy(
        update={
            "telegram_bot_token": SecretStr("123456:BENCH-offline"),
            "user_rate_limit": 10**9,  # 2,000 questions from 97 users: the per-user flood control would refuse
            "bot_username": settings.bot_username or BENCH_BOT_USERNAME,
        }
    )
    request = _offline_request_class()()
    store = Store.open(":memory:")
    application = build_application(app_settings, engine, store, request=request, rate_limiter=False)
    await application.initialize()
    try:
        if application.post_init is not None:
            await application.post_init(application)
        seconds = await _timed(application, payloads)
    finally:
        await application.shutdown()
        store.close()
    return seconds, request.calls["sendMessage"]


def application_throughput(
    engine: AnswerEngine, cases: Sequence[Case], links: LinkResolver, settings: Settings, updates: int = APP_UPDATES
) -> AppFigures:
    payloads = _update_payloads(cases, updates)
    warm = payloads[: min(50, len(payloads))]
    runs: list[AppRun] = []
    with one_core() as pinned:
        try:
            asyncio.run(_real_app_run(engine, settings, warm))
            seconds, sent = asyncio.run(_real_app_run(engine, settings, payloads))
            runs.append(AppRun("real application (bot/telegram/app.py handlers)", updates, seconds, sent))
        except Exception as exc:  # not there yet, or its wiring changed: say so, measure the rest
            runs.append(AppRun("real application (bot/telegram/app.py)", 0, 0.0, 0, f"not measured: {exc!r}"))
        asyncio.run(_bench_handler_run(engine, links, warm))
        seconds, sent = asyncio.run(_bench_handler_run(engine, links, payloads))
        runs.append(AppRun("minimal handler (engine.answer + render_html + reply_text)", updates, seconds, sent))
        seconds, sent = asyncio.run(_bench_handler_run(None, links, payloads))
        runs.append(AppRun("echo handler (the framework alone)", updates, seconds, sent))
    return AppFigures(tuple(runs), pinned)


# --- one content directory ----------------------------------------------------------------------------------


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
    ours: Accuracy | None = None
    naive: Accuracy | None = None
    reload: ReloadFigures | None = None
    app: AppFigures | None = None

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
    app_updates: int = APP_UPDATES,
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

    progress(f"[bench] {name}: reload while answering ...")
    figures.reload = reload_while_answering(engine, [c.question for c in cases])
    gc.collect()

    progress(f"[bench] {name}: Application throughput, {app_updates} updates ...")
    figures.app = application_throughput(engine, cases, links, settings, app_updates)
    return figures


def format_content(figures: ContentFigures) -> list[str]:
    f = figures
    assert f.check is not None
    assert f.startup is not None
    assert f.imports is not None
    assert f.questions is not None
    assert f.ours is not None
    assert f.naive is not None
    assert f.reload is not None
    assert f.app is not None
    q = f.questions
    lines = [f"## Content: {f.name}", "",
             f"`{f.directory}`: {f.articles:,} articles, {f.sections:,} sections, languages {', '.join(f.languages)}",
             "", "### Load and start-up", ""]  # fmt: skip
    load = f"{f.load_seconds:.2f} s"
    rows_load: list[list[object]] = [
        ["load/index (in-process, build_snapshot)", load, f"+{f.index_rss_mb:.0f} MiB resident"],
        ["`check-content` (fresh process)", f"{f.check.seconds:.2f} s", f"{f.check.peak_rss_mb:.0f} MiB"],
        [
            "start-up to first answer (`ask`, fresh process)",
            f"{f.startup.seconds:.2f} s",
            f"{f.startup.peak_rss_mb:.0f} MiB",
        ],
        ["of which interpreter + imports (`--help`)", f"{f.imports.seconds:.2f} s", f"{f.imports.peak_rss_mb:.0f} MiB"],
        ["naive index (headings + bullets lists)", f"{f.naive_build_seconds:.3f} s", ""],
    ]
    lines += table(["measure", "time", "peak RSS"], rows_load)
    for process_figures, label in ((f.check, "check-content"), (f.startup, "ask")):
        if process_figures.returncode != 0:
            lines.append(f"\n**{label} failed** (exit {process_figures.returncode}): {process_figures.output[-500:]}")
    total = len(q.samples.get("total", []))
    lines += ["", f"### Per question (steady: {total} answers; ms)", ""]
    rows: list[list[object]] = []
    for label, key in (
        ("detection (detector.detect)", "detection"),
        ("retrieval (retriever.search)", "retrieval"),
        ("rendering (render_html)", "rendering"),
        ("**ours: answer + render**", "total"),
        ("naive detection (langdetect)", "naive detection"),
        ("naive retrieval (extractOne WRatio)", "naive retrieval"),
        ("**naive total**", "naive total"),
        ("first pass, cold caches: ours", "cold total"),
        ("first pass, cold caches: naive", "cold naive"),
    ):
        p50, p99 = q.p(key)
        rows.append([label, _ms(p50), _ms(p99)])
    lines += table(["step", "p50", "p99"], rows)
    p50_ratio = q.p("total")[0] / q.p("naive total")[0]
    p99_ratio = q.p("total")[1] / q.p("naive total")[1]
    methods = ", ".join(f"{m} {n}" for m, n in q.methods.most_common())
    lines += [
        "",
        f"ratio ours/naive: p50 {p50_ratio:.2f}, p99 {p99_ratio:.2f} (goal on five articles: <= {GOAL_RATIO})",
        f"our detector settled the language by: {methods}",
    ]
    lines += ["", "### Accuracy (questions about the real articles must find *their* sections)", ""]
    lines += table(
        ["approach", "language", "sections (on-topic)", "declined (off-topic)"],
        [
            ["ours", _share(f.ours.language), _share(f.ours.sections), _share(f.ours.declined)],
            ["naive", _share(f.naive.language), _share(f.naive.sections), _share(f.naive.declined)],
        ],
    )
    r = f.reload
    pace = f"at most {r.pace:.0f} questions/s" if r.pace else "questions back to back"
    lines += ["", f"### Reload while answering ({pace} from another thread)", ""]
    lines += table(
        ["measure", "value"],
        [
            ["reload (build + swap) time", f"{r.seconds:.2f} s"],
            ["answers given during the reload", f"{r.answers_during} ({r.from_old_during} from the old snapshot)"],
            ["latency during the reload p50 / max", f"{_ms(r.latency_p50_ms)} / {_ms(r.latency_max_ms)} ms"],
            ["answers in all (old / new snapshot)", f"{r.answers_total} ({r.from_old} / {r.from_new})"],
            ["answers not from the snapshot in place", str(r.violations)],
            ["answers mixing both snapshots", str(r.mixed)],
            ["errors", str(r.errors)],
            ["snapshot swapped", "yes" if r.swapped else "NO"],
        ],
    )
    a = f.app
    lines += ["", f"### Application throughput (offline BaseRequest, no network; event loop {a.pinned})", ""]
    lines += table(
        ["Application", "updates", "time", "updates/s", "sendMessage calls"],
        [
            [r.label, r.updates, f"{r.seconds:.2f} s", f"{r.per_second:,.0f}", r.messages_sent]
            if not r.note
            else [r.label, "", "", r.note, ""]
            for r in a.runs
        ],
    )
    return lines


# --- the whole run ------------------------------------------------------------------------------------------


def _goal(label: str, ok: bool, value: str) -> list[str]:
    return [label, value, "met" if ok else "**MISSED**"]


def summary(real: ContentFigures, large: ContentFigures | None, cases: Sequence[Case], seconds: float) -> list[str]:
    rows: list[list[str]] = []
    rows.append(_goal(f"{real.name}: ours/naive p50 <= {GOAL_RATIO}", real.ratio <= GOAL_RATIO,
                      f"{real.ratio:.2f}"))  # fmt: skip
    for figures in (real, large):
        if figures is None:
            continue
        assert figures.app is not None
        assert figures.reload is not None
        main = figures.app.main
        which = main.label.split(" (")[0]
        rows.append(
            _goal(
                f"{figures.name}: {which} >= {GOAL_UPDATES_PER_SECOND:,.0f} updates/s",
                main.per_second >= GOAL_UPDATES_PER_SECOND,
                f"{main.per_second:,.0f}/s",
            )
        )
        r = figures.reload
        ok = r.answers_during > 0 and r.errors == 0 and r.violations == 0 and r.mixed == 0 and r.swapped
        rows.append(
            _goal(
                f"{figures.name}: answers during reload, from the old snapshot, atomic swap",
                ok,
                f"{r.answers_during} answers, {r.violations + r.mixed} inconsistent, {r.errors} errors",
            )
        )
    if large is not None:
        assert large.check is not None
        assert large.startup is not None
        assert large.questions is not None
        assert large.ours is not None
        assert real.ours is not None
        rows.append(
            _goal(
                f"{large.name}: check-content <= {GOAL_SECONDS:.0f} s",
                large.check.seconds <= GOAL_SECONDS,
                f"{large.check.seconds:.1f} s",
            )
        )
        rows.append(
            _goal(
                f"{large.name}: start-up to first answer <= {GOAL_SECONDS:.0f} s",
                large.startup.seconds <= GOAL_SECONDS,
                f"{large.startup.seconds:.1f} s",
            )
        )
        p99 = large.questions.p("total")[1]
        rows.append(
            _goal(f"{large.name}: per-question p99 <= {GOAL_P99_MS:.0f} ms", p99 <= GOAL_P99_MS, f"{p99:.1f} ms")
        )
        memory = max(large.startup.peak_rss_mb, large.check.peak_rss_mb)
        rows.append(
            _goal(
                f"{large.name}: memory <= 1 GB (peak RSS, fresh process)",
                memory <= GOAL_MEMORY_MB,
                f"{memory:,.0f} MiB",
            )
        )
        same = large.ours.sections[0] >= real.ours.sections[0] and large.ours.declined[0] >= real.ours.declined[0]
        rows.append(_goal(f"{large.name}: as right as on {real.name}", same,
                          f"sections {large.ours.sections[0]} vs {real.ours.sections[0]}, "
                          f"declined {large.ours.declined[0]} vs {real.ours.declined[0]}"))  # fmt: skip
    rows.append(_goal(f"benchmark under {GOAL_BENCH_MINUTES:.0f} minutes", seconds <= GOAL_BENCH_MINUTES * 60,
                      f"{seconds / 60:.1f} min"))  # fmt: skip
    lines = ["## Summary", "", *table(["goal", "measured", "verdict"], rows)]
    if large is not None and large.ours and real.ours:
        worse = [c for c in cases if real.ours.right.get(c.line) and not large.ours.right.get(c.line)]
        better = [c for c in cases if large.ours.right.get(c.line) and not real.ours.right.get(c.line)]
        if worse or better:
            lines += ["", f"Questions answered differently on {large.name} than on {real.name}:"]
        for case in worse:
            want = "decline" if case.sections is None else "section " + ",".join(map(str, sorted(case.sections)))
            lines.append(f"- worse, line {case.line} [{case.lang}] want {want}, got {large.ours.got[case.line]} "
                         f"(was {real.ours.got[case.line]}): {case.question}")  # fmt: skip
        for case in better:
            lines.append(f"- better, line {case.line} [{case.lang}] got {large.ours.got[case.line]}: {case.question}")
    return lines


def run_benchmarks(args: argparse.Namespace, settings: Settings, env: Environment) -> int:
    started = time.perf_counter()
    content: Path = args.content or settings.content_dir
    cases, source = load_questions(args.questions)
    repeat = max(1, int(args.repeat))
    per_language = int(args.articles_per_language or 0)
    app_updates = int(getattr(args, "app_updates", APP_UPDATES))
    on = sum(1 for c in cases if c.sections is not None)
    env.out("# Benchmark: `python -m bot bench`")
    env.out()
    env.out(f"Questions: {source} ({len(cases)}: {on} on-topic, {len(cases) - on} off-topic), {repeat} passes.")
    env.out()
    env.out("## Machine")
    env.out()
    for line in table(["what", "value"], machine_description()):
        env.out(line)
    env.out()
    real = bench_content(f"{content}", content, cases, repeat, settings, env, app_updates=app_updates)
    for line in format_content(real):
        env.out(line)
    env.out()
    large: ContentFigures | None = None
    if per_language > 0:
        from bot.corpus import generate_corpus

        with tempfile.TemporaryDirectory(prefix="bench-corpus-") as temporary:
            env.err(f"[bench] generating {per_language} articles per language in {temporary} ...")
            stats = generate_corpus(temporary, per_language, seeds_dir=content)
            name = f"synthetic, {stats.articles:,} articles"
            large = bench_content(name, Path(temporary), cases, repeat, settings, env, app_updates=app_updates)
            words = ", ".join(f"{s.lang} {s.distinct_words:,}" for s in stats.languages)
            lines = format_content(large)
            lines[3:3] = [
                "",
                f"Generated by `bot.corpus` in {stats.seconds:.1f} s: {stats.articles:,} articles "
                f"({stats.bytes_written / 1e6:.1f} MB), the real articles among them; distinct words per "
                f"language: {words}.",
            ]
            for line in lines:
                env.out(line)
            env.out()
    for line in summary(real, large, cases, time.perf_counter() - started):
        env.out(line)
    env.out()
    env.out(f"Benchmark wall time: {time.perf_counter() - started:.0f} s; this process's peak RSS "
            f"{peak_rss_mb():,.0f} MiB.")  # fmt: skip
    return 0
