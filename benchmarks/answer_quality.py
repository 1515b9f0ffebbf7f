#!/usr/bin/env python
"""Answer quality on the hand-written test sets: answered / related / not found, before and after.

The question sets in ``tests/data`` and the citizen questions were never used for fitting the shipped model
(``benchmarks/fit_answerability.py`` fits on hold-out data only; with ``--with-citizen`` it would fit on the
``citizen-written`` set too, whose rows would then be in-sample). Each set is retrieved once; the old decision (one cosine threshold,
bigram sentence scoring) and the fitted models then decide on the same passages, so the table
shows what the answer step changed. A question counts as answered with the fact when the quoted
sentences hold one of its expected strings (from the expected document, when the set names one).

    .venv/bin/python benchmarks/answer_quality.py            # writes benchmarks/answer_quality.md

Corpora: the three seed articles alone (what the seed set was written for) and the shipped
documents (seed articles + regulations), for the seed and the regulation questions, and for the questions
written blind the way citizens type (``benchmarks/data/citizen_questions.jsonl``: the first blind set and the
larger set written for training, which the shipped model was not fitted on) and the off-topic ones
(``benchmarks/data/off_topic_questions.jsonl``).
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from kb_bot.answering.answer_model import load_model  # noqa: E402
from kb_bot.answering.calibration import make_records, outcomes, table  # noqa: E402
from kb_bot.answering.fitting import _score, quote_answers  # noqa: E402
from kb_bot.engine import KnowledgeBase  # noqa: E402
from kb_bot.answering.evaluation import load_questions  # noqa: E402
from kb_bot.settings import load_settings  # noqa: E402

WORK = REPO / "benchmarks" / ".work" / "answer_quality"
SETS = {"seed": REPO / "tests/data/seed_questions.jsonl", "regulations": REPO / "tests/data/regulation_questions.jsonl"}
CITIZEN = REPO / "benchmarks" / "data" / "citizen_questions.jsonl"
OFF_TOPIC = REPO / "benchmarks" / "data" / "off_topic_questions.jsonl"


def citizen_sets() -> dict[str, Path]:
    """The citizen questions and the off-topic ones as question files, each split by ``set`` (the first blind set;
    the larger one written for training), with ``doc`` as a file stem like the other sets."""
    paths = {}
    for source, prefix in ((CITIZEN, "citizen"), (OFF_TOPIC, "off-topic")):
        lines = [json.loads(line) for line in source.read_text(encoding="utf-8").splitlines() if line.strip()]
        for wanted, suffix in (("blind", "blind"), ("train", "written")):
            path = WORK / f"{prefix}-{suffix}.jsonl"
            path.write_text("".join(json.dumps(dict(item, doc=item.get("doc", "").rsplit(".", 1)[0] or None),
                                               ensure_ascii=False) + "\n"
                                    for item in lines if item.get("set") == wanted), encoding="utf-8")
            paths[f"{prefix}-{suffix}"] = path
    return paths


def records(kb: KnowledgeBase, name: str, path: Path) -> list[dict]:
    """Retrieval evidence for one labelled set (unanswerable questions as near-domain)."""
    questions = load_questions(path)
    items = [{"question": q.question, "answers": list(q.expect), "doc": q.doc, "source": name} for q in questions]
    vectors = kb.retriever.embed([q.question for q in questions])
    result = []
    for kind, keep in (("answerable", True), ("near", False)):
        chosen = [i for i, q in enumerate(questions) if q.answerable == keep]
        if chosen:
            result += make_records([items[i] for i in chosen], kb.retriever, kb.gram_stats(), kb.synonyms(), kind,
                                   vectors[chosen])
    return result


def main() -> int:
    WORK.mkdir(parents=True, exist_ok=True)
    seed_docs = WORK / "seed-docs"
    shutil.rmtree(seed_docs, ignore_errors=True)
    shutil.copytree(REPO / "documents", seed_docs, ignore=shutil.ignore_patterns("regulations", "faq", ".*"))
    citizen = citizen_sets()
    SETS.update(citizen)
    corpora = {"seed articles": (seed_docs, ["seed"]),
               "shipped documents": (REPO / "documents", ["seed", "regulations", *citizen])}
    lines = ["# Answer quality on the hand-written test sets", "",
             "Never used for fitting the shipped model. `answerable` rows: share answered, answered with the expected "
             "fact, related, not found; `near` rows: questions the documents do not answer (answered is the error).",
             ""]
    for corpus, (documents, sets) in corpora.items():
        slug = corpus.replace(" ", "-")
        kb = KnowledgeBase(load_settings({"documents": documents, "index": WORK / f"index-{slug}"}))
        started = time.perf_counter()
        kb.build()
        print(f"[{corpus}] index ready in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        model = load_model(kb.retriever.index.manifest.model_id)
        evidence = [r for name in sets for r in records(kb, name, SETS[name])]
        for label, decision in (("before", None), ("after", model)):
            lines += [f"## {corpus}: {label}", "", *table(outcomes(evidence, decision)), ""]
        for name in sets:  # what the reply quotes, whatever its status (a related reply quotes the closest sentences)
            answerable = [r for r in evidence if r["source"] == name and r["kind"] == "answerable"]
            held = sum(quote_answers(r, _score(r, model)[2]) for r in answerable if len(r["ranker_rows"]))
            lines += [f"{corpus}, {name}: the quoted sentences hold the expected fact for {held} of {len(answerable)} "
                      "answerable questions.", ""]
    out = REPO / "benchmarks" / "answer_quality.md"
    out.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
