"""The contract between serializers and the store.

A serializer turns a Python object into a :class:`Payload`: a format name, a JSON-able
``meta`` dict, and an ordered list of :class:`Segment` s whose concatenation is the
serialized file (an ``.npy`` file, a ``.safetensors`` file, a parquet file, ...).
The store writes each segment as one or more git blobs (fixed-size chunks inside big
segments), so splitting at natural boundaries (one segment per tensor) makes unchanged
parts deduplicate exactly. Segments expose their bytes without copying where they can.

Reading back, the serializer gets a :class:`PayloadReader` over the stored segments.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

#: Anything the buffer protocol gives as contiguous bytes (bytes, memoryview, numpy array).
Buffer = Any


@dataclass
class Segment:
    """One part of a payload.

    Attributes:
        name: a label for humans and for diffs (a tensor name, ``"header"``, ``"data"``).
        data: the bytes, as any object supporting the buffer protocol (C-contiguous), or
            ``None`` when ``materialize`` must be used (e.g. a tensor on a GPU).
        size: the length in bytes.
        fingerprint: an optional strong fingerprint computed by the serializer (e.g. on
            the GPU) that identifies the content; when set, the store uses it instead of
            hashing ``data`` to decide whether the segment is unchanged.
        materialize: when ``data`` is None, a callable yielding the bytes in order as
            buffers (bounded size each), used only when the store must write the bytes.
    """

    name: str
    data: Buffer | None
    size: int
    fingerprint: str | None = None
    materialize: Callable[[], Iterator[Buffer]] | None = None

    def chunks(self, max_size: int = 1 << 24) -> Iterator[memoryview]:
        """Yield the bytes of this segment as memoryviews of at most ``max_size`` bytes."""
        if self.data is not None:
            view = memoryview(self.data).cast("B")
            for start in range(0, len(view), max_size):
                yield view[start : start + max_size]
            return
        if self.materialize is None:
            raise ValueError(f"segment {self.name!r} has neither data nor materialize")
        for buf in self.materialize():
            view = memoryview(buf).cast("B")
            for start in range(0, len(view), max_size):
                yield view[start : start + max_size]


@dataclass
class Payload:
    """What a serializer produced for one variable."""

    format: str
    segments: list[Segment]
    #: JSON-able facts about the value: ``type`` (qualified type name) always; ``shape``,
    #: ``dtype``, ``tensors`` ... where they apply; plus what ``load`` needs to rebuild it.
    meta: dict[str, Any] = field(default_factory=dict)
    #: File name extension of the concatenated segments (``npy``, ``safetensors``, ...).
    extension: str = "bin"

    @property
    def size(self) -> int:
        return sum(s.size for s in self.segments)


@runtime_checkable
class PayloadReader(Protocol):
    """Read access to a stored payload, segment by segment."""

    @property
    def segment_names(self) -> list[str]: ...

    def segment_size(self, index: int) -> int: ...

    def read_segment(self, index: int) -> bytes:
        """The bytes of one segment."""
        ...

    def readinto_segment(self, index: int, buffer: Buffer) -> None:
        """Fill ``buffer`` (writable, exactly ``segment_size(index)`` bytes) with a segment."""
        ...

    def open(self) -> io.RawIOBase:
        """A readable stream over the concatenation of all segments."""
        ...


class Serializer(Protocol):
    """A format in the registry. Implementations import their libraries lazily."""

    #: Format name recorded in the commit (``npy``, ``parquet``, ``safetensors``, ...).
    format: str
    #: True when loading may execute code (pickle); such payloads need trust to load.
    unsafe: bool

    def accepts(self, obj: Any) -> bool:
        """Whether this serializer can store ``obj``. Must not import heavy modules unless
        ``obj`` already comes from them (check ``type(obj).__module__`` first)."""
        ...

    def dump(self, obj: Any) -> Payload:
        """Turn ``obj`` into a payload, without copying big buffers where possible."""
        ...

    def load(self, meta: dict[str, Any], reader: PayloadReader) -> Any:
        """Rebuild the object from what ``dump`` produced."""
        ...


class Decline(Exception):
    """Raised by :meth:`Serializer.dump` when, looking closer than ``accepts`` did, the
    format cannot hold ``obj`` exactly (a DataFrame column pyarrow cannot represent, a
    tensor subclass...). The registry then tries the next serializer; the message says
    why, and is kept for the error shown when no serializer is left."""


#: Serializers that set ``checks_trust = True`` take ``load(meta, reader, *, trusted=False)``
#: and decide themselves, from the stored bytes, whether loading would execute code; they
#: raise :class:`mlvc_server.errors.TrustError` when it would and ``trusted`` is False.
#: The registry passes ``trusted`` only to them; for the others it refuses ``unsafe``
#: formats itself.
TRUST_ATTRIBUTE = "checks_trust"


def qualified_type_name(obj: Any) -> str:
    """The qualified name of ``type(obj)``, e.g. ``numpy.ndarray`` or ``builtins.dict``.

    Args:
        obj: any object.

    Returns:
        ``module.QualName`` of its type.
    """
    cls = type(obj)
    return f"{cls.__module__}.{cls.__qualname__}"


def type_root_module(obj: Any) -> str:
    """The top-level package that defines ``type(obj)`` (``numpy``, ``pandas``, ``torch``).

    Args:
        obj: any object.

    Returns:
        The first dotted component of ``type(obj).__module__`` ("" when unknown).
    """
    module = getattr(type(obj), "__module__", None) or ""
    return module.partition(".")[0]
