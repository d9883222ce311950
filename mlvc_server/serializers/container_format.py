"""``container``: dicts, lists, tuples, namedtuples, dataclasses (and the pytrees made of
them) stored leaf by leaf, each leaf in its own safe format.

A container whose values include arrays, tensors, frames... is not pickled whole: it is
walked, and becomes

* a **manifest** (the first segment, ``8-byte little-endian length + JSON``, also kept in
  ``meta["manifest"]``): the structure (node kinds, keys, classes), small plain values
  inline (``None``/``bool``/``int``/``float``/``str``, numpy scalars, small plain
  lists/dicts), and for every leaf its path, format, meta and number of segments;
* then the **segments of every leaf**, in walk order, exactly as the registry made them
  for the leaf alone (an array's ``.npy`` header and data, a state_dict's safetensors
  header and tensors, a DataFrame's parquet parts...). Leaves of at most
  :data:`SMALL_LEAF` bytes are instead packed, in walk order, into shared ``pack``
  segments of up to :data:`PACK_MAX` bytes (their entry says where: ``seg``, ``at``,
  ``sizes``, and an ``xxh3`` of their bytes), so that many small leaves are a few blobs.

So an unchanged leaf is unchanged bytes and deduplicates exactly, across commits and
across variables, as tensors do; a changed leaf costs its own bytes; a changed inline
value changes only the manifest.

Walk, for each value met (depth first, keys in order):

1. an object met before (the same ``id``) becomes a reference to it: tied arrays and
   shared sub-containers come back shared (but not a value inside an inline plain value:
   JSON keeps no sharing); a cycle is declined (pickle keeps cycles);
2. a small plain value (JSON up to :data:`INLINE_MAX` bytes) or a numpy scalar is inline;
3. a node of a walkable kind (:func:`node_kind`) that no safe format takes whole is walked
   (a ``dict`` of tensors is taken whole by ``safetensors``: one leaf, one segment per
   tensor);
4. anything else is a leaf, serialized by the registry (the container format excluded).
   A leaf only pickle can hold is pickled alone, named in ``meta["pickled"]`` and
   ``meta["trust_reason"]``, and the payload is marked ``unsafe`` (so it is signed, and
   loading another user's needs trust). When *every* leaf would be a pickle the container
   is declined, and pickled whole (which keeps identities between its parts).

Limits: :data:`MAX_DEPTH` levels of nesting, :data:`MAX_NODES` nodes and leaves,
:data:`INLINE_TOTAL` bytes of inline values, :data:`MAX_PICKLED_LEAVES` pickled leaves (or
:data:`EARLY_PICKLED` pickled leaves before any safe one); past them the container is
declined with the reason (in practice: pickled whole, the reason recorded in
``meta["pickle_reason"]``; with pickle not allowed, the error says it).

Rebuilding classes (namedtuple, dataclass) follows the trust rules of docs/security.md:
nothing is imported and no constructor runs. The class is looked up by its qualified
name among the modules **already imported** in the process (``sys.modules``, through the
modules' ``__dict__``, so not even a module ``__getattr__`` runs) and must still be a
namedtuple with the same fields / a dataclass with the same fields. The instance is made
with ``tuple.__new__`` / ``object.__new__`` and its fields set with
``object.__setattr__``, as pickle does, so ``__init__`` and ``__post_init__`` do not run.
When the class is not found (its module is not imported yet, it was defined inside a
function, it changed), the value comes back as a plain ``dict`` of its fields and a
:class:`ContainerRebuildWarning` says so: import the module (or run the cell defining the
class) and load again to get the class back.
"""

from __future__ import annotations

import base64
import collections
import contextlib
import dataclasses
import enum
import json
import math
import struct
import sys
import warnings
from typing import Any

from ..errors import SerializationError, UnsupportedTypeError
from .base import Decline, Payload, PayloadReader, Segment, qualified_type_name
from .json_format import decode, encode, is_plain
from .unstorable import unstorable_reason

FORMAT = "container"
#: Deepest nesting of containers walked.
MAX_DEPTH = 64
#: Most nodes (containers, inline values, leaves) in one container.
MAX_NODES = 100_000
#: Plain values whose JSON is at most this long are kept in the manifest, not as a leaf.
INLINE_MAX = 4096
#: Most bytes of inline values in one manifest; past that the container is declined (a
#: mass of small values is no container of leaves: pickle holds it more compactly).
INLINE_TOTAL = 1 << 20
#: A container with more leaves that need pickle is pickled whole (one pickle is
#: smaller and faster than thousands, and keeps the identities between them).
MAX_PICKLED_LEAVES = 1000
#: ...and so is one whose first leaves all need pickle (a list of custom objects).
EARLY_PICKLED = 64
#: Leaves of at most this many bytes are packed together into shared segments (one blob
#: per pack instead of one or more per leaf: a list of 10,000 small arrays is a few blobs).
SMALL_LEAF = 16 << 10
#: Largest pack segment.
PACK_MAX = 1 << 20
#: Factories a ``defaultdict`` may have to be walked (and rebuilt).
_FACTORIES: dict[str, Any] = {
    "None": None,
    "list": list,
    "dict": dict,
    "set": set,
    "int": int,
    "float": float,
    "str": str,
    "tuple": tuple,
}
_FACTORY_NAMES = {id(v): k for k, v in _FACTORIES.items()}
#: Formats never used for a leaf (the container itself; plain values are inline).
_NOT_LEAF_FORMATS = frozenset({FORMAT})


class ContainerRebuildWarning(UserWarning):
    """A namedtuple or dataclass came back as a plain dict: its class was not found among
    the modules already imported (see :mod:`.container_format`)."""


def _is_namedtuple(obj: Any) -> bool:
    cls = type(obj)
    fields = getattr(cls, "_fields", None)
    return (
        isinstance(obj, tuple)
        and cls is not tuple
        and type(fields) is tuple
        and all(type(f) is str for f in fields)
        and len(fields) == len(obj)
        and callable(getattr(cls, "_make", None))
    )


def _dataclass_state(obj: Any) -> list[tuple[str, Any]] | None:
    """The fields of a dataclass instance whose whole state is its fields, else None."""
    if isinstance(obj, type) or not dataclasses.is_dataclass(obj):
        return None
    if isinstance(obj, dict | list | tuple | set):
        return None  # a dataclass that is also a container holds more than its fields
    names = [f.name for f in dataclasses.fields(obj)]
    state = getattr(obj, "__dict__", None)
    if state is not None and set(state) != set(names):
        return None
    try:
        return [(name, getattr(obj, name)) for name in names]
    except AttributeError:  # a slot never set
        return None


_DICT_KINDS: dict[type, str] = {
    dict: "dict",
    collections.OrderedDict: "odict",
    collections.Counter: "counter",
}


def node_kind(obj: Any) -> str | None:
    """The kind of container node ``obj`` is walked as, or None when it is a leaf.

    Args:
        obj: any object.

    Returns:
        ``dict``, ``odict``, ``counter``, ``defaultdict``, ``list``, ``tuple``, ``namedtuple``,
        ``enum`` (a member),
        ``deque``, ``set``, ``frozenset`` or ``dataclass``; None for anything else (and for
        dicts whose keys are not plain values, sets of non-plain items, a defaultdict with
        another factory, a dataclass holding more than its fields).
    """
    cls = type(obj)
    if cls is dict or cls is collections.OrderedDict or cls is collections.Counter:
        if all(is_plain(k) for k in obj):
            return _DICT_KINDS[cls]
        return None
    if cls is collections.defaultdict:
        if id(obj.default_factory) in _FACTORY_NAMES and all(is_plain(k) for k in obj):
            return "defaultdict"
        return None
    if cls is list:
        return "list"
    if cls is tuple:
        return "tuple"
    if cls is collections.deque:
        return "deque"
    if cls is set or cls is frozenset:
        return cls.__name__ if all(is_plain(item) for item in obj) else None
    if _is_namedtuple(obj):
        return "namedtuple"
    if _dataclass_state(obj) is not None:
        return "dataclass"
    if isinstance(obj, enum.Enum) and "<locals>" not in cls.__qualname__:
        return "enum"
    return None


def _class_name(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def find_class(name: str) -> type | None:
    """The class ``module:Qual.Name`` if its module is already imported, without importing
    anything or running any code.

    Args:
        name: ``module:qualname`` as recorded.

    Returns:
        The class, or None when the module is not imported or has no such class.
    """
    module_name, _, qualname = name.partition(":")
    module = sys.modules.get(module_name)
    if module is None or not qualname or "<locals>" in qualname:
        return None
    found: Any = module
    for part in qualname.split("."):
        namespace = getattr(found, "__dict__", None)
        if not isinstance(namespace, dict) or part not in namespace:
            return None
        found = namespace[part]
    return found if isinstance(found, type) else None


def _path_key(key: Any) -> str:
    return key if type(key) is str else repr(key)


def _numpy_scalar(obj: Any) -> dict[str, Any] | None:
    """An inline node for a numpy bool/int/float scalar that JSON holds exactly."""
    np = sys.modules.get("numpy")
    if np is None or not isinstance(obj, np.generic) or type(obj).__module__ != "numpy":
        return None
    kind = obj.dtype.kind
    if kind in "biu" or (kind == "f" and obj.dtype.itemsize <= 8):
        value = obj.item()
        if kind == "f" and not math.isfinite(value):
            value = encode(value)  # tagged: nan/inf bits
        return {"k": "np", "dtype": obj.dtype.str, "v": value}
    return None


class _Walker:
    def __init__(self, max_bytes: int | None) -> None:
        self.leaves: list[dict[str, Any]] = []
        self.segments: list[Segment] = []
        self.pickled: list[str] = []
        self.unsafe_reasons: list[str] = []
        self.nodes = 0
        self.inline_bytes = 0
        self.size = 0
        self.max_bytes = max_bytes
        #: id -> the node (or leaf reference) made for it; ``active`` ids are ancestors.
        self.seen: dict[int, dict[str, Any]] = {}
        self.keep: list[Any] = []  # keeps ids unique while walking
        self.active: set[int] = set()
        self.next_ref = 0
        self.pack: bytearray | None = None
        self.pack_segment: Segment | None = None
        self.pack_index = 0
        self.packs = 0

    def _count(self) -> None:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise Decline(f"more than {MAX_NODES} nodes and leaves (mlvc's limit)")

    def _inline(self, node: dict[str, Any], size: int) -> dict[str, Any]:
        self.inline_bytes += size
        if self.inline_bytes > INLINE_TOTAL:
            raise Decline(f"more than {INLINE_TOTAL} bytes of small values to keep inline")
        return node

    def walk(self, obj: Any, path: str, depth: int) -> dict[str, Any]:
        self._count()
        scalar = _numpy_scalar(obj)
        if scalar is not None:
            return scalar
        if (
            type(obj) in (type(None), bool, int, float, str)
            and is_plain(obj)
            and (type(obj) is not str or len(obj) <= INLINE_MAX)
        ):
            return self._inline({"k": "v", "v": encode(obj)}, len(obj) if type(obj) is str else 8)
        if type(obj) in (bytes, bytearray) and len(obj) <= INLINE_MAX:
            text = base64.b64encode(obj).decode("ascii")
            return self._inline({"k": type(obj).__name__, "v": text}, len(text))
        oid = id(obj)
        if oid in self.active:
            raise Decline(f"{path or 'the value'} contains itself (a cycle)")
        previous = self.seen.get(oid)
        if previous is not None:
            if "id" not in previous:
                previous["id"] = self.next_ref
                self.next_ref += 1
            return {"k": "ref", "to": previous["id"]}
        if type(obj) in (list, tuple, dict) and len(obj) <= INLINE_MAX // 2 and is_plain(obj):
            text = json.dumps(encode(obj), separators=(",", ":"))
            if len(text) <= INLINE_MAX:
                node = self._inline({"k": "v", "v": json.loads(text)}, len(text))
                self._remember(obj, node)
                return node
        kind = node_kind(obj)
        if kind is not None and not self._has_safe_format(obj):
            if depth >= MAX_DEPTH:
                raise Decline(f"nested deeper than {MAX_DEPTH} levels at {path!r}")
            node = self._node(obj, kind, path, depth)
        else:
            node = self._leaf(obj, path, walkable=kind is not None, depth=depth)
        self._remember(obj, node)
        return node

    def _remember(self, obj: Any, node: dict[str, Any]) -> None:
        self.seen[id(obj)] = node
        self.keep.append(obj)

    @staticmethod
    def _has_safe_format(obj: Any) -> bool:
        from . import serializers

        for serializer in serializers():
            if serializer.unsafe or serializer.format in ("json", FORMAT):
                continue
            try:
                if serializer.accepts(obj):
                    return True
            except Exception:  # a format's accepts() failing is a "no"
                continue
        return False

    def _children(self, items: Any, path: str, depth: int) -> list[dict[str, Any]]:
        return [
            self.walk(value, f"{path}/{i}" if path else str(i), depth + 1)
            for i, value in enumerate(items)
        ]

    def _node(self, obj: Any, kind: str, path: str, depth: int) -> dict[str, Any]:
        self.active.add(id(obj))
        try:
            node: dict[str, Any] = {"k": kind}
            if kind in ("dict", "odict", "defaultdict", "counter"):
                node["items"] = [
                    [
                        encode(key),
                        self.walk(
                            value,
                            f"{path}/{_path_key(key)}" if path else _path_key(key),
                            depth + 1,
                        ),
                    ]
                    for key, value in obj.items()
                ]
                if kind == "defaultdict":
                    node["factory"] = _FACTORY_NAMES[id(obj.default_factory)]
            elif kind in ("set", "frozenset"):
                items = list(obj)
                with contextlib.suppress(TypeError):
                    items.sort()
                node["v"] = encode(items)
            elif kind == "namedtuple":
                node["cls"] = _class_name(type(obj))
                node["fields"] = list(type(obj)._fields)
                node["items"] = [
                    self.walk(value, f"{path}/{field}" if path else field, depth + 1)
                    for field, value in zip(type(obj)._fields, obj, strict=True)
                ]
            elif kind == "enum":  # the member by its class and name (no code stored)
                node["cls"] = _class_name(type(obj))
                node["name"] = obj.name
                if is_plain(obj.value):
                    node["v"] = encode(obj.value)
            elif kind == "dataclass":
                node["cls"] = _class_name(type(obj))
                state = _dataclass_state(obj) or []
                node["fields"] = [name for name, _ in state]
                node["items"] = [
                    self.walk(value, f"{path}/{name}" if path else name, depth + 1)
                    for name, value in state
                ]
            else:  # list, tuple, deque
                node["items"] = self._children(obj, path, depth)
                if kind == "deque" and obj.maxlen is not None:
                    node["maxlen"] = obj.maxlen
            return node
        finally:
            self.active.discard(id(obj))

    def _leaf(self, obj: Any, path: str, *, walkable: bool, depth: int) -> dict[str, Any]:
        from . import serialize

        reason = unstorable_reason(obj)
        if reason is not None and unstorable_reason(obj, nested=True) is None:
            # storable only inside a pickle (a module, pickled by reference)
            raise Decline(f"its part {path!r} is {reason}")
        remaining = None if self.max_bytes is None else max(0, self.max_bytes - self.size)
        try:
            payload = serialize(obj, max_bytes=remaining, exclude=_NOT_LEAF_FORMATS)
        except UnsupportedTypeError as exc:
            raise UnsupportedTypeError(f"its part {path!r}: {exc}") from exc
        from . import get

        unsafe = get(payload.format).unsafe or bool(payload.meta.get("unsafe"))
        if unsafe and walkable:  # a safe format declined it after all: walk it instead
            if depth >= MAX_DEPTH:
                raise Decline(f"nested deeper than {MAX_DEPTH} levels at {path!r}")
            kind = node_kind(obj)
            assert kind is not None
            return self._node(obj, kind, path, depth)
        if unsafe:
            if len(self.pickled) >= MAX_PICKLED_LEAVES:
                raise Decline(f"more than {MAX_PICKLED_LEAVES} of its leaves need pickle")
            if len(self.pickled) >= EARLY_PICKLED and len(self.pickled) == len(self.leaves):
                raise Decline(f"its first {EARLY_PICKLED} leaves all need pickle")
            self.pickled.append(path)
            reason = payload.meta.get("trust_reason", f"it is stored as {payload.format}")
            self.unsafe_reasons.append(f"{path} ({payload.meta.get('type')}): {reason}")
        self.size += payload.size
        index = len(self.leaves)
        entry: dict[str, Any] = {
            "path": path,
            "format": payload.format,
            "meta": payload.meta,
            "segments": len(payload.segments),
            "size": payload.size,
        }
        self.leaves.append(entry)
        if payload.size <= SMALL_LEAF and all(seg.data is not None for seg in payload.segments):
            self._pack(entry, payload)
        else:
            entry["seg"] = len(self.segments) + 1  # segment 0 is the manifest
            for seg in payload.segments:
                seg.name = f"{path}:{seg.name}"
                self.segments.append(seg)
        return {"k": "leaf", "i": index}

    def _pack(self, entry: dict[str, Any], payload: Payload) -> None:
        """Put a small leaf's bytes into the current pack segment."""
        import xxhash

        if self.pack is None or len(self.pack) + payload.size > PACK_MAX:
            self.pack = bytearray()
            self.pack_segment = Segment(f"pack{self.packs}", self.pack, 0)
            self.packs += 1
            self.segments.append(self.pack_segment)
            self.pack_index = len(self.segments)  # after the manifest, segment 0
        assert self.pack_segment is not None
        hasher = xxhash.xxh3_128()
        entry.update(seg=self.pack_index, at=len(self.pack), sizes=[])
        for seg in payload.segments:
            assert seg.data is not None
            data = memoryview(seg.data).cast("B") if seg.size else b""
            self.pack += data
            hasher.update(data)
            entry["sizes"].append(seg.size)
        entry["xxh3"] = hasher.hexdigest()
        self.pack_segment.size = len(self.pack)


def _header(manifest: dict[str, Any]) -> bytes:
    text = json.dumps(manifest, sort_keys=True, separators=(",", ":"), allow_nan=False)
    body = text.encode()
    body += b" " * (-len(body) % 8)
    return struct.pack("<Q", len(body)) + body


class _SubReader:
    """The segments ``[start, start + count)`` of a payload, as a payload of their own."""

    def __init__(self, reader: PayloadReader, start: int, count: int) -> None:
        self._reader = reader
        self._start = start
        self._count = count

    @property
    def segment_names(self) -> list[str]:
        names = self._reader.segment_names[self._start : self._start + self._count]
        return [n.partition(":")[2] or n for n in names]

    def segment_size(self, index: int) -> int:
        return self._reader.segment_size(self._offset(index))

    def _offset(self, index: int) -> int:
        if not 0 <= index < self._count:
            raise IndexError(f"segment {index} of a leaf with {self._count}")
        return self._start + index

    def read_segment(self, index: int) -> bytes:
        return self._reader.read_segment(self._offset(index))

    def readinto_segment(self, index: int, buffer: Any) -> None:
        self._reader.readinto_segment(self._offset(index), buffer)

    def open(self) -> Any:
        import io

        return io.BytesIO(b"".join(self.read_segment(i) for i in range(self._count)))


class _PackedReader:
    """The segments of a small leaf, slices of its pack segment."""

    def __init__(self, pack: bytes, at: int, sizes: list[int]) -> None:
        self._views: list[memoryview] = []
        view = memoryview(pack)
        for size in sizes:
            self._views.append(view[at : at + int(size)])
            at += int(size)

    @property
    def segment_names(self) -> list[str]:
        return [str(i) for i in range(len(self._views))]

    def segment_size(self, index: int) -> int:
        return len(self._views[index])

    def read_segment(self, index: int) -> bytes:
        return bytes(self._views[index])

    def readinto_segment(self, index: int, buffer: Any) -> None:
        memoryview(buffer).cast("B")[:] = self._views[index]

    def open(self) -> Any:
        import io

        return io.BytesIO(b"".join(self._views))


class _Builder:
    def __init__(self, leaves: list[dict[str, Any]], reader: PayloadReader, trusted: bool) -> None:
        self.leaves = leaves
        self.reader = reader
        self.trusted = trusted
        self.refs: dict[int, Any] = {}
        self.nodes = 0
        self.packs: dict[int, bytes] = {}
        total = len(reader.segment_names)
        for leaf in leaves:
            count, start = int(leaf["segments"]), int(leaf["seg"])
            if "sizes" in leaf:
                sizes = [int(n) for n in leaf["sizes"]]
                ok = (
                    1 <= start < total
                    and len(sizes) == count
                    and min(sizes, default=0) >= 0
                    and int(leaf["at"]) >= 0
                    and int(leaf["at"]) + sum(sizes) <= reader.segment_size(start)
                )
            else:
                ok = count >= 0 and start >= 1 and start + count <= total
            if not ok:
                raise SerializationError(
                    f"container manifest: leaf {leaf.get('path')!r} names segments "
                    f"the payload ({total} segments) does not have"
                )

    def build(self, node: Any, depth: int) -> Any:
        value = self._build(node, depth)
        if type(node) is dict and "id" in node:
            self.refs[node["id"]] = value
        return value

    def _build(self, node: Any, depth: int) -> Any:
        from . import deserialize

        self.nodes += 1
        if self.nodes > MAX_NODES or depth > MAX_DEPTH + 1:
            raise SerializationError("container manifest is nested too deeply or too large")
        if type(node) is not dict:
            raise SerializationError("container manifest: a node is not an object")
        kind = node.get("k")
        if kind == "v":
            return decode(node["v"])
        if kind in ("bytes", "bytearray"):
            raw = base64.b64decode(node["v"])
            return raw if kind == "bytes" else bytearray(raw)
        if kind == "np":
            import numpy as np

            raw_value = node["v"]
            return np.dtype(node["dtype"]).type(
                decode(raw_value) if type(raw_value) is dict else raw_value
            )
        if kind == "ref":
            target = node["to"]
            if target not in self.refs:
                raise SerializationError(f"container manifest: dangling reference {target}")
            return self.refs[target]
        value: Any
        if kind == "leaf":
            index = int(node["i"])
            leaf = self.leaves[index]
            if leaf["format"] in _NOT_LEAF_FORMATS:
                raise SerializationError("container manifest: a leaf cannot be a container")
            sub: PayloadReader
            if "sizes" in leaf:
                start = int(leaf["seg"])
                if start not in self.packs:
                    self.packs[start] = self.reader.read_segment(start)
                sub = _PackedReader(self.packs[start], int(leaf["at"]), leaf["sizes"])
            else:
                sub = _SubReader(self.reader, int(leaf["seg"]), int(leaf["segments"]))
            value = deserialize(leaf["format"], leaf["meta"], sub, trusted=self.trusted)
        elif kind in ("dict", "odict", "defaultdict", "counter"):
            pairs = [(decode(k), self.build(v, depth + 1)) for k, v in node["items"]]
            if kind == "dict":
                value = dict(pairs)
            elif kind == "odict":
                value = collections.OrderedDict(pairs)
            elif kind == "counter":
                value = collections.Counter(dict(pairs))
            else:
                factory = node.get("factory", "None")
                if factory not in _FACTORIES:
                    raise SerializationError(f"unknown defaultdict factory {factory!r}")
                value = collections.defaultdict(_FACTORIES[factory], pairs)
        elif kind in ("list", "tuple", "deque"):
            items = [self.build(v, depth + 1) for v in node["items"]]
            if kind == "list":
                value = items
            elif kind == "tuple":
                value = tuple(items)
            else:
                value = collections.deque(items, node.get("maxlen"))
        elif kind in ("set", "frozenset"):
            value = (set if kind == "set" else frozenset)(decode(node["v"]))
        elif kind in ("namedtuple", "dataclass"):
            fields = [str(f) for f in node["fields"]]
            items = [self.build(v, depth + 1) for v in node["items"]]
            value = self._instance(kind, str(node["cls"]), fields, items)
        elif kind == "enum":
            value = _member(str(node["cls"]), str(node["name"]), node.get("v"))
        else:
            raise SerializationError(f"container manifest: unknown node kind {kind!r}")
        return value

    @staticmethod
    def _instance(kind: str, name: str, fields: list[str], items: list[Any]) -> Any:
        if len(fields) != len(items):
            raise SerializationError(f"container manifest: {name} fields do not match")
        cls = find_class(name)
        if kind == "namedtuple":
            if (
                cls is not None
                and issubclass(cls, tuple)
                and list(getattr(cls, "_fields", ())) == fields
            ):
                return tuple.__new__(cls, items)
        elif (
            cls is not None
            and dataclasses.is_dataclass(cls)
            and not issubclass(cls, dict | list | tuple | set)
            and [f.name for f in dataclasses.fields(cls)] == fields
        ):
            obj = object.__new__(cls)
            for field, item in zip(fields, items, strict=True):
                object.__setattr__(obj, field, item)
            return obj
        module, _, qualname = name.partition(":")
        why = (
            "its module is not imported in this process"
            if module not in sys.modules
            else "it is not found there with the same fields"
        )
        warnings.warn(
            f"{kind} {module}.{qualname} comes back as a plain dict: {why}; import it (or "
            "run the cell that defines it) and load again to get the class back",
            ContainerRebuildWarning,
            stacklevel=6,
        )
        return dict(zip(fields, items, strict=True))


def _member(name: str, member: str, value: Any) -> Any:
    """Enum member ``member`` of class ``name`` when the class is imported here (found
    without importing anything); else its value, with a warning."""
    cls = find_class(name)
    if cls is not None and issubclass(cls, enum.Enum) and member in cls.__members__:
        return cls.__members__[member]
    module, _, qualname = name.partition(":")
    warnings.warn(
        f"enum member {module}.{qualname}.{member} comes back as its value: the class is "
        "not found among the modules imported here; import it (or run the cell that "
        "defines it) and load again to get the member back",
        ContainerRebuildWarning,
        stacklevel=6,
    )
    return decode(value) if value is not None else member


class ContainerSerializer:
    """dict/list/tuple/namedtuple/dataclass trees, one part per leaf in its own format."""

    format = FORMAT
    unsafe = False
    checks_trust = True
    supports_max_bytes = True

    def accepts(self, obj: Any) -> bool:
        """A walkable container (see :func:`node_kind`)."""
        return node_kind(obj) is not None

    def estimate_size(self, obj: Any) -> int | None:
        """Unknown before walking (``dump`` checks the limit leaf by leaf)."""
        return None

    def dump(self, obj: Any, max_bytes: int | None = None) -> Payload:
        """The manifest segment, then every leaf's segments.

        Raises:
            Decline: the container is cyclic, too deep or too large, or every leaf in it
                would be a pickle (then it is better pickled whole).
            UnsupportedTypeError: a leaf cannot be stored at all (the path names it).
        """
        walker = _Walker(max_bytes)
        tree = walker.walk(obj, "", 0)
        if walker.leaves and len(walker.pickled) == len(walker.leaves):
            raise Decline("every leaf needs pickle")
        manifest = {"tree": tree, "leaves": walker.leaves}
        head = _header(manifest)
        meta: dict[str, Any] = {
            "type": qualified_type_name(obj),
            "kind": FORMAT,
            "container": tree.get("k"),
            "leaves": len(walker.leaves),
            "nbytes": walker.size,
            "manifest": manifest,
        }
        if hasattr(obj, "__len__"):
            meta["length"] = len(obj)
        if walker.pickled:
            meta["unsafe"] = True
            meta["pickled"] = walker.pickled
            meta["trust_reason"] = "its part " + "; its part ".join(walker.unsafe_reasons)
        return Payload(
            format=self.format,
            segments=[Segment("manifest", head, len(head)), *walker.segments],
            meta=meta,
            extension="mlvc-container",
        )

    def load(self, meta: dict[str, Any], reader: PayloadReader, *, trusted: bool = False) -> Any:
        """Rebuild the container from the manifest segment, loading each leaf with its own
        format (a pickled leaf needs ``trusted``, checked by the pickle loader itself).

        Raises:
            SerializationError: the manifest is malformed or does not match the segments.
            TrustError: a leaf needs trust and ``trusted`` is False.
        """
        head = reader.read_segment(0)
        if len(head) < 8:
            raise SerializationError("container manifest segment is truncated")
        (length,) = struct.unpack("<Q", head[:8])
        if length != len(head) - 8:
            raise SerializationError("container manifest length does not match its segment")
        manifest = json.loads(head[8:])
        if type(manifest) is not dict or type(manifest.get("leaves")) is not list:
            raise SerializationError("container manifest is malformed")
        builder = _Builder(manifest["leaves"], reader, trusted)
        return builder.build(manifest["tree"], 0)


def leaf_paths(meta: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Path -> leaf entry (``format``, ``meta``, ``segments``, ``size``) of a stored
    container, from its payload meta (for diffs and listings; no bytes are read).

    Args:
        meta: the payload meta of a ``container`` payload.

    Returns:
        The leaves by path, in walk order.
    """
    manifest = meta.get("manifest") or {}
    return {leaf["path"]: leaf for leaf in manifest.get("leaves", [])}


def _flatten(node: Any, path: str, out: dict[str, Any]) -> None:
    """Path -> ``("leaf", index)`` or ``("value", json)`` for every leaf and inline value."""
    if type(node) is not dict:
        return
    kind = node.get("k")
    if kind == "leaf":
        out[path] = ("leaf", node.get("i"))
        return
    if kind in ("v", "np", "bytes", "bytearray", "set", "frozenset", "ref", "enum"):
        out[path] = ("value", json.dumps(node, sort_keys=True))
        return

    def join(key: Any) -> str:
        return f"{path}/{key}" if path else str(key)

    if kind in ("dict", "odict", "defaultdict", "counter"):
        for key, child in node.get("items", []):
            decoded = decode(key)
            _flatten(child, join(_path_key(decoded)), out)
    elif kind in ("namedtuple", "dataclass"):
        for field, child in zip(node.get("fields", []), node.get("items", []), strict=False):
            _flatten(child, join(field), out)
    else:
        for i, child in enumerate(node.get("items", [])):
            _flatten(child, join(i), out)


def leaf_changes(manifest_a: dict[str, Any], manifest_b: dict[str, Any]) -> dict[str, list[str]]:
    """What changed between two stored containers, by path, without reading any payload.

    Leaves compare by the ids of their stored parts (so a leaf whose bytes did not change
    is unchanged even if it moved); inline values by their recorded value.

    Args:
        manifest_a: the store manifest (``format``, ``meta``, ``segments`` with ``parts``)
            of the older ``container`` payload.
        manifest_b: the same for the newer one.

    Returns:
        ``added``, ``removed``, ``changed`` and ``unchanged``: lists of paths.
    """

    def entries(manifest: dict[str, Any]) -> dict[str, Any]:
        content = manifest.get("meta", {}).get("manifest") or {}
        flat: dict[str, Any] = {}
        _flatten(content.get("tree"), "", flat)
        segments = manifest.get("segments", [])
        parts: list[Any] = []
        for leaf in content.get("leaves", []):
            if "xxh3" in leaf:  # packed: its own hash
                parts.append(leaf["xxh3"])
                continue
            start, count = int(leaf.get("seg", 0)), int(leaf.get("segments", 0))
            parts.append(
                [p for seg in segments[start : start + count] for p in seg.get("parts", [])]
            )
        return {
            path: ("leaf", parts[i]) if kind == "leaf" and i < len(parts) else (kind, i)
            for path, (kind, i) in flat.items()
        }

    a, b = entries(manifest_a), entries(manifest_b)
    out: dict[str, list[str]] = {"added": [], "removed": [], "changed": [], "unchanged": []}
    for path, value in b.items():
        if path not in a:
            out["added"].append(path)
        else:
            out["unchanged" if a[path] == value else "changed"].append(path)
    out["removed"] = [path for path in a if path not in b]
    return out
