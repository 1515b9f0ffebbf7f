"""The shipped embedding cache: vectors of the shipped documents' chunks, tracked in git.

Embedding the whole shipped corpus (~3,500 chunks) takes 6-10 minutes on two cores, so a fresh clone
would not serve within two minutes. ``documents/.kb-bot-cache/<model slug>.npz`` holds the vectors of
the shipped chunks (float16, re-normalised on load) under the same content-hash keys as the index's
embedding cache (``store.text_key``: model id + the exact text embedded). A build seeds its cache from
it before embedding, so only chunks whose text is not in it are embedded. The file names its model id
and is ignored for any other model; a key of a changed chunk text simply never matches (stale entries
are harmless and never used). The loader ignores the folder (hidden). Regenerate with
``python benchmarks/ship_cache.py`` after a chunking change.
"""

from __future__ import annotations

import hashlib
import logging
import os
import uuid
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from .store import EmbeddingCache

log = logging.getLogger(__name__)

FOLDER = ".kb-bot-cache"
FORMAT = "kb-bot-shipped-cache-1"


def shipped_path(documents: Path, model_id: str) -> Path:
    """Where the shipped cache for ``model_id`` lives in a documents folder."""
    slug = hashlib.sha1(model_id.encode("utf-8")).hexdigest()[:12]
    return documents / FOLDER / f"{slug}.npz"


def read_shipped(path: Path, model_id: str) -> dict[str, np.ndarray]:
    """Key -> float32 unit vector from a shipped cache file; {} when missing, damaged or of another model."""
    if not path.is_file():
        return {}
    try:
        with np.load(path, allow_pickle=False) as data:
            if str(data["format"]) != FORMAT or str(data["model_id"]) != model_id:
                log.info("ignoring shipped embedding cache %s (other model or format)", path)
                return {}
            keys = [str(k) for k in data["keys"]]
            vectors = data["vectors"].astype(np.float32)
    except (OSError, ValueError, KeyError) as exc:
        log.warning("ignoring damaged shipped embedding cache %s (%s)", path, exc)
        return {}
    if len(keys) != len(vectors):
        return {}
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors = vectors / np.maximum(norms, 1e-12)  # float16 storage: back to unit length
    return dict(zip(keys, vectors))


def write_shipped(path: Path, model_id: str, keys: Sequence[str], vectors: np.ndarray) -> None:
    """Write a shipped cache file (float16) atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    order = np.argsort(np.array(keys))  # stable bytes for the same content: a clean git diff
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:6]}.tmp")
    with open(tmp, "wb") as handle:
        np.savez_compressed(handle, format=np.array(FORMAT), model_id=np.array(model_id),
                            keys=np.array([keys[i] for i in order]),
                            vectors=np.asarray(vectors, dtype=np.float16)[order])
    os.replace(tmp, path)


def seed_cache(cache: EmbeddingCache, keys: Iterable[str], documents: Path) -> int:
    """Copy into ``cache`` the shipped vectors of ``keys`` it lacks; returns how many were copied."""
    missing = [k for k in dict.fromkeys(keys) if cache.get(k) is None]
    if not missing:
        return 0
    shipped = read_shipped(shipped_path(documents, cache.model_id), cache.model_id)
    found = [k for k in missing if k in shipped]
    if found:
        cache.add(found, np.stack([shipped[k] for k in found]))
        log.info("took %d vectors from the shipped embedding cache", len(found))
    return len(found)
