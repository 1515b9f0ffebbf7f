"""Staff answers (FAQ): curated answers written once by staff, matched before the articles.

Each entry is a Markdown file under ``documents/faq/`` with front matter::

    ---
    title: "工作人员解答：开发区能帮企业贷款吗？"
    kind: faq
    questions: [开发区能帮企业贷款吗？, 企业融资可以找谁？]
    source: advanced-manufacturing.md     # the document the answer rests on, if any
    article: 第二十五条                     # the article of a regulation, if any
    date: 2026-11-27
    status: active
    ---
    # 开发区能帮企业贷款吗？

    The answer text.

Because the files live in the documents folder they are versioned, refreshed and rolled back
with the documents: an entry is used only while its file is, byte for byte, the one the index
generation in use holds (its manifest's content hash), so a new or edited entry takes effect on
``kb-bot refresh`` and disappears again on ``kb-bot rollback``. The loader indexes the files like any article, so the answer
text is also found by ordinary retrieval (as a related passage only: judge.judge). A retired entry is moved to ``documents/faq/.retired/``
(a hidden folder, which the loader skips), so it stops answering at once and its passages leave the index on
the next refresh; its file is kept for the record, and moving it back re-activates it. An entry marked
``status: repealed`` (the staff tab's 标记废止) is retired the same way.

Which question an entry answers is ``faq_match``'s part; this module owns the entry files.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any, Sequence

import yaml

from ..errors import KbBotError
from ..files import write_atomic
from ..legal import normalize_status
from ..loading import SUPPORTED_SUFFIXES, content_hash

log = logging.getLogger(__name__)

FAQ_FOLDER = "faq"
RETIRED_FOLDER = ".retired"  # inside FAQ_FOLDER; hidden, so the loader does not index it
FAQ_TITLE = "工作人员解答"
ACTIVE, RETIRED = "active", "retired"

_FRONT = re.compile(r"^---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|$)", re.S)


@dataclass(frozen=True)
class FaqEntry:
    """One curated staff answer."""

    path: str  # relative to the documents folder, e.g. "faq/20261127-ab12cd.md"
    questions: tuple[str, ...]
    answer: str
    source: str | None = None
    article: str | None = None
    date: str | None = None
    status: str = ACTIVE

    @property
    def active(self) -> bool:
        """Whether the entry answers (not retired, not repealed)."""
        return self.status != RETIRED

    def to_json(self) -> dict[str, Any]:
        """The entry as JSON."""
        return {"path": self.path, "questions": list(self.questions), "answer": self.answer, "source": self.source,
                "article": self.article, "date": self.date, "status": self.status}


def parse_entry(text: str, rel_path: str) -> FaqEntry:
    """An entry from the text of its Markdown file; KbBotError when it is not a usable entry."""
    match = _FRONT.match(text)
    if not match:
        raise KbBotError(f"{rel_path}: a staff answer needs front matter with 'questions'")
    try:
        meta = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError:
        raise KbBotError(f"{rel_path}: front matter is not valid YAML") from None
    questions = meta.get("questions") if isinstance(meta, dict) else None
    if isinstance(questions, str):
        questions = [questions]
    if not isinstance(questions, list) or not [q for q in questions if str(q).strip()]:
        raise KbBotError(f"{rel_path}: 'questions' must list at least one wording")
    body = text[match.end():].strip()
    body = re.sub(r"^#[^\n]*\n+", "", body).strip()  # the heading repeats the first question
    if not body:
        raise KbBotError(f"{rel_path}: the answer text is empty")
    value = meta.get("date")
    return FaqEntry(rel_path, tuple(str(q).strip() for q in questions if str(q).strip()), body,
                    _opt(meta.get("source")), _opt(meta.get("article")), str(value) if value else None,
                    RETIRED if _inactive(meta.get("status")) else ACTIVE)


def _inactive(status: Any) -> bool:
    """Retired by staff, or marked repealed (the staff tab's 标记废止 works on any .md file): either way the
    entry no longer answers."""
    return str(status or ACTIVE).strip().lower() == RETIRED or normalize_status(status) == "repealed"


def _opt(value: Any) -> str | None:
    return str(value).strip() or None if value is not None else None


def render_entry(entry: FaqEntry) -> str:
    """The Markdown file of an entry (front matter + heading + answer)."""
    meta = {"title": f"{FAQ_TITLE}：{entry.questions[0]}", "kind": "faq", "questions": list(entry.questions),
            "source": entry.source, "article": entry.article, "date": entry.date, "status": entry.status}
    front = yaml.safe_dump({k: v for k, v in meta.items() if v is not None}, allow_unicode=True, sort_keys=False)
    return f"---\n{front}---\n# {entry.questions[0]}\n\n{entry.answer.strip()}\n"


def read_entries(documents: Path) -> list[FaqEntry]:
    """All entries in ``documents/faq/`` (active and retired); unusable files are logged and skipped."""
    folder = documents / FAQ_FOLDER
    entries = []
    paths = [*sorted(folder.glob("*.md")), *sorted((folder / RETIRED_FOLDER).glob("*.md"))] if folder.is_dir() else []
    for path in paths:
        rel = path.relative_to(documents).as_posix()
        try:
            entry = parse_entry(path.read_text(encoding="utf-8-sig"), rel)
            entries.append(replace(entry, status=RETIRED) if path.parent.name == RETIRED_FOLDER else entry)
        except (KbBotError, OSError, UnicodeDecodeError) as exc:
            log.warning("staff answer %s skipped: %s", rel, getattr(exc, "message", exc))
    return entries


def save_entry(documents: Path, questions: Sequence[str], answer: str, source: str | None = None,
               article: str | None = None, path: str | None = None, status: str = ACTIVE) -> FaqEntry:
    """Write a new entry (or overwrite ``path``, an existing one) and return it. Takes effect on refresh."""
    wordings = tuple(dict.fromkeys(" ".join(q.split()) for q in questions if q and q.strip()))
    if not wordings:
        raise KbBotError("请至少填写一种问法 / give at least one question wording")
    if not (answer or "").strip():
        raise KbBotError("请填写解答内容 / the answer text is empty")
    _check_source(documents, (source or "").strip())
    if path is None:
        path = _new_path(documents, wordings[0])
    target = _inside(documents, path)
    entry = FaqEntry(path, wordings, answer.strip(), (source or "").strip() or None, (article or "").strip() or None,
                     date.today().isoformat(), RETIRED if status == RETIRED else ACTIVE)
    target.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(target, render_entry(entry).encode("utf-8"))
    return entry


def _check_source(documents: Path, source: str) -> None:
    """A basis named as a file must be a document of the knowledge base (QA, thirteenth session: citizens saw
    依据：../../etc/passwd). A link or other text (区住建局/区财政局, 2024年第3号通知) is a basis in words."""
    if not source or "://" in source or not (Path(source).suffix.lower() in SUPPORTED_SUFFIXES or ".." in source
                                             or source.startswith("/") or "\\" in source):
        return
    target = (documents / source).resolve()
    if not target.is_relative_to(documents.resolve()) or not target.is_file():
        raise KbBotError(f"依据文件不存在：{source} / the source document {source} is not in the knowledge base",
                         hint="从列表中选择已有文档，或用文字写明依据（如“区住建局”） / pick a document from the list, "
                              "or name the basis in words")


def _new_path(documents: Path, first_wording: str) -> str:
    """A file name for a new entry that no entry has, active or retired: a new entry never replaces one
    (two entries started the same day from the same question once shared a name, and the second save erased
    the first)."""
    stem = f"{date.today():%Y%m%d}-{hashlib.sha1(first_wording.encode('utf-8')).hexdigest()[:8]}"
    folder = documents / FAQ_FOLDER
    for number in range(1, 10_000):
        name = f"{stem}.md" if number == 1 else f"{stem}-{number}.md"
        if not (folder / name).exists() and not (folder / RETIRED_FOLDER / name).exists():
            return f"{FAQ_FOLDER}/{name}"
    raise KbBotError(f"too many staff answers named {stem}*.md", hint="retire or delete some of them")


def set_status(documents: Path, path: str, status: str) -> FaqEntry:
    """Retire an entry (moved to ``faq/.retired/``, which is not indexed) or re-activate it (moved back).

    Takes effect on the next refresh, like any change to the documents.
    """
    source = _inside(documents, path)
    try:
        entry = parse_entry(source.read_text(encoding="utf-8-sig"), path)
    except FileNotFoundError:
        raise KbBotError(f"staff answer {path} does not exist") from None
    retire = status == RETIRED
    folder = documents / FAQ_FOLDER / (RETIRED_FOLDER if retire else "")
    name = Path(path).name
    updated = replace(entry, path=(folder / name).relative_to(documents).as_posix(),
                      status=RETIRED if retire else ACTIVE)
    target = folder / name
    if target.resolve() != source.resolve() and target.exists():
        raise KbBotError(f"{updated.path} already exists", hint="rename one of the two files")
    folder.mkdir(parents=True, exist_ok=True)
    write_atomic(target, render_entry(updated).encode("utf-8"))  # whole or not at all: the old file is kept until
    if target.resolve() != source.resolve():                     # the new one is complete
        source.unlink()
    return updated


def _inside(documents: Path, path: str) -> Path:
    """The file of a staff answer; refuses anything outside ``faq/`` and ``faq/.retired/``."""
    target = (documents / path).resolve()
    folder = (documents / FAQ_FOLDER).resolve()
    if target.parent not in (folder, folder / RETIRED_FOLDER) or target.suffix != ".md":
        raise KbBotError(f"not a staff answer file: {path}", hint="staff answers live in documents/faq/*.md")
    return target


# --------------------------------------------------------------------------- matching


def indexed_entries(documents: Path, manifest: Any) -> list[FaqEntry]:
    """The active entries whose file is, byte for byte, the one the index generation holds.

    An entry edited, retired or repealed on disk keeps the index's passages until the next refresh; answering
    from the new file meanwhile would quote text that search does not find and that a rollback cannot bring back.
    So a changed file does not answer until it is indexed (the articles answer meanwhile).
    """
    entries = []
    for path, indexed in manifest.documents.items():
        if not path.startswith(f"{FAQ_FOLDER}/"):
            continue
        try:
            data = (documents / path).read_bytes()
        except FileNotFoundError:
            continue  # retired (moved to faq/.retired/) or deleted since the index was built
        except OSError as exc:  # unreadable (permissions, a folder in its place): it does not answer
            log.warning("staff answer %s skipped: %s", path, exc)
            continue
        try:
            if content_hash(data) != indexed.hash:
                log.info("staff answer %s changed since the index was built: not used until the next refresh", path)
                continue
            entry = parse_entry(data.decode("utf-8-sig"), path)
        except (KbBotError, OSError, UnicodeDecodeError) as exc:
            log.warning("staff answer %s skipped: %s", path, getattr(exc, "message", exc))
            continue
        if entry.active:
            entries.append(entry)
    return entries


def plain(question: str) -> str:
    """``question`` without spaces, end punctuation and case: how a wording is compared."""
    return re.sub(r"[\s?？!！。.,，]+", "", question).lower()
