"""``random``: random number generators as their state, so a restored notebook draws the
same numbers next, without pickle.

Accepted (exact types): ``numpy.random.Generator`` and ``numpy.random.RandomState`` over
numpy's bit generators (PCG64, PCG64DXSM, MT19937, Philox, SFC64), and Python's
``random.Random``. The payload is one JSON document: the kind, the bit generator's name
and its state (numpy arrays in it as ``{"dtype": ..., "v": [...]}``). Loading builds a
fresh generator of that kind from the allowed names only and sets its state.
"""

from __future__ import annotations

import json
import random
import sys
from typing import Any

from ..errors import SerializationError
from .base import Payload, PayloadReader, Segment, qualified_type_name

_BIT_GENERATORS = frozenset({"PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64"})


def _numpy_kind(obj: Any) -> str | None:
    np = sys.modules.get("numpy")
    if np is None:
        return None
    cls = type(obj)
    if cls is np.random.Generator:
        bits = obj.bit_generator
    elif cls is np.random.RandomState:
        bits = obj._bit_generator
    else:
        return None
    name = type(bits).__name__
    if name not in _BIT_GENERATORS or type(bits) is not getattr(np.random, name):
        return None
    return str(cls.__name__)


def _plain(value: Any) -> Any:
    """The state with numpy arrays and scalars as JSON-able values."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "dtype") and hasattr(value, "tolist"):
        if getattr(value, "ndim", 0) == 0:
            return value.item()
        return {"dtype": str(value.dtype), "v": value.tolist()}
    return value


def _arrays(value: Any) -> Any:
    """Inverse of :func:`_plain` (arrays come back with their dtype)."""
    import numpy as np

    if isinstance(value, dict):
        if set(value) == {"dtype", "v"}:
            return np.asarray(value["v"], dtype=np.dtype(value["dtype"]))
        return {k: _arrays(v) for k, v in value.items()}
    return value


class RandomSerializer:
    """numpy and Python random number generators, as their state."""

    format = "random"
    unsafe = False

    def accepts(self, obj: Any) -> bool:
        """A numpy ``Generator``/``RandomState`` over a known bit generator, or exactly
        ``random.Random``."""
        return type(obj) is random.Random or _numpy_kind(obj) is not None

    def estimate_size(self, obj: Any) -> int | None:
        """Small (MT19937's state is the biggest: ~7 KiB of JSON)."""
        return 8 << 10

    def dump(self, obj: Any) -> Payload:
        """One JSON segment: kind, bit generator and state."""
        if type(obj) is random.Random:
            version, internal, gauss = obj.getstate()
            doc: dict[str, Any] = {
                "kind": "random.Random",
                "state": [version, list(internal), gauss],
            }
        else:
            kind = _numpy_kind(obj)
            if kind == "Generator":
                bits = obj.bit_generator
                state = bits.state
            else:
                bits = obj._bit_generator
                state = obj.get_state(legacy=False)
            doc = {"kind": kind, "bit_generator": type(bits).__name__, "state": _plain(state)}
        data = json.dumps(doc, separators=(",", ":")).encode()
        meta = {"type": qualified_type_name(obj), "kind": doc["kind"]}
        if "bit_generator" in doc:
            meta["bit_generator"] = doc["bit_generator"]
        return Payload(
            format=self.format,
            segments=[Segment("state", data, len(data))],
            meta=meta,
            extension="json",
        )

    def load(self, meta: dict[str, Any], reader: PayloadReader) -> Any:
        """A new generator of the stored kind, in the stored state."""
        doc = json.loads(reader.read_segment(0))
        kind = doc.get("kind")
        try:
            if kind == "random.Random":
                version, internal, gauss = doc["state"]
                out = random.Random()
                out.setstate((version, tuple(internal), gauss))
                return out
            import numpy as np

            name = doc.get("bit_generator")
            if kind not in ("Generator", "RandomState") or name not in _BIT_GENERATORS:
                raise SerializationError(f"unknown random generator {kind!r} over {name!r}")
            bits = getattr(np.random, name)()
            state = _arrays(doc["state"])
            if kind == "Generator":
                bits.state = state
                return np.random.Generator(bits)
            legacy = np.random.RandomState(bits)
            legacy.set_state(state)
            return legacy
        except (KeyError, TypeError, ValueError) as e:
            raise SerializationError(f"the stored random generator state is damaged: {e}") from e
