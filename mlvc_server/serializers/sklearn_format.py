"""``sklearn``: scikit-learn estimators and pipelines.

Backend ``state`` (tried first, needs nothing beyond scikit-learn and numpy): our own safe
format, :mod:`.sklearn_state`: segments ``[state, arrays, array_N...]``, a JSON object
graph plus the raw bytes of the fitted arrays. Loading constructs only scikit-learn
classes (see that module's allow-list), so it never needs trust and never executes code
from the payload. It holds estimators whose state is made of arrays, scalars, strings,
containers, random generators and other scikit-learn objects; one holding anything else
(a function in a ``FunctionTransformer``, a user-defined class) falls back to skops.
It is ~10x faster than skops and needs no import beyond what the estimator already
imported, so the first estimator committed in a process costs milliseconds.

Backend ``skops`` (used when the state backend declines and ``skops`` is installed): one
segment, the ``skops.io`` file (a zip of JSON and ``.npy`` files, no pickle). Loading
asks skops which types in the file it does not trust by default (an estimator that
holds a user function); those load only with ``trusted=True``, otherwise
:class:`~mlvc_server.errors.TrustError` lists them. Such payloads also get
``meta["unsafe"] = True`` at dump time (so the store can sign them for their writer);
the loader never relies on it, it asks skops about the stored bytes.

Backend ``cloudpickle`` (when skops is missing): segments ``[pickle, header_0, data_0,
header_1, data_1, ...]``: a cloudpickle of the estimator in which every numpy array
(``coef_``, ``intercept_``, ...) is replaced by a reference to its own ``.npy`` segment
pair, so unchanged arrays deduplicate and diffs can read them; ``meta["arrays"]`` maps
attribute paths to ``{shape, dtype, segment}``. Loading it always needs trust.

Either way ``meta`` lists the estimator's ``params`` (``get_params(deep=False)``, JSON
values kept, others as ``repr``) and its fitted attributes under ``fitted`` (path ->
``{shape, dtype, digest}`` for arrays, ``{value}`` for plain values), so that a diff says
``coef_ changed`` without reading the payload. Paths of nested estimators are joined with
``__`` as in ``get_params`` (``logisticregression__coef_``).
"""

from __future__ import annotations

import hashlib
import io
import pickle
import re
import sys
import zipfile
from collections.abc import Iterator
from typing import Any

from ..errors import SerializationError, TrustError
from .base import Decline, Payload, PayloadReader, Segment, qualified_type_name, type_root_module
from .json_format import encode, is_plain, preview
from .npy_format import array_bytes, array_segments, read_array, storable_dtype
from .sklearn_state import Unencodable, decode_state, encode_state

_MAX_FITTED = 500


_SKOPS_ID = re.compile(r'"__id__": (\d+)|"file": "(\d+)\.npy"')


def canonical_skops(data: bytes) -> bytes:
    """The same skops file, made byte-stable: skops names objects and array files by
    ``id()`` (which changes from one dump to the next) and stamps the zip with the time.
    Ids are renumbered in order of appearance (shared references stay shared) and the
    times fixed, so an unchanged model gives the same bytes and dedupes."""
    src = zipfile.ZipFile(io.BytesIO(data))
    schema = src.read("schema.json").decode()
    numbers: dict[str, str] = {}
    for m in _SKOPS_ID.finditer(schema):
        old = m.group(1) or m.group(2)
        numbers.setdefault(old, str(len(numbers) + 1))
    if numbers:
        schema = re.sub(r"\b\d{4,}\b", lambda m: numbers.get(m.group(0), m.group(0)), schema)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            name = info.filename
            stem = name[: -len(".npy")] if name.endswith(".npy") else None
            if stem in numbers:
                name = numbers[stem] + ".npy"
            body = schema.encode() if name == "schema.json" else src.read(info)
            fixed = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = info.compress_type
            fixed.external_attr = info.external_attr
            dst.writestr(fixed, body)
    return out.getvalue()


def skops_available() -> bool:
    """Whether ``skops.io`` can be imported."""
    try:
        import skops.io  # noqa: F401
    except ImportError:
        return False
    return True


def _jsonable(value: Any) -> Any:
    return encode(value) if is_plain(value) else preview(value)


def params_meta(est: Any) -> dict[str, Any]:
    """``get_params(deep=False)`` made JSON-able (non-plain values by ``repr``).

    Args:
        est: an estimator.

    Returns:
        Parameter name -> JSON-able value.
    """
    try:
        params = est.get_params(deep=False)
    except Exception:
        return {}
    return {str(k): _jsonable(v) for k, v in params.items()}


def _fitted_attrs(est: Any) -> dict[str, Any]:
    return {
        k: v
        for k, v in vars(est).items()
        if k.endswith("_") and not k.startswith("_") and not k.endswith("__")
    }


def walk_estimators(est: Any) -> Iterator[tuple[str, Any]]:
    """``est`` and the estimators nested in its params (pipeline steps, transformers...),
    each with its ``get_params`` path prefix (``""``, ``"logisticregression__"``).

    Args:
        est: an estimator.

    Yields:
        ``(prefix, estimator)`` pairs, breadth first, each estimator once.
    """
    from sklearn.base import BaseEstimator

    queue: list[tuple[str, Any]] = [("", est)]
    seen: set[int] = set()
    while queue:
        prefix, current = queue.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield prefix, current
        try:
            nested = current.get_params(deep=False)
        except Exception:
            continue
        for key, value in nested.items():
            if isinstance(value, BaseEstimator):
                queue.append((f"{prefix}{key}__", value))
            elif isinstance(value, list):  # Pipeline.steps, ColumnTransformer.transformers
                queue.extend(
                    (f"{prefix}{item[0]}__", item[1])
                    for item in value
                    if isinstance(item, tuple)
                    and len(item) >= 2
                    and isinstance(item[1], BaseEstimator)
                )


def fitted_meta(est: Any) -> dict[str, Any]:
    """Fitted attributes of ``est`` and of the estimators nested in its params.

    Args:
        est: an estimator.

    Returns:
        Path -> ``{shape, dtype, digest}`` for arrays, ``{value}`` for plain values,
        ``{type}`` for anything else (at most 500 entries).
    """
    import numpy as np

    found: dict[str, Any] = {}
    for prefix, current in walk_estimators(est):
        for name, value in _fitted_attrs(current).items():
            if len(found) >= _MAX_FITTED:
                return found
            path = prefix + name
            if isinstance(value, np.ndarray) and storable_dtype(value.dtype):
                digest = hashlib.blake2b(array_bytes(value)[0], digest_size=16)
                found[path] = {
                    "shape": list(value.shape),
                    "dtype": str(value.dtype),
                    "digest": digest.hexdigest(),
                }
            elif is_plain(value):
                found[path] = {"value": encode(value)}
            else:
                found[path] = {"type": qualified_type_name(value)}
    return found


def model_facts(est: Any) -> dict[str, Any]:
    """Facts a diff shows about a fitted model beyond its params: the number of fitted
    sub-estimators of an ensemble (``n_estimators_fitted``), boosting iterations
    (``n_iter``), the number of input features (``n_features_in``).

    Args:
        est: an estimator.

    Returns:
        A small JSON-able dict (empty for an unfitted estimator).
    """
    facts: dict[str, Any] = {}
    estimators = vars(est).get("estimators_")
    if isinstance(estimators, list):
        facts["n_estimators_fitted"] = len(estimators)
    elif estimators is not None and hasattr(estimators, "shape"):  # GradientBoosting
        facts["n_estimators_fitted"] = int(estimators.shape[0])
    predictors = vars(est).get("_predictors")
    if isinstance(predictors, list):  # HistGradientBoosting
        facts["n_estimators_fitted"] = len(predictors)
    n_iter = vars(est).get("n_iter_")
    if isinstance(n_iter, int):
        facts["n_iter"] = n_iter
    n_features = vars(est).get("n_features_in_")
    if isinstance(n_features, int):
        facts["n_features_in"] = n_features
    return facts


def _array_names(est: Any) -> dict[int, str]:
    """id(array) -> attribute path, for the array attributes of the estimators."""
    import numpy as np

    names: dict[int, str] = {}
    for prefix, current in walk_estimators(est):
        for name, value in vars(current).items():
            if isinstance(value, np.ndarray):
                names.setdefault(id(value), prefix + name)
    return names


class SklearnSerializer:
    """scikit-learn estimators with skops (or cloudpickle with split arrays)."""

    format = "sklearn"
    unsafe = False
    checks_trust = True

    def __init__(self, backend: str | None = None) -> None:
        """Create the serializer.

        Args:
            backend: ``"state"``, ``"skops"`` or ``"cloudpickle"``; None tries the state
                format first, then skops when installed, else cloudpickle.
        """
        self.backend = backend
        self._fallback: str | None = None

    def _backend(self) -> str:
        """The backend used when the state format declines (or the one forced)."""
        if self.backend is not None and self.backend != "state":
            return self.backend
        if self._fallback is None:
            self._fallback = "skops" if skops_available() else "cloudpickle"
        return self._fallback

    def accepts(self, obj: Any) -> bool:
        """An instance of a scikit-learn estimator class (defined in ``sklearn.*``)."""
        if type_root_module(obj) != "sklearn" or "sklearn.base" not in sys.modules:
            return False
        return isinstance(obj, sys.modules["sklearn.base"].BaseEstimator)

    def estimate_size(self, obj: Any) -> int | None:
        """Not known before dumping."""
        return None

    def dump(self, obj: Any) -> Payload:
        """skops file, or pickle plus ``.npy`` segments."""
        meta: dict[str, Any] = {
            "type": qualified_type_name(obj),
            "params": params_meta(obj),
            "fitted": fitted_meta(obj),
        }
        meta.update(model_facts(obj))
        if self.backend in (None, "state"):
            try:
                state, array_segs, _ = encode_state(obj)
            except Unencodable as exc:
                if self.backend == "state":
                    raise Decline(f"the state format cannot hold it: {exc}") from exc
                meta["state_declined"] = str(exc)
            else:
                meta["backend"] = "state"
                segments = [Segment("state", state, len(state)), *array_segs]
                return Payload(format=self.format, segments=segments, meta=meta, extension="bin")
        meta["backend"] = self._backend()
        if self._backend() == "skops":
            import skops
            import skops.io as sio

            try:
                data = canonical_skops(sio.dumps(obj))
            except Exception as exc:
                raise Decline(f"skops cannot store it: {type(exc).__name__}: {exc}") from exc
            meta["skops"] = skops.__version__
            meta["untrusted_types"] = sio.get_untrusted_types(data=data)
            if meta["untrusted_types"]:  # the store signs such payloads for their writer
                meta["unsafe"] = True
                meta["trust_reason"] = "skops does not trust " + ", ".join(meta["untrusted_types"])
            segments = [Segment("skops", data, len(data))]
            extension = "skops"
        else:
            segments, meta["arrays"] = self._pickle_split(obj)
            meta["unsafe"] = True
            extension = "bin"
        return Payload(format=self.format, segments=segments, meta=meta, extension=extension)

    def _pickle_split(self, obj: Any) -> tuple[list[Segment], dict[str, Any]]:
        import cloudpickle
        import numpy as np

        names = _array_names(obj)
        arrays: list[Any] = []
        index: dict[int, int] = {}

        class ArrayRefPickler(cloudpickle.Pickler):  # type: ignore[misc]
            def persistent_id(self, value: Any) -> Any:
                if type(value) is not np.ndarray or not storable_dtype(value.dtype):
                    return None
                if id(value) not in index:
                    index[id(value)] = len(arrays)
                    arrays.append(value)
                return ("mlvc.npy", index[id(value)])

        buf = io.BytesIO()
        ArrayRefPickler(buf, protocol=5).dump(obj)
        data = buf.getvalue()
        segments = [Segment("pickle", data, len(data))]
        arrays_meta: dict[str, Any] = {}
        for i, arr in enumerate(arrays):
            name = names.get(id(arr), f"array_{i}")
            arrays_meta[name] = {
                "shape": list(arr.shape),
                "dtype": str(arr.dtype),
                "segment": len(segments),
            }
            segments.extend(array_segments(arr, f"{name}.")[0])
        return segments, arrays_meta

    def load(self, meta: dict[str, Any], reader: PayloadReader, *, trusted: bool = False) -> Any:
        """Rebuild the estimator.

        Raises:
            TrustError: skops reports types it does not trust (listed), or the payload is
                a pickle, and ``trusted`` is False.
        """
        backend = meta.get("backend")
        if backend == "state":

            def segment(index: int) -> bytearray:
                buf = bytearray(reader.segment_size(index))
                reader.readinto_segment(index, buf)
                return buf

            return decode_state(reader.read_segment(0), segment)
        if backend == "skops":
            import skops.io as sio

            data = reader.read_segment(0)
            untrusted = sio.get_untrusted_types(data=data)
            if untrusted and not trusted:
                raise TrustError(
                    "this estimator holds types that skops does not trust by default: "
                    f"{', '.join(untrusted)}; loading them may execute code: load it "
                    "with trusted=True only if you trust who wrote this commit"
                )
            return sio.loads(data, trusted=untrusted)
        if backend != "cloudpickle":
            raise SerializationError(f"unknown sklearn backend {backend!r}")
        if not trusted:
            raise TrustError(
                f"this estimator ({meta.get('type')}) is stored as a pickle (skops was not "
                "installed); loading it executes code: use trusted=True only if you trust "
                "who wrote this commit"
            )
        count = (len(reader.segment_names) - 1) // 2
        arrays = [read_array(reader, 1 + 2 * i, 2 + 2 * i) for i in range(count)]

        class ArrayRefUnpickler(pickle.Unpickler):
            def persistent_load(self, pid: Any) -> Any:
                return arrays[pid[1]]

        return ArrayRefUnpickler(io.BytesIO(reader.read_segment(0))).load()
