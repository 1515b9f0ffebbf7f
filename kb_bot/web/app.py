"""The web app: citizen chat, enterprise support lookup and a staff tab, on Gradio.

``serve(kb)`` runs it (``kb-bot serve``); ``build_app(kb)`` returns the ``gr.Blocks`` for tests.

* 市民问答 — a chat whose answers stream in, with expandable source cards (the answering
  sentences marked), example questions from the topic guide, suggested topics when the
  articles do not answer, and thumbs up/down appended to ``kb.settings.feedback_path``.
* 企业服务 — the topic guide (financing, hiring, utilities, ...), searchable within a topic;
  an entry opens its passage and the whole article.
* 工作人员 — for a logged-in staff user only: documents with size, chunks and indexing time;
  upload, delete, and refresh the index (questions keep being answered from the old index
  until the new one is published, then from the new one, without a restart).

The answer function behind the chat is also the named API endpoint ``/ask``
(``Client(url).predict(question, api_name="/ask")`` returns ``answer_to_json``'s dict).
All UI-only events are private. Analytics are off and the theme uses system fonts only,
so the app makes no outside requests.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import gradio as gr  # noqa: E402

from .. import legal  # noqa: E402
from ..errors import KbBotError  # noqa: E402
from . import render  # noqa: E402
from .feedback import append_feedback, feedback_record, rating_of  # noqa: E402
from .insight import build_insight, understood_html  # noqa: E402
from .security import LOGIN_JS, LOGOUT_JS, security_middleware  # noqa: E402
from .staff import DOC_HEADERS, NOT_CONFIGURED, StaffDenied, staff_for  # noqa: E402

log = logging.getLogger(__name__)

APP_TITLE = "上街区政策问答"
APP_DESCRIPTION = "依据上街区公开发布的政策与新闻文章，为市民和企业解答问题，并注明原文出处。"
MAX_QUESTION_CHARS = 300
STREAM_STEP_CHARS = 3
STREAM_DELAY = 0.02
QUEUE_PER_WORKER = 16
ALL_TOPICS = "__all__"

# Chinese fonts first: a generic family alone may fall back to Japanese glyph forms on Linux.
FONTS = ["PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC",
         "WenQuanYi Micro Hei", "system-ui", "-apple-system", "sans-serif"]
MONO_FONTS = ["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "Noto Sans Mono CJK SC", "monospace"]

CSS = """
.gradio-container { max-width: 1000px !important; margin: 0 auto !important; }
#kb-header { padding: 6px 2px 2px; }
#kb-header h1 { font-size: 1.6rem; font-weight: 700; margin: 0 0 4px; letter-spacing: .02em; }
#kb-header p { margin: 0; color: var(--body-text-color-subdued); line-height: 1.6; }
.kb-answer { line-height: 1.8; }
.kb-answer .kb-ref { color: var(--color-accent); font-size: .72em; margin: 0 1px; }
.kb-cursor { color: var(--color-accent); animation: kb-blink 1s steps(1) infinite; }
@keyframes kb-blink { 50% { opacity: 0; } }
.kb-notfound { color: var(--body-text-color); }
.kb-related { border-left: 4px solid #b45309; padding-left: .7em; }
.kb-badge { display: inline-block; font-size: .78em; font-weight: 600; padding: .05em .6em; border-radius: 999px;
            margin-bottom: .3em; }
.kb-badge-related { background: #fef3c7; color: #7c2d12; }
.kb-suggest { margin-top: .4em; font-size: .9em; color: var(--body-text-color-subdued); }
.kb-sources { margin-top: .7em; }
.kb-sources-title { font-size: .85em; color: var(--body-text-color-subdued); margin-bottom: .2em; }
details.kb-card { border: 1px solid var(--border-color-primary); border-radius: 10px; padding: .45em .75em;
                  margin: .4em 0; background: var(--background-fill-primary); }
details.kb-card > summary { cursor: pointer; line-height: 1.55; }
.kb-num { display: inline-block; min-width: 1.5em; padding: 0 .3em; border-radius: 999px; text-align: center;
          background: var(--color-accent); color: #fff; font-size: .75em; font-weight: 600; }
.kb-where { font-size: .85em; color: var(--body-text-color-subdued); }
blockquote.kb-quote { margin: .55em 0 .35em !important; padding: .15em .8em !important; line-height: 1.8;
                      border-left: 3px solid var(--color-accent) !important; font-style: normal !important; }
.kb-answer mark, .kb-quote mark, .kb-article-text mark { background: #fde68a; color: #1f2937; padding: 0 .1em;
                                                         border-radius: 3px; }
.kb-doc { font-size: .8em; color: var(--body-text-color-subdued); }
.kb-entry h3 { margin: .2em 0 .1em; font-size: 1.1rem; }
.kb-entry-topic { display: inline-block; font-size: .8em; padding: .05em .6em; border-radius: 999px;
                  background: var(--color-accent-soft); color: var(--color-accent); }
.kb-article-text p { line-height: 1.8; margin: .5em 0; }
#kb-entries .wrap { flex-direction: column; align-items: stretch; }
#kb-entries label { width: 100%; }
.kb-muted { color: var(--body-text-color-subdued); font-size: .9em; }
footer { display: none !important; }
#kb-docs table { font-size: .88em; }
@media (max-width: 520px) {
  #kb-header h1 { font-size: 1.3rem; }
  #kb-header p { font-size: .9rem; }
}
"""

# Gradio scopes rules inside @media to the app's content, so the page padding is set from <head>.
HEAD = """<style>
@media (max-width: 520px) {
  .gradio-container .main.app { padding-left: 8px !important; padding-right: 8px !important; }
}
</style>"""


# After an answer: when it is taller than the chat (a phone), show its first line rather than the end of
# its last source card. After Gradio's own scroll-to-bottom, hence the delay.
SHOW_ANSWER_START = """() => { setTimeout(() => {
  const wrap = document.querySelector('#kb-chat .bubble-wrap');
  const rows = document.querySelectorAll('#kb-chat .message-row.bot-row');
  const last = rows[rows.length - 1];
  if (!wrap || !last || last.offsetHeight <= wrap.clientHeight) return;
  const top = last.getBoundingClientRect().top - wrap.getBoundingClientRect().top + wrap.scrollTop;
  wrap.scrollTo({top: top - 8, behavior: 'instant'});
}, 400); }"""


def make_theme() -> gr.themes.Base:
    """A light theme on the system's fonts (nothing fetched from the network)."""
    # Grey text at slate-600 (7.6:1 on white) and placeholders at slate-500 (4.8:1): WCAG AA, where the
    # theme's slate-400 gave 2.5:1.
    return gr.themes.Soft(primary_hue="blue", secondary_hue="sky", neutral_hue="slate",
                          font=FONTS, font_mono=MONO_FONTS, radius_size="md").set(
        body_text_color_subdued="*neutral_600", input_placeholder_color="*neutral_500")


#: Gradio's own interface strings that its Chinese translation lacks (shown in English otherwise).
UI_TRANSLATIONS = {"chatbot.copy_message": "复制消息", "chatbot.copied_message": "已复制", "chatbot.retry": "重试",
                   "chatbot.undo": "撤销", "chatbot.edit": "编辑", "chatbot.submit": "提交", "chatbot.cancel": "取消"}


def launch_options(kb: Any) -> dict[str, Any]:
    """``launch()`` arguments shared by ``serve`` and tests: theme, CSS, upload limit, no SSR, no footer."""
    return {
        "theme": make_theme(),
        "css": CSS,
        "head": HEAD,
        "ssr_mode": False,
        "footer_links": [],
        "max_file_size": int(kb.settings.upload_max_mb * 1024 * 1024),
        "show_error": False,  # an unexpected error shows a generic message, not Python internals
        "i18n": gr.I18n(**{"zh-CN": UI_TRANSLATIONS, "zh": UI_TRANSLATIONS}),
        # Security headers (CSP), staff login outside the queue, per-client limits; no public /monitoring.
        "enable_monitoring": False,
        "app_kwargs": {"middleware": [security_middleware(staff_for(kb).gate, kb.settings.rate_limit_per_minute)]},
    }


# --------------------------------------------------------------------------- the knowledge base behind the UI


def _message_text(message: Any) -> str:
    """The text of a chat message, whether its content is a string or a list of parts."""
    if isinstance(message, dict):
        content = message.get("content")
    else:
        content = getattr(message, "content", message)
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        return str(content.get("text", ""))
    if isinstance(content, (list, tuple)):
        return " ".join(str(p.get("text", "")) if isinstance(p, dict) else str(p) for p in content)
    return ""


def clean_text(text: Any) -> str:
    """Text from a client as proper Unicode: lone surrogates (not encodable) and control characters become spaces."""
    text = text if isinstance(text, str) else ("" if text is None else str(text))
    return "".join(" " if (0xD800 <= ord(ch) <= 0xDFFF or (ord(ch) < 32 and ch not in "\t\n")) else ch
                   for ch in text)


def _role(message: Any) -> str | None:
    return message.get("role") if isinstance(message, dict) else getattr(message, "role", None)


class Backend:
    """What the UI needs from the knowledge base: answers, the topic guide, article texts."""

    def __init__(self, kb: Any):
        from ..questionlog import QuestionLog

        self.kb = kb
        self._articles: dict[tuple[str, float, int], str] = {}
        self.question_log = QuestionLog(kb.settings.question_log_path, kb.settings.log_retention_days)

    def ask(self, question: str, history: Any = ()):
        """Answer (a follow-up completed from ``history``, the earlier questions) and log the question."""
        return self.answer(question, history)[0]

    def answer(self, question: str, history: Any = ()) -> tuple[Any, str]:
        """(answer, id of its line in the question log, for feedback)."""
        if isinstance(history, str):  # an API client sending one earlier question as a plain string
            history = [history]
        earlier = [" ".join(str(q).split())[:MAX_QUESTION_CHARS] for q in (history or ()) if str(q).strip()]
        answer = self.kb.ask(" ".join(clean_text(question).split())[:MAX_QUESTION_CHARS], earlier)
        return answer, self.question_log.record(answer)

    def guide(self):
        """The topic guide of the current index (the engine recomputes it after a refresh)."""
        try:
            return self.kb.topics()
        except KbBotError as exc:
            log.warning("no topic guide: %s", exc)
            return None

    def groups(self) -> list:
        guide = self.guide()
        return [g for g in getattr(guide, "groups", ()) if g.entries]

    def article(self, doc: str) -> str | None:
        """The clean text of a document (as the loader reads it), or None when it is gone."""
        from ..loading import DocumentError, load_file

        folder = self.kb.settings.documents
        path = folder / doc
        try:
            if not path.resolve().is_relative_to(folder.resolve()):
                return None
            stat = path.stat()
        except (OSError, RuntimeError):  # RuntimeError: a symlink loop
            return None
        key = (doc, stat.st_mtime, stat.st_size)
        if key not in self._articles:
            try:
                self._articles[key] = load_file(path, folder, self.kb.settings.max_file_bytes,
                                                     self.kb.settings.max_file_seconds).text
            except (DocumentError, OSError):
                return None
            if len(self._articles) > 256:
                self._articles.pop(next(iter(self._articles)))
        return self._articles[key]


# --------------------------------------------------------------------------- app


def build_app(kb: Any) -> gr.Blocks:
    """The Gradio app for ``kb`` (not launched). Use ``launch_options(kb)`` when launching."""
    backend = Backend(kb)
    staff = staff_for(kb)
    settings = kb.settings
    concurrency = max(1, int(settings.concurrency))

    def api_ask(question: str, history: list[str] | None = None) -> dict:
        """Answer a question from the documents: {question, found, status, confidence, answer, citations,
        suggestions, understood_as}. ``history``: the earlier questions of the conversation, oldest first (optional)."""
        from ..answer import answer_to_json

        answer = backend.ask(question, history or ())
        return dict(answer_to_json(answer), understood_as=answer.understood_as)

    # ---------------------------------------------------------------- citizen chat handlers

    def add_question(text: str, history: list):
        text = " ".join(clean_text(text).split())
        if not text:
            return gr.update(), history
        if len(text) > MAX_QUESTION_CHARS:  # said, not cut silently
            gr.Warning(f"问题较长，只按前 {MAX_QUESTION_CHARS} 个字回答。")
        return "", list(history or []) + [{"role": "user", "content": text[:MAX_QUESTION_CHARS]}]

    def respond(history: list, records: dict):
        from ..answer import answer_to_json

        history = list(history or [])
        records = dict(records or {})
        if not history or _role(history[-1]) != "user":
            yield list(history), dict(records)
            return
        question = _message_text(history[-1]).strip()
        earlier = [_message_text(m).strip() for m in history[:-1] if _role(m) == "user"]
        history.append({"role": "assistant", "content": '<div class="kb-answer kb-muted">正在查找相关政策……</div>'})
        yield list(history), dict(records)
        try:
            answer, log_id = backend.answer(question, earlier)
        except KbBotError as exc:
            log.warning("answering %r failed: %s", question, exc)
            history[-1] = {"role": "assistant",
                           "content": f'<div class="kb-answer kb-notfound">抱歉，系统暂时无法回答：{render.esc(exc.message)}</div>'}
            yield list(history), dict(records)
            return
        understood = understood_html(answer)
        for partial in render.stream_answer(answer, STREAM_STEP_CHARS):
            history[-1] = {"role": "assistant", "content": understood + partial}
            yield list(history), dict(records)
            time.sleep(STREAM_DELAY)
        final: dict[str, Any] = {"role": "assistant", "content": understood + render.answer_html(answer)}
        options = render.suggestion_options(answer, backend.guide())
        if options:
            final["options"] = options
        history[-1] = final
        records[str(len(history) - 1)] = dict(answer_to_json(answer), log_id=log_id)
        yield list(history), dict(records)

    def pick_example(history: list, evt: gr.SelectData):
        value = evt.value
        text = value.get("text", "") if isinstance(value, dict) else str(value or "")
        if not text:
            return history
        return list(history or []) + [{"role": "user", "content": text}]

    def on_feedback(records: dict, evt: gr.LikeData):
        index = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        record = (records or {}).get(str(index))
        if record is None:
            log.info("feedback on message %s without a recorded answer; ignored", index)
            return
        append_feedback(settings.feedback_path, feedback_record(record, rating_of(evt.liked), index))
        backend.question_log.feedback(record.get("log_id"), rating_of(evt.liked))

    def clear_chat():
        return [], {}

    # ---------------------------------------------------------------- enterprise handlers

    def topic_choices() -> list[tuple[str, str]]:
        groups = backend.groups()
        choices = [(f"{g.name}（{len(g.entries)}）", g.key) for g in groups]
        if len(groups) > 1:
            choices.append((f"全部（{sum(len(g.entries) for g in groups)}）", ALL_TOPICS))
        return choices

    def entries_of(key: str | None) -> list[tuple[str, Any]]:
        """(value, entry) pairs of a group, or of all groups."""
        pairs = []
        for group in backend.groups():
            if key in (None, "", ALL_TOPICS) or group.key == key:
                pairs.extend((f"{group.key}|{i}", entry) for i, entry in enumerate(group.entries))
        return pairs

    def entry_label(entry: Any) -> str:
        summary = entry.summary if len(entry.summary) <= 70 else entry.summary[:68] + "……"
        source = f"{legal.citation_label(entry.title, entry.article)}：" if getattr(entry, "article", None) else ""
        return f"【{entry.topic}】{source}{summary}"

    def show_topic(key: str | None, query: str | None):
        query = " ".join((query or "").split())
        pairs = entries_of(key)
        if query:
            ranks: dict[str, int] = {}
            try:
                for hit in kb.search(query, 10):
                    ranks.setdefault(hit.chunk.chunk_id, hit.rank)
            except KbBotError as exc:
                log.warning("topic search failed: %s", exc)
            scored = []
            for value, entry in pairs:
                lexical = render.entry_matches(entry, query)
                semantic = 1.0 / ranks[entry.chunk_id] if entry.chunk_id in ranks else 0.0
                if lexical >= 0.5 or (semantic >= 1 / 3 and lexical > 0):
                    scored.append((lexical + semantic, value, entry))
            scored.sort(key=lambda item: -item[0])
            pairs = [(value, entry) for _, value, entry in scored]
        choices = [(entry_label(entry), value) for value, entry in pairs]
        if not backend.groups():
            note = "暂无主题条目：索引中还没有可归类的文章。"
        elif query and not choices:
            note = f"本主题下没有找到与“{render.esc(query)}”相关的条目。可以换个关键词，选择“全部”，或到“市民问答”直接提问。"
        elif query:
            note = f"找到 {len(choices)} 条与“{render.esc(query)}”相关的条目，点击查看原文。"
        else:
            note = f"共 {len(choices)} 条，点击条目查看原文段落和全文。"
        first = choices[0][1] if choices else None
        return gr.update(choices=choices, value=first), f'<div class="kb-muted">{note}</div>', open_entry(first)

    def open_entry(value: str | None):
        if not value or "|" not in value:
            return '<div class="kb-muted">请选择一个条目。</div>'
        key, _, index = value.partition("|")
        for group in backend.groups():
            if group.key == key and index.isdigit() and int(index) < len(group.entries):
                entry = group.entries[int(index)]
                return render.entry_detail(entry, backend.article(entry.doc))
        return '<div class="kb-muted">该条目已更新，请重新选择主题。</div>'

    def load_page(key: str | None):
        choices = topic_choices()
        keys = [value for _, value in choices]
        key = key if key in keys else (keys[0] if keys else None)
        entries, note, detail = show_topic(key, "")
        return gr.update(choices=choices, value=key), entries, note, detail

    # ---------------------------------------------------------------- staff handlers

    def _denied(exc: KbBotError) -> str:
        if isinstance(exc, StaffDenied):
            return exc.message
        return f"**未完成**：{render.text_html(exc.message)}" + (f"（{render.text_html(exc.hint)}）" if exc.hint else "")

    def _doc_views(session):
        rows = staff.document_rows(session)
        paths = [row[0] for row in rows if row[-1] != "已删除，待更新索引"]
        return rows, gr.update(choices=paths, value=None)

    # The login itself is a fetch to security.LOGIN_PATH (an HttpOnly cookie, outside the queue);
    # these handlers find the session by that cookie on every call.
    def staff_enter(request: gr.Request):
        session = staff.gate.session_of(request)
        if session is None:
            return gr.update(visible=True), gr.update(visible=False), gr.update(), "", gr.update(), gr.update()
        try:
            rows, dropdown = _doc_views(session)
        except KbBotError as exc:
            return gr.update(visible=True), gr.update(visible=False), _denied(exc), "", gr.update(), gr.update()
        return (gr.update(visible=False), gr.update(visible=True), "",
                f"已登录：**{render.esc(session.user)}**", rows, dropdown)

    def staff_logout(request: gr.Request = None):
        return gr.update(visible=True), gr.update(visible=False), "已退出登录。", "", [], gr.update(choices=[])

    def staff_reload(request: gr.Request):
        try:
            rows, dropdown = _doc_views(staff.gate.session_of(request))
        except KbBotError as exc:
            return gr.update(), gr.update(), _denied(exc)
        return rows, dropdown, ""

    def staff_upload(file_path, replace: bool, request: gr.Request):
        session = staff.gate.session_of(request)
        try:
            saved = staff.upload(session, file_path, replace=bool(replace))
            rows, dropdown = _doc_views(session)
        except KbBotError as exc:
            return gr.update(), gr.update(), _denied(exc)
        return (rows, dropdown,
                f"**已上传**  {render.text_html(saved)}{'（已替换同名文件）' if replace else ''}。点击“更新索引”后即可用于问答。")

    def staff_delete(relpath: str, confirmed: bool, request: gr.Request):
        session = staff.gate.session_of(request)
        try:
            deleted = staff.delete(session, relpath, bool(confirmed))
            rows, dropdown = _doc_views(session)
        except KbBotError as exc:
            return gr.update(), gr.update(), gr.update(), _denied(exc)
        return rows, dropdown, False, f"**已删除**  {render.text_html(deleted)}。点击“更新索引”后，问答将不再引用它。"

    def staff_repeal(relpath: str, request: gr.Request):
        session = staff.gate.session_of(request)
        try:
            marked = staff.mark_repealed(session, relpath)
        except KbBotError as exc:
            return _denied(exc)
        return f"**已标记为已废止**  {render.text_html(marked)}。点击“更新索引”后，问答将不再引用它。"

    def staff_refresh(request: gr.Request):
        session = staff.gate.session_of(request)
        try:
            report = staff.refresh(session)
            rows, dropdown = _doc_views(session)
        except KbBotError as exc:
            return gr.update(), gr.update(), _denied(exc)
        return rows, dropdown, render.report_markdown(report)

    # ---------------------------------------------------------------- layout

    examples = [{"text": q} for q in render.example_questions(backend.guide())]
    initial_topics = topic_choices()
    first_topic = initial_topics[0][1] if initial_topics else None
    upload_types = [".md", ".txt", ".docx", ".pdf", ".html"]

    with gr.Blocks(title=APP_TITLE, analytics_enabled=False, delete_cache=(3600, 3600)) as demo:
        gr.HTML(f'<div id="kb-header"><h1>{APP_TITLE}</h1><p>{APP_DESCRIPTION}</p></div>')
        with gr.Tabs():
            with gr.Tab("市民问答", id="chat"):
                records = gr.State({})
                chatbot = gr.Chatbot(
                    show_label=False,
                    latex_delimiters=[],  # document text is never typeset: "$$" in an article stays text
                    elem_id="kb-chat",
                    height="62vh",
                    min_height=360,
                    placeholder=("### 您好！我是上街区政策问答助手\n"
                                 "请直接输入您关心的问题，例如企业融资、招聘用工、水电保障、教育等。"
                                 "我会从上街区发布的文章中找出答案，并附上原文出处。"),
                    examples=examples or None,
                    feedback_options=("Like", "Dislike"),
                    buttons=["copy"],
                    layout="bubble",
                    autoscroll=True,
                )
                question = gr.Textbox(
                    label="您的问题",
                    show_label=False,
                    placeholder="请输入您的问题，例如：企业缺工人，区里能帮忙招人吗？",
                    submit_btn="提问",
                    max_lines=4,
                    elem_id="kb-question",
                    autofocus=False,
                )
                gr.Markdown('<div class="kb-muted">回答摘自上街区公开发布的文章，仅供参考，具体以相关部门正式文件为准。'
                            '欢迎点击回答下方的“赞”或“踩”帮助我们改进。</div>')

            with gr.Tab("企业服务", id="enterprise"):
                gr.Markdown("按主题浏览上街区为企业提供的支持和服务，也可以在主题内搜索。")
                topic = gr.Radio(choices=initial_topics, value=first_topic, label="支持主题", elem_id="kb-topics")
                topic_query = gr.Textbox(show_label=False, placeholder="在本主题中搜索，例如：贷款、招聘、供电",
                                         submit_btn="搜索", elem_id="kb-topic-search")
                topic_note = gr.HTML()
                with gr.Row(equal_height=False):
                    with gr.Column(scale=2, min_width=300):
                        entries = gr.Radio(choices=[], label="政策条目", elem_id="kb-entries")
                    with gr.Column(scale=3, min_width=300):
                        entry_view = gr.HTML('<div class="kb-muted">请选择一个条目。</div>', elem_id="kb-entry-view")

            with gr.Tab("工作人员", id="staff"):
                gr.Markdown(NOT_CONFIGURED if not staff.configured else
                            "本页仅供区里的工作人员管理文档。请使用管理员账号登录。", elem_id="kb-staff-note")
                with gr.Column(visible=True) as login_box:
                    staff_user = gr.Textbox(label="用户名", max_lines=1, interactive=staff.configured,
                                            elem_id="kb-staff-user")
                    staff_password = gr.Textbox(label="密码", type="password", max_lines=1,
                                                interactive=staff.configured, elem_id="kb-staff-password")
                    login_btn = gr.Button("登录", variant="primary", interactive=staff.configured,
                                          elem_id="kb-staff-login")
                login_msg = gr.Markdown(elem_id="kb-staff-login-msg")
                with gr.Column(visible=False) as staff_box:
                    with gr.Row():
                        who = gr.Markdown()
                        logout_btn = gr.Button("退出登录", size="sm", scale=0, elem_id="kb-staff-logout")
                    gr.Markdown("#### 文档列表")
                    docs_table = gr.Dataframe(headers=DOC_HEADERS, value=[], interactive=False, wrap=True,
                                              column_widths=["24%", "30%", "9%", "8%", "15%", "14%"],
                                              elem_id="kb-docs")
                    reload_btn = gr.Button("刷新列表", size="sm")
                    reload_msg = gr.Markdown()
                    gr.Markdown(f"#### 上传文档\n支持 {' '.join(upload_types)}，单个文件不超过 "
                                f"{settings.upload_max_mb:g} MB。上传后点击“更新索引”生效。")
                    replace_box = gr.Checkbox(label="替换同名文件（不勾选时，已有同名文件会拒绝上传）", value=False,
                                              elem_id="kb-replace")
                    upload_btn = gr.UploadButton("选择文件并上传", file_types=upload_types, type="filepath",
                                                 file_count="single", elem_id="kb-upload-btn")
                    upload_msg = gr.Markdown(elem_id="kb-upload-msg")
                    gr.Markdown("#### 删除文档")
                    delete_choice = gr.Dropdown(label="选择文档", choices=[], elem_id="kb-delete-choice")
                    delete_confirm = gr.Checkbox(label="确认删除（删除后需“更新索引”才会从问答中移除）", value=False)
                    delete_btn = gr.Button("删除", variant="stop", elem_id="kb-delete-btn")
                    delete_msg = gr.Markdown()
                    repeal_btn = gr.Button("标记为已废止", elem_id="kb-repeal-btn")
                    gr.Markdown("#### 更新索引\n更新期间问答继续使用旧索引；新索引完成后自动切换，无需重启服务。")
                    refresh_btn = gr.Button("更新索引", variant="primary", elem_id="kb-refresh-btn")
                    refresh_msg = gr.Markdown(elem_id="kb-refresh-msg")
                    insight = build_insight(kb, staff)

        # ---------------------------------------------------------------- events
        private = {"api_visibility": "private"}
        answer_events = {"concurrency_id": "kb-answer", "concurrency_limit": concurrency}

        question.submit(add_question, [question, chatbot], [question, chatbot], queue=False, **private).then(
            respond, [chatbot, records], [chatbot, records], **answer_events, **private).then(
            None, js=SHOW_ANSWER_START, queue=False, **private)
        chatbot.example_select(pick_example, [chatbot], [chatbot], queue=False, **private).then(
            respond, [chatbot, records], [chatbot, records], **answer_events, **private).then(
            None, js=SHOW_ANSWER_START, queue=False, **private)
        chatbot.option_select(pick_example, [chatbot], [chatbot], queue=False, **private).then(
            respond, [chatbot, records], [chatbot, records], **answer_events, **private).then(
            None, js=SHOW_ANSWER_START, queue=False, **private)
        chatbot.like(on_feedback, [records], None, queue=False, **private)
        chatbot.clear(clear_chat, None, [chatbot, records], queue=False, **private)

        topic.change(show_topic, [topic, topic_query], [entries, topic_note, entry_view], **answer_events, **private)
        topic_query.submit(show_topic, [topic, topic_query], [entries, topic_note, entry_view], **answer_events,
                           **private)
        entries.change(open_entry, [entries], [entry_view], queue=False, **private)
        demo.load(load_page, [topic], [topic, entries, topic_note, entry_view], **private)

        # Staff events never take a citizen's answer slot: cheap ones skip the queue, refresh has its own group.
        staff_view = [login_box, staff_box, login_msg, who, docs_table, delete_choice]
        quick = {"queue": False, **private}
        for trigger in (login_btn.click, staff_password.submit):
            trigger(None, [staff_user, staff_password], [login_msg, staff_password], js=LOGIN_JS, **private).then(
                staff_enter, None, staff_view, **quick)
        logout_btn.click(None, None, None, js=LOGOUT_JS, **private).then(staff_logout, None, staff_view, **quick)
        demo.load(staff_enter, None, staff_view, **quick)  # a staff member reloading the page stays logged in
        reload_btn.click(staff_reload, None, [docs_table, delete_choice, reload_msg], **quick)
        upload_btn.upload(staff_upload, [upload_btn, replace_box], [docs_table, delete_choice, upload_msg], **quick)
        delete_btn.click(staff_delete, [delete_choice, delete_confirm],
                         [docs_table, delete_choice, delete_confirm, delete_msg], **quick)
        repeal_btn.click(staff_repeal, [delete_choice], [delete_msg], **quick)
        refresh_btn.click(staff_refresh, None, [docs_table, delete_choice, refresh_msg],
                          concurrency_id="kb-refresh", concurrency_limit=1, **private)

        gr.api(api_ask, api_name="ask", **answer_events)

    demo.queue(default_concurrency_limit=concurrency, max_size=concurrency * QUEUE_PER_WORKER)
    # For tests: the pieces behind the widgets.
    demo.kb_backend = backend
    demo.kb_staff = staff
    demo.kb_insight = insight
    demo.kb_handlers = {
        "api_ask": api_ask, "add_question": add_question, "respond": respond, "pick_example": pick_example,
        "on_feedback": on_feedback, "show_topic": show_topic, "open_entry": open_entry,
        "staff_enter": staff_enter, "staff_logout": staff_logout, "staff_reload": staff_reload,
        "staff_upload": staff_upload, "staff_delete": staff_delete, "staff_repeal": staff_repeal,
        "staff_refresh": staff_refresh,
    }
    return demo


def _no_proxy_for_loopback() -> None:
    """launch() checks the local URL over HTTP; make sure a proxy setting does not intercept it."""
    for name in ("NO_PROXY", "no_proxy"):
        current = os.environ.get(name, "")
        hosts = [h.strip() for h in current.split(",") if h.strip()]
        for host in ("127.0.0.1", "localhost"):
            if host not in hosts:
                hosts.append(host)
        os.environ[name] = ",".join(hosts)


def serve(kb: Any, host: str = "127.0.0.1", port: int = 7860, share: bool = False) -> None:
    """Run the web app until interrupted; prints the local URL."""
    _no_proxy_for_loopback()
    started = time.perf_counter()
    _ = kb.retriever  # load the index and the model once, before the first visitor
    kb.search("上街区", 1)
    demo = build_app(kb)
    _, local_url, share_url = demo.launch(server_name=host, server_port=port, share=share,
                                          prevent_thread_lock=True, quiet=True, **launch_options(kb))
    print(f"kb-bot: {APP_TITLE} is running at {local_url} (ready in {time.perf_counter() - started:.1f} s; "
          "Ctrl+C to stop)", flush=True)
    if share_url:
        print(f"kb-bot: public share link {share_url}", flush=True)
    if not kb.settings.admin_user or not kb.settings.admin_password:
        print("kb-bot: staff tab disabled (set KB_BOT_ADMIN_USER and KB_BOT_ADMIN_PASSWORD to enable it)",
              flush=True)
    try:
        demo.block_thread()
    except KeyboardInterrupt:
        pass
    finally:
        demo.close()
