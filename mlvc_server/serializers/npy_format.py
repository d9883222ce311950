"""``npy``: numpy arrays and numpy scalars as a plain ``.npy`` file, never pickle.

Segments: ``[header, data]``. ``header`` is the ``.npy`` magic and header written by
``numpy.lib.format``; ``data`` is the array's memory itself:

* C-contiguous array: a zero-copy view of its buffer;
* Fortran-contiguous array: the header says ``fortran_order: True`` and ``data`` is a
  zero-copy view of its (Fortran-ordered) buffer;
* any other layout (a strided slice): one C-contiguous copy.

The two segments concatenated are a valid ``.npy`` file (``np.load(allow_pickle=False)``).
Object arrays (and structured dtypes with object fields) are not accepted: they need
pickle. A numpy scalar (``np.float32(1.5)``) is stored as a 0-d array and comes back as
the same scalar type.

ndarray subclasses: ``np.memmap``, ``np.matrix``, ``np.recarray`` and ``np.ma.MaskedArray``
(its data, then its mask's header and data; the fill value and hardness in the meta) are
accepted (others are left to the next format: their extra state would be lost).

* A ``np.memmap`` whose bytes are in its file (a shared mapping, mode ``r``/``r+``/``w+``,
  C- or Fortran-contiguous) is never read whole into memory: its data segment has no
  ``data`` but a ``materialize`` that reads the file region with ``os.pread`` in
  :data:`MEMMAP_SLICE` pieces through one reused buffer, and a ``fingerprint``
  (``mm1:`` + xxh3-128 of the region, computed the same way) so an unchanged memmap is
  recognised without writing. Extra memory stays about one slice (pages read through
  ``pread`` are page cache, not the process's memory). A copy-on-write memmap (mode
  ``c``, its changes are not in the file) or a strided one is stored from memory.
  A memmap loads as an in-memory ``np.ndarray`` (mlvc never writes to the user's mapped
  file); ``meta["memmap"]`` records its file name and mode.
* ``np.matrix`` and ``np.recarray`` come back as the same class (a view, nothing runs).
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ..errors import SerializationError
from .base import Decline, Payload, PayloadReader, Segment, qualified_type_name, type_root_module

if TYPE_CHECKING:
    import numpy as np


def _numpy() -> Any:
    import numpy

    return numpy


def storable_dtype(dtype: np.dtype[Any]) -> bool:
    """Whether ``.npy`` holds this dtype without pickle and gives it back unchanged.

    Args:
        dtype: a numpy dtype.

    Returns:
        False for object dtypes (and structured dtypes holding objects), for dtypes the
        ``.npy`` header cannot describe (numpy 2 ``StringDType``...) and for structured
        dtypes with field names outside latin-1 (they need the ``.npy`` 3.0 header, which
        numpy writes only through a private function).
    """
    np = _numpy()
    if dtype.hasobject:
        return False
    try:
        descr = np.lib.format.dtype_to_descr(dtype)
        repr(descr).encode("latin1")
        return bool(np.lib.format.descr_to_dtype(descr) == dtype)
    except Exception:
        return False


#: Bytes read from a memmap's file per ``pread`` (the store's chunk size).
MEMMAP_SLICE = 16 << 20
#: ndarray subclasses stored (besides ``np.memmap``) and rebuilt as a view, by name.
_VIEW_CLASSES = ("matrix", "recarray")


def _memmap_file_region(arr: Any) -> tuple[str, int] | None:
    """``(path, offset)`` of a memmap's bytes in its file, or None when they must be read
    from memory (no file, a private copy-on-write mapping, a strided view)."""
    np = _numpy()
    mm = getattr(arr, "_mmap", None)
    filename = getattr(arr, "filename", None)
    if mm is None or not filename or getattr(arr, "mode", "c") == "c" or not arr.nbytes:
        return None
    if not (arr.flags.c_contiguous or arr.flags.f_contiguous):
        return None
    import mmap

    base = np.frombuffer(mm, dtype=np.uint8)
    try:
        start = arr.__array_interface__["data"][0] - base.__array_interface__["data"][0]
    finally:
        del base
    offset = int(getattr(arr, "offset", 0))
    file_start = offset - offset % mmap.ALLOCATIONGRANULARITY + start
    if start < 0 or start + arr.nbytes > len(mm):
        return None
    return str(filename), file_start


def _pread_slices(path: str, start: int, size: int) -> Iterator[memoryview]:
    """The bytes ``[start, start + size)`` of a file, in slices through one reused buffer
    (each yielded view is overwritten by the next)."""
    buf = bytearray(min(size, MEMMAP_SLICE))
    view = memoryview(buf)
    fd = os.open(path, os.O_RDONLY)
    try:
        done = 0
        while done < size:
            want = min(len(buf), size - done)
            got = os.preadv(fd, [view[:want]], start + done)
            if got <= 0:
                raise SerializationError(f"memmap file {path} is shorter than the array")
            yield view[:got]
            done += got
    finally:
        os.close(fd)


def _memmap_segment(arr: Any, region: tuple[str, int], name: str) -> Segment:
    import functools

    import xxhash

    path, start = region
    hasher = xxhash.xxh3_128()
    for piece in _pread_slices(path, start, arr.nbytes):
        hasher.update(piece)
    return Segment(
        f"{name}data",
        None,
        int(arr.nbytes),
        fingerprint=f"mm1:{hasher.hexdigest()}",
        materialize=functools.partial(_pread_slices, path, start, int(arr.nbytes)),
    )


def header_bytes(shape: tuple[int, ...], dtype: np.dtype[Any], fortran_order: bool) -> bytes:
    """The ``.npy`` magic string and header for an array of this shape and dtype.

    Args:
        shape: the array's shape.
        dtype: the array's dtype.
        fortran_order: whether the data that follows is in Fortran order.

    Returns:
        The bytes before the data in a ``.npy`` file (format 1.0, or 2.0 for huge headers).
    """
    np = _numpy()
    header = {
        "descr": np.lib.format.dtype_to_descr(dtype),
        "fortran_order": fortran_order,
        "shape": tuple(shape),
    }
    buf = io.BytesIO()
    try:
        np.lib.format.write_array_header_1_0(buf, header)
    except ValueError:  # header longer than 64 KiB (huge structured dtypes)
        buf = io.BytesIO()
        np.lib.format.write_array_header_2_0(buf, header)
    return buf.getvalue()


def array_bytes(arr: np.ndarray[Any, Any]) -> tuple[memoryview, bool]:
    """The bytes of an array in its own memory order, without copying contiguous data.

    Args:
        arr: any array.

    Returns:
        A byte memoryview (of the array's memory when C- or Fortran-contiguous, else of a
        C-contiguous copy) and whether it is in Fortran order.
    """
    np = _numpy()
    if arr.flags.c_contiguous:
        fortran, body = False, arr
    elif arr.flags.f_contiguous:
        fortran, body = True, arr.T  # C-contiguous view of the same memory
    else:
        fortran, body = False, np.ascontiguousarray(arr)
    # both are views, no copy (an empty array or a zero-size dtype has no bytes to view)
    raw = body.reshape(-1).view(np.uint8) if arr.nbytes else np.empty(0, np.uint8)
    return memoryview(raw), fortran


def array_segments(arr: np.ndarray[Any, Any], name: str = "") -> tuple[list[Segment], bool]:
    """The ``[header, data]`` segments of an array, without copying contiguous data.

    Args:
        arr: an array of a storable dtype.
        name: prefix of the segment names (``"{name}header"``, ``"{name}data"``).

    Returns:
        The two segments and whether the data is in Fortran order.
    """
    data, fortran = array_bytes(arr)
    header = header_bytes(arr.shape, arr.dtype, fortran)
    return [
        Segment(f"{name}header", header, len(header)),
        Segment(f"{name}data", data, data.nbytes),
    ], fortran


def parse_header(header: bytes) -> tuple[tuple[int, ...], np.dtype[Any], bool]:
    """Read shape, dtype and Fortran order from ``.npy`` header bytes.

    Args:
        header: the header segment.

    Returns:
        ``(shape, dtype, fortran_order)``.

    Raises:
        SerializationError: the header is malformed or names an object dtype.
    """
    np = _numpy()
    fp = io.BytesIO(header)
    try:
        version = np.lib.format.read_magic(fp)
        reader = (
            np.lib.format.read_array_header_1_0
            if version == (1, 0)
            else np.lib.format.read_array_header_2_0
        )
        shape, fortran, dtype = reader(fp, max_header_size=max(10000, len(header)))
    except (ValueError, SyntaxError) as exc:
        raise SerializationError(f"not a valid .npy header: {exc}") from exc
    if dtype.hasobject:
        raise SerializationError("refusing an .npy object array: it would need pickle")
    return tuple(shape), dtype, bool(fortran)


def read_array(reader: PayloadReader, header_index: int, data_index: int) -> Any:
    """Allocate the array described by one header segment and fill it from the data
    segment directly (no intermediate bytes object).

    Args:
        reader: the payload reader.
        header_index: index of the header segment.
        data_index: index of the data segment.

    Returns:
        The array.
    """
    np = _numpy()
    shape, dtype, fortran = parse_header(reader.read_segment(header_index))
    arr = np.empty(shape, dtype=dtype, order="F" if fortran else "C")
    size = reader.segment_size(data_index)
    if size != arr.nbytes:
        raise SerializationError(
            f"npy data segment has {size} bytes, header says {arr.nbytes} ({dtype}, {shape})"
        )
    body = arr.T if fortran else arr
    if arr.nbytes:
        reader.readinto_segment(data_index, memoryview(body.reshape(-1).view(np.uint8)))
    return arr


def is_masked_class(cls: type) -> bool:
    """Whether ``cls`` is exactly ``numpy.ma.MaskedArray``, without importing
    ``numpy.ma`` (~19 ms) for values that cannot be one."""
    ma = sys.modules.get("numpy.ma")
    return ma is not None and cls is ma.MaskedArray


def _plain_fill(obj: Any) -> Any:
    """A masked array's fill value as JSON (None: numpy's default for the dtype; False:
    not storable exactly)."""
    from .json_format import encode, is_plain

    np = _numpy()
    if obj._fill_value is None:
        return None
    value = np.asarray(obj.fill_value)
    if value.ndim != 0:
        return False
    item = value.item()
    return encode(item) if is_plain(item) else False


class NpySerializer:
    """numpy ndarrays and scalars as ``.npy``."""

    format = "npy"
    unsafe = False

    def accepts(self, obj: Any) -> bool:
        """Exact ``numpy.ndarray`` or numpy scalar of a dtype ``.npy`` holds."""
        if type_root_module(obj) != "numpy" or "numpy" not in sys.modules:
            return False
        np = _numpy()
        cls = type(obj)
        if is_masked_class(cls):
            return storable_dtype(obj.dtype) and _plain_fill(obj) is not False
        if (
            cls is not np.ndarray
            and cls is not np.memmap
            and not (cls.__module__.startswith("numpy") and cls.__name__ in _VIEW_CLASSES)
            and not isinstance(obj, np.generic)
        ):
            return False
        return storable_dtype(obj.dtype)

    def estimate_size(self, obj: Any) -> int | None:
        """The array's byte size."""
        return int(obj.nbytes)

    def dump(self, obj: Any) -> Payload:
        """``[header, data]``, the data a view of the array's memory where possible (a
        masked array: then the mask's ``[header, data]``, unless it has none)."""
        np = _numpy()
        if is_masked_class(type(obj)):
            return self._dump_masked(obj)
        scalar = isinstance(obj, np.generic)
        arr = np.asarray(obj) if scalar else obj
        if not storable_dtype(arr.dtype):
            raise Decline(f"dtype {arr.dtype} needs pickle")
        extra: dict[str, Any] = {}
        region = _memmap_file_region(arr) if isinstance(arr, np.memmap) else None
        if isinstance(arr, np.memmap):
            extra["memmap"] = {"filename": str(arr.filename), "mode": arr.mode}
        elif type(arr) is not np.ndarray and not scalar:
            extra["view_class"] = type(arr).__name__
        if region is not None:
            fortran = not arr.flags.c_contiguous
            header = header_bytes(arr.shape, arr.dtype, fortran)
            segments = [Segment("header", header, len(header)), _memmap_segment(arr, region, "")]
        else:
            plain = arr.view(np.ndarray) if type(arr) is not np.ndarray else arr
            segments, fortran = array_segments(plain)
        meta: dict[str, Any] = {
            "type": qualified_type_name(obj),
            "shape": list(arr.shape),
            "dtype": str(arr.dtype),
            "nbytes": int(arr.nbytes),
        }
        if scalar:
            meta["scalar"] = True
            if arr.dtype.kind in "biuf":
                meta["value"] = arr.item() if arr.dtype.kind != "f" else float(arr)
                if meta["value"] != meta["value"] or abs(meta["value"]) == float("inf"):
                    meta["value"] = repr(meta["value"])
        if fortran:
            meta["fortran_order"] = True
        meta.update(extra)
        return Payload(format=self.format, segments=segments, meta=meta, extension="npy")

    def _dump_masked(self, obj: Any) -> Payload:
        np = _numpy()
        data = np.ma.getdata(obj)
        payload = self.dump(data if type(data) is np.ndarray else np.asarray(data))
        masked: dict[str, Any] = {"hard_mask": bool(obj.hardmask)}
        fill = _plain_fill(obj)
        if fill is not None:
            masked["fill_value"] = fill
        if obj.mask is not np.ma.nomask:
            segs, fortran = array_segments(np.ascontiguousarray(obj.mask))
            payload.segments.extend(segs)
            masked["mask_fortran"] = fortran
        else:
            masked["nomask"] = True
        payload.meta.update(type=qualified_type_name(obj), masked=masked)
        return payload

    def load(self, meta: dict[str, Any], reader: PayloadReader) -> Any:
        """Read the array straight into freshly allocated memory."""
        arr = read_array(reader, 0, 1)
        masked = meta.get("masked")
        if isinstance(masked, dict):
            np = _numpy()
            mask = np.ma.nomask if masked.get("nomask") else read_array(reader, 2, 3)
            out = np.ma.MaskedArray(arr, mask=mask, hard_mask=bool(masked.get("hard_mask")))
            if "fill_value" in masked:
                from .json_format import decode

                out.fill_value = decode(masked["fill_value"])
            return out
        if meta.get("scalar"):
            return arr[()]
        view_class = meta.get("view_class")
        if view_class in _VIEW_CLASSES:
            return arr.view(getattr(_numpy(), view_class))
        return arr
