"""A full disk, reported as such.

Every write to the store (objects, refs, caches) can fail for lack of room. The failed
write cleans up after itself (temporary files are removed, locks released, refs left
where they were), and the operation raises :class:`~mlvc_server.errors.NoSpaceError`
instead of a bare ``OSError``, so that every front end can say what happened and what to
do.
"""

from __future__ import annotations

import errno
import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from ..errors import NoSpaceError

P = ParamSpec("P")
T = TypeVar("T")

#: ``errno`` values that mean "no room": a full disk, a full quota, a file size limit.
NO_SPACE = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})


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
        try:
            return func(*args, **kwargs)
        except OSError as exc:
            if exc.errno in NO_SPACE:
                raise no_space_error(exc) from exc
            raise

    return wrapper
