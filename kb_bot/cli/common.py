"""What every command shares: JSON and status output, reading questions from stdin, opening the knowledge base."""

from __future__ import annotations

import json
import sys
from typing import Any, Iterable

from ..errors import KbBotError


def emit_json(obj: Any) -> None:
    """One JSON object a line on stdout, flushed (other programs read it as it comes)."""
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def say(message: str) -> None:
    """A progress or status line for people: stderr, so stdout stays clean for --json."""
    print(message, file=sys.stderr, flush=True)


def _valid_text(text: str, where: str) -> str:
    """``text`` when it is proper Unicode; bytes that were not UTF-8 (surrogate escapes) are a one-line error."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise KbBotError(f"{where} is not valid UTF-8 text", hint="pass the question as UTF-8 (check the terminal's "
                         "or file's encoding, e.g. `iconv -f GB18030 -t UTF-8`)") from None
    return text


def queries(argument: str) -> Iterable[str]:
    """The query itself, or one query per non-empty line of stdin when it is ``-``."""
    if argument != "-":
        yield _valid_text(argument, "the question")
        return
    source = getattr(sys.stdin, "buffer", None) or sys.stdin  # bytes when there are any: decoded strictly here
    for number, raw in enumerate(source, start=1):
        try:
            if isinstance(raw, bytes):
                raw = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            line = _valid_text(raw, "").strip()
        except (UnicodeDecodeError, KbBotError):
            raise KbBotError(f"line {number} of stdin is not valid UTF-8 text",
                             hint="save the questions as UTF-8, e.g. `iconv -f GB18030 -t UTF-8`") from None
        if line:
            yield line


def open_kb(settings, announce_build: bool = True):
    """A KnowledgeBase whose index exists (built now, with a note on stderr, if missing)."""
    from ..engine import KnowledgeBase

    kb = KnowledgeBase(settings)
    report = kb.ensure_index(
        progress=True,  # a first build that embeds shows a progress bar (in a log: an update every few seconds)
        on_build=(lambda: say(f"kb-bot: no index in {settings.index} yet; building it from {settings.documents} first"))
        if announce_build else None,
    )
    if report is not None and announce_build:
        say(f"kb-bot: index built: {report.documents} documents, {report.chunks} chunks "
             f"({report.chunks_embedded} embedded now) in {report.seconds:.1f} s")
    return kb


def print_report(report, as_json: bool, verb: str) -> None:
    """A build or refresh report, for people or as JSON."""
    if as_json:
        emit_json(report.to_json())
        return
    print(
        f"{verb}: {report.documents} documents, {report.chunks} chunks, "
        f"{report.chunks_embedded} embedded, {report.seconds:.2f} s"
    )
    if report.added or report.changed or report.removed:
        print(f"  added {len(report.added)}, changed {len(report.changed)}, removed {len(report.removed)}, "
              f"unchanged {report.unchanged}")
        for label, paths in (("added", report.added), ("changed", report.changed), ("removed", report.removed)):
            for path in paths:
                print(f"  {label}: {path}")
    elif report.generation is None:
        print(f"  nothing changed ({report.unchanged} documents up to date)")
    for skipped in report.skipped:
        print(f"  skipped {skipped.path}: {skipped.reason}")
