"""Calibration: fit the answerability models from labelled evidence and measure the three outcomes.

Used by ``benchmarks/fit_answerability.py`` (the shipped models, from hold-out data) and by
``kb-bot calibrate`` (a refit with the staff's own labelled questions added). A *record* is one
question retrieved against one corpus: its kind (``answerable``, ``near`` — on topic but the
answer is not in the corpus — or ``off``), the features of its candidate sentences
(``ranker_rows``, one row per candidate), its question-level features and, per candidate,
whether that sentence holds the answer. scikit-learn is needed here only (``pip install 'kb-bot[fit]'``).
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import KbBotError
from ..files import write_atomic
from .answer_model import AnswerModel, Linear, Trees, load_model, model_path
from .answerability import (ANSWER_FEATURES, QUESTION_FEATURES, RANKER_FEATURES, TOPIC_FEATURES, answer_row,
                            heuristic_scores, quote, topic_row)
from .guards import not_an_answer
from .judge import CROSS_LANGUAGE_MARGIN, answers_as_topic, decide, dense_only, on_subject
from .question_reading import asks_nothing

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
_OLD = {"cjk": (0.75, 0.6888), "other": (0.0, 0.0303)}  # the old decision: cosine over the centroid, per language


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


def _fit_trees(rows: np.ndarray, labels: np.ndarray, names: Sequence[str]) -> Trees:
    """Gradient-boosted trees (they catch what a line cannot: coverage matters only when the asked type is
    carried, ...), exported as plain arrays. Validation AUROC for answerable vs near-domain: 0.925 against
    0.903 for logistic regression on the same features (measured on the first hold-out data)."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    model = HistGradientBoostingClassifier(max_iter=200, learning_rate=0.05, max_leaf_nodes=15, min_samples_leaf=20,
                                           random_state=0).fit(rows, labels)
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
               refused: float = 0.02, info: dict | None = None) -> AnswerModel:
    """Ranker and answer model on ``train``; thresholds on ``validation``. Questions not in Chinese (English) get
    confidence trees and a threshold of their own; everything else is fitted on the Chinese questions."""
    every, other = train + validation, [r for r in train if _other_language(r)]
    train = [r for r in train if not _other_language(r)] or other
    usable = [r for r in train if r["kind"] == "answerable" and any(r["labels"])]
    ranker = replace(_fit_pairwise(usable, RANKER_USED), inputs=RANKER_FEATURES)
    used = [ANSWER_FEATURES.index(n) for n in ANSWER_USED]
    answer = replace(_fit_trees(*_answer_data(train, ranker, used), ANSWER_USED), inputs=ANSWER_FEATURES)
    english = (replace(_fit_trees(*_answer_data(other, ranker, used), ANSWER_USED), inputs=ANSWER_FEATURES)
               if other is not train and sum(r["kind"] == "answerable" for r in other) >= MIN_OTHER_LANGUAGE else None)
    topic_x = np.vstack([topic_row(r["question_row"]) for r in train])
    topic = _fit(topic_x, np.asarray([r["kind"] != "off" for r in train], dtype=int), TOPIC_FEATURES)
    provisional = AnswerModel(model_id, ranker, answer, topic, 0.5, 0.5, {}, english, 0.5)
    scored = [_score(r, provisional) for r in validation]
    chinese = [not _other_language(r) for r in validation]
    near = [[c for r, (c, _, _), zh in zip(validation, scored, chinese) if r["kind"] == "near" and zh == lang]
            for lang in (True, False)]  # each language's threshold: at most `near_answered` of its near-domain
    answer_threshold = float(np.quantile(near[0], 1 - near_answered)) if near[0] else 0.5
    english_threshold = float(np.quantile(near[1], 1 - near_answered)) if near[1] else answer_threshold
    on_topic_set, scored = [r for r, zh in zip(validation, chinese) if zh], [s for s, zh in zip(scored, chinese) if zh]
    # Topic threshold: highest value that still refuses (not_found) at most `refused` of the on-topic questions.
    on_topic = np.asarray([t for r, (c, t, _) in zip(on_topic_set, scored)
                           if r["kind"] != "off" and c < answer_threshold])
    total_on_topic = sum(1 for r in on_topic_set if r["kind"] != "off")
    allowed = int(refused * total_on_topic)
    topic_threshold = float(np.sort(on_topic)[allowed]) if len(on_topic) > allowed else 0.5
    counts = {f"{s}/{k}": sum(1 for r in every if r["source"] == s and r["kind"] == k)
              for s in sorted({r["source"] for r in every}) for k in KINDS}
    meta = {"train_records": len(every) - len(validation), "validation_records": len(validation), "counts": counts,
            **(info or {})}
    return AnswerModel(model_id, ranker, answer, topic, answer_threshold, topic_threshold, meta, english,
                       english_threshold)


def _other_language(record: dict) -> bool:  # words, none Chinese (CMRC's few empty questions count as Chinese)
    return not record["question_row"]["is_cjk"] and record["question_row"]["log_question"] > 0


def _answer_data(records: list[dict], ranker: Linear, used: list[int]) -> tuple[np.ndarray, np.ndarray]:
    rows, labels = [], []
    for record in records:
        if not len(record["ranker_rows"]):
            continue
        scores = ranker.decision(record["ranker_rows"].astype(np.float64))
        best = int(np.argmax(scores))
        rows.append(answer_row(record["ranker_rows"], record["question_row"], best, scores))
        labels.append(quote_answers(record, scores))
    return np.vstack(rows)[:, used], np.asarray(labels, dtype=int)


def _score(record: dict, model: AnswerModel) -> tuple[float, float, np.ndarray]:
    """(confidence, topic probability, ranker scores) of one record."""
    if not len(record["ranker_rows"]):
        return 0.0, 0.0, np.zeros(0)
    scores = model.ranker.decision(record["ranker_rows"].astype(np.float64))
    best = int(np.argmax(scores))
    trees, _ = model.confidence_model(not _other_language(record))
    confidence = float(trees.probability(answer_row(record["ranker_rows"], record["question_row"], best, scores))[0])
    return confidence, float(model.topic.probability(topic_row(record["question_row"]))[0]), scores


def _old(record: dict) -> tuple[str, float, np.ndarray]:
    row = record["question_row"]
    slope, threshold = _OLD["cjk" if row["is_cjk"] else "other"]
    value = row["centroid_margin"] + slope * row["best_dense"]
    rows = record["ranker_rows"].astype(np.float64)
    status = "answered" if len(rows) and value >= threshold else "not_found"
    return status, value, heuristic_scores(rows) if len(rows) else np.zeros(0)


@dataclass
class Outcomes:
    """Counts of the three outcomes per (source, kind), answers holding the fact, and AUROC."""

    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    auroc: float | None = None

    def add(self, key: str, status: str, with_fact: bool) -> None:
        """Count one question's outcome (and whether its quote holds the fact)."""
        row = self.counts.setdefault(key, {"n": 0, "answered": 0, "related": 0, "not_found": 0, "with_fact": 0})
        row["n"] += 1
        row[status] += 1
        row["with_fact"] += int(with_fact)

    def summary(self) -> dict:
        """The counts per (source, kind) and the AUROC, as the fitting script writes them."""
        return {"auroc": self.auroc, **{k: dict(v) for k, v in self.counts.items()}}


def _guarded(record: dict, scores: np.ndarray) -> bool:
    """The answer step's guards (``guards.not_an_answer``); none for packed records (no texts)."""
    texts = record["texts"]
    if not texts or not isinstance(texts[0], str):
        return False
    chosen = quoted(record, scores)
    passages = record.get("passages")
    sources = [passages[record["passage_of"][i]] for i in chosen] if passages else [texts[i] for i in chosen]
    return not_an_answer(record["question"], texts[int(np.argmax(scores))], [texts[i] for i in chosen], sources)


def outcomes(records: list[dict], model: AnswerModel | None) -> Outcomes:
    """What the app would answer for each record: with ``model``, or the old rule when None."""
    result = Outcomes()
    values, positives = [], []
    for record in records:
        if model is None:
            status, value, scores = _old(record)
        else:
            value, topic, scores = _score(record, model)
            nothing = asks_nothing(record["question"])  # a greeting or a ping (judge.judge)
            status = (decide(model, value, topic, not _other_language(record), bool(record["question_row"]["yesno"]))
                      if len(scores) and not nothing else "not_found")
            if status == "not_found" and len(scores) and not nothing and on_subject(record["question_row"], topic,
                                                                                   model.topic_threshold):
                status = "related"  # the app's coverage rule (judge.on_subject)
            if status == "answered" and _guarded(record, scores):
                status = "related"  # the app's guards (judge.judge): a named detail or asked kind missing
            if status != "answered" and answers_as_topic(record["question"], record["question_row"], topic,
                                                         model.topic_threshold) and len(scores) and not nothing:
                status, value = "answered", topic  # the app's bare-topic rule (judge.judge), sure as the topic
            row = record["question_row"]
            # the app's rules for questions in another language (judge.judge): only dense evidence, or not found
            if (dense_only(row) or (status == "not_found" and not row["is_cjk"])) and not nothing:
                status = "related" if row["centroid_margin"] >= CROSS_LANGUAGE_MARGIN else "not_found"
        fact = status == "answered" and quote_answers(record, scores)
        result.add(f"{record['source']}/{record['kind']}", status, fact)
        values.append(value)
        positives.append(quote_answers(record, scores) if len(scores) else False)
    if any(positives) and not all(positives):
        _, roc_auc_score = _sklearn()
        result.auroc = float(roc_auc_score(np.asarray(positives, dtype=int), np.asarray(values)))
    return result


def table(result: Outcomes) -> list[str]:
    """Markdown table of the outcomes (shares of each set)."""
    lines = ["| set | questions | answered | … with the fact | related | not found |",
             "|---|---:|---:|---:|---:|---:|"]
    for key in sorted(result.counts):
        row = result.counts[key]
        n = max(row["n"], 1)
        lines.append(f"| {key} | {row['n']} | {row['answered'] / n:.1%} | {row['with_fact'] / n:.1%} | "
                     f"{row['related'] / n:.1%} | {row['not_found'] / n:.1%} |")
    if result.auroc is not None:
        lines += ["", f"AUROC of the confidence (quote holds the answer vs not): {result.auroc:.3f}"]
    return lines


# --------------------------------------------------------------------------- records from retrieval


def make_records(questions: Sequence[dict], retriever, stats, synonyms, kind: str, vectors: np.ndarray,
                 top_k: int = 5, whole=None) -> list[dict]:
    """Retrieve each question (``question``, ``answers``, ``doc``, ``source``, ``group``, ``split``) and keep
    its evidence; a candidate is labelled when it comes from ``doc`` (if given) and holds an answer.
    ``whole(chunk)`` tells a passage the app quotes whole (default: ``answerability.quoted_whole``)."""
    from .answerability import PASSAGES_CONSIDERED, gather, passage_text, quoted_whole

    whole = whole or quoted_whole

    texts = [synonyms.expand_query(q["question"]) for q in questions]
    all_hits = retriever.search_many(texts, top_k, query_vectors=vectors)
    records = []
    for q, hits, vector in zip(questions, all_hits, vectors):
        evidence = gather(q["question"], hits, vector, retriever.centroid, stats, synonyms)
        labels = [bool(kind == "answerable" and (not q.get("doc") or _same_doc(c.hit.chunk.doc, q["doc"]))
                       and any(a in c.text for a in q["answers"])) for c in evidence.candidates]
        records.append({
            "kind": kind, "source": q["source"], "group": q.get("group", ""), "split": q.get("split", "train"),
            "question": q["question"], "answers": list(q["answers"]),
            "ranker_rows": evidence.ranker_rows.astype("float32"), "question_row": evidence.question_row,
            "labels": labels, "texts": [c.text for c in evidence.candidates],
            # the passages the candidates come from (what the detail-word guard reads)
            "passages": [passage_text(h) for h in hits[:PASSAGES_CONSIDERED]],
            "passage_of": [c.hit_rank for c in evidence.candidates],
            "whole_of": [whole(c.hit.chunk) for c in evidence.candidates],  # quoted with its whole article
        })
    return records


def _same_doc(path: str, doc: str) -> bool:
    """A question's ``doc`` names a document by path or by file stem."""
    return path == doc or path.rsplit("/", 1)[-1].rsplit(".", 1)[0] == doc


# --------------------------------------------------------------------------- shipping the training features


def pack(records: list[dict]) -> dict[str, np.ndarray]:
    """Records as flat arrays (for ``np.savez_compressed``)."""
    lengths = np.asarray([len(r["ranker_rows"]) for r in records], dtype=np.int32)
    rows = [r["ranker_rows"] for r in records if len(r["ranker_rows"])]
    return {
        "kind": np.asarray([r["kind"] for r in records]), "source": np.asarray([r["source"] for r in records]),
        "split": np.asarray([r["split"] for r in records]), "lengths": lengths,
        "ranker_rows": (np.vstack(rows) if rows else np.zeros((0, len(RANKER_FEATURES)))).astype(np.float32),
        "question_rows": np.asarray([[r["question_row"][n] for n in QUESTION_FEATURES] for r in records],
                                    dtype=np.float32),
        "labels": np.concatenate([np.asarray(r["labels"], dtype=bool) for r in records]) if records else np.zeros(0, bool),
        # Only whether two candidates are the same sentence matters when fitting: keep a checksum, not the text.
        "texts": np.asarray([zlib.crc32(t.strip().encode("utf-8")) for r in records for t in r["texts"]],
                            dtype=np.int64),
        # ...and which passage each candidate comes from, and whether that passage is quoted whole (see ``quoted``).
        "passage_of": np.asarray([p for r in records for p in r.get("passage_of", [0] * len(r["texts"]))],
                                 dtype=np.int8),
        "whole_of": np.asarray([w for r in records for w in r.get("whole_of", [False] * len(r["texts"]))], dtype=bool),
    }


def unpack(data) -> list[dict]:
    """Records from ``pack``'s arrays."""
    # Read each array once: indexing an NpzFile decompresses the whole array again on every access.
    arrays = {name: data[name] for name in ("kind", "source", "split", "lengths", "ranker_rows", "question_rows",
                                            "labels", "texts", "passage_of", "whole_of") if name in data}
    records, at = [], 0
    for i, length in enumerate(arrays["lengths"].tolist()):
        records.append({
            "kind": str(arrays["kind"][i]), "source": str(arrays["source"][i]), "split": str(arrays["split"][i]),
            "group": "", "question": "", "answers": [],
            "ranker_rows": arrays["ranker_rows"][at : at + length],
            "question_row": dict(zip(QUESTION_FEATURES, arrays["question_rows"][i].tolist())),
            "labels": arrays["labels"][at : at + length].tolist(), "texts": arrays["texts"][at : at + length].tolist(),
        })
        if "whole_of" in arrays:  # files packed before whole-article quotes have neither
            records[-1]["passage_of"] = arrays["passage_of"][at : at + length].tolist()
            records[-1]["whole_of"] = arrays["whole_of"][at : at + length].tolist()
        at += length
    return records


# --------------------------------------------------------------------------- kb-bot calibrate


def staff_split(question: str) -> str:
    """Staff questions: three in four fit the models, one in four chooses the thresholds (by a stable hash)."""
    return "validation" if zlib.crc32(question.encode("utf-8")) % 4 == 0 else "train"


def recalibrate(retriever, stats, synonyms, questions, folder) -> tuple[list[str], list[str], Path]:
    """Refit on the shipped hold-out data plus labelled ``questions`` (``kb_bot.answering.evaluation.Question``).

    Returns the outcome tables on the staff's questions before and after, and where the refitted
    model was saved (in ``folder``, the index folder, where the app looks first).
    """
    model_id = retriever.index.manifest.model_id
    shipped = model_path(model_id)
    data_path = shipped.with_name(f"answerability-train-{shipped.stem.split('-', 1)[1]}.npz")
    if not data_path.is_file():
        raise KbBotError(f"no shipped training data for model {model_id} ({data_path.name})",
                         hint="run benchmarks/answerability_data.py and benchmarks/fit_answerability.py for this model")
    with np.load(data_path) as data:
        base = unpack(data)
    items = [{"question": q.question, "answers": list(q.expect), "doc": q.doc, "source": "staff",
              "split": staff_split(q.question)} for q in questions]
    vectors = retriever.embed([q.question for q in questions])
    staff = []
    for kind, keep in (("answerable", True), ("near", False)):
        chosen = [i for i, q in enumerate(questions) if q.answerable == keep]
        if chosen:
            staff += make_records([items[i] for i in chosen], retriever, stats, synonyms, kind, vectors[chosen])
    current = load_model(model_id, [Path(folder)])
    before = table(outcomes(staff, current)) if current is not None else ["(no model before)"]
    records = base + staff
    model = fit_models(model_id, [r for r in records if r["split"] == "train"],
                       [r for r in records if r["split"] == "validation"],
                       info={"staff_questions": len(questions)})
    after = table(outcomes(staff, model))
    path = model_path(model_id, Path(folder))
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, (json.dumps(model.to_json(), ensure_ascii=False, indent=1) + "\n").encode("utf-8"))
    return before, after, path
