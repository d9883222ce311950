"""Commit: the one operation that writes a commit, whatever front end asks for it.

The kernel (magics, widgets, the server's requests, ``mlvc run``) captures the state
and calls :func:`commit`; the CLI and the server without a kernel call it with the
notebook alone. Everything a commit needs is checked before anything is written
(notebook readable, names valid), then objects are written first and the branch ref
moves last, with compare-and-swap: a crash leaves the repository as it was.
"""

from __future__ import annotations

import getpass
import json
import os
import socket
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from ..capture import secrets
from ..capture.timings import timed
from ..errors import MlvcError, RefConflictError, SerializationError
from ..serializers.deadline import DEFAULT_SECONDS, serialize_within
from ..store import Store, fingerprints, keep, producers
from ..store import payloads as payload_store
from ..store.refs import branch_ref, validate_name
from ..store.revisions import current_branch, detached, head, set_current_branch
from ..store.space import reports_full_disk
from .compat import legacy_positional
from .data import capture_content
from .format import (
    DATA,
    ENV,
    HARDWARE,
    RECORD,
    RECORD_META_LIMIT,
    RECORD_VERSION,
    SOURCES,
    VARS,
    Record,
    dumps,
    iso,
    json_value,
    make_summary,
    validate_var_name,
)
from .history import cache_summary
from .workspace import Workspace, rel_notebook, workspace

#: The default limit on serializing one variable, in seconds (see :func:`commit`).
MAX_SERIALIZE_SECONDS = DEFAULT_SECONDS
#: How often a commit is re-parented onto a branch that another process moved meanwhile.
COMMIT_RETRIES = 20

#: Defaults for :func:`commit`'s ``author`` and size limits (see :func:`commit_defaults`).
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


@reports_full_disk
def init(path: str | os.PathLike[str] = ".") -> Store:
    """Create the ``.mlvc/`` store in ``path`` (idempotent) and return it."""
    return workspace().init(path)


def log_params(**params: Any) -> None:
    """Attach hyperparameters to the next commit made in this process."""
    workspace().pending["params"].update({k: json_value(v) for k, v in params.items()})


def log_metrics(step: int | None = None, **metrics: Any) -> None:
    """Attach metrics to the next commit; with ``step``, also append to each metric's series."""
    pending = workspace().pending
    for k, v in metrics.items():
        value = json_value(v)
        pending["metrics"][k] = value
        series = pending["series"].setdefault(k, [])
        series.append([step if step is not None else len(series), value])


def author_identity(author: str | None) -> tuple[str, str]:
    """``(name, email)`` from ``"Name <email>"``, a name, or the environment/login."""
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


@legacy_positional("notebook", "params", "metrics", "data", "repo")
@reports_full_disk
def commit(
    message: str,
    variables: Mapping[str, Any] | None = None,
    *,
    repo: str | os.PathLike[str] = ".",
    notebook: str | os.PathLike[str] | None = None,
    params: Mapping[str, Any] | None = None,
    metrics: Mapping[str, Any] | None = None,
    data: Iterable[str] | None = None,
    outputs: Iterable[str] | None = None,
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
    kind: str | None = None,
    allow_secrets: bool = False,
    extra: Mapping[str, Any] | None = None,
) -> str:
    """Record a commit and return its id.

    Args:
        message: the commit message.
        variables: name -> value to store (each in the safest format that holds it).
            Values that cannot be stored are skipped and named in the record.
        repo: a path inside the project (the store is created if missing).
        notebook: the notebook this commit belongs to (its history is kept apart).
        params: hyperparameters; merged over those given to :func:`log_params`.
        metrics: final metric values; merged over those given to :func:`log_metrics`.
        data: paths or globs of data files to hash into the record.
        outputs: paths or globs of the files this run wrote, hashed into the record's
            ``outputs`` the same way, so that lineage can link a commit that read one
            of them back to this one (the kernel passes the files written since its
            last commit).
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
        kind: what kind of commit this is when it is not a user's (``"safety"``: made
            to protect unsaved state before a checkout); recorded and listed in logs.
        allow_secrets: store what looks like a secret (a variable named like
            ``password``, a token in a value, a source file or a notebook output) with
            readable previews; by default those previews are hidden and the commit
            record lists every likely secret under ``secrets`` (see docs/security.md).
        extra: more JSON-able fields for the record.

    Raises:
        RefConflictError: another process moved the branch during the commit (retry).
        MlvcError: bad arguments (notebook outside the project or missing, bad names,
            missing data); nothing was written.
    """
    from .. import capture

    ws = workspace()
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
    store = ws.store(repo, create=True)
    nb = rel_notebook(store, notebook)
    if not branch and (at := detached(store, nb)) is not None:
        branch = _branch_from(store, nb, at)
    branch = validate_name(branch) if branch else current_branch(store, nb)
    ref = branch_ref(nb, branch)
    expected = store.ref(ref)
    # a branch that does not exist yet starts from the notebook's HEAD, not from nothing
    parent = expected if expected is not None else head(store, nb)

    # check everything before writing anything
    for name in variables or {}:
        validate_var_name(name)
    nb_bytes: bytes | None = None
    saved_at = None
    with timed(timings, "notebook"):
        if nb is not None:
            nb_bytes = notebook_bytes(store, nb, notebook_content)
            if notebook_content is None:
                saved_at = iso((store.root / nb).stat().st_mtime)

    # variables
    var_tree: dict[str, Any] = {}
    var_parts: dict[str, list[str]] = {}
    var_index: dict[str, Any] = {}
    skipped_all: dict[str, str] = dict(skipped or {})
    written = 0
    # why each variable likely holds a secret (None: it does not): recorded under
    # ``secrets`` whether or not the variable is stored, and its preview hidden
    secret_reasons = {n: secrets.value_reason(n, v) for n, v in (variables or {}).items()}
    with timed(timings, "variables"):
        for name, value in (variables or {}).items():
            try:
                sv = fingerprints.write_value(
                    store,
                    value,
                    lambda value=value: serialize_within(  # type: ignore[misc]
                        value,
                        max_serialize_seconds,
                        allow_pickle=allow_pickle,
                        max_bytes=max_variable_bytes,
                    ),
                    allow_pickle=allow_pickle,
                    max_bytes=max_variable_bytes,
                )
            except SerializationError as e:
                skipped_all[name] = str(e)
                continue
            except OSError:
                raise  # a full disk is not the variable's fault: abort the commit
            except Exception as e:  # a serializer that raises skips the variable only
                skipped_all[name] = f"{type(e).__name__}: {e}"
                continue
            written += sv.bytes_written
            var_tree[name] = payload_store.tree_entries(sv.manifest_id)
            var_parts[name] = sv.part_ids
            entry = _record_entry(ws, sv)
            if not allow_secrets and secret_reasons[name]:
                entry = secrets.scrub_meta(entry)
            var_index[name] = entry

    tree: dict[str, Any] = {}
    if var_tree:
        # the parts are kept by the payload index, not by the commit's tree (so that
        # retention can free them without rewriting history): register them before the
        # branch moves, so that no commit is ever visible without its parts kept
        vars_id = store.write_tree(var_tree)
        tree[VARS] = (0o040000, vars_id)
        keep.add(store, {vars_id: keep.write_payload_tree(store, var_parts)})

    if nb is not None and nb_bytes is not None:
        tree[Path(nb).name] = store.add_bytes(nb_bytes)

    # data files
    data_index: dict[str, Any] = {}
    with timed(timings, "data"):
        if data:
            data_index = dict(ws.data_hasher(store).hash_files(list(data), store.root))
    with timed(timings, "data_content"):
        if data_index:
            # the content of the files the settings name, as chunks kept like variables'
            content = capture_content(store, data_index)
            if content.tree:
                data_id = store.write_tree(content.tree)
                tree[DATA] = (0o040000, data_id)
                keep.add(store, {data_id: keep.write_parts_tree(store, content.part_ids)})
                written += content.bytes_written

    # files written: hashed like data (same cache), content not captured
    output_index: dict[str, Any] = {}
    with timed(timings, "outputs"):
        if outputs:
            output_index = dict(ws.data_hasher(store).hash_files(list(outputs), store.root))

    # local sources
    source_paths: list[str] = []
    source_secrets: dict[str, list[Any]] = {}
    with timed(timings, "sources"):
        if sources:
            if sources is True:
                found = capture.local_sources(
                    store.root, allow_secrets=allow_secrets, secrets_found=source_secrets
                )
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
        tree[ENV] = ws.json_blob(store, "env", capture.environment())
        tree[HARDWARE] = ws.json_blob(store, "hardware", capture.hardware())

    pending = ws.pending
    all_params = {**pending["params"], **{k: json_value(v) for k, v in (params or {}).items()}}
    all_metrics = {
        **pending["metrics"],
        **{k: json_value(v) for k, v in (metrics or {}).items()},
    }
    series = {k: list(v) for k, v in pending["series"].items() if len(v) > 1}
    name, email = author_identity(author)
    now = time.time()
    timings["total"] = time.perf_counter() - t_start
    record: Record = {
        "mlvc_record": RECORD_VERSION,
        "message": message,
        "author": name,
        "email": email,
        "time": iso(now),
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
    if output_index:
        record["outputs"] = output_index
    if kind:
        record["kind"] = kind
    found_secrets: list[Any] = list(secrets.variable_warnings(secret_reasons))
    if nb_bytes is not None:
        found_secrets += secrets.scan_notebook(nb_bytes)
    for warnings in source_secrets.values():
        found_secrets += warnings
    if found_secrets:
        record["secrets"] = found_secrets
    if saved_at:
        record["notebook_saved_at"] = saved_at
    if kernel:
        record["kernel"] = dict(kernel)
    rec_dict: dict[str, Any] = dict(record)
    if extra:
        rec_dict.update({k: json_value(v) for k, v in extra.items()})
    tree[RECORD] = store.add_bytes(dumps(rec_dict))
    tree_id = store.write_tree(tree)
    reflog = f"mlvc commit: {message.splitlines()[0] if message else ''}"
    for attempt in range(COMMIT_RETRIES):
        cid = store.write_commit(
            tree_id, [parent] if parent else [], message, f"{name} <{email}>", when=now, tz_offset=0
        )
        try:
            store.cas_ref(ref, expected, cid, message=reflog)
            break
        except RefConflictError:
            # another process committed to this branch meanwhile: put ours on top of it
            if attempt == COMMIT_RETRIES - 1:
                raise
            parent = expected = store.ref(ref)
    store.set_head(ref)
    cache_summary(store, make_summary(cid, record, [parent] if parent else [], int(now)))
    written_hashes = {k: v["hash"] for k, v in output_index.items()}
    producers.append(
        store, {cid: producers.entry(written_hashes, [parent] if parent else [], int(now))}
    )
    ws.clear_pending()
    return cid


#: Entries kept in the workspace's ``record_entries`` before it starts again.
_ENTRIES_LIMIT = 10_000


def _record_entry(ws: Workspace, sv: fingerprints.StoredValue) -> dict[str, Any]:
    """The record's entry of a stored variable: format, size and the meta fields that
    fit in :data:`RECORD_META_LIMIT` (a fresh dict, free to change); built once per
    manifest (``ws.record_entries``), so an unchanged variable's is not measured again."""
    entries = ws.record_entries
    found = entries.get(sv.manifest_id)
    if found is None:
        found = {"format": sv.format, "size": sv.size}
        for k, v in sv.meta.items():
            if len(json.dumps(v, default=repr)) <= RECORD_META_LIMIT:
                found[k] = v
        if len(entries) >= _ENTRIES_LIMIT:
            entries.clear()
        entries[sv.manifest_id] = found
    return dict(found)


def _branch_from(store: Store, nb: str | None, at: str) -> str:
    """Start a branch at ``at``, where the notebook is detached, and make it current:
    ``<current branch>-from-<short id>`` (``-2``, ``-3``... when taken). Its name."""
    base = f"{current_branch(store, nb)}-from-{at[:7]}"
    for n in range(1, 1000):
        name = base if n == 1 else f"{base}-{n}"
        ref = branch_ref(nb, name)
        tip = store.ref(ref)
        if tip == at:
            break
        if tip is None:
            try:
                store.cas_ref(ref, None, at, message=f"mlvc branch: from {at[:12]}")
            except RefConflictError:
                continue
            break
    else:
        raise RefConflictError(f"no free branch name for a commit from {at[:12]}")
    set_current_branch(store, nb, name)
    return name


def notebook_bytes(store: Store, nb: str, content: Any) -> bytes:
    """The notebook a commit records: ``content`` (nbformat dict, JSON text or bytes)
    or, when None, the saved file.

    Raises:
        MlvcError: the file does not exist, or ``content`` is not a notebook.
    """
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
