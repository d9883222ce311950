"""``bytes``: a ``bytes`` or ``bytearray`` too big for the json format, stored as itself.

The payload is the bytes unchanged (one segment, no copy), so an unchanged value
deduplicates exactly and a file's bytes read into a variable are stored as the file is.
Small ones go to the json format (base64 inside JSON) with the values around them.
"""

from __future__ import annotations

from typing import Any

from .base import Payload, PayloadReader, Segment, qualified_type_name


class BytesSerializer:
    """``bytes`` and ``bytearray`` as their own bytes."""

    format = "bytes"
    unsafe = False

    def accepts(self, obj: Any) -> bool:
        """Exactly ``bytes`` or ``bytearray`` (not subclasses)."""
        return type(obj) in (bytes, bytearray)

    def estimate_size(self, obj: Any) -> int | None:
        """The length."""
        return len(obj)

    def dump(self, obj: Any) -> Payload:
        """One segment holding the bytes."""
        return Payload(
            format=self.format,
            segments=[Segment("data", obj, len(obj))],
            meta={"type": qualified_type_name(obj), "length": len(obj)},
            extension="bin",
        )

    def load(self, meta: dict[str, Any], reader: PayloadReader) -> Any:
        """The bytes (a ``bytearray`` when that was stored)."""
        data = reader.read_segment(0)
        return bytearray(data) if meta.get("type") == "builtins.bytearray" else bytes(data)
