"""Index commands: build, refresh (and --watch), rollback, status, verify."""

from __future__ import annotations

from ..errors import KbBotError
from .common import emit_json, print_report, say


def cmd_build(args, settings) -> int:
    """``kb-bot build``: the index from scratch (cached vectors are reused)."""
    from ..engine import KnowledgeBase

    report = KnowledgeBase(settings).build(full=True, progress=not args.json,
                                           lock_timeout=args.wait)
    print_report(report, args.json, "built")
    return 1 if (args.strict and report.skipped) else 0


def cmd_refresh(args, settings) -> int:
    """``kb-bot refresh``: only what changed; ``--watch`` keeps refreshing as the folder changes."""
    from ..engine import KnowledgeBase

    kb = KnowledgeBase(settings)
    try:
        report = kb.build(full=False, progress=not args.json, lock_timeout=args.wait)
    except KbBotError as exc:
        if not args.watch:
            raise
        # Watching: a busy or failing first refresh is reported, and the watch still starts.
        say(f"kb-bot: error: {exc.message}")
        report = None
    if report is not None:
        print_report(report, args.json, "refreshed")
    if args.watch:
        from ..watch import watch_documents

        watch_documents(kb, lambda r: print_report(r, args.json, "refreshed"), debounce=args.debounce)
    return 1 if (args.strict and report is not None and report.skipped) else 0


def cmd_rollback(args, settings) -> int:
    """``kb-bot rollback``: make the previous generation current again."""
    from ..store import IndexFolder

    folder = IndexFolder(settings.index)
    with folder.lock(timeout=args.wait):
        old, new = folder.rollback()
    print(f"rolled back: {old or '(none)'} -> {new}")
    return 0


def cmd_verify(args, settings) -> int:
    """``kb-bot verify``: every file of the current (and previous) generation against its checksum."""
    from ..store import IndexFolder

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
    """``kb-bot status``: the current manifest, for people or as JSON."""
    from ..store import IndexFolder

    manifest = IndexFolder(settings.index).manifest()
    if manifest is None:
        raise KbBotError(f"no index in {settings.index}", hint="run `kb-bot build`")
    if args.json:
        emit_json(manifest.to_json())
        return 0
    print(f"index {settings.index} generation {manifest.generation} built {manifest.built_at}")
    dense = manifest.dense.describe() if manifest.dense is not None else manifest.dense_kind
    print(f"  model {manifest.model_id} (dim {manifest.dim}), {manifest.chunk_count} chunks, dense index {dense}")
    for path, entry in manifest.documents.items():
        print(f"  {path}: {entry.chunks} chunks, {entry.size} bytes, indexed {entry.indexed_at}")
    for skipped in manifest.skipped:
        print(f"  skipped {skipped.path}: {skipped.reason}")
    return 0


def add_build(sub, common) -> None:
    """Register ``kb-bot build``."""
    p = sub.add_parser("build", help="build the index from scratch")
    common(p)
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--strict", action="store_true", help="exit non-zero when any file was skipped")
    p.add_argument("--wait", type=float, default=0.0, metavar="SECONDS", help="wait this long for a running build")
    p.set_defaults(func=cmd_build)


def add_refresh(sub, common) -> None:
    """Register ``kb-bot refresh``."""
    p = sub.add_parser("refresh", help="update the index for added, changed and removed documents")
    common(p)
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--strict", action="store_true", help="exit non-zero when any file was skipped")
    p.add_argument("--wait", type=float, default=0.0, metavar="SECONDS", help="wait this long for a running refresh")
    p.add_argument("--watch", action="store_true", help="keep running and refresh when the documents folder changes")
    p.add_argument("--debounce", type=float, default=2.0, metavar="SECONDS", help="quiet time before a watch refresh")
    p.set_defaults(func=cmd_refresh)


def add_rollback(sub, common) -> None:
    """Register ``kb-bot rollback``."""
    p = sub.add_parser("rollback", help="restore the previous index generation")
    common(p)
    p.add_argument("--wait", type=float, default=0.0, metavar="SECONDS", help="wait this long for a running refresh")
    p.set_defaults(func=cmd_rollback)


def add_status(sub, common) -> None:
    """Register ``kb-bot status``."""
    p = sub.add_parser("status", help="show the index: documents, chunks, model, build time")
    common(p)
    p.add_argument("--json", action="store_true", help="print the manifest as JSON")
    p.set_defaults(func=cmd_status)


def add_verify(sub, common) -> None:
    """Register ``kb-bot verify``."""
    p = sub.add_parser("verify", help="check the index files against the checksums in their manifest")
    common(p)
    p.set_defaults(func=cmd_verify)
