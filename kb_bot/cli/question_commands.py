"""Question commands: search, ask (one question a line, or a conversation), chat, eval, calibrate."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from .. import legal
from ..errors import KbBotError
from .common import emit_json, open_kb, queries, say


def hit_to_json(hit) -> dict[str, Any]:
    """One search result as ``kb-bot search --json`` prints it."""
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
    """``kb-bot search``: hybrid search, one query or one a line from stdin."""
    kb = open_kb(settings)
    for query in queries(args.query):
        if not query.strip():  # an empty query matches nothing in particular: five arbitrary passages
            raise KbBotError("the search query is empty", hint='give the words to look for, e.g. kb-bot search "招工"')
        hits = kb.search(query, args.top_k)
        if args.json:
            emit_json({"query": query, "results": [hit_to_json(h) for h in hits]})
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


def cmd_ask(args, settings) -> int:
    """``kb-bot ask``: answer with quotes and sources (or say what is related, or that nothing is)."""
    from ..answering.answer import answer_to_json, format_answer
    from ..answering.conversation import Conversation

    kb = open_kb(settings)
    if args.conversation:
        return _ask_conversation(args, kb)
    for question in queries(args.question):
        answer = Conversation(kb).ask(question)
        if args.json:
            emit_json(answer_to_json(answer))
        else:
            print(format_answer(answer))
            sys.stdout.flush()
    return 0


def _understood_line(answer) -> str:
    return f"（按“{answer.understood_as}”理解）" if answer.understood_as else ""


def _ask_conversation(args, kb) -> int:
    """``ask - --conversation``: each stdin line a turn, an empty line starts a new conversation."""
    from ..answering.answer import answer_to_json, format_answer
    from ..answering.conversation import Conversation

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
            emit_json(dict(answer_to_json(answer), understood_as=answer.understood_as))
        else:
            print(f"Q: {question}{_understood_line(answer)}")
            print(format_answer(answer))
            print()
            sys.stdout.flush()
    return 0


def cmd_chat(args, settings) -> int:
    """An interactive conversation in the terminal (line editing and history when readline is there)."""
    from ..answering.answer import format_answer
    from ..answering.conversation import Conversation

    interactive = sys.stdin.isatty()
    if interactive:
        try:
            import readline  # noqa: F401  (line editing and ↑ history for input())
        except ImportError:
            pass
    kb = open_kb(settings)
    conversation = Conversation(kb)
    if interactive:
        say("kb-bot chat: 输入问题后回车；空行开始新的对话；Ctrl+D 退出。")
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
                say("（新的对话）")
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


def cmd_eval(args, settings) -> int:
    """``kb-bot eval``: recall@k, MRR and answer outcome shares on a question set."""
    from ..answering.evaluation import answer_outcomes, load_questions, score

    questions = load_questions(Path(args.questions))
    kb = open_kb(settings)
    started = time.perf_counter()
    results = kb.search_many([q.question for q in questions], 10)
    report = score(questions, [[hit.chunk for hit in hits] for hits in results])
    outcomes = answer_outcomes(questions, [kb.ask(q.question) for q in questions])
    staff = _staff_answered(kb, [q.question for q in questions])
    seconds = time.perf_counter() - started
    if args.json:
        emit_json(dict(report.to_json(), answers=outcomes.to_json(), seconds=round(seconds, 2), staff_answers=staff))
        return 0
    print(f"{report.questions} questions ({report.answerable} answerable) in {seconds:.1f} s")
    if report.answerable:
        for k, value in report.recall.items():
            print(f"  recall@{k}: {value:.3f}")
        print(f"  MRR@10:    {report.mrr:.3f}")
    else:  # 0.000 would read as every search failing
        print("  recall and MRR: n/a (no answerable question: every line has \"expect\": [])")
    shares = outcomes.to_json()
    for name in ("answerable", "unanswerable"):
        row = shares[name]
        if row["questions"]:
            fact = f", with the expected fact {row['with_fact']:.1%}" if "with_fact" in row else ""
            print(f"  {name} ({row['questions']}): answered {row['answered']:.1%}{fact}, related {row['related']:.1%}, "
                  f"not found {row['not_found']:.1%}")
    if staff:
        print(f"  answered by a staff answer (documents/faq/) first: {staff} of {report.questions}")
    for title, listed in (("answerable, not answered with the expected fact", outcomes.misses),
                          ("unanswerable, answered", outcomes.wrong)):
        if listed:
            print(f"  {title}:")
            print("\n".join(f"    {question}" for question in listed[:MAX_LISTED]))
            if len(listed) > MAX_LISTED:
                print(f"    … and {len(listed) - MAX_LISTED} more (all of them in --json)")
    return 0


#: Questions listed by name in ``kb-bot eval``'s text output (all of them in --json).
MAX_LISTED = 20


def _staff_answered(kb, questions: list[str]) -> int:
    """How many questions a curated staff answer (matched before retrieval) answers."""
    from ..answering import faq_match

    return sum(1 for question in questions if faq_match.match(kb, [question]) is not None)


def cmd_calibrate(args, settings) -> int:
    """``kb-bot calibrate``: refit the answered / related / not found decision with labelled questions."""
    from ..answering.calibration import recalibrate, undo_recalibration
    from ..answering.evaluation import load_questions
    from ..indexing import index_spec

    if args.undo and args.questions:
        raise KbBotError("kb-bot calibrate takes a question file or --undo, not both", hint="drop one of the two")
    if args.undo:  # the model's file only: no index is opened, let alone built, in a mistyped folder
        removed = undo_recalibration(index_spec(settings).model_id, settings.index)
        print(f"removed {removed}: answers use the shipped model again" if removed
              else f"no recalibrated model in {settings.index}: answers already use the shipped model")
        return 0
    if not args.questions:
        raise KbBotError("kb-bot calibrate needs a question file", hint="kb-bot calibrate QUESTIONS.jsonl (or --undo)")
    questions = load_questions(Path(args.questions))  # before the index: a bad file is said at once
    kb = open_kb(settings)
    result = recalibrate(kb.retriever, kb.gram_stats(), kb.synonyms(), questions, settings.index, force=args.force)
    print(f"refitted on the shipped data plus {len(questions)} questions from {args.questions}")
    print("before:")
    print("\n".join(result.before))
    print("after:")
    print("\n".join(result.after))
    if not result.saved:
        print(f"not saved: {result.reason}. The answers keep the model they use now; "
              "kb-bot calibrate --force saves it anyway.")
        return 1
    print(f"saved {result.path}: the app answers with it from the next question on; "
          "kb-bot calibrate --undo goes back to the shipped model")
    return 0


def add_search(sub, common) -> None:
    """Register ``kb-bot search``."""
    p = sub.add_parser("search", help="hybrid search; QUERY '-' reads one query a line from stdin")
    common(p)
    p.add_argument("query", metavar="QUERY")
    p.add_argument("--top-k", type=int, default=None, metavar="N", help="number of results (default 5)")
    p.add_argument("--json", action="store_true", help="one JSON object per query")
    p.set_defaults(func=cmd_search)


def add_ask(sub, common) -> None:
    """Register ``kb-bot ask``."""
    p = sub.add_parser("ask", help="answer a question with quotes and sources; '-' reads stdin")
    common(p)
    p.add_argument("question", metavar="QUESTION")
    p.add_argument("--json", action="store_true", help="one JSON object per question")
    p.add_argument("--conversation", action="store_true",
                   help="with '-': stdin is one conversation, a line a turn (an empty line starts a new one); "
                        "follow-ups are completed from earlier turns")
    p.set_defaults(func=cmd_ask)


def add_chat(sub, common) -> None:
    """Register ``kb-bot chat``."""
    p = sub.add_parser("chat", help="an interactive conversation in the terminal (follow-up questions understood)")
    common(p)
    p.set_defaults(func=cmd_chat)


def add_eval(sub, common) -> None:
    """Register ``kb-bot eval``."""
    p = sub.add_parser("eval", help="recall@k, MRR and answered / related / not found shares on a question set")
    common(p)
    p.add_argument("questions", metavar="QUESTIONS.jsonl")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    p.set_defaults(func=cmd_eval)


def add_calibrate(sub, common) -> None:
    """Register ``kb-bot calibrate``."""
    p = sub.add_parser("calibrate", help="refit the answered / related / not found decision with labelled questions")
    common(p)
    p.add_argument("questions", metavar="QUESTIONS.jsonl", nargs="?",
                   help='JSON lines {"question": ..., "expect": [strings the answer holds]} ([] = unanswerable)')
    p.add_argument("--force", action="store_true",
                   help="save the refit even when it answers the given questions worse than the model in use")
    p.add_argument("--undo", action="store_true", help="remove the recalibrated model: back to the shipped one")
    p.set_defaults(func=cmd_calibrate)
