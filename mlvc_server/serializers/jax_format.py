"""``jax``: JAX arrays as ``.npy`` (their host copy), restored as JAX arrays.

Segments: ``[header, data]`` as :mod:`.npy_format` writes them, of ``np.asarray(x)`` (on
the CPU backend a view, elsewhere one copy to the host). dtypes ``.npy`` cannot describe
(``bfloat16``, ``float8_*``, ``int4``... from ``ml_dtypes``) are stored as their raw bytes
(``uint8`` with a last axis of the item size) and their name kept in ``meta["jax_dtype"]``.
Loading gives ``jax.numpy.asarray`` of the array on the default device (the original
sharding and device are recorded in the meta, not restored). JAX parameter pytrees (dicts,
lists, tuples, namedtuples and dataclasses such as ``flax.struct`` ones) go through the
container format, with these arrays as leaves.
"""

from __future__ import annotations

import sys
from typing import Any

from .base import Decline, Payload, PayloadReader, qualified_type_name
from .npy_format import array_segments, read_array, storable_dtype


def _is_jax_array(obj: Any) -> bool:
    jax = sys.modules.get("jax")
    return jax is not None and isinstance(obj, jax.Array)


class JaxSerializer:
    """JAX arrays, restored as JAX arrays."""

    format = "jax"
    unsafe = False

    def accepts(self, obj: Any) -> bool:
        """A concrete ``jax.Array`` (not a tracer)."""
        root = type(obj).__module__.partition(".")[0]
        if root not in ("jax", "jaxlib") or not _is_jax_array(obj):
            return False
        return type(obj).__name__ == "ArrayImpl"

    def estimate_size(self, obj: Any) -> int | None:
        """The array's byte size."""
        return int(obj.nbytes)

    def dump(self, obj: Any) -> Payload:
        """``[header, data]`` of the host copy."""
        import numpy as np

        try:
            host = np.asarray(obj)
        except Exception as exc:  # a deleted or not fully addressable array
            raise Decline(f"its values cannot be read on this host: {exc}") from exc
        meta: dict[str, Any] = {
            "type": qualified_type_name(obj),
            "shape": list(host.shape),
            "dtype": str(host.dtype),
            "nbytes": int(host.nbytes),
            "sharding": str(getattr(obj, "sharding", "")),
        }
        if not storable_dtype(host.dtype):
            meta["jax_dtype"] = str(host.dtype)
            host = np.ascontiguousarray(host).view(np.uint8).reshape(*host.shape, -1)
        segments, fortran = array_segments(host)
        if fortran:
            meta["fortran_order"] = True
        return Payload(self.format, segments, meta, extension="npy")

    def load(self, meta: dict[str, Any], reader: PayloadReader) -> Any:
        """A JAX array on the default device."""
        import jax.numpy as jnp

        host = read_array(reader, 0, 1)
        dtype = meta.get("jax_dtype")
        if dtype is not None:
            host = host.view(jnp.dtype(dtype)).reshape(host.shape[:-1])
        return jnp.asarray(host)
