"""Document management for staff: list, upload and delete files in the documents folder.

No web framework here: the staff tab of the web app (and tests) call these functions.
Every problem is raised as a :class:`~kb_bot.errors.KbBotError` whose message and hint
are written in Chinese and English, so the staff tab can show them as they are.

Uploads are written atomically (a hidden temporary file in the same folder, fsynced,
then linked or renamed into place), so a refresh running at the same moment sees either
no file or the whole file. Hidden files are ignored by the loader, so the temporary file
is never indexed. A name that exists is never overwritten unless ``replace=True``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass, replace
from pathlib import Path, PurePosixPath

from .. import legal
from ..bounds import DocumentError
from ..errors import KbBotError
from ..files import atomic_file, format_size, fsync_dir, write_atomic
from ..loading import decode_text
from ..settings import Settings
from ..store import IndexFolder

#: File types staff may upload (the loader reads a few more, e.g. .htm and .markdown).
UPLOAD_SUFFIXES = (".md", ".txt", ".docx", ".pdf", ".html")
#: Longest file name kept, in UTF-8 bytes (ext4 and most file systems stop at 255).
MAX_NAME_BYTES = 180
#: Punctuation kept in file names besides letters, digits and combining marks.
_SAFE_PUNCT = set("-_.()[]（）【】《》·、，+ ")
_WINDOWS_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10))}


@dataclass(frozen=True)
class DocumentInfo:
    """One document as staff see it: on disk and/or in the current index."""

    path: str  # relative to the documents folder, POSIX separators
    size: int  # bytes on disk (or as indexed, when the file is gone)
    chunks: int | None  # passages in the current index; None when not indexed
    indexed_at: str | None  # when the current content was indexed (UTC, ISO 8601)
    title: str | None
    unit: str | None
    status: str  # "indexed" | "new" | "changed" | "deleted" | "skipped"
    legal_status: str | None = None  # "repealed" | "superseded" as its front matter says; None: in force
    reason: str | None = None  # why the last refresh skipped the file (status "skipped")
    same_title: tuple[str, ...] = ()  # other documents in force under the same title

    #: Chinese labels for ``status`` and ``legal_status``.
    STATUS_LABELS = {"indexed": "已索引", "new": "新文件，待更新索引", "changed": "已修改，待更新索引",
                     "deleted": "已删除，待更新索引", "skipped": "未能索引"}
    LEGAL_LABELS = {legal.REPEALED: "已废止", legal.SUPERSEDED: "已被取代"}

    @property
    def status_label(self) -> str:
        """How staff read the row's state: 已索引, or 已索引 · 已废止 for a document marked repealed; a file the last
        refresh skipped says why and what to do (it read 新文件，待更新索引, and staff refreshed again and again)."""
        if self.status == "skipped":
            return f"未能索引（上次更新索引时跳过：{self.reason}；请修改文件后再更新索引）"
        label = self.STATUS_LABELS.get(self.status, self.status)
        if self.same_title:  # QA, thirteenth session: two notices of one title, 300元 and 150元, cited side by side
            label += f" · 与 {'、'.join(self.same_title)} 同名（市民会同时看到；如是旧版本，请删除或标记为已废止）"
        return f"{label} · {self.LEGAL_LABELS[self.legal_status]}" if self.legal_status in self.LEGAL_LABELS else label

    def to_json(self) -> dict:
        """The row as JSON, with its Chinese status label."""
        return dict(asdict(self), status_label=self.status_label)


def _error(zh: str, en: str, hint_zh: str | None = None, hint_en: str | None = None) -> KbBotError:
    hint = f"{hint_zh} / {hint_en}" if hint_zh and hint_en else None
    return KbBotError(f"{zh} / {en}", hint=hint)


# --------------------------------------------------------------------------- listing


def list_documents(settings: Settings) -> list[DocumentInfo]:
    """Every document on disk or in the current index, with size, chunk count and indexing time."""
    index = IndexFolder(settings.index)
    try:
        manifest = index.manifest()
    except KbBotError:
        manifest = None
    diff = index.diff(settings.documents, manifest)  # the same diff a refresh starts from
    indexed = manifest.documents if manifest is not None else {}
    sizes = diff.sizes or {}
    skipped = {entry.path: entry.reason for entry in manifest.skipped} if manifest is not None else {}
    rows = [DocumentInfo(rel, sizes[rel], None, None, None, None, "skipped" if rel in skipped else "new",
                         _legal_status(settings.documents / rel), skipped.get(rel))
            for rel in diff.added]
    for status, paths in (("changed", diff.changed), ("indexed", diff.unchanged), ("deleted", diff.removed)):
        for rel in paths:
            entry = indexed[rel]
            legal_status = None if status == "deleted" else _legal_status(settings.documents / rel)
            rows.append(DocumentInfo(rel, sizes.get(rel, entry.size), entry.chunks, entry.indexed_at,
                                     entry.title, entry.unit, status, legal_status))
    rows.sort(key=lambda row: row.path)
    return _with_same_titles(rows)


def _with_same_titles(rows: list[DocumentInfo]) -> list[DocumentInfo]:
    """Rows of indexed documents in force that share their title with another, marked with the others' paths."""
    by_title: dict[str, list[str]] = {}
    for row in rows:
        if row.title and row.status in ("indexed", "changed") and row.legal_status is None:
            by_title.setdefault(row.title, []).append(row.path)
    marked = []
    for row in rows:
        sharing = by_title.get(row.title or "", [])
        marked.append(replace(row, same_title=tuple(p for p in sharing if p != row.path))
                      if row.path in sharing and len(sharing) > 1 else row)
    return marked


_FRONT = re.compile(r"---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(\r?\n|$)", re.S)
_STATUS_LINE = re.compile(r"status\s*:")


def _legal_status(path: Path) -> str | None:
    """``repealed`` / ``superseded`` as a file's front matter says (the first few KB read), else None."""
    if path.suffix.lower() not in _FRONT_MATTER_SUFFIXES:
        return None
    try:
        with path.open("rb") as handle:
            head = handle.read(8192).decode("utf-8-sig", errors="ignore")
    except OSError:
        return None
    match = _FRONT.match(head)
    if match is None:
        return None
    line = next((ln for ln in match.group(1).splitlines() if _STATUS_LINE.match(ln)), None)
    return legal.normalize_status(line.split(":", 1)[1].strip().strip("'\"")) if line else None


# --------------------------------------------------------------------------- names


def sanitize_filename(filename: str) -> str:
    """A safe, flat file name for an upload, or KbBotError.

    Only the last path component is kept (so ``../x.md`` and ``/etc/x.md`` become ``x.md``),
    the name is NFKC-normalised, control/format characters (e.g. right-to-left overrides,
    zero-width spaces) are dropped, anything but letters, digits and a little punctuation
    becomes ``_``, leading dots are removed (no hidden files), and the suffix is lower-cased
    and must be one of :data:`UPLOAD_SUFFIXES`.
    """
    if not isinstance(filename, str) or not filename.strip():
        raise _error("文件名为空", "the file name is empty", "请给文件起一个名字后重新上传", "name the file and upload it again")
    name = unicodedata.normalize("NFKC", filename).replace("\\", "/")
    name = PurePosixPath(name).name if "/" in name else name
    name = name.strip()
    if name in ("", ".", ".."):
        raise _error(f"文件名无效：{filename!r}", f"invalid file name {filename!r}",
                     "请使用普通文件名，例如 政策通知.md", "use a plain file name such as notice.md")
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        stem, suffix = name, ""
    suffix = "." + suffix.strip().lower() if suffix.strip() else ""
    if suffix not in UPLOAD_SUFFIXES:
        raise _error(
            f"不支持的文件类型 {suffix or '（无扩展名）'}",
            f"unsupported file type {suffix or '(no extension)'}",
            f"只能上传 {' '.join(UPLOAD_SUFFIXES)} 文件",
            f"upload one of {', '.join(UPLOAD_SUFFIXES)}",
        )
    cleaned = []
    for ch in stem:
        category = unicodedata.category(ch)
        if category[0] in "CZ" and ch != " ":  # control, format, private use, odd spaces/separators
            if category[0] == "Z":
                cleaned.append(" ")
            continue
        if category[0] in "LNM" or ch in _SAFE_PUNCT:
            cleaned.append(ch)
        else:
            cleaned.append("_")
    stem = "".join(cleaned)
    stem = re.sub(r"\s+", " ", stem)
    stem = re.sub(r"_{2,}", "_", stem)
    stem = re.sub(r"\.{2,}", ".", stem)
    stem = stem.strip(" ._-")
    if not stem or not any(unicodedata.category(ch)[0] in "LN" for ch in stem):
        raise _error(f"文件名无效：{filename!r}", f"invalid file name {filename!r}",
                     "文件名里需要有文字或数字，例如 停车补贴.md", "the name needs letters or digits, e.g. parking.md")
    if stem.lower() in _WINDOWS_RESERVED:
        stem = f"{stem}_"
    while len((stem + suffix).encode("utf-8")) > MAX_NAME_BYTES:
        stem = stem[:-1].rstrip(" ._-")
    return stem + suffix


def _check_content(name: str, data: bytes) -> None:
    """Refuse content that cannot be what the suffix says."""
    suffix = Path(name).suffix.lower()
    if suffix == ".pdf" and not data.lstrip()[:5].startswith(b"%PDF"):
        raise _error("文件内容不是 PDF", "the content is not a PDF file",
                     "请上传有效的 PDF，或改用正确的扩展名", "upload a real PDF or fix the extension")
    if suffix == ".docx" and not data.startswith(b"PK"):
        raise _error("文件内容不是 Word (.docx) 文档", "the content is not a Word .docx document",
                     "请在 Word 中另存为 .docx 后上传", "re-save it as .docx from Word")
    if suffix in (".md", ".txt", ".html"):
        from ..loading import DocumentError, decode_text

        try:
            decode_text(data)
        except DocumentError as exc:
            raise _error("文件不是可读的文本（需要 UTF-8 或 GB18030 编码）",
                         f"the file is not readable text ({exc})",
                         "请另存为 UTF-8 编码后上传", "save it as UTF-8 and upload it again") from None


# --------------------------------------------------------------------------- upload and delete


def _documents_dir(settings: Settings) -> Path:
    folder = settings.documents
    if not folder.is_dir():
        raise _error(f"文档目录 {folder} 不存在", f"the documents folder {folder} does not exist",
                     "请创建该目录或设置 KB_BOT_DOCUMENTS", "create it or set KB_BOT_DOCUMENTS")
    return folder


def check_upload_size(settings: Settings, size: int) -> None:
    """Raise KbBotError when an upload of ``size`` bytes is over ``settings.upload_max_mb``."""
    limit = int(settings.upload_max_mb * 1024 * 1024)
    if size > limit:
        raise _error(
            f"文件太大：{format_size(size)}，上限为 {format_size(limit)}",
            f"the file is {format_size(size)}, over the {format_size(limit)} upload limit",
            "请拆分文件，或调大 KB_BOT_UPLOAD_MAX_MB", "split it or raise KB_BOT_UPLOAD_MAX_MB",
        )


def save_upload(settings: Settings, filename: str, data: bytes, replace: bool = False) -> str:
    """Write an uploaded file into the documents folder; returns its path relative to that folder.

    Raises KbBotError for an unsafe or unsupported name, an empty or too large file, content
    that does not match its type, or an existing file of that name when ``replace`` is False.
    """
    name = sanitize_filename(filename)
    data = bytes(data)
    check_upload_size(settings, len(data))
    if not data:
        raise _error("文件为空", "the file is empty", "请检查文件后重新上传", "check the file and upload it again")
    _check_content(name, data)

    folder = _documents_dir(settings)
    target = folder / name
    root = folder.resolve()
    if target.parent.resolve() != root or target.name != name:  # defence in depth: the name is flat
        raise _error("文件路径不在文档目录内", "the path is outside the documents folder")
    if target.is_symlink() or (target.exists() and not target.is_file()):
        raise _error(f"{name} 已存在且不是普通文件", f"{name} exists and is not a regular file",
                     "请换一个文件名", "choose another name")
    if target.exists() and not replace:
        raise _error(
            f"已存在同名文件 {name}", f"a document named {name} already exists",
            "如需替换，请勾选“替换同名文件”后重新上传；否则请改名", "tick 'replace' to overwrite it, or rename the file",
        )

    try:
        with atomic_file(target, overwrite=replace) as handle:  # never overwrites unless asked, even in a race
            handle.write(data)
    except FileExistsError:
        raise _error(f"已存在同名文件 {name}", f"a document named {name} already exists",
                     "如需替换，请勾选“替换同名文件”", "tick 'replace' to overwrite it") from None
    return name


def resolve_document(settings: Settings, relpath: str) -> Path:
    """The file of a document path relative to the documents folder, refusing anything outside it."""
    folder = _documents_dir(settings)
    if not isinstance(relpath, str) or not relpath.strip() or "\x00" in relpath or "\\" in relpath:
        raise _error(f"无效的文档路径：{relpath!r}", f"invalid document path {relpath!r}")
    rel = PurePosixPath(relpath.strip())
    if rel.is_absolute() or any(part in ("", ".", "..") or part.startswith(".") for part in rel.parts):
        raise _error(f"不允许的文档路径：{relpath}", f"path {relpath} is not inside the documents folder",
                     "请从文档列表中选择", "pick a document from the list")
    path = folder.joinpath(*rel.parts)
    root = folder.resolve()
    if not path.parent.resolve().is_relative_to(root):
        raise _error(f"不允许的文档路径：{relpath}", f"path {relpath} is not inside the documents folder")
    return path


def delete_document(settings: Settings, relpath: str) -> str:
    """Delete one document file; returns its relative path. The index follows on the next refresh."""
    path = resolve_document(settings, relpath)
    if not (path.is_file() or path.is_symlink()):
        raise _error(f"文档不存在：{relpath}", f"no document {relpath}",
                     "请刷新文档列表后重试", "reload the document list and try again")
    path.unlink()
    fsync_dir(path.parent)
    return PurePosixPath(relpath.strip()).as_posix()


#: Formats whose front matter staff can edit from the web app (a .docx/.pdf/.html has none).
_FRONT_MATTER_SUFFIXES = (".md", ".markdown", ".txt")


def _editable_text(settings: Settings, relpath: str) -> tuple[Path, str]:
    """(path, text) of a document whose front matter staff may edit, or a KbBotError saying why not."""
    path = resolve_document(settings, relpath)
    if not path.is_file():
        raise _error(f"文档不存在：{relpath}", f"no document {relpath}",
                     "请刷新文档列表后重试", "reload the document list and try again")
    if path.suffix.lower() not in _FRONT_MATTER_SUFFIXES:
        raise _error(f"只能标记 .md/.txt 文档为已废止：{relpath}", f"only .md/.txt documents can be marked repealed: {relpath}",
                     "请删除该文件，或上传带“status: repealed”的 .md 版本",
                     "delete the file, or upload a .md version with 'status: repealed' front matter")
    try:
        return path, decode_text(path.read_bytes())
    except DocumentError as error:  # not text (a binary file renamed .md): say so instead of a generic failure
        raise _error(f"无法读取文档 {relpath}：{error}", f"cannot read {relpath}: {error}",
                     "请删除该文件或重新上传", "delete the file or upload it again") from None


def mark_repealed(settings: Settings, relpath: str) -> str:
    """Mark a document repealed (front matter ``status: repealed``); the next refresh stops quoting it."""
    path, text = _editable_text(settings, relpath)
    match = _FRONT.match(text)
    if match is None:
        text = f"---\nstatus: repealed\n---\n{text}"
    else:
        lines = [line for line in match.group(1).splitlines() if not _STATUS_LINE.match(line)]
        text = "---\n" + "\n".join(lines + ["status: repealed"]) + "\n---\n" + text[match.end():]
    write_atomic(path, text.encode("utf-8"))
    return PurePosixPath(relpath.strip()).as_posix()


def mark_in_force(settings: Settings, relpath: str) -> str:
    """Undo ``mark_repealed``: the ``status`` line leaves the front matter (and an emptied front matter block
    goes with it); the next refresh quotes the document again."""
    path, text = _editable_text(settings, relpath)
    match = _FRONT.match(text)
    if match is None or not any(_STATUS_LINE.match(line) for line in match.group(1).splitlines()):
        raise _error(f"该文档未标记为已废止：{relpath}", f"{relpath} is not marked repealed")
    lines = [line for line in match.group(1).splitlines() if not _STATUS_LINE.match(line)]
    body = text[match.end():]
    text = ("---\n" + "\n".join(lines) + "\n---\n" + body) if any(line.strip() for line in lines) else body
    write_atomic(path, text.encode("utf-8"))
    return PurePosixPath(relpath.strip()).as_posix()
