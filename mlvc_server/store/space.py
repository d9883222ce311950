"""A full disk, reported as such.

Every write to the store (objects, refs, caches) can fail for lack of room. The failed
write cleans up after itself (temporary files are removed, locks released, refs left
where they were), and the operation raises :class:`~mlvc_server.errors.NoSpaceError`
instead of a bare ``OSError``, so that every front end can say what happened and what to
do.

The same wrapper reports a store that cannot be written at all (a read-only file system,
or folders without write permission) as :class:`~mlvc_server.errors.ReadOnlyStoreError`,
and defers the payload index's move to just before the operation's own ref move
(:func:`.keep.deferred`), so that a write failing before that moves no ref at all.
"""

from __future__ import annotations

import errno
import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from ..errors import NoSpaceError, ReadOnlyStoreError

P = ParamSpec("P")
T = TypeVar("T")

#: ``errno`` values that mean "no room": a full disk, a full quota, a file size limit.
NO_SPACE = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
#: ``errno`` values that mean "this may not be written".
READ_ONLY = frozenset({errno.EROFS, errno.EACCES, errno.EPERM})


def read_only_error(exc: OSError) -> ReadOnlyStoreError:
    """The :class:`ReadOnlyStoreError` to raise for ``exc`` (errno in :data:`READ_ONLY`)."""
    where = f" ({exc.filename})" if exc.filename else ""
    return ReadOnlyStoreError(
        f"the store cannot be written: {exc.strerror or exc}{where}. Nothing was changed; "
        "reading (log, show, diff, load) still works. Make the folder writable (or open "
        "the project where you may write) to commit"
    )


def no_space_error(exc: OSError) -> NoSpaceError:
    """The :class:`NoSpaceError` to raise for ``exc`` (whose errno is in :data:`NO_SPACE`)."""
    where = f" ({exc.filename})" if exc.filename else ""
    return NoSpaceError(
        f"no space left to write the store: {exc.strerror or exc}{where}. Nothing was "
        "committed and the store is as it was; free some space (`mlvc gc` frees payloads "
        "that retention allows) and try again"
    )


def reports_full_disk(func: Callable[P, T]) -> Callable[P, T]:
    """Make ``func`` raise :class:`NoSpaceError` where a write found no room."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        from . import keep

        try:
            with keep.deferred():
                return func(*args, **kwargs)
        except OSError as exc:
            if exc.errno in NO_SPACE:
                raise no_space_error(exc) from exc
            if exc.errno in READ_ONLY and exc.filename and _in_store(str(exc.filename)):
                raise read_only_error(exc) from exc
            raise

    return wrapper


def _in_store(path: str) -> bool:
    """Whether ``path`` lies in an mlvc store (a permission error elsewhere, e.g. a data
    file the user may not read, is not the store's)."""
    return "/.mlvc/" in path.replace("\\", "/") + "/" or path.endswith(".mlvc")
