"""The sklearn format: our state format (safe, fast), skops (safe) or cloudpickle with
split arrays (fallback)."""

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
    ser = SklearnSerializer(backend="skops")
    payload = ser.dump(est)
    back = ser.load(payload.meta, MemoryReader(payload), trusted=True)
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
    ser = SklearnSerializer(backend="skops")
    first = b"".join(bytes(s.data) for s in ser.dump(est).segments)
    time.sleep(1.1)  # zip times have a 2 s resolution: cross a boundary
    again = b"".join(bytes(s.data) for s in ser.dump(est).segments)
    assert first == again
    refit = make_pipeline(StandardScaler(), LogisticRegression(C=0.1)).fit(X, Y)
    other = b"".join(bytes(s.data) for s in ser.dump(refit).segments)
    assert other != first


@needs_skops
def test_skops_plain_estimator_needs_no_trust() -> None:
    est = fitted()["logreg"]
    ser = SklearnSerializer(backend="skops")
    payload = ser.dump(est)
    back = ser.load(payload.meta, MemoryReader(payload))  # trusted=False
    np.testing.assert_array_equal(back.coef_, est.coef_)


@needs_skops
def test_skops_untrusted_types_need_trust() -> None:
    est = fitted()["forest"]
    ser = SklearnSerializer(backend="skops")
    payload = ser.dump(est)
    assert payload.meta["untrusted_types"]  # skops does not trust sklearn.tree._tree.Tree
    assert payload.meta["unsafe"] is True
    assert "unsafe" not in ser.dump(fitted()["logreg"]).meta
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


# -- the state format (the default) ---------------------------------------------------------
def _more_models() -> dict[str, Any]:
    from sklearn.cluster import KMeans
    from sklearn.ensemble import GradientBoostingRegressor, HistGradientBoostingClassifier
    from sklearn.neural_network import MLPClassifier
    from sklearn.tree import DecisionTreeRegressor

    labels = np.array(["setosa", "versicolor", "virginica"], dtype=object)[Y]
    return {
        "hist_gb": HistGradientBoostingClassifier(max_iter=5, random_state=0).fit(X, Y),
        "gb": GradientBoostingRegressor(n_estimators=5, random_state=0).fit(X, X[:, 0]),
        "mlp": MLPClassifier(hidden_layer_sizes=(8,), max_iter=20, random_state=0).fit(X, Y),
        "kmeans": KMeans(3, n_init=1, random_state=0).fit(X),
        "tree_rs": DecisionTreeRegressor(random_state=np.random.RandomState(3)).fit(X, Y),
        "string_labels": LogisticRegression(max_iter=500).fit(X, labels),
    }


STATE_MODELS = ["logreg", "ridge", "forest", "column_transformer", "unfitted"]
MORE_MODELS = ["hist_gb", "gb", "mlp", "kmeans", "tree_rs", "string_labels"]


def _model(name: str) -> Any:
    return fitted()[name] if name in fitted() else _more_models()[name]


def _output(est: Any) -> np.ndarray[Any, Any]:
    if not hasattr(est, "predict"):
        return np.zeros(0)
    if hasattr(est, "n_features_in_") or hasattr(est, "named_steps"):
        return predictions(est)
    return np.zeros(0)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("name", STATE_MODELS + MORE_MODELS)
def test_state_roundtrip_exact_without_trust(name: str) -> None:
    est = _model(name)
    back, payload = roundtrip(est)  # trusted=False: the state format never needs trust
    assert payload.format == "sklearn" and payload.meta["backend"] == "state"
    assert "unsafe" not in payload.meta
    assert payload.segments[0].name == "state"
    assert type(back) is type(est)
    assert back.get_params(deep=False).keys() == est.get_params(deep=False).keys()
    if name != "unfitted":
        np.testing.assert_array_equal(_output(back), _output(est))
    # what was rebuilt encodes to the same bytes: the round trip is exact
    again = serializers.serialize(back)
    assert [bytes(s.data) for s in again.segments] == [bytes(s.data) for s in payload.segments]


def test_state_bytes_are_stable_and_change_with_the_model() -> None:
    est = RandomForestClassifier(n_estimators=3, random_state=1).fit(X, Y)
    first = [bytes(s.data) for s in serializers.serialize(est).segments]
    assert first == [bytes(s.data) for s in serializers.serialize(est).segments]
    est.fit(X[::-1], Y[::-1])  # refit: same params, other trees
    assert first != [bytes(s.data) for s in serializers.serialize(est).segments]


def test_state_arrays_are_writable_and_shared_references_stay_shared() -> None:
    est = fitted()["logreg"]
    back, _ = roundtrip(est)
    back.coef_[0, 0] += 1.0  # a user may change a fitted array in place
    assert back.coef_[0, 0] == est.coef_[0, 0] + 1.0
    pipe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, Y)
    back_pipe, _ = roundtrip(pipe)
    assert back_pipe.steps[1][1] is back_pipe.named_steps["logisticregression"]


def test_state_big_arrays_get_their_own_segment() -> None:
    from mlvc_server.serializers import sklearn_state

    wide = np.random.default_rng(0).random((200, 1000))
    est = Ridge().fit(wide, wide[:, 0])
    est.extra_ = np.arange(sklearn_state.PACK_LIMIT // 8 + 1, dtype=np.float64)
    payload = serializers.serialize(est)
    names = [s.name for s in payload.segments]
    assert names[:2] == ["state", "arrays"] and len(names) == 3
    assert payload.segments[2].size == est.extra_.nbytes
    # zero copy: the segment is the array's own memory
    assert np.shares_memory(np.frombuffer(payload.segments[2].data, np.uint8), est.extra_)
    back, _ = roundtrip(est)
    np.testing.assert_array_equal(back.extra_, est.extra_)
    np.testing.assert_array_equal(back.coef_, est.coef_)


def test_state_declines_functions_and_falls_back_to_skops() -> None:
    est = fitted()["pipeline"]  # holds FunctionTransformer(np.log1p)
    payload = serializers.serialize(est)
    assert payload.meta["backend"] in ("skops", "cloudpickle")
    assert "numpy" in payload.meta["state_declined"] or "ufunc" in payload.meta["state_declined"]
    with pytest.raises(Exception, match="state format"):
        SklearnSerializer(backend="state").dump(est)


def test_state_loader_refuses_classes_outside_the_allow_list() -> None:
    import json

    from mlvc_server.errors import SerializationError

    payload = serializers.serialize(fitted()["logreg"])
    doc = json.loads(bytes(payload.segments[0].data))
    for bad in (
        "os.system",
        "builtins.eval",
        "sklearn.utils.deprecated.os",
        "sklearn.experimental.enable_halving_search_cv.HalvingGridSearchCV",
        "sklearn.utils._testing.TempMemmap",
        "sklearn..x",
    ):
        doc["root"]["$obj"][0] = bad
        tampered = MemoryReader(payload)
        tampered.blobs[0] = json.dumps(doc).encode()
        with pytest.raises(SerializationError):
            serializers.deserialize("sklearn", payload.meta, tampered)
    doc["root"] = {"$type": "builtins.eval"}
    tampered.blobs[0] = json.dumps(doc).encode()
    with pytest.raises(SerializationError, match="refusing"):
        serializers.deserialize("sklearn", payload.meta, tampered)
    doc["root"] = {"$red": ["sklearn.utils._user_interface._print_elapsed_time", {"$t": []}, None]}
    tampered.blobs[0] = json.dumps(doc).encode()
    with pytest.raises(SerializationError, match="refusing"):
        serializers.deserialize("sklearn", payload.meta, tampered)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_meta_counts_fitted_estimators() -> None:
    meta = serializers.serialize(fitted()["forest"]).meta
    assert meta["n_estimators_fitted"] == 4 and meta["n_features_in"] == 4
    assert serializers.serialize(_more_models()["hist_gb"]).meta["n_estimators_fitted"] == 5


def test_state_through_commit_and_load_dedupes_unchanged(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mlvc_server as mlvc

    monkeypatch.setenv("MLVC_CONFIG_DIR", str(tmp_path / "config"))
    forest = fitted()["forest"]
    pipe = fitted()["column_transformer"]
    first = mlvc.commit("m", variables={"rf": forest, "pipe": pipe}, repo=tmp_path, sources=False)
    record = mlvc.show(first, repo=tmp_path)
    for name in ("rf", "pipe"):
        assert record["variables"][name]["format"] == "sklearn"
        assert record["variables"][name]["backend"] == "state"
    back = mlvc.load(first, "rf", repo=tmp_path)  # no trust needed
    np.testing.assert_array_equal(back.predict_proba(X), forest.predict_proba(X))
    np.testing.assert_array_equal(
        predictions(mlvc.load(first, "pipe", repo=tmp_path)), predictions(pipe)
    )
    again = mlvc.commit(
        "same", variables={"rf": forest, "pipe": pipe}, repo=tmp_path, sources=False
    )
    assert mlvc.show(again, repo=tmp_path)["bytes_written"] == 0
