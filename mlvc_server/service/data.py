"""Data files: which contents to capture, capture at commit, checkout and diff.

A commit always records the BLAKE3 hash, size and modification time of each data file
it read (``data`` in the record). It also stores the file's *content* (content-defined
chunks, :mod:`mlvc_server.store.datafiles`) when

- the file matches a content pattern (``mlvc track --content 'data/**'``, kept in
  ``.mlvc/mlvc/content.json`` for the whole project), or
- the file is at most the capture limit: ``MLVC_DATA_CONTENT_MAX`` in the environment
  (bytes, or with a suffix ``K``, ``M``, ``G``: ``200M``), else ``max_bytes`` in
  ``content.json`` (``mlvc track --content-max 200M``); 0 or unset: no limit-based
  capture.

The record's entry of a captured file names its content manifest (``content``) and its
chunk count; the manifest lives in the commit's tree as ``data/<escaped path>/manifest
.json``. :func:`data_checkout` writes captured files back; :func:`data_diff` compares the
data two commits read, down to schema and rows for CSV and parquet files.
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import json
import os
import re
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from ..errors import DataNotFoundError, MlvcError
from ..store import Store, datafiles
from ..store.revisions import resolve
from .format import DataCheckoutResult, DataDiff, DataFileDiff, DataUndoResult, read_record
from .workspace import open_store, rel_notebook, workspace

__all__ = [
    "ENV_MAX",
    "content_settings",
    "data_checkout",
    "data_diff",
    "data_undo",
    "set_content_max",
    "track_content",
    "untrack_content",
]

#: The environment variable of the capture limit.
ENV_MAX: Final = "MLVC_DATA_CONTENT_MAX"
_SETTINGS: Final = "content.json"
_SAFETY: Final = "data-safety"
_UNITS: Final = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


# -- settings ------------------------------------------------------------------------------
def parse_size(text: str | int) -> int:
    """``"200M"`` -> bytes (``K``, ``M``, ``G``, ``T``, powers of 1024; an optional ``B``
    or ``iB``).

    Raises:
        MlvcError: not a size.
    """
    if isinstance(text, int) and not isinstance(text, bool):
        if text < 0:
            raise MlvcError(f"a size cannot be negative: {text}")
        return text
    m = re.fullmatch(r"\s*(\d+)\s*([KMGT]?)(?:i?B)?\s*", str(text), re.IGNORECASE)
    if not m:
        raise MlvcError(f"not a size: {text!r} (write bytes, or e.g. 500K, 200M, 2G)")
    return int(m.group(1)) * _UNITS[m.group(2).upper()]


def _settings_file(store: Store) -> Path:
    return store.state_dir / _SETTINGS


def _read_settings(store: Store) -> dict[str, Any]:
    try:
        data = json.loads(_settings_file(store).read_text())
    except (OSError, ValueError):
        return {"patterns": [], "max_bytes": 0}
    if not isinstance(data, dict):
        return {"patterns": [], "max_bytes": 0}
    patterns = [p for p in data.get("patterns", []) if isinstance(p, str)]
    max_bytes = data.get("max_bytes", 0)
    return {"patterns": patterns, "max_bytes": max_bytes if isinstance(max_bytes, int) else 0}


def _write_settings(store: Store, settings: Mapping[str, Any]) -> None:
    path = _settings_file(store)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(dict(settings), indent=1) + "\n")
    os.replace(tmp, path)


def content_settings(*, repo: str | os.PathLike[str] = ".") -> dict[str, Any]:
    """What the commits of this project capture the content of.

    Returns:
        ``patterns`` (globs relative to the project root), ``max_bytes`` (the limit in
        effect: the environment's, else the stored one; 0: none) and ``max_bytes_from``
        (``"env"``, ``"config"`` or None).
    """
    store = open_store(repo, create=True)
    settings = _read_settings(store)
    env = os.environ.get(ENV_MAX, "").strip()
    if env:
        return {
            "patterns": settings["patterns"],
            "max_bytes": parse_size(env),
            "max_bytes_from": "env",
        }
    limit = settings["max_bytes"]
    return {
        "patterns": settings["patterns"],
        "max_bytes": limit,
        "max_bytes_from": "config" if limit else None,
    }


def _normalize(store: Store, pattern: str, from_root: bool = False) -> str:
    if not isinstance(pattern, str) or not pattern.strip():
        raise MlvcError(f"invalid data pattern: {pattern!r}")
    if from_root and os.path.isabs(pattern):
        raise MlvcError(f"{pattern!r} must be relative to the project folder")
    start = str(store.root) if from_root else os.getcwd()
    joined = os.path.normpath(os.path.join(start, os.path.expanduser(pattern)))
    rel = os.path.relpath(joined, store.root.resolve())
    if rel == ".." or rel.startswith(".." + os.sep) or os.path.isabs(rel):
        raise MlvcError(f"{pattern!r} is outside the project folder {store.root}")
    return rel.replace(os.sep, "/")


def track_content(patterns: Iterable[str], *, repo: str | os.PathLike[str] = ".") -> list[str]:
    """Capture the content of the data files matching ``patterns`` at every commit.

    Args:
        patterns: paths, folders or globs (``**`` crosses folders), relative to the
            current directory.
        repo: a path inside the project.

    Returns:
        Every content pattern now in effect.
    """
    store = open_store(repo, create=True)
    settings = _read_settings(store)
    for p in patterns:
        rel = _normalize(store, p)
        if rel not in settings["patterns"]:
            settings["patterns"].append(rel)
    _write_settings(store, settings)
    return list(settings["patterns"])


def untrack_content(patterns: Iterable[str], *, repo: str | os.PathLike[str] = ".") -> list[str]:
    """Stop capturing the content of files matching ``patterns`` (their hashes are still
    recorded).

    Raises:
        MlvcError: a pattern is not a content pattern.
    """
    store = open_store(repo, create=True)
    settings = _read_settings(store)
    for p in patterns:
        rel = _normalize(store, p)
        if rel not in settings["patterns"]:
            raise MlvcError(f"{rel!r} is not a content pattern (see `mlvc track`)")
        settings["patterns"].remove(rel)
    _write_settings(store, settings)
    return list(settings["patterns"])


def set_content_max(size: str | int, *, repo: str | os.PathLike[str] = ".") -> int:
    """Capture the content of every data file a commit reads up to ``size`` bytes (0:
    only those matching a content pattern). ``MLVC_DATA_CONTENT_MAX`` overrides it.

    Returns:
        The limit stored, in bytes.
    """
    store = open_store(repo, create=True)
    settings = _read_settings(store)
    settings["max_bytes"] = parse_size(size)
    _write_settings(store, settings)
    return int(settings["max_bytes"])


def glob_regex(pattern: str) -> re.Pattern[str]:
    """A regex for a POSIX glob relative to the root: ``*`` and ``?`` stay inside one
    folder, ``**`` crosses folders, a plain folder matches everything below it."""
    out = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            end = pattern.find("]", i + 1)
            if end < 0:
                out.append(re.escape(c))
            else:
                body = pattern[i + 1 : end].replace("\\", "\\\\")
                out.append("[^" + body[1:] + "]" if body.startswith("!") else "[" + body + "]")
                i = end
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out) + "(?:/.*)?")


@dataclass
class CapturedContent:
    """What a commit captured of its data files."""

    #: The commit tree's ``data`` tree (None when nothing was captured).
    tree: dict[str, Any] | None = None
    part_ids: list[str] = field(default_factory=list)
    bytes_written: int = 0


def capture_content(store: Store, data_index: dict[str, Any]) -> CapturedContent:
    """Capture the content of the data files the settings name (commit's step).

    Adds ``content`` (the manifest id) and ``chunks`` to the entries of ``data_index``
    it captured.
    """
    from ..capture.data import iso_mtime

    settings = content_settings(repo=store.root)
    regexes = [glob_regex(p) for p in settings["patterns"]]
    limit = int(settings["max_bytes"])
    out = CapturedContent()
    tree: dict[str, Any] = {}
    for rel, entry in data_index.items():
        size = int(entry["size"])
        if not (any(r.fullmatch(rel) for r in regexes) or (limit and size <= limit)):
            continue

        def same(st: os.stat_result, entry: Mapping[str, Any] = entry) -> bool:
            return bool(st.st_size == entry["size"] and iso_mtime(st.st_mtime_ns) == entry["mtime"])

        cap = datafiles.capture_file(store, store.root / rel, entry["hash"], same, name=rel)
        entry["content"] = cap.manifest_id
        entry["chunks"] = cap.chunks
        tree[datafiles.entry_name(rel)] = {"manifest.json": cap.manifest_id}
        out.part_ids.extend(cap.part_ids)
        out.bytes_written += cap.bytes_written
    if tree:
        out.tree = tree
    return out


# -- checkout ------------------------------------------------------------------------------
def _select(
    store: Store,
    data: Mapping[str, Any],
    paths: Iterable[str] | None,
    cid: str,
    from_root: bool,
) -> list[str]:
    if paths is None:
        return sorted(data)
    chosen: list[str] = []
    for p in paths:
        rel = _normalize(store, p, from_root)
        rx = glob_regex(rel)
        hits = [d for d in data if d == rel or rx.fullmatch(d)]
        if not hits:
            raise DataNotFoundError(f"commit {cid[:8]} read no data file {rel!r}")
        chosen.extend(h for h in hits if h not in chosen)
    return sorted(chosen)


def data_checkout(
    rev: str = "HEAD",
    paths: Iterable[str] | None = None,
    *,
    repo: str | os.PathLike[str] = ".",
    notebook: str | os.PathLike[str] | None = None,
    dry_run: bool = False,
    from_root: bool = False,
) -> DataCheckoutResult:
    """Bring back the data files commit ``rev`` read, as it read them.

    Each captured file that differs from the commit's (or is missing) is written
    atomically (temporary file, hash checked, rename), streaming one chunk at a time. A
    current file that differs is kept first, as a hard link (a copy across devices),
    under ``.mlvc/mlvc/data-safety/<time>/<path>``: the result names each copy, and
    ``safety`` names the record :func:`data_undo` takes to put every file back as it
    was (and remove those the checkout created).

    Args:
        rev: the commit (branch, tag, id, ``HEAD~2``...).
        paths: files, folders or globs to bring back (relative to the current
            directory); None: every data file of the commit.
        repo: a path inside the project.
        notebook: the notebook whose HEAD ``rev`` is relative to.
        dry_run: say what would be written without writing.
        from_root: ``paths`` are relative to the project root, not to the current
            directory (the REST API's).

    Raises:
        RevisionNotFoundError: no such commit.
        DataNotFoundError: a path names no data file of the commit.
        CorruptObjectError, PayloadMissingError: stored content damaged or pruned.
    """
    store = open_store(repo)
    nb = rel_notebook(store, notebook)
    cid = resolve(store, rev, nb)
    data: dict[str, Any] = read_record(store, cid).get("data") or {}
    chosen = _select(store, data, paths, cid, from_root)
    hasher = workspace().data_hasher(store)
    result: DataCheckoutResult = {
        "commit": cid,
        "restored": [],
        "unchanged": [],
        "not_captured": [],
        "safety_copies": {},
        "bytes": 0,
        "dry_run": dry_run,
        "sizes": {},
        "current_sizes": {},
        "safety": None,
    }
    dests = {rel: _destination(store, rel) for rel in chosen}  # all checked before writing
    undo = _Undo(store, cid) if not dry_run else None
    try:
        _put_back(store, data, chosen, dests, hasher, result, undo)
    finally:
        if undo is not None:
            result["safety"] = undo.save()
    return result


def _put_back(
    store: Store,
    data: Mapping[str, Any],
    chosen: list[str],
    dests: Mapping[str, Path],
    hasher: Any,
    result: DataCheckoutResult,
    undo: _Undo | None,
) -> None:
    """The writes of :func:`data_checkout` (each one noted in ``undo`` first)."""
    for rel in chosen:
        entry = data[rel]
        dest = dests[rel]
        current = hasher.hash_file(dest) if dest.is_file() else None
        if current == entry.get("hash"):
            result["unchanged"].append(rel)
            continue
        manifest_id = entry.get("content")
        result["sizes"][rel] = int(entry.get("size", 0))
        if not manifest_id:
            result["not_captured"].append(rel)
            continue
        result["restored"].append(rel)
        if current is not None:
            with contextlib.suppress(OSError):
                result["current_sizes"][rel] = dest.stat().st_size
        if undo is None:  # a dry run
            if current is not None:
                where = store.state_dir / _SAFETY / _stamp(result["commit"]) / rel
                result["safety_copies"][rel] = str(where)
            result["bytes"] += int(entry.get("size", 0))
            continue
        if current is not None:
            result["safety_copies"][rel] = str(undo.keep(rel, dest, current))
        undo.writing(rel, entry["hash"])
        result["bytes"] += datafiles.restore_file(store, manifest_id, dest, entry["hash"], rel)
        hasher.remember(dest, entry["hash"])  # written and verified: not read again


class _Undo:
    """The safety record of one data checkout: ``data-safety/<stamp>.json`` beside the
    folder of its safety copies, saved however the checkout ends. ``written``: path ->
    the hash the checkout wrote; ``kept``: path -> the hash of the file it replaced
    (its copy is ``<stamp>/<path>``); a written path not kept did not exist before."""

    def __init__(self, store: Store, commit: str) -> None:
        self.store = store
        self.commit = commit
        base = store.state_dir / _SAFETY
        base.mkdir(parents=True, exist_ok=True)
        stamp = _stamp(commit)
        for n in itertools.count():  # two checkouts in one second keep apart
            name = stamp if n == 0 else f"{stamp}-{n}"
            try:
                (base / name).mkdir()
                break
            except FileExistsError:
                continue
        self.name = name
        self.root = base / name
        self.written: dict[str, str] = {}
        self.kept: dict[str, str] = {}

    def keep(self, rel: str, dest: Path, current: str) -> Path:
        copy = self.root / rel
        _keep_copy(dest, copy)
        self.kept[rel] = current
        return copy

    def writing(self, rel: str, digest: str) -> None:
        self.written[rel] = digest

    def save(self) -> str | None:
        """Write the record (None, and the empty folder gone, when nothing was written)."""
        if not self.written and not self.kept:
            with contextlib.suppress(OSError):
                self.root.rmdir()
            return None
        record = {"commit": self.commit, "written": self.written, "kept": self.kept}
        _write_json(self.root.with_name(self.name + ".json"), record)
        return self.name


def _stamp(commit: str) -> str:
    return time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + f"-{commit[:8]}"


def _write_json(path: Path, value: Any) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(value, indent=1, sort_keys=True))
    os.replace(tmp, path)


_SAFETY_NAME: Final = re.compile(r"\d{8}T\d{6}-[0-9a-f]{8}(-\d+)?")


def data_undo(safety: str | None = None, *, repo: str | os.PathLike[str] = ".") -> DataUndoResult:
    """Undo a data checkout: put back each file it replaced, from its safety copy, and
    remove each file it created. A file changed since the checkout (its hash is not the
    one the checkout wrote) is left alone and named, and so is its safety copy. What
    the checkout wrote stays in the store, in the commit it came from.

    Args:
        safety: the checkout's ``safety`` (from its result); None: the latest data
            checkout not undone yet.
        repo: a path inside the project.

    Raises:
        DataNotFoundError: no such data checkout, or none left to undo.
        MlvcError: ``safety`` is not a safety record's name, or was undone already.
    """
    store = open_store(repo)
    base = store.state_dir / _SAFETY
    if safety is None:
        records = []
        for p in base.glob("*.json"):
            with contextlib.suppress(MlvcError):  # an unreadable one is not the latest
                if not _read_record(p).get("undone"):
                    records.append(p)
        if not records:
            raise DataNotFoundError("there is no data checkout to undo")
        path = max(records, key=lambda p: (p.stat().st_mtime_ns, p.name))
    else:
        if not _SAFETY_NAME.fullmatch(safety):
            raise MlvcError(f"{safety!r} is not the name of a data checkout's safety record")
        path = base / f"{safety}.json"
        if not path.is_file():
            raise DataNotFoundError(f"no data checkout {safety!r} in this project")
    record = _read_record(path)
    name = path.name[: -len(".json")]
    if record.get("undone"):
        raise MlvcError(f"the data checkout {name} was undone already ({record['undone']})")
    hasher = workspace().data_hasher(store)
    kept: dict[str, str] = record.get("kept") or {}
    result: DataUndoResult = {
        "safety": name,
        "commit": str(record.get("commit", "")),
        "put_back": [],
        "removed": [],
        "left_alone": {},
    }
    for rel, digest in sorted((record.get("written") or {}).items()):
        dest = _destination(store, rel)
        now = hasher.hash_file(dest) if dest.is_file() else None
        if now == kept.get(rel):  # as it was already (a checkout that stopped early)
            continue
        if now != digest:
            result["left_alone"][rel] = (
                "removed since the checkout" if now is None else "changed since the checkout"
            )
            continue
        if rel not in kept:  # the checkout created it
            dest.unlink()
            result["removed"].append(rel)
            continue
        copy = path.with_name(name) / rel
        if not copy.is_file():
            result["left_alone"][rel] = f"its safety copy {copy} is gone"
            continue
        _move_back(copy, dest)
        hasher.remember(dest, kept[rel])
        result["put_back"].append(rel)
    record["undone"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    _write_json(path, record)
    return result


def _move_back(copy: Path, dest: Path) -> None:
    """Put a safety copy back in place of ``dest`` atomically (a rename; across file
    systems, a copy beside ``dest`` renamed over it)."""
    try:
        os.replace(copy, dest)
        return
    except OSError as e:
        if e.errno != errno.EXDEV:
            raise
    import shutil

    tmp = dest.with_name(f".mlvc-data.{os.getpid()}.{dest.name}.undo")
    try:
        shutil.copy2(copy, tmp)
        os.replace(tmp, dest)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    copy.unlink()


def _read_record(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise MlvcError(f"the data checkout record {path.name} cannot be read: {e}") from e
    if not isinstance(value, dict):
        raise MlvcError(f"the data checkout record {path.name} is not an object")
    return value


def _destination(store: Store, rel: str) -> Path:
    """Where a data file of a record goes; a path that would leave the project or enter
    the store (a crafted record in a pulled commit) is refused."""
    parts = rel.split("/")
    if (
        not rel
        or rel.startswith("/")
        or "\\" in rel
        or any(p in ("", ".", "..") for p in parts)
        or parts[0] == ".mlvc"
    ):
        raise MlvcError(f"refusing to write data file {rel!r}: not a path inside the project")
    return store.root / rel


def _keep_copy(src: Path, dest: Path) -> None:
    """Keep the current file at ``dest`` before it is replaced (a hard link: the rename
    that replaces ``src`` leaves this name on the old bytes)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dest)
    except OSError:
        import shutil

        shutil.copy2(src, dest)


# -- diff ----------------------------------------------------------------------------------
def data_diff(
    a: str,
    b: str = "HEAD",
    *,
    key: str | None = None,
    repo: str | os.PathLike[str] = ".",
    notebook: str | os.PathLike[str] | None = None,
    rows: bool = True,
) -> DataDiff:
    """The data files two commits read: added, removed, changed, with sizes; for CSV and
    parquet files captured in both, the schema changes and the rows added and removed
    (and changed, by ``key``).

    Rows are compared by a 64-bit hash of each row (of the key and of the row with
    ``key``), streamed batch by batch: memory grows by 8 bytes a row (16 with a key),
    never by the files' size.

    Args:
        a: the older commit.
        b: the newer commit.
        key: a column identifying rows (rows whose key is in both and whose values
            differ are ``changed``); None: rows are compared whole.
        repo: a path inside the project.
        notebook: the notebook whose HEAD the revisions are relative to.
        rows: compare rows (False: files and schemas only).

    Raises:
        RevisionNotFoundError: no such commit.
        MlvcError: ``key`` is not a column of a compared table.
    """
    store = open_store(repo)
    nb = rel_notebook(store, notebook)
    ca, cb = resolve(store, a, nb), resolve(store, b, nb)
    da: dict[str, Any] = read_record(store, ca).get("data") or {}
    db: dict[str, Any] = read_record(store, cb).get("data") or {}
    files: list[DataFileDiff] = []
    for path in sorted(set(da) | set(db)):
        ea, eb = da.get(path), db.get(path)
        if ea is not None and eb is not None and ea.get("hash") == eb.get("hash"):
            continue
        status = "added" if ea is None else "removed" if eb is None else "changed"
        item: DataFileDiff = {
            "path": path,
            "status": status,
            "size_a": int(ea["size"]) if ea else None,
            "size_b": int(eb["size"]) if eb else None,
            "captured": bool(
                (ea is None or ea.get("content")) and (eb is None or eb.get("content"))
            ),
        }
        kind = _table_kind(path)
        if kind and item["captured"]:
            try:
                _table_diff(store, item, kind, ea, eb, key, rows)
            except ImportError as e:
                item["note"] = f"schema and rows not compared: {e.name or e} is not installed"
            except (ValueError, OSError) as e:  # pyarrow's ArrowInvalid is a ValueError
                item["note"] = f"not read as {kind}: {e}"
        elif kind:
            item["note"] = "content not captured: only the hashes differ"
        files.append(item)
    return {"a": ca, "b": cb, "key": key, "files": files}


def _table_kind(path: str) -> str | None:
    lower = path.lower()
    if lower.endswith((".csv", ".csv.gz", ".tsv")):
        return "csv"
    if lower.endswith((".parquet", ".pq")):
        return "parquet"
    return None


class _ChunkStream:
    """A stored data file as a binary file object (read-only, forward only)."""

    def __init__(self, store: Store, manifest_id: str, name: str) -> None:
        self._chunks = datafiles.stream(store, manifest_id, name)
        self._pending = b""
        self.closed = False

    def read(self, n: int = -1) -> bytes:
        out = [self._pending]
        have = len(self._pending)
        while n < 0 or have < n:
            try:
                chunk = bytes(next(self._chunks))
            except StopIteration:
                break
            out.append(chunk)
            have += len(chunk)
        data = b"".join(out)
        if n < 0 or len(data) <= n:
            self._pending = b""
            return data
        self._pending = data[n:]
        return data[:n]

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def close(self) -> None:
        self.closed = True


@contextlib.contextmanager
def _spooled(store: Store, manifest_id: str, name: str) -> Iterator[str]:
    """The stored file written to a temporary file (parquet needs random access)."""
    fd, tmp = tempfile.mkstemp(prefix=".mlvc-diff.", dir=store.state_dir)
    try:
        with os.fdopen(fd, "wb") as f:
            for view in datafiles.stream(store, manifest_id, name):
                f.write(view)
        yield tmp
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


@contextlib.contextmanager
def _batches(
    store: Store, manifest_id: str, kind: str, name: str
) -> Iterator[tuple[Any, Iterator[Any]]]:
    """``(arrow schema, record batches)`` of a stored CSV or parquet file."""
    import pyarrow as pa

    if kind == "csv":
        from pyarrow import csv

        stream = _ChunkStream(store, manifest_id, name)
        compression = "gzip" if name.lower().endswith(".gz") else None
        source = pa.input_stream(pa.PythonFile(stream, mode="r"), compression=compression)
        parse = csv.ParseOptions(delimiter="\t") if name.lower().endswith(".tsv") else None
        reader = csv.open_csv(source, parse_options=parse)
        yield reader.schema, iter(reader)
        return
    import pyarrow.parquet as pq

    with _spooled(store, manifest_id, name) as path:
        pf = pq.ParquetFile(path)
        yield pf.schema_arrow, pf.iter_batches(batch_size=65536)
        pf.close()


def _hashes(
    batches: Iterator[Any], key: str | None, columns: list[str], retyped: set[str]
) -> tuple[Any, Any]:
    """uint64 hashes of the rows (and of the key column) of every batch, over
    ``columns`` only; a column in ``retyped`` is compared as text (so an int64 1 and a
    double 1.0, or a float and a double of the same value, are the same value)."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    def as_text(column: Any) -> Any:
        try:
            return column.cast(pa.string())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # nested: as it is
            return column

    def picked(batch: Any, names: list[str]) -> Any:
        arrays = [as_text(batch.column(n)) if n in retyped else batch.column(n) for n in names]
        return pa.RecordBatch.from_arrays(arrays, names=names).to_pandas()

    rows: list[Any] = []
    keys: list[Any] = []
    for batch in batches:
        rows.append(
            pd.util.hash_pandas_object(picked(batch, columns), index=False).to_numpy(
                dtype=np.uint64
            )
        )
        if key is not None:
            keys.append(
                pd.util.hash_pandas_object(picked(batch, [key])[key], index=False).to_numpy(
                    dtype=np.uint64
                )
            )
    empty = np.zeros(0, dtype=np.uint64)
    return (
        np.concatenate(rows) if rows else empty,
        (np.concatenate(keys) if keys else empty) if key is not None else None,
    )


def _schema_diff(sa: Any, sb: Any) -> dict[str, Any]:
    ta = {f.name: str(f.type) for f in sa}
    tb = {f.name: str(f.type) for f in sb}
    return {
        "added": [c for c in tb if c not in ta],
        "removed": [c for c in ta if c not in tb],
        "changed": {c: [ta[c], tb[c]] for c in ta if c in tb and ta[c] != tb[c]},
        "columns_a": list(ta),
        "columns_b": list(tb),
    }


def _table_diff(
    store: Store,
    item: DataFileDiff,
    kind: str,
    ea: Mapping[str, Any] | None,
    eb: Mapping[str, Any] | None,
    key: str | None,
    rows: bool,
) -> None:
    import numpy as np

    name = item["path"]
    sides: list[tuple[Any, Any, Any] | None] = []
    with contextlib.ExitStack() as opened:
        found = [
            None
            if entry is None
            else opened.enter_context(_batches(store, entry["content"], kind, name))
            for entry in (ea, eb)
        ]
        schemas = [f[0] for f in found if f is not None]
        for schema in schemas:
            if key is not None and key not in schema.names:
                raise MlvcError(f"{name}: no column {key!r} to compare rows by")
        # rows are compared on the columns both versions have (a column added or
        # removed is the schema's news, not a change of every row); a retyped column
        # is compared by its values as text
        columns = [c for c in schemas[0].names if all(c in s.names for s in schemas)]
        types = [{f.name: f.type for f in s} for s in schemas]
        retyped = {c for c in columns if len({str(t[c]) for t in types}) > 1}
        for f in found:
            if f is None:
                sides.append(None)
                continue
            schema, batches = f
            if rows:
                # (no column in common: every row differs, each hashed whole)
                h, kh = _hashes(batches, key, columns or list(schema.names), retyped)
            else:
                h, kh = np.zeros(0, dtype=np.uint64), None
            sides.append((schema, h, kh))
    a, b = sides
    if a is not None and b is not None:
        item["schema"] = _schema_diff(a[0], b[0])
    if not rows:
        return
    ha = a[1] if a else np.zeros(0, dtype=np.uint64)
    hb = b[1] if b else np.zeros(0, dtype=np.uint64)
    out: dict[str, Any] = {"a": len(ha) if a else None, "b": len(hb) if b else None}
    if (
        key is not None
        and a is not None
        and b is not None
        and a[2] is not None
        and b[2] is not None
    ):
        ka, ia = np.unique(a[2], return_index=True)
        kb, ib = np.unique(b[2], return_index=True)
        common, xa, xb = np.intersect1d(ka, kb, assume_unique=True, return_indices=True)
        out["added"] = int(len(kb) - len(common))
        out["removed"] = int(len(ka) - len(common))
        out["changed"] = int(np.count_nonzero(ha[ia[xa]] != hb[ib[xb]]))
        out["key"] = key
    else:
        ua, na = np.unique(ha, return_counts=True)
        ub, nb = np.unique(hb, return_counts=True)
        common, xa, xb = np.intersect1d(ua, ub, assume_unique=True, return_indices=True)
        shared = int(np.minimum(na[xa], nb[xb]).sum())
        out["added"] = int(len(hb) - shared)
        out["removed"] = int(len(ha) - shared)
    item["rows"] = out
