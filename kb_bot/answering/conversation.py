"""Conversation: follow-up questions completed from the earlier turns, without a language model.

A citizen asks 招聘会帮企业招到了多少人？ and then 那融资方面呢？. The second question names only
a new aspect; on its own it matches nothing well. Here a question that depends on the earlier
turns is recognised by its cues (elliptical 那…呢, pronouns 它/他们/这个/那个, openers
具体/还有/另外, or a very short question), completed with the conversation's *subject*, and
answered both as completed and as asked; the better-supported answer is kept. When the completed
reading wins, ``Answer.understood_as`` says how the question was read (按“先进制造业开发区 融资方面”理解),
so a wrong guess is visible and can be corrected by rephrasing. A question that stands on its own
(no cue, not short) is answered as asked and never altered.

The subject of a turn is where its answer came from (the short name of the cited unit, e.g.
先进制造业开发区, or the article title) and, as a second candidate, the content words of the question
that opened the topic. Staff answers (:mod:`kb_bot.answering.faq_match`) are matched first, on the question as
asked and then on its completed reading.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import Any, Sequence

from .answer import ANSWERED, NOT_FOUND, RELATED, Answer, is_cjk_question, related_text
from .ellipsis import lacks_the_value_asked_before, naming_missing, parallel_reading
from .followup import (Aspect, best_reading, completed_wins, doc_of, fine_for_what_was_said, hedged,
                       missing_of_its_own, names_source, overlap, topic_nouns)
from .llm import generate_answer, rewrite_followup
from .courtesy import greets, small_talk
from .cues import core, dependency, names_nothing, strip_cues  # noqa: F401  (this module's API)
from ..retrieval import remembering_queries

#: Only the most recent earlier questions matter for completing a follow-up.
HISTORY_TURNS = 4
_UNIT_PREFIX = re.compile(r"^(?:郑州市)?上街区\s*")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Turn:
    """One answered turn, as the next turn needs it."""

    question: str  # as asked
    effective: str  # what was answered: the question, or its completed reading
    unit: str | None  # the short name of the office or article the answer came from
    topic: str  # the content words of the question that opened the topic
    doc: str | None = None  # the document the answer came from

    @property
    def subjects(self) -> tuple[str, ...]:
        """What a follow-up to this turn may be about: the answer's source, the topic's words."""
        return tuple(dict.fromkeys(s for s in (self.unit, self.topic) if s))


def _unit_short(unit: str | None) -> str:
    return _UNIT_PREFIX.sub("", (unit or "").strip()).replace(" ", "")


def next_turn(question: str, effective: str, answer: Answer, previous: Turn | None, dependent: bool,
              own_subject: bool = False) -> Turn:
    """The state a follow-up to this turn needs.

    A follow-up (answered in its completed reading, or dependent and not confidently answered from another
    document) keeps the topic of the turn it followed, so the topic does not drift with each aspect asked; any
    other question opens a new topic. A follow-up whose reply comes from another document than the
    conversation's keeps the conversation's subject and document too: one weak reply from an unrelated
    regulation (没打表能不给钱吗？ -> 就业促进条例) must not carry the next turns away with it. A short question
    that names the source it was answered from (``own_subject``: 出租车拒载罚多少？ answered from 郑州市客运出租汽车
    管理条例) is no follow-up: it opens its own topic.
    """
    unit = None
    if answer.citations and answer.status != NOT_FOUND and answer.citations[0].kind != "faq":
        top = answer.citations[0]
        # A regulation's unit is the body that adopted it (郑州市人民代表大会常务委员会): the conversation is about
        # the regulation, so its title is the subject a follow-up continues.
        unit = (top.title.strip() if top.kind == "regulation" else _unit_short(top.unit) or top.title.strip()) or None
    doc = answer.citations[0].doc if answer.citations and answer.status != NOT_FOUND else None
    # A dependent question answered as asked continues the topic too, unless it is answered (not merely related)
    # from another document: then it brought its own subject.
    followup = previous is not None and (effective != question or (dependent and not own_subject and (
        answer.status != ANSWERED or doc == previous.doc)))
    if followup:
        if previous.doc and doc != previous.doc:
            return Turn(question, effective, previous.unit, previous.topic, previous.doc)
        return Turn(question, effective, unit or previous.unit, previous.topic, doc or previous.doc)
    return Turn(question, effective, unit, core(effective), doc)


def completions(question: str, previous: Turn) -> list[str]:
    """Candidate readings of a follow-up: each subject of the previous turn + the question without cues."""
    rest = strip_cues(question) or question.strip()
    rest_core = core(question)
    readings = []
    if not is_cjk_question(question) and not is_cjk_question(previous.effective):
        # English after English (dog leash rules -> and the fines?): the previous question is the subject. The other
        # subjects are Chinese (a regulation's title): a reading mixing them with English words is matched by no
        # English synonym (郑州市城市养犬管理条例 the fines quoted 第四条, not the fines of 第二十四条) and was framed in
        # Chinese for an English visitor.
        return [f"{previous.effective.rstrip('?？. ')} {rest}".strip()]
    # 都是哪些？ after 拜访了几家企业？ asks which of what was just asked about: the previous question is a subject too.
    subjects = (*previous.subjects, core(previous.effective)) if len(rest_core) <= 1 else previous.subjects
    # The topic's nouns alone, and with the source's title: 失业保险金能领多久 -> 那标准是多少 read as 失业保险金能领多久
    # 标准是多少 keeps 多久, and as 郑州市失业保险条例 标准是多少 drops 失业保险金 (QA, fourteenth session: both quoted
    # another article than 第二十五条, which 失业保险金 标准是多少 finds).
    nouns = topic_nouns(previous.topic) if is_cjk_question(question) else ""  # Chinese nouns before English words
    if nouns and nouns != previous.topic:                                    # match no English synonym
        subjects = (*subjects, nouns, *(f"{previous.unit} {nouns}" for _ in (1,) if previous.unit))
    for subject in subjects:
        if not subject or subject in rest or subject == rest_core:  # the question already names its subject
            continue
        reading = f"{subject} {rest}".strip()
        if reading not in readings:
            readings.append(reading)
    return readings


def _of_nouns(reading: str, nouns: str, previous: Turn) -> bool:
    """Is ``reading`` one of the readings ``completions`` makes from the topic's nouns?"""
    return reading.startswith((f"{nouns} ", f"{previous.unit} {nouns} ")) and nouns != previous.topic


def _trace(aspect: Aspect, answer: Answer) -> tuple:
    return answer.status, round(float(answer.confidence), 2), doc_of(answer), overlap(aspect, answer)


def answer_turn(kb: Any, question: str, previous: Turn | None) -> tuple[Answer, Turn]:
    """Answer ``question`` after the turn ``previous`` (None: first turn) and describe the new turn."""
    from . import faq_match

    question = " ".join((question or "").split())
    # A greeting or a thanks (你好, 谢谢) is no follow-up: read with the subject it would quote the conversation's document
    # ("养狗要办证 你好" came back related, quoting the dog registration article); nor is small talk (你是谁？ 几点了？
    # 今天冷不冷？ were read with the subject and related 0.3-0.8: the topic-switch grid).
    greeting = previous is not None and (greets(question) or small_talk(question))
    kind = dependency(question) if previous is not None and not greeting else ""
    readings = completions(question, previous) if kind and previous is not None else []
    # "X呢" of a thing like one just asked about asks the same of it: only that reading may answer (parallel_reading)
    parallel = parallel_reading(question, previous.effective) if readings and previous is not None else None
    if parallel:
        readings = [parallel, *(r for r in readings if r != parallel)]
    if readings:
        rewritten = rewrite_followup(kb.settings, question, previous.effective)
        if rewritten and rewritten not in readings:
            readings.insert(0, rewritten)

    curated = faq_match.match(kb, [question, *readings])
    if curated is not None:
        answer, used = curated
        answer = replace(answer, understood_as=used if used != question else None)
        return answer, next_turn(question, used, answer, previous, bool(kind))

    literal = _standing_alone(kb, question, kb.ask(question, _literal=True), bool(kind))
    if parallel and literal.status == ANSWERED:
        literal = hedged(literal)  # 公交车呢 as asked: the bus regulation's advertising article, "answered" 0.73
    if greeting:
        return literal, previous  # 谢谢 between two questions leaves the conversation's subject where it was
    chosen, effective = literal, question
    # A short question answered as asked from a document it names (退休金什么时候涨？ -> 养老保险) stands on its own.
    documents = getattr(kb.settings, "documents", None)
    aspect = Aspect.of(question, documents) if kind else None
    own = kind == "short" and previous is not None and names_source(aspect, literal, previous)
    completed_answers: list[Answer] = []
    if readings and previous is not None and not own:
        readings, completed_answers = _completed_readings(kb, question, readings, previous, parallel)
        if parallel:
            completed_answers = [a if r == parallel or a.status != ANSWERED else hedged(a)
                                 for r, a in zip(readings, completed_answers)]
    if completed_answers:  # none when no reading was made, or none held
        # the previous question asked of the new thing, when it finds something, is what was asked: kept as it is
        asked = bool(parallel) and readings[0] == parallel and completed_answers[0].status != NOT_FOUND
        conduct = Aspect.of_conduct(previous, documents) if fine_for_what_was_said(question) else None
        best = 0 if asked else best_reading(question, aspect, readings, completed_answers, previous, conduct)
        completed, reading = completed_answers[best], readings[best]
        log.debug("follow-up %r: literal %s; readings %s; kept %r", question, _trace(aspect, literal),
                  [(r, *_trace(aspect, a)) for r, a in zip(readings, completed_answers)], reading)
        # Refocused first, so the comparison with the literal reply is between the sentences each would quote.
        completed = completed if asked else _focus(kb, completed, reading, question, aspect)
        if asked:
            completed = naming_missing(completed, strip_cues(question).strip(), aspect)
        if asked or completed_wins(question, aspect, kind, literal, completed, previous, conduct):
            chosen, effective = replace(missing_of_its_own(completed, question), understood_as=reading), reading
            if chosen.status == ANSWERED and (not overlap(aspect, chosen) and not names_nothing(question)
                                              or lacks_the_value_asked_before(question, chosen, previous)):
                chosen = hedged(chosen)
    turn = next_turn(question, effective, chosen, previous, bool(kind), own)
    return chosen, turn


def _completed_readings(kb: Any, question: str, readings: list[str], previous: Turn,
                        parallel: str | None = None) -> tuple[list[str], list[Answer]]:
    """Each reading with its reply, without the readings made of the topic's nouns that do not hold: such a reading
    continues the conversation's document or nothing (elsewhere its nouns only lift a stand-alone question's
    confidence: 树龄多少年算一级古树 after the teachers' question was read as 教育局 上街区 老师 树龄多少年算一级古树 and
    quoted the tree regulation), and is not needed when a reading with the whole subject is answered (绕道呢？ after
    出租车拒载罚多少？: read with the title it quotes the fine, with 出租车 only the rule)."""
    # The previous question asked of a new thing (``parallel``) is a question of its own, judged as one: held to the
    # follow-up threshold, 物业能停气吗 (answered 0.55, the yes/no threshold) lost the rule it asks about (review).
    answers = [_standing_alone(kb, question, replace(kb.ask(r, _literal=True), question=question), r != parallel)
               for r in readings]
    nouns = topic_nouns(previous.topic)
    of_nouns = [bool(nouns) and _of_nouns(r, nouns, previous) for r in readings]
    answered = any(a.status == ANSWERED for a, n in zip(answers, of_nouns) if not n)
    kept = [i for i, (a, n) in enumerate(zip(answers, of_nouns)) if not n or (doc_of(a) == previous.doc and not answered)]
    return [readings[i] for i in kept], [answers[i] for i in kept]


def _standing_alone(kb: Any, question: str, answer: Answer, follow_up: bool) -> Answer:
    """A follow-up's reply, as read alone or completed, is answered only at the validation split's answer threshold
    (``AnswerModel.follow_up_threshold``), never at the lower ones for yes/no questions or chosen on citizens'
    questions: those were chosen on questions that stand on their own, and a follow-up read alone lacks its subject
    while a completed reading borrows the subject's words, which lift its confidence (员工自己也要交吗？ read with the
    unemployment regulation's title was "answered" 0.50 by the article on whom it applies to; 要给发票吗？ after
    taxi fares 0.66 by the car-repair regulation). Dialogues with the yes/no threshold everywhere: answered
    follow-ups without their fact 4 -> 6 (development), 2 -> 4 (earlier set), 4 -> 6 (held-out)."""
    model = kb.answer_model() if follow_up and answer.status == ANSWERED else None
    if model is None or answer.confidence >= model.follow_up_threshold(is_cjk_question(question)):
        return answer
    return hedged(answer)


def _focus(kb: Any, answer: Answer, reading: str, question: str, aspect: Aspect) -> Answer:
    """Quote the sentences about the new aspect: passages are found with the completed reading, but
    sentences are chosen by the question without the subject (else the subject's words pull the
    previous turn's sentences back in). Only passages of the document the reply cites are used (sentences from
    another one would only make the reply seem to speak of the aspect). The refocused sentences replace the
    reply's only when they speak more of the aspect; else the completed reading's own choice stands
    (为什么要搞这个？ has no aspect words to choose sentences by: its refocused sentences are chosen by 为什么)."""
    from .answer import compose

    if answer.status not in (ANSWERED, RELATED) or answer.mode not in ("extractive", "related") or len(core(question)) < 2:
        return answer
    try:
        hits = [h for h in kb.search(reading, max(kb.settings.top_k, 5)) if h.chunk.doc == doc_of(answer)]
        text, citations, sentences = (compose(strip_cues(question), hits, kb.answer_model(), stats=kb.gram_stats(),
                                              synonyms=kb.synonyms()) if hits else ("", (), ()))
    except Exception as exc:  # never lose the answer we already have
        log.warning("follow-up answer not refocused: %s", exc)
        return answer
    if not text:
        return answer
    focused = replace(answer, answer=text, citations=citations, sentences=sentences)
    if overlap(aspect, focused) <= overlap(aspect, answer):
        return answer
    if answer.status == RELATED:  # still the closest sentences, said as such
        text = related_text(question, answer.missing, text)
    return replace(focused, answer=text)


class Conversation:
    """A running conversation (CLI chat, ``ask --conversation``): remembers the previous turn."""

    def __init__(self, kb: Any):
        self.kb = kb
        self.last: Turn | None = None

    def ask(self, question: str) -> Answer:
        """The reply to the next question of this conversation."""
        with remembering_queries():  # the readings and the wider search of a related reply share vectors
            answer, self.last = answer_turn(self.kb, question, self.last)
            return worded(self.kb, answer)

    def reset(self) -> None:
        """Forget the conversation: the next question opens a new topic."""
        self.last = None


class _TurnCache:
    """Turns of recent histories (web, API), so a history is not re-answered at every question."""

    def __init__(self, size: int = 256):
        self._items: OrderedDict[tuple, Turn | None] = OrderedDict()
        self._lock = threading.Lock()
        self.size = size

    def get(self, key: tuple) -> tuple[bool, Turn | None]:
        """(found, turn) for a history key; a hit becomes the most recent."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return True, self._items[key]
            return False, None

    def put(self, key: tuple, turn: Turn | None) -> None:
        """Remember a history's turn, forgetting the least recent beyond ``size``."""
        with self._lock:
            self._items[key] = turn
            while len(self._items) > self.size:
                self._items.popitem(last=False)


_caches: dict[int, _TurnCache] = {}
_caches_lock = threading.Lock()


def _cache_for(kb: Any) -> _TurnCache:
    with _caches_lock:
        cache = getattr(kb, "_conversation_cache", None)
        if cache is None:
            cache = _TurnCache()
            try:
                kb._conversation_cache = cache
            except AttributeError:  # an object without a __dict__: keep one by id
                cache = _caches.setdefault(id(kb), cache)
        return cache


def last_turn(kb: Any, history: Sequence[str]) -> Turn | None:
    """The state after the earlier questions ``history`` (oldest first), replayed once and cached."""
    questions = tuple(" ".join(str(q).split()) for q in history if str(q).strip())[-HISTORY_TURNS:]
    if not questions:
        return None
    cache = _cache_for(kb)
    key = (getattr(kb, "_generation", None), questions)
    hit, turn = cache.get(key)
    if hit:
        return turn
    previous = last_turn(kb, questions[:-1]) if len(questions) > 1 else None
    _, turn = answer_turn(kb, questions[-1], previous)
    cache.put((getattr(kb, "_generation", None), questions), turn)
    return turn


def answer_in_context(kb: Any, question: str, history: Sequence[str] = ()) -> Answer:
    """Answer ``question`` given the earlier questions of the conversation (oldest first)."""
    with remembering_queries():  # a replayed history, the readings and the wider search share vectors
        previous = last_turn(kb, history)
        answer, turn = answer_turn(kb, question, previous)
        questions = tuple(" ".join(str(q).split()) for q in history if str(q).strip())
        _cache_for(kb).put((getattr(kb, "_generation", None), (*questions, " ".join(question.split()))[-HISTORY_TURNS:]),
                           turn)
        return worded(kb, answer)


def worded(kb: Any, answer: Answer) -> Answer:
    """The reply a person gets, worded by the optional language model (``KB_BOT_LLM_URL``) from its quotes.

    Only here, once per question: a turn reads a follow-up several ways and replays the earlier questions, and
    wording each of those readings would spend the endpoint's few slots on replies nobody sees. Staff answers
    keep their own words. A related reply also gets here the sentence naming the detail its quote leaves out,
    where its document has one (``KnowledgeBase.with_detail_elsewhere``): once, on the reply a person sees."""
    if hasattr(kb, "with_detail_elsewhere"):
        answer = kb.with_detail_elsewhere(answer)
    settings = getattr(kb, "settings", None)
    if settings is None or not getattr(settings, "llm_url", None) or answer.mode != "extractive":
        return answer
    return generate_answer(answer, (), settings)
