"""Refs users name: the notebook's branches (experiments) and tags (aliases).

Each notebook has its own branches and tags (``refs/heads/<notebook>/<name>``), so two
notebooks in one folder never mix histories. Every move is a compare-and-swap.
"""

from __future__ import annotations

import os

from ..errors import RefConflictError, RevisionNotFoundError
from ..store.refs import HEADS, TAGS, branch_ref, tag_ref, validate_name
from ..store.revisions import (
    current_branch,
    head,
    notebook_refs,
    resolve,
    set_current_branch,
)
from ..store.space import reports_full_disk
from .compat import legacy_positional
from .format import BranchInfo, TagInfo
from .workspace import open_store, rel_notebook


@legacy_positional("repo", "notebook")
def branches(
    *, repo: str | os.PathLike[str] = ".", notebook: str | os.PathLike[str] | None = None
) -> list[BranchInfo]:
    """The notebook's branches: ``name``, ``head`` (commit id), ``current`` (bool)."""
    store = open_store(repo)
    nb = rel_notebook(store, notebook)
    cur = current_branch(store, nb)
    out: list[BranchInfo] = [
        {"name": name, "head": sha, "current": name == cur}
        for name, sha in notebook_refs(store, HEADS, nb)
    ]
    if not any(b["current"] for b in out):
        out.append({"name": cur, "head": None, "current": True})
    return out


@legacy_positional("repo", "notebook")
@reports_full_disk
def branch(
    name: str,
    rev: str | None = None,
    *,
    repo: str | os.PathLike[str] = ".",
    notebook: str | os.PathLike[str] | None = None,
    switch: bool = True,
) -> BranchInfo:
    """Create branch ``name`` at ``rev`` (default HEAD) and (by default) switch to it.

    Before the first commit, this just names the branch the first commit will go to.

    Raises:
        InvalidNameError: a bad name. RefConflictError: the branch exists.
    """
    validate_name(name)
    store = open_store(repo, create=True)
    nb = rel_notebook(store, notebook)
    ref = branch_ref(nb, name)
    if store.ref(ref) is not None:
        raise RefConflictError(f"branch {name!r} already exists")
    start = resolve(store, rev, nb) if rev or head(store, nb) else None
    if start:
        store.cas_ref(ref, None, start, message=f"mlvc branch: from {start[:8]}")
    if switch:
        set_current_branch(store, nb, name)
    return {"name": name, "head": start, "current": switch}


@legacy_positional("repo", "notebook")
@reports_full_disk
def switch_branch(
    name: str,
    *,
    repo: str | os.PathLike[str] = ".",
    notebook: str | os.PathLike[str] | None = None,
) -> None:
    """Make ``name`` (an existing branch) the one new commits go to."""
    store = open_store(repo)
    nb = rel_notebook(store, notebook)
    if store.ref(branch_ref(nb, validate_name(name))) is None:
        raise RevisionNotFoundError(f"no branch {name!r}")
    set_current_branch(store, nb, name)


@legacy_positional("repo", "notebook")
@reports_full_disk
def delete_branch(
    name: str,
    *,
    repo: str | os.PathLike[str] = ".",
    notebook: str | os.PathLike[str] | None = None,
) -> None:
    """Delete the notebook's branch ``name`` (not the current one)."""
    store = open_store(repo)
    nb = rel_notebook(store, notebook)
    if current_branch(store, nb) == name:
        raise RefConflictError(f"cannot delete {name!r}: it is the current branch")
    ref = branch_ref(nb, validate_name(name))
    sha = store.ref(ref)
    if sha is None:
        raise RevisionNotFoundError(f"no branch {name!r}")
    store.cas_ref(ref, sha, None, message="mlvc branch delete")


@legacy_positional("repo", "notebook")
def tags(
    *, repo: str | os.PathLike[str] = ".", notebook: str | os.PathLike[str] | None = None
) -> list[TagInfo]:
    """The notebook's tags: ``name`` and ``commit``."""
    store = open_store(repo)
    nb = rel_notebook(store, notebook)
    return [{"name": name, "commit": sha} for name, sha in notebook_refs(store, TAGS, nb)]


@legacy_positional("repo", "notebook")
@reports_full_disk
def tag(
    name: str,
    rev: str | None = None,
    *,
    repo: str | os.PathLike[str] = ".",
    notebook: str | os.PathLike[str] | None = None,
    force: bool = False,
    delete: bool = False,
) -> TagInfo:
    """Tag ``rev`` (default HEAD) as ``name``; ``force`` moves an existing tag (an alias
    like ``champion``); ``delete`` removes it."""
    validate_name(name, "tag")
    store = open_store(repo)
    nb = rel_notebook(store, notebook)
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


@legacy_positional("repo", "notebook")
@reports_full_disk
def rename_branch(
    old: str,
    new: str,
    *,
    repo: str | os.PathLike[str] = ".",
    notebook: str | os.PathLike[str] | None = None,
) -> BranchInfo:
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
    store = open_store(repo)
    nb = rel_notebook(store, notebook)
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


@legacy_positional("repo", "notebook")
@reports_full_disk
def rename_tag(
    old: str,
    new: str,
    *,
    repo: str | os.PathLike[str] = ".",
    notebook: str | os.PathLike[str] | None = None,
) -> TagInfo:
    """Rename the notebook's tag ``old`` to ``new`` (same commit).

    Returns:
        ``name`` and ``commit``.

    Raises:
        InvalidNameError: a bad name. RefConflictError: ``new`` exists.
        RevisionNotFoundError: there is no tag ``old``.
    """
    validate_name(old, "tag")
    validate_name(new, "tag")
    store = open_store(repo)
    nb = rel_notebook(store, notebook)
    old_ref, new_ref = tag_ref(nb, old), tag_ref(nb, new)
    if store.ref(new_ref) is not None:
        raise RefConflictError(f"tag {new!r} already exists")
    sha = store.ref(old_ref)
    if sha is None:
        raise RevisionNotFoundError(f"no tag {old!r}")
    store.cas_ref(new_ref, None, sha, message=f"mlvc tag: renamed from {old}")
    store.cas_ref(old_ref, sha, None, message=f"mlvc tag: renamed to {new}")
    return {"name": new, "commit": sha}
