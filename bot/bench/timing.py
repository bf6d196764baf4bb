"""Clocks and meters: percentiles, resident memory, the machine, fresh processes, one pinned core."""

from __future__ import annotations

import contextlib
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rapidfuzz
import telegram

PROJECT_ROOT = Path(__file__).resolve().parents[2]  # where `python -m bot` finds this checkout's package


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
    return [
        ("CPU", cpu),
        ("cores usable", str(usable)),
        ("memory", memory or "unknown"),
        ("OS", f"{platform.system()} {platform.release()}"),
        ("Python", f"{platform.python_implementation()} {platform.python_version()}"),
        (
            "libraries",
            f"python-telegram-bot {telegram.__version__}, rapidfuzz {rapidfuzz.__version__}, numpy {np.__version__}",
        ),
    ]


@dataclass(frozen=True)
class ProcessFigures:
    seconds: float
    peak_rss_mb: float
    returncode: int
    output: str


def run_process(arguments: Sequence[str]) -> ProcessFigures:
    """Run `python -m bot ...` in a fresh interpreter: wall time, its peak memory, its output.

    The peak is the larger of the process's own peak RSS (wait4: it, or any one child on its own) and the
    peak of its whole tree's proportional set size, sampled while it runs: workers it forks add up, so
    memory moved into them is counted, and pages they share with it are counted once."""
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), environment.get("PYTHONPATH")]))
    with tempfile.TemporaryFile() as output:
        started = time.perf_counter()
        child = subprocess.Popen(
            [sys.executable, "-m", "bot", *arguments], stdout=output, stderr=subprocess.STDOUT, env=environment
        )
        tree_peak = 0.0
        while True:
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                break
            sampled = time.perf_counter()
            tree_peak = max(tree_peak, tree_memory_mb(child.pid))
            # Reading a large tree's memory takes tens of milliseconds: a fraction of a core at most.
            time.sleep(max(TREE_SAMPLE_SECONDS, 3 * (time.perf_counter() - sampled)))
        seconds = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        output.seek(0)
        text = output.read().decode("utf-8", "replace")
    return ProcessFigures(seconds, max(usage.ru_maxrss / 1024, tree_peak), child.returncode, text)


TREE_SAMPLE_SECONDS = 0.02


def tree_memory_mb(root: int) -> float:
    """The resident memory of a process and its descendants now (Linux; 0 elsewhere): a lone process's
    RSS, else the sum of their proportional set sizes, which counts the pages a fork shares once (and is
    slower to read: only while there are children)."""
    tree: list[Path] = []
    pending = [root]
    while pending:
        proc = Path(f"/proc/{pending.pop()}")
        tree.append(proc)
        with contextlib.suppress(OSError):
            for task in (proc / "task").iterdir():
                with contextlib.suppress(OSError, ValueError):
                    pending.extend(int(child) for child in (task / "children").read_text().split())
    total = 0.0
    for proc in tree:
        with contextlib.suppress(OSError, ValueError, IndexError, StopIteration):
            if len(tree) == 1:
                total += int((proc / "statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
            else:
                rollup = (proc / "smaps_rollup").read_text().splitlines()
                total += next(int(line.split()[1]) for line in rollup if line.startswith("Pss:")) / 1024
    return total


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
