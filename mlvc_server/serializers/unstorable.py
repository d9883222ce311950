"""Kinds of objects that must not be stored, with the reason told to the user.

These hold process-local state (a running frame, an OS lock, a file descriptor, a
connection) that no format can capture, or are code rather than data (modules). Pickle
"succeeds" on a few of them (``io.BytesIO``, a module by reference) and would give back
something that silently is not what the user had, so they are refused by kind.

Only the standard library is consulted, and only modules that are already imported:
an object of a module that was never imported cannot exist in this process.
"""

from __future__ import annotations

import io
import sys
import types
from typing import Any

from .base import qualified_type_name

_SYNC_MODULES = (
    "threading",
    "_thread",
    "multiprocessing.synchronize",
    "asyncio.locks",
    "multiprocessing.managers",
)
_SYNC_NAMES = {
    "lock",
    "rlock",
    "_rlock",
    "condition",
    "semaphore",
    "boundedsemaphore",
    "event",
    "barrier",
    "thread",
    "timer",
    "_dummythread",
    "_mainthread",
    "local",
    "_local",
}


def unstorable_reason(obj: Any, *, nested: bool = False) -> str | None:
    """Why ``obj`` must not be stored, or None when nothing speaks against it.

    Args:
        obj: the object to check (only its type is looked at, no attribute is called).
        nested: True when ``obj`` is found inside another object being pickled; modules
            are then allowed (cloudpickle stores a reference to an importable module that
            a function uses, which is what the user expects).

    Returns:
        A sentence for humans, or None.
    """
    name = qualified_type_name(obj)
    if isinstance(obj, types.GeneratorType | types.AsyncGeneratorType):
        return (
            f"{name} is a generator: its paused execution state cannot be saved; "
            "store the values it produces instead (e.g. list(gen))"
        )
    if isinstance(obj, types.CoroutineType):
        return f"{name} is a coroutine: a pending computation cannot be saved; store its result"
    if isinstance(obj, types.FrameType | types.TracebackType):
        return f"{name} is an interpreter frame/traceback of a running program and cannot be saved"
    if isinstance(obj, types.ModuleType) and not nested:
        return (
            f"{name} {getattr(obj, '__name__', '?')!r} is a module (code, not data); "
            "it is re-imported by the notebook, not stored"
        )
    cls = type(obj)
    module = getattr(cls, "__module__", "") or ""
    if module in _SYNC_MODULES and cls.__name__.lower() in _SYNC_NAMES:
        return (
            f"{name} is a threading/synchronization primitive: it holds OS state "
            "local to this process and cannot be saved"
        )
    if isinstance(obj, io.IOBase) or module == "tempfile":
        return (
            f"{name} is an open file or file-like object: store its contents "
            "(e.g. f.read() or the file path) instead"
        )
    sock = sys.modules.get("socket")
    if sock is not None and isinstance(obj, sock.socket):
        return f"{name} is a network socket: a live connection cannot be saved"
    mmap = sys.modules.get("mmap")
    if mmap is not None and isinstance(obj, mmap.mmap):
        return f"{name} is a memory map of a file: store the file path or a copy of its bytes"
    if module in ("sqlite3", "_sqlite3") and cls.__name__ in ("Connection", "Cursor"):
        return f"{name} is a database connection: a live connection cannot be saved"
    return None
