"""Loading: files in the documents folder -> clean ``Document`` objects.

One module per job, each small enough to read in one sitting:

* ``folder.py``    which files are documents (hidden and temporary files are not), each loaded within its
                   size and time bounds (``kb_bot.bounds``); an unusable file is skipped with a reason;
* ``formats.py``   ``.md``/``.txt``, ``.docx``, ``.pdf`` with a text layer and saved ``.html`` pages, all read
                   into the same light Markdown;
* ``metadata.py``  ``---`` front matter, and the title and unit of an article without it;
* ``cleaning.py``  sections, and newspaper layout damage repaired (column breaks joined, bylines and print
                   artefacts dropped), keeping a map back to the source for citation offsets;
* ``parsing.py``   the steps above in order, and the article structure of regulations;
* ``document.py``  ``Document``, ``Block``, ``Skipped``, the text decoder and the content hash.

Import from ``kb_bot.loading``: the names below are its interface.
"""

from __future__ import annotations

from ..bounds import DEFAULT_MAX_FILE_SECONDS, MAX_NOTES, DocumentError
from .cleaning import _Paragraph
from .document import SUPPORTED_SUFFIXES, Block, Document, LoadResult, Skipped, content_hash, decode_text
from .folder import (
    SETTINGS_FILES,
    SYNONYMS_FILE,
    is_ignored_name,
    iter_candidate_files,
    load_documents,
    load_file,
)
from .formats import _docx_heading_level, read_source
from .parsing import ADOPTION_SECTION, parse_document

__all__ = [
    "ADOPTION_SECTION", "DEFAULT_MAX_FILE_SECONDS", "MAX_NOTES", "SETTINGS_FILES", "SUPPORTED_SUFFIXES",
    "SYNONYMS_FILE", "Block", "Document", "DocumentError", "LoadResult", "Skipped", "_Paragraph",
    "_docx_heading_level", "content_hash", "decode_text", "is_ignored_name", "iter_candidate_files",
    "load_documents", "load_file", "parse_document", "read_source",
]
