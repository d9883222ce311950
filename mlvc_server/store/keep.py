"""The payload index: which payload parts the store keeps, and why git may rely on them.

A commit's tree holds each variable's ``vars/<name>/manifest.json`` only; the parts (the
payload bytes) are named inside the manifest's *content*, which git does not follow. So
a commit stays complete for ``git fsck`` whether or not its parts are still here, and
retention can free the bytes of old commits without rewriting history.

What keeps parts alive (for mlvc's gc, for ``git gc``, ``git clone --mirror`` and
pushes to a git-only remote) is the **payload index**: the ref ``refs/mlvc/payloads``
points straight at a tree (not a commit, so ``git log --all`` does not show it) that
maps the id of a commit's ``vars`` tree to a *payload tree* holding that commit's
parts, each named by its own id (one flat tree: a commit writes one tree, whatever the
number of its variables)::

    <2 hex digits>/<vars tree id>/<part id>      a part blob
                                  <part id> ...

Keys are ``vars`` tree ids rather than commit ids: two commits with the same variables
share one entry, and the key is known before the commit object is (a commit re-parented
after a concurrent commit keeps its key). An entry may hold the parts of only some of
the variables (those fetched lazily from a payload remote, or the small ones retention
keeps). The index moves by compare-and-swap like any ref, without a reflog (git fsck
would otherwise want every old index back).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextvars import ContextVar

from ..errors import RefConflictError
from . import objects
from .repo import BEFORE_REF_MOVE, Store

#: The trees of a commit whose entries are payloads (``<name>/manifest.json``): the
#: variables, and the captured content of data files (:mod:`.datafiles`). The id of each
#: is a key of the index.
PAYLOAD_TREES: tuple[str, ...] = ("vars", "data")

#: The ref of the payload index.
INDEX_REF = b"refs/mlvc/payloads"
_TREE = 0o040000
_BLOB = 0o100644
_RETRIES = 50


def write_payload_tree(store: Store, variables: Mapping[str, Iterable[str]]) -> str:
    """Write the parts of ``{variable: part ids}`` as a payload tree; return its id."""
    return write_parts_tree(store, (p for ids in variables.values() for p in ids))


def write_parts_tree(store: Store, parts: Iterable[str]) -> str:
    """A payload tree holding ``parts`` (each named by its id)."""
    return store.write_tree({sha: (_BLOB, sha) for sha in set(parts)})


#: The index's root and bucket trees already read, by id (immutable content): a commit
#: reads the root and one bucket, which the previous commit of this process wrote.
_entries_memo: dict[str, dict[str, str]] = {}
_MEMO_LIMIT = 4096


def _tree_entries(store: Store, tree_id: str) -> dict[str, str]:
    """``{name: id}`` of a tree of the index (a copy, free to change)."""
    found = _entries_memo.get(tree_id)
    if found is None:
        found = {k.decode(): v.decode() for k, _m, v in store.tree(tree_id).iteritems()}
        _remember(tree_id, found)
    return dict(found)


def _remember(tree_id: str, entries: dict[str, str]) -> None:
    if len(_entries_memo) >= _MEMO_LIMIT:
        _entries_memo.clear()
    _entries_memo[tree_id] = dict(entries)


def _write_entries(store: Store, entries: dict[str, str]) -> str:
    """Write a tree of subtrees ``{name: tree id}`` (an index bucket or root)."""
    tree_id = store.write_tree({k: (_TREE, v) for k, v in entries.items()})
    _remember(tree_id, entries)
    return tree_id


def payload_tree_parts(store: Store, tree_id: str) -> set[str]:
    """The part ids a payload tree holds."""
    return {sha.decode() for _name, _mode, sha in store.tree(tree_id).iteritems()}


def payload_keys(store: Store, commit_tree: str) -> list[str]:
    """The index keys of a commit (the ids of its ``vars`` and ``data`` trees)."""
    keys = []
    for name in PAYLOAD_TREES:
        found = store.tree_lookup(commit_tree, name)
        if found:
            keys.append(found[1])
    return keys


def head(store: Store) -> str | None:
    """The current index (a tree id), or None when the store has none yet."""
    return store.ref(INDEX_REF)


def read(store: Store, index: str | None = None) -> dict[str, str]:
    """Every entry of the index (the tree ``index``, default the current one): vars
    tree id -> payload tree id."""
    index = index or head(store)
    if index is None:
        return {}
    entries: dict[str, str] = {}
    root = store.tree(index)
    for _fan, _mode, bucket in root.iteritems():
        for key, _m, value in store.tree(bucket.decode()).iteritems():
            entries[key.decode()] = value.decode()
    return entries


def lookup(store: Store, vars_tree: str, index: str | None = None) -> str | None:
    """The payload tree kept for ``vars_tree``, or None."""
    index = index or head(store)
    if index is None:
        return None
    found = store.tree_lookup(index, f"{vars_tree[:2]}/{vars_tree}")
    return found[1] if found else None


class Buckets:
    """The index as fan-out buckets (``"ab"`` -> {key: payload tree}), read lazily: a
    commit touches one bucket, so it reads and writes that one and the root only."""

    def __init__(self, store: Store, index: str | None) -> None:
        self._store = store
        self._root: dict[str, str] = {}
        if index is not None:
            self._root = _tree_entries(store, index)
        self._loaded: dict[str, dict[str, str]] = {}
        self._dirty: set[str] = set()

    def fans(self) -> list[str]:
        """Every fan-out bucket name (present or added)."""
        return sorted(set(self._root) | set(self._loaded))

    def get(self, fan: str) -> dict[str, str]:
        """Bucket ``fan`` (empty if absent), for reading."""
        if fan not in self._loaded:
            tree = self._root.get(fan)
            self._loaded[fan] = _tree_entries(self._store, tree) if tree else {}
        return self._loaded[fan]

    def edit(self, fan: str) -> dict[str, str]:
        """Bucket ``fan``, for changing (it is written back)."""
        self._dirty.add(fan)
        return self.get(fan)

    def items(self) -> list[tuple[str, dict[str, str]]]:
        """Every bucket, all read (gc)."""
        return [(fan, self.get(fan)) for fan in self.fans()]

    def write(self) -> str:
        """Write the changed buckets and the root; return the root tree id."""
        root: dict[str, str] = {}
        for fan in self.fans():
            if fan in self._dirty:
                entries = self._loaded[fan]
                if not entries:
                    continue
                root[fan] = _write_entries(self._store, entries)
            else:
                root[fan] = self._root[fan]
        return _write_entries(self._store, root)


def _merge_payload_trees(store: Store, a: str, b: str) -> str:
    """Union of two payload trees of one key (the parts of either)."""
    if a == b:
        return a
    return write_parts_tree(store, payload_tree_parts(store, a) | payload_tree_parts(store, b))


_UNREAD = "unread"


def update(
    store: Store, change: Callable[[Buckets], bool], *, current: str | None = _UNREAD
) -> str | None:
    """Apply ``change`` to the index and move the index ref by compare-and-swap,
    retrying from a fresh read if another process moved it. ``change`` returns False
    to leave the index as it is. ``current``: the index as the caller just read it (the
    first try starts from it; the compare-and-swap finds out if it is stale).

    Returns:
        The index now in place (None if there is still none).
    """
    for attempt in range(_RETRIES):
        old = head(store) if attempt or current == _UNREAD else current
        buckets = Buckets(store, old)
        if not change(buckets):
            return old
        new = buckets.write()
        if new == old:
            return old
        try:
            store.cas_ref(INDEX_REF, old, new, reflog=False)
            return new
        except RefConflictError:
            time.sleep(min(0.001 * 2**attempt, 0.05))
    raise RefConflictError("the payload index kept moving under us (too many concurrent writers)")


def add(store: Store, entries: Mapping[str, str]) -> str | None:
    """Keep the parts of ``entries`` (vars tree id -> payload tree id).

    Every part the payload trees name must already be in the store. An existing entry
    of the same key is merged with the new one (union of their variables). The payload
    trees are touched, so that a concurrent gc sees them as new (see :mod:`.gc`).
    """
    for tree in set(entries.values()):
        if not store.known_packed(tree):
            objects.freshen(store.objects_dir, tree)
    pending = _deferred.get()
    if pending is not None:
        # inside :func:`deferred`: the index moves just before the next ref of this store
        # does (the commit's branch), so that a write failing meanwhile moves no ref
        pending.setdefault(store.path, (store, {}))[1].update(entries)
        return head(store)
    return _add_now(store, entries)


def _add_now(store: Store, entries: Mapping[str, str], current: str | None = _UNREAD) -> str | None:
    def change(buckets: Buckets) -> bool:
        changed = False
        for key, tree in entries.items():
            bucket = buckets.edit(key[:2])
            old = bucket.get(key)
            merged = tree if old is None else _merge_payload_trees(store, old, tree)
            if merged != old:
                bucket[key] = merged
                changed = True
        return changed

    return update(store, change, current=current)


#: Index entries waiting for the next ref move of their store (see :func:`deferred`).
_deferred: ContextVar[dict[object, tuple[Store, dict[str, str]]] | None] = ContextVar(
    "mlvc_deferred_index", default=None
)


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Within this block, :func:`add` moves the payload index only just before another
    ref of the same store moves (a commit's branch), or when the block ends without an
    error. A block that fails before that (a full disk writing the commit's record)
    leaves ``refs/mlvc/payloads`` where it was, like every other ref. Nested blocks join
    the outermost one."""
    if _deferred.get() is not None:
        yield
        return
    token = _deferred.set({})
    failed = True
    try:
        yield
        failed = False
    finally:
        pending = _deferred.get() or {}
        _deferred.reset(token)
        if not failed:
            for st, entries in pending.values():
                _add_now(st, entries)


def _flush_before(store: Store, ref: bytes) -> Callable[[], None] | None:
    pending = _deferred.get()
    if not pending or ref == INDEX_REF or store.path not in pending:
        return None
    st, entries = pending.pop(store.path)
    old = head(st)
    new = _add_now(st, entries, old)
    if new == old:
        return None

    def undo() -> None:  # the ref did not move after all: nor does the index
        pending.setdefault(st.path, (st, {}))[1].update(entries)
        if new is not None:
            st.cas_ref(INDEX_REF, new, old, reflog=False)

    return undo


BEFORE_REF_MOVE.append(_flush_before)
