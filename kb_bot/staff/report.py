"""Staff insight: the question log aggregated (``kb-bot report`` and the staff tab).

For the last N days: questions per day split by outcome, the most frequent questions that were
not answered or only related passages were found (grouped by similarity: character-bigram
Jaccard, so 房价多少 and 房价是多少钱 count as one), thumbs-down answers with what was
answered, hits per document (as the answer and as a related reply's passage, apart), and how often
staff answers (FAQ) answered.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from ..answering import faq
from ..answering.courtesy import asks_nothing
from ..errors import KbBotError
from ..store import IndexFolder
from .questionlog import read_records

log = logging.getLogger(__name__)

#: Two questions are one group when their character-bigram Jaccard similarity reaches this.
GROUP_SIMILARITY = 0.4
OUTCOMES = ("answered", "related", "not_found")
CSV_FIELDS = ("time", "question", "status", "confidence", "docs", "understood_as", "faq", "feedback")

_NOISE = re.compile(r"[\s，,。.？?！!、；;：:“”\"'（）()]+|请问|吗|呢|吧|啊|的|了")


def _grams(question: str) -> set[str]:
    text = _NOISE.sub("", question.lower())
    return {text[i : i + 2] for i in range(len(text) - 1)} or {text}


def jaccard(a: set[str], b: set[str]) -> float:
    """The Jaccard similarity of two sets of bigrams (0 when either is empty)."""
    return len(a & b) / len(a | b) if a and b else 0.0


def group_questions(questions: Sequence[str], threshold: float = GROUP_SIMILARITY) -> list[dict[str, Any]]:
    """Greedy grouping by similarity, largest groups first: [{"question", "count", "variants"}]."""
    counts = Counter(" ".join(q.split()) for q in questions if q and q.strip())
    groups: list[dict[str, Any]] = []
    for question, count in counts.most_common():
        grams = _grams(question)
        for group in groups:
            if jaccard(grams, group["_grams"]) >= threshold:
                group["count"] += count
                group["variants"].append(question)
                break
        else:
            groups.append({"question": question, "count": count, "variants": [question], "_grams": grams})
    groups.sort(key=lambda g: -g["count"])
    return [{k: v for k, v in g.items() if k != "_grams"} for g in groups]


def staff_answers_in_force(documents: Path, index: Path) -> list[faq.FaqEntry]:
    """The staff answers that answer now: active and indexed as they are on disk in the index generation in use;
    none without an index."""
    try:
        generation = IndexFolder(index).current()
    except KbBotError:  # CURRENT names a missing generation: kb-bot status and build say so; the report goes on
        generation = None
    if generation is None:
        return []
    return faq.indexed_entries(documents, generation.manifest)


def staff_answered(documents: Path, index: Path) -> set[str]:
    """The wordings of the staff answers that answer now (:func:`staff_answers_in_force`; see
    :func:`build_report`'s ``covered``)."""
    return {wording for entry in staff_answers_in_force(documents, index) for wording in entry.questions}


def build_report(records: Sequence[dict[str, Any]], days: int, now: datetime | None = None,
                 limit: int = 20, covered: Iterable[str] = (),
                 answered_now: Callable[[str], bool] | None = None) -> dict[str, Any]:
    """The insight figures of ``records`` within the last ``days`` days.

    Questions a staff answer now covers are not offered again as unanswered: the ``covered`` wordings (the staff
    answers in force, :func:`staff_answered`) and questions whose latest reply a staff answer gave (QA: the pension
    question, answered by staff, stayed at the top of 仅找到相关内容 and was offered to answer twice). Compared as the
    staff answers compare a wording (``faq.plain``: spaces, end punctuation and case aside). Nor a group whose
    question ``answered_now`` (the current index answers it: a document added since closed the gap; QA, thirteenth
    session: 取暖补贴每户每月多少钱 stayed under 仅找到相关内容 after the notice that answers it was indexed); they are
    counted in ``answered_now``."""
    now = now or datetime.now(timezone.utc)
    since = now - timedelta(days=days)
    window = [r for r in records if _time(r) is not None and _time(r) >= since]
    by_day: dict[str, Counter] = {}
    for offset in range(days - 1, -1, -1):
        by_day[(now - timedelta(days=offset)).astimezone(timezone.utc).strftime("%Y-%m-%d")] = Counter()
    for record in window:
        day = _time(record).astimezone(timezone.utc).strftime("%Y-%m-%d")
        by_day.setdefault(day, Counter())[_status(record)] += 1
    outcome = Counter(_status(r) for r in window)
    down = [r for r in window if r.get("feedback") == "down"]
    # 你好, 谢谢, 在吗, an emoji: counted, but not offered as questions to write a staff answer for
    latest = {faq.plain(str(r.get("question", ""))): r for r in sorted(window, key=_time)}
    done = {faq.plain(q) for q in covered} | {q for q, r in latest.items() if r.get("mode") == "faq"}
    # ... unless a conversation read it as a follow-up (how much per month? after a question on benefits asks something)
    asked = [r for r in window if r.get("understood_as") or not asks_nothing(str(r.get("question", "")))]
    open_questions = [r for r in asked if faq.plain(str(r.get("question", ""))) not in done]
    return {
        "days": days,
        "since": since.isoformat(timespec="seconds"),
        "questions": len(window),
        "outcomes": {o: outcome.get(o, 0) for o in OUTCOMES},
        "faq_answers": sum(1 for r in window if r.get("mode") == "faq"),  # the faq flag of older lines over-counts
        "followups": sum(1 for r in window if r.get("understood_as")),
        "greetings": len(window) - len(asked),
        **_gaps(open_questions, limit, answered_now),
        "thumbs_down": [{"time": r["time"], "question": r["question"], "answer": r.get("answer", ""),
                         "docs": r.get("docs") or [], "status": _status(r)} for r in reversed(down)][:limit],
        "documents": document_hits(window),
        "per_day": [{"day": day, **{o: c.get(o, 0) for o in OUTCOMES}} for day, c in sorted(by_day.items())],
    }


def document_hits(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per document, the replies that cited it: ``hits`` as the answer, ``related`` as a related reply's closest
    passage (not an answer), most cited first.

    Staff read the table to see which documents citizens' questions reach. Counting answers alone hid the
    documents asked about most and answering least (a regulation quoted under 未找到直接答案 twenty times read as
    never asked about), and those are the ones where a staff answer or a clearer document helps. The two stay
    apart, so ``hits`` still means what it did in ``kb-bot report --json``."""
    answered: Counter = Counter()
    related: Counter = Counter()
    for record in records:
        counter = {"answered": answered, "related": related}.get(_status(record))
        if counter is not None:
            counter.update(dict.fromkeys(record.get("docs") or [], 1))  # a document once per reply
    docs = sorted(answered.keys() | related.keys(), key=lambda d: (-(answered[d] + related[d]), -answered[d], d))
    return [{"doc": doc, "hits": answered[doc], "related": related[doc]} for doc in docs]


def _gaps(open_questions: Sequence[dict], limit: int, answered_now: Callable[[str], bool] | None) -> dict[str, Any]:
    """The unanswered and related-only groups, without those the current index answers now (counted apart)."""
    out: dict[str, Any] = {"answered_now": 0}
    for key, status in (("unanswered", "not_found"), ("related_only", "related")):
        kept = []
        for group in group_questions([r["question"] for r in open_questions if _status(r) == status]):
            if len(kept) == limit:
                break
            if answered_now is not None and answered_now(group["question"]):
                out["answered_now"] += 1
            else:
                kept.append(group)
        out[key] = kept
    return out


def now_answered(ask: Callable[[str], Any]) -> Callable[[str], bool]:
    """``answered_now`` for :func:`build_report` from a knowledge base's ``ask`` (not the logging one: checking must
    not add questions to the log). A question it fails on counts as still open: the report never fails on it."""
    def check(question: str) -> bool:
        try:
            return ask(question).status == "answered"
        except Exception as error:  # noqa: BLE001 (an unreadable index must not cost the staff their report)
            log.warning("report: could not re-ask %r: %s", question, error)
            return False

    return check


def report_from_log(base: Path, days: int, now: datetime | None = None, covered: Iterable[str] = (),
                    answered_now: Callable[[str], bool] | None = None) -> dict[str, Any]:
    """:func:`build_report` over the question log at ``base``."""
    now = now or datetime.now(timezone.utc)
    return build_report(read_records(base, since=now - timedelta(days=days)), days, now, covered=covered,
                        answered_now=answered_now)


def _time(record: dict) -> datetime | None:
    try:
        value = datetime.fromisoformat(str(record.get("time")))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _status(record: dict) -> str:
    status = record.get("status")
    if status in OUTCOMES:
        return status
    return "answered" if record.get("found") else "not_found"


#: How a spreadsheet cell starts a formula (=, +, -, @, and a tab or return before one).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value: Any) -> Any:
    """A text cell a spreadsheet shows as text: what a citizen typed (=HYPERLINK(...)) must not run as a
    formula on a staff member's computer, so a leading ' makes it text (the OWASP advice for CSV exports)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def records_csv(records: Sequence[dict[str, Any]]) -> str:
    """The records as CSV (UTF-8 with BOM when written, so spreadsheet programs read Chinese right); text that
    could start a formula is kept as text (``spreadsheet_cell``)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_FIELDS)
    for r in records:
        row = [r.get("time", ""), r.get("question", ""), _status(r), r.get("confidence", ""),
               ";".join(r.get("docs") or []), r.get("understood_as") or "", "yes" if r.get("faq") else "",
               r.get("feedback", "")]
        writer.writerow([spreadsheet_cell(v) for v in row])
    return out.getvalue()


_LABELS = {"answered": "已回答", "related": "仅相关", "not_found": "未找到"}


def format_report(report: dict[str, Any]) -> str:
    """The report for the terminal."""
    o = report["outcomes"]
    lines = [f"最近 {report['days']} 天 / last {report['days']} days: {report['questions']} 个问题 questions — "
             + "，".join(f"{_LABELS[k]} {o[k]}" for k in OUTCOMES)
             + f"；工作人员解答 staff answers {report['faq_answers']}；追问 follow-ups {report['followups']}"
             + f"；问候 greetings {report.get('greetings', 0)}"]
    if report.get("answered_now"):
        lines.append(f"现已能回答、不再列出的问题 now answered by the documents, not listed: {report['answered_now']} 组 groups")
    for key, title in (("unanswered", "未找到答案的问题 Unanswered"), ("related_only", "仅找到相关内容 Related only")):
        lines.append("")
        lines.append(f"{title}:")
        if not report[key]:
            lines.append("  (无 none)")
        for group in report[key]:
            more = f"  (+{len(group['variants']) - 1} 种问法)" if len(group["variants"]) > 1 else ""
            lines.append(f"  {group['count']:>4}  {group['question']}{more}")
    lines.append("")
    lines.append("点踩的回答 Thumbs down:")
    if not report["thumbs_down"]:
        lines.append("  (无 none)")
    for item in report["thumbs_down"]:
        lines.append(f"  {item['time'][:16]}  {item['question']}")
        lines.append(f"        -> {item['answer'][:80]}  ({', '.join(item['docs'])})")
    lines.append("")
    lines.append("文档命中 Hits per document (已回答 answered / 仅相关 related):")
    if not report["documents"]:
        lines.append("  (无 none)")
    for item in report["documents"]:
        lines.append(f"  {item['hits']:>4} / {item.get('related', 0):>4}  {item['doc']}")
    lines.append("")
    lines.append("每日问题 Questions per day (已回答/仅相关/未找到):")
    for day in report["per_day"]:
        if any(day[o] for o in OUTCOMES):
            lines.append(f"  {day['day']}  {day['answered']:>3} / {day['related']:>3} / {day['not_found']:>3}")
    return "\n".join(lines)
