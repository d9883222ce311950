"""ONNX export: convert a scikit-learn estimator (skl2onnx) or a torch ``nn.Module``
(``torch.onnx``'s TorchScript exporter, which needs only ``onnx``) and check ONNX
Runtime's outputs against the original's on the same rows.

The rows are cast to float32 (ONNX's input type here) and the original model gets the
same float32 values, so the check measures the conversion alone. An output agrees when
``|onnx - original| <= tol * (1 + |original|)`` everywhere; predicted labels must be
equal except on rows where the original's two best class probabilities are a near tie.
"""

from __future__ import annotations

import io
import sys
import warnings
from importlib import metadata
from typing import Any

import numpy as np

from ..errors import ExportCheckError, ExportError, UnsupportedExportError

SUPPORTED = (
    "scikit-learn estimators and pipelines (via skl2onnx) and torch nn.Module models "
    "(via torch.onnx)"
)
INSTALL = "pip install 'jupyterlab-mlvc[export]'"


def _float_rows(rows: Any) -> Any:
    """The rows as a C-contiguous float32 matrix."""
    values = rows.to_numpy() if hasattr(rows, "to_numpy") else np.asarray(rows)
    try:
        x = np.ascontiguousarray(values, dtype=np.float32)
    except (TypeError, ValueError):
        raise ExportError(
            "ONNX export takes numeric rows (one float input); these rows hold other values"
        ) from None
    if x.ndim == 1:
        x = x.reshape(1, -1)
    return x


def _same_rows_for_original(model: Any, rows: Any, x: Any) -> Any:
    """The float32 values as the original model takes them (a DataFrame with its column
    names when it was fitted on one)."""
    x64 = x.astype(np.float64)
    names = getattr(model, "feature_names_in_", None)
    if names is not None:
        import pandas as pd

        return pd.DataFrame(x64, columns=list(names))
    return x64


def _is_sklearn(model: Any) -> bool:
    return type(model).__module__.partition(".")[0] == "sklearn"


def _is_torch(model: Any) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(model, torch.nn.Module)


def _sklearn_onnx(model: Any, x: Any) -> bytes:
    try:
        from skl2onnx import convert_sklearn
        from skl2onnx.common.data_types import FloatTensorType
        from sklearn.base import is_classifier
    except ImportError as e:
        raise ExportError(
            f"ONNX export of scikit-learn models needs skl2onnx ({e}): {INSTALL}"
        ) from None
    from ..serializers.sklearn_format import walk_estimators

    classifiers = [est for _p, est in walk_estimators(model) if is_classifier(est)]
    options = {id(est): {"zipmap": False} for est in classifiers}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            onx = convert_sklearn(
                model,
                initial_types=[("input", FloatTensorType([None, x.shape[1]]))],
                options=options or None,
            )
    except Exception as e:  # skl2onnx names the estimator it has no converter for
        raise UnsupportedExportError(
            f"skl2onnx cannot convert {type(model).__qualname__}: {type(e).__name__}: {e}"
        ) from None
    data: bytes = onx.SerializeToString()
    return data


def _torch_onnx(model: Any, x: Any) -> bytes:
    import torch

    try:
        import onnx  # noqa: F401  (the exporter needs it)
    except ImportError as e:
        raise ExportError(f"ONNX export of torch models needs onnx ({e}): {INSTALL}") from None
    buf = io.BytesIO()
    was_training = model.training
    model.eval()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                model,
                (torch.from_numpy(x),),
                buf,  # type: ignore[arg-type]  # a file object works (and is documented)
                dynamo=False,
                input_names=["input"],
                output_names=["output"],
                dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
            )
    except Exception as e:
        raise UnsupportedExportError(
            f"torch.onnx cannot export {type(model).__qualname__}: {type(e).__name__}: {e}"
        ) from None
    finally:
        model.train(was_training)
    return buf.getvalue()


def _run(onnx_bytes: bytes, x: Any) -> list[Any]:
    try:
        import onnxruntime as ort
    except ImportError as e:
        raise ExportError(f"checking an ONNX export needs onnxruntime ({e}): {INSTALL}") from None
    session = ort.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return [np.asarray(o) for o in session.run(None, {name: x})]


def _agree(name: str, ref: Any, got: Any, tol: float) -> dict[str, Any]:
    r = np.asarray(ref, dtype=np.float64)
    g = np.asarray(got, dtype=np.float64)
    if r.size != g.size:
        return {"output": name, "ok": False, "detail": f"shape {g.shape} vs {r.shape}"}
    g = g.reshape(r.shape)
    diff = np.abs(g - r)
    bad = ~(diff <= tol * (1.0 + np.abs(r)))  # NaN counts as bad
    return {
        "output": name,
        "ok": not bool(bad.any()),
        "max_abs_diff": float(np.nanmax(diff, initial=0.0)) if diff.size else 0.0,
        "rows_outside": int(bad.reshape(len(r), -1).any(axis=1).sum()) if r.ndim else int(bad),
    }


def _labels(ref: Any, got: Any, proba: Any, allowed_margin: float) -> dict[str, Any]:
    r, g = np.asarray(ref), np.asarray(got).reshape(np.asarray(ref).shape)
    differ = r.astype(str) != g.astype(str)
    ties = np.zeros_like(differ)
    if proba is not None and proba.ndim == 2 and proba.shape[1] >= 2:
        top = np.sort(proba, axis=1)
        ties = (top[:, -1] - top[:, -2]) <= allowed_margin
    hard = differ & ~ties
    return {
        "output": "label",
        "ok": not bool(hard.any()),
        "mismatches": int(differ.sum()),
        "mismatches_not_ties": int(hard.sum()),
    }


def _check_sklearn(model: Any, rows: Any, x: Any, outs: list[Any], tol: float) -> list[Any]:
    from sklearn.base import is_classifier

    original = _same_rows_for_original(model, rows, x)
    if is_classifier(model) and len(outs) >= 2:
        proba_ref = (
            np.asarray(model.predict_proba(original)) if hasattr(model, "predict_proba") else None
        )
        results = []
        if proba_ref is not None:
            results.append(_agree("probabilities", proba_ref, outs[1], tol))
        margin = max(2 * (results[0]["max_abs_diff"] if results else 0.0), tol)
        results.insert(0, _labels(model.predict(original), outs[0], proba_ref, margin))
        return results
    return [_agree("prediction", model.predict(original), outs[0], tol)]


def _check_torch(model: Any, x: Any, outs: list[Any], tol: float) -> list[Any]:
    import torch

    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            ref = model(torch.from_numpy(x))
    finally:
        model.train(was_training)
    refs = list(ref) if isinstance(ref, tuple | list) else [ref]
    if len(refs) != len(outs):
        detail = f"{len(outs)} outputs, not {len(refs)}"
        return [{"output": "output", "ok": False, "detail": detail}]
    return [
        _agree(f"output{i}" if len(refs) > 1 else "output", r.detach().cpu().numpy(), o, tol)
        for i, (r, o) in enumerate(zip(refs, outs, strict=True))
    ]


def check_supported(model: Any) -> None:
    """Raise :class:`UnsupportedExportError` unless ONNX export can convert ``model``."""
    if not (_is_sklearn(model) or _is_torch(model)):
        kind = f"{type(model).__module__}.{type(model).__qualname__}"
        raise UnsupportedExportError(
            f"ONNX export supports {SUPPORTED}; {kind} is neither: export it with "
            "--format mlflow or --format native"
        )


def _original(model: Any, rows: Any, x: Any) -> None:
    """Run the original once on the rows, so that rows it cannot take fail clearly."""
    if _is_torch(model):
        import torch

        was_training = model.training
        model.eval()
        try:
            with torch.no_grad():
                model(torch.from_numpy(x[:1]))
        finally:
            model.train(was_training)
    else:
        model.predict(_same_rows_for_original(model, rows, x[:1]))


def convert_and_check(model: Any, rows: Any, tolerance: float) -> tuple[bytes, dict[str, Any]]:
    """The model as ONNX bytes, and the check of ONNX Runtime's outputs against the
    original's on ``rows``.

    Raises:
        UnsupportedExportError: the model is of another kind, or the converter fails.
        ExportCheckError: an output differs beyond the tolerance.
    """
    check_supported(model)
    x = _float_rows(rows)
    try:
        _original(model, rows, x)
    except Exception as e:  # the model's own library says why
        raise ExportError(
            f"the model cannot predict on the sample rows ({type(e).__name__}: {e}); "
            "pass rows shaped as its training input (--sample FILE)"
        ) from None
    if _is_sklearn(model):
        onnx_bytes, converter = _sklearn_onnx(model, x), "skl2onnx"
        outs = _run(onnx_bytes, x)
        results = _check_sklearn(model, rows, x, outs, tolerance)
    elif _is_torch(model):
        onnx_bytes, converter = _torch_onnx(model, x), "torch.onnx (TorchScript exporter)"
        outs = _run(onnx_bytes, x)
        results = _check_torch(model, x, outs, tolerance)
    else:  # pragma: no cover - check_supported refused it
        raise AssertionError("unreachable")
    numeric = [r["max_abs_diff"] for r in results if "max_abs_diff" in r]
    checks = {
        "onnx": {
            "converter": converter,
            "runtime": f"onnxruntime {_version('onnxruntime')}",
            "rows": int(x.shape[0]),
            "tolerance": tolerance,
            "rule": "|onnx - original| <= tolerance * (1 + |original|)",
            "max_abs_diff": max(numeric) if numeric else 0.0,
            "outputs": results,
            "ok": all(r["ok"] for r in results),
        }
    }
    if not checks["onnx"]["ok"]:
        failed = "; ".join(
            f"{r['output']}: "
            + (
                r.get("detail")
                or (
                    f"{r['mismatches_not_ties']} labels differ"
                    if "mismatches_not_ties" in r
                    else f"max abs diff {r['max_abs_diff']:.3g} ({r['rows_outside']} rows "
                    "outside the tolerance)"
                )
            )
            for r in results
            if not r["ok"]
        )
        raise ExportCheckError(
            f"ONNX Runtime's outputs differ from the original's on {x.shape[0]} rows "
            f"(tolerance {tolerance:g} * (1 + |value|)): {failed}; nothing was written"
        )
    return onnx_bytes, checks


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "unknown"


def requirements() -> list[str]:
    """What serving ``model.onnx`` needs (the versions the check ran with)."""
    return [f"onnxruntime=={_version('onnxruntime')}", f"numpy=={_version('numpy')}"]
