"""Metadata: ``---`` front matter, and the title and unit of an article that has none.

Front matter (title, unit, paper, reporters, topics, kind, issued, status) wins; otherwise the leading
headings name the article ("# unit" then "# title" in the seed layout), and untitled plain text is
named by its first sentence.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from ..bounds import DocumentError
from .cleaning import _ends_open, _Paragraph


class _YAML_LOADER(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # noqa: N801 (kept the constant's name)
    """libyaml's safe loader when PyYAML was built with it (9 s -> ~1 s for 8,000 front matters), else the Python
    one; dates stay text. YAML made ``issued: 2099-99-99`` a date and failed on it (ValueError), which skipped the
    whole document; as text, a date that is no date is ignored (``legal.issued_date``)."""


_YAML_LOADER.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


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


def mark_plain_titles(paragraphs: list[_Paragraph]) -> None:
    """Plain text: up to two short opening lines standing alone, without closing punctuation, become headings.

    A title line written right above its body (no blank line between) stands alone too when it is clearly shorter
    than the line after it (QA, thirteenth session: 上街区老旧小区夜间临时停车通知 above 为缓解老旧小区停车难，… became one
    title of both); lines of one width are a column broken by layout, not a title."""
    for _ in range(2):
        split_title_line(paragraphs)
    for paragraph in paragraphs[:2]:
        text = paragraph.text.strip()
        if (paragraph.kind != "text" or len(paragraph.pieces) != 1 or len(paragraphs) < 2
                or not text or len(text) > 40 or not _ends_open(text) or text.startswith("**")):
            break
        paragraph.kind, paragraph.level = "heading", 1


def split_title_line(paragraphs: list[_Paragraph]) -> None:
    """Set apart the opening line of the first multi-line paragraph when it reads as a title (see
    ``mark_plain_titles``): short, open at its end, and shorter than four fifths of the line after it."""
    index = next((i for i, p in enumerate(paragraphs[:2]) if len(p.pieces) > 1), None)
    if index is None or paragraphs[index].kind != "text" or any(len(p.pieces) != 1 for p in paragraphs[:index]):
        return
    pieces = paragraphs[index].pieces
    # lines joined with a space (a line opening with 2024年 after a Chinese one) hold a piece of their own: skip it
    rest = list(pieces[1:])
    while rest and not rest[0][0].strip():
        rest.pop(0)
    first, second = pieces[0][0].strip(), rest[0][0].strip() if rest else ""
    if (first and len(first) <= 40 and _ends_open(first) and not first.startswith("**")
            and not first.endswith(("：", ":", "，", ",")) and len(first) < 0.8 * len(second)):
        # (a salutation, 各位居民：, opens the body; it names nothing)
        paragraphs[index:index + 1] = [_Paragraph("text", pieces[:1]), _Paragraph("text", rest)]


def leading_headings(paragraphs: list[_Paragraph]) -> tuple[list[str], list[_Paragraph]]:
    """(the headings that name the article, the paragraphs after them).

    Only headings of the first one's level: a deeper heading right after the title ("# Title" "## Part 1")
    is a section.
    """
    leading: list[str] = []
    leading_level = paragraphs[0].level if paragraphs and paragraphs[0].kind == "heading" else 0
    while (len(leading) < len(paragraphs) and paragraphs[len(leading)].kind == "heading"
           and paragraphs[len(leading)].level == leading_level):
        leading.append(paragraphs[len(leading)].text)
    return leading, paragraphs[len(leading):]


def title_and_unit(meta: dict[str, Any], leading: list[str], body: list[_Paragraph], rel_path: str,
                   plain_title: bool) -> tuple[str, Any]:
    """The title (front matter, last leading heading, first sentence of plain text, file name) and the unit."""
    title = str(meta.get("title") or (leading[-1] if leading else "")
                or (plain_title and _opening_sentence(body)) or Path(rel_path).stem)
    unit = meta.get("unit") or meta.get("issuing_unit") or (leading[0] if len(leading) > 1 else None)
    return title, unit


def _opening_sentence(paragraphs: list[_Paragraph]) -> str:
    """The first sentence of the first text paragraph (at most 40 characters): a title for untitled text."""
    first = next((p.text.strip() for p in paragraphs if p.kind == "text" and p.text.strip()), "")
    sentence = re.split(r"(?<=[。！？!?])", first, maxsplit=1)[0].strip()
    return sentence if len(sentence) <= 40 else sentence[:39] + "…"
