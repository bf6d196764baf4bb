"""The figures as Markdown: one section per content directory and a summary against the goals."""

from __future__ import annotations

from collections.abc import Sequence

from bot.bench.content import ContentFigures
from bot.bench.questions import described
from bot.domain.evaluation import Case, Outcome, Report

GOAL_RATIO = 0.5
GOAL_SECONDS = 30.0
GOAL_P99_MS = 20.0
GOAL_MEMORY_MB = 1024.0
GOAL_UPDATES_PER_SECOND = 1_000.0
GOAL_BENCH_MINUTES = 10.0
GOAL_HYBRID_P99_MS = 40.0  # hybrid per question (issue 8)
GOAL_HYBRID_SHARE = 0.5  # ours per question at most half the e5-only peer's, first pass
GOAL_SCALE_POINTS = 3.0  # right sections at 10,000 articles within this many points of five


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
    lines = [
        f"## Content: {f.name}",
        "",
        f"`{f.directory}`: {f.articles:,} articles, {f.sections:,} sections, languages {', '.join(f.languages)}",
        "",
        "### Load and start-up",
        "",
    ]
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
    lines += _semantic_lines(f)
    a = f.app
    lines += ["", f"### Application throughput (offline BaseRequest, no network; event loop {a.pinned})", ""]
    lines += table(
        ["Application", "updates", "time", "updates/s", "sendMessage calls"],
        [[r.label, r.updates, f"{r.seconds:.2f} s", f"{r.per_second:,.0f}", r.messages_sent] for r in a.runs],
    )
    return lines


def _semantic_lines(f: ContentFigures) -> list[str]:
    lines = ["", f"### Meaning (answered: {f.mode})", ""]
    if f.chat is not None:
        chat = f.chat
        lines.append(
            f"ours on the chat-style questions: sections {_share(chat.sections)}, "
            f"declined {_share(chat.declined)}, language {_share(chat.language)}"
        )
    s = f.semantic
    if s is None:
        return [*lines, "", "no embedding model, or its vectors were not ready: no hybrid figures."]
    lines += [
        "",
        f"Model {s.model}; {s.units:,} passages embedded. Ours asked the model for "
        f"{s.embedded_share:.0%} of the questions on the first pass (the rest were settled by their words).",
        "",
    ]
    rows = []
    for label, key in (
        ("ours, first pass (question-vector cache emptied every pass)", "ours first pass"),
        ("ours, steady", "ours steady"),
        ("e5-only (every question embedded, closest passage wins)", "e5-only"),
    ):
        p50, p99 = s.p(key)
        rows.append([label, _ms(s.mean_ms(key)), _ms(p50), _ms(p99)])
    lines += table(["per question (engine.answer), ms", "mean", "p50", "p99"], rows)
    lines += ["", *table(
        ["question set", "ours: sections", "ours: declined", "e5-only: sections", "e5-only: declined"],
        [[name, _share(s.ours[name].sections), _share(s.ours[name].declined),
          _share(s.peer[name].sections), _share(s.peer[name].declined)] for name in s.ours],
    )]  # fmt: skip
    return lines


def _points(report: Report | None) -> float:
    hits, total = report.sections if report else (0, 0)
    return 100 * hits / total if total else 0.0


def _by_line(report: Report) -> dict[int, Outcome]:
    return {outcome.case.line: outcome for outcome in report.outcomes}


def _right(outcome: Outcome | None) -> bool:
    """The right language and the right section (or declined when it should be)."""
    return outcome is not None and outcome.ok and outcome.language_ok


def _goal(label: str, ok: bool, value: str) -> list[str]:
    return [label, value, "met" if ok else "**MISSED**"]


def summary(real: ContentFigures, large: ContentFigures | None, cases: Sequence[Case], seconds: float) -> list[str]:
    rows: list[list[str]] = []
    rows.append(_goal(f"{real.name}: ours/naive p50 <= {GOAL_RATIO}", real.ratio <= GOAL_RATIO, f"{real.ratio:.2f}"))
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
        rows.append(
            _goal(
                f"{large.name}: as right as on {real.name}",
                same,
                f"sections {large.ours.sections[0]} vs {real.ours.sections[0]}, "
                f"declined {large.ours.declined[0]} vs {real.ours.declined[0]}",
            )
        )
    if real.semantic is not None:
        s = real.semantic
        share = s.mean_ms("ours first pass") / max(s.mean_ms("e5-only"), 1e-9)
        rows.append(
            _goal(
                f"{real.name}: hybrid per question <= {GOAL_HYBRID_SHARE:.0%} of e5-only's (first pass, mean)",
                share <= GOAL_HYBRID_SHARE,
                f"{share:.2f} ({s.mean_ms('ours first pass'):.1f} vs {s.mean_ms('e5-only'):.1f} ms)",
            )
        )
    for figures in (real, large):
        if figures is not None and figures.semantic is not None:
            p99 = max(figures.semantic.p("ours first pass")[1], figures.semantic.p("ours steady")[1])
            rows.append(
                _goal(
                    f"{figures.name}: hybrid p99 <= {GOAL_HYBRID_P99_MS:.0f} ms",
                    p99 <= GOAL_HYBRID_P99_MS,
                    f"{p99:.1f} ms",
                )
            )
    if large is not None:
        for label, five, many in (("dev", real.ours, large.ours), ("chat-dev", real.chat, large.chat)):
            if five is None or many is None:
                continue
            drop = _points(five) - _points(many)
            rows.append(
                _goal(
                    f"{large.name} ({large.mode}): {label} right sections within {GOAL_SCALE_POINTS:.0f} points "
                    f"of {real.name} ({real.mode})",
                    drop <= GOAL_SCALE_POINTS,
                    f"{_points(many):.1f}% vs {_points(five):.1f}%",
                )
            )
    rows.append(
        _goal(
            f"benchmark under {GOAL_BENCH_MINUTES:.0f} minutes",
            seconds <= GOAL_BENCH_MINUTES * 60,
            f"{seconds / 60:.1f} min",
        )
    )
    lines = ["## Summary", "", *table(["goal", "measured", "verdict"], rows)]
    if large is not None and large.ours and real.ours:
        was, now = _by_line(real.ours), _by_line(large.ours)
        worse = [c for c in cases if _right(was.get(c.line)) and not _right(now.get(c.line))]
        better = [c for c in cases if _right(now.get(c.line)) and not _right(was.get(c.line))]
        if worse or better:
            lines += ["", f"Questions answered differently on {large.name} than on {real.name}:"]
        for case in worse:
            want = "decline" if case.sections is None else "section " + ",".join(map(str, sorted(case.sections)))
            lines.append(
                f"- worse, line {case.line} [{case.lang}] want {want}, got {described(now[case.line])} "
                f"(was {described(was[case.line])}): {case.question}"
            )
        for case in better:
            lines.append(f"- better, line {case.line} [{case.lang}] got {described(now[case.line])}: {case.question}")
    return lines
