#!/usr/bin/env python
"""Follow-up questions in conversations, on the shipped documents: how often the reply holds the expected fact.

Three sets of short colloquial conversations (a first question naming its topic, then follow-ups that need it):

* ``tests/data/dialogues.jsonl`` — the set the conversation rules were developed on in earlier rounds (a test
  in ``tests/test_conversation.py`` holds its floor);
* ``benchmarks/data/dialogues_dev.jsonl`` — 30 conversations written by a helper session without seeing the
  others, used to develop this round's change (the development set);
* ``benchmarks/data/dialogues_heldout.jsonl`` — 30 more, written the same way, run once before and once after
  the change and never used to choose anything (the held-out set);
* ``benchmarks/data/dialogues_dev2.jsonl`` — 40 conversations written in the sixteenth session by a helper that saw
  neither the code nor the other sets (every expected string checked against its document; about half the
  follow-ups carry no cue word), run once on the session's starting code, then used to develop its change (the
  second development set).

A follow-up with expected strings counts when one of them is in the reply or in its first cited passage (the
reader sees both), and as answered with the fact when the reply is ``answered`` and its text holds one. A
follow-up asking what the documents never give (``expect: []``) counts when it is not ``answered``.

    .venv/bin/python benchmarks/dialogue_quality.py         # writes benchmarks/dialogue_quality.md
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from kb_bot.answering.conversation import Conversation  # noqa: E402
from kb_bot.engine import KnowledgeBase  # noqa: E402
from kb_bot.settings import load_settings  # noqa: E402

WORK = REPO / "benchmarks" / ".work" / "dialogue_quality"
SETS = {
    "earlier rounds' set (tests/data)": REPO / "tests/data/dialogues.jsonl",
    "development set": REPO / "benchmarks/data/dialogues_dev.jsonl",
    "held-out set": REPO / "benchmarks/data/dialogues_heldout.jsonl",
    "second development set": REPO / "benchmarks/data/dialogues_dev2.jsonl",
}


def score(kb: KnowledgeBase, path: Path) -> dict[str, int]:
    """Counts over every follow-up of every conversation in ``path``."""
    counts = {"dialogues": 0, "followups": 0, "with_fact": 0, "answered_fact": 0, "unanswerable": 0, "held_back": 0}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        dialogue, conversation = json.loads(line), Conversation(kb)
        counts["dialogues"] += 1
        for number, turn in enumerate(dialogue["turns"]):
            answer = conversation.ask(turn["q"])
            if number == 0 and not turn.get("followup"):
                continue
            expect = turn.get("expect") or []
            if not expect:
                counts["unanswerable"] += 1
                counts["held_back"] += answer.status != "answered"
                continue
            top = answer.citations[0].text if answer.citations else ""
            in_reply = any(e in answer.answer for e in expect)
            counts["followups"] += 1
            counts["with_fact"] += in_reply or any(e in top for e in expect)
            counts["answered_fact"] += answer.status == "answered" and in_reply
    return counts


def main() -> None:
    documents = WORK / "documents"
    if documents.exists():
        shutil.rmtree(documents)
    shutil.copytree(REPO / "documents", documents)  # never touch the tracked documents or index
    kb = KnowledgeBase(load_settings({"documents": documents, "index": WORK / "index"}))
    kb.ensure_index()
    lines = ["| set | conversations | follow-ups with an answer | fact in reply or first source | answered with the fact "
             "| follow-ups the documents cannot answer, not answered |", "|---|---:|---:|---:|---:|---:|"]
    for name, path in SETS.items():
        c = score(kb, path)
        lines.append(f"| {name} | {c['dialogues']} | {c['followups']} | {c['with_fact']} "
                     f"({c['with_fact'] / max(c['followups'], 1):.1%}) | {c['answered_fact']} "
                     f"({c['answered_fact'] / max(c['followups'], 1):.1%}) | {c['held_back']} of {c['unanswerable']} |")
    text = "\n".join(lines)
    print(text)
    (REPO / "benchmarks" / "dialogue_quality.md").write_text(
        "# Follow-up questions (benchmarks/dialogue_quality.py)\n\n" + text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
