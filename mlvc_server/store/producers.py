"""The outputs index: which files each commit wrote, in ``.mlvc/mlvc/outputs.jsonl``.

Lineage asks "which commits wrote a file with this content?" for every data file a
commit read. Answering from the commits themselves means reading every record of the
store; this index keeps, per commit, the hashes of the files it wrote (its record's
``outputs``), its parents and its time, one verified line per commit::

    {"id":"<commit id>","h":"<BLAKE2b of e's bytes, keyed with the id>",
     "e":{"o":{"<path>":"<hash>",...},"p":["<parent id>",...],"t":<epoch s>}}

so lineage walks every branch and finds producers from this one file. Every commit mlvc
makes appends its line (an empty ``o`` when it wrote nothing), so a commit *missing*
from the index is one not yet looked at (made before the index existed, or fetched from
a remote): lineage reads it once and appends it. Like the log cache (:mod:`.summaries`),
it is derived from immutable commits, so a line never goes stale; a line that does not
verify (a flipped bit, a torn write) is ignored and its commit read again, so a damaged
index can cost time but never name a wrong producer.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any, TypedDict

try:  # hashlib's own blake2b, without ``import hashlib`` loading OpenSSL at every start
    from _blake2 import blake2b
except ImportError:  # pragma: no cover (an interpreter without the builtin module)
    from hashlib import blake2b

from .repo import Store
from .summaries import Stamp, parsed_once

__all__ = ["FILE", "Entry", "append", "clear_memo", "entry", "line", "load"]

FILE = "outputs.jsonl"


class Entry(TypedDict):
    """One commit in the index: ``o`` path -> hash of each file written, ``p`` its
    parents, ``t`` its commit time (epoch seconds)."""

    o: dict[str, str]
    p: list[str]
    t: int


def entry(outputs: dict[str, str], parents: list[str], time: int) -> Entry:
    """The index entry of a commit."""
    return {"o": outputs, "p": parents, "t": time}


_lock = threading.Lock()
#: path -> ((size, mtime_ns, inode), outputs by commit): one parse per change of the file.
_memo: dict[Path, tuple[Stamp, dict[str, Entry]]] = {}


def _path(store: Store) -> Path:
    return store.state_dir / FILE


def _mac(cid: str, body: bytes) -> str:
    return blake2b(body, key=cid.encode()[:64], digest_size=16).hexdigest()


def line(cid: str, e: Entry) -> bytes:
    """The index line of commit ``cid``: ``h`` is the keyed hash of the bytes of ``e``
    exactly as written (so reading checks it without encoding ``e`` again)."""
    body = json.dumps(e, separators=(",", ":"), ensure_ascii=True).encode()
    return b'{"id":"%s","h":"%s","e":%s}\n' % (cid.encode(), _mac(cid, body).encode(), body)


def append(store: Store, entries: dict[str, Entry]) -> None:
    """Add the lines of some commits (commit id -> :class:`Entry`).

    A write failure (a full disk) is ignored: the index is derived, and a commit missing
    from it is read again when lineage needs it.
    """
    if not entries:
        return
    data = b"".join(line(cid, e) for cid, e in entries.items())
    try:
        # one write() with O_APPEND: concurrent writers do not interleave lines
        fd = os.open(_path(store), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
    except OSError:
        pass


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) and len(v) == 40 for v in value)


def _verify(raw: bytes) -> tuple[str, Entry] | None:
    # the layout ``line`` writes: {"id":"<40>","h":"<32>","e":<body>}
    if len(raw) < 90 or not raw.startswith(b'{"id":"') or raw[47:54] != b'","h":"':
        return None
    if raw[86:91] != b'","e"' or raw[91:92] != b":" or not raw.endswith(b"}"):
        return None
    try:
        cid, h = raw[7:47].decode("ascii"), raw[54:86].decode("ascii")
    except UnicodeDecodeError:
        return None
    body = raw[92:-1]
    if _mac(cid, body) != h:
        return None
    try:
        e = json.loads(body)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    if not isinstance(e, dict) or set(e) != {"o", "p", "t"}:
        return None
    o, p, t = e["o"], e["p"], e["t"]
    if not isinstance(o, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in o.items()
    ):
        return None
    if not _strings(p) or not isinstance(t, int) or isinstance(t, bool):
        return None
    return cid, {"o": o, "p": p, "t": t}


def load(store: Store) -> dict[str, Entry]:
    """Every verified line, as commit id -> :class:`Entry` (bad lines left out). The
    same dict is returned while the file is unchanged: callers must not modify it."""

    def parse(data: bytes, stamp: Stamp) -> tuple[Stamp, dict[str, Entry]]:
        out: dict[str, Entry] = {}
        for raw in data.split(b"\n"):
            if raw.strip():
                found = _verify(raw)
                if found is not None:
                    out[found[0]] = found[1]
        return stamp, out

    return parsed_once(_path(store), _lock, _memo, parse, dict)


def clear_memo() -> None:
    """Forget parsed files (tests; a process that reopens stores)."""
    with _lock:
        _memo.clear()
