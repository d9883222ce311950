"""``safetensors``: torch tensors, state_dicts and ``nn.Module`` s.

Segments: ``[header, tensor_0, tensor_1, ...]``, exactly a ``.safetensors`` file: the
header segment is the 8-byte little-endian length and the JSON header (padded with
spaces to 8 bytes), each tensor's bytes are one segment, in header order, so an unchanged
tensor is an unchanged segment and deduplicates exactly.

* CPU tensors are not copied: the segment is a view of the tensor's memory (a
  non-contiguous tensor is made contiguous first, one copy).
* Tensors on a GPU stay there: the segment has no data, a ``tf1`` fingerprint computed on
  the device (see :mod:`.torch_fingerprint`) and a ``materialize`` that copies the bytes
  in 64 MiB slices through one reused pinned host buffer. The bytes are read when the
  store materializes them: the tensor must not change in between.
* Tied tensors (two names for the same storage, offset, shape and strides, e.g. tied
  embedding and output weights) are stored once; the header's ``__metadata__`` records
  ``mlvc.aliases`` (name -> stored name) and loading re-ties them (one tensor object
  under both names; in a rebuilt module, one ``Parameter``). Tensors that only overlap
  (a slice of another) are stored separately and come back independent.
* dtypes safetensors has no code for (complex128, complex32, float8_e8m0fnu, ...) are
  stored as raw bytes, ``U8`` with an extra last dimension of the item size, and their
  real dtype is recorded in ``mlvc.dtypes``; the file stays a valid safetensors file.

A ``Module`` is stored as its tensors plus its structure: a cloudpickle of the module in
which every parameter and buffer is replaced by a reference to its stored tensor (so no
weight is pickled, and tying is kept by pickle's memo). The pickle is in the header's
``__metadata__`` (``mlvc.module``, base64). Rebuilding it executes pickle, so loading a
module needs ``trusted=True``; with ``meta["state_dict_only"] = True`` the loader returns
the module's state_dict instead, with no trust needed.
"""

from __future__ import annotations

import base64
import functools
import inspect
import io
import json
import pickle
import struct
import sys
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ..errors import SerializationError, TrustError, UnsupportedTypeError
from .base import Decline, Payload, PayloadReader, Segment, qualified_type_name
from .torch_fingerprint import tensor_bytes, tensor_fingerprints

_CODES = {
    "float64": "F64",
    "float32": "F32",
    "float16": "F16",
    "bfloat16": "BF16",
    "int64": "I64",
    "int32": "I32",
    "int16": "I16",
    "int8": "I8",
    "uint8": "U8",
    "bool": "BOOL",
    "float8_e4m3fn": "F8_E4M3",
    "float8_e4m3fnuz": "F8_E4M3FNUZ",
    "float8_e5m2": "F8_E5M2",
    "float8_e5m2fnuz": "F8_E5M2FNUZ",
    "complex64": "C64",
    "uint16": "U16",
    "uint32": "U32",
    "uint64": "U64",
}
_FROM_CODE = {code: name for name, code in _CODES.items()}
#: Bytes copied from a device per slice through the pinned staging buffer.
SLICE_BYTES = 64 << 20
TENSOR_KEY = "tensor"
#: Device types whose tensors are exposed zero-copy; others are fingerprinted on the
#: device and materialized in slices (tests empty this to run that path on CPU).
HOST_DEVICES: tuple[str, ...] = ("cpu",)


def _torch() -> Any:
    import torch

    return torch


def _dtype_name(dtype: Any) -> str:
    return str(dtype).removeprefix("torch.")


def _storable_tensor(torch: Any, t: Any) -> bool:
    return (
        type(t) in (torch.Tensor, torch.nn.Parameter)
        and t.layout == torch.strided
        and not t.is_quantized
        and t.device.type != "meta"
        and not t.is_nested
    )


def _alias_key(t: Any) -> tuple[Any, ...]:
    return (
        t.device,
        t.untyped_storage().data_ptr(),
        t.storage_offset(),
        tuple(t.shape),
        tuple(t.stride()),
        t.dtype,
    )


def _host_view(t: Any) -> memoryview:
    """A zero-copy memoryview of a CPU tensor's bytes (one copy if not contiguous)."""
    return memoryview(tensor_bytes(t).numpy())


def _materialize(t: Any, slice_bytes: int | None = None) -> Iterator[memoryview]:
    """Copy a device tensor's bytes to the host in bounded slices, through one reused
    (pinned, on CUDA) staging buffer. Each yielded view is overwritten by the next slice."""
    torch = _torch()
    slice_bytes = slice_bytes or SLICE_BYTES
    flat = tensor_bytes(t)
    n = int(flat.numel())
    if n == 0:
        return
    pin = flat.device.type == "cuda"
    staging = torch.empty(min(n, slice_bytes), dtype=torch.uint8, pin_memory=pin)
    host = staging.numpy()
    for start in range(0, n, slice_bytes):
        size = min(slice_bytes, n - start)
        staging[:size].copy_(flat[start : start + size])
        yield memoryview(host[:size])


def _read_header(reader: PayloadReader) -> tuple[dict[str, Any], dict[str, Any]]:
    """The safetensors header (tensor name -> entry) and its ``__metadata__``."""
    head = reader.read_segment(0)
    (length,) = struct.unpack("<Q", head[:8])
    header: dict[str, Any] = json.loads(head[8 : 8 + length])
    metadata: dict[str, Any] = header.pop("__metadata__", None) or {}
    return header, metadata


def _collect(obj: Any) -> tuple[str, list[tuple[str, Any]], dict[str, Any]]:
    """The kind of ``obj`` and its named tensors (module: state_dict order, then the
    non-persistent buffers)."""
    torch = _torch()
    if isinstance(obj, torch.Tensor):
        return "tensor", [(TENSOR_KEY, obj)], {}
    if isinstance(obj, torch.nn.Module):
        state = obj.state_dict(keep_vars=True)
        named = list(state.items())
        seen = set(state)
        for name, buf in obj.named_buffers(remove_duplicate=False):
            if name not in seen:
                named.append((name, buf))
                seen.add(name)
        return "module", named, {"state_dict_keys": list(state)}
    return "state_dict", list(obj.items()), {}


def _module_pickle(module: Any, ids: dict[int, str]) -> bytes:
    import cloudpickle

    class TensorRefPickler(cloudpickle.Pickler):  # type: ignore[misc]
        def persistent_id(self, obj: Any) -> Any:
            name = ids.get(id(obj))
            if name is None:
                return None
            return ("mlvc.tensor", name, type(obj).__name__ == "Parameter", obj.requires_grad)

    buf = io.BytesIO()
    try:
        TensorRefPickler(buf, protocol=5).dump(module)
    except Exception as exc:
        raise UnsupportedTypeError(
            f"the structure of {qualified_type_name(module)} cannot be pickled "
            f"({type(exc).__name__}: {exc}); store module.state_dict() instead"
        ) from exc
    return buf.getvalue()


def _module_unpickle(data: bytes, tensors: dict[str, Any]) -> Any:
    torch = _torch()
    made: dict[str, Any] = {}

    class TensorRefUnpickler(pickle.Unpickler):
        def persistent_load(self, pid: Any) -> Any:
            _, name, is_param, requires_grad = pid
            if name not in made:
                t = tensors[name]
                made[name] = (
                    torch.nn.Parameter(t, requires_grad=requires_grad)
                    if is_param
                    else t.requires_grad_(requires_grad)
                )
            return made[name]

    return TensorRefUnpickler(io.BytesIO(data)).load()


class SafetensorsSerializer:
    """torch tensors, state_dicts and modules as safetensors."""

    format = "safetensors"
    unsafe = False
    checks_trust = True

    def accepts(self, obj: Any) -> bool:
        """A strided tensor, a (Ordered)dict of str -> tensor, or an ``nn.Module``."""
        torch = sys.modules.get("torch")
        if torch is None:
            return False
        if isinstance(obj, torch.Tensor):
            return _storable_tensor(torch, obj)
        if type(obj) in (dict, OrderedDict):
            return bool(obj) and all(
                type(k) is str and isinstance(v, torch.Tensor) and _storable_tensor(torch, v)
                for k, v in obj.items()
            )
        return isinstance(obj, torch.nn.Module)

    def estimate_size(self, obj: Any) -> int | None:
        """Sum of the tensors' byte sizes (tied tensors counted once)."""
        _, named, _ = _collect(obj)
        unique = {_alias_key(t): t for _, t in named}
        return sum(int(t.numel()) * int(t.element_size()) for t in unique.values())

    def dump(self, obj: Any) -> Payload:
        """Header segment plus one segment per distinct tensor."""
        torch = _torch()
        kind, named, extra = _collect(obj)
        stored: dict[tuple[Any, ...], str] = {}
        aliases: dict[str, str] = {}
        raw_dtypes: dict[str, str] = {}
        header: dict[str, Any] = {}
        segments: list[Segment] = []
        tensors_meta: dict[str, Any] = {}
        on_device: list[tuple[Segment, Any]] = []
        offset = 0
        for name, t in named:
            if not isinstance(t, torch.Tensor) or not _storable_tensor(torch, t):
                raise Decline(f"{name!r} is not a plain strided tensor ({qualified_type_name(t)})")
            key = _alias_key(t)
            if key in stored:
                aliases[name] = stored[key]
                continue
            stored[key] = name
            dtype = _dtype_name(t.dtype)
            nbytes = t.numel() * t.element_size()
            shape = list(t.shape)
            code = _CODES.get(dtype) if hasattr(torch, dtype) else None
            if code is None:
                code, shape = "U8", [*shape, t.element_size()]
                raw_dtypes[name] = dtype
            header[name] = {
                "dtype": code,
                "shape": shape,
                "data_offsets": [offset, offset + nbytes],
            }
            offset += nbytes
            tensors_meta[name] = {"shape": list(t.shape), "dtype": dtype, "nbytes": nbytes}
            if t.device.type in HOST_DEVICES:
                segments.append(Segment(name, _host_view(t), nbytes))
            else:
                tensors_meta[name]["device"] = str(t.device)
                segments.append(
                    Segment(name, None, nbytes, materialize=functools.partial(_materialize, t))
                )
                on_device.append((segments[-1], t))
        # one fused pass over every device tensor (see torch_fingerprint)
        fingerprints = tensor_fingerprints([t for _, t in on_device])
        for (segment, _), fp in zip(on_device, fingerprints, strict=True):
            segment.fingerprint = fp
        info: dict[str, Any] = {"kind": kind, **extra}
        if kind == "state_dict":
            info["container"] = qualified_type_name(obj)
            info["names"] = [name for name, _ in named]
        if kind == "tensor":
            info["parameter"] = isinstance(obj, torch.nn.Parameter)
            info["requires_grad"] = bool(obj.requires_grad)
        metadata = {"format": "pt", "mlvc": json.dumps(info)}
        if aliases:
            metadata["mlvc.aliases"] = json.dumps(aliases)
        if raw_dtypes:
            metadata["mlvc.dtypes"] = json.dumps(raw_dtypes)
        if kind == "module":
            ids = {id(t): name for name, t in named}
            structure = _module_pickle(obj, ids)
            metadata["mlvc.module"] = base64.b64encode(structure).decode("ascii")
        head = json.dumps({"__metadata__": metadata, **header}, separators=(",", ":")).encode()
        head += b" " * (-len(head) % 8)
        head = struct.pack("<Q", len(head)) + head
        meta: dict[str, Any] = {
            "type": qualified_type_name(obj),
            "kind": kind,
            "tensors": tensors_meta,
            "nbytes": offset,
        }
        if aliases:
            meta["aliases"] = aliases
        if kind == "module":
            meta["unsafe"] = True
            meta["trust_reason"] = "rebuilding the module unpickles its structure"
        if kind == "tensor":
            meta["shape"] = tensors_meta[TENSOR_KEY]["shape"]
            meta["dtype"] = tensors_meta[TENSOR_KEY]["dtype"]
        return Payload(
            format=self.format,
            segments=[Segment("header", head, len(head)), *segments],
            meta=meta,
            extension="safetensors",
        )

    def load(self, meta: dict[str, Any], reader: PayloadReader, *, trusted: bool = False) -> Any:
        """Read the tensors (on CPU) straight into fresh tensors and rebuild the value.

        Raises:
            TrustError: the payload is a module, ``trusted`` is False and
                ``meta["state_dict_only"]`` is not set.
        """
        torch = _torch()
        header, metadata = _read_header(reader)
        info = json.loads(metadata.get("mlvc", "{}"))
        aliases = json.loads(metadata.get("mlvc.aliases", "{}"))
        raw_dtypes = json.loads(metadata.get("mlvc.dtypes", "{}"))
        kind = info.get("kind", "state_dict")
        if kind == "module" and not meta.get("state_dict_only") and not trusted:
            raise TrustError(
                f"rebuilding this {meta.get('type', 'module')} executes the pickle of its "
                "structure: load it with trusted=True only if you trust who wrote this commit; "
                'its weights alone load without trust with meta["state_dict_only"] = True'
            )
        order = sorted(header, key=lambda n: header[n]["data_offsets"][0])
        tensors: dict[str, Any] = {}
        for index, name in enumerate(order, start=1):
            entry = header[name]
            shape = entry["shape"]
            if name in raw_dtypes:
                dtype, shape = getattr(torch, raw_dtypes[name]), shape[:-1]
            else:
                dtype = getattr(torch, _FROM_CODE[entry["dtype"]])
            t = torch.empty(shape, dtype=dtype)
            start, end = entry["data_offsets"]
            if (
                reader.segment_size(index) != end - start
                or end - start != t.numel() * t.element_size()
            ):
                raise SerializationError(f"tensor {name!r}: segment size does not match header")
            if end > start:
                reader.readinto_segment(index, memoryview(tensor_bytes(t).numpy()))
            tensors[name] = t
        for alias, target in aliases.items():
            tensors[alias] = tensors[target]
        if kind == "tensor":
            t = tensors[TENSOR_KEY]
            if info.get("parameter"):
                return torch.nn.Parameter(t, requires_grad=info.get("requires_grad", True))
            return t.requires_grad_(bool(info.get("requires_grad")))
        if kind == "module":
            if meta.get("state_dict_only"):
                return OrderedDict((k, tensors[k]) for k in info["state_dict_keys"])
            return _module_unpickle(base64.b64decode(metadata["mlvc.module"]), tensors)
        names = info.get("names") or list(tensors)
        container = dict if info.get("container") == "builtins.dict" else OrderedDict
        return container((n, tensors[n]) for n in names)


# ------------------------------------------------------------------ restore in place


@dataclass
class InPlaceLoad:
    """What :func:`load_into` did."""

    #: Stored tensors (tied names counted once).
    tensors: int = 0
    #: Tensors whose bytes were read and copied into the target.
    copied: int = 0
    #: Tensors left alone: their on-device fingerprint says they hold the stored bytes.
    skipped: int = 0
    #: Bytes read from the store and copied into the target.
    bytes: int = 0


def in_place_mismatch(target: Any, meta: dict[str, Any]) -> str | None:
    """Why the stored tensors described by ``meta`` cannot be copied into ``target``'s
    own tensors (None when they can: the same names, shapes and dtypes).

    Args:
        target: a tensor, a state_dict of tensors or an ``nn.Module`` (the live value).
        meta: the ``meta`` of a ``safetensors`` payload.
    """
    torch = sys.modules.get("torch")
    if torch is None or not SafetensorsSerializer().accepts(target):
        return f"{qualified_type_name(target)} holds no torch tensors to restore into"
    kind = meta.get("kind", "state_dict")
    _, named, _ = _collect(target)
    mine = dict(named)
    stored: dict[str, Any] = dict(meta.get("tensors", {}))
    aliases: dict[str, str] = dict(meta.get("aliases", {}))
    want = set(stored) | set(aliases)
    if kind == "tensor" and not isinstance(target, torch.Tensor):
        return "the stored value is a tensor, the live one is not"
    if kind != "tensor" and isinstance(target, torch.Tensor):
        return f"the stored value is a {kind}, the live one a tensor"
    if set(mine) != want:
        extra, missing = sorted(set(mine) - want), sorted(want - set(mine))
        return f"the tensors differ (only live: {extra[:5]}, only stored: {missing[:5]})"
    for name in want:
        info = stored[aliases.get(name, name)]
        t = mine[name]
        if not isinstance(t, torch.Tensor) or not _storable_tensor(torch, t):
            return f"{name!r} is not a plain strided tensor"
        if list(t.shape) != info["shape"] or _dtype_name(t.dtype) != info["dtype"]:
            return (
                f"{name!r} is {_dtype_name(t.dtype)}{list(t.shape)} live, "
                f"{info['dtype']}{info['shape']} stored"
            )
    return None


def load_into(
    target: Any,
    meta: dict[str, Any],
    reader: PayloadReader,
    *,
    slice_bytes: int | None = None,
) -> InPlaceLoad:
    """Copy a stored tensor, state_dict or module's tensors into ``target``'s own
    tensors, where they live (a GPU included): the target keeps its memory (every
    tensor its device and ``data_ptr``), no second copy of the model is made on the
    device, and the host holds at most two staging slices.

    A device tensor whose on-device fingerprint shows it already holds the stored bytes
    (the reader's ``segment_matches``, answered by the store's fast-hash cache) is not
    touched. Device tensors are filled through two reused (pinned, on CUDA) host
    buffers of ``slice_bytes``: the next slice is read from the store while the previous
    one is copied to the device. Host tensors are read into directly. No pickle is
    executed (a module's structure is the live one), so this needs no trust.

    Args:
        target: the live value (see :func:`in_place_mismatch`).
        meta: the payload's meta.
        reader: the stored payload.
        slice_bytes: staging slice size (default :data:`SLICE_BYTES`).

    Raises:
        SerializationError: ``target`` does not have the stored tensors' names, shapes
            and dtypes (nothing was changed), or the stored header disagrees with them.
    """
    torch = _torch()
    why = in_place_mismatch(target, meta)
    if why is not None:
        raise SerializationError(f"cannot restore in place: {why}")
    header, metadata = _read_header(reader)
    aliases: dict[str, str] = json.loads(metadata.get("mlvc.aliases", "{}"))
    raw_dtypes: dict[str, str] = json.loads(metadata.get("mlvc.dtypes", "{}"))
    mine = dict(_collect(target)[1])
    order = sorted(header, key=lambda n: header[n]["data_offsets"][0])
    for name in order:
        start, end = header[name]["data_offsets"]
        t = mine.get(name)
        nbytes = 0 if t is None else t.numel() * t.element_size()
        dtype = raw_dtypes.get(name) or _FROM_CODE.get(header[name]["dtype"])
        if t is None or end - start != nbytes or dtype != _dtype_name(t.dtype):
            raise SerializationError(f"tensor {name!r}: the stored header does not match it")
    slice_bytes = slice_bytes or SLICE_BYTES
    ranged = "offset" in inspect.signature(reader.readinto_segment).parameters
    matches = getattr(reader, "segment_matches", None)
    stats = InPlaceLoad()
    stager = _Stager(torch, slice_bytes)
    filled: dict[str, Any] = {}
    device_names = [n for n in order if mine[n].device.type not in HOST_DEVICES]
    current: dict[str, str] = {}
    if matches is not None and device_names:
        fps = tensor_fingerprints([mine[n] for n in device_names])
        current = dict(zip(device_names, fps, strict=True))
    with torch.no_grad():
        for index, name in enumerate(order, start=1):
            t = mine[name].detach()
            stats.tensors += 1
            filled[name] = t
            size = reader.segment_size(index)
            if size == 0:
                continue
            on_host = t.device.type in HOST_DEVICES
            if name in current and matches is not None and matches(index, current[name]):
                stats.skipped += 1
                continue
            stats.copied += 1
            stats.bytes += size
            dest = (
                t
                if t.is_contiguous()
                else torch.empty_like(t, memory_format=torch.contiguous_format)
            )
            flat = dest.reshape(-1).view(torch.uint8)
            if on_host:
                reader.readinto_segment(index, memoryview(flat.numpy()))
            elif size <= slice_bytes or ranged:
                stager.copy(reader, index, flat)
            else:  # a reader that reads whole segments only: one host copy
                host = torch.empty(size, dtype=torch.uint8)
                reader.readinto_segment(index, memoryview(host.numpy()))
                flat.copy_(host)
            if dest is not t:
                t.copy_(dest)
        stager.finish()
        for alias, stored_name in aliases.items():
            live = mine[alias].detach()
            if _alias_key(live) != _alias_key(filled[stored_name]):
                live.copy_(filled[stored_name])
    return stats


class _Stager:
    """Host-to-device copies through two reused staging buffers (pinned on CUDA): slice
    ``k + 1`` is read from the store while slice ``k`` is copied to the device."""

    def __init__(self, torch: Any, slice_bytes: int) -> None:
        self._torch = torch
        self._slice = slice_bytes
        self._buffers: list[Any] = []
        self._events: list[Any] = [None, None]
        self._turn = 0

    def _buffer(self, k: int, pin: bool) -> Any:
        while len(self._buffers) <= k:
            self._buffers.append(
                self._torch.empty(self._slice, dtype=self._torch.uint8, pin_memory=pin)
            )
        return self._buffers[k]

    def copy(self, reader: PayloadReader, index: int, flat: Any) -> None:
        n = int(flat.numel())
        cuda = flat.device.type == "cuda"
        whole = n <= self._slice
        for start in range(0, n, self._slice):
            size = min(self._slice, n - start)
            k = self._turn
            self._turn ^= 1
            if self._events[k] is not None:
                self._events[k].synchronize()  # the copy out of this buffer is done
            staging = self._buffer(k, cuda)[:size]
            view = memoryview(staging.numpy())
            if whole:
                reader.readinto_segment(index, view)
            else:
                reader.readinto_segment(index, view, start)  # type: ignore[call-arg]
            flat[start : start + size].copy_(staging, non_blocking=cuda)
            if cuda:
                event = self._torch.cuda.Event()
                event.record(self._torch.cuda.current_stream(flat.device))
                self._events[k] = event

    def finish(self) -> None:
        for event in self._events:
            if event is not None:
                event.synchronize()
        self._events = [None, None]
