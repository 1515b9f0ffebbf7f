"""Which rule a penalty clause sanctions: the articles and items a regulation's clause cites after 违反(本条例).

A regulation names the rules its fines are for by number, in many shapes: 违反本条例第十八条规定的 (the whole
article), 违反第二十九条第二、三项规定的 (items), 违反本条例第二十七条第一项至第三项 (a range), 违反本条例第十五条第（三）、
（四）项 (bracketed items), 违反本条例第十五条第一款 (a paragraph), 违反本条例第十八条除第四项以外的其他规定的 (all but an
item). To give the fine for a rule one needs the clause citing its article, and the item the conduct falls under
(``items_of``). Text rules only, on plain strings, like :mod:`kb_bot.legal`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_NUMBER = r"[零〇一二两三四五六七八九十百]+"
#: The citations of one breach after 违反(本条例, 本规定, 本办法): articles, paragraphs, items and their joints, up to the first other
#: word (规定的, 不如实介绍…: 违反本条例第十八条、第十九条，不如实介绍用人单位情况的 has no 规定). 违反《…法》 cites another law.
BREACH = re.compile(r"违反(?:本(?:条例|规定|办法|实施办法))?(第(?:第|[零〇一二两三四五六七八九十百\d]+|[（(][零〇一二两三四五六七八九十\d]+[）)]|"
                    r"[条款项、，,至除和及]|或者|以外|的其他)*)")
#: An article cited by number (第二十二条); the numeral is group 1.
ARTICLE = re.compile(rf"第({_NUMBER})条")
_PARAGRAPH = re.compile(rf"第{_NUMBER}款")
#: An item of an article as published: （三） opening a line or a clause.
_ITEM = re.compile(rf"(?:^|\n|：|；)\s*[（(]({_NUMBER})[）)]")


def numeral(text: str) -> int:
    """The value of a Chinese numeral up to 999 (十三 -> 13, 二十 -> 20, 一百零五 -> 105) or of Arabic digits."""
    if text.isdigit():
        return int(text)
    total, current = 0, 0
    for char in text:
        if char == "百":
            total += (current or 1) * 100
            current = 0
        elif char == "十":
            total += (current or 1) * 10
            current = 0
        else:
            current = _DIGITS.get(char, 0)
    return total + current


@dataclass(frozen=True)
class Scope:
    """What one clause sanctions of one article: all of it (``items`` None) but the ``excepted`` items, only some
    items, or only some paragraphs (``partial``: which paragraph a conduct falls under is not read here)."""

    items: frozenset[int] | None = None
    excepted: frozenset[int] = frozenset()
    partial: bool = False

    def covers_all(self, items: frozenset[int]) -> bool:
        """Does the clause sanction a breach of each of ``items`` (none: the article, item not known)? The conduct may
        fall under any of them: the fine is known only when one clause covers them all."""
        return all(self.covers(item) for item in items) if items else self.covers(None)

    def covers(self, item: int | None) -> bool:
        """Does the clause sanction a breach of ``item`` of the article (None: the article, item not known)?"""
        if self.partial:
            return False
        if self.items is not None:
            return item is not None and item in self.items
        return item not in self.excepted if item is not None else not self.excepted


def _items(part: str) -> frozenset[int]:
    """The item numbers a citation names: 第二、三项, 第（三）、（四）项, 第一项至第三项, 第四项至第八项."""
    found: list[int] = []
    pending_range = False
    for number, to in re.findall(rf"({_NUMBER}|\d+)|(至)", _PARAGRAPH.sub("", part)):
        if to:
            pending_range = bool(found)
            continue
        value = numeral(number)
        if pending_range and found and value > found[-1]:
            found.extend(range(found[-1] + 1, value + 1))
        else:
            found.append(value)
        pending_range = False
    return frozenset(found)


def scope(clause: str, article: str) -> Scope | None:
    """What ``clause`` sanctions of ``article`` (第十八条), or None when it cites no breach of it."""
    target = numeral(article.strip("第条"))
    for breach in BREACH.finditer(clause):
        run = breach.group(1)
        marks = list(ARTICLE.finditer(run))
        for i, mark in enumerate(marks):
            if numeral(mark.group(1)) != target:
                continue
            part = run[mark.end(): marks[i + 1].start() if i + 1 < len(marks) else len(run)]
            if "除" in part:
                return Scope(excepted=_items(part[part.index("除"):]))
            if "项" in part:
                return Scope(items=_items(part))
            if _PARAGRAPH.search(part):
                return Scope(partial=True)
            return Scope()
    return None


def breached_articles(text: str) -> set[str]:
    """The articles (第二十二条) whose breach a sentence sanctions, by number; empty when it names the conduct in words."""
    return {mark.group() for run in BREACH.findall(text) for mark in ARTICLE.finditer(run)}


def items(text: str) -> dict[int, str]:
    """The items of an article's text by number (（一）携带养犬证… -> {1: "携带养犬证…"}). An item ends at the next item or
    at the end of its line: the paragraphs after the last item are not part of it (第十八条's 残疾人携带导盲犬…不受本条
    第一款第六项至第八项规定的限制 is an exemption from item eight, not item eight: a review found 带导盲犬坐地铁罚多少 given
    the fine for item eight)."""
    marks = list(_ITEM.finditer(text))
    found: dict[int, str] = {}
    for i, mark in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        line_end = text.find("\n", mark.end())
        found.setdefault(numeral(mark.group(1)), text[mark.end(): end if line_end < 0 else min(end, line_end)])
    return found


#: A paragraph exempting someone from items of the article (残疾人携带导盲犬、扶助犬的，不受本条第一款第六项至第八项规定的限制).
_EXEMPTION = re.compile(r"([^。；\n]*?)不受([^。；\n]*?)限制")


def exempted(text: str, item: int | None, said: Callable[[str], bool]) -> bool:
    """Does a paragraph of an article's ``text`` exempt from ``item`` whoever the conduct is about, as ``said`` tells
    from the exempted party's words? A review found 盲人带导盲犬坐公交会被罚款吗 given the fine for item six, from which
    guide dogs are exempt."""
    return item is not None and any(item in _items(m.group(2)) and said(m.group(1)) for m in _EXEMPTION.finditer(text))


def chinese_numeral(value: int) -> str:
    """A number as a regulation writes it (1 -> 一, 13 -> 十三, 27 -> 二十七), up to 99."""
    digits = "零一二三四五六七八九"
    tens, ones = divmod(value, 10)
    if not tens:
        return digits[ones]
    return f"{digits[tens] if tens > 1 else ''}十{digits[ones] if ones else ''}"


def items_of(text: str, mentions: Callable[[str], float]) -> frozenset[int]:
    """The items of an article's ``text`` a conduct may fall under: those ``mentions`` scores highest beyond what the
    article's lead-in already says, above 0 (带狗坐地铁: （六）不得乘坐…地铁 and （七）不得进入…地铁站 alike, not every item
    naming the dog); empty for an article without items or a conduct none speaks of."""
    first = _ITEM.search(text)
    lead = text[: first.start()] if first else ""
    # what an item says beyond its lead-in: 携犬出户应当遵守下列规定 speaks of the dog for every item
    base = mentions(lead) if lead.strip() else 0.0
    scored = {number: round(mentions(f"{lead}\n{body}") - base, 6) for number, body in items(text).items()}
    best = max(scored.values(), default=0.0)
    return frozenset(number for number, score in scored.items() if score == best) if best > 0 else frozenset()
