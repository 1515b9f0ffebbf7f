"""Store: the index folder on disk, written atomically in generations.

Layout of ``index/``::

    CURRENT                  name of the generation readers use (replaced atomically)
    PREVIOUS                 the generation before it, for ``kb-bot rollback``
    generations/<name>/      one complete index:
        manifest.json          format version, model id, dimension, chunker, documents, build time
        chunks.jsonl           one chunk record a line (text, document, section, offsets)
        vectors.npy            float32 (chunks x dim), L2-normalised
        dense.faiss            FAISS index over the vectors (exact inner product, or HNSW when large,
                               with the efSearch that measured recall@10 >= 0.98 in the manifest)
        keyword/               bm25s index over jieba tokens
    cache/<model>/shard-*.npz embedding cache by content hash (survives a killed build)
    .lock                    held by a build/refresh; a second one waits, then fails clearly

A generation is written under ``generations/.tmp-<name>``, renamed, and only then
published by replacing ``CURRENT``; a reader never sees a half-written index and a
build killed at any point leaves the last good one in place.

Test hook: with ``KB_BOT_TEST_PAUSE_AT=embedding|writing|publishing`` in the environment a build or
refresh announces ``kb-bot: test hook: paused at <point>`` on stderr and sleeps there
(``KB_BOT_TEST_PAUSE_SECONDS``, default 60), so the crash-safety tests can ``kill -9`` it at a known
point (see :func:`pause_for_tests`). It is never set outside tests.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from .chunking import Chunk
from .errors import IndexBusyError, IndexMissingError, KbBotError, StaleIndexError
from .keyword import CHUNK_TOKENS, KeywordIndex, load_chunk_tokens

log = logging.getLogger(__name__)

#: Bump when the on-disk layout changes.
FORMAT_VERSION = 1
#: Above this many chunks the dense index is HNSW instead of exact search. Measured (benchmarks/results.md):
#: an exact scan of 384-dim vectors costs ~5 ms p50 at 20k chunks and 14-21 ms at 100k, a third of the
#: 30 ms search budget before the query embedding (~17 ms) is counted; HNSW answers in 1-3 ms there.
ANN_THRESHOLD = 50_000
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 200  # 80 -> 200 raised recall@10 by ~3 points at 100k for 2x the build time
#: efSearch values tried in turn at build time until the measured recall@10 reaches ANN_MIN_RECALL.
HNSW_EF_SEARCH_STEPS = (128, 256, 512, 1024)  # below 100 means 100: faiss searches max(efSearch, k)
HNSW_EF_SEARCH = 256  # for generations written before efSearch was tuned and stored in the manifest
ANN_MIN_RECALL = 0.98
#: The build measures recall on pseudo-questions (fragments of sampled chunks through the model's query
#: side), not on users' questions: tune to a little more than the bar.
ANN_RECALL_MARGIN = 0.005
#: Pseudo-questions (or, without a model, leave-one-out chunk vectors) for measuring recall at build time.
ANN_RECALL_SAMPLE = 300
#: Candidates the retriever asks the dense index for (``Settings.candidates``' default); recall is measured at it.
ANN_SEARCH_K = 100

CURRENT = "CURRENT"
PREVIOUS = "PREVIOUS"
GENERATIONS = "generations"


@dataclass(frozen=True)
class LoadedIndex:
    """An index generation in memory, ready to search."""

    path: Path
    manifest: dict[str, Any]
    chunks: tuple[Chunk, ...]
    vectors: np.ndarray
    dense: Any  # faiss.Index
    keyword: KeywordIndex

    @property
    def generation(self) -> str:
        return self.manifest["generation"]


# --------------------------------------------------------------------------- small file helpers


def fsync_dir(path: Path) -> None:
    """Flush a folder's entries (renames, new files) to disk; a no-op where the OS cannot."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes) -> None:
    """Write a file so that readers see either the old or the new content, never a part."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def _read_pointer(index_dir: Path, name: str) -> str | None:
    try:
        value = (index_dir / name).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return value or None


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


#: Where a build or refresh can be paused for crash-safety tests (``KB_BOT_TEST_PAUSE_AT``).
PAUSE_POINTS = ("embedding", "writing", "publishing")


def pause_for_tests(point: str) -> None:
    """Test hook: sleep at ``point`` when ``KB_BOT_TEST_PAUSE_AT`` names it, so a test can kill -9 us there.

    ``embedding``: the first batch of new vectors is in the embedding cache, the rest is not embedded yet;
    ``writing``: the new generation is half written under ``generations/.tmp-*``;
    ``publishing``: the new generation is complete and renamed, PREVIOUS is updated, CURRENT is not yet.
    """
    if os.environ.get("KB_BOT_TEST_PAUSE_AT") != point:
        return
    seconds = float(os.environ.get("KB_BOT_TEST_PAUSE_SECONDS") or 60)
    sys.stderr.write(f"kb-bot: test hook: paused at {point} (pid {os.getpid()})\n")
    sys.stderr.flush()
    time.sleep(seconds)


# --------------------------------------------------------------------------- lock


class IndexLock:
    """An exclusive lock on the index folder for writers (released by the OS if the process dies)."""

    def __init__(self, index_dir: Path, timeout: float = 0.0):
        from filelock import FileLock

        index_dir.mkdir(parents=True, exist_ok=True)
        self.path = index_dir / ".lock"
        self._lock = FileLock(str(self.path), timeout=timeout)
        self.timeout = timeout

    def __enter__(self) -> "IndexLock":
        from filelock import Timeout

        try:
            self._lock.acquire()
        except Timeout:
            raise IndexBusyError(
                f"另一个索引更新正在进行 / another build or refresh is running on {self.path.parent} "
                f"(lock {self.path} is held)",
                hint="wait for it to finish, or pass --wait SECONDS to wait for it",
            ) from None
        return self

    def __exit__(self, *exc: object) -> None:
        self._lock.release()


# --------------------------------------------------------------------------- embedding cache


def text_key(model_id: str, text: str) -> str:
    """Cache key of one embedded text under one model."""
    return hashlib.sha1(f"{model_id}\x1f{text}".encode("utf-8")).hexdigest()


class EmbeddingCache:
    """Vectors by content hash, appended shard by shard so a killed build keeps its work."""

    def __init__(self, index_dir: Path, model_id: str):
        slug = hashlib.sha1(model_id.encode("utf-8")).hexdigest()[:12]
        self.folder = index_dir / "cache" / slug
        self.model_id = model_id
        self._vectors: dict[str, np.ndarray] = {}
        self._loaded = False

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
        tmp = self.folder / f".{name}.tmp"
        with open(tmp, "wb") as handle:
            np.savez(handle, keys=np.array(list(keys)), vectors=np.asarray(vectors, dtype=np.float32))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.folder / name)

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


# --------------------------------------------------------------------------- dense index


@dataclass(frozen=True)
class DenseIndexInfo:
    """How the dense index was built: kind, and for HNSW the efSearch chosen and the recall it measured."""

    kind: str  # "flat" (exact) or "hnsw"
    ef_search: int | None = None
    recall_at_10: float | None = None  # recall@10 (ties counted) against exact search, at ``ef_search``
    sample: int = 0
    build_s: float = 0.0
    recall_queries: str | None = None  # "queries" (the model's query vectors) or "leave-one-out" (chunk vectors)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "ef_search": self.ef_search, "recall_at_10": self.recall_at_10,
                "recall_sample": self.sample, "recall_queries": self.recall_queries, "build_s": round(self.build_s, 2)}


#: Scores closer than this count as ties (float32 rounding; identical vectors of duplicated text).
TIE_TOLERANCE = 1e-5


def recall_with_ties(found_ids: np.ndarray, found_scores: np.ndarray, true_scores: np.ndarray) -> float:
    """Mean recall@10: the share of the ten results found whose exact score reaches the true tenth score.

    Chunk ids alone undercount: duplicated chunks have identical vectors, so the exact top ten is
    one arbitrary pick among ties (two exact searches that merely sum in another order agree on
    only ~98% of ids at 100k chunks of the benchmark corpus, and on 100% with ties counted).
    ``found_scores`` must be exact (HNSW-flat and flat indexes return exact inner products).
    """
    found_scores = np.where(found_ids[:, :10] >= 0, found_scores[:, :10], -np.inf)
    threshold = true_scores[:, 9:10] - TIE_TOLERANCE
    return float(np.mean((found_scores >= threshold).sum(axis=1) / 10))


def measure_ann_recall(index, vectors: np.ndarray, queries: np.ndarray | None = None,
                       sample: int = ANN_RECALL_SAMPLE, k: int = ANN_SEARCH_K, seed: int = 0):
    """A function efSearch -> recall@10 (ties counted) of the HNSW ``index`` against exact search, and the sample size.

    ``queries``: query vectors (from the model's query side, as users ask); without them, leave-one-out
    (chunk vectors, each one's own row excluded), which overestimates: passages are easier than queries.
    The index is searched for ``k`` candidates as the retriever does.
    """
    import faiss

    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(vectors)
    if queries is not None:
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        own = None
    else:
        own = np.sort(np.random.default_rng(seed).choice(len(vectors), size=min(sample, len(vectors)), replace=False))
        queries = np.ascontiguousarray(vectors[own])
    extra = 0 if own is None else 1

    def top10(scores: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if own is None:
            return ids[:, :10], scores[:, :10]
        keep = ids != own[:, None]  # drop each query's own row (its duplicates stay: they are other chunks)
        rows = [(i[m][:10], s[m][:10]) for i, s, m in zip(ids, scores, keep)]
        return np.stack([r[0] for r in rows]), np.stack([r[1] for r in rows])

    true_scores, true_ids = exact.search(queries, 10 + extra)
    _, true_scores = top10(true_scores, true_ids)

    def recall(ef_search: int) -> float:
        index.hnsw.efSearch = ef_search
        scores, ids = index.search(queries, max(k, 10 + extra))
        found_ids, found_scores = top10(scores, ids)
        return recall_with_ties(found_ids, found_scores, true_scores)

    return recall, len(queries)


def make_dense_index(vectors: np.ndarray, ann_threshold: int = ANN_THRESHOLD, queries: np.ndarray | None = None):
    """The dense index for ``vectors`` (normalised) and how it was chosen: ``(index, DenseIndexInfo)``.

    Exact inner-product search up to ``ann_threshold`` chunks. Beyond it HNSW, with the smallest
    efSearch of ``HNSW_EF_SEARCH_STEPS`` whose measured recall@10 is at least ``ANN_MIN_RECALL`` plus
    ``ANN_RECALL_MARGIN`` (else the largest, if that reaches the bar itself); when none reaches the bar
    the index stays exact, so recall never drops below it unnoticed. Recall is measured with ``queries``
    (query vectors, see :func:`measure_ann_recall`) when given.
    """
    import faiss

    started = time.perf_counter()
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    dim = vectors.shape[1]
    if len(vectors) <= ann_threshold:
        index = faiss.IndexFlatIP(dim)
        if len(vectors):
            index.add(vectors)
        return index, DenseIndexInfo("flat", build_s=time.perf_counter() - started)

    # Build the graph, then raise efSearch until the sampled recall holds.
    index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    index.add(vectors)
    recall, sampled = measure_ann_recall(index, vectors, queries)
    measured = 0.0
    for ef_search in HNSW_EF_SEARCH_STEPS:
        measured = recall(ef_search)
        log.info("HNSW over %d vectors: efSearch %d gives recall@10 %.4f", len(vectors), ef_search, measured)
        last = ef_search == HNSW_EF_SEARCH_STEPS[-1]
        if measured >= ANN_MIN_RECALL + ANN_RECALL_MARGIN or (last and measured >= ANN_MIN_RECALL):
            index.hnsw.efSearch = ef_search
            return index, DenseIndexInfo("hnsw", ef_search, round(measured, 4), sampled, time.perf_counter() - started,
                                         "queries" if queries is not None else "leave-one-out")
    log.warning("HNSW recall@10 stayed at %.3f (< %.2f) even at efSearch %d over %d vectors: using exact search",
                measured, ANN_MIN_RECALL, HNSW_EF_SEARCH_STEPS[-1], len(vectors))
    flat = faiss.IndexFlatIP(dim)
    flat.add(vectors)
    return flat, DenseIndexInfo("flat", None, None, sampled, time.perf_counter() - started)


def dense_kind(index) -> str:
    """"hnsw" or "flat"."""
    return "hnsw" if hasattr(index, "hnsw") else "flat"


# --------------------------------------------------------------------------- writing


def write_generation(
    index_dir: Path,
    manifest: dict[str, Any],
    chunks: Sequence[Chunk],
    vectors: np.ndarray,
    ann_threshold: int = ANN_THRESHOLD,
    reuse_from: Path | None = None,
    recall_queries: np.ndarray | None = None,
) -> str:
    """Write a complete generation and publish it as CURRENT; returns its name. Caller holds the lock.

    ``reuse_from``: a compatible generation whose keyword tokens are reused for unchanged chunk texts.
    ``recall_queries``: query vectors to measure an approximate index's recall with (see make_dense_index).
    """
    import faiss

    generations = index_dir / GENERATIONS
    generations.mkdir(parents=True, exist_ok=True)
    name = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
    tmp = generations / f".tmp-{name}"
    try:
        tmp.mkdir()
        # Vectors, chunks, FAISS and BM25, each fsynced before the rename publishes them.
        np.save(tmp / "vectors.npy", np.asarray(vectors, dtype=np.float32))
        with open(tmp / "chunks.jsonl", "w", encoding="utf-8") as handle:
            for chunk in chunks:
                handle.write(json.dumps(chunk.to_record(), ensure_ascii=False) + "\n")
        pause_for_tests("writing")
        dense, dense_info = make_dense_index(vectors, ann_threshold, recall_queries)
        faiss.write_index(dense, str(tmp / "dense.faiss"))
        known_tokens = load_chunk_tokens(reuse_from / "keyword" / CHUNK_TOKENS) if reuse_from else None
        KeywordIndex.build([chunk.embed_text for chunk in chunks], known_tokens).save(tmp / "keyword")
        manifest = dict(manifest, generation=name, dense_index=dense_info.kind, dense=dense_info.to_json(),
                        chunk_count=len(chunks), checksums=file_checksums(tmp))
        (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
        for path in tmp.rglob("*"):
            if path.is_file():
                with open(path, "rb") as handle:
                    os.fsync(handle.fileno())
            elif path.is_dir():
                fsync_dir(path)
        fsync_dir(tmp)
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

    # Publish: PREVIOUS <- old CURRENT, CURRENT <- new (each replace is atomic).
    old = _read_pointer(index_dir, CURRENT)
    if old and old != name:
        write_atomic(index_dir / PREVIOUS, old.encode())
    pause_for_tests("publishing")
    write_atomic(index_dir / CURRENT, name.encode())
    prune_generations(index_dir)
    return name


def prune_generations(index_dir: Path) -> None:
    """Delete generations other than CURRENT and PREVIOUS, and leftovers of killed builds."""
    keep = {_read_pointer(index_dir, CURRENT), _read_pointer(index_dir, PREVIOUS)}
    generations = index_dir / GENERATIONS
    if not generations.exists():
        return
    for path in generations.iterdir():
        if path.name not in keep:
            shutil.rmtree(path, ignore_errors=True)


def rollback(index_dir: Path) -> tuple[str, str]:
    """Swap CURRENT and PREVIOUS; returns (from, to). Caller holds the lock."""
    current = _read_pointer(index_dir, CURRENT)
    previous = _read_pointer(index_dir, PREVIOUS)
    if not previous or previous == current or not (index_dir / GENERATIONS / previous / "manifest.json").exists():
        raise KbBotError(f"no previous index generation to roll back to in {index_dir}",
                         hint="a rollback needs at least two builds or refreshes")
    write_atomic(index_dir / CURRENT, previous.encode())
    if current:
        write_atomic(index_dir / PREVIOUS, current.encode())
    return current or "", previous


# --------------------------------------------------------------------------- reading


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_checksums(folder: Path) -> dict[str, str]:
    """sha256 of every file of a generation but its manifest, by POSIX path relative to the generation."""
    return {path.relative_to(folder).as_posix(): _sha256(path) for path in sorted(folder.rglob("*"))
            if path.is_file() and path.name != "manifest.json"}


def verify_generation(path: Path, manifest: dict[str, Any] | None = None) -> list[str]:
    """What differs from the checksums in a generation's manifest (empty: all files as built).

    A generation written before checksums existed has nothing to check against and passes.
    """
    manifest = manifest if manifest is not None else _read_generation_manifest(path)
    expected = manifest.get("checksums")
    if not isinstance(expected, dict):
        return []
    problems = []
    for rel, digest in sorted(expected.items()):
        file = path / rel
        if not file.is_file():
            problems.append(f"{rel} is missing")
        elif _sha256(file) != digest:
            problems.append(f"{rel} does not match its checksum (changed after the build)")
    return problems


def _read_generation_manifest(path: Path) -> dict[str, Any]:
    """A generation's manifest; a cut or garbled file is a ``KbBotError`` with the rollback hint."""
    try:
        manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise KbBotError(f"the manifest of index generation {path.name} is damaged ({type(exc).__name__})",
                         hint="run `kb-bot rollback` to use the previous generation, or `kb-bot build` to rebuild") from None
    if not isinstance(manifest, dict):
        raise KbBotError(f"the manifest of index generation {path.name} is damaged (not a JSON object)",
                         hint="run `kb-bot rollback` to use the previous generation, or `kb-bot build` to rebuild")
    return manifest


def current_generation(index_dir: Path) -> Path | None:
    """Folder of the generation readers should use, or None when no index was built."""
    name = _read_pointer(index_dir, CURRENT)
    if not name:
        return None
    path = index_dir / GENERATIONS / name
    if not (path / "manifest.json").exists():
        raise KbBotError(f"the index in {index_dir} points at generation {name}, which is missing",
                         hint="run `kb-bot build` to rebuild it")
    return path


def read_manifest(index_dir: Path) -> dict[str, Any] | None:
    """The current manifest, or None when no index exists."""
    path = current_generation(index_dir)
    if path is None:
        return None
    return _read_generation_manifest(path)


def check_compatible(manifest: dict[str, Any], expected: dict[str, Any], index_dir: Path) -> None:
    """Raise StaleIndexError when the index was built with another format, model or chunker."""
    problems = []
    if manifest.get("format_version") != FORMAT_VERSION:
        problems.append(f"format version {manifest.get('format_version')} (this kb-bot writes {FORMAT_VERSION})")
    for key in ("model_id", "chunker", "tokenizer_version"):
        if key in expected and manifest.get(key) != expected[key]:
            problems.append(f"{key} {manifest.get(key)!r} (settings ask for {expected[key]!r})")
    if problems:
        raise StaleIndexError(
            f"the index in {index_dir} was built with " + "; ".join(problems),
            hint=f"run `kb-bot build --index {index_dir}` to rebuild it with the current settings",
        )


def load_index(index_dir: Path, expected: dict[str, Any] | None = None) -> LoadedIndex:
    """Load the current generation; ``expected`` manifest fields are checked first.

    Writers never touch a published generation, but they delete the one before PREVIOUS: a reader
    that was overtaken by two publications while reading retries on the newest generation.
    """
    for attempt in range(3):
        path = current_generation(index_dir)
        if path is None:
            raise IndexMissingError(f"no index in {index_dir}", hint="run `kb-bot build` first")
        try:
            return _load_generation(path, index_dir, expected)
        except (OSError, RuntimeError, ValueError) as exc:  # faiss raises RuntimeError for a missing file
            if attempt < 2 and _read_pointer(index_dir, CURRENT) != path.name:
                log.info("generation %s was replaced while loading it; loading the new one", path.name)
                continue
            raise KbBotError(
                f"the index generation {path.name} in {index_dir} is damaged ({type(exc).__name__}: {exc})",
                hint="run `kb-bot rollback` to use the previous generation, or `kb-bot build` to rebuild",
            ) from exc
    raise AssertionError("unreachable")


def _load_generation(path: Path, index_dir: Path, expected: dict[str, Any] | None) -> LoadedIndex:
    import faiss

    manifest = _read_generation_manifest(path)
    check_compatible(manifest, expected or {}, index_dir)
    problems = verify_generation(path, manifest)
    if problems:  # e.g. a valid but reordered dense.faiss: it would load and silently answer wrongly
        raise ValueError("; ".join(problems))
    with open(path / "chunks.jsonl", encoding="utf-8") as handle:
        chunks = tuple(Chunk.from_record(json.loads(line)) for line in handle if line.strip())
    vectors = np.load(path / "vectors.npy")
    dense = faiss.read_index(str(path / "dense.faiss"))
    if hasattr(dense, "hnsw"):  # the efSearch tuned at build time (older generations: the old default)
        dense.hnsw.efSearch = int((manifest.get("dense") or {}).get("ef_search") or HNSW_EF_SEARCH)
    keyword = KeywordIndex.load(path / "keyword", len(chunks))
    if len(chunks) != len(vectors) or dense.ntotal != len(chunks):
        raise StaleIndexError(f"the index in {index_dir} is inconsistent ({len(chunks)} chunks, {len(vectors)} vectors)",
                              hint="run `kb-bot build` to rebuild it")
    return LoadedIndex(path=path, manifest=manifest, chunks=chunks, vectors=vectors, dense=dense, keyword=keyword)
