#!/usr/bin/env python
"""Training and test data for the answerability models, built by hold-out, not labelled by hand.

Three kinds of question, each retrieved through kb-bot itself and turned into the features of
``kb_bot.answering.answerability`` (one record per question, with a label for every candidate sentence):

* **answerable** — CMRC2018 trial questions against their own paragraphs (gold answers from the
  data set), and questions made from regulation articles against all regulations: cloze questions
  (an amount, a period or an office replaced by 多少 / 哪个部门) and yes/no questions from a rule
  (用人单位应当… -> 用人单位要…吗？), the kind citizens ask most;
* **near-domain unanswerable** — the same questions against a corpus where only the answer is
  gone: CMRC paragraphs without the sentences that hold the answers (the rest of the paragraph,
  about the same subject, stays), and the regulations without the held-out articles (the other
  articles of the same regulation stay). This is "on topic, but the documents never say";
* **off-topic** — CMRC questions against the policy documents, regulation questions against CMRC.

Every question also comes once more in a citizen-style variant (``benchmarks/spoken_questions.py``:
the few most telling words, synonyms the way citizens say them, a colloquial frame), with the
same answer and hold-out status, as sources ``cmrc-spoken`` and ``regulation-spoken``: the written
questions copy their answer's wording, which no citizen does.

And every question comes again as a **paraphrase** (``benchmarks/data/paraphrases.jsonl``, sources
``cmrc-para`` and ``regulation-para``): written one by one the way a citizen types, short, in
everyday words and without the source sentence's phrasing, asking for the same answer; train
questions three times, in three shapes. The labels stay the data set's and the hold-out's; only the wording
is new. This is the data the spoken rules only imitate, and the one that shows the transfer gap:
by the model fitted without them, paraphrased test questions were answered with their fact 23% (CMRC)
and 8% (regulations) of the time, against 41% and 71% for their machine-made originals.

The regulation questions come once more **in English** (``benchmarks/data/english_questions.jsonl``, source
``regulation-en``): every validation and test question and 800 train questions, written by helper sessions the
way an English-speaking resident types (short, everyday words, no Chinese), same answer and labels. Over the
Chinese documents they share words only through the English synonym table (``kb_bot/data/synonyms-en.txt``).

The other half of the regulations (not embedded above) gives more questions of the same kinds, for
training only (against all regulations, and without their held-out articles): the validation and test
sets stay the first half's.

Every record carries its document group (CMRC article, regulation) and its split
(train / validation / test by a hash of the group), so fitting never sees a test document.
The seed and regulation question sets in ``tests/data`` are never used here.

    .venv/bin/python benchmarks/answerability_data.py        # ~20 min on 2 cores the first time (embedding)

Writes ``benchmarks/.work/answerability/records.pkl``; re-runs reuse the embedding cache.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import pickle
import random
import re
import shutil
import sys
import time
from collections import Counter
from functools import lru_cache
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

import kb_bot.store  # noqa: E402
from kb_bot.answering.answerability import WHOLE_ARTICLE_CHARS  # noqa: E402
from kb_bot.answering.calibration import make_records  # noqa: E402
from kb_bot.engine import KnowledgeBase  # noqa: E402
from kb_bot.settings import load_settings  # noqa: E402
import citizen_questions  # noqa: E402
from spoken_questions import spoken_variant  # noqa: E402

WORK = REPO / "benchmarks" / ".work" / "answerability"
CMRC = REPO.parent / "shared" / "benchmarks" / "cmrc2018_trial.json"
REGULATIONS = REPO.parent / "shared" / "corpora" / "zhengzhou-regulations"
SEED_DOCS = REPO / "documents"
PARAPHRASES = REPO / "benchmarks" / "data" / "paraphrases.jsonl"
ENGLISH = REPO / "benchmarks" / "data" / "english_questions.jsonl"
TOP_K = 5


def split_of(group: str) -> str:
    """train / validation / test, 60 / 20 / 20, by a stable hash of the document group."""
    bucket = int(hashlib.sha1(group.encode("utf-8")).hexdigest()[:8], 16) % 10
    return "train" if bucket < 6 else "validation" if bucket < 8 else "test"


# --------------------------------------------------------------------------- CMRC

_SENTENCE_END = re.compile(r"[。！？!?；;]")


def sentence_span(text: str, position: int) -> tuple[int, int]:
    """The sentence of ``text`` around ``position``."""
    start = max((m.end() for m in _SENTENCE_END.finditer(text, 0, position)), default=0)
    match = _SENTENCE_END.search(text, position)
    return start, match.end() if match else len(text)


_LOOSE = re.compile(r"[\s，,。．.；;：:！!？?、“”\"'（）()]+")


def _plain(text: str) -> str:
    """Text without spaces and punctuation, for telling whether a wording occurs anywhere in a corpus."""
    return _LOOSE.sub("", text)


def plain_corpus(folder: Path) -> str:
    """Every ``.txt`` of ``folder``, ``_plain``-ed and kept apart (for ``still_there``)."""
    return "\x00".join(_plain(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.txt")))


def still_there(answer: str, corpus: str) -> bool:
    """Does the kept corpus (``_plain``-ed) still say ``answer``, word for word? A long answer also counts as
    still there when one of its sentences of ten characters or more is (CMRC articles repeat sentences across
    paragraphs; regulations repeat provisions across articles). Answers shorter than six characters are never
    "still there": a date or a count recurs elsewhere without answering. A near-domain question whose answer is still
    in the corpus is answerable, and labelling it unanswerable teaches the model to doubt real answers."""
    plain = _plain(answer)
    if len(plain) >= 6 and plain in corpus:  # a short answer (1965年, 二次) recurs without answering
        return True
    pieces = [_plain(p) for p in re.split(r"[。！？；;!?]", answer)]
    return any(len(p) >= 10 and p in corpus for p in pieces) if len(plain) >= 20 else False


def cmrc_corpora(folder_full: Path, folder_redacted: Path) -> list[dict]:
    """Write CMRC paragraphs (title line + text) twice: whole, and without every answer sentence."""
    data = json.loads(CMRC.read_text(encoding="utf-8"))
    questions, redacted_of = [], {}
    for folder in (folder_full, folder_redacted):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
    for article in data["data"]:
        for paragraph in article["paragraphs"]:
            context = paragraph["context"]
            spans = set()
            for qa in paragraph["qas"]:
                for answer in qa["answers"]:
                    at = answer.get("answer_start", -1)
                    at = at if 0 <= at < len(context) and context[at:].startswith(answer["text"]) else context.find(answer["text"])
                    if at >= 0:
                        spans.add(sentence_span(context, at))
            redacted = "".join(ch for i, ch in enumerate(context) if not any(s <= i < e for s, e in spans))
            title = article.get("title") or paragraph["id"]
            (folder_full / f"{paragraph['id']}.txt").write_text(f"{title}\n\n{context}", encoding="utf-8")
            (folder_redacted / f"{paragraph['id']}.txt").write_text(f"{title}\n\n{redacted}", encoding="utf-8")
            redacted_of[f"{paragraph['id']}.txt"] = redacted
            for qa in paragraph["qas"]:
                answers = [a["text"] for a in qa["answers"] if a["text"]]
                questions.append({"source": "cmrc", "group": f"cmrc:{article['id']}", "doc": f"{paragraph['id']}.txt",
                                  "question": qa["question"], "answers": answers})
    # Near-domain only when no paragraph of the redacted corpus still gives the answer (not just its own).
    kept = plain_corpus(folder_redacted)
    for q in questions:
        q["gone"] = not any(a in redacted_of[q["doc"]] or still_there(a, kept) for a in q["answers"])
    return questions


# --------------------------------------------------------------------------- regulations

_ARTICLE = re.compile(r"^(第[一二三四五六七八九十百零〇]+条)\s*(.*)$")
_NUMBER = "[0-9一二三四五六七八九十百千万两半〇零]"
_SLOTS = (
    (re.compile(rf"({_NUMBER}+)(个工作日|日|天|个月|年|小时|周)"), "多少{unit}"),
    (re.compile(rf"({_NUMBER}+(?:万|千)?)(元|倍|%|％|人|次|平方米|米|公里|户)"), "多少{unit}"),
    (re.compile(r"由(.{2,14}?)(负责|组织|统一|主管|会同|审批|决定|核发|受理)"), "由哪个部门{unit}"),
)


def regulation_articles(every: int = 2, offset: int = 0) -> list[dict]:
    """Every article of every ``every``-th regulation from ``offset``: title, article number, text.

    Half the regulations (offset 0) make the train / validation / test questions; the other half (offset 1)
    more train questions only, so the validation and test sets stay what they were.
    """
    articles = []
    paths = [p for p in sorted(REGULATIONS.glob("*.md")) if p.name != "NOTICE.md"]
    for path in paths[offset::every]:
        lines = path.read_text(encoding="utf-8").splitlines()
        title = next((l[2:].strip() for l in lines if l.startswith("# ")), path.stem)
        current = None
        for line in lines:
            match = _ARTICLE.match(line.strip())
            if match:
                current = {"regulation": path.stem, "title": title, "article": match.group(1), "text": line.strip()}
                articles.append(current)
            elif current is not None and line.strip() and not line.startswith("#"):
                current["text"] += "\n" + line.strip()
            elif line.startswith("#"):
                current = None
    return articles


def cloze(article: dict, rng: random.Random) -> dict | None:
    """A question from one sentence of an article: its amount, period or office replaced by a question word."""
    for sentence in _sentences(article, rng):
        for pattern, replacement in _SLOTS:
            match = pattern.search(sentence)
            if not match:
                continue
            unit = match.group(2)
            question = sentence[: match.start()] + replacement.format(unit=unit) + sentence[match.end():]
            question = re.sub(r"[。；，,]$", "", question.strip())
            # Keep the clause with the gap and the one before it: a question, not a copy of the article.
            clauses = re.split(r"(?<=[，,：:])", question)
            gap = next(i for i, c in enumerate(clauses) if "多少" in c or "哪个部门" in c)
            question = "".join(clauses[max(0, gap - 1) : gap + 1]).strip("，,：: ")
            if len(question) < 8:
                continue
            prefix = rng.choice(["", "", "请问", "我想问一下，", "想知道"])
            answer = match.group(1) + unit if unit else match.group(1)
            wording = question.replace(replacement.format(unit=unit), match.group(0), 1)  # the article's own words
            return {"question": f"{prefix}{question}？", "answers": [answer], "wording": wording}
    return None


_MODAL = re.compile(r"(应当|可以|不得|有权|必须|禁止)")


def yes_no(article: dict, rng: random.Random) -> dict | None:
    """A yes/no question from a rule of an article (用人单位应当… -> 用人单位要…吗？), as citizens ask whether
    something is allowed or required; the rule's clause is the answer."""
    for sentence in _sentences(article, rng):
        clauses = [c for c in re.split(r"[，,；;。]", sentence) if c.strip()]
        for i, clause in enumerate(clauses):
            match = _MODAL.search(clause)
            if not match or len(clause) < 8:
                continue
            spoken = {"应当": "要", "必须": "必须", "可以": "可以", "不得": "能", "有权": "有权", "禁止": "能"}[match.group(1)]
            subject = clauses[i - 1] + "，" if i and len(clauses[i - 1]) <= 20 and rng.random() < 0.5 else ""
            question = subject + clause[: match.start()] + spoken + clause[match.end():]
            ending = rng.choice(["吗？", "吗", "吗？", "不？"])
            return {"question": f"{rng.choice(['', '', '请问', '想问下'])}{question.strip()}{ending}",
                    "answers": [clause.strip()], "wording": clause.strip()}
    return None


def _sentences(article: dict, rng: random.Random) -> list[str]:
    body = article["text"][len(article["article"]):]
    sentences = [s for s in re.split(r"(?<=[。；])", body) if 8 <= len(s) <= 120]
    rng.shuffle(sentences)
    return sentences


def regulation_corpora(folder_full: Path, folder_kept: Path, seed: int = 7, offset: int = 0,
                       also_kept: tuple[Path, ...] = ()) -> list[dict]:
    """Regulation articles as documents (all, and without the held-out half); cloze questions on them.
    ``also_kept``: other kept articles the near-domain questions are asked against too."""
    rng = random.Random(seed)
    for folder in (folder_full, folder_kept):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
    questions = []
    for number, article in enumerate(regulation_articles(offset=offset)):
        held_out = rng.random() < 0.5
        name = f"{article['regulation']}-{number:04d}.txt"
        text = f"{article['title']} {article['article']}\n\n{article['text']}"
        (folder_full / name).write_text(text, encoding="utf-8")
        if not held_out:
            (folder_kept / name).write_text(text, encoding="utf-8")
        for make in (cloze, yes_no):
            made = make(article, rng)
            if made:
                questions.append({"source": "regulation", "group": f"reg:{article['regulation']}", "doc": name,
                                  "gone": held_out, **made})
    # Held out means unanswerable only when no kept article repeats the rule word for word (penalty clauses
    # such as 逾期不改正的，处以五千元罚款 recur across articles and regulations).
    kept = "\x00".join(plain_corpus(f) for f in (folder_kept, *also_kept))
    restates = Restatements(folder_kept, *also_kept)
    for q in questions:
        wording = q.pop("wording")
        q["gone"] = q["gone"] and not still_there(wording, kept) and not restates(wording, q["answers"][0])
    return questions


#: Share of a held-out rule's character pairs another sentence must hold to restate it: 广告协会、商会等行业组织应当加强行业
#: 自律 restates 行业协会商会应当加强行业自律 (0.62), 机动车驾驶人在城市禁鸣区内鸣喇叭的 (fined) answers whether 在城市禁鸣区内禁止
#: 机动车鸣喇叭 (0.71), while articles of one regulation on neighbouring duties share under half. Set once, from
#: those two pairs and the rule's wording, not fitted.
RESTATED = 0.6


class Restatements:
    """Sentences of the kept regulation articles, to tell whether one of them restates a held-out rule in other
    words (regulations repeat duties across articles and across regulations, rarely word for word)."""

    def __init__(self, *folders: Path):
        self.sentences = [_plain(s) for folder in folders for p in sorted(folder.glob("*.txt"))
                          for s in re.split(r"[。；;\n]", p.read_text(encoding="utf-8")) if len(_plain(s)) >= 6]
        self.index: dict[str, list[int]] = {}
        for i, sentence in enumerate(self.sentences):
            for pair in {sentence[j : j + 2] for j in range(len(sentence) - 1)}:
                self.index.setdefault(pair, []).append(i)

    def __call__(self, wording: str, answer: str) -> bool:
        """Does a kept sentence hold RESTATED of ``wording``'s character pairs and the answer itself?"""
        plain, answer = _plain(wording), _plain(answer)
        pairs = {plain[j : j + 2] for j in range(len(plain) - 1)}
        if not pairs:
            return False
        hits = Counter(i for pair in pairs for i in self.index.get(pair, ()))
        return any(n / len(pairs) >= RESTATED and (answer in self.sentences[i] or answer == plain)
                   for i, n in hits.items())


# --------------------------------------------------------------------------- features


def open_kb(documents: Path, name: str, cache: Path) -> KnowledgeBase:
    """A built knowledge base over ``documents`` whose embedding cache is shared by all corpora."""
    index = WORK / f"index-{name}"
    index.mkdir(parents=True, exist_ok=True)
    if not (index / "cache").exists():
        os.symlink(cache, index / "cache")
    kb = KnowledgeBase(load_settings({"documents": documents, "index": index}))
    started = time.perf_counter()
    report = kb.build(progress=True)
    print(f"[{name}] {report.chunks if hasattr(report, 'chunks') else ''} built in {time.perf_counter() - started:.0f} s",
          file=sys.stderr, flush=True)
    return kb


def query_vectors(embedder, questions: list[str]):
    """Question vectors, cached by text in the work folder (re-runs then embed only new questions)."""
    import numpy as np

    path = WORK / "query-vectors.npz"
    cached = {}
    if path.is_file():
        with np.load(path) as data:
            cached = dict(zip(data["texts"].tolist(), data["vectors"]))
    missing = [q for q in dict.fromkeys(questions) if q not in cached]
    if missing:
        cached.update(zip(missing, embedder.embed(missing)))
        np.savez(path, texts=np.asarray(list(cached)), vectors=np.vstack(list(cached.values())))
    return np.vstack([cached[q] for q in questions])


_ARTICLE_FILE = re.compile(r"-\d{4}\.txt$")


def whole_article(chunk) -> bool:
    """The app quotes a short regulation article whole (``answerability.quoted_whole``); here every article is a
    document of its own (``regulation_corpora``), without the legal metadata the app's loader reads."""
    return bool(_ARTICLE_FILE.search(chunk.doc)) and len(chunk.text) <= WHOLE_ARTICLE_CHARS


def question_key(question: dict) -> str:
    """What a paraphrase is filed under: the corpus, the question's document and its machine wording."""
    return f"{question['source'].split('-')[0].replace('regulation', 'reg')}:{question['doc']}:{question['question']}"


def paraphrased(questions: list[dict], source: str, path: Path | None = None, field: str = "paraphrase") -> list[dict]:
    """One question per paraphrase of each question (same answer, document and hold-out status); a train
    question may have three, written in different shapes (a plain question; a few words or the asker's
    situation; loose chat). With ``ENGLISH, "english"``: the question as an English speaker types it."""
    table = _paraphrases(path or PARAPHRASES, field)
    return [dict(q, question=text, source=source) for q in questions for text in table.get(question_key(q), ()) if text]


@lru_cache(maxsize=4)
def _paraphrases(path: Path, field: str) -> dict[str, list[str]]:
    """Question key -> its paraphrases, read once per file."""
    table: dict[str, list[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            item = json.loads(line)
            table.setdefault(item["key"], []).append(item[field].strip())
    return table


def records_for(kb: KnowledgeBase, questions: list[dict], kind: str, vectors) -> list[dict]:
    """Retrieve every question through ``kb`` and keep its evidence and per-candidate labels."""
    for q in questions:
        q.setdefault("split", split_of(q["group"]))  # the extra regulations' questions are train only
    return make_records(questions, kb.retriever, kb.gram_stats(), kb.synonyms(), kind, vectors, TOP_K, whole_article)


def spoken(questions: list[dict], source: str, rng: random.Random) -> list[dict]:
    """One citizen-style variant of each question (``spoken_questions.spoken_variant``), same labels."""
    return [dict(q, question=spoken_variant(q["question"], rng), source=source) for q in questions]


def held_out_records(embedder, questions: list[dict], answered_in: KnowledgeBase, near_in: KnowledgeBase,
                     off_in: KnowledgeBase) -> list[dict]:
    """Every question as answerable against ``answered_in``, those whose answer is gone as near-domain against
    ``near_in`` (the corpus without it), and every one as off-topic against ``off_in``."""
    if not questions:
        return []
    vectors = query_vectors(embedder, [q["question"] for q in questions])
    gone = [i for i, q in enumerate(questions) if q["gone"]]
    return (records_for(answered_in, questions, "answerable", vectors)
            + records_for(near_in, [questions[i] for i in gone], "near", vectors[gone])
            + records_for(off_in, questions, "off", vectors))


def citizen_records(embedder, policy_all: KnowledgeBase, off_in: KnowledgeBase) -> list[dict]:
    """Questions written blind the way citizens type (``citizen_questions.py``): answerable ones against all
    regulations and the seed articles, unanswerable ones as near-domain against the same, all as off-topic
    against CMRC."""
    questions = citizen_questions.with_documents(citizen_questions.load(), Path(policy_all.settings.documents))
    vectors = query_vectors(embedder, [q["question"] for q in questions])
    answerable = [i for i, q in enumerate(questions) if q["answers"]]
    unanswerable = [i for i, q in enumerate(questions) if not q["answers"]]
    return (records_for(policy_all, [questions[i] for i in answerable], "answerable", vectors[answerable])
            + records_for(policy_all, [questions[i] for i in unanswerable], "near", vectors[unanswerable])
            + records_for(off_in, questions, "off", vectors))


def main() -> int:
    # One embedding cache serves all five corpora (they share most passages): a build must not
    # compact away the other corpora's vectors.
    kb_bot.store.EmbeddingCache.compact = lambda self, keep: None
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    cache = WORK / "shared-cache"
    cache.mkdir(exist_ok=True)

    cmrc_q = cmrc_corpora(WORK / "docs-cmrc", WORK / "docs-cmrc-redacted")
    reg_q = regulation_corpora(WORK / "docs-reg", WORK / "docs-reg-kept")
    # The other half of the regulations: more train questions (asked against all regulations; near-domain
    # against every kept article), never validation or test, so those sets stay comparable across rounds.
    extra_q = regulation_corpora(WORK / "docs-reg-extra", WORK / "docs-reg-extra-kept", seed=8, offset=1,
                                 also_kept=(WORK / "docs-reg-kept",))
    for q in extra_q:
        q["split"] = "train"
    policy, policy_all, kept_all = WORK / "docs-policy", WORK / "docs-policy-all", WORK / "docs-reg-kept-all"
    for folder, parts in ((policy, ("docs-reg",)), (policy_all, ("docs-reg", "docs-reg-extra")),
                          (kept_all, ("docs-reg-kept", "docs-reg-extra-kept"))):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
        for part in parts:
            for path in (WORK / part).glob("*.txt"):
                shutil.copy(path, folder / path.name)
    for path in SEED_DOCS.glob("*.md"):  # the regulations plus the seed articles: the product's kind of corpus
        for folder in (policy, policy_all):
            shutil.copy(path, folder / path.name)

    kbs = {name: open_kb(folder, name, cache) for name, folder in (
        ("cmrc", WORK / "docs-cmrc"), ("cmrc-redacted", WORK / "docs-cmrc-redacted"),
        ("policy", policy), ("reg-kept", WORK / "docs-reg-kept"), ("policy-all", policy_all),
        ("reg-kept-all", kept_all))}
    embedder = kbs["cmrc"].retriever
    records = []
    written = cmrc_q, reg_q, extra_q
    for style in ("written", "spoken", "paraphrase", "english"):
        if style == "spoken":  # one citizen-style variant of every question (benchmarks/spoken_questions.py)
            rng = random.Random(11)
            cmrc_q, reg_q = spoken(written[0], "cmrc-spoken", rng), spoken(written[1], "regulation-spoken", rng)
            extra_q = spoken(written[2], "regulation-spoken", random.Random(12))
        elif style == "paraphrase":  # written the way citizens type (benchmarks/data/paraphrases.jsonl)
            cmrc_q, reg_q = paraphrased(written[0], "cmrc-para"), paraphrased(written[1], "regulation-para")
            extra_q = paraphrased(written[2], "regulation-para")
        elif style == "english":  # regulation questions as English speakers type them (benchmarks/data/english_questions.jsonl)
            cmrc_q, reg_q = [], paraphrased(written[1], "regulation-en", ENGLISH, "english")
            extra_q = paraphrased(written[2], "regulation-en", ENGLISH, "english")
        records += held_out_records(embedder, extra_q, kbs["policy-all"], kbs["reg-kept-all"], kbs["cmrc"])
        records += held_out_records(embedder, cmrc_q, kbs["cmrc"], kbs["cmrc-redacted"], kbs["policy"])
        records += held_out_records(embedder, reg_q, kbs["policy"], kbs["reg-kept"], kbs["cmrc"])
    if citizen_questions.DATA.is_file():
        records += citizen_records(embedder, kbs["policy-all"], kbs["cmrc"])

    with (WORK / "records.pkl").open("wb") as handle:
        pickle.dump(records, handle)
    counts = {}
    for r in records:
        key = f"{r['source']}/{r['kind']}/{r['split']}"
        counts[key] = counts.get(key, 0) + 1
    print(json.dumps(counts, indent=1, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
