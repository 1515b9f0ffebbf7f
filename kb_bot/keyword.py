"""Keyword retrieval: jieba word tokens scored with BM25 (bm25s, sparse matrices).

bm25s' own splitter keeps a whole run of Chinese characters as one token, so Chinese
text is cut with jieba's search mode (which also emits the shorter words inside long
ones: 银企对接平台 -> 银企, 对接, 平台, ...). Latin words are lower-cased; punctuation and
a short list of function words are dropped.

Every two adjacent Chinese characters are a token too (``#`` + the pair, apart from the words): a citizen's
word that jieba cuts differently from the regulation's still shares its pairs (宅基地 / 宅基, 基地; 入职多久 cut
入 / 职多久 by the index-only query dictionary still gives 多久). On the 585 train citizen questions, the
expected article in the top 3 of the ask path's ranking: 0.726 -> 0.733 (top 1 0.557 -> 0.568).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np

log = logging.getLogger(__name__)

#: Bump when tokenisation changes: the keyword index must then be rebuilt.
TOKENIZER_VERSION = 2  # 2: character pairs added

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
    for run in _CJK_RUN.findall(text):
        tokens.extend(PAIR + run[i : i + 2] for i in range(len(run) - 1))
    return tokens


#: Marks a character-pair token, so 银企 the pair never counts as 银企 the word.
PAIR = "#"
_CJK_RUN = re.compile(r"[\u3400-\u9fff]{2,}")


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
        if not word or word.startswith(PAIR) or any(ch.isspace() for ch in word):
            continue  # character pairs are cut by tokenize() itself, never by jieba
        lines.append(f"{word} {max(frequencies.get(word) or 0, 3)}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def query_tokenizer(path: Path):
    """A jieba tokenizer over a query dictionary written by ``write_query_dictionary``."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer(dictionary=str(path))
    # jieba caches a parsed dictionary as /tmp/jieba.u<hash>.cache, one per path: one left behind per
    # generation. Keep it beside the dictionary instead (written at build time, inside the generation).
    tokenizer.tmp_dir = str(path.parent)
    tokenizer.cache_file = QUERY_CACHE
    tokenizer.initialize()
    return tokenizer


#: jieba's parsed form of the query dictionary, next to it.
QUERY_CACHE = "query_dictionary.cache"


CHUNK_TOKENS = "chunk_tokens.npz"


def text_digest(text: str) -> bytes:
    """The key a text's tokens are stored under."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()


def save_chunk_tokens(digests: Sequence[bytes], corpus_tokens: Sequence[Sequence[str]], path: Path) -> None:
    """Every chunk's tokens under its text's digest, so a refresh re-cuts only new texts (jieba takes ~1 ms
    a chunk: 100 s at 100k)."""
    vocabulary: dict[str, int] = {}
    ids = [vocabulary.setdefault(token, len(vocabulary)) for tokens in corpus_tokens for token in tokens]
    offsets = np.cumsum([0] + [len(tokens) for tokens in corpus_tokens], dtype=np.int64)
    with open(path, "wb") as handle:
        np.savez(handle, version=np.int64(TOKENIZER_VERSION),
                 keys=np.frombuffer(b"".join(digests), dtype=np.uint8).reshape(-1, 16),
                 vocabulary=np.array(list(vocabulary), dtype=str), ids=np.asarray(ids, dtype=np.int32), offsets=offsets)


def load_chunk_tokens(path: Path) -> dict[bytes, list[str]]:
    """Text digest -> tokens saved by :func:`save_chunk_tokens`; {} when missing, damaged or from another tokenizer."""
    try:
        with np.load(path, allow_pickle=False) as data:
            if int(data["version"]) != TOKENIZER_VERSION:
                return {}
            keys, vocabulary, ids, offsets = data["keys"], data["vocabulary"].tolist(), data["ids"], data["offsets"]
    except (OSError, ValueError, KeyError) as exc:
        if not isinstance(exc, FileNotFoundError):
            log.warning("cannot reuse the keyword tokens in %s (%s): re-cutting every chunk", path, exc)
        return {}
    words = [vocabulary[i] for i in ids.tolist()]
    bounds = offsets.tolist()
    raw = keys.tobytes()
    return {raw[16 * n : 16 * n + 16]: words[bounds[n] : bounds[n + 1]] for n in range(len(keys))}


class KeywordIndex:
    """A BM25 index over chunk texts; scores are raw BM25 (0 where no query word matches)."""

    def __init__(self, retriever, size: int, tokenizer=None):
        self._corpus: tuple[list[bytes], list[list[str]]] | None = None  # (text digests, tokens): build() for save()
        self._retriever = retriever
        self.size = size
        self._tokenizer = tokenizer

    @classmethod
    def build(cls, texts: Sequence[str], known_tokens: Mapping[bytes, list[str]] | None = None) -> "KeywordIndex":
        """Index ``texts``; ``known_tokens`` (from :func:`load_chunk_tokens`) spares re-cutting unchanged texts."""
        import bm25s

        logging.getLogger("bm25s").setLevel(logging.WARNING)

        known_tokens = known_tokens or {}
        digests = [text_digest(text) for text in texts]
        corpus_tokens = []
        for text, digest in zip(texts, digests):
            tokens = known_tokens.get(digest)
            corpus_tokens.append(tokens if tokens is not None else (tokenize(text) or ["\x00empty"]))
        retriever = bm25s.BM25(k1=1.2, b=0.75)
        if corpus_tokens:
            retriever.index(corpus_tokens, show_progress=False)
        index = cls(retriever, len(corpus_tokens))
        index._corpus = (digests, corpus_tokens)
        return index

    def save(self, folder: Path) -> None:
        """Write the index into ``folder``: bm25s's files, the query dictionary with its jieba cache, the chunks' tokens."""
        folder.mkdir(parents=True, exist_ok=True)
        if self.size:
            self._retriever.save(str(folder))
            write_query_dictionary(self._retriever.vocab_dict, folder / QUERY_DICTIONARY)
            query_tokenizer(folder / QUERY_DICTIONARY)  # writes jieba's cache now, before the generation is sealed
            stamp = os.stat(folder / QUERY_CACHE).st_mtime_ns  # jieba trusts a cache newer than its dictionary
            os.utime(folder / QUERY_DICTIONARY, ns=(stamp - 1_000_000_000, stamp - 1_000_000_000))
            if self._corpus is not None:
                save_chunk_tokens(*self._corpus, folder / CHUNK_TOKENS)

    @classmethod
    def load(cls, folder: Path, size: int) -> "KeywordIndex":
        """Read an index written by ``save``."""
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
        # Scores of every chunk from the sparse matrix, then the top k (bm25s' retrieve() would also start
        # a thread pool and a progress bar per query: 3 of the 5 ms a query took at 100k chunks).
        scores = np.asarray(self._retriever.get_scores(known), dtype=np.float32)
        k = min(k, self.size)
        top = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
        top = top[np.lexsort((top, -scores[top]))]  # best first; ties by chunk order
        top = top[scores[top] > 0]
        return top.astype(np.int64), scores[top]
