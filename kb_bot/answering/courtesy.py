"""What asks nothing of the documents: greetings, thanks and pings, and small talk about the assistant or the moment.

Such a message is not looked up (its retrieved passages are chance) and, in a conversation, not read with the
subject: 你好, 谢谢, 在吗 are greeted or thanked back; 你是谁？ is told what the assistant is; 几点了？ 今天冷不冷？ are told
that the time and the weather are not in the documents. Each comes with the topics the documents cover.
"""

from __future__ import annotations

import re

from .cues import core
from .question_reading import ENGLISH_QUESTION_NOISE
from .word_weights import CJK as _CJK

#: What a greeting, a thanks or a ping is made of in English (Hello, Thanks a lot!, who are you?).
_COURTESY = re.compile(r"\b(?:hello|hi|hey|thanks|thank|thx|bye|goodbye|ok|okay|please|sorry|yes|no|lot|there)\b", re.I)
#: ... and in Chinese (你好, 谢谢你啊辛苦了, 拜拜, 早上好, 好的知道了, 哈哈, 测试), what is left of them once question words
#: are dropped. They were "not found" only as long as the topic model happened to say so; 测试 was answered 0.997
#: as the bare topic of 水平衡测试.
_COURTESY_ZH = re.compile(r"您?好的?|谢谢|多谢|感谢|辛苦|再见|拜拜|(?:早上|上午|中午|下午|晚上)好|晚安|测试|知道|明白|收到|"
                          r"[哈呵嘿嗯哦噢啊]+")


def asks_nothing(question: str) -> bool:
    """Is ``question`` a greeting, a thanks or a ping with nothing to look up (在吗, 111, Hello, Thanks a lot!)? Its
    retrieved passages are chance: the reply offers the topics instead of quoting one of them."""
    if _CJK.search(question):
        return not _COURTESY_ZH.sub("", re.sub(r"\d", "", core(question)))
    rest = _COURTESY.sub(" ", ENGLISH_QUESTION_NOISE.sub(" ", question))
    return not re.search(r"[A-Za-z]{2,}", rest)


_PING = re.compile(r"^\s*(?:在吗|在不在|有人吗|有人在吗)[？?！!。～~\s]*$")


def greets(question: str) -> bool:
    """A greeting, a thanks or a ping (你好, 谢谢, 在吗, Hello, 111): it asks nothing, and it is not a question made of
    question words only (都是哪些？ 去哪办？ ask about what was just said, in a conversation)."""
    if not asks_nothing(question):
        return False
    if _CJK.search(question):  # what is left besides question words was all courtesy, or it is a ping
        return bool(re.sub(r"\d", "", core(question))) or bool(_PING.match(question))
    return bool(_COURTESY.search(question)) or not re.search(r"[A-Za-z]", question)


_THANKS = re.compile(r"谢|感谢|辛苦|\bthanks?\b|\bthx\b", re.I)


def thanks(question: str) -> bool:
    """Does a greeting (``greets``) thank (谢谢你啊，辛苦了, Thanks a lot!)? It is answered 不客气, not 您好."""
    return bool(_THANKS.search(question))


#: Questions about the assistant itself (你是谁？ 你叫啥名字 你是机器人吗？ 你会干啥 What can you do?). Read with a
#: conversation's subject they quoted its regulation (你是谁？ after 电动车不戴头盔罚多少？ was related 0.64 with the
#: traffic rules: the review's topic-switch grid, benchmarks/topic_switch_probe.py).
_ASSISTANT = re.compile(
    r"^(?:请问)?(?:你|您)(?:是谁|叫(?:什么|啥)(?:名字)?|是(?:不是)?(?:机器人|人工智能|AI|真人|人工)|是哪(?:里|儿|个)的|几岁|多大了|"
    r"会(?:干|做)?(?:啥|什么)|能(?:干|做)(?:啥|什么)|是男的?还是女的|是谁开发的|好笨|真笨)"
    r"|^(?:你|您)(?:都)?(?:可以|能|会)(?:干|做|回答|帮我)?(?:些|点)?(?:啥|什么)(?:问题|事)?[吗呀啊呢？?！!\s]*$"
    r"|^(?:请)?介绍一下你自己|^(?:你|您)是(?:人|什么)(?:吗|呀|啊)?[？?\s]*$"
    r"|^(?:who|what) are you\b|^what can you do\b|^are you (?:a )?(?:robot|bot|human|real person|ai)\b|^what(?:'s| is) your name\b",
    re.I)
#: Now, today, tomorrow: the moment a question about the time or the weather is about.
_NOW = r"(?:今天|今儿|今日|明天|明儿|后天|今晚|今早|明早|明晚|现在|这会儿?|这周|本周|周末|这两天|等会儿?|一会儿?|待会儿?)"
#: Asking the time now: 几点了 says "now" by itself, 几点 and 什么时间 only after 现在 (明天几点？ or 周末几点？ after 夜市在哪
#: asks when it opens: a review found the first version telling them to check their phone). The date: with a word
#: for the day (今天几号, 明天星期几).
_TIME_NOW = r"(?:几点钟?了|几点钟?啦|现在(?:是)?(?:几点钟?|什么时间))"
_DATE_ASKED = r"(?:几月几[号日]|农历几[号日]?|几[号日]|星期几|周几|礼拜几)"
#: The weather as a state (天气, 会下雨, 冷不冷); 下雨天 or 雾霾天 name a condition (下雨天呢？ after a question on work in
#: bad weather), and a bare temperature (多少度？ 温度呢？) is the weather only with a word for the day.
_WEATHER = r"(?:天气|下雨(?!天)|下雪(?!天)|冷不冷|热不热|冷吗|热吗|带伞|刮风|降温|升温)"
_TEMPERATURE = r"(?:多少度|几度|气温|温度)"
_HERE = r"(?:郑州|上街区?|河南|我们这儿?|咱们这儿?|这边)"
#: What a question on the moment is made of besides the time or the weather, the moment and the place: asking words
#: and fillers. Any other word gives it a subject of its own (现在几点能放鞭炮 这周几号能办狗证 高温天气加班有补贴吗
#: 重污染天气要停工吗 stay questions for the documents).
_FILLER = r"(?:请问|会不会|会|要|吗|呢|啊|呀|吧|啦|的|了|是|不|怎么样|咋样|如何|啥时候|什么时候|几点|啥|什么|多少|有没有|有|我|出门|需要|得|\s|[？?。！!，,～~])"
_ENGLISH_TIME = re.compile(r"^(?:what time is it|what(?:'s| is) the (?:time|date)(?: today)?|what day is (?:it|today))"
                           r"(?: now)?(?: in [a-z ]+?)?(?: now| today)?\W*$", re.I)


def about_the_assistant(question: str) -> bool:
    """Does the question ask about the assistant itself (你是谁？ 你会干啥 What can you do?)?"""
    return bool(_ASSISTANT.search(question.strip()))


def about_the_moment(question: str) -> bool:
    """Does the question ask the time, the date or the weather now (几点了？ 今天星期几 今天冷不冷？ 明天会下雨吗？), and
    nothing else? The documents give none of them; a regulation mentioning 重污染天气 made 明天天气怎么样 look on topic."""
    text = question.strip()
    if _ENGLISH_TIME.match(text):
        return True
    now = re.search(_NOW, text)
    asked = (re.search(_TIME_NOW, text) or (now and re.search(_DATE_ASKED, text)) or re.search(_WEATHER, text)
             or (now and re.search(_TEMPERATURE, text)))
    if not asked:
        return False
    rest = text
    for part in (_TIME_NOW, _DATE_ASKED, _WEATHER, _TEMPERATURE, _NOW, _HERE, _FILLER):
        rest = re.sub(part, "", rest)
    return not rest


def small_talk(question: str) -> bool:
    """Small talk: about the assistant or the moment (``about_the_assistant``, ``about_the_moment``). Not looked up,
    and in a conversation never read with its subject."""
    return about_the_assistant(question) or about_the_moment(question)
