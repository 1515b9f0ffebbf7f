"""Topic guide: derived from the indexed documents, updated when they change."""

from __future__ import annotations

import json

from kb_bot.cli import main
from kb_bot.engine import KnowledgeBase


def test_guide_groups_support_from_the_seed(fake_settings):
    kb = KnowledgeBase(fake_settings)
    kb.build(full=True)
    guide = kb.topics()
    names = [g.name for g in guide.groups]
    for expected in ("融资贷款", "招聘用工", "水电保障", "投资与项目", "物流与班列", "商贸与消费", "教育"):
        assert expected in names
    financing = guide.group("financing")
    assert any("2600万元" in e.summary for e in financing.entries)
    logistics = guide.group("物流与班列")
    assert all(e.doc == "advanced-manufacturing.md" for e in logistics.entries)
    chunk_ids = {c.chunk_id for c in kb.retriever.index.chunks}
    assert all(e.chunk_id in chunk_ids for g in guide.groups for e in g.entries)


def test_guide_follows_document_changes(fake_settings):
    kb = KnowledgeBase(fake_settings)
    kb.build(full=True)
    before = len(kb.topics().group("融资贷款").entries)
    (fake_settings.documents / "finance.md").write_text(
        "---\ntitle: 小微企业贷款贴息\nunit: 上街区金融服务中心\n---\n\n对符合条件的小微企业给予贷款贴息,每户最高50万元。\n",
        encoding="utf-8")
    kb.build()
    entries = kb.topics().group("融资贷款").entries
    assert len(entries) == before + 1
    assert any(e.doc == "finance.md" and "50万元" in e.summary for e in entries)


def test_topics_cli_json(fake_settings, capsys):
    args = ["topics", "--json", "--documents", str(fake_settings.documents), "--index", str(fake_settings.index),
            "--model", "fake"]
    assert main(args) == 0
    payload = json.loads(capsys.readouterr().out)
    group = payload["groups"][0]
    assert {"key", "name", "example", "entries"} <= set(group)
    assert {"summary", "doc", "title", "section", "chunk_id", "text"} <= set(group["entries"][0])


def test_a_related_reply_suggests_the_topics_of_its_quote_first():
    # QA: 设置户外广告要审批吗 quoted the city-appearance regulation and offered 投资与项目、物流与班列、医疗与急救.
    from kb_bot.answering.topics import TAXONOMY, TopicGroup, TopicGuide, topics_in

    guide = TopicGuide(tuple(TopicGroup(s.key, s.name, s.example, ()) for s in TAXONOMY))
    quote = "第十二条 设置户外广告应当符合市容标准，养犬人应当遵守市容管理规定。"
    assert topics_in(guide, [quote])[0] == "城市管理与文明"
    assert topics_in(guide, ["这句话不属于任何主题。"]) == []
