"""Topic guide: the support the documents describe, grouped for enterprises and citizens.

The groups (financing, hiring, utilities, ...) are a fixed taxonomy with keywords; the
entries are found in the indexed chunks by code, so the guide follows the documents:
a sentence joins a group when it contains one of the group's keywords, and each entry
points at its passage. Groups with no matching passage are left out.

The taxonomy covers the news articles' support (financing, hiring, ...) and the regulations' subjects
(labour and wages, social insurance, housing, traffic, ...). A regulation's title and chapter count
towards its passages' hits, at most ``PER_REGULATION`` passages of one regulation enter a group (so a
group shows the breadth of the rules), and passages of superseded or repealed documents never do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from ..chunking import Chunk
from .answer import split_sentences


@dataclass(frozen=True)
class TopicSpec:
    """A group of the taxonomy: its name, the words that place a passage in it, a sample question."""

    key: str
    name: str
    keywords: tuple[str, ...]
    example: str
    regulations_only: bool = False  # a subject of the regulations: only their passages join it
    english: str = ""  # the group's name for a visitor who asks in English
    #: A sentence with one of these words is not about this group even when it has a keyword: 招聘 in
    #: "公开招聘教师" is a school hiring its teachers, not support for enterprises that need workers.
    excludes: tuple[str, ...] = ()


TAXONOMY: tuple[TopicSpec, ...] = (
    TopicSpec("financing", "融资贷款", ("融资", "贷款", "银企", "资金需求", "金融"), "银企对接平台帮企业融资多少钱？", english="Financing and loans"),
    TopicSpec("labour", "劳动用工与工资", ("劳动合同", "工资", "加班", "工作时间", "欠薪", "集体协商", "劳动者"),
              "停工停产一个月内工资照发吗？", True, english="Labour and wages"),
    TopicSpec("social-insurance", "社会保险", ("失业保险", "养老保险", "社会保险", "失业人员", "参保"),
              "失业保险金能领多长时间？", True, english="Social insurance"),
    TopicSpec("housing", "住房与物业", ("物业", "业主", "房屋租赁", "承租人", "房屋登记", "房地产", "危险房屋"),
              "物业费能预收几年？", True, english="Housing and property"),
    TopicSpec("traffic", "交通出行", ("公共汽车", "出租汽车", "轨道交通", "停车", "电动自行车", "道路交通"),
              "出租车司机可以拒载吗？", True, english="Transport"),
    TopicSpec("city-life", "城市管理与文明", ("养犬", "犬只", "吸烟", "市容", "文明行为", "户外广告", "殡葬"),
              "在郑州养狗要办登记吗？", True, english="City life and civility"),
    TopicSpec("hiring", "招聘用工", ("招聘", "用工", "就业", "人才"), "企业招工难，区里能帮忙吗？",
              english="Hiring and jobs", excludes=("教师", "师范", "学校")),
    TopicSpec("utilities", "水电保障", ("供水", "供电", "用水", "用电", "供气", "停水", "停电", "燃气"), "停水要提前多久通知？",
              english="Water and power"),
    TopicSpec("ip", "知识产权与科技", ("专利", "知识产权", "科学技术", "发明创造", "技术创新"), "专利申请有资助吗？", True,
              english="Patents and technology"),
    TopicSpec("environment", "生态环境", ("大气污染", "湿地", "古树", "水资源", "绿地", "扬尘"), "古树名木能砍吗？", True, english="Environment"),
    TopicSpec("health", "医疗与急救", ("急救", "医疗卫生", "医疗机构", "120"), "打120后急救车多久能派出？", True,
              english="Health and emergency care"),
    TopicSpec("investment", "投资与项目", ("招商", "签约", "落地", "投产", "项目"), "上街区有哪些招商引资项目？",
              english="Investment and projects"),
    TopicSpec("logistics", "物流与班列", ("物流", "班列", "陆港", "海铁联运", "枢纽"), "上街有哪些国际班列？",
              english="Logistics and freight trains"),
    TopicSpec("commerce", "商贸与消费", ("消费", "夜市", "商圈", "商户", "电商", "楼宇"), "济源路街道怎么促进消费？",
              english="Trade and consumption"),
    TopicSpec("business-environment", "营商环境", ("营商环境", "走访", "万人助万企", "送政策", "市场主体", "政务服务"),
              "开发区走访了多少家企业？", english="Business environment"),
    TopicSpec("education", "教育", ("教育", "学校", "教师", "办学"), "上街区教育有哪些新举措？", english="Education"),
)

ENTRIES_PER_GROUP = 6
#: At most this many passages of one regulation in a group.
PER_REGULATION = 2
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
    article: str | None = None  # "第二十五条" for a passage of a regulation
    issued: str | None = None
    kind: str | None = None
    status: str | None = None  # "superseded": an older version, marked wherever it is shown (see legal.py)
    superseded_by: str | None = None


@dataclass(frozen=True)
class TopicGroup:
    """A group of the guide with its entries."""

    key: str
    name: str
    example: str
    entries: tuple[TopicEntry, ...]
    english: str = ""  # the name for a visitor who asks in English


@dataclass(frozen=True)
class TopicGuide:
    """The whole guide, in taxonomy order."""

    groups: tuple[TopicGroup, ...]

    def to_json(self) -> dict[str, Any]:
        """The guide as ``kb-bot topics --json`` prints it."""
        return {
            "groups": [
                {
                    "key": g.key,
                    "name": g.name,
                    "example": g.example,
                    "entries": [
                        {"summary": e.summary, "doc": e.doc, "title": e.title, "unit": e.unit,
                         "section": e.section, "chunk_id": e.chunk_id, "text": e.text,
                         "article": e.article, "issued": e.issued, "kind": e.kind}
                        for e in g.entries
                    ],
                }
                for g in self.groups
            ]
        }

    def group(self, key_or_name: str) -> TopicGroup | None:
        """A group by its key or name, or None."""
        return next((g for g in self.groups if key_or_name in (g.key, g.name)), None)


_BY_NAME = {spec.name: spec for spec in TAXONOMY}

#: Sentences that tell an enterprise nothing it can use: a definition (燃气器具是指…, 本条例所称绿地…) or a
#: regulation's statement of purpose (第一条 为加强…，根据…，制定本条例).
_BOILERPLATE = re.compile(r"是指|所称|^第一条\s*为")


def _summary(sentence: str) -> str:
    sentence = sentence.strip()
    return sentence if len(sentence) <= SUMMARY_CHARS else sentence[: SUMMARY_CHARS - 1] + "…"


def entry_of(chunk: Chunk, topic: str, sentence: str | None = None) -> TopicEntry:
    """A passage as an entry of ``topic``, summed up by ``sentence`` (its opening sentence when not given)."""
    if sentence is None:
        spans = split_sentences(chunk.text)
        sentence = chunk.text[spans[0][0]:spans[0][1]] if spans else chunk.text
    return TopicEntry(topic, _summary(sentence), chunk.doc, chunk.title, chunk.unit, chunk.section, chunk.chunk_id,
                      chunk.text, chunk.article, chunk.issued, chunk.kind, getattr(chunk, "status", None),
                      getattr(chunk, "superseded_by", None))


def _diverse(ranked: list[tuple[int, int, Chunk, str]]) -> list[tuple[int, int, Chunk, str]]:
    """The first ``ENTRIES_PER_GROUP`` of ``ranked``, at most ``PER_REGULATION`` of any one regulation."""
    taken: list[tuple[int, int, Chunk, str]] = []
    per_doc: dict[str, int] = {}
    articles: set[tuple[str, str]] = set()
    for item in ranked:
        chunk = item[2]
        if chunk.kind == "regulation":
            if per_doc.get(chunk.doc, 0) >= PER_REGULATION or (chunk.doc, chunk.article or "") in articles:
                continue  # one passage an article: the pieces of a long article are one entry
            per_doc[chunk.doc] = per_doc.get(chunk.doc, 0) + 1
            articles.add((chunk.doc, chunk.article or ""))
        taken.append(item)
        if len(taken) >= ENTRIES_PER_GROUP:
            break
    return taken


def build_topic_guide(chunks: Sequence[Chunk]) -> TopicGuide:
    """Group the chunks' sentences under the taxonomy by keyword, best-matching sentence per chunk."""
    # One pass over the corpus: per chunk, per group, the sentence with the most keyword hits.
    scored: dict[str, list[tuple[int, int, Chunk, str]]] = {spec.key: [] for spec in TAXONOMY}
    for order, chunk in enumerate(chunks):
        if getattr(chunk, "status", None):  # superseded or repealed: not the rule in force
            continue
        is_regulation = chunk.kind == "regulation"
        present = [spec for spec in TAXONOMY if (is_regulation or not spec.regulations_only)
                   and any(word in chunk.text for word in spec.keywords)]
        if not present:
            continue
        sentences = [chunk.text[start:end] for start, end in split_sentences(chunk.text)]
        for spec in present:
            hits, sentence = max(((0 if any(word in s for word in spec.excludes) or _BOILERPLATE.search(s)
                                   else sum(s.count(word) for word in spec.keywords), s) for s in sentences),
                                 key=lambda item: item[0])
            if hits:
                heading = (chunk.section or "") + (chunk.title if chunk.kind == "regulation" else "")
                heading_hits = sum(heading.count(word) for word in spec.keywords)
                scored[spec.key].append((hits + heading_hits, order, chunk, sentence))
    groups = []
    for spec in TAXONOMY:
        best = _diverse(sorted(scored[spec.key], key=lambda item: (-item[0], item[1])))
        entries = tuple(entry_of(chunk, spec.name, sentence) for _, _, chunk, sentence in best)
        if entries:
            groups.append(TopicGroup(spec.key, spec.name, spec.example, entries, spec.english))
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


def topics_in(guide: TopicGuide, texts: Sequence[str], limit: int = 3) -> list[str]:
    """Names of the guide's groups whose keywords the ``texts`` use most (a related reply's quoted passages: the
    topics to browse next are the quote's, not the nearest to words of the question the documents lack)."""
    joined = " ".join(texts)
    scored = [(sum(joined.count(word) for word in _BY_NAME[g.name].keywords), g.name) for g in guide.groups
              if g.name in _BY_NAME]
    return [name for hits, name in sorted(scored, key=lambda item: -item[0]) if hits][:limit]


def english_name(name: str, guide: Any = None) -> str:
    """A topic's English name ("Financing and loans"), else its Chinese one."""
    for group in getattr(guide, "groups", ()) or ():
        if group.name == name and getattr(group, "english", ""):
            return group.english
    return next((spec.english for spec in TAXONOMY if spec.name == name and spec.english), name)

