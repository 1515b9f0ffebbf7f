"""Elliptic follow-ups: "X呢" (单位呢？ 那自行车呢), the previous question asked again of X.

The conversation reads such a follow-up with its subject like any other (:mod:`kb_bot.answering.conversation`); the
rules here keep what the previous question asked: the kind of value it asked for (a sum, a number), and, when X is a
thing like one it named, the previous question with X in its place.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .answer import RELATED, Answer
from .followup import Aspect, grams, names_noun, quoted, with_missing
from .guards import GUARDED_TYPES
from .cues import strip_cues
from .question_reading import DETAIL_WORDS, asked_type, carries, is_bare_topic
from .word_weights import dictionary_tag, tagged_words

if TYPE_CHECKING:  # the conversation's turn; imported for annotations only (conversation imports this module)
    from .conversation import Turn


#: "And X?" — a few characters and 呢 (单位呢？ 那外地人呢): the previous question asked again of X.
_ELLIPTIC_ASK = re.compile(r"^[^，,。？?]{1,6}呢[？?。！!\s]*$")


def lacks_the_value_asked_before(question: str, answer: Answer, previous: Turn) -> bool:
    """Does a follow-up asking nothing of its own kind (单位呢？ after 失业保险费个人交多少) get a quote without the kind of
    value the previous question asked (a sum, an amount, a phone number)? It asks the same of another party: read with
    the subject, 单位呢 was "answered" 0.76 with 按时足额缴纳 and no rate (QA, nineteenth session)."""
    if not _ELLIPTIC_ASK.search(question) or asked_type(question) != "general":
        return False  # 晚上有啥消费活动没？ after 拜访了多少家企业 asks a thing of its own
    kind = asked_type(previous.question)
    return kind in GUARDED_TYPES and not carries(kind, quoted(answer))


#: What an "X呢" follow-up may name as a thing of its own: two to four Chinese characters.
_THING = re.compile(r"[\u4e00-\u9fff]{2,4}")
#: A document's title in a reading (郑州市城市养犬管理条例 养狗 要多少钱): its words are never replaced.
_TITLE = re.compile(r"\S*(?:条例|办法|规定|决定|细则)")


def parallel_reading(question: str, previous: str) -> str | None:
    """The previous question asked of another thing of the same kind (那自行车呢 after 多大能骑电动车: 多大能骑自行车; 那停气呢
    after 停水得提前多久通知: 停气得提前多久通知), when an "X呢" follow-up names a thing as long as a word of the previous
    question sharing its head (a noun's last character: 自行车, 电动车; 租金, 押金) or, for a verb and its object, its
    verb (停水, 停气), which it replaces where it stands. Read with the subject's words only (电动车 自行车), the age
    asked was lost and the e-bike speed-limiter and helmet articles came back "answered" 0.99; 那停气呢 was "answered"
    0.75 with the water supply rule (QA, twentieth session). An aspect of the same thing (招租面积呢？ after 入驻了多少家？)
    shares no word's head, a detail (电话呢？ after 电费怎么交) is an aspect, and a regulation's title in a reading is
    never rewritten (郑州市城市养猫管理条例, review): no parallel reading."""
    if not _ELLIPTIC_ASK.search(question) or asked_type(question) != "general" or is_bare_topic(previous):
        return None
    thing = strip_cues(question).strip()
    if not _THING.fullmatch(thing) or thing in previous or DETAIL_WORDS.search(thing):
        return None
    titles = [m.span() for m in _TITLE.finditer(previous)]
    words = [(word, start, end, tag) for word, start, end, tag in tagged_words(previous)
             if len(word) == len(thing) and word != thing and not any(a <= start < b for a, b in titles)]
    heads = [(start, end) for word, start, end, tag in words if tag.startswith("n") and word[-1] == thing[-1]]
    verbs = [(start, end) for word, start, end, tag in words if tag.startswith("v") and word[0] == thing[0]
             and not dictionary_tag(thing).startswith("n")]  # 租金 is a noun: not the object of 租房
    found = heads + verbs  # a thing's head first, then a verb's object
    return previous[:found[0][0]] + thing + previous[found[0][1]:] if found else None


def naming_missing(answer: Answer, noun: str, aspect: Aspect | None = None) -> Answer:
    """A related reply to the previous question asked of ``noun`` (``parallel_reading``) whose quote never names it,
    saying so (找到的原文中没有提到“养猫”): its closest sentences are about the thing asked before, and under the
    generic head the taxi drivers' rule read as the bus drivers'. Named means a character pair, a synonym (网约车 as
    网络预约), or every character of it (停气 in 停止供气)."""
    text = quoted(answer)
    if (answer.status != RELATED or not grams(noun).isdisjoint(grams(text)) or set(noun) <= set(text)
            or (aspect is not None and names_noun(noun, aspect, text))):
        return answer
    return with_missing(answer, noun)
