"""Hash the data files an experiment read, with a persistent stat cache.

A commit records, for each tracked data file, its BLAKE3 hash, size and modification
time. Hashing reads the whole file (about 2-3 GB/s from the page cache with BLAKE3 over
a memory map); a stat cache makes the next commit cheap: a file whose size, mtime,
ctime and inode are unchanged is not read again, only ``os.stat``-ed.

The cache is a JSON file (e.g. ``.mlvc/mlvc/data-cache.json``) shared by every process
that uses the same path (the kernel, the server, the CLI); it is written atomically
(temp file + ``os.replace``) and ignored when unreadable.

Like git's index, the cache guards against "racy" entries: when a file was modified so
shortly before it was hashed that a later write could leave the same mtime (filesystem
timestamps are coarse), the entry is not trusted and the file is hashed again next time.
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
import os
import stat as stat_mod
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, TypedDict

from blake3 import blake3

from ..errors import MlvcError

__all__ = ["DataHasher", "FileRecord", "hash_file", "iso_mtime"]

HASH_PREFIX: Final = "blake3:"
_CACHE_VERSION: Final = 1
#: Files at least this big are hashed through a memory map with BLAKE3's threads.
_MMAP_MIN: Final = 1 << 20
#: Most entries kept in the cache file (the least recently hashed go first).
_MAX_ENTRIES: Final = 100_000
#: Window (ns) in which a write after hashing could keep the same mtime. Linux stamps
#: files with a coarse clock (a few ms); whole-second mtimes suggest a coarse
#: filesystem (FAT, some network mounts), where we allow 2 s.
_RACY_NS: Final = 50_000_000
_RACY_COARSE_NS: Final = 2_000_000_000
_GLOB_CHARS: Final = frozenset("*?[")
#: Most files one glob pattern may match, and deepest folder it may descend to: a walk
#: through symlinked folders stays bounded whatever the links do.
MAX_GLOB_FILES: Final = 200_000
MAX_GLOB_DEPTH: Final = 64


class FileRecord(TypedDict):
    """What a commit records about one data file.

    Attributes:
        hash: ``"blake3:<64 hex digits>"`` of the file's content.
        size: the size in bytes.
        mtime: the modification time, ISO 8601 in UTC (microseconds).
    """

    hash: str
    size: int
    mtime: str


class _Entry(TypedDict):
    size: int
    mtime_ns: int
    ctime_ns: int
    ino: int
    hash: str
    hashed_ns: int


def _hash_path(path: str, size: int) -> str:
    """BLAKE3 of a file's content as ``"blake3:<hex>"`` (the one place bytes are read).

    Args:
        path: the file.
        size: its size from ``os.stat``, to choose how to read it.

    Returns:
        The prefixed hex digest.
    """
    if size >= _MMAP_MIN:
        hasher = blake3(max_threads=blake3.AUTO)
        hasher.update_mmap(path)
    else:
        hasher = blake3()
        with open(path, "rb") as f:
            hasher.update(f.read())
    return HASH_PREFIX + hasher.hexdigest()


def hash_file(path: str | os.PathLike[str]) -> str:
    """Hash one file's content with BLAKE3, without any cache.

    Args:
        path: the file to hash.

    Returns:
        ``"blake3:<64 hex digits>"``.

    Raises:
        MlvcError: the file does not exist, is not a regular file or cannot be read.
    """
    p = os.fspath(path)
    try:
        st = os.stat(p)
    except FileNotFoundError as exc:
        raise MlvcError(f"data file not found: {p}") from exc
    except OSError as exc:
        raise MlvcError(f"cannot stat data file {p}: {exc}") from exc
    if not stat_mod.S_ISREG(st.st_mode):
        raise MlvcError(f"not a regular file: {p}")
    try:
        return _hash_path(p, st.st_size)
    except OSError as exc:
        raise MlvcError(f"cannot read data file {p}: {exc}") from exc


def _iso_mtime(mtime_ns: int) -> str:
    seconds, ns = divmod(mtime_ns, 1_000_000_000)
    dt = datetime.fromtimestamp(seconds, tz=UTC).replace(microsecond=ns // 1000)
    return dt.isoformat()


def iso_mtime(mtime_ns: int) -> str:
    """A modification time (ns since the epoch) as :class:`FileRecord` writes it."""
    return _iso_mtime(mtime_ns)


def _is_inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _walk_files(directory: str) -> Iterator[str]:
    """Regular files under ``directory``, recursively, skipping hidden names."""
    for dirpath, dirnames, filenames in os.walk(directory):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if not name.startswith("."):
                yield os.path.join(dirpath, name)


def glob_files(root: str, pattern: str) -> list[str]:
    """Regular files under ``root`` matching ``pattern`` (``*``, ``?``, ``[...]`` within a
    name, ``**`` for any number of folders; names starting with ``.`` only match a part
    that starts with ``.``), as sorted absolute paths.

    Symlinked folders are followed, but each real folder is walked once per pattern part
    (a symlink loop ends there) and each real file is listed once (under its first path
    in sorted order), so a loop can neither repeat a file nor make the walk endless.

    Raises:
        MlvcError: more than :data:`MAX_GLOB_FILES` files, or folders nested deeper than
            :data:`MAX_GLOB_DEPTH` (the message says which limit and how to narrow).
    """
    parts = [p for p in pattern.replace(os.sep, "/").split("/") if p not in ("", ".")]
    found: dict[str, str] = {}  # real path -> first path met
    visited: set[tuple[str, int]] = set()

    def add(path: str) -> None:
        real = os.path.realpath(path)
        if real not in found:
            if len(found) >= MAX_GLOB_FILES:
                raise MlvcError(
                    f"the data pattern {pattern!r} matches more than {MAX_GLOB_FILES:,} "
                    "files: track a narrower pattern (or the folder's archive)"
                )
            found[real] = path

    def entries(folder: str) -> list[os.DirEntry[str]]:
        try:
            with os.scandir(folder) as it:
                return sorted(it, key=lambda e: e.name)
        except OSError:
            return []

    def visible(name: str, part: str) -> bool:
        return not name.startswith(".") or part.startswith(".")

    def walk(folder: str, i: int, depth: int) -> None:
        if depth > MAX_GLOB_DEPTH:
            raise MlvcError(
                f"the data pattern {pattern!r} reaches folders nested more than "
                f"{MAX_GLOB_DEPTH} deep under {root}: track a narrower pattern"
            )
        part = parts[i]
        last = i == len(parts) - 1
        if part == "**":
            key = (os.path.realpath(folder), i)
            if key in visited:
                return  # a symlink loop, or a folder met through another link
            visited.add(key)
            if not last:
                walk(folder, i + 1, depth)  # "**" matching no folder
            for e in entries(folder):
                if not visible(e.name, ""):
                    continue
                with contextlib.suppress(OSError):
                    if e.is_dir():
                        walk(e.path, i, depth + 1)
                    elif last and e.is_file():
                        add(e.path)
            return
        if not _GLOB_CHARS.intersection(part):
            path = os.path.join(folder, part)
            if last:
                if os.path.isfile(path):
                    add(path)
            elif os.path.isdir(path):
                walk(path, i + 1, depth + 1)
            return
        for e in entries(folder):
            if not visible(e.name, part) or not fnmatch.fnmatch(e.name, part):
                continue
            with contextlib.suppress(OSError):
                if last:
                    if e.is_file():
                        add(e.path)
                elif e.is_dir():
                    walk(e.path, i + 1, depth + 1)

    if parts:
        walk(root, 0, 0)
    return sorted(found.values())


class DataHasher:
    """Hashes data files, remembering hashes of unchanged files across processes.

    Thread-safe; one instance per cache file is enough for a process.

    Args:
        cache_path: the JSON cache file, e.g. ``.mlvc/mlvc/data-cache.json``; its
            folder is created on first save. None keeps the cache in memory only.
    """

    def __init__(self, cache_path: str | os.PathLike[str] | None = None) -> None:
        self._cache_path = os.path.abspath(os.fspath(cache_path)) if cache_path else None
        self._entries: dict[str, _Entry] = {}
        self._cache_stamp: tuple[int, int, int] | None = None
        self._dirty = False
        self._lock = threading.Lock()

    @property
    def cache_path(self) -> Path | None:
        """The cache file, or None when the cache lives in memory only."""
        return Path(self._cache_path) if self._cache_path else None

    def hash_files(self, patterns: Iterable[str], root: Path) -> dict[str, FileRecord]:
        """Hash the files named by ``patterns``, re-reading only changed files.

        Args:
            patterns: file paths, directories (every non-hidden file below them) or glob
                patterns (``*``, ``?``, ``[...]``, recursive ``**``; hidden files are not
                matched), relative to ``root`` or absolute inside it. Globs match regular
                files only. A symlink inside ``root`` may point anywhere; its target's
                content is hashed.
            root: the project folder; every file must be inside it.

        Returns:
            POSIX path relative to ``root`` -> :class:`FileRecord`, sorted by path.

        Raises:
            MlvcError: a path does not exist, a pattern matches no file, a path is
                outside ``root``, or a file is not a regular file or cannot be read.
        """
        if isinstance(patterns, str):
            patterns = [patterns]
        root_abs = os.path.abspath(os.fspath(root))
        found: dict[str, str] = {}  # relative POSIX path -> absolute path
        for pattern in patterns:
            for abs_path in self._expand(pattern, root_abs):
                rel = os.path.relpath(abs_path, root_abs).replace(os.sep, "/")
                found.setdefault(rel, abs_path)
        with self._lock:
            self._load()
            records = {rel: self._record(found[rel]) for rel in sorted(found)}
            self._save()
        return records

    def hash_file(self, path: str | os.PathLike[str]) -> str:
        """Hash one file through the cache.

        Args:
            path: the file (absolute, or relative to the current directory).

        Returns:
            ``"blake3:<64 hex digits>"``.

        Raises:
            MlvcError: the file does not exist, is not a regular file or cannot be read.
        """
        abs_path = os.path.abspath(os.fspath(path))
        with self._lock:
            self._load()
            digest = self._record(abs_path)["hash"]
            self._save()
        return digest

    def remember(self, path: str | os.PathLike[str], digest: str) -> None:
        """Record that the file at ``path``, as it is now, has hash ``digest`` (mlvc just
        wrote and verified those bytes: no need to read them again). The usual checks
        apply on the next look: a later change of size, times or inode, or a change
        within the file system's timestamp granularity, makes it hashed again."""
        abs_path = os.path.abspath(os.fspath(path))
        with self._lock:
            self._load()
            st = os.stat(abs_path)
            self._entries[abs_path] = {
                "size": st.st_size,
                "mtime_ns": st.st_mtime_ns,
                "ctime_ns": st.st_ctime_ns,
                "ino": st.st_ino,
                "hash": digest,
                "hashed_ns": max(st.st_mtime_ns, st.st_ctime_ns),
            }
            self._dirty = True
            self._save()

    # -- expanding patterns -------------------------------------------------------------

    def _expand(self, pattern: str, root: str) -> list[str]:
        if not isinstance(pattern, str) or not pattern:
            raise MlvcError(f"invalid data path or pattern: {pattern!r}")
        joined = os.path.normpath(os.path.join(root, os.path.expanduser(pattern)))
        self._check_inside(pattern, joined, root)
        if not _GLOB_CHARS.intersection(pattern):
            if os.path.isdir(joined):
                files = list(_walk_files(joined))
                if not files:
                    raise MlvcError(f"no data files in folder {pattern!r} (under {root})")
                return files
            if not os.path.lexists(joined):
                raise MlvcError(f"data file not found: {pattern!r} (under {root})")
            return [joined]
        # Glob relative to root so that glob characters in root's own path are literal.
        relative = os.path.relpath(joined, root)
        matches = glob_files(root, relative)
        if not matches:
            raise MlvcError(f"no data files match {pattern!r} (under {root})")
        return matches

    @staticmethod
    def _check_inside(pattern: str, joined: str, root: str) -> None:
        if _is_inside(joined, root):
            return
        # The same place spelled through a symlink (e.g. /tmp vs /private/tmp) is fine.
        if not _GLOB_CHARS.intersection(pattern) and _is_inside(
            os.path.realpath(joined), os.path.realpath(root)
        ):
            return
        raise MlvcError(f"data path {pattern!r} is outside the project folder {root}")

    # -- hashing with the cache -----------------------------------------------------------

    def _record(self, abs_path: str) -> FileRecord:
        for _ in range(3):
            try:
                st = os.stat(abs_path)
            except FileNotFoundError as exc:
                raise MlvcError(f"data file not found: {abs_path}") from exc
            except OSError as exc:
                raise MlvcError(f"cannot stat data file {abs_path}: {exc}") from exc
            if not stat_mod.S_ISREG(st.st_mode):
                raise MlvcError(f"not a regular file: {abs_path}")
            entry = self._entries.get(abs_path)
            if entry is not None and self._matches(entry, st) and not self._racy(entry):
                return {
                    "hash": entry["hash"],
                    "size": st.st_size,
                    "mtime": _iso_mtime(st.st_mtime_ns),
                }
            started_ns = time.time_ns()
            try:
                digest = _hash_path(abs_path, st.st_size)
                after = os.stat(abs_path)
            except OSError as exc:
                raise MlvcError(f"cannot read data file {abs_path}: {exc}") from exc
            if self._same_stat(st, after):
                self._entries[abs_path] = {
                    "size": st.st_size,
                    "mtime_ns": st.st_mtime_ns,
                    "ctime_ns": st.st_ctime_ns,
                    "ino": st.st_ino,
                    "hash": digest,
                    "hashed_ns": started_ns,
                }
                self._dirty = True
                return {
                    "hash": digest,
                    "size": st.st_size,
                    "mtime": _iso_mtime(st.st_mtime_ns),
                }
        raise MlvcError(f"data file {abs_path} kept changing while it was being hashed")

    @staticmethod
    def _matches(entry: _Entry, st: os.stat_result) -> bool:
        return (
            entry["size"] == st.st_size
            and entry["mtime_ns"] == st.st_mtime_ns
            and entry["ctime_ns"] == st.st_ctime_ns
            and entry["ino"] == st.st_ino
        )

    @staticmethod
    def _same_stat(a: os.stat_result, b: os.stat_result) -> bool:
        return (a.st_size, a.st_mtime_ns, a.st_ctime_ns, a.st_ino) == (
            b.st_size,
            b.st_mtime_ns,
            b.st_ctime_ns,
            b.st_ino,
        )

    @staticmethod
    def _racy(entry: _Entry) -> bool:
        mtime = entry["mtime_ns"]
        window = _RACY_COARSE_NS if mtime % 1_000_000_000 == 0 else _RACY_NS
        return entry["hashed_ns"] - mtime < window

    # -- the cache file -------------------------------------------------------------------

    def _stamp(self) -> tuple[int, int, int] | None:
        if self._cache_path is None:
            return None
        try:
            st = os.stat(self._cache_path)
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def _load(self) -> None:
        """(Re)read the cache file when another process or instance has rewritten it."""
        if self._cache_path is None:
            return
        stamp = self._stamp()
        if stamp == self._cache_stamp:
            return
        self._cache_stamp = stamp
        if stamp is None:
            return
        try:
            with open(self._cache_path, encoding="utf-8") as f:
                data = json.load(f)
        except (OSError, ValueError):
            return  # unreadable or corrupt: ignored, rewritten on the next save
        # Merge: for each path keep the most recently hashed entry (ours or the file's).
        for path, entry in _parse_entries(data).items():
            mine = self._entries.get(path)
            if mine is None or entry["hashed_ns"] >= mine["hashed_ns"]:
                self._entries[path] = entry

    def _save(self) -> None:
        if not self._dirty or self._cache_path is None:
            return
        entries = self._entries
        if len(entries) > _MAX_ENTRIES:
            newest = sorted(entries.items(), key=lambda kv: kv[1]["hashed_ns"])[-_MAX_ENTRIES:]
            entries = self._entries = dict(newest)
        payload = {"version": _CACHE_VERSION, "entries": entries}
        folder = os.path.dirname(self._cache_path)
        try:
            os.makedirs(folder, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".data-cache.", suffix=".tmp", dir=folder)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as f:
                    json.dump(payload, f, separators=(",", ":"), sort_keys=True)
                os.replace(tmp, self._cache_path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
        except OSError:
            return  # a cache that cannot be written only costs re-hashing later
        self._dirty = False
        self._cache_stamp = self._stamp()


def _parse_entries(data: Any) -> dict[str, _Entry]:
    """The valid entries of a loaded cache document (anything malformed is dropped)."""
    if not isinstance(data, dict) or data.get("version") != _CACHE_VERSION:
        return {}
    raw = data.get("entries")
    if not isinstance(raw, dict):
        return {}
    entries: dict[str, _Entry] = {}
    int_keys = ("size", "mtime_ns", "ctime_ns", "ino", "hashed_ns")
    for path, e in raw.items():
        if (
            isinstance(path, str)
            and isinstance(e, dict)
            and all(type(e.get(k)) is int for k in int_keys)
            and isinstance(e.get("hash"), str)
            and e["hash"].startswith(HASH_PREFIX)
        ):
            entries[path] = {
                "size": e["size"],
                "mtime_ns": e["mtime_ns"],
                "ctime_ns": e["ctime_ns"],
                "ino": e["ino"],
                "hash": e["hash"],
                "hashed_ns": e["hashed_ns"],
            }
    return entries
