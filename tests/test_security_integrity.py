"""Issue 14, finding 6: damage is detected, bad input and bad settings give one-line errors, no temp litter.

Checksums of every generation file in the manifest (a valid but reordered dense.faiss is caught on load
and by `kb-bot verify`), a cut manifest.json, text that is not UTF-8 on argv, stdin and /ask, impossible
settings, and jieba's dictionary cache kept inside the generation instead of /tmp.
"""

from __future__ import annotations

import hashlib
import io
import json
import sys
import tempfile

import numpy as np
import pytest

from kb_bot import cli
from kb_bot.embedding import load_embedder
from kb_bot.errors import KbBotError
from kb_bot.indexing import build_index
from kb_bot.keyword import QUERY_CACHE, QUERY_DICTIONARY
from kb_bot.settings import Settings, load_settings
from kb_bot.store import current_generation, load_index, read_manifest


def build(settings: Settings, full: bool = True):
    return build_index(settings, lambda: load_embedder("fake"), full=full)


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(err: str) -> str:
    lines = err.strip().splitlines()
    assert "Traceback" not in err and lines and lines[0].startswith("kb-bot: error: "), err
    assert len(lines) <= 2 and all(line.startswith(("kb-bot: error: ", "kb-bot: hint: ")) for line in lines), err
    return lines[0]


def _reorder_dense_index(path):
    """Rewrite dense.faiss as a perfectly valid index with its vectors in another order."""
    import faiss

    index = faiss.read_index(str(path))
    vectors = index.reconstruct_n(0, index.ntotal)
    shuffled = faiss.IndexFlatIP(vectors.shape[1])
    shuffled.add(np.ascontiguousarray(vectors[::-1]))
    faiss.write_index(shuffled, str(path))


def test_manifest_lists_checksums_and_a_reordered_dense_index_is_caught(fake_settings, capsys):
    build(fake_settings)
    generation = current_generation(fake_settings.index)
    checksums = read_manifest(fake_settings.index).checksums
    assert {"chunks.jsonl", "vectors.npy", "dense.faiss", f"keyword/{QUERY_DICTIONARY}"} <= set(checksums)
    assert checksums["dense.faiss"] == hashlib.sha256((generation / "dense.faiss").read_bytes()).hexdigest()
    code, out, _ = run_cli(capsys, "verify", "--index", str(fake_settings.index))
    assert code == 0 and "every file matches its checksum" in out

    _reorder_dense_index(generation / "dense.faiss")
    with pytest.raises(KbBotError) as info:
        load_index(fake_settings.index)
    assert "dense.faiss does not match its checksum" in info.value.message
    assert "kb-bot rollback" in info.value.hint
    code, _, err = run_cli(capsys, "verify", "--index", str(fake_settings.index))
    assert code == 1 and "dense.faiss does not match its checksum" in one_line_error(err)
    assert "kb-bot rollback" in err


def test_rollback_recovers_from_a_damaged_generation(fake_settings, capsys):
    build(fake_settings)
    (fake_settings.documents / "new.md").write_text("# 新文章\n\n区里新开了一家图书馆。\n", encoding="utf-8")
    build(fake_settings, full=False)
    (current_generation(fake_settings.index) / "chunks.jsonl").write_text("", encoding="utf-8")
    code, _, err = run_cli(capsys, "search", "图书馆", "--index", str(fake_settings.index), "--documents",
                           str(fake_settings.documents), "--model", "fake")
    assert code == 1 and "chunks.jsonl" in one_line_error(err) and "rollback" in err
    assert run_cli(capsys, "rollback", "--index", str(fake_settings.index))[0] == 0
    assert run_cli(capsys, "verify", "--index", str(fake_settings.index))[0] == 0


def test_status_on_a_cut_manifest_is_one_line(fake_settings, capsys):
    build(fake_settings)
    manifest = current_generation(fake_settings.index) / "manifest.json"
    manifest.write_bytes(manifest.read_bytes()[:100])
    for command in ("status", "verify"):
        code, _, err = run_cli(capsys, command, "--index", str(fake_settings.index))
        assert code == 1 and "manifest" in one_line_error(err) and "damaged" in err


def test_text_that_is_not_utf8_gives_one_line_errors(fake_settings, capsys, monkeypatch):
    build(fake_settings)
    common = ["--index", str(fake_settings.index), "--documents", str(fake_settings.documents), "--model", "fake"]
    # argv bytes that are not UTF-8 reach Python as surrogate escapes.
    question = b"\xd5\xd0\xc6\xb8\xbb\xe1".decode("utf-8", "surrogateescape")  # "招聘会" in GB18030
    code, _, err = run_cli(capsys, "ask", question, *common)
    assert code == 1 and "the question is not valid UTF-8" in one_line_error(err)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO("招聘会\n".encode() + b"\xd5\xd0\xc6\xb8\n")))
    code, out, err = run_cli(capsys, "search", "-", "--json", *common)
    assert code == 1 and "line 2 of stdin is not valid UTF-8" in one_line_error(err)
    assert json.loads(out.splitlines()[0])["query"] == "招聘会"  # the good line before it was answered


def test_a_lone_surrogate_through_ask_is_answered(tmp_path):
    from web_fixtures import fake_kb

    from kb_bot.web.app import build_app

    citizen = build_app(fake_kb(tmp_path)).kb_tabs.citizen
    result = citizen.api_ask("招聘会\ud800帮企业招到了多少人？\x00")
    json.dumps(result, ensure_ascii=False).encode("utf-8")  # what the server sends must be encodable
    assert "\ud800" not in result["question"] and "招聘会" in result["question"]
    assert citizen.add_question("\udcff问题", []).chat[-1]["content"] == "问题"


def test_impossible_settings_give_one_line_errors(capsys, monkeypatch, tmp_path):
    with pytest.raises(KbBotError, match="KB_BOT_CHUNK_OVERLAP=40 must be at least 0 and below"):
        load_settings(environ={"KB_BOT_CHUNK_SIZE": "30", "KB_BOT_CHUNK_OVERLAP": "40"})
    for env in ({"KB_BOT_CHUNK_SIZE": "10", "KB_BOT_CHUNK_OVERLAP": "20"}, {"KB_BOT_DENSE_WEIGHT": "nan"},
                {"KB_BOT_CONCURRENCY": "0"}, {"KB_BOT_LLM_TIMEOUT": "-1"}, {"KB_BOT_MAX_FILE_SECONDS": "0"}):
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        code, _, err = run_cli(capsys, "status", "--index", str(tmp_path / "index"))
        assert code == 1 and "bad setting" in one_line_error(err), env
        for name in env:
            monkeypatch.delenv(name)
    assert run_cli(capsys, "status", "--index", str(tmp_path / "index"))[0] == 1  # no index: still one line


def test_llm_api_key_is_a_setting_and_never_shown():
    settings = load_settings(environ={"KB_BOT_LLM_API_KEY": "sk-secret", "KB_BOT_ADMIN_PASSWORD": "pw-secret"})
    assert settings.llm_api_key == "sk-secret" and settings.admin_password == "pw-secret"
    assert "sk-secret" not in repr(settings) and "pw-secret" not in repr(settings)


def test_jieba_leaves_no_cache_file_in_tmp(fake_settings, monkeypatch, tmp_path):
    scratch = tmp_path / "scratch-tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    build(fake_settings)
    index = load_index(fake_settings.index)
    assert index.keyword.search("招聘", 3)[0].size  # the query dictionary works
    keyword = current_generation(fake_settings.index) / "keyword"
    assert (keyword / QUERY_CACHE).is_file()
    assert sorted(p.name for p in scratch.iterdir() if p.name.startswith("jieba.u")) == []
    # Loading again uses the cache in the generation and writes nothing (the generation stays as verified).
    before = {p.name: p.stat().st_mtime_ns for p in keyword.iterdir()}
    load_index(fake_settings.index)
    assert {p.name: p.stat().st_mtime_ns for p in keyword.iterdir()} == before
