"""Synonyms: how citizens word a question -> how the documents word it.

A search engine's synonym filter for the policy domain. Rules are read from the defaults
shipped in ``kb_bot/data/synonyms.txt`` (Chinese) and ``kb_bot/data/synonyms-en.txt`` (English
words -> the documents' Chinese words, for questions asked in English) plus the staff's own
``synonyms.txt`` kept with the documents (same format, see the shipped file's header). They are
used twice: the keyword (BM25) query is expanded with the documents' words, and the answer step
counts a question word as covered when the passage has one of its synonyms.

Chinese words match anywhere (Chinese has no spaces); a Latin word matches a whole word, with a
plural -s / -es (``fee`` finds "fees", never "coffee"), and only in a question without Chinese.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .loading import SYNONYMS_FILE as STAFF_FILE_NAME  # the staff's own list, which the loader never indexes

log = logging.getLogger(__name__)

DEFAULT_FILE = Path(__file__).with_name("data") / "synonyms.txt"
ENGLISH_FILE = Path(__file__).with_name("data") / "synonyms-en.txt"


@dataclass(frozen=True)
class Rule:
    """Question words (``terms``) that bring in the documents' words (``targets``)."""

    terms: tuple[str, ...]
    targets: tuple[str, ...]


@dataclass(frozen=True)
class Expansion:
    """A question's synonym matches: which words matched, and every word that stands for each."""

    matched: tuple[str, ...]  # the question's own words that a rule matched
    alternatives: tuple[tuple[str, ...], ...]  # for each matched word: itself and its synonyms
    spans: tuple[tuple[int, int], ...]  # for each matched word: where it stands in the question

    @property
    def extra_terms(self) -> tuple[str, ...]:
        """Words to add to a keyword query (the synonyms, not the question's own words)."""
        seen = dict.fromkeys(t for m, alts in zip(self.matched, self.alternatives) for t in alts if t != m)
        return tuple(seen)


class SynonymError(ValueError):
    """A synonym file line that cannot be read."""


def parse_rules(text: str, source: str = "synonyms") -> list[Rule]:
    """Rules from the text of a synonym file; raises SynonymError naming the bad line."""
    rules = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        left, arrow, right = line.partition("=>")
        terms = tuple(t.strip() for t in left.replace("，", ",").split(",") if t.strip())
        targets = tuple(t.strip() for t in right.replace("，", ",").split(",") if t.strip()) if arrow else terms
        if not terms or not targets:
            raise SynonymError(f"{source}, line {number}: expected 'a, b => x, y' or 'a, b, c', got {raw.strip()!r}")
        rules.append(Rule(terms, targets))
    return rules


class Synonyms:
    """A set of rules, matched against questions: a Chinese word by substring (Chinese has no spaces), an English
    one as a whole word."""

    def __init__(self, rules: list[Rule]):
        self.rules = rules
        # Longest terms first, so 停水停电 wins over 停水 and a matched span is not matched twice.
        self._terms = sorted({(t, i) for i, r in enumerate(rules) for t in r.terms}, key=_longest_first)
        # A Latin term's whole-word pattern, compiled once (hundreds of them would thrash re's own cache).
        self._patterns = {t: _whole_word(t.lower()) for t, _ in self._terms
                          if _LATIN_TERM.search(t.lower()) and not _CJK.search(t)}  # LED屏 is a Chinese word
        # The other terms by their first two characters (one for a one-character term): a question is checked
        # against the few terms that can start in it, not against thousands.
        self._by_head: dict[str, list[tuple[str, int]]] = {}
        self._latin: list[tuple[str, int]] = []  # the terms with a pattern, for questions asked in English
        for term, rule_index in self._terms:
            if term in self._patterns:
                self._latin.append((term, rule_index))
            else:
                self._by_head.setdefault(term.lower()[:2], []).append((term, rule_index))

    def expand(self, question: str) -> Expansion:
        """The rules the question matches, longest words first, without overlaps."""
        lowered = question.lower()
        taken = [False] * len(lowered)
        matched: dict[str, list[str]] = {}
        spans: dict[str, tuple[int, int]] = {}
        # English terms serve questions asked in English: in a Chinese question a Latin word is a name (POWER6, APP).
        latin = bool(_LATIN_TERM.search(lowered)) and not _CJK.search(lowered)
        straddles = _word_ends(lowered) if _CJK.search(lowered) else {}
        heads = {lowered[i : i + n] for i in range(len(lowered)) for n in (1, 2)}
        found = [p for head in heads for p in self._by_head.get(head, ())]
        if latin:
            found += [(t, i) for t, i in self._latin if t.lower() in lowered]  # the quick test before the pattern
        for term, rule_index in sorted(found, key=_longest_first):
            pattern = self._patterns.get(term)
            occurrences = (m.span() for m in pattern.finditer(lowered)) if pattern else _occurrences(lowered, term.lower())
            for start, end in occurrences:
                if end > straddles.get(start, end):  # 区里 in 小区里: starts inside a word and runs past it
                    continue
                if not any(taken[start:end]):
                    taken[start:end] = [True] * (end - start)
                    alternatives = matched.setdefault(term, [term])
                    spans[term] = (start, end)
                    for target in self.rules[rule_index].targets:
                        if target not in alternatives:
                            alternatives.append(target)
                    break
        return Expansion(tuple(matched), tuple(tuple(v) for v in matched.values()), tuple(spans[t] for t in matched))

    def expand_query(self, question: str) -> str:
        """The question with its synonyms appended, for the keyword index."""
        extra = self.expand(question).extra_terms
        return f"{question} {' '.join(extra)}" if extra else question


_LATIN_TERM = re.compile(r"[a-z]")
_CJK = re.compile(r"[\u3400-\u9fff]")  # word_weights.CJK: that module sits in the answer layer, above this one


def _longest_first(pair: tuple[str, int]) -> tuple[int, str]:
    return -len(pair[0]), pair[0]


def _whole_word(term: str) -> re.Pattern:
    """Where a Latin ``term`` (lower case) stands as a whole word, a plural -s / -es allowed."""
    plural = r"(?:e?s)?" if term[-1].isalpha() else ""
    return re.compile(rf"(?<![a-z]){re.escape(term)}{plural}(?![a-z])")


def _word_ends(text: str) -> dict[int, int]:
    """For each place inside (not at the start of) a dictionary word of ``text``, where that word ends.

    A Chinese term found from such a place to beyond the word's end straddles two words and is no match: 区里 in
    小区里 or 保护区里, 水管 in 用水管理, 缺人 in 紧缺人才, 工资 in 竣工资料. A term inside the word (小企业 in 中小企业,
    钱 in 出钱) stays a match. jieba's own segmentation, as the keyword index uses.
    """
    import jieba  # the keyword index loads it anyway; imported here so reading rules stays light

    jieba.setLogLevel(logging.WARNING)  # its dictionary load logs to stderr (initialised once, under its own lock)
    ends: dict[int, int] = {}
    for word, start, end in jieba.tokenize(text):
        if end - start >= 2 and jieba.dt.FREQ.get(word):
            for inside in range(start + 1, end):
                ends[inside] = end
    return ends


def _occurrences(text: str, term: str):
    """(start, end) of each place a Chinese ``term`` stands in ``text`` (both lower case)."""
    start = text.find(term)
    while start >= 0:
        yield start, start + len(term)
        start = text.find(term, start + 1)


@lru_cache(maxsize=1)
def _default_rules() -> tuple[Rule, ...]:
    """The shipped rules, read once per process (answers without an engine ask for them per question)."""
    return tuple(rule for path in (DEFAULT_FILE, ENGLISH_FILE) if path.is_file()
                 for rule in parse_rules(path.read_text(encoding="utf-8"), str(path)))


def load_synonyms(documents: Path | None = None) -> Synonyms:
    """The shipped defaults plus ``documents/synonyms.txt`` when present.

    A broken staff file is skipped whole, with a warning that names the bad line (skipping only the bad lines
    would hide the mistake); the defaults still apply.
    """
    rules = list(_default_rules())
    staff = documents / STAFF_FILE_NAME if documents is not None else None
    if staff is not None and staff.is_file():
        try:
            rules += parse_rules(staff.read_text(encoding="utf-8-sig"), str(staff))
        except (SynonymError, UnicodeDecodeError) as exc:
            log.warning("ignoring %s: %s (fix the line; the shipped synonyms still apply)", staff, exc)
    return Synonyms(rules)
