"""Dense index: exact inner-product search, or HNSW with an efSearch tuned at build time, behind one class.

:class:`DenseIndex` builds, searches, saves, loads and describes itself; the two backends differ only in
how :meth:`DenseIndex.build` chooses and what :meth:`DenseIndex.load` restores (HNSW's efSearch).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np

from .manifest import DenseInfo

log = logging.getLogger(__name__)

FILE_NAME = "dense.faiss"
#: Above this many chunks the dense index is HNSW instead of exact search. Measured (benchmarks/results.md):
#: an exact scan of 384-dim vectors costs ~5 ms p50 at 20k chunks and 14-21 ms at 100k, a third of the
#: 30 ms search budget before the query embedding (~17 ms) is counted; HNSW answers in 1-3 ms there.
ANN_THRESHOLD = 50_000
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 200  # 80 -> 200 raised recall@10 by ~3 points at 100k for 2x the build time
#: efSearch values tried in turn at build time until the measured recall@10 reaches ANN_MIN_RECALL.
HNSW_EF_SEARCH_STEPS = (128, 256, 512, 1024)  # below 100 means 100: faiss searches max(efSearch, k)
HNSW_EF_SEARCH = 256  # for generations written before efSearch was tuned and stored in the manifest
ANN_MIN_RECALL = 0.98
#: The build measures recall on pseudo-questions (fragments of sampled chunks through the model's query
#: side), not on users' questions: tune to a little more than the bar.
ANN_RECALL_MARGIN = 0.005
#: Pseudo-questions (or, without a model, leave-one-out chunk vectors) for measuring recall at build time.
ANN_RECALL_SAMPLE = 300
#: Candidates the retriever asks the dense index for (``Settings.candidates``' default); recall is measured at it.
ANN_SEARCH_K = 100
#: Scores closer than this count as ties (float32 rounding; identical vectors of duplicated text).
TIE_TOLERANCE = 1e-5


def recall_with_ties(found_ids: np.ndarray, found_scores: np.ndarray, true_scores: np.ndarray) -> float:
    """Mean recall@10: the share of the ten results found whose exact score reaches the true tenth score.

    Chunk ids alone undercount: duplicated chunks have identical vectors, so the exact top ten is
    one arbitrary pick among ties (two exact searches that merely sum in another order agree on
    only ~98% of ids at 100k chunks of the benchmark corpus, and on 100% with ties counted).
    ``found_scores`` must be exact (HNSW-flat and flat indexes return exact inner products).
    """
    found_scores = np.where(found_ids[:, :10] >= 0, found_scores[:, :10], -np.inf)
    threshold = true_scores[:, 9:10] - TIE_TOLERANCE
    return float(np.mean((found_scores >= threshold).sum(axis=1) / 10))


def measure_ann_recall(index, vectors: np.ndarray, queries: np.ndarray | None = None,
                       sample: int = ANN_RECALL_SAMPLE, k: int = ANN_SEARCH_K, seed: int = 0):
    """A function efSearch -> recall@10 (ties counted) of the HNSW faiss ``index`` against exact search, and the sample size.

    ``queries``: query vectors (from the model's query side, as users ask); without them, leave-one-out
    (chunk vectors, each one's own row excluded), which overestimates: passages are easier than queries.
    The index is searched for ``k`` candidates as the retriever does.
    """
    import faiss

    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(vectors)
    if queries is not None:
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        own = None
    else:
        own = np.sort(np.random.default_rng(seed).choice(len(vectors), size=min(sample, len(vectors)), replace=False))
        queries = np.ascontiguousarray(vectors[own])
    extra = 0 if own is None else 1

    def top10(scores: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if own is None:
            return ids[:, :10], scores[:, :10]
        keep = ids != own[:, None]  # drop each query's own row (its duplicates stay: they are other chunks)
        rows = [(i[m][:10], s[m][:10]) for i, s, m in zip(ids, scores, keep)]
        return np.stack([r[0] for r in rows]), np.stack([r[1] for r in rows])

    true_scores, true_ids = exact.search(queries, 10 + extra)
    _, true_scores = top10(true_scores, true_ids)

    def recall(ef_search: int) -> float:
        index.hnsw.efSearch = ef_search
        scores, ids = index.search(queries, max(k, 10 + extra))
        found_ids, found_scores = top10(scores, ids)
        return recall_with_ties(found_ids, found_scores, true_scores)

    return recall, len(queries)


class DenseIndex:
    """Nearest chunk vectors by inner product (the vectors are unit length, so cosine similarity).

    ``faiss`` is the underlying index (``IndexFlatIP`` or ``IndexHNSWFlat``); ``info`` how it was chosen.
    """

    def __init__(self, faiss_index, info: DenseInfo):
        self.faiss = faiss_index
        self.info = info

    @property
    def kind(self) -> str:
        """"hnsw" or "flat"."""
        return "hnsw" if hasattr(self.faiss, "hnsw") else "flat"

    @property
    def ntotal(self) -> int:
        """How many vectors the index holds (faiss's name, so callers can treat it as a faiss index)."""
        return int(self.faiss.ntotal)

    @property
    def hnsw(self):
        """The HNSW graph parameters (``efSearch``); AttributeError for an exact index, as in faiss."""
        return self.faiss.hnsw

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, row ids) of the ``k`` nearest rows for each query; ids are -1 where fewer exist."""
        return self.faiss.search(np.ascontiguousarray(queries, dtype=np.float32), k)

    def describe(self) -> str:
        """One line for people, e.g. ``hnsw, efSearch 256 (recall@10 0.991 measured on 300 chunks)``."""
        return self.info.describe()

    def save(self, folder: Path) -> None:
        """Write ``dense.faiss`` into a generation folder."""
        import faiss

        faiss.write_index(self.faiss, str(folder / FILE_NAME))

    @classmethod
    def load(cls, folder: Path, info: DenseInfo | None) -> "DenseIndex":
        """Read ``dense.faiss``; an HNSW index gets back the efSearch tuned at build time (older ones: the old default)."""
        import faiss

        index = faiss.read_index(str(folder / FILE_NAME))
        if hasattr(index, "hnsw"):
            index.hnsw.efSearch = int((info.ef_search if info else None) or HNSW_EF_SEARCH)
        return cls(index, info or DenseInfo("hnsw" if hasattr(index, "hnsw") else "flat"))

    @classmethod
    def build(cls, vectors: np.ndarray, ann_threshold: int = ANN_THRESHOLD,
              queries: np.ndarray | None = None) -> "DenseIndex":
        """The dense index for ``vectors`` (normalised).

        Exact inner-product search up to ``ann_threshold`` chunks. Beyond it HNSW, with the smallest
        efSearch of ``HNSW_EF_SEARCH_STEPS`` whose measured recall@10 is at least ``ANN_MIN_RECALL`` plus
        ``ANN_RECALL_MARGIN`` (else the largest, if that reaches the bar itself); when none reaches the bar
        the index stays exact, so recall never drops below it unnoticed. Recall is measured with ``queries``
        (query vectors, see :func:`measure_ann_recall`) when given.
        """
        started = time.perf_counter()
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if len(vectors) <= ann_threshold:
            return cls(_flat(vectors), DenseInfo("flat", build_s=time.perf_counter() - started))
        return _build_hnsw(vectors, queries, started)


def _flat(vectors: np.ndarray):
    import faiss

    index = faiss.IndexFlatIP(vectors.shape[1])
    if len(vectors):
        index.add(vectors)
    return index


def _build_hnsw(vectors: np.ndarray, queries: np.ndarray | None, started: float) -> DenseIndex:
    """Build the graph, then raise efSearch until the sampled recall holds (else fall back to exact)."""
    import faiss

    index = faiss.IndexHNSWFlat(vectors.shape[1], HNSW_M, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    index.add(vectors)
    recall, sampled = measure_ann_recall(index, vectors, queries)
    measured = 0.0
    for ef_search in HNSW_EF_SEARCH_STEPS:
        measured = recall(ef_search)
        log.info("HNSW over %d vectors: efSearch %d gives recall@10 %.4f", len(vectors), ef_search, measured)
        last = ef_search == HNSW_EF_SEARCH_STEPS[-1]
        if measured >= ANN_MIN_RECALL + ANN_RECALL_MARGIN or (last and measured >= ANN_MIN_RECALL):
            index.hnsw.efSearch = ef_search
            return DenseIndex(index, DenseInfo("hnsw", ef_search, round(measured, 4), sampled,
                                               time.perf_counter() - started,
                                               "queries" if queries is not None else "leave-one-out"))
    log.warning("HNSW recall@10 stayed at %.3f (< %.2f) even at efSearch %d over %d vectors: using exact search",
                measured, ANN_MIN_RECALL, HNSW_EF_SEARCH_STEPS[-1], len(vectors))
    return DenseIndex(_flat(vectors), DenseInfo("flat", None, None, sampled, time.perf_counter() - started))


def dense_kind(index) -> str:
    """"hnsw" or "flat" of a DenseIndex or a bare faiss index (benchmarks pass either)."""
    return "hnsw" if hasattr(getattr(index, "faiss", index), "hnsw") else "flat"
