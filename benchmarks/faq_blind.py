#!/usr/bin/env python
"""Staff answers on questions written blind: do citizens' paraphrases get the answer, and near misses not?

``benchmarks/data/faq_blind.jsonl`` holds two sets written by helper sessions that never saw the matching code
(fourteenth session; ``set``: blind-1, blind-2): 14 staff answers each (two wordings as staff write them), four
paraphrases per answer the way citizens type, four near misses per answer (same service, another thing asked:
where for when, another card, another office) and 40 other questions. The entries are added to a copy of the
shipped documents, indexed with the bundled model, and every question goes through ``faq_match.match`` as the
app asks it. blind-1 was read while the intent rule (``faq_match.same_intent``) was written; blind-2 was not.

    .venv/bin/python benchmarks/faq_blind.py      # about 1 minute
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kb_bot.answering import faq, faq_match  # noqa: E402
from kb_bot.engine import KnowledgeBase  # noqa: E402
from kb_bot.settings import Settings  # noqa: E402

DATA = ROOT / "benchmarks" / "data" / "faq_blind.jsonl"


def run(rows: list[dict]) -> dict[str, object]:
    """Matched paraphrases (to their own entry / to another), near misses and other questions matched."""
    entries = [r for r in rows if "entry" in r]
    others = [q for r in rows if "others" in r for q in r["others"]]
    with tempfile.TemporaryDirectory() as folder:
        documents = Path(folder) / "documents"
        shutil.copytree(ROOT / "documents", documents, ignore=shutil.ignore_patterns("faq"))
        paths = [faq.save_entry(documents, e["wordings"], e["answer"]).path for e in entries]
        kb = KnowledgeBase(Settings(documents=documents, index=Path(folder) / "index"))
        kb.build(full=True)

        def matched(question: str) -> str | None:
            """The path of the staff answer ``question`` gets, or None."""
            found = faq_match.match(kb, [question])
            return found[0].citations[0].doc if found else None

        own = wrong = 0
        for path, entry in zip(paths, entries):
            for question in entry["paraphrases"]:
                got = matched(question)
                own, wrong = own + (got == path), wrong + (got is not None and got != path)
        near = [q for e in entries for q in e["near_misses"] if matched(q)]
        other = [q for q in others if matched(q)]
    return {"paraphrases": sum(len(e["paraphrases"]) for e in entries), "own": own, "wrong": wrong,
            "near_misses": sum(len(e["near_misses"]) for e in entries), "near": near,
            "others": len(others), "other": other}


def main() -> None:
    """Print each blind set's counts."""
    rows = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line.strip()]
    for name in sorted({r["set"] for r in rows}):
        result = run([r for r in rows if r["set"] == name])
        print(f"{name}: paraphrases answered {result['own']}/{result['paraphrases']} (another entry's answer "
              f"{result['wrong']}); near misses answered {len(result['near'])}/{result['near_misses']} "
              f"{result['near']}; other questions {len(result['other'])}/{result['others']} {result['other']}")


if __name__ == "__main__":
    main()
