"""``pickle``: the fallback, cloudpickle (so functions and classes defined in a notebook
are stored by value). One segment, a plain pickle stream (``pickle.loads`` reads it when
cloudpickle is installed).

Loading a pickle runs code chosen by whoever wrote it, so the format is ``unsafe``: the
registry loads it only with ``trusted=True``. Objects that hold process-local state
(generators, locks, open files, sockets; see :mod:`.unstorable`) are refused with a
reason, also when found nested inside the object, instead of being half-stored.
"""

from __future__ import annotations

import functools
import io
import pickle
import sys
from typing import Any

from ..errors import TooLargeError, TrustError, UnsupportedTypeError
from .base import Payload, PayloadReader, Segment, qualified_type_name
from .json_format import preview
from .unstorable import unstorable_reason

PROTOCOL = 5


class _LimitedWriter(io.RawIOBase):
    """A write-only stream that keeps the chunks it gets and stops past ``limit`` bytes."""

    def __init__(self, limit: int | None) -> None:
        super().__init__()
        self.chunks: list[bytes] = []
        self.size = 0
        self.limit = limit

    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        n = memoryview(b).nbytes
        self.size += n
        if self.limit is not None and self.size > self.limit:
            raise TooLargeError(self.limit)
        self.chunks.append(bytes(b))
        return n


@functools.cache
def _pickler_class() -> Any:
    import cloudpickle

    class CheckingPickler(cloudpickle.Pickler):  # type: ignore[misc]
        """cloudpickle, refusing unstorable objects met anywhere in the graph."""

        def reducer_override(self, obj: Any) -> Any:
            reason = unstorable_reason(obj, nested=True)
            if reason is not None:
                raise UnsupportedTypeError(f"it contains {reason}")
            return super().reducer_override(obj)

    return CheckingPickler


def _make_pickler(file: Any) -> Any:
    return _pickler_class()(file, protocol=PROTOCOL)


def pickle_bytes(obj: Any, max_bytes: int | None = None) -> bytes:
    """Pickle ``obj`` with cloudpickle, refusing unstorable parts.

    Args:
        obj: the object.
        max_bytes: stop (raising :class:`TooLargeError`) once the pickle grows past this.

    Returns:
        The pickle stream.

    Raises:
        UnsupportedTypeError: an unstorable object was found, the pickle was too large,
            or pickling failed (the message says why).
    """
    writer = _LimitedWriter(max_bytes)
    try:
        _make_pickler(writer).dump(obj)
    except UnsupportedTypeError:
        raise
    except RecursionError as exc:
        raise UnsupportedTypeError(f"pickling failed: structure too deep ({exc})") from exc
    except Exception as exc:
        raise UnsupportedTypeError(f"pickling failed: {type(exc).__name__}: {exc}") from exc
    return b"".join(writer.chunks)


class PickleSerializer:
    """Anything cloudpickle can pickle; needs trust to load."""

    format = "pickle"
    unsafe = True
    checks_trust = True
    #: ``dump`` takes ``max_bytes`` and stops early instead of building a huge pickle.
    supports_max_bytes = True

    def accepts(self, obj: Any) -> bool:
        """Anything not refused by kind (pickling itself may still fail in ``dump``)."""
        return unstorable_reason(obj) is None

    def estimate_size(self, obj: Any) -> int | None:
        """Unknown before pickling (``dump`` enforces the limit while writing)."""
        return None

    def dump(self, obj: Any, max_bytes: int | None = None) -> Payload:
        """One segment: the cloudpickle stream."""
        import cloudpickle

        reason = unstorable_reason(obj)
        if reason is not None:
            raise UnsupportedTypeError(reason)
        data = pickle_bytes(obj, max_bytes)
        meta = {
            "type": qualified_type_name(obj),
            "value_preview": preview(obj),
            "protocol": PROTOCOL,
            "cloudpickle": cloudpickle.__version__,
            "python": "{}.{}".format(*sys.version_info[:2]),
        }
        return Payload(
            format=self.format,
            segments=[Segment("pickle", data, len(data))],
            meta=meta,
            extension="pkl",
        )

    def load(self, meta: dict[str, Any], reader: PayloadReader, *, trusted: bool = False) -> Any:
        """Unpickle, only when ``trusted``.

        Raises:
            TrustError: ``trusted`` is False.
        """
        if not trusted:
            raise TrustError(
                f"this variable ({meta.get('type', 'unknown type')}) is stored as a pickle; "
                "loading it executes code from the payload: load it with trusted=True only "
                "if you trust who wrote this commit"
            )
        return pickle.loads(reader.read_segment(0))
