"""Reading a question: what kind of answer it asks for, which words only say how it is asked, which places it names.

Plain rules, shared by the answerability features, the "what is missing" line and the follow-up cues (cues.py).
"""

from __future__ import annotations

import difflib
import re
from functools import lru_cache
from typing import Any, Sequence

from .word_weights import CJK as _CJK, dictionary_tag, jieba_dictionary, tagged_words

# Function words of questions: they say how something is asked, not what it is about.
_NOISE = (
    r"有没有|是不是|能不能|可不可以|会不会|要不要|什么样|什么时候|什么|怎么样|怎么办|怎么|怎样|如何|多少|哪些|哪里|哪个|哪儿|哪家|"
    # how long / which day / how many: asking words, never the detail a passage lacks (多久 is no missing fact)
    r"多久|多长时间|多长|多大|多远|多高|哪天|哪年|哪一年|哪几|何时|为何|为什么|啥时候|啥时|几时|为啥|咋办|咋|啥|几|谁|"
    # at most / at least / longest: the limit asked for (最多能预交多久: 最多 was the heaviest word "missing")
    r"最多|最少|最长|最短|最久|最晚|最迟|最早|"
    # what citizens add around a question: help, all told, lately, last time, hearsay
    r"帮忙|帮帮|一共|总共|到底|具体|现在|最近|上次|听说|真的|这块|那边|那个|这个|"
    r"是否|请问|一下|能否|可以|需要|应该|吗|呢|吧|啊|呀|么|的|了|得|地|是|有|在|我们|我|你们|你|他们|咱们|给|被|把|都|还|也|就|"
    r"\b(?:what|which|who|whom|whose|when|where|why|how|many|much|is|are|was|were|do|does|did|can|could|will|would|"
    r"the|a|an|of|to|in|on|for|and|or|there|any|about|please|tell|me|i|we|you|it|they|this|that)\b"
)
QUESTION_NOISE = re.compile(_NOISE, re.I)
#: In a question asked in English, also the English words around it that name no topic, so that its coverage is
#: over its topic words (a Chinese question keeps the list above: in 卡拉OK, OK is a name).
ENGLISH_QUESTION_NOISE = re.compile(
    _NOISE + "|"
    r"\b(?:"
    # English around a question: being, having, needing, whom it concerns, contractions cut apart (don't -> don t)
    r"be|been|has|have|had|get|got|my|our|your|their|his|her|its|us|them|he|she|if|should|must|need|needs|may|"
    r"might|shall|with|at|by|from|as|so|than|then|just|still|also|too|some|anyone|someone|long|soon|often|"
    r"allowed|ok|okay|possible|im|don|doesn|didn|isn|aren|won|can't|s|t|"
    # English words that name no topic (counted as noise so a question's coverage is its topic words')
    r"up|use|used|using|uses|after|afterwards|before|set|over|out|new|no|not|want|give|gives|gave|take|takes|"
    r"taken|taking|put|puts|go|goes|going|went|back|own|first|keep|keeps|kept|check|checks|checked|checking|"
    r"run|runs|running|ran|people|person|days|day|year|years|month|months|time|times|within|without|under|"
    r"into|onto|near|next|inside|outside|along|around|behind|between|besides|during|until|while|because|"
    r"whether|either|both|each|every|all|other|others|another|else|same|different|more|less|lower|half|few|"
    r"lots|one|two|three|five|six|number|total|per|only|already|again|yet|later|last|never|once|directly|"
    r"properly|proper|make|makes|made|done|doing|come|coming|gets|getting|show|shows|shown|ask|asks|asking|"
    r"say|says|let|lets|like|look|looking|find|finds|found|start|starts|started|starting|needed|required|"
    r"requires|supposed|sure|follow|according|based|provide|something|anything|nothing|stuff|thing|things|"
    r"kind|type|types|way|ways|part|parts|old|small|big|good|great|extra|top|far|down|off|away|myself|"
    r"ourselves|themselves|him|am|but|these|those|ones|rule|rules|law|laws|manage|manages|managed|management|"
    r"deals|handle|hold|act|acts|play|chance|matters|problem|problems|spot|level|line|date|october|oct|august|"
    r"july|march|dec)\b",
    re.I,
)


def question_noise(question: str) -> re.Pattern:
    """The question words of ``question``: the English list too when it has none in Chinese (``noise_spans``)."""
    return QUESTION_NOISE if _CJK.search(question) else ENGLISH_QUESTION_NOISE


#: One-character function words of QUESTION_NOISE that are also parts of words (地铁, 就业, 有效期, 还款, 给付): applied to
#: a whole question the noise list cut them out, leaving 铁, 业, 效期 (the conduct of 带狗坐地铁罚多少 was 带狗坐 铁). 的, 吧
#: of nouns only (的士, 网吧; 的话 is a particle); not 了, 得, 是: mostly particles in jieba's words (开了个 "noun", 觉得).
PART_OF_WORDS, _OF_NOUNS = frozenset("地有在给被把都还也就的吧"), frozenset("的吧")
#: Characters that only say how something is asked: a word made of nothing else (还有, 就是, 都要, 还能) stays noise.
_ASKING_CHARS = PART_OF_WORDS | frozenset("能要会想该可吗呢啊呀么我你他她它们咱这那个几谁咋啥不没很太才又再")


def in_a_word(word: str) -> bool:
    """Is ``word`` a dictionary noun, verb or phrase owning its ``PART_OF_WORDS`` (地铁, 就业), not a glue (还有, 就能)?"""
    if len(word) < 2 or set(word) <= _ASKING_CHARS or not (PART_OF_WORDS & set(word)):
        return False
    tag = dictionary_tag(word)
    if word[-1] == "给" and (len(word) > 2 or tag[:1] != "n") or (_OF_NOUNS & set(word) and tag[:1] != "n"):
        return False  # a verb's particle (转租给, 交给; jieba lists 转租给 as a noun), not a noun's end (供给)
    return tag[:1] in ("n", "v", "i", "l", "j")  # nouns, verbs, set phrases (坐地铁 is an idiom to jieba), abbreviations


@lru_cache(maxsize=4096)  # a follow-up reads the same question and turn many times; tagging one costs ~0.5 ms
def noise_spans(text: str, noise: re.Pattern | None = None) -> tuple[tuple[int, int], ...]:
    """Where ``noise`` (``question_noise``) matches in ``text``, less a one-character function word inside a word."""
    spans = tuple(m.span() for m in (noise or question_noise(text)).finditer(text) if m.end() > m.start())
    if not any(e - s == 1 and text[s] in PART_OF_WORDS for s, e in spans):
        return spans
    words = [(a, b) for w, a, b, _ in tagged_words(text) if in_a_word(w)]
    return tuple((s, e) for s, e in spans
                 if not (e - s == 1 and text[s] in PART_OF_WORDS and any(a <= s < b for a, b in words)))


def without_noise(text: str, replacement: str = " ", noise: re.Pattern | None = None) -> str:
    """``text`` with its question words replaced (``noise_spans``: 带狗坐地铁罚多少 -> 带狗坐地铁罚 )."""
    pieces, at = [], 0
    for start, end in noise_spans(text, noise):
        pieces += [text[at:start], replacement]
        at = end
    return "".join(pieces) + text[at:]


#: Below this count in jieba's dictionary a word is a glue of a verb and its particles (没交 3, 签完 3), not a
#: word of the language (不让 2486, 不服 824, 办好 258).
GLUED_FREQUENCY = 50


def without_modal(word: str, start: int, end: int) -> tuple[str, int, int]:
    """A word jieba made up from a modal verb and its neighbour (能领, 能养, 证要, 厂能) without the modal, and from a
    verb and a spoken 个 (装个) without the 个: the modal says how it is asked (can I, must I), the rest is what it
    is about. Dictionary words keep theirs (要求, 能力, 会议)."""
    if len(word) < 2 or not _CJK.search(word):
        return word, start, end
    frequency = jieba_dictionary().FREQ.get(word) or 0
    if 0 < frequency < GLUED_FREQUENCY and len(word) == 2:
        # 没交, 不收, 签完, 排掉 (jieba counts 3): a negation or aspect glued to a one-character verb, which is what the
        # question is about (交纳 covers 没交; alone, 没交 was a word no passage has, weight 1.0). Two characters only:
        # 不孕症, 不可抗力 are words (review); a count of 0 marks a prefix of longer words, not a glue.
        if word[0] in "没不":
            word, start = word[1:], start + 1
        elif word[-1] in "完掉过着了":
            word, end = word[:-1], end - 1
    if frequency:
        return word, start, end
    if word[0] in "能要会想该得可":
        word, start = word[1:], start + 1
    if len(word) >= 2 and word[-1] in "能要会想该得":
        word, end = word[:-1], end - 1
    # 装个, 办个, 开个 (装个地锁): the measure word of a spoken "a" after a verb, not part of it (几个, 这个 are numbers)
    if len(word) >= 2 and word[-1] == "个" and word[-2] not in "一二两三四五六七八九十百千万几这那哪每各某整半多":
        word, end = word[:-1], end - 1
    return word, start, end


_INTERROGATIVE = re.compile(r"[?？吗呢]|什么|怎么|如何|多少|哪|谁|几|是否|能否|有没有|是不是|能不能|可不可以|"
                            r"\b(?:what|which|who|when|where|why|how|is|are|can|does|do)\b", re.I)

# --------------------------------------------------------------------------- answer types

#: (type, what in a question asks for it, what in a sentence carries it). First match wins. The first English
#: words (where, who, rate ...) match anywhere, as when the shipped model was fitted (bounding them changes a
#: CMRC record and with it every fitted weight); the later ones match whole words.
ANSWER_TYPES: tuple[tuple[str, re.Pattern, re.Pattern], ...] = tuple(
    (name, re.compile(asks, re.I), re.compile(carries, re.I))
    for name, asks, carries in (
        ("phone", r"电话|热线|联系方式|号码|手机|phone|hotline|contact",
         r"\d{3,4}-?\d{7,8}|\d{7,}|12345|热线"),
        ("address", r"地址|在哪|哪里|什么地方|地点|位置|哪儿|where|address|location",
         r"[路街道巷]\d*号|[路街]|大道|广场|大厦|大楼|中心|大厅|楼|号院|区|镇|村|市|县|省"),
        ("date", r"什么时候|啥时候|啥时|几时|何时|哪天|哪一天|哪年|哪一年|几月|几号|日期|时间|多久|多长时间|期限|截止|几点|开放|"
         r"when|date|deadline|hours|\b(?:how (?:long|soon)|how many (?:days|weeks|months|years)|within how|what time|by when|time limit)\b",
         r"\d{4}年|\d{1,2}月|\d{1,2}日|[一二三四五六七八九十〇零]+年|[一二三四五六七八九十]+月|\d+[天日]|[一二三四五六七八九十百]+[天日]|"
         r"个?工作日|[一二三四五六七八九十\d]+个?月|[一二三四五六七八九十\d]+(?:个)?(?:小时|分钟|周|星期)|年内|日内|日起|之日|以前|以后|期间|"
         r"每年|每月|周[一二三四五六日]|\d+[:：]\d+|上午|下午|当日|当天|及时|立即"),
        # Money before any amount: 多少钱 is answered by a sum (2600万元, 百分之八十 of a wage, 免费), not by any
        # count (100余家次) — the 开发区帮企业贷了多少钱 quoted the 大走访 sentence for its numbers.
        ("money", r"多少钱|几块钱|多少元|多少万|(?:钱|费|金额|价格|价钱|罚款|工资|薪酬|补贴|补助|奖金|租金|利率|税率|费率|票价|"
                  r"起步价|收费|保险金|失业金|养老金)(?:标准)?(?:现在)?(?:是|有|能领|能拿|要交|交|给|收)?(?:多少|几)|"
                  r"(?:交|收|罚|领|拿|贷|借|补|奖|赔|花)了?多少|how much (?:money|does it cost)|\b(?:fee|price|cost)\b|"
                  r"^(?=.*\bhow much\b)(?=.*\b(?:fees?|fines?|penalt|salar|wages?|rent|subsid|allowance|compensation|pay|benefit|bonus|reward|charge))",
         r"\d[\d,.]*\s*(?:万|亿)?元|[一二三四五六七八九十百千万亿两零〇]+(?:万|亿)?元|块钱|免费|免收|不收|无偿|百分之|"
         r"\d+(?:\.\d+)?\s*[%％]|倍"),
        ("amount", r"多少|几|多大|多高|多长|多重|比例|金额|费用|收费|标准|利率|税率|罚款|罚多少|价格|多少钱|how (?:many|much)|amount|rate|fee|price|number",
         r"\d|[一二三四五六七八九十百千万亿两半]+(?:个|家|列|件|名|人|项|所|元|万|倍|年|月|日|天|次|户|岗|%|％|分之|小时|分钟|周|岁|"
         r"米|公里|公斤|吨|只|辆|张|份|层|级|趟|批|类|种)|百分之|以上|以下|不超过|不少于|不低于|不得超过|最长|最多|至少|免费|免收|不收|无偿"),
        # What happens to whoever breaks a rule (出租车拒载咋罚, 被抓到会被怎么处理, 有啥后果): the regulation's penalty
        # clause answers it, which names a sanction (罚款, 警告, 责令, 没收 ...), not a procedure. Not 会怎么处理 or
        # 什么责任 alone: 垃圾会怎么处理 asks a procedure, 物业公司有什么责任 a duty, 明天天气会怎样 nothing of the kind.
        ("penalty", r"(?:咋|怎么|怎样|如何|啥|什么|哪些)(?:处罚|罚|处分|惩罚)|被(?:怎么|咋|如何|怎样)(?:处理|处置|罚)|"
                    r"(?:什么|啥|哪些|有何|有啥)(?:后果|处罚)|\b(?:penalt\w*|punish\w*|what happens (?:if|when|to))\b",
         r"罚|处分|警告|责令|没收|吊销|拘留|追究|赔偿|处以|信用|取消|撤销|不予|拆除|停业|暂扣|纳入"),
        ("person", r"谁|哪个部门|哪些部门|什么部门|哪个单位|哪家单位|找谁|负责|主管|机关|"
         r"who|which (?:office|department)|responsible|\b(?:which (?:agency|authority|bureau|body|government)|in charge)\b",
         r"部门|局|委员会|政府|办公室|中心|机关|机构|单位|负责人|主任|局长|书记|区长|镇长|校长|院长|经理|董事长|主管|人民法院|检察院"),
        ("procedure", r"怎么办|咋办|咋弄|咋整|咋申请|咋办理|咋处理|怎么申请|如何申请|如何办理|怎么办理|办理|流程|手续|程序|步骤|材料|怎么领|如何领取|申请|怎样|如何|怎么|"
                      r"带啥|带什么|啥证|什么证|"
         r"how to|apply|procedure|steps|documents|\b(?:how (?:do|can|should) (?:i|we)|what (?:do|should) (?:i|we) do|process)\b",
         r"申请|提交|提出|办理|材料|登记|凭|持|手续|程序|备案|审核|审批|受理|报送|填写|出具|核发|领取"),
        ("reason", r"为什么|为何|为啥|原因|why", r"因为|由于|为了|原因|目的|以便"),
        ("list", r"哪些|有什么|有哪|包括|都有|which|what are", r"、|（一）|\(一\)|以及|等|和|包括"),
        ("yesno", r"吗|是否|能否|有没有|没有$|了没|是不是|能不能|可不可以|会不会|行不行|对不对|可以|"
                   r"([\u3400-\u9fff])不\1|不[？?。！!～~\s]*$|"
                   r"\b(?:is|are|can|does|do|will|must|should|may|need|have to|allowed)\b", r"."),
    )
)
GENERAL = "general"
SPECIFIC_TYPES = ("phone", "address", "date", "money", "amount", "penalty", "person", "procedure")


def asked_type(question: str) -> str:
    """What kind of answer the question asks for (``general`` when it does not say)."""
    for name, asks, _ in ANSWER_TYPES:
        if asks.search(question):
            return name
    return GENERAL


def carries(answer_type: str, sentence: str) -> bool:
    """Does ``sentence`` carry an answer of that type (a number for an amount, a date for a date, ...)?"""
    for name, _, pattern in ANSWER_TYPES:
        if name == answer_type:
            return bool(pattern.search(sentence))
    return True


def is_topic_query(question: str) -> bool:
    """A bare topic such as 招工 or 教师工资: short and without any question word (the answer models' feature)."""
    return len(question.strip()) <= 8 and not _INTERROGATIVE.search(question)


#: How citizens ask without 吗 or ？, which ``is_topic_query`` (a feature the shipped models were fitted with) does
#: not read: 啥, 咋, 多久, a verb-not-verb (``A_NOT_A``: 准不准, 罚不罚) or a closing 不 / 没 (能坐公交不, 涨了没).
A_NOT_A = re.compile(r"(?P<verb>[\u3400-\u9fff])[不没](?P=verb)")
_COLLOQUIAL_ASK = re.compile(r"啥|咋|怎样|为何|多(?:久|长|大|高|远|老|重|宽|深)|" + A_NOT_A.pattern + "|"
                             r"[不没][？?。！!～~\s]*$")


def is_bare_topic(question: str) -> bool:
    """A topic asked by itself (招工, 教师工资), which the passages about it answer as a whole: not a short question
    asked the colloquial way (办房产证要等多久 asks a time, 出租车拒载咋罚 a fine, 卖烟给初中生行不 a yes or no)."""
    return is_topic_query(question) and not _COLLOQUIAL_ASK.search(question)


# --------------------------------------------------------------------------- places and names

_PLACE = re.compile(r"[\u3400-\u9fff]{2,4}?(?:省|市|自治区|区|县|镇|乡|街道)|北京|上海|天津|重庆|香港|澳门|台湾")
_GENERIC_PLACES = {"本市", "全市", "该市", "本省", "全省", "本区", "全区", "城市", "辖区", "市区", "社区", "园区", "开发区",
                   "各区", "市县", "县市", "县区", "城区", "郊区", "景区", "小区", "片区", "地区", "街道"}


def named_places(question: str) -> list[str]:
    """Places the question names (河南省, 郑州市, 上街区, 安徽 ...), without generic words like 本市."""
    found = []
    for match in _PLACE.finditer(question):
        place = match.group()
        if place not in _GENERIC_PLACES and not place.startswith(("哪", "什么", "这", "那", "本", "该", "各", "全")):
            found.append(place)
    return found


def place_mismatch(question: str, document_text: str) -> float:
    """1 when the question names a place that the cited document never mentions (安徽 asked, 山东 cited)."""
    for place in named_places(question):
        stem = re.sub(r"(省|市|自治区|区|县|镇|乡|街道)$", "", place) or place
        if stem not in document_text:
            return 1.0
    return 0.0


#: Words naming a detail a citizen asks for: when the passages never contain it, the reply names it as missing.
DETAIL_WORDS = re.compile(
    r"利率|税率|费率|电话|热线|号码|手机号|地址|网址|邮箱|营业时间|办公时间|开放时间|几点|期限|截止|费用|收费|价格|价钱|"
    # app as a word: "where do I apply?" asks no app (it was told 没有提到“app”, and never answered)
    r"罚款|金额|材料|流程|手续(?!费)|步骤|条件|网站|公众号|窗口|地点|位置|房价|(?<![a-z])apps?(?![a-z])", re.I)


def detail_words(question: str) -> list[str]:
    """The detail words (利率, 电话, 材料 ...) a question asks about, in order."""
    return DETAIL_WORDS.findall(question)



# --------------------------------------------------------------------------- questions of one frame (faq_match.py)

#: What is no word of a question (punctuation, spaces).
_PUNCT_ONLY = re.compile(r"[\s\W_]+")
#: Parts of speech of a word naming a thing (jieba: nouns, places, locality words such as 初中).
_THING_TAGS = ("n", "f", "s")
#: Characters that turn a word round (上班 / 下班, 买房 / 卖房, 入园 / 出园).
_OPPOSITES = {frozenset(pair) for pair in ("上下", "进出", "入出", "开关", "买卖", "有无", "多少", "早晚", "前后", "增减",
                                           "加减", "收付", "借还", "大小", "长短", "高低", "升降", "新旧", "男女", "内外",
                                           "来去", "公私", "正副", "首末")}


def contrasts(question: str, wordings: Sequence[str] | str, synonyms: Any = None) -> bool:
    """Is ``question`` one word away from the closest of ``wordings`` and asking of something else: another thing
    (小学怎么报名 against 幼儿园怎么报名: two nouns without a character in common) or the word turned round (区政府几点上班
    against 区政府几点下班)? e5 puts questions of one frame close whatever their subject (0.948 for the first pair), so
    the cosine cannot tell them apart (QA, thirteenth session: both got the other entry's answer as 工作人员解答).
    Synonyms (老师, 教师), nouns sharing a character beside their head (孩子, 小孩; 居住证, 暂住证) and other word
    changes (怎么领, 怎么领取) are no contrast."""
    wordings = [wordings] if isinstance(wordings, str) else list(wordings)
    if not wordings:
        return False
    wording = max(wordings, key=lambda w: difflib.SequenceMatcher(None, question, w, autojunk=False).ratio())

    def words(text: str) -> list[tuple[str, str]]:
        return [(w, t) for w, _, _, t in tagged_words(text) if not _PUNCT_ONLY.fullmatch(w)]

    mine, theirs = words(question), words(wording)
    ops = [op for op in difflib.SequenceMatcher(None, [w for w, _ in mine], [w for w, _ in theirs],
                                                autojunk=False).get_opcodes() if op[0] != "equal"]
    if len(ops) != 1 or ops[0][0] != "replace":
        return False
    _, i1, i2, j1, j2 = ops[0]
    if not (1 <= i2 - i1 <= 2 and 1 <= j2 - j1 <= 2) or len(mine) - (i2 - i1) < 2:
        return False  # more than one thing changed, or too little left the same to call it one frame
    # One thing, cut into one or two words either side (公交 卡 / 社保卡): compared whole, a noun when all its words are
    a, b = "".join(w for w, _ in mine[i1:i2]), "".join(w for w, _ in theirs[j1:j2])
    tag_a = "n" if all(t.startswith(_THING_TAGS) for _, t in mine[i1:i2]) else mine[i1][1]
    tag_b = "n" if all(t.startswith(_THING_TAGS) for _, t in theirs[j1:j2]) else theirs[j1][1]
    if synonyms is not None and (any(b in alts for alts in synonyms.expand(a).alternatives)
                                 or any(a in alts for alts in synonyms.expand(b).alternatives)):
        return False
    # Another thing: nothing in common, or only the kind of thing (公交卡 / 社保卡, 文化馆 / 图书馆: one head, other
    # makers; not two-character words: 婴儿 / 新生儿 are one)
    other_thing = tag_a.startswith(_THING_TAGS) and tag_b.startswith(_THING_TAGS) and (
        not set(a) & set(b) or (a[-1] == b[-1] and min(len(a), len(b)) >= 3 and not set(a[:-1]) & set(b[:-1])))
    differing = [(x, y) for x, y in zip(a, b) if x != y]
    turned_round = len(a) == len(b) and len(differing) == 1 and frozenset(differing[0]) in _OPPOSITES
    return other_thing or turned_round


#: Verbs whose A-not-A form only asks "is it so" (行不行, 算不算, 管不管): both halves are the asking, nothing is named.
ASKING_ONLY = "行对好算要管是能会可该准许让用成"
