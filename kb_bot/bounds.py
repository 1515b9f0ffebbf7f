"""Bounds on what one document may cost the loader (issue 14): time, inflated size, element counts.

A few hundred kilobytes must never become gigabytes of XML or DOM, or minutes of work: a .docx is
checked against the sizes its zip declares and its paragraph count before python-docx parses it, a
saved page against its tag count before BeautifulSoup builds a tree, and every file gets a time
budget that the loader's loops check (``check_budget``). Real articles stay far below each bound
(a 300-page report has about 15,000 paragraphs). Over a bound, the file is skipped with a reason.
"""

from __future__ import annotations

import threading
import time
import zipfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from .files import format_size

#: Decompressed XML inside a .docx (document, styles, numbering, ...), in bytes.
DOCX_MAX_XML_BYTES = 32 * 1024 * 1024
#: Decompressed size of everything inside a .docx (images included), as a multiple of the file size limit.
DOCX_MAX_INFLATED_RATIO = 4
#: Paragraphs (table cells included) in a .docx body.
DOCX_MAX_PARAGRAPHS = 50_000
#: Opening tags in a saved HTML page.
HTML_MAX_TAGS = 100_000
#: Seconds one file may take to read and clean before it is skipped (``KB_BOT_MAX_FILE_SECONDS``).
DEFAULT_MAX_FILE_SECONDS = 30.0
#: Cleaning notes kept per document (a file of thousands of column breaks keeps the first ones).
MAX_NOTES = 50


class DocumentError(Exception):
    """Raised inside the loader for a file that cannot be used; becomes a ``Skipped`` entry."""


_budget = threading.local()


@contextmanager
def time_budget(seconds: float | None) -> Iterator[None]:
    """Give the file loaded inside the block ``seconds`` (None or 0: no limit) on this thread."""
    _budget.seconds = seconds
    _budget.deadline = time.monotonic() + seconds if seconds else None
    try:
        yield
    finally:
        _budget.deadline = None


def check_budget() -> None:
    """Raise ``DocumentError`` once the file being loaded on this thread is over its time budget."""
    deadline = getattr(_budget, "deadline", None)
    if deadline is not None and time.monotonic() > deadline:
        raise DocumentError(f"took over {_budget.seconds:g} s to read, skipped; split the file or simplify "
                            "its layout (or raise KB_BOT_MAX_FILE_SECONDS)")


def check_docx(path: Path, max_bytes: int) -> None:
    """Refuse a .docx whose parts inflate too far or whose body has too many paragraphs, before parsing it.

    zipfile never returns more than an entry's declared size, so the declared sizes bound what python-docx reads.
    A file that is not a zip at all is left to python-docx, which gives the "broken .docx" reason.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
            inflated = sum(e.file_size for e in entries)
            xml = sum(e.file_size for e in entries if e.filename.endswith((".xml", ".rels")))
            if inflated > DOCX_MAX_INFLATED_RATIO * max_bytes + DOCX_MAX_XML_BYTES or xml > DOCX_MAX_XML_BYTES:
                raise DocumentError(f".docx inflates to {format_size(max(inflated, xml))} (over the "
                                    f"{format_size(DOCX_MAX_XML_BYTES)} limit for its text); split it or save it again")
            try:
                body = archive.read("word/document.xml")
            except KeyError:
                return
    except zipfile.BadZipFile:
        return
    paragraphs = body.count(b"<w:p>") + body.count(b"<w:p ") + body.count(b"<w:p/>")
    if paragraphs > DOCX_MAX_PARAGRAPHS:
        raise DocumentError(f".docx has {paragraphs:,} paragraphs, over the {DOCX_MAX_PARAGRAPHS:,} limit; split it")


def check_html(data: bytes) -> None:
    """Refuse a page with more tags than any article has, before a DOM is built from it."""
    tags = data.count(b"<") - data.count(b"</")  # opening tags, counted without building anything
    if tags > HTML_MAX_TAGS:
        raise DocumentError(f"page has {tags:,} tags, over the {HTML_MAX_TAGS:,} limit; save the article alone")


def resolve_link(path: Path) -> Path:
    """Where a symlink ends up; a loop (a.md -> b.md -> a.md) is a ``DocumentError``, not a traceback."""
    try:
        return path.resolve(strict=False)
    except (RuntimeError, OSError) as exc:  # RuntimeError up to Python 3.12, OSError(ELOOP) after
        raise DocumentError("symlink loop (the link leads back to itself); remove it and copy the file in") from exc
