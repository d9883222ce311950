"""``sparse``: scipy.sparse matrices and arrays as their component arrays, never pickle.

Each component (``data``, ``indices``, ``indptr`` for CSR/CSC/BSR; ``data``, ``row``,
``col`` for COO; ``data``, ``offsets`` for DIA) is one ``.npy`` header segment and one data
segment (a view of the component's memory), so an unchanged component deduplicates.
LIL and DOK matrices are stored through CSR and converted back. Components come back
with their own dtypes (index dtypes included) and the same class (``csr_matrix`` or
``csr_array``...), looked up by name among scipy.sparse's classes only.
"""

from __future__ import annotations

import sys
from typing import Any

from ..errors import SerializationError
from .base import Payload, PayloadReader, qualified_type_name
from .npy_format import array_segments, read_array, storable_dtype

_COMPONENTS = {
    "csr": ("data", "indices", "indptr"),
    "csc": ("data", "indices", "indptr"),
    "bsr": ("data", "indices", "indptr"),
    "coo": ("data", "row", "col"),
    "dia": ("data", "offsets"),
}
#: Formats stored through another one (and converted back on load).
_THROUGH = {"lil": "csr", "dok": "csr"}
_KINDS = ("matrix", "array")


def _class_name(obj: Any) -> str | None:
    name = type(obj).__name__
    fmt, _, kind = name.partition("_")
    if kind in _KINDS and (fmt in _COMPONENTS or fmt in _THROUGH):
        return name
    return None


class SparseSerializer:
    """scipy.sparse matrices/arrays (2-D) as component arrays."""

    format = "sparse"
    unsafe = False

    def accepts(self, obj: Any) -> bool:
        """A 2-D scipy.sparse matrix or array of a storable dtype."""
        if not type(obj).__module__.startswith("scipy.sparse") or "scipy.sparse" not in sys.modules:
            return False
        return (
            _class_name(obj) is not None
            and len(obj.shape) == 2
            and storable_dtype(obj.dtype)
            and type(obj).__module__.startswith("scipy.sparse._")
        )

    def estimate_size(self, obj: Any) -> int | None:
        """Bytes of the stored components (roughly: ``data`` and two index arrays)."""
        return int(obj.nnz) * (int(obj.dtype.itemsize) + 8) + 8 * (int(obj.shape[0]) + 1)

    def dump(self, obj: Any) -> Payload:
        """Two segments per component."""
        name = _class_name(obj)
        assert name is not None
        fmt = name.partition("_")[0]
        stored = obj.asformat(_THROUGH[fmt]) if fmt in _THROUGH else obj
        stored_fmt = _THROUGH.get(fmt, fmt)
        segments = []
        for component in _COMPONENTS[stored_fmt]:
            segs, _ = array_segments(getattr(stored, component), f"{component}.")
            segments.extend(segs)
        meta: dict[str, Any] = {
            "type": qualified_type_name(obj),
            "class": name,
            "stored_as": stored_fmt,
            "shape": [int(n) for n in obj.shape],
            "dtype": str(obj.dtype),
            "nnz": int(obj.nnz),
            "nbytes": sum(s.size for s in segments),
        }
        if stored_fmt == "bsr":
            meta["blocksize"] = [int(n) for n in stored.blocksize]
        if stored_fmt in ("csr", "csc"):
            meta["sorted_indices"] = bool(stored.has_sorted_indices)
        return Payload(self.format, segments, meta, extension="sparse")

    def load(self, meta: dict[str, Any], reader: PayloadReader) -> Any:
        """Rebuild the same class from its components (their dtypes kept exactly)."""
        import scipy.sparse as sp

        name = str(meta["class"])
        stored_fmt = str(meta["stored_as"])
        fmt, _, kind = name.partition("_")
        if (
            kind not in _KINDS
            or stored_fmt not in _COMPONENTS
            or _THROUGH.get(fmt, fmt) != stored_fmt
        ):
            raise SerializationError(f"not a scipy.sparse class this format stores: {name!r}")
        parts = {
            component: read_array(reader, 2 * i, 2 * i + 1)
            for i, component in enumerate(_COMPONENTS[stored_fmt])
        }
        shape = tuple(int(n) for n in meta["shape"])
        cls = getattr(sp, f"{stored_fmt}_{kind}")
        if stored_fmt == "coo":
            value = cls((parts["data"], (parts["row"], parts["col"])), shape=shape)
        elif stored_fmt == "dia":
            value = cls((parts["data"], parts["offsets"]), shape=shape)
        else:
            extra = {"blocksize": tuple(meta["blocksize"])} if stored_fmt == "bsr" else {}
            value = cls((parts["data"], parts["indices"], parts["indptr"]), shape=shape, **extra)
        if stored_fmt == "coo":  # keep index dtypes exactly as stored
            value.data, value.row, value.col = parts["data"], parts["row"], parts["col"]
        else:
            for component, arr in parts.items():
                setattr(value, component, arr)
        if "sorted_indices" in meta:
            value.has_sorted_indices = bool(meta["sorted_indices"])
        return value.asformat(fmt) if fmt != stored_fmt else value
