"""Loader: front matter, sections, newspaper layout repair, artefacts, offsets, encodings."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb_bot.loading import DocumentError, decode_text, load_documents, parse_document

from conftest import SEED_DOCUMENTS, SEED_EXCLUDE

COLUMN_BREAKS = ["上街区先进制造业", "7个项目", "招商氛围", "经营个体", "深入调研"]


@pytest.fixture(scope="module")
def seed():
    result = load_documents(SEED_DOCUMENTS, exclude=SEED_EXCLUDE)
    assert not result.skipped
    return {Path(d.path).stem: d for d in result.documents}


def test_three_articles_with_front_matter(seed):
    assert set(seed) == {"advanced-manufacturing", "jiyuanlu-street", "education"}
    doc = seed["advanced-manufacturing"]
    assert doc.title == "“零距离”服务 赋能产业发展提质增效"
    assert doc.unit == "上街区先进制造业开发区"
    assert doc.meta["paper"] == "正观新闻·郑州晚报"
    assert "融资贷款" in doc.meta["topics"]


def test_all_five_column_breaks_are_joined(seed):
    text = "\n".join(d.text for d in seed.values())
    for word in COLUMN_BREAKS:
        assert word in text, word
    notes = [n for d in seed.values() for n in d.notes if n.startswith("joined column break")]
    assert len(notes) == 5


def test_bold_lead_ins_become_sections_and_leave_the_text(seed):
    doc = seed["advanced-manufacturing"]
    sections = [b.section for b in doc.blocks]
    assert sections == [None, "助企纾困有温度", "产业发展有速度", "陆港建设有成效"]
    assert "**" not in doc.text and "助企纾困有温度" not in doc.text


def test_bylines_are_not_indexed(seed):
    for doc in seed.values():
        assert "记者" not in doc.text and "通讯员" not in doc.text


def test_unfinished_paragraph_before_a_heading_is_not_joined(seed):
    # "持续为企业" is cut off in print, but the next paragraph is a new section: keep them apart.
    doc = seed["advanced-manufacturing"]
    block = next(b for b in doc.blocks if b.section == "助企纾困有温度")
    assert doc.text[block.start:block.end].endswith("持续为企业")


def test_trailing_print_artefact_is_dropped():
    source = "# 单位\n\n# 标题\n\n正文第一段。\n\n正观新闻·郑州晚报记者 谢鹏飞 通讯员 宋冉\n\n8578\n"
    doc = parse_document(source, "x.md")
    assert doc.text == "正文第一段。"
    glued = parse_document("# 标题\n\n正文第一段,最后一句。 8578", "y.md")
    assert glued.text == "正文第一段,最后一句。"
    assert any("8578" in note for note in doc.notes + glued.notes)


def test_offsets_map_back_to_the_source(seed):
    doc = seed["advanced-manufacturing"]
    source = (SEED_DOCUMENTS / doc.path).read_text(encoding="utf-8")
    phrase = "帮助企业融资贷款2600万元"
    mapped = doc.source_offset(doc.text.index(phrase))
    assert source[mapped:mapped + len(phrase)] == phrase
    # Across a repaired column break the second half maps past the blank line.
    joined = doc.text.index("进制造业开发区加快")
    assert source[doc.source_offset(joined):doc.source_offset(joined) + 4] == "进制造业"


def test_encodings_utf8_bom_and_gb18030():
    text = "上街区教育局坚持教育优先。"
    assert decode_text(b"\xef\xbb\xbf" + text.encode("utf-8")) == text
    assert decode_text(text.encode("gb18030")) == text
    with pytest.raises(DocumentError, match="binary"):
        decode_text(b"\x00\x01\x02binary")


def test_empty_document_is_an_error_with_a_reason():
    with pytest.raises(DocumentError, match="empty document"):
        parse_document("---\ntitle: x\n---\n\n# 只有标题\n", "empty.md")


def test_bad_front_matter_names_the_line():
    with pytest.raises(DocumentError, match=r"line \d"):
        parse_document("---\ntitle: [unclosed\n---\n正文。", "bad.md")


def test_a_date_that_is_no_date_is_ignored_not_the_document():
    # issued: 2099-99-99 once skipped the whole file (YAML made it a date and failed: "month must be in 1..12").
    doc = parse_document("---\ntitle: 测试通知\nissued: 2099-99-99\n---\n\n企业融资有贴息。\n", "a.md")
    assert doc.title == "测试通知" and doc.issued is None and "贴息" in doc.text
    good = parse_document("---\ntitle: 测试通知\nissued: 2026-11-27\n---\n\n企业融资有贴息。\n", "b.md")
    assert good.issued == "2026-11-27"


def test_a_txt_title_line_right_above_its_body_is_its_title(tmp_path):
    # QA, thirteenth session: with no blank line between, title and body were one paragraph, and the title read
    # 上街区老旧小区夜间临时停车通知为缓解老旧小区停车难，… (the README promises a short first line is the title).
    from kb_bot.chunking import chunk_documents

    text = "上街区老旧小区夜间临时停车通知\n为缓解老旧小区停车难，自2026年12月1日起，中心路沿线320个车位夜间向居民免费开放。\n"
    (tmp_path / "parking-notice.txt").write_text(text, encoding="utf-8")
    (doc,) = load_documents(tmp_path).documents
    assert doc.title == "上街区老旧小区夜间临时停车通知" and doc.text.startswith("为缓解老旧小区停车难")
    (chunk,) = chunk_documents([doc], 200, 40)
    assert text[chunk.start:chunk.end] == chunk.text
    # a body opening with a number (its line joined with a space) and a salutation line (review, thirteenth session)
    (tmp_path / "parking-notice.txt").write_text("上街区房价通报\n2024年上街区新建商品住宅的房价为每平方米6500元，二手住宅"
                                                 "为每平方米5200元。\n", encoding="utf-8")
    (doc,) = load_documents(tmp_path).documents
    assert doc.title == "上街区房价通报" and doc.text.startswith("2024年")
    (tmp_path / "parking-notice.txt").write_text("各位居民：\n为缓解老旧小区停车难，自2026年12月1日起，中心路沿线320个车位"
                                                 "夜间向居民免费开放。\n", encoding="utf-8")
    (doc,) = load_documents(tmp_path).documents
    assert doc.title != "各位居民：" and doc.text.startswith("各位居民：为缓解")  # a salutation opens the body
    # lines of one width are a paragraph broken by layout: its first line is no title
    wrapped = "上街区先进制造业开发区组织开展企业\n大走访活动，成立工作专班，共走访企业\n100余家次，协调解决各类问题35件。\n"
    (tmp_path / "parking-notice.txt").write_text(wrapped, encoding="utf-8")
    (doc,) = load_documents(tmp_path).documents
    assert doc.title != "上街区先进制造业开发区组织开展企业" and doc.text.startswith("上街区先进制造业开发区组织开展企业")
