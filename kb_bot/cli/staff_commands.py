"""Staff commands: report (the question log), topics (the guide), serve (the web app)."""

from __future__ import annotations

from pathlib import Path

from .. import legal
from ..errors import KbBotError
from ..store import IndexFolder
from .common import emit_json, open_kb, say

#: The longest window ``kb-bot report --days`` takes (the log keeps 90 days by default).
MAX_REPORT_DAYS = 36_500


def _answered_now(settings):
    """``answered_now`` for the report: the current index, as it is, asked without LLM wording (gaps a document
    indexed since has closed are not listed). None when there is no usable index: a report never builds one."""
    from ..engine import KnowledgeBase
    from ..staff.report import now_answered

    if not IndexFolder(settings.index).has_index():
        return None
    kb = KnowledgeBase(settings)
    try:
        kb.retriever  # noqa: B018 (loads the index; a stale or foreign one raises here, once)
    except KbBotError as error:
        say(f"kb-bot: gaps not re-checked against the index: {error.message}")
        return None
    return now_answered(lambda question: kb.ask(question, _literal=True))


def cmd_report(args, settings) -> int:
    """``kb-bot report``: the question log of the last days (unanswered, thumbs down, top questions)."""
    from ..staff.report import format_report, report_from_log, staff_answered

    if not 1 <= args.days <= MAX_REPORT_DAYS:  # beyond a century the date arithmetic overflows
        raise KbBotError(f"--days must be between 1 and {MAX_REPORT_DAYS}", hint="for example --days 30")
    covered = staff_answered(settings.documents, settings.index)  # not offered again as unanswered
    report = report_from_log(settings.question_log_path, args.days, covered=covered,
                             answered_now=_answered_now(settings))
    if args.csv:
        from datetime import datetime, timedelta, timezone

        from ..staff.questionlog import read_records
        from ..staff.report import records_csv

        since = datetime.now(timezone.utc) - timedelta(days=args.days)
        records = read_records(settings.question_log_path, since=since)
        try:
            Path(args.csv).write_text(records_csv(records), encoding="utf-8-sig")  # BOM: spreadsheets read Chinese
        except OSError as error:
            raise KbBotError(f"cannot write {args.csv}: {error.strerror or error}",
                             hint="give --csv a file in a folder that exists and that you can write to") from None
        say(f"kb-bot: wrote {len(records)} questions to {args.csv}")
    if args.json:
        emit_json(report)
    else:
        print(format_report(report))
    return 0


def cmd_topics(args, settings) -> int:
    """``kb-bot topics``: the support topics the documents describe, grouped."""
    kb = open_kb(settings)
    guide = kb.topics()
    if args.json:
        emit_json(guide.to_json())
        return 0
    for group in guide.groups:
        print(f"{group.name}（{len(group.entries)}）")
        for entry in group.entries:
            source = legal.citation_label(entry.title, entry.article)
            print(f"  - {entry.summary}  [{source}{' / ' + entry.section if entry.section else ''}; {entry.doc}]")
    return 0


def _port(value: str) -> int:
    """A TCP port number for ``--port`` (argparse prints the message and exits 2 on a bad one)."""
    import argparse

    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a port number") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port number (1 to 65535)")
    return port


def cmd_serve(args, settings) -> int:
    """``kb-bot serve``: the web app (the index is built first when missing)."""
    from ..web.app import serve

    kb = open_kb(settings)
    serve(kb, host=args.host, port=args.port, share=args.share)
    return 0


def add_report(sub, common) -> None:
    """Register ``kb-bot report``."""
    p = sub.add_parser("report", help="staff insight from the question log: unanswered questions, thumbs down, hits")
    common(p)
    p.add_argument("--days", type=int, default=7, metavar="N", help="the last N days (default 7)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--csv", metavar="FILE", help="also write the questions of those days to FILE as CSV")
    p.set_defaults(func=cmd_report)


def add_topics(sub, common) -> None:
    """Register ``kb-bot topics``."""
    p = sub.add_parser("topics", help="the support topics the documents describe, grouped")
    common(p)
    p.add_argument("--json", action="store_true", help="print the guide as JSON")
    p.set_defaults(func=cmd_topics)


def add_serve(sub, common) -> None:
    """Register ``kb-bot serve``."""
    p = sub.add_parser("serve", help="run the web chat (builds the index on first run)")
    common(p)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=_port, default=7860, help="port (default 7860)")
    p.add_argument("--share", type=lambda v: v.lower() in ("1", "true", "yes"), default=False, metavar="BOOL",
                   help="create a public Gradio share link (default false)")
    p.set_defaults(func=cmd_serve)
