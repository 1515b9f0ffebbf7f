"""The enterprise tab (企业服务): the topic guide (financing, hiring, utilities, ...), searchable.

An entry opens its passage and, expandable, the whole article with the passage marked. The
全部 list shows each passage once (a passage can belong to several topics). The topic list
and its counts are recomputed whenever a topic is chosen or a search made, and when the tab is
opened after a refresh changed the guide, so a page opened before a refresh does not keep the
old counts (nor entries that point at passages gone from the index). A search with
no hit says where to go instead: the chat, another keyword, or the topics. Searching 全部 searches the whole
knowledge base: after the topics' passages come the other passages the search finds (a new notice no topic
lists yet), as 【搜索结果】 entries.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from .. import legal
from ..answering.topics import TopicEntry
from . import render
from .facade import WebKB, clean_text
from .wiring import for_gradio, outputs

ALL_TOPICS = "__all__"
SEARCHED = "__search__"  # an entry found by searching the whole index (value: SEARCHED|chunk id)
PICK_ENTRY = '<div class="kb-muted">请选择一个条目。</div>'
ENTRY_GONE = '<div class="kb-muted">该条目已更新，请重新选择主题。</div>'


@dataclass(frozen=True)
class EntryView:
    """The opened entry: its passage and article (HTML)."""

    entry_view: str


@dataclass(frozen=True)
class TopicView:
    """A topic's entries (a Radio update), a note on what is listed, the first entry opened, and the topic list
    with current counts (a Radio update)."""

    topic: Any
    entries: Any
    topic_note: Any
    entry_view: Any
    listed: str  # the guide version listed (WebKB.guide_version), kept in the page's state


def entry_label(entry: TopicEntry) -> str:
    """An entry as listed: 【topic】《regulation》article: summary."""
    summary = entry.summary
    if entry.article and summary.startswith(entry.article):  # 《…》第十八条：第十八条 … says the number twice
        summary = summary[len(entry.article):].lstrip()
    summary = summary if len(summary) <= 70 else summary[:68] + "……"
    source = f"{legal.citation_label(entry.title, entry.article)}：" if entry.article else ""
    # an older version found by search is marked in the list too (QA, thirteenth session: eight 2005 户外广告 hits
    # listed as if in force)
    older = "（旧版，已被取代）" if getattr(entry, "status", None) == legal.SUPERSEDED else ""
    return f"【{entry.topic}】{older}{source}{summary}"


def _matches(entry: TopicEntry, terms: list[str]) -> float:
    """How well an entry matches the best of a search's terms (the query, its synonyms' words)."""
    return max(render.entry_matches(entry, term) for term in terms)


def no_hit_note(query: str, everywhere: bool) -> str:
    """What to do when a search finds nothing: another keyword, all topics, or ask in the chat."""
    where = "在全部主题中" if everywhere else "在本主题中"
    wider = "" if everywhere else "选择上方的“全部”在所有主题中搜索，"
    return (f"{where}没有找到与“{render.esc(query)}”相关的条目。可以换个关键词，{wider}"
            "或到“市民问答”直接提问；也可以浏览上方的主题。")


class EnterpriseTab:
    """The topic browser: its widgets (``build``), its events (``wire``) and their handlers."""

    def __init__(self, web: WebKB):
        self.web = web

    # -- data ----------------------------------------------------------------------------

    def topic_choices(self) -> list[tuple[str, str]]:
        """(label with count, key) of each topic with entries, then 全部 with the number of distinct passages."""
        groups = self.web.groups()
        choices = [(f"{g.name}（{len(g.entries)}）", g.key) for g in groups]
        if len(groups) > 1:
            choices.append((f"全部（{len(self.entries_of(ALL_TOPICS))}）", ALL_TOPICS))
        return choices

    def entries_of(self, key: str | None) -> list[tuple[str, TopicEntry]]:
        """(value, entry) pairs of a topic, or of all topics with each passage once (under its first topic)."""
        pairs: list[tuple[str, TopicEntry]] = []
        seen: set[str] = set()
        for group in self.web.groups():
            if key in (None, "", ALL_TOPICS) or group.key == key:
                for i, entry in enumerate(group.entries):
                    if entry.chunk_id not in seen:
                        seen.add(entry.chunk_id)
                        pairs.append((f"{group.key}|{i}", entry))
        return pairs

    @staticmethod
    def _search(pairs: list[tuple[str, TopicEntry]], ranks: dict[str, int],
                terms: list[str]) -> list[tuple[str, TopicEntry]]:
        """The entries matching the search ``terms`` by words, or by meaning (their ``ranks`` in the search) when the
        words match a little, best first."""
        scored = []
        for value, entry in pairs:
            lexical = _matches(entry, terms)
            semantic = 1.0 / ranks[entry.chunk_id] if entry.chunk_id in ranks else 0.0
            if lexical >= 0.5 or (semantic >= 1 / 3 and lexical > 0):
                scored.append((lexical + semantic, value, entry))
        scored.sort(key=lambda item: -item[0])
        return [(value, entry) for _, value, entry in scored]

    # -- handlers ----------------------------------------------------------------------

    def show_topic(self, key: str | None, query: str | None) -> TopicView:
        """A topic's entries (searched when ``query`` is given), the first one opened, and fresh topic counts."""
        choices = self.topic_choices()
        keys = [value for _, value in choices]
        key = key if key in keys else (keys[0] if keys else None)
        query = " ".join(clean_text(query).split())  # as the chat does: a lone surrogate once failed the search
        pairs = self.entries_of(key)
        widened = False
        if query:
            # one search serves all: the ranks of the topics' entries and the passages no topic lists
            found = self.web.search_entries(query)
            ranks: dict[str, int] = {}
            for rank, entry in enumerate(found, start=1):
                ranks.setdefault(entry.chunk_id, rank)
            terms = self.web.search_terms(query)  # 社保 is written 社会保险 in the regulations (QA, thirteenth session)
            pairs = self._search(pairs, ranks, terms)
            if not pairs and key != ALL_TOPICS:
                # a topic lists a few passages: 招工 in 招聘用工 found nothing while 全部 had the articles (QA)
                pairs, widened = self._search(self.entries_of(ALL_TOPICS), ranks, terms), True
            if key == ALL_TOPICS or widened:  # the whole knowledge base, not only the passages the topics list
                listed_ids = {entry.chunk_id for _, entry in pairs}
                pairs += [(f"{SEARCHED}|{e.chunk_id}", e) for e in found
                          if e.chunk_id not in listed_ids and _matches(e, terms) > 0]
        listed = [(entry_label(entry), value) for value, entry in pairs]
        if not keys:
            note = "暂无主题条目：索引中还没有可归类的文章。"
        elif query and not listed:
            note = no_hit_note(query, key == ALL_TOPICS or widened)
        elif query and widened:
            note = (f"本主题中没有与“{render.esc(query)}”相关的条目；以下是在全部主题中找到的 {len(listed)} 条，"
                    "点击查看原文。")
        elif query:
            note = f"找到 {len(listed)} 条与“{render.esc(query)}”相关的条目，点击查看原文。"
        else:
            note = f"共 {len(listed)} 条，点击条目查看原文段落和全文。"
        first = listed[0][1] if listed else None
        return TopicView(gr.update(choices=choices, value=key), gr.update(choices=listed, value=first),
                         f'<div class="kb-muted">{note}</div>', self.open_entry(first).entry_view,
                         self.web.guide_version())

    def reopen(self, key: str | None, query: str | None, listed: str | None) -> TopicView:
        """The tab opened again: listed anew when a refresh changed the guide since, else left as the visitor left
        it (the opened entry stays open)."""
        if listed and listed == self.web.guide_version():
            return TopicView(gr.update(), gr.update(), gr.update(), gr.update(), listed)
        return self.show_topic(key, query)

    def open_entry(self, value: str | None) -> EntryView:
        """An entry's passage and its whole article; a note when the entry is gone after a refresh."""
        if not value or "|" not in value:
            return EntryView(PICK_ENTRY)
        key, _, index = value.partition("|")
        if key == SEARCHED:
            entry = self.web.chunk_entry(index)
            return EntryView(render.entry_detail(entry, self.web.article(entry.doc)) if entry else ENTRY_GONE)
        for group in self.web.groups():
            if group.key == key and index.isdigit() and int(index) < len(group.entries):
                entry = group.entries[int(index)]
                return EntryView(render.entry_detail(entry, self.web.article(entry.doc)))
        return EntryView(ENTRY_GONE)

    # -- widgets and events ----------------------------------------------------------------

    def build(self) -> gr.Tab:
        """The tab and its widgets, in the current Blocks context (inside ``gr.Tabs``)."""
        choices = self.topic_choices()
        with gr.Tab("企业服务", id="enterprise") as self.tab:
            gr.Markdown("按主题浏览上街区为企业提供的支持和服务，也可以在主题内搜索。")
            self.topic = gr.Radio(choices=choices, value=choices[0][1] if choices else None, label="支持主题",
                                  elem_id="kb-topics")
            self.query = gr.Textbox(label="在本主题中搜索", show_label=False,
                                    placeholder="在本主题中搜索，例如：贷款、招聘、供电",
                                    submit_btn="搜索", elem_id="kb-topic-search")
            self.topic_note = gr.HTML()
            self.listed = gr.State("")
            with gr.Row(equal_height=False):
                with gr.Column(scale=2, min_width=300):
                    self.entries = gr.Radio(choices=[], label="政策条目", elem_id="kb-entries")
                with gr.Column(scale=3, min_width=300):
                    self.entry_view = gr.HTML(PICK_ENTRY, elem_id="kb-entry-view")
        return self.tab

    def wire(self, demo: gr.Blocks, concurrency: int) -> None:
        """Topic, search and entry events; the page load and opening the tab show fresh counts."""
        private = {"api_visibility": "private", "show_progress": "hidden"}
        searching = {"concurrency_id": "kb-answer", "concurrency_limit": concurrency, **private}
        show = for_gradio(self.show_topic)
        view = outputs(TopicView, self)
        # The topic list is also an output: the topic's .input (a visitor's click), not .change, triggers the
        # listing, so updating the list's counts does not list again.
        self.topic.input(show, [self.topic, self.query], view, **searching)
        self.query.submit(show, [self.topic, self.query], view, **searching)
        self.entries.input(for_gradio(self.open_entry), [self.entries], outputs(EntryView, self), queue=False,
                           **private)
        demo.load(show, [self.topic, self.query], view, **private)
        self.tab.select(for_gradio(self.reopen), [self.topic, self.query, self.listed], view, **private)
