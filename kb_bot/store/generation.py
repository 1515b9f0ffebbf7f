"""Generation: one complete, immutable index in ``generations/<name>/``, and how one is written and loaded.

Files of a generation (a folder of small named files, each written once)::

    manifest.json   the typed Manifest (manifest.py): format version, model, chunker, documents, checksums
    chunks.jsonl    one chunk record a line (text, document, section, offsets)
    vectors.npy     float32 (chunks x dim), L2-normalised
    dense.faiss     the DenseIndex (dense.py): exact, or HNSW with its tuned efSearch in the manifest
    keyword/        bm25s index over jieba tokens

A generation is written under ``generations/.tmp-<name>``, fsynced and renamed; nothing in it changes after.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import cached_property
from pathlib import Path
from typing import Sequence

import numpy as np

from ..chunking import Chunk
from ..errors import KbBotError, StaleIndexError
from ..files import fsync_dir, sha256_file
from ..keyword import CHUNK_TOKENS, KeywordIndex, load_chunk_tokens
from ..settings import pause_for_tests
from .cache import text_key
from .dense import ANN_THRESHOLD, DenseIndex
from .manifest import FILE_NAME as MANIFEST
from .manifest import IndexSpec, Manifest

GENERATIONS = "generations"
CHUNKS = "chunks.jsonl"
VECTORS = "vectors.npy"
KEYWORD = "keyword"


def read_chunks(path: Path) -> tuple[Chunk, ...]:
    """The chunks of a ``chunks.jsonl`` file, in index order (the one reader of that file)."""
    with open(path, encoding="utf-8") as handle:
        return tuple(Chunk.from_record(json.loads(line)) for line in handle if line.strip())


def file_checksums(folder: Path) -> dict[str, str]:
    """sha256 of every file of a generation but its manifest, by POSIX path relative to the generation."""
    return {path.relative_to(folder).as_posix(): sha256_file(path) for path in sorted(folder.rglob("*"))
            if path.is_file() and path.name != MANIFEST}


@dataclass(frozen=True)
class LoadedIndex:
    """An index generation in memory, ready to search."""

    path: Path
    manifest: Manifest
    chunks: tuple[Chunk, ...]
    vectors: np.ndarray
    dense: DenseIndex
    keyword: KeywordIndex

    @property
    def generation(self) -> str:
        """The generation's name (its folder name for manifests written before names were stored)."""
        return self.manifest.generation or self.path.name


class Generation:
    """One published generation folder; its manifest is read on first use."""

    def __init__(self, path: Path):
        self.path = path
        self.name = path.name

    def exists(self) -> bool:
        """True when the generation is complete on disk (its manifest is written last)."""
        return (self.path / MANIFEST).exists()

    @cached_property
    def manifest(self) -> Manifest:
        """The typed manifest, read once."""
        return Manifest.read(self.path)

    def chunks(self) -> tuple[Chunk, ...]:
        """The chunks, in index order."""
        return read_chunks(self.path / CHUNKS)

    def vectors(self) -> np.ndarray:
        """The chunk vectors (chunks x dim, float32, unit length)."""
        return np.load(self.path / VECTORS)

    def keyword_tokens(self) -> dict[bytes, list[str]]:
        """Tokens of each chunk text (by digest), so a refresh tokenises only new text."""
        return load_chunk_tokens(self.path / KEYWORD / CHUNK_TOKENS)

    def vectors_by_key(self, model_id: str) -> dict[str, np.ndarray]:
        """Embedding-cache key -> vector of every chunk ({} when of another model or inconsistent)."""
        if self.manifest.model_id != model_id:
            return {}
        chunks, vectors = self.chunks(), self.vectors()
        if len(chunks) != len(vectors):
            return {}
        return {text_key(model_id, chunk.embed_text): vectors[i] for i, chunk in enumerate(chunks)}

    def verify(self) -> list[str]:
        """What differs from the checksums in the manifest (empty: all files as built).

        A generation written before checksums existed has nothing to check against and passes.
        """
        expected = self.manifest.checksums
        if expected is None:
            return []
        problems = []
        for rel, digest in sorted(expected.items()):
            file = self.path / rel
            if not file.is_file():
                problems.append(f"{rel} is missing")
            elif sha256_file(file) != digest:
                problems.append(f"{rel} does not match its checksum (changed after the build)")
        return problems

    def load(self, spec: IndexSpec | None, index_dir: Path) -> LoadedIndex:
        """Everything in memory; StaleIndexError when built for other settings, ValueError/OSError when damaged."""
        manifest = self.manifest
        manifest.check_compatible(spec, index_dir)
        problems = self.verify()
        if problems:  # e.g. a valid but reordered dense.faiss: it would load and silently answer wrongly
            raise ValueError("; ".join(problems))
        chunks, vectors = self.chunks(), self.vectors()
        dense = DenseIndex.load(self.path, manifest.dense)
        keyword = KeywordIndex.load(self.path / KEYWORD, len(chunks))
        if len(chunks) != len(vectors) or dense.ntotal != len(chunks):
            raise StaleIndexError(f"the index in {index_dir} is inconsistent ({len(chunks)} chunks, {len(vectors)} vectors)",
                                  hint="run `kb-bot build` to rebuild it")
        return LoadedIndex(self.path, manifest, chunks, vectors, dense, keyword)


#: What ``new_generation_name`` makes: a published generation's name (a ``.tmp-*`` folder is a build in progress).
GENERATION_NAME = re.compile(r"\d{8}T\d{6}-[0-9a-f]{6}")


def new_generation_name() -> str:
    """Sortable by time, unique across processes: ``20261127T143208-87a846``."""
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]


def write_generation(generations: Path, manifest: Manifest, chunks: Sequence[Chunk], vectors: np.ndarray,
                     ann_threshold: int = ANN_THRESHOLD, reuse_from: Generation | None = None,
                     recall_queries: np.ndarray | None = None) -> Generation:
    """Write a complete generation under ``generations`` (not yet published); returns it.

    ``reuse_from``: a compatible generation whose keyword tokens are reused for unchanged chunk texts.
    ``recall_queries``: query vectors to measure an approximate index's recall with (see DenseIndex.build).
    """
    generations.mkdir(parents=True, exist_ok=True)
    name = new_generation_name()
    tmp = generations / f".tmp-{name}"
    try:
        tmp.mkdir()
        _write_files(tmp, name, manifest, chunks, vectors, ann_threshold, reuse_from, recall_queries)
        os.rename(tmp, generations / name)
        fsync_dir(generations)
    except BaseException as exc:  # disk full, Ctrl-C, ...: the current index stays as it was
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, OSError):
            raise KbBotError(
                f"cannot write the new index generation in {generations}: {exc.strerror or exc}",
                hint="free disk space or fix permissions, then refresh again; the previous index is still in use",
            ) from exc
        raise
    return Generation(generations / name)


def _write_files(tmp: Path, name: str, manifest: Manifest, chunks: Sequence[Chunk], vectors: np.ndarray,
                 ann_threshold: int, reuse_from: Generation | None, recall_queries: np.ndarray | None) -> None:
    """Vectors, chunks, FAISS and BM25, then the manifest with their checksums, each fsynced before the rename."""
    np.save(tmp / VECTORS, np.asarray(vectors, dtype=np.float32))
    with open(tmp / CHUNKS, "w", encoding="utf-8") as handle:
        for chunk in chunks:
            handle.write(json.dumps(chunk.to_record(), ensure_ascii=False) + "\n")
    pause_for_tests("writing")
    dense = DenseIndex.build(vectors, ann_threshold, recall_queries)
    dense.save(tmp)
    known_tokens = reuse_from.keyword_tokens() if reuse_from is not None else None
    KeywordIndex.build([chunk.embed_text for chunk in chunks], known_tokens).save(tmp / KEYWORD)
    manifest.published(name, dense.info, len(chunks), file_checksums(tmp)).write(tmp)
    for path in tmp.rglob("*"):
        if path.is_file():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())
        elif path.is_dir():
            fsync_dir(path)
    fsync_dir(tmp)
