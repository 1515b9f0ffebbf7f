#!/usr/bin/env python
"""Choose the chunk size for retrieval and answers together (issue 10 item 6), on the validation split.

For each chunk size, ``benchmarks/answerability_data.py`` is run with ``KB_BOT_CHUNK_SIZE`` /
``KB_BOT_CHUNK_OVERLAP`` set and ``benchmarks/fit_answerability.py`` fits the models on its records;
the records and the fitted json of each size are kept in a folder of their own
(``<runs>/<size>-<overlap>/records.pkl`` and ``answerability.json``). Run everything from the worktree with
absolute paths (``cd /work/wt-X && ...``): a backgrounded ``cd X && job &`` changes directory only for that job.
Restore ``kb_bot/data`` and ``benchmarks/answerability_results.md`` afterwards (the fits overwrite them).
This script then reads them all (results of 2026-11-27: ``benchmarks/chunk_size_choice.md``):

    python benchmarks/chunk_size_choice.py report --runs /tmp/chunks 200-40 300-60 500-80
    python benchmarks/chunk_size_choice.py count documents 200-40 300-60 500-80

``report`` prints, per size and split (validation first; test marked as test): the thresholds, the
outcomes table of ``kb_bot.answering.calibration`` (answered / answered with the fact / related / not found per
source and kind), AUROC, and retrieval recall — for answerable questions, the share whose top
``PASSAGES_CONSIDERED`` passages hold a sentence with the answer (from the question's own document).
``count`` loads a documents folder and counts its chunks, and how many chunk texts (as embedded) are
new against the first size: what a change would make ``benchmarks/ship_cache.py`` embed.
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from kb_bot.answering.answer_model import AnswerModel  # noqa: E402
from kb_bot.answering.calibration import _guarded, outcomes, table  # noqa: E402
from kb_bot.answering.fitting import _score, quote_answers  # noqa: E402

NEAR_RATES = (0.02, 0.03, 0.04, 0.05, 0.06, 0.08, 0.10)

SOURCES = ("cmrc", "cmrc-spoken", "regulation", "regulation-spoken")


def _size(text: str) -> tuple[int, int]:
    size, overlap = text.split("-")
    return int(size), int(overlap)


def _first(record: dict) -> int | None:
    """Rank (0-based) of the best passage with an answer sentence among the candidates, None when none has."""
    ranks = [rank for rank, label in zip(record["passage_of"], record["labels"]) if label]
    return min(ranks) if ranks else None


def recall(records: list[dict]) -> dict[str, tuple[int, float, float, float]]:
    """Per source: answerable questions, the share with an answer sentence among the candidates (top-3
    passages), the share whose first passage has one, and MRR@3 of the first passage with one."""
    result = {}
    for source in (*SOURCES, "all"):
        rows = [r for r in records if r["kind"] == "answerable" and source in ("all", r["source"])]
        firsts = [_first(r) for r in rows]
        n = max(len(rows), 1)
        result[source] = (len(rows), sum(f is not None for f in firsts) / n, sum(f == 0 for f in firsts) / n,
                          sum(1 / (f + 1) for f in firsts if f is not None) / n)
    return result


def summary_row(records: list[dict], model: AnswerModel) -> dict:
    """The headline figures of one split under one model (for the comparison table)."""
    result = outcomes(records, model)
    row = {"auroc": result.auroc}
    for key, counts in result.counts.items():
        n = max(counts["n"], 1)
        row[key] = {"n": counts["n"], "answered": counts["answered"] / n, "fact": counts["with_fact"] / n,
                    "not_found": counts["not_found"] / n}
    return row, result


def per_record(records: list[dict], model: AnswerModel) -> list[tuple[str, bool]]:
    """(status, answered with the fact) of every record, as ``outcomes`` decides them one at a time."""
    result = []
    for record in records:
        counts = outcomes([record], model).counts
        row = next(iter(counts.values()))
        status = next(s for s in ("answered", "related", "not_found") if row[s])
        result.append((status, bool(row["with_fact"])))
    return result


def paired(base: list[tuple[str, bool]], other: list[tuple[str, bool]], records: list[dict]) -> str:
    """Answerable questions answered with the fact by one size only (McNemar counts), near answered by one only,
    and a 90% interval of the difference in the share answered with the fact, resampling document groups (the
    questions of one CMRC article or one regulation are not independent)."""
    import numpy as np

    ans = [i for i, r in enumerate(records) if r["kind"] == "answerable"]
    near = [i for i, r in enumerate(records) if r["kind"] == "near"]
    gain = sum(other[i][1] and not base[i][1] for i in ans)
    loss = sum(base[i][1] and not other[i][1] for i in ans)
    near_gain = sum(other[i][0] == "answered" and base[i][0] != "answered" for i in near)
    near_loss = sum(base[i][0] == "answered" and other[i][0] != "answered" for i in near)
    groups: dict[str, list[int]] = {}
    for i in ans:
        groups.setdefault(records[i]["group"], []).append(i)
    delta = {g: sum(int(other[i][1]) - int(base[i][1]) for i in idx) for g, idx in groups.items()}
    sizes = np.array([len(groups[g]) for g in groups])
    deltas = np.array([delta[g] for g in groups])
    rng = np.random.default_rng(0)
    picks = rng.integers(0, len(groups), size=(2000, len(groups)))
    shares = deltas[picks].sum(1) / sizes[picks].sum(1)
    low, high = np.percentile(shares, [5, 95])
    return (f"answerable with the fact: +{gain} / -{loss} (net {gain - loss:+d} of {len(ans)}, "
            f"{(gain - loss) / len(ans):+.1%}, 90% group-bootstrap interval {low:+.1%} .. {high:+.1%}, "
            f"{len(groups)} groups); near answered: +{near_gain} / -{near_loss} of {len(near)}")


def pooled_row(row: dict) -> str:
    """All answerable sources together, and all near-domain ones."""
    def pool(kind: str, field: str) -> float:
        keys = [f"{s}/{kind}" for s in SOURCES if f"{s}/{kind}" in row]
        n = sum(row[k]["n"] for k in keys)
        return sum(row[k][field] * row[k]["n"] for k in keys) / max(n, 1)
    return (f"answerable answered {pool('answerable', 'answered'):.1%}, with the fact {pool('answerable', 'fact'):.1%}, "
            f"not found {pool('answerable', 'not_found'):.1%}, recall@3 {row['recall']['all'][1]:.1%}, "
            f"@1 {row['recall']['all'][2]:.1%}, MRR@3 {row['recall']['all'][3]:.3f}; "
            f"near answered {pool('near', 'answered'):.1%}")


def curve(records: list[dict], model: AnswerModel) -> list[tuple[float, float, float]]:
    """Answerable questions answered with the fact when the answer threshold is moved so that near-domain
    questions are answered at most r of the time, for each r of ``NEAR_RATES``: the sizes compared at the same
    operating point, free of where the fit's threshold search happened to land. (threshold, near, with the fact)"""
    rows = []
    for record in records:
        value, _, scores = _score(record, model)
        eligible = bool(len(scores)) and record["question_row"]["is_cjk"] and not _guarded(record, scores)
        rows.append((record["kind"], value if eligible else -1.0, eligible and quote_answers(record, scores)))
    near = sorted((v for k, v, _ in rows if k == "near"), reverse=True)
    answerable = [(v, f) for k, v, f in rows if k == "answerable"]
    result = []
    for rate in NEAR_RATES:
        allowed = int(rate * len(near))  # near questions that may be answered
        threshold = near[allowed] + 1e-9 if allowed < len(near) else 0.0  # just above the first one refused
        near_share = sum(v >= threshold for v in near) / len(near)
        fact = sum(f and v >= threshold for v, f in answerable) / len(answerable)
        result.append((threshold, near_share, fact))
    return result


def report(runs: Path, sizes: list[str]) -> None:
    """Print the tables of every size, then one comparison table per split."""
    compare: dict[str, dict[str, dict]] = {"validation": {}, "test": {}}
    decisions: dict[str, dict[str, list]] = {"validation": {}, "test": {}}
    parts: dict[str, list[dict]] = {}
    for size in sizes:
        folder = runs / size
        records = pickle.loads((folder / "records.pkl").read_bytes())
        model = AnswerModel.from_json(json.loads((folder / "answerability.json").read_text(encoding="utf-8")))
        print(f"\n# chunk size {size}: thresholds answer {model.answer_threshold:.3f}, "
              f"topic {model.topic_threshold:.3f}; records {len(records)}")
        for split in ("validation", "test"):
            part = [r for r in records if r["split"] == split]
            row, result = summary_row(part, model)
            row["recall"] = recall(part)
            compare[split][size] = row
            decisions[split][size] = per_record(part, model)
            questions = [(r["kind"], r["question"]) for r in part]
            assert parts.setdefault(split, questions) == questions, "sizes must hold the same questions in order"
            row["records"] = part
            row["curve"] = curve(part, model)
            print(f"\n## {size} — {split.upper() if split == 'test' else split} split ({len(part)} records)\n")
            print("\n".join(table(result)))
            print("\nRetrieval (answerable, answer sentence among the top-3 passages' candidates):")
            for source, (n, share, top1, mrr) in row["recall"].items():
                print(f"  {source:18s} top-3 {share:6.1%}  top-1 {top1:6.1%}  MRR@3 {mrr:.3f}  (n={n})")
    for split in ("validation", "test"):
        print(f"\n# comparison — {split.upper() if split == 'test' else split} split\n")
        head = "| size | " + " | ".join(f"{s} ans / fact / r@3 / r@1" for s in SOURCES) + \
               " | near answered (cmrc / reg) | off answered | AUROC |"
        print(head)
        print("|---" * (len(SOURCES) + 4) + "|")
        for size, row in compare[split].items():
            cells = []
            for source in SOURCES:
                r = row.get(f"{source}/answerable", {})
                cells.append(f"{r.get('answered', 0):.1%} / {r.get('fact', 0):.1%} / {row['recall'][source][1]:.1%} / {row['recall'][source][2]:.1%}")
            near = [row.get(f"{s}/near", {}).get("answered", 0) for s in SOURCES]
            near_n = [row.get(f"{s}/near", {}).get("n", 0) for s in SOURCES]
            off = [row.get(f"{s}/off", {}) for s in SOURCES]
            off_share = sum(o.get("answered", 0) * o.get("n", 0) for o in off) / max(sum(o.get("n", 0) for o in off), 1)
            cmrc_near = _pooled(near[:2], near_n[:2])
            reg_near = _pooled(near[2:], near_n[2:])
            print(f"| {size} | " + " | ".join(cells) + f" | {cmrc_near:.1%} / {reg_near:.1%} | {off_share:.1%} | "
                  f"{row['auroc']:.3f} |")
        print()
        for size, row in compare[split].items():
            print(f"- {size}: {pooled_row(row)}")
        print(f"\nAnswerable with the fact at a near-domain answered rate of at most "
              f"{', '.join(f'{r:.0%}' for r in NEAR_RATES)} (threshold moved on this split):\n")
        print("| size | " + " | ".join(f"near <= {r:.0%}" for r in NEAR_RATES) + " |")
        print("|---" * (len(NEAR_RATES) + 1) + "|")
        for size, row in compare[split].items():
            print(f"| {size} | " + " | ".join(f"{fact:.1%}" for _, _, fact in row["curve"]) + " |")
        print()
        base = sizes[0]
        for size in sizes[1:]:
            print(f"- {size} vs {base}: {paired(decisions[split][base], decisions[split][size], compare[split][size]['records'])}")


def _pooled(shares: list[float], counts: list[int]) -> float:
    return sum(s * n for s, n in zip(shares, counts)) / max(sum(counts), 1)


def count(documents: Path, sizes: list[str]) -> None:
    """Chunks of ``documents`` at each size, and chunk texts new against the first size."""
    from kb_bot.chunking import chunk_documents
    from kb_bot.loading.folder import load_documents

    loaded = load_documents(documents, exclude=[documents / ".kb-bot-cache"])
    base: set[str] | None = None
    for size in sizes:
        chunks = chunk_documents(loaded.documents, *_size(size))
        texts = {c.embed_text for c in chunks}
        if base is None:
            base = texts
        new = len(texts - base)
        print(f"{documents} {size}: {len(chunks)} chunks, {len(texts)} distinct embedded texts, "
              f"{new} not in {sizes[0]} (to embed), {len(base - texts)} of {sizes[0]} gone; "
              f"documents {len(loaded.documents)}, skipped {len(loaded.skipped)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    rep = sub.add_parser("report")
    rep.add_argument("--runs", type=Path, required=True)
    rep.add_argument("sizes", nargs="+")
    cnt = sub.add_parser("count")
    cnt.add_argument("documents", type=Path)
    cnt.add_argument("sizes", nargs="+")
    args = parser.parse_args()
    if args.command == "report":
        report(args.runs, args.sizes)
    else:
        count(args.documents, args.sizes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
