"""The staff tab (工作人员): login, documents (upload, delete, mark repealed), index refresh, insight.

For a logged-in staff member only. The login itself is a fetch to ``security.LOGIN_PATH`` (an
HttpOnly cookie, answered outside Gradio's queue); every handler here finds the session by that
cookie and ``StaffActions`` checks it again, so hidden widgets are not the only protection.
Staff events never take a citizen's answer slot: cheap ones skip the queue, the refresh has a
group of its own. The insight and staff-answer widgets below are ``insight.py``'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from ..errors import KbBotError
from . import render
from .insight import Insight, build_insight
from .pending import IN_EFFECT, settled
from .security import LOGIN_JS, LOGOUT_JS, StaffSession
from .staff import DOC_HEADERS, NOT_CONFIGURED, DocumentChange, StaffActions, StaffDenied
from .theme import UPLOAD_TYPES
from .wiring import for_gradio, outputs

DELETED_LABEL = "已删除，待更新索引"
#: What a document message says once the refresh has put its change in the index in use (``after_refresh``).
IN_EFFECT_MESSAGES = {
    DocumentChange.UPLOADED: IN_EFFECT + "：{} 已编入索引，问答现在可以引用它。",
    DocumentChange.DELETED: IN_EFFECT + "：{} 已从索引中移除，问答不再引用它。",
    DocumentChange.REPEALED: IN_EFFECT + "：{} 已按已废止编入索引，问答不再引用它；如标记有误，选中该文档点击“撤销废止”。",
    DocumentChange.IN_FORCE: IN_EFFECT + "：{} 已撤销废止并编入索引，问答重新引用它。",
}


@dataclass(frozen=True)
class StaffView:
    """The whole tab after login, logout or a page load: which box shows, messages, the documents."""

    login_box: Any
    staff_box: Any
    login_msg: Any
    who: Any
    docs_table: Any
    delete_choice: Any


@dataclass(frozen=True)
class DocsReloaded:
    """The document list reloaded, or why not."""
    docs_table: Any
    delete_choice: Any
    reload_msg: str


@dataclass(frozen=True)
class Uploaded:
    """The document list after an upload, what happened, and the change the message promises (``pending.py``)."""
    docs_table: Any
    delete_choice: Any
    upload_msg: str
    upload_pending: Any


@dataclass(frozen=True)
class Deleted:
    """The document list after a delete (confirmation box cleared), what happened, the change the message promises."""
    docs_table: Any
    delete_choice: Any
    delete_confirm: Any
    delete_msg: str
    delete_pending: Any


@dataclass(frozen=True)
class Repealed:
    """The document list after a document was marked repealed (or in force again), what happened, and the change
    the message promises (the delete and repeal buttons share one message)."""
    docs_table: Any
    delete_choice: Any
    delete_msg: str
    delete_pending: Any


@dataclass(frozen=True)
class Refreshed:
    """The document list after an index refresh, and its report."""
    docs_table: Any
    delete_choice: Any
    refresh_msg: str


@dataclass(frozen=True)
class DocsSettled:
    """After an index refresh: the document messages (已生效 once the index in use holds their change) and the
    changes still pending."""
    upload_msg: Any
    upload_pending: Any
    delete_msg: Any
    delete_pending: Any


def refused(exc: KbBotError) -> str:
    """A refusal as staff read it: what was not done and, where there is one, what to do."""
    if isinstance(exc, StaffDenied):
        return exc.message
    return render.refusal(exc.message, exc.hint)


class StaffTab:
    """The staff tab: its widgets (``build``), its events (``wire``) and their handlers."""

    def __init__(self, staff: StaffActions):
        self.staff = staff

    def _session(self, request: gr.Request | None) -> StaffSession | None:
        return self.staff.gate.session_of(request) if request is not None else None

    def _docs(self, session: StaffSession | None) -> tuple[list[list[Any]], Any]:
        rows = self.staff.document_rows(session)
        paths = [row[0] for row in rows if row[-1] != DELETED_LABEL]
        return rows, gr.update(choices=paths, value=None)

    # -- handlers ----------------------------------------------------------------------

    def enter(self, request: gr.Request) -> StaffView:
        """Show the documents to a logged-in staff member, else the login form."""
        session = self._session(request)
        if session is None:
            return StaffView(gr.update(visible=True), gr.update(visible=False), gr.update(), "", gr.update(),
                             gr.update())
        try:
            rows, choice = self._docs(session)
        except KbBotError as exc:
            return StaffView(gr.update(visible=True), gr.update(visible=False), refused(exc), "", gr.update(),
                             gr.update())
        return StaffView(gr.update(visible=False), gr.update(visible=True), "",
                         f"已登录：**{render.esc(session.user)}**", rows, choice)

    def logout(self, request: gr.Request) -> StaffView:
        """The login form again (the cookie was already dropped by the logout fetch)."""
        return StaffView(gr.update(visible=True), gr.update(visible=False), "已退出登录。", "", [],
                         gr.update(choices=[]))

    def reload(self, request: gr.Request) -> DocsReloaded:
        """The document list again."""
        try:
            rows, choice = self._docs(self._session(request))
        except KbBotError as exc:
            return DocsReloaded(gr.update(), gr.update(), refused(exc))
        return DocsReloaded(rows, choice, "")

    def upload(self, file_path: str | None, replace: bool, request: gr.Request) -> Uploaded:
        """Save an uploaded file in the documents folder (replacing one of the same name only when asked)."""
        session = self._session(request)
        try:
            saved = self.staff.upload(session, file_path, replace=bool(replace))
            rows, choice = self._docs(session)
        except KbBotError as exc:
            return Uploaded(gr.update(), gr.update(), refused(exc), "")  # the refusal promises nothing
        return Uploaded(rows, choice, f"**已上传**  {render.text_html(saved)}{'（已替换同名文件）' if replace else ''}。"
                                      "点击“更新索引”后即可用于问答。", DocumentChange(DocumentChange.UPLOADED, saved))

    def delete(self, relpath: str, confirmed: bool, request: gr.Request) -> Deleted:
        """Delete the chosen document once the confirmation box is ticked."""
        session = self._session(request)
        try:
            deleted = self.staff.delete(session, relpath, bool(confirmed))
            rows, choice = self._docs(session)
        except KbBotError as exc:
            return Deleted(gr.update(), gr.update(), gr.update(), refused(exc), "")
        return Deleted(rows, choice, False, f"**已删除**  {render.text_html(deleted)}。点击“更新索引”后，问答将不再引用它。",
                       DocumentChange(DocumentChange.DELETED, deleted))

    def repeal(self, relpath: str, request: gr.Request) -> Repealed:
        """Mark the chosen document repealed; the next refresh stops quoting it. The list shows the mark at once
        (状态: 已索引 · 已废止), and 撤销废止 takes it out again (``restore``)."""
        return self._mark(relpath, request, in_force=False)

    def restore(self, relpath: str, request: gr.Request) -> Repealed:
        """Undo a repeal: the document is in force again after the next refresh."""
        return self._mark(relpath, request, in_force=True)

    def _mark(self, relpath: str, request: gr.Request, in_force: bool) -> Repealed:
        session = self._session(request)
        try:
            marked = self.staff.mark_repealed(session, relpath, in_force)
            rows, choice = self._docs(session)
        except KbBotError as exc:
            return Repealed(gr.update(), gr.update(), refused(exc), "")
        if in_force:
            return Repealed(rows, choice, f"**已撤销废止**  {render.text_html(marked)}。点击“更新索引”后，问答将重新引用它。",
                            DocumentChange(DocumentChange.IN_FORCE, marked))
        return Repealed(rows, choice, f"**已标记为已废止**  {render.text_html(marked)}。点击“更新索引”后，问答将不再引用它；"
                                      "如标记有误，选中该文档点击“撤销废止”。", DocumentChange(DocumentChange.REPEALED, marked))

    def refresh(self, request: gr.Request) -> Refreshed:
        """Refresh the index (the old one answers until the new one is ready) and report what changed."""
        session = self._session(request)
        try:
            report = self.staff.refresh(session)
            rows, choice = self._docs(session)
        except KbBotError as exc:
            return Refreshed(gr.update(), gr.update(), refused(exc))
        return Refreshed(rows, choice, render.report_markdown(report))

    def after_refresh(self, upload_pending: Any, delete_pending: Any, request: gr.Request) -> DocsSettled:
        """After 更新索引 (run whether it worked or not): each document message whose change the index in use now
        holds says 已生效; the others are left as they were, still true (``pending.py``)."""
        changes = [c if isinstance(c, DocumentChange) else None for c in (upload_pending, delete_pending)]
        if not any(changes):
            return DocsSettled(gr.update(), gr.update(), gr.update(), gr.update())
        try:
            documents = {d.path: d for d in self.staff.documents(self._session(request))}
        except KbBotError:  # logged out meanwhile, or the index unreadable: nothing is known to be in effect
            return DocsSettled(gr.update(), gr.update(), gr.update(), gr.update())
        upload, delete = (settled(IN_EFFECT_MESSAGES[c.kind].format(render.text_html(c.path))
                                  if c is not None and c.in_index(documents) else None) for c in changes)
        return DocsSettled(*upload, *delete)

    # -- widgets and events ----------------------------------------------------------------

    def build(self) -> None:
        """The tab's widgets, in the current Blocks context (inside the staff ``gr.Tab``)."""
        configured = self.staff.configured
        gr.Markdown(NOT_CONFIGURED if not configured else "本页仅供区里的工作人员管理文档。请使用管理员账号登录。",
                    elem_id="kb-staff-note")
        with gr.Column(visible=True) as self.login_box:
            self.user = gr.Textbox(label="用户名", max_lines=1, interactive=configured, elem_id="kb-staff-user")
            self.password = gr.Textbox(label="密码", type="password", max_lines=1, interactive=configured,
                                       elem_id="kb-staff-password")
            self.login_btn = gr.Button("登录", variant="primary", interactive=configured, elem_id="kb-staff-login")
        self.login_msg = gr.Markdown(elem_id="kb-staff-login-msg")
        with gr.Column(visible=False) as self.staff_box:
            self._build_documents()
            self.insight: Insight = build_insight(self.staff)

    def _build_documents(self) -> None:
        with gr.Row():
            self.who = gr.Markdown()
            self.logout_btn = gr.Button("退出登录", size="sm", scale=0, elem_id="kb-staff-logout")
        gr.Markdown("#### 文档列表")
        self.docs_table = gr.Dataframe(headers=DOC_HEADERS, value=[], interactive=False, wrap=True,
                                       column_widths=["24%", "30%", "9%", "8%", "15%", "14%"], elem_id="kb-docs")
        self.reload_btn = gr.Button("刷新列表", size="sm")
        self.reload_msg = gr.Markdown()
        gr.Markdown(f"#### 上传文档\n支持 {' '.join(UPLOAD_TYPES)}，单个文件不超过 "
                    f"{self.staff.settings.upload_max_mb:g} MB。上传后点击“更新索引”生效。")
        self.replace_box = gr.Checkbox(label="替换同名文件（不勾选时，已有同名文件会拒绝上传）", value=False,
                                       elem_id="kb-replace")
        # No file_types: Gradio's own check of them refuses in English. The server checks the type (message in
        # Chinese) and the page script filters the file chooser (theme.PAGE_FIXES_JS).
        self.upload_btn = gr.UploadButton("选择文件并上传", type="filepath", file_count="single",
                                          elem_id="kb-upload-btn")
        self.upload_msg = gr.Markdown(elem_id="kb-upload-msg")
        self.upload_pending = gr.State("")  # the DocumentChange upload_msg promises for the next refresh
        gr.Markdown("#### 删除文档")
        self.delete_choice = gr.Dropdown(label="选择文档", choices=[], elem_id="kb-delete-choice")
        self.delete_confirm = gr.Checkbox(label="确认删除（删除后需“更新索引”才会从问答中移除）", value=False)
        self.delete_btn = gr.Button("删除", variant="stop", elem_id="kb-delete-btn")
        self.delete_msg = gr.Markdown(elem_id="kb-delete-msg")
        self.delete_pending = gr.State("")  # the DocumentChange delete_msg promises (delete, repeal, undo a repeal)
        with gr.Row():
            self.repeal_btn = gr.Button("标记为已废止", elem_id="kb-repeal-btn")
            self.restore_btn = gr.Button("撤销废止", elem_id="kb-restore-btn")
        gr.Markdown("#### 更新索引\n更新期间问答继续使用旧索引；新索引完成后自动切换，无需重启服务。")
        self.refresh_btn = gr.Button("更新索引", variant="primary", elem_id="kb-refresh-btn")
        self.refresh_msg = gr.Markdown(elem_id="kb-refresh-msg")

    def wire(self, demo: gr.Blocks) -> None:
        """Login, logout, page load (a staff member reloading the page stays logged in) and the document actions."""
        private = {"api_visibility": "private", "show_progress": "hidden"}
        quick = {"queue": False, **private}
        view = outputs(StaffView, self)
        for trigger in (self.login_btn.click, self.password.submit):
            trigger(None, [self.user, self.password], [self.login_msg, self.password], js=LOGIN_JS,
                    api_visibility="private").then(for_gradio(self.enter), None, view, api_name="staff_enter",
                                                   **quick).then(**self.insight.list_answers, **quick)
        self.logout_btn.click(None, None, None, js=LOGOUT_JS, api_visibility="private").then(
            for_gradio(self.logout), None, view, api_name="staff_logout", **quick)
        demo.load(for_gradio(self.enter), None, view, api_name="staff_enter", **quick).then(
            **self.insight.list_answers, **quick)
        self.reload_btn.click(for_gradio(self.reload), None, outputs(DocsReloaded, self), api_name="staff_reload",
                              **quick)
        self.upload_btn.upload(for_gradio(self.upload), [self.upload_btn, self.replace_box], outputs(Uploaded, self),
                               api_name="staff_upload", **quick)
        self.delete_btn.click(for_gradio(self.delete), [self.delete_choice, self.delete_confirm],
                              outputs(Deleted, self), api_name="staff_delete", **quick)
        self.repeal_btn.click(for_gradio(self.repeal), [self.delete_choice], outputs(Repealed, self),
                              api_name="staff_repeal", **quick)
        self.restore_btn.click(for_gradio(self.restore), [self.delete_choice], outputs(Repealed, self),
                               api_name="staff_restore", **quick)
        # Our own "in progress" line: Gradio's progress text would be English ("processing | 3.1s").
        self.refresh_btn.click(lambda: "正在更新索引，请稍候……", None, self.refresh_msg, **quick).then(
            for_gradio(self.refresh), None, outputs(Refreshed, self), api_name="staff_refresh",
            concurrency_id="kb-refresh", concurrency_limit=1, **private).then(
            **self.insight.after_refresh, **quick).then(  # a staff answer "生效 after the refresh" is in effect now
            for_gradio(self.after_refresh), [self.upload_pending, self.delete_pending], outputs(DocsSettled, self),
            **quick)  # and so is a document change whose message said "点击“更新索引”后…"
