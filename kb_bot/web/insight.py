"""Staff insight and staff answers in the web app's staff tab (logged-in staff only).

* 提问统计 — for the last 7 or 30 days: questions per day by outcome (bar chart), the most frequent
  unanswered and related-only questions grouped by similarity, thumbs-down answers with what was
  answered, hits per document, and a CSV export of the questions.
* 工作人员解答 — write a curated answer once (from an unanswered question or a thumbs-down, or
  from scratch), edit it or retire it. Entries are Markdown files in ``documents/faq/``; they
  take effect with the next "更新索引" like any document.

Every handler checks the staff session again (``StaffActions.require``), so the widgets being
hidden is not the only protection. ``understood_html`` is the chat's "按“…”理解" line.
"""

from __future__ import annotations

import logging
import re
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from .. import faq
from ..errors import KbBotError
from ..questionlog import read_records
from ..report import build_report, records_csv
from . import render

log = logging.getLogger(__name__)

OUTCOME_LABELS = {"answered": "已回答", "related": "仅相关", "not_found": "未找到"}
GROUP_HEADERS = ["次数", "问题", "其他问法"]
DOWN_HEADERS = ["时间", "问题", "当时的回答", "出处"]
DOC_HEADERS = ["文档", "命中次数"]
FAQ_HEADERS = ["文件", "问法", "依据", "日期", "状态"]


def understood_html(answer: Any) -> str:
    """The line that shows how a follow-up was understood (empty when taken as asked)."""
    if not getattr(answer, "understood_as", None):
        return ""
    if not re.search(r"[\u3400-\u9fff]", answer.question or ""):  # an English question gets English around it
        return (f'<div class="kb-understood kb-muted">Understood as “{render.esc(answer.understood_as)}” '
                "(if that is wrong, ask the whole question again)</div>")
    return (f'<div class="kb-understood kb-muted">按“{render.esc(answer.understood_as)}”理解'
            "（如理解有误，请换个完整的问法）</div>")


def _per_day_frame(report: dict | None = None) -> pd.DataFrame:
    """Questions per day and outcome; typed even when empty, so the chart's y axis is quantitative."""
    rows = [(day["day"][5:], OUTCOME_LABELS[o], int(day[o])) for day in (report or {}).get("per_day", [])
            for o in OUTCOME_LABELS]
    return pd.DataFrame({"日期": pd.Series([r[0] for r in rows], dtype="object"),
                         "结果": pd.Series([r[1] for r in rows], dtype="object"),
                         "问题数": pd.Series([r[2] for r in rows], dtype="int64")})


def _group_rows(groups: list[dict]) -> list[list[Any]]:
    return [[g["count"], g["question"], "；".join(g["variants"][1:4])] for g in groups]


class Insight:
    """The data behind the insight widgets, for one knowledge base (testable without a browser)."""

    def __init__(self, kb: Any, staff: Any):
        self.kb, self.staff = kb, staff

    @property
    def settings(self):
        return self.kb.settings

    def report(self, session: Any, days: int) -> tuple[dict, list[dict]]:
        self.staff.require(session)
        now = datetime.now(timezone.utc)
        records = read_records(self.settings.question_log_path, since=now - timedelta(days=days))
        return build_report(records, days, now), records

    def export_csv(self, records: list[dict], days: int) -> str:
        """The questions as a CSV file (UTF-8 with BOM for spreadsheet programs); returns its path."""
        folder = Path(tempfile.mkdtemp(prefix="kb-bot-report-"))
        path = folder / f"questions-last-{days}-days.csv"
        path.write_text(records_csv(records), encoding="utf-8-sig")
        return str(path)

    def faq_rows(self, session: Any) -> list[list[Any]]:
        self.staff.require(session)
        return [[e.path, "；".join(e.questions), " ".join(p for p in (e.source, e.article) if p), e.date or "",
                 "已停用" if not e.active else "使用中"] for e in faq.read_entries(self.settings.documents)]

    def save(self, session: Any, path: str | None, questions: str, answer: str, source: str, article: str) -> str:
        self.staff.require(session)
        wordings = [q.strip() for q in (questions or "").splitlines() if q.strip()]
        entry = faq.save_entry(self.settings.documents, wordings, answer, source, article, path or None)
        log.info("staff answer saved: %s", entry.path)
        return entry.path

    def set_status(self, session: Any, path: str, status: str) -> str:
        self.staff.require(session)
        if not path:
            raise KbBotError("请先选择一条解答 / choose a staff answer first")
        return faq.set_status(self.settings.documents, path, status).path

    def entry(self, session: Any, path: str) -> faq.FaqEntry | None:
        self.staff.require(session)
        return next((e for e in faq.read_entries(self.settings.documents) if e.path == path), None)


def _message(exc: KbBotError) -> str:
    return f"**未完成**：{exc.message}" + (f"（{exc.hint}）" if getattr(exc, "hint", None) else "")


def build_insight(kb: Any, staff: Any, session: gr.State) -> Insight:
    """Create the insight and staff-answer widgets in the current Blocks context and wire them."""
    insight = Insight(kb, staff)
    private = {"api_visibility": "private"}
    records_state = gr.State([])

    gr.Markdown("#### 提问统计\n市民提问记录不含 IP、Cookie 等个人信息，"
                f"保留 {kb.settings.log_retention_days} 天。")
    with gr.Row():
        days = gr.Radio([("最近 7 天", 7), ("最近 30 天", 30)], value=7, label="时间范围", elem_id="kb-insight-days")
        load_btn = gr.Button("载入统计", variant="primary", elem_id="kb-insight-load", scale=0)
    summary = gr.Markdown(elem_id="kb-insight-summary")
    # A zero frame (not an empty one) at first: a plot created empty draws no bars after an update.
    chart = gr.BarPlot(_per_day_frame(build_report([], 7)), x="日期", y="问题数", color="结果", y_aggregate="sum",
                       color_map={"已回答": "#2563eb", "仅相关": "#d97706", "未找到": "#dc2626"},
                       label="每日问题数（按结果）", height=320, elem_id="kb-insight-chart")
    unanswered = gr.Dataframe(headers=GROUP_HEADERS, value=[], interactive=False, wrap=True,
                              label="未找到答案的问题（相似问法合并）", elem_id="kb-insight-unanswered")
    related = gr.Dataframe(headers=GROUP_HEADERS, value=[], interactive=False, wrap=True,
                           label="只找到相关内容的问题", elem_id="kb-insight-related")
    down = gr.Dataframe(headers=DOWN_HEADERS, value=[], interactive=False, wrap=True, label="被点踩的回答",
                        elem_id="kb-insight-down")
    docs = gr.Dataframe(headers=DOC_HEADERS, value=[], interactive=False, label="文档命中次数", elem_id="kb-insight-docs")
    csv_file = gr.File(label="导出 CSV", interactive=False, elem_id="kb-insight-csv")

    gr.Markdown("#### 工作人员解答\n针对未找到答案或被点踩的问题，写一次标准解答；保存后点击“更新索引”生效，"
                "之后同类问题会优先以“工作人员解答”回复。")
    pick = gr.Dropdown(label="从未回答 / 被点踩的问题开始", choices=[], elem_id="kb-faq-pick")
    faq_table = gr.Dataframe(headers=FAQ_HEADERS, value=[], interactive=False, wrap=True, label="已有解答",
                             elem_id="kb-faq-table")
    faq_path = gr.Dropdown(label="编辑已有解答（留空为新建）", choices=[], allow_custom_value=False,
                           elem_id="kb-faq-path")
    faq_questions = gr.Textbox(label="问题的各种问法（每行一种）", lines=3, elem_id="kb-faq-questions")
    faq_answer = gr.Textbox(label="解答内容", lines=5, elem_id="kb-faq-answer")
    with gr.Row():
        faq_source = gr.Textbox(label="依据文档（可选）", max_lines=1, elem_id="kb-faq-source")
        faq_article = gr.Textbox(label="条款（可选，如 第二十五条）", max_lines=1, elem_id="kb-faq-article")
    with gr.Row():
        save_btn = gr.Button("保存解答", variant="primary", elem_id="kb-faq-save")
        retire_btn = gr.Button("停用", variant="stop", elem_id="kb-faq-retire")
        restore_btn = gr.Button("重新启用", elem_id="kb-faq-restore")
    faq_msg = gr.Markdown(elem_id="kb-faq-msg")

    def faq_views(sess):
        rows = insight.faq_rows(sess)
        return rows, gr.update(choices=[""] + [r[0] for r in rows], value="")

    def load(sess, span):
        span = int(span or 7)
        try:
            report, records = insight.report(sess, span)
            rows, paths = faq_views(sess)
        except KbBotError as exc:
            return (_message(exc), gr.update(), gr.update(), gr.update(), gr.update(), gr.update(), gr.update(),
                    gr.update(), gr.update(), gr.update(), [])
        o = report["outcomes"]
        text = (f"最近 {span} 天共 **{report['questions']}** 个问题：已回答 {o['answered']}，仅相关 {o['related']}，"
                f"未找到 {o['not_found']}；工作人员解答 {report['faq_answers']} 次，追问 {report['followups']} 次。")
        starts = [g["question"] for g in report["unanswered"] + report["related_only"]]
        starts += [d["question"] for d in report["thumbs_down"]]
        return (text, _per_day_frame(report), _group_rows(report["unanswered"]), _group_rows(report["related_only"]),
                [[d["time"][:16].replace("T", " "), d["question"], d["answer"][:120], "、".join(d["docs"])]
                 for d in report["thumbs_down"]],
                [[d["doc"], d["hits"]] for d in report["documents"]], insight.export_csv(records, span),
                gr.update(choices=list(dict.fromkeys(starts)), value=None), rows, paths, records)

    def start_from(question):
        return (question or "").strip()

    def open_entry(sess, path):
        if not path:
            return gr.update(), "", "", "", ""
        try:
            entry = insight.entry(sess, path)
        except KbBotError as exc:
            return _message(exc), gr.update(), gr.update(), gr.update(), gr.update()
        if entry is None:
            return "该解答已不存在。", "", "", "", ""
        # The message is left alone: it may be the "saved" note of the save that selected this entry.
        return gr.update(), "\n".join(entry.questions), entry.answer, entry.source or "", entry.article or ""

    def save(sess, path, questions, answer, source, article):
        try:
            saved = insight.save(sess, path, questions, answer, source, article)
            rows, paths = faq_views(sess)
        except KbBotError as exc:
            return _message(exc), gr.update(), gr.update()
        return f"**已保存** `{render.esc(saved)}`。点击上方“更新索引”后生效。", rows, gr.update(choices=paths["choices"],
                                                                                    value=saved)

    def status(sess, path, new_status):
        try:
            changed = insight.set_status(sess, path, new_status)
            rows, paths = faq_views(sess)
        except KbBotError as exc:
            return _message(exc), gr.update(), gr.update()
        word = "已停用" if new_status == faq.RETIRED else "已重新启用"
        return (f"**{word}** `{render.esc(changed)}`。点击上方“更新索引”后生效。", rows,
                gr.update(choices=paths["choices"], value=changed))

    outputs = [summary, chart, unanswered, related, down, docs, csv_file, pick, faq_table, faq_path, records_state]
    load_btn.click(load, [session, days], outputs, **private)
    days.change(load, [session, days], outputs, **private)
    pick.change(start_from, [pick], [faq_questions], queue=False, **private)
    faq_path.change(open_entry, [session, faq_path], [faq_msg, faq_questions, faq_answer, faq_source, faq_article],
                    **private)
    save_btn.click(save, [session, faq_path, faq_questions, faq_answer, faq_source, faq_article],
                   [faq_msg, faq_table, faq_path], **private)
    retire_btn.click(lambda s, p: status(s, p, faq.RETIRED), [session, faq_path], [faq_msg, faq_table, faq_path],
                     **private)
    restore_btn.click(lambda s, p: status(s, p, faq.ACTIVE), [session, faq_path], [faq_msg, faq_table, faq_path],
                      **private)
    insight.handlers = {"load": load, "save": save, "status": status, "open_entry": open_entry}
    return insight
