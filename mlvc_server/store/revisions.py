"""Revision names: a full or abbreviated commit id, a branch, a tag, ``HEAD``, ``X~N``, ``X^``.

Branch and tag names are looked up in the namespace of the notebook at hand first; with
no notebook, a name that is unique across notebooks is accepted.
"""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path

from ..errors import RevisionNotFoundError
from .refs import DEFAULT_BRANCH, HEADS, TAGS, branch_ref, notebook_key, split_ref, tag_ref
from .repo import Store

_SUFFIX = re.compile(r"(~\d*|\^+)$")
_HEX = re.compile(r"^[0-9a-f]{4,40}$")


def _heads_file(store: Store, notebook: str | None, folder: str = "current") -> Path:
    key = notebook_key(notebook).replace("/", "%2F")
    if len(key.encode()) > 200:  # deep paths: keep the file name within 255 bytes
        import hashlib  # here, not at the top: loading OpenSSL slows every start

        key = "sha1-" + hashlib.sha1(key.encode()).hexdigest()
    return store.state_dir / folder / key


_FULL_ID = re.compile(r"^[0-9a-f]{40}$")


def detached(store: Store, notebook: str | None) -> str | None:
    """The commit the notebook was checked out at when that is not its current branch's
    tip (a *detached* HEAD), else None."""
    try:
        cid = _heads_file(store, notebook, "detached").read_text().strip()
    except FileNotFoundError:
        return None
    return cid if _FULL_ID.match(cid) else None


def set_detached(store: Store, notebook: str | None, cid: str | None) -> None:
    """Record that the notebook is checked out at ``cid``, not at its branch's tip; None:
    it is back on its branch."""
    path = _heads_file(store, notebook, "detached")
    if cid is None:
        path.unlink(missing_ok=True)
        return
    path.parent.mkdir(exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_text(cid + "\n")
    os.replace(tmp, path)


def current_branch(store: Store, notebook: str | None) -> str:
    """The branch new commits of ``notebook`` go to (``main`` until switched)."""
    try:
        name = _heads_file(store, notebook).read_text().strip()
        return name or DEFAULT_BRANCH
    except FileNotFoundError:
        return DEFAULT_BRANCH


def set_current_branch(store: Store, notebook: str | None, branch: str) -> None:
    path = _heads_file(store, notebook)
    path.parent.mkdir(exist_ok=True)
    # a temporary file per process *and thread*: the server switches in worker threads
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_text(branch + "\n")
    os.replace(tmp, path)
    set_detached(store, notebook, None)


def branch_tip(store: Store, notebook: str | None) -> str | None:
    """The tip of the notebook's current branch (None before its first commit)."""
    return store.ref(branch_ref(notebook, current_branch(store, notebook)))


def head(store: Store, notebook: str | None) -> str | None:
    """The commit the notebook is at: the commit it was checked out at when detached,
    else the tip of its current branch (None before its first commit)."""
    return detached(store, notebook) or branch_tip(store, notebook)


def _by_name(store: Store, name: str, notebook: str | None) -> str | None:
    if name.startswith("refs/"):
        return store.ref(name.encode())
    if notebook is not None or name.count("/") == 0:
        for ref in (branch_ref(notebook, name), tag_ref(notebook, name)):
            sha = store.ref(ref)
            if sha:
                return _peel(store, sha)
    # a name unique across notebooks, or a qualified "<notebook>/<branch>"
    found: set[str] = set()
    for ref, ref_value in store.all_refs().items():
        for prefix in (HEADS, TAGS):
            split = split_ref(ref, prefix)
            if split is None:
                continue
            nb, short = split
            qualified = f"{nb}/{short}" if nb else short
            if (notebook is None and short == name) or qualified == name:
                found.add(_peel(store, ref_value))
    if len(found) > 1:
        raise RevisionNotFoundError(
            f"{name!r} names commits in several notebooks: say which notebook, or use an id"
        )
    return found.pop() if found else None


def _peel(store: Store, sha: str) -> str:
    if store.raw_object(sha)[0] == 1:  # a commit (the common case, without dulwich)
        return sha
    from dulwich.objects import Commit

    obj = store.get(sha)
    while not isinstance(obj, Commit):
        target = getattr(obj, "object", None)
        if target is None:
            raise RevisionNotFoundError(f"{sha} is not a commit")
        obj = store.get(target[1].decode())
    return obj.id.decode()


def resolve(store: Store, rev: str | None, notebook: str | None = None) -> str:
    """The commit id that ``rev`` names.

    Raises:
        RevisionNotFoundError: nothing matches, or an abbreviation is ambiguous.
    """
    rev = (rev or "HEAD").strip()
    m = _SUFFIX.search(rev)
    if m and m.start() > 0:
        base = resolve(store, rev[: m.start()], notebook)
        suffix = m.group(1)
        if suffix.startswith("~") and len(suffix) > 12:  # int() refuses 4,300 digits
            raise RevisionNotFoundError(f"{rev[:40]!r}...: the history is shorter than that")
        steps = (int(suffix[1:] or 1)) if suffix.startswith("~") else len(suffix)
        walk = base
        for _ in range(steps):
            parents = store.commit_obj(walk).parents
            if not parents:
                raise RevisionNotFoundError(f"{rev!r}: the history is shorter than that")
            walk = parents[0].decode()
        return walk
    if rev == "HEAD":
        tip = head(store, notebook)
        if tip is None and notebook is None:
            tip = store.ref(b"HEAD")
        if tip is None:
            raise RevisionNotFoundError("no commits yet on the current branch")
        return tip
    named = _by_name(store, rev, notebook)
    if named:
        return named
    if _HEX.match(rev):
        matches = [s for s in store.ids_with_prefix(rev.lower()) if store.raw_object(s)[0] == 1]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise RevisionNotFoundError(f"{rev!r} is ambiguous: it starts {len(matches)} ids")
    raise RevisionNotFoundError(f"unknown revision {rev!r}")


def last_notebook(store: Store) -> str | None:
    """The notebook of the branch the store's HEAD points at (the last one committed
    to), or None."""
    target = store.symbolic_head()
    if target is None:
        return None
    split = split_ref(target, HEADS)
    return split[0] if split and split[0] else None


def notebook_refs(store: Store, prefix: str, notebook: str | None) -> list[tuple[str, str]]:
    """``(name, commit id)`` of the notebook's refs under ``prefix`` (:data:`.refs.HEADS`
    for branches, :data:`.refs.TAGS` for tags), sorted by name."""
    out = []
    for ref, sha in sorted(store.refs_under(f"{prefix}{notebook_key(notebook)}/".encode()).items()):
        split = split_ref(ref, prefix)
        if split is not None and split[0] == notebook:
            out.append((split[1], sha))
    return out
