"""Fingerprints: a content hash of a value computed without serializing it.

``fingerprint(obj)`` hashes (xxh3-128) what a value is made of: an array's bytes with its
dtype, shape and memory order; a DataFrame's column buffers with their dtypes, positions,
index, columns, attrs and flags; a scikit-learn estimator's state graph (the same walk as
its safe state format) and its fitted arrays; the leaves of a dict/list/tuple/namedtuple/
dataclass. Equal fingerprints mean equal content, so equal payloads: a commit or a
status can reuse what the store recorded for that fingerprint
(:mod:`mlvc_server.store.fingerprints`) instead of serializing the value again.

The converse need not hold: two equal values may get different fingerprints (a
DataFrame whose blocks are laid out differently, an array in Fortran order); that costs
a serialization, never a wrong answer. ``None`` means no cheap, safe fingerprint exists
(object arrays beyond :data:`OBJECT_LIMIT` items, user classes, pickled types, GPU
tensors, LightGBM/XGBoost/Keras models): the caller serializes as before.

Hashing runs at xxh3 speed over the buffers, plus microseconds per column or leaf; no
buffer is copied except a non-contiguous array (copied once to hash it). Buffers of 32 MiB
and more are hashed by 8 MiB chunks on several threads.
"""

from __future__ import annotations

import contextlib
import dataclasses
import struct
import sys
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

from .base import qualified_type_name, type_root_module
from .npy_format import is_masked_class

#: Object arrays / object columns with more items than this get no fingerprint (their
#: items are hashed one by one, in Python).
OBJECT_LIMIT = 100_000
#: Containers nested deeper, or with more leaves, get no fingerprint.
MAX_DEPTH = 64
MAX_LEAVES = 100_000
#: Version of the fingerprint scheme; part of every fingerprint (2: big buffers hashed
#: by chunks).
VERSION = "2"
#: Buffers this big are hashed by chunks of :data:`CHUNK` bytes on up to
#: ``MLVC_HASH_THREADS`` threads (default: the CPUs, at most 8).
PARALLEL_MIN = 32 << 20
CHUNK = 8 << 20
_pool_state: list[Any] = []


def _pool() -> Any:
    """The hashing threads (named ``mlvc-hash``), or None for one thread."""
    if not _pool_state:
        import os
        from concurrent.futures import ThreadPoolExecutor

        try:
            n = int(os.environ.get("MLVC_HASH_THREADS", "0")) or min(8, os.cpu_count() or 1)
        except ValueError:
            n = 1
        _pool_state.append(ThreadPoolExecutor(n, thread_name_prefix="mlvc-hash") if n > 1 else None)
    return _pool_state[0]


class _NoFingerprint(Exception):
    pass


class _Hasher:
    def __init__(self) -> None:
        import xxhash

        self.h = xxhash.xxh3_128()
        self.leaves = 0
        #: identity (or, for tensors, storage view) -> order of first appearance: a value
        #: met twice is hashed as a reference, as the formats store shared values once
        self.seen: dict[Any, int] = {}
        self._alive: list[Any] = []

    def tag(self, text: str) -> None:
        data = text.encode("utf-8", "surrogatepass")
        self.h.update(struct.pack("<Q", len(data)))
        self.h.update(data)

    def raw(self, buf: Any) -> None:
        view = memoryview(buf).cast("B")
        self.h.update(struct.pack("<Q", len(view)))
        if len(view) < PARALLEL_MIN:
            self.h.update(view)
            return
        # a big buffer: its chunks hashed on threads (xxhash releases the GIL), their
        # digests fed in order; the same fingerprint whatever the number of threads
        import xxhash

        chunks = [view[i : i + CHUNK] for i in range(0, len(view), CHUNK)]
        pool = _pool()
        digests = (
            map(xxhash.xxh3_128_digest, chunks)
            if pool is None
            else pool.map(xxhash.xxh3_128_digest, chunks)
        )
        self.h.update(b"".join(digests))

    # -- values -------------------------------------------------------------------------
    def value(self, obj: Any, depth: int = 0) -> None:
        if depth > MAX_DEPTH:
            raise _NoFingerprint
        self.leaves += 1
        if self.leaves > MAX_LEAVES:
            raise _NoFingerprint
        cls = type(obj)
        if obj is None or cls in (bool, int, float, complex, str):
            self.tag(f"{cls.__name__}:{obj!r}")
            return
        if cls in (bytes, bytearray):
            self.tag(cls.__name__)
            self.raw(obj)
            return
        key = _identity(obj)
        known = self.seen.get(key)
        if known is not None:
            self.tag(f"ref:{known}")
            return
        self.seen[key] = len(self.seen)
        self._alive.append(obj)  # ids stay unique while hashing
        if cls in (list, tuple, dict) or _is_namedtuple(obj) or _is_dataclass(obj):
            self._container(obj, depth)
            return
        root = type_root_module(obj)
        if root == "numpy":
            self._numpy(obj)
        elif root == "pandas":
            self._pandas(obj)
        elif root == "sklearn":
            self._estimator(obj)
        elif root == "torch":
            self._tensor(obj)
        else:
            raise _NoFingerprint

    def _container(self, obj: Any, depth: int) -> None:
        size = 0 if _is_dataclass(obj) else len(obj)
        self.tag(f"container:{qualified_type_name(obj)}:{size}")
        if isinstance(obj, dict):
            if type(obj) is not dict:
                raise _NoFingerprint
            for k, v in obj.items():
                if type(k) not in (str, int, float, bool, bytes, type(None), tuple):
                    raise _NoFingerprint
                self.value(k, depth + 1)
                self.value(v, depth + 1)
        elif _is_dataclass(obj):
            for f in dataclasses.fields(obj):
                self.tag(f.name)
                self.value(getattr(obj, f.name), depth + 1)
            fields = {f.name for f in dataclasses.fields(obj)}
            if hasattr(obj, "__dict__") and set(vars(obj)) - fields:
                raise _NoFingerprint  # attributes set beside the fields
        else:
            for v in obj:
                self.value(v, depth + 1)

    def _numpy(self, obj: Any) -> None:
        np = sys.modules["numpy"]
        if isinstance(obj, np.memmap):
            # its bytes are in a file: the npy format streams and fingerprints them itself
            # without mapping them all into memory
            raise _NoFingerprint
        cls = type(obj)
        if is_masked_class(cls):
            # the data, the mask, the fill value and hardness: a masked value is a change
            self.array(np.ma.getdata(obj), "masked")
            if obj.mask is np.ma.nomask:
                self.tag("nomask")
            else:
                self.array(np.asarray(obj.mask), "mask")
            self.tag(f"fill:{obj._fill_value!r}:{obj.hardmask}")
        elif isinstance(obj, np.ndarray):
            if cls is not np.ndarray and cls.__name__ not in ("matrix", "recarray"):
                raise _NoFingerprint  # a subclass may hold state beside its bytes
            self.array(obj, qualified_type_name(obj))
        elif isinstance(obj, np.generic) and not obj.dtype.hasobject:
            self.tag(f"npscalar:{qualified_type_name(obj)}:{obj.dtype.str}")
            self.raw(obj.tobytes())
        else:
            raise _NoFingerprint

    def array(self, arr: Any, kind: str = "ndarray") -> None:
        """An ndarray: its type, dtype, shape, memory order and bytes."""
        np = sys.modules["numpy"]
        if arr.dtype.hasobject:
            if arr.dtype != object or arr.size > OBJECT_LIMIT:
                raise _NoFingerprint
            self.tag(f"objarray:{kind}:{arr.shape}")
            for item in arr.reshape(-1, order="A" if arr.flags.f_contiguous else "C").tolist():
                if type(item) not in (str, int, float, bool, type(None), bytes):
                    raise _NoFingerprint
                self.tag(f"{type(item).__name__}:{item!r}")
            self.tag("F" if arr.flags.f_contiguous and not arr.flags.c_contiguous else "C")
            return
        if arr.flags.c_contiguous:
            order, body = "C", arr
        elif arr.flags.f_contiguous:
            order, body = "F", arr.T
        else:
            order, body = "C", np.ascontiguousarray(arr)
        self.tag(f"array:{kind}:{_dtype_key(arr.dtype)}:{arr.shape}:{order}")
        if arr.nbytes:
            self.raw(body.reshape(-1).view(np.uint8))

    # -- pandas -------------------------------------------------------------------------
    def _pandas(self, obj: Any) -> None:
        pd = sys.modules["pandas"]
        name = qualified_type_name(obj)
        if isinstance(obj, pd.DataFrame):
            self.tag(f"frame:{name}:{obj.shape}")
            self._frame_meta(obj)
            self.index(obj.columns)
            self.index(obj.index)
            mgr = getattr(obj, "_mgr", None)
            blocks = getattr(mgr, "blocks", None)
            if blocks is None:
                raise _NoFingerprint
            for block in blocks:
                self.array(block.mgr_locs.as_array, "locs")
                self.extension(block.values)
        elif isinstance(obj, pd.Series):
            self.tag(f"series:{name}:{len(obj)}")
            self._frame_meta(obj)
            if not _plain_label(obj.name):
                raise _NoFingerprint
            self.value(obj.name)
            self.index(obj.index)
            self.extension(obj._values)
        elif isinstance(obj, pd.Index):
            self.index(obj)
        else:
            raise _NoFingerprint

    def _frame_meta(self, obj: Any) -> None:
        import json

        try:
            attrs = json.dumps(obj.attrs, sort_keys=True, allow_nan=True)
        except (TypeError, ValueError):
            raise _NoFingerprint from None
        self.tag(f"attrs:{attrs}:{obj.flags.allows_duplicate_labels}")

    def index(self, idx: Any) -> None:
        """A pandas Index: its type, names, dtype and values (a RangeIndex by its range)."""
        pd = sys.modules["pandas"]
        names = list(idx.names)
        if not all(_plain_label(n) for n in names):
            raise _NoFingerprint
        self.tag(f"index:{qualified_type_name(idx)}:{names!r}:{idx.dtype}:{len(idx)}")
        if isinstance(idx, pd.RangeIndex):
            self.tag(f"range:{idx.start}:{idx.stop}:{idx.step}")
        elif isinstance(idx, pd.MultiIndex):
            for level in idx.levels:
                self.index(level)
            for codes in idx.codes:
                self.array(codes, "codes")
        else:
            freq = getattr(idx, "freqstr", None)
            self.tag(f"freq:{freq}")
            self.extension(idx._values)

    def extension(self, values: Any) -> None:
        """Column values: an ndarray or a pandas extension array, by its buffers."""
        np = sys.modules["numpy"]
        if isinstance(values, np.ndarray):
            self.array(values, "values")
            return
        name = qualified_type_name(values)
        self.tag(f"ext:{name}:{values.dtype!r}:{len(values)}")
        if hasattr(values, "_pa_array"):  # ArrowExtensionArray, ArrowStringArray
            self.arrow(values._pa_array)
        elif hasattr(values, "_data") and hasattr(values, "_mask"):  # Int64, Float64, boolean
            self.array(values._data, "data")
            self.array(values._mask, "mask")
        elif hasattr(values, "codes") and hasattr(values, "categories"):  # Categorical
            self.array(values.codes, "codes")
            self.index(values.categories)
            self.tag(f"ordered:{values.ordered}")
        elif hasattr(values, "_ndarray"):  # datetimes (tz in the dtype), timedeltas, periods
            self.array(values._ndarray, "ndarray")
            self.tag(f"freq:{getattr(values, 'freqstr', None)}")
        else:  # sparse, interval, python-object strings...
            raise _NoFingerprint

    def arrow(self, data: Any) -> None:
        """A pyarrow (Chunked)Array by its buffers, offsets and type."""
        chunks = data.chunks if hasattr(data, "chunks") else [data]
        self.tag(f"arrow:{data.type}:{len(chunks)}")
        for chunk in chunks:
            self._arrow_array(chunk)

    def _arrow_array(self, chunk: Any) -> None:
        self.tag(f"chunk:{chunk.type}:{chunk.offset}:{len(chunk)}:{chunk.null_count}")
        for buf in chunk.buffers():
            if buf is None:
                self.tag("none")
            else:
                if not getattr(buf, "is_cpu", True):
                    raise _NoFingerprint
                self.raw(buf)
        dictionary = getattr(chunk, "dictionary", None)
        if dictionary is not None:
            self._arrow_array(dictionary)

    # -- models and tensors -------------------------------------------------------------
    def _estimator(self, obj: Any) -> None:
        from .sklearn_state import Encoder, Unencodable

        base = sys.modules.get("sklearn.base")
        if base is None or not isinstance(obj, base.BaseEstimator):
            raise _NoFingerprint
        import json

        enc = Encoder()
        try:
            root = enc.encode(obj)
        except Unencodable:
            raise _NoFingerprint from None
        self.tag(f"estimator:{qualified_type_name(obj)}")
        self.tag(json.dumps(root, separators=(",", ":")))
        for arr in enc.arrays:
            self.array(arr, "fitted")

    def _tensor(self, obj: Any) -> None:
        torch = sys.modules.get("torch")
        if torch is None or not isinstance(obj, torch.Tensor):
            raise _NoFingerprint
        if obj.device.type != "cpu" or obj.layout != torch.strided or obj.is_quantized:
            raise _NoFingerprint
        t = obj.detach()
        if not t.is_contiguous():
            t = t.contiguous()
        self.tag(
            f"tensor:{qualified_type_name(obj)}:{t.dtype}:{tuple(t.shape)}:{obj.requires_grad}"
        )
        if t.numel():
            self.raw(t.reshape(-1).view(torch.uint8).numpy())


def _identity(obj: Any) -> Any:
    """What makes two references the same value for the formats: the object itself, or
    for a torch tensor the view of its storage (tied weights are one tensor there)."""
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(obj, torch.Tensor) and obj.layout == torch.strided:
        try:
            return (
                "tensor",
                str(obj.device),
                obj.untyped_storage().data_ptr(),
                obj.storage_offset(),
                tuple(obj.shape),
                tuple(obj.stride()),
                obj.dtype,
            )
        except Exception:  # a tensor without storage (meta, functional)
            return id(obj)
    return id(obj)


_DTYPE_KEYS: dict[Any, str] = {}


def _dtype_key(dtype: Any) -> str:
    """``dtype.str`` plus, for structured dtypes, the fields (memoized: ``descr`` is slow)."""
    found = _DTYPE_KEYS.get(dtype)
    if found is None:
        found = f"{dtype.str}:{dtype.descr!r}" if dtype.names else dtype.str
        if len(_DTYPE_KEYS) < 1000:
            _DTYPE_KEYS[dtype] = found
    return found


def _plain_label(value: Any) -> bool:
    if type(value) is tuple:
        return all(_plain_label(v) for v in value)
    return value is None or type(value) in (str, int, float, bool)


def _is_namedtuple(obj: Any) -> bool:
    return isinstance(obj, tuple) and type(obj) is not tuple and hasattr(type(obj), "_fields")


def _is_dataclass(obj: Any) -> bool:
    return dataclasses.is_dataclass(obj) and not isinstance(obj, type)


#: Inside :func:`snapshot`: id -> (the value, its fingerprint), for the values
#: fingerprinted in that block, and the payloads serialized in it (see
#: :func:`.deadline.serialize_within`), each with the value it was made from.
_snapshot: ContextVar[dict[Any, tuple[Any, Any]] | None] = ContextVar(
    "mlvc_fingerprint_snapshot", default=None
)


def snapshot_memo() -> dict[Any, tuple[Any, Any]] | None:
    """The memo of the :func:`snapshot` block running, or None outside one."""
    return _snapshot.get()


@contextlib.contextmanager
def snapshot(
    known: dict[int, tuple[Any, str]] | None = None,
) -> Iterator[dict[Any, tuple[Any, Any]]]:
    """Within this block, each value (by identity) is fingerprinted once, and serialized
    at most once per set of options: a status and the commit that follows it
    (autocommit, in the same post-cell hook, with no user code run between them) hash a
    big DataFrame once instead of twice, and a changed value that status had to
    serialize is not serialized again by the commit. Use it only around calls between
    which the values cannot change.

    Args:
        known: fingerprints the caller proved still valid, by ``id`` of the value:
            ``{id(value): (value, fingerprint)}`` (the kernel's dirty tracking).

    Yields:
        The memo: ``id(value) -> (value, fingerprint)`` of every value fingerprinted in
        the block (and the ``known`` ones).
    """
    memo = _snapshot.get()
    if memo is not None:
        memo.update(known or {})
        yield memo
        return
    memo = dict(known or {})
    token = _snapshot.set(memo)
    try:
        yield memo
    finally:
        _snapshot.reset(token)


def fingerprint(obj: Any) -> str | None:
    """A content hash of ``obj``, or None when it cannot be computed cheaply and safely.

    Args:
        obj: the value of a variable.

    Returns:
        ``"fp<version>-<32 hex>"``, equal for values of equal content (and layout), or
        None (serialize instead).
    """
    memo = _snapshot.get()
    if memo is not None:
        hit = memo.get(id(obj))
        if hit is not None and hit[0] is obj:
            known: str | None = hit[1]
            return known
    hasher = _Hasher()
    try:
        hasher.value(obj)
        fp: str | None = f"fp{VERSION}-{hasher.h.hexdigest()}"
    except (_NoFingerprint, RecursionError):
        fp = None
    except Exception:  # a library internal moved: no fingerprint, never a wrong one
        fp = None
    if memo is not None:
        memo[id(obj)] = (obj, fp)  # the value is held, so its id is not reused
    return fp


__all__ = ["OBJECT_LIMIT", "fingerprint", "snapshot", "snapshot_memo"]
