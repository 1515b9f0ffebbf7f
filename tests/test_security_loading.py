"""Issue 14, finding 4: small hostile files must not exhaust the loader.

Figures (time, memory) are in benchmarks/adversarial.py; these tests assert on the work done, the
skip and its reason: linear joining, bounded .docx/HTML, a per-file time budget, symlink loops.
"""

from __future__ import annotations

import tracemalloc

import pytest

from kb_bot import loading
from kb_bot.indexing import build_index
from kb_bot.embedding import load_embedder
from kb_bot.loading import DocumentError, load_documents, load_file
from kb_bot.settings import Settings

import hostile_files

MB = 1024 * 1024


def test_column_break_joining_is_linear(tmp_path, monkeypatch):
    """Every line of the file is a column break: the old join rebuilt the paragraph per merge (61 s)."""
    path = hostile_files.column_break_text(tmp_path / "cols.txt", size=120_000)
    joined = []
    original = loading._Paragraph.text

    def counting_text(self):
        text = original.fget(self)
        joined.append(len(text))
        return text

    monkeypatch.setattr(loading._Paragraph, "text", property(counting_text))
    document = load_file(path, tmp_path, 20 * MB)
    # One paragraph in the end, built from ~8,500 pieces; the characters joined stay a small multiple of it.
    assert len(document.blocks) == 1
    assert sum(joined) <= 10 * len(document.text)
    assert len(document.notes) <= loading.MAX_NOTES


def test_many_leading_headings_are_not_quadratic(tmp_path, monkeypatch):
    (tmp_path / "h.md").write_text("# 标题\n\n" * 30_000 + "正文。\n", encoding="utf-8")
    document = load_file(tmp_path / "h.md", tmp_path, 20 * MB)
    assert document.text == "正文。"


def _load_with_peak(folder):
    tracemalloc.start()
    try:
        result = load_documents(folder)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak


def test_docx_with_200k_paragraphs_is_skipped_with_a_reason(tmp_path):
    path = hostile_files.docx_many_paragraphs(tmp_path / "many.docx")
    assert path.stat().st_size < 100_000
    result, peak = _load_with_peak(tmp_path)
    assert not result.documents
    assert [s.path for s in result.skipped] == ["many.docx"]
    assert "200,000 paragraphs" in result.skipped[0].reason
    assert peak < 200 * MB


def test_docx_memory_bomb_is_skipped_before_inflating(tmp_path):
    path = hostile_files.docx_memory_bomb(tmp_path / "bomb.docx")
    assert path.stat().st_size < 1 * MB
    result, peak = _load_with_peak(tmp_path)
    assert not result.documents
    assert "inflates to 500.8 MB" in result.skipped[0].reason
    assert peak < 50 * MB  # the old loader read all 500 MB of XML into one bytes object


def test_html_tag_flood_is_skipped_with_a_reason(tmp_path):
    hostile_files.html_tag_flood(tmp_path / "flood.html", tags=300_000)
    result, peak = _load_with_peak(tmp_path)
    assert not result.documents
    assert "300,003 tags" in result.skipped[0].reason
    assert peak < 50 * MB


def test_ordinary_docx_and_html_still_load(tmp_path):
    import docx

    document = docx.Document()
    document.add_heading("养老服务补贴", 0)
    document.add_paragraph("年满八十周岁的老人每月可领取高龄津贴。")
    document.save(str(tmp_path / "ok.docx"))
    (tmp_path / "ok.html").write_text("<html><body><article><h1>公告</h1><p>办事大厅九点开门。</p></article></body></html>",
                                      encoding="utf-8")
    result = load_documents(tmp_path)
    assert sorted(d.path for d in result.documents) == ["ok.docx", "ok.html"]


def test_a_file_over_its_time_budget_is_skipped_with_a_reason(tmp_path):
    hostile_files.column_break_text(tmp_path / "cols.txt", size=50_000)
    (tmp_path / "good.md").write_text("# 通知\n\n办事大厅九点开门。\n", encoding="utf-8")
    result = load_documents(tmp_path, max_seconds=1e-9)  # every check finds the budget spent
    assert {s.path for s in result.skipped} == {"cols.txt", "good.md"}
    assert all("took over 1e-09 s to read" in s.reason for s in result.skipped)
    # The budget is per file and cleared after each one: the default budget loads both.
    assert len(load_documents(tmp_path).documents) == 2
    with pytest.raises(DocumentError, match="took over"):
        load_file(tmp_path / "cols.txt", tmp_path, 20 * MB, max_seconds=1e-9)
    assert load_file(tmp_path / "good.md", tmp_path, 20 * MB).title == "通知"


def test_symlink_loop_is_skipped_with_a_reason_and_refresh_still_works(tmp_path):
    docs = tmp_path / "documents"
    docs.mkdir()
    hostile_files.symlink_loop(docs)
    (docs / "good.md").write_text("# 通知\n\n办事大厅九点开门。\n", encoding="utf-8")
    result = load_documents(docs, exclude=[tmp_path / "index"])
    assert [d.path for d in result.documents] == ["good.md"]
    assert {s.path: s.reason for s in result.skipped} == {
        "a.md": "symlink loop (the link leads back to itself); remove it and copy the file in",
        "b.md": "symlink loop (the link leads back to itself); remove it and copy the file in",
    }
    settings = Settings(documents=docs, index=tmp_path / "index", model="fake")
    for _ in range(2):  # a build, then a refresh
        report = build_index(settings, lambda: load_embedder("fake"))
        assert {s.path for s in report.skipped} == {"a.md", "b.md"}


def test_symlink_loop_does_not_break_the_watcher_or_the_article_view(tmp_path):
    from kb_bot.watch import _Changes
    from web_fixtures import fake_kb

    from kb_bot.web.facade import WebKB

    kb = fake_kb(tmp_path)
    docs = kb.settings.documents
    a, b = hostile_files.symlink_loop(docs)
    changes = _Changes(docs.resolve(), kb.settings.index.resolve())
    assert changes.relevant(str(docs.resolve() / "a.md")) is True  # a change worth a refresh (which skips it)
    assert changes.relevant(str(tmp_path / "elsewhere" / "a.md")) is False
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "x.md").symlink_to("y.md")
    (tmp_path / "elsewhere" / "y.md").symlink_to("x.md")
    assert changes.relevant(str(tmp_path / "elsewhere" / "x.md")) is False
    assert WebKB(kb).article("a.md") is None
    assert WebKB(kb).article("education.md")
