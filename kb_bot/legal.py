"""Legal structure: regulations (条例, 办法, 规定) read from their text.

A regulation as published (see ``documents/regulations/``) is a ``# title``, the adoption and amendment
lines (``2004年12月22日 郑州市第十二届人民代表大会常务委员会第七次会议通过`` ... ``批准`` ... ``修正``), then
``## 第X章`` (and ``第X节``) headings and ``第X条`` articles with ``（一）（二）`` items. This module holds
the text rules only, on plain strings, so the loader and the chunker share them:

* :func:`is_regulation` - whether a document's paragraphs are articles of a regulation;
* :func:`read_header` - issuing body and dates from the adoption lines; the document's date is the
  latest of them and of a ``(yyyy-mm-dd)`` date in the file name;
* :func:`article_of` - the article number a paragraph opens (``第二十五条``);
* :func:`find_supersessions` - which documents another one replaces: two versions of one regulation
  (the older title equal to, or contained in order in, the newer one, e.g. 郑州市户外广告设置管理条例 (2005)
  and 郑州市户外广告和招牌设置管理条例 (2017)) or an explicit ``《…》同时废止`` in the newer text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Iterable, Sequence

REGULATION, ARTICLE = "regulation", "article"
SUPERSEDED, REPEALED = "superseded", "repealed"
#: Front-matter spellings of a status, mapped to the two the system knows.
_STATUS_WORDS = {"repealed": REPEALED, "废止": REPEALED, "已废止": REPEALED, "失效": REPEALED, "已失效": REPEALED,
                 "superseded": SUPERSEDED, "已被取代": SUPERSEDED, "已修订": SUPERSEDED}

_NUMERAL = "一二三四五六七八九十百千零〇两"
#: An article opens a paragraph: ``第二十五条`` (or ``第十条之一``) followed by a space.
_ARTICLE = re.compile(rf"^第[{_NUMERAL}]+条(?:之[{_NUMERAL}]+)?(?=[\s\u3000])")
_PART = re.compile(rf"^第[{_NUMERAL}]+节")
_DATE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
_NAME_DATE = re.compile(r"[（(](\d{4})-(\d{2})-(\d{2})[)）]\s*$")
_ACTION = re.compile(r"(通过|批准|修正|修订|公布)")
#: The body in an adoption line: 郑州市第十二届人民代表大会常务委员会 -> 郑州市人民代表大会常务委员会.
_BODY = re.compile(r"([\u4e00-\u9fff]{1,8}?[省市县区])第[" + _NUMERAL + r"]+届(人民代表大会(?:常务委员会?)?)")
_REPEALS = re.compile(r"《([^》]{2,60})》(?:同时)?(?:予以)?废止")
_TITLE_KIND = re.compile(r"(条例|办法|规定|细则|规则|决定)$")
#: A regulation's purpose clause (第一条 为…，制定本条例): it says why the regulation was made.
PURPOSE_CLAUSE = re.compile(r"制定本(?:条例|规定|办法|实施办法)")
#: A regulation's commencement clause (本条例自2005年5月1日起施行; the older text it repeals, …同时废止): it says
#: when the regulation applies from, nothing else.
COMMENCEMENT_CLAUSE = re.compile(r"本(?:条例|规定|办法|细则|实施办法)自[^。；]{0,40}?施行|同时废止")
#: What a regulation says of itself: its purpose, what it covers, who implements it, what its words mean, when it
#: applies from.
SELF_DESCRIPTION = re.compile(PURPOSE_CLAUSE.pattern + r"|本(?:条例|规定|办法)适用于|适用本(?:条例|规定|办法)|"
                              r"(?:实施|执行)本(?:条例|规定|办法)|本(?:条例|规定|办法)(?:的)?(?:组织)?实施|"
                              r"本(?:条例|规定|办法)所称|" + COMMENCEMENT_CLAUSE.pattern)


@dataclass(frozen=True)
class LegalHeader:
    """What the adoption lines of a regulation say."""

    issuer: str | None  # the body that adopted it, e.g. 郑州市人民代表大会常务委员会
    dates: tuple[str, ...]  # ISO dates of the adoption, approval and amendment lines, in text order
    lines: int  # how many of the paragraphs given were adoption lines


def article_of(paragraph: str) -> str | None:
    """The article number a paragraph opens (``第二十五条``), or None."""
    match = _ARTICLE.match(paragraph.strip())
    return match.group() if match else None


def is_part(heading: str) -> bool:
    """True for a ``第X节`` heading (a part of a chapter)."""
    return bool(_PART.match(heading.strip()))


def clean_heading(heading: str) -> str:
    """A heading with its runs of (full-width) spaces made one: ``第一章　 总则`` -> ``第一章 总则``."""
    return re.sub(r"[\s\u3000]+", " ", heading).strip()


def is_regulation(paragraphs: Sequence[str], title: str = "") -> bool:
    """True when the text is a regulation: its first article is 第一条 and at least three paragraphs open articles.

    A title ending in 条例/办法/规定/… is enough with a single article (a short 规定 or 决定).
    """
    articles = [a for a in (article_of(p) for p in paragraphs) if a]
    if not articles or articles[0] != "第一条":
        return False
    return len(articles) >= 3 or bool(_TITLE_KIND.search(title.strip()))


def iso_date(text: str) -> str | None:
    """The first ``yyyy年m月d日`` in ``text`` as ``yyyy-mm-dd``, or None."""
    match = _DATE.search(text)
    return _iso(*match.groups()) if match else None


def _iso(year: str, month: str, day: str) -> str | None:
    y, m, d = int(year), int(month), int(day)
    if not (1900 <= y <= 2100 and 1 <= m <= 12 and 1 <= d <= 31):
        return None
    return f"{y:04d}-{m:02d}-{d:02d}"


def is_adoption_line(paragraph: str) -> bool:
    """True for a line such as ``2005年3月31日 河南省…常务委员会第十五次会议批准`` (short, dated, an action)."""
    text = paragraph.strip()
    return bool(_DATE.match(text)) and bool(_ACTION.search(text)) and article_of(text) is None


def read_header(paragraphs: Sequence[str]) -> LegalHeader:
    """Issuing body and dates from the adoption lines at the start of ``paragraphs``.

    Stops at the first paragraph that is not an adoption line (HTML comments such as ``<!-- INFO END -->``
    are passed over). A line may hold several dates (``…通过2018年11月29日…批准``): all are kept.
    """
    dates: list[str] = []
    issuer: str | None = None
    count = 0
    for paragraph in paragraphs:
        text = paragraph.strip()
        if text.startswith("<!--"):
            count += 1
            continue
        if not is_adoption_line(text):
            break
        count += 1
        dates.extend(d for d in (_iso(*m.groups()) for m in _DATE.finditer(text)) if d)
        body = _BODY.search(text)
        if issuer is None and body and "通过" in text:
            # "常务委员第二十八次会议" (a slip in one published text) still names the standing committee.
            issuer = body.group(1) + body.group(2).replace("常务委员", "常务委员会").replace("会会", "会")
    return LegalHeader(issuer, tuple(dates), count)


def date_from_name(path: str) -> str | None:
    """The ``(yyyy-mm-dd)`` date at the end of a file's stem (``郑州市失业保险条例(2019-01-22).md``), or None."""
    match = _NAME_DATE.search(PurePosixPath(path).stem)
    return _iso(*match.groups()) if match else None


def issued_date(header_dates: Iterable[str], path: str, front_matter: object = None) -> str | None:
    """The document's date: front matter ``date``/``issued`` when given, else the latest of the adoption
    and amendment dates and the file-name date (the file name names the version's publication)."""
    if front_matter:
        given = str(front_matter)
        numeric = re.match(r"(\d{4})-(\d{1,2})-(\d{1,2})", given)
        return iso_date(given) or (_iso(*numeric.groups()) if numeric else None)  # 2099-99-99 is no date
    dates = [d for d in header_dates if d]
    named = date_from_name(path)
    if named:
        dates.append(named)
    return max(dates) if dates else None


def normalize_status(value: object) -> str | None:
    """Front matter ``status`` as ``repealed``/``superseded`` (Chinese spellings too), or None (in force)."""
    if value is None:
        return None
    return _STATUS_WORDS.get(str(value).strip().lower())


def cited_title(title: str) -> str:
    """A title as cited: ``《郑州市失业保险条例》`` (already in 《》 stays as it is). A title naming another law
    takes the inner marks the Chinese way: 《郑州市实施〈中华人民共和国工会法〉办法》, not 《…《…》…》."""
    title = title.strip()
    if title.startswith("《") and title.endswith("》"):
        return title
    return f"《{title.replace('《', '〈').replace('》', '〉')}》"


def citation_label(title: str, article: str | None) -> str:
    """``《郑州市失业保险条例》第二十五条`` for an article, the bare title otherwise."""
    return f"{cited_title(title)}{article}" if article else title


def name_of(path: str) -> str:
    """A document's name from its path when its title is not at hand: the stem without a ``(yyyy-mm-dd)``."""
    return _NAME_DATE.sub("", PurePosixPath(path).stem).strip()


def superseded_note(superseded_by: str | None, titles: dict[str, str] | None = None) -> str:
    """``已被《…》取代`` for a chunk whose document ``superseded_by`` (a document path) replaces."""
    if not superseded_by:
        return "已被取代"
    title = (titles or {}).get(superseded_by) or name_of(superseded_by)
    return f"已被{cited_title(title)}取代"


#: The district the knowledge base serves. Some municipal regulations leave it out of their scope (本条例适用于本市
#:市区（不含上街区）) and apply there only by reference (上街区…参照本条例执行): a resident of the district reading a
#: quote from one must be told (QA, twelfth session: the taxi and rental regulations were quoted as if they applied
#: in full).
DISTRICT = "上街区"
_LEFT_OUT = re.compile(rf"(?:不含|不包括|除)[^。；，]{{0,8}}?{DISTRICT}")
_BY_REFERENCE = re.compile(rf"{DISTRICT}[^。；]{{0,40}}?参照")


#: A definition of the city proper (本条例所称市区，是指…除县（市）、上街区…以外的区域): only the rules on 市区 leave
#: the district out, not the whole regulation.
_CITY_PROPER = re.compile(r"市区[，,]?是指|所称市区")


def scope_note(articles: Iterable[tuple[str | None, str]]) -> str | None:
    """What a regulation says of the district's place in its scope, from its (article, text) passages:
    ``适用范围不含上街区（第四条）；上街区参照执行（第三十七条）`` (``所称市区不含上街区`` where it is the city proper
    that leaves it out), or None when it says nothing of it."""
    left_out = by_reference = None
    city_proper = False
    for article, text in articles:
        match = _LEFT_OUT.search(text)
        if left_out is None and match:
            left_out = article or ""
            city_proper = bool(_CITY_PROPER.search(text[max(match.start() - 30, 0) : match.end()]))
        if by_reference is None and _BY_REFERENCE.search(text):
            by_reference = article or ""
    notes = []
    if left_out is not None:
        notes.append(("所称市区" if city_proper else "适用范围") + f"不含{DISTRICT}"
                     + (f"（{left_out}）" if left_out else ""))
    if by_reference is not None:
        notes.append(f"{DISTRICT}参照执行" + (f"（{by_reference}）" if by_reference else ""))
    return "；".join(notes) or None


@dataclass(frozen=True)
class DocFacts:
    """What :func:`find_supersessions` needs of a document."""

    path: str
    title: str
    kind: str | None
    issued: str | None
    text: str = ""


def scope_warning(notes: Iterable[tuple[str, str]], chinese: bool = True) -> str:
    """The line a reply ends with when a regulation it quotes leaves the district out of its scope, from the
    (title, ``scope_note``) of its sources: 注意：《…》适用范围不含上街区（第三条）。 Empty when none does (参照执行 alone
    is no warning: the regulation applies)."""
    # 所称市区不含上街区 defines a word, it leaves nothing out: 第七十八条 of the planning regulation names 上街区人民政府
    # itself, and a warning under it cast doubt on the one sentence that applies (QA, thirteenth session)
    left_out = dict.fromkeys((title, note) for title, note in notes if note and "适用范围不含" in note)
    if not left_out:
        return ""
    if chinese:
        return "\n\n注意：" + "；".join(f"{cited_title(title)}{note}" for title, note in left_out) + "。"
    def english(note: str) -> str:  # 参照执行: the district applies it by reference (review: "out" alone was false)
        return ("Shangjie district is outside its scope as such" +
                ("; Shangjie applies it by reference (参照执行)" if "参照" in note else ""))

    return "\n\nNote: " + "; ".join(f"{cited_title(title)} {note}: {english(note)}" for title, note in left_out) + "."


def _in_order(short: str, long: str) -> bool:
    """True when every character of ``short`` appears in ``long`` in the same order."""
    rest = iter(long)
    return all(char in rest for char in short)


def _core(title: str) -> str:
    return re.sub(r"[《》〈〉<>（）()\s]", "", title)


def find_supersessions(docs: Sequence[DocFacts]) -> dict[str, str]:
    """Older document path -> the newer document path that replaces it.

    Regulations only. A newer regulation replaces an older one when its text repeals the older by title
    (``《…》同时废止``), or when the older title equals, or is contained in order in, the newer title and
    both are of one kind of instrument (条例/办法/...) - two versions of one regulation. "Newer" is by date;
    two documents without dates, or with the same date, replace nothing.
    """
    regs = [d for d in docs if d.kind == REGULATION and d.title and d.issued]
    by_path = {d.path: d for d in regs}
    cores = {d.path: _core(d.title) for d in regs}
    kinds = {path: (_TITLE_KIND.search(core).group() if _TITLE_KIND.search(core) else None) for path, core in cores.items()}
    replaced: dict[str, str] = {}
    for new in regs:
        repealed_titles = {_core(t) for t in _REPEALS.findall(new.text)}
        for old in regs:
            if old.path == new.path or old.issued >= new.issued:
                continue
            old_core, new_core = cores[old.path], cores[new.path]
            versions = (kinds[old.path] is not None and kinds[old.path] == kinds[new.path]
                        and len(old_core) >= 6 and _in_order(old_core, new_core))
            if versions or old_core in repealed_titles:
                current = replaced.get(old.path)
                if current is None or by_path[current].issued < new.issued:  # the newest replacement wins
                    replaced[old.path] = new.path
    return replaced
