"""Maintenance and collaboration: fsck, du, gc (retention), remotes, push, pull, clone.

Thin typed calls into :mod:`mlvc_server.store` (which owns the algorithms), so that
every front end reaches them the same way.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

from ..errors import MlvcError
from .compat import legacy_positional
from .workspace import open_store


@legacy_positional("repo")
def fsck(*, repo: str | os.PathLike[str] = ".", repair: bool = False) -> dict[str, Any]:
    """Verify every ref and every object reachable from them, payload bytes included.

    Args:
        repo: a path inside the project.
        repair: first move each damaged ref (empty, garbage, naming a missing commit)
            back to its newest reflog entry whose history is complete, or delete it
            (its old value is kept in ``.mlvc/mlvc/damaged-refs.log``); the result then
            lists what was done under ``repaired``.
    """
    from ..store import fsck as store_fsck

    store = open_store(repo)
    repaired = store_fsck.repair_refs(store) if repair else []
    out = store_fsck.fsck(store)
    if repair:
        out["repaired"] = repaired
    return out


@legacy_positional("repo")
def du(*, repo: str | os.PathLike[str] = ".", commits: bool = False) -> dict[str, Any]:
    """Bytes on disk, and payload bytes per branch (and per commit with ``commits``):
    all, unique to it, shared with others, and still in this store (see
    :func:`mlvc_server.store.gc.du`)."""
    from ..store.gc import du as run

    return run(open_store(repo), commits=commits)


@legacy_positional("repo")
def gc(
    *,
    repo: str | os.PathLike[str] = ".",
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
    from ..store import gc as store_gc

    def seconds(v: str | float | None) -> float | None:
        return store_gc.parse_duration(v) if isinstance(v, str) else v

    if keep_last is not None and keep_last < 1:
        raise MlvcError("keep_last must be at least 1")
    policy = store_gc.Policy(
        keep_last=keep_last, keep_tagged=keep_tagged, keep_newer_than=seconds(keep_newer_than)
    )
    g = seconds(grace)
    return store_gc.gc(
        open_store(repo),
        policy,
        dry_run=dry_run,
        grace=store_gc.DEFAULT_GRACE if g is None else g,
        progress=progress,
    )


@legacy_positional("repo")
def remotes(*, repo: str | os.PathLike[str] = ".") -> list[dict[str, Any]]:
    """The configured remotes: ``name``, ``url``, ``payloads`` (fsspec URL or None),
    ``payload_options`` (option names only)."""
    from ..store import remotes as rm

    return [r.as_json() for r in rm.list_remotes(open_store(repo))]


def remote_name(name: str | None = None, *, repo: str | os.PathLike[str] = ".") -> str:
    """The remote a push or pull means: ``name`` checked to exist, else the default
    (``origin``, or the only one).

    Raises:
        RemoteNotFoundError: no such remote, or none configured.
    """
    from ..store.remotes import default_remote, get_remote

    st = open_store(repo)
    return (get_remote(st, name) if name else default_remote(st)).name


@legacy_positional("repo")
def remote_add(
    name: str,
    url: str,
    *,
    repo: str | os.PathLike[str] = ".",
    payloads: str | None = None,
    payload_options: Mapping[str, Any] | None = None,
    replace: bool = False,
) -> dict[str, Any]:
    """Configure a git remote, optionally with a payload remote (an fsspec URL where
    payload parts are uploaded on push and fetched lazily on restore)."""
    from ..store import remotes as rm

    r = rm.add_remote(
        open_store(repo, create=True),
        name,
        url,
        payloads=payloads,
        payload_options=dict(payload_options or {}),
        replace=replace,
    )
    return r.as_json()


@legacy_positional("repo")
def remote_remove(name: str, *, repo: str | os.PathLike[str] = ".") -> None:
    """Forget a remote and its remote-tracking refs."""
    from ..store import remotes as rm

    rm.remove_remote(open_store(repo), name)


@legacy_positional("repo")
def push(
    remote: str | None = None,
    branches: Iterable[str] | None = None,
    *,
    repo: str | os.PathLike[str] = ".",
    force: bool = False,
    progress: Any = None,
) -> dict[str, Any]:
    """Push branches and tags (all, or ``branches``) to a remote (default ``origin``),
    payload parts to its payload remote; see :func:`mlvc_server.store.sync.push`."""
    from ..store import sync

    return sync.push(open_store(repo), remote, branches, force=force, progress=progress)


@legacy_positional("repo")
def pull(
    remote: str | None = None,
    *,
    repo: str | os.PathLike[str] = ".",
    progress: Any = None,
    accept_payloads: bool = False,
) -> dict[str, Any]:
    """Fetch a remote's history and fast-forward local branches; diverged ones are
    reported and kept; see :func:`mlvc_server.store.sync.pull`. A model of the registry
    changed on both sides gets this store's events replayed on top of the remote's
    (:func:`mlvc_server.service.registry.replay`): its row's status is ``replayed``.
    Notebook files follow their branch (:func:`_follow_pull`): ``notebooks`` lists
    those written."""
    from ..store import sync
    from ..store.refs import HEADS
    from .registry import replay

    store = open_store(repo)
    before = store.refs_under(HEADS.encode())
    report = sync.pull(store, remote, progress=progress, accept_payloads=accept_payloads)
    report["notebooks"] = _follow_pull(store, before, report["refs"])
    for row in report["refs"]:
        if row["kind"] != "model" or row["status"] != "diverged":
            continue
        try:
            done = replay(store, row["name"], row["remote"])
        except MlvcError as e:
            row["message"] += f" (not replayed: {e})"
            continue
        row["status"] = "replayed"
        row["replay"] = done
        moved = ", ".join(f"v{a} is now v{b}" for a, b in done["renumbered"].items())
        row["message"] = (
            f"model {row['name']!r} changed on both sides: your {done['replayed']} registry "
            f"event(s) were replayed on top of {report['remote']}'s"
            + (f" ({moved})" if moved else "")
            + (f"; skipped: {'; '.join(done['skipped'])}" if done["skipped"] else "")
            + ". Push to share them"
        )
    report["diverged"] = sum(1 for x in report["refs"] if x["status"] == "diverged")
    return report


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
    history; payloads come through git, or lazily from the payload remote. Each notebook
    is written into the folder as its branch ``main`` (or its only branch) has it, as
    ``git clone`` writes a working tree; ``notebooks`` lists them."""
    from ..store import sync

    if directory is None:
        base = url.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]
        directory = base[:-4] if base.endswith(".git") else base or "mlvc-clone"
    report = sync.clone(
        url,
        directory,
        name=name,
        payloads=payloads,
        payload_options=dict(payload_options or {}),
        progress=progress,
    )
    report["notebooks"] = _write_notebooks(report["path"])
    return report


def _write_notebooks(root: str) -> list[str]:
    """Write each notebook of a new clone at the tip of ``main`` (or of its only branch,
    which becomes its current one). A file in the way is left alone."""
    from ..store.refs import DEFAULT_BRANCH, HEADS, split_ref
    from ..store.revisions import set_current_branch
    from .format import notebook_blob

    store = open_store(root)
    tips: dict[str, dict[str, str]] = {}
    for ref, sha in store.refs_under(HEADS.encode()).items():
        split = split_ref(ref, HEADS)
        if split is not None and split[0] is not None:
            tips.setdefault(split[0], {})[split[1]] = sha
    written: list[str] = []
    for nb, branches in sorted(tips.items()):
        branch = DEFAULT_BRANCH if DEFAULT_BRANCH in branches else None
        if branch is None and len(branches) == 1:
            branch = next(iter(branches))
        if branch is None or os.path.lexists(store.root / nb):
            continue
        content = notebook_blob(store, branches[branch])
        if content is not None and _put_notebook(store, nb, content):
            if branch != DEFAULT_BRANCH:
                set_current_branch(store, nb, branch)
            written.append(nb)
    return written


def _put_notebook(store: Any, nb: str, content: bytes) -> bool:
    """Write notebook ``nb`` (a path from the store's refs) into the project, unless
    the path would leave the project folder or enter the store (a crafted ref from a
    remote): then nothing is written and False is returned."""
    from ..errors import InvalidNameError
    from ..store.refs import notebook_key
    from .checkouts import write_file

    try:
        notebook_key(nb)  # refuses "..", absolute paths
    except InvalidNameError:
        return False
    if nb.split("/")[0] == ".mlvc" or not nb.endswith(".ipynb"):
        return False
    path = store.root / nb
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.parent.resolve().is_relative_to(store.root.resolve()):  # a symlinked folder
        return False
    write_file(path, content)
    return True


def _follow_pull(store: Any, before: Mapping[bytes, str], rows: list[dict[str, Any]]) -> list[str]:
    """After a pull, bring each notebook file along with its current branch, as ``git
    pull`` updates a clean working tree: a branch fast-forwarded while the file was as
    its old tip has it gets the new tip's notebook; a branch created for a notebook that
    has no file here writes it. A file with changes of its own is left alone (``mlvc
    status`` then says so). Returns the notebooks written."""
    from ..store.revisions import current_branch, detached
    from .format import notebook_blob

    written: list[str] = []
    for row in rows:
        nb = row.get("notebook")
        if (
            row.get("kind") != "branch"
            or row.get("status") not in ("fast-forward", "created")
            or not isinstance(nb, str)
            or current_branch(store, nb) != row.get("name")
            or detached(store, nb) is not None
        ):
            continue
        path = store.root / nb
        new = notebook_blob(store, str(row["remote"]))
        if new is None:
            continue
        if row["status"] == "fast-forward":
            old = before.get(str(row["ref"]).encode())
            if old is None or not path.is_file():
                continue
            here = path.read_bytes()
            if here != notebook_blob(store, old) or here == new:
                continue
        elif os.path.lexists(path):
            continue
        if _put_notebook(store, nb, new):
            written.append(nb)
    return written
