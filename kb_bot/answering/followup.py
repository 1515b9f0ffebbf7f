"""Comparing readings of a follow-up: the question as asked against its completed readings.

:mod:`kb_bot.answering.conversation` completes a follow-up with the conversation's subject and asks both; the rules
here say which reply to keep: the one that speaks of what the follow-up adds (its *aspect*), stays with the
conversation's document unless the question's own words clearly belong elsewhere, and is not a guess. They
see answers and the previous turn only, never the knowledge base, so they are tested with hand-made answers.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from ..legal import SELF_DESCRIPTION, is_adoption_line
from .answer import ANSWERED, NOT_FOUND, RELATED, Answer, related_text
from .fine_guards import PENALTY_ASKED, PENALTY_STATED, conduct_text, without_titles
from .guards import FEE_NOT_STATED, asks_a_fee
from .cues import core, names_nothing, names_only_details, strip_cues
from .question_reading import DETAIL_WORDS, SPECIFIC_TYPES, asked_type, carries, without_modal, without_noise
from .word_weights import general_weight, tagged_words

if TYPE_CHECKING:  # the conversation's turn; imported for annotations only (conversation imports this module)
    from .conversation import Turn

_RANK = {ANSWERED: 2, RELATED: 1, NOT_FOUND: 0}
#: A follow-up read as asked leaves the conversation's document only when its reply speaks this much more of
#: the question's words (share of their character pairs) than the reply staying in the document does.
NAMES_ELSEWHERE = 0.2
#: Confidences closer than this are the same (0.16 against 0.14 is noise, not a reason to rewrite a question).
NOISE = 0.05
#: Below this confidence a reply is a guess: a follow-up's reading that stays in the conversation's document needs
#: more than a guess's confidence to win without being surer than the reply found elsewhere.
GUESS = 0.3
#: A reply this much surer than another is clearly so (0.16 against 0.14 is noise).
CLEARLY_SURER = 0.1
#: How rare in general Chinese a word must be to name a conduct of its own (拒载 1.0, 逃票 0.91, 偷税 0.74, 拖欠 0.62;
#: 清理 0.45, 违反 0.41, 拆 0.39: ``word_weights.general_weight``).
TELLING = 0.6
#: One character that is a whole aspect of a follow-up: a fine, money, a fee, a tax.
ASPECT_CHARACTERS = frozenset("罚钱费税")


def support(answer: Answer) -> tuple[int, float]:
    """How well an answer is supported: its outcome first, then its confidence."""
    return _RANK.get(answer.status, 0), float(answer.confidence)


def grams(text: str) -> set[str]:
    """The character pairs of ``text`` (the text itself when it is one character)."""
    return {text[i : i + 2] for i in range(len(text) - 1)} or ({text} if text else set())


def about_itself(answer: Answer) -> bool:
    """Does the reply open with what its regulation says of itself (``legal.SELF_DESCRIPTION``: purpose, scope, who
    implements it)? A reading completed with the regulation's title matches these by the title's words alone
    (狗证去哪办 -> 要带什么？ read "郑州市城市养犬管理条例 要带什么" quoted 第一条 and 第四条), and they answer no follow-up;
    nor do its adoption and amendment lines (那要多久？ read "郑州市燃气管理条例 要多久" quoted two 修正 lines)."""
    return (bool(answer.sentences) and answer.status != NOT_FOUND
            and (bool(SELF_DESCRIPTION.search(answer.sentences[0].text)) or is_adoption_line(answer.sentences[0].text)))


def doc_of(answer: Answer) -> str | None:
    """The document a reply's first source comes from."""
    return answer.citations[0].doc if answer.citations else None


def quoted(answer: Answer) -> str:
    """The sentences a reply quotes, without its framing: 找到的原文中没有提到“进度”。最接近的内容… repeats the question's
    words, so a reply that only says it lacks the aspect must not count as speaking of it."""
    if answer.status == NOT_FOUND:
        return ""
    return "".join(s.text for s in answer.sentences) if answer.sentences else answer.answer


def overlap(aspect: Aspect, answer: Answer) -> float:
    """How much of the new aspect the quoted sentences mention (a follow-up must address it)."""
    return mentions(aspect, quoted(answer))


def mentions(aspect: Aspect, text: str) -> float:
    """The share of the aspect's character pairs ``text`` contains, to one decimal; a word counts as mentioned
    when the text has one of its synonyms (招工 asked, 用工 quoted)."""
    if not aspect.grams or not text:
        return 0.0
    covered = {g for g in aspect.grams if g in text}
    for term, alternatives in aspect.synonyms:
        if any(a in text for a in alternatives):
            # a one-character word (狗 quoted as 犬) covers the pairs it stands in
            covered |= {g for g in aspect.grams if term in g} if len(term) == 1 else grams(term) & aspect.grams
    return round(len(covered) / len(aspect.grams), 1)


@dataclass(frozen=True)
class Aspect:
    """What a follow-up adds: the character pairs of its content, and its words that have synonyms."""

    grams: frozenset[str]
    synonyms: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @classmethod
    def of(cls, question: str, documents: Any = None) -> Aspect:
        """The aspect of ``question``, with the shipped synonyms and the staff's (``documents``/synonyms.txt)."""
        from ..synonyms import load_synonyms

        content = core(question)
        expansion = load_synonyms(documents).expand(content)
        return cls(frozenset(grams(content)), tuple(zip(expansion.matched, expansion.alternatives)))

    @classmethod
    def of_conduct(cls, previous: Turn, documents: Any = None) -> Aspect:
        """What the turn before a fine follow-up said was done (吃东西 of 地铁里能吃东西吗), its words' synonyms counted
        (吃东西 quoted as 进食), without what the conversation's regulation is about: a word its title says (地铁 as
        轨道交通) is spoken of by every fine of it and tells none apart."""
        from ..synonyms import load_synonyms

        title = previous.unit or ""
        aspect = cls.of_runs(conduct_text(without_titles(previous.effective, [title])), load_synonyms(documents))
        subject = {term for term, alternatives in aspect.synonyms if any(a in title for a in alternatives)}
        kept = {g for g in aspect.grams if g not in title and not any(g in grams(term) for term in subject)}
        return cls(frozenset(kept), tuple(p for p in aspect.synonyms if p[0] not in subject))

    @classmethod
    def of_runs(cls, text: str, synonyms: Any) -> Aspect:
        """The aspect of words already picked out (``fine_guards.conduct_text``): each run's character pairs, none across
        the gaps between runs (a one-character run, 砍 of 砍了罚多少钱, stands for itself)."""
        expansion = synonyms.expand(text)
        return cls(frozenset(g for run in text.split() for g in grams(run)),
                   tuple(zip(expansion.matched, expansion.alternatives)))


@lru_cache(maxsize=256)
def topic_nouns(topic: str) -> str:
    """The nouns of a topic's question, in order (失业保险金 of 失业保险金能领多久, 电动车 of 电动车几岁能骑). Cached: a
    follow-up reads them three times (its readings, which of them hold, the tie-break between them)."""
    phrases: list[str] = []
    last_end, glued_place = -1, False
    for word, start, end, tag in tagged_words(topic):
        # a modal jieba glued to a verb (能领) is no noun; nouns next to each other are one (失业 保险金)
        if len(word) < 2 or not tag.startswith(("n", "vn", "j")) or without_modal(word, start, end)[0] != word:
            continue
        if phrases and start == last_end and not glued_place:  # 郑州 养狗: a place and a thing, not one noun
            phrases[-1] += word
        else:
            phrases.append(word)
        last_end, glued_place = end, tag.startswith("ns")
    return " ".join(dict.fromkeys(phrases))


def speaks_of(nouns: str, answer: Answer) -> float:
    """The share of the character pairs of ``nouns`` (``topic_nouns``) that the reply's quote holds."""
    pairs = {w[i:i + 2] for w in nouns.split() for i in range(len(w) - 1)}
    text = quoted(answer)
    return sum(p in text for p in pairs) / len(pairs) if pairs else 0.0


def best_reading(question: str, aspect: Aspect, readings: list[str], answers: list[Answer], previous: Turn,
                 conduct: Aspect | None = None) -> int:
    """Which completed reading to keep: one that finds something; then, for a question with no content of its
    own (是怎么帮的？ 都是哪些？), the previous question's reading when that question asked something of its own
    (拜访了几家企业？), else the topic's (it asks about the topic itself); else the one whose quoted
    sentences speak most of the new aspect, then the better outcome, then the higher confidence to one decimal
    (finer differences are noise), then the topic's reading (an office's name as subject pulls in the office's
    general sentences: 先进制造业开发区 进度 quotes the zone's overview, 奥克斯 进度 the project's progress). A fine asked
    for what was said (``fine_for_what_was_said``) keeps the reading in the conversation's document whose quote speaks
    most of the ``conduct`` the previous question named (``Aspect.of_conduct``), then the topic's: read with the
    regulation's title alone, 罚多少？ after 扣工人身份证行不行 quoted the regulation's first fine, a job agency's (0.76)."""
    own = core(question)
    # 罚多少？ keeps one character, but it names the aspect asked (the fine), unlike 都是哪些？ or 是怎么帮的？: read as
    # contentless, the topic's reading won over the regulation's (承重墙能打吗 -> 罚多少？ quoted another regulation).
    contentless = len(own) <= 1 and own not in ASPECT_CHARACTERS
    last = core(previous.effective)
    # as sure, the reply whose quote speaks of the topic's things (能带小孩吗 after 电动车几岁能骑: 第二十二条 on 电动自行车,
    # not 第十条 on school buses, both related at 0.55)
    nouns = topic_nouns(previous.topic)

    def key(i: int) -> tuple:
        answer, on_topic = answers[i], float(readings[i].startswith(f"{previous.topic} "))
        found = answer.status != NOT_FOUND
        if conduct is not None and conduct.grams:  # a fine speaking of the conduct, then any quote speaking of it
            return (found, doc_of(answer) == previous.doc, fine_speaking_of(conduct, answer),
                    mentions(conduct, quoted(answer)), on_topic, bool(nouns) and nouns in readings[i], *support(answer))
        if contentless:  # ...and before it the previous question's own (都是哪些？ after 拜访了几家企业？)
            return found, float(last != previous.topic and readings[i].startswith(f"{last} ")), on_topic, *support(answer)
        rank, confidence = support(answer)
        return (found, overlap(aspect, answer), not about_itself(answer), rank, round(confidence, 1),
                speaks_of(nouns, answer), on_topic, confidence)

    return max(range(len(readings)), key=key)


def fine_speaking_of(conduct: Aspect, answer: Answer) -> float:
    """How much the quoted fine that speaks most of ``conduct`` does (0 when no fine is quoted)."""
    return max((mentions(conduct, s.text) for s in answer.sentences if PENALTY_STATED.search(s.text)), default=0.0)


def completed_wins(question: str, aspect: Aspect, kind: str, literal: Answer, completed: Answer, previous: Turn,
                   conduct: Aspect | None = None) -> bool:
    """Is the completed reading's reply better than the literal one's? For a fine asked for what was said, it is when
    it quotes a fine that speaks more of the ``conduct`` (``Aspect.of_conduct``): 罚多少 after 城里能烧烤吗, as asked,
    quoted a 从其规定 clause and fines of the tourism and taxi regulations (one read as the barbecue fine), read with
    the question the barbecue fine (没收烧烤工具…并处五百元以上二万元以下罚款; QA, twentieth session)."""
    if names_another_subject(question, aspect, literal, completed, previous):
        return False
    if (conduct is not None and conduct.grams and completed.status != NOT_FOUND
            and fine_speaking_of(conduct, completed) > fine_speaking_of(conduct, literal)):
        return True  # never the other way: as asked, a fine elsewhere shares everyday verbs (清理) by chance
    ahead = overlap(aspect, completed) - overlap(aspect, literal)
    continues = completed.status != NOT_FOUND and doc_of(completed) == previous.doc != doc_of(literal)
    surer = completed.confidence - literal.confidence >= NOISE
    # a reply staying in the conversation's document that is no guess, against one from elsewhere not answered
    not_a_guess = literal.status != ANSWERED and completed.confidence >= GUESS
    if continues and (len(core(question)) <= 2 or names_only_details(question) or fine_for_what_was_said(question)
                      or (ahead > -NAMES_ELSEWHERE and (surer or kind == "explicit" or not_a_guess))) and (
            literal.status != NOT_FOUND or names_nothing(question) or speaks_to(question, aspect, completed)):
        # A follow-up stays with the conversation's document unless its words are clearly what the other
        # document's reply is about (a question naming that document's title stands alone earlier: see
        # names_source). Read alone, a follow-up is mostly its question words, and what they find elsewhere is
        # chance: 被抓到罚多少？ (地铁) finds 基本农田 fines, 不改呢？ (吸烟) 拒不整改 in another regulation,
        # 要开啥证明？ (殡葬) an article on certificates for firms. A follow-up found nowhere as asked stays "not
        # found" unless it names nothing (去哪办？) or the conversation's reply speaks of it: the subject's words
        # make any reading look on topic (明天天气怎么样？ after dogs, read with the dog regulation's title). A
        # question naming more than that moves only for a surer reply (two guesses near 0 are noise), unless it
        # points back itself (上街区也这样吗？ is "answered" 0.9 as asked by a sentence of the education article).
        return True
    stays = continues and ahead >= 0
    if previous.doc and doc_of(completed) == doc_of(literal) != previous.doc:
        # The subject did not keep the reply in the conversation's document: the question's own words decided
        # where it comes from (那个直播电商基地入驻了多少企业？ after a question on teachers), so it stands alone.
        return False
    if literal.status != NOT_FOUND and doc_of(literal) == previous.doc and ahead < 0:
        # Read as asked, the question is answered from the conversation's own document with more of what it asks
        # (楼宇经济具体怎么做的？ quotes how, its completed reading the sentence that opened the topic): the
        # completed reading's better outcome label alone does not make it the better reply.
        return False
    if kind == "explicit":
        # An explicit cue (那…呢, 它, 具体…): the literal reading lacks its subject; the completed one wins unless worse.
        return support(completed)[0] >= support(literal)[0]
    # A short question without a cue may stand on its own: it is completed only when the literal reading is not
    # answered and the completed one is...
    if literal.status == completed.status != NOT_FOUND:
        # ...or when both reach the same outcome (answered, or related: the closest sentences) but only the
        # completed reply speaks of what was asked, or the literal reply jumps to another document while the
        # completed one stays with the conversation's and is more confident by 0.1 or more (two replies near 0 are
        # both guesses, as for 今天郑州下雨吗？; 0.16 against 0.14 is noise, not a reason to rewrite a question).
        return ahead >= 0.3 or (stays and completed.confidence - literal.confidence >= CLEARLY_SURER)
    if literal.status == NOT_FOUND and stays:
        # ...or when the documents have nothing for it as asked, while the conversation's document, read with
        # the subject, quotes sentences that speak of the new aspect or give the kind of value it asks (多大才能骑？
        # after e-bike helmets: 年满十六周岁; 第一趟啥时候开的？ after the freight trains: 2021年12月2日). Not because that
        # reading is "answered": the subject's words alone answer 今天会下雨吗？ read with a labour regulation (review).
        return speaks_to(question, aspect, completed) or gives_asked_value(question, completed)
    # ...or when only it is answered, from the literal reply's document or speaking of the aspect (a subject's words
    # alone lift 济源路街道四大主攻方向 over the dog rule 我家能养几条狗？ found by itself).
    return support(completed)[0] > support(literal)[0] and completed.status == ANSWERED and (
        doc_of(completed) == doc_of(literal) or overlap(aspect, completed) > 0)


#: Kinds of value a follow-up may ask whose carriers are plain in a quote (a number, a date, a sum, an office).
_VALUE_TYPES = tuple(t for t in SPECIFIC_TYPES if t not in ("procedure", "address"))


def own_nouns(question: str) -> list[str]:
    """The nouns and days a question names of its own (房价 of 房价多少？, 双色球 of 双色球多少钱一注？), its asking words
    set aside first (or 什么时候 leaves 时候 as a noun); 第一趟, 骑, 开 name no thing."""
    content = without_noise(strip_cues(question))
    return [word for word, _, _, tag in tagged_words(content) if len(word) >= 2 and tag.startswith(("n", "t"))]


def speaks_to(question: str, aspect: Aspect, answer: Answer) -> bool:
    """Does the reply speak of what a follow-up found nowhere as asked adds: some of its aspect, and some noun it
    names of its own when it names any? Character pairs alone match by chance: 双色球多少钱一注？ after a dog question
    covered 0.4 of its pairs in the dog regulation's quote and was read with its title (the topic-switch grid)."""
    if overlap(aspect, answer) <= 0:
        return False
    nouns = own_nouns(question)
    text = quoted(answer)
    return not nouns or any(names_noun(noun, aspect, text) for noun in nouns)


def names_another_subject(question: str, aspect: Aspect, literal: Answer, completed: Answer, previous: Turn) -> bool:
    """Does a follow-up ask what was just asked of another subject (那公交车能拒载吗 after 出租车司机能拒载吗): a thing of
    its own the conversation never named, which the document the reply as asked comes from is about (its title) and
    the completed reply's quote never names, the rest of the question repeating the previous one? Read with the taxi
    regulation's title, 那公交车能拒载吗 was "answered" 0.91 with the taxi drivers' rule (QA, nineteenth session); 它的目标
    是什么？ or 还引进了什么人才？ ask an aspect of the same subject. A detail word (材料, 电话) is no subject."""
    said = f"{previous.effective} {previous.topic}"
    nouns = [n for n in own_nouns(question) if not DETAIL_WORDS.search(n) and grams(n).isdisjoint(grams(said))]
    if not nouns or literal.status == NOT_FOUND or not literal.citations:
        return False
    rest = core(question)
    for noun in nouns:
        rest = rest.replace(noun, " ")
    repeats = not grams(rest.replace(" ", "")).isdisjoint(grams(previous.effective)) if len(rest.strip()) > 1 else (
        bool(rest.strip()) and rest.strip() in {w for w, _, _, _ in tagged_words(previous.effective)})
    return repeats and any(names_noun(n, aspect, literal.citations[0].title) for n in nouns) and not any(
        names_noun(n, aspect, quoted(completed)) for n in nouns)


def names_noun(noun: str, aspect: Aspect, text: str) -> bool:
    """Does ``text`` name ``noun``: a character pair of it, or a synonym of a word of two or more characters of it
    (拴绳 quoted as 犬链; not 钱 as 元, which any fine has)?"""
    if not grams(noun).isdisjoint(grams(text)):
        return True
    return any(len(term) >= 2 and (term in noun or noun in term) and any(a in text for a in alternatives)
               for term, alternatives in aspect.synonyms)


def fine_for_what_was_said(question: str) -> bool:
    """Does a follow-up ask the fine for something it names no thing of (不清理罚多少？ 违反了罚多少？ 带了罚多少？)? What
    was done is what the conversation spoke of, and every regulation fines its own conduct: read as asked, a review
    found 不清理罚多少？ after a question on dog mess "answered" 0.78 with the fine for not cleaning up a heritage site
    (拒不清理的，处以五十元罚款), which shares the verb only. A follow-up naming a thing (出租车拒载罚多少？) may leave."""
    if not PENALTY_ASKED.search(question) or own_nouns(question):
        return False
    # ...nor one naming a conduct of its own in a telling word (拒载, 逃票, 偷税, 拖欠工资: a review found 拒载罚多少？
    # after a dog question kept in the dog regulation); 清理, 违反, 带 or 戴 are everyday verbs any rule may use
    return not any(general_weight(word) >= TELLING for word, _, _, _ in tagged_words(conduct_text(question))
                   if len(word) >= 2)


def gives_asked_value(question: str, answer: Answer) -> bool:
    """Does the reply quote the kind of value ``question`` asks (a date for 啥时候, a number for 多大, a sum for
    多少钱, an office for 找谁), and every thing the question names? Said of a reply from the conversation's document,
    it is a reason to read a follow-up found nowhere as asked with the conversation's subject; a question asking
    nothing of the kind (明天天气怎么样？) or naming a thing of its own gets no such reason."""
    kind = asked_type(question)
    text = quoted(answer)
    if kind not in _VALUE_TYPES or not carries(kind, text):
        return False
    # A noun or a day of its own the quote never mentions (房价多少？ after the freight trains: 共开行9列 carries a
    # number; 明天几点下雨？) makes it a question of its own.
    return not any(grams(noun).isdisjoint(grams(text)) for noun in own_nouns(question))


def hedged(answer: Answer) -> Answer:
    """A completed reading's "answered" reply whose quote says nothing of what the follow-up names, as related:
    its confidence came from the subject's words (能带人吗？ read with the traffic regulation's title was
    "answered" 0.82 by the article on whom the regulation binds)."""
    closest = answer.answer if answer.mode == "extractive" else quoted(answer)
    return replace(answer, found=False, status=RELATED, mode="related",
                   answer=related_text(answer.question, answer.missing, closest))


def missing_of_its_own(answer: Answer, question: str) -> Answer:
    """A completed reading's related reply naming as missing only what ``question`` itself asks: the missing word is
    read off the reading, and a word of the subject it borrowed is not what the person asked (不拴绳罚多少？ read with
    带狗出门遛弯要注意啥 said 找到的原文中没有提到“出门遛弯”; 要准备啥材料？ after a parking question, “收费”)."""
    if answer.status != RELATED or not answer.missing or answer.missing in question or (
            answer.missing == FEE_NOT_STATED and asks_a_fee(question)):
        return answer  # ...and the fee no quoted sentence states, asked by 多少钱 itself (judge.fee_not_stated)
    return with_missing(answer, None)


def with_missing(answer: Answer, missing: str | None) -> Answer:
    """A related reply whose opening line names ``missing`` instead (``None``: the generic line), quotes unchanged; as it
    is when its text does not open with the line ``related_text`` wrote (an LLM's wording, a staff answer)."""
    head = related_text(answer.question, answer.missing, "")
    if not answer.answer.startswith(head):
        return answer
    return replace(answer, missing=missing, answer=related_text(answer.question, missing, "") + answer.answer[len(head):])


def names_source(aspect: Aspect, answer: Answer, previous: Turn) -> bool:
    """Does a short question, answered as asked from another document than the conversation's, name that document
    (its words or their synonyms in the cited title: 出租车 -> 出租汽车)? Then it stands on its own."""
    if answer.status == NOT_FOUND or not answer.citations or doc_of(answer) == previous.doc or answer.confidence < NOISE:
        return False  # a guess (投资总额多少？ -> 0.04 from the 政府投资项目 regulation) names nothing it found
    return mentions(aspect, answer.citations[0].title) > 0
