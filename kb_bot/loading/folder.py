"""Folder: which files of the documents folder are documents, and loading each within its bounds.

Bad input is skipped with a one-line reason, never raised. Hidden files and editor or download
leftovers (``~$x.docx``, ``x~``, ``x.tmp``, ``x.crdownload``) are not looked at.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Iterable

from ..bounds import DEFAULT_MAX_FILE_SECONDS, DocumentError, resolve_link, time_budget
from ..files import format_size
from .document import SUPPORTED_SUFFIXES, Document, LoadResult, Skipped
from .formats import read_source
from .parsing import parse_document

log = logging.getLogger("kb_bot.loading")

#: Names of editor and download leftovers, ignored like hidden files: Word's ``~$x.docx`` owner files,
#: ``x~`` backups, ``.tmp``/``.swp`` files, unfinished downloads.
_TEMP_NAME = re.compile(r"(?i)^(~\$|\.#)|~$|\.(tmp|temp|swp|swx|part|partial|crdownload|download)$")


#: Files kept with the documents that configure kb-bot rather than being documents (the staff's synonyms).
SYNONYMS_FILE = "synonyms.txt"
SETTINGS_FILES = (SYNONYMS_FILE,)


def is_ignored_name(name: str) -> bool:
    """True for hidden files and temporary files that the loader (and the watcher) never look at."""
    return name.startswith(".") or bool(_TEMP_NAME.search(name))


def iter_candidate_files(folder: Path, exclude: Iterable[Path] = ()) -> Iterable[Path]:
    """Files under ``folder`` in a stable order, skipping hidden and temporary files and folders.

    ``exclude``: folders not to descend into (the index folder, when it lies inside ``folder``).
    """
    excluded = [Path(p).resolve() for p in exclude]
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if any(is_ignored_name(part) for part in rel.parts) or rel.as_posix() in SETTINGS_FILES:
            continue
        try:
            inside_excluded = excluded and any(path.resolve().is_relative_to(e) for e in excluded)
        except (RuntimeError, OSError):  # a symlink loop: load_file skips it with a reason
            inside_excluded = False
        if inside_excluded:
            continue
        if path.is_file() or path.is_symlink():
            yield path


def load_file(path: Path, folder: Path, max_bytes: int,
              max_seconds: float | None = DEFAULT_MAX_FILE_SECONDS) -> Document:
    """Load one file of the documents folder, raising ``DocumentError`` with a reason if unusable.

    ``max_seconds``: the file's time budget; reading it stops with a reason once over (checked between steps).
    """
    rel = path.relative_to(folder).as_posix()
    with time_budget(max_seconds):
        return _load_file(path, folder, rel, max_bytes)


def _load_file(path: Path, folder: Path, rel: str, max_bytes: int) -> Document:
    try:
        if path.is_symlink():
            target = resolve_link(path)
            if not target.is_relative_to(folder.resolve()):
                raise DocumentError("symlink points outside the documents folder; copy the file in instead")
            if target.is_dir():
                raise DocumentError("symlink to a folder; link or copy the files themselves")
            if not target.is_file():
                raise DocumentError("broken symlink (its target does not exist)")
        suffix = path.suffix.lower()
        if suffix not in SUPPORTED_SUFFIXES:
            raise DocumentError(f"unsupported file type {path.suffix or '(none)'}; use one of {', '.join(SUPPORTED_SUFFIXES)}")
        size = path.stat().st_size
        if size > max_bytes:
            shown, limit = format_size(size), format_size(max_bytes)
            if shown == limit:
                shown, limit = f"{size} bytes", f"{max_bytes} bytes"
            raise DocumentError(f"file is {shown}, over the {limit} limit; split it or raise KB_BOT_MAX_FILE_MB")
        if size == 0:
            raise DocumentError("empty file (0 bytes)")
        source, raw = read_source(path, max_bytes)
        return parse_document(source, rel, raw, front_matter=suffix in (".md", ".markdown", ".txt"),
                              plain_title=suffix == ".txt")
    except DocumentError:
        raise
    except OSError as exc:
        raise DocumentError(f"cannot read file: {exc.strerror or exc}") from None
    except Exception as exc:  # a bug or a file shape nobody foresaw: skip this file, keep the others
        log.debug("unexpected error loading %s", rel, exc_info=True)
        detail = (str(exc).splitlines() or [""])[0][:120]
        raise DocumentError(f"cannot read file ({type(exc).__name__}{': ' + detail if detail else ''})") from None


def load_documents(folder: Path, max_bytes: int = 20 * 1024 * 1024, exclude: Iterable[Path] = (),
                   max_seconds: float | None = DEFAULT_MAX_FILE_SECONDS) -> LoadResult:
    """Load every supported file under ``folder``; unusable files are skipped with a reason.

    ``exclude``: folders to leave out (the index folder, when it lies inside ``folder``).
    ``max_seconds``: time budget of each file (``KB_BOT_MAX_FILE_SECONDS``).
    """
    documents: list[Document] = []
    skipped: list[Skipped] = []
    for path in iter_candidate_files(folder, exclude):
        rel = path.relative_to(folder).as_posix()
        try:
            document = load_file(path, folder, max_bytes, max_seconds)
        except DocumentError as exc:
            log.warning("skipped %s: %s", rel, exc)
            skipped.append(Skipped(rel, str(exc)))
            continue
        for note in document.notes:
            log.debug("%s: %s", rel, note)
        documents.append(document)
    return LoadResult(tuple(documents), tuple(skipped))
