"""The two question sets of benchmarks/quality.py and the embedder wrapper they share.

* ``seed``: the articles in ``documents/`` with ``tests/data/seed_questions.jsonl``;
* ``cmrc``: the CMRC 2018 trial set, one document per paragraph;
* ``MemoEmbedder``: every distinct text embedded once per run, query vectors kept on disk.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from kb_bot.answering.evaluation import Question, load_questions

REPO = Path(__file__).resolve().parent.parent
QUERY_BATCH = 64


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
        """Query vectors, embedding (in batches of QUERY_BATCH) only texts not seen before."""
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
        """Passage vectors, embedding only texts not seen before in this run."""
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


@dataclass
class Corpus:
    """One question set: its documents folder, its questions and the indexes built for it."""

    name: str  # "seed" | "cmrc"
    documents: Path
    questions: list[Question]  # all, including unanswerable ones
    note: str = ""
    indexes: dict[tuple[int, int], dict] = field(default_factory=dict)  # (size, overlap) -> build info


def seed_corpus(documents: Path, questions_file: Path) -> Corpus:
    """The seed articles and question set, with a note naming the question file and its hash."""
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
