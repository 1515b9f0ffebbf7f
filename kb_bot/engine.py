"""Engine: one knowledge base (settings + model + current index), shared by the CLI and the web app.

It loads the model once, builds the index on first use when none exists, and follows
the index folder: when a build or refresh publishes a new generation, the next query
loads it and swaps it in, while queries in flight finish on the old one.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import replace
from typing import Any, Callable, Sequence

from . import legal
from .answering import faq_match
from .answering.answer import NOT_FOUND, RELATED, Answer, answer_question, not_found_text, replies_in_chinese
from .answering.answer_model import AnswerModel, load_model
from .answering.answerability import GramStats
from .answering.elsewhere import mentioned_elsewhere, sanction_of_quoted_rule
from .answering.followup import Aspect, mentions
from .answering.fine_guards import PENALTY_ASKED, conduct_text, without_titles
from .answering.topics import TopicGuide, build_topic_guide, english_name, nearest_topics, topics_in
from .embedding import Embedder, ModelSpec
from .errors import IndexMissingError, KbBotError, StaleIndexError
from .indexing import BuildReport, build_index, index_spec
from .retrieval import FusionConfig, Retriever, SearchHit
from .settings import Settings
from .store import IndexFolder
from .synonyms import STAFF_FILE_NAME, Synonyms, load_synonyms

log = logging.getLogger(__name__)

#: How many passages the search for a related reply's missing detail looks through (``elsewhere``).
ELSEWHERE_SEARCH = 20
#: Passages looked at for the rule a question about a fine is about, when its quote holds no sanction for it.
RULE_SEARCH = 10
#: Extra results a search asks for, in place of staff answers that no longer answer (``faq_match.quotable``).
SEARCH_SPARE = 3


class KnowledgeBase:
    """The running knowledge base behind ``kb-bot search/ask/serve``."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None):
        self.settings = settings
        self._embedder = embedder
        self.model = ModelSpec.parse(settings.model)  # parsed once: its id is checked against every index
        self.spec = index_spec(settings)  # what the index must have been built with (settings are frozen)
        self.folder = IndexFolder(settings.index)
        self._retriever: Retriever | None = None
        self._generation: str | None = None
        self._lock = threading.Lock()
        self._derived: dict[str, tuple[Retriever, Any]] = {}  # what is read off one index generation, by name
        self._synonyms: tuple[float, Synonyms] | None = None
        self.fusion = FusionConfig(settings.fusion, settings.dense_weight, settings.candidates)

    # -- model and index -------------------------------------------------------------

    @property
    def embedder(self) -> Embedder:
        """The embedding model, loaded on first use."""
        if self._embedder is None:
            self._embedder = self.model.load(self.settings.threads)
        return self._embedder

    def build(self, *, full: bool = False, progress: bool = False, lock_timeout: float = 0.0) -> BuildReport:
        """Build or refresh the index on disk (the running retriever follows on next query)."""
        return build_index(self.settings, lambda: self.embedder, full=full, progress=progress,
                           lock_timeout=lock_timeout)

    def ensure_index(self, progress: bool = False, on_build: Callable[[], None] | None = None) -> BuildReport | None:
        """Build the index when none exists yet, or when this kb-bot chunks or stores differently from the one
        that built it (an upgrade; same model); returns the report of that build, else None. An index of
        another model is left alone: the first query says so (a wrong ``--model`` must not replace it)."""
        if self.folder.has_index():
            try:
                manifest = self.folder.manifest()
                if manifest is None or manifest.model_id != self.model.model_id:
                    return None
                manifest.check_compatible(self.spec, self.folder.path)
                return None
            except StaleIndexError as exc:
                log.warning("%s: rebuilding it", exc.message)
            except (KbBotError, OSError, ValueError):
                return None  # unreadable: the first query says what is wrong
        if not self.settings.documents.is_dir():
            raise KbBotError(f"documents folder {self.settings.documents} does not exist and there is no index yet",
                             hint="create it and add documents, or pass --documents DIR")
        if on_build is not None:
            on_build()
        return self.build(full=True, progress=progress, lock_timeout=600)

    @property
    def retriever(self) -> Retriever:
        """The retriever over the newest published index generation."""
        name = self.folder.current_name()
        if name is None and self._retriever is None:
            raise IndexMissingError(f"no index in {self.settings.index}", hint="run `kb-bot build` first")
        if self._retriever is not None and (name is None or name == self._generation):
            return self._retriever
        with self._lock:
            if self._retriever is None or name != self._generation:
                index = self.folder.load(self.spec)
                self._retriever = Retriever(index, self.embedder, self.fusion)
                self._generation = index.generation
                log.info("loaded index generation %s (%d chunks)", index.generation, len(index.chunks))
            return self._retriever

    # -- queries ---------------------------------------------------------------------

    def search(self, query: str, top_k: int | None = None, *, synonyms: bool = False) -> list[SearchHit]:
        """Hybrid search on the current index; with ``synonyms`` the keywords are the citizens' words' synonyms too
        (社保 finds 社会保险), as a question's are, while the dense side reads the words as typed."""
        if not synonyms:
            return self.search_many([query], top_k)[0]
        k = top_k or self.settings.top_k
        expanded = self.synonyms().expand_query(query)
        return self._quotable(self.retriever.search_many([expanded], k + SEARCH_SPARE,
                                                         query_vectors=self.retriever.embed([query]))[0], k)

    def search_many(self, queries: list[str], top_k: int | None = None) -> list[list[SearchHit]]:
        """Hybrid search of several queries at once (their embeddings batched); a staff answer retired or edited
        since the index was built is left out (``faq_match.quotable``), a few more results asked for in its place."""
        k = top_k or self.settings.top_k
        return [self._quotable(hits, k) for hits in self.retriever.search_many(queries, k + SEARCH_SPARE)]

    def _quotable(self, hits: list[SearchHit], k: int) -> list[SearchHit]:
        kept = faq_match.quotable(self, hits)
        return hits[:k] if len(kept) == len(hits) else [replace(hit, rank=rank) for rank, hit in enumerate(kept[:k], 1)]

    # -- answers and topics ----------------------------------------------------------------

    def _per_generation(self, name: str, compute: Callable[[Retriever], Any]) -> Any:
        """``compute(retriever)`` for the current index, computed once per index generation."""
        retriever = self.retriever
        cached = self._derived.get(name)
        if cached is None or cached[0] is not retriever:
            cached = self._derived[name] = (retriever, compute(retriever))
        return cached[1]

    def _topic_state(self):
        """(retriever, guide, chunk vectors by id) for the current index, computed once per generation."""
        def compute(retriever: Retriever):
            by_id = {c.chunk_id: retriever.index.vectors[i] for i, c in enumerate(retriever.index.chunks)}
            return retriever, build_topic_guide(retriever.index.chunks), by_id

        return self._per_generation("topics", compute)

    def topics(self) -> TopicGuide:
        """The topic guide of the current index (computed once per index generation)."""
        return self._topic_state()[1]

    def synonyms(self) -> Synonyms:
        """The shipped synonyms plus the staff's ``documents/synonyms.txt`` (re-read when it changes)."""
        path = self.settings.documents / STAFF_FILE_NAME
        try:
            stamp = path.stat().st_mtime
        except OSError:
            stamp = 0.0
        if self._synonyms is None or self._synonyms[0] != stamp:
            self._synonyms = (stamp, load_synonyms(self.settings.documents))
        return self._synonyms[1]

    def gram_stats(self) -> GramStats:
        """How rare each bigram is in the current index (computed once per index generation)."""
        return self._per_generation("stats", lambda retriever: GramStats([c.text for c in retriever.index.chunks]))

    def scopes(self) -> dict[str, str]:
        """Per regulation (document path), what it says of the district's place in its scope (``legal.scope_note``:
        适用范围不含上街区；上街区参照执行), read from the current index's passages once per generation."""
        def compute(retriever: Retriever) -> dict[str, str]:
            by_doc: dict[str, list] = {}
            for chunk in retriever.index.chunks:
                if chunk.kind == "regulation":
                    by_doc.setdefault(chunk.doc, []).append((chunk.article, chunk.text))
            notes = {doc: legal.scope_note(parts) for doc, parts in by_doc.items()}
            return {doc: note for doc, note in notes.items() if note}

        return self._per_generation("scopes", compute)

    def with_scopes(self, answer: Answer) -> Answer:
        """``answer`` with each regulation source's scope note, where it has one; when a quoted regulation leaves
        the district out of its scope, the reply's text says so too (QA, thirteenth session: in the source card's
        grey line only, 适用范围不含上街区 went unseen under an answer)."""
        scopes = self.scopes()
        if not any(c.doc in scopes for c in answer.citations):
            return answer
        cited = tuple(replace(c, scope=scopes.get(c.doc)) for c in answer.citations)
        warning = legal.scope_warning([(c.title, c.scope) for c in cited if c.scope], replies_in_chinese(answer.question))
        text = answer.answer if warning.strip() in answer.answer else answer.answer + warning  # once, however reached
        return replace(answer, citations=cited, answer=text)

    def with_detail_elsewhere(self, answer: Answer) -> Answer:
        """``answer`` with the sentence of a quoted document naming the detail its quote leaves out, where a wider
        search for the question (as understood, for a follow-up) finds one (``answering.elsewhere``). Done on the
        final reply (``conversation.worded``), not on each reading a conversation weighs: a follow-up's refocused
        quote would drop it. A question about a fine whose quote states the rule gets the clause sanctioning it
        (``elsewhere.sanction_of_quoted_rule``)."""
        asked = answer.understood_as or answer.question
        retriever = self.retriever
        if answer.status == RELATED and PENALTY_ASKED.search(asked):
            answer = self._with_sanction(answer, asked)
        if answer.status != RELATED or not answer.missing:
            return answer

        def candidates() -> list:  # dense on the words as asked (their vector is remembered from the ask), as retrieve
            return [h.chunk for h in retriever.search(self.synonyms().expand_query(asked), ELSEWHERE_SEARCH,
                                                     query_vector=retriever.embed([asked])[0])]

        return mentioned_elsewhere(answer, candidates, [w for words in self.synonyms().expand(asked).alternatives
                                                        for w in words])

    def _with_sanction(self, answer: Answer, asked: str) -> Answer:
        """A related reply to a question about a fine, with the clause sanctioning the rule its conduct falls under
        (``elsewhere.sanction_of_quoted_rule``): the quoted rules, then those a search for the conduct finds."""
        if not replies_in_chinese(asked):
            # An English question's words reach the articles through synonyms alone (dog -> 犬 in every article of the
            # dog regulation), which tell no rule or item apart (review: leash -> the dog-farm fine): quoted rules only.
            return sanction_of_quoted_rule(answer, self.chunks_of)
        conduct = conduct_text(without_titles(asked, (c.title for c in answer.citations)))
        aspect = Aspect.of_runs(conduct, self.synonyms())
        retriever = self.retriever

        def rules() -> list:  # the conduct's words for keywords, the question's remembered vector for dense
            return [h.chunk for h in retriever.search(self.synonyms().expand_query(conduct), RULE_SEARCH,
                                                     query_vector=retriever.embed([asked])[0])]

        return sanction_of_quoted_rule(answer, self.chunks_of, rules, lambda text: mentions(aspect, text), conduct)

    def chunks_of(self, doc: str) -> list:
        """The chunks of one document in the index, in order."""
        return [c for c in self.retriever.index.chunks if c.doc == doc]

    def retrieve(self, question: str):
        """(hits, query vector) for a question: dense on the words as asked, keywords with synonyms added."""
        retriever = self.retriever
        vector = retriever.embed([question])[0]
        hits = retriever.search(self.synonyms().expand_query(question), max(self.settings.top_k, 5),
                                query_vector=vector)
        return faq_match.quotable(self, hits), vector

    def answer_model(self) -> AnswerModel | None:
        """The fitted answerability model the answers use (the index folder's refit first, else the shipped one)."""
        return load_model(self.retriever.index.manifest.model_id, [self.settings.index])

    def ask(self, question: str, history: Sequence[str] = (), *, _literal: bool = False) -> Answer:
        """Answer a question from the current index, say what is related, or say honestly that nothing is.

        ``history``: the earlier questions of the conversation, oldest first; a follow-up is
        completed from them (see conversation.py), and staff answers (faq_match.py) are matched first.
        """
        if not _literal:
            from .answering.conversation import answer_in_context

            return self.with_scopes(answer_in_context(self, question, history))
        retriever = self.retriever
        model_id = retriever.index.manifest.model_id
        question = question.strip()
        if not question:
            return answer_question(question, [], None, None, model_id)
        hits, vector = self.retrieve(question)

        def suggestions() -> list[str]:  # only needed when the question is not answered
            _, guide, vectors = self._topic_state()
            return nearest_topics(guide, vector, vectors)

        answer = answer_question(question, hits, vector, retriever.centroid, model_id, suggestions,
                                 stats=self.gram_stats(), synonyms=self.synonyms(),
                                 model=self.answer_model())
        if answer.status == RELATED and answer.suggestions and answer.citations:
            # The topics of the passages quoted come first (户外广告 quoted -> 城市管理与文明), then the nearest.
            quoted = topics_in(self._topic_state()[1], [c.text for c in answer.citations])
            answer = replace(answer, suggestions=tuple(dict.fromkeys([*quoted, *answer.suggestions]))[:len(answer.suggestions)])
        if answer.status == NOT_FOUND and answer.suggestions and not replies_in_chinese(question):
            # The topics stay Chinese names in `suggestions` (the web maps them to its buttons); the sentence
            # an English reader gets names them in English.
            guide = self._topic_state()[1]
            answer = replace(answer, answer=not_found_text(question, [english_name(n, guide) for n in answer.suggestions]))
        return self.with_scopes(answer)  # the CLI's conversation and the web's readings come through here
