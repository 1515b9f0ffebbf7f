"""Dense index by size: exact below the threshold, HNSW above it with efSearch tuned to recall@10 >= 0.98."""

from __future__ import annotations

import json

import faiss
import numpy as np
import pytest

from kb_bot.store import dense as store
from kb_bot.embedding import load_embedder
from kb_bot.indexing import build_index
from kb_bot.retrieval import Retriever
from kb_bot.store import ANN_MIN_RECALL, DenseIndex, load_index, read_manifest


def clustered_vectors(n: int, dim: int = 48, clusters: int = 40, seed: int = 0) -> np.ndarray:
    """Normalised vectors around a few centres, like sentence embeddings of related articles."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, dim))
    vectors = centres[rng.integers(0, clusters, n)] + 0.6 * rng.normal(size=(n, dim))
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def recall_at_10(index, vectors: np.ndarray, queries: np.ndarray) -> float:
    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(vectors)
    _, truth = exact.search(queries, 10)
    _, found = index.search(queries, 100)  # the retriever asks for its candidates, then keeps the best
    return float(np.mean([len(set(t) & set(f[:10])) / 10 for t, f in zip(truth.tolist(), found.tolist())]))


def test_recall_counts_ties_among_duplicated_chunks_but_not_worse_results():
    # Exact search ranked chunk 9 tenth; chunk 11 is the same text (identical vector, identical score).
    true_scores = np.array([[0.99, 0.98, 0.97, 0.96, 0.95, 0.94, 0.93, 0.92, 0.91, 0.90]], dtype=np.float32)
    twin = np.array([[0, 1, 2, 3, 4, 5, 6, 7, 8, 11]])
    assert store.recall_with_ties(twin, true_scores.copy(), true_scores) == 1.0
    # A chunk scoring below the tenth (by more than float rounding) is a miss; so is an empty slot (-1).
    lower = true_scores.copy()
    lower[0, 9] = 0.90 - 10 * store.TIE_TOLERANCE
    assert store.recall_with_ties(twin, lower, true_scores) == pytest.approx(0.9)
    empty = twin.copy()
    empty[0, 9] = -1
    assert store.recall_with_ties(empty, true_scores.copy(), true_scores) == pytest.approx(0.9)


def test_exact_search_up_to_the_threshold():
    vectors = clustered_vectors(500)
    dense = DenseIndex.build(vectors, ann_threshold=500)
    assert dense.info.kind == dense.kind == "flat" and dense.info.ef_search is None
    assert isinstance(dense.faiss, faiss.IndexFlatIP) and dense.ntotal == 500


def test_hnsw_above_the_threshold_keeps_recall_on_new_queries():
    vectors = clustered_vectors(4000)
    dense = DenseIndex.build(vectors, ann_threshold=1000)
    index, info = dense.faiss, dense.info
    assert info.kind == dense.kind == "hnsw" and hasattr(index, "hnsw")
    assert info.ef_search in store.HNSW_EF_SEARCH_STEPS and index.hnsw.efSearch == info.ef_search
    assert info.recall_at_10 >= ANN_MIN_RECALL + store.ANN_RECALL_MARGIN and info.sample == store.ANN_RECALL_SAMPLE
    # Queries the build never saw (perturbed vectors) are found as well as the build measured.
    rng = np.random.default_rng(7)
    queries = vectors[rng.choice(len(vectors), 200, replace=False)] + 0.3 * rng.normal(size=(200, vectors.shape[1]))
    queries = (queries / np.linalg.norm(queries, axis=1, keepdims=True)).astype(np.float32)
    assert recall_at_10(index, vectors, queries) >= ANN_MIN_RECALL


def test_hnsw_that_cannot_reach_the_recall_bar_falls_back_to_exact(monkeypatch, caplog):
    monkeypatch.setattr(store, "ANN_MIN_RECALL", 1.01)  # unreachable: every efSearch step fails
    dense = DenseIndex.build(clustered_vectors(1500), ann_threshold=100)
    assert dense.info.kind == "flat" and isinstance(dense.faiss, faiss.IndexFlatIP) and dense.ntotal == 1500
    assert "using exact search" in caplog.text


def test_efsearch_is_the_smallest_step_that_clears_the_bar_with_its_margin(monkeypatch):
    vectors = clustered_vectors(3000)
    dense = DenseIndex.build(vectors, ann_threshold=1000)
    info = dense.info
    recall, _ = store.measure_ann_recall(dense.faiss, vectors)
    steps = store.HNSW_EF_SEARCH_STEPS
    chosen = steps.index(info.ef_search)
    assert recall(info.ef_search) == pytest.approx(info.recall_at_10, abs=1e-4)
    assert all(recall(ef) < ANN_MIN_RECALL + store.ANN_RECALL_MARGIN for ef in steps[:chosen])
    # With a bar only the largest step reaches, that step is used rather than giving up on HNSW.
    monkeypatch.setattr(store, "ANN_MIN_RECALL", recall(steps[-1]) - 0.001)
    monkeypatch.setattr(store, "ANN_RECALL_MARGIN", 0.5)
    info = DenseIndex.build(vectors, ann_threshold=1000).info
    assert info.kind == "hnsw" and info.ef_search == steps[-1]


def test_index_built_with_hnsw_records_and_restores_its_efsearch(fake_settings):
    report = build_index(fake_settings, lambda: load_embedder("fake"), full=True, ann_threshold=0)
    manifest = read_manifest(fake_settings.index)
    dense = manifest.dense
    assert manifest.dense_kind == "hnsw" and dense.kind == "hnsw"
    assert dense.ef_search in store.HNSW_EF_SEARCH_STEPS and dense.recall_at_10 >= ANN_MIN_RECALL
    assert dense.sample == report.chunks  # a small index is sampled whole
    assert dense.recall_queries == "queries"  # measured with pseudo-questions through the model's query side

    loaded = load_index(fake_settings.index)
    assert loaded.dense.kind == "hnsw" and loaded.dense.hnsw.efSearch == dense.ef_search
    hits = Retriever(loaded, load_embedder("fake")).search("上街区 融资 银企对接", top_k=3)
    assert hits and "融资" in hits[0].chunk.text


def test_status_shows_the_dense_index_and_its_recall(fake_settings, capsys):
    from kb_bot.cli import main

    build_index(fake_settings, lambda: load_embedder("fake"), full=True, ann_threshold=0)
    args = ["--documents", str(fake_settings.documents), "--index", str(fake_settings.index), "--model", "fake"]
    assert main(["status", *args]) == 0
    out = capsys.readouterr().out
    assert "dense index hnsw" in out and "recall@10" in out
    assert main(["status", "--json", *args]) == 0
    assert json.loads(capsys.readouterr().out)["dense"]["kind"] == "hnsw"
