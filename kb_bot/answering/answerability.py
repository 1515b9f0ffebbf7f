"""Answerability: does a sentence of the retrieved passages answer the question, or are they only related?

The answer step asks three questions of the top passages, each a small model fitted on data
nobody labelled by hand (``benchmarks/answerability_data.py`` then ``benchmarks/fit_answerability.py``,
see README "Answers you can trust"):

1. **ranker** — which candidate sentence answers best (a logistic regression on the feature
   differences of pairs of one question's sentences, so score differences are log-odds);
2. **answer** — boosted trees: the probability that the quote really answers the question
   (``Answer.confidence``): the sentence's and its passage's coverage of the question's
   content words (weighted by rarity in the corpus, synonyms counted), whether it carries
   the asked type (amount, date, phone, address, office, procedure, ...), whether the
   question names a place the document does not, dense and keyword agreement and margins;
3. **topic** — a logistic regression: whether the knowledge base is on the question's topic at all, which tells a
   ``related`` answer (close passages, no answer) from ``not_found``.

Every feature is a named function of plain inputs, so the fitting script and the running
app compute them with the same code. The fitted weights (``kb_bot.answering.answer_model``) ship as a
small JSON file per embedding model in ``kb_bot/data/``; no scikit-learn is needed to use them.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Sequence

import numpy as np

from ..retrieval import SearchHit
from ..synonyms import Expansion, Synonyms
from .question_reading import (A_NOT_A, ASKING_ONLY, SPECIFIC_TYPES, asked_type, carries, is_topic_query, noise_spans,
                               place_mismatch, question_noise, without_modal)
from .word_weights import CJK as _CJK
from .word_weights import CJK_RUN as _CJK_RUN
from .word_weights import LATIN as _LATIN
from .word_weights import GramStats, grams, jieba_dictionary, tagged_words


PASSAGES_CONSIDERED = 3

_SENTENCE = re.compile(r"[^。！？!?；;\n]*(?:[。！？!?；;\n]+[”’」』）)]*|$)")


@dataclass(frozen=True)
class Unit:
    """One thing the question is about: a word (with its synonyms), and its weight."""

    text: str
    alternatives: tuple[str, ...]  # any of these in a passage covers the unit
    weight: float
    start: int  # where in the question it stands (for naming what is missing)
    end: int


#: The asking half of an A-not-A question (罚不罚, 行不行, 合不合法, 管不管): "X不X" asks "X吗", so only the second X
#: (with the rest of its word: 合法) is content. Counted as a word of its own, 行不行 or 算不算 was the heaviest word
#: "missing" from every passage (weight 1.0) and lowered the coverage of every colloquial yes/no question.
#: Of ``ASKING_ONLY`` verbs (行不行) both halves ask: kept, 行 matched 行人 for 行不行？ after an e-bike question (review).


def question_units(question: str, expansion: Expansion, stats: GramStats) -> list[Unit]:
    """The question's content as weighted units: synonym words first, then the remaining words.

    Question words (多少, 怎么, 吗 ...) are dropped, also from inside a word (多少钱 -> 钱).
    """
    text = question.lower()
    units: list[Unit] = []
    taken = [False] * len(text)
    noise = question_noise(question)
    for term, alternatives, (at, end) in zip(expansion.matched, expansion.alternatives, expansion.spans):
        if _CJK.search(term):  # a Chinese word at its first place; an English one where its whole word was found
            at = text.find(term.lower())
            end = at + len(term)
        if at < 0:
            continue
        units.append(Unit(term, tuple(a.lower() for a in alternatives), stats.weight(term.lower()), at, end))
        taken[at:end] = [True] * (end - at)
    asking = [False] * len(text)
    for form in A_NOT_A.finditer(text):
        end = form.end() if form.group("verb") in ASKING_ONLY else form.start() + 2
        asking[form.start():end] = [True] * (end - form.start())
    for word, start, end in stats.words(text):
        if any(taken[start:end]):
            continue
        word, start, end = without_modal(word, start, end)
        masked = "".join("\x00" if asking[start + i] else ch for i, ch in enumerate(word))
        # As fitted: 地 of 地铁 is cut too (``noise_spans`` keeps it for the rules; features change only with a refit)
        for match in re.finditer(r"[^\x00]+", noise.sub(lambda m: "\x00" * len(m.group()), masked)):
            piece = match.group()
            if not (_CJK.search(piece) or _LATIN.fullmatch(piece)):
                continue
            at = start + match.start()
            units.append(Unit(piece, (piece,), stats.weight(piece), at, at + len(piece)))
    return units


def unit_score(unit: Unit, text: str) -> float:
    """How far ``text`` covers one unit: 1 for the word or a synonym; for a longer Chinese word the share of
    its bigrams found (招聘会 is half covered by 招聘); else 0."""
    if any(a in text for a in unit.alternatives):
        return 1.0
    if len(unit.text) >= 3 and _CJK.search(unit.text):
        pieces = [unit.text[i : i + 2] for i in range(len(unit.text) - 1)]
        return sum(p in text for p in pieces) / len(pieces)
    return 0.0


def covered(units: Sequence[Unit], text: str) -> list[float]:
    """How far ``text`` covers each unit (see ``unit_score``); a unit counts as present from 0.5 on."""
    lowered = text.lower()
    return [unit_score(unit, lowered) for unit in units]


def coverage(units: Sequence[Unit], flags: Sequence[float]) -> float:
    """Weighted share of the question's units that are covered."""
    total = sum(u.weight for u in units)
    return sum(u.weight * float(f) for u, f in zip(units, flags)) / total if total > 0 else 0.0


#: Parts of speech naming a thing a reader could look for: nouns (n, nr, ns, nt, nz, ng, vn), verbs, adjectives, time
#: words, Latin words, idioms, abbreviations; not numerals (一套), adverbs, pronouns, place deixis (区里), particles.
_NAMING_TAGS = re.compile(r"^(?:n|v|a|t|eng|i|j|l)")
_NOT_A_THING = re.compile(r"时候|时间|[拿领办收弄搞取](?:到|好|完|成|下来|出来|下)")


def _names_a_thing(word: str, tag: str) -> bool:
    """Can ``word`` (jieba's ``tag``) stand for what is missing: two characters or more, a naming part of speech,
    not a negated verb (不让, 没给: the missing thing is what is refused), not getting it (拿到, 办好)."""
    if len(word) < 2 or not _NAMING_TAGS.match(tag) or word[0] in "不没别" or _NOT_A_THING.fullmatch(word):
        return False  # 时候 of 什么时候 is how a date is asked; 拿到 of 多久能拿到 (QA: 没有提到“拿到”)
    # A piece jieba guessed (上能充 of 地铁上能充手机, 后交, 一平) is not a word; a Latin one (app) is.
    return bool(jieba_dictionary().FREQ.get(word)) or not _CJK.search(word)


def missing_phrase(question: str, units: Sequence[Unit], flags: Sequence[float]) -> str | None:
    """What the passages do not mention, read off the question (e.g. 贷款利率 for a rate nobody gives).

    Whole words only: a word of the question is missing when a unit standing on it is uncovered and none is
    covered; the longest run of missing naming words (see ``_names_a_thing``) names it, with the covered noun just
    before it when the run is one short word (利率 -> 贷款利率, 电话 -> 总工会电话). None when no word qualifies.
    """
    text = question
    state = [0] * len(text)  # 0 no unit, 1 covered, -1 missing
    for unit, flag in zip(units, flags):
        if len(unit.text) < 2 and flag < 0.5:
            continue  # one character names nothing a reader can look for (不办会怎样？ -> "no mention of 办")
        for i in range(unit.start, min(unit.end, len(text))):
            state[i] = 1 if flag >= 0.5 or state[i] == 1 else -1
    words = tagged_words(text)
    # A word jieba made across a question word's edge (哪天开 -> 哪 天开) is no word of the question's content.
    asking = noise_spans(text)
    marks = [(-1 if -1 in state[a:b] and 1 not in state[a:b] and _names_a_thing(w, tag)
              and not any(s < b and a < e and not (a <= s and e <= b) for s, e in asking)
              else (1 if 1 in state[a:b] else 0)) for w, a, b, tag in words]
    runs, first = [], None
    for i, mark in enumerate(marks + [0]):
        if mark == -1 and first is None:
            first = i
        elif mark != -1 and first is not None:
            runs.append((first, i))
            first = None
    if not runs:
        return None
    first, last = max(runs, key=lambda r: (words[r[1] - 1][2] - words[r[0]][1], -r[0]))
    if (last - first == 1 and len(words[first][0]) <= 2 and first > 0 and marks[first - 1] == 1
            and words[first - 1][3].startswith(("n", "vn", "j"))):
        first -= 1
        # the whole covered unit that noun belongs to: 狗证 (one synonym unit, two words to jieba), not 证收费
        unit_start = min((u.start for u in units if u.start <= words[first][1] < u.end), default=words[first][1])
        while first > 0 and words[first - 1][1] >= unit_start:
            first -= 1
    return text[words[first][1] : words[last - 1][2]].strip() or None


# --------------------------------------------------------------------------- candidates and features


def split_sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence or clause-list of ``text`` (ends after 。！？； and line breaks)."""
    spans = []
    for match in _SENTENCE.finditer(text):
        start, end = match.span()
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1] in "\n ":
            end -= 1
        if end > start:
            spans.append((start, end))
    return spans


@dataclass(frozen=True)
class Candidate:
    """A sentence of a retrieved passage that might answer the question."""

    hit_rank: int  # 0 for the best passage
    hit: SearchHit
    start: int
    end: int

    @property
    def text(self) -> str:
        """The sentence itself."""
        return self.hit.chunk.text[self.start : self.end]


def candidates(hits: Sequence[SearchHit], passages: int = PASSAGES_CONSIDERED) -> list[Candidate]:
    """Every sentence of the best ``passages`` passages."""
    return [Candidate(rank, hit, s, e) for rank, hit in enumerate(hits[:passages])
            for s, e in split_sentences(hit.chunk.text) if e - s >= 4]  # fragments of 1-3 characters answer nothing


def passage_text(hit: SearchHit) -> str:
    """A passage with what it is about: title, section and (for a regulation) its article."""
    chunk = hit.chunk
    head = " ".join(p for p in (chunk.title, chunk.section, getattr(chunk, "article", None)) if p)
    return f"{head} {chunk.text}"


RANKER_FEATURES = ("sentence_coverage", "local_overlap", "passage_prior", "carries_asked", "misses_asked",
                   "dense", "log_length", "passage_coverage", "rare_covered", "sentence_missing", "phrase_match")
QUESTION_FEATURES = ("best_dense", "centroid_margin", "fused_margin", "keyword_share", "keyword_top",
                     "agree_top", "best_passage_coverage", "missing_weight", "place_mismatch", "specific", "yesno",
                     "is_cjk", "log_question", "topic_query")
ANSWER_FEATURES = RANKER_FEATURES + QUESTION_FEATURES + ("ranker_score", "ranker_margin")
TOPIC_FEATURES = ("best_dense", "centroid_margin", "best_passage_coverage", "missing_weight", "keyword_top",
                  "is_cjk", "log_question", "topic_query")


@dataclass(frozen=True)
class Evidence:
    """Everything the models need about one question and its retrieved passages."""

    question: str
    answer_type: str
    units: tuple[Unit, ...]
    candidates: tuple[Candidate, ...]
    ranker_rows: np.ndarray  # one row of RANKER_FEATURES per candidate
    question_row: dict[str, float]
    passage_flags: tuple[tuple[float, ...], ...]  # how far each considered passage covers each unit


def phrase_match(content: str, sentence: str) -> float:
    """The longest stretch of the question's wording found word for word in the sentence, as a share of it
    (questions written from a sentence copy its phrases; a merely related sentence shares single words)."""
    content = "".join(_CJK_RUN.findall(content.lower())) or content.lower().strip()
    if not content:
        return 0.0
    match = SequenceMatcher(None, content, sentence.lower(), autojunk=False).find_longest_match()
    return min(match.size / max(len(content), 1), 1.0)


def _local_overlap(question_grams: set[str], candidate_grams: list[set[str]]) -> list[float]:
    """Shared bigrams weighted by rarity among the candidates themselves (what tells sibling sentences apart)."""
    frequency = Counter(g for gs in candidate_grams for g in gs & question_grams)
    total = len(candidate_grams)
    weights = {g: math.log(1 + total / (1 + frequency[g])) for g in question_grams}
    best = sum(weights.values()) or 1.0
    return [sum(weights[g] for g in gs & question_grams) / best for gs in candidate_grams]


def gather(question: str, hits: Sequence[SearchHit], query_vector: np.ndarray | None, centroid: np.ndarray | None,
           stats: GramStats, synonyms: Synonyms) -> Evidence:
    """Compute the features of every candidate sentence and of the question as a whole."""
    answer_type = asked_type(question)
    units = tuple(question_units(question, synonyms.expand(question), stats))
    cands = tuple(candidates(hits))
    considered = hits[:PASSAGES_CONSIDERED]
    passage_flags = tuple(tuple(covered(units, passage_text(h))) for h in considered)
    passage_cov = [coverage(units, f) for f in passage_flags]
    specific = answer_type in SPECIFIC_TYPES
    content = question_noise(question).sub(" ", question)  # as fitted (see question_units)
    cand_grams = [grams(c.text) for c in cands]
    local = _local_overlap(grams(content), cand_grams) if cands else []
    rare = sorted(range(len(units)), key=lambda i: -units[i].weight)[:3]  # the question's most telling words
    rows = []
    for candidate, overlap in zip(cands, local):
        carried = carries(answer_type, candidate.text)
        flags = covered(units, candidate.text)
        uncovered = [u.weight for u, f in zip(units, flags) if f < 0.5]
        rows.append([
            coverage(units, flags),
            overlap,
            1.0 / (1 + candidate.hit_rank),
            float(specific and carried),
            float(specific and not carried),
            candidate.hit.dense_score or 0.0,
            math.log(1 + len(candidate.text)),
            passage_cov[candidate.hit_rank],
            sum(flags[i] for i in rare) / len(rare) if rare else 0.0,
            max(uncovered) if uncovered else 0.0,
            phrase_match(content, candidate.text),
        ])
    best_dense = max((h.dense_score for h in hits if h.dense_score is not None), default=0.0)
    centroid_cos = float(query_vector @ centroid) if query_vector is not None and centroid is not None else 0.0
    fused = [h.score for h in hits]
    keyword = [h.keyword_score or 0.0 for h in hits]
    dense_order = sorted(range(len(hits)), key=lambda i: -(hits[i].dense_score or -1.0))
    keyword_order = sorted(range(len(hits)), key=lambda i: -keyword[i])
    best_flags = passage_flags[int(np.argmax(passage_cov))] if passage_cov else ()
    missing = [u.weight for u, f in zip(units, best_flags) if f < 0.5]
    question_row = {
        "best_dense": best_dense,
        "centroid_margin": best_dense - centroid_cos,
        "fused_margin": (fused[0] - fused[1]) if len(fused) > 1 else (fused[0] if fused else 0.0),
        "keyword_share": (keyword[0] / max(keyword)) if hits and max(keyword) > 0 else 0.0,
        "keyword_top": float(bool(hits) and keyword[0] > 0),
        "agree_top": float(bool(hits) and dense_order[0] == 0 and keyword_order[0] == 0 and keyword[0] > 0),
        "best_passage_coverage": max(passage_cov, default=0.0),
        "missing_weight": max(missing) if missing else 0.0,
        "place_mismatch": place_mismatch(question, passage_text(considered[0]) if considered else ""),
        "specific": float(specific),
        "yesno": float(answer_type == "yesno"),
        "is_cjk": float(bool(_CJK.search(question))),
        "log_question": math.log(1 + len(question)),
        "topic_query": float(is_topic_query(question)),
    }
    ranker_rows = np.asarray(rows, dtype=np.float64).reshape(len(rows), len(RANKER_FEATURES))
    return Evidence(question, answer_type, units, cands, ranker_rows, question_row, passage_flags)


MAX_SENTENCES = 3
#: Runners-up within this ranker margin of the best sentence are quoted with it. The ranker is fitted on pairs of
#: sentences, so a margin is the log-odds that the best sentence answers rather than the runner-up: ln 4, quote a
#: sentence unless the best one is at least four times likelier (80%). Chosen on validation, where it is the knee:
#: a sentence holding the answer is quoted for 0.880 of CMRC questions (1.5 sentences on average) against 0.815
#: at a margin of 0.5 (1.2 sentences) and 0.886 at 2.0 (1.7 sentences).
RUNNER_UP_MARGIN = math.log(4)


def _same(text):
    """What makes two candidate sentences the same (a fitted record may hold checksums instead of text)."""
    return text.strip() if isinstance(text, str) else text


def choose(texts: Sequence[str], scores: np.ndarray) -> list[int]:
    """Indices of the best sentence and close distinct runners-up (at most MAX_SENTENCES), best first."""
    order = [int(i) for i in np.argsort(-np.asarray(scores), kind="stable")]
    chosen = order[:1]
    for i in order[1:]:
        if len(chosen) >= MAX_SENTENCES or scores[i] < scores[order[0]] - RUNNER_UP_MARGIN:
            break
        if _same(texts[i]) not in {_same(texts[j]) for j in chosen}:
            chosen.append(i)
    return chosen


#: A regulation's article is what a reader is owed: one this short (the chunk's text, about the 75th percentile of
#: the shipped articles) is quoted whole rather than as the one sentence the ranker liked, because an article's
#: rule, its amount and its exceptions belong together (第二十五条: 按照最低工资标准的百分之八十 is its first sentence
#: while a question on 一个月能领多少 draws the ranker to the sentence saying 一个月). On the hand-written regulation
#: questions the quote then holds the expected fact for 40 of 52 instead of 34 (no change on the seed articles,
#: whose passages are news paragraphs and keep sentence quotes).
WHOLE_ARTICLE_CHARS = 240


def quoted_whole(chunk) -> bool:
    """Is ``chunk`` a regulation article (or a piece of one) short enough to be quoted in full?"""
    return bool(getattr(chunk, "article", None)) and len(chunk.text) <= WHOLE_ARTICLE_CHARS


def quote(texts: Sequence[str], scores: np.ndarray, passage_of: Sequence[int] | None = None,
          whole: Sequence[bool] | None = None) -> list[int]:
    """Indices of the sentences a reply quotes: ``choose``'s, and every other sentence of a chosen sentence's
    passage when that passage is quoted whole (``whole[i]``: candidate ``i`` comes from such a passage)."""
    chosen = choose(texts, scores)
    if passage_of is None or whole is None:
        return chosen
    for i in list(chosen):
        if whole[i]:
            chosen += [j for j, p in enumerate(passage_of) if p == passage_of[i] and j not in chosen]
    return chosen


def heuristic_scores(ranker_rows: np.ndarray) -> np.ndarray:
    """The sentence scores without a fitted ranker (and the old decision's, for before/after tables): overlap
    among the candidates, the passage's rank, a cue for the asked type. Scaled so that their old runner-up margin
    (0.5) is ``RUNNER_UP_MARGIN``: the old decision quotes what it always quoted."""
    column = {name: i for i, name in enumerate(RANKER_FEATURES)}
    return (ranker_rows[:, column["local_overlap"]] + 0.2 * ranker_rows[:, column["passage_prior"]]
            + 0.15 * ranker_rows[:, column["carries_asked"]]) * (RUNNER_UP_MARGIN / 0.5)


def answer_row(ranker_rows: np.ndarray, question_row: dict[str, float], index: int,
               ranker_scores: np.ndarray) -> np.ndarray:
    """ANSWER_FEATURES for candidate ``index`` (the ranker's choice) of a question."""
    others = np.delete(ranker_scores, index)
    margin = float(ranker_scores[index] - others.max()) if len(others) else float(ranker_scores[index])
    row = list(ranker_rows[index]) + [question_row[n] for n in QUESTION_FEATURES]
    return np.asarray(row + [float(ranker_scores[index]), margin], dtype=np.float64)


def topic_row(question_row: dict[str, float]) -> np.ndarray:
    """TOPIC_FEATURES of a question."""
    return np.asarray([question_row[n] for n in TOPIC_FEATURES], dtype=np.float64)
