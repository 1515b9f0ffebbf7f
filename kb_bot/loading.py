"""Loading: files in the documents folder -> clean ``Document`` objects.

Reads ``.md``/``.txt`` (UTF-8 with or without BOM, GB18030, UTF-16 with BOM), ``.docx``,
``.pdf`` with a text layer and saved ``.html`` pages. Every format is turned into the same
light Markdown and parsed by one parser:

* ``.docx``: Word's Title and Heading styles become ``#`` headings, a bold opening run a bold
  lead-in, tables one line a row (cells separated by `` | ``);
* ``.pdf``: lines are re-joined into paragraphs; short lines set larger than the body text
  (or wholly in a bold font) become headings; page numbers are dropped;
* ``.html``: the article (``<article>``/``<main>``, else the body) without scripts, navigation,
  the page header and footer, sidebars and share bars; ``<h1>``-``<h6>`` become headings;
* ``.txt``: one or two short opening lines standing alone (no closing punctuation) are the
  unit and title, as ``#`` lines are in Markdown.

The parser

* takes ``---`` front matter (title, unit, paper, reporters, topics) as metadata;
* turns ``#`` headings and bold lead-ins (``**助企纾困有温度** ...``) into sections;
* repairs newspaper layout: a paragraph cut mid-word by a column break is joined to the next;
* drops bylines (``正观新闻·郑州晚报记者 ...``) and a trailing print artefact (a page or
  plate number such as ``8578``) so they never reach an answer.

The clean text keeps a map back to the source, so chunks can give character offsets
into the file as it was read (for .docx/.pdf/.html: into the light Markdown made of it).
Bad input is skipped with a one-line reason, never raised. Hidden files and editor or
download leftovers (``~$x.docx``, ``x~``, ``x.tmp``, ``x.crdownload``) are not looked at.
"""

from __future__ import annotations

import bisect
import hashlib
import logging
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import yaml

from . import legal
from .bounds import (  # noqa: F401  (DocumentError and the bounds are part of this module's interface)
    DEFAULT_MAX_FILE_SECONDS,
    MAX_NOTES,
    DocumentError,
    check_budget,
    check_docx,
    check_html,
    resolve_link,
    time_budget,
)

log = logging.getLogger(__name__)

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


# --------------------------------------------------------------------------- reading files


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


def _docx_heading_level(style_name: str) -> int | None:
    """Markdown heading level of a Word paragraph style: Title -> 1, Heading N -> N + 1."""
    name = " ".join(style_name.split()).lower()
    if name in ("title", "标题"):
        return 1
    level = re.fullmatch(r"(?:heading|标题)\s*(\d)", name)
    return min(int(level.group(1)) + 1, 6) if level else None


def _docx_paragraph(paragraph) -> str:
    """One Word paragraph as light Markdown: a heading, a bold lead-in, or plain text."""
    text = paragraph.text.strip()
    if not text:
        return ""
    style = paragraph.style.name if paragraph.style is not None else ""
    level = _docx_heading_level(style or "")
    if level is not None:
        return f"{'#' * level} {' '.join(text.split())}"
    # Bold leading runs: a short bold line is a heading, a bold start a lead-in (**助企纾困有温度** ...).
    lead: list[str] = []
    for run in paragraph.runs:
        if run.bold:
            lead.append(run.text)
        elif lead and not run.text.strip():
            lead.append(run.text)
        else:
            break
    lead_text = "".join(lead).strip()
    if 2 <= len(lead_text) <= 60 and "\n" not in lead_text and text.startswith(lead_text):
        rest = text[len(lead_text):].strip()
        if rest and lead_text[-1] not in ":：":
            return f"**{lead_text}** {rest}"
        if not rest and lead_text[-1] not in _TERMINAL - set("）)》”’」』"):
            return f"**{lead_text}**"
    return text


def _docx_table(table) -> list[str]:
    """A Word table: one line a row, cells separated by " | "."""
    lines = []
    for row in table.rows:
        check_budget()
        cells: list[str] = []
        for cell in row.cells:
            value = " ".join(cell.text.split())
            if value and (not cells or cells[-1] != value):  # a merged cell repeats its text
                cells.append(value)
        if cells:
            lines.append(" | ".join(cells))
    return lines


def _docx_to_markdown(path: Path, max_bytes: int = 20 * 1024 * 1024) -> str:
    """Paragraphs and tables of a .docx, with Word headings turned into Markdown headings."""
    import docx  # python-docx

    check_docx(path, max_bytes)
    try:
        document = docx.Document(str(path))
        blocks = list(document.iter_inner_content())
    except Exception as exc:  # PackageNotFoundError, zipfile.BadZipFile, KeyError, lxml errors come in many shapes
        raise DocumentError(f"broken .docx ({type(exc).__name__}); open and re-save it in Word") from None
    lines: list[str] = []
    for block in blocks:
        check_budget()
        if hasattr(block, "rows"):
            lines.extend(_docx_table(block))
        else:
            line = _docx_paragraph(block)
            if line:
                lines.append(line)
    return "\n\n".join(lines)


_CJK_GAP = re.compile(r"(?<=[\u3400-\u9fff\u3000-\u303f\uff00-\uffef]) (?=[\u3400-\u9fff\u3000-\u303f\uff00-\uffef])")
_BOLD_FONT = re.compile(r"(?i)bold|heavy|black|semibold|demi|simhei|黑体")
_PAGE_NUMBER = re.compile(
    r"(?i)^(?:[-—–·.\s]*\d+[-—–·.\s]*|第\s*\d+\s*页(?:\s*[/，,]?\s*共\s*\d+\s*页)?|page\s*\d+(?:\s*of\s*\d+)?)$"
)


def _one_line(text: str) -> str:
    """Collapse whitespace to single spaces, with none left between two Chinese characters."""
    return _CJK_GAP.sub("", " ".join(text.split()))


def _pdf_page_lines(page) -> list[tuple[str, float, bool]]:
    """(text, font size, all bold) for each line of a page's text layer."""
    lines: list[tuple[str, float, bool]] = []
    pieces: list[tuple[str, float, bool]] = []

    def close() -> None:
        text = _one_line("".join(p[0] for p in pieces))
        sized = [p for p in pieces if p[0].strip()]
        if text and sized:
            lines.append((text, max(p[1] for p in sized), all(p[2] for p in sized)))
        pieces.clear()

    def visit(text, cm, tm, font_dict, font_size) -> None:
        scale = (math.hypot(tm[2], tm[3]) or 1.0) * (math.hypot(cm[2], cm[3]) or 1.0)
        bold = bool(_BOLD_FONT.search(str((font_dict or {}).get("/BaseFont", ""))))
        for i, part in enumerate(text.split("\n")):
            if i:
                close()
            if part:
                pieces.append((part, float(font_size or 0) * scale, bold))

    plain = page.extract_text(visitor_text=visit) or ""
    close()
    if not lines and plain.strip():  # the visitor saw nothing: plain lines without sizes
        lines = [(_one_line(line), 0.0, False) for line in plain.splitlines() if line.strip()]
    return lines


def _pdf_to_markdown(path: Path) -> str:
    """Text layer of a PDF: lines re-joined into paragraphs; larger (or bold) short lines become headings."""
    from pypdf import PdfReader

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # damaged-but-readable PDFs warn a lot
    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted and not reader.decrypt(""):
            raise DocumentError("PDF is password-protected; save an unprotected copy")
        pages = []
        for page in reader.pages:
            check_budget()
            pages.append([line for line in _pdf_page_lines(page) if not _PAGE_NUMBER.match(line[0])])
    except DocumentError:
        raise
    except Exception as exc:  # PdfReadError and many other shapes for damaged files
        raise DocumentError(f"broken PDF ({type(exc).__name__}); re-save or re-export it") from None
    all_lines = [line for page in pages for line in page]
    text = "\n".join(line[0] for line in all_lines)
    if not _CJK.search(text) and len(re.sub(r"\W", "", text)) < 20:
        raise DocumentError("PDF has no text layer (a scanned image?); run OCR on it or supply the text")

    # Body size: the font size carrying most characters; clearly larger short lines are headings.
    weight: dict[float, int] = {}
    for line, size, _ in all_lines:
        weight[round(size, 1)] = weight.get(round(size, 1), 0) + len(line)
    body = max(weight, key=weight.__getitem__) if weight else 0.0
    heading_sizes = sorted({round(s, 1) for line, s, _ in all_lines if body and s >= body * 1.15 and len(line) <= 80},
                           reverse=True)[:4]

    def heading_level(line: str, size: float, bold: bool) -> int | None:
        if len(line) > 80 or not re.search(r"[^\W\d_]", line) or line[-1] in "。，,；;":
            return None
        if round(size, 1) in heading_sizes:
            return heading_sizes.index(round(size, 1)) + 1
        if bold and len(line) <= 40 and line[-1] not in _TERMINAL - set("）)》”’」』"):
            return len(heading_sizes) + 1
        return None

    out: list[str] = []
    paragraph: list[str] = []
    last_heading: tuple[int, int] | None = None  # (level, index in out) of a heading just written

    def flush() -> None:
        if paragraph:
            out.append("\n".join(paragraph))
            paragraph.clear()

    for page in pages:
        for line, size, bold in page:
            level = heading_level(line, size, bold)
            if level is not None:
                flush()
                if last_heading and last_heading[0] == level and last_heading[1] == len(out) - 1:
                    out[-1] = _one_line(f"{out[-1]} {line}")  # a heading wrapped over two lines
                else:
                    out.append(f"{'#' * min(level, 6)} {line}")
                last_heading = (level, len(out) - 1)
                continue
            last_heading = None
            paragraph.append(line)
            if line[-1] in _TERMINAL:
                flush()
        flush()  # a page ends a paragraph; the parser re-joins one cut mid-sentence
    return "\n\n".join(out)


# Not <form>: ASP.NET pages wrap the whole page, article included, in one.
_HTML_DROP = ("script", "style", "noscript", "template", "nav", "aside", "iframe", "svg", "button", "select",
              "input", "textarea", "object", "embed")
_HTML_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
_HTML_BLOCKS = frozenset(
    "p div section article main li ul ol dl dt dd table thead tbody tfoot tr td th caption pre blockquote "
    "figure figcaption center address header footer hr body html".split()
)
_HTML_LAYOUT = ["p", "div", "table", "br", "ul", "ol", *_HTML_HEADINGS]
_BOILERPLATE = re.compile(r"(?i)(^|[\s_-])(nav|navbar|menu|breadcrumbs?|crumbs?|sidebar|footer|copyright|share|"
                          r"comments?|related|toolbar|pagination|skip-link)([\s_-]|$)")


def _html_to_markdown(data: bytes) -> str:
    """Main text of a saved web page: drops scripts, navigation, page header and footer, sidebars."""
    from bs4 import BeautifulSoup, NavigableString

    check_html(data)
    soup = BeautifulSoup(data, "lxml")
    title_tag = soup.find("title")
    # "文章标题_上街区人民政府网": the longest part of the page title is the article's.
    page_title = max(re.split(r"\s[-|–—]\s|_|｜", title_tag.get_text(" ")), key=len, default="") if title_tag else ""
    page_title = _one_line(page_title)
    for tag in soup(list(_HTML_DROP)):
        tag.decompose()
    body = soup.body or soup
    body_length = len(body.get_text(strip=True))
    root = body
    candidates = sorted(soup.find_all("article"), key=lambda t: len(t.get_text(strip=True)), reverse=True)[:1]
    candidates += soup.find_all("main")[:1] + soup.find_all(attrs={"role": "main"})[:1]
    for candidate in candidates:  # the article, unless it is only a teaser box beside the real text
        if len(candidate.get_text(strip=True)) >= 0.3 * body_length:
            root = candidate
            break
    for tag in soup(["header", "footer"]):  # the page's, not an article's own <header> with its title
        if tag is not root and (tag.name == "footer" or tag.find_parent(["article", "main"]) is None):
            tag.decompose()
    total = len(root.get_text()) or 1
    for tag in list(root.find_all(True)):
        if getattr(tag, "decomposed", False) or not tag.attrs:
            continue
        marker = " ".join([str(tag.get("id") or ""), *(tag.get("class") or [])])
        if _BOILERPLATE.search(marker) and not tag.find("h1") and len(tag.get_text()) < total / 2:
            tag.decompose()

    out: list[str] = []
    buffer: list[str] = []

    def flush() -> None:
        lines = [_one_line(line) for line in "".join(buffer).split("\n")]
        buffer.clear()
        text = "\n".join(line for line in lines if line)
        if text:
            out.append(text)

    def walk(node) -> None:
        check_budget()
        for child in node.children:
            if isinstance(child, NavigableString):
                if type(child) is NavigableString:  # not a comment, CDATA or doctype
                    buffer.append(str(child))
            elif child.name == "br":
                buffer.append("\n")
            elif child.name in _HTML_HEADINGS:
                flush()
                text = _one_line(child.get_text(" "))
                if text:
                    out.append(f"{'#' * int(child.name[1])} {text}")
            elif child.name == "tr" and not any(c.find(_HTML_LAYOUT) for c in child.find_all(["td", "th"])):
                flush()  # a data row: one line, cells separated by " | " (layout tables are walked instead)
                cells = [_one_line(c.get_text(" ")) for c in child.find_all(["td", "th"])]
                row = " | ".join(c for c in cells if c)
                if row:
                    out.append(row)
            elif child.name in _HTML_BLOCKS:
                flush()
                walk(child)
                flush()
            else:  # an inline element: its text runs on in the current paragraph
                walk(child)

    walk(root)
    flush()
    # What comes before the page's one <h1> is menus, breadcrumbs and teasers, when it is the lesser part.
    h1 = [i for i, line in enumerate(out) if line.startswith("# ")]
    if len(h1) == 1 and h1[0] > 0 and sum(map(len, out[: h1[0]])) < sum(map(len, out[h1[0]:])):
        out = out[h1[0]:]
    if page_title and not any(line.startswith("# ") for line in out[:3]):
        out.insert(0, f"# {page_title}")
    return "\n\n".join(out)


def read_source(path: Path, max_bytes: int = 20 * 1024 * 1024) -> tuple[str, bytes]:
    """Read one file as (source text in light Markdown, raw bytes)."""
    data = path.read_bytes()
    suffix = path.suffix.lower()
    if suffix in (".md", ".markdown", ".txt"):
        return decode_text(data), data
    if suffix == ".docx":
        return _docx_to_markdown(path, max_bytes), data
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
    article: str | None = None

    @property
    def text(self) -> str:
        return "".join(t for t, _ in self.pieces)


#: libyaml's safe loader when PyYAML was built with it (9 s -> ~1 s for 8,000 front matters), else the Python one.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _split_front_matter(source: str, rel_path: str) -> tuple[dict[str, Any], int]:
    """Parse a leading ``---`` YAML block; return (metadata, offset where the body starts)."""
    if not source.startswith("---"):
        return {}, 0
    match = re.match(r"---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(\r?\n|$)", source, re.S)
    if not match:
        raise DocumentError("front matter opened with '---' at line 1 is never closed; add a closing '---' line")
    try:
        meta = yaml.load(match.group(1), Loader=_YAML_LOADER) or {}
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


def parse_document(
    source: str, rel_path: str, raw: bytes | None = None, front_matter: bool = True, plain_title: bool = False
) -> Document:
    """Parse light Markdown into a clean ``Document`` (see the module docstring for the rules).

    ``front_matter=False`` for text converted from .docx/.pdf/.html, where a leading ``---`` is content.
    ``plain_title=True`` for plain text: up to two short opening lines standing alone, without closing
    punctuation, are read as headings ("unit" and "title"), as ``#`` lines are in Markdown.
    """
    meta, body_start = _split_front_matter(source, rel_path) if front_matter else ({}, 0)
    paragraphs = _paragraphs(source, body_start)
    if plain_title:
        for paragraph in paragraphs[:2]:
            text = paragraph.text.strip()
            if (paragraph.kind != "text" or len(paragraph.pieces) != 1 or len(paragraphs) < 2
                    or not text or len(text) > 40 or not _ends_open(text) or text.startswith("**")):
                break
            paragraph.kind, paragraph.level = "heading", 1
    notes: list[str] = []

    # Leading headings name the article: "# unit" then "# title" in the seed layout. Only headings of
    # the first one's level: a deeper heading right after the title ("# Title" "## Part 1") is a section.
    leading: list[str] = []
    leading_level = paragraphs[0].level if paragraphs and paragraphs[0].kind == "heading" else 0
    while (len(leading) < len(paragraphs) and paragraphs[len(leading)].kind == "heading"
           and paragraphs[len(leading)].level == leading_level):
        leading.append(paragraphs[len(leading)].text)
    paragraphs = paragraphs[len(leading):]
    title = str(meta.get("title") or (leading[-1] if leading else "")
                or (plain_title and _opening_sentence(paragraphs)) or Path(rel_path).stem)
    unit = meta.get("unit") or meta.get("issuing_unit") or (leading[0] if len(leading) > 1 else None)
    # HTML comments (``<!-- INFO END -->`` in the published regulations) are markup, not text.
    paragraphs = [p for p in paragraphs if not (p.kind == "text" and _HTML_COMMENT.fullmatch(p.text.strip()))]
    texts = [p.text for p in paragraphs if p.kind == "text"]
    kind = str(meta.get("kind") or "").strip().lower() or (
        legal.REGULATION if legal.is_regulation(texts, title) else legal.ARTICLE)
    header = legal.read_header(texts) if kind == legal.REGULATION else None
    if header is not None:
        unit = unit or header.issuer

    # Sections: headings and bold lead-ins; bylines and print artefacts are dropped.
    section: str | None = None
    body: list[_Paragraph] = []
    for paragraph in (() if header is not None else paragraphs):
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

    if header is not None:
        body = _regulation_body(paragraphs)

    # Column breaks: a paragraph that stops mid-sentence continues in the next plain paragraph.
    # (Not in a regulation: its adoption lines and items end without a full stop by design.)
    merged: list[_Paragraph] = []
    for paragraph in body:
        previous = merged[-1] if merged else None
        if (
            header is None
            and previous is not None
            and previous.section == paragraph.section
            and _ends_open(_tail(previous.pieces, 1))
            and re.match(r"[\w\u3400-\u9fff]", paragraph.pieces[0][0])
        ):
            if len(notes) < MAX_NOTES:
                notes.append(f"joined column break: {_tail(previous.pieces, 4)}/{paragraph.text[:4]}")
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
        if blocks and blocks[-1].section == paragraph.section and blocks[-1].article == paragraph.article:
            blocks[-1] = Block(paragraph.section, blocks[-1].start, length, paragraph.article)
        else:
            blocks.append(Block(paragraph.section, paragraph_start, length, paragraph.article))
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
        kind=kind,
        issued=legal.issued_date(header.dates if header else (), rel_path, meta.get("issued") or meta.get("date")),
        status=legal.normalize_status(meta.get("status")),
    )


#: Section of a regulation's adoption and amendment lines (before its first article).
ADOPTION_SECTION = "制定和修改"


def _regulation_body(paragraphs: list[_Paragraph]) -> list[_Paragraph]:
    """The paragraphs of a regulation with section (章, 章 + 节) and article (第X条) set.

    A paragraph opening ``第X条`` starts an article; the items and paragraphs after it belong to it until
    the next article or heading. The adoption lines before the first article get ``ADOPTION_SECTION``.
    """
    chapter: str | None = None
    section: str | None = None
    article: str | None = None
    body: list[_Paragraph] = []
    for paragraph in paragraphs:
        if paragraph.kind == "heading":
            heading = legal.clean_heading(paragraph.text)
            if not heading:
                continue
            if legal.is_part(heading) and chapter:
                section = f"{chapter} {heading}"
            else:
                chapter = section = heading
            article = None
            continue
        opened = legal.article_of(paragraph.text)
        if opened:
            article = opened
        paragraph.article = article
        if article is None and section is None and legal.is_adoption_line(paragraph.text):
            paragraph.section = ADOPTION_SECTION
        else:
            paragraph.section = section
        body.append(paragraph)
    return body


def _opening_sentence(paragraphs: list[_Paragraph]) -> str:
    """The first sentence of the first text paragraph (at most 40 characters): a title for untitled text."""
    first = next((p.text.strip() for p in paragraphs if p.kind == "text" and p.text.strip()), "")
    sentence = re.split(r"(?<=[。！？!?])", first, maxsplit=1)[0].strip()
    return sentence if len(sentence) <= 40 else sentence[:39] + "…"


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


# --------------------------------------------------------------------------- folders


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


def _size_text(size: float) -> str:
    if size >= 1024 * 1024:
        return f"{size / 1048576:.1f} MB"
    if size >= 1024:
        return f"{size / 1024:.1f} KB"
    return f"{int(size)} bytes"


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
            shown, limit = _size_text(size), _size_text(max_bytes)
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
