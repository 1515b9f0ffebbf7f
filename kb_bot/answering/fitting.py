"""Fitting the answerability models: the sentence ranker, the confidence trees and the topic model.

Called by ``calibration`` (the shipped models from hold-out data, ``benchmarks/fit_answerability.py``, and a staff
refit, ``kb-bot calibrate``). A *record* is one question retrieved against one corpus (see ``calibration``).
scikit-learn is needed here only (``pip install 'kb-bot[fit]'``); the app reads the fitted weights with numpy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np

from ..errors import KbBotError
from .answer_model import AnswerModel, Linear, Trees
from .answerability import (
    ANSWER_FEATURES,
    RANKER_FEATURES,
    TOPIC_FEATURES,
    answer_row,
    quote,
    topic_row,
)

KINDS = ("answerable", "near", "off")
MIN_OTHER_LANGUAGE = 100  # answerable train questions not in Chinese needed for their own confidence model
#: The raw bigram overlap and the longest shared phrase: what a question copying its answer's wording shares with it.
COPY_FEATURES = ("local_overlap", "phrase_match")
#: The ranker weighs every feature: it only orders the sentences of one question, and there the copy features are
#: strong signals (on validation, left out they cost 3-4 points of first sentences holding the answer, spoken
#: variants included).
RANKER_USED = RANKER_FEATURES
#: The confidence does not weigh the copy features: with them, a question copying its answer's phrases looks sure
#: and a citizen's paraphrase of the same question does not.
ANSWER_USED = tuple(n for n in ANSWER_FEATURES if n not in COPY_FEATURES)
#: At most this many sentence pairs (one holding the answer, one not) per question: long passages do not outweigh.
PAIRS_PER_QUESTION = 20
#: Questions written the way citizens type (source ``citizen``: ``benchmarks/citizen_questions.py``) weigh ten
#: generated ones in the Chinese confidence trees when they are fitted on (``fit_answerability.py --with-citizen``):
#: ~750 of them against ~25,000 generated records are otherwise drowned (out of fold, answered with the fact at 4%
#: of their unanswerable ones answered: weight 5 17.9%, 10 19.8%, 20 19.8%). The shipped model is not fitted on
#: them: on the blind citizen questions it gained nothing (README, "Answers you can trust").
SOURCE_WEIGHTS = {"citizen": 10.0}

def _sklearn():
    try:
        from sklearn.linear_model import LogisticRegression
        from sklearn.metrics import roc_auc_score
    except ImportError:
        raise KbBotError("fitting needs scikit-learn, which the app itself does not install",
                         hint="pip install 'kb-bot[fit]' (or pip install scikit-learn)") from None
    return LogisticRegression, roc_auc_score


def _fit(rows: np.ndarray, labels: np.ndarray, names: Sequence[str], c: float = 1.0) -> Linear:
    """A standardised logistic regression, kept as plain weights."""
    LogisticRegression, _ = _sklearn()
    if len(set(labels.tolist())) < 2:
        raise KbBotError("cannot fit: the labelled data has only one class", hint="add answerable and unanswerable questions")
    mean, spread = rows.mean(axis=0), rows.std(axis=0)
    scale = np.where(spread < 1e-9, 1.0, spread)
    model = LogisticRegression(C=c, max_iter=2000).fit((rows - mean) / scale, labels)
    return Linear(tuple(names), mean, scale, model.coef_[0].astype(np.float64), float(model.intercept_[0]))


def _fit_pairwise(records: Sequence[dict], names: Sequence[str], c: float = 1.0) -> Linear:
    """A ranker learned from pairs of one question's sentences (one holds the answer, one does not): a logistic
    regression on their feature differences, without intercept, so that a score difference is the log-odds that
    one sentence answers rather than the other. Fitting each sentence on its own (one pooled logistic) learns
    mostly what tells questions apart (how close the passage is) rather than sentences of one question: on
    validation it put a sentence holding the answer first 4-5 points less often (CMRC 0.717 vs 0.761, spoken
    regulation questions 0.669 vs 0.720)."""
    LogisticRegression, _ = _sklearn()
    columns = [RANKER_FEATURES.index(n) for n in names]
    rng = np.random.default_rng(0)
    differences = []
    for record in records:
        rows = np.asarray(record["ranker_rows"], dtype=np.float64)[:, columns]
        labels = np.asarray(record["labels"], dtype=bool)
        pairs = [(p, n) for p in np.flatnonzero(labels) for n in np.flatnonzero(~labels)]
        if len(pairs) > PAIRS_PER_QUESTION:
            pairs = [pairs[i] for i in rng.choice(len(pairs), PAIRS_PER_QUESTION, replace=False)]
        differences += [rows[p] - rows[n] for p, n in pairs]
    if not differences:
        raise KbBotError("cannot fit the ranker: no question has both a sentence holding its answer and one not",
                         hint="add answerable questions whose passages have several sentences")
    diffs = np.asarray(differences)
    scale = np.where(diffs.std(axis=0) < 1e-9, 1.0, diffs.std(axis=0))
    both = np.vstack([diffs / scale, -diffs / scale])
    model = LogisticRegression(C=c, fit_intercept=False, max_iter=2000).fit(
        both, np.r_[np.ones(len(diffs)), np.zeros(len(diffs))])
    return Linear(tuple(names), np.zeros(len(names)), np.ones(len(names)), model.coef_[0] / scale, 0.0)


def _fit_trees(rows: np.ndarray, labels: np.ndarray, names: Sequence[str],
               weights: np.ndarray | None = None) -> Trees:
    """Gradient-boosted trees (they catch what a line cannot: coverage matters only when the asked type is
    carried, ...), each row weighed by ``weights`` (default 1), exported as plain arrays. Validation AUROC for answerable vs near-domain: 0.925 against
    0.903 for logistic regression on the same features (measured on the first hold-out data)."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    model = HistGradientBoostingClassifier(max_iter=200, learning_rate=0.05, max_leaf_nodes=15, min_samples_leaf=20,
                                           random_state=0).fit(rows, labels, sample_weight=weights)
    trees = []
    for (predictor,) in model._predictors:  # binary: one tree per iteration
        nodes = predictor.nodes
        trees.append({"feature": nodes["feature_idx"].tolist(), "threshold": nodes["num_threshold"].tolist(),
                      "left": nodes["left"].tolist(), "right": nodes["right"].tolist(),
                      "value": nodes["value"].tolist(), "leaf": nodes["is_leaf"].astype(bool).tolist()})
    return Trees(tuple(names), float(np.ravel(model._baseline_prediction)[0]), tuple(trees))


def quote_answers(record: dict, scores: np.ndarray) -> bool:
    """Does the quote chosen with ``scores`` hold the answer (for an answerable record)?"""
    return record["kind"] == "answerable" and len(scores) > 0 and any(record["labels"][i] for i in quoted(record, scores))


def quoted(record: dict, scores: np.ndarray) -> list[int]:
    """The candidates the app would quote for ``record`` (a whole short article where the record says so)."""
    return quote(record["texts"], scores, record.get("passage_of"), record.get("whole_of"))


def fit_models(model_id: str, train: list[dict], validation: list[dict], near_answered: float = 0.04,
               refused: float = 0.02, info: dict | None = None,
               weights: Mapping[str, float] | None = None) -> AnswerModel:
    """Ranker and answer model on ``train``; thresholds on ``validation``. Questions not in Chinese (English) get
    confidence trees and a threshold of their own; everything else is fitted on the Chinese questions. ``weights``
    (default ``SOURCE_WEIGHTS``) weigh each record source in the Chinese confidence trees."""
    every, other = train + validation, [r for r in train if _other_language(r)]
    train = [r for r in train if not _other_language(r)] or other
    usable = [r for r in train if r["kind"] == "answerable" and any(r["labels"])]
    ranker = replace(_fit_pairwise(usable, RANKER_USED), inputs=RANKER_FEATURES)
    used = [ANSWER_FEATURES.index(n) for n in ANSWER_USED]
    rows, labels, row_weights = _answer_data(train, ranker, used, SOURCE_WEIGHTS if weights is None else weights)
    answer = replace(_fit_trees(rows, labels, ANSWER_USED, row_weights), inputs=ANSWER_FEATURES)
    english = None
    if other is not train and sum(r["kind"] == "answerable" for r in other) >= MIN_OTHER_LANGUAGE:
        rows, labels, _ = _answer_data(other, ranker, used)
        english = replace(_fit_trees(rows, labels, ANSWER_USED), inputs=ANSWER_FEATURES)
    topic_x = np.vstack([topic_row(r["question_row"]) for r in train])
    topic = _fit(topic_x, np.asarray([r["kind"] != "off" for r in train], dtype=int), TOPIC_FEATURES)
    provisional = AnswerModel(model_id, ranker, answer, topic, 0.5, 0.5, {}, english, 0.5)
    scored = [_score(r, provisional) for r in validation]
    chinese = [not _other_language(r) for r in validation]
    near = [[c for r, (c, _, _), zh in zip(validation, scored, chinese) if r["kind"] == "near" and zh == lang]
            for lang in (True, False)]  # each language's threshold: at most `near_answered` of its near-domain
    answer_threshold = float(np.quantile(near[0], 1 - near_answered)) if near[0] else 0.5
    english_threshold = float(np.quantile(near[1], 1 - near_answered)) if near[1] else answer_threshold
    zh_scored = [(r, s) for r, s, zh in zip(validation, scored, chinese) if zh]
    topic_threshold = topic_threshold_for(zh_scored, answer_threshold, refused)
    counts = {f"{s}/{k}": sum(1 for r in every if r["source"] == s and r["kind"] == k)
              for s in sorted({r["source"] for r in every}) for k in KINDS}
    meta = {"train_records": len(every) - len(validation), "validation_records": len(validation), "counts": counts,
            **(info or {})}
    return AnswerModel(model_id, ranker, answer, topic, answer_threshold, topic_threshold, meta, english,
                       english_threshold)


def topic_threshold_for(scored: Sequence[tuple[dict, tuple]], answer_threshold: float, refused: float) -> float:
    """The highest topic probability that still refuses (not_found) at most ``refused`` of the on-topic questions
    among ``scored`` ((record, ``_score(record)``) pairs); questions answered at ``answer_threshold`` never are."""
    on_topic = np.asarray([t for r, (c, t, _) in scored if r["kind"] != "off" and c < answer_threshold])
    allowed = int(refused * sum(1 for r, _ in scored if r["kind"] != "off"))
    return float(np.sort(on_topic)[allowed]) if len(on_topic) > allowed else 0.5


def _other_language(record: dict) -> bool:  # words, none Chinese (CMRC's few empty questions count as Chinese)
    return not record["question_row"]["is_cjk"] and record["question_row"]["log_question"] > 0


def _answer_data(records: list[dict], ranker: Linear, used: list[int], weights: Mapping[str, float] | None = None
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The confidence model's rows (the ranker's best sentence of each record with candidates), labels (its quote
    holds the answer) and, given ``weights`` by source, each row's weight (None without)."""
    rows, labels, row_weights = [], [], []
    for record in records:
        if not len(record["ranker_rows"]):
            continue
        scores = ranker.decision(record["ranker_rows"].astype(np.float64))
        best = int(np.argmax(scores))
        rows.append(answer_row(record["ranker_rows"], record["question_row"], best, scores))
        labels.append(quote_answers(record, scores))
        row_weights.append((weights or {}).get(record["source"], 1.0))
    return (np.vstack(rows)[:, used], np.asarray(labels, dtype=int),
            None if weights is None else np.asarray(row_weights))


def _score(record: dict, model: AnswerModel) -> tuple[float, float, np.ndarray]:
    """(confidence, topic probability, ranker scores) of one record."""
    if not len(record["ranker_rows"]):
        return 0.0, 0.0, np.zeros(0)
    scores = model.ranker.decision(record["ranker_rows"].astype(np.float64))
    best = int(np.argmax(scores))
    trees, _ = model.confidence_model(not _other_language(record))
    confidence = float(trees.probability(answer_row(record["ranker_rows"], record["question_row"], best, scores))[0])
    return confidence, float(model.topic.probability(topic_row(record["question_row"]))[0]), scores
