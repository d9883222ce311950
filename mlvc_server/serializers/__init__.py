r"""The registry of serialization formats: safe formats first, pickle last.

``serialize(obj)`` asks each registered serializer, in priority order (lowest number
first), whether it accepts ``obj`` and uses the first that does:

====  ===============  =====================================================  ======
prio  format           stores                                                 unsafe
====  ===============  =====================================================  ======
10    ``json``         None/bool/int/float/str, list/tuple/dict of those,     no
                     the standard library's value types (datetime, Decimal,
                     UUID, Path, complex, bytes up to 64 KiB...)
15    ``bytes``        bytes and bytearray, as themselves                     no
20    ``npy``          numpy arrays (not object dtype), numpy scalars          no
22    ``random``       numpy Generator/RandomState, random.Random: the state  no
25    ``sparse``       scipy.sparse matrices/arrays, per component array      no
30    ``parquet``      pandas DataFrame/Series of exactly round-tripping dtypes no
32    ``arrow``        pyarrow Table/RecordBatch, polars DataFrame/Series      no
35    ``image``        PIL images: raw pixels, mode, size, palette, info      no
38    ``keras``        Keras 3 models (``.keras``, loaded in safe mode;       no
                     before torch: a torch-backend model is a torch Module)
40    ``safetensors``  torch tensors, state_dicts, modules (module: trust)    no
45    ``jax``          JAX arrays (restored as JAX arrays)                    no
46    ``lightgbm``     LightGBM boosters and sklearn wrappers (text model)   no
47    ``xgboost``      XGBoost boosters and sklearn wrappers (UBJSON)         no
48    ``catboost``     CatBoost models (``cbm``)                              no
50    ``sklearn``      scikit-learn estimators (own state format, or skops)   no
60    ``container``    dict/list/tuple/namedtuple/dataclass trees, per leaf    no*
1000  ``pickle``       anything else cloudpickle can pickle                   yes
====  ===============  =====================================================  ======

\* a container with a leaf only pickle holds pickles that leaf alone and is marked
``unsafe`` (see :mod:`.container_format`).

Importing this package imports no heavy library: each serializer imports numpy, pandas,
torch... inside its methods, and ``accepts`` looks at ``type(obj).__module__`` (or at a
module already in ``sys.modules``) before touching them.

Optional serializer members the registry uses when present: ``estimate_size(obj)`` (bytes,
or None; checked against ``max_bytes`` before dumping), ``supports_max_bytes`` (``dump``
takes ``max_bytes``), ``checks_trust`` (``load`` takes ``trusted``). ``dump`` may raise
:class:`~.base.Decline` to pass ``obj`` on to the next serializer.
"""

from __future__ import annotations

import contextlib
import itertools
import signal
import threading
from collections.abc import Collection, Iterator
from typing import Any

from ..errors import MlvcError, SerializationError, TooLargeError, TrustError, UnsupportedTypeError
from .arrow_format import ArrowSerializer
from .base import Decline, Payload, PayloadReader, Segment, Serializer, qualified_type_name
from .boosting_format import CatBoostSerializer, LightGBMSerializer, XGBoostSerializer
from .bytes_format import BytesSerializer
from .container_format import ContainerSerializer
from .hints import missing_hint
from .image_format import ImageSerializer
from .jax_format import JaxSerializer
from .json_format import JsonSerializer
from .keras_format import KerasSerializer
from .npy_format import NpySerializer
from .parquet_format import ParquetSerializer
from .pickle_format import PickleSerializer
from .random_format import RandomSerializer
from .sklearn_format import SklearnSerializer
from .sparse_format import SparseSerializer
from .torch_format import SafetensorsSerializer
from .unstorable import unstorable_reason

__all__ = [
    "Decline",
    "Payload",
    "PayloadReader",
    "Segment",
    "Serializer",
    "deserialize",
    "formats",
    "get",
    "missing_hint",
    "register",
    "serialize",
    "serializers",
    "unregister",
]

_order = itertools.count()
#: (priority, registration order, serializer), kept sorted.
_registry: list[tuple[int, int, Serializer]] = []


def register(serializer: Serializer, priority: int) -> None:
    """Add a serializer (a plugin), replacing any registered with the same format.

    Args:
        serializer: an object following the :class:`~.base.Serializer` protocol.
        priority: lower is tried first; the built-in ones use 10..50 and pickle 1000.
            Equal priorities keep registration order.
    """
    unregister(serializer.format)
    _registry.append((priority, next(_order), serializer))
    _registry.sort(key=lambda entry: (entry[0], entry[1]))


def unregister(format: str) -> None:
    """Remove the serializer of ``format`` (nothing happens when there is none).

    Args:
        format: the format name.
    """
    _registry[:] = [entry for entry in _registry if entry[2].format != format]


def serializers() -> list[Serializer]:
    """The registered serializers, in the order ``serialize`` tries them."""
    return [entry[2] for entry in _registry]


def formats() -> list[str]:
    """The registered format names, in priority order."""
    return [s.format for s in serializers()]


def get(format: str) -> Serializer:
    """The serializer registered for ``format``.

    Args:
        format: a format name as recorded in a payload.

    Returns:
        The serializer.

    Raises:
        SerializationError: no serializer has that format.
    """
    for serializer in serializers():
        if serializer.format == format:
            return serializer
    raise SerializationError(f"unknown serialization format {format!r} (known: {formats()})")


def human_size(n: int) -> str:
    """``1536`` -> ``"1.5 KiB"``.

    Args:
        n: a number of bytes.

    Returns:
        The size with a binary unit.
    """
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def _too_large(obj: Any, size: int, limit: int, estimated: bool) -> UnsupportedTypeError:
    what = "estimated at" if estimated else "of"
    return UnsupportedTypeError(
        f"{qualified_type_name(obj)} is too large to store: size {what} {human_size(size)} "
        f"({size} bytes) exceeds the limit of {human_size(limit)} ({limit} bytes)"
    )


def _dump(serializer: Serializer, obj: Any, max_bytes: int | None) -> Payload:
    if max_bytes is not None:
        estimate = getattr(serializer, "estimate_size", None)
        size = estimate(obj) if estimate is not None else None
        if size is not None and size > max_bytes:
            raise _too_large(obj, size, max_bytes, estimated=True)
    if getattr(serializer, "supports_max_bytes", False):
        try:
            payload: Payload = serializer.dump(obj, max_bytes=max_bytes)  # type: ignore[call-arg]
        except TooLargeError as exc:
            raise UnsupportedTypeError(
                f"{qualified_type_name(obj)} is too large to store: its {serializer.format} "
                f"payload exceeds the limit of {human_size(exc.limit)} ({exc.limit} bytes)"
            ) from exc
        return payload
    return serializer.dump(obj)


def serialize(
    obj: Any,
    *,
    allow_pickle: bool = True,
    max_bytes: int | None = None,
    exclude: Collection[str] = (),
) -> Payload:
    """Store ``obj`` in the safest format that holds it exactly.

    Args:
        obj: the value of a variable.
        allow_pickle: when False, formats that need trust to load (pickle, a torch module's
            pickled structure, sklearn without skops) are not used.
        max_bytes: refuse objects whose payload (estimated before dumping where the format
            can, else measured) is larger.
        exclude: formats not to use (the container format excludes itself for its leaves).

    Returns:
        The payload; ``payload.meta["type"]`` always names the object's type. When the
        payload needs trust to load after safer formats declined the object,
        ``payload.meta["pickle_reason"]`` says why each declined.

    Raises:
        UnsupportedTypeError: the object must not or cannot be stored; the message says
            why (generator, lock, open file, socket, module, too large, pickling failed,
            no safe format and pickle not allowed).
    """
    with _watch_sigint() as sigint:
        try:
            return _serialize(obj, allow_pickle, max_bytes, exclude)
        except (KeyboardInterrupt, SystemExit) as exc:
            # Raised by the value's own code (a ``__reduce__`` calling sys.exit, raising
            # KeyboardInterrupt) rather than by the user pressing Ctrl-C: skip the value.
            # A real Ctrl-C arrives as SIGINT, whose handler runs in the main thread only:
            # here it is seen by ``sigint`` (serializing in the main thread) or interrupts
            # the thread waiting for the serialization worker (serialize_within), and
            # either way propagates and stops the commit.
            if isinstance(exc, KeyboardInterrupt) and sigint.seen:
                raise
            raise UnsupportedTypeError(
                f"cannot store {qualified_type_name(obj)}: its own code raised "
                f"{type(exc).__name__} while it was serialized"
            ) from None


class _SigintSeen:
    seen = False


@contextlib.contextmanager
def _watch_sigint() -> Iterator[_SigintSeen]:
    """Note whether SIGINT arrives (main thread only: signal handlers run there)."""
    flag = _SigintSeen()
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return
    try:
        previous = signal.getsignal(signal.SIGINT)
    except ValueError:
        yield flag
        return
    if not callable(previous):
        yield flag  # SIG_IGN / SIG_DFL: no KeyboardInterrupt comes from a signal
        return

    def handler(signum: int, frame: Any) -> Any:
        flag.seen = True
        return previous(signum, frame)

    try:
        signal.signal(signal.SIGINT, handler)
    except ValueError:
        yield flag
        return
    try:
        yield flag
    finally:
        with contextlib.suppress(ValueError):
            signal.signal(signal.SIGINT, previous)


def _serialize(
    obj: Any, allow_pickle: bool, max_bytes: int | None, exclude: Collection[str] = ()
) -> Payload:
    name = qualified_type_name(obj)
    reason = unstorable_reason(obj)
    if reason is not None:
        raise UnsupportedTypeError(f"cannot store {name}: {reason}")
    declined: list[str] = []
    for serializer in serializers():
        if (serializer.unsafe and not allow_pickle) or serializer.format in exclude:
            continue
        try:
            if not serializer.accepts(obj):
                continue
            payload = _dump(serializer, obj, max_bytes)
        except Decline as exc:
            declined.append(f"{serializer.format}: {exc}")
            continue
        except UnsupportedTypeError as exc:
            message = str(exc)
            raise UnsupportedTypeError(
                message if message.startswith(name) else f"cannot store {name}: {message}"
            ) from exc
        except MlvcError:
            raise
        except Exception as exc:  # a bug or a library limit in one format: try the next
            declined.append(f"{serializer.format}: {type(exc).__name__}: {exc}")
            continue
        if payload.meta.get("unsafe") and not allow_pickle:
            raise UnsupportedTypeError(
                f"cannot store {name} without pickle: "
                f"{payload.meta.get('trust_reason', 'its format needs pickle')}"
                + (
                    "; store its state_dict() instead"
                    if payload.meta.get("kind") == "module"
                    else ""
                )
            )
        if max_bytes is not None and payload.size > max_bytes:
            raise _too_large(obj, payload.size, max_bytes, estimated=False)
        payload.meta.setdefault("type", name)
        if (serializer.unsafe or payload.meta.get("unsafe")) and (hint := missing_hint(obj)):
            payload.meta.setdefault("hint", hint)
        if declined and (serializer.unsafe or payload.meta.get("unsafe")):
            payload.meta.setdefault("pickle_reason", "; ".join(declined))
        return payload
    detail = f" ({'; '.join(declined)})" if declined else ""
    if not allow_pickle:
        hint = missing_hint(obj)
        raise UnsupportedTypeError(
            f"cannot store {name}: no safe format holds it and pickle is not allowed{detail}"
            + (f"; {hint}" if hint else "")
        )
    raise UnsupportedTypeError(f"cannot store {name}: no format accepts it{detail}")


def deserialize(
    format: str, meta: dict[str, Any], reader: PayloadReader, *, trusted: bool = False
) -> Any:
    """Rebuild a stored value.

    Args:
        format: the payload's format name.
        meta: the payload's meta, as stored.
        reader: access to the stored segments.
        trusted: allow loading that executes code from the payload (pickle). Pass True
            only for payloads written by the user or someone they trust.

    Returns:
        The value.

    Raises:
        TrustError: loading needs ``trusted=True``.
        SerializationError: the format is unknown or the payload is corrupt.
    """
    serializer = get(format)
    try:
        if getattr(serializer, "checks_trust", False):
            return serializer.load(meta, reader, trusted=trusted)  # type: ignore[call-arg]
        if serializer.unsafe and not trusted:
            raise TrustError(
                f"the {format} format executes code when loading: "
                "load it with trusted=True only if you trust who wrote this commit"
            )
        return serializer.load(meta, reader)
    except (MlvcError, MemoryError):
        raise
    except Exception as exc:
        raise SerializationError(
            f"cannot load {meta.get('type', 'value')} from its {format} payload: "
            f"{type(exc).__name__}: {exc}"
        ) from exc


for _serializer, _priority in (
    (JsonSerializer(), 10),
    (BytesSerializer(), 15),
    (RandomSerializer(), 22),
    (NpySerializer(), 20),
    (SparseSerializer(), 25),
    (ArrowSerializer(), 32),
    (ImageSerializer(), 35),
    (ParquetSerializer(), 30),
    (KerasSerializer(), 38),
    (SafetensorsSerializer(), 40),
    (JaxSerializer(), 45),
    (LightGBMSerializer(), 46),
    (XGBoostSerializer(), 47),
    (CatBoostSerializer(), 48),
    (SklearnSerializer(), 50),
    (ContainerSerializer(), 60),
    (PickleSerializer(), 1000),
):
    register(_serializer, _priority)
