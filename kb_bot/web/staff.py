"""The staff tab's actions, separate from the widgets so they can be tested without a browser.

A staff *session* is the value of a per-browser ``gr.State``: ``None`` when logged out, or
``{"user": ..., "at": unix_time}`` after a successful login. Gradio keeps that value on
the server (a client cannot forge it), and every action here checks it again: the login
must still match the configured credentials and be younger than :data:`SESSION_SECONDS`.
When ``KB_BOT_ADMIN_USER`` / ``KB_BOT_ADMIN_PASSWORD`` are unset, every action refuses.
"""

from __future__ import annotations

import hmac
import logging
import threading
import time
from pathlib import Path
from typing import Any

from .. import admin
from ..errors import IndexBusyError, KbBotError
from . import render

log = logging.getLogger(__name__)

SESSION_SECONDS = 8 * 3600
FAILED_LOGIN_DELAY = 1.0

NOT_CONFIGURED = (
    "**管理功能未启用**：服务器没有设置管理员账号。请设置环境变量 `KB_BOT_ADMIN_USER` 和 "
    "`KB_BOT_ADMIN_PASSWORD` 后重启 `kb-bot serve`。"
)
NOT_LOGGED_IN = "**无权操作**：请先使用管理员账号登录，再进行此操作。"
BAD_LOGIN = "**登录失败**：用户名或密码错误。"

DOC_HEADERS = ["文件", "标题", "大小", "片段", "最近索引", "状态"]


class StaffDenied(KbBotError):
    """A staff action without a valid login, or with staff access not configured."""


class StaffActions:
    """Login, document list, upload, delete and index refresh for one knowledge base."""

    def __init__(self, kb: Any):
        self.kb = kb
        self._refresh_lock = threading.Lock()

    @property
    def settings(self):
        return self.kb.settings

    # -- access ------------------------------------------------------------------------

    @property
    def configured(self) -> bool:
        return bool(self.settings.admin_user) and bool(self.settings.admin_password)

    def login(self, user: str | None, password: str | None) -> dict:
        """A new session for correct credentials; raises StaffDenied otherwise."""
        if not self.configured:
            raise StaffDenied(NOT_CONFIGURED)
        user_ok = hmac.compare_digest((user or "").strip().encode("utf-8"), self.settings.admin_user.encode("utf-8"))
        password_ok = hmac.compare_digest((password or "").encode("utf-8"), self.settings.admin_password.encode("utf-8"))
        if not (user_ok and password_ok):
            log.warning("failed staff login for user %r", (user or "")[:40])
            time.sleep(FAILED_LOGIN_DELAY)
            raise StaffDenied(BAD_LOGIN)
        log.info("staff login: %s", self.settings.admin_user)
        return {"user": self.settings.admin_user, "at": time.time()}

    def is_staff(self, session: Any) -> bool:
        if not self.configured or not isinstance(session, dict):
            return False
        user, at = session.get("user"), session.get("at")
        if not isinstance(user, str) or not isinstance(at, (int, float)):
            return False
        if not hmac.compare_digest(user.encode("utf-8"), self.settings.admin_user.encode("utf-8")):
            return False
        return 0 <= time.time() - at < SESSION_SECONDS

    def require(self, session: Any) -> None:
        """Raise StaffDenied unless ``session`` is a valid staff login."""
        if not self.configured:
            raise StaffDenied(NOT_CONFIGURED)
        if not self.is_staff(session):
            raise StaffDenied(NOT_LOGGED_IN)

    # -- documents ---------------------------------------------------------------------

    def documents(self, session: Any) -> list[admin.DocumentInfo]:
        self.require(session)
        return admin.list_documents(self.settings)

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
        if not file_path:
            raise KbBotError("请先选择要上传的文件 / choose a file to upload first")
        path = Path(file_path)
        name = filename or path.name
        admin.sanitize_filename(name)  # a bad name or type is reported before the size
        try:
            size = path.stat().st_size
        except OSError:
            raise KbBotError("上传的文件已失效，请重新选择 / the uploaded file is gone, choose it again") from None
        admin.check_upload_size(self.settings, size)  # before reading a huge file into memory
        saved = admin.save_upload(self.settings, name, path.read_bytes(), replace=replace)
        log.info("staff uploaded %s%s", saved, " (replaced)" if replace else "")
        return saved

    def delete(self, session: Any, relpath: str, confirmed: bool = True) -> str:
        self.require(session)
        if not relpath:
            raise KbBotError("请先选择要删除的文档 / choose a document to delete")
        if not confirmed:
            raise KbBotError("请勾选“确认删除”后再删除 / tick the confirmation box first")
        deleted = admin.delete_document(self.settings, relpath)
        log.info("staff deleted %s", deleted)
        return deleted

    def mark_repealed(self, session: Any, relpath: str) -> str:
        """Mark a document repealed (front matter); the next refresh stops quoting it."""
        self.require(session)
        if not relpath:
            raise KbBotError("请先选择文档 / choose a document first")
        marked = admin.mark_repealed(self.settings, relpath)
        log.info("staff marked %s repealed", marked)
        return marked

    def refresh(self, session: Any) -> dict:
        """Refresh the index; the old index keeps answering until the new one is published."""
        self.require(session)
        if not self._refresh_lock.acquire(blocking=False):
            raise IndexBusyError("另一次索引更新正在进行，请稍后再试 / a refresh is already running, try again shortly")
        try:
            report = self.kb.build(full=False)
        except IndexBusyError:
            raise IndexBusyError("另一次索引更新（可能来自命令行）正在进行，请稍后再试 / "
                                 "another build or refresh holds the index lock, try again shortly") from None
        finally:
            self._refresh_lock.release()
        try:
            _ = self.kb.retriever  # load the new generation now, so the next question does not wait for it
        except KbBotError as exc:
            log.warning("could not load the new index yet: %s", exc)
        return report.to_json()
