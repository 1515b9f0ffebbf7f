"""Evaluation: recall@k and MRR of retrieval on a labelled question set.

A question set is JSON lines: ``{"question": str, "expect": [str, ...], "doc": str?}``.
A retrieved chunk is a hit when its text contains any expected string (and, when ``doc``
is given, it comes from that document). An empty ``expect`` marks a question the corpus
cannot answer; those are counted but not scored here (the answer step's abstention is).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from .chunking import Chunk
from .errors import KbBotError

KS = (1, 3, 5, 10)


@dataclass(frozen=True)
class Question:
    """One labelled question."""

    question: str
    expect: tuple[str, ...]
    doc: str | None = None
    line: int = 0

    @property
    def answerable(self) -> bool:
        return bool(self.expect)


@dataclass(frozen=True)
class EvalReport:
    """Recall@k and MRR@10 over the answerable questions."""

    questions: int
    answerable: int
    recall: dict[int, float]
    mrr: float
    first_hit_ranks: tuple[int | None, ...] = field(repr=False, default=())

    def to_json(self) -> dict[str, Any]:
        return {
            "questions": self.questions,
            "answerable": self.answerable,
            **{f"recall@{k}": round(v, 4) for k, v in self.recall.items()},
            "mrr@10": round(self.mrr, 4),
        }


def load_questions(path: Path) -> list[Question]:
    """Read a JSON-lines question set; a bad line is an error naming the file and line."""
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except FileNotFoundError:
        raise KbBotError(f"question file {path} does not exist") from None
    except UnicodeDecodeError:
        raise KbBotError(f"question file {path} is not UTF-8 text") from None
    questions = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            text = record["question"]
            expect = record.get("expect", [])
            if not isinstance(text, str) or not isinstance(expect, list):
                raise TypeError
        except (json.JSONDecodeError, KeyError, TypeError):
            raise KbBotError(
                f"{path}:{number}: expected a JSON object like "
                '{"question": "...", "expect": ["..."]}',
                hint="fix that line",
            ) from None
        questions.append(Question(text, tuple(str(e) for e in expect), record.get("doc"), number))
    if not questions:
        raise KbBotError(f"question file {path} holds no questions")
    return questions


def is_hit(chunk: Chunk, question: Question) -> bool:
    """Does this chunk answer the question (contains an expected string, from the right document)?"""
    if question.doc and question.doc not in (chunk.doc, Path(chunk.doc).stem):
        return False
    return any(expected in chunk.text for expected in question.expect)


def score(questions: Sequence[Question], retrieved: Sequence[Sequence[Chunk]]) -> EvalReport:
    """Recall@k (hit within the top k) and MRR@10 over answerable questions."""
    ranks: list[int | None] = []
    for question, chunks in zip(questions, retrieved):
        if not question.answerable:
            continue
        rank = next((i for i, chunk in enumerate(chunks[:10], start=1) if is_hit(chunk, question)), None)
        ranks.append(rank)
    n = max(len(ranks), 1)
    recall = {k: sum(1 for r in ranks if r is not None and r <= k) / n for k in KS}
    mrr = sum(1.0 / r for r in ranks if r is not None) / n
    return EvalReport(len(questions), len(ranks), recall, mrr, tuple(ranks))
