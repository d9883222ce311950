"""Helpers for the serializer tests: an in-memory PayloadReader and round-trip helpers."""

from __future__ import annotations

import io
from typing import Any

import pytest

from mlvc_server import serializers
from mlvc_server.serializers.base import Payload


class MemoryReader:
    """A PayloadReader over the bytes of a Payload's segments, copied into memory.

    It reads every segment through ``Segment.chunks`` (so ``materialize`` is exercised
    for segments without data), as the store would when writing them.
    """

    def __init__(self, payload: Payload) -> None:
        self.names = [s.name for s in payload.segments]
        self.blobs: list[bytes] = []
        for segment in payload.segments:
            data = b"".join(bytes(chunk) for chunk in segment.chunks(max_size=1 << 20))
            assert len(data) == segment.size, f"segment {segment.name!r} size mismatch"
            self.blobs.append(data)
        self.reads: list[int] = []

    @property
    def segment_names(self) -> list[str]:
        return list(self.names)

    def segment_size(self, index: int) -> int:
        return len(self.blobs[index])

    def read_segment(self, index: int) -> bytes:
        self.reads.append(index)
        return self.blobs[index]

    def readinto_segment(self, index: int, buffer: Any) -> None:
        self.reads.append(index)
        view = memoryview(buffer).cast("B")
        assert len(view) == len(self.blobs[index]), "buffer size must equal segment size"
        view[:] = self.blobs[index]

    def open(self) -> io.RawIOBase:
        return io.BytesIO(self.concat())  # type: ignore[return-value]

    def concat(self) -> bytes:
        return b"".join(self.blobs)


def concat(payload: Payload) -> bytes:
    """The concatenation of a payload's segments (the serialized file)."""
    return MemoryReader(payload).concat()


def roundtrip(obj: Any, *, trusted: bool = False, **kwargs: Any) -> tuple[Any, Payload]:
    """Serialize with the registry, then load back through a MemoryReader."""
    payload = serializers.serialize(obj, **kwargs)
    back = serializers.deserialize(
        payload.format, payload.meta, MemoryReader(payload), trusted=trusted
    )
    return back, payload


@pytest.fixture
def reader_of() -> type[MemoryReader]:
    return MemoryReader
