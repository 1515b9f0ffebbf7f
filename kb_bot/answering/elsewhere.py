"""A detail the quoted passages leave out, named elsewhere in the same document: say where, and quote it.

A related reply says what the passages it quotes do not mention (找到的原文中没有提到“收费”). Read by a citizen that is
"the documents do not say", and a QA session (fourteenth session) found it false six times in 40 replies: 打120要收费吗
quoted two articles of the emergency-care regulation without 收费, while its 第二十四条 says fees follow the approved
standard; 物业公司电话多少 and 自来水抢修电话 the same with the articles requiring a complaint number to be posted.
So before such a reply goes out, the other passages of the quoted documents are searched for the missing word; the
first that names it (the passage sharing most of the question's characters) is quoted with its own citation, and
the reply says the closest passages do not mention the word but that one does. The reply stays related: naming a
word is not answering the question.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Sequence

from ..legal import REPEALED
from .answer import RELATED, Answer, AnswerSentence, citation_of, replies_in_chinese
from .answerability import split_sentences


def mentioned_elsewhere(answer: Answer, chunks: Sequence[Any]) -> Answer:
    """``answer`` with the passage of a quoted document that names its missing detail, when there is one."""
    if answer.status != RELATED or not answer.missing or not answer.citations:
        return answer
    word, cited = answer.missing, {c.chunk_id for c in answer.citations}
    docs = [c.doc for c in answer.citations if c.kind != "faq" and c.status is None]
    found = [chunk for chunk in chunks
             if chunk.doc in docs and chunk.chunk_id not in cited and word in chunk.text
             and getattr(chunk, "status", None) != REPEALED]
    if not found:
        return answer
    asked = set(answer.question)
    # the first quoted document's passage before another's; then the one sharing most of the question's characters
    chunk = max(found, key=lambda c: (-docs.index(c.doc), len(asked & set(c.text))))
    start, end = next((s, e) for s, e in split_sentences(chunk.text) if word in chunk.text[s:e])
    sentence = chunk.text[start:end].strip()
    number = len(answer.citations) + 1
    where = f"《{chunk.title}》{getattr(chunk, 'article', None) or ''}"
    chinese = replies_in_chinese(answer.question)
    lead = "）：" if chinese else "): "  # related_text's "closest passages (check …): " before the quotes
    closest = answer.answer.split(lead, 1)[1] if lead in answer.answer else ""
    if chinese:
        text = (f"最接近的原文没有提到“{word}”，{where}提到了：{sentence}[{number}]"
                + (f"\n其他相关内容（请核对是否回答了您的问题）：{closest}" if closest else ""))
    else:
        text = (f"The closest passages do not mention “{word}”; {where} does: {sentence}[{number}]"
                + (f"\nOther related passages (check whether they answer your question): {closest}" if closest else ""))
    return replace(answer, answer=text, citations=(*answer.citations, citation_of(chunk, 0.0, (start, end))),
                   sentences=(*answer.sentences, AnswerSentence(sentence, number - 1)), missing=None)
