"""Synthetic Chinese corpora for the speed benchmarks, made by code from real text.

Sentences come from the seed articles (documents/) and the CMRC 2018 trial paragraphs
(/work/shared/benchmarks/cmrc2018_trial.json); each synthetic article is a random
recombination of them under a front-matter title and a few headings. Article ``i`` is
the same in every corpus (its random generator is seeded by ``i``), so the 2k corpus is a
prefix of the 20k one, and the 20k one of the 100k one.

The text is real Chinese (jieba, BM25 and the chunker see realistic input) but the
articles mean nothing: these corpora measure speed only. Quality figures come from real
questions on real documents (benchmarks/quality.py).
"""

from __future__ import annotations

import json
import math
import random
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CMRC = Path("/work/shared/benchmarks/cmrc2018_trial.json")
CORPUS_VERSION = 1
_SENTENCE = re.compile(r"[^。！？!?]*[。！？!?]")


def _clean(text: str) -> str:
    return re.sub(r"\s+", "", text)


def sentence_pool(documents: Path = ROOT / "documents", cmrc: Path = CMRC) -> tuple[list[str], list[str]]:
    """(sentences, title words) from the seed documents and the CMRC contexts."""
    from kb_bot.loading import load_documents

    sentences: list[str] = []
    titles: list[str] = []
    texts: list[str] = []
    if documents.is_dir():
        for doc in load_documents(documents).documents:
            texts.append(doc.text)
            titles.append(doc.title)
    if cmrc.exists():
        data = json.loads(cmrc.read_text(encoding="utf-8"))
        for article in data["data"]:
            for paragraph in article["paragraphs"]:
                texts.append(paragraph["context"])
                titles.append(paragraph["context"][:12])
    for text in texts:
        for line in text.splitlines():
            line = _clean(line)
            if line.startswith("#"):
                continue
            sentences.extend(s for s in _SENTENCE.findall(line) if 8 <= len(s) <= 160)
    if not sentences:
        raise SystemExit("no source text: need documents/ or the CMRC trial set")
    return sentences, titles


def make_article(i: int, sentences: list[str], titles: list[str]) -> str:
    """Synthetic article ``i`` (deterministic): front matter, 2-4 sections of 2-4 paragraphs."""
    rng = random.Random(1_000_003 * (i + 1))
    title = f"合成文档{i:06d} " + re.sub(r"[^\w\u3400-\u9fff]", "", rng.choice(titles))
    lines = ["---", f'title: "{title}"', "unit: 基准测试", "topics: [合成, 基准]", "---", "", f"# {title}", ""]
    for section in range(rng.randint(2, 4)):
        lines += [f"## 第{section + 1}部分 {rng.choice(sentences)[:10]}", ""]
        for _ in range(rng.randint(2, 4)):
            lines += ["".join(rng.choice(sentences) for _ in range(rng.randint(2, 6))), ""]
    return "\n".join(lines)


def chunks_per_article(sentences: list[str], titles: list[str], chunk_size: int, overlap: int, sample: int = 60) -> float:
    """Average chunk count of the first ``sample`` articles at the given chunk size."""
    from kb_bot.chunking import chunk_documents
    from kb_bot.loading import parse_document

    docs = [parse_document(make_article(i, sentences, titles), f"doc{i:06d}.md") for i in range(sample)]
    return len(chunk_documents(docs, chunk_size, overlap)) / sample


def ensure_corpus(folder: Path, target_chunks: int, chunk_size: int, overlap: int) -> dict:
    """Write (or reuse) a documents folder of about ``target_chunks`` chunks; returns its description."""
    marker = folder / ".corpus.json"
    sentences, titles = sentence_pool()
    per_article = chunks_per_article(sentences, titles, chunk_size, overlap)
    articles = max(1, math.ceil(target_chunks / per_article))
    spec = {"version": CORPUS_VERSION, "articles": articles, "chunk_size": chunk_size, "overlap": overlap,
            "target_chunks": target_chunks, "sentences": len(sentences)}
    if marker.exists():
        try:
            if json.loads(marker.read_text(encoding="utf-8")) == spec:
                # Re-write article 0, which the refresh benchmark edits and may have left changed.
                (folder / "doc000000.md").write_text(make_article(0, sentences, titles), encoding="utf-8")
                return spec
        except ValueError:
            pass
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.md"):
        old.unlink()
    for i in range(articles):
        (folder / f"doc{i:06d}.md").write_text(make_article(i, sentences, titles), encoding="utf-8")
    marker.write_text(json.dumps(spec), encoding="utf-8")
    return spec


def real_questions(limit: int | None = None) -> list[str]:
    """Real questions: the seed question set first, then CMRC questions (for latency, not quality)."""
    questions: list[str] = []
    seed = ROOT / "tests" / "data" / "seed_questions.jsonl"
    if seed.exists():
        for line in seed.read_text(encoding="utf-8").splitlines():
            if line.strip():
                record = json.loads(line)
                if record.get("question"):
                    questions.append(record["question"])
    if CMRC.exists():
        data = json.loads(CMRC.read_text(encoding="utf-8"))
        for article in data["data"]:
            for paragraph in article["paragraphs"]:
                questions.extend(qa["question"] for qa in paragraph["qas"])
    questions = list(dict.fromkeys(q.strip() for q in questions if q.strip()))
    return questions[:limit] if limit else questions


def real_sample_corpus(folder: Path, paragraphs: int) -> int:
    """A folder of the first ``paragraphs`` CMRC contexts as articles (real text, for the model build)."""
    data = json.loads(CMRC.read_text(encoding="utf-8"))
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.txt"):
        old.unlink()
    count = 0
    for article in data["data"]:
        for paragraph in article["paragraphs"]:
            if count >= paragraphs:
                return count
            (folder / f"{paragraph['id']}.txt").write_text(paragraph["context"], encoding="utf-8")
            count += 1
    return count
