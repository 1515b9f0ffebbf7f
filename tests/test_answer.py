"""Answers: extractive composition, citations with spans, honest abstention, optional LLM with fallback."""

from __future__ import annotations

from dataclasses import replace

import pytest

from kb_bot.answering.answer import answer_to_json, compose, format_answer, split_sentences
from kb_bot.chunking import Chunk
from kb_bot.engine import KnowledgeBase
from kb_bot.retrieval import SearchHit

from fake_llm import FakeLLM, serving


ANSWER_KEYS = {"question", "found", "status", "confidence", "answer", "citations", "suggestions"}
CITATION_KEYS = {"doc", "title", "unit", "section", "text", "span", "score", "article", "issued", "kind",
                 "status", "superseded_by", "scope"}


def _hit(text: str, rank: int = 1, doc: str = "a.md") -> SearchHit:
    chunk = Chunk(f"id{rank}", doc, "标题", "单位", "小节", text, 0, len(text), rank)
    return SearchHit(rank, 1.0 / rank, chunk, 0.9, 1.0)


def test_split_sentences_on_chinese_punctuation():
    text = "第一句。第二句！“第三句？”第四句"
    assert [text[s:e] for s, e in split_sentences(text)] == ["第一句。", "第二句！", "“第三句？”", "第四句"]


def test_compose_quotes_the_answering_sentence_with_its_span():
    text = "街道组织了走访活动。帮助企业融资贷款2600万元,解决资金难题。此外还开展了夜市活动。"
    answer, citations, sentences = compose("企业贷款有多少？", [_hit(text)])
    assert "帮助企业融资贷款2600万元" in answer and answer.endswith("[1]")
    start, end = citations[0].span
    assert citations[0].text[start:end] == "帮助企业融资贷款2600万元,解决资金难题。"
    assert sentences[0].citation == 0


def test_compose_keeps_reading_order_and_drops_duplicates():
    first = _hit("上街区举办招聘会,达成就业意向300余人。", 1, "a.md")
    second = _hit("上街区举办招聘会,达成就业意向300余人。", 2, "a.md")
    answer, citations, _ = compose("招聘会招到多少人", [first, second])
    assert answer.count("300余人") == 1 and len(citations) == 1


def test_a_quote_that_skips_part_of_a_passage_marks_the_gap():
    # 失业保险金: item (一) and the sentence after item (三) were joined as if (二) and (三) did not exist.
    from kb_bot.answering.answer import _cite
    from kb_bot.answering.answerability import Candidate

    text = "（一）满一年不足五年的，最长为十二个月；（二）满五年不足十年的，最长为十八个月；重新就业的，合并计算。"
    hit = _hit(text)
    bounds = split_sentences(text)
    first, second, third = (Candidate(0, hit, s, e) for s, e in bounds)
    skipping, _, _ = _cite([first, third])
    assert skipping == "（一）满一年不足五年的，最长为十二个月；……重新就业的，合并计算。[1]"
    adjacent, _, _ = _cite([first, second])
    assert "……" not in adjacent and adjacent.endswith("最长为十八个月；[1]")
    other = _hit("另一条规定。", 2, "b.md")
    two_sources, _, _ = _cite([first, Candidate(1, other, 0, 6)])
    assert two_sources == "（一）满一年不足五年的，最长为十二个月；[1]另一条规定。[2]"


def test_format_answer_marks_the_span():
    text = "前文。帮助企业融资贷款2600万元。"
    _, citations, sentences = compose("贷款多少", [_hit(text)])
    from kb_bot.answering.answer import Answer

    rendered = format_answer(Answer("贷款多少", True, "x", citations, (), sentences))
    assert "【帮助企业融资贷款2600万元。】" in rendered and "单位 / 标题 / 小节" in rendered


# --------------------------------------------------------------------------- real model


@pytest.mark.slow
def test_hiring_example_quotes_300_and_cites_the_zone_article(real_kb):
    answer = real_kb.ask("招聘会帮企业招到了多少人？")
    payload = answer_to_json(answer)
    assert set(payload) == ANSWER_KEYS and payload["status"] in ("answered", "related")
    assert payload["found"] is (payload["status"] == "answered")
    assert "300余人" in payload["answer"]
    citation = payload["citations"][0]
    assert set(citation) == CITATION_KEYS
    assert citation["unit"] == "上街区先进制造业开发区" and citation["doc"] == "advanced-manufacturing.md"
    start, end = citation["span"]
    assert "300余人" in citation["text"][start:end]
    # Numbers are copied verbatim from the source.
    assert "26家有用工需求企业" in payload["answer"]


@pytest.mark.slow
def test_unanswerable_question_is_not_found_with_topic_suggestions(real_kb):
    payload = answer_to_json(real_kb.ask("退休以后每个月养老金能领多少？"))
    assert payload["status"] == "not_found" and payload["found"] is False and payload["citations"] == []
    assert "没有" in payload["answer"]
    assert 1 <= len(payload["suggestions"]) <= 3
    names = {g.name for g in real_kb.topics().groups}
    assert set(payload["suggestions"]) <= names


@pytest.mark.slow
def test_a_house_price_is_never_answered_from_the_articles(real_kb):
    answer = real_kb.ask("上街区的房价是多少？")  # related (the district is on topic) or not found, never answered
    assert answer.status != "answered"
    if answer.status == "related":
        assert "房价" in answer.answer


# --------------------------------------------------------------------------- optional LLM


#: A question the answer step answers (not only relates) on the seed articles, and a reply grounded in its passage.
ANSWERED_QUESTION = "那个直播电商基地现在入驻了多少企业、招租面积多大？"
LLM_REPLY = "高景网络直播电商基地已入驻注册企业10余家，招租面积4000平方米。[1]"


@pytest.fixture
def fake_llm():
    with serving(LLM_REPLY) as url:
        yield url


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["reply", "error", "hang"])
def test_llm_answer_keeps_citations_and_falls_back(real_kb, fake_llm, mode):
    url = fake_llm
    FakeLLM.mode = mode
    kb = KnowledgeBase(replace(real_kb.settings, llm_url=url, llm_model="test-model", llm_timeout=0.5),
                       embedder=real_kb.embedder)
    extractive = real_kb.ask(ANSWERED_QUESTION)
    assert extractive.status == "answered"
    answer = kb.ask(ANSWERED_QUESTION)
    path, _, body = FakeLLM.requests[0]
    assert path == "/v1/chat/completions" and body["model"] == "test-model"
    assert "翡翠城商务楼" in body["messages"][-1]["content"]  # the passages are in the prompt
    assert answer.citations == extractive.citations
    if mode == "reply":
        assert answer.mode == "llm" and answer.answer == LLM_REPLY
    else:
        assert answer.mode == "extractive" and answer.answer == extractive.answer


@pytest.mark.slow
def test_llm_is_not_called_when_abstaining(real_kb, fake_llm):
    url = fake_llm
    kb = KnowledgeBase(replace(real_kb.settings, llm_url=url, llm_model="m"), embedder=real_kb.embedder)
    assert kb.ask("明天上街区天气怎么样？").found is False
    related = kb.ask("招聘会帮企业招到了多少人？")  # related on the seed articles: quoted, never rewritten
    assert related.status == "related" and related.mode == "related"
    assert FakeLLM.requests == []


@pytest.mark.parametrize("question, chinese", [
    ("养狗要办证吗", True), ("111", True), ("？？", True),
    # QA, thirteenth session: a scrap of letters switched the whole reply and its labels to English
    ("ok", True), ("xyz", True),
    ("Hello", False), ("dog leash rules", False), ("Thanks a lot!", False),
])
def test_a_reply_is_in_english_only_for_a_question_written_in_english(question, chinese):
    from kb_bot.answering.answer import replies_in_chinese

    assert replies_in_chinese(question) is chinese
