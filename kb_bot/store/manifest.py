"""Manifest: what one index generation holds and how it was built, as typed frozen dataclasses.

``manifest.json`` is read by :meth:`Manifest.read` and written by :meth:`Manifest.write`, nowhere else, so the
file's shape lives in this module only. ``format_version`` says which layout a generation has; manifests of
older kb-bot versions (no checksums, no ``dense`` details, no ``skipped`` list) still load, with those fields
empty, so an index on disk keeps working after an upgrade.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

from ..errors import KbBotError, StaleIndexError

#: Bump when the on-disk layout changes (an index of another version is rebuilt, never misread).
FORMAT_VERSION = 1
FORMAT = "kb-bot-index"
FILE_NAME = "manifest.json"
_DAMAGED_HINT = "run `kb-bot rollback` to use the previous generation, or `kb-bot build` to rebuild"


def utc_now() -> str:
    """The build and indexing times a manifest records: UTC, ISO 8601, to the second."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class IndexSpec:
    """What an index must have been built with to serve given settings: the model, chunker and tokenizer.

    Two specs that differ mean the stored chunks or vectors would not match what a query is compared with.
    """

    model_id: str
    chunker: Mapping[str, int]  # {"size", "overlap", "version"} as written in the manifest
    tokenizer_version: int

    def to_json(self) -> dict[str, Any]:
        """The spec as the manifest writes it."""
        return {"model_id": self.model_id, "chunker": dict(self.chunker), "tokenizer_version": self.tokenizer_version}


@dataclass(frozen=True)
class DocumentEntry:
    """One indexed document: its content hash and size (to tell a changed file), citation fields, chunks."""

    hash: str
    size: int
    title: str | None
    unit: str | None
    chunks: int
    indexed_at: str  # when this content was first indexed (UTC, ISO 8601); kept while the file is unchanged

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "DocumentEntry":
        """An entry from the manifest (missing fields of older manifests empty)."""
        return cls(str(data.get("hash", "")), int(data.get("size", 0)), data.get("title"), data.get("unit"),
                   int(data.get("chunks", 0)), str(data.get("indexed_at", "")))

    def to_json(self) -> dict[str, Any]:
        """The entry as the manifest writes it."""
        return {"hash": self.hash, "size": self.size, "title": self.title, "unit": self.unit,
                "chunks": self.chunks, "indexed_at": self.indexed_at}


@dataclass(frozen=True)
class SkippedEntry:
    """A file of the documents folder that the build could not use, and why (shown by ``kb-bot status``)."""

    path: str
    reason: str


@dataclass(frozen=True)
class DenseInfo:
    """How the dense index was built: kind, and for HNSW the efSearch chosen and the recall it measured."""

    kind: str  # "flat" (exact) or "hnsw"
    ef_search: int | None = None
    recall_at_10: float | None = None  # recall@10 (ties counted) against exact search, at ``ef_search``
    sample: int = 0
    build_s: float = 0.0
    recall_queries: str | None = None  # "queries" (the model's query vectors) or "leave-one-out" (chunk vectors)

    def to_json(self) -> dict[str, Any]:
        """The dense details as the manifest writes them."""
        return {"kind": self.kind, "ef_search": self.ef_search, "recall_at_10": self.recall_at_10,
                "recall_sample": self.sample, "recall_queries": self.recall_queries, "build_s": round(self.build_s, 2)}

    def describe(self) -> str:
        """``flat``, or ``hnsw, efSearch 256 (recall@10 0.991 measured on 300 chunks)`` for a tuned HNSW index."""
        if self.kind != "hnsw" or self.recall_at_10 is None:
            return self.kind
        return f"{self.kind}, efSearch {self.ef_search} (recall@10 {self.recall_at_10:.3f} measured on {self.sample} chunks)"

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "DenseInfo":
        """Dense details from the manifest (older ones may lack all but ``kind``)."""
        return cls(str(data.get("kind", "flat")), data.get("ef_search"), data.get("recall_at_10"),
                   int(data.get("recall_sample") or 0), float(data.get("build_s") or 0.0), data.get("recall_queries"))


#: Manifest keys that are plain attributes (``manifest["model_id"]`` needs no JSON built).
_SCALAR_KEYS = frozenset({"format", "format_version", "model_id", "tokenizer_version", "dim", "built_at", "chunk_count"})


def _frozen(mapping: Mapping) -> Mapping:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True)
class Manifest:
    """The manifest of one index generation (``manifest.json``).

    A build fills the first fields; publishing adds ``generation``, ``dense``, ``chunk_count`` and ``checksums``
    (see :meth:`published`). Optional fields are None in manifests written before they existed.
    """

    model_id: str
    chunker: Mapping[str, int]
    tokenizer_version: int
    dim: int
    built_at: str
    documents: Mapping[str, DocumentEntry] = field(default_factory=dict)
    skipped: tuple[SkippedEntry, ...] = ()
    generation: str | None = None
    dense: DenseInfo | None = None
    chunk_count: int = 0
    checksums: Mapping[str, str] | None = None  # sha256 by file, None before checksums were written
    format_version: int = FORMAT_VERSION
    format: str = FORMAT

    def __post_init__(self) -> None:  # read-only views: a manifest in memory cannot drift from the file
        object.__setattr__(self, "chunker", _frozen(self.chunker))
        object.__setattr__(self, "documents", _frozen(self.documents))
        if self.checksums is not None:
            object.__setattr__(self, "checksums", _frozen(self.checksums))

    @property
    def spec(self) -> IndexSpec:
        """What this index was built with (compare with the settings' :class:`IndexSpec`)."""
        return IndexSpec(self.model_id, self.chunker, self.tokenizer_version)

    @property
    def dense_kind(self) -> str:
        """"flat" or "hnsw" ("flat" for manifests written before the dense kind was recorded)."""
        return self.dense.kind if self.dense is not None else "flat"

    def published(self, generation: str, dense: DenseInfo, chunk_count: int, checksums: Mapping[str, str]) -> "Manifest":
        """This manifest as written into a generation, with what only writing the generation tells."""
        return replace(self, generation=generation, dense=dense, chunk_count=chunk_count, checksums=checksums)

    def problems_with(self, spec: IndexSpec | None) -> list[str]:
        """Why this index cannot serve ``spec`` (empty: it can); with no spec, only the format version counts."""
        problems = []
        if self.format_version != FORMAT_VERSION:
            problems.append(f"format version {self.format_version} (this kb-bot writes {FORMAT_VERSION})")
        mine = self.spec.to_json()
        for key, wanted in (spec.to_json() if spec is not None else {}).items():
            if mine[key] != wanted:
                problems.append(f"{key} {mine[key]!r} (settings ask for {wanted!r})")
        return problems

    def check_compatible(self, spec: IndexSpec | None, index_dir: Path) -> None:
        """Raise StaleIndexError when the index was built with another format, model or chunker."""
        problems = self.problems_with(spec)
        if problems:
            raise StaleIndexError(
                f"the index in {index_dir} was built with " + "; ".join(problems),
                hint=f"run `kb-bot build --index {index_dir}` to rebuild it with the current settings",
            )

    # -- the file -----------------------------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """The manifest as written to disk and printed by ``kb-bot status --json`` (key order is part of it)."""
        data: dict[str, Any] = {
            "format": self.format, "format_version": self.format_version, **self.spec.to_json(),
            "dim": self.dim, "built_at": self.built_at,
            "documents": {path: entry.to_json() for path, entry in self.documents.items()},
            "skipped": [{"path": s.path, "reason": s.reason} for s in self.skipped],
        }
        if self.generation is not None:
            data.update(generation=self.generation, dense_index=self.dense_kind,
                        dense=self.dense.to_json() if self.dense is not None else None, chunk_count=self.chunk_count)
        if self.checksums is not None:
            data["checksums"] = dict(self.checksums)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Manifest":
        """A manifest from its JSON object, of this format version or an older one."""
        dense = data.get("dense")
        if not isinstance(dense, Mapping) and data.get("dense_index"):  # before the dense details were stored
            dense = {"kind": data["dense_index"]}
        checksums = data.get("checksums")
        return cls(
            model_id=str(data["model_id"]), chunker=dict(data.get("chunker") or {}),
            tokenizer_version=data.get("tokenizer_version"), dim=int(data.get("dim") or 0),
            built_at=str(data.get("built_at", "")),
            documents={path: DocumentEntry.from_json(entry) for path, entry in (data.get("documents") or {}).items()},
            skipped=tuple(SkippedEntry(str(s["path"]), str(s["reason"])) for s in data.get("skipped") or ()),
            generation=data.get("generation"), dense=DenseInfo.from_json(dense) if dense else None,
            chunk_count=int(data.get("chunk_count") or 0),
            checksums=dict(checksums) if isinstance(checksums, Mapping) else None,
            format_version=data.get("format_version"), format=str(data.get("format", FORMAT)),
        )

    @classmethod
    def read(cls, folder: Path) -> "Manifest":
        """The manifest of the generation in ``folder``; a cut or garbled file is a KbBotError with the rollback hint."""
        try:
            data = json.loads((folder / FILE_NAME).read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise KbBotError(f"the manifest of index generation {folder.name} is damaged ({type(exc).__name__})",
                             hint=_DAMAGED_HINT) from None
        if not isinstance(data, dict):
            raise KbBotError(f"the manifest of index generation {folder.name} is damaged (not a JSON object)",
                             hint=_DAMAGED_HINT)
        try:
            return cls.from_json(data)
        except (KeyError, TypeError, ValueError) as exc:
            raise KbBotError(f"the manifest of index generation {folder.name} is damaged "
                             f"({type(exc).__name__}: {exc})", hint=_DAMAGED_HINT) from None

    def write(self, folder: Path) -> None:
        """Write ``manifest.json`` into a generation being built (the generation's rename publishes it)."""
        (folder / FILE_NAME).write_text(json.dumps(self.to_json(), ensure_ascii=False, indent=2), encoding="utf-8")

    # -- for modules not yet moved to typed fields (calibration.py reads ``manifest["model_id"]``) -------------

    def __getitem__(self, key: str) -> Any:
        if key in _SCALAR_KEYS:  # cheap: a caller may ask this per question
            return getattr(self, key)
        return self.to_json()[key]

    def get(self, key: str, default: Any = None) -> Any:
        """Like ``dict.get`` on :meth:`to_json` (for code not yet reading typed fields)."""
        return self.to_json().get(key, default)
