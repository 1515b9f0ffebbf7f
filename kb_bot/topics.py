"""Topic guide: the support the documents describe, grouped for enterprises and citizens.

The groups (financing, hiring, utilities, ...) are a fixed taxonomy with keywords; the
entries are found in the indexed chunks by code, so the guide follows the documents:
a sentence joins a group when it contains one of the group's keywords, and each entry
points at its passage. Groups with no matching passage are left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from .answer import split_sentences
from .chunking import Chunk


@dataclass(frozen=True)
class TopicSpec:
    """A group of the taxonomy: its name, the words that place a passage in it, a sample question."""

    key: str
    name: str
    keywords: tuple[str, ...]
    example: str


TAXONOMY: tuple[TopicSpec, ...] = (
    TopicSpec("financing", "融资贷款", ("融资", "贷款", "银企", "资金需求", "金融"), "企业融资贷款有什么支持？"),
    TopicSpec("hiring", "招聘用工", ("招聘", "用工", "就业", "人才"), "企业招工难，区里能帮忙吗？"),
    TopicSpec("utilities", "水电保障", ("供水", "供电", "用水", "用电", "供气", "停水", "停电"), "企业遇到供水供电问题怎么办？"),
    TopicSpec("investment", "投资与项目", ("招商", "签约", "落地", "投产", "项目"), "上街区有哪些招商引资项目？"),
    TopicSpec("logistics", "物流与班列", ("物流", "班列", "陆港", "海铁联运", "枢纽"), "上街有哪些国际班列？"),
    TopicSpec("commerce", "商贸与消费", ("消费", "夜市", "商圈", "商户", "电商", "楼宇"), "济源路街道怎么促进消费？"),
    TopicSpec("business-environment", "营商环境", ("营商环境", "走访", "万人助万企", "送政策"), "政府怎样帮企业解决困难？"),
    TopicSpec("education", "教育", ("教育", "学校", "教师", "办学"), "上街区教育有哪些新举措？"),
)

ENTRIES_PER_GROUP = 6
SUMMARY_CHARS = 60


@dataclass(frozen=True)
class TopicEntry:
    """One passage in a group: a one-line summary and where it comes from."""

    topic: str
    summary: str
    doc: str
    title: str
    unit: str | None
    section: str | None
    chunk_id: str
    text: str


@dataclass(frozen=True)
class TopicGroup:
    """A group of the guide with its entries."""

    key: str
    name: str
    example: str
    entries: tuple[TopicEntry, ...]


@dataclass(frozen=True)
class TopicGuide:
    """The whole guide, in taxonomy order."""

    groups: tuple[TopicGroup, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "groups": [
                {
                    "key": g.key,
                    "name": g.name,
                    "example": g.example,
                    "entries": [
                        {"summary": e.summary, "doc": e.doc, "title": e.title, "unit": e.unit,
                         "section": e.section, "chunk_id": e.chunk_id, "text": e.text}
                        for e in g.entries
                    ],
                }
                for g in self.groups
            ]
        }

    def group(self, key_or_name: str) -> TopicGroup | None:
        return next((g for g in self.groups if key_or_name in (g.key, g.name)), None)


def _summary(sentence: str) -> str:
    sentence = sentence.strip()
    return sentence if len(sentence) <= SUMMARY_CHARS else sentence[: SUMMARY_CHARS - 1] + "…"


def build_topic_guide(chunks: Sequence[Chunk]) -> TopicGuide:
    """Group the chunks' sentences under the taxonomy by keyword, best-matching sentence per chunk."""
    # One pass over the corpus: per chunk, per group, the sentence with the most keyword hits.
    scored: dict[str, list[tuple[int, int, Chunk, str]]] = {spec.key: [] for spec in TAXONOMY}
    for order, chunk in enumerate(chunks):
        present = [spec for spec in TAXONOMY if any(word in chunk.text for word in spec.keywords)]
        if not present:
            continue
        sentences = [chunk.text[start:end] for start, end in split_sentences(chunk.text)]
        for spec in present:
            hits, sentence = max(((sum(s.count(word) for word in spec.keywords), s) for s in sentences),
                                 key=lambda item: item[0])
            if hits:
                heading_hits = sum((chunk.section or "").count(word) for word in spec.keywords)
                scored[spec.key].append((hits + heading_hits, order, chunk, sentence))
    groups = []
    for spec in TAXONOMY:
        best = sorted(scored[spec.key], key=lambda item: (-item[0], item[1]))[:ENTRIES_PER_GROUP]
        entries = tuple(
            TopicEntry(spec.name, _summary(sentence), chunk.doc, chunk.title, chunk.unit, chunk.section,
                       chunk.chunk_id, chunk.text)
            for _, _, chunk, sentence in best
        )
        if entries:
            groups.append(TopicGroup(spec.key, spec.name, spec.example, entries))
    return TopicGuide(tuple(groups))


def nearest_topics(guide: TopicGuide, query_vector: np.ndarray | None, chunk_vectors: dict[str, np.ndarray],
                   limit: int = 3) -> list[str]:
    """Names of the groups whose passages are closest to the query (all groups, in order, without a vector)."""
    if query_vector is None:
        return [g.name for g in guide.groups[:limit]]
    scored = []
    for group in guide.groups:
        similarities = [float(chunk_vectors[e.chunk_id] @ query_vector) for e in group.entries if e.chunk_id in chunk_vectors]
        if similarities:
            scored.append((max(similarities), group.name))
    scored.sort(key=lambda item: -item[0])
    return [name for _, name in scored[:limit]]
