"""A safe, fast format of our own for fitted scikit-learn estimators.

An estimator's state (``__getstate__``: hyperparameters and fitted attributes) is walked
once and written as two kinds of segments:

* ``state``: JSON describing the object graph. Plain values stay JSON (``None``, bools,
  ints, finite floats, strings, lists); everything else is a one-key object:
  ``{"$t": [...]}`` tuple, ``{"$d": [[k, v], ...]}`` dict (keys of any encodable type, in
  order), ``{"$f": "nan"}`` non-finite float, ``{"$b": base64}`` bytes, ``{"$set": [...]}``
  / ``{"$fset": [...]}`` (sorted), ``{"$sl": [start, stop, step]}`` slice,
  ``{"$sc": [descr, base64]}`` numpy scalar, ``{"$dt": descr}`` numpy dtype,
  ``{"$type": name}`` a numpy scalar type or builtin type from a fixed list,
  ``{"$a": i}`` the i-th array of the table, ``{"$oa": [shape, [items]]}`` an object
  array (its items encoded), ``{"$rs": state}`` a ``numpy.random.RandomState``,
  ``{"$rng": [bit generator, state]}`` a ``numpy.random.Generator``, ``{"$od": [[k, v],
  ...]}`` an ``OrderedDict``, ``{"$dd": [factory, [[k, v], ...]]}`` a ``defaultdict``
  whose factory is one of ``dict``, ``list``, ``int``, ``float``, ``OrderedDict``,
  ``{"$obj": [class, state]}`` an instance of a scikit-learn class rebuilt from its
  ``__dict__`` / ``__getstate__``, ``{"$red": [class, args, state]}`` a scikit-learn
  extension type rebuilt as ``class(*args)`` then ``__setstate__(state)`` (the tree
  structure ``sklearn.tree._tree.Tree``, the Cython losses), ``{"$pyx": [class,
  checksum, state]}`` the same through Cython's generated ``__pyx_unpickle_<class>`` of
  that class's own module, ``{"$ref": n}`` the n-th
  object already rebuilt (shared references stay shared).
* the arrays: each array's raw bytes (C order, or Fortran order when the array is);
  arrays under :data:`PACK_LIMIT` are packed one after another, 64-byte aligned, into one
  ``arrays`` segment, bigger ones get a segment each so that they deduplicate alone.
  The table (dtype ``descr``, shape, order, segment, offset) is in the state JSON.

Loading imports and constructs **only** classes defined in ``sklearn.*`` modules that are
scikit-learn estimators (:class:`sklearn.base.BaseEstimator` subclasses) or in
:data:`EXTRA_CLASSES` / the loss and link modules, numpy arrays, scalars and random
generators from the fixed lists here. No pickle, no function, no user class: an object
graph holding any of those is not written in this format (:class:`Unencodable`, and the
caller falls back to skops), and a payload naming one is refused when loading.

The output is byte-stable: the same estimator gives the same bytes (sets are sorted,
dict order is kept, nothing depends on ``id()`` or the time).
"""

from __future__ import annotations

import base64
import collections
import importlib
import json
import math
from typing import Any, Literal

from ..errors import SerializationError
from .base import Segment

#: Arrays smaller than this are packed together in the ``arrays`` segment.
PACK_LIMIT = 1 << 20
_ALIGN = 64
#: Format version written in the state JSON.
VERSION = 1
#: Non-estimator scikit-learn classes that may be rebuilt (beyond the loss/link modules).
EXTRA_CLASSES = frozenset(
    {
        "sklearn.tree._tree.Tree",
        "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
        "sklearn.utils._bunch.Bunch",
    }
)
#: Modules any of whose classes may be rebuilt (losses and links of the linear models and
#: gradient boosting; they hold no code references).
_CLASS_MODULES = ("sklearn._loss.loss", "sklearn._loss.link", "sklearn._loss._loss")
_BUILTIN_TYPES = {"builtins." + t.__name__: t for t in (bool, int, float, complex, str, bytes)}
_FACTORIES: dict[str, Any] = {
    "dict": dict,
    "list": list,
    "int": int,
    "float": float,
    "collections.OrderedDict": collections.OrderedDict,
}
_FACTORIES_BY_TYPE = {v: k for k, v in _FACTORIES.items()}
_RNG_BITGENS = ("MT19937", "PCG64", "PCG64DXSM", "Philox", "SFC64")


class Unencodable(Exception):
    """The object graph holds something this format does not store (a function, a user
    class, a type outside the lists); the message names it."""


def _class_name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def allowed_class(name: str, construct: bool = False, extra: frozenset[str] = frozenset()) -> type:
    """The scikit-learn class called ``name``, if this format may rebuild it.

    Any class defined in ``sklearn.*`` may be rebuilt from its ``__dict__`` (``__new__``
    then ``__setstate__`` or a ``__dict__`` update: no constructor runs). Calling the
    class with arguments (``construct``, for extension types) is allowed for estimators
    and the classes of :data:`EXTRA_CLASSES` and the loss modules only."""
    module_name, _, qualname = name.rpartition(".")
    if name in extra:  # a class the calling serializer names itself (a model wrapper)
        cls = getattr(importlib.import_module(module_name), qualname, None)
        if isinstance(cls, type) and _class_name(cls) == name:
            return cls
    parts = module_name.split(".")
    if (
        parts[0] != "sklearn"
        or len(parts) < 2
        or not all(p.isidentifier() for p in parts)
        or _NEVER_IMPORTED.intersection(parts)
        or not qualname.isidentifier()
    ):
        raise SerializationError(f"refusing to rebuild {name!r}: not a scikit-learn class")
    module = importlib.import_module(module_name)
    cls = getattr(module, qualname, None)
    if not isinstance(cls, type) or _class_name(cls) != name:
        raise SerializationError(f"refusing to rebuild {name!r}: not a class of that module")
    from sklearn.base import BaseEstimator

    if not construct and not _reduces(cls):
        return cls
    if issubclass(cls, BaseEstimator) or name in EXTRA_CLASSES or module_name in _CLASS_MODULES:
        return cls
    raise SerializationError(f"refusing to rebuild {name!r}: not on the allow-list")


_ENCODABLE: dict[tuple[type, frozenset[str]], bool] = {}


def _encodable_class(cls: type, extra: frozenset[str] = frozenset()) -> bool:
    found = _ENCODABLE.get((cls, extra))
    if found is None:
        try:
            found = allowed_class(_class_name(cls), construct=_reduces(cls), extra=extra) is cls
        except (SerializationError, ImportError):
            found = False
        _ENCODABLE[(cls, extra)] = found
    return found


class Encoder:
    """Walks one object graph into JSON-able state plus an array table."""

    def __init__(self, extra_classes: frozenset[str] = frozenset()) -> None:
        import numpy as np

        self.extra = extra_classes
        self.np = np
        #: (array, descr, fortran) in order of first appearance.
        self.arrays: list[Any] = []
        self._array_ids: dict[int, int] = {}
        self._objects: dict[int, int] = {}
        self._keep: list[Any] = []  # keeps encoded objects alive so ids stay unique
        self._scalar_types = {
            _class_name(t): t
            for t in np.sctypeDict.values()
            if isinstance(t, type) and issubclass(t, np.generic)
        }

    def encode(self, value: Any, depth: int = 0) -> Any:
        if depth > 200:
            raise Unencodable("nesting deeper than 200 levels")
        np = self.np
        cls = type(value)
        if value is None or cls is bool or cls is str:
            return value
        if cls is int:
            return value
        if cls is float:
            return value if math.isfinite(value) else {"$f": repr(value)}
        if cls is list:
            return [self.encode(v, depth + 1) for v in value]
        if cls is tuple:
            return {"$t": [self.encode(v, depth + 1) for v in value]}
        if cls is dict:
            return {
                "$d": [
                    [self.encode(k, depth + 1), self.encode(v, depth + 1)] for k, v in value.items()
                ]
            }
        if cls is np.ndarray:
            return self._array(value, depth)
        if isinstance(value, np.generic) and cls.__module__ == "numpy":
            if value.dtype.hasobject:
                raise Unencodable(f"numpy object scalar {value!r}")
            descr = np.lib.format.dtype_to_descr(value.dtype)
            return {"$sc": [descr, base64.b64encode(value.tobytes()).decode()]}
        if cls is bytes:
            return {"$b": base64.b64encode(value).decode()}
        if cls in (set, frozenset):
            items = [self.encode(v, depth + 1) for v in value]
            try:
                items.sort(key=lambda x: json.dumps(x, sort_keys=True))
            except TypeError as exc:
                raise Unencodable(f"unsortable set: {exc}") from exc
            return {"$set" if cls is set else "$fset": items}
        if cls is slice:
            return {
                "$sl": [self.encode(value.start), self.encode(value.stop), self.encode(value.step)]
            }
        if cls is complex:
            return {"$c": [repr(value.real), repr(value.imag)]}
        if isinstance(value, np.dtype):
            return self._dtype(value)
        if isinstance(value, type):
            name = _class_name(value)
            if name in _BUILTIN_TYPES or name in self._scalar_types:
                return {"$type": name}
            raise Unencodable(f"the class {name}")
        if cls is collections.OrderedDict:
            return {"$od": self.encode(dict(value), depth + 1)["$d"]}
        if cls is collections.defaultdict:
            factory = value.default_factory
            fname = _FACTORIES_BY_TYPE.get(factory) if factory is not None else "None"
            if fname is None:
                raise Unencodable(f"defaultdict with factory {factory!r}")
            return {"$dd": [fname, self.encode(dict(value), depth + 1)["$d"]]}
        if cls is np.random.RandomState:
            return {"$rs": self.encode(value.get_state(legacy=False), depth + 1)}
        if cls is np.random.Generator:
            bitgen = type(value.bit_generator).__name__
            if bitgen not in _RNG_BITGENS:
                raise Unencodable(f"bit generator {bitgen}")
            return {"$rng": [bitgen, self.encode(value.bit_generator.state, depth + 1)]}
        return self._object(value, depth)

    def _dtype(self, dtype: Any) -> dict[str, Any]:
        from .npy_format import storable_dtype

        if not storable_dtype(dtype):
            raise Unencodable(f"dtype {dtype}")
        return {"$dt": self.encode(self.np.lib.format.dtype_to_descr(dtype))}

    def descr(self, dtype: Any) -> Any:
        """The encoded ``.npy`` descr of a storable dtype (memoized: trees repeat them)."""
        from .npy_format import storable_dtype

        found = _DESCRS.get(dtype)
        if found is None:
            if not storable_dtype(dtype):
                raise Unencodable(f"array of dtype {dtype}")
            found = self.encode(self.np.lib.format.dtype_to_descr(dtype))
            if len(_DESCRS) < 1000:
                _DESCRS[dtype] = found
        return found

    def _array(self, arr: Any, depth: int) -> dict[str, Any]:
        known = self._array_ids.get(id(arr))
        if known is not None:
            return {"$a": known}
        if arr.dtype.hasobject:
            if arr.dtype != object:
                raise Unencodable(f"structured dtype with objects {arr.dtype}")
            items = [self.encode(v, depth + 1) for v in arr.reshape(-1, order="C").tolist()]
            return {"$oa": [list(arr.shape), items]}
        self.descr(arr.dtype)
        index = len(self.arrays)
        self._array_ids[id(arr)] = index
        self._keep.append(arr)
        self.arrays.append(arr)
        return {"$a": index}

    def _object(self, value: Any, depth: int) -> dict[str, Any]:
        cls = type(value)
        known = self._objects.get(id(value))
        if known is not None:
            return {"$ref": known}
        name = _class_name(cls)
        if not _encodable_class(cls, self.extra):
            raise Unencodable(f"an instance of {name}")
        index = len(self._objects)
        self._objects[id(value)] = index
        self._keep.append(value)
        if not _reduces(cls) and hasattr(value, "__dict__"):
            state = value.__getstate__() if hasattr(value, "__getstate__") else vars(value)
            if state is None:
                state = {}
            if not isinstance(state, dict):
                raise Unencodable(f"{name}.__getstate__ returned {type(state).__name__}")
            if isinstance(value, dict):  # a Bunch: its items too
                return {
                    "$obj": [
                        name,
                        self.encode(state, depth + 1),
                        self.encode(dict(value), depth + 1),
                    ]
                }
            return {"$obj": [name, self.encode(state, depth + 1)]}
        red = value.__reduce__()
        if (
            isinstance(red, tuple)
            and len(red) == 2
            and getattr(red[0], "__name__", "") == f"__pyx_unpickle_{cls.__name__}"
            and getattr(red[0], "__module__", "") == cls.__module__
            and isinstance(red[1], tuple)
            and len(red[1]) == 3
            and red[1][0] is cls
        ):  # Cython's generated pickling: __pyx_unpickle_<Class>(cls, checksum, state)
            return {"$pyx": [name, int(red[1][1]), self.encode(red[1][2], depth + 1)]}
        if not isinstance(red, tuple) or len(red) < 2 or red[0] is not cls:
            raise Unencodable(f"{name} reduces to something other than its own class")
        if len(red) > 3:
            raise Unencodable(f"{name} reduces with list or dict items")
        args = self.encode(tuple(red[1]), depth + 1)
        state_part = self.encode(red[2], depth + 1) if len(red) > 2 else None
        return {"$red": [name, args, state_part]}


#: Module path components never imported while loading (test helpers, switches that
#: change scikit-learn when imported).
_NEVER_IMPORTED = frozenset({"tests", "experimental", "conftest", "_testing", "_build_utils"})
_REDUCES: dict[type, bool] = {}
#: Encoded ``.npy`` descr by dtype (the dtypes met repeat: one per tree array kind).
_DESCRS: dict[Any, Any] = {}


def _reduces(cls: type) -> bool:
    """Whether a class defines its own ``__reduce__`` (a Cython type such as ``Tree``)."""
    found = _REDUCES.get(cls)
    if found is None:
        found = _REDUCES[cls] = any(
            "__reduce__" in vars(c) or "__reduce_ex__" in vars(c) for c in cls.__mro__[:-1]
        )
    return found


def encode_state(
    obj: Any, extra_classes: frozenset[str] = frozenset()
) -> tuple[bytes, list[Segment], list[dict[str, Any]]]:
    """The state JSON, the array segments and the array table of ``obj``.

    Args:
        obj: a scikit-learn estimator (or any value made of what this format holds).
        extra_classes: qualified names of more classes that may be rebuilt from their
            ``__dict__`` (the caller's own model wrappers).

    Returns:
        ``(state_json, array_segments, table)``; segment 0 of the payload is the state
        JSON, the array segments follow (``arrays`` packed, then one per big array).

    Raises:
        Unencodable: something in the graph is outside this format.
    """
    from .npy_format import array_bytes

    enc = Encoder(extra_classes)
    root = enc.encode(obj)
    table: list[dict[str, Any]] = []
    packed: list[Any] = []
    packed_size = 0
    big: list[Segment] = []
    for i, arr in enumerate(enc.arrays):
        data, fortran = array_bytes(arr)
        entry: dict[str, Any] = {
            "descr": enc.descr(arr.dtype),
            "shape": list(arr.shape),
        }
        if fortran:
            entry["fortran"] = True
        if data.nbytes >= PACK_LIMIT:
            entry["segment"] = 2 + len(big)
            entry["offset"] = 0
            big.append(Segment(f"array_{i}", data, data.nbytes))
        else:
            pad = (-packed_size) % _ALIGN
            if pad:
                packed.append(b"\0" * pad)
                packed_size += pad
            entry["segment"] = 1
            entry["offset"] = packed_size
            packed.append(data)
            packed_size += data.nbytes
        table.append(entry)
    blob = b"".join(packed)
    state = json.dumps(
        {"mlvc_sklearn_state": VERSION, "root": root, "arrays": table},
        separators=(",", ":"),
        allow_nan=False,
    ).encode()
    return state, [Segment("arrays", blob, len(blob)), *big], table


class Decoder:
    """Rebuilds what :class:`Encoder` wrote, constructing only allowed classes."""

    def __init__(self, arrays: list[Any], extra_classes: frozenset[str] = frozenset()) -> None:
        import numpy as np

        self.extra = extra_classes
        self.np = np
        self.arrays = arrays
        self.objects: list[Any] = []
        self._scalar_types = {
            _class_name(t): t
            for t in np.sctypeDict.values()
            if isinstance(t, type) and issubclass(t, np.generic)
        }

    def decode(self, value: Any) -> Any:
        if value is None or isinstance(value, bool | int | float | str):
            return value
        if isinstance(value, list):
            return [self.decode(v) for v in value]
        if not isinstance(value, dict) or len(value) != 1:
            raise SerializationError(f"malformed scikit-learn state: {str(value)[:80]}")
        ((tag, body),) = value.items()
        np = self.np
        if tag == "$t":
            return tuple(self.decode(v) for v in body)
        if tag == "$d":
            return {self.decode(k): self.decode(v) for k, v in body}
        if tag == "$od":
            return collections.OrderedDict((self.decode(k), self.decode(v)) for k, v in body)
        if tag == "$dd":
            if body[0] != "None" and body[0] not in _FACTORIES:
                raise SerializationError(f"refusing the defaultdict factory {body[0]!r}")
            out: collections.defaultdict[Any, Any] = collections.defaultdict(
                _FACTORIES.get(body[0])
            )
            out.update((self.decode(k), self.decode(v)) for k, v in body[1])
            return out
        if tag == "$a":
            return self.arrays[int(body)]
        if tag == "$f":
            if body not in ("nan", "inf", "-inf"):
                raise SerializationError(f"bad float {body!r}")
            return float(body)
        if tag == "$sc":
            descr, data = body
            dtype = np.lib.format.descr_to_dtype(
                self.decode(descr) if isinstance(descr, dict) else descr
            )
            if dtype.hasobject:
                raise SerializationError("refusing a numpy object scalar")
            return np.frombuffer(base64.b64decode(data), dtype=dtype)[0]
        if tag == "$b":
            return base64.b64decode(body)
        if tag in ("$set", "$fset"):
            items = [self.decode(v) for v in body]
            return set(items) if tag == "$set" else frozenset(items)
        if tag == "$sl":
            return slice(*(self.decode(v) for v in body))
        if tag == "$c":
            return complex(float(body[0]), float(body[1]))
        if tag == "$dt":
            dtype = np.lib.format.descr_to_dtype(self.decode(body))
            if dtype.hasobject:
                raise SerializationError("refusing an object dtype")
            return dtype
        if tag == "$type":
            found = _BUILTIN_TYPES.get(body) or self._scalar_types.get(body)
            if found is None:
                raise SerializationError(f"refusing the type {body!r}")
            return found
        if tag == "$oa":
            shape, items = body
            objects = np.empty(len(items), dtype=object)
            for i, item in enumerate(items):
                objects[i] = self.decode(item)
            return objects.reshape(shape)
        if tag == "$rs":
            rs = np.random.RandomState()
            rs.set_state(self.decode(body))
            return rs
        if tag == "$rng":
            name, state = body
            if name not in _RNG_BITGENS:
                raise SerializationError(f"refusing the bit generator {name!r}")
            bitgen = getattr(np.random, name)()
            bitgen.state = self.decode(state)
            return np.random.Generator(bitgen)
        if tag == "$ref":
            return self.objects[int(body)]
        if tag == "$obj":
            cls = allowed_class(body[0], extra=self.extra)
            obj: Any = cls.__new__(cls)  # type: ignore[call-overload]
            self.objects.append(obj)
            state = self.decode(body[1])
            if len(body) > 2:
                dict.update(obj, self.decode(body[2]))
            setstate = getattr(obj, "__setstate__", None)
            if setstate is not None:
                setstate(state)
            else:
                obj.__dict__.update(state)
            return obj
        if tag == "$pyx":
            cls = allowed_class(body[0], construct=True)
            module = importlib.import_module(cls.__module__)
            unpickle = getattr(module, f"__pyx_unpickle_{cls.__name__}")
            index = len(self.objects)
            self.objects.append(None)
            obj = unpickle(cls, int(body[1]), self.decode(body[2]))
            self.objects[index] = obj
            return obj
        if tag == "$red":
            cls = allowed_class(body[0], construct=True, extra=self.extra)
            index = len(self.objects)
            self.objects.append(None)
            args = self.decode(body[1])
            obj = cls(*args)
            if body[2] is not None:
                obj.__setstate__(self.decode(body[2]))
            self.objects[index] = obj
            return obj
        raise SerializationError(f"unknown tag {tag!r} in a scikit-learn state")


def decode_state(
    state: bytes, read_segment: Any, extra_classes: frozenset[str] = frozenset()
) -> Any:
    """Rebuild an estimator from its state JSON and its array segments.

    Args:
        state: segment 0.
        read_segment: ``read_segment(i) -> bytearray`` (writable) for segment ``i``.
        extra_classes: as given to :func:`encode_state`.

    Returns:
        The estimator.

    Raises:
        SerializationError: malformed state, or a class outside the allow-list.
    """
    import numpy as np

    doc = json.loads(state)
    if doc.get("mlvc_sklearn_state") != VERSION:
        raise SerializationError(
            f"unknown scikit-learn state version {doc.get('mlvc_sklearn_state')!r}"
        )
    buffers: dict[int, Any] = {}
    arrays: list[Any] = []
    plain = Decoder([])
    for entry in doc["arrays"]:
        seg = int(entry["segment"])
        if seg not in buffers:
            buffers[seg] = read_segment(seg)
        dtype = np.lib.format.descr_to_dtype(plain.decode(entry["descr"]))
        if dtype.hasobject:
            raise SerializationError("refusing an object array in a scikit-learn state")
        shape = tuple(int(n) for n in entry["shape"])
        if any(n < 0 for n in shape) or int(entry["offset"]) < 0:
            raise SerializationError("malformed array table in a scikit-learn state")
        count = math.prod(shape)
        order: Literal["C", "F"] = "F" if entry.get("fortran") else "C"
        if count == 0 or dtype.itemsize == 0:
            arrays.append(np.empty(shape, dtype=dtype, order=order))
            continue
        flat = np.frombuffer(buffers[seg], dtype=dtype, count=count, offset=int(entry["offset"]))
        arrays.append(flat.reshape(shape, order=order))
    return Decoder(arrays, extra_classes).decode(doc["root"])
