"""Boosted trees (LightGBM, XGBoost, CatBoost) and Keras 3 models: stored in their
library's own format, never pickle, through ``mlvc_server.commit`` and ``load``.

Each library is tested when installed (the ``test`` extra installs LightGBM, XGBoost
(CPU) and Keras; CatBoost is not installed in CI: its wheel is ~100 MB)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import mlvc_server as mlvc
from mlvc_server import serializers
from mlvc_server.serializers.base import Payload

from .conftest import roundtrip

RNG = np.random.default_rng(0)
X = RNG.random((400, 6))
Y = (X[:, 0] + X[:, 1] > 1).astype(np.int64)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLVC_CONFIG_DIR", str(tmp_path / "config"))
    return tmp_path


def _bytes(payload: Payload) -> list[bytes]:
    return [b"".join(bytes(c) for c in s.chunks()) for s in payload.segments]


def _committed(project: Path, name: str, value: Any) -> tuple[Any, dict[str, Any]]:
    cid = mlvc.commit("model", variables={name: value}, repo=project, sources=False)
    record = mlvc.show(cid, repo=project)["variables"][name]
    return mlvc.load(cid, name, repo=project), record


# -- LightGBM ---------------------------------------------------------------------------------
def test_lightgbm_wrapper_and_booster_round_trip_without_pickle(project: Path) -> None:
    lgb = pytest.importorskip("lightgbm")
    clf = lgb.LGBMClassifier(n_estimators=7, num_leaves=7, verbose=-1).fit(X, Y)
    back, record = _committed(project, "clf", clf)
    assert record["format"] == "lightgbm" and record["kind"] == "wrapper"
    assert record["n_trees"] == 7 and record["params"]["num_leaves"] == 7
    assert type(back) is type(clf)
    np.testing.assert_array_equal(back.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_array_equal(back.classes_, clf.classes_)
    booster = lgb.train({"objective": "regression", "verbose": -1}, lgb.Dataset(X, X[:, 2]), 5)
    back_b, record_b = _committed(project, "booster", booster)
    assert record_b["format"] == "lightgbm" and record_b["kind"] == "booster"
    assert record_b["n_trees"] == 5 and record_b["params"]["objective"] == "regression"
    np.testing.assert_array_equal(back_b.predict(X), booster.predict(X))


def test_lightgbm_bytes_are_stable_and_reload_exactly() -> None:
    lgb = pytest.importorskip("lightgbm")
    clf = lgb.LGBMRegressor(n_estimators=4, verbose=-1).fit(X, X[:, 0])
    first = serializers.serialize(clf)
    assert _bytes(first) == _bytes(serializers.serialize(clf))
    back, _ = roundtrip(clf)
    assert _bytes(serializers.serialize(back)) == _bytes(first)
    clf.set_params(n_estimators=5).fit(X, X[:, 0])
    assert _bytes(serializers.serialize(clf)) != _bytes(first)


def test_lightgbm_custom_objective_is_not_stored_in_the_safe_format() -> None:
    lgb = pytest.importorskip("lightgbm")

    def objective(y_true: Any, y_pred: Any) -> tuple[Any, Any]:
        return y_pred - y_true, np.ones_like(y_pred)

    reg = lgb.LGBMRegressor(n_estimators=2, objective=objective, verbose=-1).fit(X, X[:, 0])
    payload = serializers.serialize(reg)
    assert payload.format == "pickle"
    with pytest.raises(Exception, match="function"):
        serializers.get("lightgbm").dump(reg)


# -- XGBoost ----------------------------------------------------------------------------------
def test_xgboost_wrapper_and_booster_round_trip_without_pickle(project: Path) -> None:
    xgb = pytest.importorskip("xgboost")
    clf = xgb.XGBClassifier(n_estimators=6, max_depth=3).fit(X, Y)
    back, record = _committed(project, "clf", clf)
    assert record["format"] == "xgboost" and record["kind"] == "wrapper"
    assert record["n_trees"] == 6 and record["params"]["max_depth"] == 3
    np.testing.assert_array_equal(back.predict_proba(X), clf.predict_proba(X))
    booster = xgb.train({"max_depth": 2, "eta": 0.3}, xgb.DMatrix(X, X[:, 1]), 4)
    back_b, record_b = _committed(project, "booster", booster)
    assert record_b["format"] == "xgboost" and record_b["n_iterations"] == 4
    assert record_b["params"]["max_depth"] == "2"
    np.testing.assert_array_equal(back_b.predict(xgb.DMatrix(X)), booster.predict(xgb.DMatrix(X)))
    assert _bytes(serializers.serialize(back)) == _bytes(serializers.serialize(clf))


# -- CatBoost (when installed) ----------------------------------------------------------------
def test_catboost_round_trip_without_pickle(project: Path) -> None:
    catboost = pytest.importorskip("catboost")
    clf = catboost.CatBoostClassifier(iterations=5, depth=3, verbose=False).fit(X, Y)
    back, record = _committed(project, "clf", clf)
    assert record["format"] == "catboost" and record["n_trees"] == 5
    np.testing.assert_array_equal(back.predict_proba(X), clf.predict_proba(X))


# -- Keras 3 ----------------------------------------------------------------------------------
def _keras() -> Any:
    os.environ.setdefault("KERAS_BACKEND", "torch")
    return pytest.importorskip("keras")


def test_keras_model_round_trips_in_safe_mode(project: Path) -> None:
    keras = _keras()
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((6,)), keras.layers.Dense(4, activation="relu"), keras.layers.Dense(1)]
    )
    model.compile(optimizer="adam", loss="mse")
    model.fit(X, X[:, :1], epochs=1, verbose=0)
    back, record = _committed(project, "net", model)
    assert record["format"] == "keras" and record["n_params"] == 6 * 4 + 4 + 4 + 1
    assert [layer[1] for layer in record["layers"]] == ["Dense", "Dense"]
    np.testing.assert_array_equal(back.predict(X, verbose=0), model.predict(X, verbose=0))
    for a, b in zip(back.get_weights(), model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    # byte-stable: an unchanged model dedupes (the save date is not in the payload)
    assert _bytes(serializers.serialize(model)) == _bytes(serializers.serialize(model))


def test_keras_lambda_layer_is_refused_by_safe_mode() -> None:
    keras = _keras()
    model = keras.Sequential([keras.Input((2,)), keras.layers.Lambda(lambda t: t * 2)])
    payload = serializers.serialize(model)
    assert payload.format == "keras"
    with pytest.raises(serializers.SerializationError, match=r"(?i)safe|lambda"):
        roundtrip(model)
