"""Fitting the answer models: citizen questions weigh more, the answer threshold is chosen on them out of fold,
and the shipped features keep what a staff refit needs (groups, the citizen questions' wording)."""

from __future__ import annotations

import numpy as np
import pytest

from kb_bot.answering import calibration
from kb_bot.answering.answer_model import AnswerModel
from kb_bot.answering.answerability import QUESTION_FEATURES, RANKER_FEATURES
from kb_bot.answering.calibration import cross_fitted_threshold, fit_procedure, pack, unpack
from kb_bot.answering.fitting import SOURCE_WEIGHTS, _score, fit_models

pytest.importorskip("sklearn")


def _record(rng, kind: str, source: str, split: str, signal: str, group: str = "", against: str = "") -> dict:
    """Three candidate sentences; the first holds the answer of an answerable record, and ``signal`` is the
    feature that tells it (stronger for an answerable record than for a near-domain one): a sentence's
    (``RANKER_FEATURES``) in the first sentence, or the question's (``QUESTION_FEATURES``)."""
    rows = rng.random((3, len(RANKER_FEATURES)))
    answerable = kind == "answerable"
    row = dict(zip(QUESTION_FEATURES, rng.random(len(QUESTION_FEATURES)).tolist()))
    labels = [answerable, False, False]
    if signal in RANKER_FEATURES:
        rows[0, RANKER_FEATURES.index(signal)] += 0.8 * answerable
    else:  # every sentence of an answerable record answers it: only the question tells
        row[signal] += 0.8 * answerable
        labels = [answerable] * 3
    if against:  # a question feature that points the other way for these questions
        row[against] -= 0.4 * answerable
    row.update(is_cjk=1.0, log_question=1.0, yesno=0.0)
    return {"kind": kind, "source": source, "split": split, "group": group, "question": f"问题{rng.random()}",
            "answers": [], "ranker_rows": rows, "question_row": row, "labels": labels,
            "texts": ["甲。", "乙。", "丙。"], "passages": ["甲。乙。丙。"], "passage_of": [0, 0, 0],
            "whole_of": [False] * 3}


def _loss(model: AnswerModel, records: list[dict]) -> float:
    """Log-loss of the confidence on ``records`` (answerable: the quote answers)."""
    p = np.clip([_score(r, model)[0] for r in records], 1e-6, 1 - 1e-6)
    y = np.asarray([r["kind"] == "answerable" for r in records])
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def test_citizen_questions_weigh_more_in_the_confidence_trees():
    # Generated questions are told by one feature, and a second points the wrong way among them; citizens' are
    # told by that second one. Weighed ten to one, the trees fit the citizens' questions better (and the generated
    # ones worse) than at weight one: ~800 citizen questions against ~25,000 generated records are otherwise drowned.
    rng = np.random.default_rng(3)
    kinds = ("answerable", "near", "off")
    generated = [_record(rng, k, "gen", s, "sentence_coverage", against="keyword_share")
                 for s in ("train", "validation") for k in kinds * 300]
    citizen = [_record(rng, k, "citizen", "train", "keyword_share") for k in ("answerable", "near") * 40]
    train = [r for r in generated if r["split"] == "train"] + citizen
    validation = [r for r in generated if r["split"] == "validation"]
    even = fit_models("test", train, validation, weights={})
    weighed = fit_models("test", train, validation, weights={"citizen": 10.0})
    assert _loss(weighed, citizen) < 0.5 * _loss(even, citizen)
    train_generated = [r for r in train if r["source"] == "gen"]
    assert _loss(weighed, train_generated) > _loss(even, train_generated)
    # by default citizen questions are weighed so (when they are fitted on at all)
    assert SOURCE_WEIGHTS == {"citizen": 10.0}
    assert fit_models("test", train, validation).answer.to_json() == weighed.answer.to_json()


def test_the_answer_threshold_answers_few_citizen_unanswerable_questions_out_of_fold(monkeypatch):
    # Each citizen question carries the confidence the models fitted without its fold would give it: the threshold
    # is the lowest on the grid at which at most 4% of the near-domain ones are answered, and no fold's models
    # were fitted on that fold's questions or on another question of the same document.
    rng = np.random.default_rng(5)
    near = [dict(_record(rng, "near", "citizen", "train", "dense", group=f"doc{i % 10}"), confidence=0.3 + 0.005 * i)
            for i in range(100)]
    answerable = [dict(_record(rng, "answerable", "citizen", "train", "dense", group=f"doc{i % 10}"), confidence=0.9)
                  for i in range(50)]
    written = near + answerable
    generated = [_record(rng, "answerable", "gen", "train", "sentence_coverage") for _ in range(20)]
    fitted_on: list[set[str]] = []

    def fake_fit(model_id, train, validation, *args, **kwargs):
        fitted_on.append({r["group"] for r in train if r["source"] == "citizen"})
        fitted_on[-1].add(f"n={len(train)}")
        return AnswerModel("test", None, None, None, 0.5, 0.1, {})

    monkeypatch.setattr(calibration, "fit_models", fake_fit)
    monkeypatch.setattr(calibration, "_score", lambda record, model: (record["confidence"], 0.9, np.array([1.0, 0, 0])))
    threshold, share = cross_fitted_threshold("test", generated + written, [], written, [], 0.04)
    # confidences 0.300 ... 0.795: four of them (0.780 ... 0.795) at or above 0.78, six at or above 0.77
    assert threshold == pytest.approx(0.78) and share == pytest.approx(0.04)
    assert len(fitted_on) == 5
    every_group = {f"doc{i}" for i in range(10)}
    held_out = [every_group - {g for g in groups if g.startswith("doc")} for groups in fitted_on]
    assert all(len(groups) == 2 for groups in held_out)  # two whole documents out per fold, each once
    assert set().union(*held_out) == every_group and sum(len(g) for g in held_out) == 10
    assert all(f"n={len(generated) + len(written) - 15 * 2}" in groups for groups in fitted_on)


def test_the_procedure_keeps_the_validation_threshold_without_enough_citizen_questions():
    rng = np.random.default_rng(7)
    kinds = ("answerable", "near", "off")
    records = [_record(rng, k, "gen", s, "sentence_coverage") for s in ("train", "validation") for k in kinds * 80]
    records += [_record(rng, "near", "citizen", "train", "dense", group="doc") for _ in range(10)]
    model = fit_procedure("test", records)
    assert "answer_threshold_from" not in model.info
    plain = fit_models("test", [r for r in records if r["split"] == "train"],
                       [r for r in records if r["split"] == "validation"])
    assert model.answer_threshold == plain.answer_threshold


def test_packed_features_keep_groups_and_the_citizen_questions_wording():
    # A staff refit (kb-bot calibrate) chooses the threshold by document and with the app's guards, which read
    # the question and its passages: the shipped features keep them for the citizen questions only.
    rng = np.random.default_rng(11)
    citizen = _record(rng, "near", "citizen", "train", "dense", group="reg:郑州市城市养犬管理条例")
    generated = _record(rng, "answerable", "gen", "train", "dense", group="cmrc:1")
    back = unpack(pack([citizen, generated]))
    assert [r["group"] for r in back] == ["reg:郑州市城市养犬管理条例", "cmrc:1"]
    assert back[0]["question"] == citizen["question"] and back[0]["texts"] == citizen["texts"]
    assert back[0]["passages"] == citizen["passages"]
    assert back[1]["question"] == "" and all(isinstance(t, int) for t in back[1]["texts"])  # checksums only
    assert np.allclose(back[0]["ranker_rows"], citizen["ranker_rows"], atol=1e-6)


def test_a_question_without_a_group_keeps_its_records_in_one_fold(monkeypatch):
    # A citizen question has two records (against the documents, and off-topic against CMRC): without a document
    # group, its question keeps them together, so its off-topic twin never trains the models that judge it.
    rng = np.random.default_rng(13)
    written = []
    for i in range(30):
        near = dict(_record(rng, "near", "citizen", "train", "dense"), question=f"问题{i}", confidence=0.5)
        written += [near, dict(near, kind="off")]
    folds: list[tuple[set[str], set[str]]] = []  # (questions held out, questions trained on)

    def fake_fit(model_id, train, validation, *args, **kwargs):
        trained = {id(r) for r in train}
        folds.append(({r["question"] for r in written if id(r) not in trained},
                      {r["question"] for r in written if id(r) in trained}))
        return AnswerModel("test", None, None, None, 0.5, 0.1, {})

    monkeypatch.setattr(calibration, "fit_models", fake_fit)
    monkeypatch.setattr(calibration, "_score", lambda record, model: (record["confidence"], 0.9, np.array([1.0, 0, 0])))
    cross_fitted_threshold("test", written, [], written, [], 0.04)
    assert len(folds) == 5 and all(held and trained and not held & trained for held, trained in folds)


def test_citizen_records_without_their_wording_do_not_choose_the_threshold():
    # Records packed without the citizen questions' wording (an older features file) cannot be judged by the guards
    # (every one would read as a greeting): the threshold then comes from the validation split, as before.
    rng = np.random.default_rng(17)
    kinds = ("answerable", "near", "off")
    records = [_record(rng, k, "gen", s, "sentence_coverage") for s in ("train", "validation") for k in kinds * 80]
    records += [dict(_record(rng, k, "citizen", "train", "dense", group=f"doc{i % 5}"), question="")
                for i, k in enumerate(("answerable", "near") * 60)]
    model = fit_procedure("test", records)
    assert "answer_threshold_from" not in model.info


def test_features_packed_before_groups_and_wording_still_unpack():
    rng = np.random.default_rng(19)
    packed = pack([_record(rng, "near", "citizen", "train", "dense", group="doc")])
    old = {k: v for k, v in packed.items() if k not in ("group", "readable")}
    (record,) = unpack(old)
    assert record["group"] == "" and record["question"] == "" and record["kind"] == "near"

