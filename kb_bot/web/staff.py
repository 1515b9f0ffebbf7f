"""The staff tab's actions, separate from the widgets so they can be tested without a browser.

A staff *session* is a :class:`~kb_bot.web.security.StaffSession` found by the secret in the
browser's ``HttpOnly`` cookie (``security.StaffGate.session_of(request)``); the login itself is
answered by ``security.SecurityMiddleware``, outside Gradio's queue. Every action here checks
the session again (still live: idle and absolute expiry) and is written to the audit log.
When ``KB_BOT_ADMIN_USER`` / ``KB_BOT_ADMIN_PASSWORD`` are unset, every action refuses.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import legal
from ..engine import KnowledgeBase
from ..errors import IndexBusyError, KbBotError
from ..settings import Settings
from ..staff.admin import DocumentInfo
from . import render
from .facade import WebKB, web_kb
from .security import StaffGate, StaffSession

log = logging.getLogger(__name__)

#: The audit log of staff actions, in the index folder (JSON lines).
AUDIT_LOG_NAME = "staff_audit.jsonl"

NOT_CONFIGURED = (
    "**管理功能未启用**：服务器没有设置管理员账号。请设置环境变量 `KB_BOT_ADMIN_USER` 和 "
    "`KB_BOT_ADMIN_PASSWORD` 后重启 `kb-bot serve`。"
)
NOT_LOGGED_IN = "**无权操作**：请先使用管理员账号登录，再进行此操作。"
BAD_LOGIN = "**登录失败**：用户名或密码错误。"

DOC_HEADERS = ["文件", "标题", "大小", "片段", "最近索引", "状态"]


class StaffDenied(KbBotError):
    """A staff action without a valid login, or with staff access not configured."""


@dataclass(frozen=True)
class DocumentChange:
    """A staff change to a document that the index takes in with the next refresh: what a message saying
    "点击“更新索引”后…" promises (see ``pending.py``)."""

    UPLOADED, DELETED, REPEALED, IN_FORCE = "uploaded", "deleted", "repealed", "in force"

    kind: str
    path: str

    def in_index(self, documents: Mapping[str, DocumentInfo]) -> bool:
        """True once the index generation in use holds the change (``documents``: the rows of
        :meth:`StaffActions.documents` by path). "indexed" means the index holds the file byte for byte as it is on
        disk; the repeal mark is checked too, so a file edited again since the mark is not reported as the mark."""
        row = documents.get(self.path)
        if self.kind == self.DELETED:
            return row is None  # neither on disk nor in the index (a file uploaded again under its name is not gone)
        if row is None or row.status != "indexed":
            return False
        if self.kind == self.REPEALED:
            return row.legal_status == legal.REPEALED
        if self.kind == self.IN_FORCE:
            return row.legal_status is None
        return True


_BY_KB: "weakref.WeakKeyDictionary[WebKB, StaffActions]" = weakref.WeakKeyDictionary()


def staff_for(kb: KnowledgeBase | WebKB) -> "StaffActions":
    """The one ``StaffActions`` of a knowledge base: the app's handlers and its middleware share its sessions."""
    web = web_kb(kb)
    actions = _BY_KB.get(web)
    if actions is None:
        actions = _BY_KB[web] = StaffActions(web)
    return actions


class StaffActions:
    """Login, document list, upload, delete and index refresh for one knowledge base."""

    def __init__(self, kb: KnowledgeBase | WebKB, gate: StaffGate | None = None):
        self.web = web_kb(kb)
        settings = self.web.settings
        self.gate = gate or StaffGate(settings.admin_user, settings.admin_password, settings.index / AUDIT_LOG_NAME)
        self._refresh_lock = threading.Lock()

    @property
    def settings(self) -> Settings:
        """The settings of the knowledge base."""
        return self.web.settings

    # -- access ------------------------------------------------------------------------

    @property
    def configured(self) -> bool:
        """True when a staff user and password are set."""
        return bool(self.settings.admin_user) and bool(self.settings.admin_password)

    def is_staff(self, session: Any) -> bool:
        """True for a live session of this app's gate (a forged or expired one is not)."""
        if not self.configured or not isinstance(session, StaffSession):
            return False
        return self.gate.sessions.check(session.token) is session

    def require(self, session: Any) -> None:
        """Raise StaffDenied unless ``session`` is a valid staff login."""
        if not self.configured:
            raise StaffDenied(NOT_CONFIGURED)
        if not self.is_staff(session):
            raise StaffDenied(NOT_LOGGED_IN)

    def audit(self, session: StaffSession, action: str, document: str | None = None, outcome: str = "ok") -> None:
        """Write one line of the staff audit log: who did what to which document, and how it went."""
        self.gate.audit.write(action, session.user, session.client, document, outcome)

    # -- documents ---------------------------------------------------------------------

    def documents(self, session: Any) -> list[DocumentInfo]:
        """Every document on disk or in the index (staff only)."""
        self.require(session)
        return self.web.documents()

    def document_rows(self, session: Any) -> list[list[Any]]:
        """The document list as table rows (see DOC_HEADERS)."""
        return [
            [d.path, d.title or "", render.human_size(d.size),
             "" if d.chunks is None else d.chunks, render.local_time(d.indexed_at), d.status_label]
            for d in self.documents(session)
        ]

    def upload(self, session: Any, file_path: str | Path, filename: str | None = None, replace: bool = False) -> str:
        """Copy an uploaded file (already on disk, e.g. in Gradio's cache) into the documents folder."""
        self.require(session)
        try:
            saved = self._upload(file_path, filename, replace)
        except KbBotError as exc:
            self.audit(session, "upload", filename or (Path(file_path).name if file_path else None),
                        f"refused: {exc.message}")
            raise
        self.audit(session, "upload (replace)" if replace else "upload", saved)
        return saved

    def _upload(self, file_path: str | Path, filename: str | None, replace: bool) -> str:
        if not file_path:
            raise KbBotError("请先选择要上传的文件 / choose a file to upload first")
        path = Path(file_path)
        name = filename or path.name
        try:
            size = path.stat().st_size
        except OSError:
            raise KbBotError("上传的文件已失效，请重新选择 / the uploaded file is gone, choose it again") from None
        self.web.check_upload(name, size)  # a bad name or type, then the size, before reading a huge file
        saved = self.web.save_upload(name, path.read_bytes(), replace=replace)
        log.info("staff uploaded %s%s", saved, " (replaced)" if replace else "")
        return saved

    def delete(self, session: Any, relpath: str, confirmed: bool = True) -> str:
        """Delete a document (staff only, after confirmation); the next refresh drops it from the index."""
        self.require(session)
        try:
            deleted = self._delete(relpath, confirmed)
        except KbBotError as exc:
            self.audit(session, "delete", relpath, f"refused: {exc.message}")
            raise
        self.audit(session, "delete", deleted)
        return deleted

    def _delete(self, relpath: str, confirmed: bool) -> str:
        if not relpath:
            raise KbBotError("请先选择要删除的文档 / choose a document to delete")
        if not confirmed:
            raise KbBotError("请勾选“确认删除”后再删除 / tick the confirmation box first")
        deleted = self.web.delete_document(relpath)
        log.info("staff deleted %s", deleted)
        return deleted

    def mark_repealed(self, session: Any, relpath: str, in_force: bool = False) -> str:
        """Mark a document repealed (front matter), or in force again (``in_force``: the mark taken out); the next
        refresh stops or starts quoting it."""
        self.require(session)
        if not relpath:
            raise KbBotError("请先选择文档 / choose a document first")
        action = "mark in force" if in_force else "mark repealed"
        try:
            marked = self.web.mark_in_force(relpath) if in_force else self.web.mark_repealed(relpath)
        except KbBotError as exc:
            self.audit(session, action, relpath, f"refused: {exc.message}")
            raise
        self.audit(session, action, marked)
        log.info("staff: %s %s", action, marked)
        return marked

    def refresh(self, session: Any) -> dict:
        """Refresh the index; the old index keeps answering until the new one is published."""
        self.require(session)
        if not self._refresh_lock.acquire(blocking=False):
            self.audit(session, "refresh", outcome="refused: already running")
            raise IndexBusyError("另一次索引更新正在进行，请稍后再试 / a refresh is already running, try again shortly")
        try:
            report = self.web.refresh()  # the old index answers until the new one is published and loaded
        except IndexBusyError:
            self.audit(session, "refresh", outcome="refused: index locked")
            raise IndexBusyError("另一次索引更新（可能来自命令行）正在进行，请稍后再试 / "
                                 "another build or refresh holds the index lock, try again shortly") from None
        except KbBotError as exc:
            self.audit(session, "refresh", outcome=f"failed: {exc.message}")
            raise
        finally:
            self._refresh_lock.release()
        self.audit(session, "refresh", outcome=f"ok: {len(report.added)} added, {len(report.changed)} changed, "
                                                f"{len(report.removed)} removed")
        return report.to_json()
