"""Hostile documents against the loader: time and extra memory to load (or skip) each one (issue 14).

    PYTHONPATH=. python benchmarks/adversarial.py [--timeout 120]

Each file is loaded in a fresh subprocess (so one runaway cannot spoil the next figure); the figure is
wall time and peak resident memory above the interpreter's baseline, plus whether it was skipped and why.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import hostile_files  # noqa: E402

_CHILD = r"""
import json, sys, time, resource, psutil
from pathlib import Path
import docx, bs4, lxml  # imported before the baseline: their import is not the file's cost
from kb_bot.loading import load_documents
folder = Path(sys.argv[1])
base = psutil.Process().memory_info().rss
started = time.perf_counter()
result = load_documents(folder)
elapsed = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"seconds": round(elapsed, 2), "extra_mb": round(max(peak - base, 0) / 1048576, 1),
                  "documents": len(result.documents), "skipped": [s.reason for s in result.skipped]}))
"""

CASES = {
    "column breaks, 460 KB .txt": lambda d: hostile_files.column_break_text(d / "cols.txt"),
    ".docx with 200k paragraphs": lambda d: hostile_files.docx_many_paragraphs(d / "many.docx"),
    ".docx memory bomb (500 MB inflated)": lambda d: hostile_files.docx_memory_bomb(d / "bomb.docx"),
    "HTML tag flood (2M tags)": lambda d: hostile_files.html_tag_flood(d / "flood.html"),
    "symlink loop a.md <-> b.md": lambda d: hostile_files.symlink_loop(d),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=120.0)
    args = parser.parse_args()
    rows = []
    for name, make in CASES.items():
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            make(folder)
            size = sum(p.lstat().st_size for p in folder.iterdir())
            try:
                out = subprocess.run([sys.executable, "-c", _CHILD, str(folder)], capture_output=True, text=True,
                                     timeout=args.timeout, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
                row = json.loads(out.stdout.strip().splitlines()[-1]) if out.returncode == 0 else {
                    "error": (out.stderr.strip().splitlines() or ["?"])[-1]}
            except subprocess.TimeoutExpired:
                row = {"error": f"over {args.timeout:g} s"}
        row = {"case": name, "file_kb": round(size / 1024), **row}
        rows.append(row)
        print(json.dumps(row, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
