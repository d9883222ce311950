"""The log cache: one summary per commit in ``.mlvc/mlvc/summaries.jsonl``, verified.

``log``, ``compare`` and the panel list commits from this file instead of reading every
commit's record. It is derived data (commits are immutable, so an entry never goes
stale), but a damaged line must never be *shown*: a flipped bit in a metric would
change what the user reads while the commits themselves are intact. So each line is::

    {"id": "<commit id>", "h": "<keyed BLAKE2b of the summary>", "s": {...summary...}}

where ``h`` is BLAKE2b-128 of the summary's canonical JSON, keyed with the commit id.
A line is used only if it is valid UTF-8 and JSON, its hash matches, ``s["id"]`` is the
line's id and the summary has the fields and types the log needs. Anything else (a
flipped bit anywhere, invalid UTF-8, a line torn by a killed process, a line of the
older unhashed format) is ignored: the commit is then read again from the store and its
summary appended afresh (by the caller, through :func:`append`). The file is rewritten
without the bad lines when some were found (best effort: it is a cache).

The hash guards against damage, not against someone who can write the store (they can
write commits too).
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

try:  # hashlib's own blake2b, without ``import hashlib`` loading OpenSSL at every start
    from _blake2 import blake2b
except ImportError:  # pragma: no cover (an interpreter without the builtin module)
    from hashlib import blake2b

from .repo import Store

__all__ = [
    "Stamp",
    "append",
    "cache_path",
    "clear_memo",
    "digest",
    "load",
    "parsed_once",
    "verify_line",
]

#: (size, mtime_ns, inode) of a file: it changed when this did.
Stamp = tuple[int, int, int]
T = TypeVar("T")

FILE = "summaries.jsonl"
_lock = threading.Lock()
#: path -> ((size, mtime_ns, inode), summaries): one parse per change of the file.
_memo: dict[Path, tuple[Stamp, dict[str, dict[str, Any]]]] = {}
#: Field -> the types a valid summary's value may have.
_FIELDS: dict[str, tuple[type, ...]] = {
    "id": (str,),
    "ts": (int,),
    "message": (str,),
    "params": (dict,),
    "metrics": (dict,),
    "variables": (list,),
    "parents": (list,),
}


def cache_path(store: Store) -> Path:
    return store.state_dir / FILE


def _canonical(summary: dict[str, Any]) -> bytes:
    return json.dumps(summary, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def digest(cid: str, summary: dict[str, Any]) -> str:
    """The keyed hash that ties ``summary`` to the commit ``cid``."""
    return blake2b(_canonical(summary), key=cid.encode()[:64], digest_size=16).hexdigest()


def append(store: Store, summary: dict[str, Any]) -> None:
    """Add a commit's summary (``summary["id"]`` is the commit id; fields the log keeps in
    memory only, ``gen``, are left out). A write failure (a full disk) is ignored: the
    commit is made, and the summary is derived again when needed."""
    cid = summary["id"]
    clean = {k: v for k, v in summary.items() if k != "gen"}
    line = json.dumps({"id": cid, "h": digest(cid, clean), "s": clean}, separators=(",", ":"))
    try:
        # one write() of a whole line with O_APPEND: concurrent writers do not interleave
        fd = os.open(cache_path(store), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, (line + "\n").encode())
        finally:
            os.close(fd)
    except OSError:
        pass


def verify_line(raw: bytes) -> dict[str, Any] | None:
    """The summary a cache line holds if the line is whole and checks out, else None."""
    try:
        rec = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    if not isinstance(rec, dict) or set(rec) != {"id", "h", "s"}:
        return None
    cid, h, s = rec["id"], rec["h"], rec["s"]
    if not (isinstance(cid, str) and isinstance(h, str) and isinstance(s, dict)):
        return None
    if s.get("id") != cid or len(cid) != 40:
        return None
    for key, types in _FIELDS.items():
        if not isinstance(s.get(key), types) or isinstance(s.get(key), bool):
            return None
    if not all(isinstance(p, str) for p in s["parents"]):
        return None
    try:
        if digest(cid, s) != h:
            return None
    except (TypeError, ValueError):
        return None
    return s


def parsed_once(
    path: Path,
    lock: threading.Lock,
    memo: dict[Path, tuple[Stamp, T]],
    parse: Callable[[bytes, Stamp], tuple[Stamp, T]],
    empty: Callable[[], T],
) -> T:
    """``parse`` of the file at ``path`` (its bytes and stamp -> the stamp to remember
    and the value), done again only when the file's stamp changed; ``empty()`` when the
    file is missing or unreadable. Shared by the verified JSON-lines files of the store
    (the summaries here, the outputs index in producers.py)."""
    with lock:
        try:
            st = os.stat(path)
        except FileNotFoundError:
            return empty()
        stamp = (st.st_size, st.st_mtime_ns, st.st_ino)
        known = memo.get(path)
        if known and known[0] == stamp:
            return known[1]
        try:
            data = path.read_bytes()
        except OSError:
            return empty()
        stamp, value = parse(data, stamp)
        memo[path] = (stamp, value)
        return value


def load(store: Store) -> dict[str, dict[str, Any]]:
    """Every verified summary, by commit id (bad lines left out, and dropped from the
    file). The same dict is returned while the file is unchanged."""
    path = cache_path(store)

    def parse(data: bytes, stamp: Stamp) -> tuple[Stamp, dict[str, dict[str, Any]]]:
        out: dict[str, dict[str, Any]] = {}
        bad = 0
        for raw in data.split(b"\n"):
            if not raw.strip():
                continue
            s = verify_line(raw)
            if s is None:
                bad += 1
            else:
                out[s["id"]] = s
        if bad:
            stamp = _rewrite(path, out) or stamp
        return stamp, out

    return parsed_once(path, _lock, _memo, parse, dict)


def _rewrite(path: Path, good: dict[str, dict[str, Any]]) -> Stamp | None:
    """Write the file again with only ``good`` summaries (atomically); its new stamp."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            for cid, s in good.items():
                f.write(json.dumps({"id": cid, "h": digest(cid, s), "s": s}) + "\n")
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
        st = os.stat(path)
        return (st.st_size, st.st_mtime_ns, st.st_ino)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        return None


def clear_memo() -> None:
    """Forget parsed files (tests; a process that reopens stores)."""
    with _lock:
        _memo.clear()
