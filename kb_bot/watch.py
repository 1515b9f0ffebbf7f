"""Watch: refresh the index when the documents folder changes (``kb-bot refresh --watch``).

A watchdog observer reports file events; a refresh runs once the folder has been quiet for
``debounce`` seconds, so saving a file (which editors do in several steps) or copying in a
batch of files gives one refresh. Events in the index folder (when it lies inside the
documents folder), in hidden files and folders and in temporary files (``~$x.docx``,
``x.tmp``, ``x~``, ...) are ignored, like the loader ignores those files.

A refresh that fails is logged and the watch goes on (the next change tries again); one that
finds the index busy (another refresh holds the lock) is retried after the next quiet period.
Ctrl-C (KeyboardInterrupt) stops the watch cleanly; a refresh it interrupts leaves the last
good index in place, as a killed one does.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from pathlib import Path
from typing import Callable

from .errors import IndexBusyError, KbBotError
from .indexing import BuildReport
from .loading import is_ignored_name

log = logging.getLogger(__name__)

#: Event kinds that do not change a file (watchdog 5+ reports opens and read-only closes on Linux).
_IGNORED_EVENTS = frozenset({"opened", "closed_no_write"})


def _default_say(message: str) -> None:
    print(f"kb-bot: {message}", file=sys.stderr, flush=True)


class _Changes:
    """What the observer thread tells the watch loop: whether, and when last, something relevant changed."""

    def __init__(self, documents: Path, index: Path):
        self.documents = documents
        self.index = index
        self._lock = threading.Lock()
        self.pending = False
        self.last_change = 0.0
        self.events = 0

    def relevant(self, raw_path: str | bytes | None) -> bool:
        """True for a path in the documents folder that the loader would look at."""
        if not raw_path:
            return False
        path = Path(raw_path.decode() if isinstance(raw_path, bytes) else raw_path)
        try:
            rel = path.relative_to(self.documents)
        except ValueError:
            try:
                rel = path.resolve().relative_to(self.documents)
            except (ValueError, OSError, RuntimeError):  # RuntimeError: a symlink loop (Python < 3.13)
                return False
        if not rel.parts:
            return False  # the documents folder itself
        if any(is_ignored_name(part) for part in rel.parts):
            return False
        for candidate in (path, path.parent):
            try:
                if candidate.resolve().is_relative_to(self.index):
                    return False
            except (OSError, RuntimeError):
                pass
        return True

    def note(self, event) -> None:
        """Record a change seen by the file watcher: editor, temporary and hidden files and folder touches are dropped."""
        if event.event_type in _IGNORED_EVENTS:
            return
        if event.is_directory and event.event_type in ("modified", "closed"):
            return  # a folder's mtime changes with every file in it: the file events say more
        paths = [event.src_path, getattr(event, "dest_path", None)]
        if not any(self.relevant(p) for p in paths):
            return
        log.debug("change: %s %s", event.event_type, " -> ".join(str(p) for p in paths if p))
        self.mark()

    def mark(self) -> None:
        """A change is pending from now (the debounce waits from the last one)."""
        with self._lock:
            self.pending = True
            self.last_change = time.monotonic()
            self.events += 1

    def take_if_quiet(self, debounce: float) -> bool:
        """True (and no longer pending) when a change is pending and the folder was quiet long enough."""
        with self._lock:
            if self.pending and time.monotonic() - self.last_change >= debounce:
                self.pending = False
                return True
            return False


def _start_observer(changes: _Changes, polling: bool):
    from watchdog.events import FileSystemEventHandler
    from watchdog.observers import Observer
    from watchdog.observers.polling import PollingObserver

    class Handler(FileSystemEventHandler):
        def on_any_event(self, event) -> None:  # runs in the observer thread
            """Every watchdog event: a change to the documents folder is noted."""
            try:
                changes.note(event)
            except Exception:  # never let a surprise kill the observer thread, but say so: it is a bug
                log.warning("file event %r not handled", event, exc_info=True)

    kinds = [PollingObserver] if polling else [Observer, PollingObserver]
    for kind in kinds:
        observer = kind(timeout=0.5) if kind is PollingObserver else kind()
        try:
            observer.schedule(Handler(), str(changes.documents), recursive=True)
            observer.start()
            return observer
        except OSError as exc:  # e.g. the inotify watch limit: fall back to polling
            if kind is kinds[-1]:
                raise KbBotError(f"cannot watch {changes.documents}: {exc}",
                                 hint="raise fs.inotify.max_user_watches, or refresh without --watch") from None
            log.warning("cannot use file notifications for %s (%s); polling instead", changes.documents, exc)
    raise AssertionError("unreachable")


def watch_documents(
    kb,
    on_report: Callable[[BuildReport], None],
    debounce: float = 2.0,
    *,
    stop_event: threading.Event | None = None,
    max_refreshes: int | None = None,
    lock_timeout: float = 0.0,
    polling: bool = False,
    say: Callable[[str], None] | None = _default_say,
) -> int:
    """Refresh ``kb``'s index whenever its documents folder changes, until stopped; returns the refresh count.

    ``on_report`` gets the report of every refresh that ran. The watch stops on KeyboardInterrupt,
    when ``stop_event`` is set, or after ``max_refreshes`` refreshes (counting failed ones).
    ``lock_timeout``: how long one refresh waits for another to finish before trying again later.
    ``polling``: poll the folder instead of using OS notifications (network drives). ``say``: status
    lines for people (stderr by default; None for silence).
    """
    settings = kb.settings
    documents = Path(settings.documents).resolve()
    if not documents.is_dir():
        raise KbBotError(f"documents folder {settings.documents} does not exist", hint="create it, or pass --documents DIR")
    changes = _Changes(documents, Path(settings.index).resolve())
    stop = stop_event if stop_event is not None else threading.Event()
    debounce = max(float(debounce), 0.0)
    tick = min(0.1, debounce / 2) if debounce > 0 else 0.05
    refreshes = 0
    busy_noted = False

    observer = _start_observer(changes, polling)
    if say:
        say(f"watching {settings.documents} for changes (refresh {debounce:g} s after the last one; Ctrl-C to stop)")
    try:
        while not stop.is_set():
            stop.wait(tick)
            if stop.is_set() or not changes.take_if_quiet(debounce):
                continue
            try:
                report = kb.build(full=False, progress=False, lock_timeout=lock_timeout)
            except IndexBusyError as exc:
                if not busy_noted:
                    log.warning("%s; will retry", exc.message)
                busy_noted = True
                changes.mark()  # try again after another quiet period
                continue
            except KbBotError as exc:
                log.error("refresh failed: %s", exc)
            except Exception:
                log.exception("refresh failed")
            else:
                try:
                    on_report(report)
                except BrokenPipeError:
                    raise
                except Exception:
                    log.exception("reporting a refresh failed")
            busy_noted = False
            refreshes += 1
            if max_refreshes is not None and refreshes >= max_refreshes:
                break
    except KeyboardInterrupt:
        pass
    finally:
        observer.stop()
        observer.join(timeout=5)
    if say:
        say(f"stopped watching {settings.documents} after {refreshes} refresh{'es' if refreshes != 1 else ''}")
    return refreshes
