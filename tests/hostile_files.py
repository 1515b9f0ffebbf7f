"""Hostile documents for the hardening tests and benchmarks/adversarial.py (issue 14, finding 4).

Each maker writes one small file that used to exhaust the loader: quadratic column-break joining,
a .docx with a huge number of paragraphs, a .docx that inflates to hundreds of megabytes, an HTML
page of nothing but tags, and a symlink loop.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def column_break_text(path: Path, size: int = 460_000) -> Path:
    """Short lines without closing punctuation, each its own paragraph: every one is a column break."""
    line = "先进制造\n\n"
    path.write_text(line * (size // len(line.encode("utf-8"))), encoding="utf-8")
    return path


def _docx_with_body(path: Path, body_chunks) -> Path:
    """A .docx made by python-docx, with ``word/document.xml`` replaced by a streamed body."""
    import docx

    template = io.BytesIO()
    docx.Document().save(template)
    with zipfile.ZipFile(template) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED,
                                                             compresslevel=9) as target:
        for item in source.infolist():
            if item.filename == "word/document.xml":
                continue
            target.writestr(item, source.read(item.filename))
        info = zipfile.ZipInfo("word/document.xml")
        info.compress_type = zipfile.ZIP_DEFLATED
        with target.open(info, "w", force_zip64=True) as out:
            out.write(f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document xmlns:w="{_W}"><w:body>'
                      .encode())
            for chunk in body_chunks:
                out.write(chunk)
            out.write(b"</w:body></w:document>")
    return path


def docx_many_paragraphs(path: Path, count: int = 200_000) -> Path:
    """About 65 KB on disk: ``count`` one-character paragraphs."""
    paragraph = b"<w:p><w:r><w:t>\xe5\xad\x97</w:t></w:r></w:p>"
    return _docx_with_body(path, (paragraph * 1000 for _ in range(count // 1000)))


def docx_memory_bomb(path: Path, inflated_mb: int = 500) -> Path:
    """About half a megabyte on disk, ``inflated_mb`` MB of XML once decompressed (one giant run of text)."""
    block = b"a" * (1 << 20)

    def chunks():
        yield b"<w:p><w:r><w:t>"
        for _ in range(inflated_mb):
            yield block
        yield b"</w:t></w:r></w:p>"

    return _docx_with_body(path, chunks())


def html_tag_flood(path: Path, tags: int = 2_000_000) -> Path:
    """A saved page of nothing but nested inline tags: a few MB that a DOM turns into gigabytes."""
    path.write_bytes(b"<html><body><article>" + b"<b>x</b>" * tags + b"</article></body></html>")
    return path


def symlink_loop(folder: Path) -> tuple[Path, Path]:
    """``a.md`` -> ``b.md`` -> ``a.md``."""
    a, b = folder / "a.md", folder / "b.md"
    a.symlink_to("b.md")
    b.symlink_to("a.md")
    return a, b
