#!/usr/bin/env python
"""Answer quality of ``kb-bot ask`` on the CMRC2018 trial set and the seed question set.

A question counts as answered when the extractive answer text contains one of its expected
strings (CMRC: ``answers[].text``, cited from the question's own paragraph). CMRC paragraphs are
Wikipedia, not district policy, so the "not found" threshold (calibrated on the seed set) is not
applied there: this measures sentence selection on top of retrieval. The seed set is measured
end to end, abstention included (see ``benchmarks/calibrate_abstention.py``).

    .venv/bin/python benchmarks/answer_quality.py [--cmrc PATH] [--chunk-size N --chunk-overlap N]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from core_speed import cmrc_corpus  # noqa: E402  (same folder)
from kb_bot.answer import compose  # noqa: E402
from kb_bot.engine import KnowledgeBase  # noqa: E402
from kb_bot.evaluation import load_questions  # noqa: E402
from kb_bot.settings import load_settings  # noqa: E402

WORK = REPO / "benchmarks" / ".work" / "answer_quality"
DEFAULT_CMRC = REPO.parent / "shared" / "benchmarks" / "cmrc2018_trial.json"


def main() -> int:
    parser = argparse.ArgumentParser(description="Answer quality on CMRC2018 trial and the seed set.")
    parser.add_argument("--cmrc", type=Path, default=DEFAULT_CMRC)
    parser.add_argument("--chunk-size", type=int)
    parser.add_argument("--chunk-overlap", type=int)
    args = parser.parse_args()
    overrides = {"chunk_size": args.chunk_size, "chunk_overlap": args.chunk_overlap}

    # CMRC: every paragraph a document (the embedding cache in WORK makes re-runs cheap).
    documents = WORK / "cmrc-docs"
    questions = cmrc_corpus(args.cmrc, documents)
    settings = load_settings({"documents": documents, "index": WORK / "cmrc-index", **overrides})
    kb = KnowledgeBase(settings)
    started = time.perf_counter()
    kb.build()
    print(f"CMRC index: {time.perf_counter() - started:.0f} s", file=sys.stderr)
    hits = kb.search_many([q for _, q, _ in questions], 5)
    answered = 0
    lengths = []
    for (paragraph, question, answers), question_hits in zip(questions, hits):
        text, citations, _ = compose(question, question_hits)
        lengths.append(len(text))
        own = any(c.doc == f"{paragraph}.txt" for c in citations)
        answered += own and any(a in text for a in answers)
    cmrc = answered / len(questions)

    # Seed: end to end through kb.ask (abstention included).
    seed_kb = KnowledgeBase(load_settings({"documents": REPO / "documents", "index": WORK / "seed-index", **overrides}))
    seed_kb.build()
    seed = load_questions(REPO / "tests/data/seed_questions.jsonl")
    answers = [seed_kb.ask(q.question) for q in seed]
    answerable = [(q, a) for q, a in zip(seed, answers) if q.answerable]
    contains = sum(1 for q, a in answerable if a.found and any(e in a.answer for e in q.expect))
    wrong = sum(1 for q, a in zip(seed, answers) if not q.answerable and a.found)
    unanswerable = sum(1 for q in seed if not q.answerable)

    print(f"chunk {settings.chunk_size}/{settings.chunk_overlap}")
    print(f"CMRC2018 trial: answer contains the gold answer (cited from its paragraph): {answered}/{len(questions)} "
          f"= {cmrc:.3f}; mean answer {sum(lengths) / len(lengths):.0f} characters")
    print(f"seed: answer contains the expected fact {contains}/{len(answerable)} = {contains / len(answerable):.3f}; "
          f"unanswerable answered {wrong}/{unanswerable}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
