"""Matching a question to a staff answer (``faq``'s entries), before the articles are searched.

A question matches an entry when it is worded as one of the entry's wordings, or when its cosine to one of them
reaches :data:`MATCH_THRESHOLD`, beats its best cosine to an article passage search can return (not a repealed
one) by :data:`MATCH_MARGIN`, asks the same kind of thing (``same_intent``: a when-entry never answers a where- or
how-much question) and is not one word away asking of something else (``question_reading.contrasts``). e5's
cosines between any two short Chinese questions are high, so the margin is what tells "what does the development
zone lend" from "at what interest rate"; calibrated on held-out paraphrases, see ``benchmarks/calibrate_faq.py``.
"""

from __future__ import annotations

import logging
import re
import threading
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..errors import KbBotError
from ..legal import REPEALED
from ..loading import SUPPORTED_SUFFIXES
from .answer import Answer, AnswerSentence, Citation
from .faq import FAQ_FOLDER, FAQ_TITLE, FaqEntry, indexed_entries, plain
from .question_reading import asked_type, contrasts

log = logging.getLogger(__name__)

#: Cosine (e5 query embeddings) between a question and an entry's closest wording, and how far it must beat
#: the question's best article passage; see benchmarks/calibrate_faq.py (0 of 201 other questions match).
MATCH_THRESHOLD = 0.90
MATCH_MARGIN = 0.085


class _Matcher:
    """Active entries of the index generation in use, with their wordings embedded once."""

    def __init__(self, key: tuple, entries: list[FaqEntry], vectors: np.ndarray, owners: list[int],
                 articles: np.ndarray, titles: dict[str, str] | None = None):
        self.key, self.entries, self.vectors, self.owners = key, entries, vectors, owners
        self.articles = articles  # row numbers of the index's passages that are not staff answers
        self.titles = titles or {}  # document path -> title, to name a source picked by its path


_lock = threading.Lock()


def _matcher(kb: Any) -> _Matcher | None:
    """The matcher for ``kb``'s current index; None when it has no active entries.

    Rebuilt only when the index generation or a file in ``faq/`` changes (one directory listing
    per question otherwise), so the articles' answers pay almost nothing for this check.
    """
    retriever = kb.retriever
    folder = kb.settings.documents / FAQ_FOLDER
    try:
        stamp = tuple(sorted((p.name, p.stat().st_mtime_ns) for p in folder.glob("*.md")))
    except OSError:
        stamp = ()
    key = (retriever.index.generation, stamp)
    cached = getattr(kb, "_faq_matcher", None)
    if cached is None or cached.key != key:
        with _lock:
            cached = kb._faq_matcher = _build_matcher(kb, retriever, key)
    return cached if cached.owners else None


def _build_matcher(kb: Any, retriever: Any, key: tuple) -> _Matcher:
    """The active entries indexed in ``retriever``'s generation, their wordings embedded once."""
    entries = indexed_entries(kb.settings.documents, retriever.index.manifest)
    wordings = [(i, q) for i, e in enumerate(entries) for q in e.questions]
    vectors = retriever.embed([q for _, q in wordings]) if wordings else np.zeros((0, 1), dtype=np.float32)
    # The passages a staff answer must beat are those search can return: a repealed notice's are never quoted, and
    # a staff answer correcting it (补贴计划已停止) lost to its own subject's old wording (margin 0.05).
    articles = np.array([i for i, c in enumerate(retriever.index.chunks)
                         if not c.doc.startswith(f"{FAQ_FOLDER}/") and getattr(c, "status", None) != REPEALED],
                        dtype=np.int64) if wordings else np.zeros(0, dtype=np.int64)
    titles = {c.doc: c.title for c in retriever.index.chunks if c.title} if wordings else {}
    return _Matcher(key, entries, np.asarray(vectors, dtype=np.float32), [i for i, _ in wordings], articles, titles)


def quotable(kb: Any, hits: list) -> list:
    """``hits`` without the passages of staff answers that no longer answer: retired, repealed or edited since the
    index was built. Retiring one stopped its 工作人员解答 label at once, but its text was still quoted as a related
    passage until the next refresh (and an edited entry's old version, answered as an article)."""
    if not any(h.chunk.doc.startswith(f"{FAQ_FOLDER}/") for h in hits):
        return hits
    try:
        matcher = _matcher(kb)
    except Exception as exc:  # an unreadable staff answer must never stop the articles: its passages are left out
        log.warning("staff answers not consulted: %s", exc)
        matcher = None
    live = {entry.path for entry in matcher.entries} if matcher is not None else set()
    return [h for h in hits if not h.chunk.doc.startswith(f"{FAQ_FOLDER}/") or h.chunk.doc in live]


def scores(kb: Any, questions: Sequence[str]) -> list[tuple[float, float, FaqEntry | None]]:
    """For each question: the best cosine to an active entry's wording, its margin over the best
    article passage, and that entry."""
    return _scores(kb, _matcher(kb), questions)


def _scores(kb: Any, matcher: _Matcher | None, questions: Sequence[str]) -> list[tuple[float, float, FaqEntry | None]]:
    """``scores`` with the matcher given (one embedding call for all ``questions``)."""
    if matcher is None or not matcher.owners:
        return [(0.0, 0.0, None) for _ in questions]
    index = kb.retriever.index
    vectors = np.asarray(kb.retriever.embed(list(questions)), dtype=np.float32)
    similarity = vectors @ matcher.vectors.T
    if len(matcher.articles):
        passages = (np.asarray(index.vectors[matcher.articles], dtype=np.float32) @ vectors.T).max(axis=0)
    else:
        passages = np.zeros(len(questions), dtype=np.float32)
    out = []
    for row, passage in zip(similarity, passages):
        best = int(np.argmax(row))
        out.append((float(row[best]), float(row[best] - passage), matcher.entries[matcher.owners[best]]))
    return out


def match(kb: Any, questions: Sequence[str], threshold: float | None = None,
          margin: float | None = None) -> tuple[Answer, str] | None:
    """The staff answer for the first of ``questions`` (asked, then completed readings) that matches one."""
    questions = [q for q in questions if q and q.strip()]
    if not questions or not hasattr(kb, "retriever"):
        return None
    try:
        matcher = _matcher(kb)
        found = _scores(kb, matcher, questions)
    except KbBotError:
        raise
    except Exception as exc:  # a broken staff answer must never stop the articles from answering
        log.warning("staff answers not consulted: %s", exc)
        return None
    limit = MATCH_THRESHOLD if threshold is None else threshold
    lead = MATCH_MARGIN if margin is None else margin
    synonyms = kb.synonyms() if hasattr(kb, "synonyms") else None
    for question, (score, ahead, entry) in zip(questions, found):
        if entry is None or score < limit:
            continue
        if _worded(entry, question) or (ahead >= lead and same_intent(question, entry.questions)
                                        and not contrasts(question, entry.questions, synonyms)):
            return faq_answer(entry, questions[0], score, matcher.titles.get(entry.source or "")), question
    return None


#: What a citizen asks of a service, read the way staff answers are written: one answer says when, another where,
#: another what to bring. First match wins; what none of them names falls back to ``question_reading.asked_type``.
_INTENTS: tuple[tuple[str, re.Pattern], ...] = tuple((name, re.compile(pattern)) for name, pattern in (
    ("phone", r"电话|号码|热线|联系方式|打哪个号"),
    # where and when before the rest: 免费的法律帮助上哪儿申请 asks where, 停车场几点开始收费 when (截止到哪天: when)
    ("where", r"[去上到在]哪(?![天年月一几])|哪里|哪儿|什么地方|啥地方|哪个地方|哪个窗口|哪个部门|哪个单位|找谁|找哪"),
    ("when", r"周几|星期几|礼拜几|几点|几号|几月|哪天|哪几天|什么时候|啥时候|啥时|什么时间|啥时间|多久|多长时间|几天|"
             r"几个?月|几年|多少年|多少天"),
    # who may (条件, 资格) before what to bring: 申请低保需要满足什么条件 is not answered by where to apply
    ("conditions", r"条件|资格|符合什么|哪些人|什么人能|谁能"),
    ("materials", r"材料|带什么|带啥|带哪些|什么证件|啥证件|哪些证件|准备什么|准备啥|准备哪些|需要什么|需要哪些|拿什么|拿啥"),
    ("cost", r"多少钱|收费|收钱|交钱|花钱|费用|要钱|免费|价格|几块|收多少|花多少|贵不贵|多贵"),
))
_YESNO = re.compile(r"吗[？?！!。\s]*$|是否|能否|能不能|可不可以|行不行|([\u4e00-\u9fff])不\1|不[？?。！!\s]*$")
_FROM_TYPE = {"phone": "phone", "money": "cost", "address": "where", "person": "where", "date": "when",
              "procedure": "procedure", "amount": "amount", "yesno": "yesno", "penalty": "penalty", "reason": "reason"}
#: Intents one answer serves together: where to go and how to do it (失业金怎么领 / 去哪里领失业金: 可在人社部门申领).
_ALONG = {frozenset(("where", "procedure"))}
#: What a yes/no question names when it checks one answer (办居住证得去派出所吗 checks a where, 图书馆礼拜一开门不 a when).
_CHECKED = {"where": re.compile(r"派出所|窗口|中心|大厅|局|社区|街道|医院|网上|线上|银行"),
            "when": re.compile(r"周[一二三四五六日末]|星期|礼拜|[\d一二三四五六七八九十]+[点号月]|上午|下午|晚上|节假日|工作日"),
            "cost": re.compile(r"免费|收费|钱|元"),
            "materials": re.compile(r"带|照片|证明|材料|户口本|身份证")}


def intent(question: str) -> str:
    """What ``question`` asks of a service: phone, where, when, conditions, materials, cost, procedure, amount,
    yesno, …, or general when it does not say."""
    for name, pattern in _INTENTS:
        if pattern.search(question):
            return name
    if _YESNO.search(question):  # 居民医保缴费时间能延期吗 asks yes or no, not a time (asked_type reads 时间 first)
        return "yesno"
    return _FROM_TYPE.get(asked_type(question), "general")


def same_intent(question: str, wordings: Sequence[str]) -> bool:
    """Does ``question`` ask the kind of thing one of ``wordings`` asks? A question or wording that does not say
    counts as any; a yes/no question counts as the kind whose answer it names (得去派出所吗: where).
    e5 puts 居民医保在哪里缴费 0.97 from 居民医保缴费时间, ahead of every article by the margin: on a blind set of staff
    answers (fourteenth session) 7 of 56 such near misses got another question's answer."""
    mine = intent(question)
    # a wording that does not say (居民医保缴费) leaves the entry's kind to its other wordings (review: with one such
    # wording the entry answered every kind of question)
    theirs = {intent(wording) for wording in wordings} - {"general"}
    if mine == "general" or not theirs or mine in theirs:
        return True
    if mine == "yesno":
        # the value it checks, outside the words it shares with the wordings (政务服务中心周末上班吗 names 中心 as its
        # subject, not as the place asked)
        asked = "".join(ch for ch in question if not any(ch in wording for wording in wordings))
        return any(kind in _CHECKED and _CHECKED[kind].search(asked) for kind in theirs)
    return any(frozenset((mine, other)) in _ALONG for other in theirs)


def _worded(entry: FaqEntry, question: str) -> bool:
    """Is ``question`` one of the entry's own wordings (spaces, case and end punctuation aside)? Staff wrote the
    entry for exactly that question: it answers it however close an article passage is."""
    return plain(question) in {plain(wording) for wording in entry.questions}


def faq_answer(entry: FaqEntry, question: str, score: float, source_title: str | None = None) -> Answer:
    """The answer shown for a matched entry: "工作人员解答", its source (``source_title`` when the source is a
    document's path: citizens saw 依据：regulations/郑州市…条例(2022-01-01).md) and date."""
    source = (f"《{source_title}》" if source_title
              else Path(entry.source).stem if entry.source and Path(entry.source).suffix.lower() in SUPPORTED_SUFFIXES
              else entry.source)
    basis = " ".join(part for part in (source, entry.article) if part)
    where = "；".join(part for part in (f"依据：{basis}" if basis else "", f"{entry.date} 发布" if entry.date else "")
                     if part)
    # No ``article`` on the citation: it would be cited as 《工作人员解答》第三十七条, a regulation that does not exist.
    # The article the answer rests on is named in its basis (依据：《…》 第三十七条).
    citation = Citation(entry.path, FAQ_TITLE, None, where or None, entry.answer,
                        (0, len(entry.answer)), score, f"faq:{entry.path}", None, entry.date, "faq")
    text = f"{FAQ_TITLE}：{entry.answer}[1]"
    return Answer(question, True, text, (citation,), (), (AnswerSentence(entry.answer, 0),), confidence=score,
                  mode="faq", status="answered")
