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

from ..chunking import Chunk
from ..errors import KbBotError

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
        """Whether the documents answer it (it lists the strings the answer must hold)."""
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
        """The report as ``kb-bot eval --json`` prints it."""
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
        raise KbBotError(f"question file {path} does not exist",
                         hint='give the path of a JSON-lines file, one {"question": ..., "expect": [...]} a line') from None
    except UnicodeDecodeError:
        raise KbBotError(f"question file {path} is not UTF-8 text", hint="save it as UTF-8 and run again") from None
    except IsADirectoryError:
        raise KbBotError(f"question file {path} is a folder", hint="give the .jsonl file inside it") from None
    questions = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            text = record["question"]
            expect = record["expect"]
            if not isinstance(text, str) or not isinstance(expect, list):
                raise TypeError
        except (json.JSONDecodeError, KeyError, TypeError):
            # "expect" is never implied: a line without it would count as a question the documents do not answer,
            # and `kb-bot calibrate` would fit on it as one (QA, thirteenth session).
            raise KbBotError(
                f"{path}:{number}: expected a JSON object like "
                '{"question": "...", "expect": ["..."]} (write "expect": [] for a question the documents do not answer)',
                hint="fix that line",
            ) from None
        if not text.strip():
            raise KbBotError(f"{path}:{number}: the question is empty", hint="write the question or delete that line")
        questions.append(Question(text, tuple(str(e) for e in expect), record.get("doc"), number))
    if not questions:
        raise KbBotError(f"question file {path} holds no questions",
                         hint='write one {"question": ..., "expect": [...]} a line ("expect": [] when unanswerable)')
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


@dataclass(frozen=True)
class OutcomeReport:
    """Shares of answered / related / not_found, for answerable and unanswerable questions apart."""

    answerable: dict[str, int]  # status -> count, plus "with_fact": answered and holding an expected string
    unanswerable: dict[str, int]
    misses: tuple[str, ...] = field(repr=False, default=())  # answerable questions not answered with the fact
    wrong: tuple[str, ...] = field(repr=False, default=())  # unanswerable questions answered

    def to_json(self) -> dict[str, Any]:
        """The outcome shares as ``kb-bot eval --json`` prints them."""
        def shares(counts: dict[str, int]) -> dict[str, Any]:
            n = counts.get("n", 0)
            return {"questions": n, **{k: round(v / n, 4) if n else 0.0 for k, v in counts.items() if k != "n"}}

        return {"answerable": shares(self.answerable), "unanswerable": shares(self.unanswerable),
                "missed": list(self.misses), "wrongly_answered": list(self.wrong)}


def answer_outcomes(questions: Sequence[Question], answers: Sequence[Any]) -> OutcomeReport:
    """How each question was answered (``answers`` are ``kb_bot.answering.answer.Answer`` objects)."""
    groups = {True: {"n": 0, "answered": 0, "related": 0, "not_found": 0, "with_fact": 0},
              False: {"n": 0, "answered": 0, "related": 0, "not_found": 0}}
    misses, wrong = [], []
    for question, answer in zip(questions, answers):
        counts = groups[question.answerable]
        counts["n"] += 1
        counts[answer.status] += 1
        if question.answerable:
            fact = answer.status == "answered" and any(e in answer.answer for e in question.expect)
            counts["with_fact"] += int(fact)
            if not fact:
                misses.append(question.question)
        elif answer.status == "answered":
            wrong.append(question.question)
    return OutcomeReport(groups[True], groups[False], tuple(misses), tuple(wrong))
