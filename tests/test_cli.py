"""The kb-bot command line: build, search (JSON, stdin), eval, env settings and one-line errors."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from kb_bot.cli import main

SEARCH_KEYS = {"rank", "score", "chunk_id", "doc", "title", "section", "text", "article", "issued", "kind", "status"}


def run(args, capsys, stdin: str | None = None, monkeypatch=None):
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_build_prints_documents_chunks_seconds(fake_settings, capsys):
    code, out, _ = run(["build", "--documents", str(fake_settings.documents), "--index", str(fake_settings.index),
                        "--model", "fake"], capsys)
    assert code == 0
    assert "3 documents" in out and "chunks" in out and " s" in out


def test_search_json_shape_and_auto_build(fake_settings, capsys):
    args = ["search", "积极搭建银企对接平台,帮助企业融资贷款", "--json", "--top-k", "2", "--documents", str(fake_settings.documents),
            "--index", str(fake_settings.index), "--model", "fake"]
    code, out, err = run(args, capsys)
    assert code == 0
    assert "building it" in err  # no index yet: built first, said on stderr
    payload = json.loads(out)
    assert payload["query"] == "积极搭建银企对接平台,帮助企业融资贷款"
    assert len(payload["results"]) == 2
    first = payload["results"][0]
    assert set(first) == SEARCH_KEYS
    assert first["rank"] == 1 and first["doc"] == "advanced-manufacturing.md" and "2600万元" in first["text"]
    assert isinstance(first["score"], float) and first["section"] == "助企纾困有温度"


def test_search_reads_queries_from_stdin(fake_settings, capsys, monkeypatch):
    monkeypatch.setenv("KB_BOT_DOCUMENTS", str(fake_settings.documents))
    monkeypatch.setenv("KB_BOT_INDEX", str(fake_settings.index))
    monkeypatch.setenv("KB_BOT_MODEL", "fake")
    code, out, _ = run(["search", "-", "--json", "--top-k", "1"], capsys, "海铁联运国际班列\n\n教师工资待遇\n", monkeypatch)
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [l["query"] for l in lines] == ["海铁联运国际班列", "教师工资待遇"]
    assert "海铁联运" in lines[0]["results"][0]["text"]


def test_flags_override_environment(fake_settings, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("KB_BOT_DOCUMENTS", str(tmp_path / "nowhere"))
    code, _, err = run(["build", "--documents", str(fake_settings.documents), "--index", str(fake_settings.index),
                        "--model", "fake"], capsys)
    assert code == 0, err


@pytest.mark.parametrize(
    "make_args, message",
    [
        (lambda s, t: ["build", "--documents", str(t / "missing"), "--index", str(s.index), "--model", "fake"],
         "documents folder"),
        (lambda s, t: ["build", "--documents", str(t / "emptydir"), "--index", str(s.index), "--model", "fake"],
         "no usable documents"),
        (lambda s, t: ["eval", str(t / "missing.jsonl"), "--documents", str(s.documents), "--index", str(s.index),
                       "--model", "fake"], "does not exist"),
    ],
)
def test_errors_are_one_clear_line_and_nonzero(fake_settings, tmp_path, capsys, make_args, message):
    (tmp_path / "emptydir").mkdir()
    code, _, err = run(make_args(fake_settings, tmp_path), capsys)
    assert code == 1
    assert err.startswith("kb-bot: error: ") and message in err.splitlines()[0]
    assert "Traceback" not in err


def test_settings_paths_and_queries_a_person_got_wrong_are_one_line_too(fake_settings, tmp_path, capsys, monkeypatch):
    # Each of these once ended in a traceback (ValueError, NotADirectoryError, or five arbitrary passages).
    base = ["--documents", str(fake_settings.documents), "--model", "fake"]
    monkeypatch.setenv("KB_BOT_FUSION", "bogus")
    code, _, err = run(["search", "招工", *base, "--index", str(fake_settings.index)], capsys)
    assert code == 1 and "KB_BOT_FUSION='bogus'" in err and "minmax" in err and "Traceback" not in err
    monkeypatch.delenv("KB_BOT_FUSION")
    a_file = tmp_path / "index-is-a-file"
    a_file.write_text("not a folder", encoding="utf-8")
    code, _, err = run(["build", *base, "--index", str(a_file)], capsys)
    assert code == 1 and err.startswith("kb-bot: error: ") and "index-is-a-file" in err and "Traceback" not in err
    assert "--index" in err  # the hint names what to check
    code, _, err = run(["search", "  ", *base, "--index", str(fake_settings.index)], capsys)
    assert code == 1 and "the search query is empty" in err


def test_serve_names_a_bad_or_taken_port_instead_of_a_traceback(fake_settings, capsys):
    import socket

    base = ["--documents", str(fake_settings.documents), "--index", str(fake_settings.index), "--model", "fake"]
    with pytest.raises(SystemExit) as exited:
        main(["serve", "--port", "99999", *base])
    assert exited.value.code == 2 and "is not a port number" in capsys.readouterr().err
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, _, err = run(["serve", "--port", str(port), *base], capsys)
    assert code == 1 and f"cannot serve on 127.0.0.1:{port}" in err and "--port" in err and "Traceback" not in err


def test_stale_index_says_to_rebuild(fake_settings, capsys):
    base = ["--documents", str(fake_settings.documents), "--index", str(fake_settings.index)]
    assert run(["build", *base, "--model", "fake:32"], capsys)[0] == 0
    code, _, err = run(["search", "贷款", *base, "--model", "fake"], capsys)
    assert code == 1 and "kb-bot build" in err and "model_id" in err


def test_eval_prints_recall_and_mrr(fake_settings, capsys, tmp_path):
    questions = tmp_path / "q.jsonl"
    questions.write_text(
        '{"question": "银企对接平台 融资贷款", "expect": ["2600万元"]}\n'
        '{"question": "海铁联运国际班列", "expect": ["海铁联运"]}\n'
        '{"question": "护照", "expect": []}\n', encoding="utf-8")
    args = ["eval", str(questions), "--json", "--documents", str(fake_settings.documents), "--index",
            str(fake_settings.index), "--model", "fake"]
    code, out, _ = run(args, capsys)
    report = json.loads(out.strip().splitlines()[-1])
    assert code == 0 and report["questions"] == 3 and report["answerable"] == 2
    assert report["recall@3"] == 1.0 and 0 < report["mrr@10"] <= 1


def test_eval_in_text_names_the_missed_questions_and_says_na_without_answerable_ones(fake_settings, capsys, tmp_path):
    questions = tmp_path / "q.jsonl"
    base = ["--documents", str(fake_settings.documents), "--index", str(fake_settings.index), "--model", "fake"]
    questions.write_text('{"question": "护照", "expect": []}\n{"question": "签证", "expect": []}\n', encoding="utf-8")
    code, out, _ = run(["eval", str(questions), *base], capsys)
    assert code == 0 and "n/a" in out and "recall@1" not in out  # 0.000 would read as every search failing
    questions.write_text('{"question": "海铁联运国际班列", "expect": ["一个没有的字符串"]}\n', encoding="utf-8")
    code, out, _ = run(["eval", str(questions), *base], capsys)
    assert code == 0 and "not answered with the expected fact:" in out and "海铁联运国际班列" in out


def test_bad_question_file_names_the_line(fake_settings, capsys, tmp_path):
    questions = tmp_path / "q.jsonl"
    questions.write_text('{"question": "ok", "expect": []}\nnot json\n', encoding="utf-8")
    code, _, err = run(["eval", str(questions), "--documents", str(fake_settings.documents), "--index",
                        str(fake_settings.index), "--model", "fake"], capsys)
    assert code == 1 and "q.jsonl:2" in err


@pytest.mark.slow
def test_console_script_on_the_real_model(tmp_path, seed_docs):
    """The installed `kb-bot` on the bundled model: the loan question returns the bank-enterprise passage first."""
    env_args = ["--documents", str(seed_docs), "--index", str(tmp_path / "index")]
    result = subprocess.run([str(Path(sys.executable).parent / "kb-bot"), "search", "有没有帮企业贷款的服务？", "--json", *env_args],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    top = json.loads(result.stdout)["results"][0]
    assert "银企对接平台" in top["text"] and "2600万元" in top["text"]


def test_ask_json_and_stdin(fake_settings, capsys, monkeypatch):
    base = ["--documents", str(fake_settings.documents), "--index", str(fake_settings.index), "--model", "fake"]
    code, out, _ = run(["ask", "-", "--json", *base], capsys, "积极搭建银企对接平台帮助企业融资贷款\n国际班列开行\n", monkeypatch)
    answers = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and len(answers) == 2
    assert set(answers[0]) == {"question", "found", "status", "confidence", "answer", "citations", "suggestions"}
    assert answers[0]["found"] and "2600万元" in answers[0]["answer"]
    start, end = answers[0]["citations"][0]["span"]
    assert "2600万元" in answers[0]["citations"][0]["text"][start:end]


def test_ask_plain_text_lists_sources(fake_settings, capsys):
    base = ["--documents", str(fake_settings.documents), "--index", str(fake_settings.index), "--model", "fake"]
    code, out, _ = run(["ask", "海铁联运国际班列开行", *base], capsys)
    assert code == 0 and "来源 Sources:" in out and "advanced-manufacturing.md" in out and "【" in out
