"""Guards: the rules on top of the answer models. A quote is no answer, however sure the models are, when

* the question names a detail (利率, 电话, 材料 ...) that the passages quoted from never mention;
* it asks a phone number, a sum or an amount that no quoted sentence carries (a fine is not a fee);
* it asks a number in a unit (多少平, 几个钟头) that no quoted sentence gives in that unit;
* the quote leaves the asked detail to someone else (由…确定并公布, 具体办法由…制定);
* a question about a fine gets a sanction that is not for the conduct it names, for articles other than the rule
  quoted with it, or for conduct it never names (违反了罚多少？);
* or it is a regulation's purpose clause (…制定本条例) and the question does not ask why.

One definition (:func:`not_an_answer`) for the app and for the calibration that chooses the thresholds.
"""

from __future__ import annotations

import re
from typing import Sequence

from ..legal import COMMENCEMENT_CLAUSE, PURPOSE_CLAUSE, is_adoption_line
from .fine_guards import (PENALTY_ASKED, PENALTY_STATED, fine_for_another_rule, fine_for_unnamed_conduct,
                          sanctions_conduct)
from .cues import names_only_details
from .question_reading import (ANSWER_TYPES, SPECIFIC_TYPES, asked_type, carries, detail_words, named_places,
                               without_noise)
from .word_weights import tagged_words

_NUMERAL = r"(?:\d+|[零〇一二两三四五六七八九十百]+)"
_STEP = r"(?:申请|提出|提交|提起|报送)(?![人书表]|行政复议|行政诉讼)"
#: Detail words that ask for a value, and what gives that value without the word: 几点 is answered by 六时至二十二时,
#: 期限 by 三十日内, 手续 by 办理招工备案 or 批准文件 (a formality the rule names, not any 申请 or 办理). "找到的原文中没有提到“几点”" above a quote saying 当日二十时至二十四时内 was false, and the guard refused it.
VALUE_WORDS = (
    (re.compile(r"几点|营业时间|办公时间|开放时间"), re.compile(_NUMERAL + r"(?:时|点)(?:至|到|—|-|半|前|后|以前|以后)|"
                                                       r"\d{1,2}[:：]\d{2}")),
    (re.compile(r"期限|截止"), re.compile(_NUMERAL + r"个?(?:工作日|日|天|周|个月|月|年|小时)(?:内|以内|之内|前)|有效期")),
    # ...and by two steps in one sentence, a clause apart (…申请调解；…申请仲裁: QA saw 没有提到“流程” above the very
    # procedure), not 提出书面申请 (one step), 申请人/申请书 (nouns) nor the boilerplate 申请行政复议或者提起行政诉讼
    (re.compile(r"手续|流程|程序|步骤"), re.compile(rf"办理[^，。；]{{0,15}}(?:备案|登记|审批|许可|手续)|批准文件|"
                                            rf"{_STEP}[^。\s]{{0,60}}?[，；][^。\s]{{0,60}}?{_STEP}")),
    # 电话 is given by what carries a phone number (供水热线 67171717 answers 停水了打什么电话): QA saw 没有提到“电话”
    # above it.
    (re.compile(r"电话|号码|手机号"), re.compile(next(c.pattern for n, _, c in ANSWER_TYPES if n == "phone") + r"|电话")),
)


def _value_given(word: str, text: str) -> bool:
    return any(asks.fullmatch(word) and gives.search(text) for asks, gives in VALUE_WORDS)


def absent_details(question: str, texts: list[str]) -> list[str]:
    """The detail words of ``question`` that none of ``texts`` contains (利率 asked, no passage gives a rate); a word
    asking for a time or a period counts as present where the texts give one (``VALUE_WORDS``)."""
    joined = " ".join(texts).lower()
    return [w for w in detail_words(question) if w.lower() not in joined and not _value_given(w, joined)]

#: Kinds of answer whose carrier is unmistakable in a sentence: a question asking one is never answered without it
#: (a phone number; a sum of money: 元, 百分之, 免费 ...; an amount: a number, a numeral with its measure word,
#: 以上/不超过/免费 ...). On the validation split the amount guard costs 0-3 points of answerable questions answered
#: and keeps near-domain ones from quoting a rule without its figure (办养犬证要交多少钱 answered by the
#: registration article). Dates, places and offices are not guarded: their carriers are too loose (an answer 韩国
#: carries no place marker).
GUARDED_TYPES = ("phone", "money", "amount")


#: A regulation sentence handing the detail to someone else: 禁养犬只的品种…由市…主管部门确定并公布, 具体办法由市人民政府
#:制定, 按照国家有关规定执行. It says who decides, not what was decided.
DELEGATION = re.compile(r"由[^，。；]{2,40}?(?:另行)?(?:确定|制定|规定|公布)(?:并公布|并公告)?[。；]|另行规定|"
                        r"具体(?:办法|标准|目录|名录)由|按照国家(?:有关)?规定执行")
#: A sentence saying a list is published (定期发布紧缺人才需求目录, 公布…清单) says where the list will be, not what is on
#: it: no answer to which ones (紧缺人才目录有哪些岗位 was "answered" 0.73 by it). Not when the sentence names the items
#: (列明…, 收费项目为：…).
PUBLISHED_LIST = re.compile(r"(?:发布|公布|公告|编制|印发)[^，。；]{0,12}?(?:目录|名录|清单|名单)(?![^。；]*(?:列明|包括|如下|为[：:]))")
#: The asked kinds a delegating sentence cannot answer (a yes/no question it can: 有奖励吗 — yes, by a scheme to come).
DETAIL_TYPES = SPECIFIC_TYPES + ("list",)


def delegates(sentence: str) -> bool:
    """Does ``sentence`` leave the detail to someone else (see ``DELEGATION``)?"""
    return bool(DELEGATION.search(sentence))


def left_to_others(kind: str, best: str, quoted: Sequence[str]) -> bool:
    """Does the quote leave the ``kind`` of detail asked to someone else: its ``best`` sentence delegates, or another
    quoted sentence does and none of the rest carries that kind of answer? An article's delegation is often its own
    sentence after the rule (…应当先将集体土地转为国有土地 / 具体办法由市人民政府制定: 集体土地…咋转成国有，具体咋办 was
    "answered" 0.83 with no step named); a quote naming the steps before 具体办法由… still answers. Which ones are on a
    list is likewise left to whoever publishes it (``PUBLISHED_LIST``)."""
    if kind not in DETAIL_TYPES:
        return False
    if kind == "list" and PUBLISHED_LIST.search(best):
        return True  # which ones are on it (not who publishes it, nor where: 在站点醒目位置公布…目录 answers that)
    rest = [text for text in quoted if not delegates(text)]
    return delegates(best) or (len(rest) < len(quoted) and not any(carries(kind, text) for text in rest))


#: A number asked in a unit (多少平, 几个钟头, 多少吨, 几个点): (how a question asks it, what carries it). A quote with
#: some other number does not answer it (宅基地一户最多批多少平 was "answered" by 一户占用两处以上宅基地的; 贴息能贴几个点
#: by an article whose only "amount" is 无偿). Everyday units are read as the documents write them (钟头 as 小时, 平 as
#: 平方米, 几个点 as 百分之).
ASKED_UNITS: tuple[tuple[re.Pattern, re.Pattern], ...] = tuple((re.compile(asks), re.compile(carries)) for asks, carries in (
    # A price per area (一平米多少钱, 多少钱一平) too: 按…标准的二倍缴纳 names no sum per square metre. The word 面积
    # is no figure (现有面积没有超过…面积标准 "answered" 多少平 at 0.81).
    (r"(?:多少|几|多大)个?(?:平方米|平米|平方|平)(?![安台时常稳])|多大面积|面积多大|占地多少|"
     r"(?<![统唯第同万单])[一每](?:平方米|平米|平方|平)(?![安台时常稳])[^，。？?]{0,4}(?:多少|几)|多少钱?[一每](?:平方米|平米|平方|平)(?![安台时常稳])",
     r"平方米|平米|平方|亩|公顷|\d\s*(?:m²|㎡)"),
    (r"(?:多少|几)个?(?:钟头|小时)", r"小时|时"),
    (r"(?:多少|几)(?:吨|方水|立方)", r"吨|立方米|立方"),
    (r"(?:多少|几)个(?:百分)?点|多少比例|什么比例|比例是?多少|百分之几|几成", r"百分之|千分之|万分之|[%％‰]|[一二三四五六七八九十]成|倍"),
    (r"多少岁|几岁|多大岁数|多大年纪|多大年龄|年龄多大|岁数", r"岁|年龄|年满"),
    (r"(?:多少|几)(?:公里|千米|米)|多远|多宽|多高", r"米|公里|千米|里|km"),
    (r"(?:多少|几)(?:斤|公斤|千克)|多重", r"斤|公斤|千克|吨"),
    # A period asked in its unit (任期几年, 要几个工作日, 能领几个月): 任期届满前九十日内 does not say how many years.
    # (not 好几年, 这几年, 前几天: a while, said in passing; not 多少年轻人) and a date is no period (2023年, 1月1日)
    (r"(?:多少|(?<![好没十这近前那头])几)个?年(?![级代轻度薪费龄货检])",
     r"(?<![\d〇零])(?:\d{1,2}|[一二三四五六七八九十两半]+)个?年(?![\d〇零一二三四五六七八九])|年限"),
    (r"(?:多少|(?<![好没十这近前那头])几)个?月(?![份底初])", r"(?<!\d)(?:\d{1,2}|[一二三四五六七八九十两半]+)个月"),
    (r"(?:多少|(?<![好没十这近前那头])几)个?(?:工作日|天)(?!气)",
     r"(?<![月\d])(?:\d{1,3}|[一二三四五六七八九十两半百]+)个?(?:工作)?[日天]"),
))


#: 几 said of a while, not asked (好几年, 这几天, 前几年, 十几个): what the question asks is read without it.
_A_WHILE = re.compile(r"[好没这近前那头十]几(?:个)?")
#: "Which ones" asked with 几 (哪几个方面, 哪几项, 哪几家): a list, whatever ``asked_type`` reads from its 几.
_WHICH_ONES = re.compile(r"哪几")
#: A name in quotation marks (“万人助万企”活动, “十四五”规划, 「一网通办」): its numerals name, they do not count.
_QUOTED_NAME = re.compile(r"“[^”]{1,20}”|「[^」]{1,20}」|‘[^’]{1,20}’")


def without_names(sentence: str) -> str:
    """``sentence`` without the names it quotes, for the guard on asked numbers: 万人助万企走访了多少企业 was
    "answered" 0.89 by 常态化开展“万人助万企”活动, whose only "count" is the 万人 of the campaign's name."""
    return _QUOTED_NAME.sub("“”", sentence)



#: How to do a formality (咋报名, 怎么申请, 如何办理, 要什么手续): answered by a sentence naming a step (申请, 提交, 登记 …),
#: not by one that only names the thing (a how-did-they question about the news, 怎么招聘老师, is not a formality).
_FORMALITY_ASKED = re.compile(r"(?:咋|怎么|怎样|如何)(?:报名|申请|办理|办证|登记|备案)|手续(?!费)|流程|什么材料|啥材料")
#: ... and what names a step besides the procedure carriers of ``question_reading.ANSWER_TYPES`` (报名 on a 公众号, the
#: 环节 of an exam, where to go).
_STEP = re.compile(r"报名|环节|步骤|公众号|网上|窗口|地点|到[^，。；]{1,20}(?:办|交|领)")

#: Whether something costs money, asked yes or no (要交钱吗, 收费吗, 免费吗): a penalty clause's fine does not answer it.
_PAYING_ASKED = re.compile(r"交钱|收费|收钱|要钱|花钱|付费|免费|掏钱")


#: Whether something costs, asked (收费吗, 要交钱吗, 收不收费): not 收费标准 named as a thing (停车场不公示收费标准的呢？ asks
#: the fine for not posting it).
_COST_ASKED = re.compile(r"(?:收费|收钱|要钱|交钱|花钱|付费|掏钱|免费)[吗么嘛呢？?]|(?:收不收|要不要|用不用)(?:费|钱|交钱)|收费[不没]")
#: What speaks of paying outside a penalty clause: a fee, a charge, a sum, who bears or reimburses a cost.
_PAYMENT = re.compile(r"费|收取|收钱|免费|免收|无偿|价格|价款|[\d一二两三四五六七八九十百千万]\s*元|承担|负担|支付|缴纳|交纳|付款|报销")


def _sum_without_penalty(kind: str, question: str) -> bool:
    """A sum asked (``kind`` money) or whether something costs (收费吗, 要钱吗) without a penalty in view (not 罚多少): a
    fine does not answer it (review, eighteenth session: 收费吗？ follow-ups came back with fines as the closest
    passages four times in five)."""
    return (kind == "money" or bool(_COST_ASKED.search(question))) and not PENALTY_ASKED.search(question)


def carriers_of(kind: str, question: str, quoted: list[str]) -> list[str]:
    """The ``quoted`` sentences that may carry the ``kind`` of answer ``question`` asks: for a sum asked without a
    penalty in view (多少钱, 收费吗), not the penalty clauses, whose sums are fines (``PENALTY_STATED``)."""
    if not _sum_without_penalty(kind, question):
        return quoted
    return [text for text in quoted if not PENALTY_STATED.search(text)]


#: What a related reply names as missing when a question asks a fee and only fines were found (judge.fee_not_stated).
FEE_NOT_STATED = "收费"


def asks_a_fee(question: str) -> bool:
    """Does ``question`` ask what something costs, with no penalty in view (多少钱, 收费吗; not 罚多少)?"""
    return _sum_without_penalty(asked_type(question), question)


def fines_for_a_fee(question: str, sentences: list[str]) -> list[bool]:
    """For each sentence: is it a penalty clause while ``question`` asks a sum without a penalty in view? Quoted even
    as the closest passage, the fine is read as the fee (QA: 狗证一年多少钱 came back related with 伪造、买卖养犬证的…处以
    二千元罚款 as the closest sentence). Not when the question names what the clause punishes (a verb of both: 拒载,
    冒用, 逃票): 出租车拒载要交多少钱 asks what refusing a fare costs (review, thirteenth session). The question is read
    once for all the sentences."""
    if not asks_a_fee(question):
        return [False] * len(sentences)
    verbs = [word for word, _, _, tag in tagged_words(question) if len(word) >= 2 and tag.startswith("v")]
    return [bool(PENALTY_STATED.search(text)) and not any(verb in text for verb in verbs) for text in sentences]


#: A sum stated as a share of another (当地最低工资标准的百分之八十, 同类林地标准的二倍): it gives no figure of that other.
_SHARE_OF = re.compile(r"的(?:百分之[零一二两三四五六七八九十百]+|\d+(?:\.\d+)?\s*[%％]|[一二两三四五六七八九十\d]+倍)")
#: A question asking the share itself (按工资的多少比例, 占收入多少, 百分之几): the share answers it.
_SHARE_ASKED = re.compile(r"的(?:多少|百分之几|几成|几倍)|比例|百分之几|百分比|几成|几倍|占[^，。？?]{0,8}多少")
#: A sum in 元 (2100元, 二千元, 5万元), which may be the base's own figure (单元, 公元, 多元 are none).
_SUM_IN_YUAN = re.compile(r"(?:\d|[一二两三四五六七八九十百千万亿零〇])\s*(?:万|亿)?元")
#: Words naming the kind of a figure, not the thing it is of: 失业金咋算的，标准是多少 asks the benefit's standard, which
#: 按照当地最低工资标准的百分之八十 is (review: the guard refused it because 标准 stands before 的百分之 too).
_GENERIC_FIGURE = {"标准", "金额", "数额", "费用", "数目", "数量", "水平", "价格"}


def share_for_its_base(question: str, quoted: Sequence[str]) -> bool:
    """Does a part of ``question`` ask the sum of something (最低工资是多少) that the quote names only as the base of a
    share (失业保险金按照当地最低工资标准的百分之八十确定), with no sum in 元 quoted? 郑州现在最低工资是多少，失业金到底能拿
    多少钱 was "answered" 0.74 by that sentence: the reader learns a share of the minimum wage, not the wage. Each part
    (a clause) is read alone; what it names is its words left once question words and places are dropped."""
    bases = [text[max(0, m.start() - 8):m.start()] for text in quoted for m in _SHARE_OF.finditer(text)]
    if not bases or any(_SUM_IN_YUAN.search(text) for text in quoted):
        return False
    for clause in re.split(r"[，,；;。？?！!\s]+", question):
        if asked_type(clause) not in ("money", "amount") or _SHARE_ASKED.search(clause):
            continue
        places = named_places(clause)
        named = [w for w in re.split(r"[^\u3400-\u9fff]+", without_noise(clause))
                 if len(w) >= 2 and w not in places and w not in _GENERIC_FIGURE]
        if any(word in base for word in named for base in bases):
            return True
    return False


def asked_unit(question: str) -> re.Pattern | None:
    """What must carry the number a question asks in a unit (see ``ASKED_UNITS``), or None."""
    return next((carries for asks, carries in ASKED_UNITS if asks.search(question)), None)


#: A regulation's purpose clause (``legal.PURPOSE_CLAUSE``) answers why the regulation was made, nothing else: 要带啥？
#: read with a regulation's title was "answered" 0.84 by it (QA).
_ASKS_PURPOSE = re.compile(r"为什么|为啥|为何|目的|宗旨|\b(?:why|purpose|aim)\b", re.I)
#: Likewise a commencement clause (``legal.COMMENCEMENT_CLAUSE``) answers only when a regulation applies from: 去哪办？
#: after 失业了能领失业金吗 was "answered" 0.72 by 本条例自2005年5月1日起施行…同时废止 (QA, twelfth session).
_ASKS_COMMENCEMENT = re.compile(r"施行|生效|废止|失效|开始执行|开始实施|什么时候开始|啥时候开始|何时起|哪天起|哪年起|"
                                r"\b(?:effect|effective|in force|enacted|repealed)\b", re.I)
#: (a clause, the questions it answers): anything else it is no answer to.
_ANSWERS_ONLY = ((PURPOSE_CLAUSE, _ASKS_PURPOSE), (COMMENCEMENT_CLAUSE, _ASKS_COMMENCEMENT))
#: A question about how a regulation was made or amended, which its adoption lines answer.
_ASKS_MAKING = re.compile("|".join((_ASKS_PURPOSE.pattern, _ASKS_COMMENCEMENT.pattern,
                                    r"通过|批准|修正|修订|修改|制定|出台|颁布|发布|公布|表决|改过|改了|改几次|哪年改|几次改")), re.I)


def of_its_making(question: str, sentences: Sequence[str]) -> list[bool]:
    """For each sentence: does it only say how its regulation was made (adoption and amendment lines: 2005年4月28日…
    会议通过; its commencement; its purpose) while ``question`` asks nothing of the kind? Quoted as the closest content
    they tell a reader nothing (review, eighteenth session: 那要多久？ after a sign permit came back with 市容条例's
    amendment history, 0.79)."""
    if _ASKS_MAKING.search(question):
        return [False] * len(sentences)
    return [is_adoption_line(text) or any(clause.search(text) for clause, _ in _ANSWERS_ONLY) for text in sentences]


#: Whom to turn to, asked (找谁, 向谁投诉, 去哪举报, 归谁管, 哪个部门): answered by a quote naming an authority, not by the
#: duty of the party complained about (用人单位应当…); the district's own bodies count (开发区…成立工作专班…协调解决供水供电
#: answers 企业停水停电找谁). Offices in general are not guarded (``GUARDED_TYPES``): 谁负责 is answered by 建设单位 too.
_TURN_TO = re.compile(r"找谁|找哪|向谁|跟谁|去哪(?:里|儿)?(?:投诉|举报|反映|告|申请|办|问)|归谁管|谁来管|谁管|哪个部门|什么部门|"
                      r"哪个单位|哪家单位")
_AUTHORITY = re.compile(r"部门|局|委员会|管委会|政府|机构|中心|办公室|机关|人民法院|仲裁|街道|社区|开发区|专班|工会|监察|"
                        r"管理处|管理站|服务站|公安|派出所|热线|12345|电话")


def not_an_answer(question: str, best: str, quoted: list[str], sources: list[str]) -> bool:
    """The answer step's guards, one definition for the app and the calibration tables. A quote is no answer when
    the question names a detail (利率, 电话, 材料 ...) that the passages quoted from (``sources``) never mention, or
    names nothing else (要什么材料？: ``names_only_details``); when
    it asks a phone number, a sum or an amount that no ``quoted`` sentence carries; or when it asks a detail and
    the quote hands that detail to someone else (由…确定并公布: ``left_to_others``). The last rule, on the best
    sentence alone, never fired on the validation split's answered questions (0 of 798) and was added for a
    hand-written near-domain question (禁养的烈性犬具体有哪些品种), which it is the kind of: the regulation leaves the
    list to a department."""
    if absent_details(question, sources) or names_only_details(question):
        return True
    kind = asked_type(question)
    if kind == "amount" and _WHICH_ONES.search(question):
        kind = "list"  # 抓哪几个方面 asks which ones (answered by naming them), not how many
    if kind == "amount" and _A_WHILE.search(question):
        kind = asked_type(_A_WHILE.sub("", question))  # 前几年买的房子能过户吗 asks yes or no, not how many
    carriers = carriers_of(kind, question, quoted)
    if kind in GUARDED_TYPES and not any(carries(kind, without_names(text)) for text in carriers):
        return True
    unit = asked_unit(question)
    if unit is not None and not any(unit.search(text) for text in quoted):
        return True
    if _TURN_TO.search(question) and not any(_AUTHORITY.search(text) for text in quoted):
        return True  # 公司不交(养老保险)找谁 is not answered by 用人单位应当…办理参保手续: no one to turn to is named
    if share_for_its_base(question, quoted):  # each part of the question is read for what it asks
        return True
    if _FORMALITY_ASKED.search(question) and not any(carries("procedure", text) or _STEP.search(text) for text in quoted):
        return True  # 钱学森小学咋报名 is not answered by 成立了钱学森小学教育集团
    if _PAYING_ASKED.search(question) and kind == "yesno" and not PENALTY_ASKED.search(question) and (
            PENALTY_STATED.search(best) or not any(_PAYMENT.search(text) and not PENALTY_STATED.search(text)
                                                   for text in quoted)):
        return True  # 办证要交钱吗: a fine for forging the licence says nothing of a fee; 叫120急救车要钱吗: nor does 120's number
    if PENALTY_ASKED.search(question) and (not sanctions_conduct(question, quoted, sources)
                                           or fine_for_unnamed_conduct(question, quoted, sources)
                                           or fine_for_another_rule(quoted, sources)):
        return True  # 广告挡住站牌罚不罚: 不得覆盖站牌 forbids it, and says nothing of a fine
    if any(clause.search(best) and not asks.search(question) for clause, asks in _ANSWERS_ONLY):
        return True
    if is_adoption_line(best) and not _ASKS_MAKING.search(question):
        return True
    return left_to_others(kind, best, quoted)
