"""Formats: each supported file type read into the same light Markdown (``read_source``).

* ``.docx``: Word's Title and Heading styles become ``#`` headings, a bold opening run a bold
  lead-in, tables one line a row (cells separated by `` | ``);
* ``.pdf``: lines are re-joined into paragraphs; short lines set larger than the body text
  (or wholly in a bold font) become headings; page numbers are dropped;
* ``.html``: the article (``<article>``/``<main>``, else the body) without scripts, navigation,
  the page header and footer, sidebars and share bars; ``<h1>``-``<h6>`` become headings;
* ``.md``/``.txt``: decoded (UTF-8 with or without BOM, GB18030, UTF-16 with BOM) as they are.
"""

from __future__ import annotations

import logging
import math
import re
from pathlib import Path

from ..bounds import DocumentError, check_budget, check_docx, check_html
from .document import _CJK, _TERMINAL, SUPPORTED_SUFFIXES, decode_text


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
