"""``json``: plain Python scalars and containers, with an exact round trip.

Accepted: ``None``, ``bool``, ``int``, ``float``, ``str`` and ``list``/``tuple``/``dict``
of those, nested (exact types only: subclasses such as ``IntEnum``, ``OrderedDict`` or
``numpy.float64`` are left to other formats). Everything JSON cannot say exactly is
written in a tagged form, an object ``{"$t": TAG, "v": VALUE}``:

* ``{"$t": "tuple", "v": [...]}`` a tuple;
* ``{"$t": "float", "v": "7ff8000000000000"}`` a non-finite float (nan, inf, -inf), as the
  16 hex digits of its IEEE-754 bits, so NaN payloads and signs survive;
* ``{"$t": "dict", "v": [[key, value], ...]}`` a dict with a key that is not a ``str``
  (int, float, bool, None, tuple) or with a key ``"$t"``, keeping key order.

Finite floats are written with ``repr`` (shortest round-tripping form), so they come back
bit-exact, ``-0.0`` included; ``1`` stays an ``int``, ``True`` a ``bool``. Shared
references and cycles are not kept: a list that holds the same list twice comes back
holding two equal lists; a cyclic structure (or one nested deeper than 200 levels) is
not accepted and falls to pickle.
"""

from __future__ import annotations

import json
import math
import reprlib
import struct
from typing import Any

from .base import Payload, PayloadReader, Segment, qualified_type_name

TAG = "$t"
_MAX_DEPTH = 200
#: ints longer than this are refused (CPython limits int<->str conversion to 4300 digits).
_MAX_INT_BITS = 14000
_SCALARS = (type(None), bool, int, float, str)
_KEY_TYPES = (type(None), bool, int, float, str, tuple)
#: ``meta["value"]`` holds strings up to this length.
_MAX_META_STR = 200

_preview = reprlib.Repr()
_preview.maxstring = 120
_preview.maxother = 120
_preview.maxlist = _preview.maxtuple = _preview.maxdict = 12
_preview.maxlevel = 3


def is_plain(obj: Any, depth: int = 0) -> bool:
    """Whether ``obj`` is made only of the plain types this format stores exactly.

    Args:
        obj: the object.
        depth: nesting level reached so far (internal).

    Returns:
        True when :func:`encode` represents it exactly.
    """
    cls = type(obj)
    if cls in _SCALARS:
        return cls is not int or obj.bit_length() <= _MAX_INT_BITS
    if depth >= _MAX_DEPTH:
        return False
    if cls is list or cls is tuple:
        return all(is_plain(item, depth + 1) for item in obj)
    if cls is dict:
        return all(
            type(key) in _KEY_TYPES and is_plain(key, depth + 1) and is_plain(value, depth + 1)
            for key, value in obj.items()
        )
    return False


def _float_bits(value: float) -> str:
    return struct.pack(">d", value).hex()


def encode(obj: Any) -> Any:
    """Turn a plain object (see :func:`is_plain`) into JSON-able data, tagging what JSON
    cannot say (tuples, non-finite floats, non-str keys).

    Args:
        obj: a plain object.

    Returns:
        Data made of ``dict``/``list``/``str``/``int``/finite ``float``/``bool``/``None``.
    """
    cls = type(obj)
    if cls is float:
        return obj if math.isfinite(obj) else {TAG: "float", "v": _float_bits(obj)}
    if cls in _SCALARS:
        return obj
    if cls is list:
        return [encode(item) for item in obj]
    if cls is tuple:
        return {TAG: "tuple", "v": [encode(item) for item in obj]}
    if cls is dict:
        if all(type(key) is str for key in obj) and TAG not in obj:
            return {key: encode(value) for key, value in obj.items()}
        return {TAG: "dict", "v": [[encode(k), encode(v)] for k, v in obj.items()]}
    raise TypeError(f"not a plain JSON value: {qualified_type_name(obj)}")


def decode(data: Any) -> Any:
    """Inverse of :func:`encode`.

    Args:
        data: what ``json.loads`` gave for an encoded value.

    Returns:
        The original object.
    """
    if type(data) is list:
        return [decode(item) for item in data]
    if type(data) is dict:
        tag = data.get(TAG)
        if tag is None:
            return {key: decode(value) for key, value in data.items()}
        value = data["v"]
        if tag == "tuple":
            return tuple(decode(item) for item in value)
        if tag == "float":
            return struct.unpack(">d", bytes.fromhex(value))[0]
        if tag == "dict":
            return {decode(key): decode(item) for key, item in value}
        raise ValueError(f"unknown JSON tag {tag!r}")
    return data


def preview(obj: Any, limit: int = 200) -> str:
    """A short ``repr`` of ``obj`` (at most ``limit`` characters), cheap on big values.

    Args:
        obj: any object.
        limit: the maximum length.

    Returns:
        The preview string.
    """
    try:
        text = _preview.repr(obj)
    except Exception:  # a broken __repr__ must not break a commit
        text = f"<{qualified_type_name(obj)}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def dumps(obj: Any) -> bytes:
    """Encode a plain object as compact ASCII JSON bytes.

    Args:
        obj: a plain object (see :func:`is_plain`).

    Returns:
        UTF-8 (in fact ASCII) JSON.
    """
    text = json.dumps(encode(obj), ensure_ascii=True, separators=(",", ":"), allow_nan=False)
    return text.encode("ascii")


class JsonSerializer:
    """Plain scalars and containers as one JSON document."""

    format = "json"
    unsafe = False

    def accepts(self, obj: Any) -> bool:
        """Whether ``obj`` is plain (see :func:`is_plain`)."""
        return is_plain(obj)

    def estimate_size(self, obj: Any) -> int | None:
        """No cheap estimate: the dumped size is checked instead."""
        return None

    def dump(self, obj: Any) -> Payload:
        """One segment of JSON; scalars also put their value in ``meta["value"]``."""
        data = dumps(obj)
        meta: dict[str, Any] = {"type": qualified_type_name(obj), "value_preview": preview(obj)}
        if type(obj) in _SCALARS and (type(obj) is not str or len(obj) <= _MAX_META_STR):
            meta["value"] = encode(obj)
        elif type(obj) in (list, tuple, dict):
            meta["length"] = len(obj)
        return Payload(
            format=self.format,
            segments=[Segment("value", data, len(data))],
            meta=meta,
            extension="json",
        )

    def load(self, meta: dict[str, Any], reader: PayloadReader) -> Any:
        """Decode the JSON segment back into the original object."""
        return decode(json.loads(reader.read_segment(0)))
