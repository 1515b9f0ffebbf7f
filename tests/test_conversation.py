"""Follow-up questions: detection, completion from earlier turns, CLI and web API, and the dialogue set."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from kb_bot.answering.answer import NOT_FOUND, Answer, AnswerSentence, Citation, related_text
from kb_bot.settings import Settings
from kb_bot.answering.conversation import Conversation, answer_in_context, core, dependency, names_nothing, strip_cues
from web_fixtures import web_real_kb  # noqa: F401  (a fixture)

ROOT = Path(__file__).resolve().parents[1]
DIALOGUES = ROOT / "tests" / "data" / "dialogues.jsonl"


@pytest.mark.parametrize("question", ["那融资方面呢？", "它的目标是什么？", "具体是哪些企业在做智能化改造？",
                                      "还有正在谈的吗？", "帮他们解决了多少问题？", "她说了什么？", "what about loans?",
                                      "上街区也这样吗？", "那样行不行？"])
def test_follow_up_cues_are_explicit(question):
    assert dependency(question) == "explicit"


@pytest.mark.parametrize("question", ["招聘会帮企业招到了多少人？", "上街区在提升教育质量方面有哪些举措？",
                                      "郑州国际陆港上街片区是做什么的？", "公司和其他企业合作要备案吗？"])
def test_stand_alone_questions_are_not_dependent(question):
    assert dependency(question) == ""


def test_short_questions_may_be_elliptical():
    assert dependency("面积多大？") == "short"


def test_cues_are_stripped_but_question_words_kept():
    assert strip_cues("那融资方面呢？") == "融资方面"
    assert strip_cues("具体是哪些企业在做智能化改造？") == "是哪些企业在做智能化改造"
    assert core("那融资方面呢？") == "融资"
    # an A-not-A of a verb that only asks (行不行, 算不算) names nothing: after 电动车能停人行道吗 the review saw 行不行？
    # read alone (行 matched 行人); one that names the act (罚不罚, 合不合法) keeps it
    assert core("行不行？") == "" and names_nothing("算不算") and core("罚不罚") == "罚不罚"


class StubKB:
    """Answers from a table: question -> (status, unit, text[, doc[, confidence[, missing]]]); else not found.

    A related reply is framed as the real one is (找到的原文中没有提到“…”。最接近的内容…) and quotes ``text``."""

    def __init__(self, table):
        self.table = table
        self.asked = []
        self.settings = type("S", (), {"top_k": 5})()

    def ask(self, question, history=(), *, _literal=False):
        assert _literal
        self.asked.append(question)
        status, unit, text, *more = self.table.get(question, ("not_found", None, "抱歉"))
        doc, confidence, missing = (*more, *("a.md", None, None)[len(more):])
        found = status == "answered"
        confidence = confidence if confidence is not None else (0.7 if found else 0.6)
        if status == "not_found":
            return Answer(question, False, "抱歉", (), confidence=0.0, status=status)
        citations = (Citation(doc, "标题", unit, None, text, None, 0.5, "c"),)
        reply = text if found else related_text(question, missing, text)
        return Answer(question, found, reply, citations, sentences=(AnswerSentence(text, 0),),
                      confidence=confidence, status=status, missing=missing)

    def search(self, query, top_k):
        return []

    def answer_model(self):  # no fitted model: every reply stands as the table gives it
        return None

    def gram_stats(self):
        return None  # compose then weighs the words over the passages it is given

    def synonyms(self):
        return None  # ... and reads the shipped synonyms


def converse(kb, *questions):
    """Ask ``questions`` in one conversation over ``kb``; the last reply."""
    conversation = Conversation(kb)
    for question in questions[:-1]:
        conversation.ask(question)
    return conversation.ask(questions[-1])


@pytest.mark.parametrize("greeting", ["你好", "谢谢", "测试", "你是谁？", "几点了？", "今天冷不冷？"])
def test_a_greeting_or_small_talk_in_a_conversation_is_not_read_as_a_follow_up(greeting):
    # Small talk too: in the topic-switch grid 你是谁？ 几点了？ 今天冷不冷？ were read with the conversation's regulation
    # and came back related (0.3-0.8).
    kb = StubKB({
        "养狗要办证吗？": ("related", "郑州市城市养犬管理条例", "养犬实行注册登记制度。"),
        f"郑州市城市养犬管理条例 {greeting}": ("related", "郑州市城市养犬管理条例", "养犬实行注册登记制度。"),
        f"养狗要办证 {greeting}": ("related", "郑州市城市养犬管理条例", "养犬实行注册登记制度。"),
    })
    conversation = Conversation(kb)
    conversation.ask("养狗要办证吗？")
    subject = conversation.last
    reply = conversation.ask(greeting)
    assert reply.status == "not_found" and reply.understood_as is None
    assert kb.asked[-1] == greeting  # never read with the conversation's subject
    assert conversation.last == subject  # and the next follow-up still has it


def test_a_follow_up_found_nowhere_whose_noun_the_conversations_quote_never_names_stays_not_found():
    # 双色球多少钱一注？ after a dog question covered 0.4 of its character pairs in the dog regulation's quote (钱 quoted as 元).
    kb = StubKB({
        "养狗要办证吗？": ("related", "郑州市城市养犬管理条例", "养犬实行注册登记制度，每只犬只注册一次。", "dog.md"),
        "双色球多少钱一注？": ("not_found", None, "", None),
        "郑州市城市养犬管理条例 双色球多少钱一注": ("related", "郑州市城市养犬管理条例", "养犬登记每只犬收费一百元，每年注册一次。", "dog.md"),
        "养狗要办证 双色球多少钱一注": ("related", "郑州市城市养犬管理条例", "养犬登记每只犬收费一百元，每年注册一次。", "dog.md"),
    })
    reply = converse(kb, "养狗要办证吗？", "双色球多少钱一注？")
    assert reply.status == NOT_FOUND and reply.understood_as is None, reply


def test_a_follow_up_to_a_regulation_continues_the_regulation_not_the_body_that_adopted_it():
    from kb_bot.answering.conversation import next_turn

    cited = Citation("regulations/x.md", "郑州市养犬管理条例", "郑州市人民代表大会常务委员会", None, "养犬登记。", None,
                     0.5, "c", article="第十条", kind="regulation")
    answer = Answer("养狗要登记吗？", True, "养犬登记。", (cited,), status="answered")
    assert next_turn("养狗要登记吗？", "养狗要登记吗？", answer, None, False).unit == "郑州市养犬管理条例"


def test_follow_up_is_completed_with_the_subject_of_the_previous_turn():
    kb = StubKB({
        "招聘会帮企业招到了多少人？": ("answered", "上街区先进制造业开发区", "达成就业意向300余人"),
        "先进制造业开发区 融资方面": ("answered", "上街区先进制造业开发区", "帮助企业融资贷款2600万元"),
    })
    conversation = Conversation(kb)
    first = conversation.ask("招聘会帮企业招到了多少人？")
    assert first.understood_as is None
    second = conversation.ask("那融资方面呢？")
    assert second.understood_as == "先进制造业开发区 融资方面"
    assert second.question == "那融资方面呢？" and "2600万元" in second.answer
    assert "那融资方面呢？" in kb.asked  # the literal reading is tried too


def test_stand_alone_question_after_another_topic_is_not_altered():
    kb = StubKB({
        "招聘会帮企业招到了多少人？": ("answered", "上街区先进制造业开发区", "300余人"),
        "上街区老师的待遇怎么样？": ("answered", "上街区教育局", "教师工资不低于公务员"),
    })
    answer = converse(kb, "招聘会帮企业招到了多少人？", "上街区老师的待遇怎么样？")
    assert answer.understood_as is None and "公务员" in answer.answer
    assert answer.question == "上街区老师的待遇怎么样？"


def test_long_stand_alone_question_is_never_completed():
    kb = StubKB({"招聘会帮企业招到了多少人？": ("answered", "上街区先进制造业开发区", "300余人")})
    conversation = Conversation(kb)
    conversation.ask("招聘会帮企业招到了多少人？")
    conversation.ask("上街区在提升教育质量方面有哪些举措？")
    assert kb.asked[-1] == "上街区在提升教育质量方面有哪些举措？"  # not found, yet no completed reading tried

def test_short_question_answered_as_asked_stays_as_asked():
    kb = StubKB({
        "上街区和哪些学校有合作？": ("answered", "上街区教育局", "北京实验学校"),
        "教育局局长是谁？": ("answered", "上街区教育局", "上街区教育局局长王利霞"),
        "教育局 教育局局长是谁？": ("answered", "上街区教育局", "别的"),
    })
    conversation = Conversation(kb)
    conversation.ask("上街区和哪些学校有合作？")
    assert conversation.ask("教育局局长是谁？").understood_as is None


def test_history_api_replays_earlier_questions_once():
    kb = StubKB({
        "招聘会帮企业招到了多少人？": ("answered", "上街区先进制造业开发区", "300余人"),
        "先进制造业开发区 融资方面": ("answered", "上街区先进制造业开发区", "2600万元"),
    })
    answer = answer_in_context(kb, "那融资方面呢？", ["招聘会帮企业招到了多少人？"])
    assert answer.understood_as == "先进制造业开发区 融资方面"
    asked = len(kb.asked)
    again = answer_in_context(kb, "那融资方面呢？", ["招聘会帮企业招到了多少人？"])
    assert again.understood_as == answer.understood_as
    assert kb.asked.count("招聘会帮企业招到了多少人？") == 1  # the history came from the cache
    assert "招聘会帮企业招到了多少人？" not in kb.asked[asked:]


# --------------------------------------------------------------------------- choosing the reading (real failure kinds)

ZONE = "上街区先进制造业开发区"


def test_the_reply_framing_does_not_count_as_speaking_of_the_aspect():
    # The office's reading is "related" with the framing 找到的原文中没有提到“进度”: that names the aspect, yet quotes the
    # zone's overview; the topic's reading quotes the project's progress.
    kb = StubKB({
        "奥克斯在上街建了什么？": ("answered", ZONE, "奥克斯智能空调生产基地项目正在加快推进"),
        "先进制造业开发区 进度怎么样": ("related", ZONE, "近年来开发区推动产业转型升级", "a.md", 0.25, "进度"),
        "奥克斯上街建 进度怎么样": ("related", ZONE, "奥克斯智能空调生产基地项目正在加快推进", "a.md", 0.16),
    })
    conversation = Conversation(kb)
    conversation.ask("奥克斯在上街建了什么？")
    assert conversation.ask("它的进度怎么样？").understood_as == "奥克斯上街建 进度怎么样"


def test_the_topic_reading_wins_when_confidence_differs_by_noise_only():
    # Neither reply names 工期; the office's reading is 0.03 more confident, which is noise.
    kb = StubKB({
        "奥克斯在上街建了什么？": ("answered", ZONE, "奥克斯智能空调生产基地项目正在加快推进"),
        "先进制造业开发区 工期": ("answered", ZONE, "开发区加快推动产业转型升级", "a.md", 0.74),
        "奥克斯上街建 工期": ("answered", ZONE, "奥克斯智能空调生产基地项目力争年底投产", "a.md", 0.71),
    })
    answer = converse(kb, "奥克斯在上街建了什么？", "那工期呢？")
    assert answer.understood_as == "奥克斯上街建 工期" and "年底投产" in answer.answer


def test_a_reading_quoting_what_the_regulation_says_of_itself_loses():
    # QA: 狗证去哪办 -> 要带什么？ was read with the regulation's title, whose words alone match its purpose clause
    # (第一条 …制定本条例) more surely than anything the follow-up asks.
    kb = StubKB({
        "狗证去哪办": ("related", "养犬条例", "养犬人应当到所在地的区主管部门申请注册登记。", "dog.md", 0.2),
        "养犬条例 要带什么": ("related", "养犬条例", "第一条 为加强城市养犬管理，制定本条例。", "dog.md", 0.5),
        "狗证去哪办 要带什么": ("related", "养犬条例", "申请养犬登记，应当提交户口簿、身份证明。", "dog.md", 0.2),
    })
    answer = converse(kb, "狗证去哪办", "要带什么？")
    assert answer.understood_as == "狗证去哪办 要带什么" and "户口簿" in answer.answer


def test_a_one_character_aspect_is_content_not_a_contentless_follow_up():
    # QA: 承重墙能打吗 -> 罚多少？ was read as contentless (core 罚), so the topic's reading won and quoted another
    # regulation's fines; the regulation's own reading quoted its fine (第四十五条).
    kb = StubKB({
        "承重墙能打吗": ("answered", "房屋条例", "禁止在承重墙上开挖洞口。", "house.md"),
        "房屋条例 罚多少": ("related", "房屋条例", "对个人处以二千元以上一万元以下罚款。", "house.md", 0.5),
        "承重墙能打 罚多少": ("related", "建筑条例", "处以工程合同价款百分之二的罚款。", "build.md", 0.23),
    })
    answer = converse(kb, "承重墙能打吗", "罚多少？")
    assert answer.understood_as == "房屋条例 罚多少" and "二千元" in answer.answer


def test_a_subject_alone_does_not_carry_a_short_question_to_another_document():
    # 我家能养几条狗？ finds the dog rule by itself (related); read with the street's four directions it is
    # "answered" with the directions sentence, which says nothing of dogs: the question stays as asked.
    kb = StubKB({
        "济源路街道的四大主攻方向是什么？": ("answered", "上街区济源路街道", "确定了四大主攻方向", "jiyuan.md", 0.98),
        "我家能养几条狗？": ("related", "郑州市人民代表大会常务委员会", "每户居民只准饲养一只犬", "dogs.md", 0.73),
        "济源路街道 我家能养几条狗": ("related", "郑州市人民代表大会常务委员会", "每户居民只准饲养一只犬", "dogs.md", 0.12),
        "济源路街道四大主攻方向 我家能养几条狗": ("answered", "上街区济源路街道", "确定了四大主攻方向", "jiyuan.md", 0.76),
    })
    answer = converse(kb, "济源路街道的四大主攻方向是什么？", "我家能养几条狗？")
    assert "济源路街道四大主攻方向 我家能养几条狗" in kb.asked  # the completed reading was tried...
    assert answer.understood_as is None and "一只犬" in answer.answer  # ...and lost


def test_a_hair_more_confidence_does_not_rewrite_a_stand_alone_question():
    # Both readings are related guesses (0.14 as asked, from the teachers' article; 0.16 read with the zone): the
    # question stays as asked, although 0.16 rounds up and 0.14 down.
    kb = StubKB({
        "开发区主要发展什么产业？": ("answered", ZONE, "大力发展特色装备制造业", "zone.md", 0.8),
        "孩子上学的老师待遇怎么样？": ("related", "上街区教育局", "教师待遇", "education.md", 0.14),
        "先进制造业开发区 孩子上学的老师待遇怎么样": ("related", ZONE, "引进人才给教师待遇", "zone.md", 0.16),
        "开发区主要发展产业 孩子上学的老师待遇怎么样": ("related", ZONE, "引进人才给教师待遇", "zone.md", 0.16),
    })
    answer = converse(kb, "开发区主要发展什么产业？", "孩子上学的老师待遇怎么样？")
    assert len(kb.asked) > 2 and answer.understood_as is None  # readings tried, the question kept as asked


def test_a_synonym_quoted_counts_as_speaking_of_the_aspect():
    # 招工 is quoted as 用工/招聘 (the shipped synonyms): that reading speaks of the aspect, the other does not.
    kb = StubKB({
        "开发区帮企业贷了多少款？": ("answered", ZONE, "帮助企业融资贷款2600万元"),
        "先进制造业开发区 招工": ("related", ZONE, "组织26家有用工需求企业参加招聘专项活动", "a.md", 0.03),
        "开发区帮企业贷款 招工": ("related", ZONE, "帮助企业融资贷款2600万元", "a.md", 0.12),
    })
    conversation = Conversation(kb)
    conversation.ask("开发区帮企业贷了多少款？")
    assert "26家" in conversation.ask("那招工呢？").answer


def test_a_short_question_found_nowhere_as_asked_is_completed_when_the_conversation_names_its_aspect():
    table = {
        "海铁联运班列开了几列？": ("answered", ZONE, "共开行9列海铁联运国际班列"),
        "海铁联运班列开列 首列是哪天开的": ("related", ZONE, "2022年11月12日首列海铁联运国际班列开行", "a.md", 0.07),
    }
    answer = converse(StubKB(table), "海铁联运班列开了几列？", "首列是哪天开的？")
    assert answer.understood_as == "海铁联运班列开列 首列是哪天开的" and "2022年11月12日" in answer.answer
    # ...but not when the conversation's passages never name it: the honest "not found" stays.
    table["海铁联运班列开列 房价多少"] = ("related", ZONE, "共开行9列海铁联运国际班列", "a.md", 0.3)
    conversation = Conversation(StubKB(table))
    conversation.ask("海铁联运班列开了几列？")
    assert conversation.ask("房价多少？").understood_as is None


def test_a_follow_up_found_nowhere_as_asked_is_completed_when_the_conversation_gives_the_value_it_asks():
    # 第一趟啥时候开的？ names nothing the quote says in its words (趟, 开), but asks a date and the conversation's
    # document, read with the subject, quotes one: before, the honest-looking "not found" stayed.
    table = {
        "听说上街开了国际班列？": ("related", ZONE, "国际班列开行卓有成效", "a.md", 0.38),
        "先进制造业开发区 第一趟啥时候开的": ("related", ZONE, "2021年12月2日，俄罗斯科伊特站—郑州上街站班列成功开行",
                                    "a.md", 0.34),
    }
    answer = converse(StubKB(table), "听说上街开了国际班列？", "第一趟啥时候开的？")
    assert answer.understood_as == "先进制造业开发区 第一趟啥时候开的" and "2021年12月2日" in answer.answer
    # ...not when the quote carries no value of the kind (a date asked, no date quoted)...
    table["先进制造业开发区 第一趟啥时候开的"] = ("related", ZONE, "国际班列开行卓有成效", "a.md", 0.34)
    assert converse(StubKB(table), "听说上街开了国际班列？", "第一趟啥时候开的？").status == "not_found"
    # ...nor for a question naming a day or a thing of its own the quote never mentions: it asks of something else.
    table["先进制造业开发区 明天几点下雨"] = ("related", ZONE, "每日七时至二十二时开行", "a.md", 0.3)
    assert converse(StubKB(table), "听说上街开了国际班列？", "明天几点下雨？").status == "not_found"


def test_an_off_topic_question_is_not_read_with_the_conversation_because_that_reading_is_answered():
    # Review, sixteenth session: 今天会下雨吗？ after labour questions, read with the labour regulation's title, was
    # "answered" by chance by an article on part-time work; taken because it was answered, it came back related 0.75
    # "按…理解". A reading found only by the subject's words is no reason to leave "not found".
    table = {
        "加班费怎么算？": ("answered", None, "应当依法支付加班工资", "labour.md"),
        "加班费怎么算 今天会下雨吗": ("answered", None, "用人单位与劳动者可以协商采取非全日制用工形式", "labour.md", 0.75),
        "标题 今天会下雨吗": ("answered", None, "用人单位与劳动者可以协商采取非全日制用工形式", "labour.md", 0.75),
    }
    answer = converse(StubKB(table), "加班费怎么算？", "今天会下雨吗？")
    assert answer.understood_as is None and answer.status == "not_found"

def test_a_completed_related_reply_names_as_missing_only_what_the_person_asked():
    # 不拴绳罚多少？ read with the topic 带狗出门遛弯要注意啥 came back "找到的原文中没有提到“出门遛弯”": a word the person
    # never asked about. The missing word is read off the reading; one borrowed from the subject is not said.
    table = {
        "带狗出门遛弯要注意啥？": ("answered", None, "携犬出户应当束犬链", "dogs.md"),
        "带狗出门遛弯要注意啥 不拴绳罚多少": ("related", None, "携犬出户应当束犬链，由成年人牵领", "dogs.md", 0.5, "出门遛弯"),
    }
    answer = converse(StubKB(table), "带狗出门遛弯要注意啥？", "不拴绳罚多少？")
    assert answer.understood_as == "带狗出门遛弯要注意啥 不拴绳罚多少"
    assert answer.missing is None and "出门遛弯" not in answer.answer and "由成年人牵领" in answer.answer
    assert answer.answer.startswith("不能确定找到的原文是否回答了这个问题。最接近的内容")
    # a word the person did ask is still named
    table["带狗出门遛弯要注意啥 不拴绳罚多少"] = ("related", None, "携犬出户应当束犬链", "dogs.md", 0.5, "罚")
    assert "没有提到“罚”" in converse(StubKB(table), "带狗出门遛弯要注意啥？", "不拴绳罚多少？").answer


def test_a_short_follow_up_stays_with_the_conversation_when_its_reply_there_is_no_guess():
    # 多久给答复？ after a question on complaints: as asked, a tourism article's deadline (related 0.47); read with the
    # conversation's regulation, its complaint article (related 0.43). Neither is answered; the one from elsewhere
    # was kept for being surer by a hair, and the conversation lost its document.
    table = {
        "要是被乱收费了去哪投诉？": ("related", None, "接受社会各界对损害营商环境问题的投诉", "business.md", 0.4),
        "多久给答复？": ("related", None, "旅游主管部门应当在二个工作日内告知举报人", "tourism.md", 0.47),
        "要被乱收费去哪投诉 多久给答复": ("related", None, "对投诉应当在十个工作日内作出处理", "business.md", 0.43),
    }
    answer = converse(StubKB(table), "要是被乱收费了去哪投诉？", "多久给答复？")
    assert answer.understood_as == "要被乱收费去哪投诉 多久给答复" and "十个工作日内" in answer.answer
    # a guess there (below ``GUESS``) does not win against a surer reply found elsewhere
    table["要被乱收费去哪投诉 多久给答复"] = ("related", None, "对投诉应当在十个工作日内作出处理", "business.md", 0.2)
    assert converse(StubKB(table), "要是被乱收费了去哪投诉？", "多久给答复？").understood_as is None


def test_a_question_naming_almost_nothing_stays_with_the_conversations_document():
    # 去哪里办？ as asked is "answered" by a sentence of an unrelated regulation (办结, 转办).
    kb = StubKB({
        "在郑州养狗要办证吗？": ("related", None, "养犬人应当申请注册登记，领取养犬证", "dogs.md", 0.06),
        "去哪里办？": ("answered", None, "举报事项应当在三日内转办", "tourism.md", 0.75),
        "郑州养狗要办证 去哪里办": ("related", None, "区城市市容环境卫生行政主管部门可以委托街道办事处受理", "dogs.md", 0.03),
    })
    answer = converse(kb, "在郑州养狗要办证吗？", "去哪里办？")
    assert answer.understood_as == "郑州养狗要办证 去哪里办" and "街道办事处" in answer.answer


def test_a_question_naming_almost_nothing_found_nowhere_as_asked_stays_with_the_conversation():
    # 谁来管？ as asked is not found at all; read with the smoking regulation it finds who enforces it.
    kb = StubKB({
        "郑州哪些地方不能抽烟？": ("related", None, "室内公共场所禁止吸烟", "smoking.md", 0.37),
        "郑州地方不能抽烟 谁来管": ("related", None, "卫生健康行政主管部门负责监督管理", "smoking.md", 0.22),
    })
    answer = converse(kb, "郑州哪些地方不能抽烟？", "谁来管？")
    assert answer.status == "related" and "卫生健康" in answer.answer


def test_which_ones_asks_about_what_the_previous_question_asked():
    # 都是哪些？ after 拜访了几家企业？ asks which companies, not which "outside investment" in general.
    kb = StubKB({
        "街道去外地招商了吗？": ("answered", "济源路街道", "街道赴广州、上海等地外出招商", "jyl.md", 0.8),
        "拜访了几家企业？": ("answered", "济源路街道", "共拜访企业20余家", "jyl.md", 0.8),
        "街道去外地招商 都是哪些？": ("answered", "济源路街道", "街道赴广州、上海等地外出招商", "jyl.md", 0.8),
        "济源路街道 都是哪些？": ("answered", "济源路街道", "街道四大主攻方向", "jyl.md", 0.8),
        "拜访家企业 都是哪些？": ("answered", "济源路街道", "拜访了上海深兰等企业", "jyl.md", 0.8),
    })
    conversation = Conversation(kb)
    conversation.ask("街道去外地招商了吗？")
    conversation.ask("拜访了几家企业？")
    assert "上海深兰" in conversation.ask("都是哪些？").answer


def test_a_completion_that_does_not_keep_the_conversations_document_is_not_shown():
    # 那个直播电商基地… names its own subject: with or without the earlier topic it is answered from the same
    # (other) document, so it is answered as asked and no "understood as" line appears.
    question = "那个直播电商基地现在入驻了多少企业、招租面积多大？"
    kb = StubKB({
        "上街区老师的待遇怎么样？": ("answered", "上街区教育局", "教师工资不低于公务员", "edu.md"),
        question: ("answered", "济源路街道", "已入驻注册企业10余家,招租面积4000平方米", "street.md", 0.98),
        "教育局 直播电商基地现在入驻了多少企业、招租面积多大": (
            "answered", "济源路街道", "已入驻注册企业10余家,招租面积4000平方米", "street.md", 0.98),
    })
    conversation = Conversation(kb)
    conversation.ask("上街区老师的待遇怎么样？")
    assert conversation.ask(question).understood_as is None


def test_a_completed_reading_does_not_win_on_its_outcome_label_alone():
    # As asked, 楼宇经济具体怎么做的？ quotes how, from the conversation's own article; its completed reading is
    # "answered" by the sentence that opened the topic, which names 楼宇 but says nothing of how.
    kb = StubKB({
        "济源路街道的四大主攻方向是什么？": ("answered", "济源路街道", "确定了重点抓楼宇、核心抓招商四大主攻方向", "street.md"),
        "楼宇经济具体怎么做的？": ("related", "济源路街道", "把楼宇经济与招商引资相结合,盘活闲置楼宇", "street.md", 0.59),
        "济源路街道 楼宇经济具体怎么做的": ("related", "济源路街道", "街道对闲置楼宇进行摸排", "street.md", 0.14),
        "济源路街道四大主攻方向 楼宇经济具体怎么做的": (
            "answered", "济源路街道", "确定了重点抓楼宇、核心抓招商四大主攻方向", "street.md", 0.85),
    })
    answer = converse(kb, "济源路街道的四大主攻方向是什么？", "楼宇经济具体怎么做的？")
    assert answer.understood_as is None and "盘活闲置楼宇" in answer.answer


def test_two_guesses_near_zero_confidence_do_not_rewrite_a_question():
    # Both readings only find unrelated closest sentences (confidence ~0): the question is left as asked.
    kb = StubKB({
        "济源路街道搞了哪些促消费的活动？": ("related", "济源路街道", "开展烟火夜市活动", "street.md", 0.3),
        "今天郑州下雨吗？": ("related", None, "节约用水", "water.md", 0.001),
        "济源路街道搞促消费活动 今天郑州下雨吗": ("related", "济源路街道", "开展烟火夜市活动", "street.md", 0.004),
    })
    conversation = Conversation(kb)
    conversation.ask("济源路街道搞了哪些促消费的活动？")
    assert conversation.ask("今天郑州下雨吗？").understood_as is None


def test_a_weak_reply_from_another_document_does_not_carry_the_conversation_away():
    # 没打表能不给钱吗？ finds nothing in the taxi regulation and only a related sentence of another one: the next
    # follow-up is still completed with the taxi regulation, not with the one that reply came from.
    kb = StubKB({
        "出租车司机拒载怎么办？": ("related", "出租汽车条例", "驾驶员在营运中不得拒载乘客", "taxi.md", 0.22),
        "没打表能不给钱吗？": ("related", "就业促进条例", "未安排就业专项资金的", "jobs.md", 0.3),
        "出租车司机拒载办 过路费谁出": ("related", "出租汽车条例", "载客途中的过路费由乘客负担", "taxi.md", 0.2),
    })
    conversation = Conversation(kb)
    conversation.ask("出租车司机拒载怎么办？")
    conversation.ask("没打表能不给钱吗？")
    assert (conversation.last.doc, conversation.last.unit) == ("taxi.md", "出租汽车条例")
    assert "由乘客负担" in conversation.ask("过路费谁出？").answer


def test_a_follow_up_found_by_chance_elsewhere_stays_with_the_conversations_document():
    # 被抓到罚多少？ as asked finds the farmland regulation's fines (a guess, 0.08); read with the metro
    # regulation it finds the metro's fines: the conversation's document is kept although neither reply quotes
    # the words 抓到 or 罚多少 (before, the literal reply won because it shared a character pair more).
    kb = StubKB({
        "地铁里能吃东西吗？": ("related", None, "禁止在列车车厢内进食", "metro.md", 0.2),
        "被抓到罚多少？": ("related", None, "罚款必须在规定期限内缴纳，被占用的基本农田", "farmland.md", 0.08),
        "地铁里能吃东西 被抓到罚多少": ("answered", None, "违反第三十一条的，处以二十元以上一百元以下罚款", "metro.md", 0.76),
    })
    answer = converse(kb, "地铁里能吃东西吗？", "被抓到罚多少？")
    assert answer.understood_as == "地铁里能吃东西 被抓到罚多少" and "二十元以上一百元以下" in answer.answer
    # ...but not for a reply no surer than the one found elsewhere (0.10 against 0.08 is noise)...
    kb.table["被抓到怎么处理？"] = ("related", None, "被占用的基本农田由县级人民政府处理", "farmland.md", 0.08)
    kb.table["地铁里能吃东西 被抓到怎么处理"] = ("related", None, "违反第三十一条的，处以罚款", "metro.md", 0.1)
    assert converse(kb, "地铁里能吃东西吗？", "被抓到怎么处理？").understood_as is None
    # ...unless it asks the fine for what was said (fine_for_what_was_said): every regulation fines its own conduct
    kb.table["地铁里能吃东西 被抓到罚多少"] = ("related", None, "违反第三十一条的，处以罚款", "metro.md", 0.1)
    assert converse(kb, "地铁里能吃东西吗？", "被抓到罚多少？").understood_as == "地铁里能吃东西 被抓到罚多少"
    # ...nor when the reply found elsewhere is clearly about what the question names (its words quoted there only).
    kb.table["带汽油罚多少？"] = ("related", None, "携带汽油的，罚多少由公安机关决定", "police.md", 0.08)
    kb.table["地铁里能吃东西 带汽油罚多少"] = ("answered", None, "违反第三十一条的，处以二十元罚款", "metro.md", 0.76)
    assert converse(kb, "地铁里能吃东西吗？", "带汽油罚多少？").understood_as is None


def test_a_fine_asked_for_what_was_said_stays_with_the_conversations_document():
    # 不清理罚多少？ names no thing: what was not cleaned up is what the conversation spoke of. Read as asked it was
    # "answered" 0.78 with a heritage site's fine sharing the verb (拒不清理的，处以五十元罚款): review, eighteenth session.
    kb = StubKB({
        "狗拉屎主人要清理吗？": ("related", "郑州市城市养犬管理条例", "携带清洁用具，及时清除犬只户外排泄物", "dogs.md", 0.4),
        "不清理罚多少？": ("answered", None, "有第三项行为的，处以警告并责令当场清理，拒不清理的，处以五十元罚款",
                       "heritage.md", 0.78),
        "郑州市城市养犬管理条例 不清理罚多少": ("related", "郑州市城市养犬管理条例", "违反本条例第十八条规定的，处以罚款",
                                   "dogs.md", 0.45),
    })
    answer = converse(kb, "狗拉屎主人要清理吗？", "不清理罚多少？")
    assert answer.understood_as == "郑州市城市养犬管理条例 不清理罚多少" and answer.citations[0].doc == "dogs.md"
    # a follow-up naming a thing of its own may leave (出租车拒载罚多少？ after the dog question)
    kb.table["出租车拒载罚多少？"] = ("answered", None, "出租汽车驾驶员拒载的，处以二百元罚款", "taxi.md", 0.78)
    kb.table["郑州市城市养犬管理条例 出租车拒载罚多少"] = ("related", "郑州市城市养犬管理条例", "违反本条例规定的，处以罚款",
                                         "dogs.md", 0.45)
    assert converse(kb, "狗拉屎主人要清理吗？", "出租车拒载罚多少？").citations[0].doc == "taxi.md"


def test_a_fine_asked_for_what_was_said_is_read_with_the_conduct_not_the_regulations_first_fine():
    # 罚多少？ after 扣工人身份证行不行: read with the labour regulation's title alone, the surest reply (0.76) was its
    # first fine, a job agency's; the reading with the conduct quotes the fine for it (enterprise QA, nineteenth session).
    kb = StubKB({
        "扣工人身份证行不行": ("answered", "郑州市劳动用工条例", "用人单位不得扣押劳动者的居民身份证", "labour.md", 0.5),
        "罚多少？": ("related", None, "违反本条例规定的，处以罚款", "air.md", 0.04),
        "郑州市劳动用工条例 罚多少": ("related", "郑州市劳动用工条例",
                              "违反第七条第三款规定的，没收违法所得，并处以一万元以上五万元以下罚款", "labour.md", 0.76),
        "扣工人身份证 罚多少": ("related", "郑州市劳动用工条例",
                          "扣押劳动者身份证或者其他证件的，由人力资源社会保障行政部门依法处罚", "labour.md", 0.49),
    })
    answer = converse(kb, "扣工人身份证行不行", "罚多少？")
    assert answer.understood_as == "扣工人身份证 罚多少" and "扣押" in answer.answer
    # what the regulation is about tells no fine apart (公共场所 and 抽烟, said 吸烟, are in its title): the surer reading
    # wins, not the one whose fine names 公共场所 (review: an obstruction fine was quoted for 公共场所能抽烟吗 → 罚多少？)
    title = "郑州市公共场所禁止吸烟条例"
    kb = StubKB({
        "公共场所能抽烟吗": ("related", title, "禁止在公共场所吸烟", "smoke.md", 0.4),
        f"{title} 公共场所 罚多少": ("related", title, "在禁止吸烟场所吸烟的，处五十元罚款", "smoke.md", 0.59),
        "公共场所能抽烟 罚多少": ("related", title, "在公共场所阻碍执法人员的，依照治安管理处罚法处罚", "smoke.md", 0.23),
    })
    assert converse(kb, "公共场所能抽烟吗", "罚多少？").understood_as == f"{title} 公共场所 罚多少"
    # a fine follow-up naming a conduct of its own is read as before: the surer reply wins
    from kb_bot.answering.followup import fine_for_what_was_said
    assert not fine_for_what_was_said("拒载罚多少？")


def test_the_same_question_of_another_subject_stands_alone():
    # 那公交车能拒载吗 after 出租车司机能拒载吗, read with the taxi regulation's title, was "answered" 0.91 with the taxi
    # drivers' rule (QA, nineteenth session): the bus regulation, found as asked, is about what it names.
    taxi, bus = "郑州市客运出租汽车管理条例", "郑州市城市公共汽车客运条例"
    kb = StubKB({
        "出租车司机能拒载吗": ("answered", taxi, "客运出租汽车驾驶员在营运中不得拒载乘客", "taxi.md", 0.68),
        "那公交车能拒载吗": ("related", bus, "公共汽车驾驶员不得滞站、甩站、拒载", "bus.md", 0.3),
        f"{taxi} 公交车能拒载吗": ("answered", taxi, "客运出租汽车驾驶员有下列行为之一，属拒载乘客行为", "taxi.md", 0.91),
    })
    kb.ask = _titled(kb.ask, {"bus.md": bus, "taxi.md": taxi})
    answer = converse(kb, "出租车司机能拒载吗", "那公交车能拒载吗")
    assert answer.understood_as is None and answer.citations[0].doc == "bus.md", answer.answer
    # an aspect of the same subject is no other subject: 还引进了什么人才？ after 上街区怎么招聘老师？ (the talent
    # regulation's title names 人才, but nothing of the earlier question is asked again)
    kb = StubKB({
        "上街区怎么招聘老师？": ("answered", "教育局", "面向北师大等高校公开招聘教师", "edu.md", 0.8),
        "还引进了什么人才？": ("related", "河南省人才流动条例", "人才流动应当遵守国家法律", "talent.md", 0.3),
        "教育局 引进了什么人才": ("answered", "教育局", "引进国培专家、省级名师等人才", "edu.md", 0.8),
    })
    kb.ask = _titled(kb.ask, {"talent.md": "河南省人才流动条例", "edu.md": "教育局"})
    assert converse(kb, "上街区怎么招聘老师？", "还引进了什么人才？").citations[0].doc == "edu.md"


def test_and_x_asks_the_value_asked_before():
    # 单位呢？ after 失业保险费个人交多少 was "answered" 0.76 with 按时足额缴纳 and no rate (QA, nineteenth session)
    title = "郑州市失业保险条例"
    kb = StubKB({
        "失业保险费个人交多少": ("answered", title, "职工按照本人上年度月平均工资的百分之一缴纳失业保险费", "ui.md", 0.8),
        f"{title} 单位": ("answered", title, "用人单位及其职工应当按时足额缴纳失业保险费", "ui.md", 0.76),
    })
    answer = converse(kb, "失业保险费个人交多少", "单位呢？")
    assert answer.understood_as == f"{title} 单位" and answer.status == "related", answer.answer
    kb.table[f"{title} 单位"] = ("answered", title, "用人单位按照本单位职工工资总额的百分之二缴纳失业保险费", "ui.md", 0.76)
    assert converse(kb, "失业保险费个人交多少", "单位呢？").status == "answered"  # the rate given: answered


def test_and_x_of_a_thing_like_one_asked_about_asks_the_same_of_it():
    # 那自行车呢 after 多大能骑电动车 was read as 电动车 自行车 (the age asked lost) and "answered" 0.99 with the e-bike
    # speed-limiter article (QA, twentieth session): it asks the previous question of the bicycle.
    from kb_bot.answering.ellipsis import parallel_reading

    title = "郑州市城市道路交通安全管理条例"
    assert parallel_reading("那自行车呢", "多大能骑电动车") == "多大能骑自行车"
    assert parallel_reading("那公交车呢？", "出租车司机能拒载吗") == "公交车司机能拒载吗"
    # an aspect of the same thing, a question of its own kind, or a bare topic before: no parallel reading
    assert parallel_reading("招租面积呢？", "入驻了多少家？") is None
    assert parallel_reading("家电产业链呢？", "先进制造业开发区 奥克斯上街 进度怎么样") is None
    assert parallel_reading("自行车多大能骑呢", "多大能骑电动车") is None
    assert parallel_reading("自行车呢", "电动车") is None
    assert parallel_reading("那停气呢", "停水得提前多久通知") == "停气得提前多久通知"  # a verb and its object
    assert parallel_reading("电话呢？", "电费怎么交") is None  # a detail asked of the same thing
    # review: the head is preferred and replaced where it stands; a noun is no verb's object; a title is never rewritten
    assert parallel_reading("租金呢", "租房要交押金吗") == "租房要交租金吗"
    assert parallel_reading("租金呢", "租房合同要备案吗") is None
    assert parallel_reading("养猫呢", "郑州市城市养犬管理条例 养狗 要多少钱") is None
    kb = StubKB({
        "多大能骑电动车": ("related", title, "驾驶电动自行车必须年满十六周岁", "traffic.md", 0.15),
        "电动车 自行车": ("answered", title, "不得擅自拆除、改装电动自行车限速装置", "traffic.md", 0.99),
        "那自行车呢": ("answered", "郑州市停车场建设管理条例", "设置非机动车停车场", "parking.md", 0.8),
        "多大能骑自行车": ("related", title, "驾驶自行车、人力三轮车必须年满十二周岁", "traffic.md", 0.16),
    })
    answer = converse(kb, "多大能骑电动车", "那自行车呢")
    assert answer.understood_as == "多大能骑自行车" and "十二周岁" in answer.answer, answer.answer
    # the reply to the previous question asked of a thing its quote never names says so
    kb.table["多大能骑三轮车"] = ("related", title, "驾驶电动自行车必须年满十六周岁", "traffic.md", 0.16)
    answer = converse(kb, "多大能骑电动车", "那三轮车呢")
    assert answer.status == "related" and "没有提到“三轮车”" in answer.answer, answer.answer


def test_a_fine_speaking_of_what_was_said_wins_over_one_found_as_asked():
    from kb_bot.answering.followup import Aspect, completed_wins, fine_speaking_of
    from kb_bot.answering.conversation import Turn

    title = "郑州市大气污染防治条例"
    previous = Turn("城里能烧烤吗", "城里能烧烤吗", title, "城里 烧烤", "air.md")
    literal = StubKB({"罚多少": ("related", title, "违反本条例规定，有关法律法规有处罚规定的，从其规定", "air.md", 0.24)}
                     ).ask("罚多少", _literal=True)
    completed = StubKB({"罚多少": ("related", title, "没收烧烤工具和违法所得，并处五百元以上二万元以下罚款", "air.md", 0.49)}
                       ).ask("罚多少", _literal=True)
    conduct = Aspect.of("城里 烧烤")
    assert fine_speaking_of(conduct, completed) > 0 == fine_speaking_of(conduct, literal)
    assert completed_wins("罚多少", Aspect.of("罚多少"), "short", literal, completed, previous, conduct)
    assert not completed_wins("罚多少", Aspect.of("罚多少"), "short", literal, completed, previous)  # the old rules


def _titled(ask, titles):
    """``ask`` whose citations carry their document's title (the stub's cards all say 标题)."""
    from dataclasses import replace

    def titled(question, history=(), *, _literal=False):
        answer = ask(question, history, _literal=_literal)
        return replace(answer, citations=tuple(replace(c, title=titles.get(c.doc, c.title)) for c in answer.citations))
    return titled


def test_a_one_character_word_quoted_as_its_synonym_counts_as_mentioned():
    from kb_bot.answering.followup import Aspect, mentions as _mentions

    aspect = Aspect(frozenset({"养条", "条狗"}), (("狗", ("犬", "养犬")),))
    assert _mentions(aspect, "每户居民只准饲养一只犬") == 0.5  # 条狗 holds 狗, quoted as 犬
    assert _mentions(aspect, "每户居民只准饲养一只猫") == 0.0


def test_a_question_pointing_back_stays_with_the_conversation_even_against_a_surer_reply_elsewhere():
    # 上街区也这样吗？ (这样: the parking rule just quoted) is "answered" 0.9 as asked by a sentence of the education
    # article that names 上街区; it asks whether the parking regulation applies there.
    kb = StubKB({
        "收费停车场要备案吗？": ("answered", None, "停车场应当自取得营业执照之日起十五日内备案", "parking.md", 0.8),
        "上街区也这样吗？": ("answered", None, "上街区广泛开展名师示范课展示", "education.md", 0.9),
        "收费停车场要备案 上街区也吗": ("related", None, "上街区参照本条例执行", "parking.md", 0.64),
    })
    answer = converse(kb, "收费停车场要备案吗？", "上街区也这样吗？")
    assert answer.understood_as == "收费停车场要备案 上街区也吗" and "参照本条例执行" in answer.answer


def test_a_completed_answer_quoting_nothing_the_follow_up_names_is_only_related():
    # 能带人吗？ read with the traffic regulation is "answered" 0.82 by the article saying whom the regulation binds:
    # the subject's words made it sure. Its quote says nothing of 带人, so the reply is related, quote kept.
    kb = StubKB({
        "电动车几岁能骑？": ("related", None, "驾驶电动自行车必须年满十六周岁", "traffic.md", 0.36),
        "能带人吗？": ("related", None, "人才流动不受单位性质限制", "talent.md", 0.0),
        "电动车岁能骑 能带人吗": ("answered", None, "车辆驾驶人、乘车人均应遵守本条例", "traffic.md", 0.82),
    })
    answer = converse(kb, "电动车几岁能骑？", "能带人吗？")
    assert answer.understood_as == "电动车岁能骑 能带人吗"
    assert answer.status == "related" and not answer.found and "乘车人均应遵守本条例" in answer.answer
    assert answer.answer.startswith("不能确定找到的原文是否回答了这个问题")
    # A quote that does speak of it stays answered.
    kb.table["电动车岁能骑 能带人吗"] = ("answered", None, "电动自行车可以带人：载一名未成年人", "traffic.md", 0.82)
    assert converse(kb, "电动车几岁能骑？", "能带人吗？").status == "answered"


class ModelKB(StubKB):
    """StubKB with a fitted model's thresholds: 0.7 to answer, 0.4 for a Chinese yes/no question (``info`` as the
    shipped model records its choices)."""

    answer_threshold, info = 0.7, {}

    def answer_model(self):
        from kb_bot.answering.answer_model import AnswerModel

        return AnswerModel("stub", None, None, None, self.answer_threshold, 0.2, self.info, yesno_threshold=0.4)


def test_a_follow_up_is_answered_only_at_the_answer_threshold_not_the_yes_no_one():
    # The yes/no threshold was chosen on questions that stand alone: 员工自己也要交吗？ read with the unemployment
    # regulation's title was "answered" 0.50 by the article on whom the regulation applies to.
    table = {
        "失业保险谁来交？": ("answered", None, "用人单位和职工应当缴纳失业保险费", "unemployment.md", 0.8),
        "员工自己也要交吗？": ("related", None, "职工应当按时足额缴纳", "other.md", 0.1),
        "失业保险来交 员工自己也要交吗": ("answered", None, "本条例适用于本市行政区域内的员工缴费", "unemployment.md", 0.5),
    }
    answer = converse(ModelKB(table), "失业保险谁来交？", "员工自己也要交吗？")
    assert answer.understood_as == "失业保险来交 员工自己也要交吗" and answer.status == "related", answer
    assert "本条例适用于本市行政区域内的员工缴费" in answer.answer  # the quote is kept, hedged
    # above the answer threshold it stays answered; and a first question is judged as the app judged it
    table["失业保险来交 员工自己也要交吗"] = ("answered", None, "本条例适用于本市行政区域内的员工缴费", "unemployment.md", 0.75)
    assert converse(ModelKB(table), "失业保险谁来交？", "员工自己也要交吗？").status == "answered"
    table["失业保险谁来交？"] = ("answered", None, "用人单位和职工应当缴纳失业保险费", "unemployment.md", 0.5)
    assert converse(ModelKB(table), "失业保险谁来交？").status == "answered"


class CitizenThresholdKB(ModelKB):
    """ModelKB whose answer threshold was chosen on citizens' stand-alone questions (0.6) below the validation
    split's (0.7, kept in its info)."""

    answer_threshold, info = 0.6, {"answer_threshold_fitted": 0.7}


def test_a_follow_up_is_answered_only_at_the_validation_threshold_not_the_one_chosen_on_stand_alone_questions():
    # Completed readings borrow the subject's words, which lift their confidence: at the lower threshold 不戴罚多少？
    # after the e-bike helmet rule was answered 0.68 with a car driver's fine.
    table = {
        "骑电动车必须戴头盔吗？": ("answered", None, "电动自行车驾驶人和乘坐人员应当佩戴安全头盔", "traffic.md", 0.65),
        "不戴罚多少？": ("related", None, "处以二百元罚款", "other.md", 0.1),
        "骑电动车必须戴头盔 不戴罚多少": ("answered", None, "对机动车驾驶人处以二百元罚款", "traffic.md", 0.68),
    }
    answer = converse(CitizenThresholdKB(table), "骑电动车必须戴头盔吗？", "不戴罚多少？")
    assert answer.understood_as == "骑电动车必须戴头盔 不戴罚多少" and answer.status == "related", answer
    # the first question, standing on its own, is answered at the lower threshold
    assert converse(CitizenThresholdKB(table), "骑电动车必须戴头盔吗？").status == "answered"
    table["骑电动车必须戴头盔 不戴罚多少"] = ("answered", None, "对机动车驾驶人处以二百元罚款", "traffic.md", 0.72)
    assert converse(CitizenThresholdKB(table), "骑电动车必须戴头盔吗？", "不戴罚多少？").status == "answered"


class TitledKB(StubKB):
    """StubKB whose citations carry the unit as the document's title (a regulation is cited by its title)."""

    def ask(self, question, history=(), *, _literal=False):
        from dataclasses import replace as _replace

        answer = super().ask(question, history, _literal=_literal)
        return _replace(answer, citations=tuple(_replace(c, title=c.unit or c.title) for c in answer.citations))


def test_a_short_question_naming_its_own_source_opens_a_topic():
    # 出租车拒载罚多少？ is short, but it names the taxi regulation it is answered from (出租车 -> 出租汽车): it is not
    # read with the metro's subject, and the next follow-up continues the taxi regulation, not the metro.
    kb = TitledKB({
        "地铁里能抽烟吗？": ("answered", "郑州市轨道交通条例", "车站和车厢内禁止吸烟", "metro.md", 0.8),
        "出租车拒载罚多少？": ("related", "郑州市客运出租汽车管理条例", "拒载的，处以罚款", "taxi.md", 0.3),
        "郑州市轨道交通条例 出租车拒载罚多少": ("answered", "郑州市轨道交通条例", "禁止在车厢内饮食", "metro.md", 0.9),
        "郑州市客运出租汽车管理条例 绕道": ("related", "郑州市客运出租汽车管理条例", "绕道的，处以罚款", "taxi.md", 0.3),
    })
    conversation = Conversation(kb)
    conversation.ask("地铁里能抽烟吗？")
    reply = conversation.ask("出租车拒载罚多少？")
    assert reply.understood_as is None and "郑州市轨道交通条例 出租车拒载罚多少" not in kb.asked
    assert conversation.last.doc == "taxi.md"
    assert conversation.ask("绕道呢？").understood_as == "郑州市客运出租汽车管理条例 绕道"


def test_a_guess_from_a_document_whose_title_shares_a_word_does_not_open_a_topic():
    # 投资总额多少？ after a question on the zone's signed projects: as asked it only finds a guess (0.04) in the
    # 政府投资项目 regulation, whose title shares 投资. A guess names nothing it found: the conversation stays with
    # the zone, and the next follow-up (还有在谈的吗？) is read with it, not with the regulation.
    kb = TitledKB({
        "开发区最近签了哪些项目？": ("answered", "先进制造业开发区", "签约项目7个", "zone.md", 0.8),
        "投资总额多少？": ("related", "郑州市政府投资项目管理条例", "政府投资项目应当编制初步设计", "invest.md", 0.04),
        "先进制造业开发区 投资总额多少": ("related", "先进制造业开发区", "签约项目7个,总投资", "zone.md", 0.3),
        "先进制造业开发区 在谈的吗": ("answered", "先进制造业开发区", "在谈项目有中建材、联东U谷", "zone.md", 0.8),
    })
    conversation = Conversation(kb)
    conversation.ask("开发区最近签了哪些项目？")
    assert conversation.ask("投资总额多少？").understood_as == "先进制造业开发区 投资总额多少"
    assert conversation.last.doc == "zone.md"
    assert "中建材" in conversation.ask("还有在谈的吗？").answer


@pytest.mark.parametrize("question", ["还引进了什么人才？", "中俄的那趟是哪天开的？", "我看到有人在里面抽烟能不能劝阻？",
                                      "有没有相关的规划文件？", "都是些什么问题？", "是哪几个？"])
def test_more_follow_up_cues(question):
    assert dependency(question) == "explicit"


@pytest.mark.parametrize("question", ["上街区的房价是多少？", "济源路街道今年抓经济主要抓哪几个方面？",
                                      "豫翠园那边空着的楼以后打算做什么？", "厂里停工停产了，这个月工资还发吗？"])
def test_questions_with_their_own_subject_stand_alone(question):
    assert dependency(question) == ""


def test_a_demonstrative_is_stripped_whole_not_taken_for_the_opener_na():
    assert strip_cues("那个直播电商基地入驻了多少企业？") == "直播电商基地入驻了多少企业"
    assert strip_cues("那临时聘的老师呢？") == "临时聘的老师"


def test_repaying_is_not_an_also():
    assert dependency("还款要带什么材料？") != "explicit" and dependency("还要带什么材料？") == "explicit"


def test_refocused_sentences_replace_the_reply_only_when_they_speak_more_of_the_aspect(monkeypatch):
    import kb_bot.answering.answer as answer_module

    kb = StubKB({
        "上街区有哪些教育集团？": ("related", "上街区教育局", "成立了钱学森小学教育集团", "edu.md", 0.5),
        "上街区教育集团 为什么要搞": ("related", "上街区教育局", "通过集团化办学推动教育优质均衡发展", "edu.md", 0.09),
    })
    hit = type("Hit", (), {"chunk": type("Chunk", (), {"doc": "edu.md"})()})()
    elsewhere = type("Hit", (), {"chunk": type("Chunk", (), {"doc": "other.md"})()})()
    found = [[hit]]
    kb.search = lambda query, top_k: found[0]
    picked = ["并深入推进集团内部管理、考核评价等方面的一体化"]
    monkeypatch.setattr(answer_module, "compose", lambda question, hits, *model, **words: (
        picked[0], (Citation(hits[0].chunk.doc, "标题", None, None, picked[0], None, 0.5, "c"),),
        (AnswerSentence(picked[0], 0),)))

    def reply():
        conversation = Conversation(kb)
        conversation.ask("上街区有哪些教育集团？")
        return conversation.ask("为什么要搞这个？").answer

    assert "优质均衡" in reply()  # 为什么 alone chose the refocused sentence: the reply's own stands
    picked[0] = "之所以要搞教育集团，是为了缩小校际差距"
    assert "缩小校际" in reply()  # it speaks of 要搞: it replaces the reply
    found[0] = [elsewhere]
    assert "优质均衡" in reply()  # ...but never from another document's passages


def test_a_refocused_reply_is_chosen_with_the_knowledge_bases_own_model_and_synonyms(monkeypatch):
    # The refocus once used the shipped model, the shipped synonyms and word weights from three passages:
    # a staff recalibration (kb-bot calibrate) and the staff's synonyms.txt were ignored for follow-ups.
    import kb_bot.answering.answer as answer_module

    kb = StubKB({
        "招聘会帮企业招到了多少人？": ("related", ZONE, "达成就业意向300余人", "a.md", 0.3),
        "那融资方面呢？": ("related", ZONE, "帮助企业融资贷款2600万元", "a.md", 0.01),
        "先进制造业开发区 融资方面": ("related", ZONE, "开发区推动产业转型升级", "a.md", 0.24),
    })
    own = {"model": object(), "stats": object(), "synonyms": object()}
    kb.answer_model, kb.gram_stats, kb.synonyms = (lambda: own["model"]), (lambda: own["stats"]), (lambda: own["synonyms"])
    kb.search = lambda query, top_k: [type("Hit", (), {"chunk": type("Chunk", (), {"doc": "a.md"})()})()]
    seen = []

    def spy(question, hits, model="shipped", **words):
        seen.append((model, words))
        return "", (), ()

    monkeypatch.setattr(answer_module, "compose", spy)
    converse(kb, "招聘会帮企业招到了多少人？", "那融资方面呢？")
    assert seen and all(m is own["model"] and w == {"stats": own["stats"], "synonyms": own["synonyms"]} for m, w in seen)


def test_the_completed_reply_is_compared_with_the_literal_one_as_it_would_be_quoted(monkeypatch):
    # The completed reading first quotes the zone's overview; refocused on 融资 it quotes the loans. It must be
    # compared with the literal reply (which also quotes the loans) as refocused, or the literal one wins.
    import kb_bot.answering.answer as answer_module

    kb = StubKB({
        "招聘会帮企业招到了多少人？": ("related", ZONE, "达成就业意向300余人", "a.md", 0.3),
        "那融资方面呢？": ("related", ZONE, "帮助企业融资贷款2600万元", "a.md", 0.01),
        "先进制造业开发区 融资方面": ("related", ZONE, "开发区推动产业转型升级", "a.md", 0.24),
    })
    kb.search = lambda query, top_k: [type("Hit", (), {"chunk": type("Chunk", (), {"doc": "a.md"})()})()]
    loans = "帮助企业融资贷款2600万元"
    monkeypatch.setattr(answer_module, "compose", lambda question, hits, *model, **words: (
        loans, (Citation("a.md", "标题", ZONE, None, loans, None, 0.5, "c"),), (AnswerSentence(loans, 0),)))
    answer = converse(kb, "招聘会帮企业招到了多少人？", "那融资方面呢？")
    assert answer.understood_as == "先进制造业开发区 融资方面" and "2600万元" in answer.answer


def _cli(args, stdin, settings):
    command = [sys.executable, "-m", "kb_bot.cli", *args, "--documents", str(settings.documents),
               "--index", str(settings.index), "--model", "fake"]
    return subprocess.run(command, input=stdin, capture_output=True, text=True, timeout=300,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})


def test_cli_conversation_prints_one_object_per_turn(fake_settings):
    result = _cli(["ask", "-", "--json", "--conversation"], "招聘会帮企业招到了多少人？\n那融资方面呢？\n\n上街区房价多少？\n",
                  fake_settings)
    assert result.returncode == 0, result.stderr
    objects = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["question"] for o in objects] == ["招聘会帮企业招到了多少人？", "那融资方面呢？", "上街区房价多少？"]
    assert all("understood_as" in o for o in objects)
    assert objects[0]["understood_as"] is None and objects[2]["understood_as"] is None


def test_cli_chat_reads_piped_turns(fake_settings):
    result = _cli(["chat"], "招聘会帮企业招到了多少人？\n那融资方面呢？\n", fake_settings)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("问> ") == 2 and "来源 Sources:" in result.stdout


def _dialogue_turns():
    for line in DIALOGUES.read_text(encoding="utf-8").splitlines():
        if line.strip():
            yield json.loads(line)


def test_dialogue_set_has_enough_follow_ups():
    dialogues = list(_dialogue_turns())
    followups = [t for d in dialogues for t in d["turns"] if t.get("followup")]
    standalone = [t for d in dialogues for i, t in enumerate(d["turns"]) if i and not t.get("followup")]
    assert len(followups) >= 40 and len(standalone) >= 5
    assert all(t["expect"] for d in dialogues for t in d["turns"])


def run_dialogues(kb):
    """Per group ("seed": dialogues over the three articles, "regulations": over a regulation, named by "doc"):
    [follow-ups, with the fact in the answer, in the answer or top passage, stand-alone, rewritten]."""
    groups: dict[str, list[int]] = {}
    for dialogue in _dialogue_turns():
        counts = groups.setdefault("regulations" if dialogue.get("doc") else "seed", [0, 0, 0, 0, 0])
        conversation = Conversation(kb)
        for number, turn in enumerate(dialogue["turns"]):
            answer = conversation.ask(turn["q"])
            if turn.get("followup"):
                text_hit = any(e in answer.answer for e in turn["expect"])
                top = answer.citations[0].text if answer.citations else ""
                counts[0] += 1
                counts[1] += text_hit
                counts[2] += text_hit or any(e in top for e in turn["expect"])
            elif number:
                counts[3] += 1
                counts[4] += answer.understood_as is not None
    return groups


@pytest.mark.slow
def test_dialogues_on_the_real_model(corpus_kb):
    # Every dialogue over the whole shipped corpus, as citizens meet it: the seed dialogues do as well there as
    # over the seed articles alone (50/56 and 49/56, 2026-11-27), and the regulation ones need it.
    groups = run_dialogues(corpus_kb)
    for name, (followups, in_text, in_top, standalone, rewritten) in groups.items():
        print(f"{name}: follow-ups {followups}, fact in answer {in_text} ({in_text / followups:.1%}), "
              f"in answer or top passage {in_top} ({in_top / followups:.1%}); stand-alone {standalone}, "
              f"rewritten {rewritten}")
    assert sum(counts[4] for counts in groups.values()) == 0  # no stand-alone question rewritten
    # Target 0.85 (issue 12). Measured 2026-11-27 (third session) on the whole corpus: seed 52/56 (0.929),
    # regulations 19/26 (0.731), together 71/82 (0.866); the fact in the reply's own text 69/82 (0.841). The
    # regulation dialogues (8 of 11 written blind after the rules) miss on citizens' words the regulations do not
    # use (没打表, 过路费, 扫码, 发票, 导盲犬). Fourth session, answer model refitted with paraphrased questions:
    # seed 51/56, regulations 19/26 (70/82 = 0.854; the fact in the reply's own text 69/82). Each floor is the
    # measured figure less one turn, so a real regression of the follow-up rules fails without pinning the answer
    # model.
    floors = {"seed": 50 / 56, "regulations": 18 / 26}
    for name, (followups, _, in_top, _, _) in groups.items():
        assert in_top / followups >= floors[name] - 1e-9, (name, in_top, followups)


# --------------------------------------------------------------------------- web: chat history and /ask


def _web_app(tmp_path):
    from web_fixtures import fake_kb
    from kb_bot.web.app import build_app

    kb = fake_kb(tmp_path)
    return kb, build_app(kb)


def test_web_chat_passes_the_conversation_and_shows_how_it_understood(tmp_path):
    kb, demo = _web_app(tmp_path)
    citizen = demo.kb_tabs.citizen
    step = list(citizen.respond(citizen.add_question("招聘会帮企业招到了多少人？", []).chat, {}))[-1]
    assert "理解" not in step.chat[-1]["content"]
    step = list(citizen.respond(citizen.add_question("那融资方面呢？", step.chat).chat, step.records))[-1]
    expected = kb.ask("那融资方面呢？", ["招聘会帮企业招到了多少人？"]).understood_as
    assert expected and f"按“{expected}”理解" in step.chat[-1]["content"]
    assert step.records["3"]["question"] == "那融资方面呢？" and step.records["3"]["log_id"]


def test_api_ask_accepts_an_optional_history(tmp_path):
    kb, demo = _web_app(tmp_path)
    api_ask = demo.kb_tabs.citizen.api_ask
    alone = api_ask("那融资方面呢？")
    assert alone["understood_as"] is None and alone["question"] == "那融资方面呢？"
    followed = api_ask("那融资方面呢？", ["招聘会帮企业招到了多少人？"])
    assert followed["understood_as"] and followed["question"] == "那融资方面呢？"
    assert api_ask("那融资方面呢？", "招聘会帮企业招到了多少人？")["understood_as"] == followed["understood_as"]


@pytest.mark.slow
def test_ask_endpoint_with_history_from_gradio_client(web_real_kb):
    from gradio_client import Client

    from kb_bot.web.app import build_app, launch_options
    from web_fixtures import free_port

    demo = build_app(web_real_kb)
    _, url, _ = demo.launch(server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True,
                            **launch_options(web_real_kb))
    try:
        client = Client(url, verbose=False, analytics_enabled=False)
        plain = client.predict("那融资方面呢？", api_name="/ask")  # without history, as before
        assert plain["understood_as"] is None
        result = client.predict("那融资方面呢？", ["招聘会帮企业招到了多少人？"], api_name="/ask")
        assert result["understood_as"] and "融资" in result["understood_as"]
        assert result["status"] != "not_found" and "2600万元" in result["answer"]
    finally:
        demo.close()


def test_understood_line_is_escaped_and_in_the_question_language():
    from kb_bot.web.render import understood_html

    chinese = Answer("那<b>融资</b>呢？", True, "x", (), understood_as="开发区 <b>融资</b>")
    assert "按“开发区 &lt;b&gt;融资&lt;/b&gt;”理解" in understood_html(chinese)
    english = Answer("what about loans?", True, "x", (), understood_as="development zone loans")
    assert "Understood as “development zone loans”" in understood_html(english)
    assert understood_html(Answer("q", True, "x", ())) == ""


def test_a_question_over_the_length_limit_is_not_cut_silently(tmp_path):
    from kb_bot.web.facade import MAX_QUESTION_CHARS

    _, demo = _web_app(tmp_path)
    with pytest.warns(UserWarning, match=str(MAX_QUESTION_CHARS)):
        added = demo.kb_tabs.citizen.add_question("问" * (MAX_QUESTION_CHARS + 20), [])
    assert len(added.chat[-1]["content"]) == MAX_QUESTION_CHARS


def test_optional_llm_rewrite_is_one_more_reading(tmp_path):
    """A fake OpenAI-compatible endpoint rewrites the follow-up; its reading wins when it answers best."""
    import http.server
    import threading

    from kb_bot.answering.llm import REWRITE_PROMPT

    seen = []

    class Endpoint(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            seen.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            body = json.dumps({"choices": [{"message": {"content": "开发区帮企业融资贷款了多少钱？"}}]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Endpoint)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        kb = StubKB({
            "招聘会帮企业招到了多少人？": ("answered", "上街区先进制造业开发区", "300余人"),
            "开发区帮企业融资贷款了多少钱？": ("answered", "上街区先进制造业开发区", "融资贷款2600万元"),
        })
        kb.settings = Settings(llm_url=f"http://127.0.0.1:{server.server_port}/v1", llm_model="fake", llm_timeout=5.0)
        conversation = Conversation(kb)
        conversation.ask("招聘会帮企业招到了多少人？")
        answer = conversation.ask("那融资方面呢？")
    finally:
        server.shutdown()
    assert answer.understood_as == "开发区帮企业融资贷款了多少钱？" and "2600万元" in answer.answer
    rewrites = [r for r in seen if r["messages"][0]["content"] == REWRITE_PROMPT]  # the others word replies
    assert len(rewrites) == 1 and "那融资方面呢？" in rewrites[0]["messages"][-1]["content"]


def test_llm_rewrite_failure_falls_back_to_the_rules():
    from kb_bot.answering.llm import rewrite_followup

    settings = Settings(llm_url="http://127.0.0.1:9/v1", llm_model="m", llm_timeout=1.0)
    assert rewrite_followup(settings, "那融资方面呢？", "q") is None


@pytest.mark.parametrize("question, only_details", [
    ("要什么材料", True), ("要带啥材料？", True), ("电话多少", True), ("需要什么手续", True), ("窗口在哪", True),
    ("养狗要什么材料", False), ("失业金领取要什么材料", False), ("贷款利率是多少", False), ("去哪办", False),
])
def test_a_question_naming_only_a_detail_has_no_subject_of_its_own(question, only_details):
    from kb_bot.answering.guards import not_an_answer
    from kb_bot.answering.cues import names_only_details

    assert names_only_details(question) is only_details
    rule = "第二十九条 施工劳务单位不得承揽主要建筑材料和周转材料的采购。"
    if only_details:  # whose materials? any sentence with 材料 in it would seem to answer
        assert not_an_answer(question, rule, [rule], [rule])


@pytest.mark.slow
def test_what_materials_after_the_dog_question_is_about_the_dog(corpus_kb):
    # QA: 要什么材料 after the dog-registration question was "answered" 0.83 with the building-market
    # regulation's 建筑材料, with no 按…理解 line.
    alone = corpus_kb.ask("要什么材料", _literal=True)
    assert alone.status != "answered"
    conversation = Conversation(corpus_kb)
    conversation.ask("在郑州养狗要办登记吗？")
    reply = conversation.ask("要什么材料")
    assert reply.status != "answered" or "养犬" in reply.answer
    assert reply.understood_as and "养" in reply.understood_as and "建筑材料" not in reply.answer


def test_an_english_follow_up_is_read_with_the_english_question_before_it():
    # QA: "dog leash rules" then "what about the fines?" was read as 郑州市城市养犬管理条例 the fines: no English
    # synonym matched it (第四条 was quoted, not the fines) and the reply was framed in Chinese.
    from kb_bot.answering.conversation import Turn, completions

    previous = Turn("dog leash rules", "dog leash rules", "郑州市城市养犬管理条例", "dogleashrules", "dogs.md")
    assert completions("what about the fines?", previous) == ["dog leash rules the fines"]
    chinese = Turn("养狗要办证吗？", "养狗要办证吗？", "郑州市城市养犬管理条例", "养狗办证", "dogs.md")
    assert all("郑州市城市养犬管理条例" in r or "养狗" in r for r in completions("what about the fines?", chinese))


@pytest.mark.slow
def test_an_english_follow_up_finds_its_article_and_is_answered_in_english(corpus_kb):
    conversation = Conversation(corpus_kb)
    conversation.ask("dog leash rules")
    reply = conversation.ask("what about the fines?")
    assert reply.understood_as == "dog leash rules the fines"
    assert reply.citations and reply.citations[0].article == "第二十四条" and "罚款" in reply.answer
    assert not reply.answer.startswith("没有") and "。最接近" not in reply.answer  # English around the quote


def test_a_commencement_clause_answers_only_when_a_rule_applies_from(corpus_kb):
    # QA, twelfth session: 去哪办？ after 失业了能领失业金吗？ was "answered" 0.72 by the regulation's last article,
    # 本条例自2005年5月1日起施行…同时废止, matched by the regulation's title alone.
    conversation = Conversation(corpus_kb)
    conversation.ask("失业了能领失业金吗？")
    where = conversation.ask("去哪办？")
    assert not (where.status == "answered" and "起施行" in where.answer), where.answer
    when = corpus_kb.ask("郑州市失业保险条例什么时候开始施行的？")  # what the clause does speak of: it is quoted
    assert when.status != "not_found" and "2005年5月1日" in when.answer


@pytest.mark.slow
def test_the_leash_asked_about_after_walking_a_dog_is_the_regulations_dog_leash(corpus_kb):
    # QA, twelfth session: 绳子多长？ after 遛狗不拴绳罚多少 came back "not found": its reading with the subject quoted
    # 犬链全长不得超过1.5米, but the question's 绳子 was not seen in 犬链, so the literal "not found" stood.
    conversation = Conversation(corpus_kb)
    conversation.ask("遛狗不拴绳罚多少")
    reply = conversation.ask("绳子多长？")
    assert reply.status != "not_found" and "1.5米" in reply.answer


def test_a_demonstratives_measure_word_that_begins_a_word_stays():
    # 那个体户呢 was read as 体户 and 那家电产业链呢 as 电产业链: 那个 and 那家 were stripped whole as pronouns
    assert strip_cues("那个体户呢") == "个体户" and strip_cues("那家电产业链呢？") == "家电产业链"
    assert strip_cues("这家店怎么样") == "店怎么样" and strip_cues("那些企业呢") == "企业"  # demonstratives still go
    assert strip_cues("这个月能办吗") == "这个月能办吗"


@pytest.mark.slow
def test_and_the_bicycle_after_the_e_bike_age_asks_the_bicycles_age(corpus_kb):
    # QA, twentieth session: "answered" 0.99 with the e-bike speed-limiter and helmet articles (read as 电动车 自行车)
    reply = converse(corpus_kb, "多大能骑电动车", "那自行车呢")
    assert reply.understood_as == "多大能骑自行车" and "年满十二周岁" in reply.answer, reply.answer
    assert reply.citations[0].article == "第二十二条"
    # the same of a verb and its object: 那停气呢 after 停水得提前多久通知 was "answered" 0.75 with the water supply rule
    reply = converse(corpus_kb, "停水得提前多久通知", "那停气呢")
    assert "燃气" in reply.citations[0].title and "提前二十四小时通知用户" in reply.answer, reply.answer


@pytest.mark.slow
def test_the_fine_asked_after_a_conduct_is_the_fine_for_that_conduct(corpus_kb):
    # QA, twentieth session: as asked, 罚多少 quoted a 从其规定 clause of the air regulation with the tourism and taxi
    # regulations' fines (1,000-5,000 yuan for illegal taxis, read as the barbecue fine); read with the question, the
    # air regulation's fine for 第五十三条 (outdoor barbecues) is found
    reply = converse(corpus_kb, "城里能烧烤吗", "罚多少")
    assert reply.citations[0].article == "第五十八条" and "五百元以上二万元以下" in reply.answer, reply.answer
    assert all("大气污染防治" in c.title for c in reply.citations)


@pytest.mark.slow
def test_a_fee_asked_after_a_licence_question_is_not_answered_by_fines_unsaid(corpus_kb):
    # QA, twentieth session: 多少钱 after 办狗证要带啥 quoted only the dog regulation's fines (每只三千元罚款 …) under the
    # generic head; a resident takes the first sum for the price of the licence. The line now says no fee is given.
    reply = converse(corpus_kb, "办狗证要带啥", "多少钱")
    assert reply.status != "answered" and reply.answer.startswith("找到的原文中没有提到“收费”"), reply.answer


def test_the_topic_nouns_leave_out_how_the_question_asked():
    from kb_bot.answering.followup import topic_nouns

    assert topic_nouns("失业保险金能领多久") == "失业保险金"  # 能领 is a modal and a verb, 多久 the asking
    assert topic_nouns("电动车几岁能骑") == "电动车"


@pytest.mark.slow
def test_a_follow_up_keeps_the_subject_not_only_the_regulation_title(corpus_kb):
    # QA, fourteenth session: 失业保险金能领多久 -> 那标准是多少 was read as 郑州市失业保险条例 标准是多少 and quoted the
    # medical-allowance article (第二十八条); read with the topic's nouns it finds the benefit's own standard.
    conversation = Conversation(corpus_kb)
    conversation.ask("失业保险金能领多久")
    reply = conversation.ask("那标准是多少")
    assert reply.understood_as == "失业保险金 标准是多少" and "最低工资标准的百分之八十" in reply.answer


@pytest.mark.slow
def test_the_topic_nouns_never_carry_a_stand_alone_question_to_another_document(corpus_kb):
    # With the nouns readings, 树龄多少年算一级古树 after the teachers' question was read as 教育局 上街区 老师 树龄…: a
    # nouns reading must stay in the conversation's document.
    conversation = Conversation(corpus_kb)
    conversation.ask("上街区怎么招聘老师？")
    assert conversation.ask("树龄多少年算一级古树？").understood_as is None


@pytest.mark.slow
def test_a_short_english_follow_up_is_read_with_the_previous_question(corpus_kb):
    # "how much per month?" after an unemployment-benefit question was "not found": English follow-ups were never
    # short (only Chinese ones were), so it was read alone.
    conversation = Conversation(corpus_kb)
    conversation.ask("How long can I get unemployment benefit?")
    reply = conversation.ask("how much per month?")
    assert reply.status != NOT_FOUND and reply.understood_as and "unemployment benefit" in reply.understood_as


@pytest.mark.slow
def test_as_sure_the_reading_whose_quote_speaks_of_the_topic_wins(corpus_kb):
    # Web QA, fourteenth session: 能带小孩吗 after 电动车几岁能骑 quoted the school-bus article (第十条), read with the
    # regulation's title; the title-and-nouns reading, as sure (0.55), quotes 第二十二条 on 电动自行车 and children.
    conversation = Conversation(corpus_kb)
    conversation.ask("电动车几岁能骑")
    reply = conversation.ask("能带小孩吗")
    assert reply.citations[0].article == "第二十二条" and "十二周岁以下" in reply.answer


@pytest.mark.slow
def test_a_follow_up_asking_a_date_is_read_with_the_conversations_article(corpus_kb):
    # 第一趟啥时候开的？ after a question on the district's international freight trains was "not found": as asked
    # it names nothing the documents say (趟), and the reading with the subject, which quotes the first train's date,
    # lost to it. An off-topic question asking a time stays not found in the same conversation.
    conversation = Conversation(corpus_kb)
    conversation.ask("听说上街开了国际班列？")
    reply = conversation.ask("第一趟啥时候开的？")
    assert reply.status != NOT_FOUND and "2021年12月2日" in reply.answer
    assert conversation.ask("明天几点下雨？").status == NOT_FOUND

