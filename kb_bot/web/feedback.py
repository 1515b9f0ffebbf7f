"""Thumbs up/down on answers: what a click means. The rating itself is kept in the question log
(``questionlog.QuestionLog.feedback``), joined to the question's line by id, masked and pruned with it."""

from __future__ import annotations

from typing import Any


def rating_of(liked: Any) -> str:
    """``gr.LikeData.liked`` -> "up" | "down" | "cleared" | the custom option string."""
    if liked is True:
        return "up"
    if liked is False:
        return "down"
    if liked in ("", None):
        return "cleared"
    return str(liked)
