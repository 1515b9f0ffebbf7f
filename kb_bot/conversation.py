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

#: Only the most recent earlier questions matter for completing a follow-up.
HISTORY_TURNS = 4
#: A question whose content (without question words and cues) is at most this long may be elliptical.
SHORT_CORE = 8

_OPENER = re.compile(r"^(?:那么|那|还有|另外|此外|然后|再问一下|再问|具体来说|具体|其中|其他的|其它的|其他|其它|那在|"
                     r"and\b|what about\b|how about\b|also\b)", re.I)
_ELLIPTIC_END = re.compile(r"(?:呢|呀|嘞)[？?。！!\s]*$")
_PRONOUN = re.compile(r"它们|它的|它|他们|她们|他的|她的|(?<![其吉])[他她]|这个|那个|这些|那些|这家|那家|这里|那里|这方面|那方面|"
                      r"这项|该项|上述|前面说的|刚才说的|都是哪些|是哪几个|哪几个|哪几家")
_PRONOUN_EN = re.compile(r"\b(?:it|its|they|them|their|those|these|that|this one)\b", re.I)
_NOISE = re.compile(r"有没有|是不是|能不能|可不可以|会不会|什么|怎么样|怎么|怎样|如何|多少|哪些|哪里|哪个|哪儿|哪天|"
                    r"是否|请问|一下|吗|呢|吧|啊|呀|的|了|我们|我|你们|你|是|都|在|有|也|还|再|几|谁|方面|情况|具体")
_PUNCT = re.compile(r"[\s，,。.？?！!、；;：:“”\"'‘’（）()《》]+")
_CJK = re.compile(r"[\u3400-\u9fff]")
_UNIT_PREFIX = re.compile(r"^(?:郑州市)?上街区\s*")

log = logging.getLogger(__name__)

_RANK = {ANSWERED: 2, RELATED: 1, NOT_FOUND: 0}


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


def strip_cues(question: str) -> str:
    """The question without follow-up openers, pronouns, a trailing 呢 and end punctuation."""
    text = " ".join(question.split()).strip()
    text = _ELLIPTIC_END.sub("", text)
    text = re.sub(r"[？?。！!]+$", "", text)
    while True:
        shorter = _OPENER.sub("", text).lstrip(" ，,")
        if shorter == text:
            break
        text = shorter
    text = _PRONOUN.sub("", text)
    text = _PRONOUN_EN.sub("", text)
    return " ".join(text.split())


def core(question: str) -> str:
    """The content characters of a question: no question words, cues, pronouns or punctuation."""
    return _PUNCT.sub("", _NOISE.sub("", strip_cues(question)))


def dependency(question: str) -> str:
    """"explicit" (a follow-up cue), "short" (may name only a new aspect) or "" (stands on its own)."""
    text = " ".join(question.split())
    if not text:
        return ""
    if _OPENER.match(text) or _ELLIPTIC_END.search(text) or _PRONOUN.search(text):
        return "explicit"
    if not _CJK.search(text) and _PRONOUN_EN.search(text):
        return "explicit"
    content = core(text)
    if _CJK.search(text) and len(content) <= SHORT_CORE:
        return "short"
    return ""


def _unit_short(unit: str | None) -> str:
    return _UNIT_PREFIX.sub("", (unit or "").strip()).replace(" ", "")


def next_turn(question: str, effective: str, answer: Answer, previous: Turn | None, dependent: bool) -> Turn:
    """The state a follow-up to this turn needs.

    A follow-up (answered in its completed reading, or dependent and not answered at all or
    answered from the same document) keeps the topic of the turn it followed, so the topic does not drift with each aspect asked; any
    other question opens a new topic.
    """
    unit = None
    if answer.citations and answer.status != NOT_FOUND and answer.citations[0].kind != "faq":
        top = answer.citations[0]
        # A regulation's unit is the body that adopted it (郑州市人民代表大会常务委员会): the conversation is about
        # the regulation, so its title is the subject a follow-up continues.
        unit = (top.title.strip() if top.kind == "regulation" else _unit_short(top.unit) or top.title.strip()) or None
    doc = answer.citations[0].doc if answer.citations and answer.status != NOT_FOUND else None
    # A dependent question answered as asked from the same document continues the topic too.
    followup = previous is not None and (
        effective != question or (dependent and (answer.status == NOT_FOUND or doc == previous.doc)))
    if followup:
        return Turn(question, effective, unit or previous.unit, previous.topic, doc or previous.doc)
    return Turn(question, effective, unit, core(effective), doc)


def completions(question: str, previous: Turn) -> list[str]:
    """Candidate readings of a follow-up: each subject of the previous turn + the question without cues."""
    rest = strip_cues(question) or question.strip()
    rest_core = core(question)
    readings = []
    for subject in previous.subjects:
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


def _overlap(aspect: set[str], answer: Answer) -> float:
    """How much of the new aspect the quoted answer mentions (a follow-up must address it)."""
    if not aspect or answer.status == NOT_FOUND:
        return 0.0
    return round(sum(1 for g in aspect if g in answer.answer) / len(aspect), 1)


def answer_turn(kb: Any, question: str, previous: Turn | None) -> tuple[Answer, Turn]:
    """Answer ``question`` after the turn ``previous`` (None: first turn) and describe the new turn."""
    from . import faq

    question = " ".join((question or "").split())
    kind = dependency(question) if previous is not None else ""
    readings = completions(question, previous) if kind and previous is not None else []
    if readings:
        rewritten = llm_reading(kb.settings, question, previous)
        if rewritten and rewritten not in readings:
            readings.insert(0, rewritten)

    curated = faq.match(kb, [question, *readings])
    if curated is not None:
        answer, used = curated
        answer = replace(answer, understood_as=used if used != question else None)
        return answer, next_turn(question, used, answer, previous, bool(kind))

    literal = kb.ask(question, _literal=True)
    chosen, effective = literal, question
    if readings:
        completed_answers = [replace(kb.ask(r, _literal=True), question=question) for r in readings]
        aspect = _grams(core(question))
        # Outcome first; then, for a question with no content of its own (是怎么帮的？ 都是哪些？ 还有别的吗？),
        # the topic's reading (it is about the topic itself), else the answer that speaks of the new aspect;
        # then confidence.
        contentless = len(core(question)) <= 1
        keyed = [(support(a)[0], float(r.startswith(f"{previous.topic} ")) if contentless else _overlap(aspect, a),
                  support(a)[1]) for a, r in zip(completed_answers, readings)]
        best = max(range(len(readings)), key=lambda i: keyed[i])
        completed, reading = completed_answers[best], readings[best]
        if kind == "explicit":
            # An explicit cue (那…呢, 它, 具体…) means the literal reading lacks its subject: the completed
            # reading wins unless it finds nothing while the literal one answers.
            better = support(completed)[0] >= support(literal)[0]
        else:
            # A short question without a cue may stand on its own: it is completed only when the literal
            # reading is not answered and the completed one is.
            better = support(completed)[0] > support(literal)[0] and completed.status == ANSWERED
            # ...or when both reach the same outcome (answered, or related: the closest sentences) but only the
            # completed reply speaks of what was asked, or the literal reply jumps to another document while the
            # completed one stays with the conversation's.
            if literal.status == completed.status != NOT_FOUND:
                better = keyed[best][1] >= _overlap(aspect, literal) + 0.3 or (
                    _doc(completed) == previous.doc != _doc(literal)
                    and keyed[best][1] >= _overlap(aspect, literal)
                    and completed.confidence >= literal.confidence)
        if better:
            chosen, effective = replace(_focus(kb, completed, reading, question), understood_as=reading), reading
    turn = next_turn(question, effective, chosen, previous, bool(kind))
    return chosen, turn


REWRITE_PROMPT = (
    "你帮助理解市民的追问。根据上一个问题，把追问改写成一个意思完整、可以单独理解的问题。"
    "只输出改写后的问题，不要回答，不要解释。Rewrite in the language of the follow-up question."
)


def llm_reading(settings: Any, question: str, previous: Turn) -> str | None:
    """The follow-up rewritten by the optional LLM endpoint (``KB_BOT_LLM_URL``), or None.

    It is one more candidate reading, chosen by the same rules and shown the same way
    (按“…”理解); any error, timeout or implausible reply is ignored.
    """
    url, model = getattr(settings, "llm_url", None), getattr(settings, "llm_model", None)
    if not (url and model):
        return None
    from .llm import chat_completion

    messages = [{"role": "system", "content": REWRITE_PROMPT},
                {"role": "user", "content": f"上一个问题：{previous.effective}\n追问：{question}"}]
    try:
        text = chat_completion(url, model, messages, min(float(settings.llm_timeout), 10.0))
    except Exception as exc:  # the endpoint is optional: the rule-based readings remain
        log.warning("LLM rewrite of a follow-up failed (%s: %s)", type(exc).__name__, exc)
        return None
    text = " ".join(str(text or "").split()).strip("“”\"'")
    if not text or text == question or len(text) > 2 * len(question) + 60:
        return None
    return text


def _focus(kb: Any, answer: Answer, reading: str, question: str) -> Answer:
    """Quote the sentences about the new aspect: passages are found with the completed reading, but
    sentences are chosen by the question without the subject (else the subject's words pull the
    previous turn's sentences back in)."""
    from .answer import compose

    aspect = strip_cues(question)
    if answer.status not in (ANSWERED, RELATED) or answer.mode not in ("extractive", "related") or len(core(question)) < 2:
        return answer
    try:
        hits = kb.search(reading, max(kb.settings.top_k, 5))
        text, citations, sentences = compose(aspect, hits)
    except Exception as exc:  # never lose the answer we already have
        log.warning("follow-up answer not refocused: %s", exc)
        return answer
    if not text:
        return answer
    if answer.status == RELATED:  # still the closest sentences, said as such
        text = related_text(question, answer.missing, text)
    return replace(answer, answer=text, citations=citations, sentences=sentences)


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


def _generation(kb: Any) -> Any:
    return getattr(kb, "_generation", None)


def last_turn(kb: Any, history: Sequence[str]) -> Turn | None:
    """The state after the earlier questions ``history`` (oldest first), replayed once and cached."""
    questions = tuple(" ".join(str(q).split()) for q in history if str(q).strip())[-HISTORY_TURNS:]
    if not questions:
        return None
    cache = _cache_for(kb)
    key = (_generation(kb), questions)
    hit, turn = cache.get(key)
    if hit:
        return turn
    previous = last_turn(kb, questions[:-1]) if len(questions) > 1 else None
    _, turn = answer_turn(kb, questions[-1], previous)
    cache.put((_generation(kb), questions), turn)
    return turn


def answer_in_context(kb: Any, question: str, history: Sequence[str] = ()) -> Answer:
    """Answer ``question`` given the earlier questions of the conversation (oldest first)."""
    previous = last_turn(kb, history)
    answer, turn = answer_turn(kb, question, previous)
    questions = tuple(" ".join(str(q).split()) for q in history if str(q).strip())
    _cache_for(kb).put((_generation(kb), (*questions, " ".join(question.split()))[-HISTORY_TURNS:]), turn)
    return answer
