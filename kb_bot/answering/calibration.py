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
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from ..errors import KbBotError
from ..files import write_atomic
from .answer_model import AnswerModel, load_model, model_path
from .answerability import QUESTION_FEATURES, RANKER_FEATURES, heuristic_scores
from .fitting import (
    _other_language,
    _score,
    _sklearn,
    fit_models,
    quote_answers,
    quoted,
    topic_threshold_for,
)
from .guards import not_an_answer
from .judge import (
    CROSS_LANGUAGE_MARGIN,
    answers_as_topic,
    decide,
    dense_only,
    on_subject,
)
from .courtesy import asks_nothing, small_talk

_OLD = {"cjk": (0.75, 0.6888), "other": (0.0, 0.0303)}  # the old decision: cosine over the centroid, per language


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


def outcomes(records: list[dict], model: AnswerModel | None, scored: dict[int, tuple] | None = None) -> Outcomes:
    """What the app would answer for each record: with ``model``, or the old rule when None. ``scored`` may hold
    each record's ``_score`` with ``model`` already (by ``id(record)``): only the thresholds differ between calls."""
    result = Outcomes()
    values, positives = [], []
    for record in records:
        if model is None:
            status, value, scores = _old(record)
        else:
            value, topic, scores = scored[id(record)] if scored else _score(record, model)
            nothing = asks_nothing(record["question"]) or small_talk(record["question"])  # as judge.judge
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


# --------------------------------------------------------------------------- the fitting procedure

#: Records of this source are yes/no questions on the documents' topics that no document rules on: the yes/no
#: threshold is chosen on them (``yesno_threshold``), they are never fitted on.
OPEN_YESNO = "citizen-open"
#: The answer threshold is chosen on the questions asked as people ask (``CROSS_FITTED_SOURCES``), scored out of
#: fold, when their unanswerable ones number at least this many; else on the validation split's near-domain.
MIN_CROSS_FITTED = 50
#: The sources whose questions are asked the way people ask: the citizen questions written for training (fitted on
#: only with ``fit_answerability.py --with-citizen``; weighed by ``fitting.SOURCE_WEIGHTS``).
CROSS_FITTED_SOURCES = ("citizen",)
READABLE_SOURCES = ("citizen", OPEN_YESNO)
CROSS_FOLDS = 5
THRESHOLD_GRID = tuple(round(0.30 + 0.01 * i, 2) for i in range(61))  # 0.30 ... 0.90


def fit_procedure(model_id: str, records: list[dict], near_answered: float = 0.04, refused: float = 0.02,
                  info: dict | None = None) -> AnswerModel:
    """The whole fit: models on the train split, then the thresholds. The answer threshold is the lowest at which
    at most ``near_answered`` of the unanswerable questions asked as people ask (``CROSS_FITTED_SOURCES``: the
    citizen questions written for training, when the records hold them) are answered, each judged by models fitted without its
    fold's such questions (folds by document), the app's rules and the yes/no threshold applied; the Chinese yes/no
    threshold is chosen on the ``OPEN_YESNO`` questions. Without enough such questions (or without their wording,
    which the guards read) the answer threshold is ``fit_models``' (the validation split's near-domain questions)."""
    open_yesno = [r for r in records if r["source"] == OPEN_YESNO and r["kind"] == "near"]
    records = [r for r in records if r["source"] != OPEN_YESNO]
    train = [r for r in records if r["split"] == "train"]
    validation = [r for r in records if r["split"] == "validation"]
    model = fit_models(model_id, train, validation, near_answered, refused, info)
    written = [r for r in train if r["source"] in CROSS_FITTED_SOURCES and not _other_language(r) and r["question"]]
    groups = {r.get("group") or r["question"] for r in written}
    if sum(r["kind"] == "near" for r in written) >= MIN_CROSS_FITTED and len(groups) >= 2:
        threshold, share = cross_fitted_threshold(model_id, train, validation, written, open_yesno, near_answered)
        chinese = [r for r in validation if not _other_language(r)]
        topic = topic_threshold_for([(r, _score(r, model)) for r in chinese], threshold, refused)
        model = replace(model, answer_threshold=threshold, topic_threshold=topic, info={
            **model.info, "answer_threshold_from": "questions asked as people ask, out of fold",
            "out_of_fold_near_answered": round(share, 4)})
    return replace(model, yesno_threshold=yesno_threshold(model, open_yesno, near_answered))


def cross_fitted_threshold(model_id: str, train: list[dict], validation: list[dict], written: list[dict],
                           open_yesno: list[dict], share: float) -> tuple[float, float]:
    """The lowest ``THRESHOLD_GRID`` value at which at most ``share`` of ``written``'s unanswerable questions are
    answered (with the share reached), each fold's questions judged by models fitted on ``train`` without that
    fold's ``written`` records (folds by document group; by question where a record has none, so a question's
    records stay together). When no grid value gets there, the highest, with the share it leaves."""
    from sklearn.model_selection import GroupKFold

    groups = [r.get("group") or r["question"] for r in written]
    answered = np.zeros(len(THRESHOLD_GRID))
    for _, held in GroupKFold(min(CROSS_FOLDS, len(set(groups)))).split(written, groups=groups):
        fold = [written[i] for i in held]
        out = {id(r) for r in fold}
        model = fit_models(model_id, [r for r in train if id(r) not in out], validation)
        yesno = yesno_threshold(replace(model, answer_threshold=1.0), open_yesno, share)
        scored = {id(r): _score(r, model) for r in fold}  # only the thresholds change below
        for j, threshold in enumerate(THRESHOLD_GRID):
            trial = replace(model, answer_threshold=threshold,
                            yesno_threshold=None if yesno is None else min(threshold, yesno))
            counts = outcomes(fold, trial, scored).counts
            answered[j] += sum(c["answered"] for key, c in counts.items() if key.endswith("/near"))
    total = max(sum(r["kind"] == "near" for r in written), 1)
    fits = [(t, n / total) for t, n in zip(THRESHOLD_GRID, answered) if n <= share * total]
    return fits[0] if fits else (THRESHOLD_GRID[-1], float(answered[-1] / total))


def yesno_threshold(model: AnswerModel, records: list[dict], share: float) -> float | None:
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
        # the document group: the answer threshold is chosen out of fold by group (``cross_fitted_threshold``)
        "group": np.asarray([r.get("group", "") for r in records]),
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
        # The citizen questions' wording and passages, which the app's guards read: the answer and yes/no thresholds
        # are chosen on them with the guards applied (``fit_procedure``), in a staff refit too.
        "readable": np.asarray([json.dumps([r["question"], r["texts"], r.get("passages") or []], ensure_ascii=False)
                                if r["source"] in READABLE_SOURCES else "" for r in records]),
    }


def unpack(data) -> list[dict]:
    """Records from ``pack``'s arrays."""
    # Read each array once: indexing an NpzFile decompresses the whole array again on every access.
    arrays = {name: data[name] for name in ("kind", "source", "split", "group", "lengths", "ranker_rows",
                                            "question_rows", "labels", "texts", "passage_of", "whole_of", "readable")
              if name in data}
    records, at = [], 0
    for i, length in enumerate(arrays["lengths"].tolist()):
        records.append({
            "kind": str(arrays["kind"][i]), "source": str(arrays["source"][i]), "split": str(arrays["split"][i]),
            "group": str(arrays["group"][i]) if "group" in arrays else "", "question": "", "answers": [],
            "ranker_rows": arrays["ranker_rows"][at : at + length],
            "question_row": dict(zip(QUESTION_FEATURES, arrays["question_rows"][i].tolist())),
            "labels": arrays["labels"][at : at + length].tolist(), "texts": arrays["texts"][at : at + length].tolist(),
        })
        if "whole_of" in arrays:  # files packed before whole-article quotes have neither
            records[-1]["passage_of"] = arrays["passage_of"][at : at + length].tolist()
            records[-1]["whole_of"] = arrays["whole_of"][at : at + length].tolist()
        if "readable" in arrays and arrays["readable"][i]:
            question, texts, passages = json.loads(str(arrays["readable"][i]))
            records[-1].update(question=question, texts=texts, passages=passages)
        at += length
    return records


# --------------------------------------------------------------------------- kb-bot calibrate


def staff_split(question: str) -> str:
    """Staff questions: three in four fit the models, one in four chooses the thresholds (by a stable hash)."""
    return "validation" if zlib.crc32(question.encode("utf-8")) % 4 == 0 else "train"


@dataclass(frozen=True)
class Recalibration:
    """What ``recalibrate`` did: the staff questions' outcomes before and after, and whether the refit was saved."""

    before: list[str]
    after: list[str]
    path: Path
    saved: bool
    reason: str | None = None  # why it was not saved


def recalibrate(retriever, stats, synonyms, questions, folder, force: bool = False) -> Recalibration:
    """Refit on the shipped hold-out data plus labelled ``questions`` (``kb_bot.answering.evaluation.Question``).

    The refit is saved in ``folder`` (the index folder, where the app looks first, so it answers with it at once)
    unless it answers the staff's own questions worse than the model in use: fewer answerable ones with their
    fact, or more unanswerable ones (QA, thirteenth session: a refit on eight questions went from 40% to 20% of the
    answerable answered and was put in use without a word). ``force`` saves it all the same.
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
    was = outcomes(staff, current) if current is not None else None
    model = fit_procedure(model_id, base + staff, info={"staff_questions": len(questions)})
    now = outcomes(staff, model)
    path = model_path(model_id, Path(folder))
    reason = None if force or was is None else _worse(was, now)
    if reason is None:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, (json.dumps(model.to_json(), ensure_ascii=False, indent=1) + "\n").encode("utf-8"))
    return Recalibration(table(was) if was is not None else ["(no model before)"], table(now), path,
                         reason is None, reason)


def _worse(was: Outcomes, now: Outcomes) -> str | None:
    """Why the refit answers the staff's questions worse than the model in use, or None."""
    def count(result: Outcomes, key: str, field_name: str) -> int:
        return result.counts.get(key, {}).get(field_name, 0)

    facts = (count(was, "staff/answerable", "with_fact"), count(now, "staff/answerable", "with_fact"))
    misquoted = tuple(count(r, "staff/answerable", "answered") - count(r, "staff/answerable", "with_fact")
                      for r in (was, now))
    wrong = (count(was, "staff/near", "answered"), count(now, "staff/near", "answered"))
    if facts[1] < facts[0]:
        return f"it answers fewer of your answerable questions with their fact ({facts[0]} -> {facts[1]})"
    if misquoted[1] > misquoted[0]:
        return f"it answers more of your answerable questions without their fact ({misquoted[0]} -> {misquoted[1]})"
    if wrong[1] > wrong[0]:
        return f"it answers more of your unanswerable questions ({wrong[0]} -> {wrong[1]})"
    return None


def undo_recalibration(model_id: str, folder) -> Path | None:
    """Remove a staff recalibration from ``folder`` (the index folder): the shipped model answers again. Returns the
    file removed, or None when there was none."""
    path = model_path(model_id, Path(folder))
    if not path.is_file():
        return None
    path.unlink()
    return path
