"""Questions as citizens type them, written blind: answer-model records from ``benchmarks/data/citizen_questions.jsonl``.

The generated questions and their paraphrases (``answerability_data.py``) start from one sentence and ask for
its answer; residents start from their situation (养狗要办证吗？ 厂里停产了工资还发不发？ 开黑车罚多少？). Helper
sessions wrote these questions from the documents alone, without seeing kb-bot's code, tests or other question
sets: short and colloquial, in everyday words, each answerable one with the short strings of its article that
carry the answer (checked to occur there), each unanswerable one asking a detail no document gives (a fee, a
phone number, an office's address, a figure left to a department), checked against every document.

A line: ``{"question", "expect": [...], "doc": "<regulation or article file>", "article"?: "第X条", "why"?,
"set": "train" | "blind" | "open-yesno"}``. ``set: train`` lines were written for training, over the train-split
regulations only; ``set: blind`` lines are the first set, written over all documents to measure the transfer gap;
their lines on a train-split regulation train too, the rest validate (the seed articles and the validation-split
regulations) or test (the test-split regulations), by the same document split as everything else. ``set:
open-yesno`` lines (source ``citizen-open``) are yes/no questions on the documents' topics about situations no
document rules on (checked by grep with the legal synonyms, articles read around each hit): the set the yes/no
answer threshold is chosen on (``fit_answerability.py``).

Records (source ``citizen``): answerable questions against all regulations and the seed articles (a candidate
is labelled when it comes from the question's article, or from its regulation when no article is given, and
holds an expected string); unanswerable ones as ``near`` against the same corpus (nothing is held out: the
documents never say it); every question as ``off`` against the CMRC paragraphs.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from kb_bot.answering.followup import grams
from kb_bot.staff.report import jaccard

DATA = Path(__file__).resolve().parent / "data" / "citizen_questions.jsonl"
REGULATIONS = Path(__file__).resolve().parent.parent / "documents" / "regulations"
SEED_GROUP = "seed-articles"


def load(path: Path = DATA) -> list[dict]:
    """The citizen questions as data-set questions (``question``, ``answers``, ``group``, ``split`` ...)."""
    from answerability_data import regulation_articles, split_of

    # the document split of the generated questions: the first half of the regulations by hash, the other half
    # (answerability_data's extra training questions) train only
    first_half = {a["regulation"] for a in regulation_articles(offset=0)}
    questions = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        item = json.loads(line)
        stem = item["doc"].rsplit(".", 1)[0]
        regulation = (REGULATIONS / item["doc"]).is_file()
        group = f"reg:{stem}" if regulation else SEED_GROUP
        split = (split_of(group) if stem in first_half else "train") if regulation else "validation"
        if item.get("set") == "train" and split != "train":
            raise ValueError(f"{path}:{number}: a line written for training names {item['doc']}, "
                             f"a {split}-split document; move it to set 'blind' or drop it")
        source = "citizen-open" if item.get("set") == "open-yesno" else "citizen"
        questions.append({"source": source, "question": item["question"], "answers": list(item["expect"]),
                          "regulation": stem if regulation else None, "article": item.get("article"),
                          "doc": None if regulation else item["doc"], "group": group, "split": split})
    return questions


def article_files(folder: Path) -> dict[tuple[str, str], str]:
    """(regulation stem, 第X条) -> the file holding that article in a corpus of one file per article
    (``answerability_data.regulation_corpora`` names them ``<stem>-<number>.txt``, first line ``<title> 第X条``)."""
    files = {}
    for path in folder.glob("*.txt"):
        match = re.match(r"(.+)-\d{4}$", path.stem)
        first = path.read_text(encoding="utf-8").split("\n", 1)[0]
        if match:
            files[(match.group(1), first.rsplit(" ", 1)[-1])] = path.name
    return files


def with_documents(questions: list[dict], folder: Path) -> list[dict]:
    """Each regulation question's ``doc``: the file of its article in ``folder`` (one file per article); for an
    answerable question whose article is not named or not found there, the first of its regulation's articles
    holding an expected string (an expected 二百元 must not label another regulation's penalty)."""
    files = article_files(folder)
    texts = {name: (folder / name).read_text(encoding="utf-8") for name in files.values()}
    placed = []
    for q in questions:
        if q["regulation"]:
            doc = files.get((q["regulation"], q["article"]))
            if doc is None and q["answers"]:
                doc = next((name for (stem, _), name in sorted(files.items())
                            if stem == q["regulation"] and any(a in texts[name] for a in q["answers"])), None)
            q = dict(q, doc=doc or f"{q['regulation']}-none")
        placed.append(q)
    return placed


def _plain(question: str) -> str:
    """A question's characters without punctuation or spaces (失业金一个月给多少？ and 失业金一个月给多少 are one)."""
    return re.sub(r"[\W_]+", "", question).lower()


#: Two questions on one document sharing this share of their character pairs (Jaccard) ask the same thing in nearly
#: the same words (公厕晚上开门吗？ / 公厕晚上开门不？, 开洗车店，用水上有啥要求 / 开洗车店用水有啥要求).
TWIN_OVERLAP = 0.6


def blind_twins(path: Path = DATA) -> set[str]:
    """The blind questions and every other line's question that is their twin — the same once punctuation is
    dropped, or on the same document with ``TWIN_OVERLAP`` of its character pairs: none of them may be fitted on,
    or the blind set would measure questions the model has seen."""
    items = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    blind = [item for item in items if item.get("set") == "blind"]
    plain = {_plain(item["question"]) for item in blind}
    pairs = [(item.get("doc"), grams(_plain(item["question"]))) for item in blind]
    out = {item["question"] for item in blind}
    for item in items:
        if item.get("set") == "blind":
            continue
        text = _plain(item["question"])
        mine = grams(text)
        if text in plain or any(doc == item.get("doc") and jaccard(mine, other) >= TWIN_OVERLAP for doc, other in pairs):
            out.add(item["question"])
    return out

