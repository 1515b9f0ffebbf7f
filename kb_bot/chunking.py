"""Chunking: clean Documents -> Chunks of a few sentences, with stable ids and source offsets.

Text is split with langchain-text-splitters' recursive splitter on paragraph breaks first,
then Chinese (and Western) sentence punctuation, then clause punctuation, so a chunk ends
on a sentence where it can. Each section (heading run) is split on its own, so a chunk
never straddles two headings and carries its heading as metadata.

A regulation (``Document.kind == "regulation"``, see legal.py) is chunked by article: each 第X条 with its
items is one chunk when it fits (``ARTICLE_FIT`` times the chunk size); a longer article is split as above
and every piece carries its article number. Chunks of a document that a newer one replaces, or that
staff marked repealed, carry that status (``superseded``/``repealed``) for retrieval and display.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from typing import Any, Iterable

from . import legal
from .loading import Document

#: Bump when the splitting rules or ``Chunk.embed_text`` change: an index built with other rules must be rebuilt.
#: 3: a regulation's passages are embedded under their title only (no chapter and article number).
#: 4: a .txt file's title line written right above its body is its title (loading.metadata.split_title_line).
CHUNKER_VERSION = 4
#: An article up to this many times the chunk size stays whole (with the default 200: 96% of the
#: 2,838 articles of the shipped regulations; their median is 95 characters).
ARTICLE_FIT = 1.5

#: Strongest break first; the separator stays at the end of the piece it closes.
SEPARATORS = ["\n\n", "\n", "。", "！", "？", "!", "?", "；", ";", "，", ",", "、", " ", ""]


@dataclass(frozen=True)
class Chunk:
    """A passage of one document: what is embedded, searched and quoted."""

    chunk_id: str
    doc: str  # path relative to the documents folder
    title: str
    unit: str | None
    section: str | None
    text: str
    start: int  # character offsets into the source text of the document
    end: int
    position: int  # index of the chunk within its document
    # Legal metadata (defaults keep records written before it loadable).
    article: str | None = None  # "第二十五条": the article of a regulation this passage is (part of)
    issued: str | None = None  # ISO date of the document (adopted or last amended)
    kind: str | None = None  # "regulation" | "article"
    status: str | None = None  # "superseded" | "repealed" | None (in force)
    superseded_by: str | None = None  # path of the document that replaces this one

    @property
    def embed_text(self) -> str:
        """What the embedder (and BM25) sees: the passage prefixed by its subject (unit, title, heading; for a
        regulation its title only).

        Why the title only for a regulation: the chapter and article number (``第四章 失业保险待遇 第二十四条``)
        are nearly the same for neighbouring articles and make their short texts (median 95 characters) look
        alike to the embedder; the title alone keeps which regulation a passage belongs to. On held-out
        questions generated from the articles (benchmarks/fusion_choice.py) dense MRR rose 0.796 -> 0.810
        (validation) and 0.738 -> 0.757 (test); BM25 was unchanged. The article stays metadata of every piece."""
        if self.kind == legal.REGULATION:
            parts: tuple[str | None, ...] = (self.title,)
        else:
            parts = (self.unit, self.title, self.section)
        head = " ".join(part for part in parts if part)
        return f"{head}\n{self.text}" if head else self.text

    def to_record(self) -> dict[str, Any]:
        """The chunk as a row of the index's chunk file."""
        return asdict(self)

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> "Chunk":
        """A chunk from its row (``to_record``); fields older indexes lack are empty."""
        return cls(**record)


def chunk_id(doc: str, position: int, text: str) -> str:
    """Stable id: the same document, position and text always give the same id."""
    return hashlib.sha1(f"{doc}\x1f{position}\x1f{text}".encode("utf-8")).hexdigest()[:16]


def make_splitter(chunk_size: int, chunk_overlap: int):
    """The recursive splitter configured for Chinese sentence punctuation."""
    from langchain_text_splitters import RecursiveCharacterTextSplitter  # slow import: only when chunking

    if chunk_overlap >= chunk_size:
        raise ValueError(f"chunk overlap ({chunk_overlap}) must be smaller than chunk size ({chunk_size})")
    return RecursiveCharacterTextSplitter(
        chunk_size=chunk_size,
        chunk_overlap=chunk_overlap,
        separators=SEPARATORS,
        keep_separator="end",
        strip_whitespace=True,
    )


def _pieces(splitter, block_text: str, article: str | None, fit: int) -> list[str]:
    """The texts of one block's chunks: a whole article when it fits, else the splitter's pieces."""
    if article and len(block_text.strip()) <= fit:
        return [block_text.strip()]
    return splitter.split_text(block_text)


def chunk_document(document: Document, chunk_size: int, chunk_overlap: int,
                   superseded_by: str | None = None) -> list[Chunk]:
    """Split one document section by section (a regulation article by article) into chunks.

    ``superseded_by``: the path of the document that replaces this one (see ``legal.find_supersessions``).
    """
    splitter = make_splitter(chunk_size, chunk_overlap)
    fit = int(chunk_size * ARTICLE_FIT)
    status = document.status or (legal.SUPERSEDED if superseded_by else None)
    chunks: list[Chunk] = []
    for block in document.blocks:
        block_text = document.text[block.start : block.end]
        cursor = 0
        for piece in _pieces(splitter, block_text, block.article, fit):
            # Find the piece in the block; overlap means it may start before the previous end.
            found = block_text.find(piece, max(cursor - chunk_overlap - len(piece), 0))
            if found < 0:
                found = block_text.find(piece)
            start = block.start + max(found, 0)
            end = start + len(piece)
            cursor = found + len(piece) if found >= 0 else cursor
            position = len(chunks)
            chunks.append(
                Chunk(
                    chunk_id=chunk_id(document.path, position, piece),
                    doc=document.path,
                    title=document.title,
                    unit=document.unit,
                    section=block.section,
                    text=piece,
                    start=document.source_offset(start),
                    end=document.source_offset(end),
                    position=position,
                    article=block.article,
                    issued=document.issued,
                    kind=document.kind,
                    status=status,
                    superseded_by=superseded_by,
                )
            )
    return chunks


def chunk_documents(documents: Iterable[Document], chunk_size: int, chunk_overlap: int) -> list[Chunk]:
    """Chunks of all documents, in document order (older versions of a regulation marked superseded)."""
    documents = list(documents)
    replaced = legal.find_supersessions([
        legal.DocFacts(d.path, d.title, d.kind, d.issued, d.text if d.kind == legal.REGULATION else "")
        for d in documents
    ])
    chunks: list[Chunk] = []
    for document in documents:
        chunks.extend(chunk_document(document, chunk_size, chunk_overlap, replaced.get(document.path)))
    return chunks
