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
that opened the topic. Staff answers (:mod:`kb_bot.faq`) are matched first, on the question as
asked and then on its completed reading.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import Any, Sequence

from .answer import ANSWERED, NOT_FOUND, RELATED, Answer, related_text
from .llm import rewrite_followup
from .question_reading import core, dependency, names_nothing, strip_cues  # noqa: F401  (this module's API)

#: Only the most recent earlier questions matter for completing a follow-up.
HISTORY_TURNS = 4
_UNIT_PREFIX = re.compile(r"^(?:郑州市)?上街区\s*")

log = logging.getLogger(__name__)

_RANK = {ANSWERED: 2, RELATED: 1, NOT_FOUND: 0}
#: A follow-up read as asked leaves the conversation's document only when its reply speaks this much more of
#: the question's words (share of their character pairs) than the reply staying in the document does.
NAMES_ELSEWHERE = 0.2
#: Confidences closer than this are the same (0.16 against 0.14 is noise, not a reason to rewrite a question).
NOISE = 0.05


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
    # 都是哪些？ after 拜访了几家企业？ asks which of what was just asked about: the previous question is a subject too.
    subjects = (*previous.subjects, core(previous.effective)) if len(rest_core) <= 1 else previous.subjects
    for subject in subjects:
        if not subject or subject in rest or subject == rest_core:  # the question already names its subject
            continue
        reading = f"{subject} {rest}".strip()
        if reading not in readings:
            readings.append(reading)
    return readings


def support(answer: Answer) -> tuple[int, float]:
    """How well an answer is supported: its outcome first, then its confidence."""
    return _RANK.get(answer.status, 0), float(answer.confidence)


def _grams(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)} or ({text} if text else set())


def _doc(answer: Answer) -> str | None:
    return answer.citations[0].doc if answer.citations else None


def _quoted(answer: Answer) -> str:
    """The sentences a reply quotes, without its framing: 文件中没有提到“进度”。最接近的内容… repeats the question's
    words, so a reply that only says it lacks the aspect must not count as speaking of it."""
    if answer.status == NOT_FOUND:
        return ""
    return "".join(s.text for s in answer.sentences) if answer.sentences else answer.answer


def _overlap(aspect: Aspect, answer: Answer) -> float:
    """How much of the new aspect the quoted sentences mention (a follow-up must address it)."""
    return _mentions(aspect, _quoted(answer))


def _mentions(aspect: Aspect, text: str) -> float:
    """The share of the aspect's character pairs ``text`` contains, to one decimal; a word counts as mentioned
    when the text has one of its synonyms (招工 asked, 用工 quoted)."""
    if not aspect.grams or not text:
        return 0.0
    covered = {g for g in aspect.grams if g in text}
    for term, alternatives in aspect.synonyms:
        if any(a in text for a in alternatives):
            # a one-character word (狗 quoted as 犬) covers the pairs it stands in
            covered |= {g for g in aspect.grams if term in g} if len(term) == 1 else _grams(term) & aspect.grams
    return round(len(covered) / len(aspect.grams), 1)


@dataclass(frozen=True)
class Aspect:
    """What a follow-up adds: the character pairs of its content, and its words that have synonyms."""

    grams: frozenset[str]
    synonyms: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @classmethod
    def of(cls, question: str, documents: Any = None) -> Aspect:
        """The aspect of ``question``, with the shipped synonyms and the staff's (``documents``/synonyms.txt)."""
        from .synonyms import load_synonyms

        content = core(question)
        expansion = load_synonyms(documents).expand(content)
        return cls(frozenset(_grams(content)), tuple(zip(expansion.matched, expansion.alternatives)))


def _best_reading(question: str, aspect: Aspect, readings: list[str], answers: list[Answer], previous: Turn) -> int:
    """Which completed reading to keep: one that finds something; then, for a question with no content of its
    own (是怎么帮的？ 都是哪些？), the previous question's reading when that question asked something of its own
    (拜访了几家企业？), else the topic's (it asks about the topic itself); else the one whose quoted
    sentences speak most of the new aspect, then the better outcome, then the higher confidence to one decimal
    (finer differences are noise), then the topic's reading (an office's name as subject pulls in the office's
    general sentences: 先进制造业开发区 进度 quotes the zone's overview, 奥克斯 进度 the project's progress)."""
    contentless = len(core(question)) <= 1
    last = core(previous.effective)

    def key(i: int) -> tuple:
        answer, on_topic = answers[i], float(readings[i].startswith(f"{previous.topic} "))
        found = answer.status != NOT_FOUND
        if contentless:  # ...and before it the previous question's own (都是哪些？ after 拜访了几家企业？)
            return found, float(last != previous.topic and readings[i].startswith(f"{last} ")), on_topic, *support(answer)
        rank, confidence = support(answer)
        return found, _overlap(aspect, answer), rank, round(confidence, 1), on_topic, confidence

    return max(range(len(readings)), key=key)


def _completed_wins(question: str, aspect: Aspect, kind: str, literal: Answer, completed: Answer, previous: Turn) -> bool:
    """Is the completed reading's reply better than the literal one's?"""
    ahead = _overlap(aspect, completed) - _overlap(aspect, literal)
    continues = completed.status != NOT_FOUND and _doc(completed) == previous.doc != _doc(literal)
    surer = completed.confidence - literal.confidence >= NOISE
    if continues and (len(core(question)) <= 2 or (ahead > -NAMES_ELSEWHERE and (surer or kind == "explicit"))) and (
            literal.status != NOT_FOUND or names_nothing(question) or _overlap(aspect, completed) > 0):
        # A follow-up stays with the conversation's document unless its words are clearly what the other
        # document's reply is about (a question naming that document's title stands alone earlier: see
        # _names_source). Read alone, a follow-up is mostly its question words, and what they find elsewhere is
        # chance: 被抓到罚多少？ (地铁) finds 基本农田 fines, 不改呢？ (吸烟) 拒不整改 in another regulation,
        # 要开啥证明？ (殡葬) an article on certificates for firms. A follow-up found nowhere as asked stays "not
        # found" unless it names nothing (去哪办？) or the conversation's reply speaks of it: the subject's words
        # make any reading look on topic (明天天气怎么样？ after dogs, read with the dog regulation's title). A
        # question naming more than that moves only for a surer reply (two guesses near 0 are noise), unless it
        # points back itself (上街区也这样吗？ is "answered" 0.9 as asked by a sentence of the education article).
        return True
    stays = continues and ahead >= 0
    if previous.doc and _doc(completed) == _doc(literal) != previous.doc:
        # The subject did not keep the reply in the conversation's document: the question's own words decided
        # where it comes from (那个直播电商基地入驻了多少企业？ after a question on teachers), so it stands alone.
        return False
    if literal.status != NOT_FOUND and _doc(literal) == previous.doc and ahead < 0:
        # Read as asked, the question is answered from the conversation's own document with more of what it asks
        # (楼宇经济具体怎么做的？ quotes how, its completed reading the sentence that opened the topic): the
        # completed reading's better outcome label alone does not make it the better reply.
        return False
    if kind == "explicit":
        # An explicit cue (那…呢, 它, 具体…): the literal reading lacks its subject; the completed one wins unless worse.
        return support(completed)[0] >= support(literal)[0]
    # A short question without a cue may stand on its own: it is completed only when the literal reading is not
    # answered and the completed one is...
    if literal.status == completed.status != NOT_FOUND:
        # ...or when both reach the same outcome (answered, or related: the closest sentences) but only the
        # completed reply speaks of what was asked, or the literal reply jumps to another document while the
        # completed one stays with the conversation's and is more confident by 0.1 or more (two replies near 0 are
        # both guesses, as for 今天郑州下雨吗？; 0.16 against 0.14 is noise, not a reason to rewrite a question).
        return ahead >= 0.3 or (stays and completed.confidence - literal.confidence >= 0.1)
    if literal.status == NOT_FOUND and stays:
        # ...or when the documents have nothing for it as asked, while the conversation's document, read with
        # the subject, quotes sentences that speak of the new aspect.
        return _overlap(aspect, completed) > 0
    # ...or when only it is answered, from the literal reply's document or speaking of the aspect (a subject's words
    # alone lift 济源路街道四大主攻方向 over the dog rule 我家能养几条狗？ found by itself).
    return support(completed)[0] > support(literal)[0] and completed.status == ANSWERED and (
        _doc(completed) == _doc(literal) or _overlap(aspect, completed) > 0)


def _trace(aspect: Aspect, answer: Answer) -> tuple:
    return answer.status, round(float(answer.confidence), 2), _doc(answer), _overlap(aspect, answer)


def answer_turn(kb: Any, question: str, previous: Turn | None) -> tuple[Answer, Turn]:
    """Answer ``question`` after the turn ``previous`` (None: first turn) and describe the new turn."""
    from . import faq

    question = " ".join((question or "").split())
    kind = dependency(question) if previous is not None else ""
    readings = completions(question, previous) if kind and previous is not None else []
    if readings:
        rewritten = rewrite_followup(kb.settings, question, previous.effective)
        if rewritten and rewritten not in readings:
            readings.insert(0, rewritten)

    curated = faq.match(kb, [question, *readings])
    if curated is not None:
        answer, used = curated
        answer = replace(answer, understood_as=used if used != question else None)
        return answer, next_turn(question, used, answer, previous, bool(kind))

    literal = kb.ask(question, _literal=True)
    chosen, effective = literal, question
    # A short question answered as asked from a document it names (退休金什么时候涨？ -> 养老保险) stands on its own.
    aspect = Aspect.of(question, getattr(kb.settings, "documents", None)) if kind else None
    own = kind == "short" and previous is not None and _names_source(aspect, literal, previous)
    if readings and previous is not None and not own:
        completed_answers = [replace(kb.ask(r, _literal=True), question=question) for r in readings]
        best = _best_reading(question, aspect, readings, completed_answers, previous)
        completed, reading = completed_answers[best], readings[best]
        log.debug("follow-up %r: literal %s; readings %s; kept %r", question, _trace(aspect, literal),
                  [(r, *_trace(aspect, a)) for r, a in zip(readings, completed_answers)], reading)
        # Refocused first, so the comparison with the literal reply is between the sentences each would quote.
        completed = _focus(kb, completed, reading, question, aspect)
        if _completed_wins(question, aspect, kind, literal, completed, previous):
            chosen, effective = replace(completed, understood_as=reading), reading
            if chosen.status == ANSWERED and not _overlap(aspect, chosen) and not names_nothing(question):
                chosen = _hedged(chosen)
    turn = next_turn(question, effective, chosen, previous, bool(kind), own)
    return chosen, turn


def _hedged(answer: Answer) -> Answer:
    """A completed reading's "answered" reply whose quote says nothing of what the follow-up names, as related:
    its confidence came from the subject's words (能带人吗？ read with the traffic regulation's title was
    "answered" 0.82 by the article on whom the regulation binds)."""
    closest = answer.answer if answer.mode == "extractive" else _quoted(answer)
    return replace(answer, found=False, status=RELATED, mode="related",
                   answer=related_text(answer.question, answer.missing, closest))


def _names_source(aspect: Aspect, answer: Answer, previous: Turn) -> bool:
    """Does a short question, answered as asked from another document than the conversation's, name that document
    (its words or their synonyms in the cited title: 出租车 -> 出租汽车)? Then it stands on its own."""
    if answer.status == NOT_FOUND or not answer.citations or _doc(answer) == previous.doc or answer.confidence < NOISE:
        return False  # a guess (投资总额多少？ -> 0.04 from the 政府投资项目 regulation) names nothing it found
    return _mentions(aspect, answer.citations[0].title) > 0


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
        hits = [h for h in kb.search(reading, max(kb.settings.top_k, 5)) if h.chunk.doc == _doc(answer)]
        text, citations, sentences = compose(strip_cues(question), hits) if hits else ("", (), ())
    except Exception as exc:  # never lose the answer we already have
        log.warning("follow-up answer not refocused: %s", exc)
        return answer
    if not text:
        return answer
    focused = replace(answer, answer=text, citations=citations, sentences=sentences)
    if _overlap(aspect, focused) <= _overlap(aspect, answer):
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
        answer, self.last = answer_turn(self.kb, question, self.last)
        return answer

    def reset(self) -> None:
        self.last = None


class _TurnCache:
    """Turns of recent histories (web, API), so a history is not re-answered at every question."""

    def __init__(self, size: int = 256):
        self._items: OrderedDict[tuple, Turn | None] = OrderedDict()
        self._lock = threading.Lock()
        self.size = size

    def get(self, key: tuple) -> tuple[bool, Turn | None]:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return True, self._items[key]
            return False, None

    def put(self, key: tuple, turn: Turn | None) -> None:
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
    previous = last_turn(kb, history)
    answer, turn = answer_turn(kb, question, previous)
    questions = tuple(" ".join(str(q).split()) for q in history if str(q).strip())
    _cache_for(kb).put((getattr(kb, "_generation", None), (*questions, " ".join(question.split()))[-HISTORY_TURNS:]), turn)
    return answer
