"""``image``: PIL images, lossless, as their raw pixels (never pickle).

One segment ``pixels``: ``Image.tobytes()`` in the image's own mode (one copy). The meta
holds the mode, size, the palette of ``P``/``PA`` images (with its mode) and the
JSON-plain entries of ``img.info`` (dpi, gamma, transparency...). Loading rebuilds it with
``Image.frombytes``: same mode, size, pixels, palette and info. An image opened from a
file (``PngImageFile``...) comes back as a plain ``PIL.Image.Image``: the file object and
its lazy decoder are not part of the value.
"""

from __future__ import annotations

import sys
from typing import Any

from ..errors import SerializationError
from .base import Decline, Payload, PayloadReader, Segment, qualified_type_name
from .json_format import decode, encode, is_plain

#: Largest image accepted (pixels): PIL's own decompression-bomb limit is lower.
MAX_PIXELS = 1 << 34


class ImageSerializer:
    """PIL images as raw pixels plus mode, size, palette and info."""

    format = "image"
    unsafe = False

    def accepts(self, obj: Any) -> bool:
        """A ``PIL.Image.Image`` (any plugin subclass)."""
        if not type(obj).__module__.startswith("PIL.") or "PIL.Image" not in sys.modules:
            return False
        return isinstance(obj, sys.modules["PIL.Image"].Image)

    def estimate_size(self, obj: Any) -> int | None:
        """Width x height x bytes per pixel (roughly)."""
        width, height = obj.size
        return int(width * height * max(1, len(obj.getbands())))

    def dump(self, obj: Any) -> Payload:
        """One segment of raw pixels."""
        try:
            pixels = obj.tobytes()
        except Exception as exc:  # an image whose decoder fails
            raise Decline(f"its pixels cannot be read: {exc}") from exc
        width, height = obj.size
        meta: dict[str, Any] = {
            "type": qualified_type_name(obj),
            "mode": obj.mode,
            "size": [int(width), int(height)],
            "nbytes": len(pixels),
        }
        if obj.mode in ("P", "PA") and obj.palette is not None:
            meta["palette_mode"] = obj.palette.mode
            meta["palette"] = list(obj.getpalette(obj.palette.mode) or [])
        info = {
            k: encode(v)
            for k, v in obj.info.items()
            if type(k) is str and is_plain(v) and len(repr(v)) <= 4096
        }
        if info:
            meta["info"] = info
        if obj.format:
            meta["file_format"] = obj.format
        return Payload(self.format, [Segment("pixels", pixels, len(pixels))], meta, extension="raw")

    def load(self, meta: dict[str, Any], reader: PayloadReader) -> Any:
        """``Image.frombytes`` with the stored mode and size, then palette and info."""
        from PIL import Image

        width, height = (int(n) for n in meta["size"])
        if width * height > MAX_PIXELS:
            raise SerializationError(f"image of {width} x {height} pixels is too large")
        image = Image.frombytes(str(meta["mode"]), (width, height), reader.read_segment(0))
        if "palette" in meta:
            image.putpalette([int(v) for v in meta["palette"]], str(meta["palette_mode"]))
        for key, value in meta.get("info", {}).items():
            image.info[key] = decode(value)
        return image
