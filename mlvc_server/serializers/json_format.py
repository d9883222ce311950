"""``json``: plain Python scalars and containers, with an exact round trip.

Accepted: ``None``, ``bool``, ``int``, ``float``, ``str`` and ``list``/``tuple``/``dict``
of those, nested (exact types only: subclasses such as ``IntEnum``, ``OrderedDict`` or
``numpy.float64`` are left to other formats). Everything JSON cannot say exactly is
written in a tagged form, an object ``{"$t": TAG, "v": VALUE}``:

* ``{"$t": "tuple", "v": [...]}`` a tuple;
* ``{"$t": "float", "v": "7ff8000000000000"}`` a non-finite float (nan, inf, -inf), as the
  16 hex digits of its IEEE-754 bits, so NaN payloads and signs survive;
* ``{"$t": "dict", "v": [[key, value], ...]}`` a dict with a key that is not a ``str``
  (int, float, bool, None, tuple, or one of the values below) or with a key ``"$t"``,
  keeping key order.

The standard library's value types a notebook holds are stored exactly too, so that
restoring them needs no trust (pickle would): ``bytes`` and ``bytearray`` up to 64 KiB
(base64; longer ones go to the ``bytes`` format),
``complex``, ``datetime.datetime``/``date``/``time``/``timedelta`` (ISO 8601; a time
zone that is UTC, a fixed offset or a ``zoneinfo`` zone, with ``fold``),
``decimal.Decimal``, ``fractions.Fraction``, ``uuid.UUID`` and ``pathlib`` paths, each
as ``{"$t": TYPE, "v": ...}``; so are pandas' ``Timestamp`` (naive, UTC, a
``zoneinfo`` zone or a fixed offset), ``Timedelta`` and ``NaT`` (nanoseconds and the
unit), numpy's ``dtype`` objects (as the ``.npy`` header describes them: ``{"$t":
"np.dtype", "v": DESCR}``) and the scalar types a notebook passes as a dtype, by name:
numpy's (``np.float32``) and the builtins' (``int``, ``float``, ``str``...), ``{"$t":
"type", "v": "numpy.float32"}``. Exact types only.

Finite floats are written with ``repr`` (shortest round-tripping form), so they come back
bit-exact, ``-0.0`` included; ``1`` stays an ``int``, ``True`` a ``bool``. Shared
references and cycles are not kept: a list that holds the same list twice comes back
holding two equal lists; a cyclic structure (or one nested deeper than 200 levels) is
not accepted and falls to pickle.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import fractions
import json
import math
import pathlib
import reprlib
import struct
import uuid
from typing import Any

from .base import Payload, PayloadReader, Segment, qualified_type_name

TAG = "$t"
_MAX_DEPTH = 200
#: ints longer than this are refused (CPython limits int<->str conversion to 4300 digits).
_MAX_INT_BITS = 14000
_SCALARS = (type(None), bool, int, float, str)
#: the standard library's value types stored in a tagged form (see the module's doc)
_PATHS = {
    cls.__name__: cls
    for cls in (
        pathlib.PurePath,
        pathlib.PurePosixPath,
        pathlib.PureWindowsPath,
        pathlib.Path,
        pathlib.PosixPath,
        pathlib.WindowsPath,
    )
}
_VALUES = (
    bytes,
    bytearray,
    complex,
    dt.datetime,
    dt.date,
    dt.time,
    dt.timedelta,
    decimal.Decimal,
    fractions.Fraction,
    uuid.UUID,
    *_PATHS.values(),
)
_KEY_TYPES = (type(None), bool, int, float, str, tuple, *_VALUES)
#: bytes up to this length are stored in JSON (base64); longer ones are not plain.
_MAX_BYTES = 64 << 10
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
    if cls in _VALUES:
        return _value_is_plain(obj)
    if cls.__module__.startswith("pandas") and cls.__name__ in _PANDAS_SCALARS:
        return _pandas_tag(obj) is not None
    if cls is type or cls.__module__.startswith("numpy"):
        return _type_tag(obj) is not None
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


def _zone(tz: dt.tzinfo | None) -> str | bool | None:
    """How a time zone is stored: None (naive, or a fixed offset that the ISO form
    says), a ``zoneinfo`` key, or False when it cannot be stored exactly."""
    if tz is None:
        return None
    if type(tz) is dt.timezone:
        offset = tz.utcoffset(None)
        # a named fixed offset would come back unnamed from the ISO form
        return None if tz.tzname(None) == dt.timezone(offset).tzname(None) else False
    key = getattr(tz, "key", None)
    if type(tz).__module__ == "zoneinfo" and isinstance(key, str):
        return key
    return False


def _value_is_plain(obj: Any) -> bool:
    if type(obj) is bytes or type(obj) is bytearray:
        return len(obj) <= _MAX_BYTES  # bigger: the bytes format, stored as themselves
    if isinstance(obj, dt.datetime | dt.time):
        return _zone(obj.tzinfo) is not False
    if type(obj) is fractions.Fraction:
        return max(obj.numerator.bit_length(), obj.denominator.bit_length()) <= _MAX_INT_BITS
    if type(obj) is decimal.Decimal:
        return len(obj.as_tuple().digits) <= 4000
    return True


#: pandas' scalar types stored in a tagged form (pandas is imported only to read them)
_PANDAS_SCALARS = frozenset({"Timestamp", "Timedelta", "NaTType"})


def _pandas_tag(obj: Any) -> dict[str, Any] | None:
    """The tagged form of a pandas ``Timestamp`` (naive, UTC or a ``zoneinfo`` zone),
    ``Timedelta`` or ``NaT``, as nanoseconds and the unit; None when it has no exact one."""
    import sys

    pd = sys.modules.get("pandas")
    if pd is None:
        return None
    cls = type(obj)
    try:
        if obj is pd.NaT:
            return {TAG: "pd.NaT"}
        if cls is pd.Timedelta:
            return {TAG: "pd.Timedelta", "v": int(obj.value), "unit": obj.unit}
        if cls is not pd.Timestamp:
            return None
        out: dict[str, Any] = {TAG: "pd.Timestamp", "v": int(obj.value), "unit": obj.unit}
        tz = obj.tz
        if tz is not None and type(tz) is dt.timezone and tz is not dt.UTC:
            # a fixed offset ("+02:00"), named or not
            offset = tz.utcoffset(None)
            out["offset"] = offset // dt.timedelta(microseconds=1)
            if tz.tzname(None) != dt.timezone(offset).tzname(None):
                out["tzname"] = tz.tzname(None)
        elif tz is not None:
            zone = "UTC" if tz is dt.UTC else _zone(tz)
            if not isinstance(zone, str):
                return None
            out["tz"] = zone
        return out
    except (OverflowError, ValueError, AttributeError):  # outside nanoseconds' range
        return None


def _pandas_value(tag: str, data: dict[str, Any]) -> Any:
    import pandas as pd

    if tag == "pd.NaT":
        return pd.NaT
    if tag == "pd.Timedelta":
        return pd.Timedelta(int(data["v"]), unit="ns").as_unit(data["unit"])
    stamp = pd.Timestamp(int(data["v"]), unit="ns")
    zone = data.get("tz")
    if "offset" in data:
        offset = dt.timedelta(microseconds=int(data["offset"]))
        name = data.get("tzname")
        fixed = dt.timezone(offset, name) if name is not None else dt.timezone(offset)
        stamp = stamp.tz_localize("UTC").tz_convert(fixed)
    elif zone is not None:
        import zoneinfo

        stamp = stamp.tz_localize("UTC").tz_convert(
            dt.UTC if zone == "UTC" else zoneinfo.ZoneInfo(zone)
        )
    return stamp.as_unit(data["unit"])


#: the builtin types stored by name (``{"$t": "type", "v": NAME}``)
_BUILTIN_TYPES = {
    cls.__name__: cls
    for cls in (int, float, complex, bool, str, bytes, bytearray, list, tuple, dict, set, object)
}


def _type_tag(obj: Any) -> dict[str, Any] | None:
    """The tagged form of a numpy ``dtype``, of a numpy scalar type or of a builtin
    type, or None (anything else, or a dtype with metadata or an aligned layout, which
    the ``.npy`` description does not keep)."""
    import sys

    is_class = type(obj) is type
    name: str = getattr(obj, "__name__", "") if is_class else ""
    if is_class and _BUILTIN_TYPES.get(name) is obj:
        return {TAG: "type", "v": name}
    np = sys.modules.get("numpy")
    if np is None:
        return None
    if is_class:
        if issubclass(obj, np.generic) and getattr(np, name, None) is obj:
            return {TAG: "type", "v": "numpy." + name}
        return None
    if not isinstance(obj, np.dtype) or obj.metadata or obj.isalignedstruct:
        return None
    from numpy.lib import format as npy

    try:
        descr = npy.dtype_to_descr(obj)
        if not is_plain(descr) or npy.descr_to_dtype(descr) != obj:
            return None
    except (TypeError, ValueError):
        return None
    return {TAG: "np.dtype", "v": encode(descr)}


def _type_value(tag: str, value: Any) -> Any:
    if tag == "type":
        if value.startswith("numpy."):
            import numpy as np

            cls = getattr(np, value[6:], None)
            if not (type(cls) is type and issubclass(cls, np.generic)):
                raise ValueError(f"{value!r} is not a numpy scalar type")
            return cls
        if value not in _BUILTIN_TYPES:
            raise ValueError(f"{value!r} is not a builtin type mlvc stores")
        return _BUILTIN_TYPES[value]
    from numpy.lib import format as npy

    return npy.descr_to_dtype(decode(value))


def _encode_value(obj: Any) -> Any:
    """The tagged form of one of the standard library's value types."""
    cls = type(obj)
    if cls is bytes or cls is bytearray:
        return {TAG: cls.__name__, "v": base64.b64encode(obj).decode("ascii")}
    if cls is complex:
        return {TAG: "complex", "v": [encode(obj.real), encode(obj.imag)]}
    if cls is dt.datetime or cls is dt.time:
        out: dict[str, Any] = {TAG: cls.__name__, "v": obj.isoformat()}
        zone = _zone(obj.tzinfo)
        if isinstance(zone, str):  # the ISO form has the offset; the zone comes back
            out["v"] = obj.replace(tzinfo=None).isoformat()
            out["tz"] = zone
        if obj.fold:
            out["fold"] = 1
        return out
    if cls is dt.date:
        return {TAG: "date", "v": obj.isoformat()}
    if cls is dt.timedelta:
        return {TAG: "timedelta", "v": [obj.days, obj.seconds, obj.microseconds]}
    if cls is decimal.Decimal:
        return {TAG: "decimal", "v": str(obj)}
    if cls is fractions.Fraction:
        return {TAG: "fraction", "v": [obj.numerator, obj.denominator]}
    if cls is uuid.UUID:
        return {TAG: "uuid", "v": str(obj)}
    return {TAG: "path", "v": str(obj), "k": cls.__name__}


def _decode_value(tag: str, data: dict[str, Any]) -> Any:
    if tag.startswith("pd."):
        return _pandas_value(tag, data)
    value = data["v"]
    if tag in ("type", "np.dtype"):
        return _type_value(tag, value)
    if tag in ("bytes", "bytearray"):
        raw = base64.b64decode(value, validate=True)
        return raw if tag == "bytes" else bytearray(raw)
    if tag == "complex":
        return complex(decode(value[0]), decode(value[1]))
    if tag in ("datetime", "time"):
        parse = dt.datetime.fromisoformat if tag == "datetime" else dt.time.fromisoformat
        out = parse(value)
        if "tz" in data:
            import zoneinfo

            out = out.replace(tzinfo=zoneinfo.ZoneInfo(data["tz"]))
        return out.replace(fold=1) if data.get("fold") else out
    if tag == "date":
        return dt.date.fromisoformat(value)
    if tag == "timedelta":
        return dt.timedelta(days=value[0], seconds=value[1], microseconds=value[2])
    if tag == "decimal":
        return decimal.Decimal(value)
    if tag == "fraction":
        return fractions.Fraction(value[0], value[1])
    if tag == "uuid":
        return uuid.UUID(value)
    if tag == "path":
        cls = _PATHS.get(data.get("k", ""), pathlib.PurePath)
        try:
            return cls(value)
        except NotImplementedError:  # a WindowsPath read on Linux: its pure form
            return pathlib.PureWindowsPath(value) if "Windows" in cls.__name__ else cls(value)
    raise ValueError(f"unknown JSON tag {tag!r}")


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
    if cls in _VALUES:
        return _encode_value(obj)
    if cls.__module__.startswith("pandas") and cls.__name__ in _PANDAS_SCALARS:
        tagged = _pandas_tag(obj)
        if tagged is not None:
            return tagged
    if cls is type or cls.__module__.startswith("numpy"):
        tagged = _type_tag(obj)
        if tagged is not None:
            return tagged
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
        value: Any = data.get("v")
        if tag == "tuple":
            return tuple(decode(item) for item in value)
        if tag == "float":
            return struct.unpack(">d", bytes.fromhex(value))[0]
        if tag == "dict":
            return {decode(key): decode(item) for key, item in value}
        return _decode_value(tag, data)
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
