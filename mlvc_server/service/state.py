"""Status: what a commit would record now, compared with HEAD of the notebook's branch.

Whether a variable changed is decided from the ids its parts would get
(:func:`mlvc_server.store.payloads.predict_part_ids`, the writer's own rule), without
writing anything; the fast-hash cache makes an unchanged big array or model cost one
xxh3 pass.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from ..errors import MlvcError
from ..store import Store
from ..store.revisions import current_branch, detached, head, resolve
from .compat import legacy_positional
from .format import (
    MANIFEST,
    manifest_part_ids,
    notebook_blob,
    read_record,
    variable_trees,
)
from .workspace import open_store, rel_notebook, workspace

if TYPE_CHECKING:
    from pathlib import Path

    from .format import Status


def stored_part_ids(store: Store, cid: str) -> dict[str, list[str]]:
    """Variable name -> the part ids of its payload in commit ``cid`` (memoized by the
    variable's tree id, which is immutable)."""
    ws = workspace()
    out: dict[str, list[str]] = {}
    for name, tree_id in variable_trees(store, cid).items():
        parts = ws.parts_memo.get(tree_id)
        if parts is None:
            entry = store.tree_lookup(tree_id, MANIFEST)
            if entry is None:
                continue
            parts = manifest_part_ids(store.read_json(entry[1]))
            ws.remember_parts(tree_id, parts)
        out[name] = parts
    return out


@contextlib.contextmanager
def snapshot(known: dict[int, tuple[Any, str]] | None = None) -> Iterator[dict[Any, Any]]:
    """A status and a commit made inside this block share each variable's fingerprint
    (hashed once): for a caller that knows no code changes the variables between them
    (the kernel's autocommit, within one post-cell hook).

    Args:
        known: ``{id(value): (value, fingerprint)}`` the caller proved unchanged since
            they were hashed (the kernel's dirty tracking): not hashed again.

    Yields:
        ``id(value) -> (value, fingerprint)`` for the values fingerprinted in the block.
    """
    from ..serializers.fingerprint import snapshot as fingerprints_once

    with fingerprints_once(known) as memo:
        yield memo


@legacy_positional("repo", "notebook", "variables", "data")
def status(
    *,
    repo: str | os.PathLike[str] = ".",
    notebook: str | os.PathLike[str] | None = None,
    variables: Mapping[str, Any] | None = None,
    data: Iterable[str] | None = None,
) -> Status:
    """What a commit would record now, compared with HEAD of the notebook's branch.

    Returns ``branch``, ``head`` (id or None; the commit checked out when ``detached``,
    that is not the branch tip), ``notebook`` (``path``, ``exists``,
    ``changed``), ``variables`` (name -> added/changed/unchanged/removed, for the
    ``variables`` given), ``data`` (path -> added/changed/unchanged/missing, for the
    files HEAD recorded plus ``data``) and ``skipped`` (the variables HEAD could not
    store, name -> reason).
    """
    store = open_store(repo)
    nb = rel_notebook(store, notebook)
    cid = head(store, nb)
    rec = read_record(store, cid) if cid else {}
    out: Status = {
        "branch": current_branch(store, nb),
        "head": cid,
        "detached": detached(store, nb) is not None,
        "notebook": None,
        "skipped": dict(rec.get("skipped", {})),
        "variables": {},
        "data": {},
    }
    if nb is not None:
        path = store.root / nb
        committed = notebook_blob(store, cid) if cid else None
        current = path.read_bytes() if path.exists() else None
        out["notebook"] = {
            "path": nb,
            "exists": current is not None,
            "changed": current is not None and current != committed and not _ran_as_is(rec, path),
        }
    if variables is not None:
        out["variables"] = _compare(store, cid, rec, variables)
    old_data: dict[str, Any] = rec.get("data", {})
    patterns = list(old_data) + list(data or [])
    if patterns:
        hasher = workspace().data_hasher(store)
        for p in patterns:
            try:
                now = hasher.hash_files([p], store.root)
            except MlvcError:
                if p in old_data:
                    out["data"][p] = "missing"
                continue
            for rel, fr in now.items():
                prev = old_data.get(rel)
                out["data"][rel] = (
                    "added"
                    if prev is None
                    else "unchanged"
                    if prev["hash"] == fr["hash"]
                    else "changed"
                )
    return out


def _ran_as_is(rec: Mapping[str, Any], path: Path) -> bool:
    """Whether HEAD is an ``mlvc run`` of the notebook file exactly as it is now (the
    commit holds the executed notebook; the file the run read is recorded by hash)."""
    run = rec.get("run")
    source = run.get("source") if isinstance(run, Mapping) else None
    if not isinstance(source, str):
        return False
    from ..capture.data import hash_file

    return hash_file(path) == source


def variables_changed(
    *,
    repo: str | os.PathLike[str] = ".",
    rev: str,
    variables: Mapping[str, Any],
    notebook: str | os.PathLike[str] | None = None,
) -> dict[str, str]:
    """How ``variables`` compare with what commit ``rev`` holds (the rule of
    :func:`status`, against any commit): name -> added/changed/unchanged/removed.

    A safety commit uses it to tell a variable restored from ``rev`` (nothing to save:
    ``rev`` holds it) from one the user changed since.
    """
    store = open_store(repo)
    cid = resolve(store, rev, rel_notebook(store, notebook))
    return _compare(store, cid, read_record(store, cid), variables)


def _compare(
    store: Store, cid: str | None, rec: Mapping[str, Any], variables: Mapping[str, Any]
) -> dict[str, str]:
    """``variables`` against commit ``cid`` (record ``rec``), by their parts' ids."""
    # the serializers (numpy...) load only when there are variables to compare
    from ..serializers.deadline import serialize_within
    from ..store import fingerprints
    from ..store import payloads as payload_store
    from .commits import MAX_SERIALIZE_SECONDS

    out: dict[str, str] = {}
    old = rec.get("variables", {})
    old_parts = stored_part_ids(store, cid) if cid and old else {}
    for name, value in variables.items():
        if name not in old:
            out[name] = "added"
            continue
        known = fingerprints.unchanged(store, value, old_parts.get(name))
        if known is not None:  # the fingerprint answers without serializing
            out[name] = "unchanged" if known else "changed"
            continue
        try:
            payload = serialize_within(value, MAX_SERIALIZE_SECONDS)
            ids = payload_store.predict_part_ids(store, payload)
            out[name] = "unchanged" if ids == old_parts.get(name) else "changed"
        except MlvcError:
            out[name] = "changed"
    for name in old:
        if name not in variables:
            out[name] = "removed"
    return out
