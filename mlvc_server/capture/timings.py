"""Timing helper for the ``timings`` section of a commit record."""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from time import perf_counter

__all__ = ["timed"]


@contextmanager
def timed(timings: MutableMapping[str, float], key: str) -> Iterator[None]:
    """Record the seconds spent in the ``with`` block under ``timings[key]``.

    The elapsed time (``time.perf_counter``) is added to any value already stored under
    ``key``, so timing the same step several times (e.g. one serializer call per
    variable) gives their total. The time is recorded even when the block raises.

    Args:
        timings: the mapping to record into, e.g. the commit record's ``timings`` dict.
        key: the name of the step, e.g. ``"variables"`` or ``"data"``.

    Yields:
        Nothing; the timing is written when the block exits.

    Example:
        >>> t: dict[str, float] = {}
        >>> with timed(t, "env"):
        ...     pass
        >>> t["env"] >= 0.0
        True
    """
    start = perf_counter()
    try:
        yield
    finally:
        timings[key] = timings.get(key, 0.0) + (perf_counter() - start)
