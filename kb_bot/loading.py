"""Loading: files in the documents folder -> clean ``Document`` objects.

Reads ``.md``/``.txt`` (UTF-8 with or without BOM, GB18030), ``.docx``, ``.pdf`` with a
text layer and saved ``.html`` pages. Every format is turned into the same light Markdown
and parsed by one parser, which

* takes ``---`` front matter (title, unit, paper, reporters, topics) as metadata;
* turns ``#`` headings and bold lead-ins (``**助企纾困有温度** ...``) into sections;
* repairs newspaper layout: a paragraph cut mid-word by a column break is joined to the next;
* drops bylines (``正观新闻·郑州晚报记者 ...``) and a trailing print artefact (a page or
  plate number such as ``8578``) so they never reach an answer.

The clean text keeps a map back to the source, so chunks can give character offsets
into the file as it was read. Bad input is skipped with a one-line reason, never raised.
"""

from __future__ import annotations

import bisect
import hashlib
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import yaml

log = logging.getLogger(__name__)

#: File types the loader reads, by suffix.
SUPPORTED_SUFFIXES = (".md", ".markdown", ".txt", ".docx", ".pdf", ".html", ".htm")

# A paragraph ending in one of these is complete; anything else before a plain paragraph is a column break.
_TERMINAL = set("。！？!?；;：:”’」』）)》…—.")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_BOLD_LEAD = re.compile(r"^\*\*(.+?)\*\*\s*")
_BYLINE = re.compile(r"(记者|通讯员|撰稿|责任编辑|编辑：|来源：)")
_TRAILING_NUMBER = re.compile(r"(?<=\S)[ \t\u3000]+\d{2,8}\s*$")


@dataclass(frozen=True)
class Block:
    """A run of clean text under one section heading: ``text[start:end]``."""

    section: str | None
    start: int
    end: int


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


class DocumentError(Exception):
    """Raised inside the loader for a file that cannot be used; becomes a ``Skipped`` entry."""


# --------------------------------------------------------------------------- reading files


def content_hash(data: bytes) -> str:
    """A short, stable hash of a file's bytes (used to spot changed documents)."""
    return hashlib.sha256(data).hexdigest()[:20]


def decode_text(data: bytes) -> str:
    """Decode UTF-8 (with or without BOM) or GB18030; refuse binary data with a reason."""
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


def _docx_to_markdown(path: Path) -> str:
    """Paragraphs of a .docx, with Word headings turned into Markdown headings."""
    import docx  # python-docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, KeyError, ValueError, OSError) as exc:
        raise DocumentError(f"broken .docx ({type(exc).__name__}); re-save it from Word") from None
    except Exception as exc:  # zipfile.BadZipFile and lxml errors come in many shapes
        raise DocumentError(f"broken .docx ({type(exc).__name__}); re-save it from Word") from None
    lines = []
    for paragraph in document.paragraphs:
        text = paragraph.text.strip()
        if not text:
            continue
        style = (paragraph.style.name if paragraph.style is not None else "") or ""
        level = re.match(r"(?i)(heading|标题)\s*(\d)", style)
        if style.lower() == "title":
            lines.append(f"# {text}")
        elif level:
            lines.append(f"{'#' * (int(level.group(2)) + 1)} {text}")
        else:
            lines.append(text)
    return "\n\n".join(lines)


def _pdf_to_markdown(path: Path) -> str:
    """Text layer of a PDF, one paragraph per page block."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(str(path))
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, ValueError, KeyError, OSError) as exc:
        raise DocumentError(f"broken PDF ({type(exc).__name__})") from None
    text = "\n\n".join(p.strip() for p in pages if p.strip())
    if not _CJK.search(text) and len(re.sub(r"\W", "", text)) < 20:
        raise DocumentError("PDF has no text layer (scanned image?); run OCR first or supply the text")
    return text


def _html_to_markdown(data: bytes) -> str:
    """Main text of a saved web page: drops scripts, navigation, headers and footers."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(data, "lxml")
    for tag in soup(["script", "style", "noscript", "nav", "header", "footer", "aside", "form", "iframe"]):
        tag.decompose()
    title_tag = soup.find("title")
    root = soup.find("article") or soup.find("main") or soup.body or soup
    lines = []
    h1 = root.find("h1")
    if title_tag and title_tag.get_text(strip=True) and not h1:
        lines.append(f"# {title_tag.get_text(strip=True)}")
    for element in root.find_all(["h1", "h2", "h3", "h4", "p", "li", "td", "pre"]):
        if element.find_parent(["p", "li", "td"]) is not None:
            continue  # nested: its parent already carries the text
        text = " ".join(element.get_text(" ", strip=True).split())
        if not text:
            continue
        if element.name in ("h1", "h2", "h3", "h4"):
            lines.append(f"{'#' * int(element.name[1])} {text}")
        else:
            lines.append(text)
    return "\n\n".join(lines)


def read_source(path: Path) -> tuple[str, bytes]:
    """Read one file as (source text in light Markdown, raw bytes)."""
    data = path.read_bytes()
    suffix = path.suffix.lower()
    if suffix in (".md", ".markdown", ".txt"):
        return decode_text(data), data
    if suffix == ".docx":
        return _docx_to_markdown(path), data
    if suffix == ".pdf":
        return _pdf_to_markdown(path), data
    if suffix in (".html", ".htm"):
        return _html_to_markdown(data), data
    raise DocumentError(f"unsupported file type {suffix or '(none)'}; use one of {', '.join(SUPPORTED_SUFFIXES)}")


# --------------------------------------------------------------------------- parsing


@dataclass
class _Paragraph:
    kind: str  # "heading" | "text"
    pieces: list[tuple[str, int]]  # (text, source offset) pieces, joined without separator
    level: int = 0
    section: str | None = None

    @property
    def text(self) -> str:
        return "".join(t for t, _ in self.pieces)


def _split_front_matter(source: str, rel_path: str) -> tuple[dict[str, Any], int]:
    """Parse a leading ``---`` YAML block; return (metadata, offset where the body starts)."""
    if not source.startswith("---"):
        return {}, 0
    match = re.match(r"---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(\r?\n|$)", source, re.S)
    if not match:
        raise DocumentError("front matter opened with '---' at line 1 is never closed; add a closing '---' line")
    try:
        meta = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = (mark.line + 2) if mark is not None else 1
        raise DocumentError(f"front matter is not valid YAML (line {line}): {getattr(exc, 'problem', exc)}") from None
    if not isinstance(meta, dict):
        raise DocumentError("front matter must be 'key: value' lines")
    return meta, match.end()


def _paragraphs(source: str, body_start: int) -> list[_Paragraph]:
    """Split the body into paragraphs (blank-line separated), keeping source offsets per line."""
    paragraphs: list[_Paragraph] = []
    current: list[tuple[str, int]] = []

    def flush() -> None:
        if current:
            paragraphs.append(_Paragraph("text", list(current)))
            current.clear()

    pos = body_start
    for raw_line in source[body_start:].splitlines(keepends=True):
        line_start = pos
        pos += len(raw_line)
        line = raw_line.rstrip("\r\n")
        stripped = line.strip()
        if not stripped:
            flush()
            continue
        lead = line.index(stripped[0])
        heading = _HEADING.match(stripped)
        if heading:
            flush()
            text = heading.group(2)
            offset = line_start + lead + stripped.index(text) if text else line_start
            paragraphs.append(_Paragraph("heading", [(text, offset)], level=len(heading.group(1))))
            continue
        if current:
            # A soft line break inside a paragraph: Chinese joins lines directly, other scripts with a space.
            previous = current[-1][0]
            if not (_CJK.match(stripped[0]) and _CJK.match(previous[-1])):
                current.append((" ", -1))
        current.append((stripped, line_start + lead))
    flush()
    return paragraphs


def _ends_open(text: str) -> bool:
    """True when a paragraph stops mid-sentence (no closing punctuation)."""
    text = text.rstrip()
    return bool(text) and text[-1] not in _TERMINAL


def parse_document(source: str, rel_path: str, raw: bytes | None = None) -> Document:
    """Parse light Markdown into a clean ``Document`` (see the module docstring for the rules)."""
    meta, body_start = _split_front_matter(source, rel_path)
    paragraphs = _paragraphs(source, body_start)
    notes: list[str] = []

    # Leading headings name the article: "# unit" then "# title" in the seed layout.
    leading: list[str] = []
    while paragraphs and paragraphs[0].kind == "heading":
        leading.append(paragraphs.pop(0).text)
    title = str(meta.get("title") or (leading[-1] if leading else "") or Path(rel_path).stem)
    unit = meta.get("unit") or meta.get("issuing_unit") or (leading[0] if len(leading) > 1 else None)

    # Sections: headings and bold lead-ins; bylines and print artefacts are dropped.
    section: str | None = None
    body: list[_Paragraph] = []
    for paragraph in paragraphs:
        if paragraph.kind == "heading":
            section = paragraph.text.strip() or section
            continue
        text = paragraph.text
        bold = _BOLD_LEAD.match(text)
        if bold:
            section = bold.group(1).strip()
            paragraph = _trim_front(paragraph, bold.end())
            if not paragraph.text.strip():
                continue
        elif _BYLINE.search(text) and len(text) < 80 and "。" not in text:
            notes.append(f"dropped byline: {text[:40]}")
            continue
        paragraph.section = section
        body.append(paragraph)

    # A trailing print artefact: a last paragraph without any letters, or a number glued after the last line.
    while body and not re.search(r"[^\W\d_]", body[-1].text) and len(body[-1].text) <= 16:
        notes.append(f"dropped trailing artefact: {body[-1].text!r}")
        body.pop()
    if body:
        match = _TRAILING_NUMBER.search(body[-1].text)
        if match:
            notes.append(f"dropped trailing number: {match.group().strip()!r}")
            body[-1] = _trim_back(body[-1], match.start())

    # Column breaks: a paragraph that stops mid-sentence continues in the next plain paragraph.
    merged: list[_Paragraph] = []
    for paragraph in body:
        previous = merged[-1] if merged else None
        if (
            previous is not None
            and previous.section == paragraph.section
            and _ends_open(previous.text)
            and re.match(r"[\w\u3400-\u9fff]", paragraph.text)
        ):
            notes.append(f"joined column break: {previous.text[-4:]}/{paragraph.text[:4]}")
            previous.pieces.extend(paragraph.pieces)
            continue
        merged.append(paragraph)

    # Compose the clean text: paragraphs separated by blank lines, one Block per section run.
    parts: list[str] = []
    offset_map: list[tuple[int, int, int]] = []
    blocks: list[Block] = []
    length = 0
    for paragraph in merged:
        if parts:
            parts.append("\n\n")
            length += 2
        paragraph_start = length
        for text, source_offset in paragraph.pieces:
            if source_offset >= 0:
                offset_map.append((length, source_offset, len(text)))
            parts.append(text)
            length += len(text)
        if blocks and blocks[-1].section == paragraph.section:
            blocks[-1] = Block(paragraph.section, blocks[-1].start, length)
        else:
            blocks.append(Block(paragraph.section, paragraph_start, length))
    text = "".join(parts)
    if not text.strip():
        raise DocumentError("empty document (no text after front matter and headings)")

    data = raw if raw is not None else source.encode("utf-8")
    return Document(
        path=rel_path,
        title=title.strip(),
        unit=str(unit).strip() if unit else None,
        meta={k: v for k, v in meta.items() if k not in ("title", "unit")},
        text=text,
        blocks=tuple(blocks),
        offset_map=tuple(offset_map),
        content_hash=content_hash(data),
        size=len(data),
        notes=tuple(notes),
    )


def _trim_front(paragraph: _Paragraph, count: int) -> _Paragraph:
    """Drop the first ``count`` characters of a paragraph, keeping offsets right."""
    pieces = []
    for text, offset in paragraph.pieces:
        if count >= len(text):
            count -= len(text)
            continue
        pieces.append((text[count:], offset + count if offset >= 0 else -1))
        count = 0
    return _Paragraph(paragraph.kind, pieces, paragraph.level, paragraph.section)


def _trim_back(paragraph: _Paragraph, keep: int) -> _Paragraph:
    """Keep only the first ``keep`` characters of a paragraph."""
    pieces = []
    for text, offset in paragraph.pieces:
        if keep <= 0:
            break
        pieces.append((text[:keep], offset))
        keep -= len(text)
    return _Paragraph(paragraph.kind, pieces, paragraph.level, paragraph.section)


# --------------------------------------------------------------------------- folders


def iter_candidate_files(folder: Path) -> Iterable[Path]:
    """Files under ``folder`` in a stable order, skipping hidden files and folders."""
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if any(part.startswith(".") for part in rel.parts):
            continue
        if path.is_file() or path.is_symlink():
            yield path


def load_file(path: Path, folder: Path, max_bytes: int) -> Document:
    """Load one file of the documents folder, raising ``DocumentError`` with a reason if unusable."""
    rel = path.relative_to(folder).as_posix()
    if path.is_symlink():
        target = path.resolve()
        if not target.is_relative_to(folder.resolve()):
            raise DocumentError("symlink points outside the documents folder")
        if not target.is_file():
            raise DocumentError("broken symlink")
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        raise DocumentError(f"unsupported file type {path.suffix or '(none)'}; use one of {', '.join(SUPPORTED_SUFFIXES)}")
    size = path.stat().st_size
    if size > max_bytes:
        raise DocumentError(
            f"file is {size / 1048576:.1f} MB, over the {max_bytes / 1048576:.1f} MB limit; "
            "split it or raise KB_BOT_MAX_FILE_MB"
        )
    if size == 0:
        raise DocumentError("empty file")
    try:
        source, raw = read_source(path)
    except OSError as exc:
        raise DocumentError(f"cannot read file: {exc.strerror or exc}") from None
    return parse_document(source, rel, raw)


def load_documents(folder: Path, max_bytes: int = 20 * 1024 * 1024) -> LoadResult:
    """Load every supported file under ``folder``; unusable files are skipped with a reason."""
    documents: list[Document] = []
    skipped: list[Skipped] = []
    for path in iter_candidate_files(folder):
        rel = path.relative_to(folder).as_posix()
        try:
            document = load_file(path, folder, max_bytes)
        except DocumentError as exc:
            log.warning("skipped %s: %s", rel, exc)
            skipped.append(Skipped(rel, str(exc)))
            continue
        for note in document.notes:
            log.debug("%s: %s", rel, note)
        documents.append(document)
    return LoadResult(tuple(documents), tuple(skipped))
