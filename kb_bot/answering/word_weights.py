"""How telling a word of a question is: rare in the indexed passages and in general Chinese.

The answerability features (``kb_bot.answering.answerability``) weigh each word of a question by these
weights, so that 公司 or 今年 never count as "the detail the documents lack" while 利率 does.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Callable, Sequence

#: Chinese characters, runs of them, and Latin words or numbers: what a question and a passage are cut into.
CJK = re.compile(r"[\u3400-\u9fff]")
CJK_RUN = re.compile(r"[\u3400-\u9fff]+")
LATIN = re.compile(r"[a-z]{2,}|\d+(?:\.\d+)?")


def content_pairs(text: str) -> set[str]:
    """The character pairs of the runs of two or more Chinese characters in ``text`` (unlike ``grams``: no lone
    characters, no Latin words), what a passage must share to speak of the same thing."""
    return {run[i:i + 2] for run in re.findall(r"[\u4e00-\u9fff]{2,}", text) for i in range(len(run) - 1)}


def grams(text: str) -> set[str]:
    """Character bigrams of Chinese runs (a lone character stands for itself), Latin words and numbers."""
    text = text.lower()
    found = set(LATIN.findall(text))
    for run in CJK_RUN.findall(text):
        if len(run) == 1:
            found.add(run)
        found.update(run[i : i + 2] for i in range(len(run) - 1))
    return found


def _jieba():
    import jieba

    jieba.setLogLevel(40)
    jieba.initialize()
    return jieba


def jieba_dictionary():
    """jieba's dictionary (word counts), loaded once."""
    return _jieba().dt


def default_words(text: str) -> list[tuple[str, int, int]]:
    """Words of ``text`` (word, start, end), cut with jieba's full dictionary."""
    return [(w, a, b) for w, a, b in _jieba().tokenize(text.lower()) if w.strip()]


def tagged_words(text: str) -> list[tuple[str, int, int, str]]:
    """Words of ``text`` with jieba's part-of-speech tag (word, start, end, tag): n noun, v verb, m numeral, ..."""
    import jieba.posseg

    _jieba()
    words, at = [], 0
    for word, tag in jieba.posseg.dt.cut(text):
        at = text.find(word, at)  # posseg yields every piece in order; find keeps offsets right if it merged spaces
        if at < 0:
            return []
        words.append((word, at, at + len(word), tag))
        at += len(word)
    return words


def dictionary_tag(word: str) -> str:
    """jieba's part-of-speech tag of ``word`` in its dictionary ("" for a word it does not list)."""
    import jieba.posseg

    _jieba()
    return jieba.posseg.dt.word_tag_tab.get(word, "")


# A word's weight in general Chinese, from jieba's dictionary counts: words at least as common as 公司
# weigh nothing, words as rare as ten uses (or unknown) weigh fully. Without it, everyday words a corpus
# happens not to use (公司, 今年, 上次) would count as "the detail the documents lack".
_COMMON_COUNT, _RARE_COUNT = 50_000, 10


def general_weight(word: str) -> float:
    """How telling ``word`` is in general Chinese, 0 (everyday) to 1 (rare or unknown); 1 for non-Chinese."""
    if not CJK.search(word):
        return 1.0
    dictionary = _jieba().dt
    count = dictionary.FREQ.get(word, 0)
    if not count and len(word) > 1:
        # A compound the dictionary lacks (招到, 谈成) is mostly everyday speech: as telling as its rarest character.
        return max(general_weight(char) for char in word)
    low, high = math.log(dictionary.total / _COMMON_COUNT), math.log(dictionary.total / _RARE_COUNT)
    return min(max((math.log(dictionary.total / (count + 1)) - low) / (high - low), 0.0), 1.0)


class GramStats:
    """How telling each word of a question is: rare in the indexed passages and in general Chinese.

    Passage rarity is an IDF over characters and bigrams (a bigram never seen is the rarest);
    a word's weight is the smaller of that (scaled to 0..1) and its general-language weight.
    """

    SAMPLE = 20_000  # document frequencies from at most this many passages: enough for weights, quick at 100k

    def __init__(self, texts: Sequence[str], words: Callable[[str], list[tuple[str, int, int]]] | None = None):
        step = max(1, len(texts) // self.SAMPLE)
        sample = texts[::step]
        self.documents = len(sample)
        self.frequency = Counter(g for text in sample for g in grams(text) | set(text.lower()))
        self.unseen = self.idf("\x00")
        self.words = words or default_words
        #: Mostly Chinese passages (a question in another language then shares no words with them).
        self.chinese = sum(bool(CJK.search(t)) for t in sample) * 2 > len(sample)

    def idf(self, gram: str) -> float:
        """Smoothed inverse document frequency of one character or bigram."""
        return math.log((self.documents + 1) / (self.frequency.get(gram, 0) + 0.5))

    def weight(self, word: str) -> float:
        """A word's weight, 0..1: the smaller of its rarity in the passages and in general Chinese."""
        corpus = self.idf(word) if len(word) == 1 else max((self.idf(g) for g in grams(word)), default=self.unseen)
        return min(corpus / self.unseen, general_weight(word))
