"""Staff insight and staff answers in the web app's staff tab (logged-in staff only).

* 提问统计 — for the last 7 or 30 days: questions per day by outcome (bar chart), the most frequent
  unanswered and related-only questions grouped by similarity, thumbs-down answers with what was
  answered, hits per document, and a CSV export of the questions.
* 工作人员解答 — write a curated answer once (from an unanswered question or a thumbs-down, or
  from scratch), edit it or retire it. Entries are Markdown files in ``documents/faq/``; they
  take effect with the next "更新索引" like any document.

Every handler checks the staff session again (``StaffActions.require``), so the widgets being
hidden is not the only protection. Handlers return named results (``insight_results.py``) whose fields are the
widgets they fill (see ``wiring.py``).
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import gradio as gr
import pandas as pd

from ..answering import faq
from ..errors import KbBotError
from ..settings import Settings
from ..staff.questionlog import read_records
from ..staff.report import build_report, now_answered, records_csv, staff_answered, staff_answers_in_force
from . import render
from .insight_results import FaqListed, FaqOpened, FaqRefreshed, FaqSaved, FaqStarted, InsightLoaded
from .pending import IN_EFFECT as IN_EFFECT_MARK, settled
from .staff import StaffActions
from .wiring import for_gradio, outputs

log = logging.getLogger(__name__)

OUTCOME_LABELS = {"answered": "已回答", "related": "仅相关", "not_found": "未找到"}
GROUP_HEADERS = ["次数", "问题", "其他问法"]
DOWN_HEADERS = ["时间", "问题", "当时的回答", "出处"]
#: Replies citing each document: as the answer, and as a related reply's closest passage (see report.document_hits).
DOC_HEADERS = ["文档", "已回答", "仅相关", "合计"]
FAQ_HEADERS = ["文件", "问法", "依据", "日期", "状态"]
#: A staff answer saved or restored but not yet in the index in use: it does not answer until 更新索引.
NOT_YET_INDEXED = "待更新索引"
#: What the save / restore message says, and what a refresh that indexed the entry turns it into.
TAKES_EFFECT_LATER = "点击上方“更新索引”后生效。"
IN_EFFECT = IN_EFFECT_MARK + " `{}`：索引已更新，同类问题现在以“工作人员解答”回复。"


def _per_day_frame(report: dict | None = None) -> pd.DataFrame:
    """Questions per day and outcome; typed even when empty, so the chart's y axis is quantitative."""
    rows = [(day["day"][5:], OUTCOME_LABELS[o], int(day[o])) for day in (report or {}).get("per_day", [])
            for o in OUTCOME_LABELS]
    return pd.DataFrame({"日期": pd.Series([r[0] for r in rows], dtype="object"),
                         "结果": pd.Series([r[1] for r in rows], dtype="object"),
                         "问题数": pd.Series([r[2] for r in rows], dtype="int64")})


def _group_rows(groups: list[dict]) -> list[list[Any]]:
    return [[g["count"], g["question"], "；".join(g["variants"][1:4])] for g in groups]


#: Question exports kept on disk at once (older ones were downloaded long ago or never).
KEPT_EXPORTS = 20


class Insight:
    """The data behind the insight widgets, for one knowledge base (testable without a browser)."""

    def __init__(self, staff: StaffActions):
        self.staff = staff
        # Every export had a temporary folder of its own, never removed: 86 of them piled up in /tmp over a day of
        # tests. One folder for the app's exports, removed with it (each export keeps a subfolder, so that two
        # staff downloading at once never get each other's file).
        self._exports = tempfile.TemporaryDirectory(prefix="kb-bot-report-")

    @property
    def settings(self) -> Settings:
        """The settings of the knowledge base."""
        return self.staff.settings

    def report(self, session: Any, days: int) -> tuple[dict, list[dict]]:
        """(report, logged questions) of the last ``days`` days (staff only)."""
        self.staff.require(session)
        now = datetime.now(timezone.utc)
        records = read_records(self.settings.question_log_path, since=now - timedelta(days=days))
        covered = staff_answered(self.settings.documents, self.settings.index)
        # gaps a document indexed since has closed are not listed (asked again on the current index, not logged)
        answered_now = now_answered(lambda question: self.staff.web.kb.ask(question, _literal=True))  # no LLM wording
        return build_report(records, days, now, covered=covered, answered_now=answered_now), records

    def export_csv(self, records: list[dict], days: int) -> str:
        """The questions as a CSV file (UTF-8 with BOM for spreadsheet programs); returns its path. Only the latest
        KEPT_EXPORTS stay (each load of the insight view writes one), and the folder is made again if a cleaner of
        /tmp removed it while the app ran."""
        root = Path(self._exports.name)
        root.mkdir(parents=True, exist_ok=True)
        earlier = sorted(root.iterdir(), key=lambda p: p.stat().st_mtime_ns)
        for old in earlier[:max(0, len(earlier) - (KEPT_EXPORTS - 1))]:  # room for the new one
            shutil.rmtree(old, ignore_errors=True)
        folder = Path(tempfile.mkdtemp(dir=root))
        path = folder / f"questions-last-{days}-days.csv"
        path.write_text(records_csv(records), encoding="utf-8-sig")
        return str(path)

    def in_force(self) -> set[str]:
        """The paths of the staff answers that answer now (active, and indexed as they are on disk)."""
        return {entry.path for entry in staff_answers_in_force(self.settings.documents, self.settings.index)}

    def faq_rows(self, session: Any) -> list[list[Any]]:
        """The staff answers as table rows (see FAQ_HEADERS). An active entry the index in use does not hold as it
        is on disk is 待更新索引, not 使用中: it gives no answer (its new text none) until the refresh."""
        self.staff.require(session)
        live = self.in_force()
        return [[e.path, "；".join(e.questions), " ".join(p for p in (e.source, e.article) if p), e.date or "",
                 "已停用" if not e.active else "使用中" if e.path in live else NOT_YET_INDEXED]
                for e in faq.read_entries(self.settings.documents)]

    def save(self, session: Any, path: str | None, questions: str, answer: str, source: str, article: str) -> str:
        """Save a staff answer (one wording a line); returns its path under documents/faq/."""
        self.staff.require(session)
        wordings = [q.strip() for q in (questions or "").splitlines() if q.strip()]
        action = "staff answer (edit)" if path else "staff answer (new)"
        try:
            entry = faq.save_entry(self.settings.documents, wordings, answer, source, article, path or None)
        except KbBotError as exc:  # staff answers publish official-looking text: refusals are audited too
            self.staff.audit(session, action, path or None, f"refused: {exc.message}")
            raise
        self.staff.audit(session, action, entry.path)
        log.info("staff answer saved: %s", entry.path)
        return entry.path

    def set_status(self, session: Any, path: str, status: str) -> str:
        """Retire or restore a staff answer; returns its path."""
        self.staff.require(session)
        if not path:
            raise KbBotError("请先选择一条解答 / choose a staff answer first")
        action = "staff answer (retire)" if status == faq.RETIRED else "staff answer (restore)"
        try:
            moved = faq.set_status(self.settings.documents, path, status).path
        except KbBotError as exc:
            self.staff.audit(session, action, path, f"refused: {exc.message}")
            raise
        self.staff.audit(session, action, moved)
        return moved

    def entry(self, session: Any, path: str) -> faq.FaqEntry | None:
        """One staff answer by its path, or None when it is gone."""
        self.staff.require(session)
        return next((e for e in faq.read_entries(self.settings.documents) if e.path == path), None)


def _message(exc: KbBotError) -> str:
    return render.refusal(exc.message, getattr(exc, "hint", None))


class Handlers:
    """The widget handlers (each returns the widgets' new values); every one checks the session."""

    def __init__(self, insight: Insight):
        self.insight = insight

    def _faq_views(self, session: Any):
        rows = self.insight.faq_rows(session)
        return rows, gr.update(choices=[""] + [r[0] for r in rows], value="")

    def load(self, session: Any, span: Any) -> InsightLoaded:
        """Summary, chart, tables, CSV, the questions to start a staff answer from, and the staff answers."""
        span = int(span or 7)
        try:
            report, records = self.insight.report(session, span)
            rows, paths = self._faq_views(session)
        except KbBotError as exc:
            return InsightLoaded(_message(exc), *(gr.update(),) * 9)
        o = report["outcomes"]
        text = (f"最近 {span} 天共 **{report['questions']}** 个问题：已回答 {o['answered']}，仅相关 {o['related']}，"
                f"未找到 {o['not_found']}；工作人员解答 {report['faq_answers']} 次，追问 {report['followups']} 次；"
                f"问候等（你好、谢谢，不列入待解答问题）{report['greetings']} 次。")
        starts = [g["question"] for g in report["unanswered"] + report["related_only"]]
        starts += [d["question"] for d in report["thumbs_down"]]
        down = [[d["time"][:16].replace("T", " "), d["question"], d["answer"][:120], "、".join(d["docs"])]
                for d in report["thumbs_down"]]
        return InsightLoaded(text, _per_day_frame(report), _group_rows(report["unanswered"]),
                             _group_rows(report["related_only"]), down,
                             [[d["doc"], d["hits"], d["related"], d["hits"] + d["related"]]
                              for d in report["documents"]],
                             self.insight.export_csv(records, span),
                             gr.update(choices=list(dict.fromkeys(starts)), value=None), rows, paths)

    def listing(self, session: Any) -> FaqListed:
        """The staff answers for a logged-in session; nothing changes for anyone else."""
        try:
            rows, paths = self._faq_views(session)
        except KbBotError:
            return FaqListed(gr.update(), gr.update())
        return FaqListed(rows, paths)

    def start_from(self, question: str) -> FaqStarted:
        """A question picked from the unanswered ones starts a new entry: the form holds only its wording, and no
        entry is selected (else saving would overwrite the entry being edited with the new answer)."""
        return FaqStarted("", (question or "").strip(), "", "", "")

    def open_entry(self, session: Any, path: str) -> FaqOpened:
        """Fill the form with an existing staff answer (wordings, answer, source, article). No entry selected
        leaves the form as it is: a picked question (``start_from``) clears the selection and must stay."""
        if not path:
            return FaqOpened(gr.update(), gr.update(), gr.update(), gr.update(), gr.update())
        try:
            entry = self.insight.entry(session, path)
        except KbBotError as exc:
            return FaqOpened(_message(exc), gr.update(), gr.update(), gr.update(), gr.update())
        if entry is None:
            return FaqOpened("该解答已不存在。", "", "", "", "")
        # The message is left alone: it may be the "saved" note of the save that selected this entry.
        return FaqOpened(gr.update(), "\n".join(entry.questions), entry.answer, entry.source or "",
                         entry.article or "")

    def save(self, session: Any, path: str, questions: str, answer: str, source: str, article: str) -> FaqSaved:
        """Save a new or edited staff answer (it takes effect with the next index refresh)."""
        try:
            saved = self.insight.save(session, path, questions, answer, source, article)
            rows, paths = self._faq_views(session)
        except KbBotError as exc:
            return FaqSaved(_message(exc), gr.update(), gr.update(), gr.update())
        return FaqSaved(f"**已保存** `{render.esc(saved)}`。{TAKES_EFFECT_LATER}", rows,
                        gr.update(choices=paths["choices"], value=saved), saved)

    def status(self, session: Any, path: str, new_status: str) -> FaqSaved:
        """Retire or restore a staff answer."""
        try:
            changed = self.insight.set_status(session, path, new_status)
            rows, paths = self._faq_views(session)
        except KbBotError as exc:
            return FaqSaved(_message(exc), gr.update(), gr.update(), gr.update())
        # Retiring takes effect at once (the matcher skips a retired file); a restored entry answers once indexed.
        # QA, thirteenth session: 停用 said 更新索引后生效 although the answer had already stopped.
        done = ("**已停用** `{}`。立即生效：不再作为工作人员解答给出。" if new_status == faq.RETIRED
                else "**已重新启用** `{}`。" + TAKES_EFFECT_LATER)
        return FaqSaved(done.format(render.esc(changed)), rows, gr.update(choices=paths["choices"], value=changed),
                        "" if new_status == faq.RETIRED else changed)

    def after_refresh(self, session: Any, pending: str | None) -> FaqRefreshed:
        """After 更新索引: the list's states again, and the message that said the pending entry takes effect with the
        refresh says it is in effect once the index in use holds it (web QA: after the refresh it still said to
        refresh). A refresh that failed or did not take it leaves the message as it was, true still."""
        try:
            rows = self.insight.faq_rows(session)
            live = bool(pending) and pending in self.insight.in_force()
        except KbBotError:  # not logged in: nothing changes
            return FaqRefreshed(gr.update(), gr.update(), gr.update())
        message, still_pending = settled(IN_EFFECT.format(render.esc(pending)) if live else None)
        return FaqRefreshed(message, rows, still_pending)


def _layout(settings: Settings) -> SimpleNamespace:
    """The widgets, in the current Blocks context."""
    w = SimpleNamespace()
    gr.Markdown("#### 提问统计\n市民提问记录不含 IP、Cookie 等个人信息，"
                f"保留 {settings.log_retention_days} 天。")
    with gr.Row():
        w.days = gr.Radio([("最近 7 天", 7), ("最近 30 天", 30)], value=7, label="时间范围", elem_id="kb-insight-days")
        w.load = gr.Button("载入统计", variant="primary", elem_id="kb-insight-load", scale=0)
    w.summary = gr.Markdown(elem_id="kb-insight-summary")
    # A zero frame (not an empty one) at first: a plot created empty draws no bars after an update.
    w.chart = gr.BarPlot(_per_day_frame(build_report([], 7)), x="日期", y="问题数", color="结果", y_aggregate="sum",
                         color_map={"已回答": "#2563eb", "仅相关": "#d97706", "未找到": "#dc2626"},
                         label="每日问题数（按结果）", height=320, elem_id="kb-insight-chart")
    table = {"value": [], "interactive": False, "wrap": True}
    w.unanswered = gr.Dataframe(headers=GROUP_HEADERS, label="未找到答案的问题（相似问法合并）",
                                elem_id="kb-insight-unanswered", **table)
    w.related = gr.Dataframe(headers=GROUP_HEADERS, label="只找到相关内容的问题", elem_id="kb-insight-related", **table)
    w.down = gr.Dataframe(headers=DOWN_HEADERS, label="被点踩的回答", elem_id="kb-insight-down", **table)
    w.docs = gr.Dataframe(headers=DOC_HEADERS, label="文档命中次数（引用该文档的回复数：已回答 / 仅相关）",
                          elem_id="kb-insight-docs", **table)
    w.csv = gr.File(label="导出 CSV", interactive=False, elem_id="kb-insight-csv")

    gr.Markdown("#### 工作人员解答\n针对未找到答案或被点踩的问题，写一次标准解答；保存后点击“更新索引”生效，"
                "之后同类问题会优先以“工作人员解答”回复。")
    w.pick = gr.Dropdown(label="从未回答 / 被点踩的问题开始", choices=[], elem_id="kb-faq-pick")
    w.faq_table = gr.Dataframe(headers=FAQ_HEADERS, label="已有解答", elem_id="kb-faq-table", **table)
    w.path = gr.Dropdown(label="编辑已有解答（留空为新建）", choices=[], elem_id="kb-faq-path")
    w.questions = gr.Textbox(label="问题的各种问法（每行一种）", lines=3, elem_id="kb-faq-questions")
    w.answer = gr.Textbox(label="解答内容", lines=5, elem_id="kb-faq-answer")
    with gr.Row():
        w.source = gr.Textbox(label="依据文档（可选）", max_lines=1, elem_id="kb-faq-source")
        w.article = gr.Textbox(label="条款（可选，如 第二十五条）", max_lines=1, elem_id="kb-faq-article")
    with gr.Row():
        w.save = gr.Button("保存解答", variant="primary", elem_id="kb-faq-save")
        w.retire = gr.Button("停用", variant="stop", elem_id="kb-faq-retire")
        w.restore = gr.Button("重新启用", elem_id="kb-faq-restore")
    w.message = gr.Markdown(elem_id="kb-faq-msg")
    w.pending = gr.State("")  # the entry the message says takes effect with the next refresh (FaqSaved.pending)
    return w


def build_insight(staff: StaffActions) -> Insight:
    """Create the insight and staff-answer widgets in the current Blocks context and wire them.

    Every handler finds the staff session from the request's cookie (see ``web/security.py``) and runs
    outside the citizens' answer queue, in a group of its own.
    """
    insight = Insight(staff)
    h = insight.handlers = Handlers(insight)
    w = _layout(staff.settings)
    events = {"api_visibility": "private", "concurrency_id": "kb-staff", "concurrency_limit": 1,
              "show_progress": "hidden"}
    loaded, saved = outputs(InsightLoaded, w), outputs(FaqSaved, w)
    form = [w.questions, w.answer, w.source, w.article]

    def session_of(request: gr.Request) -> Any:
        return staff.gate.session_of(request)

    @for_gradio
    def load(span: Any, request: gr.Request) -> InsightLoaded:
        return h.load(session_of(request), span)

    @for_gradio
    def open_entry(path: str, request: gr.Request) -> FaqOpened:
        return h.open_entry(session_of(request), path)

    @for_gradio
    def save(path: str, questions: str, answer: str, source: str, article: str, request: gr.Request) -> FaqSaved:
        return h.save(session_of(request), path, questions, answer, source, article)

    @for_gradio
    def retire(path: str, request: gr.Request) -> FaqSaved:
        return h.status(session_of(request), path, faq.RETIRED)

    @for_gradio
    def restore(path: str, request: gr.Request) -> FaqSaved:
        return h.status(session_of(request), path, faq.ACTIVE)

    @for_gradio
    def list_answers(request: gr.Request) -> FaqListed:
        return h.listing(session_of(request))

    @for_gradio
    def after_refresh(pending: str, request: gr.Request) -> FaqRefreshed:
        return h.after_refresh(session_of(request), pending)

    # Run by the staff tab after login and page load (its own events, see staff_tab.wire).
    insight.list_answers = {"fn": list_answers, "inputs": None, "outputs": outputs(FaqListed, w)}
    # Run by the staff tab after 更新索引 (the refresh button is the documents' widget, see staff_tab.wire).
    insight.after_refresh = {"fn": after_refresh, "inputs": [w.pending], "outputs": outputs(FaqRefreshed, w)}
    w.load.click(load, [w.days], loaded, **events)
    w.days.change(load, [w.days], loaded, **events)
    w.pick.change(for_gradio(h.start_from), [w.pick], outputs(FaqStarted, w), queue=False, api_visibility="private")
    w.path.change(open_entry, [w.path], outputs(FaqOpened, w), **events)
    w.save.click(save, [w.path, *form], saved, **events)
    w.retire.click(retire, [w.path], saved, **events)
    w.restore.click(restore, [w.path], saved, **events)
    return insight
