"""Parsing: light Markdown -> one clean ``Document`` (metadata, sections or regulation articles, offsets).

The steps live where their rules do: front matter and titles in ``metadata.py``, layout repair in
``cleaning.py``, regulation structure (章/节/第X条) in ``kb_bot.legal``; this module puts them in order.
"""

from __future__ import annotations

from .. import legal
from ..bounds import DocumentError
from .cleaning import (
    _Paragraph,
    _paragraphs,
    compose,
    drop_markup,
    drop_trailing_artefacts,
    join_column_breaks,
    sections,
)
from .document import Document, content_hash
from .metadata import _split_front_matter, leading_headings, mark_plain_titles, title_and_unit

#: Section of a regulation's adoption and amendment lines (before its first article).
ADOPTION_SECTION = "制定和修改"


def parse_document(
    source: str, rel_path: str, raw: bytes | None = None, front_matter: bool = True, plain_title: bool = False
) -> Document:
    """Parse light Markdown into a clean ``Document`` (see the package docstring for the rules).

    ``front_matter=False`` for text converted from .docx/.pdf/.html, where a leading ``---`` is content.
    ``plain_title=True`` for plain text: up to two short opening lines standing alone, without closing
    punctuation, are read as headings ("unit" and "title"), as ``#`` lines are in Markdown.
    """
    meta, body_start = _split_front_matter(source, rel_path) if front_matter else ({}, 0)
    paragraphs = _paragraphs(source, body_start)
    if plain_title:
        mark_plain_titles(paragraphs)
    notes: list[str] = []
    leading, paragraphs = leading_headings(paragraphs)
    title, unit = title_and_unit(meta, leading, paragraphs, rel_path, plain_title)
    paragraphs = drop_markup(paragraphs)
    texts = [p.text for p in paragraphs if p.kind == "text"]
    kind = str(meta.get("kind") or "").strip().lower() or (
        legal.REGULATION if legal.is_regulation(texts, title) else legal.ARTICLE)
    header = legal.read_header(texts) if kind == legal.REGULATION else None
    if header is not None:
        unit = unit or header.issuer
        # A regulation keeps its lines as they are: adoption lines and items end without a full stop by design.
        body = _regulation_body(paragraphs)
    else:
        body = sections(paragraphs, notes)
        drop_trailing_artefacts(body, notes)
        body = join_column_breaks(body, notes)
    text, offset_map, blocks = compose(body)
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
