"""The fitted answerability models: plain weights read with numpy, one small JSON file per embedding model.

Written by ``benchmarks/fit_answerability.py`` (shipped in ``kb_bot/data/``) or by ``kb-bot calibrate``
(in the index folder, which wins). scikit-learn is needed only to fit, never to answer.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable

import numpy as np

DATA = Path(__file__).parent.parent / "data"  # kb_bot/data, shared with the synonym tables
MODEL_FORMAT = 1


@dataclass(frozen=True)
class Linear:
    """A fitted logistic model: standardise, dot, sigmoid (scikit-learn only at fitting time)."""

    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    #: The columns of the rows it is given, when it uses only some of them (``features``).
    inputs: tuple[str, ...] = ()

    def decision(self, rows: np.ndarray) -> np.ndarray:
        """The log-odds of each row (standardised, then the fitted weights)."""
        rows = np.atleast_2d(rows)
        if self.inputs:
            rows = rows[:, [self.inputs.index(name) for name in self.features]]
        return ((rows - self.mean) / self.scale) @ self.coef + self.intercept

    def probability(self, rows: np.ndarray) -> np.ndarray:
        """The probability of each row (the decision through a sigmoid)."""
        return 1.0 / (1.0 + np.exp(-np.clip(self.decision(rows), -30, 30)))

    def to_json(self) -> dict:
        """The model as the shipped JSON file holds it."""
        return {"features": list(self.features), "mean": self.mean.tolist(), "scale": self.scale.tolist(),
                "coef": self.coef.tolist(), "intercept": float(self.intercept), "inputs": list(self.inputs)}

    @classmethod
    def from_json(cls, data: dict) -> "Linear":
        """A model from its JSON form (``to_json``)."""
        return cls(tuple(data["features"]), np.asarray(data["mean"]), np.asarray(data["scale"]),
                   np.asarray(data["coef"]), float(data["intercept"]), tuple(data.get("inputs", ())))


@dataclass(frozen=True)
class Trees:
    """Fitted gradient-boosted trees (scikit-learn's HistGradientBoosting), kept as plain arrays.

    Each tree is (feature, threshold, left, right, value, is_leaf) per node; a row goes left when its
    feature is at or below the threshold. The raw score is ``baseline`` plus the leaves reached.
    """

    features: tuple[str, ...]
    baseline: float
    trees: tuple[dict, ...]  # each: {"feature", "threshold", "left", "right", "value", "leaf"} lists
    #: The columns of the rows it is given, when it uses only some of them (``features``).
    inputs: tuple[str, ...] = ()

    def decision(self, rows: np.ndarray) -> np.ndarray:
        """The raw score of each row: the baseline plus the leaf each tree sends it to."""
        rows = np.atleast_2d(np.asarray(rows, dtype=np.float64))
        if self.inputs:
            rows = rows[:, [self.inputs.index(name) for name in self.features]]
        scores = np.full(len(rows), self.baseline)
        for tree in self.trees:
            feature, threshold, left, right = tree["feature"], tree["threshold"], tree["left"], tree["right"]
            value, leaf = tree["value"], tree["leaf"]
            for r, row in enumerate(rows):
                node = 0
                while not leaf[node]:
                    node = left[node] if row[feature[node]] <= threshold[node] else right[node]
                scores[r] += value[node]
        return scores

    def probability(self, rows: np.ndarray) -> np.ndarray:
        """The probability of each row (the raw score through a sigmoid)."""
        return 1.0 / (1.0 + np.exp(-np.clip(self.decision(rows), -30, 30)))

    def to_json(self) -> dict:
        """The trees as the shipped JSON file holds them."""
        return {"kind": "trees", "features": list(self.features), "baseline": self.baseline, "trees": list(self.trees),
                "inputs": list(self.inputs)}

    @classmethod
    def from_json(cls, data: dict) -> "Trees":
        """Trees from their JSON form (``to_json``)."""
        return cls(tuple(data["features"]), float(data["baseline"]), tuple(data["trees"]), tuple(data.get("inputs", ())))


def model_from_json(data: dict) -> "Linear | Trees":
    """A Linear or Trees model from its JSON."""
    return Trees.from_json(data) if data.get("kind") == "trees" else Linear.from_json(data)


@dataclass(frozen=True)
class AnswerModel:
    """The three fitted models and the two thresholds chosen on the validation split."""

    model_id: str
    ranker: Linear
    answer: "Linear | Trees"
    topic: Linear
    #: Confidence at or above: answered. The shipped one is chosen on citizens' questions that stand on their own
    #: (benchmarks/choose_answer_threshold.py); the validation split's is kept in ``info["answer_threshold_fitted"]``.
    answer_threshold: float
    topic_threshold: float  # otherwise topic probability at or above: related, else not_found
    info: dict
    #: The confidence for questions not in Chinese (English), fitted on those alone: in one model with the Chinese
    #: questions they cost the Chinese ones 1.5 points answered with the fact at the same near-domain share
    #: (validation). None: the one model serves every question.
    english: "Linear | Trees | None" = None
    english_threshold: float = 1.0
    #: The answer threshold for a Chinese yes/no question (养狗要办证吗？): chosen on citizens' yes/no questions the
    #: documents leave open (at most the same 4% answered), because a rule quoted for a yes/no question mostly is its
    #: answer while near-domain questions mostly ask a detail (see benchmarks/fit_answerability.py). None: the
    #: answer threshold, as for every question (a staff recalibration fits no yes/no set).
    yesno_threshold: float | None = None

    def confidence_model(self, chinese: bool, yesno: bool = False) -> tuple["Linear | Trees", float]:
        """The confidence model and its answer threshold for a question in Chinese or not, yes/no or not."""
        if chinese or self.english is None:
            if chinese and yesno and self.yesno_threshold is not None:
                return self.answer, self.yesno_threshold
            return self.answer, self.answer_threshold
        return self.english, self.english_threshold

    def follow_up_threshold(self, chinese: bool) -> float:
        """The answer threshold for a follow-up's reply (read alone or completed): the validation split's when the
        shipped one was chosen lower on questions that stand on their own. A completed reading borrows the
        subject's words, which lift its confidence: at 0.61 (a first choice on citizens' questions) 不戴罚多少？ after the
        e-bike helmet rule was
        answered 0.68 with a car driver's fine; over the four dialogue sets, follow-ups answered with their fact went
        99 -> 128 but those answered without it 13 -> 28 (benchmarks/dialogue_quality.py, seventeenth session)."""
        threshold = self.confidence_model(chinese)[1]
        fitted = self.info.get("answer_threshold_fitted")
        return max(threshold, float(fitted)) if chinese and fitted is not None else threshold

    def to_json(self) -> dict:
        """The fitted models and thresholds as one JSON document (format ``MODEL_FORMAT``)."""
        return {"format": MODEL_FORMAT, "model_id": self.model_id, "ranker": self.ranker.to_json(),
                "answer": self.answer.to_json(), "topic": self.topic.to_json(),
                "answer_threshold": self.answer_threshold, "topic_threshold": self.topic_threshold, "info": self.info,
                "english": self.english.to_json() if self.english is not None else None,
                "english_threshold": self.english_threshold, "yesno_threshold": self.yesno_threshold}

    @classmethod
    def from_json(cls, data: dict) -> "AnswerModel":
        """The models from their JSON document (``to_json``)."""
        if data.get("format") != MODEL_FORMAT:
            raise ValueError(f"answerability model format {data.get('format')} (expected {MODEL_FORMAT})")
        return cls(data["model_id"], Linear.from_json(data["ranker"]), model_from_json(data["answer"]),
                   Linear.from_json(data["topic"]), float(data["answer_threshold"]), float(data["topic_threshold"]),
                   data.get("info", {}), model_from_json(data["english"]) if data.get("english") else None,
                   float(data.get("english_threshold", 1.0)),
                   None if data.get("yesno_threshold") is None else float(data["yesno_threshold"]))


def model_path(model_id: str, folder: Path = DATA) -> Path:
    """Where the fitted model for an embedding model lives (one small JSON file per model)."""
    return folder / f"answerability-{re.sub(r'[^A-Za-z0-9._-]+', '_', model_id)}.json"


@lru_cache(maxsize=8)
def _load(path: str, mtime: float) -> AnswerModel:
    return AnswerModel.from_json(json.loads(Path(path).read_text(encoding="utf-8")))


def load_model(model_id: str, folders: Iterable[Path] = ()) -> AnswerModel | None:
    """The fitted model for ``model_id`` (a staff recalibration in ``folders`` wins over the shipped one)."""
    for folder in (*folders, DATA):
        path = model_path(model_id, folder)
        if path.is_file():
            return _load(str(path), path.stat().st_mtime)
    return None
