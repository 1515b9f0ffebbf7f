"""Follow-up cues: which questions lean on the earlier turns of a conversation, and what they say without the cues.

An opener (那, 还有, 另外), a pronoun or demonstrative (它, 那个基地, 这种), a trailing 呢 make a question explicitly
dependent; a short one naming no place of its own may name only a new aspect. ``strip_cues`` and ``core`` give what
is left to complete it with (:mod:`kb_bot.answering.conversation`); ``names_nothing`` and ``names_only_details`` tell
a question with no thing of its own (谁来管？ 要什么材料？).
"""

from __future__ import annotations

import re

from .question_reading import ASKING_ONLY, DETAIL_WORDS, ENGLISH_QUESTION_NOISE, detail_words, named_places, without_noise
from .word_weights import CJK as _CJK, jieba_dictionary

#: A question whose content (without question words and cues) is at most this long may be elliptical.
SHORT_CORE = 8

# 还 opening a question is "also" (还引进了什么人才？), except in 还款/还贷/还钱 (to repay); 那 opens one, except as
# the demonstrative 那个/那些 (left whole for _PRONOUN, so 那个基地 does not become 个基地).
_OPENER = re.compile(r"^(?:那么|那(?![个些家里趟次位条项种件所批笔份])|还有|还(?![款贷钱清债账])|另外|此外|然后|再问一下|再问|具体来说|具体|其中|其他的|其它的|其他|其它|那在|"
                     r"and\b|what about\b|how about\b|also\b)", re.I)
_ELLIPTIC_END = re.compile(r"(?:呢|呀|嘞)[？?。！!\s]*$")
# A demonstrative with its measure word (那趟, 这种, 这位) points back like a pronoun; so do 在里面 (in the place
# just named), 相关的 (related to what was said) and 都是些 (the things just mentioned).
# 这个月 / 这周 / 那个时候 say when, not what: a time after the demonstrative points back to nothing.
_PRONOUN = re.compile(r"它们|它的|它|他们|她们|他的|她的|(?<![其吉])[他她]|"
                      r"[这那](?:个|些|家|里|趟|次|位|条|项|种|件|所|批|笔|份|方面)(?!月|星期|礼拜|周|季度|时候|阵子|年)|"
                      r"该项|上述|前面说的|刚才说的|都是些|在里面|在里边|相关的|有关的|[这那]样(?!子)")
# Asking "which ones" with nothing else (都是哪些？ 是哪几个？) leans on what was just said; in a question with content
# of its own (街道主要抓哪几个方面？) it is just how the question asks.
_BARE_ASK = re.compile(r"都是哪些|是哪几个|哪几个|哪几家")
_PRONOUN_EN = re.compile(r"\b(?:it|its|they|them|their|those|these|that|this one)\b", re.I)
# What ``core`` drops: a shorter list than QUESTION_NOISE (a follow-up's subject keeps 可以, 需要 ...).
_CORE_NOISE = re.compile(f"(?P<ab>[{ASKING_ONLY}])[不没](?P=ab)|"
                         r"有没有|是不是|能不能|可不可以|会不会|什么|怎么样|怎么|怎样|如何|多少|哪些|哪里|哪个|哪儿|哪天|"
                         r"是否|请问|一下|吗|呢|吧|啊|呀|的|了|我们|我|你们|你|是|都|在|有|也|还|再|几|谁|方面|情况|具体")
_PUNCT = re.compile(r"[\s，,。.？?！!、；;：:“”\"'‘’（）()《》]+")


def _unless_a_word(match: re.Match) -> str:
    """A pronoun to drop, but a demonstrative's measure word that begins a word stays (那个体户: 个体户, 那家电产业链:
    家电; 这家店 drops 这家): stripped whole, 那个体户呢 was read as 体户 (twentieth session)."""
    found = match.group()
    if len(found) == 2 and found[0] in "这那":
        rest = match.string[match.start() + 1 : match.start() + 4]
        words = jieba_dictionary().FREQ
        if any(words.get(rest[:n]) for n in (3, 2) if len(rest) >= n):
            return found[1]
    return ""


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
    text = _BARE_ASK.sub("", _PRONOUN.sub(_unless_a_word, text))
    text = _PRONOUN_EN.sub("", text)
    return " ".join(text.split())


def core(question: str) -> str:
    """The content characters of a question: no question words, cues, pronouns or punctuation (地铁, 网吧 stay)."""
    return _PUNCT.sub("", without_noise(strip_cues(question), "", _CORE_NOISE))


def names_nothing(question: str) -> bool:
    """Does the question name no thing at all (谁来管？ 去哪里办？: a verb and question words; 房价多少？ names 房价)?
    True when its content holds no word of two or more characters from jieba's dictionary."""
    words = jieba_dictionary().FREQ
    content = core(question)
    return not any(words.get(content[i:j]) for i in range(len(content)) for j in range(i + 2, len(content) + 1))


#: What asks for a detail without naming whose: 要/需要/带/准备/提供 (材料), 打/拨 (电话), 去/到 (地址), 是/得/可以.
_LIGHT_VERBS = re.compile(r"需要|准备|提供|可以|要|带|交|打|拨|去|到|得|啥|哪|该|应该|呀|哦|嘛|个|些|一下|都")


def names_only_details(question: str) -> bool:
    """Does the question name nothing but a detail (要什么材料？ 电话多少？ 需要啥手续): no thing of its own once its
    detail words (``DETAIL_WORDS``) are set aside? Whose materials, whose phone is the conversation's subject, or
    no one's: any passage with 材料 in it (建筑材料 of a building regulation) would seem to answer it."""
    if not detail_words(question):
        return False
    return not _LIGHT_VERBS.sub("", core(DETAIL_WORDS.sub(" ", question)))


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
    if _BARE_ASK.search(text) and len(content) <= SHORT_CORE:
        return "explicit"
    # A short question naming its place (上街区的房价是多少？) has its own subject: it stands on its own.
    if _CJK.search(text) and len(content) <= SHORT_CORE and not named_places(text):
        return "short"
    # In English, one topic word or none (what is the fine?, how much per month?, where do I apply?) may be an aspect.
    if not _CJK.search(text) and len(re.findall(r"[a-z0-9]+", ENGLISH_QUESTION_NOISE.sub(" ", text.lower()))) <= 1:
        return "short"
    return ""
