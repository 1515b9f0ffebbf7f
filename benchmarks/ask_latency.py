#!/usr/bin/env python
"""Latency of ``kb.ask`` on the shipped documents with the whole answer step on (features, models, guards).

Asks every question of the seed and regulation sets twice, in process, after one warm-up question (which
also pays for loading the model, jieba's dictionary and the corpus' word statistics; reported apart).

    .venv/bin/python benchmarks/ask_latency.py        # prints one JSON line
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from kb_bot.engine import KnowledgeBase  # noqa: E402
from kb_bot.answering.evaluation import load_questions  # noqa: E402
from kb_bot.settings import load_settings  # noqa: E402

SETS = ("tests/data/seed_questions.jsonl", "tests/data/regulation_questions.jsonl")


def main() -> int:
    kb = KnowledgeBase(load_settings({"documents": REPO / "documents",
                                      "index": REPO / "benchmarks" / ".work" / "ask-latency-index"}))
    kb.build()  # the shipped embedding cache makes this seconds
    questions = [q.question for name in SETS for q in load_questions(REPO / name)]
    started = time.perf_counter()
    kb.ask(questions[0])
    first = time.perf_counter() - started
    times = []
    for question in questions * 2:
        started = time.perf_counter()
        kb.ask(question)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    print(json.dumps({"chunks": len(kb.retriever.index.chunks), "asks": len(times), "first_ask_s": round(first, 2),
                      "p50_ms": round(statistics.median(times), 1), "p95_ms": round(times[int(0.95 * len(times)) - 1], 1),
                      "load_average": round(os.getloadavg()[0], 2)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
