"""Issue 5: the formats staff receive (.docx, .pdf, .html, .md, .txt in three encodings) and bad input.

Every fixture is made here: .docx with python-docx, PDFs with a tiny PDF writer (Latin text in
the built-in Helvetica fonts, so no CJK font is needed), HTML and text as strings.
"""

from __future__ import annotations

import os
from pathlib import Path

import docx
import pytest

from kb_bot import loading
from kb_bot.chunking import chunk_documents
from kb_bot.loading import (
    DocumentError,
    decode_text,
    is_ignored_name,
    load_documents,
    load_file,
    parse_document,
    read_source,
)

from doc_fixtures import REGULATIONS, SEED, make_pdf


# --------------------------------------------------------------------------- fixture makers


GUIDE_PDF = [
    [
        (20, True, "District Library Guide"),
        (11, False, "The district library opens at nine in the morning"),
        (11, False, "and closes at six in the evening on weekdays."),
        (14, True, "Borrowing Rules"),
        (11, False, "Residents may borrow ten books for thirty days"),
        (11, False, "with a free library card."),
        (9, False, "1"),
    ],
    [
        (11, False, "Overdue books cost ten cents a day."),
        (14, True, "Reading Rooms"),
        (11, False, "Quiet reading rooms are on the second floor."),
        (9, False, "2"),
    ],
]


def make_docx(path: Path) -> None:
    document = docx.Document()
    document.add_heading("社区养老服务指南", level=0)  # the Title style
    document.add_paragraph("本指南介绍上街区社区养老服务的申请方式。")
    document.add_heading("申请条件", level=1)
    document.add_paragraph("年满六十周岁的本区户籍老人可以申请居家养老服务补贴。")
    paragraph = document.add_paragraph()
    paragraph.add_run("助餐服务").bold = True
    paragraph.add_run("社区食堂为老人提供每餐五元的优惠午餐。")
    document.add_heading("办理流程", level=1)
    document.add_paragraph("携带身份证到街道便民服务中心窗口办理，当场受理。")
    document.add_heading("咨询电话", level=2)
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "窗口"
    table.cell(0, 1).text = "电话"
    table.cell(1, 0).text = "便民服务中心"
    table.cell(1, 1).text = "0371-68912345"
    document.save(str(path))


SAVED_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>关于开展夏季防溺水工作的通知_上街区人民政府</title>
<script>var tracker = "统计脚本";</script><style>.x { color: red }</style></head>
<body>
<header><div class="logo">上街区人民政府门户网站</div></header>
<nav><a href="/">首页</a><a href="/gk">政务公开</a></nav>
<div class="breadcrumb">首页 &gt; 通知公告</div>
<div id="sidebar"><h3>热点专题</h3><ul><li>无关的侧栏链接</li></ul></div>
<div class="content">
  <h1>关于开展夏季防溺水工作的通知</h1>
  <p>各中小学校：</p>
  <p>为切实做好<span>夏季</span>防溺水工作，现将有关事项
     通知如下。</p>
  <h2>一、工作目标</h2>
  <p>确保全区中小学生暑期<b>零溺亡</b>。</p>
  <h2>二、工作措施</h2>
  <p>加强河道巡查<br>在危险水域设置警示牌。</p>
  <table><tr><td>联系人</td><td>王老师</td></tr></table>
  <div class="share-bar">分享到微信 分享到微博</div>
</div>
<footer>版权所有 上街区人民政府 备案号12345</footer>
</body></html>
"""


# --------------------------------------------------------------------------- formats


def test_docx_headings_become_sections(tmp_path):
    make_docx(tmp_path / "养老服务.docx")
    result = load_documents(tmp_path)
    assert not result.skipped
    (doc,) = result.documents
    assert doc.title == "社区养老服务指南"
    sections = {b.section: doc.text[b.start:b.end] for b in doc.blocks}
    assert sections[None] == "本指南介绍上街区社区养老服务的申请方式。"
    assert sections["申请条件"] == "年满六十周岁的本区户籍老人可以申请居家养老服务补贴。"
    assert sections["助餐服务"] == "社区食堂为老人提供每餐五元的优惠午餐。"  # a bold lead-in
    assert "携带身份证" in sections["办理流程"]
    assert "便民服务中心 | 0371-68912345" in sections["咨询电话"]  # table rows are kept
    chunks = chunk_documents([doc], 200, 40)
    assert {c.section for c in chunks} == {None, "申请条件", "助餐服务", "办理流程", "咨询电话"}
    assert all(c.title == "社区养老服务指南" for c in chunks)


def test_docx_without_title_style_and_chinese_style_names(tmp_path):
    document = docx.Document()
    document.add_paragraph("请假制度", style="Heading 1")
    document.add_paragraph("职工请假须提前一天提交申请。")
    document.add_paragraph("病假", style="Heading 2")
    document.add_paragraph("病假需要医院证明。")
    document.save(str(tmp_path / "leave.docx"))
    (doc,) = load_documents(tmp_path).documents
    assert doc.title == "请假制度"
    assert [(b.section, doc.text[b.start:b.end]) for b in doc.blocks] == [
        (None, "职工请假须提前一天提交申请。"), ("病假", "病假需要医院证明。")]
    assert loading._docx_heading_level("标题 2") == 3
    assert loading._docx_heading_level("Title") == 1
    assert loading._docx_heading_level("Normal") is None


def test_pdf_text_layer_with_headings(tmp_path):
    (tmp_path / "guide.pdf").write_bytes(make_pdf(GUIDE_PDF))
    result = load_documents(tmp_path)
    assert not result.skipped
    (doc,) = result.documents
    assert doc.title == "District Library Guide"
    sections = {b.section: doc.text[b.start:b.end] for b in doc.blocks}
    assert sections[None] == ("The district library opens at nine in the morning "
                              "and closes at six in the evening on weekdays.")
    # Lines re-joined into one paragraph; page numbers dropped; a page break inside a section kept in it.
    assert "Residents may borrow ten books for thirty days with a free library card." in sections["Borrowing Rules"]
    assert "Overdue books cost ten cents a day." in sections["Borrowing Rules"]
    assert sections["Reading Rooms"] == "Quiet reading rooms are on the second floor."
    assert not any(line.strip() in {"1", "2"} for line in doc.text.splitlines())
    chunks = chunk_documents([doc], 200, 40)
    assert {c.section for c in chunks} == {None, "Borrowing Rules", "Reading Rooms"}


def test_html_keeps_the_main_text_only(tmp_path):
    (tmp_path / "notice.html").write_text(SAVED_PAGE, encoding="utf-8")
    (doc,) = load_documents(tmp_path).documents
    assert doc.title == "关于开展夏季防溺水工作的通知"
    for boilerplate in ("门户网站", "首页", "政务公开", "热点专题", "侧栏", "分享到", "版权所有", "统计脚本", "color"):
        assert boilerplate not in doc.text, boilerplate
    sections = {b.section: doc.text[b.start:b.end] for b in doc.blocks}
    assert "为切实做好夏季防溺水工作，现将有关事项通知如下。" in sections[None]  # no stray spaces in Chinese
    assert sections["一、工作目标"] == "确保全区中小学生暑期零溺亡。"
    assert "在危险水域设置警示牌。" in sections["二、工作措施"]
    assert "联系人 | 王老师" in sections["二、工作措施"]


def test_html_title_from_title_tag_and_gbk_page(tmp_path):
    page = ("<html><head><meta charset='gbk'><title>社区公告 - 上街区</title></head><body>"
            "<div><p>本周六上午社区组织义诊活动，欢迎居民参加。</p></div></body></html>")
    (tmp_path / "notice.htm").write_bytes(page.encode("gbk"))
    (doc,) = load_documents(tmp_path).documents
    assert doc.title == "社区公告"
    assert doc.text == "本周六上午社区组织义诊活动，欢迎居民参加。"


TEXT = "上街区图书馆\n\n图书馆每周一闭馆，其余时间九点至十八点开放。\n"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "utf-16"])
def test_txt_encodings(tmp_path, encoding):
    (tmp_path / "library.txt").write_bytes(TEXT.encode(encoding))
    result = load_documents(tmp_path)
    assert not result.skipped
    (doc,) = result.documents
    assert doc.title == "上街区图书馆"  # a short first line standing alone is the title
    assert doc.text == "图书馆每周一闭馆，其余时间九点至十八点开放。"
    (chunk,) = chunk_documents([doc], 200, 40)
    source = decode_text(TEXT.encode(encoding))
    assert source[chunk.start:chunk.end] == chunk.text  # offsets point into the text as read


def test_txt_without_title_line(tmp_path):
    (tmp_path / "note.txt").write_text("这是一段没有标题的说明，直接写正文。\n第二行接着写。", encoding="utf-8")
    (doc,) = load_documents(tmp_path).documents
    # No title line: the opening sentence names it (the file stem says nothing to the embedder or a reader).
    assert doc.title == "这是一段没有标题的说明，直接写正文。"
    assert doc.text == "这是一段没有标题的说明，直接写正文。第二行接着写。"


def test_markdown_heading_levels():
    doc = parse_document("# 办事指南\n\n## 户籍办理\n\n带上户口本。\n\n## 社保\n\n带上社保卡。", "guide.md")
    assert doc.title == "办事指南" and doc.unit is None
    assert [(b.section, doc.text[b.start:b.end]) for b in doc.blocks] == [
        ("户籍办理", "带上户口本。"), ("社保", "带上社保卡。")]
    seed = parse_document("# 上街区 教育局\n\n# 教育新闻\n\n正文。", "news.md")
    assert (seed.unit, seed.title) == ("上街区 教育局", "教育新闻")


def test_seed_articles_still_load_with_their_metadata():
    result = load_documents(SEED, exclude=[REGULATIONS])
    assert not result.skipped
    by_path = {d.path: d for d in result.documents}
    assert by_path["education.md"].title == "奋楫前行 绘就美好教育发展新画卷"
    assert by_path["education.md"].unit == "上街区教育局"
    assert any(b.section for b in by_path["education.md"].blocks)


def test_leading_dashes_in_converted_formats_are_content(tmp_path):
    document = docx.Document()
    document.add_paragraph("---")
    document.add_paragraph("分隔线下面是正文内容，不是 YAML 元数据。")
    document.save(str(tmp_path / "dashes.docx"))
    result = load_documents(tmp_path)
    assert not result.skipped
    assert "分隔线下面是正文内容" in result.documents[0].text


# --------------------------------------------------------------------------- bad input


GOOD = "# 好文件\n\n这是一篇正常的文章，应当被索引。"


def _write_bad(folder: Path, kind: str) -> str:
    """Write one bad file of ``kind``; returns its name."""
    if kind == "binary":
        (folder / "data.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 40)
        return "data.txt"
    if kind == "undecodable":
        (folder / "latin1.txt").write_bytes("Prix: 12 € — café crème\n".encode("cp1252") * 10)
        return "latin1.txt"
    if kind == "empty":
        (folder / "empty.md").write_bytes(b"")
        return "empty.md"
    if kind == "blank":
        (folder / "blank.md").write_text("   \n\n\t\n", encoding="utf-8")
        return "blank.md"
    if kind == "too big":
        (folder / "big.md").write_text("大" * 3000, encoding="utf-8")  # 9 KB against an 8 KB limit
        return "big.md"
    if kind == "scanned pdf":
        (folder / "scan.pdf").write_bytes(make_pdf([[]]))
        return "scan.pdf"
    if kind == "broken pdf":
        (folder / "broken.pdf").write_bytes(b"%PDF-1.4\n" + bytes(range(200)) * 3)
        return "broken.pdf"
    if kind == "broken docx":
        (folder / "broken.docx").write_bytes(os.urandom(2048))
        return "broken.docx"
    if kind == "zip but not docx":
        import zipfile

        with zipfile.ZipFile(folder / "fake.docx", "w") as archive:
            archive.writestr("hello.txt", "not a Word document")
        return "fake.docx"
    if kind == "symlink outside":
        (folder / "hostname.md").symlink_to("/etc/hostname")
        return "hostname.md"
    if kind == "dangling symlink":
        (folder / "gone.md").symlink_to(folder / "nowhere.md")
        return "gone.md"
    if kind == "unsupported":
        (folder / "budget.xlsx").write_bytes(b"PK\x03\x04 spreadsheet")
        return "budget.xlsx"
    if kind == "unclosed front matter":
        (folder / "meta.md").write_text("---\ntitle: 没有结束\n\n正文。", encoding="utf-8")
        return "meta.md"
    raise AssertionError(kind)


BAD_KINDS = {
    "binary": "binary file",
    "undecodable": "not UTF-8 or GB18030 text",
    "empty": "empty file",
    "blank": "empty document",
    "too big": "over the 8.0 KB limit",
    "scanned pdf": "PDF has no text layer",
    "broken pdf": "broken PDF",
    "broken docx": "broken .docx",
    "zip but not docx": "broken .docx",
    "symlink outside": "symlink points outside the documents folder",
    "dangling symlink": "broken symlink",
    "unsupported": "unsupported file type .xlsx",
    "unclosed front matter": "front matter",
}


@pytest.mark.parametrize("kind", sorted(BAD_KINDS))
def test_bad_input_is_skipped_with_a_reason_and_good_documents_load(tmp_path, kind):
    (tmp_path / "good.md").write_text(GOOD, encoding="utf-8")
    name = _write_bad(tmp_path, kind)
    result = load_documents(tmp_path, max_bytes=8 * 1024)
    assert [d.path for d in result.documents] == ["good.md"]
    (skipped,) = result.skipped
    assert skipped.path == name
    assert BAD_KINDS[kind] in skipped.reason
    assert "\n" not in skipped.reason and len(skipped.reason) < 200


def test_symlink_inside_the_folder_is_followed(tmp_path):
    (tmp_path / "good.md").write_text(GOOD, encoding="utf-8")
    (tmp_path / "alias.md").symlink_to(tmp_path / "good.md")
    (tmp_path / "sub").mkdir()
    (tmp_path / "linkdir").symlink_to(tmp_path / "sub")
    result = load_documents(tmp_path)
    assert sorted(d.path for d in result.documents) == ["alias.md", "good.md"]
    assert [(s.path, s.reason.split(";")[0]) for s in result.skipped] == [("linkdir", "symlink to a folder")]


def test_size_limit_message_is_readable(tmp_path):
    (tmp_path / "big.md").write_bytes(b"a" * (21 * 1024 * 1024))
    with pytest.raises(DocumentError, match=r"file is 21\.0 MB, over the 20\.0 MB limit; .*KB_BOT_MAX_FILE_MB"):
        load_file(tmp_path / "big.md", tmp_path, 20 * 1024 * 1024)


def test_hidden_and_temporary_files_are_ignored_silently(tmp_path):
    (tmp_path / "good.md").write_text(GOOD, encoding="utf-8")
    for name in (".hidden.md", "~$good.docx", "good.md~", "draft.tmp", ".#good.md", "report.pdf.crdownload"):
        (tmp_path / name).write_bytes(b"\x00junk")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "notes.md").write_text(GOOD, encoding="utf-8")
    result = load_documents(tmp_path)
    assert [d.path for d in result.documents] == ["good.md"]
    assert result.skipped == ()
    assert is_ignored_name("~$x.docx") and is_ignored_name(".x") and not is_ignored_name("x.docx")


def test_excluded_folder_is_not_read(tmp_path):
    (tmp_path / "good.md").write_text(GOOD, encoding="utf-8")
    (tmp_path / "index").mkdir()
    (tmp_path / "index" / "README.md").write_text(GOOD, encoding="utf-8")
    assert len(load_documents(tmp_path).documents) == 2
    assert [d.path for d in load_documents(tmp_path, exclude=[tmp_path / "index"]).documents] == ["good.md"]


def test_an_unexpected_error_skips_only_that_file(tmp_path, monkeypatch):
    (tmp_path / "good.md").write_text(GOOD, encoding="utf-8")
    (tmp_path / "page.html").write_text(SAVED_PAGE, encoding="utf-8")

    def explode(data):
        raise RuntimeError("parser bug\nwith a second line")

    monkeypatch.setattr(loading.formats, "_html_to_markdown", explode)
    result = load_documents(tmp_path)
    assert [d.path for d in result.documents] == ["good.md"]
    assert result.skipped[0].reason == "cannot read file (RuntimeError: parser bug)"


def test_read_source_of_each_format_is_light_markdown(tmp_path):
    make_docx(tmp_path / "a.docx")
    (tmp_path / "b.pdf").write_bytes(make_pdf(GUIDE_PDF))
    (tmp_path / "c.html").write_text(SAVED_PAGE, encoding="utf-8")
    docx_md, _ = read_source(tmp_path / "a.docx")
    assert docx_md.startswith("# 社区养老服务指南\n\n") and "\n\n## 申请条件\n\n" in docx_md
    assert "**助餐服务** 社区食堂" in docx_md and "\n\n### 咨询电话\n\n" in docx_md
    pdf_md, _ = read_source(tmp_path / "b.pdf")
    assert pdf_md.startswith("# District Library Guide\n\n") and "\n\n## Borrowing Rules\n\n" in pdf_md
    html_md, _ = read_source(tmp_path / "c.html")
    assert html_md.startswith("# 关于开展夏季防溺水工作的通知\n\n") and "\n\n## 一、工作目标\n\n" in html_md


def test_html_page_wrapped_in_a_form_and_with_a_teaser_article(tmp_path):
    """ASP.NET pages put everything inside one <form>; an <article> may be a small teaser box."""
    page = """<html><head><title>办事指南</title></head><body><form id="form1" method="post">
    <input type="hidden" name="__VIEWSTATE" value="abc">
    <div class="menu"><a>首页</a></div>
    <article class="teaser"><p>推荐阅读</p></article>
    <div id="zoom"><h1>居住证办理指南</h1>
    <p>申请居住证需在本区居住满半年，并有合法稳定就业、合法稳定住所或连续就读条件之一。</p>
    <p>办理地点为各街道派出所户籍窗口，工作日上午九点至下午五点受理。</p></div>
    </form></body></html>"""
    (tmp_path / "guide.html").write_text(page, encoding="utf-8")
    (doc,) = load_documents(tmp_path).documents
    assert doc.title == "居住证办理指南"
    assert "申请居住证需在本区居住满半年" in doc.text and "户籍窗口" in doc.text
    assert "首页" not in doc.text
