"""A cheap stamp of what a store's history looks like: it changes whenever a commit,
branch, tag, checkout or pull changes what ``log`` would answer.

It reads only file metadata (``stat``), never a ref or an object, so a server can check
every open store twice a second: the ``refs`` folders (a ref written, renamed or removed
changes its folder's modification time), ``packed-refs``, ``HEAD``, the folder of the
notebooks' current-branch files, and the log cache ``mlvc/summaries.jsonl`` (its size
grows with every commit, even within one tick of the file system's clock).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from .repo import STORE_DIR

#: What a stamp reads in ``.mlvc/``, besides every folder under ``refs/``.
_FILES = ("HEAD", "packed-refs", "mlvc/summaries.jsonl")
#: The most ref folders read (a store with more is stamped by its first ones).
_MAX_FOLDERS = 10_000


def _stat(path: str) -> tuple[int, int, int]:
    try:
        st = os.stat(path)
    except OSError:
        return (0, 0, 0)
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def _folders(top: str) -> list[tuple[str, tuple[int, int, int]]]:
    found: list[tuple[str, tuple[int, int, int]]] = []
    stack = [top]
    while stack and len(found) < _MAX_FOLDERS:
        folder = stack.pop()
        found.append((folder, _stat(folder)))
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(entry.path)
                    else:  # a ref rewritten in place keeps its folder's time
                        found.append((entry.path, _stat(entry.path)))
        except OSError:
            continue
    return found


def store_stamp(root: Path) -> str:
    """A short hex stamp of the history of the store at ``root`` (the folder holding
    ``.mlvc/``): equal stamps mean nothing ``log``, ``branches`` or ``tags`` answer has
    changed; a different stamp means something may have.

    Args:
        root: The store's root folder.

    Returns:
        40 hex digits ("" never: a missing store has a stamp too).
    """
    base = os.path.join(os.fspath(root), STORE_DIR)
    digest = hashlib.sha1(usedforsecurity=False)
    for name in _FILES:
        digest.update(f"{name}:{_stat(os.path.join(base, name))}\n".encode())
    current = os.path.join(base, "mlvc", "current")
    for path, st in sorted(_folders(current) + _folders(os.path.join(base, "refs"))):
        digest.update(f"{path}:{st}\n".encode())
    return digest.hexdigest()
