"""Which rule a penalty clause sanctions (kb_bot.sanctions), and the related reply that quotes it for a fine asked."""

from __future__ import annotations

import pytest

from kb_bot.answering.answer import ANSWERED, RELATED
from kb_bot.sanctions import Scope, items, items_of, numeral, scope


@pytest.mark.parametrize("text, value", [("十", 10), ("十三", 13), ("二十", 20), ("二十七", 27), ("一百零五", 105), ("12", 12)])
def test_numerals_read_as_published(text, value):
    assert numeral(text) == value


@pytest.mark.parametrize("clause, article, expected", [
    ("（三）违反本条例第三十一条规定的，处以二十元以上一百元以下罚款。", "第三十一条", Scope()),
    ("违反第二十二条第一款、第二十四条第二款，第二十九条第二、三项规定的，处以二十元以上五十元以下罚款；", "第二十九条",
     Scope(items=frozenset({2, 3}))),
    ("违反本条例第二十七条第四项至第八项规定，损害古树名木的", "第二十七条", Scope(items=frozenset({4, 5, 6, 7, 8}))),
    ("违反本条例第十五条第（三）、（四）项规定的，处以五十元罚款", "第十五条", Scope(items=frozenset({3, 4}))),
    ("违反本条例第十四条第二款第一、二、三项规定的", "第十四条", Scope(items=frozenset({1, 2, 3}))),
    ("违反本条例第十五条第一款、第二款或者第十八条除第四项以外的其他规定的", "第十八条", Scope(excepted=frozenset({4}))),
    ("违反本条例第十五条第一款、第二款或者第十八条除第四项以外的其他规定的", "第十五条", Scope(partial=True)),
    ("违反本条例第三十条、第三十一条第四项规定的", "第三十条", Scope()),
    # no 规定 after the citations: the run ends at the first other word
    ("第三十一条 违反本条例第十八条、第十九条，不如实介绍用人单位情况的，处以五百元罚款。", "第十八条", Scope()),
    ("违反本条例第二十条规定的", "第二条", None),  # 第二十条 is not 第二条
    ("违反《中华人民共和国治安管理处罚法》第二十条", "第二十条", None),  # another law
    ("违反本条例规定，除第五十七条外", "第五十七条", None),  # no breach cited
])
def test_a_clause_says_which_articles_and_items_it_sanctions(clause, article, expected):
    assert scope(clause, article) == expected


def test_a_scope_covers_an_item_only_as_cited():
    assert Scope().covers(None) and Scope().covers(3)
    all_but_four = Scope(excepted=frozenset({4}))
    assert all_but_four.covers(1) and not all_but_four.covers(4)
    assert not all_but_four.covers(None)  # the item not known: the clause may be the one excluding it
    assert Scope(items=frozenset({2, 3})).covers(2) and not Scope(items=frozenset({2, 3})).covers(None)
    assert not Scope(partial=True).covers(None) and not Scope(partial=True).covers(1)


def test_the_item_a_conduct_falls_under_is_the_one_speaking_of_it_alone():
    rule = "第十八条 携犬出户应当遵守下列规定：\n（一）携带养犬证，犬只束犬链；\n（二）避让老年人；\n（四）携带清洁用具；"
    assert set(items(rule)) == {1, 2, 4}
    assert items_of(rule, lambda text: float("犬链" in text)) == {1}
    assert items_of(rule, lambda text: float("携带" in text)) == {1, 4}  # two items speak of it: no one item
    assert items_of(rule, lambda text: 0.0) == frozenset()
    assert items_of("第九条 每户只准饲养一只犬。", lambda text: 1.0) == frozenset()  # no items


def test_items_a_conduct_may_fall_under_are_read_beyond_the_lead_in_and_one_clause_must_cover_them_all():
    # 带狗坐地铁罚多少: （六）乘坐…地铁 and （七）进入…地铁站 speak of it alike; every item names the dog, as does the
    # lead-in (携犬出户), so the dog tells no item apart. The fine is known: 第二十七条 covers both (not item four).
    rule = ("第十八条 携犬出户应当遵守下列规定：\n（一）携带养犬证，犬只束犬链；\n（四）及时清除犬只排泄物；\n"
            "（六）犬只不得乘坐地铁；\n（七）犬只不得进入地铁站；")
    said = lambda text: (("犬" in text) + ("地铁" in text)) / 2  # noqa: E731  (the conduct 带狗坐地铁, as mentions reads it)
    assert items_of(rule, said) == {6, 7}
    all_but_four = Scope(excepted=frozenset({4}))
    assert all_but_four.covers_all(frozenset({6, 7})) and not all_but_four.covers_all(frozenset({4, 6}))
    assert not all_but_four.covers_all(frozenset())  # no item known: as covers(None)
    assert not Scope(items=frozenset({6})).covers_all(frozenset({6, 7}))  # a clause for one of them says nothing of the other
    # what the lead-in says tells no item apart: (四) names the dog as the lead-in does, (六) the metro it does not
    rule = "第十八条 携犬出户应当遵守下列规定：\n（四）及时清除犬只排泄物；\n（六）不得乘坐地铁；"
    assert items_of(rule, said) == {6}  # scored on the item alone, (四) and (六) tie and no fine is found


def _reply(question, quoted):
    from kb_bot.answering.answer import Answer, AnswerSentence, Citation

    citations = tuple(Citation("dogs.md", "郑州市城市养犬管理条例", None, None, text, (0, len(text)), 0.5, cid,
                               article=article, kind="regulation") for cid, article, text in quoted)
    return Answer(question, False, "不能确定找到的原文是否回答了这个问题。最接近的内容（请核对是否回答了您的问题）：" +
                  "".join(f"{text}[{i + 1}]" for i, (_, _, text) in enumerate(quoted)), citations,
                  sentences=tuple(AnswerSentence(text, i) for i, (_, _, text) in enumerate(quoted)), status=RELATED)


def test_a_fine_asked_gets_the_clause_for_the_item_of_the_rule_a_search_finds():
    from kb_bot.answering.elsewhere import sanction_of_quoted_rule
    from kb_bot.chunking import Chunk

    def chunk(cid, article, text):
        return Chunk(cid, "dogs.md", "郑州市城市养犬管理条例", None, None, text, 0, len(text), 0, article=article,
                     kind="regulation")

    rule = chunk("c18", "第十八条", "第十八条 携犬出户应当遵守下列规定：\n（一）犬只束犬链；\n（四）携带清洁用具；")
    leash = chunk("c27", "第二十七条", "第二十七条 违反本条例第十八条除第四项以外的其他规定的，处以二百元以上五百元以下罚款。")
    farm = chunk("c26", "第二十六条", "第二十六条 违反本条例第十四条规定的，处以一万元以上二万元以下罚款。")
    scare = chunk("c29", "第二十九条", "第二十九条 放任犬只恐吓他人的，由公安机关依照《中华人民共和国治安管理处罚法》予以处罚。")
    chunks = [rule, farm, leash, scare]
    # 遛狗不拴绳会被罚吗 quoted two penalty clauses for other conduct; a search for the conduct finds 第十八条
    reply = _reply("遛狗不拴绳会被罚吗", [("c26", "第二十六条", farm.text), ("c29", "第二十九条", scare.text)])
    on_leash = {"犬链": 1.0}

    def mentions(text):
        return max((v for k, v in on_leash.items() if k in text), default=0.0)

    linked = sanction_of_quoted_rule(reply, lambda d: chunks, lambda: [farm, rule], mentions)
    assert linked.status == RELATED and "规定了违反第十八条第（一）项的处罚：第二十七条" in linked.answer
    assert linked.citations[-1].article == "第二十七条"
    # the fines quoted for other conduct go: shown first, the dog-farm fine read as the answer
    assert [c.article for c in linked.citations] == ["第二十七条"] and "一万元" not in linked.answer
    assert linked.answer.endswith("[1]") and [s.citation for s in linked.sentences] == [0]
    # a quoted rule stays, renumbered before the fine line
    reply = _reply("遛狗不拴绳会被罚吗", [("c26", "第二十六条", farm.text), ("c18", "第十八条", rule.text)])
    linked = sanction_of_quoted_rule(reply, lambda d: chunks, lambda: [rule], mentions)
    assert [c.article for c in linked.citations] == ["第十八条", "第二十七条"], linked.answer
    assert "束犬链" in linked.answer and "[1]" in linked.answer and linked.answer.endswith("[2]")
    # item four is excepted: a conduct falling under it gets no fine
    on_leash = {"清洁用具": 1.0}
    assert sanction_of_quoted_rule(reply, lambda d: chunks, lambda: [rule], mentions).answer == reply.answer
    # a rule the conduct is not spoken of in is not looked at; nor without a way to tell (no mentions)
    on_leash = {}
    assert sanction_of_quoted_rule(reply, lambda d: chunks, lambda: [rule], mentions).answer == reply.answer
    assert sanction_of_quoted_rule(reply, lambda d: chunks, lambda: [rule]).answer == reply.answer


@pytest.mark.parametrize("question, article", [
    ("遛狗不拴绳会被罚吗", "第二十七条"),  # 第十八条（一） found by the search, fined by 第二十七条 (all but item four)
    ("在地铁里吃东西罚多少", "第五十七条"),  # 第三十一条（六）, fined by 第五十七条（三）
    ("What is the fine for eating on the metro?", "第五十七条"),  # English: the quoted rule's whole-article fine
    ("带狗坐地铁罚多少", "第二十七条"),  # 第十八条（六）or（七）, both fined by 第二十七条 (the dog-farm fine was all it quoted)
])
def test_a_fine_for_a_rule_of_the_corpus_is_quoted_with_the_related_reply(corpus_kb, question, article):
    from kb_bot.answering.conversation import answer_in_context

    reply = answer_in_context(corpus_kb, question)
    assert reply.status != ANSWERED and article in [c.article for c in reply.citations], reply.answer
    assert "的处罚：" in reply.answer or "sets the penalty for breaking" in reply.answer


def test_an_item_ends_at_its_line_and_an_exemption_from_it_is_read():
    from kb_bot.sanctions import chinese_numeral, exempted

    # review: the last item took the paragraphs after it, so the guide-dog exemption's words made item eight win
    rule = ("第十八条 携犬出户应当遵守下列规定：\n\n（一）犬只束犬链；\n\n（八）不得携犬进入市场。\n\n"
            "残疾人携带导盲犬、扶助犬的，不受本条第一款第六项至第八项规定的限制。")
    assert items(rule)[8] == "不得携犬进入市场。"
    assert exempted(rule, 8, lambda party: "导盲犬" in party)
    assert not exempted(rule, 1, lambda party: "导盲犬" in party)  # item one is not exempted
    assert not exempted(rule, 8, lambda party: False) and not exempted(rule, None, lambda party: True)
    assert [chinese_numeral(n) for n in (1, 10, 13, 20, 27)] == ["一", "十", "十三", "二十", "二十七"]
    assert scope("违反本规定第四条规定的，处一千元罚款", "第四条") == Scope()  # 本规定, 本办法 as 本条例


def test_fine_questions_in_english_and_follow_ups_naming_a_telling_conduct():
    from kb_bot.answering.followup import fine_for_what_was_said
    from kb_bot.answering.fine_guards import PENALTY_ASKED

    assert PENALTY_ASKED.search("What is the fine for walking a dog without a leash?")
    assert not PENALTY_ASKED.search("Is it fine to walk my dog in the park?")  # the adjective (review)
    # a follow-up naming a conduct in a telling word leaves the conversation's regulation (拒载 after a dog question)
    assert not fine_for_what_was_said("拒载罚多少？") and not fine_for_what_was_said("拖欠工资罚多少？")
    assert fine_for_what_was_said("不清理罚多少？") and fine_for_what_was_said("违反了罚多少？")


@pytest.mark.parametrize("turns, fined", [
    (["盲人带导盲犬坐公交会被罚款吗"], False),  # exempt from item six: no fine line (review)
    (["狗不拴绳罚多少"], True),  # the registration fine names 犬 only: not the quote's own sanction
    (["遛狗要拴绳吗", "拒载罚多少？"], False),  # the taxi regulation's own fine, not the dog regulation's
])
def test_the_fine_line_follows_the_conduct_asked(corpus_kb, turns, fined):
    from kb_bot.answering.conversation import Conversation

    conversation = Conversation(corpus_kb)
    for question in turns:
        reply = conversation.ask(question)
    assert ("规定了违反第十八条" in reply.answer) == fined, reply.answer
    if turns[-1] == "拒载罚多少？":
        assert "出租汽车" in reply.citations[0].title, reply.answer
