"""Documents: what the loader produces (``Document``, ``Block``, ``Skipped``), the bytes-to-text decoder,
the content hash that tells a changed file, and the character classes the readers and the cleaner share.
"""

from __future__ import annotations

import bisect
import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from .. import legal
from ..bounds import DocumentError

#: File types the loader reads, by suffix.
SUPPORTED_SUFFIXES = (".md", ".markdown", ".txt", ".docx", ".pdf", ".html", ".htm")

# A paragraph ending in one of these is complete; anything else before a plain paragraph is a column break.
_TERMINAL = set("。！？!?；;：:”’」』）)》…—.")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
#: Chinese characters and full-width punctuation: a line break between two of them is no space.
_CJK_WIDE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef\u201c\u201d\u2018\u2019\u2014\u2026]")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_BOLD_LEAD = re.compile(r"^\*\*(.+?)\*\*\s*")
_BYLINE = re.compile(r"(记者|通讯员|撰稿|责任编辑|编辑：|来源：)")
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)
_TRAILING_NUMBER = re.compile(r"(?<=\S)[ \t\u3000]+\d{2,8}\s*$")

@dataclass(frozen=True)
class Block:
    """A run of clean text under one section heading: ``text[start:end]``; in a regulation, one article."""

    section: str | None
    start: int
    end: int
    article: str | None = None  # "第二十五条" when the block is an article of a regulation


@dataclass(frozen=True)
class Document:
    """One article, cleaned, with the metadata needed to cite it."""

    path: str  # relative to the documents folder, POSIX separators
    title: str
    unit: str | None
    meta: dict[str, Any]
    text: str
    blocks: tuple[Block, ...]
    offset_map: tuple[tuple[int, int, int], ...] = field(repr=False)  # (clean start, source start, length)
    content_hash: str = ""
    size: int = 0
    notes: tuple[str, ...] = ()  # what the cleaner did (joined breaks, dropped artefacts)
    kind: str = legal.ARTICLE  # "regulation" (articles 第X条, see legal.py) or "article" (news, other text)
    issued: str | None = None  # ISO date: front matter date, else latest adoption/amendment or file-name date
    status: str | None = None  # front matter status: "repealed" / "superseded" (None: in force)

    def source_offset(self, clean_pos: int) -> int:
        """Map a position in the clean text to a character position in the source text."""
        if not self.offset_map:
            return clean_pos
        starts = [seg[0] for seg in self.offset_map]
        i = max(bisect.bisect_right(starts, clean_pos) - 1, 0)
        clean_start, source_start, length = self.offset_map[i]
        return source_start + min(max(clean_pos - clean_start, 0), length)


@dataclass(frozen=True)
class Skipped:
    """A file that was not indexed, and why."""

    path: str
    reason: str


@dataclass(frozen=True)
class LoadResult:
    """The documents read from a folder and the files skipped on the way."""

    documents: tuple[Document, ...]
    skipped: tuple[Skipped, ...]


def content_hash(data: bytes) -> str:
    """A short, stable hash of a file's bytes (used to spot changed documents)."""
    return hashlib.sha256(data).hexdigest()[:20]


def decode_text(data: bytes) -> str:
    """Decode UTF-8 (with or without BOM) or GB18030; refuse binary data with a reason."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):  # UTF-16 with BOM ("Unicode" in Windows Notepad)
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise DocumentError("not valid UTF-16 text despite its byte-order mark; save it as UTF-8") from None
    if b"\x00" in data[:8192]:
        raise DocumentError("binary file (contains NUL bytes), not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as utf8_error:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            line = data[: utf8_error.start].count(b"\n") + 1
            raise DocumentError(
                f"not UTF-8 or GB18030 text (undecodable byte at line {line}); save it as UTF-8"
            ) from None
    # GB18030 decodes almost anything: accept it only if the result looks like text.
    odd = sum(1 for ch in text if (ord(ch) < 32 and ch not in "\r\n\t") or 0xE000 <= ord(ch) <= 0xF8FF)
    if odd > max(3, len(text) // 50):
        raise DocumentError("not UTF-8 or GB18030 text (looks binary); save it as UTF-8")
    return text

