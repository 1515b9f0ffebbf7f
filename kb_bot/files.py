"""Files: the one atomic write, the one file checksum and the one size formatter kb-bot uses.

Everything that writes a file other processes may read at the same moment (the index pointers, an uploaded
document, an embedding-cache shard, the shipped cache, a front-matter edit) goes through :func:`atomic_file`,
so a reader sees the old file or the new one, never a part, and a crash leaves at most a hidden temporary file.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Iterator


def fsync_dir(path: Path) -> None:
    """Flush a folder's entries (renames, new files) to disk; a no-op where the OS cannot."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def temporary_name(path: Path) -> Path:
    """A hidden name beside ``path`` (the loader and cache readers never look at hidden files)."""
    return path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")


@contextmanager
def atomic_file(path: Path, *, overwrite: bool = True, sync: bool = True) -> Iterator[BinaryIO]:
    """Write ``path`` through a handle so readers see either the old or the whole new file.

    The content goes to a hidden temporary file in the same folder, fsynced, then renamed into place.
    ``overwrite=False`` never replaces a file that exists (it raises ``FileExistsError``), also when another
    process creates the name meanwhile: the file is hard-linked into place, which fails on an existing name.
    ``sync=False`` skips the fsyncs (for files that are cheap to lose, such as a regenerated cache).
    """
    tmp = temporary_name(path)
    try:
        with open(tmp, "xb") as handle:
            yield handle
            handle.flush()
            if sync:
                os.fsync(handle.fileno())
        if overwrite:
            os.replace(tmp, path)
        else:
            _link_new(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    if sync:
        fsync_dir(path.parent)


def _link_new(tmp: Path, path: Path) -> None:
    """Put ``tmp`` at ``path`` unless ``path`` exists (FileExistsError), without a window to overwrite it."""
    try:
        os.link(tmp, path)  # fails if the name appeared meanwhile: never overwrites
    except FileExistsError:
        raise
    except OSError:  # file systems without hard links
        if path.exists():
            raise FileExistsError(path) from None
        os.rename(tmp, path)


def write_atomic(path: Path, data: bytes) -> None:
    """Write a file so that readers see either the old or the new content, never a part."""
    with atomic_file(path) as handle:
        handle.write(data)


def sha256_file(path: Path) -> str:
    """The sha256 of a file's bytes, read in blocks (index files can be hundreds of MB)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def format_size(size: float) -> str:
    """A byte count for people: ``1.5 MB``, ``12.0 KB``, ``80 bytes`` (one decimal, binary units)."""
    if size >= 1024 * 1024:
        return f"{size / 1048576:.1f} MB"
    if size >= 1024:
        return f"{size / 1024:.1f} KB"
    return f"{int(size)} bytes"

