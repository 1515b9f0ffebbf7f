"""Keyword retrieval: jieba word tokens scored with BM25 (bm25s, sparse matrices).

bm25s' own splitter keeps a whole run of Chinese characters as one token, so Chinese
text is cut with jieba's search mode (which also emits the shorter words inside long
ones: 银企对接平台 -> 银企, 对接, 平台, ...). Latin words are lower-cased; punctuation and
a short list of function words are dropped.
"""

from __future__ import annotations

import logging
import re
import threading
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

log = logging.getLogger(__name__)

#: Bump when tokenisation changes: the keyword index must then be rebuilt.
TOKENIZER_VERSION = 1

_TOKEN = re.compile(r"[\w\u3400-\u9fff]")
_STOPWORDS = frozenset(
    "的 了 和 与 及 或 在 是 有 为 对 把 被 从 到 等 也 都 就 而 并 其 之 这 那 个 吗 呢 吧 啊 么 什么 怎么 怎样 "
    "没有 如何 哪些 哪里 哪个 多少 有没有 是否 可以 能 会 要 我 我们 你 你们 他 她 它 他们 请问 一下 "
    "a an the of to in on for and or is are was were be what which who how does do did can with by at from".split()
)

_jieba = None
_jieba_lock = threading.Lock()


def _get_jieba():
    """Import and initialise jieba once, quietly (its dictionary load logs to stderr)."""
    global _jieba
    if _jieba is None:
        with _jieba_lock:
            if _jieba is None:
                import jieba

                jieba.setLogLevel(logging.WARNING)
                jieba.initialize()
                _jieba = jieba
    return _jieba


def tokenize(text: str, tokenizer=None) -> list[str]:
    """Search-mode jieba tokens of ``text``, lower-cased, without punctuation or stopwords.

    ``tokenizer`` is a ``jieba.Tokenizer``; by default jieba's full dictionary.
    """
    tokenizer = tokenizer or _get_jieba()
    tokens = []
    for token in tokenizer.cut_for_search(text.lower()):
        token = token.strip()
        if token and _TOKEN.match(token) and token not in _STOPWORDS:
            tokens.append(token)
    return tokens


QUERY_DICTIONARY = "query_dict.txt"


def write_query_dictionary(vocabulary: Iterable[str], path: Path) -> None:
    """A jieba dictionary of just the index's words, with jieba's own frequencies.

    Query words missing from the index can never match, so queries only need these.
    Loading it takes milliseconds where jieba's full dictionary takes about a second,
    which is most of a cold ``kb-bot search``.
    """
    frequencies = _get_jieba().dt.FREQ
    lines = []
    for word in sorted(vocabulary):
        if not word or any(ch.isspace() for ch in word):
            continue
        lines.append(f"{word} {max(frequencies.get(word) or 0, 3)}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def query_tokenizer(path: Path):
    """A jieba tokenizer over a query dictionary written by ``write_query_dictionary``."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer(dictionary=str(path))
    tokenizer.initialize()
    return tokenizer


class KeywordIndex:
    """A BM25 index over chunk texts; scores are raw BM25 (0 where no query word matches)."""

    def __init__(self, retriever, size: int, tokenizer=None):
        self._retriever = retriever
        self.size = size
        self._tokenizer = tokenizer

    @classmethod
    def build(cls, texts: Sequence[str]) -> "KeywordIndex":
        import bm25s

        logging.getLogger("bm25s").setLevel(logging.WARNING)

        retriever = bm25s.BM25(k1=1.2, b=0.75)
        corpus_tokens = [tokenize(text) or ["\x00empty"] for text in texts]
        if corpus_tokens:
            retriever.index(corpus_tokens, show_progress=False)
        return cls(retriever, len(corpus_tokens))

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        if self.size:
            self._retriever.save(str(folder))
            write_query_dictionary(self._retriever.vocab_dict, folder / QUERY_DICTIONARY)

    @classmethod
    def load(cls, folder: Path, size: int) -> "KeywordIndex":
        import bm25s

        logging.getLogger("bm25s").setLevel(logging.WARNING)

        if not size:
            return cls(None, 0)
        retriever = bm25s.BM25.load(str(folder), mmap=False)
        dictionary = folder / QUERY_DICTIONARY
        return cls(retriever, size, query_tokenizer(dictionary) if dictionary.exists() else None)

    def search(self, query: str, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top ``k`` (indices, scores) for ``query``; only chunks with a positive score."""
        tokens = tokenize(query, self._tokenizer)
        if not self.size or not tokens:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        vocab = self._retriever.vocab_dict
        known = [t for t in tokens if t in vocab]
        if not known:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        k = min(k, self.size)
        indices, scores = self._retriever.retrieve([known], k=k, show_progress=False, n_threads=1)
        indices, scores = indices[0], scores[0]
        keep = scores > 0
        return indices[keep].astype(np.int64), scores[keep].astype(np.float32)
