"""Retrieval: hybrid dense (FAISS) + keyword (BM25) search, fused into one ranking.

Fusion methods (chosen by measurement, see README "Fusion" and ``benchmarks/fusion_choice.py``):

* ``minmax`` (default): each list's scores are min-max normalised over its candidates
  (dense: cosine; keyword: BM25 divided by its best score), then
  ``dense_weight * dense + (1 - dense_weight) * keyword``; a chunk missing from a list scores 0 there.
  Dense weight 0.7 stays (re-checked on held-out data split by document, ``benchmarks/fusion_choice.py``).
  Two ways of giving BM25 more say won on questions generated from the regulations' articles but did not
  carry over to questions people wrote: a dense weight of 0.4, and moving BM25's first passage up into the
  top 3 (``keyword_first_within``, off by default, kept for that benchmark). The generated questions repeat
  their article's wording; on CMRC the gain was within noise, and both cost the seed or regulation questions
  ranks (benchmarks/results.md, "Retrieval on held-out data").
  Flooring the dense list's range (``dense_floor``, off by default; ninth session) was measured and not shipped:
  min-max stretches the best and worst candidate cosines to 1 and 0, so a flat list (0.853, 0.852, 0.851 ...: e5
  found nothing close) gives its chance first passage the full dense weight over BM25's first; divided by at least
  0.06, a flat list adds little and the keywords decide. It retrieved better on every set (validation: policy r@1
  0.822 → 0.847, CMRC MRR 0.944 → 0.947; citizens' questions, fact in the top 3: blind 0.771 → 0.810, written
  0.733 → 0.747), but answered fewer questions with their fact after the refit (blind 34 → 30 of 205, written
  91 → 89 of 585, seed 21 → 19) and refused more written ones (10 → 14 "not found"); with the old model, written
  91 → 82. See README "Fusion".
  A keyword match that dominates is kept among the three passages the answer step reads (``keyword_dominance``,
  twentieth session): BM25's first passage scoring 1.5 times its second or more holds a phrase the others do not
  (高空抛物 is word for word in one item of the property regulation, BM25 15.9 against 3.85, and the question came
  back "not found" with four fine clauses of other regulations above it). Chosen among 1.5, 2, 3 and 5 on the
  validation split (policy r@3 0.905 → 0.925, MRR 0.871 → 0.876; CMRC r@3 0.983 → 0.989); test: policy r@3
  0.856 → 0.892, CMRC 0.986 → 0.995; the hand-written regulation and seed ranks did not move.
* ``rrf``: weighted reciprocal rank fusion, ``w / (60 + rank)``.
* ``dense`` / ``keyword``: one list alone (for comparison).

After fusion, passages of a repealed document are dropped and those of a superseded one (an older
version of a regulation, see legal.py) never rank above the best passage of the version that replaces it
(:func:`prefer_current`); the answer step never gives them as "answered".
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Iterator, Sequence

import numpy as np

from .chunking import Chunk
from .embedding import Embedder
from .settings import FUSION_METHODS
from .store import LoadedIndex

RRF_K = 60


@dataclass(frozen=True)
class FusionConfig:
    """How dense and keyword results are combined."""

    method: str = "minmax"
    dense_weight: float = 0.7
    candidates: int = 50
    keyword_first_within: int = 0  # 0: off (measured, not shipped: see the module docstring)
    dense_floor: float = 0.0  # min-max: the least cosine range stretched to 0..1; 0: off (measured, not shipped)
    keyword_dominance: float = 1.5  # BM25's first scoring this many times its second is kept in the top 3; 0: off

    def __post_init__(self) -> None:
        if self.method not in FUSION_METHODS:
            raise ValueError(f"unknown fusion {self.method!r}; choose one of {', '.join(FUSION_METHODS)}")
        if not 0.0 <= self.dense_weight <= 1.0:
            raise ValueError("dense weight must be between 0 and 1")
        if self.dense_floor < 0.0:
            raise ValueError("dense floor must not be negative")
        if self.keyword_dominance < 0.0:
            raise ValueError("keyword dominance must not be negative")


@dataclass(frozen=True)
class SearchHit:
    """One retrieved chunk with its fused score and the two scores it came from."""

    rank: int
    score: float
    chunk: Chunk
    dense_score: float | None  # cosine similarity, when the chunk was a dense candidate
    keyword_score: float | None  # raw BM25, when the chunk matched a query word


def _minmax(scores: np.ndarray) -> np.ndarray:
    if len(scores) == 0:
        return scores
    low, high = float(scores.min()), float(scores.max())
    if high - low < 1e-9:
        return np.ones_like(scores)
    return (scores - low) / (high - low)


def _contributions(scores: np.ndarray, method: str, kind: str, weight: float, floor: float = 0.0) -> np.ndarray:
    """One list's share of the fused score, per candidate."""
    if method == "rrf":
        return weight / (RRF_K + np.arange(1, len(scores) + 1))
    if method == "minmax":
        if kind == "keyword":  # BM25 has a natural zero: scale by the best score only
            return weight * scores / max(float(scores.max()), 1e-9) if len(scores) else scores
        if floor > 0.0 and len(scores):  # a flat list (cosines 0.853, 0.852, 0.851 ...) is not stretched to 1..0
            low, high = float(scores.min()), float(scores.max())
            return weight * (scores - low) / max(high - low, floor)
        return weight * _minmax(scores)
    return scores


def fuse(
    dense: tuple[np.ndarray, np.ndarray],
    keyword: tuple[np.ndarray, np.ndarray],
    config: FusionConfig,
) -> list[tuple[int, float]]:
    """Combine (indices, scores) of both lists into [(chunk index, fused score)], best first."""
    weights = {
        "minmax": (config.dense_weight, 1.0 - config.dense_weight),
        "rrf": (config.dense_weight, 1.0 - config.dense_weight),
        "dense": (1.0, 0.0),
        "keyword": (0.0, 1.0),
    }[config.method]
    fused: dict[int, float] = {}
    for (indices, scores), kind, weight in ((dense, "dense", weights[0]), (keyword, "keyword", weights[1])):
        if weight == 0.0:
            continue
        contributions = _contributions(scores, config.method, kind, weight, config.dense_floor)
        for index, value in zip(indices.tolist(), contributions.tolist()):
            fused[index] = fused.get(index, 0.0) + value
    return sorted(fused.items(), key=lambda item: (-item[1], item[0]))


def keep_keyword_first(ranked: list[tuple[int, float]], keyword_first: int | None,
                       within: int) -> list[tuple[int, float]]:
    """``ranked`` with BM25's first chunk moved up to position ``within`` when the fusion put it lower (it takes
    the score of the chunk it displaces, so scores stay in order)."""
    if keyword_first is None or within <= 0:
        return ranked
    at = next((i for i, (index, _) in enumerate(ranked) if index == keyword_first), None)
    if at is None or at < within:
        return ranked
    moved = list(ranked)
    item = moved.pop(at)
    moved.insert(within - 1, (item[0], moved[within - 1][1]))
    return moved


#: Where a dominant keyword match is kept: among the passages the answer step reads (answerability.PASSAGES_CONSIDERED).
DOMINANT_WITHIN = 3


def with_keyword_rules(fused: list[tuple[int, float]], keyword: tuple[np.ndarray, np.ndarray],
                       config: FusionConfig) -> list[tuple[int, float]]:
    """``fused`` with BM25's first chunk moved up: into the top ``keyword_first_within`` always (off by default), and
    into the top ``DOMINANT_WITHIN`` when its BM25 score is ``keyword_dominance`` times the second's or more (a
    rare phrase only it holds: 高空抛物 is word for word in one article of the property regulation, BM25 15.9 against
    3.85, and the dense list put four fine clauses of other regulations above it, so the question came back "not
    found")."""
    if config.method not in ("minmax", "rrf") or not len(keyword[0]):
        return fused
    first = int(keyword[0][0])
    fused = keep_keyword_first(fused, first, config.keyword_first_within)
    scores = keyword[1]
    if config.keyword_dominance > 0 and (len(scores) == 1 or scores[0] >= config.keyword_dominance * scores[1] > 0):
        fused = keep_keyword_first(fused, first, DOMINANT_WITHIN)
    return fused


def prefer_current(ranked: list[tuple[int, float]], chunks: Sequence[Chunk]) -> list[tuple[int, float]]:
    """Drop repealed chunks; a superseded one never ranks above the best passage of the document that replaces it
    (it waits just below it), and after all others when that document is not among the candidates.

    Not simply after every current passage: the corpus' 2017 outdoor-advertising regulation stops after 第七条, and
    the 2005 rules it replaced (who approves a shop sign) sank below every passage of every regulation, so a shop
    owner's question found none of them (QA). Shown, they say 已被《…》取代, and they are never "answered"."""
    out: list[tuple[int, float]] = []
    waiting: dict[str | None, list[tuple[int, float]]] = {}
    placed: set[str] = set()
    for item in ranked:
        chunk = chunks[item[0]]
        if chunk.status == "repealed":
            continue
        if chunk.status == "superseded" and chunk.superseded_by not in placed:
            waiting.setdefault(chunk.superseded_by, []).append(item)
            continue
        out.append(item)
        if chunk.status != "superseded" and chunk.doc not in placed:
            placed.add(chunk.doc)
            out.extend(waiting.pop(chunk.doc, []))
    return out + [item for items in waiting.values() for item in items]


def distinct(ranked: list[tuple[int, float]], chunks: Sequence[Chunk]) -> list[tuple[int, float]]:
    """Collapse passages with the same text (a measure repeated word for word in several documents):
    the best-ranked copy stays, so the few results shown are not the same passage over and over."""
    seen: set[str] = set()
    kept = []
    for index, score in ranked:
        key = "".join(chunks[index].text.split())
        if key not in seen:
            seen.add(key)
            kept.append((index, score))
    return kept


def _same_passage(a: Chunk, b: Chunk) -> bool:
    return a.doc == b.doc and a.section == b.section and a.article == b.article and abs(a.position - b.position) == 1


def _join(left: str, right: str) -> str:
    """``left`` + ``right`` without the overlap the splitter repeated at the start of ``right``."""
    for size in range(min(len(left), len(right)), 4, -1):  # under 5 characters: a chance match, not the overlap
        if left.endswith(right[:size]):
            return left + right[size:]
    return left + right


def enclosing_passage(chunks: Sequence[Chunk], index: int, max_chars: int = 600) -> str:
    """Small-to-big: the text of the passage chunk ``index`` was cut from (its neighbours of the same document,
    section and article, overlaps removed), growing around it up to about ``max_chars``.

    Why: a small chunk is what scores best (it is about one thing), but the sentence that answers may sit in the
    next chunk of the same paragraph. Ranking 200-character chunks and reading their enclosing passage (up to
    600 characters) put a passage holding the answer first for 0.97 / 0.98 of held-out CMRC questions
    (validation / test) against 0.91 for the chunk itself (benchmarks/results.md). Not used by the answer step
    yet. ``chunks`` must be in index order (a document's chunks in a row).
    """
    text, low, high = chunks[index].text, index, index
    while True:
        grown = False
        if low > 0 and _same_passage(chunks[low - 1], chunks[low]) and len(text) < max_chars:
            low -= 1
            text = _join(chunks[low].text, text)
            grown = True
        if high + 1 < len(chunks) and _same_passage(chunks[high], chunks[high + 1]) and len(text) < max_chars:
            high += 1
            text = _join(text, chunks[high].text)
            grown = True
        if not grown:
            return text


#: The query vectors of the question being handled (None: outside ``remembering_queries``).
_QUERY_MEMO: ContextVar[dict[tuple[int, str], np.ndarray] | None] = ContextVar("kb_bot_query_memo", default=None)


@contextmanager
def remembering_queries() -> Iterator[None]:
    """Within the block, each query text is embedded once (``Retriever.embed``).

    One question's handling asks the same text more than once: a follow-up's readings are weighed and the chosen
    one asked again, and a related reply's wider search (answering/elsewhere.py) re-asks its question; embedding is
    most of a search's time (~20 ms). Scoped to one question rather than kept across questions, so latency
    figures stay those of a new question and nothing outlives the index it was computed for. A context variable:
    each thread (web request) has its own."""
    if _QUERY_MEMO.get() is not None:  # nested: the outer block's memo serves
        yield
        return
    token = _QUERY_MEMO.set({})
    try:
        yield
    finally:
        _QUERY_MEMO.reset(token)


class Retriever:
    """Hybrid search over one loaded index with one embedder."""

    def __init__(self, index: LoadedIndex, embedder: Embedder, fusion: FusionConfig | None = None):
        self.index = index
        self.embedder = embedder
        self.fusion = fusion or FusionConfig()
        # The corpus centroid: a query's cosine to it is its cosine to an average passage.
        self.centroid = index.vectors.mean(axis=0) if len(index.vectors) else None

    def embed(self, queries: Sequence[str]) -> np.ndarray:
        """Query vectors, for callers that need them besides the search (e.g. abstention); inside
        ``remembering_queries`` a text embedded before is not embedded again."""
        texts = list(queries)
        memo = _QUERY_MEMO.get()
        if memo is None:
            return self.embedder.embed_queries(texts)
        model = id(self.embedder)  # two knowledge bases asked in one block never share vectors
        new = [t for t in dict.fromkeys(texts) if (model, t) not in memo]
        if new:
            memo.update(zip(((model, t) for t in new), self.embedder.embed_queries(new)))
        return np.stack([memo[model, t] for t in texts]) if texts else self.embedder.embed_queries([])

    def _dense(self, query_vectors: np.ndarray, k: int) -> list[tuple[np.ndarray, np.ndarray]]:
        if self.index.dense.ntotal == 0:
            return [(np.zeros(0, np.int64), np.zeros(0, np.float32)) for _ in range(len(query_vectors))]
        scores, indices = self.index.dense.search(np.ascontiguousarray(query_vectors, dtype=np.float32), k)
        results = []
        for row_scores, row_indices in zip(scores, indices):
            keep = row_indices >= 0
            results.append((row_indices[keep].astype(np.int64), row_scores[keep]))
        return results

    def search_many(
        self, queries: Sequence[str], top_k: int = 5, query_vectors: np.ndarray | None = None
    ) -> list[list[SearchHit]]:
        """Search several queries at once (one embedding call, or none when ``query_vectors`` are given)."""
        k = min(max(self.fusion.candidates, top_k), len(self.index.chunks))
        if not queries or k == 0:
            return [[] for _ in queries]
        empty = (np.zeros(0, np.int64), np.zeros(0, np.float32))
        use_dense = self.fusion.method != "keyword"
        if use_dense and query_vectors is None:
            query_vectors = self.embed(queries)
        dense_lists = self._dense(query_vectors, k) if use_dense else [empty] * len(queries)
        results = []
        for i, (query, dense) in enumerate(zip(queries, dense_lists)):
            keyword = self.index.keyword.search(query, k) if self.fusion.method != "dense" else empty
            dense_by_index = dict(zip(dense[0].tolist(), dense[1].tolist()))
            keyword_by_index = dict(zip(keyword[0].tolist(), keyword[1].tolist()))
            hits = []
            fused = with_keyword_rules(fuse(dense, keyword, self.fusion), keyword, self.fusion)
            ranked = distinct(prefer_current(fused, self.index.chunks), self.index.chunks)
            for rank, (index, score) in enumerate(ranked[:top_k], start=1):
                dense_score = dense_by_index.get(index)
                if dense_score is None and query_vectors is not None:
                    # A keyword-only candidate: its cosine is one dot product away.
                    dense_score = float(self.index.vectors[index] @ query_vectors[i])
                hits.append(SearchHit(rank, score, self.index.chunks[index], dense_score, keyword_by_index.get(index)))
            results.append(hits)
        return results

    def search(self, query: str, top_k: int = 5, query_vector: np.ndarray | None = None) -> list[SearchHit]:
        """The ``top_k`` chunks for ``query``, best first."""
        vectors = None if query_vector is None else query_vector[None, :]
        return self.search_many([query], top_k, vectors)[0]
