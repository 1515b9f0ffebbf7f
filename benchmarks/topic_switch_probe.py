#!/usr/bin/env python
"""Topic switches mid-conversation: how many off-topic questions, or questions with a subject of their own, does the
follow-up logic read with the previous topic?

    .venv/bin/python benchmarks/topic_switch_probe.py [-v]

``benchmarks/data/topic_switches.json`` (written by the sixteenth session's review helper): twelve openers
(租房要备案吗？ 养狗要办证吗？ …), each followed in a new conversation by 12 off-topic questions (今天会下雨吗？ 房价多少？
你是谁？) and 11 with a subject of their own (试用期最长可以多久？ 狗证多长时间年检一次？): 276 pairs, none of which should
be read with the opener's topic (a few of the second kind follow their opener naturally: 失业金最多能领几个月？ after
失业金怎么领？). A rewritten reply (``understood_as`` set) is counted, and those that come back ``answered``.
2026-11-29: 56 rewritten, all off-topic (the earlier sessions' short-question rule: 今天冷不冷？, 房价多少？; every reply
related), none of the questions with a subject of their own, none answered; 96 and 1 with the sixteenth session's
cue-less reading, which was removed for it. Over the shipped documents, the
bundled model, the index built in a temporary folder from the shipped embedding cache.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kb_bot.answering.conversation import Conversation  # noqa: E402
from kb_bot.engine import KnowledgeBase  # noqa: E402
from kb_bot.settings import load_settings  # noqa: E402


def main() -> None:
    data = json.loads((ROOT / "benchmarks" / "data" / "topic_switches.json").read_text(encoding="utf-8"))
    verbose = "-v" in sys.argv
    with tempfile.TemporaryDirectory() as tmp:
        documents = Path(tmp) / "documents"
        shutil.copytree(ROOT / "documents", documents)  # never touch the tracked documents or index
        kb = KnowledgeBase(load_settings({"documents": documents, "index": Path(tmp) / "index"}))
        kb.ensure_index()
        counts = {}
        for kind in ("off_topic", "own_subject"):
            rewritten = answered = 0
            for opener in data["openers"]:
                for question in data[kind]:
                    conversation = Conversation(kb)
                    conversation.ask(opener)
                    reply = conversation.ask(question)
                    if reply.understood_as:
                        rewritten += 1
                        answered += reply.status == "answered"
                        if verbose:
                            print(f"{opener} -> {question} => {reply.understood_as} ({reply.status} "
                                  f"{reply.confidence:.2f})")
            counts[kind] = (len(data["openers"]) * len(data[kind]), rewritten, answered)
    for kind, (pairs, rewritten, answered) in counts.items():
        print(f"{kind}: {pairs} pairs, rewritten {rewritten}, of them answered {answered}")
    total = [sum(c[i] for c in counts.values()) for i in range(3)]
    print(f"all: {total[0]} pairs, rewritten {total[1]}, of them answered {total[2]}")


if __name__ == "__main__":
    main()
