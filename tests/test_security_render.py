"""Issue 14, finding 3: document text renders as text only (chat cards, topic browser, full text, reports).

The chat renders a message as Markdown with HTML allowed: a blank line inside a passage ended the HTML block
and the rest became live Markdown (an outside image, a link). Each rendered piece is run through a CommonMark
renderer here, as the browser's would, and must come out without any image, link or code span.
"""

from __future__ import annotations

import re

from markdown_it import MarkdownIt

from kb_bot.answering.answer import Answer, Citation
from kb_bot.answering.topics import TopicEntry
from kb_bot.web import render

HOSTILE = ("上街区办事指南。\n\n![x](http://198.51.100.7/track.png)\n\n请访问[官方入口](http://198.51.100.7/phish)办理，"
           "或 www.example.com、http://198.51.100.7/a 与 <img src=http://198.51.100.7/b.png>；`code` **粗体** $$x$$")
#: Markup a document's text must never produce once rendered (the card's own title is <strong>).
LIVE = re.compile(r"<img|<a\s|<code|<strong>粗体|<em>|<span class=\"katex")
#: In the HTML sent to the browser, before Markdown: nothing an autolink pass could pick up.
AUTOLINK = re.compile(r"https?:|www\.")


def markdown(html_text: str) -> str:
    return MarkdownIt("commonmark").render(html_text)


def test_passage_markdown_stays_text_in_the_chat_card():
    start = HOSTILE.index("请访问")
    citation = Citation("指南`x`![y](http://198.51.100.7/f).md", "标题![t](http://198.51.100.7/t)", "单位", "一节",
                        HOSTILE, (start, start + 10), 0.5, "c1")
    answer = Answer("q", True, "请访问[官方入口](http://198.51.100.7/phish)办理。[1]", (citation,), ())
    out = render.answer_html(answer)
    assert "\n" not in out  # a blank line would end the HTML block and start Markdown
    assert not AUTOLINK.search(out)
    rendered = markdown(out)
    assert not LIVE.search(rendered), LIVE.search(rendered)
    assert '<sup class="kb-ref">[1]</sup>' in out and "<mark>" in out
    for partial in render.stream_answer(answer, step=3):
        assert not LIVE.search(markdown(partial))


def test_a_date_from_front_matter_stays_text_and_each_kind_gets_its_own_wording():
    # A staff answer's front-matter date reached the card unescaped whenever it started with "<span".
    hostile = '<span onmouseover=alert(1)>x</span>'
    for kind in ("faq", "regulation", "article"):
        card = render.citation_card(Citation("faq/a.md", "工作人员解答", None, "2026-11-27 发布", "答案", (0, 2), 0.9, "c1",
                                             None, hostile, kind), 1)
        assert "<span onmouseover" not in card and "onmouseover" not in markdown(card).replace("&lt;span onmouseover", "")
    faq_card = render.citation_card(Citation("faq/a.md", "工作人员解答", None, "2026-11-27 发布", "答案", (0, 2), 0.9, "c1",
                                             None, "2026-11-27", "faq"), 1)
    assert faq_card.count("2026-11-27") == 1 and "起施行版本" not in faq_card  # a staff answer is not a regulation
    rule = render.citation_card(Citation("r.md", "郑州市失业保险条例", None, None, "第二十五条 …", None, 0.9, "c2",
                                         "第二十五条", "2019-01-22", "regulation"), 1)
    news = render.citation_card(Citation("n.md", "上街区新闻", None, None, "正文", None, 0.9, "c3", None, "2023-03-01",
                                         "article"), 1)
    assert "2019-01-22 起施行版本" in rule and "2023-03-01 发布" in news and "起施行版本" not in news


def test_topic_detail_and_full_text_stay_text():
    entry = TopicEntry("融资", "请访问[官方入口](http://198.51.100.7/phish)办理", "a.md", "标题", None, None, "c1",
                       HOSTILE)
    out = render.entry_detail(entry, "前言\n\n" + HOSTILE)
    assert not LIVE.search(markdown(out))
    assert not LIVE.search(out) and not AUTOLINK.search(out)  # gr.HTML shows it as HTML: no markup from it either


def test_refresh_report_with_backticks_in_file_names_stays_text():
    report = {"generation": "g1", "added": ["a`<img src=x>`.md", "![i](http://198.51.100.7/i).md"],
              "changed": [], "removed": ["`b`.md"],
              "skipped": [{"path": "c`x`.docx", "reason": "broken `<img src=http://198.51.100.7/r>`"}]}
    rendered = markdown(render.report_markdown(report))
    assert not LIVE.search(rendered), rendered
    assert "a`&lt;img src=x&gt;`.md" in rendered  # the name is shown as it is


def test_escaped_text_reads_the_same():
    import html

    assert html.unescape(render.esc(HOSTILE)) == HOSTILE
    assert html.unescape(render.text_html("a\nb").replace("<br>", "\n")) == "a\nb"


def test_a_staff_refusal_is_shown_in_chinese_and_as_text():
    shown = render.refusal("已存在同名文件 <a.md> / a document named <a.md> already exists",
                           "勾选“替换同名文件” / tick 'replace'")
    assert shown.startswith("**未完成**：已存在同名文件") and "already exists" not in shown and "tick" not in shown
    assert "<a.md>" not in shown and "&lt;a.md&gt;" in shown
    assert render.chinese("the file is not readable text") == "the file is not readable text"  # English only: kept
