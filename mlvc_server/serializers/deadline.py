"""A time limit on serializing one variable, so that one slow value cannot hang a commit.

A value's serialization runs user code (``__reduce__``, ``__getstate__``, a library's
``state_dict``...) that may be slow or never end. :func:`serialize_within` runs
:func:`~mlvc_server.serializers.serialize` in a worker thread and waits at most
``seconds``; past that the caller gets :class:`SerializationTimeoutError` (the commit skips
and names the variable) while the worker is told to stop:

- an exception is raised asynchronously in the worker thread
  (``PyThreadState_SetAsyncExc``), which ends Python code at its next bytecode: a
  ``__reduce__`` stuck in a loop, pickling of a huge object graph;
- code that never returns to Python (a C extension spinning, a blocking read) cannot be
  stopped in-process: that thread is abandoned (a daemon, so it does not keep the
  interpreter alive) and its result, if it ever comes, is dropped. It keeps its CPU and
  the memory it holds until it ends.

A subprocess could be killed outright, but would need the value sent to it, which means
serializing it: the thing that hangs. A deadline checked between chunks would stop
only our own loops, not user code. See docs/reliability.md.

Each calling thread has its own worker (the server commits from several threads at once);
a worker is reused while it behaves, so the cost per variable is one hand-off between
threads (tens of microseconds idle, milliseconds on a busy machine: the worker must be
scheduled), not a thread start.

Values whose serialization runs no user code and is bounded by their size (numbers,
strings, bytes, plain numeric numpy arrays, and small lists, tuples and dicts of those,
with only the built-in serializers registered) are serialized in the calling thread,
with no hand-off: they cannot hang, and they are most variables of a notebook.
"""

from __future__ import annotations

import ctypes
import functools
import queue
import threading
from collections.abc import Callable
from typing import Any

from ..errors import SerializationTimeoutError, UnsupportedTypeError
from .base import Payload, qualified_type_name

#: The default limit, in seconds, on serializing one variable.
DEFAULT_SECONDS = 60.0
#: Containers with more items than this go to the worker thread (walking them costs).
_INLINE_ITEMS = 1000
_SCALARS = (int, float, bool, complex, type(None))
#: numpy dtype kinds whose ``.npy`` form is the array's memory: b(ool), i(nt), u(int),
#: f(loat), c(omplex), m (timedelta), M (datetime).
_PLAIN_KINDS = frozenset("biufcmM")
#: How often an idle worker checks that the thread it serves still exists.
_IDLE_CHECK_SECONDS = 10.0


class _Abandoned(BaseException):
    """Raised in a worker thread to stop a serialization nobody waits for any more."""


class _Job:
    def __init__(self, fn: Callable[[], Payload]) -> None:
        self.fn = fn
        self.done = threading.Event()
        self.result: Payload | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.result = self.fn()
        except BaseException as e:  # handed to the waiting thread (or dropped)
            self.error = e
        finally:
            self.done.set()


class _Worker:
    """A daemon thread running serialization jobs one after another for one thread (its
    owner); it ends when the owner has ended."""

    def __init__(self) -> None:
        self.owner = threading.current_thread()
        self.jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._loop, name="mlvc-serialize", daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        try:
            while True:
                try:
                    job = self.jobs.get(timeout=_IDLE_CHECK_SECONDS)
                except queue.Empty:
                    if self.owner.is_alive():
                        continue
                    return
                if job is None:
                    return
                job.run()
                # the value it serialized is not held while the worker waits
                job.fn = None  # type: ignore[assignment]
                del job
        except _Abandoned:  # arrived after its job ended: just stop
            pass

    def abandon(self) -> None:
        """Stop the running job if it is in Python code; end the thread when it can."""
        self.jobs.put(None)
        ident = self.thread.ident
        if ident is not None and self.thread.is_alive():
            ctypes.pythonapi.PyThreadState_SetAsyncExc(
                ctypes.c_ulong(ident), ctypes.py_object(_Abandoned)
            )


_local = threading.local()


def _worker() -> _Worker:
    worker: _Worker | None = getattr(_local, "worker", None)
    if worker is None or not worker.thread.is_alive():
        worker = _local.worker = _Worker()
    return worker


def runs_no_user_code(value: Any) -> bool:
    """Whether serializing ``value`` runs no user code and takes time bounded by its
    size: then it needs no time limit (and no thread hand-off)."""
    from . import serializers

    if not all(type(s).__module__.startswith("mlvc_server.") for s in serializers()):
        return False  # a plugin serializer may be asked first
    budget = [_INLINE_ITEMS]
    return _plain(value, budget)


def _plain(value: Any, budget: list[int]) -> bool:
    budget[0] -= 1
    if budget[0] < 0:
        return False
    t = type(value)
    if t in _SCALARS or t is str or t is bytes:
        return True
    if t is list or t is tuple:
        return all(_plain(v, budget) for v in value)
    if t is dict:
        return all(type(k) is str and _plain(v, budget) for k, v in value.items())
    np = _numpy()
    if np is not None and (t is np.ndarray or isinstance(value, np.generic)):
        return value.dtype.kind in _PLAIN_KINDS and value.dtype.names is None
    return False


def _numpy() -> Any:
    """numpy if it is imported already (a value cannot be an array otherwise)."""
    import sys

    return sys.modules.get("numpy")


def serialize_within(value: Any, seconds: float | None, **kwargs: Any) -> Payload:
    """:func:`~mlvc_server.serializers.serialize` with a time limit.

    Args:
        value: the value of a variable.
        seconds: the limit; None, 0 or less for none (then it runs in this thread).
        **kwargs: passed on to ``serialize`` (``allow_pickle``, ``max_bytes``).

    Returns:
        The payload.

    Raises:
        SerializationTimeoutError: the limit passed (the value is not stored).
        UnsupportedTypeError: as ``serialize``.
    """
    from .fingerprint import snapshot_memo

    memo = snapshot_memo()
    if memo is None:
        return _serialize_within(value, seconds, **kwargs)
    # inside a snapshot (a status, then the commit of the same values): serialized once
    options = {"allow_pickle": True, "max_bytes": None, **kwargs}  # serialize's defaults
    key = ("payload", id(value), seconds, tuple(sorted(options.items(), key=repr)))
    hit = memo.get(key)
    if hit is not None and hit[0] is value:
        payload: Payload = hit[1]
        return payload
    payload = _serialize_within(value, seconds, **kwargs)
    memo[key] = (value, payload)
    return payload


def _serialize_within(value: Any, seconds: float | None, **kwargs: Any) -> Payload:
    from . import serialize

    if seconds is None or seconds <= 0 or runs_no_user_code(value):
        return serialize(value, **kwargs)
    worker = _worker()
    job = _Job(functools.partial(serialize, value, **kwargs))
    worker.jobs.put(job)
    try:
        finished = job.done.wait(seconds)
    except BaseException:  # interrupted (Ctrl-C in the kernel): stop the worker too
        _local.worker = None
        worker.abandon()
        raise
    if not finished:
        _local.worker = None
        worker.abandon()
        raise SerializationTimeoutError(
            f"cannot store {qualified_type_name(value)}: serializing it took longer than "
            f"{seconds:g} s (max_serialize_seconds); store a smaller value, or raise the limit"
        )
    if job.result is None:
        raise job.error or UnsupportedTypeError("serialization gave no payload")
    return job.result
