"""Regenerate the shipped embedding cache (documents/.kb-bot-cache/<model slug>.npz).

Run after any change to loading, chunking or ``Chunk.embed_text`` that changes the shipped chunks
(tests/test_regulations.py fails until you do):

    python benchmarks/ship_cache.py                   # documents/, bundled model, a temporary index
    python benchmarks/ship_cache.py --index /tmp/idx  # reuse (and keep) an index folder's cache

It builds the index of the documents folder (embedding only chunks neither the index cache nor the
current shipped cache has), then writes exactly the vectors of the current chunks, so stale entries go.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kb_bot.engine import KnowledgeBase  # noqa: E402
from kb_bot.settings import Settings  # noqa: E402
from kb_bot.store.shipped_cache import shipped_path, write_shipped  # noqa: E402
from kb_bot.store import EmbeddingCache, load_index, text_key  # noqa: E402
from kb_bot.indexing import expected_manifest  # noqa: E402


def ship(documents: Path, index: Path, model: str) -> Path:
    """Build ``index`` from ``documents`` and write the shipped cache of its chunks; returns its path."""
    settings = Settings(documents=documents, index=index, model=model)
    started = time.perf_counter()
    report = KnowledgeBase(settings).build(full=True, progress=True)
    print(f"built {report.chunks} chunks, embedded {report.chunks_embedded} in {time.perf_counter() - started:.0f} s",
          file=sys.stderr)
    loaded = load_index(index, expected_manifest(settings))
    model_id = loaded.manifest.model_id
    cache = EmbeddingCache(index, model_id)
    keys = list(dict.fromkeys(text_key(model_id, c.embed_text) for c in loaded.chunks))
    vectors = [cache.get(k) for k in keys]
    if any(v is None for v in vectors):  # cannot happen after a build; refuse rather than ship a gap
        raise SystemExit("the index cache lacks vectors of some chunks; rebuild and retry")
    import numpy as np

    target = shipped_path(documents, model_id)
    write_shipped(target, model_id, keys, np.stack(vectors))
    print(f"wrote {len(keys)} vectors of {model_id} to {target} ({target.stat().st_size / 1e6:.1f} MB)",
          file=sys.stderr)
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=Path, default=Path("documents"))
    parser.add_argument("--index", type=Path, default=None, help="index folder to build in (default: a temporary one)")
    parser.add_argument("--model", default=Settings().model)
    args = parser.parse_args()
    if args.index is not None:
        ship(args.documents, args.index, args.model)
        return
    with tempfile.TemporaryDirectory() as tmp:
        ship(args.documents, Path(tmp) / "index", args.model)


if __name__ == "__main__":
    main()
