"""The three outcomes on the real bundled model: answered with the fact, related when a detail is never given,
not found off topic; colloquial and one-word questions; the kb-bot calibrate / eval round trip."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kb_bot.answering.answer import ANSWERED, NOT_FOUND, RELATED
from kb_bot.answering.answer_model import load_model
from kb_bot.cli import main
from kb_bot.answering.evaluation import answer_outcomes, load_questions

from conftest import SEED_QUESTIONS

pytestmark = pytest.mark.slow


def _quotes(answer) -> str:
    """What the reply quotes: the answer, or the closest sentences of a related reply."""
    return "".join(s.text for s in answer.sentences)


def test_seed_questions_never_answered_wrongly_and_the_reply_quotes_the_fact(real_kb):
    questions = load_questions(SEED_QUESTIONS)
    answers = [real_kb.ask(q.question) for q in questions]
    report = answer_outcomes(questions, answers)
    assert report.wrong == ()  # no question the articles cannot answer is presented as answered
    answerable = [(q, a) for q, a in zip(questions, answers) if q.answerable]
    refused = [q.question for q, a in answerable if a.status == NOT_FOUND]
    assert len(refused) <= 0.05 * len(answerable), refused
    quoted = [q.question for q, a in answerable if any(e in _quotes(a) for e in q.expect)]
    assert len(quoted) >= 0.80 * len(answerable)  # answered, or the closest sentence of a related reply (0.848)
    for _, answer in answerable:
        if answer.status == ANSWERED:
            assert answer.found and answer.citations and answer.citations[0].span
        else:
            assert "最接近的内容" in answer.answer or "closest" in answer.answer


@pytest.mark.parametrize("question", ["企业缺人手区里能帮忙吗", "工厂停电停水找谁", "盾构厂投产了没有",
                                      "国际班列以后会多吗", "招工", "教师工资", "缺钱怎么办"])
def test_colloquial_and_one_word_questions_are_not_refused(real_kb, question):
    answer = real_kb.ask(question)
    assert answer.status != NOT_FOUND, answer.answer
    assert answer.citations


@pytest.mark.parametrize("question, fact", [("开发区帮企业贷了多少钱？", "2600万元"),
                                            ("招聘会帮企业招到了多少人？", "300余人"),
                                            ("招工", "招聘")])
def test_the_sentence_with_the_asked_fact_is_quoted(real_kb, question, fact):
    answer = real_kb.ask(question)
    assert fact in _quotes(answer), answer.answer


@pytest.mark.parametrize("question, missing", [("银企对接平台的贷款利率是多少？", "利率"),
                                               ("开发区招聘会的报名电话是多少？", "电话")])
def test_a_detail_the_articles_never_give_is_named_as_missing(real_kb, question, missing):
    answer = real_kb.ask(question)
    assert answer.status == RELATED, answer.answer
    assert answer.citations and missing in (answer.missing or "") and missing in answer.answer


def test_a_procedure_the_articles_never_describe_is_not_answered(real_kb):
    answer = real_kb.ask("智能化改造补贴怎么申请，要交哪些材料？")
    assert answer.status != ANSWERED, answer.answer


def test_english_questions_over_chinese_articles_are_never_presented_as_answered(real_kb):
    answer = real_kb.ask("How much loan financing did the development zone help companies get?")
    assert answer.status == RELATED and answer.citations
    assert real_kb.ask("What is the VAT rate for small businesses in Shangjie?").status != ANSWERED


def test_an_english_not_found_names_the_topics_in_english(real_kb):
    reply = real_kb.ask("How do I renew my driver's license in Zhengzhou?")
    assert reply.status == NOT_FOUND and reply.suggestions
    assert reply.answer.startswith("Sorry") and not any("\u4e00" <= ch <= "\u9fff" for ch in reply.answer)
    assert "\u4e00" <= reply.suggestions[0][0] <= "\u9fff"  # the names stay Chinese: the web maps them to buttons


def test_off_topic_question_is_not_found_with_suggestions(real_kb):
    answer = real_kb.ask("退休以后每个月养老金能领多少？")
    assert answer.status == NOT_FOUND and answer.suggestions and not answer.citations


def test_eval_reports_the_three_outcomes(real_kb, capsys):
    settings = real_kb.settings
    code = main(["eval", str(SEED_QUESTIONS), "--json", "--documents", str(settings.documents),
                 "--index", str(settings.index)])
    payload = json.loads(capsys.readouterr().out)
    assert code == 0
    answers = payload["answers"]
    assert answers["answerable"]["questions"] == 46 and answers["unanswerable"]["questions"] == 20
    assert abs(sum(answers["answerable"][k] for k in ("answered", "related", "not_found")) - 1) < 1e-6
    assert answers["unanswerable"]["answered"] == 0


def test_calibrate_refits_with_staff_questions_and_the_app_uses_the_refit(real_kb, tmp_path, capsys):
    settings = real_kb.settings
    index = tmp_path / "index"
    code = main(["build", "--documents", str(settings.documents), "--index", str(index)])
    assert code == 0
    labelled = tmp_path / "staff.jsonl"
    lines = [json.loads(line) for line in SEED_QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
    labelled.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in lines[:30]) + "\n", encoding="utf-8")
    capsys.readouterr()
    args = ["--documents", str(settings.documents), "--index", str(index)]
    code = main(["calibrate", str(labelled), *args])
    out = capsys.readouterr().out
    assert "before:" in out and "after:" in out and "staff/answerable" in out
    # a refit that answers these questions worse than the model in use is shown, not put in use
    assert (code == 0) == ("saved" in out and "not saved" not in out)
    assert bool(list(Path(index).glob("answerability-*.json"))) == (code == 0)
    for stale in Path(index).glob("answerability-*.json"):
        stale.unlink()
    from kb_bot.answering import calibration

    with pytest.MonkeyPatch.context() as patch:  # the refusal, whatever this refit scores
        patch.setattr(calibration, "_worse", lambda was, now: "it answers fewer (test)")
        assert main(["calibrate", str(labelled), *args]) == 1
    out = capsys.readouterr().out
    assert "not saved: it answers fewer (test)" in out and "--force" in out
    assert not list(Path(index).glob("answerability-*.json"))
    assert main(["calibrate", str(labelled), "--force", *args]) == 0
    refit = list(Path(index).glob("answerability-*.json"))
    assert len(refit) == 1 and json.loads(refit[0].read_text(encoding="utf-8"))["info"]["staff_questions"] == 30
    model_id = real_kb.retriever.index.manifest.model_id
    assert load_model(model_id, [index]).info["staff_questions"] == 30  # what the app loads for this index
    capsys.readouterr()
    assert main(["calibrate", "--undo", *args]) == 0 and "shipped model again" in capsys.readouterr().out
    assert not list(Path(index).glob("answerability-*.json")) and "staff_questions" not in load_model(model_id, [index]).info


def test_a_refit_answering_the_staff_questions_worse_is_not_saved():
    from kb_bot.answering.calibration import Outcomes, _worse

    def result(facts: int, wrong: int) -> Outcomes:
        outcome = Outcomes()
        for i in range(10):
            outcome.add("staff/answerable", "answered" if i < facts else "related", i < facts)
            outcome.add("staff/near", "answered" if i < wrong else "related", False)
        return outcome

    assert _worse(result(5, 1), result(4, 1)) == "it answers fewer of your answerable questions with their fact (5 -> 4)"
    assert _worse(result(5, 1), result(6, 2)) == "it answers more of your unanswerable questions (1 -> 2)"
    assert _worse(result(5, 1), result(6, 0)) is None and _worse(result(5, 1), result(5, 1)) is None
    misquoting = result(5, 1)
    misquoting.add("staff/answerable", "answered", False)  # one more answered, without its fact
    base = result(5, 1)
    base.add("staff/answerable", "related", False)
    assert _worse(base, misquoting) == "it answers more of your answerable questions without their fact (0 -> 1)"


def test_an_unusable_question_file_says_what_to_do(tmp_path):
    from kb_bot.answering.evaluation import load_questions
    from kb_bot.errors import KbBotError

    (tmp_path / "empty.jsonl").write_text("", encoding="utf-8")
    (tmp_path / "utf16.jsonl").write_bytes('{"question": "x", "expect": []}'.encode("utf-16"))
    for name in ("missing.jsonl", "empty.jsonl", "utf16.jsonl", "."):
        with pytest.raises(KbBotError) as error:
            load_questions(tmp_path / name)
        assert error.value.hint, name  # QA, thirteenth session: these had no hint line


def test_a_labelled_line_without_its_expected_strings_or_question_is_refused(tmp_path):
    from kb_bot.answering.evaluation import load_questions
    from kb_bot.errors import KbBotError

    path = tmp_path / "q.jsonl"
    for line, said in (('{"question": "取暖补贴多少钱"}', '"expect": []'), ('{"question": " ", "expect": []}', "empty")):
        path.write_text('{"question": "ok", "expect": []}\n' + line + "\n", encoding="utf-8")
        with pytest.raises(KbBotError) as error:
            load_questions(path)
        assert f"{path}:2" in str(error.value) and said in str(error.value)


# --------------------------------------------------------------------------- what a QA session's citizens asked


def test_a_vat_question_is_not_answered_with_the_income_tax_rates(corpus_kb):
    # The English table read VAT as 所得税 too, and the regulations give income tax rates for small firms.
    assert corpus_kb.ask("What is the VAT rate for small businesses in Shangjie?").status != ANSWERED


def test_a_lead_in_promising_a_list_is_quoted_with_its_items(corpus_kb):
    # QA, twelfth session: the rental registration article's lead-in (…持下列材料或证件…申请登记备案：) was quoted
    # without the materials it announces.
    reply = corpus_kb.ask("租房备案要带啥")
    assert "持下列材料或证件" in reply.answer and "（一）出租人和承租人的身份或资格证明" in reply.answer


def test_everyday_words_for_a_receipt_and_eating_reach_the_rules(corpus_kb):
    # QA, twelfth session: 收据 is what the rental regulation calls 票据, and 吃早饭 its metro rule's 进食.
    receipt = corpus_kb.ask("房东不给开收据，房租我能不交吗")
    assert receipt.status == ANSWERED and "拒付租金" in receipt.answer
    assert "在列车车厢内进食" in corpus_kb.ask("地铁上能吃早饭吗").answer


def test_everyday_words_for_noise_and_pay_in_kind_reach_the_rules(corpus_kb):
    # QA, twentieth session: 夜里装修吵人管不管 came back "not found" (0.0003) with the property regulation's 噪音 item
    # ranked first; 工资发购物卡行不 quoted a construction-market article. 吵人 is 噪音, a shopping card 实物 (非货币形式).
    noise = corpus_kb.ask("夜里装修吵人管不管")
    assert noise.status != "not_found" and "噪音" in noise.answer, noise.answer
    # 高空抛物 is word for word in one item of the property regulation only (BM25 15.9 against 3.85); the dense list
    # put four fine clauses of other regulations above it, and the question came back "not found"
    throwing = corpus_kb.ask("高空抛物罚不罚")
    assert throwing.status != "not_found" and "物业管理条例" in throwing.citations[0].title, throwing.answer
    card = corpus_kb.ask("工资发购物卡行不")
    assert "不得以实物等非货币形式支付" in card.answer and card.citations[0].article == "第二十六条", card.answer


def test_a_fine_is_never_given_as_the_price_of_a_licence(corpus_kb):
    # 办个狗证多少钱 was answered 0.75 with the forgery fine (处以二千元罚款); asking for the fine is answered.
    assert corpus_kb.ask("办个狗证多少钱").status != ANSWERED
    fine = corpus_kb.ask("伪造狗证罚多少钱")
    assert fine.status == ANSWERED and "二千元罚款" in fine.answer


def test_a_limit_asked_with_zui_is_answered_and_never_refused(corpus_kb):
    # 最长 / 最多 ask for the limit: they were the heaviest word "missing", so the rule asked about came back
    # "not found" (遛狗绳子最长多长, rule ranked first) or only related (物业费最多能预交多久).
    leash = corpus_kb.ask("遛狗绳子最长多长")
    assert leash.status != NOT_FOUND and "犬链全长" in _quotes(leash)
    prepay = corpus_kb.ask("物业费最多能预交多久")
    assert prepay.status == ANSWERED and "预收期限最长不得超过一年" in prepay.answer


def test_a_quote_skipping_part_of_an_article_says_so(corpus_kb):
    months = corpus_kb.ask("失业金能领几个月")
    assert "最长为十二个月；……重新就业后" in months.answer  # items (二) and (三) lie between


def test_a_quoted_list_item_comes_with_the_sentence_opening_the_list(corpus_kb):
    # QA: item (二) alone answered 装修能在承重墙上开门吗 — whether it is forbidden or allowed was nowhere in the reply.
    answer = corpus_kb.ask("装修能在承重墙上开门吗")
    assert "禁止实施下列危害房屋使用安全的行为：……（二）在承重墙上开挖" in answer.answer


def test_a_superseded_version_is_found_but_never_the_answer(corpus_kb):
    # The 2017 advertising text stops after 第七条: the 2005 rules are found again (they sank below every passage),
    # quoted with their mark, and never given as the answer however sure the model is (0.95 here).
    answer = corpus_kb.ask("申请设置户外广告应当提交哪些证件和资料")
    assert answer.status == RELATED and answer.citations[0].status == "superseded"
    assert "申请书" in answer.answer


def test_a_bare_topic_naming_a_detail_is_not_answered_without_it(corpus_kb):
    # QA, fourteenth session: 燃气公司电话 was answered 0.998 by "燃气企业应当…公布抢险、抢修电话" (no number) and 禁烟罚款
    # 1.0 by the fine-receipt article (no sum): a bare topic naming a phone or a fine asks for it. A bare topic
    # that names none is still answered with what the documents say of it.
    assert corpus_kb.ask("燃气公司电话").status != ANSWERED
    assert corpus_kb.ask("禁烟罚款").status != ANSWERED
    assert corpus_kb.ask("招工").status == ANSWERED


def test_a_detail_missing_from_the_quote_but_named_elsewhere_in_its_document_is_shown(corpus_kb):
    # QA, fourteenth session: "找到的原文中没有提到“收费”" above two articles of the emergency-care regulation, whose
    # 第二十四条 does speak of fees; citizens read the line as "the documents do not say".
    reply = corpus_kb.ask("打120要收费吗")
    assert reply.status == RELATED and reply.missing is None
    assert "最接近的原文没有直接回答" in reply.answer and "《郑州市社会急救医疗条例》提到了“收费”：第二十四条" in reply.answer
    assert reply.answer.index("[1]") < reply.answer.index("[3]")  # cited in order, the detail after the closest
    extra = reply.citations[-1]
    # the sentence saying it, 收取费用 (web QA: the first version quoted 收费标准应当向社会公示 for its literal 收费)
    assert extra.article == "第二十四条" and "标准收取费用" in extra.text[extra.span[0]:extra.span[1]]
    # the CLI's conversation gives the same reply (it does not go through KnowledgeBase.ask)
    from kb_bot.answering.conversation import Conversation

    assert Conversation(corpus_kb).ask("打120要收费吗").answer == reply.answer
    assert reply.sentences[-1].citation == len(reply.citations) - 1
    # a detail no passage of the quoted documents names keeps the honest line
    rate = corpus_kb.ask("银企对接平台贷款利率多少")
    assert rate.status != ANSWERED and "提到了“" not in rate.answer
    # review, fourteenth session: a passage naming the word but not the subject is no evidence (交接手续 of village
    # accountants for a housing-fund question), nor a word that is no detail (处理), nor a fine for a fee
    for question in ("公积金咋提取 需要啥手续？", "在郑韩故城遗址上放烟花会怎么处理？", "找律师咨询一下要收费吗"):
        assert "提到了“" not in corpus_kb.ask(question).answer, question


def test_a_related_reply_to_a_number_asked_in_a_unit_quotes_the_sentence_carrying_it(corpus_kb):
    # 水表过户几天能办好 quoted the article's first sentence (更名、过户…应当申请办理有关手续) and not the one saying within
    # how many working days (fourteenth session: the closest sentences carry the unit asked when one was found).
    reply = corpus_kb.ask("水表过户几天能办好？")
    assert reply.status != NOT_FOUND and "五个工作日内" in reply.answer


def test_the_wider_search_of_a_related_reply_reuses_the_questions_vector(corpus_kb):
    # The elsewhere search re-asks the question; within one question's handling its vector is remembered
    # (retrieval.remembering_queries), so the reply costs one embedding of the question, not two.
    retriever = corpus_kb.retriever
    original, asked = retriever.embedder, []

    class Counting:
        def embed_passages(self, texts):
            return original.embed_passages(texts)

        def embed_queries(self, texts):
            asked.extend(texts)
            return original.embed_queries(texts)

    retriever.embedder = Counting()
    try:
        reply = corpus_kb.ask("打120要收费吗")
    finally:
        retriever.embedder = original
    assert "提到了“收费”" in reply.answer  # the wider search ran
    assert asked == ["打120要收费吗"], asked


def test_the_answer_threshold_chosen_on_citizens_and_reviewed_questions_answers_none_the_reviews_caught(corpus_kb):
    # benchmarks/choose_answer_threshold.py first chose 0.61, then 0.69; two reviews' questions, labelled from the
    # documents, found about one wrong answer for each right one below 0.723, and with them the fitted threshold
    # stands. These were answered wrongly at the lower thresholds (all of them are in the validation questions).
    model = corpus_kb.answer_model()
    assert model.info["answer_threshold_from"].startswith("citizen questions")
    assert model.answer_threshold == model.info["answer_threshold_fitted"]
    for question in ("最低工资是多少", "土葬罚多少钱", "公房租金多少", "高新企业奖励多少"):
        assert corpus_kb.ask(question).status != ANSWERED, question


def test_a_follow_up_read_with_the_subject_needs_the_validation_threshold(corpus_kb):
    # 不戴罚多少？ after the helmet question, read with the traffic regulation's title, reached 0.68 with a car driver's
    # fine (第三十九条): above the 0.61 first chosen on stand-alone questions, below the validation split's, which
    # follow-ups keep (AnswerModel.follow_up_threshold) whatever the shipped threshold.
    from kb_bot.answering.conversation import Conversation

    conversation = Conversation(corpus_kb)
    conversation.ask("骑电动车必须戴头盔吗？")
    reply = conversation.ask("不戴罚多少？")
    assert not (reply.status == ANSWERED and "机动车驾驶人" in reply.answer), reply.answer


def test_a_fine_asked_for_a_quoted_rule_brings_the_clause_sanctioning_it():
    # The penalty clause names the rule by number (违反本条例…第十八条…处以二百元以上五百元以下罚款): a question about
    # the fine whose quote is the rule itself (携犬出户应当…束犬链) gets it after the closest passages, still related.
    from dataclasses import replace

    from kb_bot.answering.answer import Answer, AnswerSentence, Citation
    from kb_bot.answering.elsewhere import sanction_of_quoted_rule
    from kb_bot.chunking import Chunk

    doc, title = "regulations/dogs.md", "郑州市城市养犬管理条例"
    rule = Citation(doc, title, None, None, "第十八条 携犬出户应当束犬链。", (0, 16), 0.5, "c18", article="第十八条",
                    kind="regulation")
    reply = Answer("不拴绳罚多少？", False, "不能确定找到的原文是否回答了这个问题。最接近的内容（请核对是否回答了您的问题）：第十八条 携犬出户应当束犬链。[1]",
                   (rule,), sentences=(AnswerSentence("第十八条 携犬出户应当束犬链。", 0),), status=RELATED)

    def chunk(cid, article, text):
        return Chunk(cid, doc, title, None, None, text, 0, len(text), 0, article=article, kind="regulation")

    chunks = [chunk("c18", "第十八条", "第十八条 携犬出户应当束犬链。"),
              chunk("c26", "第二十六条", "第二十六条 违反本条例第十四条规定的，处以一万元以上二万元以下罚款。"),
              chunk("c28", "第二十八条", "第二十八条 违反本条例第二十八条规定的，处以三千元罚款。"),
              chunk("c27", "第二十七条", "第二十七条 违反本条例第十五条或者第十八条规定的，处以二百元以上五百元以下罚款。"),
              chunk("c29", "第二十九条", "第二十九条 违反本条例第十七条除第四项以外的其他规定的，处以一百元罚款。"),
              chunk("c30", "第三十条", "第三十条 违反本条例第十六条第二款规定的，处以五十元罚款。")]
    linked = sanction_of_quoted_rule(reply, lambda d: [c for c in chunks if c.doc == d])
    assert linked.status == RELATED and "二百元以上五百元以下罚款" in linked.answer and "一万元" not in linked.answer
    assert "规定了违反第十八条的处罚：第二十七条" in linked.answer and linked.citations[-1].article == "第二十七条"
    # not for a question that asks no fine, nor when the quote states a sanction already
    assert sanction_of_quoted_rule(replace(reply, question="要拴绳吗？"), lambda d: chunks).answer == reply.answer
    fined = replace(reply, sentences=(AnswerSentence("处以二百元罚款。", 0),))
    assert sanction_of_quoted_rule(fined, lambda d: chunks) is fined
    # ...but a quoted fine for other articles only is not the rule's own (在地铁里吃东西罚多少 quoted the operator's
    # fines, 第五十五条, with the rule): the rule's sanction is still found, citing it without 本条例 too
    operator = Citation(doc, title, None, None, "第五十五条", (0, 5), 0.4, "c55", article="第五十五条", kind="regulation")
    other = replace(reply, citations=(rule, operator), sentences=(
        *reply.sentences, AnswerSentence("第五十五条 经营单位有下列行为之一的，处以一千元以上一万元以下罚款：", 1),
        AnswerSentence("（一）违反本条例第二十三条规定，未履行服务职责的；", 1)))
    items = [*chunks[:3], chunk("c27", "第二十七条", "（三）违反第十五条、第十八条规定的，处以二百元以上五百元以下罚款。")]
    assert "规定了违反第十八条的处罚" in sanction_of_quoted_rule(other, lambda d: items).answer

    # a clause citing the article as an exception (除第四项以外) or one of its paragraphs (第二款) is not its sanction,
    # and two clauses citing it leave it open (review: 不带会被罚吗？ about item four got the fine that excludes it)
    def asked_of(article):
        return replace(reply, citations=(replace(rule, article=article),))

    for article in ("第十七条", "第十六条"):
        assert sanction_of_quoted_rule(asked_of(article), lambda d: chunks).answer == reply.answer, article
    twice = [*chunks, chunk("c31", "第三十一条", "第三十一条 违反本条例第十八条规定，情节严重的，处以一千元罚款。")]
    assert sanction_of_quoted_rule(reply, lambda d: twice).answer == reply.answer


def test_a_fine_asked_for_a_rule_of_the_corpus_quotes_the_clause_citing_it_whole(corpus_kb):
    from kb_bot.answering.conversation import Conversation

    # a job advert that misstates the pay: the quote is the rule (第十八条), the fine is 第三十一条, which cites it whole
    reply = corpus_kb.ask("我们公司招人的简章上写的待遇跟实际不一样，会挨罚吗？")
    assert reply.status == RELATED and "规定了违反第十八条的处罚：第三十一条" in reply.answer, reply.answer
    assert "每招收一人处以五百元罚款" in reply.answer
    # the dog regulation's 第二十七条 sanctions 第十八条 "除第四项以外": the review's 不带会被罚吗？ about item four is
    # not given it
    conversation = Conversation(corpus_kb)
    conversation.ask("携犬出户要带清洁用具吗")
    assert "规定了违反第十八条的处罚" not in conversation.ask("不带会被罚吗？").answer


@pytest.mark.parametrize("opening, follow_up", [
    ("公共场所能抽烟吗", "违反了罚多少？"),  # was: the forest regulation's fine for 违反本条例
    ("狗在小区里拉屎主人要清理吗", "不清理罚多少？"),  # was: a heritage site's 拒不清理的…五十元 fine
    ("狗能坐电梯吗", "不戴嘴套会被罚吗？"),  # was: the lift rule with the fine for a dead dog (第二十二条)
    ("单位能拖欠工资吗", "拖欠了怎么罚"),  # was: an inspection rule with 法律、法规有处罚规定的，从其规定
])
def test_a_fine_asked_in_a_conversation_is_never_answered_with_the_fine_for_other_conduct(corpus_kb, opening,
                                                                                          follow_up):
    # A review (eighteenth session, 65 penalty questions labelled from the regulations) found these answered
    # 0.74-0.78 with a fine for something else; the fine for the conduct asked is in none of those quotes.
    from kb_bot.answering.conversation import Conversation

    conversation = Conversation(corpus_kb)
    first = conversation.ask(opening)
    reply = conversation.ask(follow_up)
    assert reply.status != ANSWERED, (reply.confidence, reply.answer)
    if first.citations and first.citations[0].kind == "regulation":  # the regulation spoken of, not another
        assert reply.citations[0].title == first.citations[0].title, reply.answer


def test_a_reply_never_quotes_a_regulations_amendment_history_or_a_number_for_a_fee(corpus_kb):
    from kb_bot.answering.conversation import Conversation

    # review, eighteenth session: 那要多久？ after a gas hook-up question quoted two 修正 lines as the closest content
    conversation = Conversation(corpus_kb)
    conversation.ask("新房子开通燃气怎么申请")
    reply = conversation.ask("那要多久？")
    assert "人民代表大会常务委员会" not in reply.answer, reply.answer
    # ...and 叫120急救车要钱吗 was "answered" by the articles on the number 120, which say nothing of a fee
    assert corpus_kb.ask("叫120急救车要钱吗").status != ANSWERED
