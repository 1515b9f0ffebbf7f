"""Calibrate the "not found" decision of kb-bot's answer step on a labelled question set.

For every question it computes the abstention features (best cosine of the retrieved
passages and the question's cosine to the corpus centroid), then, separately for Chinese
and for other questions, grid-searches the slope and threshold of

    confidence = (best - centroid) + slope * best        answer when confidence >= threshold

that make the fewest mistakes (wrong "not found" + wrong answers), preferring the widest
gap between the two classes. It prints the values to put in ``kb_bot/answer.py``
(``CALIBRATION``) and the error rates on the set, plus the answer-text check: how many
answerable questions get an answer containing an expected string.

    python benchmarks/calibrate_abstention.py [tests/data/seed_questions.jsonl]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kb_bot.answer import CALIBRATION, is_cjk_question  # noqa: E402
from kb_bot.engine import KnowledgeBase  # noqa: E402
from kb_bot.evaluation import load_questions  # noqa: E402
from kb_bot.settings import load_settings  # noqa: E402

SLOPES = (0.0, 0.25, 0.5, 0.75, 1.0)


def fit(rows: list[tuple[bool, float, float]]) -> tuple[float, float, int, int]:
    """Best (slope, threshold, wrong abstentions, wrong answers) for rows of (answerable, best, centroid)."""
    best = None
    for slope in SLOPES:
        values = np.array([(b - c) + slope * b for _, b, c in rows])
        labels = np.array([a for a, _, _ in rows])
        spread = values.std() or 1.0
        candidates = np.unique(values)
        for threshold in np.concatenate([candidates, [candidates.max() + 1e-6]]):
            wrong_abstain = int(((values < threshold) & labels).sum())
            wrong_answer = int(((values >= threshold) & ~labels).sum())
            # Margin: distance from the threshold to the nearest value on each side, in spreads.
            below = values[values < threshold]
            above = values[values >= threshold]
            margin = min(threshold - below.max() if len(below) else 1, above.min() - threshold if len(above) else 1) / spread
            key = (wrong_abstain + wrong_answer, wrong_answer, -margin)
            if best is None or key < best[0]:
                # Put the threshold half-way into the gap below the first accepted value.
                mid = (threshold + below.max()) / 2 if len(below) else threshold
                best = (key, slope, float(mid), wrong_abstain, wrong_answer)
    return best[1], best[2], best[3], best[4]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("questions", nargs="?", default=str(ROOT / "tests/data/seed_questions.jsonl"))
    parser.add_argument("--documents", default=str(ROOT / "documents"))
    parser.add_argument("--index", default=str(ROOT / "index"))
    args = parser.parse_args()

    kb = KnowledgeBase(load_settings({"documents": args.documents, "index": args.index}))
    kb.ensure_index()
    questions = load_questions(Path(args.questions))
    retriever = kb.retriever
    vectors = retriever.embed([q.question for q in questions])
    rows = {"cjk": [], "other": []}
    for question, vector in zip(questions, vectors):
        hits = retriever.search(question.question, 5, query_vector=vector)
        best = max(h.dense_score for h in hits)
        centroid = float(vector @ retriever.centroid)
        rows["cjk" if is_cjk_question(question.question) else "other"].append((question.answerable, best, centroid))

    model_id = retriever.index.manifest["model_id"]
    fitted = {}
    for language, data in rows.items():
        slope, threshold, wrong_abstain, wrong_answer = fit(data)
        fitted[language] = (slope, round(threshold, 4))
        answerable = sum(1 for a, _, _ in data if a)
        print(f"{language}: slope {slope}, threshold {threshold:.4f}; on {len(data)} questions: "
              f"wrong 'not found' {wrong_abstain}/{answerable}, wrong answers {wrong_answer}/{len(data) - answerable}")
    print(f"\nCALIBRATION[{model_id!r}] = {json.dumps(fitted)}")
    print(f"in kb_bot/answer.py now:  {json.dumps(CALIBRATION.get(model_id))}")

    # With the calibration in answer.py: abstention errors and answer-text hits.
    answers = [kb.ask(q.question) for q in questions]
    answerable = [(q, a) for q, a in zip(questions, answers) if q.answerable]
    unanswerable = [(q, a) for q, a in zip(questions, answers) if not q.answerable]
    contains = sum(1 for q, a in answerable if a.found and any(e in a.answer for e in q.expect))
    wrong_abstain = sum(1 for _, a in answerable if not a.found)
    wrong_answer = sum(1 for _, a in unanswerable if a.found)
    print(f"\nanswer contains the expected fact: {contains}/{len(answerable)} ({contains / len(answerable):.1%})")
    print(f"wrong 'not found' on answerable: {wrong_abstain}/{len(answerable)}; "
          f"answered unanswerable: {wrong_answer}/{len(unanswerable)}")
    for q, a in answerable:
        if not (a.found and any(e in a.answer for e in q.expect)):
            print(f"  miss: {q.question}  expect {list(q.expect)}  found={a.found}  -> {a.answer[:60]}")
    for q, a in unanswerable:
        if a.found:
            print(f"  answered: {q.question} -> {a.answer[:60]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
