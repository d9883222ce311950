"""The sklearn format: skops (safe) or cloudpickle with split arrays (fallback)."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from mlvc_server import serializers
from mlvc_server.errors import TrustError
from mlvc_server.serializers.sklearn_format import SklearnSerializer, skops_available

from .conftest import MemoryReader, roundtrip

X, Y = load_iris(return_X_y=True)


@functools.cache
def fitted() -> dict[str, Any]:
    return {
        "logreg": LogisticRegression(max_iter=500, C=0.5).fit(X, Y),
        "ridge": Ridge(alpha=2.0).fit(X, X[:, 0]),
        "pipeline": make_pipeline(
            FunctionTransformer(np.log1p), StandardScaler(), LogisticRegression(max_iter=500)
        ).fit(X, Y),
        "forest": RandomForestClassifier(n_estimators=4, random_state=0).fit(X, Y),
        "column_transformer": make_pipeline(
            ColumnTransformer([("scale", StandardScaler(), [0, 1]), ("oh", OneHotEncoder(), [2])]),
            LogisticRegression(max_iter=500),
        ).fit(np.round(X), Y),
        "unfitted": LogisticRegression(),
    }


def predictions(est: Any) -> np.ndarray[Any, Any]:
    data = np.round(X) if "columntransformer" in getattr(est, "named_steps", {}) else X
    return np.asarray(est.predict(data))


needs_skops = pytest.mark.skipif(not skops_available(), reason="skops is not installed")


@needs_skops
@pytest.mark.parametrize("name", list(fitted()))
def test_skops_roundtrip_predictions_identical(name: str) -> None:
    est = fitted()[name]
    back, payload = roundtrip(est, trusted=True)
    assert payload.format == "sklearn"
    assert payload.meta["backend"] == "skops"
    assert payload.extension == "skops"
    assert type(back) is type(est)
    if name != "unfitted":
        np.testing.assert_array_equal(predictions(back), predictions(est))
    assert back.get_params(deep=False).keys() == est.get_params(deep=False).keys()


@needs_skops
@pytest.mark.parametrize("name", ["logreg", "pipeline", "column_transformer"])
def test_skops_bytes_are_stable_so_an_unchanged_model_dedupes(name: str) -> None:
    # skops names objects by id() and stamps zip times: both are made canonical
    import time

    est = fitted()[name]
    first = b"".join(bytes(s.data) for s in SklearnSerializer().dump(est).segments)
    time.sleep(1.1)  # zip times have a 2 s resolution: cross a boundary
    again = b"".join(bytes(s.data) for s in SklearnSerializer().dump(est).segments)
    assert first == again
    refit = make_pipeline(StandardScaler(), LogisticRegression(C=0.1)).fit(X, Y)
    other = b"".join(bytes(s.data) for s in SklearnSerializer().dump(refit).segments)
    assert other != first


@needs_skops
def test_skops_plain_estimator_needs_no_trust() -> None:
    est = fitted()["logreg"]
    back, _ = roundtrip(est)  # trusted=False
    np.testing.assert_array_equal(back.coef_, est.coef_)


@needs_skops
def test_skops_untrusted_types_need_trust() -> None:
    est = fitted()["forest"]
    payload = serializers.serialize(est)
    assert payload.meta["untrusted_types"]  # skops does not trust sklearn.tree._tree.Tree
    assert payload.meta["unsafe"] is True
    assert "unsafe" not in serializers.serialize(fitted()["logreg"]).meta
    # the loader asks skops about the bytes, it does not believe the meta
    lying = {k: v for k, v in payload.meta.items() if k not in ("unsafe", "untrusted_types")}
    with pytest.raises(TrustError, match="Tree"):
        serializers.deserialize("sklearn", lying, MemoryReader(payload))
    with pytest.raises(TrustError, match="Tree"):
        serializers.deserialize("sklearn", payload.meta, MemoryReader(payload))


def test_meta_lists_params_and_fitted_arrays() -> None:
    est = fitted()["logreg"]
    meta = serializers.serialize(est).meta
    assert meta["type"] == "sklearn.linear_model._logistic.LogisticRegression"
    assert meta["params"]["C"] == 0.5 and meta["params"]["max_iter"] == 500
    assert meta["fitted"]["coef_"]["shape"] == [3, 4]
    assert meta["fitted"]["coef_"]["dtype"] == "float64"
    assert meta["fitted"]["n_features_in_"] == {"value": 4}
    other = LogisticRegression(max_iter=500, C=0.1).fit(X, Y)
    other_meta = serializers.serialize(other).meta
    assert other_meta["fitted"]["coef_"]["digest"] != meta["fitted"]["coef_"]["digest"]
    assert other_meta["fitted"]["classes_"]["digest"] == meta["fitted"]["classes_"]["digest"]


def test_meta_of_pipeline_names_nested_fitted_attributes() -> None:
    meta = serializers.serialize(fitted()["pipeline"]).meta
    assert "logisticregression__coef_" in meta["fitted"]
    assert "standardscaler__mean_" in meta["fitted"]
    assert isinstance(meta["params"]["steps"], str)  # repr of a non-JSON value


def test_fallback_cloudpickle_splits_arrays() -> None:
    ser = SklearnSerializer(backend="cloudpickle")
    est = fitted()["pipeline"]
    payload = ser.dump(est)
    assert payload.meta["backend"] == "cloudpickle"
    assert payload.meta["unsafe"] is True
    arrays = payload.meta["arrays"]
    assert "standardscaler__mean_" in arrays
    coef = arrays["logisticregression__coef_"]
    assert coef["shape"] == [3, 4]
    segment = payload.segments[coef["segment"] + 1]
    step = est.named_steps["logisticregression"]
    assert np.shares_memory(np.frombuffer(segment.data, np.uint8), step.coef_)
    reader = MemoryReader(payload)
    with pytest.raises(TrustError, match="pickle"):
        ser.load(payload.meta, reader)
    back = ser.load(payload.meta, reader, trusted=True)
    np.testing.assert_array_equal(predictions(back), predictions(est))


def test_fallback_forest() -> None:
    ser = SklearnSerializer(backend="cloudpickle")
    est = fitted()["forest"]
    payload = ser.dump(est)
    back = ser.load(payload.meta, MemoryReader(payload), trusted=True)
    np.testing.assert_array_equal(back.predict_proba(X), est.predict_proba(X))


def test_non_sklearn_estimators_are_not_accepted() -> None:
    from sklearn.base import BaseEstimator

    class Mine(BaseEstimator):
        def __init__(self, k: int = 1) -> None:
            self.k = k

    ser = SklearnSerializer()
    assert not ser.accepts(Mine())
    assert not ser.accepts(np.zeros(2))
    back, payload = roundtrip(Mine(k=3), trusted=True)
    assert payload.format == "pickle" and back.k == 3
