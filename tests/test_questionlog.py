"""The question log: records, feedback joined by id, no personal data, retention, and kill -9 safety."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

from kb_bot.answering.answer import Answer, Citation
from kb_bot.staff.questionlog import QuestionLog, log_files, month_path, prune, read_records
from kb_bot.staff.report import build_report, format_report, group_questions, records_csv

ROOT = Path(__file__).resolve().parents[1]


def _answer(question: str, status: str = "answered", understood_as: str | None = None) -> Answer:
    citation = Citation("advanced-manufacturing.md", "t", None, None, "text", None, 0.5, "c1")
    found = status == "answered"
    return Answer(question, found, "text[1]" if found else "抱歉", (citation,) if found else (), confidence=0.7,
                  status=status, understood_as=understood_as)


def test_records_and_feedback_are_joined_by_id(tmp_path):
    qlog = QuestionLog(tmp_path / "questions.jsonl")
    first = qlog.record(_answer("招聘会招到多少人？"))
    qlog.record(_answer("上街区房价多少？", "not_found"))
    qlog.record(_answer("那融资呢？", understood_as="先进制造业开发区 融资"))
    qlog.feedback(first, "down")
    assert qlog.flush(timeout=10)
    qlog.close()
    records = read_records(tmp_path / "questions.jsonl")
    assert [r["question"] for r in records] == ["招聘会招到多少人？", "上街区房价多少？", "那融资呢？"]
    assert records[0]["feedback"] == "down" and records[0]["docs"] == ["advanced-manufacturing.md"]
    assert records[1]["status"] == "not_found"
    assert records[2]["understood_as"] == "先进制造业开发区 融资"
    assert len(log_files(tmp_path / "questions.jsonl")) == 1


def test_no_personal_data_is_written(tmp_path):
    qlog = QuestionLog(tmp_path / "questions.jsonl")
    qlog.record(_answer("问题"))
    qlog.close()
    (line,) = log_files(tmp_path / "questions.jsonl")[0].read_text(encoding="utf-8").splitlines()
    keys = set(json.loads(line))
    assert keys.isdisjoint({"ip", "client", "cookie", "session", "user_agent", "host"})
    assert keys >= {"id", "time", "question", "status", "confidence", "docs", "understood_as"}


def test_unwritable_log_never_breaks_answering(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    qlog = QuestionLog(blocker / "sub" / "questions.jsonl")  # a file where a folder should be
    assert qlog.record(_answer("问题"))
    assert qlog.flush(timeout=10)
    qlog.close()


def test_retention_prunes_old_months(tmp_path):
    base = tmp_path / "questions.jsonl"
    old = month_path(base, datetime(2026, 1, 15, tzinfo=timezone.utc))
    recent = month_path(base, datetime(2026, 11, 2, tzinfo=timezone.utc))
    for path in (old, recent):
        path.write_text('{"id": "a", "time": "2026-01-15T00:00:00+00:00", "question": "q"}\n', encoding="utf-8")
    removed = prune(base, 90, now=datetime(2026, 11, 27, tzinfo=timezone.utc))
    assert removed == [old] and recent.exists()


def test_torn_last_line_is_skipped(tmp_path):
    base = tmp_path / "questions.jsonl"
    path = month_path(base, datetime.now(timezone.utc))
    good = json.dumps({"id": "1", "time": datetime.now(timezone.utc).isoformat(), "question": "好的", "status": "answered"})
    path.write_text(good + "\n" + '{"id": "2", "time": "20', encoding="utf-8")
    assert [r["question"] for r in read_records(base)] == ["好的"]


WRITER = """
import sys
from kb_bot.answering.answer import Answer
from kb_bot.staff.questionlog import QuestionLog
qlog = QuestionLog(sys.argv[1])
i = 0
while True:
    qlog.record(Answer("问题%d" % i, False, "抱歉", ()))
    if i == 200:
        qlog.flush(timeout=30)
        print("ready", flush=True)
    i += 1
    if i % 50 == 0:
        qlog.flush(timeout=30)
"""


def test_kill_9_loses_at_most_the_last_line(tmp_path):
    base = tmp_path / "questions.jsonl"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    process = subprocess.Popen([sys.executable, "-c", WRITER, str(base)], stdout=subprocess.PIPE, env=env, text=True)
    try:
        assert process.stdout.readline().strip() == "ready"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    (path,) = log_files(base)
    lines = path.read_text(encoding="utf-8").split("\n")
    complete = [line for line in lines[:-1]]
    for line in complete:
        json.loads(line)  # every complete line parses
    assert len(complete) >= 200
    numbers = [int(json.loads(line)["question"][2:]) for line in complete]
    assert numbers == list(range(len(numbers)))  # nothing lost before the end
    assert len(read_records(base)) == len(complete)


def test_report_groups_similar_questions_and_counts_outcomes():
    now = datetime(2026, 11, 27, 12, tzinfo=timezone.utc)
    records = [
        {"id": "1", "time": "2026-11-27T10:00:00+00:00", "question": "上街区的房价是多少？", "status": "not_found", "docs": []},
        {"id": "2", "time": "2026-11-26T10:00:00+00:00", "question": "上街区房价多少", "status": "not_found", "docs": []},
        {"id": "3", "time": "2026-11-26T11:00:00+00:00", "question": "护照在哪办？", "status": "not_found", "docs": []},
        {"id": "4", "time": "2026-11-25T11:00:00+00:00", "question": "招聘会", "status": "answered",
         "docs": ["advanced-manufacturing.md"], "feedback": "down", "answer": "对于用工短缺企业…"},
        {"id": "5", "time": "2026-10-01T11:00:00+00:00", "question": "太早了", "status": "not_found", "docs": []},
    ]
    report = build_report(records, 7, now)
    assert report["questions"] == 4
    assert report["outcomes"] == {"answered": 1, "related": 0, "not_found": 3}
    assert report["unanswered"][0]["count"] == 2 and len(report["unanswered"]) == 2
    assert report["thumbs_down"][0]["question"] == "招聘会"
    assert report["documents"] == [{"doc": "advanced-manufacturing.md", "hits": 1, "related": 0}]
    assert len(report["per_day"]) == 7 and report["per_day"][-1]["not_found"] == 1
    assert "上街区的房价是多少？" in format_report(report)
    assert records_csv(records).splitlines()[0].startswith("time,question,status")


def test_document_hits_count_related_replies_apart_from_answers():
    # Web QA: 文档命中次数 counted answered replies only, so a document citizens reached twenty times under
    # 未找到直接答案 read as never asked about. Related replies' documents count too, in a column of their own.
    now = datetime(2026, 11, 27, 12, tzinfo=timezone.utc)
    rows = [("answered", ["education.md"]), ("related", ["regulations/养犬.md", "education.md"]),
            ("related", ["regulations/养犬.md"]), ("related", ["regulations/养犬.md", "regulations/养犬.md"]),
            ("not_found", []), ("answered", ["faq/a.md"])]
    records = [{"id": str(i), "time": "2026-11-27T10:00:00+00:00", "question": f"问题{i}", "status": status,
                "docs": docs} for i, (status, docs) in enumerate(rows)]
    report = build_report(records, 7, now)
    assert report["documents"] == [  # most cited first; a document once per reply
        {"doc": "regulations/养犬.md", "hits": 0, "related": 3},
        {"doc": "education.md", "hits": 1, "related": 1},
        {"doc": "faq/a.md", "hits": 1, "related": 0}]
    assert "   0 /    3  regulations/养犬.md" in format_report(report)


def test_a_gap_the_documents_now_answer_is_no_longer_offered(tmp_path):
    # QA, thirteenth session: 取暖补贴每户每月多少钱 stayed under 仅找到相关内容 after the notice answering it was indexed.
    from types import SimpleNamespace

    from kb_bot.staff.report import now_answered

    now = datetime(2026, 11, 27, 12, tzinfo=timezone.utc)
    records = [{"id": str(i), "time": "2026-11-27T10:00:00+00:00", "question": q, "status": s, "docs": []}
               for i, (q, s) in enumerate([("取暖补贴每户每月多少钱？", "related"), ("上街区的房价是多少？", "not_found"),
                                           ("护照在哪办？", "not_found")])]

    def ask(question):
        if question == "护照在哪办？":
            raise RuntimeError("index unreadable")  # counted as still open, never a failed report
        return SimpleNamespace(status="answered" if "取暖补贴" in question else "not_found")

    report = build_report(records, 7, now, answered_now=now_answered(ask))
    assert report["related_only"] == [] and report["answered_now"] == 1
    assert [g["question"] for g in report["unanswered"]] == ["上街区的房价是多少？", "护照在哪办？"]
    assert "现已能回答、不再列出的问题" in format_report(report) and "1 组" in format_report(report)


def test_greetings_are_counted_but_not_offered_as_questions_to_answer():
    # QA: the unanswered list was led by 你好, 谢谢, 在吗, hello and an emoji, each offered for a staff answer.
    now = datetime(2026, 11, 27, 12, tzinfo=timezone.utc)
    said = ["你好", "谢谢", "在吗", "hello", "📄", "你好", "上街区的房价是多少？"]
    records = [{"id": str(i), "time": "2026-11-27T10:00:00+00:00", "question": q, "status": "not_found", "docs": []}
               for i, q in enumerate(said)]
    report = build_report(records, 7, now)
    assert [g["question"] for g in report["unanswered"]] == ["上街区的房价是多少？"]
    assert report["greetings"] == 6 and report["outcomes"]["not_found"] == 7  # still counted as asked
    assert "greetings 6" in format_report(report)
    # web QA, fourteenth session: a follow-up made of question words only (how much per month?) was counted as a
    # greeting although the conversation read it as a question (understood_as) and its reply was only related
    follow_up = {"id": "9", "time": "2026-11-27T11:00:00+00:00", "question": "how much per month?", "status": "related",
                 "docs": [], "understood_as": "How long can I get unemployment benefit how much per month"}
    report = build_report([*records, follow_up], 7, now)
    assert report["greetings"] == 6 and "how much per month?" in [g["question"] for g in report["related_only"]]


def test_questions_a_staff_answer_covers_are_not_offered_again(fake_settings):
    # QA: the pension question stayed at the top of 仅找到相关内容 after a staff answer took it, and was offered again.
    from kb_bot.answering import faq
    from kb_bot.engine import KnowledgeBase
    from kb_bot.staff.report import staff_answered

    documents = fake_settings.documents
    faq.save_entry(documents, ["退休以后每个月养老金能领多少？"], "请咨询区社保中心。")
    passport = faq.save_entry(documents, ["护照在哪办？"], "请咨询出入境管理部门。")
    KnowledgeBase(fake_settings).build(full=True)
    faq.set_status(documents, passport.path, faq.RETIRED)  # retired: answers no more
    faq.save_entry(documents, ["社保卡在哪办？"], "请咨询区社保中心。")  # saved, not indexed yet: answers not yet
    now = datetime(2026, 11, 27, 12, tzinfo=timezone.utc)
    said = [("退休以后每个月养老金能领多少", "related", "related"),  # a wording of an answer in force
            ("退休后每月能拿多少养老金？", "related", "related"), ("退休后每月能拿多少养老金", "answered", "faq"),
            ("护照在哪办？", "answered", "faq"), ("护照在哪办？", "not_found", "not-found"),  # since retired
            ("社保卡在哪办？", "not_found", "not-found"),
            ("养老金怎么领", "related", "related")]  # an older line's faq flag (set for quoting one) is no answer
    records = [{"id": str(i), "time": f"2026-11-27T0{i}:00:00+00:00", "question": q,  # in the order said
                "status": status, "mode": mode, "faq": mode == "faq" or q == "养老金怎么领", "docs": []}
               for i, (q, status, mode) in enumerate(said)]
    report = build_report(records, 7, now, covered=staff_answered(documents, fake_settings.index))
    assert [g["question"] for g in report["related_only"]] == ["养老金怎么领"]
    assert sorted(g["question"] for g in report["unanswered"]) == ["护照在哪办？", "社保卡在哪办？"]
    assert report["faq_answers"] == 2
    assert staff_answered(documents, fake_settings.index / "none") == set()  # no index, nothing covered


def test_grouping_keeps_different_questions_apart():
    groups = group_questions(["护照在哪办", "护照在哪里办理", "今天天气怎么样"])
    assert [g["count"] for g in groups] == [2, 1]


# --------------------------------------------------------------------------- the web app logs, staff see the insight


def _logged_in_app(tmp_path):
    import gradio as gr  # noqa: F401

    from kb_bot.web.app import build_app
    from web_fixtures import STAFF_PASSWORD, STAFF_USER, fake_kb

    kb = fake_kb(tmp_path, admin_user=STAFF_USER, admin_password=STAFF_PASSWORD)
    demo = build_app(kb)
    return kb, demo, demo.kb_staff.gate.login(STAFF_USER, STAFF_PASSWORD, "127.0.0.1")[2]


def test_web_questions_and_feedback_reach_the_log_and_the_insight_view(tmp_path):
    import gradio as gr

    kb, demo, session = _logged_in_app(tmp_path)
    citizen = demo.kb_tabs.citizen
    records = list(citizen.respond(citizen.add_question("企业融资贷款有什么支持？", []).chat, {}))[-1].records
    citizen.on_feedback(records, gr.LikeData(None, {"index": 1, "value": ["x"], "liked": False}))
    citizen.api_ask("上街区的房价是多少？")
    citizen.api_ask("   ")  # an empty /ask call asked nothing: not a question for the staff (QA: logged as one)
    assert demo.kb_web.question_log.flush(timeout=10)
    records = read_records(kb.settings.question_log_path)
    assert [r["question"] for r in records] == ["企业融资贷款有什么支持？", "上街区的房价是多少？"]
    assert records[0]["feedback"] == "down"

    load = demo.kb_insight.handlers.load
    denied = load(None, 7)
    assert "无权操作" in denied.summary or "未启用" in denied.summary
    loaded = load(session, 7)
    assert "共 **2** 个问题" in loaded.summary
    assert list(loaded.chart.columns) == ["日期", "结果", "问题数"] and loaded.chart["问题数"].sum() == 2
    assert loaded.down[0][1] == "企业融资贷款有什么支持？"
    assert Path(loaded.csv).read_text(encoding="utf-8-sig").count("\n") == 3
    assert "企业融资贷款有什么支持？" in loaded.pick["choices"]
    cited = {doc for r in records if r["status"] in ("answered", "related") for doc in r["docs"]}
    assert cited and {row[0] for row in loaded.docs} == cited  # related replies' documents are listed too
    assert all(len(row) == 4 and row[3] == row[1] + row[2] for row in loaded.docs)  # 已回答, 仅相关, 合计


def test_report_command_prints_the_log(tmp_path, capsys):
    from kb_bot.cli import main

    index = tmp_path / "index"
    qlog = QuestionLog(index / "questions.jsonl")
    qlog.record(_answer("上街区的房价是多少？", "not_found"))
    qlog.close()
    assert main(["report", "--index", str(index), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["questions"] == 1 and report["unanswered"][0]["question"] == "上街区的房价是多少？"
    csv_path = tmp_path / "out.csv"
    assert main(["report", "--index", str(index), "--days", "30", "--csv", str(csv_path)]) == 0
    assert "上街区的房价是多少？" in capsys.readouterr().out
    assert "上街区的房价是多少？,not_found" in csv_path.read_text(encoding="utf-8-sig")
    assert main(["report", "--index", str(index), "--days", "0"]) == 1  # an error a person can act on
    capsys.readouterr()
    assert main(["report", "--index", str(index), "--days", "100000000"]) == 1  # not an OverflowError traceback
    assert main(["report", "--index", str(index), "--csv", str(tmp_path / "missing" / "out.csv")]) == 1
    err = capsys.readouterr().err
    assert "--days must be between 1 and" in err and "cannot write" in err and "Traceback" not in err


def test_what_a_citizen_typed_never_runs_as_a_formula_in_the_staff_spreadsheet():
    records = [{"time": "2026-11-27T10:00:00+00:00", "question": '=HYPERLINK("http://evil","点我")', "status": "related"},
               {"time": "2026-11-27T10:01:00+00:00", "question": "@SUM(1+1)", "status": "not_found",
                "understood_as": "-2+3"},
               {"time": "2026-11-27T10:02:00+00:00", "question": "养狗要办证吗？", "status": "answered"}]
    rows = list(csv.reader(io.StringIO(records_csv(records))))[1:]
    assert rows[0][1] == '\'=HYPERLINK("http://evil","点我")' and rows[1][1] == "'@SUM(1+1)" and rows[1][5] == "'-2+3"
    assert rows[2][1] == "养狗要办证吗？"  # ordinary questions are left as typed


def test_a_line_torn_by_a_crash_does_not_swallow_the_next_record(tmp_path):
    # QA: after a kill -9 mid-write, the first record of the restarted server was glued onto the torn line and lost.
    from kb_bot.staff.questionlog import month_path, read_records

    qlog = QuestionLog(tmp_path / "questions.jsonl")
    qlog.record(_answer("招聘会招到多少人？"))
    qlog.close()
    path = next(tmp_path.glob("questions-*.jsonl"))
    with open(path, "a", encoding="utf-8") as handle:
        handle.write('{"id": "torn", "time": "2026-11-28T12:5')
    again = QuestionLog(tmp_path / "questions.jsonl")
    again.record(_answer("养狗要办证吗？"))
    again.close()
    questions = [r.get("question") for r in read_records(tmp_path / "questions.jsonl")]
    assert questions[0] == "招聘会招到多少人？" and questions[-1] == "养狗要办证吗？"
    assert month_path(tmp_path / "questions.jsonl", datetime.now(timezone.utc)) == path


def test_only_a_reply_a_staff_answer_gave_counts_as_one(tmp_path):
    # QA: a related reply quoting a staff answer's text as a passage was logged (and reported) as a staff answer.
    from dataclasses import replace

    from kb_bot.staff.questionlog import answer_record

    quoted = Citation("faq/a.md", "工作人员解答", None, None, "请咨询区住建局。", None, 0.5, "f1", kind="faq")
    related = Answer("房价多少", False, "…", (quoted,), confidence=0.3, status="related", mode="related")
    assert answer_record(related)["faq"] is False
    assert answer_record(replace(related, found=True, status="answered", mode="faq"))["faq"] is True


def test_personal_details_typed_into_a_question_are_masked():
    from kb_bot.staff.questionlog import answer_record, redact

    assert redact("我的电话13812345678，身份证41010219900101123X，邮箱 a.b@example.com，座机0371-66661234") == \
        "我的电话[手机号]，身份证[身份证号]，邮箱 [邮箱]，座机[电话]"
    assert redact("2600万元和100余家次") == "2600万元和100余家次"
    assert answer_record(_answer("我是13812345678，能贷款吗"))["question"] == "我是[手机号]，能贷款吗"


def test_log_settings_come_from_the_environment(tmp_path):
    from kb_bot.settings import Settings, load_settings

    settings = load_settings(environ={"KB_BOT_QUESTION_LOG": str(tmp_path / "q.jsonl"), "KB_BOT_LOG_RETENTION_DAYS": "30"})
    assert settings.question_log_path == tmp_path / "q.jsonl" and settings.log_retention_days == 30
    assert Settings(index=tmp_path).question_log_path == tmp_path / "questions.jsonl"


def test_the_retired_feedback_log_variable_is_named_with_what_replaced_it(tmp_path, caplog):
    from kb_bot.settings import load_settings

    with caplog.at_level("WARNING", logger="kb_bot.settings"):
        settings = load_settings(environ={"KB_BOT_FEEDBACK_LOG": str(tmp_path / "feedback.jsonl")})
    assert "KB_BOT_FEEDBACK_LOG is no longer used" in caplog.text and "question log" in caplog.text
    assert not hasattr(settings, "feedback_log")
