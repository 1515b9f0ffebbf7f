"""Store: the index folder on disk, written atomically in generations, owned by one :class:`IndexFolder`.

* ``folder.py``     IndexFolder: lock, CURRENT/PREVIOUS, publish, rollback, prune, embedding cache, and the
                    documents-versus-index diff;
* ``generation.py`` Generation: one immutable index folder (chunks, vectors, dense, keyword) and its writing;
* ``manifest.py``   Manifest: the typed, versioned ``manifest.json`` (read and written there only);
* ``dense.py``      DenseIndex: exact or HNSW search with build-time recall tuning;
* ``cache.py``      EmbeddingCache: vectors by content hash, shard by shard;
* ``shipped_cache.py`` the embedding cache shipped for the shipped documents, seeded into a new index folder.

The functions below are short spellings of IndexFolder methods for scripts and tests that hold a path.
"""

from __future__ import annotations

from pathlib import Path

from ..settings import PAUSE_POINTS, pause_for_tests  # the test hook lived here before settings owned KB_BOT_*
from .cache import EmbeddingCache, text_key
from .dense import (
    ANN_MIN_RECALL,
    ANN_RECALL_MARGIN,
    ANN_RECALL_SAMPLE,
    ANN_SEARCH_K,
    ANN_THRESHOLD,
    HNSW_EF_CONSTRUCTION,
    HNSW_EF_SEARCH,
    HNSW_EF_SEARCH_STEPS,
    HNSW_M,
    TIE_TOLERANCE,
    DenseIndex,
    dense_kind,
    measure_ann_recall,
    recall_with_ties,
)
from .folder import CURRENT, PREVIOUS, DocumentsDiff, IndexFolder, IndexLock
from .generation import GENERATIONS, Generation, LoadedIndex, read_chunks
from .manifest import FORMAT_VERSION, DenseInfo, DocumentEntry, IndexSpec, Manifest, SkippedEntry

__all__ = [
    "ANN_MIN_RECALL", "ANN_RECALL_MARGIN", "ANN_RECALL_SAMPLE", "ANN_SEARCH_K", "ANN_THRESHOLD", "CURRENT",
    "FORMAT_VERSION", "GENERATIONS", "HNSW_EF_CONSTRUCTION", "HNSW_EF_SEARCH", "HNSW_EF_SEARCH_STEPS", "HNSW_M",
    "PAUSE_POINTS", "PREVIOUS", "TIE_TOLERANCE", "DenseIndex", "DenseInfo", "DocumentEntry", "DocumentsDiff",
    "EmbeddingCache", "Generation", "IndexFolder", "IndexLock", "IndexSpec", "LoadedIndex", "Manifest",
    "SkippedEntry", "current_generation", "dense_kind", "load_index", "measure_ann_recall", "pause_for_tests",
    "read_chunks", "read_manifest", "recall_with_ties", "text_key",
]


def read_manifest(index_dir: Path) -> Manifest | None:
    """The current manifest of the index in ``index_dir``, or None when no index exists."""
    return IndexFolder(index_dir).manifest()


def load_index(index_dir: Path, spec: IndexSpec | None = None) -> LoadedIndex:
    """The current generation of ``index_dir`` in memory (see :meth:`IndexFolder.load`)."""
    return IndexFolder(index_dir).load(spec)


def current_generation(index_dir: Path) -> Path | None:
    """Folder of the generation readers should use, or None when no index was built."""
    generation = IndexFolder(index_dir).current()
    return generation.path if generation is not None else None
