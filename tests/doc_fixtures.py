"""Shared document fixtures for the tests: the seed articles and a tiny PDF writer."""

from __future__ import annotations

from pathlib import Path

SEED = Path(__file__).resolve().parents[1] / "documents"
SEED_NAMES = ("advanced-manufacturing.md", "education.md", "jiyuanlu-street.md")
#: The regulations shipped next to the seed articles (tests/test_regulations.py); seed tests leave them out.
REGULATIONS = SEED / "regulations"


def make_pdf(pages: list[list[tuple[float, bool, str]]]) -> bytes:
    """A PDF with a text layer: each page a list of (font size, bold, text) lines, top to bottom."""
    objects: list[bytes | None] = [None, None]  # catalog, page tree: filled in at the end
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>")
    kids = []
    for lines in pages:
        ops, y = [], 760
        for size, bold, text in lines:
            escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
            ops.append(f"BT /{'F2' if bold else 'F1'} {size:g} Tf 72 {y} Td ({escaped}) Tj ET")
            y -= int(size * 1.6)
        stream = "\n".join(ops).encode("latin-1")
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
        content = len(objects)
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> "
            f"/Contents {content} 0 R >>".encode()
        )
        kids.append(len(objects))
    objects[0] = b"<< /Type /Catalog /Pages 2 0 R >>"
    objects[1] = f"<< /Type /Pages /Kids [{' '.join(f'{k} 0 R' for k in kids)}] /Count {len(kids)} >>".encode()
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)
