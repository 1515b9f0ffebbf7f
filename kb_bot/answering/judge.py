"""Judging a question: answered, related or not found, from the evidence of its retrieved passages.

The ranker orders the candidate sentences, the confidence trees say how sure the best quote answers, the topic
model tells related from not found; the guards (guards.py) overrule a confident quote that cannot be the answer.
An English question none of whose words reach the Chinese passages is judged on its cosines alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Sequence

import numpy as np

from ..legal import SUPERSEDED
from ..retrieval import SearchHit
from ..synonyms import Synonyms
from .answer_model import AnswerModel
from .answerability import (RANKER_FEATURES, Candidate, Evidence, GramStats, answer_row, covered, gather, heuristic_scores,
                            missing_phrase, passage_text, quote, quoted_whole, topic_row)
from .guards import FEE_NOT_STATED, absent_details, asked_unit, fines_for_a_fee, not_an_answer, of_its_making
from .courtesy import asks_nothing, small_talk
from .question_reading import is_bare_topic

#: The three outcomes of a question (``Answer.status``).
ANSWERED, RELATED, NOT_FOUND = "answered", "related", "not_found"
STATUSES = (ANSWERED, RELATED, NOT_FOUND)


def choose_sentences(evidence: Evidence, scores: np.ndarray) -> list[Candidate]:
    """The ranker's best sentence and close runners-up (with the rest of a short article), in reading order."""
    cands = evidence.candidates
    picked = quote([c.text for c in cands], scores, [c.hit_rank for c in cands],
                   [quoted_whole(c.hit.chunk) for c in cands])
    chosen = with_lead_ins(with_items([cands[i] for i in picked], cands), cands)
    if not _superseded(chosen[0]):  # an answer in force is not padded with a replaced version's runner-up
        chosen = [c for c in chosen if not _superseded(c)]
    return sorted(chosen, key=lambda c: (c.hit.chunk.doc, c.hit.chunk.start + c.start))


def _superseded(candidate: Candidate) -> bool:
    return getattr(candidate.hit.chunk, "status", None) == SUPERSEDED


#: An item of a list (（二）在承重墙上开挖…的；) says nothing alone: whether it is forbidden, required or allowed is in
#: the sentence that opens the list (禁止实施下列危害房屋使用安全的行为：).
_ITEM = re.compile(r"\s*[（(][一二三四五六七八九十]+[）)]")


def with_lead_ins(chosen: list[Candidate], candidates: Sequence[Candidate]) -> list[Candidate]:
    """``chosen`` with the sentence opening the list of each quoted item, when its passage holds it (QA: 装修能在承重墙上
    开门吗 was answered with item (二) alone, and 禁止 appeared nowhere in the reply)."""
    out = list(chosen)
    for item in chosen:
        if not _ITEM.match(item.text):
            continue
        before = [c for c in candidates if c.hit is item.hit and c.start < item.start and not _ITEM.match(c.text)]
        lead = max(before, key=lambda c: c.start, default=None)
        if lead is not None and lead.text.rstrip().endswith(("：", ":")) and lead not in out:
            out.append(lead)
    return out


#: A lead-in ending in a colon promises a list, and alone it answers nothing: 要带啥？ after 租房要登记备案吗 was
#: "answered" with 应当…持下列材料或证件到市房地产管理部门申请登记备案： and the materials cut off (QA, twelfth
#: session). Its items are quoted with it, up to about this many characters (the rest is marked as skipped).
ITEMS_BUDGET = 240


def with_items(chosen: list[Candidate], candidates: Sequence[Candidate]) -> list[Candidate]:
    """``chosen`` with the items (（一）…) that follow each quoted lead-in ending in a colon, in its passage, unless
    one of them is quoted already (the ranker chose the item that answers; ``with_lead_ins`` adds its lead-in)."""
    out = list(chosen)
    for lead in chosen:
        if _ITEM.match(lead.text) or not lead.text.rstrip().endswith(("：", ":")):
            continue
        following = sorted((c for c in candidates if c.hit is lead.hit and c.start > lead.start), key=lambda c: c.start)
        items = []
        for item in following:
            if not _ITEM.match(item.text):
                break
            items.append(item)
        if any(item in chosen for item in items):
            continue
        used = 0
        for item in items:
            if used and used + len(item.text) > ITEMS_BUDGET:
                break
            used += len(item.text)
            out.append(item)
    return out


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


#: A Chinese question whose best passage holds most of its weighted words (synonyms counted) is about what the
#: documents cover, whatever the topic model says: "not found" (off the documents' subjects) would be false, and a
#: wrong "not found" costs a citizen most. QA: 遛狗绳子最长多长 came back "not found" with the rule it asks about (犬链全长
#: 不得超过1.5米) ranked first. Validation, answerable questions "not found" 0.5% -> 0.4% from a share of 0.5 to 0.6,
#: off-topic ones "not found" 92.2% -> 91.8% at 0.5, 92.1% at 0.6 (明天天气怎么样 covers 0.52 through 重污染天气);
#: no hand-written set moved (their wrong "not found" replies are retrieval misses, far below).
ON_SUBJECT_COVERAGE = 0.6


def on_subject(question_row: dict, topic: float, topic_threshold: float) -> bool:
    """Related rather than not found: the topic model says so, or the best passage covers most of the question
    (``ON_SUBJECT_COVERAGE`` of its weighted words)."""
    return topic >= topic_threshold or (bool(question_row["is_cjk"])
                                        and question_row["best_passage_coverage"] >= ON_SUBJECT_COVERAGE)


def decide(model: AnswerModel, confidence: float, topic: float, chinese: bool = True, yesno: bool = False) -> str:
    """The status the models give for a confidence and a topic probability, before the rules (the calibration's
    tables reproduce the app's decision from it)."""
    if confidence >= model.confidence_model(chinese, yesno)[1]:
        return ANSWERED
    return RELATED if topic >= model.topic_threshold else NOT_FOUND


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
        return Judgement(RELATED, 0.0, on_topic, tuple(choose_sentences(evidence, scores)), None)
    return Judgement(NOT_FOUND, 0.0, on_topic, (), None)


def judge(question: str, hits: Sequence[SearchHit], query_vector: np.ndarray | None, centroid: np.ndarray | None,
          model: AnswerModel | None, stats: GramStats, synonyms: Synonyms) -> Judgement:
    """Answered, related or not found, with the sentences to quote and the calibrated confidence."""
    evidence = gather(question, hits, query_vector, centroid, stats, synonyms)
    if not evidence.candidates or asks_nothing(question) or small_talk(question):
        # 在吗, Hello, 你是谁？ 今天冷不冷？: the passages found are chance (明天天气怎么样 covered 重污染天气)
        return Judgement(NOT_FOUND, 0.0, 0.0, (), None)
    if model is None:  # a model nobody fitted: the old behaviour, answer whenever something was retrieved
        return Judgement(ANSWERED, 1.0, 1.0, tuple(choose_sentences(evidence, heuristic_scores(evidence.ranker_rows))), None)
    scores = model.ranker.decision(evidence.ranker_rows)
    best = int(np.argmax(scores))
    if dense_only(evidence.question_row) and stats.chinese:
        return _cross_language(evidence, scores)
    trees, threshold = model.confidence_model(bool(evidence.question_row["is_cjk"]), bool(evidence.question_row["yesno"]))
    confidence = float(trees.probability(answer_row(evidence.ranker_rows, evidence.question_row, best, scores))[0])
    topic = float(model.topic.probability(topic_row(evidence.question_row))[0])
    chosen = tuple(choose_sentences(evidence, scores))
    # A detail the question names (利率, 电话, 材料 ...) that the passages quoted from never mention is never
    # answered, however close the rest is (the 2600万元 quoted for a loan's interest rate), even when some
    # other retrieved passage happens to mention the word; nor a phone number, sum or amount the quoted sentences
    # do not carry (抢修电话 asked; the rule only says one must be published); nor a detail the best sentence
    # leaves to someone else (由…确定并公布). See guards.not_an_answer.
    gap = not_an_answer(question, evidence.candidates[best].text, [c.text for c in chosen],
                        [passage_text(c.hit) for c in chosen])
    # A superseded version's rule is shown for the reader to check against the version in force, never as the answer;
    # nor is a staff answer's text found by retrieval: it answers the questions it was written for (faq.match, before
    # retrieval), and quoted for another it reads as official (QA, thirteenth session: 上街区有几所幼儿园 was answered
    # 0.87 with the kindergarten-enrolment staff answer's sentence).
    gap = gap or _superseded(evidence.candidates[best]) or evidence.candidates[best].hit.chunk.kind == "faq"
    if confidence >= threshold and not gap:
        return Judgement(ANSWERED, confidence, topic, chosen, None)
    # A bare topic naming a detail (燃气公司电话, 禁烟罚款) asks for it: the guards hold for it too (QA, fourteenth
    # session: both were answered, 0.998 and 1.0, by sentences that only say a number must be published or a
    # fine receipt given).
    if not gap and answers_as_topic(question, evidence.question_row, topic, model.topic_threshold):
        return Judgement(ANSWERED, topic, topic, chosen, None)
    status = RELATED if on_subject(evidence.question_row, topic, model.topic_threshold) else NOT_FOUND
    if status == NOT_FOUND and not evidence.question_row["is_cjk"] and stats.chinese:
        # Few words of an English question reach the Chinese passages: "not found" needs the dense evidence too.
        return replace(_cross_language(evidence, scores), confidence=confidence)
    if status == RELATED:
        chosen = _closest_in_unit(question, evidence, scores, _closest_but(question, evidence, scores, chosen))
    missing = detail_gap(question, evidence, chosen) or fee_not_stated(question, chosen)
    return Judgement(status, confidence, topic, chosen, missing)


def fee_not_stated(question: str, chosen: Sequence[Candidate]) -> str | None:
    """``FEE_NOT_STATED`` when a question asking what something costs gets only fines as the closest sentences: said
    under the generic head, 每只三千元罚款 read as the price of a dog licence (QA, twentieth session: 多少钱 after
    办狗证要带啥); the missing line says the quotes give no fee."""
    texts = [c.text for c in chosen]
    return FEE_NOT_STATED if texts and all(fines_for_a_fee(question, texts)) else None


def _closest_but(question: str, evidence: Evidence, scores: np.ndarray,
                 chosen: tuple[Candidate, ...]) -> tuple[Candidate, ...]:
    """The closest sentences for a related reply, without penalty clauses when the question asks what something costs
    (``guards.fines_for_a_fee``: a fine shown as the closest thing to a fee misleads) and without what a regulation
    says of its own making when the question asks nothing of it (``guards.of_its_making``), as long as other
    sentences were found."""
    texts = [c.text for c in evidence.candidates]
    unwanted = np.asarray(fines_for_a_fee(question, texts), dtype=bool) | np.asarray(of_its_making(question, texts),
                                                                                     dtype=bool)
    dropped = {id(c) for c, drop in zip(evidence.candidates, unwanted) if drop}  # chosen holds the candidates themselves
    if unwanted.all() or not any(id(c) in dropped for c in chosen):
        return chosen
    return _choose_among(evidence, scores, ~unwanted)


def _closest_in_unit(question: str, evidence: Evidence, scores: np.ndarray,
                     chosen: tuple[Candidate, ...]) -> tuple[Candidate, ...]:
    """The closest sentences for a related reply to a number asked in a unit (任期几年, 要几个工作日: ``asked_unit``):
    those carrying the unit when the chosen ones do not and another found sentence does (QA, fourteenth session:
    业委会任期几年 quoted 任期届满前九十日内 while 每届任期不超过五年 was in the next passage)."""
    unit = asked_unit(question)
    if unit is None or any(unit.search(c.text) for c in chosen):
        return chosen
    carrying = np.array([bool(unit.search(c.text)) for c in evidence.candidates])
    if not carrying.any():
        return chosen
    return _choose_among(evidence, scores, carrying)


def _choose_among(evidence: Evidence, scores: np.ndarray, allowed: np.ndarray) -> tuple[Candidate, ...]:
    """The sentences ``choose_sentences`` picks when only the ``allowed`` candidates may be chosen: the others are
    scored below every sentence (never the best, never a close runner-up)."""
    return tuple(choose_sentences(evidence, np.where(allowed, scores, float(scores.min()) - 100.0)))
