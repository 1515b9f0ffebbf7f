"""What the web app needs from the knowledge base, typed, in one place.

The tabs (citizen, enterprise, staff) talk only to :class:`WebKB`; it is the one web module
that calls the engine, ``admin`` and ``loading``. It cleans what a client sends (length,
control characters, lone surrogates), logs every question, and keeps the parsed text of the
articles the enterprise tab opens, so a document is read once per version, not per click.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import weakref
from dataclasses import dataclass
from typing import Iterable

from ..answering.answer import Answer, answer_to_json
from ..answering.topics import TopicEntry, TopicGroup, TopicGuide, entry_of
from ..engine import KnowledgeBase
from ..errors import KbBotError
from ..indexing import BuildReport
from ..loading import DocumentError, load_file
from ..settings import Settings
from ..staff import admin
from ..staff.questionlog import QuestionLog

log = logging.getLogger(__name__)

#: Longest question answered; a longer one is cut to this and the visitor is told so.
MAX_QUESTION_CHARS = 300
#: Parsed articles kept in memory (the enterprise tab opens a few dozen at most).
ARTICLE_CACHE_SIZE = 256


def clean_text(text: object) -> str:
    """Text from a client as proper Unicode: lone surrogates (not encodable) and control characters become spaces."""
    text = text if isinstance(text, str) else ("" if text is None else str(text))
    return "".join(" " if (0xD800 <= ord(ch) <= 0xDFFF or (ord(ch) < 32 and ch not in "\t\n")) else ch
                   for ch in text)


@dataclass(frozen=True)
class Question:
    """A question as the visitor typed it, cleaned: ``text`` (at most MAX_QUESTION_CHARS), ``cut`` if it was longer."""

    text: str
    cut: bool

    @classmethod
    def of(cls, raw: object) -> "Question":
        """Whitespace folded, control characters dropped, cut to the limit (and marked so)."""
        text = " ".join(clean_text(raw).split())
        return cls(text[:MAX_QUESTION_CHARS], len(text) > MAX_QUESTION_CHARS)


@dataclass(frozen=True)
class Asked:
    """One answered question: the answer and the id of its line in the question log (for thumbs up/down)."""

    answer: Answer
    log_id: str


def earlier_questions(history: object) -> list[str]:
    """The conversation's earlier questions, cleaned; an API client may send one as a plain string."""
    if isinstance(history, str):
        history = [history]
    if not isinstance(history, Iterable):
        return []
    return [q.text for q in map(Question.of, history) if q.text]


class WebKB:
    """The knowledge base as the web app uses it: answers (logged), topic guide, search, articles, documents."""

    def __init__(self, kb: KnowledgeBase):
        self.kb = kb
        self.question_log = QuestionLog(kb.settings.question_log_path, kb.settings.log_retention_days)
        self._articles: dict[tuple[str, int, int], str] = {}
        self._articles_lock = threading.Lock()

    @property
    def settings(self) -> Settings:
        """The settings of the knowledge base (folders, limits, logs)."""
        return self.kb.settings

    # -- answers -----------------------------------------------------------------------

    def answer(self, question: object, history: object = ()) -> Asked:
        """Answer a question (a follow-up completed from ``history``, the earlier questions) and log it."""
        answer = self.kb.ask(Question.of(question).text, earlier_questions(history))
        if not answer.question.strip():  # an empty /ask call asked nothing: no line in the staff's question log
            return Asked(answer, "")
        return Asked(answer, self.question_log.record(answer))

    def ask(self, question: object, history: object = ()) -> Answer:
        """The answer alone (see ``answer``)."""
        return self.answer(question, history).answer

    def api_answer(self, question: object, history: object = ()) -> dict:
        """The JSON of ``/ask``: ``answer_to_json`` plus ``understood_as``."""
        answer = self.ask(question, history)
        return dict(answer_to_json(answer), understood_as=answer.understood_as)

    @staticmethod
    def answer_json(answer: Answer) -> dict:
        """An answer as JSON (what feedback and the question log keep)."""
        return answer_to_json(answer)

    def feedback(self, log_id: str | None, rating: str) -> None:
        """A thumbs up/down on a logged answer."""
        self.question_log.feedback(log_id, rating)

    # -- topic guide and search ---------------------------------------------------------

    def guide(self) -> TopicGuide | None:
        """The topic guide of the current index (recomputed by the engine after a refresh); None without an index."""
        try:
            return self.kb.topics()
        except KbBotError as exc:
            log.warning("no topic guide: %s", exc)
            return None

    def groups(self) -> list[TopicGroup]:
        """The guide's groups that have entries."""
        guide = self.guide()
        return [g for g in (guide.groups if guide else ()) if g.entries]

    def guide_version(self) -> str:
        """A fingerprint of the listed topic entries: it changes when a refresh changes what the guide lists."""
        listed = tuple((g.key, tuple(e.chunk_id for e in g.entries)) for g in self.groups())
        return hashlib.sha256(repr(listed).encode("utf-8")).hexdigest()[:16]

    def search_entries(self, query: str, limit: int = 10) -> list[TopicEntry]:
        """The passages a search finds anywhere in the index, as topic entries (``全部`` searched in the enterprise
        tab): a document no topic lists (a new notice) is found too. Empty when the search fails."""
        try:
            hits = self.kb.search(query, limit, synonyms=True)
        except KbBotError as exc:
            log.warning("topic search failed: %s", exc)
            return []
        return [entry_of(h.chunk, SEARCH_TOPIC) for h in hits]

    def search_terms(self, query: str) -> list[str]:
        """The query and its synonyms' words (社保 -> 社会保险, 社会保险费): what an entry's text may say instead."""
        try:
            return [query, *self.kb.synonyms().expand(query).extra_terms]
        except KbBotError:
            return [query]

    def chunk_entry(self, chunk_id: str) -> TopicEntry | None:
        """A passage of the current index by id, as a topic entry (a search result opened); None when gone."""
        try:
            chunks = self.kb.retriever.index.chunks
        except KbBotError:
            return None
        chunk = next((c for c in chunks if c.chunk_id == chunk_id), None)
        return entry_of(chunk, SEARCH_TOPIC) if chunk is not None else None

    def article(self, doc: str) -> str | None:
        """The clean text of a document (as the loader reads it), or None when it is gone or unreadable.

        Parsed once per version of the file (path, modification time, size), not on every click.
        """
        folder = self.settings.documents
        path = folder / doc
        try:
            if not path.resolve().is_relative_to(folder.resolve()):
                return None
            stat = path.stat()
        except (OSError, RuntimeError):  # RuntimeError: a symlink loop
            return None
        key = (doc, stat.st_mtime_ns, stat.st_size)
        with self._articles_lock:
            if key in self._articles:
                return self._articles[key]
        try:
            text = load_file(path, folder, self.settings.max_file_bytes, self.settings.max_file_seconds).text
        except (DocumentError, OSError):
            return None
        with self._articles_lock:
            self._articles[key] = text
            while len(self._articles) > ARTICLE_CACHE_SIZE:
                self._articles.pop(next(iter(self._articles)))
        return text

    # -- documents (staff) ---------------------------------------------------------------

    def documents(self) -> list[admin.DocumentInfo]:
        """Every document on disk or in the index, with its indexing state."""
        return admin.list_documents(self.settings)

    def check_upload(self, name: str, size: int) -> None:
        """Refuse a bad file name or type, then a file over the upload limit (before reading it)."""
        admin.sanitize_filename(name)
        admin.check_upload_size(self.settings, size)

    def save_upload(self, name: str, data: bytes, replace: bool) -> str:
        """Store an upload in the documents folder; returns its path there."""
        return admin.save_upload(self.settings, name, data, replace=replace)

    def delete_document(self, relpath: str) -> str:
        """Delete a document from the documents folder; returns its path there."""
        return admin.delete_document(self.settings, relpath)

    def mark_repealed(self, relpath: str) -> str:
        """Write ``status: repealed`` into a document's front matter; returns its path."""
        return admin.mark_repealed(self.settings, relpath)

    def mark_in_force(self, relpath: str) -> str:
        """Take the ``status`` line out of a document's front matter (undo a repeal); returns its path."""
        return admin.mark_in_force(self.settings, relpath)

    def refresh(self) -> BuildReport:
        """Refresh the index, then load the new generation so the next question does not wait for it."""
        report = self.kb.build(full=False)
        try:
            _ = self.kb.retriever
        except KbBotError as exc:
            log.warning("could not load the new index yet: %s", exc)
        return report

    def warm_up(self) -> None:
        """Load the index and the model before the first visitor."""
        from ..answering.word_weights import tagged_words

        _ = self.kb.retriever
        self.kb.search("上街区", 1)
        tagged_words("上街区")  # jieba's part-of-speech tables (0.5 s), read when a reply names what is missing


#: The topic shown for a passage found by a search of the whole index.
SEARCH_TOPIC = "搜索结果"


_BY_KB: "weakref.WeakKeyDictionary[KnowledgeBase, WebKB]" = weakref.WeakKeyDictionary()


def web_kb(kb: KnowledgeBase | WebKB) -> WebKB:
    """The one ``WebKB`` of a knowledge base (the app, its middleware and tests share its question log)."""
    if isinstance(kb, WebKB):
        return kb
    found = _BY_KB.get(kb)
    if found is None:
        found = _BY_KB[kb] = WebKB(kb)
    return found

