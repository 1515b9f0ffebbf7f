"""Waiting in tests: on a condition, with a bound, never for a fixed time.

A fixed sleep is either too short on a loaded machine (the test flakes) or longer than needed
everywhere (the suite crawls); a bounded poll returns as soon as the condition holds.
"""

from __future__ import annotations

import time
from typing import Callable

#: Generous: the bound only matters when something is broken, and this 2-core machine is shared.
DEFAULT_TIMEOUT = 30.0


def wait_until(condition: Callable[[], object], timeout: float = DEFAULT_TIMEOUT, what: str = "the condition") -> None:
    """Return once ``condition()`` is true; AssertionError naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.02)
