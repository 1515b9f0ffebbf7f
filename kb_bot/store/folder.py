"""IndexFolder: the one owner of an index folder (lock, generations, publish, rollback, cache, diff).

Layout::

    CURRENT                  name of the generation readers use (replaced atomically)
    PREVIOUS                 the generation before it, for ``kb-bot rollback``
    generations/<name>/      one complete Generation (generation.py)
    cache/<model>/shard-*.npz embedding cache by content hash (cache.py; survives a killed build)
    .lock                    held by a build/refresh; a second one waits, then fails clearly

Publishing replaces ``CURRENT`` only after the new generation is complete and renamed into place, so a
reader never sees a half-written index and a build killed at any point leaves the last good one in place.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from ..chunking import Chunk
from ..errors import IndexBusyError, IndexMissingError, KbBotError
from ..files import write_atomic
from ..loading import content_hash, iter_candidate_files
from ..settings import pause_for_tests
from .cache import EmbeddingCache
from .dense import ANN_THRESHOLD
from .generation import GENERATION_NAME, GENERATIONS, Generation, LoadedIndex, write_generation
from .manifest import FILE_NAME as MANIFEST
from .manifest import DocumentEntry, IndexSpec, Manifest

log = logging.getLogger(__name__)

CURRENT = "CURRENT"
PREVIOUS = "PREVIOUS"
LOCK = ".lock"
_DAMAGED_HINT = "run `kb-bot rollback` to use the previous generation, or `kb-bot build` to rebuild"


class IndexLock:
    """An exclusive lock on the index folder for writers (released by the OS if the process dies)."""

    def __init__(self, index_dir: Path, timeout: float = 0.0):
        from filelock import FileLock

        index_dir.mkdir(parents=True, exist_ok=True)
        self.path = index_dir / LOCK
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


@dataclass(frozen=True)
class DocumentsDiff:
    """Documents compared with an index: each path is in exactly one of the four groups.

    ``sizes``: bytes on disk of the files present; ``unreadable``: files that could not be read (a disk scan
    leaves them out of the groups); ``links``: present files that are symlinks (their target may change
    without the link changing, so a refresh never trusts them to be unchanged).
    """

    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    sizes: Mapping[str, int] | None = None
    unreadable: tuple[str, ...] = ()
    links: tuple[str, ...] = ()

    @property
    def any_change(self) -> bool:
        """True when any document was added, changed or removed."""
        return bool(self.added or self.changed or self.removed)

    @classmethod
    def compare(cls, indexed: Mapping[str, DocumentEntry], present: Mapping[str, str], **extra) -> "DocumentsDiff":
        """The diff of documents ``present`` (path -> content hash, in folder order) against ``indexed`` ones."""
        return cls(
            added=tuple(p for p in present if p not in indexed),
            changed=tuple(p for p in present if p in indexed and indexed[p].hash != present[p]),
            removed=tuple(p for p in indexed if p not in present),
            unchanged=tuple(p for p in present if p in indexed and indexed[p].hash == present[p]),
            **extra,
        )


class IndexFolder:
    """An index folder on disk: the only code that reads or changes its pointers and generations."""

    def __init__(self, path: Path):
        self.path = Path(path)

    # -- pointers and generations -------------------------------------------------------------------------------

    def _pointer(self, name: str) -> str | None:
        try:
            value = (self.path / name).read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        return value or None

    def current_name(self) -> str | None:
        """The name CURRENT holds (None: nothing built yet); cheap enough to ask before every query."""
        return self._pointer(CURRENT)

    def previous_name(self) -> str | None:
        """The generation before CURRENT: the name PREVIOUS holds (None: no rollback possible).

        A publish writes PREVIOUS, then CURRENT. Killed between the two, both name the old generation and the
        one before it was lost to rollback (and pruned by the next refresh); it is then the newest complete
        generation older than CURRENT by the build time its name starts with (never a leftover ``.tmp-*``
        folder, never the newer one the killed publish left). After a rollback the generation rolled back from
        is newer than CURRENT: that case is not recovered (None), which is safe."""
        previous, current = self._pointer(PREVIOUS), self.current_name()
        if previous != current or current is None:
            return previous
        def written(name: str) -> tuple[str, int]:  # build time by name; within one second, by the manifest's
            return name[:15], (self.path / GENERATIONS / name / MANIFEST).stat().st_mtime_ns

        try:
            before = written(current)
            older = [written(path.parent.name) + (path.parent.name,)
                     for path in (self.path / GENERATIONS).glob(f"*/{MANIFEST}")
                     if GENERATION_NAME.fullmatch(path.parent.name) and path.parent.name != current]
        except OSError:
            return None
        older = [entry for entry in older if entry[:2] < before]
        return max(older)[2] if older else None

    def has_index(self) -> bool:
        """True once a build has published (CURRENT exists), without reading it."""
        return (self.path / CURRENT).exists()

    def generation(self, name: str) -> Generation:
        """The generation folder ``name`` (it may not exist)."""
        return Generation(self.path / GENERATIONS / name)

    def current(self) -> Generation | None:
        """The generation readers should use, or None when no index was built."""
        name = self.current_name()
        if not name:
            return None
        generation = self.generation(name)
        if not generation.exists():
            raise KbBotError(f"the index in {self.path} points at generation {name}, which is missing",
                             hint="run `kb-bot build` to rebuild it")
        return generation

    def previous(self) -> Generation | None:
        """The generation a rollback would return to, when it is still on disk."""
        name = self.previous_name()
        generation = self.generation(name) if name else None
        return generation if generation is not None and generation.exists() else None

    def manifest(self) -> Manifest | None:
        """The current manifest, or None when no index exists."""
        generation = self.current()
        return generation.manifest if generation is not None else None

    def lock(self, timeout: float = 0.0) -> IndexLock:
        """The writers' lock (``with folder.lock(): ...``); IndexBusyError after ``timeout`` seconds."""
        return IndexLock(self.path, timeout)

    def cache(self, model_id: str) -> EmbeddingCache:
        """The embedding cache of ``model_id`` (kept across generations)."""
        return EmbeddingCache(self.path, model_id)

    # -- reading ------------------------------------------------------------------------------------------------

    def load(self, spec: IndexSpec | None = None) -> LoadedIndex:
        """Load the current generation; it must have been built for ``spec`` (when given).

        Writers never touch a published generation, but they delete the one before PREVIOUS: a reader
        that was overtaken by two publications while reading retries on the newest generation.
        """
        for attempt in range(3):
            generation = self.current()
            if generation is None:
                raise IndexMissingError(f"no index in {self.path}", hint="run `kb-bot build` first")
            try:
                return generation.load(spec, self.path)
            except (OSError, RuntimeError, ValueError) as exc:  # faiss raises RuntimeError for a missing file
                if attempt < 2 and self.current_name() != generation.name:
                    log.info("generation %s was replaced while loading it; loading the new one", generation.name)
                    continue
                raise KbBotError(
                    f"the index generation {generation.name} in {self.path} is damaged ({type(exc).__name__}: {exc})",
                    hint=_DAMAGED_HINT,
                ) from exc
        raise AssertionError("unreachable")

    def diff(self, documents: Path, manifest: Manifest | None) -> DocumentsDiff:
        """The documents folder on disk, byte for byte, against ``manifest``'s documents (all added when None).

        Reading and hashing is far cheaper than parsing: a refresh asks this before loading any document.
        """
        present: dict[str, str] = {}
        sizes: dict[str, int] = {}
        unreadable, links = [], []
        if documents.is_dir():
            for path in iter_candidate_files(documents, exclude=[self.path]):
                rel = path.relative_to(documents).as_posix()
                try:
                    data = path.read_bytes()
                except OSError:
                    unreadable.append(rel)
                    continue
                present[rel], sizes[rel] = content_hash(data), len(data)
                if path.is_symlink():
                    links.append(rel)
        indexed = manifest.documents if manifest is not None else {}
        return DocumentsDiff.compare(indexed, present, sizes=sizes, unreadable=tuple(unreadable), links=tuple(links))

    # -- writing (the caller holds the lock) ----------------------------------------------------------------------

    def publish(self, manifest: Manifest, chunks: Sequence[Chunk], vectors: np.ndarray,
                ann_threshold: int = ANN_THRESHOLD, reuse_from: Generation | None = None,
                recall_queries: np.ndarray | None = None) -> str:
        """Write a complete generation and make it CURRENT (the old one becomes PREVIOUS); returns its name."""
        generation = write_generation(self.path / GENERATIONS, manifest, chunks, vectors, ann_threshold,
                                      reuse_from, recall_queries)
        old = self.current_name()
        if old and old != generation.name:
            write_atomic(self.path / PREVIOUS, old.encode())
        pause_for_tests("publishing")
        write_atomic(self.path / CURRENT, generation.name.encode())
        self.prune()
        return generation.name

    def prune(self) -> None:
        """Delete generations other than CURRENT and the previous one (``previous_name``), and leftovers of killed
        builds."""
        keep = {self.current_name(), self.previous_name()}
        generations = self.path / GENERATIONS
        if not generations.exists():
            return
        for path in generations.iterdir():
            if path.name not in keep:
                shutil.rmtree(path, ignore_errors=True)

    def rollback(self) -> tuple[str, str]:
        """Swap CURRENT and PREVIOUS; returns (from, to)."""
        current, previous = self.current_name(), self.previous_name()
        if not previous or previous == current or not self.generation(previous).exists():
            raise KbBotError(f"no previous index generation to roll back to in {self.path}",
                             hint="a rollback needs at least two builds or refreshes")
        write_atomic(self.path / CURRENT, previous.encode())
        if current:
            write_atomic(self.path / PREVIOUS, current.encode())
        return current or "", previous

