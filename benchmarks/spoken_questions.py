"""Spoken variants of generated questions: shorter, reworded, framed the way citizens type.

The public questions (CMRC2018) and the questions made from regulation articles copy the wording of
the sentence that answers them, so a model fitted on them learns that an answer shares the
question's phrases, and then refuses a citizen's paraphrase (``企业缺人手区里能帮忙吗``). Nobody
labels paraphrases by hand here; each generated question instead gets one variant made by rules
that mimic how citizens write:

* **shorten** — the three to six most telling content words stay (rarest in general Chinese, by
  jieba's dictionary counts), in their order, with the question word and any negation; the rest
  go (the generated questions are whole clauses; a citizen's question is a few words);
* **reword** — a word the synonym table knows is replaced by how citizens say it (用工 -> 招人), from the
  table as it was when the sets were made (``benchmarks/data/spoken_reword.txt``, frozen).
  (Replacing other words by an everyday word sharing a character was tried: it made nonsense such
  as 主管部门 -> 荆门, which says nothing about paraphrase.)
* **frame** — a colloquial opening or ending (我想问下, 听说…, …呀).

The variant keeps the question's answer, document and hold-out status, so it is answerable or
near-domain exactly when the original is. It is a stand-in for real paraphrases, not one: the
hand-written sets in ``tests/data`` remain the check of whether it transfers.
"""

from __future__ import annotations

import random
import re
from functools import lru_cache
from pathlib import Path

_QUESTION_WORDS = re.compile(r"多少|哪个部门|哪些|哪里|什么|怎么|如何|几|谁|吗|是否|能否|有没有|是不是|哪")
_PUNCT = re.compile(r"^[\s，,。？?！!：:；;、“”\"'（）()]+$")
_OPENINGS = ("", "", "", "请问", "我想问下，", "问一下", "听说", "想了解下，", "咨询一下，")
_ENDINGS = ("？", "？", "", "呀？", "啊？", "呢？")
REWORD_TABLE = 0.6
REWORD_FILE = Path(__file__).with_name("data") / "spoken_reword.txt"


@lru_cache(maxsize=1)
def _citizen_words() -> dict[str, list[str]]:
    """Document word -> how citizens say it, read backwards from the Chinese synonym table as it stood when the
    generated sets were made (``benchmarks/data/spoken_reword.txt``): the shipped table grows, the test questions
    made from it must not change with it."""
    from kb_bot.synonyms import parse_rules

    spoken: dict[str, list[str]] = {}
    for rule in parse_rules(REWORD_FILE.read_text(encoding="utf-8"), str(REWORD_FILE)):
        for target in rule.targets:
            spoken.setdefault(target, []).extend(s for s in rule.terms if s != target)
    return spoken


def _reword(word: str, rng: random.Random) -> str:
    spoken = _citizen_words().get(word)
    if spoken and rng.random() < REWORD_TABLE:
        return rng.choice(spoken)
    return word


_POLITE = re.compile(r"^(?:请问|我想问一下|我想问下|想问一下|想问下|想知道|问一下)[，,]?")
_KEEP = re.compile(r"^(?:不|未|没|非|禁止|不得)")
_ASKED_NOUN = re.compile(r"部门|单位|机关|日|天|个月|年|元|次|人|家")


def spoken_variant(question: str, rng: random.Random) -> str:
    """One citizen-style variant of ``question`` (see the module docstring); the question word stays."""
    import jieba

    from kb_bot.answering.word_weights import general_weight

    plain = _POLITE.sub("", question.strip()).rstrip("？?。")
    words = [w for w in jieba.lcut(plain) if w.strip() and not _PUNCT.match(w)]
    asking = {i for i, w in enumerate(words) if _QUESTION_WORDS.search(w)}
    # 哪个 + 部门, 多少 + 日: the word after a question word belongs to what is asked
    asking |= {i + 1 for i in asking if i + 1 < len(words) and _ASKED_NOUN.fullmatch(words[i + 1])}
    content = [i for i in range(len(words)) if i not in asking and not _KEEP.match(words[i])]
    ranked = sorted(content, key=lambda i: (-general_weight(words[i]) * len(words[i]) ** 0.5, i))
    kept = set(ranked[: rng.randint(3, 6)]) | asking | {i for i in range(len(words)) if _KEEP.match(words[i])}
    body = "".join(_reword(w, rng) if i in content else w for i, w in enumerate(words) if i in kept) or question
    opening = "" if re.match(r"请问|我想|想知道|想问", body) else rng.choice(_OPENINGS)
    return f"{opening}{body}{rng.choice(_ENDINGS)}"
