"""The loader of an exported model: copied into every export as ``code/mlvc_loader.py``.

It runs without mlvc installed: it imports only the standard library, the model's own
libraries, and ``mlvc_runtime`` (a copy of mlvc's serializers, written beside it in
``code/``), which reads the model's payload in its safe format (safetensors, the
scikit-learn state format, LightGBM/XGBoost native files, ...), exactly as mlvc does.

- ``load_model(path)``: the model itself (``path`` is the export's ``model/`` folder);
- ``_load_pyfunc(path)``: MLflow's ``python_function`` entry point, an object whose
  ``predict(model_input, params=None)`` takes a pandas DataFrame or an array.

A payload whose structure is a pickle (a torch ``nn.Module``, an estimator skops does not
trust) is rebuilt by running that pickle, as MLflow's own flavors do: the export was made
by someone who trusted it (``mlvc model export`` refuses others' pickles without
``--trust``); load it only if you trust that person.

This file must stay free of imports from mlvc_server: it is shipped alone.
"""

from __future__ import annotations

import importlib
import io
import json
import os
import sys
from typing import Any

#: The manifest of the exported payload, in the model folder.
PAYLOAD_JSON = "payload.json"
RUNTIME = "mlvc_runtime"


def _runtime() -> Any:
    """``mlvc_runtime.serializers``: the copy beside this file."""
    here = os.path.dirname(os.path.abspath(__file__))
    if here not in sys.path:
        sys.path.insert(0, here)
    return importlib.import_module(f"{RUNTIME}.serializers")


class FilePayload:
    """A payload reader over the exported file: its segments are consecutive byte ranges
    of one file, of the sizes ``payload.json`` lists."""

    def __init__(self, path: str, names: list[str], sizes: list[int]) -> None:
        self.path = path
        self._names = names
        self._sizes = sizes
        self._offsets = [sum(sizes[:i]) for i in range(len(sizes))]

    @property
    def segment_names(self) -> list[str]:
        return list(self._names)

    def segment_size(self, index: int) -> int:
        return self._sizes[index]

    def read_segment(self, index: int) -> bytes:
        with open(self.path, "rb") as f:
            f.seek(self._offsets[index])
            data = f.read(self._sizes[index])
        if len(data) != self._sizes[index]:
            raise ValueError(f"{self.path} is shorter than payload.json says")
        return data

    def readinto_segment(self, index: int, buffer: Any, offset: int | None = None) -> None:
        out = memoryview(buffer).cast("B")
        start = offset or 0
        if offset is None and len(out) != self._sizes[index]:
            raise ValueError("buffer size does not match the segment")
        with open(self.path, "rb") as f:
            f.seek(self._offsets[index] + start)
            if f.readinto(out) != len(out):
                raise ValueError(f"{self.path} is shorter than payload.json says")

    def open(self) -> io.RawIOBase:
        return io.FileIO(self.path, "rb")


def read_payload_info(path: str) -> dict[str, Any]:
    """``payload.json`` of an export's model folder."""
    with open(os.path.join(path, PAYLOAD_JSON), encoding="utf-8") as f:
        info: dict[str, Any] = json.load(f)
    return info


def load_model(path: str) -> Any:
    """The exported model, rebuilt from its safe-format file.

    Args:
        path: the export's ``model/`` folder (the one holding ``payload.json``).
    """
    info = read_payload_info(path)
    reader = FilePayload(
        os.path.join(path, info["file"]),
        [s["name"] for s in info["segments"]],
        [int(s["size"]) for s in info["segments"]],
    )
    return _runtime().deserialize(info["format"], info["meta"], reader, trusted=True)


def _features(model: Any, model_input: Any) -> Any:
    """A DataFrame stays one when the model knows its column names; else an array."""
    if hasattr(model_input, "to_numpy") and getattr(model, "feature_names_in_", None) is None:
        return model_input.to_numpy()
    return model_input


def predict(model: Any, model_input: Any) -> Any:
    """The model's predictions on ``model_input`` (DataFrame or array-like): ``predict``
    of estimators and boosters, the forward pass of a torch module (float32 rows)."""
    module = type(model).__module__.partition(".")[0]
    if module == "torch":
        import numpy as np
        import torch

        x = np.asarray(model_input.to_numpy() if hasattr(model_input, "to_numpy") else model_input)
        was_training = model.training
        model.eval()
        try:
            with torch.no_grad():
                out = model(torch.as_tensor(x, dtype=torch.float32))
        finally:
            model.train(was_training)
        return out.detach().cpu().numpy()
    if module == "xgboost" and type(model).__name__ == "Booster":
        import xgboost

        return model.predict(xgboost.DMatrix(_features(model, model_input)))
    if not callable(getattr(model, "predict", None)):
        raise TypeError(f"{type(model).__qualname__} has no predict method")
    return model.predict(_features(model, model_input))


class PyfuncModel:
    """What MLflow's ``python_function`` flavor calls."""

    def __init__(self, model: Any) -> None:
        self.model = model

    def predict(self, model_input: Any, params: dict[str, Any] | None = None) -> Any:
        return predict(self.model, model_input)


def _load_pyfunc(path: str) -> PyfuncModel:
    """MLflow's entry point: ``path`` is the flavor's ``data`` folder (``model/``)."""
    return PyfuncModel(load_model(path))
