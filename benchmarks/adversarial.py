"""Adversarial figures for issue 14: hostile documents, a trickling LLM, a login flood.

    PYTHONPATH=. python benchmarks/adversarial.py [--timeout 120] [--skip-web]

* Each hostile file is loaded in a fresh subprocess (so one runaway cannot spoil the next figure): wall
  time and peak resident memory above the interpreter's baseline, and whether it was skipped and why.
* A fake LLM trickling one byte every 0.5 s: seconds until the extractive answer (deadline 2 s).
* 100 parallel bad logins while 5 citizens ask over loopback (fake embedder): citizen errors and latency.
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


def trickling_llm() -> dict:
    """Seconds until the answer falls back when the LLM trickles one byte every 0.5 s (deadline 2 s)."""
    import threading
    import time
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from kb_bot.answering import llm
    from kb_bot.answering.answer import Answer, Citation
    from kb_bot.settings import Settings

    stop = threading.Event()

    class Trickle(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(200)
            self.end_headers()
            try:
                for _ in range(600):
                    self.wfile.write(b" ")
                    self.wfile.flush()
                    if stop.wait(0.5):
                        break
            except OSError:
                pass

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Trickle)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    citation = Citation("a.md", "t", None, None, "帮助企业融资贷款2600万元。", None, 0.9, "c")
    answer = Answer("q", True, "帮助企业融资贷款2600万元。[1]", (citation,), ())
    settings = Settings(llm_url=f"http://127.0.0.1:{server.server_address[1]}/v1", llm_model="m", llm_timeout=2.0)
    started = time.perf_counter()
    result = llm.generate_answer(answer, [], settings)
    elapsed = time.perf_counter() - started
    stop.set()
    server.shutdown()
    return {"case": "LLM trickling 1 byte / 0.5 s, deadline 2 s", "seconds": round(elapsed, 2), "mode": result.mode}


def login_flood() -> dict:
    """100 parallel bad logins while 5 citizens ask: citizen errors and latencies (fake embedder, loopback)."""
    import time
    from concurrent.futures import ThreadPoolExecutor

    import httpx
    from test_security_staff import _ask
    from web_fixtures import STAFF_PASSWORD, STAFF_USER, fake_kb, free_port

    from kb_bot.web.app import build_app, launch_options

    with tempfile.TemporaryDirectory() as tmp:
        kb = fake_kb(Path(tmp), admin_user=STAFF_USER, admin_password=STAFF_PASSWORD, concurrency=2)
        demo = build_app(kb)
        _, url, _ = demo.launch(server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True,
                                quiet=True, **launch_options(kb))

        def timed(fn, *a, **k):
            started = time.perf_counter()
            value = fn(*a, **k)
            return value, time.perf_counter() - started

        try:
            with ThreadPoolExecutor(max_workers=105) as pool:
                logins = [pool.submit(timed, httpx.post, url + "kb-staff/login",
                                      json={"user": "admin", "password": f"guess{i}"}, timeout=60) for i in range(100)]
                citizens = [pool.submit(timed, _ask, url, "招聘会帮企业招到了多少人？") for _ in range(5)]
                login_results = [f.result() for f in logins]
                citizen_results = [f.result() for f in citizens]
        finally:
            demo.close()
    return {"case": "100 parallel bad logins + 5 citizens", "citizen_errors": sum("error" in r for r, _ in citizen_results),
            "citizen_max_s": round(max(t for _, t in citizen_results), 2),
            "login_statuses": sorted({r.status_code for r, _ in login_results}),
            "login_max_s": round(max(t for _, t in login_results), 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--skip-web", action="store_true", help="only the documents and the LLM")
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
    print(json.dumps(trickling_llm(), ensure_ascii=False), flush=True)
    if not args.skip_web:
        print(json.dumps(login_flood(), ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
