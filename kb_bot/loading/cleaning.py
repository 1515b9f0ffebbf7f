"""Cleaning: light Markdown -> paragraphs with their source offsets, newspaper layout damage repaired.

* ``#`` headings and bold lead-ins (``**助企纾困有温度** ...``) become sections;
* a paragraph cut mid-word by a column break is joined to the next;
* bylines (``正观新闻·郑州晚报记者 ...``) and a trailing print artefact (a page or plate number such as
  ``8578``) are dropped so they never reach an answer.

Every paragraph keeps ``(text, source offset)`` pieces, so the clean text maps back to the source and
chunks can cite character offsets into the file as it was read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..bounds import MAX_NOTES, check_budget
from .document import _CJK_WIDE, _TERMINAL, Block

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_BOLD_LEAD = re.compile(r"^\*\*(.+?)\*\*\s*")
_BYLINE = re.compile(r"(记者|通讯员|撰稿|责任编辑|编辑：|来源：)")
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)
_TRAILING_NUMBER = re.compile(r"(?<=\S)[ \t\u3000]+\d{2,8}\s*$")


@dataclass
class _Paragraph:
    kind: str  # "heading" | "text"
    pieces: list[tuple[str, int]]  # (text, source offset) pieces, joined without separator
    level: int = 0
    section: str | None = None
    article: str | None = None

    @property
    def text(self) -> str:
        """The paragraph's pieces joined."""
        return "".join(t for t, _ in self.pieces)


def _paragraphs(source: str, body_start: int) -> list[_Paragraph]:
    """Split the body into paragraphs (blank-line separated), keeping source offsets per line."""
    paragraphs: list[_Paragraph] = []
    current: list[tuple[str, int]] = []

    def flush() -> None:
        if current:
            paragraphs.append(_Paragraph("text", list(current)))
            current.clear()

    pos = body_start
    for number, raw_line in enumerate(source[body_start:].splitlines(keepends=True)):
        if number % 4096 == 0:
            check_budget()
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
            if not (_CJK_WIDE.match(stripped[0]) and _CJK_WIDE.match(previous[-1])):
                current.append((" ", -1))
        current.append((stripped, line_start + lead))
    flush()
    return paragraphs


def _ends_open(text: str) -> bool:
    """True when a paragraph stops mid-sentence (no closing punctuation)."""
    text = text.rstrip()
    return bool(text) and text[-1] not in _TERMINAL


def _tail(pieces: list[tuple[str, int]], count: int) -> str:
    """The last ``count`` characters (trailing whitespace dropped) of a paragraph, without joining all of it.

    Column-break joining asks this once per merge: rebuilding the whole text there was quadratic.
    """
    out = ""
    for text, _ in reversed(pieces):
        out = text + out
        if len(out.rstrip()) >= count:
            break
    return out.rstrip()[-count:]


def _trim_front(paragraph: _Paragraph, count: int) -> _Paragraph:
    """Drop the first ``count`` characters of a paragraph, keeping offsets right."""
    pieces = []
    for text, offset in paragraph.pieces:
        if count >= len(text):
            count -= len(text)
            continue
        pieces.append((text[count:], offset + count if offset >= 0 else -1))
        count = 0
    return _Paragraph(paragraph.kind, pieces, paragraph.level, paragraph.section, paragraph.article)


def _trim_back(paragraph: _Paragraph, keep: int) -> _Paragraph:
    """Keep only the first ``keep`` characters of a paragraph."""
    pieces = []
    for text, offset in paragraph.pieces:
        if keep <= 0:
            break
        pieces.append((text[:keep], offset))
        keep -= len(text)
    return _Paragraph(paragraph.kind, pieces, paragraph.level, paragraph.section, paragraph.article)


def drop_markup(paragraphs: list[_Paragraph]) -> list[_Paragraph]:
    """Without HTML comments (``<!-- INFO END -->`` in the published regulations): markup, not text."""
    return [p for p in paragraphs if not (p.kind == "text" and _HTML_COMMENT.fullmatch(p.text.strip()))]


def sections(paragraphs: list[_Paragraph], notes: list[str]) -> list[_Paragraph]:
    """Text paragraphs with their section (headings and bold lead-ins); bylines are dropped."""
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
    return body


def drop_trailing_artefacts(body: list[_Paragraph], notes: list[str]) -> None:
    """Remove a print artefact at the end: a last paragraph without letters, or a number glued to the last line."""
    while body and not re.search(r"[^\W\d_]", body[-1].text) and len(body[-1].text) <= 16:
        notes.append(f"dropped trailing artefact: {body[-1].text!r}")
        body.pop()
    if body:
        match = _TRAILING_NUMBER.search(body[-1].text)
        if match:
            notes.append(f"dropped trailing number: {match.group().strip()!r}")
            body[-1] = _trim_back(body[-1], match.start())


def join_column_breaks(body: list[_Paragraph], notes: list[str]) -> list[_Paragraph]:
    """A paragraph that stops mid-sentence continues in the next plain paragraph of the same section."""
    merged: list[_Paragraph] = []
    for paragraph in body:
        previous = merged[-1] if merged else None
        if (
            previous is not None
            and previous.section == paragraph.section
            and _ends_open(_tail(previous.pieces, 1))
            and re.match(r"[\w\u3400-\u9fff]", paragraph.pieces[0][0])
        ):
            if len(notes) < MAX_NOTES:
                notes.append(f"joined column break: {_tail(previous.pieces, 4)}/{paragraph.text[:4]}")
            previous.pieces.extend(paragraph.pieces)
            continue
        merged.append(paragraph)
    return merged


def compose(paragraphs: list[_Paragraph]) -> tuple[str, list[tuple[int, int, int]], list[Block]]:
    """The clean text (paragraphs separated by blank lines), its map to the source, one Block per section run."""
    parts: list[str] = []
    offset_map: list[tuple[int, int, int]] = []
    blocks: list[Block] = []
    length = 0
    for paragraph in paragraphs:
        if parts:
            parts.append("\n\n")
            length += 2
        paragraph_start = length
        for text, source_offset in paragraph.pieces:
            if source_offset >= 0:
                offset_map.append((length, source_offset, len(text)))
            parts.append(text)
            length += len(text)
        if blocks and blocks[-1].section == paragraph.section and blocks[-1].article == paragraph.article:
            blocks[-1] = Block(paragraph.section, blocks[-1].start, length, paragraph.article)
        else:
            blocks.append(Block(paragraph.section, paragraph_start, length, paragraph.article))
    return "".join(parts), offset_map, blocks
