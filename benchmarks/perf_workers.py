"""The measurements taken inside a child process (``run.py --worker KIND``), one function per KIND.

Each worker reads its options (JSON from ``--options``) and the KB_BOT_* environment its parent set,
and returns a dict that run.py prints as one JSON line; the parent adds the child's peak RSS.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import perf_corpus
from perf_common import MODEL, pct


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
    """Latency of up to 200 queries asked one at a time, as the retriever asks them."""
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
