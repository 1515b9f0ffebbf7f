"""Embedding cache: vectors by content hash under one model, kept in the index folder across generations.

A build looks every chunk up here before embedding it, so a refresh embeds only new text and a build killed
halfway resumes where it stopped (each batch is persisted as its own shard the moment it is embedded).
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from ..files import atomic_file

log = logging.getLogger(__name__)

FOLDER = "cache"


def text_key(model_id: str, text: str) -> str:
    """Cache key of one embedded text under one model (the shipped cache uses the same keys)."""
    return hashlib.sha1(f"{model_id}\x1f{text}".encode("utf-8")).hexdigest()


def model_slug(model_id: str) -> str:
    """A short file-name-safe stand-in for a model id (model ids contain slashes)."""
    return hashlib.sha1(model_id.encode("utf-8")).hexdigest()[:12]


class EmbeddingCache:
    """Vectors by content hash, appended shard by shard so a killed build keeps its work."""

    def __init__(self, index_dir: Path, model_id: str):
        self.folder = index_dir / FOLDER / model_slug(model_id)
        self.model_id = model_id
        self._vectors: dict[str, np.ndarray] = {}
        self._loaded = False

    def key(self, text: str) -> str:
        """The key of ``text`` under this cache's model."""
        return text_key(self.model_id, text)

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        if not self.folder.exists():
            return
        for shard in sorted(self.folder.glob("shard-*.npz")):
            try:
                with np.load(shard) as data:
                    for key, vector in zip(data["keys"], data["vectors"]):
                        self._vectors[str(key)] = vector
            except (OSError, ValueError, KeyError) as exc:  # a shard cut short by a crash: ignore it
                log.warning("ignoring damaged embedding cache shard %s (%s)", shard.name, exc)

    def get(self, key: str) -> np.ndarray | None:
        """The cached vector of ``key``, or None."""
        self._load()
        return self._vectors.get(key)

    def __len__(self) -> int:
        self._load()
        return len(self._vectors)

    def add(self, keys: Sequence[str], vectors: np.ndarray) -> None:
        """Remember vectors and persist them at once as a new shard."""
        self._load()
        if not len(keys):
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        for key, vector in zip(keys, vectors):
            self._vectors[key] = vector
        name = f"shard-{time.time_ns()}-{uuid.uuid4().hex[:6]}.npz"
        # Hidden until renamed: a shard cut short by a crash is never read (see _load), only left to compact.
        with atomic_file(self.folder / name) as handle:
            np.savez(handle, keys=np.array(list(keys)), vectors=np.asarray(vectors, dtype=np.float32))

    def compact(self, keep: Iterable[str]) -> None:
        """Rewrite the cache as one shard holding only ``keep`` (the live chunks)."""
        self._load()
        keep = [k for k in dict.fromkeys(keep) if k in self._vectors]
        old = list(self.folder.glob("shard-*.npz")) + list(self.folder.glob(".shard-*.tmp"))
        if len(old) <= 1 and len(keep) == len(self._vectors):
            return
        self._vectors = {k: self._vectors[k] for k in keep}
        if keep:
            self.add(keep, np.stack([self._vectors[k] for k in keep]))
        newest = set(self.folder.glob("shard-*.npz")) - set(old)
        for path in old:
            if path not in newest:
                path.unlink(missing_ok=True)
