"""The outputs index: which files each commit wrote, in ``.mlvc/mlvc/outputs.jsonl``.

Lineage asks "which commits wrote a file with this content?" for every data file a
commit read. Answering from the commits themselves means reading every record of the
store; this index keeps, per commit, the hashes of the files it wrote (its record's
``outputs``), one verified line per commit::

    {"id": "<commit id>", "h": "<keyed BLAKE2b of o>", "o": {"<path>": "<hash>", ...}}

Every commit mlvc makes appends its line (an empty ``o`` when it wrote nothing), so a
commit *missing* from the index is one not yet looked at (made before the index
existed, or fetched from a remote): lineage reads its record once and appends it. Like
the log cache (:mod:`.summaries`, whose keyed hash it shares), it is derived from
immutable commits, so a line never goes stale; a line that does not verify (a flipped
bit, a torn write) is ignored and its commit read again, so a damaged index can cost
time but never name a wrong producer.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

from .repo import Store
from .summaries import digest

__all__ = ["FILE", "append", "clear_memo", "line", "load"]

FILE = "outputs.jsonl"
_lock = threading.Lock()
#: path -> ((size, mtime_ns, inode), outputs by commit): one parse per change of the file.
_memo: dict[Path, tuple[tuple[int, int, int], dict[str, dict[str, str]]]] = {}


def _path(store: Store) -> Path:
    return store.state_dir / FILE


def line(cid: str, outputs: dict[str, str]) -> bytes:
    """The index line of commit ``cid`` that wrote ``outputs`` (path -> hash)."""
    return (
        json.dumps({"id": cid, "h": digest(cid, outputs), "o": outputs}, separators=(",", ":"))
        + "\n"
    ).encode()


def append(store: Store, entries: dict[str, dict[str, str]]) -> None:
    """Add the lines of some commits (commit id -> path -> hash of each file written).

    A write failure (a full disk) is ignored: the index is derived, and a commit missing
    from it is read again when lineage needs it.
    """
    if not entries:
        return
    data = b"".join(line(cid, outputs) for cid, outputs in entries.items())
    try:
        # one write() with O_APPEND: concurrent writers do not interleave lines
        fd = os.open(_path(store), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
    except OSError:
        pass


def _verify(raw: bytes) -> tuple[str, dict[str, str]] | None:
    try:
        rec = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    if not isinstance(rec, dict) or set(rec) != {"id", "h", "o"}:
        return None
    cid, h, o = rec["id"], rec["h"], rec["o"]
    if not (isinstance(cid, str) and len(cid) == 40 and isinstance(h, str)):
        return None
    if not isinstance(o, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in o.items()
    ):
        return None
    if digest(cid, o) != h:
        return None
    return cid, o


def load(store: Store) -> dict[str, dict[str, str]]:
    """Every verified line, as commit id -> path -> hash (bad lines left out). The same
    dict is returned while the file is unchanged: callers must not modify it."""
    path = _path(store)
    with _lock:
        try:
            st = os.stat(path)
        except FileNotFoundError:
            return {}
        stamp = (st.st_size, st.st_mtime_ns, st.st_ino)
        memo = _memo.get(path)
        if memo and memo[0] == stamp:
            return memo[1]
        try:
            data = path.read_bytes()
        except OSError:
            return {}
        out: dict[str, dict[str, str]] = {}
        for raw in data.split(b"\n"):
            if raw.strip():
                found = _verify(raw)
                if found is not None:
                    out[found[0]] = found[1]
        _memo[path] = (stamp, out)
        return out


def clear_memo() -> None:
    """Forget parsed files (tests; a process that reopens stores)."""
    with _lock:
        _memo.clear()
