"""Serving under load: start ``kb-bot serve`` on loopback and drive its ``/ask`` endpoint.

Traffic goes to 127.0.0.1 only, from a bounded pool of clients, each sending a fixed
number of requests with a timeout; the server is stopped at the end.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REQUEST_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def peak_rss_mb(pid: int) -> float | None:
    """VmHWM (peak resident set) of a live process and its children, in MB."""
    total = 0.0
    pids = [pid]
    try:
        import psutil

        pids += [child.pid for child in psutil.Process(pid).children(recursive=True)]
    except Exception:  # psutil missing or the process gone
        pass
    for one in pids:
        try:
            for line in Path(f"/proc/{one}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1]) / 1024
        except OSError:
            continue
    return round(total, 1) if total else None


class Server:
    """``kb-bot serve`` in a child process, on a free loopback port."""

    def __init__(self, env: dict[str, str], log_path: Path, ready_timeout: float = 300.0):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.env = dict(env, GRADIO_ANALYTICS_ENABLED="False", NO_PROXY="127.0.0.1,localhost",
                        no_proxy="127.0.0.1,localhost", PYTHONUNBUFFERED="1")
        self.log_path = log_path
        self.ready_timeout = ready_timeout
        self.process: subprocess.Popen | None = None
        self.ready_seconds: float | None = None

    def __enter__(self) -> "Server":
        self.log = open(self.log_path, "w", encoding="utf-8")
        started = time.perf_counter()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "kb_bot.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=self.env, stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
        deadline = started + self.ready_timeout
        while time.perf_counter() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"kb-bot serve exited with {self.process.returncode}; see {self.log_path}")
            try:
                with urllib.request.urlopen(self.url + "config", timeout=2) as response:
                    if response.status == 200:
                        self.ready_seconds = time.perf_counter() - started
                        return self
            except Exception:
                time.sleep(0.3)
        self.__exit__()
        raise RuntimeError(f"kb-bot serve was not ready within {self.ready_timeout:.0f} s; see {self.log_path}")

    def peak_rss_mb(self) -> float | None:
        return peak_rss_mb(self.process.pid) if self.process and self.process.poll() is None else None

    def __exit__(self, *exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)
        self.log.close()


class HttpClient:
    """Gradio's plain HTTP API: POST /gradio_api/call/ask, then read the event stream of the result.

    Lighter than gradio_client (no background threads per job), so on a 2-core machine the
    client side takes less of the CPU the server needs.
    """

    def __init__(self, url: str):
        self.url = url.rstrip("/") + "/gradio_api/call/ask"

    def ask(self, question: str, timeout: float = REQUEST_TIMEOUT):
        request = urllib.request.Request(self.url, data=json.dumps({"data": [question]}).encode("utf-8"),
                                         headers={"Content-Type": "application/json"}, method="POST")
        with urllib.request.urlopen(request, timeout=timeout) as response:
            event_id = json.loads(response.read())["event_id"]
        with urllib.request.urlopen(f"{self.url}/{event_id}", timeout=timeout) as response:
            event = None
            for raw in response:
                line = raw.decode("utf-8").rstrip("\n")
                if line.startswith("event:"):
                    event = line.split(":", 1)[1].strip()
                elif line.startswith("data:") and event in ("complete", "error"):
                    data = line.split(":", 1)[1].strip()
                    if event == "error":
                        raise RuntimeError(f"server error: {data[:120]}")
                    return json.loads(data)[0]
        raise RuntimeError("the event stream ended without a result")

    def close(self) -> None:
        pass


class GradioClient:
    """gradio_client's ``Client(url).submit(question, api_name="/ask")``."""

    def __init__(self, url: str):
        from gradio_client import Client

        self.client = Client(url, verbose=False)

    def ask(self, question: str, timeout: float = REQUEST_TIMEOUT):
        return self.client.submit(question, api_name="/ask").result(timeout=timeout)

    def close(self) -> None:
        try:
            self.client.close()
        except Exception:
            pass


def _client(url: str, kind: str = "http"):
    return HttpClient(url) if kind == "http" else GradioClient(url)


def drive(url: str, questions: list[str], clients: int, per_client: int, kind: str = "http") -> dict:
    """``clients`` concurrent clients, each asking ``per_client`` questions in turn; latencies and errors."""
    with ThreadPoolExecutor(min(clients, 8)) as pool:  # set-up (config fetch) is not timed
        connections = list(pool.map(lambda _: _client(url, kind), range(clients)))
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(clients)

    def worker(n: int) -> None:
        client = connections[n]
        start.wait()
        for i in range(per_client):
            question = questions[(n * per_client + i) % len(questions)]
            t0 = time.perf_counter()
            try:
                result = client.ask(question)
                ok = isinstance(result, dict) and "answer" in result
                problem = None if ok else f"unexpected result {str(result)[:80]}"
            except Exception as exc:  # a failed request is counted, not raised
                problem = f"{type(exc).__name__}: {str(exc)[:120]}"
            elapsed = (time.perf_counter() - t0) * 1000
            with lock:
                if problem:
                    errors.append(problem)
                else:
                    latencies.append(elapsed)

    began = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(worker, range(clients)))
    seconds = time.perf_counter() - began
    for connection in connections:
        connection.close()
    latencies.sort()

    def pct(p: float) -> float | None:
        if not latencies:
            return None
        return round(latencies[min(len(latencies) - 1, int(round(p / 100 * (len(latencies) - 1))))], 1)

    return {
        "client": kind, "clients": clients, "requests": clients * per_client, "ok": len(latencies), "errors": len(errors),
        "error_samples": errors[:3], "seconds": round(seconds, 2),
        "rps": round(len(latencies) / seconds, 2) if seconds else None,
        "p50_ms": pct(50), "p95_ms": pct(95), "max_ms": pct(100),
        "mean_ms": round(statistics.mean(latencies), 1) if latencies else None,
    }


def smoke(url: str, questions: list[str], count: int, kind: str = "http") -> int:
    """``count`` sequential asks (to touch every code path before reading peak RSS); returns errors."""
    client = _client(url, kind)
    errors = 0
    for i in range(count):
        try:
            result = client.ask(questions[i % len(questions)])
            errors += 0 if isinstance(result, dict) else 1
        except Exception:
            errors += 1
    client.close()
    return errors


if __name__ == "__main__":  # manual use: python benchmarks/perf_load.py URL CLIENTS PER_CLIENT [http|gradio_client]
    kind = sys.argv[4] if len(sys.argv) > 4 else "http"
    print(json.dumps(drive(sys.argv[1], ["上街区有哪些惠企政策？"], int(sys.argv[2]), int(sys.argv[3]), kind)))
    os._exit(0)
