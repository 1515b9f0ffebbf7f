"""Synonyms: how citizens word a question -> how the documents word it.

A search engine's synonym filter for the policy domain. Rules are read from the defaults
shipped in ``kb_bot/data/synonyms.txt`` plus the staff's own ``synonyms.txt`` kept with the
documents (same format, see the shipped file's header). They are used twice: the keyword
(BM25) query is expanded with the documents' words, and the answer step counts a question
word as covered when the passage has one of its synonyms.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .loading import SYNONYMS_FILE as STAFF_FILE_NAME  # the staff's own list, which the loader never indexes

log = logging.getLogger(__name__)

DEFAULT_FILE = Path(__file__).with_name("data") / "synonyms.txt"


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
    """A set of rules, matched against questions by substring (Chinese has no spaces)."""

    def __init__(self, rules: list[Rule]):
        self.rules = rules
        # Longest terms first, so 停水停电 wins over 停水 and a matched span is not matched twice.
        self._terms = sorted({(t, i) for i, r in enumerate(rules) for t in r.terms}, key=lambda p: (-len(p[0]), p[0]))

    def expand(self, question: str) -> Expansion:
        """The rules the question matches, longest words first, without overlaps."""
        lowered = question.lower()
        taken = [False] * len(lowered)
        matched: dict[str, list[str]] = {}
        for term, rule_index in self._terms:
            start = lowered.find(term.lower())
            while start >= 0:
                end = start + len(term)
                if not any(taken[start:end]):
                    taken[start:end] = [True] * (end - start)
                    alternatives = matched.setdefault(term, [term])
                    for target in self.rules[rule_index].targets:
                        if target not in alternatives:
                            alternatives.append(target)
                    break
                start = lowered.find(term.lower(), start + 1)
        return Expansion(tuple(matched), tuple(tuple(v) for v in matched.values()))

    def expand_query(self, question: str) -> str:
        """The question with its synonyms appended, for the keyword index."""
        extra = self.expand(question).extra_terms
        return f"{question} {' '.join(extra)}" if extra else question


@lru_cache(maxsize=1)
def _default_rules() -> tuple[Rule, ...]:
    """The shipped rules, read once per process (answers without an engine ask for them per question)."""
    return tuple(parse_rules(DEFAULT_FILE.read_text(encoding="utf-8"), str(DEFAULT_FILE)))


def load_synonyms(documents: Path | None = None) -> Synonyms:
    """The shipped defaults plus ``documents/synonyms.txt`` when present.

    A broken staff file is reported in the log and skipped line by line would hide mistakes,
    so the whole staff file is skipped with a warning that names the line; the defaults still apply.
    """
    rules = list(_default_rules())
    staff = documents / STAFF_FILE_NAME if documents is not None else None
    if staff is not None and staff.is_file():
        try:
            rules += parse_rules(staff.read_text(encoding="utf-8-sig"), str(staff))
        except (SynonymError, UnicodeDecodeError) as exc:
            log.warning("ignoring %s: %s (fix the line; the shipped synonyms still apply)", staff, exc)
    return Synonyms(rules)
