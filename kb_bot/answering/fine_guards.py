"""Guards on fines: a quoted sanction answers a question about a fine only when it is for the conduct the question names.

Part of the rules on top of the answer models (:mod:`kb_bot.answering.guards` applies them in ``not_an_answer``): a
question about a fine (罚不罚, 罚多少) is no answer when the quote states no sanction, a sanction for other conduct
(养狗不拴绳 answered with the dog farms' fine), for articles other than the rule quoted with it, or for conduct the
question never names (违反了罚多少？). The conversation reads a follow-up's conduct with the same words
(``conduct_text``).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Iterable, Sequence

from ..sanctions import ARTICLE, breached_articles
from .question_reading import A_NOT_A, without_noise
from .word_weights import content_pairs, general_weight, tagged_words

#: A penalty, asked or stated. 办个狗证多少钱 was "answered" 0.75 by 伪造、买卖养犬证的…处以二千元罚款: a reader takes
#: the fine for the fee. The sum in a penalty clause answers what a fine costs, never what a service or a fee costs.
PENALTY_ASKED = re.compile(r"罚|处分|\b(?:fines|fined|penalt\w*|punish\w*)\b|\bfine\b(?!\s+(?:to|with|for me|if)\b)(?<!is fine)"
                           r"(?<!it fine)(?<!be fine)(?<!s fine)", re.I)  # not "is it fine to walk my dog"
PENALTY_STATED = re.compile(r"罚款|罚金|处以|并处|处[^，。；]{0,20}?罚")

#: A sanction a quote states: whether something is fined or punished (罚不罚, 会被处分吗) is answered by one, not by the
#: rule it breaks (the rule and its penalty are different articles of a regulation).
_SANCTION = re.compile(r"罚|处分|处以|违约金|滞纳金|追究[^，。；]{0,8}责任|吊销|\b(?:fines?|fined|penalt\w*|punish\w*)\b", re.I)
#: A clause leaving the sanction to other laws (法律、法规有处罚规定的，从其规定) states none: 拖欠了怎么罚？ read with the labour
#: regulation was "answered" 0.76 by it and an article on inspections (review, eighteenth session).
_REFERRAL = re.compile(r"从其规定")
#: What a question about a fine says besides asking it: the penalty words and the A-not-A asking (罚不罚, 会不会).
_ASKING_A_FINE = re.compile(r"罚款|罚钱|罚金|处罚|处分|违约金|滞纳金|罚|" + A_NOT_A.pattern + "|会|被|要|能")


#: Words of a question about a fine that name no conduct: having broken some rule, being caught (违反了罚多少？
#: 被查到罚多少？). A question saying nothing else asks the fine for what the conversation was about.
_NO_CONDUCT = re.compile(r"违反|违规|违法|查到|抓到|逮到|被查|被抓|发现")
_CHINESE = re.compile(r"[\u4e00-\u9fff]")
#: What is left of asking a sum or of a past tense (罚多少钱 leaves 钱, 砍了 its 了), and punctuation.
_NOT_CONDUCT = re.compile(r"多少钱|钱$|钱(?=[\s？?。!！]*$)|了|[？?。!！，,]")


def conduct_pairs(question: str, sources: Sequence[str] = ()) -> set[str]:
    """The character pairs of what a question about a fine says is done (养狗不拴绳 of 养狗不拴绳罚不罚): without its
    asking words, the penalty words, the words naming no conduct (``_NO_CONDUCT``) and the titles of the quoted
    passages (``sources`` open with theirs): a follow-up read with a regulation's title (郑州市轨道交通条例 违反了罚多少)
    names no more conduct than as asked."""
    return content_pairs(conduct_text(without_titles(question, titles_of(sources))))


def titles_of(sources: Sequence[str]) -> list[str]:
    """The titles the quoted passages open with (``answerability.passage_text``: title, section, article, text)."""
    return [source.split(" ", 1)[0] for source in sources]


def without_titles(question: str, titles: Iterable[str]) -> str:
    """``question`` without the regulation titles a reading opened with (郑州市轨道交通条例 违反了罚多少): a title names
    no conduct, and every article of its regulation speaks of its subject (古树)."""
    for title in set(titles):
        if len(title) >= 4:
            question = question.replace(title, " ")
    return question


def conduct_text(question: str) -> str:
    """A question about a fine without its asking words, penalty words and words naming no conduct (遛狗不拴绳 of
    遛狗不拴绳会被罚吗): what must match the rule whose sanction is asked."""
    text = _NO_CONDUCT.sub(" ", _ASKING_A_FINE.sub(" ", without_noise(question)))
    return _NOT_CONDUCT.sub(" ", text)


def fine_for_unnamed_conduct(question: str, quoted: Sequence[str], sources: Sequence[str] = ()) -> bool:
    """Does a question about a fine that names no conduct (罚多少？ 违反了罚多少？ 被查到罚多少？) get a quoted sanction? A
    regulation fines each conduct its own way: a review found 违反了罚多少？ "answered" 0.74 by the forest regulation's
    fine for two of its articles, after a question on the metro. Such a question is answered only when read with the
    conversation's subject (its words then name what was done)."""
    return (bool(PENALTY_ASKED.search(question)) and _CHINESE.search(question) is not None  # English: no pairs
            and not conduct_pairs(question, sources) and any(_SANCTION.search(text) for text in quoted))


def fine_for_another_rule(quoted: Sequence[str], sources: Sequence[str]) -> bool:
    """Does the quote pair a rule with a penalty clause that punishes the breach of other articles only? 狗能坐电梯吗 →
    不戴嘴套会被罚吗？ was "answered" 0.76 by 第十八条 (乘坐电梯时…戴嘴套) with 第二十八条 (违反本条例第二十二条规定…处以三千元
    罚款, the fine for a dead dog left anywhere): the reader takes the fine for the rule quoted above it. ``sources``
    are the quoted sentences' passages with their title and article (``answerability.passage_text``); a penalty
    clause naming its conduct in words (拒不清理的，处以五十元罚款) is judged by the other guards."""
    rules: set[str] = set()
    penalties: set[str] = set()  # a penalty article's other sentences (构成犯罪的…) state no rule
    breaches: list[set[str]] = []
    # Numbers only, not which document: a rule and a fine from two regulations that share a number pass (lenient).
    for text, source in zip(quoted, sources):
        article = ARTICLE.search(source)
        where = {article.group()} if article else set()
        if PENALTY_STATED.search(text):
            articles = breached_articles(text)
            if not articles:
                return False
            breaches.append(articles)
            penalties |= where
        else:
            rules |= where
    rules -= penalties
    return bool(breaches) and bool(rules) and not any(breach & rules for breach in breaches)


def sanctions_conduct(question: str, quoted: Sequence[str], sources: Sequence[str] = ()) -> bool:
    """Is a sanction (``_SANCTION``) quoted, and does the quote speak of what the question does? A character pair of
    the question's conduct (养狗不拴绳 of 养狗不拴绳罚不罚) must be quoted with it: a review found 养狗不拴绳罚不罚 answered
    with 违反本条例第十四条规定的…处以一万元以上二万元以下罚款 (dog farms) and 老板不发工资罚不罚 with the overtime fine. The
    whole quote counts, not the sanction's sentence alone (…不佩戴安全头盔的，责令改正；拒不改正的，可以处…罚款). A question
    naming no conduct (罚不罚？ alone) is judged by the sanction alone here, and is no answer by
    ``fine_for_unnamed_conduct``."""
    if not any(_SANCTION.search(text) and not _REFERRAL.search(text) for text in quoted):
        return False
    pairs = conduct_pairs(question, sources)
    text = "".join(quoted)
    # two of its characters also do (房租晚交 for 逾期交纳租金: 租, 交), one does not (工资 for 工作时间: 工)
    if pairs and not any(pair in text for pair in pairs) and len({c for pair in pairs for c in pair if c in text}) < 2:
        return False
    # what the regulation is about (its title) is spoken of
    return conduct_share(question, f"{' '.join(titles_of(sources))} {text}", sources) >= CONDUCT_SPOKEN_OF


#: How much of what a question about a fine says was done the quote must speak of (weighted by how telling each word
#: is, ``general_weight``): one word of two is not enough when the other is the act (电动车 of 骑电动车打伞会不会罚,
#: answered 0.46 with the helmet fine; 公园 of 在湿地公园钓鱼罚不罚, 0.57 with the fine for naming a wetland park).
#: Chosen between 0.5 and 0.6 on the citizens' questions written for training, the open yes/no ones, a review's and
#: the eighteenth session's penalty probes: 0.6 kept five wrong answers back (0.5: three) and lost one right one at
#: both (给救护车让道压了实线，会被罚吗, quoting the ambulance's own right of way); the blind questions did not move.
CONDUCT_SPOKEN_OF = 0.6


@lru_cache(maxsize=1)
def _shipped_synonyms():
    """The shipped synonym table, read once (the staff's additions are not counted here)."""
    from ..synonyms import load_synonyms

    return load_synonyms()


#: Places a question says something was done in (小区, 家门口, 路边, 公园里): nouns of place (jieba's s and f tags), the
#: everyday ones citizens use, and any word ending in a postposition of place.
_PLACES = re.compile(r"^(?:小区|家里|家门口|门口|路上|路边|街上|马路|马路上|城里|市区|村里|楼下|楼上|院子|屋里|公园|河边)$|"
                     r"[里上内边旁]$")


#: The least weight of the words left once places are set aside for them to name an act (养鸡 0.8; 东西 0.2).
_TELLING_ACT = 0.5


def _is_place(word: str, tag: str) -> bool:
    return tag.startswith(("s", "f")) or bool(_PLACES.search(word))


def conduct_share(question: str, text: str, sources: Sequence[str] = ()) -> float:
    """The weighted share of the words of two or more characters naming what was done (``conduct_text``, without the
    quoted passages' titles and the places it was done in) that ``text`` speaks of: a character pair of the word, or
    one of its synonyms (拴绳 as 犬链). 1.0 — judged by the character pairs alone (``sanctions_conduct``) — when the
    question names a single such word and no place, or only places, or only everyday words besides its places."""
    conduct = conduct_text(without_titles(question, titles_of(sources)))
    named = [(word, tag) for word, _, _, tag in tagged_words(conduct) if len(word) >= 2 and _CHINESE.search(word)]
    # Where it was done is no part of what was done (小区 of 小区能养鸡吗 → 罚多少: the fine for keeping poultry in the
    # built-up area names no 小区; review): with a place set aside, the act alone must be spoken of.
    words = [word for word, tag in named if not _is_place(word, tag)]
    if not words or (len(words) < 2 and len(words) == len(named)):
        return 1.0
    pairs = content_pairs(text)
    synonyms = _shipped_synonyms()

    def spoken_of(word: str) -> bool:
        return bool(content_pairs(word) & pairs) or any(alternative in text for alternatives in
                                                        synonyms.expand(word).alternatives for alternative in alternatives)

    weights = [general_weight(word) for word in words]
    total = sum(weights)
    if len(words) < len(named) and total < _TELLING_ACT:
        return 1.0  # with its place set aside, the act is everyday words (洗 东西 of 在公园河里洗东西): judged by pairs
    return sum(w for word, w in zip(words, weights) if spoken_of(word)) / total if total else 1.0
