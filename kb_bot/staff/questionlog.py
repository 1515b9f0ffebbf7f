"""The question log: what citizens asked and how it went, for staff insight (privacy by design).

One JSON object per line, in monthly files next to the index (``index/questions-2026-11.jsonl``
for the default ``question_log = index/questions.jsonl``)::

    {"id": "…", "time": "2026-11-27T12:00:00+00:00", "question": "…", "status": "answered",
     "confidence": 0.73, "docs": ["advanced-manufacturing.md"], "understood_as": null, "mode": "extractive"}

Feedback is a later line ``{"id": "…", "time": "…", "feedback": "down"}`` joined by ``id``.
No IP address, cookie, session or user agent is ever written, and what a citizen may type about
themselves is masked before the question is stored (mobile and landline numbers, ID card numbers,
e-mail addresses: see :func:`redact`). Files older than
``log_retention_days`` are deleted when a new month starts and when the log is opened.

Writes never block or break answering: :meth:`QuestionLog.record` puts the line on a bounded
queue (dropped with a warning when full) and a daemon thread appends it and flushes, one
``write`` per line, so a killed process loses at most the line being written and a torn last
line is skipped by :func:`read_records`.
"""

from __future__ import annotations

import json
import logging
import queue
import re
import threading
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterable, Iterator

log = logging.getLogger(__name__)

QUEUE_SIZE = 10_000
_MONTHLY = re.compile(r"-(\d{4})-(\d{2})$")


_PERSONAL = (
    (re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)"), "[身份证号]"),
    (re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)"), "[手机号]"),
    (re.compile(r"(?<!\d)0\d{2,3}-?\d{7,8}(?!\d)"), "[电话]"),
    (re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+"), "[邮箱]"),
)


def redact(text: str) -> str:
    """``text`` with phone numbers, ID card numbers and e-mail addresses masked."""
    for pattern, mask in _PERSONAL:
        text = pattern.sub(mask, text)
    return text


def _now() -> datetime:
    return datetime.now(timezone.utc)


def month_path(base: Path, when: datetime) -> Path:
    """The file of ``when``'s month: ``questions.jsonl`` -> ``questions-2026-11.jsonl``."""
    return base.with_name(f"{base.stem}-{when:%Y-%m}{base.suffix or '.jsonl'}")


def log_files(base: Path) -> list[Path]:
    """The monthly files of a log, oldest first."""
    if not base.parent.is_dir():
        return []
    pattern = f"{base.stem}-*{base.suffix or '.jsonl'}"
    return sorted(p for p in base.parent.glob(pattern) if _MONTHLY.search(p.stem))


def prune(base: Path, retention_days: int, now: datetime | None = None) -> list[Path]:
    """Delete monthly files whose whole month is older than the retention; returns them."""
    now = now or _now()
    cutoff = now - timedelta(days=max(int(retention_days), 0))
    removed = []
    for path in log_files(base):
        year, month = (int(x) for x in _MONTHLY.search(path.stem).groups())
        end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=timezone.utc)
        if end <= cutoff:
            try:
                path.unlink()
                removed.append(path)
            except OSError as exc:
                log.warning("could not delete old question log %s: %s", path, exc)
    return removed


def answer_record(answer: Any, record_id: str | None = None, when: datetime | None = None) -> dict[str, Any]:
    """The log line of one answered question (no personal data: the question text and the outcome only)."""
    docs = list(dict.fromkeys(c.doc for c in getattr(answer, "citations", ())))
    return {
        "id": record_id or uuid.uuid4().hex[:16],
        "time": (when or _now()).isoformat(timespec="seconds"),
        "question": redact(answer.question),
        "status": answer.status,
        "confidence": round(float(answer.confidence), 4),
        "docs": docs,
        # A staff answer gave the reply; a reply merely quoting a staff answer's text as a passage is not one (the
        # report counted 501 staff answers where about 200 were).
        "faq": answer.mode == "faq",
        "understood_as": redact(answer.understood_as) if getattr(answer, "understood_as", None) else None,
        "mode": answer.mode,
        "answer": answer.answer[:500],  # the articles' text, not the citizen's
    }


def _ends_mid_line(path: Path) -> bool:
    """Does the file at ``path`` end without a newline (half a line left by a killed process)?"""
    try:
        with open(path, "rb") as handle:
            handle.seek(-1, 2)
            return handle.read(1) != b"\n"
    except OSError:  # missing or empty
        return False


class QuestionLog:
    """Appends question records (and feedback) from a background thread."""

    def __init__(self, base: Path, retention_days: int = 90, queue_size: int = QUEUE_SIZE):
        self.base = Path(base)
        self.retention_days = retention_days
        self._queue: queue.Queue[dict | None] = queue.Queue(maxsize=queue_size)
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._month: str | None = None
        self._file = None
        self.dropped = 0

    # -- producer side (request threads): never blocks, never raises ------------------------------

    def record(self, answer: Any) -> str:
        """Queue the record of an answer; returns its id (for feedback later)."""
        record_id = uuid.uuid4().hex[:16]
        try:
            self._put(answer_record(answer, record_id))
        except Exception as exc:  # logging must never break answering
            log.warning("question not logged: %s", exc)
        return record_id

    def feedback(self, record_id: str, rating: str) -> None:
        """Queue a feedback line for an earlier record."""
        if record_id:
            self._put({"id": str(record_id), "time": _now().isoformat(timespec="seconds"), "feedback": str(rating)})

    def _put(self, line: dict) -> None:
        self._ensure_thread()
        try:
            self._queue.put_nowait(line)
        except queue.Full:
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 1000 == 0:
                log.warning("question log queue full: %d lines dropped", self.dropped)

    def _ensure_thread(self) -> None:
        if self._thread is None:
            with self._start_lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name="kb-bot-question-log", daemon=True)
                    self._thread.start()

    # -- writer thread -------------------------------------------------------------------

    def _run(self) -> None:
        try:
            prune(self.base, self.retention_days)
        except Exception as exc:
            log.warning("question log pruning failed: %s", exc)
        while True:
            line = self._queue.get()
            try:
                if line is None:
                    return
                self._write(line)
            except Exception as exc:  # a full disk or a permission problem: keep answering
                log.warning("question log write failed: %s", exc)
            finally:
                self._queue.task_done()

    def _write(self, line: dict) -> None:
        now = _now()
        month = f"{now:%Y-%m}"
        if month != self._month or self._file is None:
            if self._file is not None:
                self._file.close()
                prune(self.base, self.retention_days, now)
            path = month_path(self.base, now)
            path.parent.mkdir(parents=True, exist_ok=True)
            torn = _ends_mid_line(path)
            self._file = open(path, "a", encoding="utf-8", buffering=1)  # line-buffered: one write a line
            if torn:  # a process killed mid-write left half a line: end it, or the next record is glued to it
                self._file.write("\n")
            self._month = month
        self._file.write(json.dumps(line, ensure_ascii=False) + "\n")
        self._file.flush()

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every queued line is written (tests, shutdown); False on timeout."""
        if self._thread is None:
            return True
        done = threading.Event()

        def wait() -> None:
            self._queue.join()
            done.set()

        threading.Thread(target=wait, daemon=True).start()
        return done.wait(timeout)

    def close(self) -> None:
        """Write what is queued and stop the writer thread."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None
        if self._file is not None:
            self._file.close()
            self._file = None
            self._month = None


def read_records(base: Path, since: datetime | None = None) -> list[dict[str, Any]]:
    """Question records (feedback joined in as ``"feedback"``) from the monthly files, oldest first.

    A torn or unreadable line (a killed process) is skipped.
    """
    records: dict[str, dict[str, Any]] = {}
    feedback: dict[str, str] = {}
    for line in _lines(log_files(Path(base))):
        try:
            item = json.loads(line)
        except json.JSONDecodeError:
            continue
        if not isinstance(item, dict) or "id" not in item:
            continue
        if "feedback" in item:
            feedback[str(item["id"])] = str(item["feedback"])
            continue
        if "question" in item and "time" in item:
            records[str(item["id"])] = item
    out = []
    for record_id, item in records.items():
        if since is not None:
            try:
                if datetime.fromisoformat(item["time"]) < since:
                    continue
            except (TypeError, ValueError):
                continue
        if record_id in feedback:
            item = dict(item, feedback=feedback[record_id])
        out.append(item)
    out.sort(key=lambda r: r["time"])
    return out


def _lines(paths: Iterable[Path]) -> Iterator[str]:
    for path in paths:
        try:
            with open(path, encoding="utf-8", errors="replace") as handle:
                for line in handle:
                    if line.strip():
                        yield line
        except OSError as exc:
            log.warning("could not read question log %s: %s", path, exc)
