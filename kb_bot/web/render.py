"""HTML for the web app: answers with source cards, topic entries, example questions.

Pure functions of answers and topic entries (no Gradio import), so they are easy to test.
Every piece of document text is rendered as text only (``esc``): HTML-escaped, with the characters
Markdown acts on (links, images, code spans, emphasis, autolinks, LaTeX) written as character
references, and line breaks as ``<br>`` so no blank line can end the HTML block a chat message
starts with. The only markup that reaches the browser is the markup written below
(``details``/``summary``/``mark``/``blockquote``..., all of which pass Gradio's client-side sanitiser).
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any, Iterator, Sequence

from .. import legal
from ..answering.answer import replies_in_chinese
from ..answering.topics import english_name
from ..answering.word_weights import CJK

#: Questions for topic groups that carry no example of their own.
TOPIC_QUESTIONS: dict[str, str] = {
    "融资贷款": "区里有没有帮企业贷款的服务？",
    "招聘用工": "企业缺工人，区里能帮忙招人吗？",
    "水电保障": "企业停水停电找谁？开发区能帮忙协调吗？",
    "教育": "上街区在提升教育质量方面有哪些举措？",
}

_REF = re.compile(r"\[(\d+)\]")
_TOKEN = re.compile(r"\[\d+\]|.", re.S)


#: Characters Markdown (and Gradio's LaTeX and autolink passes) act on, written as numeric references.
_INERT = {ord(ch): f"&#{ord(ch)};" for ch in "\\`*_[]!#~|$:@{}"}
_INERT.update({ord("&"): "&amp;", ord("<"): "&lt;", ord(">"): "&gt;", ord('"'): "&quot;", ord("'"): "&#x27;"})
_WWW = re.compile(r"(?i)(www)\.")


def esc(text: Any) -> str:
    """Text as inert HTML: never markup, never Markdown (``![x](http://...)`` stays those characters)."""
    return _WWW.sub(r"\1&#46;", ("" if text is None else str(text)).translate(_INERT))


def text_html(text: Any) -> str:
    """``esc`` with line breaks as ``<br>``: safe inside a chat message, where a blank line would end the HTML."""
    return re.sub(r"\r\n?|\n", "<br>", esc(text))


def chinese(text: str) -> str:
    """The Chinese half of a bilingual message ("已存在同名文件 … / a document named … already exists"): the staff
    tab is in Chinese; the command line shows both halves."""
    first, sep, _ = text.partition(" / ")
    return first if sep and CJK.search(first) else text


def refusal(message: str, hint: str | None = None) -> str:
    """A refusal in the staff tab: 未完成 and what was wrong, then what to do, in Chinese and as text."""
    return f"**未完成**：{text_html(chinese(message))}" + (f"（{text_html(chinese(hint))}）" if hint else "")


def question_for_topic(name: str, guide: Any = None) -> str:
    """A natural question a citizen could ask about a topic group (the guide's own example first)."""
    for group in getattr(guide, "groups", ()) or ():
        if group.name == name and getattr(group, "example", None):
            return group.example
    return TOPIC_QUESTIONS.get(name) or f"上街区在{name}方面有哪些政策和服务？"


def example_questions(guide: Any, limit: int = 6) -> list[str]:
    """Example questions drawn from the topic guide's groups (in guide order)."""
    questions = []
    for group in getattr(guide, "groups", ()) or ():
        if group.entries:
            question = question_for_topic(group.name, guide)
            if question not in questions:
                questions.append(question)
        if len(questions) >= limit:
            break
    return questions


def highlight(text: str, span: Sequence[int] | None, breaks: bool = True) -> str:
    """``text`` escaped, with ``text[span[0]:span[1]]`` wrapped in ``<mark>``.

    ``breaks``: line breaks as ``<br>`` (chat messages); ``False`` keeps them for the caller to split.
    """
    out = text_html if breaks else esc
    if not span:
        return out(text)
    start, end = max(0, int(span[0])), min(len(text), int(span[1]))
    if end <= start:
        return out(text)
    return f"{out(text[:start])}<mark>{out(text[start:end])}</mark>{out(text[end:])}"


def _where(unit: str | None, section: str | None) -> str:
    return " · ".join(esc(part) for part in (unit, section) if part)


def _legal_where(item: Any, lang: str = "zh") -> str:
    """A regulation's date (起施行版本), an article's (发布) and, for an older version, 已被《…》取代.

    A staff answer names its date in its section already. Every note is escaped here: a date comes from front
    matter that anyone who can upload a document writes.
    """
    issued, kind = getattr(item, "issued", None), getattr(item, "kind", None)
    notes = []
    if issued and kind != "faq":
        notes.append(esc(WORDS[lang]["in_force" if kind == "regulation" else "published"].format(date=issued)))
    if getattr(item, "status", None) == legal.SUPERSEDED:
        notes.append(f'<span class="kb-superseded">{esc(legal.superseded_note(item.superseded_by))}</span>')
    if getattr(item, "scope", None):
        notes.append(f'<span class="kb-scope">{esc(item.scope)}</span>')
    return " · ".join(notes)


def citation_card(citation: Any, number: int, opened: bool = False, lang: str = "zh") -> str:
    """One expandable source card: title (《条例》第X条 for a regulation), unit, section, the passage marked."""
    where = " · ".join(part for part in (_where(citation.unit, citation.section), _legal_where(citation, lang))
                       if part)
    title = legal.citation_label(citation.title, getattr(citation, "article", None))
    return (
        f'<details class="kb-card"{" open" if opened else ""}>'
        f'<summary><span class="kb-num">{number}</span> <strong>{esc(title)}</strong>'
        + (f'<br><span class="kb-where">{where}</span>' if where else "")
        + "</summary>"
        f'<blockquote class="kb-quote">{highlight(citation.text, citation.span)}</blockquote>'
        f'<div class="kb-doc">{WORDS[lang]["file"]}{esc(citation.doc)}</div>'
        "</details>"
    )


def _answer_html(text: str) -> str:
    """The answer sentences, escaped, with [n] markers as small reference numbers."""
    parts = _REF.split(text)  # text, number, text, ...: markers become markup, everything else stays text
    return "".join(f'<sup class="kb-ref">[{part}]</sup>' if i % 2 else text_html(part) for i, part in enumerate(parts))


#: The words around an answer, in the question's language (an English question gets English around it).
WORDS = {
    "zh": {"related": "未找到直接答案", "related_sources": "相关内容（{n}，不是对问题的回答）", "sources": "来源（{n}）",
           "try_topics": "也可以点击下方主题，换个问题试试：", "pick_topic": "点击下方主题，换个问题试试：",
           "file": "出处文件：", "in_force": "{date} 起施行版本", "published": "{date} 发布", "looking": "正在查找相关政策……",
           "failed": "抱歉，系统暂时无法回答：{reason}", "understood": "按“{text}”理解（如理解有误，请换个完整的问法）",
           "cut": "问题较长，只按前 {n} 个字回答。"},
    "en": {"related": "No direct answer", "related_sources": "Related passages ({n}; they do not answer the question)",
           "sources": "Sources ({n})", "try_topics": "Or pick a topic below to ask another question:",
           "pick_topic": "Pick a topic below to ask another question:", "file": "File: ",
           "in_force": "version in force from {date}", "published": "published {date}", "looking": "Looking through the policies…",
           "failed": "Sorry, the assistant cannot answer right now: {reason}",
           "understood": "Understood as “{text}” (if that is wrong, ask the whole question again)",
           "cut": "The question is long: only its first {n} characters were used."},
}


def language(text: str | None) -> str:
    """"zh" unless the text is written in English (see ``replies_in_chinese``)."""
    return "zh" if replies_in_chinese(text or "") else "en"


def words(text: str | None) -> dict[str, str]:
    """The interface words for a question (see WORDS)."""
    return WORDS[language(text)]


def understood_html(answer: Any) -> str:
    """The line that shows how a follow-up was understood (empty when taken as asked)."""
    if not getattr(answer, "understood_as", None):
        return ""
    line = words(answer.question)["understood"].format(text=esc(answer.understood_as))
    return f'<div class="kb-understood kb-muted">{line}</div>'


def answer_html(answer: Any) -> str:
    """The complete chat message: an answer with sources, related passages marked as such, or not found."""
    w = words(answer.question)
    status = getattr(answer, "status", "answered" if answer.found else "not_found")
    if status == "related":
        cards = "".join(citation_card(replace(c, span=None), i, lang=language(answer.question))
                        for i, c in enumerate(answer.citations, start=1))
        return (
            f'<div class="kb-related"><div class="kb-badge kb-badge-related">{w["related"]}</div>'
            f'<div class="kb-answer">{_answer_html(answer.answer)}</div>'
            + (f'<div class="kb-sources"><div class="kb-sources-title">'
               f'{w["related_sources"].format(n=len(answer.citations))}</div>{cards}</div>' if cards else "")
            + (f'<div class="kb-suggest">{w["try_topics"]}</div>' if answer.suggestions else "")
            + "</div>"
        )
    if not answer.found:
        parts = [f'<div class="kb-answer kb-notfound">{_answer_html(answer.answer)}</div>']
        if answer.suggestions:
            parts.append(f'<div class="kb-suggest">{w["pick_topic"]}</div>')
        return "".join(parts)
    cards = "".join(citation_card(c, i, opened=(i == 1), lang=language(answer.question))
                    for i, c in enumerate(answer.citations, start=1))
    return (
        f'<div class="kb-answer">{_answer_html(answer.answer)}</div>'
        + (f'<div class="kb-sources"><div class="kb-sources-title">{w["sources"].format(n=len(answer.citations))}'
           f'</div>{cards}</div>' if cards else "")
    )


def stream_answer(answer: Any, step: int = 4) -> Iterator[str]:
    """Growing prefixes of the answer text, as chat HTML (a reference marker is never cut)."""
    tokens = _TOKEN.findall(answer.answer)
    css = "kb-answer" if answer.found else "kb-answer kb-notfound"
    for end in range(step, len(tokens) + step, step):
        yield f'<div class="{css}">{_answer_html("".join(tokens[:end]))}<span class="kb-cursor">▍</span></div>'


#: The line that points at the topic buttons under a reply (``WORDS``' try_topics / pick_topic), as answer_html writes it.
_TOPIC_POINTER = re.compile(r'<div class="kb-suggest">[^<]*</div>')


def without_topic_pointer(html: str) -> str:
    """A reply's HTML without its "点击下方主题" line: once the reply is no longer the latest, the chat shows no topic
    buttons under it, and the line would point at nothing (web QA). The answer text, which names the topics
    itself when nothing was found, stays."""
    return _TOPIC_POINTER.sub("", html)


def suggestion_options(answer: Any, guide: Any = None) -> list[dict[str, str]]:
    """Chatbot options (clickable buttons) for a not-found answer's suggested topics: each asks its example.

    For an English question the topic is named in English; the example asked stays Chinese, the language of
    the documents (an English question is never answered from them, only shown related passages).
    """
    if answer.found:
        return []
    english = language(answer.question) == "en"
    options = []
    for name in answer.suggestions:
        question = question_for_topic(name, guide)
        label = topic_label(name, guide) if english else name
        options.append({"value": question, "label": f"{label}：{question}" if not english else f"{label}: {question}"})
    return options


def topic_label(name: str, guide: Any = None) -> str:
    """A topic's English name ("Financing and loans"), else its Chinese one."""
    return english_name(name, guide)


# --------------------------------------------------------------------------- topic guide


def entry_matches(entry: Any, query: str) -> float:
    """How well a topic entry matches a search query (0 = not at all), by words and character bigrams."""
    query = "".join(query.split()).lower()
    if not query:
        return 1.0
    haystack = f"{entry.summary} {entry.title} {entry.section or ''} {entry.text}".lower()
    if query in haystack:
        return 2.0
    grams = {query[i : i + 2] for i in range(len(query) - 1)} or {query}
    found = sum(1 for g in grams if g in haystack)
    return found / len(grams)


def entry_detail(entry: Any, article: str | None) -> str:
    """The passage of a topic entry and, expandable, the whole article with the passage marked."""
    where = _where(entry.unit, entry.section)
    passage_span = None
    summary = (entry.summary or "").rstrip("…").rstrip(".")
    if summary and summary in entry.text:
        start = entry.text.index(summary)
        end = start + len(summary)
        if entry.summary.endswith("…"):  # a shortened sentence: mark it to its end
            stops = [i for i in (entry.text.find(p, end) for p in "。！？") if i >= 0]
            end = min(stops) + 1 if stops else len(entry.text)
        passage_span = (start, end)
    out = [
        '<div class="kb-entry">',
        f'<div class="kb-entry-topic">{esc(entry.topic)}</div>',
        f"<h3>{esc(legal.citation_label(entry.title, getattr(entry, 'article', None)))}</h3>",
        f'<div class="kb-where">{where}</div>' if where else "",
        f'<div class="kb-where">{_legal_where(entry)}</div>' if getattr(entry, "issued", None) else "",
        f'<blockquote class="kb-quote">{highlight(entry.text, passage_span)}</blockquote>',
        f'<div class="kb-doc">出处文件：{esc(entry.doc)}</div>',
    ]
    if article:
        pos = article.find(entry.text)
        marked = highlight(article, (pos, pos + len(entry.text)) if pos >= 0 else None, breaks=False)
        paragraphs = "".join(f"<p>{p}</p>" for p in marked.split("\n") if p.strip())
        out.append(f'<details class="kb-card kb-article"><summary>阅读全文：{esc(entry.title)}</summary>'
                   f'<div class="kb-article-text">{paragraphs}</div></details>')
    else:
        out.append('<div class="kb-doc">原文件已不在文档目录中（将在下次更新索引后移除）。</div>')
    out.append("</div>")
    return "".join(out)


# --------------------------------------------------------------------------- staff


def human_size(size: int | None) -> str:
    """A file size for people: 512 B, 3.2 KB, 1.5 MB."""
    if size is None:
        return ""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / 1048576:.1f} MB"


def local_time(iso: str | None) -> str:
    """An ISO UTC time as local ``YYYY-MM-DD HH:MM:SS``."""
    if not iso:
        return ""
    from datetime import datetime

    try:
        return datetime.fromisoformat(iso).astimezone().strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return iso


def report_markdown(report: dict) -> str:
    """A refresh report (BuildReport.to_json()) for staff, in Chinese."""
    lines = ["**索引更新完成**" if report.get("generation") else "**索引已是最新，无需更新**", ""]
    lines.append(f"- 新增：{len(report.get('added', []))}　修改：{len(report.get('changed', []))}　"
                 f"删除：{len(report.get('removed', []))}　未变：{report.get('unchanged', 0)}")
    lines.append(f"- 重新计算向量的片段：{report.get('chunks_embedded', 0)}　"
                 f"文档共 {report.get('documents', 0)} 篇、{report.get('chunks', 0)} 个片段")
    lines.append(f"- 用时：{float(report.get('seconds', 0.0)):.1f} 秒")
    # File names and reasons come from uploads: text only (a name with backticks must not become markup).
    for label, key in (("新增", "added"), ("修改", "changed"), ("删除", "removed")):
        for path in report.get(key, []):
            lines.append(f"  - {label}：{text_html(path)}")
    for skipped in report.get("skipped", []):
        lines.append(f"- **已跳过**  {text_html(skipped['path'])}：{text_html(skipped['reason'])}")
    return "\n".join(lines)
