"""The shipped synonym table: every target is a word the documents use, and citizens' words find the regulation."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from kb_bot.engine import KnowledgeBase
from kb_bot.settings import Settings
from kb_bot.synonyms import DEFAULT_FILE, ENGLISH_FILE, Synonyms, load_synonyms, parse_rules

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = ROOT / "documents"
REGULATIONS = DOCUMENTS / "regulations"


def _shipped_text() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(DOCUMENTS.rglob("*.md")))


@pytest.mark.parametrize("table", [DEFAULT_FILE, ENGLISH_FILE], ids=["chinese", "english"])
def test_every_target_of_the_shipped_table_occurs_in_the_shipped_documents(table):
    # A target the documents never use adds a keyword that finds nothing and counts no coverage.
    text = _shipped_text()
    rules = parse_rules(table.read_text(encoding="utf-8"), str(table))
    missing = sorted({(t, r.terms[0]) for r in rules for t in r.targets if t not in text})
    assert not missing, f"synonym targets found in no shipped document: {missing}"


def test_each_citizen_word_has_one_rule():
    # Two rules for one word: only the first would ever match (matching takes each span once).
    rules = load_synonyms().rules
    terms = [t.lower() for r in rules for t in r.terms]
    assert len(rules) > 400
    assert sorted(t for t in set(terms) if terms.count(t) > 1) == []


def test_a_chinese_word_is_not_matched_across_two_words():
    # 区里 (in our district) is no match in 小区里 (in the housing estate); a word inside a longer one still is
    synonyms = Synonyms(parse_rules("区里 => 上街区\n水管 => 供水管道\n缺人 => 用工\n小企业 => 中小企业\n钱 => 费用"))
    assert synonyms.expand("小区里能私装地锁吗").matched == ()
    assert synonyms.expand("节约用水管理怎么做").matched == ()
    assert synonyms.expand("紧缺人才有补贴吗").matched == ()
    assert synonyms.expand("区里能帮忙招工吗").matched == ("区里",)
    assert synonyms.expand("厂里缺人怎么办").matched == ("缺人",)
    assert synonyms.expand("中小企业谁出钱").matched == ("小企业", "钱")


def test_an_english_word_matches_whole_words_and_plurals_only():
    synonyms = Synonyms(parse_rules("fee => 收费\ndog => 犬\nbus => 公共汽车\n狗 => 犬\nLED屏 => 电子显示屏"))
    assert synonyms.expand("门口的LED屏").matched == ("LED屏",)  # a Chinese word with Latin letters in it
    assert synonyms.expand("coffee for a hotdog").matched == ()
    expansion = synonyms.expand("Fees for dogs on buses")
    # where each stands, plural included
    assert dict(zip(expansion.matched, expansion.spans)) == {"fee": (0, 4), "dog": (9, 13), "bus": (17, 22)}
    # in a Chinese question a Latin word is a name, not English to translate
    assert synonyms.expand("bus公司的狗").matched == ("狗",)


def test_english_words_are_never_used_to_word_a_chinese_question():
    # The spoken-variant generator reads the table backwards (document word -> citizen word): English words
    # would turn 犬 into "dog" inside a Chinese training question.
    import sys

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from spoken_questions import _citizen_words

    words = {w for spoken in _citizen_words().values() for w in spoken}
    assert {"狗", "120", "LED屏"} <= words and not any(w.isascii() and re.search("[a-z]", w) for w in words)


@pytest.mark.parametrize("question, words", [
    ("房东涨租", {"出租人", "租金"}),
    ("电动车上牌", {"电动自行车", "号牌"}),
    ("老板不签合同", {"用人单位", "书面劳动合同"}),
    ("打120叫救护车", {"急救"}),
    ("小区物业费", {"物业服务"}),
    ("遛狗", {"犬链"}),
    ("驾照扣分", {"机动车驾驶证", "记分"}),
    ("楼上扔东西", {"高空抛物"}),
    ("流浪狗", {"无主犬", "犬只"}),
    ("厂里招不到人", {"用工", "招聘"}),  # enterprise QA: 招不到人区里管不管 reached only arbitration clauses
    ("农民工交失业保险吗", {"农民合同制工人"}),  # the unemployment-insurance regulation's own word
])
def test_colloquial_words_bring_in_the_regulations_words(question, words):
    assert words <= set(load_synonyms().expand(question).extra_terms)


# One regulation per domain, so each colloquial question has one right answer among neighbours.
SMALL_KB = ("郑州市城市房屋租赁管理条例", "郑州市城市道路交通安全管理条例", "郑州市劳动用工条例", "郑州市社会急救医疗条例",
            "郑州市城市养犬管理条例", "郑州市物业管理条例", "郑州市殡葬管理条例", "郑州市燃气管理条例",
            "郑州市公共场所禁止吸烟条例", "郑州市失业保险条例", "郑州市停车场建设管理条例", "郑州市城市公共汽车客运条例")


@pytest.fixture(scope="module")
def regulations_kb(tmp_path_factory) -> KnowledgeBase:
    """A few shipped regulations on keyword search alone (the fake embedder's vectors carry no meaning)."""
    base = tmp_path_factory.mktemp("synonyms")
    documents = base / "documents"
    documents.mkdir()
    for name in SMALL_KB:
        (source,) = REGULATIONS.glob(f"{name}*.md")
        shutil.copy(source, documents / source.name)
    kb = KnowledgeBase(Settings(documents=documents, index=base / "index", model="fake", fusion="keyword"))
    kb.build(full=True)
    return kb


@pytest.mark.parametrize("question, regulation, citizen_word", [
    ("房东涨租", "郑州市城市房屋租赁管理条例", "房东"),
    ("电动车上牌", "郑州市城市道路交通安全管理条例", "电动车"),
    ("老板拖欠工资", "郑州市劳动用工条例", "老板"),
    ("叫救护车", "郑州市社会急救医疗条例", "救护车"),
    ("狗证", "郑州市城市养犬管理条例", "狗"),
    ("业委会", "郑州市物业管理条例", "业委会"),
    ("家里办白事", "郑州市殡葬管理条例", "白事"),
    ("开通天然气", "郑州市燃气管理条例", "开通天然气"),
    ("失业金", "郑州市失业保险条例", "失业金"),
    ("违停", "郑州市停车场建设管理条例", "违停"),
    ("坐公交", "郑州市城市公共汽车客运条例", "坐公交"),
    ("驾照扣分", "郑州市城市道路交通安全管理条例", "驾照"),
    ("不戴头盔罚不罚", "郑州市城市道路交通安全管理条例", "戴头盔"),
    ("小区地下车库", "郑州市停车场建设管理条例", "地下车库"),
    ("路边停车收费吗", "郑州市停车场建设管理条例", "路边停车"),
    ("换煤气罐", "郑州市燃气管理条例", "煤气罐"),
    ("流浪狗没人管", "郑州市城市养犬管理条例", "流浪狗"),
    ("黑车拉客", "郑州市城市公共汽车客运条例", "黑车"),
    ("楼上太吵", "郑州市物业管理条例", "太吵"),
    ("工资发购物卡", "郑州市劳动用工条例", "购物卡"),
])
def test_a_short_colloquial_question_finds_the_regulation(regulations_kb, question, regulation, citizen_word):
    # The regulation never uses the citizen's word, so only the synonym can lead there.
    (source,) = REGULATIONS.glob(f"{regulation}*.md")
    assert citizen_word not in source.read_text(encoding="utf-8")
    hits, _ = regulations_kb.retrieve(question)
    assert hits and Path(hits[0].chunk.doc).stem.startswith(regulation), [h.chunk.doc for h in hits[:3]]


@pytest.mark.parametrize("question, regulation", [
    ("landlord wants to raise the rent", "郑州市城市房屋租赁管理条例"),
    ("e-bike licence plate", "郑州市城市道路交通安全管理条例"),
    ("my boss owes me wages", "郑州市劳动用工条例"),
    ("dog leash", "郑州市城市养犬管理条例"),
    ("owners committee election", "郑州市物业管理条例"),
    ("cremation", "郑州市殡葬管理条例"),
    ("gas leak", "郑州市燃气管理条例"),
    ("smoking in restaurants", "郑州市公共场所禁止吸烟条例"),
    ("unemployment benefits", "郑州市失业保险条例"),
    ("parking lot fees", "郑州市停车场建设管理条例"),
])
def test_an_english_question_finds_the_regulation_by_keywords(regulations_kb, question, regulation):
    # The documents are Chinese and the fake embedder's vectors mean nothing: only the English table
    # (kb_bot/data/synonyms-en.txt) can lead there.
    hits, _ = regulations_kb.retrieve(question)
    assert hits and Path(hits[0].chunk.doc).stem.startswith(regulation), [h.chunk.doc for h in hits[:3]]
