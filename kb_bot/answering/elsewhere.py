"""A detail the quoted passages leave out, named elsewhere in the same document: say where, and quote it.

A related reply says what the passages it quotes do not mention (找到的原文中没有提到“收费”). Read by a citizen that is
"the documents do not say", and a QA session (fourteenth session) found it false six times in 40 replies: 打120要收费吗
quoted two articles of the emergency-care regulation without 收费, while its 第二十四条 says fees follow the approved
standard; 物业公司电话多少 and 自来水抢修电话 the same with the articles requiring a complaint number to be posted.

So before such a reply goes out, the passages found by a wider search for the question (``candidates``, best first)
that belong to a quoted document and name the missing detail are looked at; the first sentence naming it is quoted
after the closest passages, with its own citation, and the line no longer says the documents leave it out. Only for
a detail word (电话, 收费, 材料 …: ``question_reading.DETAIL_WORDS``; a review found 处理, 内容 or 退休 matched in
passages about something else), never a list item torn from its lead-in, and never a penalty clause for a question
on what something costs (``guards.fines_for_a_fee``). The reply stays related: naming a word is not answering.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any, Callable, Sequence

from ..legal import REPEALED
from .answer import RELATED, Answer, AnswerSentence, citation_of, related_text, replies_in_chinese
from .answerability import split_sentences
from ..sanctions import breached_articles, chinese_numeral, exempted, items_of, scope
from .fine_guards import PENALTY_ASKED, PENALTY_STATED
from .guards import fines_for_a_fee
from .question_reading import DETAIL_WORDS, without_noise
from .word_weights import content_pairs

#: How much of a conduct a passage must speak of to be about it (``mentions``): half of it; the subject alone (狗 as 犬)
#: is in every article of its regulation.
SPEAKS_OF = 0.5
_ITEM = re.compile(r"^\s*[（(][一二三四五六七八九十\d]+[）)]")
_ARTICLE = re.compile(r"^\s*第[一二三四五六七八九十百零〇]+条")


def mentioned_elsewhere(answer: Answer, candidates: Callable[[], Sequence[Any]], synonyms: Sequence[str] = ()) -> Answer:
    """``answer`` with a sentence of a quoted document naming its missing detail, when a wider search finds one.

    The passage must also speak of the question's subject: a pair of its characters besides the detail, or one of
    the words the synonym table gives for it (``synonyms``: 急救 for 120), in its text or its document's title
    (公积金咋提取 需要啥手续 found 财会人员离任时…办清交接手续 in the village-finance regulation)."""
    word = answer.missing
    if answer.status != RELATED or not word or not answer.citations or not DETAIL_WORDS.search(word):
        return answer
    docs = {c.doc for c in answer.citations if c.kind != "faq" and c.status is None}
    cited = {c.chunk_id for c in answer.citations}
    subject = _subject(answer.question, word, synonyms)
    for chunk in candidates():
        if (chunk.doc not in docs or chunk.chunk_id in cited or word not in chunk.text
                or getattr(chunk, "status", None) == REPEALED
                or not any(s in f"{chunk.title} {chunk.text}" for s in subject)):
            continue
        found = _sentence(answer.question, word, chunk.text)
        if found is not None:
            return _with(answer, chunk, *found, f"提到了“{word}”", f"mentions “{word}”")
    return answer


def sanction_of_quoted_rule(answer: Answer, chunks_of: Callable[[str], Sequence[Any]],
                            rules: Callable[[], Sequence[Any]] = tuple,
                            mentions: Callable[[str], float] | None = None, conduct: str = "") -> Answer:
    """``answer`` with the clause sanctioning the rule it quotes, when the question asks about a fine and the quote
    states the rule but not its sanction. A regulation's penalty clauses name the rule by its number (第二十七条 违反本
    条例…第十八条除第四项以外的其他规定的…处以二百元以上五百元以下罚款), so the sentences a question on the conduct finds
    are not the ones with the fine.

    The rules looked at: each quoted article, in the order the reply cites them, then the articles of the quoted
    documents that ``rules`` (a search for the conduct) finds and whose text the conduct is spoken of in (``mentions``:
    遛狗不拴绳会被罚吗 quoted two penalty clauses for other rules; its rule is 第十八条（一）…束犬链). The item of the rule
    the conduct falls under is the one ``mentions`` scores highest beyond the article's lead-in (``sanctions.items_of``;
    items scored alike must all be covered: 带狗坐地铁 falls under（六）or（七）, both fined by 第二十七条); the clause must
    sanction that item (``sanctions.Scope``): with no item known, only the whole article, never a clause citing one of its
    paragraphs or items or excepting some (第十八条除第四项以外: a review found 不带会被罚吗？ about item four given the
    fine that excludes it). Nothing when two different sentences qualify. The reply stays related."""
    quoted_articles = {c.article for c in answer.citations if c.article}
    quotes = _by_citation(answer.sentences).values()
    if (answer.status != RELATED or not answer.citations or not PENALTY_ASKED.search(answer.question)
            or any(_sanctions_the_quote(text, quoted_articles, mentions) for text in quotes)):
        return answer
    cited = {c.chunk_id for c in answer.citations}
    quoted = [(c.doc, c.article) for c in answer.citations
              if c.kind == "regulation" and c.article and c.status is None]
    docs = {doc for doc, _ in quoted}
    found_by_search = [(chunk.doc, chunk.article) for chunk in rules()
                       if chunk.doc in docs and getattr(chunk, "article", None) and getattr(chunk, "status", None) is None
                       and not PENALTY_STATED.search(chunk.text) and mentions is not None
                       and mentions(chunk.text) >= SPEAKS_OF]
    documents: dict[str, tuple[list, list]] = {}  # a document's chunks and penalty sentences, read once
    for doc, article in dict.fromkeys([*quoted, *found_by_search]):
        if doc not in documents:
            chunks = [c for c in chunks_of(doc) if getattr(c, "status", None) != REPEALED]
            documents[doc] = chunks, [(chunk, start, end) for chunk in chunks for start, end in split_sentences(chunk.text)
                                      if PENALTY_STATED.search(chunk.text[start:end])]
        chunks, penalties = documents[doc]
        text = "\n".join(dict.fromkeys(c.text for c in chunks if c.article == article))  # overlapping chunks once
        candidates = items_of(text, mentions) if mentions else frozenset()
        item = next(iter(candidates)) if len(candidates) == 1 else None
        if any(exempted(text, i, lambda party: not content_pairs(conduct).isdisjoint(content_pairs(party)))
               for i in candidates):
            continue  # 残疾人携带导盲犬…不受…第六项至第八项规定的限制, asked about a guide dog
        found = [(chunk, start, end) for chunk, start, end in penalties
                 if (cover := scope(chunk.text[start:end], article)) is not None and cover.covers_all(candidates)]
        if len({chunk.text[start:end].strip() for chunk, start, end in found}) == 1 and found[0][0].chunk_id not in cited:
            chunk, start, end = found[0]
            rule = article + (f"第（{chinese_numeral(item)}）项" if item is not None and 0 < item < 100 else "")
            return _with(_without_other_fines(answer), chunk, start, end, f"规定了违反{rule}的处罚",
                         f"sets the penalty for breaking {rule}")
    return answer


def _without_other_fines(answer: Answer) -> Answer:
    """``answer`` without the quoted passages that are fines, once the rule's own fine is found: none of them was the
    quote's own (``_sanctions_the_quote``), and shown first they read as the answer (带狗坐地铁罚多少 opened with the
    dog-farm fine, 一万元以上二万元以下; 私自从路灯上接电，罚多少 with the fine for black exhaust)."""
    fines = {i for i, text in _by_citation(answer.sentences).items() if PENALTY_STATED.search(text)}
    if not fines:
        return answer
    number = {old: new for new, old in enumerate(i for i in range(len(answer.citations)) if i not in fines)}
    sentences = tuple(AnswerSentence(s.text, number[s.citation]) for s in answer.sentences if s.citation in number)
    closest = "".join(f"{text}[{i + 1}]" for i, text in _by_citation(sentences).items())
    return replace(answer, answer=related_text(answer.question, answer.missing, closest), sentences=sentences,
                   citations=tuple(c for i, c in enumerate(answer.citations) if i in number))


def _by_citation(sentences: Sequence[AnswerSentence]) -> dict[int, str]:
    """The quoted text of each cited passage, by citation, in the order quoted: a penalty article's lead-in and its
    items are sentences of their own."""
    texts: dict[int, str] = {}
    for sentence in sentences:
        texts[sentence.citation] = texts.get(sentence.citation, "") + sentence.text
    return texts


def _sanctions_the_quote(text: str, articles: set[str], mentions: Callable[[str], float] | None) -> bool:
    """Is ``text`` (one cited passage's quote) a penalty clause that may be the quote's own: one naming its conduct in
    words (of the asked conduct, when ``mentions`` can tell), or citing a quoted article? A fine for other articles
    only (在地铁里吃东西罚多少 quoted 第三十一条 with 第五十五条, the operator's fines for breaking 第二十三条, 第二十七条 …)
    leaves the quoted rule's sanction to be found."""
    if not PENALTY_STATED.search(text):
        return False
    breached = breached_articles(text)
    if breached:
        return bool(breached & articles)
    # naming its conduct in words: the quote's own unless it speaks of other conduct (遛狗不拴绳会被罚吗 quoted 第二十九条,
    # dogs frightening people, 依照《治安管理处罚法》予以处罚; 狗不拴绳罚多少 the registration fine, which names 犬 only)
    return mentions is None or mentions(text) >= SPEAKS_OF


def _subject(question: str, word: str, synonyms: Sequence[str]) -> set[str]:
    """What a passage must name to be about the question: pairs of its characters and its numbers or Latin words
    outside the detail and the asking words, and the synonym table's words for it."""
    rest = without_noise(question.replace(word, " "))
    return content_pairs(rest) | set(re.findall(r"[A-Za-z0-9]{2,}", rest)) | {s for s in synonyms if s and s != word}


def _sentence(question: str, word: str, text: str) -> tuple[int, int] | None:
    """(start, end) of the first sentence of ``text`` naming ``word`` that can stand alone and is no fine given for
    a fee. A two-character word counts said with a character or two between (收费 in 收取费用: the web QA saw 打120要收费吗
    quote 收费标准应当向社会公示 instead of the sentence before it, 按照…标准收取费用)."""
    said = re.compile(f"{re.escape(word[0])}.{{0,2}}{re.escape(word[1])}" if len(word) == 2 else re.escape(word))
    spans = [(s, e) for s, e in split_sentences(text) if said.search(text[s:e]) and not _ITEM.match(text[s:e])]
    fines = fines_for_a_fee(question, [text[s:e] for s, e in spans])
    return next((span for span, fine in zip(spans, fines) if not fine), None)


def _with(answer: Answer, chunk: Any, start: int, end: int, says: str, says_en: str) -> Answer:
    """The related reply with the sentence ``chunk.text[start:end]`` added after the closest passages, introduced
    as what its article ``says`` (提到了“收费”)."""
    sentence = chunk.text[start:end].strip()
    number = len(answer.citations) + 1
    article = getattr(chunk, "article", None)
    where = f"《{chunk.title}》" + (article if article and not _ARTICLE.match(sentence) else "")  # 第三条 once
    chinese = replies_in_chinese(answer.question)
    lead = "）：" if chinese else "): "  # related_text's "closest passages (check …): " before the quotes
    closest = answer.answer.split(lead, 1)[1] if lead in answer.answer else ""
    if not closest:  # every quoted passage was a fine for something else (``_without_other_fines``)
        text = (f"请核对是否回答了您的问题：{where}{says}：{sentence}[{number}]" if chinese else
                f"Check whether this answers your question: {where} {says_en}: {sentence}[{number}]")
    elif chinese:
        text = (f"最接近的原文没有直接回答（请核对是否回答了您的问题）：{closest}\n"
                f"{where}{says}：{sentence}[{number}]")
    else:
        text = (f"No passage found clearly answers this (check whether they answer your question): {closest}\n"
                f"{where} {says_en}: {sentence}[{number}]")
    return replace(answer, answer=text, citations=(*answer.citations, citation_of(chunk, 0.0, (start, end))),
                   sentences=(*answer.sentences, AnswerSentence(sentence, number - 1)), missing=None)
