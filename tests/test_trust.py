"""The three outcomes on the real bundled model: answered with the fact, related when a detail is never given,
not found off topic; colloquial and one-word questions; the kb-bot calibrate / eval round trip."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kb_bot.answer import ANSWERED, NOT_FOUND, RELATED
from kb_bot.answer_model import load_model
from kb_bot.cli import main
from kb_bot.evaluation import answer_outcomes, load_questions

from conftest import SEED_QUESTIONS

pytestmark = pytest.mark.slow


def test_seed_questions_answered_with_the_fact_and_no_unanswerable_one_answered(real_kb):
    questions = load_questions(SEED_QUESTIONS)
    report = answer_outcomes(questions, [real_kb.ask(q.question) for q in questions])
    shares = report.to_json()
    assert shares["answerable"]["with_fact"] >= 0.95, report.misses
    assert report.wrong == ()


@pytest.mark.parametrize("question", ["企业缺人手区里能帮忙吗", "工厂停电停水找谁", "盾构厂投产了没有",
                                      "国际班列以后会多吗", "招工", "教师工资", "缺钱怎么办"])
def test_colloquial_and_one_word_questions_are_not_refused(real_kb, question):
    answer = real_kb.ask(question)
    assert answer.status != NOT_FOUND, answer.answer
    assert answer.citations


@pytest.mark.parametrize("question, fact", [("开发区帮企业贷了多少钱？", "2600万元"),
                                            ("招聘会帮企业招到了多少人？", "300余人"),
                                            ("招工", "招聘")])
def test_the_sentence_with_the_asked_fact_is_quoted(real_kb, question, fact):
    answer = real_kb.ask(question)
    assert answer.status == ANSWERED and fact in answer.answer, answer.answer


@pytest.mark.parametrize("question", ["银企对接平台的贷款利率是多少？", "开发区招聘会的报名电话是多少？",
                                      "智能化改造补贴怎么申请，要交哪些材料？"])
def test_a_detail_the_articles_never_give_is_not_presented_as_answered(real_kb, question):
    answer = real_kb.ask(question)
    assert answer.status != ANSWERED, answer.answer
    if answer.status == RELATED:
        assert answer.citations and "没有" in answer.answer


def test_off_topic_question_is_not_found_with_suggestions(real_kb):
    answer = real_kb.ask("明天上街区天气怎么样，会下雨吗？")
    assert answer.status == NOT_FOUND and answer.suggestions and not answer.citations


def test_eval_reports_the_three_outcomes(real_kb, capsys):
    settings = real_kb.settings
    code = main(["eval", str(SEED_QUESTIONS), "--json", "--documents", str(settings.documents),
                 "--index", str(settings.index)])
    payload = json.loads(capsys.readouterr().out)
    assert code == 0
    answers = payload["answers"]
    assert answers["answerable"]["questions"] == 46 and answers["unanswerable"]["questions"] == 20
    assert abs(sum(answers["answerable"][k] for k in ("answered", "related", "not_found")) - 1) < 1e-6
    assert answers["unanswerable"]["answered"] == 0


def test_calibrate_refits_with_staff_questions_and_the_app_uses_the_refit(real_kb, tmp_path, capsys):
    settings = real_kb.settings
    index = tmp_path / "index"
    code = main(["build", "--documents", str(settings.documents), "--index", str(index)])
    assert code == 0
    labelled = tmp_path / "staff.jsonl"
    lines = [json.loads(line) for line in SEED_QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
    labelled.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in lines[:30]) + "\n", encoding="utf-8")
    capsys.readouterr()
    code = main(["calibrate", str(labelled), "--documents", str(settings.documents), "--index", str(index)])
    out = capsys.readouterr().out
    assert code == 0 and "before:" in out and "after:" in out and "staff/answerable" in out
    refit = list(Path(index).glob("answerability-*.json"))
    assert len(refit) == 1 and json.loads(refit[0].read_text(encoding="utf-8"))["info"]["staff_questions"] == 30
    model_id = real_kb.retriever.index.manifest["model_id"]
    assert load_model(model_id, [index]).info["staff_questions"] == 30  # what the app loads for this index
