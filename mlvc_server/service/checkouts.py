"""Checkout: the one plan for going back to a commit, whatever front end asks.

1. resolve the target (a branch of the notebook becomes the current branch);
2. protect what would be overwritten: a *safety commit* of the current state when it
   differs from HEAD (``kind: "safety"`` in its record, so logs can fold it away);
3. put back the data files the target read, when asked (``data=``:
   :func:`mlvc_server.service.data_checkout`, which keeps each replaced file as a safety
   copy);
4. write the target's notebook;
5. switch the branch;
6. restore the target's variables.

Steps 2, 4 and 6 depend on where the caller stands, so each front end supplies them as
:class:`CheckoutHooks`: the kernel commits its variables and notebook and puts the
variables in its namespace; the server writes the notebook through Jupyter's contents
API and asks the notebook's kernel; the CLI writes the file and has no variables. The
defaults here (no hooks) commit and write the notebook file alone.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from ..errors import EvaluationError, InvalidNameError
from ..store import Store
from ..store.refs import branch_ref, validate_name
from ..store.revisions import (
    branch_tip,
    current_branch,
    head,
    resolve,
    set_current_branch,
    set_detached,
)
from ..store.space import reports_full_disk
from .commits import commit
from .compat import legacy_positional
from .format import CheckoutResult, DataCheckoutResult, notebook_blob, read_record
from .workspace import open_store, rel_notebook

#: The ``kind`` recorded on a safety commit.
SAFETY = "safety"


def safety_message(rev: str) -> str:
    """The message of the safety commit made before checking out ``rev``."""
    return f"Before checkout of {rev[:12]}"


@dataclass
class CheckoutHooks:
    """What a front end does for the steps of a checkout that depend on where it runs.

    Attributes:
        safety_commit: ``(message, variables, notebook) -> commit id or None``: commit
            the current state if it differs from HEAD in what the checkout will
            overwrite (``variables``: the kernel's variables; ``notebook``: the
            notebook). None: commit the notebook file alone when it changed.
        write_notebook: ``(content) -> None``: put the target's notebook in place.
            None: write the file atomically.
        restore: ``(commit id) -> (names restored, name -> why not)``: load the
            target's variables where they live. None: no variables are restored.
    """

    safety_commit: Callable[[str, bool, bool], str | None] | None = None
    write_notebook: Callable[[bytes], None] | None = None
    restore: Callable[[str], tuple[list[str], dict[str, str]]] | None = None


def write_file(path: Path, content: bytes) -> None:
    """Replace ``path`` with ``content`` atomically (a reader never sees half a file)."""
    tmp = path.with_name(f".{path.name}.mlvc-tmp")
    tmp.write_bytes(content)
    os.replace(tmp, path)


def notebook_safety_commit(
    message: str,
    *,
    repo: str | os.PathLike[str] = ".",
    notebook: str | os.PathLike[str] | None = None,
    author: str | None = None,
) -> str | None:
    """Commit the notebook file alone when it differs from what HEAD recorded (a safety
    commit where no kernel holds variables); None when nothing would be lost."""
    store = open_store(repo)
    return _notebook_safety(store, rel_notebook(store, notebook), message, author)


def _notebook_safety(store: Store, nb: str | None, message: str, author: str | None) -> str | None:
    if nb is None or head(store, nb) is None:
        return None
    path = store.root / nb
    if not path.is_file():
        return None
    cid = head(store, nb)
    if cid is not None and path.read_bytes() == notebook_blob(store, cid):
        return None
    return commit(
        message, repo=store.root, notebook=path, author=author, sources=False, kind=SAFETY
    )


def branch_target(store: Store, nb: str | None, rev: str) -> str | None:
    """``rev`` when it names a branch of the notebook, else None."""
    try:
        name = validate_name(rev)
    except InvalidNameError:
        return None
    return name if store.ref(branch_ref(nb, name)) is not None else None


@legacy_positional("repo", "notebook")
@reports_full_disk
def checkout(
    rev: str,
    *,
    repo: str | os.PathLike[str] = ".",
    notebook: str | os.PathLike[str] | None = None,
    write_notebook: bool = True,
    variables: bool = True,
    safety_commit: bool = True,
    hooks: CheckoutHooks | None = None,
    data: bool | Iterable[str] = False,
    data_from_root: bool = False,
) -> CheckoutResult:
    """Go back to ``rev``: its notebook and (through ``hooks.restore``) its variables.

    If ``rev`` is a branch of the notebook, it becomes the current branch. Otherwise,
    unless ``rev`` is the current branch's tip, the notebook is *detached* at ``rev``
    (``status`` says so, and compares with ``rev``), and its next commit starts a new
    branch ``<branch>-from-<short id>`` at ``rev``: rolling back never loses history, and
    what is committed after it descends from it. What the checkout overwrites is
    committed first when it differs from HEAD (a safety commit), so nothing is lost.

    Args:
        rev: a revision (commit id, branch, tag, ``HEAD~N``).
        repo: a path inside the project.
        notebook: the notebook whose history ``rev`` is read in.
        write_notebook: put the notebook of ``rev`` in place.
        variables: restore the variables of ``rev`` (needs ``hooks.restore``).
        safety_commit: commit unsaved state first.
        hooks: the front end's steps (see :class:`CheckoutHooks`).
        data: also put back the data files ``rev`` read whose content it captured
            (:func:`mlvc_server.service.data_checkout`: each file that differs is
            replaced, the current one kept as a safety copy): True for all of them,
            or paths and globs for some; False (the default): none. The choice is
            checked (paths the commit read, places inside the project) before anything
            is written or committed.
        data_from_root: the ``data`` paths are relative to the project root, not to
            the current directory (the REST API's).

    Returns:
        ``commit`` (id), ``branch``, ``safety_commit`` (id or None),
        ``notebook_written``, ``variables`` (the names the commit holds), ``restored``
        and ``failed`` (name -> why), ``data`` (the data checkout's result, or None).

    Raises:
        DataNotFoundError: a ``data`` path names no data file of the commit.
    """
    hooks = hooks or CheckoutHooks()
    store = open_store(repo)
    nb = rel_notebook(store, notebook)
    target = resolve(store, rev, nb)
    evaluated = read_record(store, target)
    if evaluated.get("kind") == "evaluation":
        # its parents are two versions: the next commit must not land on top of it
        raise EvaluationError(
            f"{rev} is an evaluation of two versions, not a run to go back to; check out "
            "one of the versions it compared (its parents)"
        )
    switch_to = branch_target(store, nb, rev)
    restores = variables and hooks.restore is not None
    writes = write_notebook and nb is not None
    data_paths = _data_paths(data)
    if data is not False:  # a bad path fails here, before anything changed
        _data_checkout(target, data_paths, store, nb, data_from_root, dry_run=True)

    safety = None
    if safety_commit and (writes or restores):
        message = safety_message(rev)
        if hooks.safety_commit is not None:
            safety = hooks.safety_commit(message, restores, writes)
        elif writes:
            safety = _notebook_safety(store, nb, message, None)

    data_done = None
    if data is not False:
        data_done = _data_checkout(target, data_paths, store, nb, data_from_root, dry_run=False)

    written = False
    if writes:
        content = notebook_blob(store, target)
        if content is not None:
            if hooks.write_notebook is not None:
                hooks.write_notebook(content)
            else:
                write_file(store.root / str(nb), content)
            written = True

    if switch_to is not None:
        set_current_branch(store, nb, switch_to)
    else:
        # not a branch tip: the notebook is detached there, and its next commit starts
        # a branch from it (service.commit)
        set_detached(store, nb, None if target == branch_tip(store, nb) else target)

    restored: list[str] = []
    failed: dict[str, str] = {}
    if restores and hooks.restore is not None:
        restored, failed = hooks.restore(target)
    return {
        "commit": target,
        "branch": switch_to or current_branch(store, nb),
        "safety_commit": safety,
        "notebook_written": written,
        "variables": sorted(read_record(store, target).get("variables", {})),
        "restored": restored,
        "failed": failed,
        "data": data_done,
    }


def _data_paths(data: bool | Iterable[str]) -> list[str] | None:
    """The ``paths`` of a data checkout from ``checkout``'s ``data`` (None: all)."""
    if isinstance(data, bool):
        return None
    if isinstance(data, str):
        return [data]
    paths = list(data)
    return paths or None


def _data_checkout(
    target: str,
    paths: list[str] | None,
    store: Store,
    nb: str | None,
    from_root: bool,
    *,
    dry_run: bool,
) -> DataCheckoutResult:
    from .data import data_checkout

    return data_checkout(
        target,
        paths,
        repo=store.root,
        notebook=None if nb is None else store.root / nb,
        dry_run=dry_run,
        from_root=from_root,
    )
