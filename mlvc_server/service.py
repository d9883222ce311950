"""The operations users name: init, commit, log, show, load, restore, diff, status, branch,
checkout, tag, fsck, du. The magics, the CLI and the REST API are thin layers over these.

Every function takes ``repo``: a path at or below the project root (the folder holding
``.mlvc/``). Notebook paths may be absolute or relative to the current directory and are
recorded relative to the project root.
"""

from __future__ import annotations

import getpass
import heapq
import json
import math
import os
import re
import socket
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import serializers
from .capture.timings import timed
from .errors import (
    InvalidNameError,
    MlvcError,
    RefConflictError,
    RevisionNotFoundError,
    SerializationError,
    TrustError,
    VariableNotFoundError,
)
from .serializers.deadline import DEFAULT_SECONDS, serialize_within
from .store import Store, find_root, keep, trust
from .store import payloads as payload_store
from .store.refs import (
    HEADS,
    TAGS,
    branch_ref,
    notebook_key,
    split_ref,
    tag_ref,
    validate_name,
)
from .store.revisions import current_branch, head, resolve, set_current_branch
from .store.space import reports_full_disk

RECORD = "mlvc.json"
ENV = "env.json"
HARDWARE = "hardware.json"
VARS = "vars"
SOURCES = "sources"
RECORD_VERSION = 1
#: Meta entries bigger than this (as JSON) are kept in the manifest only, not the record.
_RECORD_META_LIMIT = 2048
#: The default limit on serializing one variable, in seconds (see :func:`commit`).
MAX_SERIALIZE_SECONDS = DEFAULT_SECONDS
#: How often a commit is re-parented onto a branch that another process moved meanwhile.
_COMMIT_RETRIES = 20

_stores: dict[Path, Store] = {}
_stores_lock = threading.Lock()
_pending: dict[str, dict[str, Any]] = {"params": {}, "metrics": {}, "series": {}}
#: Defaults for :func:`commit`'s ``author`` and ``max_variable_bytes`` (see
#: :func:`commit_defaults`).
_commit_defaults: ContextVar[dict[str, Any] | None] = ContextVar(
    "mlvc_commit_defaults", default=None
)


@contextmanager
def commit_defaults(
    *,
    author: str | None = None,
    max_variable_bytes: int | None = None,
    max_serialize_seconds: float | None = None,
) -> Iterator[None]:
    """Defaults for the commits made inside the block (this thread or task only).

    The server uses it to make the commits that a kernel makes on its behalf carry the
    Jupyter user as author and skip variables over the server's size limit, through the
    same code path as ``%mlvc commit``. Arguments given to :func:`commit` win.

    Args:
        author: ``"Name <email>"`` or a name; None keeps the usual default.
        max_variable_bytes: skip variables bigger than this; None for no limit.
        max_serialize_seconds: skip variables whose serialization takes longer; None
            keeps the default (:data:`MAX_SERIALIZE_SECONDS`), 0 for no limit.
    """
    token = _commit_defaults.set(
        {
            "author": author,
            "max_variable_bytes": max_variable_bytes,
            "max_serialize_seconds": max_serialize_seconds,
        }
    )
    try:
        yield
    finally:
        _commit_defaults.reset(token)


# -- helpers ---------------------------------------------------------------------------
def _store(repo: str | os.PathLike[str], create: bool = False) -> Store:
    try:
        root = find_root(repo)
    except MlvcError:
        if not create:
            raise
        return init(repo)
    with _stores_lock:
        st = _stores.get(root)
        if st is None:
            st = _stores[root] = Store(root)
        return st


_hashers: dict[Path, Any] = {}


def _data_hasher(store: Store) -> Any:
    """One DataHasher per store and process, so its stat cache stays in memory."""
    from .capture import DataHasher

    hasher = _hashers.get(store.root)
    if hasher is None:
        hasher = _hashers[store.root] = DataHasher(store.state_dir / "data-cache.json")
    return hasher


def _rel_notebook(store: Store, notebook: str | os.PathLike[str] | None) -> str | None:
    """The notebook path relative to the project root, as POSIX (None stays None)."""
    if notebook is None or str(notebook) == "":
        return None
    p = Path(notebook)
    if not p.is_absolute():
        cwd_based = Path.cwd() / p
        p = cwd_based if cwd_based.resolve().is_relative_to(store.root) else store.root / p
    try:
        rel = p.resolve().relative_to(store.root)
    except ValueError:
        raise InvalidNameError(
            f"notebook {str(notebook)!r} is outside the project {str(store.root)!r}"
        ) from None
    key = rel.as_posix()
    notebook_key(key)  # validates
    return key


def _author(author: str | None) -> tuple[str, str]:
    if author:
        if "<" in author and author.endswith(">"):
            given, address = author[:-1].split("<", 1)
            return given.strip(), address.strip()
        return author, ""
    name = os.environ.get("MLVC_AUTHOR_NAME") or os.environ.get("GIT_AUTHOR_NAME")
    email = os.environ.get("MLVC_AUTHOR_EMAIL") or os.environ.get("GIT_AUTHOR_EMAIL")
    if not name:
        try:
            name = getpass.getuser()
        except (KeyError, OSError):
            name = "unknown"
    if not email:
        email = f"{name}@{socket.gethostname()}"
    return name, email


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


def _json_value(v: Any) -> Any:
    """A JSON-able form of a param/metric value (numpy scalars become Python numbers)."""
    if isinstance(v, bool | int | str) or v is None:
        return v
    if isinstance(v, float):
        return v if math.isfinite(v) else str(v)
    item = getattr(v, "item", None)
    if callable(item):
        try:
            return _json_value(item())
        except (TypeError, ValueError):
            pass
    if isinstance(v, list | tuple):
        return [_json_value(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _json_value(x) for k, x in v.items()}
    return repr(v)


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, indent=1, ensure_ascii=False).encode()


def _validate_var_name(name: str) -> None:
    if (
        not isinstance(name, str)
        or not name
        or "/" in name
        or "\x00" in name
        or name.startswith(".")
        or len(name) > 200
    ):
        raise InvalidNameError(
            f"variable name {name!r} cannot be stored (no '/', no leading '.', 1-200 chars)"
        )


# -- init ------------------------------------------------------------------------------
@reports_full_disk
def init(path: str | os.PathLike[str] = ".") -> Store:
    """Create the ``.mlvc/`` store in ``path`` (idempotent) and return it."""
    root = Path(path).resolve()
    with _stores_lock:
        st = Store.init(root)
        _stores[st.root] = st
        return st


# -- params and metrics ------------------------------------------------------------------
def log_params(**params: Any) -> None:
    """Attach hyperparameters to the next commit made in this process."""
    _pending["params"].update({k: _json_value(v) for k, v in params.items()})


def log_metrics(step: int | None = None, **metrics: Any) -> None:
    """Attach metrics to the next commit; with ``step``, also append to each metric's series."""
    for k, v in metrics.items():
        value = _json_value(v)
        _pending["metrics"][k] = value
        series = _pending["series"].setdefault(k, [])
        series.append([step if step is not None else len(series), value])


# -- commit ----------------------------------------------------------------------------
@reports_full_disk
def commit(
    message: str,
    variables: Mapping[str, Any] | None = None,
    notebook: str | os.PathLike[str] | None = None,
    params: Mapping[str, Any] | None = None,
    metrics: Mapping[str, Any] | None = None,
    data: Iterable[str] | None = None,
    repo: str | os.PathLike[str] = ".",
    *,
    branch: str | None = None,
    author: str | None = None,
    notebook_content: Any = None,
    sources: bool | Iterable[str] = True,
    allow_pickle: bool = True,
    max_variable_bytes: int | None = None,
    max_serialize_seconds: float | None = None,
    skipped: Mapping[str, str] | None = None,
    kernel: Mapping[str, Any] | None = None,
    status: str = "ok",
    extra: Mapping[str, Any] | None = None,
) -> str:
    """Record a commit and return its id.

    Args:
        message: the commit message.
        variables: name -> value to store (each in the safest format that holds it).
            Values that cannot be stored are skipped and named in the record.
        notebook: the notebook this commit belongs to (its history is kept apart).
        params: hyperparameters; merged over those given to :func:`log_params`.
        metrics: final metric values; merged over those given to :func:`log_metrics`.
        data: paths or globs of data files to hash into the record.
        repo: a path inside the project (the store is created if missing).
        branch: commit to this branch instead of the notebook's current one.
        author: ``"Name <email>"``; defaults to the environment / login name.
        notebook_content: the notebook as the user sees it (nbformat dict or JSON bytes);
            defaults to the saved file.
        sources: record the local source files imported (True), none (False) or these.
        allow_pickle: allow the cloudpickle fallback for objects no safe format holds.
        max_variable_bytes: skip variables bigger than this.
        max_serialize_seconds: skip (and name) a variable whose serialization takes
            longer than this; None: :data:`MAX_SERIALIZE_SECONDS` (or the
            :func:`commit_defaults` value); 0: no limit.
        skipped: variables the caller already skipped, name -> reason.
        kernel: facts about the kernel (name, language) to record.
        status: ``"ok"`` or ``"failed"`` (a failed run is still recorded).
        extra: more JSON-able fields for the record.

    Raises:
        RefConflictError: another process moved the branch during the commit (retry).
        MlvcError: bad arguments (notebook outside the project, bad names, missing data).
    """
    from . import capture

    defaults = _commit_defaults.get() or {}
    author = author or defaults.get("author")
    if max_variable_bytes is None:
        max_variable_bytes = defaults.get("max_variable_bytes")
    if max_serialize_seconds is None:
        max_serialize_seconds = defaults.get("max_serialize_seconds")
    if max_serialize_seconds is None:
        max_serialize_seconds = MAX_SERIALIZE_SECONDS
    timings: dict[str, float] = {}
    t_start = time.perf_counter()
    store = _store(repo, create=True)
    nb = _rel_notebook(store, notebook)
    branch = validate_name(branch) if branch else current_branch(store, nb)
    ref = branch_ref(nb, branch)
    expected = store.ref(ref)
    # a branch that does not exist yet starts from the notebook's HEAD, not from nothing
    parent = expected if expected is not None else head(store, nb)

    # variables
    var_tree: dict[str, Any] = {}
    var_parts: dict[str, list[str]] = {}
    var_index: dict[str, Any] = {}
    skipped_all: dict[str, str] = dict(skipped or {})
    written = 0
    with timed(timings, "variables"):
        for name, value in (variables or {}).items():
            _validate_var_name(name)
            try:
                payload = serialize_within(
                    value,
                    max_serialize_seconds,
                    allow_pickle=allow_pickle,
                    max_bytes=max_variable_bytes,
                )
                wp = payload_store.write_payload(store, payload)
            except SerializationError as e:
                skipped_all[name] = str(e)
                continue
            except OSError:
                raise  # a full disk is not the variable's fault: abort the commit
            except Exception as e:  # a serializer that raises skips the variable only
                skipped_all[name] = f"{type(e).__name__}: {e}"
                continue
            written += wp.bytes_written
            manifest_id = store.add_bytes(payload_store.manifest_bytes(wp.manifest))
            var_tree[name] = payload_store.tree_entries(manifest_id)
            var_parts[name] = wp.part_ids
            entry: dict[str, Any] = {"format": payload.format, "size": payload.size}
            for k, v in payload.meta.items():
                if len(json.dumps(v, default=repr)) <= _RECORD_META_LIMIT:
                    entry[k] = v
            var_index[name] = entry

    tree: dict[str, Any] = {}
    if var_tree:
        # the parts are kept by the payload index, not by the commit's tree (so that
        # retention can free them without rewriting history): register them before the
        # branch moves, so that no commit is ever visible without its parts kept
        vars_id = store.write_tree(var_tree)
        tree[VARS] = (0o040000, vars_id)
        keep.add(store, {vars_id: keep.write_payload_tree(store, var_parts)})

    # notebook
    saved_at = None
    with timed(timings, "notebook"):
        if nb is not None:
            nb_bytes = _notebook_bytes(store, nb, notebook_content)
            if notebook_content is None:
                saved_at = _iso((store.root / nb).stat().st_mtime)
            tree[Path(nb).name] = store.add_bytes(nb_bytes)

    # data files
    data_index: dict[str, Any] = {}
    with timed(timings, "data"):
        if data:
            hasher = _data_hasher(store)
            data_index = dict(hasher.hash_files(list(data), store.root))

    # local sources
    source_paths: list[str] = []
    with timed(timings, "sources"):
        if sources:
            if sources is True:
                found = capture.local_sources(store.root)
            else:
                found = {
                    Path(s).resolve().relative_to(store.root).as_posix(): Path(s).resolve()
                    for s in sources
                }
            src_tree: dict[str, Any] = {}
            for rel, abspath in sorted(found.items()):
                try:
                    blob = store.add_bytes(abspath.read_bytes())
                except OSError:
                    continue
                node = src_tree
                parts = rel.split("/")
                for d in parts[:-1]:
                    node = node.setdefault(d, {})
                node[parts[-1]] = blob
                source_paths.append(rel)
            if src_tree:
                tree[SOURCES] = src_tree

    # environment and hardware
    with timed(timings, "env"):
        tree[ENV] = store.add_bytes(_dumps(capture.environment()))
        tree[HARDWARE] = store.add_bytes(_dumps(capture.hardware()))

    all_params = {**_pending["params"], **{k: _json_value(v) for k, v in (params or {}).items()}}
    all_metrics = {
        **_pending["metrics"],
        **{k: _json_value(v) for k, v in (metrics or {}).items()},
    }
    series = {k: list(v) for k, v in _pending["series"].items() if len(v) > 1}
    name, email = _author(author)
    now = time.time()
    timings["total"] = time.perf_counter() - t_start
    record: dict[str, Any] = {
        "mlvc_record": RECORD_VERSION,
        "message": message,
        "author": name,
        "email": email,
        "time": _iso(now),
        "notebook": nb,
        "branch": branch,
        "status": status,
        "params": all_params,
        "metrics": all_metrics,
        "metric_series": series,
        "variables": var_index,
        "skipped": skipped_all,
        "data": data_index,
        "sources": source_paths,
        "timings": {k: round(v, 6) for k, v in timings.items()},
        "bytes_written": written,
    }
    if saved_at:
        record["notebook_saved_at"] = saved_at
    if kernel:
        record["kernel"] = dict(kernel)
    if extra:
        record.update({k: _json_value(v) for k, v in extra.items()})
    tree[RECORD] = store.add_bytes(_dumps(record))
    tree_id = store.write_tree(tree)
    reflog = f"mlvc commit: {message.splitlines()[0] if message else ''}"
    for attempt in range(_COMMIT_RETRIES):
        cid = store.write_commit(
            tree_id, [parent] if parent else [], message, f"{name} <{email}>", when=now, tz_offset=0
        )
        try:
            store.cas_ref(ref, expected, cid, message=reflog)
            break
        except RefConflictError:
            # another process committed to this branch meanwhile: put ours on top of it
            if attempt == _COMMIT_RETRIES - 1:
                raise
            parent = expected = store.ref(ref)
    store.set_head(ref)
    _cache_summary(store, _summary(cid, record, [parent] if parent else [], int(now)))
    for k in _pending:
        _pending[k] = {}
    return cid


def _notebook_bytes(store: Store, nb: str, content: Any) -> bytes:
    if content is None:
        path = store.root / nb
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise MlvcError(f"notebook {nb!r} does not exist (save it first)") from None
    if isinstance(content, bytes):
        return content
    if isinstance(content, str):
        return content.encode()
    import nbformat

    try:
        text: str = nbformat.writes(nbformat.from_dict(content))  # type: ignore[no-untyped-call]
    except Exception as e:  # nbformat raises whatever the bad structure makes it meet
        raise MlvcError(
            f"the notebook content is not an nbformat notebook ({type(e).__name__}: {e}); "
            "save the notebook and commit the file, or pass its JSON as bytes"
        ) from None
    return (text + "\n").encode()


# -- reading commits ---------------------------------------------------------------------
def _record(store: Store, cid: str) -> dict[str, Any]:
    c = store.commit_obj(cid)
    found = store.tree_lookup(c.tree.decode(), RECORD)
    if found is None:
        # a commit not made by mlvc (e.g. pushed by plain git): describe what we can
        return {
            "message": c.message.decode("utf-8", "replace"),
            "author": c.author.decode("utf-8", "replace").split(" <")[0],
            "time": _iso(c.commit_time),
            "params": {},
            "metrics": {},
            "variables": {},
        }
    rec: dict[str, Any] = store.read_json(found[1])
    return rec


def _summary(cid: str, rec: dict[str, Any], parents: list[str], ts: int) -> dict[str, Any]:
    return {
        "id": cid,
        "ts": ts,
        "short_id": cid[:8],
        "message": rec.get("message", ""),
        "author": rec.get("author", ""),
        "email": rec.get("email", ""),
        "time": rec.get("time", ""),
        "branch": rec.get("branch"),
        "notebook": rec.get("notebook"),
        "status": rec.get("status", "ok"),
        "params": rec.get("params", {}),
        "metrics": rec.get("metrics", {}),
        "variables": sorted(rec.get("variables", {})),
        "parents": parents,
    }


def _summary_cache_path(store: Store) -> Path:
    return store.state_dir / "summaries.jsonl"


def _cache_summary(store: Store, summary: dict[str, Any]) -> None:
    """Append a commit's summary to the log cache (derived from immutable commits, so an
    entry never goes stale; a torn line from a killed process is skipped on read)."""
    line = json.dumps(summary, separators=(",", ":")) + "\n"
    try:
        with open(_summary_cache_path(store), "a", encoding="utf-8") as f:
            f.write(line)
    except OSError:
        pass  # a cache (a full disk here must not fail a commit that is already made)


_summary_memo: dict[Path, tuple[int, dict[str, dict[str, Any]]]] = {}


def _load_summaries(store: Store) -> dict[str, dict[str, Any]]:
    path = _summary_cache_path(store)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return {}
    memo = _summary_memo.get(path)
    if memo and memo[0] == size:
        return memo[1]
    out: dict[str, dict[str, Any]] = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            try:
                s = json.loads(line)
                out[s["id"]] = s
            except (ValueError, KeyError):
                continue  # a torn line from a killed process
    _summary_memo[path] = (size, out)
    return out


def _walk_summaries(
    store: Store, heads: list[str], cache: dict[str, dict[str, Any]], limit: int | None
) -> Iterator[dict[str, Any]]:
    """Summaries of the commits reachable from ``heads``, newest first. Commits in the log
    cache cost a dict lookup; others are read once and added to the cache."""

    def get(cid: str) -> dict[str, Any]:
        s = cache.get(cid)
        if s is None or "ts" not in s:
            c = store.commit_obj(cid)
            parents = [p.decode() for p in c.parents]
            s = _summary(cid, _record(store, cid), parents, c.commit_time)
            cache[cid] = s
            _cache_summary(store, s)
        return s

    def generation(cid: str) -> int:
        # 1 + the longest path to a root: a child always outranks its parents, which
        # orders commits made within the same second (commit times are whole seconds).
        stack = [cid]
        while stack:
            s = get(stack[-1])
            if "gen" in s:
                stack.pop()
                continue
            todo = [p for p in s["parents"] if "gen" not in get(p)]
            if todo:
                stack.extend(todo)
                continue
            s["gen"] = 1 + max((get(p)["gen"] for p in s["parents"]), default=0)
            stack.pop()
        gen: int = get(cid)["gen"]
        return gen

    heap: list[tuple[int, int, str]] = []
    seen: set[str] = set()

    def push(cid: str) -> None:
        if cid not in seen:
            seen.add(cid)
            heapq.heappush(heap, (-get(cid)["ts"], -generation(cid), cid))

    for h in heads:
        push(h)
    n = 0
    while heap and (limit is None or n < limit):
        *_, cid = heapq.heappop(heap)
        s = get(cid)
        yield s
        n += 1
        for p in s["parents"]:
            push(p)


def _decorations(store: Store) -> dict[str, dict[str, list[str]]]:
    deco: dict[str, dict[str, list[str]]] = {}
    for name, sha in store.repo.refs.as_dict().items():
        for prefix, kind in ((HEADS, "branches"), (TAGS, "tags")):
            split = split_ref(name, prefix)
            if split:
                deco.setdefault(sha.decode(), {}).setdefault(kind, []).append(split[1])
    return deco


def _notebook_heads(store: Store, nb: str | None, all_notebooks: bool) -> list[str]:
    prefix = HEADS.encode() if all_notebooks else f"{HEADS}{notebook_key(nb)}/".encode()
    heads = []
    for name, sha in store.refs_under(prefix).items():
        split = split_ref(name, HEADS)
        if split is not None and (all_notebooks or split[0] == nb):
            heads.append(sha)
    return heads


def log(
    repo: str | os.PathLike[str] = ".",
    notebook: str | os.PathLike[str] | None = None,
    *,
    branch: str | None = None,
    rev: str | None = None,
    limit: int | None = None,
    skip: int = 0,
) -> list[dict[str, Any]]:
    """Commit summaries, newest first.

    Args:
        notebook: only this notebook's history (all branches); None: every notebook.
        branch: only commits reachable from this branch (of ``notebook``).
        rev: only commits reachable from this revision.
        limit, skip: pagination.

    Each summary has ``id``, ``short_id``, ``message``, ``author``, ``email``, ``time``,
    ``branch``, ``notebook``, ``status``, ``params``, ``metrics``, ``variables`` (names),
    ``parents``, ``branches`` and ``tags`` (the refs pointing at it).
    """
    store = _store(repo)
    nb = _rel_notebook(store, notebook)
    if rev:
        heads = [resolve(store, rev, nb)]
    elif branch:
        sha = store.ref(branch_ref(nb, branch))
        if sha is None:
            raise RevisionNotFoundError(f"no branch {branch!r} for {nb or 'this store'}")
        heads = [sha]
    else:
        heads = _notebook_heads(store, nb, notebook is None)
    cache = _load_summaries(store)
    deco = _decorations(store)
    out = []
    stop = None if limit is None else skip + limit
    for i, summ in enumerate(_walk_summaries(store, heads, cache, stop)):
        if i < skip:
            continue
        d = deco.get(summ["id"], {})
        entry = {k: v for k, v in summ.items() if k not in ("ts", "gen")}
        entry["branches"] = d.get("branches", [])
        entry["tags"] = d.get("tags", [])
        out.append(entry)
    return out


def show(
    rev: str = "HEAD",
    repo: str | os.PathLike[str] = ".",
    notebook: str | os.PathLike[str] | None = None,
) -> dict[str, Any]:
    """The full record of a commit: the record JSON plus ``id``, ``parents``, ``env``,
    ``hardware``, ``branches`` and ``tags``."""
    store = _store(repo)
    nb = _rel_notebook(store, notebook)
    cid = resolve(store, rev, nb)
    c = store.commit_obj(cid)
    rec = _record(store, cid)
    tree = c.tree.decode()
    for key, fname in (("env", ENV), ("hardware", HARDWARE)):
        found = store.tree_lookup(tree, fname)
        rec[key] = store.read_json(found[1]) if found else {}
    rec.setdefault("skipped", {})
    rec.setdefault("data", {})
    rec.setdefault("sources", [])
    rec["id"] = cid
    rec["parents"] = [p.decode() for p in c.parents]
    d = _decorations(store).get(cid, {})
    rec["branches"] = d.get("branches", [])
    rec["tags"] = d.get("tags", [])
    return rec


def notebook_at(
    rev: str = "HEAD",
    repo: str | os.PathLike[str] = ".",
    notebook: str | os.PathLike[str] | None = None,
) -> bytes | None:
    """The notebook (JSON bytes) stored in a commit, or None if it holds none."""
    store = _store(repo)
    nb = _rel_notebook(store, notebook)
    cid = resolve(store, rev, nb)
    return _notebook_blob(store, cid)


def _notebook_blob(store: Store, cid: str) -> bytes | None:
    rec = _record(store, cid)
    path = rec.get("notebook")
    if not path:
        return None
    found = store.tree_lookup(store.commit_obj(cid).tree.decode(), Path(path).name)
    return store.read_blob(found[1]) if found else None


# -- variables -------------------------------------------------------------------------
def _manifest(store: Store, cid: str, name: str) -> dict[str, Any]:
    tree = store.commit_obj(cid).tree.decode()
    found = store.tree_lookup(tree, f"{VARS}/{name}/{payload_store.MANIFEST}")
    if found is None:
        rec = _record(store, cid)
        why = rec.get("skipped", {}).get(name)
        if why:
            raise VariableNotFoundError(f"variable {name!r} was skipped in {cid[:8]}: {why}")
        raise VariableNotFoundError(f"commit {cid[:8]} holds no variable {name!r}")
    manifest: dict[str, Any] = store.read_json(found[1])
    return manifest


def _load_var(store: Store, cid: str, name: str, trusted: bool) -> Any:
    manifest = _manifest(store, cid, name)
    reader = payload_store.StoredPayload(store, manifest, name, cid)
    try:
        return _deserialize(store, cid, name, manifest, reader, trusted)
    finally:
        if reader.fetched:
            _keep_fetched(store, cid, name, manifest)


def _keep_fetched(store: Store, cid: str, name: str, manifest: dict[str, Any]) -> None:
    """Register a variable fetched from a payload remote in the payload index, so that
    gc keeps it unless the retention policy drops its commit."""
    parts = [p for seg in manifest["segments"] for p in seg["parts"]]
    found = store.tree_lookup(store.commit_obj(cid).tree.decode(), VARS)
    if found and all(store.has_object(p) for p in parts):
        keep.add(store, {found[1]: keep.write_payload_tree(store, {name: parts})})


def _deserialize(
    store: Store,
    cid: str,
    name: str,
    manifest: dict[str, Any],
    reader: payload_store.StoredPayload,
    trusted: bool,
) -> Any:
    fmt = manifest["format"]
    if payload_store.needs_trust(fmt, manifest["meta"]) and not trusted:
        part_ids = [p for seg in manifest["segments"] for p in seg["parts"]]
        if not trust.verify(manifest.get("signature"), fmt, manifest["meta"], part_ids):
            raise TrustError(
                f"variable {name!r} in {cid[:8]} is a pickle ({fmt}) that you did not write: "
                "loading it runs code from whoever wrote it. Pass trust=True (--trust) if "
                "you trust its author."
            )
        trusted = True
    return serializers.deserialize(fmt, manifest["meta"], reader, trusted=trusted)


def load(
    rev: str,
    name: str,
    repo: str | os.PathLike[str] = ".",
    notebook: str | os.PathLike[str] | None = None,
    *,
    trust: bool = False,
) -> Any:
    """One variable of a commit.

    Raises:
        VariableNotFoundError: the commit holds no such variable (or it was skipped).
        TrustError: it is a pickle this user did not write, and ``trust`` is False.
        CorruptObjectError: its bytes are damaged or missing.
    """
    store = _store(repo)
    cid = resolve(store, rev, _rel_notebook(store, notebook))
    return _load_var(store, cid, name, trust)


def restore(
    rev: str,
    names: Iterable[str] | None = None,
    repo: str | os.PathLike[str] = ".",
    notebook: str | os.PathLike[str] | None = None,
    *,
    trust: bool = False,
) -> dict[str, Any]:
    """The variables of a commit (all, or ``names``) as a dict name -> value."""
    store = _store(repo)
    cid = resolve(store, rev, _rel_notebook(store, notebook))
    if names is None:
        found = store.tree_lookup(store.commit_obj(cid).tree.decode(), VARS)
        names = [n.decode() for n in store.tree(found[1])] if found else []
    return {n: _load_var(store, cid, n, trust) for n in names}


# -- diff ------------------------------------------------------------------------------
def diff(
    a: str | None = None,
    b: str | None = None,
    repo: str | os.PathLike[str] = ".",
    notebook: str | os.PathLike[str] | None = None,
    *,
    cells: bool = True,
    values: bool = True,
) -> dict[str, Any]:
    """Differences between commits ``a`` and ``b`` (default: HEAD~1 and HEAD).

    Sections: ``params``, ``metrics``, ``variables``, ``data``, ``env``, ``hardware``,
    ``notebook``. ``cells=False`` skips the notebook cell diff; ``values=False`` skips
    element-wise comparison of arrays.
    """
    from .diffs import diff_commits

    store = _store(repo)
    nb = _rel_notebook(store, notebook)
    if a is None and b is None:
        b_id = resolve(store, "HEAD", nb)
        a_id = resolve(store, "HEAD~1", nb)
    elif b is None:
        a_id, b_id = resolve(store, a, nb), resolve(store, "HEAD", nb)
    else:
        a_id, b_id = resolve(store, a, nb), resolve(store, b, nb)
    return diff_commits(store, a_id, b_id, cells=cells, values=values)


# -- status ----------------------------------------------------------------------------
def status(
    repo: str | os.PathLike[str] = ".",
    notebook: str | os.PathLike[str] | None = None,
    variables: Mapping[str, Any] | None = None,
    data: Iterable[str] | None = None,
) -> dict[str, Any]:
    """What a commit would record now, compared with HEAD of the notebook's branch.

    Returns ``branch``, ``head`` (id or None), ``notebook`` (``path``, ``changed``),
    ``variables`` (name -> added/changed/unchanged/removed, for the ``variables`` given),
    ``data`` (path -> added/changed/unchanged/missing, for the files HEAD recorded plus
    ``data``) and ``skipped`` (the variables HEAD could not store, name -> reason).
    """

    store = _store(repo)
    nb = _rel_notebook(store, notebook)
    br = current_branch(store, nb)
    cid = head(store, nb)
    rec = _record(store, cid) if cid else {}
    out: dict[str, Any] = {
        "branch": br,
        "head": cid,
        "notebook": None,
        "skipped": dict(rec.get("skipped", {})),
    }
    if nb is not None:
        path = store.root / nb
        committed = _notebook_blob(store, cid) if cid else None
        current = path.read_bytes() if path.exists() else None
        out["notebook"] = {
            "path": nb,
            "exists": current is not None,
            "changed": current is not None and current != committed,
        }
    var_status: dict[str, str] = {}
    if variables is not None:
        old = rec.get("variables", {})
        old_parts = _part_ids_by_name(store, cid) if cid and old else {}
        for name, value in variables.items():
            if name not in old:
                var_status[name] = "added"
                continue
            try:
                payload = serialize_within(value, MAX_SERIALIZE_SECONDS)
                ids = _payload_ids(store, payload)
                var_status[name] = "unchanged" if ids == old_parts.get(name) else "changed"
            except MlvcError:
                var_status[name] = "changed"
        for name in old:
            if name not in variables:
                var_status[name] = "removed"
    out["variables"] = var_status
    data_status: dict[str, str] = {}
    old_data: dict[str, Any] = rec.get("data", {})
    patterns = list(old_data) + list(data or [])
    if patterns:
        hasher = _data_hasher(store)
        for p in patterns:
            try:
                now = hasher.hash_files([p], store.root)
            except MlvcError:
                if p in old_data:
                    data_status[p] = "missing"
                continue
            for rel, fr in now.items():
                prev = old_data.get(rel)
                data_status[rel] = (
                    "added"
                    if prev is None
                    else "unchanged"
                    if prev["hash"] == fr["hash"]
                    else "changed"
                )
    out["data"] = data_status
    return out


#: Part ids of a stored variable by the id of its tree (immutable, so never stale): a
#: repeated ``status`` (autocommit runs one per cell) reads each manifest once.
_parts_memo: dict[str, list[str]] = {}


def _part_ids_by_name(store: Store, cid: str) -> dict[str, list[str]]:
    """Variable name -> the part ids of its payload in commit ``cid``."""
    found = store.tree_lookup(store.commit_obj(cid).tree.decode(), VARS)
    if found is None:
        return {}
    out: dict[str, list[str]] = {}
    for name, _mode, sha in store.tree(found[1]).iteritems():
        tree_id = sha.decode()
        parts = _parts_memo.get(tree_id)
        if parts is None:
            entry = store.tree_lookup(tree_id, payload_store.MANIFEST)
            if entry is None:
                continue
            manifest = store.read_json(entry[1])
            parts = [p for seg in manifest["segments"] for p in seg["parts"]]
            if len(_parts_memo) >= 100_000:
                _parts_memo.clear()
            _parts_memo[tree_id] = parts
        out[name.decode()] = parts
    return out


def _payload_ids(store: Store, payload: serializers.Payload) -> list[str]:
    """The part ids a payload would get, without writing (the fast-hash cache first)."""
    return payload_store.predict_part_ids(store, payload)


# -- branches and tags ---------------------------------------------------------------------
def branches(
    repo: str | os.PathLike[str] = ".", notebook: str | os.PathLike[str] | None = None
) -> list[dict[str, Any]]:
    """The notebook's branches: ``name``, ``head`` (commit id), ``current`` (bool)."""
    store = _store(repo)
    nb = _rel_notebook(store, notebook)
    cur = current_branch(store, nb)
    out = []
    for name, sha in sorted(store.refs_under(f"{HEADS}{notebook_key(nb)}/".encode()).items()):
        split = split_ref(name, HEADS)
        if split is None or split[0] != nb:
            continue
        out.append({"name": split[1], "head": sha, "current": split[1] == cur})
    if not any(b["current"] for b in out):
        out.append({"name": cur, "head": None, "current": True})
    return out


@reports_full_disk
def branch(
    name: str,
    rev: str | None = None,
    repo: str | os.PathLike[str] = ".",
    notebook: str | os.PathLike[str] | None = None,
    *,
    switch: bool = True,
) -> dict[str, Any]:
    """Create branch ``name`` at ``rev`` (default HEAD) and (by default) switch to it.

    Before the first commit, this just names the branch the first commit will go to.

    Raises:
        InvalidNameError: a bad name. RefConflictError: the branch exists.
    """
    validate_name(name)
    store = _store(repo, create=True)
    nb = _rel_notebook(store, notebook)
    ref = branch_ref(nb, name)
    if store.ref(ref) is not None:
        raise RefConflictError(f"branch {name!r} already exists")
    start = resolve(store, rev, nb) if rev or head(store, nb) else None
    if start:
        store.cas_ref(ref, None, start, message=f"mlvc branch: from {start[:8]}")
    if switch:
        set_current_branch(store, nb, name)
    return {"name": name, "head": start, "current": switch}


@reports_full_disk
def switch_branch(
    name: str,
    repo: str | os.PathLike[str] = ".",
    notebook: str | os.PathLike[str] | None = None,
) -> None:
    """Make ``name`` (an existing branch) the one new commits go to."""
    store = _store(repo)
    nb = _rel_notebook(store, notebook)
    if store.ref(branch_ref(nb, validate_name(name))) is None:
        raise RevisionNotFoundError(f"no branch {name!r}")
    set_current_branch(store, nb, name)


@reports_full_disk
def delete_branch(
    name: str, repo: str | os.PathLike[str] = ".", notebook: str | os.PathLike[str] | None = None
) -> None:
    store = _store(repo)
    nb = _rel_notebook(store, notebook)
    if current_branch(store, nb) == name:
        raise RefConflictError(f"cannot delete {name!r}: it is the current branch")
    ref = branch_ref(nb, validate_name(name))
    sha = store.ref(ref)
    if sha is None:
        raise RevisionNotFoundError(f"no branch {name!r}")
    store.cas_ref(ref, sha, None, message="mlvc branch delete")


def tags(
    repo: str | os.PathLike[str] = ".", notebook: str | os.PathLike[str] | None = None
) -> list[dict[str, Any]]:
    store = _store(repo)
    nb = _rel_notebook(store, notebook)
    out = []
    for name, sha in sorted(store.refs_under(f"{TAGS}{notebook_key(nb)}/".encode()).items()):
        split = split_ref(name, TAGS)
        if split is not None and split[0] == nb:
            out.append({"name": split[1], "commit": sha})
    return out


@reports_full_disk
def tag(
    name: str,
    rev: str | None = None,
    repo: str | os.PathLike[str] = ".",
    notebook: str | os.PathLike[str] | None = None,
    *,
    force: bool = False,
    delete: bool = False,
) -> dict[str, Any]:
    """Tag ``rev`` (default HEAD) as ``name``; ``force`` moves an existing tag (an alias
    like ``champion``); ``delete`` removes it."""
    validate_name(name, "tag")
    store = _store(repo)
    nb = _rel_notebook(store, notebook)
    ref = tag_ref(nb, name)
    old = store.ref(ref)
    if delete:
        if old is None:
            raise RevisionNotFoundError(f"no tag {name!r}")
        store.cas_ref(ref, old, None, message="mlvc tag delete")
        return {"name": name, "commit": None}
    cid = resolve(store, rev, nb)
    if old is not None and not force and old != cid:
        raise RefConflictError(f"tag {name!r} already exists (use force to move it)")
    if old != cid:
        store.cas_ref(ref, old, cid, message=f"mlvc tag {name}")
    return {"name": name, "commit": cid}


@reports_full_disk
def rename_branch(
    old: str,
    new: str,
    repo: str | os.PathLike[str] = ".",
    notebook: str | os.PathLike[str] | None = None,
) -> dict[str, Any]:
    """Rename the notebook's branch ``old`` to ``new``, keeping its commits.

    The new ref is created at the same commit before the old one is deleted (a crash in
    between leaves both, never neither); if ``old`` was the current branch, ``new`` is.
    Before the first commit, renaming the current branch renames what it will be called.

    Returns:
        ``name``, ``head`` (commit id or None) and ``current`` (bool).

    Raises:
        InvalidNameError: a bad name. RefConflictError: ``new`` exists.
        RevisionNotFoundError: there is no branch ``old``.
    """
    validate_name(old)
    validate_name(new)
    store = _store(repo)
    nb = _rel_notebook(store, notebook)
    old_ref, new_ref = branch_ref(nb, old), branch_ref(nb, new)
    if store.ref(new_ref) is not None:
        raise RefConflictError(f"branch {new!r} already exists")
    sha = store.ref(old_ref)
    current = current_branch(store, nb) == old
    if sha is None and not current:
        raise RevisionNotFoundError(f"no branch {old!r}")
    if sha is not None:
        store.cas_ref(new_ref, None, sha, message=f"mlvc branch: renamed from {old}")
    if current:
        set_current_branch(store, nb, new)
    if sha is not None:
        store.cas_ref(old_ref, sha, None, message=f"mlvc branch: renamed to {new}")
    return {"name": new, "head": sha, "current": current}


@reports_full_disk
def rename_tag(
    old: str,
    new: str,
    repo: str | os.PathLike[str] = ".",
    notebook: str | os.PathLike[str] | None = None,
) -> dict[str, Any]:
    """Rename the notebook's tag ``old`` to ``new`` (same commit).

    Returns:
        ``name`` and ``commit``.

    Raises:
        InvalidNameError: a bad name. RefConflictError: ``new`` exists.
        RevisionNotFoundError: there is no tag ``old``.
    """
    validate_name(old, "tag")
    validate_name(new, "tag")
    store = _store(repo)
    nb = _rel_notebook(store, notebook)
    old_ref, new_ref = tag_ref(nb, old), tag_ref(nb, new)
    if store.ref(new_ref) is not None:
        raise RefConflictError(f"tag {new!r} already exists")
    sha = store.ref(old_ref)
    if sha is None:
        raise RevisionNotFoundError(f"no tag {old!r}")
    store.cas_ref(new_ref, None, sha, message=f"mlvc tag: renamed from {old}")
    store.cas_ref(old_ref, sha, None, message=f"mlvc tag: renamed to {new}")
    return {"name": new, "commit": sha}


# -- checkout --------------------------------------------------------------------------
@reports_full_disk
def checkout(
    rev: str,
    repo: str | os.PathLike[str] = ".",
    notebook: str | os.PathLike[str] | None = None,
    *,
    write_notebook: bool = True,
    safety_commit: bool = True,
) -> dict[str, Any]:
    """Put the notebook of ``rev`` back in place (the kernel side restores variables).

    If ``rev`` is a branch of the notebook, it becomes the current branch. Otherwise the
    current branch stays and the next commit lands on top of it: rolling back never
    loses history. When the notebook file differs from what HEAD recorded, it is
    committed first as a safety commit, so nothing is lost.

    Returns ``commit`` (id), ``branch``, ``safety_commit`` (id or None),
    ``notebook_written`` (bool) and ``variables`` (the names the commit holds).
    """
    store = _store(repo)
    nb = _rel_notebook(store, notebook)
    cid = resolve(store, rev, nb)
    safety = None
    if write_notebook and nb is not None and safety_commit:
        st = status(repo, nb)
        if st["notebook"] and st["notebook"]["changed"]:
            safety = commit(
                f"mlvc: safety commit before checkout of {rev}",
                notebook=store.root / nb,
                repo=repo,
                sources=False,
            )
    written = False
    if write_notebook and nb is not None:
        content = _notebook_blob(store, cid)
        if content is not None:
            path = store.root / nb
            tmp = path.with_name(f".{path.name}.mlvc-tmp")
            tmp.write_bytes(content)
            os.replace(tmp, path)
            written = True
    br = None
    if nb is not None or store.ref(branch_ref(nb, rev)) is not None:
        try:
            if store.ref(branch_ref(nb, validate_name(rev))) is not None:
                set_current_branch(store, nb, rev)
                br = rev
        except InvalidNameError:
            pass
    return {
        "commit": cid,
        "branch": br or current_branch(store, nb),
        "safety_commit": safety,
        "notebook_written": written,
        "variables": sorted(_record(store, cid).get("variables", {})),
    }


# -- compare and series ----------------------------------------------------------------
#: Metric names made of (or ending in) these words are better when lower; the others
#: when higher. See :func:`metric_goal`.
LOWER_IS_BETTER = frozenset(
    {
        "loss",
        "error",
        "err",
        "mse",
        "rmse",
        "mae",
        "mape",
        "smape",
        "nll",
        "perplexity",
        "ppl",
        "wer",
        "cer",
        "fpr",
        "fnr",
        "latency",
        "duration",
        "time",
        "seconds",
    }
)


def metric_goal(name: str) -> str:
    """Whether a metric is better when higher (``"max"``) or lower (``"min"``).

    The name is split into words at every character that is not a letter or digit
    (``val_loss`` -> ``val``, ``loss``); it is ``"min"`` when one of the words is in
    :data:`LOWER_IS_BETTER` or the name ends in ``loss`` or ``error`` (``valloss``),
    else ``"max"`` (accuracy, F1, AUC, R2, BLEU...).

    Args:
        name: the metric's name.
    """
    low = name.lower()
    words = {w for w in re.split(r"[^a-z0-9]+", low) if w}
    if words & LOWER_IS_BETTER or low.endswith(("loss", "error")):
        return "min"
    return "max"


def _number(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, int | float):
        return None
    f = float(v)
    return f if math.isfinite(f) else None


def compare(
    repo: str | os.PathLike[str] = ".",
    notebook: str | os.PathLike[str] | None = None,
    *,
    revs: Iterable[str] | None = None,
    branch: str | None = None,
    limit: int | None = None,
) -> dict[str, Any]:
    """A table of params and metrics over commits, with the best value of each metric.

    Args:
        notebook: the notebook whose history is compared.
        revs: these revisions, in this order (duplicates once); None: the history.
        branch: with ``revs`` None, only commits reachable from this branch.
        limit: with ``revs`` None, the newest this many commits.

    Returns:
        ``rows`` (one per commit: ``id``, ``short_id``, ``message``, ``author``, ``time``,
        ``branch``, ``status``, ``branches``, ``tags``, ``params``, ``metrics``),
        ``columns`` (``params`` and ``metrics``: the sorted union of names) and ``best``
        (metric -> ``goal``, ``value`` and ``ids``, the commits that reach it; numeric
        values only, goal by :func:`metric_goal`).
    """
    if revs is not None:
        store = _store(repo)
        nb = _rel_notebook(store, notebook)
        ids = list(dict.fromkeys(resolve(store, r, nb) for r in revs))
        commits = [log(repo, notebook, rev=cid, limit=1)[0] for cid in ids]
    else:
        commits = log(repo, notebook, branch=branch, limit=limit)
    keys = ("id", "short_id", "message", "author", "time", "branch", "status")
    rows = [
        {
            **{k: c.get(k) for k in keys},
            "branches": c.get("branches", []),
            "tags": c.get("tags", []),
            "params": c.get("params", {}),
            "metrics": c.get("metrics", {}),
        }
        for c in commits
    ]
    params = sorted({k for r in rows for k in r["params"]})
    metrics = sorted({k for r in rows for k in r["metrics"]})
    best: dict[str, Any] = {}
    for m in metrics:
        goal = metric_goal(m)
        values = [(v, r["id"]) for r in rows if (v := _number(r["metrics"].get(m))) is not None]
        if not values:
            continue
        top = (min if goal == "min" else max)(v for v, _ in values)
        best[m] = {"goal": goal, "value": top, "ids": [cid for v, cid in values if v == top]}
    return {"rows": rows, "columns": {"params": params, "metrics": metrics}, "best": best}


def series(
    repo: str | os.PathLike[str] = ".",
    notebook: str | os.PathLike[str] | None = None,
    *,
    metric: str | None = None,
    branch: str | None = None,
    limit: int | None = None,
) -> dict[str, Any]:
    """Metric values for charts: across commits, and step by step within each commit.

    Args:
        notebook: the notebook whose history is read.
        metric: only this metric; None: every metric.
        branch: only commits reachable from this branch.
        limit: the newest this many commits.

    Returns:
        ``series``: metric -> ``goal``, ``points`` (oldest commit first: ``id``,
        ``short_id``, ``time``, ``branch``, ``value``) and ``steps`` (per commit that
        logged a series with ``log_metrics(step=...)``: ``id``, ``short_id`` and
        ``steps``, a list of ``[step, value]``). Only numeric values are included.
    """
    commits = log(repo, notebook, branch=branch, limit=limit)
    commits.reverse()
    store = _store(repo)
    out: dict[str, dict[str, Any]] = {}

    def entry(name: str) -> dict[str, Any]:
        e = out.get(name)
        if e is None:
            e = out[name] = {"goal": metric_goal(name), "points": [], "steps": []}
        return e

    for c in commits:
        head_fields = {"id": c["id"], "short_id": c["short_id"]}
        for name, value in c.get("metrics", {}).items():
            v = _number(value)
            if v is not None and (metric is None or name == metric):
                entry(name)["points"].append(
                    {**head_fields, "time": c["time"], "branch": c["branch"], "value": v}
                )
        rec_series = _record(store, c["id"]).get("metric_series") or {}
        for name, steps in rec_series.items():
            if metric is not None and name != metric:
                continue
            pts = [
                [s, v]
                for s, v in ((p[0], _number(p[1])) for p in steps if len(p) == 2)
                if v is not None and _number(s) is not None
            ]
            if pts:
                entry(name)["steps"].append({**head_fields, "steps": pts})
    return {"series": out}


# -- maintenance -------------------------------------------------------------------------
def fsck(repo: str | os.PathLike[str] = ".") -> dict[str, Any]:
    """Verify every object reachable from every ref, payload bytes included."""
    from .store.fsck import fsck as run

    return run(_store(repo))


def du(repo: str | os.PathLike[str] = ".", *, commits: bool = False) -> dict[str, Any]:
    """Bytes on disk, and payload bytes per branch (and per commit with ``commits``):
    all, unique to it, shared with others, and still in this store (see
    :func:`mlvc_server.store.gc.du`)."""
    from .store.gc import du as run

    return run(_store(repo), commits=commits)


def gc(
    repo: str | os.PathLike[str] = ".",
    *,
    keep_last: int | None = None,
    keep_tagged: bool = False,
    keep_newer_than: str | float | None = None,
    dry_run: bool = False,
    grace: str | float | None = None,
    progress: Any = None,
) -> dict[str, Any]:
    """Apply a retention policy and delete what nothing reachable needs.

    With no ``keep_*`` rule, every commit reachable from a branch or tag keeps its
    payloads and gc only removes unreachable objects and stale temporary files. With
    rules, the payload bytes of commits no rule keeps are freed; history, records,
    notebooks and small variables stay (see :mod:`mlvc_server.store.gc`).

    Args:
        repo: A path inside the project.
        keep_last: Keep the payloads of the newest N commits of each branch.
        keep_tagged: Keep the payloads of tagged (aliased) commits.
        keep_newer_than: Keep those of commits younger than this (``30d``, ``12h``,
            or seconds).
        dry_run: Only report what would be freed.
        grace: Never delete unreachable objects younger than this (default 1 hour;
            ``now`` for none, e.g. when no other process uses the store).
        progress: Called with ``{"phase": ...}`` dicts.
    """
    from .store import gc as store_gc

    def seconds(v: str | float | None) -> float | None:
        return store_gc.parse_duration(v) if isinstance(v, str) else v

    if keep_last is not None and keep_last < 1:
        raise MlvcError("keep_last must be at least 1")
    policy = store_gc.Policy(
        keep_last=keep_last, keep_tagged=keep_tagged, keep_newer_than=seconds(keep_newer_than)
    )
    g = seconds(grace)
    return store_gc.gc(
        _store(repo),
        policy,
        dry_run=dry_run,
        grace=store_gc.DEFAULT_GRACE if g is None else g,
        progress=progress,
    )


# -- remotes ---------------------------------------------------------------------------------
def remotes(repo: str | os.PathLike[str] = ".") -> list[dict[str, Any]]:
    """The configured remotes: ``name``, ``url``, ``payloads`` (fsspec URL or None),
    ``payload_options`` (option names only)."""
    from .store import remotes as rm

    return [r.as_json() for r in rm.list_remotes(_store(repo))]


def remote_add(
    name: str,
    url: str,
    repo: str | os.PathLike[str] = ".",
    *,
    payloads: str | None = None,
    payload_options: Mapping[str, Any] | None = None,
    replace: bool = False,
) -> dict[str, Any]:
    """Configure a git remote, optionally with a payload remote (an fsspec URL where
    payload parts are uploaded on push and fetched lazily on restore)."""
    from .store import remotes as rm

    r = rm.add_remote(
        _store(repo, create=True),
        name,
        url,
        payloads=payloads,
        payload_options=dict(payload_options or {}),
        replace=replace,
    )
    return r.as_json()


def remote_remove(name: str, repo: str | os.PathLike[str] = ".") -> None:
    """Forget a remote and its remote-tracking refs."""
    from .store import remotes as rm

    rm.remove_remote(_store(repo), name)


def push(
    remote: str | None = None,
    branches: Iterable[str] | None = None,
    repo: str | os.PathLike[str] = ".",
    *,
    force: bool = False,
    progress: Any = None,
) -> dict[str, Any]:
    """Push branches and tags (all, or ``branches``) to a remote (default ``origin``),
    payload parts to its payload remote; see :func:`mlvc_server.store.sync.push`."""
    from .store import sync

    return sync.push(_store(repo), remote, branches, force=force, progress=progress)


def pull(
    remote: str | None = None, repo: str | os.PathLike[str] = ".", *, progress: Any = None
) -> dict[str, Any]:
    """Fetch a remote's history and fast-forward local branches; diverged ones are
    reported and kept; see :func:`mlvc_server.store.sync.pull`."""
    from .store import sync

    return sync.pull(_store(repo), remote, progress=progress)


def clone(
    url: str,
    directory: str | os.PathLike[str] | None = None,
    *,
    name: str = "origin",
    payloads: str | None = None,
    payload_options: Mapping[str, Any] | None = None,
    progress: Any = None,
) -> dict[str, Any]:
    """A new project folder (default: named after the URL) holding the remote's
    history; payloads come through git, or lazily from the payload remote."""
    from .store import sync

    if directory is None:
        base = url.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]
        directory = base[:-4] if base.endswith(".git") else base or "mlvc-clone"
    return sync.clone(
        url,
        directory,
        name=name,
        payloads=payloads,
        payload_options=dict(payload_options or {}),
        progress=progress,
    )


__all__ = [
    "branch",
    "branches",
    "checkout",
    "clone",
    "commit",
    "commit_defaults",
    "compare",
    "delete_branch",
    "diff",
    "du",
    "fsck",
    "gc",
    "init",
    "load",
    "log",
    "log_metrics",
    "log_params",
    "metric_goal",
    "notebook_at",
    "pull",
    "push",
    "remote_add",
    "remote_remove",
    "remotes",
    "rename_branch",
    "rename_tag",
    "restore",
    "series",
    "show",
    "status",
    "switch_branch",
    "tag",
    "tags",
]
