"""Chunking: clean Documents -> Chunks of a few sentences, with stable ids and source offsets.

Text is split with langchain-text-splitters' recursive splitter on paragraph breaks first,
then Chinese (and Western) sentence punctuation, then clause punctuation, so a chunk ends
on a sentence where it can. Each section (heading run) is split on its own, so a chunk
never straddles two headings and carries its heading as metadata.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from typing import Any, Iterable

from .loading import Document

#: Bump when the splitting rules change: an index built with other rules must be rebuilt.
CHUNKER_VERSION = 1

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

    @property
    def embed_text(self) -> str:
        """What the embedder sees: the passage prefixed by its article and heading."""
        head = " ".join(part for part in (self.unit, self.title, self.section) if part)
        return f"{head}\n{self.text}" if head else self.text

    def to_record(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> "Chunk":
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


def chunk_document(document: Document, chunk_size: int, chunk_overlap: int) -> list[Chunk]:
    """Split one document section by section into chunks."""
    splitter = make_splitter(chunk_size, chunk_overlap)
    chunks: list[Chunk] = []
    for block in document.blocks:
        block_text = document.text[block.start : block.end]
        cursor = 0
        for piece in splitter.split_text(block_text):
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
                )
            )
    return chunks


def chunk_documents(documents: Iterable[Document], chunk_size: int, chunk_overlap: int) -> list[Chunk]:
    """Chunks of all documents, in document order."""
    chunks: list[Chunk] = []
    for document in documents:
        chunks.extend(chunk_document(document, chunk_size, chunk_overlap))
    return chunks
