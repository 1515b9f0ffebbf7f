"""Thumbs up/down on answers, appended to a JSON-lines log (one object per click)."""

from __future__ import annotations

import json
import os
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

_lock = threading.Lock()


def rating_of(liked: Any) -> str:
    """``gr.LikeData.liked`` -> "up" | "down" | "cleared" | the custom option string."""
    if liked is True:
        return "up"
    if liked is False:
        return "down"
    if liked in ("", None):
        return "cleared"
    return str(liked)


def feedback_record(answer_json: dict, rating: str, message_index: int | None = None) -> dict:
    """What is logged for one click: the question, the answer, its sources and the rating."""
    return {
        "time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "rating": rating,
        "question": answer_json.get("question", ""),
        "found": answer_json.get("found"),
        "status": answer_json.get("status"),
        "answer": answer_json.get("answer", ""),
        "sources": [
            {"doc": c.get("doc"), "title": c.get("title"), "section": c.get("section"),
             "span": c.get("span"), "text": c.get("text")}
            for c in answer_json.get("citations", [])
        ],
        "suggestions": answer_json.get("suggestions", []),
        "message_index": message_index,
    }


def append_feedback(path: Path, record: dict) -> None:
    """Append one JSON line; safe across threads of this process (one write per line, O_APPEND)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
    with _lock:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)
