"""Quality on the regulations: retrieval of the right article and answers on tests/data/regulation_questions.jsonl,
and the seed set on the same (whole shipped) corpus.

    python benchmarks/regulation_quality.py --index /tmp/regs-index   # builds it from documents/ if missing

Prints one JSON object: article recall@1/3/5 (a hit: a chunk of the expected regulation and article), the share of
answered questions whose answer holds the expected fact and cites 《title》第X条, how many unanswerable questions
were answered, the seed set's recall, and the misses.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kb_bot.engine import KnowledgeBase  # noqa: E402
from kb_bot.answering.evaluation import load_questions, score  # noqa: E402
from kb_bot.settings import Settings  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def _article_rank(hits, question: dict) -> int | None:
    for rank, hit in enumerate(hits, start=1):
        if Path(hit.chunk.doc).stem == question["doc"] and hit.chunk.article == question["article"]:
            return rank
    return None


def _latency(kb: KnowledgeBase, questions: list[str]) -> dict[str, float]:
    """Search and ask wall time per question in this process (query embedding included), p50/p95 in ms."""
    import numpy as np

    kb.ask(questions[0])  # warm: model, index, topic guide
    search, ask = [], []
    for question in questions:
        started = time.perf_counter()
        kb.search(question)
        search.append(time.perf_counter() - started)
        started = time.perf_counter()
        kb.ask(question)
        ask.append(time.perf_counter() - started)
    return {f"{name}_p{p}": round(float(np.percentile(values, p)) * 1000, 1)
            for name, values in (("search", search), ("ask", ask)) for p in (50, 95)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--documents", type=Path, default=ROOT / "documents")
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--questions", type=Path, default=ROOT / "tests/data/regulation_questions.jsonl")
    parser.add_argument("--seed", type=Path, default=ROOT / "tests/data/seed_questions.jsonl")
    args = parser.parse_args()
    kb = KnowledgeBase(Settings(documents=args.documents, index=args.index))
    kb.ensure_index(progress=True)
    questions = [json.loads(line) for line in args.questions.read_text(encoding="utf-8").splitlines() if line.strip()]
    answerable = [q for q in questions if q["expect"]]
    unanswerable = [q for q in questions if not q["expect"]]

    started = time.perf_counter()
    results = kb.search_many([q["question"] for q in answerable], top_k=5)
    ranks = [_article_rank(hits, q) for q, hits in zip(answerable, results)]
    recall = {k: sum(1 for r in ranks if r is not None and r <= k) / len(ranks) for k in (1, 3, 5)}
    # What `ask` retrieves: keywords expanded with synonyms (engine.retrieve); `search` above expands none.
    ask_ranks = [_article_rank(kb.retrieve(q["question"])[0], q) for q in answerable]
    ask_recall = {k: sum(1 for r in ask_ranks if r is not None and r <= k) / len(ask_ranks) for k in (1, 3, 5)}

    fact, cited, answered = 0, 0, 0
    for q in answerable:
        answer = kb.ask(q["question"])
        if not answer.found:
            continue
        answered += 1
        fact += any(e in answer.answer for e in q["expect"])
        cited += all(c.article and c.title for c in answer.citations if c.kind == "regulation") and any(
            c.kind == "regulation" for c in answer.citations)
    wrongly_answered = [q["question"] for q in unanswerable if kb.ask(q["question"]).found]

    latency = _latency(kb, [q["question"] for q in questions])
    seed = load_questions(args.seed)
    seed_report = score(seed, [[h.chunk for h in hits] for hits in kb.search_many([q.question for q in seed], 10)])
    print(json.dumps({
        "chunks": len(kb.retriever.index.chunks),
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "article_recall": {f"@{k}": round(v, 3) for k, v in recall.items()},
        "article_recall_ask_path": {f"@{k}": round(v, 3) for k, v in ask_recall.items()},
        "answered": answered,
        "answers_with_fact": fact,
        "answers_citing_title_and_article": cited,
        "unanswerable_answered": wrongly_answered,
        "article_misses_top3": [q["question"] for q, r in zip(answerable, ranks) if r is None or r > 3],
        "seed": seed_report.to_json(),
        "latency_ms": latency,
        "seconds": round(time.perf_counter() - started, 1),
    }, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
