"""``keras``: Keras 3 models as the ``.keras`` file, loaded in safe mode.

One segment, ``keras``: the zip Keras writes with ``model.save(path)`` (``config.json``,
``model.weights.h5`` with the optimizer's variables, ``metadata.json``), made byte-stable:
the save date in ``metadata.json`` and the zip entry times are fixed, so an unchanged
model dedupes. Loading is ``keras.saving.load_model(path, safe_mode=True)``, which
refuses the ``lambda`` layers and arbitrary code a ``.keras`` file could carry; a model
that needs them (or custom objects that are not registered) fails to load with that
error instead of running code. Works with any Keras backend (torch, JAX, TensorFlow).

``meta`` records what a diff shows: ``layers`` (name, class, parameter count), ``n_params``
and ``weights`` (variable path -> ``{shape, dtype, digest}``), ``optimizer`` (class name).
"""

from __future__ import annotations

import io
import json
import os
import sys
import tempfile
import zipfile
from typing import Any

from .base import Payload, PayloadReader, Segment, qualified_type_name, type_root_module

_FIXED_TIME = (1980, 1, 1, 0, 0, 0)


def canonical_keras(data: bytes) -> bytes:
    """The same ``.keras`` zip with the save date and the entry times fixed."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            body = src.read(info)
            if info.filename == "metadata.json":
                meta = json.loads(body)
                meta.pop("date_saved", None)
                body = json.dumps(meta, sort_keys=True).encode()
            fixed = zipfile.ZipInfo(info.filename, date_time=_FIXED_TIME)
            fixed.compress_type = info.compress_type
            fixed.external_attr = info.external_attr
            dst.writestr(fixed, body)
    return out.getvalue()


def _weights_meta(model: Any) -> dict[str, Any]:
    import numpy as np
    import xxhash

    keras = sys.modules["keras"]
    found: dict[str, Any] = {}
    for var in model.weights[:2000]:
        value = np.asarray(keras.ops.convert_to_numpy(var))
        found[str(getattr(var, "path", var.name))] = {
            "shape": list(value.shape),
            "dtype": str(value.dtype),
            "digest": xxhash.xxh3_128_hexdigest(value.tobytes()),
        }
    return found


class KerasSerializer:
    """Keras 3 models as a canonical ``.keras`` zip."""

    format = "keras"
    unsafe = False

    def accepts(self, obj: Any) -> bool:
        """An instance of ``keras.Model`` (Keras 3)."""
        if type_root_module(obj) != "keras" or "keras" not in sys.modules:
            return False
        model = getattr(sys.modules["keras"], "Model", None)
        return model is not None and isinstance(obj, model)

    def estimate_size(self, obj: Any) -> int | None:
        """Not known before saving."""
        return None

    def dump(self, obj: Any) -> Payload:
        """``model.save`` to a temporary ``.keras`` file, made byte-stable."""
        keras = sys.modules["keras"]
        fd, path = tempfile.mkstemp(suffix=".keras")
        os.close(fd)
        try:
            obj.save(path)
            with open(path, "rb") as f:
                data = canonical_keras(f.read())
        finally:
            os.unlink(path)
        layers = [
            [layer.name, type(layer).__name__, int(layer.count_params()) if layer.built else 0]
            for layer in getattr(obj, "layers", [])[:500]
        ]
        meta: dict[str, Any] = {
            "type": qualified_type_name(obj),
            "keras": keras.__version__,
            "backend": keras.backend.backend(),
            "layers": layers,
            "n_params": int(obj.count_params()) if obj.built else 0,
            "weights": _weights_meta(obj),
        }
        optimizer = getattr(obj, "optimizer", None)
        if optimizer is not None:
            meta["optimizer"] = type(optimizer).__name__
        return Payload(
            format=self.format,
            segments=[Segment("keras", data, len(data))],
            meta=meta,
            extension="keras",
        )

    def load(self, meta: dict[str, Any], reader: PayloadReader) -> Any:
        """``keras.saving.load_model(..., safe_mode=True)`` from a temporary file.

        When Keras is not imported yet and ``KERAS_BACKEND`` is not set, the backend the
        model was saved with is used."""
        if "keras" not in sys.modules and meta.get("backend"):
            os.environ.setdefault("KERAS_BACKEND", str(meta["backend"]))
        import keras

        fd, path = tempfile.mkstemp(suffix=".keras")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(reader.read_segment(0))
            return keras.saving.load_model(path, safe_mode=True)
        finally:
            os.unlink(path)
