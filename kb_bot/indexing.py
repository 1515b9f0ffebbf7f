"""Indexing: documents folder -> index generation (full build or incremental refresh).

One pipeline serves ``kb-bot build`` and ``kb-bot refresh``:

1. load and clean every document (unusable files are skipped with a reason);
2. compare content hashes with the current manifest: added, changed, removed, unchanged;
3. chunk, and look every chunk up in the embedding cache by content hash (then among the
   vectors of the current generation, should the cache have been deleted);
4. embed only what is missing, shortest texts first, persisting each batch to the cache
   (so a killed build resumes where it stopped);
5. write a new generation beside the old one (a refresh reuses the keyword tokens of unchanged
   chunks) and publish it atomically.

A refresh with nothing changed writes nothing and never loads the model.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from .chunking import CHUNKER_VERSION, Chunk, chunk_documents
from .embedding import Embedder, model_id_for
from .errors import KbBotError, StaleIndexError
from .keyword import TOKENIZER_VERSION
from .loading import SUPPORTED_SUFFIXES, Skipped, content_hash, iter_candidate_files, load_documents
from .settings import Settings
from .shipped_cache import seed_cache
from .store import (
    ANN_RECALL_SAMPLE,
    ANN_THRESHOLD,
    FORMAT_VERSION,
    GENERATIONS,
    EmbeddingCache,
    IndexLock,
    check_compatible,
    pause_for_tests,
    read_manifest,
    text_key,
    utc_now,
    write_generation,
)

log = logging.getLogger(__name__)

EMBED_BATCH = 32


@dataclass(frozen=True)
class BuildReport:
    """What a build or refresh did."""

    added: tuple[str, ...]
    changed: tuple[str, ...]
    removed: tuple[str, ...]
    unchanged: int
    documents: int
    chunks: int
    chunks_embedded: int
    seconds: float
    skipped: tuple[Skipped, ...] = ()
    generation: str | None = None  # None when nothing changed and nothing was written
    model_id: str = ""

    def to_json(self) -> dict:
        return {
            "added": list(self.added),
            "changed": list(self.changed),
            "removed": list(self.removed),
            "unchanged": self.unchanged,
            "documents": self.documents,
            "chunks": self.chunks,
            "chunks_embedded": self.chunks_embedded,
            "seconds": round(self.seconds, 3),
            "skipped": [{"path": s.path, "reason": s.reason} for s in self.skipped],
            "generation": self.generation,
        }


def expected_manifest(settings: Settings) -> dict:
    """The manifest fields an index must match to be used with ``settings``."""
    return {
        "model_id": model_id_for(settings.model),
        "chunker": {"size": settings.chunk_size, "overlap": settings.chunk_overlap, "version": CHUNKER_VERSION},
        "tokenizer_version": TOKENIZER_VERSION,
    }


def _generation_vectors(index_dir: Path, manifest: dict | None, model_id: str) -> dict[str, np.ndarray]:
    """Cache key -> vector of every chunk of the generation ``manifest`` describes ({} when unusable)."""
    if not manifest or manifest.get("model_id") != model_id or not manifest.get("generation"):
        return {}
    folder = index_dir / GENERATIONS / manifest["generation"]
    try:
        vectors = np.load(folder / "vectors.npy")
        with open(folder / "chunks.jsonl", encoding="utf-8") as handle:
            chunks = [Chunk.from_record(json.loads(line)) for line in handle if line.strip()]
    except (OSError, ValueError, TypeError) as exc:
        log.warning("cannot reuse the vectors of generation %s (%s)", manifest["generation"], exc)
        return {}
    if len(chunks) != len(vectors):
        return {}
    return {text_key(model_id, chunk.embed_text): vectors[i] for i, chunk in enumerate(chunks)}


def _embed_missing(
    chunks: list[Chunk],
    cache: EmbeddingCache,
    get_embedder: Callable[[], Embedder],
    progress: bool,
    stored: Callable[[], dict[str, np.ndarray]] = dict,
) -> tuple[np.ndarray, int]:
    """Vectors for all chunks, embedding only those not in the cache. Returns (vectors, embedded count).

    ``stored`` gives vectors already in the index (by cache key); it is asked only on a cache miss.
    """
    keys = [text_key(cache.model_id, chunk.embed_text) for chunk in chunks]
    missing = {k: c.embed_text for k, c in zip(keys, chunks) if cache.get(k) is None}
    if missing:
        known = stored()
        reuse = [k for k in missing if k in known]
        if reuse:  # the cache was deleted or compacted away: take the vectors the index already has
            cache.add(reuse, np.stack([known[k] for k in reuse]))
            for key in reuse:
                del missing[key]
    missing = sorted(missing.items(), key=lambda item: len(item[1]))  # similar lengths batch together
    if missing:
        embedder = get_embedder()
        bar = None
        if progress:
            from tqdm import tqdm

            tty = sys.stderr.isatty()  # a terminal: one bar that goes away; a log: an update every 5 s, the last kept
            bar = tqdm(total=len(missing), desc="embedding", unit="chunk", file=sys.stderr, leave=not tty,
                       mininterval=0.1 if tty else 5.0)
        for start in range(0, len(missing), EMBED_BATCH):
            batch = missing[start : start + EMBED_BATCH]
            vectors = embedder.embed_passages([text for _, text in batch])
            cache.add([key for key, _ in batch], vectors)
            if bar is not None:
                bar.update(len(batch))
            if start == 0:
                pause_for_tests("embedding")
        if bar is not None:
            bar.close()
    if not chunks:
        return np.zeros((0, 0), dtype=np.float32), len(missing)
    return np.stack([cache.get(key) for key in keys]).astype(np.float32), len(missing)


_CLAUSE = re.compile(r"[^。！？!?；;\n]{8,}")


def pseudo_questions(chunks: list[Chunk], get_embedder: Callable[[], Embedder], sample: int = ANN_RECALL_SAMPLE,
                     seed: int = 0) -> np.ndarray | None:
    """Query vectors for measuring an approximate index's recall: the start (at most 14 characters) of a
    clause of each of ``sample`` random chunks, embedded as a query, so recall is measured where users'
    questions land. None when the model cannot be loaded (the store then falls back to chunk vectors).

    Measured at 100k chunks against 300 real questions (HNSW recall@10 at efSearch 128/256/512: 0.971,
    0.987, 0.995): these give 0.976/0.986/0.991; whole clauses up to 40 characters, 0.989/0.989/0.991, are
    too easy (they sit next to their own chunk), four random words too hard (0.868/0.939/0.978)."""
    rng = np.random.default_rng(seed)
    picked = rng.choice(len(chunks), size=min(sample, len(chunks)), replace=False)
    texts = []
    for i in picked.tolist():
        clauses = _CLAUSE.findall(chunks[i].text) or [chunks[i].text]
        texts.append(clauses[int(rng.integers(len(clauses)))][:14])
    try:
        return get_embedder().embed_queries(texts)
    except KbBotError as exc:
        log.warning("cannot embed questions to measure the approximate index's recall (%s): using chunk vectors", exc.message)
        return None


def _unchanged(settings: Settings, expected: dict, started: float) -> BuildReport | None:
    """The report of a refresh with nothing to do, or None when anything may have changed.

    True only when the folder holds exactly the indexed files, byte for byte, and no file was skipped
    last time (a skipped file may have been fixed); reading and hashing is far cheaper than parsing.
    """
    try:
        manifest = read_manifest(settings.index)
    except (KbBotError, OSError, ValueError):
        return None
    if manifest is None or manifest.get("skipped"):
        return None
    try:
        check_compatible(manifest, expected, settings.index)
    except StaleIndexError:
        return None
    indexed = manifest.get("documents", {})
    seen = 0
    for path in iter_candidate_files(settings.documents, exclude=[settings.index]):
        rel = path.relative_to(settings.documents).as_posix()
        info = indexed.get(rel)
        if info is None or path.is_symlink():
            return None
        try:
            if path.stat().st_size != info["size"] or content_hash(path.read_bytes()) != info["hash"]:
                return None
        except OSError:
            return None
        seen += 1
    if seen != len(indexed):
        return None
    return BuildReport((), (), (), seen, seen, manifest.get("chunk_count", 0), 0, time.perf_counter() - started,
                       (), None, manifest["model_id"])


def build_index(
    settings: Settings,
    get_embedder: Callable[[], Embedder],
    *,
    full: bool = False,
    progress: bool = False,
    lock_timeout: float = 0.0,
    ann_threshold: int = ANN_THRESHOLD,
) -> BuildReport:
    """Build (``full=True``: ignore the current index) or refresh the index of ``settings``."""
    started = time.perf_counter()
    documents_dir, index_dir = settings.documents, settings.index
    if not documents_dir.is_dir():
        raise KbBotError(f"documents folder {documents_dir} does not exist",
                         hint="create it and add .md/.txt/.docx/.pdf/.html files, or pass --documents DIR")
    expected = expected_manifest(settings)

    with IndexLock(index_dir, timeout=lock_timeout):
        # 0. Nothing changed? Compare file hashes with the manifest before parsing anything.
        if not full:
            unchanged_report = _unchanged(settings, expected, started)
            if unchanged_report is not None:
                return unchanged_report

        # 1. Load and clean documents.
        loaded = load_documents(documents_dir, settings.max_file_bytes, exclude=[index_dir],
                                max_seconds=settings.max_file_seconds)
        if not loaded.documents:
            reasons = "; ".join(f"{s.path}: {s.reason}" for s in loaded.skipped[:3])
            raise KbBotError(
                f"no usable documents in {documents_dir}" + (f" (skipped {reasons})" if reasons else ""),
                hint=f"add files of type {', '.join(SUPPORTED_SUFFIXES)}",
            )

        # 2. Compare with the current index.
        try:
            current = read_manifest(index_dir)
        except (KbBotError, OSError, ValueError) as exc:  # CURRENT names a missing or damaged generation
            if not full:
                log.warning("cannot read the current index (%s): building everything", exc)
            current = None
        previous = None if full else current
        if previous is not None:
            try:
                check_compatible(previous, expected, index_dir)
            except StaleIndexError as exc:
                log.warning("%s: refreshing everything", exc.message)
                previous = None
        old_docs = (previous or {}).get("documents", {})
        new_docs = {d.path: d for d in loaded.documents}
        added = tuple(p for p in new_docs if p not in old_docs)
        changed = tuple(p for p in new_docs if p in old_docs and old_docs[p]["hash"] != new_docs[p].content_hash)
        removed = tuple(p for p in old_docs if p not in new_docs)
        unchanged = len(new_docs) - len(added) - len(changed)
        if previous is not None and not (added or changed or removed):
            return BuildReport((), (), (), unchanged, len(new_docs), previous.get("chunk_count", 0), 0,
                               time.perf_counter() - started, loaded.skipped, None, previous["model_id"])

        # 3-4. Chunk, reuse cached vectors, embed the rest.
        chunks = chunk_documents(loaded.documents, settings.chunk_size, settings.chunk_overlap)
        cache = EmbeddingCache(index_dir, expected["model_id"])
        seed_cache(cache, (text_key(cache.model_id, c.embed_text) for c in chunks), documents_dir)
        vectors, embedded = _embed_missing(
            chunks, cache, get_embedder, progress,
            stored=lambda: _generation_vectors(index_dir, current, expected["model_id"]),
        )

        # 5. Write and publish the new generation.
        now = utc_now()
        per_doc: dict[str, int] = {}
        for chunk in chunks:
            per_doc[chunk.doc] = per_doc.get(chunk.doc, 0) + 1
        manifest = {
            "format": "kb-bot-index",
            "format_version": FORMAT_VERSION,
            **expected,
            "dim": int(vectors.shape[1]),
            "built_at": now,
            "documents": {
                path: {
                    "hash": doc.content_hash,
                    "size": doc.size,
                    "title": doc.title,
                    "unit": doc.unit,
                    "chunks": per_doc.get(path, 0),
                    "indexed_at": old_docs[path]["indexed_at"]
                    if path in old_docs and old_docs[path]["hash"] == doc.content_hash
                    else now,
                }
                for path, doc in new_docs.items()
            },
            "skipped": [{"path": s.path, "reason": s.reason} for s in loaded.skipped],
        }
        reuse_from = index_dir / GENERATIONS / previous["generation"] if previous and previous.get("generation") else None
        recall_queries = pseudo_questions(chunks, get_embedder) if len(chunks) > ann_threshold else None
        generation = write_generation(index_dir, manifest, chunks, vectors, ann_threshold, reuse_from, recall_queries)
        cache.compact(text_key(cache.model_id, c.embed_text) for c in chunks)
        return BuildReport(added, changed, removed, unchanged, len(new_docs), len(chunks), embedded,
                           time.perf_counter() - started, loaded.skipped, generation, expected["model_id"])
