"""Chunking: sentence-aware splits, stable ids, sections and source offsets."""

from __future__ import annotations

from kb_bot.chunking import chunk_document, chunk_documents
from kb_bot.loading import load_documents, parse_document

from conftest import SEED_DOCUMENTS, SEED_EXCLUDE


def test_chunks_respect_size_sections_and_sentence_ends():
    documents = load_documents(SEED_DOCUMENTS, exclude=SEED_EXCLUDE).documents
    chunks = chunk_documents(documents, 200, 40)
    assert 15 <= len(chunks) <= 40
    for chunk in chunks:
        assert len(chunk.text) <= 200
        assert chunk.title and chunk.unit
    # A chunk ends at a sentence end unless the source paragraph itself is cut off.
    ends = [c.text[-1] for c in chunks]
    assert sum(e in "。！？”" for e in ends) >= len(chunks) - 2
    loan = next(c for c in chunks if "2600万元" in c.text)
    assert loan.section == "助企纾困有温度" and loan.doc == "advanced-manufacturing.md"


def test_ids_are_stable_and_unique():
    documents = load_documents(SEED_DOCUMENTS, exclude=SEED_EXCLUDE).documents
    first = [c.chunk_id for c in chunk_documents(documents, 200, 40)]
    second = [c.chunk_id for c in chunk_documents(documents, 200, 40)]
    assert first == second and len(set(first)) == len(first)
    assert first != [c.chunk_id for c in chunk_documents(documents, 300, 40)]


def test_offsets_point_into_the_source_file():
    documents = load_documents(SEED_DOCUMENTS, exclude=SEED_EXCLUDE).documents
    for document in documents:
        source = (SEED_DOCUMENTS / document.path).read_text(encoding="utf-8")
        for chunk in chunk_document(document, 200, 40):
            # Chunks that span no repaired break are verbatim slices of the file.
            if "\n" not in source[chunk.start:chunk.end]:
                assert source[chunk.start:chunk.end] == chunk.text


def test_long_paragraph_splits_on_chinese_punctuation():
    text = "。".join(f"第{i}句讲的是上街区的一项政策内容" for i in range(40)) + "。"
    chunks = chunk_document(parse_document(text, "long.md"), 100, 20)
    assert len(chunks) > 5
    assert all(c.text.endswith("。") for c in chunks)
