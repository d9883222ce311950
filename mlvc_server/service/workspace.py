"""The workspace: the stores this process has open and what it caches about them.

Every service operation gets its store through :func:`workspace` (one object per
process, no other module-level state): opening a store once per process keeps its
hash cache and stat caches warm, which is what makes a repeated ``status`` or commit
cheap. Tests that need a cold start call :meth:`Workspace.reset`.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InvalidNameError, MlvcError
from ..store import Store, find_root, summaries
from ..store.refs import notebook_key

if TYPE_CHECKING:
    from ..capture import DataHasher

#: Entries kept in the memo of part ids by variable tree (immutable, so never stale).
PARTS_MEMO_LIMIT = 100_000


class Workspace:
    """Open stores and their caches, for one process.

    Attributes:
        pending: params, metrics and metric series logged with ``log_params`` /
            ``log_metrics``, attached to the next commit made in this process.
        parts_memo: variable tree id -> the part ids of its payload.
        record_entries: manifest id -> a variable's entry in a commit record (the
            manifest, hence the entry, never changes), built once per process.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stores: dict[Path, Store] = {}
        self._hashers: dict[Path, DataHasher] = {}
        self.pending: dict[str, dict[str, Any]] = {"params": {}, "metrics": {}, "series": {}}
        self.parts_memo: dict[str, list[str]] = {}
        self.record_entries: dict[str, dict[str, Any]] = {}
        self._json_blobs: dict[tuple[Path, str], tuple[Mapping[str, Any], str]] = {}

    def reset(self) -> None:
        """Forget every open store and cache (as a new process would start)."""
        from ..store import producers  # (the lineage index: not loaded by log or status)

        with self._lock:
            for st in self._stores.values():
                with contextlib.suppress(Exception):  # a broken store is as closed as it gets
                    st.close()
            self._stores.clear()
            self._hashers.clear()
            summaries.clear_memo()
            producers.clear_memo()
            self.parts_memo.clear()
            self.record_entries.clear()
            self._json_blobs.clear()
            self.clear_pending()

    def clear_pending(self) -> None:
        """Drop the params and metrics logged for the next commit."""
        self.pending = {"params": {}, "metrics": {}, "series": {}}

    def init(self, path: str | os.PathLike[str]) -> Store:
        """Create (idempotently) and open the store at ``path``."""
        with self._lock:
            st = Store.init(Path(path).resolve())
            self._stores[st.root] = st
            return st

    def store(self, repo: str | os.PathLike[str], create: bool = False) -> Store:
        """The store of the project holding ``repo`` (created there when ``create``).

        Raises:
            MlvcError: no store at or above ``repo`` and ``create`` is False.
        """
        try:
            root = find_root(repo)
        except MlvcError:
            if not create:
                raise
            return self.init(repo)
        with self._lock:
            st = self._stores.get(root)
            if st is None:
                st = self._stores[root] = Store(root)
            return st

    def data_hasher(self, store: Store) -> DataHasher:
        """One DataHasher per store and process, so its stat cache stays in memory."""
        from ..capture import DataHasher

        with self._lock:
            hasher = self._hashers.get(store.root)
            if hasher is None:
                hasher = self._hashers[store.root] = DataHasher(store.state_dir / "data-cache.json")
            return hasher

    def json_blob(self, store: Store, key: str, value: Mapping[str, Any]) -> str:
        """The blob of ``value`` as canonical JSON (:func:`.format.dumps`), written once:
        the environment and hardware of a process rarely change between its commits, so
        an equal value reuses the blob written last time without encoding it again."""
        from .format import dumps

        memo_key = (store.root, key)
        last = self._json_blobs.get(memo_key)
        if last is not None and last[0] == value and store.has_object(last[1]):
            return last[1]
        sha = store.add_bytes(dumps(value))
        self._json_blobs[memo_key] = (value, sha)
        return sha

    def remember_parts(self, tree_id: str, parts: list[str]) -> None:
        """Remember the part ids of a variable tree (bounded memo)."""
        if len(self.parts_memo) >= PARTS_MEMO_LIMIT:
            self.parts_memo.clear()
            self._json_blobs.clear()
        self.parts_memo[tree_id] = parts


_WORKSPACE = Workspace()
# close open stores before the interpreter tears modules down (dulwich's finalizers
# would otherwise complain at exit)
atexit.register(_WORKSPACE.reset)


def workspace() -> Workspace:
    """This process's workspace."""
    return _WORKSPACE


def rel_notebook(store: Store, notebook: str | os.PathLike[str] | None) -> str | None:
    """The notebook path relative to the project root, as POSIX (None stays None).

    Relative paths are taken from the current directory when that lands inside the
    project, else from the project root.

    Raises:
        InvalidNameError: the notebook is outside the project, or a bad name.
    """
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


def open_store(repo: str | os.PathLike[str], create: bool = False) -> Store:
    """Shorthand for ``workspace().store(repo, create)``."""
    return _WORKSPACE.store(repo, create)
