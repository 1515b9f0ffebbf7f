"""One fake OpenAI-compatible chat endpoint on loopback for the LLM tests.

It records every request (path, Authorization header, JSON body) and behaves as ``FakeLLM.mode`` says:
``reply`` (the canned ``FakeLLM.reply``), ``error`` (HTTP 500), ``hang`` (until ``release`` is set, at most
30 s) or ``trickle`` (valid headers, then the body one byte at a time, at most 200 bytes). Tests check what
the server saw and what kb-bot answered, never the clock.
"""

from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator


class FakeLLM(BaseHTTPRequestHandler):
    mode = "reply"
    reply = ""
    requests: list = []
    trickled = 0
    trickle_done = threading.Event()
    entered = threading.Event()
    release = threading.Event()

    @classmethod
    def reset(cls, reply: str) -> None:
        """Fresh state for one test: reply mode, no requests, unset events."""
        cls.mode, cls.reply, cls.requests, cls.trickled = "reply", reply, [], 0
        cls.trickle_done, cls.entered, cls.release = threading.Event(), threading.Event(), threading.Event()

    def do_POST(self):  # noqa: N802 (http.server API)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append((self.path, self.headers.get("Authorization"), body))
        type(self).entered.set()
        if self.mode == "error":
            self.send_response(500)
            self.end_headers()
            return
        if self.mode == "trickle":
            self._trickle()
            return
        if self.mode == "hang":
            type(self).release.wait(30)
        data = json.dumps({"choices": [{"message": {"role": "assistant", "content": type(self).reply}}]},
                          ensure_ascii=False).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _trickle(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        try:
            for _ in range(200):
                self.wfile.write(b" ")
                self.wfile.flush()
                type(self).trickled += 1
                if type(self).release.wait(0.05):
                    break
        except OSError:  # the client hung up: what we want
            pass
        type(self).trickle_done.set()

    def log_message(self, *args):
        pass


@contextmanager
def serving(reply: str) -> Iterator[str]:
    """Run the fake endpoint answering ``reply``; yields its base URL (``http://127.0.0.1:PORT/v1``)."""
    FakeLLM.reset(reply)
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeLLM)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        FakeLLM.release.set()  # a hanging or trickling handler returns, so shutdown does not wait on it
        server.shutdown()
        server.server_close()
