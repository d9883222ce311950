"""Sweeps on workers without a shared filesystem: each run comes home through the
project's remote (git, and its payload remote when it has one).

Why the remote and not a bundle passed back through the cluster: the remote already
moves commits and payloads between machines, sends only what the other side lacks,
sends large payload parts straight to object storage (a bundle would carry every byte
of every model through the scheduler and the coordinator's memory), and verifies what
it receives (ref names, whole histories, a quarantine before any ref moves), so a run
brought home is checked like any pull. A worker killed mid-push leaves at most objects
no ref names on the remote, and its run is reported lost.

The three steps:

1. :func:`share_branches` (the coordinator): push the sweep's branches, created at the
   notebook's HEAD, so that every worker starts its run from the same commit.
2. :func:`prepare_worker` then :func:`publish_run` (each worker, in its own copy of the
   project): its own store (cloned from the remote the first time, fetched after), the
   run's branch set to the remote's tip of it, the run committed there, the branch pushed.
3. :func:`bring_home` (the coordinator, after each run): fetch, then fast-forward the
   run's branch to the commit the worker reported, and to nothing else.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from ..errors import CorruptObjectError, MlvcError, RemoteError
from ..store.refs import HEADS, branch_ref
from .workspace import open_store, rel_notebook

__all__ = ["bring_home", "prepare_worker", "publish_run", "remote_for", "share_branches"]


def _tracking(remote: str, ref: bytes) -> bytes:
    return f"refs/remotes/{remote}/".encode() + ref[len(HEADS) :]


def remote_for(
    *,
    repo: str | os.PathLike[str],
    notebook: str | os.PathLike[str],
    remote: str | None = None,
) -> dict[str, str]:
    """What workers need to run ``notebook`` without a shared filesystem: ``name`` and
    ``url`` of ``remote`` (default: the project's default remote) and ``notebook``, the
    notebook's path in the project.

    Raises:
        RemoteNotFoundError: the project has no such remote (or none at all).
    """
    from ..store.remotes import default_remote, get_remote

    store = open_store(repo)
    r = get_remote(store, remote) if remote else default_remote(store)
    nb = rel_notebook(store, notebook)
    if nb is None:
        raise MlvcError("a sweep without a shared filesystem needs a notebook")
    return {"name": r.name, "url": r.url, "notebook": nb}


def share_branches(
    branches: Sequence[str],
    *,
    repo: str | os.PathLike[str],
    notebook: str | os.PathLike[str],
    remote: str,
) -> None:
    """Push the sweep's ``branches`` of ``notebook`` (those that exist) to ``remote``.

    Raises:
        RemoteError: the remote refused one (it moved there: another sweep of the same
            name runs, or its branches diverged; pull first).
    """
    from ..store import sync

    store = open_store(repo)
    nb = rel_notebook(store, notebook)
    refs = [branch_ref(nb, b).decode() for b in branches if store.ref(branch_ref(nb, b))]
    if not refs:
        return
    report = sync.push(store, remote, refs)
    if report["rejected"]:
        bad = next(r for r in report["refs"] if r["status"] == "rejected")
        raise RemoteError(f"{remote} refused the sweep's branches: {bad['message']}")


#: How many times a worker's clone or fetch is tried.
_TRANSFER_TRIES = 2


def prepare_worker(
    project: str | os.PathLike[str],
    *,
    url: str,
    remote: str,
    notebook: str,
    branch: str,
) -> Path:
    """Give a worker's copy of the project its own store, up to date with ``url``, with
    the run's ``branch`` at the remote's tip of it (the worker's copy follows the
    remote: a commit it made for a run that was lost is dropped from the branch).

    Args:
        project: the worker's copy of the project (the notebook and the data it reads).
        url: the project's remote, as the coordinator names it.
        remote: the remote's name (added to the worker's store when it lacks it).
        notebook: the notebook's path in the project (POSIX, relative).
        branch: the run's branch.

    Returns:
        The notebook file in the worker's copy.

    Raises:
        MlvcError: the copy lacks the notebook, or its store names ``remote`` with
            another URL.
    """
    from ..store import sync
    from ..store.remotes import add_remote, list_remotes

    root = Path(project).resolve()
    nb_file = root / notebook
    if not nb_file.is_file():
        raise MlvcError(
            f"this worker's copy of the project ({root}) has no {notebook}: give each "
            "worker a copy of the project (--worker-project)"
        )
    for attempt in range(_TRANSFER_TRIES):
        try:
            if not (root / ".mlvc").exists():
                sync.clone(url, root, name=remote)  # a clone that fails leaves nothing
            store = open_store(root)
            known = {r.name: r.url for r in list_remotes(store)}
            if remote not in known:
                add_remote(store, remote, url)
            elif known[remote] != url:
                raise MlvcError(
                    f"the worker's store at {root} has a remote {remote!r} at another URL "
                    f"({known[remote]}); the sweep's is {url}"
                )
            sync.fetch(store, remote)
            break
        except (RemoteError, CorruptObjectError):
            # a dropped connection or a pack damaged on the way: the transfer is tried
            # again (a run lost to it would need the whole sweep command again)
            if attempt + 1 == _TRANSFER_TRIES:
                raise
    ref = branch_ref(notebook, branch)
    tip = store.ref(_tracking(remote, ref))
    ours = store.ref(ref)
    if ours != tip:
        store.cas_ref(ref, ours, tip, message=f"mlvc sweep: follow {remote}")
    return nb_file


def publish_run(
    project: str | os.PathLike[str], *, remote: str, notebook: str, branch: str
) -> None:
    """Push the run's branch from a worker's store to ``remote``.

    Raises:
        RemoteError: the remote refused it (the branch moved there meanwhile).
    """
    from ..store import sync

    store = open_store(Path(project).resolve())
    report = sync.push(store, remote, [branch_ref(notebook, branch).decode()])
    if report["rejected"]:
        bad = next(r for r in report["refs"] if r["status"] == "rejected")
        raise RemoteError(f"{remote} refused the run's branch: {bad['message']}")


def bring_home(
    branch: str,
    commit: str,
    *,
    repo: str | os.PathLike[str],
    notebook: str | os.PathLike[str],
    remote: str,
) -> None:
    """Fetch ``remote`` and move the run's ``branch`` here to ``commit`` (a worker's run),
    by fast-forward only; other branches do not move.

    Raises:
        RemoteError: the remote does not hold ``commit`` on that branch, or the branch
            here moved elsewhere meanwhile (kept as it is).
    """
    from ..store import sync
    from ..store.sync import incomplete

    store = open_store(repo)
    nb = rel_notebook(store, notebook)
    ref = branch_ref(nb, branch)
    sync.fetch(store, remote)
    tip = store.ref(_tracking(remote, ref))
    if tip != commit or incomplete(store, [commit]):
        raise RemoteError(
            f"{remote} does not hold the run's commit {commit[:12]} on {branch} "
            f"(it has {tip[:12] if tip else 'no such branch'})"
        )
    ours = store.ref(ref)
    if (
        ours is not None
        and ours != commit
        and all(c.id.decode() != ours for c in store.walk([commit]))
    ):
        raise RemoteError(
            f"{branch} moved here meanwhile: the run's {commit[:12]} is kept on "
            f"{_tracking(remote, ref).decode()}"
        )
    if ours != commit:
        store.cas_ref(ref, ours, commit, message=f"mlvc sweep: run from {remote}")
