"""The named results of the insight and staff-answer handlers (``insight.py``): each field is the widget it fills
(see ``wiring.py``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class InsightLoaded:
    """The insight view for a span of days: summary, chart, tables, CSV, questions to answer, staff answers."""

    summary: str
    chart: Any
    unanswered: Any
    related: Any
    down: Any
    docs: Any
    csv: Any
    pick: Any
    faq_table: Any
    path: Any


@dataclass(frozen=True)
class FaqOpened:
    """The staff-answer form filled from an existing entry (``message`` left alone unless something is wrong)."""

    message: Any
    questions: Any
    answer: Any
    source: Any
    article: Any


@dataclass(frozen=True)
class FaqListed:
    """The staff answers as a table and as the editor's choices (after login, so editing needs no 载入统计 first)."""

    faq_table: Any
    path: Any


@dataclass(frozen=True)
class FaqStarted:
    """A new staff answer started from a citizen's question: no entry selected, the form empty but its wording."""

    path: Any
    questions: Any
    answer: Any
    source: Any
    article: Any


@dataclass(frozen=True)
class FaqSaved:
    """After saving, retiring or restoring a staff answer: the message, the list, the entry selected, and the entry
    whose message says it takes effect with the next refresh (``pending``, "" when none does)."""

    message: str
    faq_table: Any
    path: Any
    pending: Any


@dataclass(frozen=True)
class FaqRefreshed:
    """After an index refresh: the message (now saying the pending entry is in effect), the list, the pending entry."""

    message: Any
    faq_table: Any
    pending: Any
