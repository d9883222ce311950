"""Semantic diffs of one variable between two commits, on real objects through the store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression

import mlvc_server as mlvc
from mlvc_server import serializers, service
from mlvc_server.serializers.describe import describe
from mlvc_server.store import payloads as ps

RNG = np.random.default_rng(0)
X = RNG.random((300, 4))
Y = (X[:, 0] + X[:, 1] > 1).astype(np.int64)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLVC_CONFIG_DIR", str(tmp_path / "config"))
    return tmp_path


def diff(project: Path, old: Any, new: Any, *, values: bool = True) -> dict[str, Any]:
    """Commit ``old`` then ``new`` as variable ``v`` and describe the change."""
    a = mlvc.commit("a", variables={"v": old}, repo=project, sources=False)
    b = mlvc.commit("b", variables={"v": new}, repo=project, sources=False)
    store = service.workspace().store(project)
    ma, mb = (
        service.format.read_manifest(store, a, "v"),
        service.format.read_manifest(store, b, "v"),
    )
    pa, pb = ps.StoredPayload(store, ma, "v"), ps.StoredPayload(store, mb, "v")

    def read(side: str, index: int) -> bytes:
        return (pa if side == "a" else pb).read_segment(index)

    return describe(ma, mb, read if values else None)


def test_scalar_is_old_to_new_never_parts(project: Path) -> None:
    d = diff(project, 1, 0.01)
    assert d["status"] == "changed" and d["kind"] == "scalar"
    assert d["value"] == {"a": 1, "b": 0.01, "delta": 0.01 - 1}
    assert d["lines"] == ["1 -> 0.01"]
    assert diff(project, "relu", "gelu")["lines"] == ["'relu' -> 'gelu'"]
    d = diff(project, np.float32(0.5), np.float32(0.25))
    assert d["kind"] == "scalar" and d["lines"] == ["0.5 -> 0.25"]
    assert not any("parts" in line for line in d["lines"])


def test_estimator_hyperparameters_and_refit(project: Path) -> None:
    d = diff(project, LogisticRegression(C=1.0).fit(X, Y), LogisticRegression(C=0.01).fit(X, Y))
    assert d["kind"] == "estimator"
    assert d["params"] == [
        {"key": "C", "a": 1.0, "b": 0.01, "delta": 0.01 - 1.0, "status": "changed"}
    ]
    assert "C: 1.0 -> 0.01" in d["lines"]
    assert {"coef_", "intercept_"} <= set(d["fitted_changed"])
    d = diff(
        project,
        RandomForestClassifier(5, random_state=0).fit(X, Y),
        RandomForestClassifier(8, random_state=0).fit(X, Y),
    )
    assert d["n_estimators_fitted"] == {"a": 5, "b": 8, "delta": 3}
    assert "n_estimators: 5 -> 8" in d["lines"] and "fitted estimators: 5 -> 8" in d["lines"]
    d = diff(
        project,
        RandomForestClassifier(5, random_state=0).fit(X, Y),
        RandomForestClassifier(5, random_state=1).fit(X, Y),
    )
    assert d["lines"] == ["random_state: 0 -> 1"]


def test_boosted_trees_params_and_tree_counts(project: Path) -> None:
    lgb = pytest.importorskip("lightgbm")
    old = lgb.LGBMClassifier(n_estimators=5, learning_rate=0.1, verbose=-1).fit(X, Y)
    new = lgb.LGBMClassifier(n_estimators=9, learning_rate=0.05, verbose=-1).fit(X, Y)
    d = diff(project, old, new)
    assert d["kind"] == "boosting"
    assert {c["key"] for c in d["params"]} == {"n_estimators", "learning_rate"}
    assert d["n_trees"] == {"a": 5, "b": 9, "delta": 4}
    assert "trees: 5 -> 9" in d["lines"]


def test_array_share_changed_and_max_delta(project: Path) -> None:
    a = RNG.random(1000)
    b = a.copy()
    b[[3, 500]] += [0.5, -2.0]
    d = diff(project, a, b)
    assert d["kind"] == "array"
    assert d["fraction_changed"] == pytest.approx(2 / 1000)
    assert d["max_abs_diff"] == pytest.approx(2.0)
    assert d["lines"] == ["values: 0.2% of values changed, max |delta| 2"]
    d = diff(project, a, a.reshape(10, 100))
    assert d["shape"] == {"a": [1000], "b": [10, 100]} and "fraction_changed" not in d
    assert "fraction_changed" not in diff(project, a, b, values=False)


def test_state_dict_tensors_changed_added_and_modules(project: Path) -> None:
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    old = {k: v.clone() for k, v in net.state_dict().items()}
    new = {k: v.clone() for k, v in old.items()}
    new["0.weight"][0, :2] += 0.25  # 2 of 32 values
    new["3.weight"] = torch.zeros(3, 2)
    new["3.bias"] = torch.zeros(3)
    d = diff(project, old, new)
    assert d["kind"] == "tensors"
    assert sorted(d["tensors_added"]) == ["3.bias", "3.weight"]
    assert d["tensors_changed_count"] == 1
    (changed,) = d["tensors_changed"]
    assert changed["name"] == "0.weight"
    assert changed["fraction_changed"] == pytest.approx(2 / 32)
    assert changed["max_abs_diff"] == pytest.approx(0.25, rel=1e-5)
    assert any("new modules: 3" in line for line in d["lines"])
    half = {k: v.to(torch.bfloat16) for k, v in old.items()}
    half2 = {k: v.clone() for k, v in half.items()}
    half2["2.bias"][0] += 1
    d = diff(project, half, half2)
    (changed,) = d["tensors_changed"]
    assert changed["name"] == "2.bias" and changed["fraction_changed"] == 0.5


def test_frame_rows_columns_and_dtypes(project: Path) -> None:
    old = pd.DataFrame({"a": np.arange(10), "b": np.linspace(0, 1, 10), "c": list("abcdefghij")})
    new = old.assign(d=1.5).astype({"a": "int32"}).drop(columns="c")
    new = pd.concat([new, new.iloc[:2]], ignore_index=True)
    d = diff(project, old, new)
    assert d["kind"] == "frame"
    assert d["rows"] == {"a": 10, "b": 12, "delta": 2}
    assert d["columns_added"] == ["d"] and d["columns_removed"] == ["c"]
    assert d["dtypes_changed"] == [{"name": "a", "a": "int64", "b": "int32"}]


def test_frame_changed_columns_from_column_chunks() -> None:
    meta = {
        "shape": [10, 2],
        "columns": [{"name": "x", "dtype": "int64"}, {"name": "y", "dtype": "float64"}],
    }

    def manifest(x: str, y: str) -> dict[str, Any]:
        names = [("head", "h"), ("rg0/x", x), ("rg0/y", y), ("footer", "f" + x + y)]
        segments = [{"name": n, "size": 1, "parts": [p]} for n, p in names]
        return {"format": "parquet", "meta": meta, "segments": segments}

    d = describe(manifest("1", "2"), manifest("1", "3"))
    assert d["columns_changed"] == ["y"]
    assert d["lines"] == ["values changed in columns: y"]


def test_container_leaves_added_removed_changed() -> None:
    def leaf(
        path: str, fmt: str, meta: dict[str, Any], parts: list[str]
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        entry = {"path": path, "format": fmt, "meta": meta, "segments": len(parts), "size": 8}
        return entry, [
            {"name": f"{path}:s{i}", "size": 8, "parts": [p]} for i, p in enumerate(parts)
        ]

    def container(
        *leaves: tuple[dict[str, Any], list[dict[str, Any]]], tree: Any
    ) -> dict[str, Any]:
        segments = [{"name": "manifest", "size": 1, "parts": [str(tree)]}]
        for _, segs in leaves:
            segments += segs
        meta = {
            "type": "builtins.dict",
            "manifest": {"tree": tree, "leaves": [e for e, _ in leaves]},
        }
        return {"format": "container", "meta": meta, "segments": segments}

    w = {"type": "numpy.ndarray", "shape": [4], "dtype": "float64"}
    old = container(
        leaf("w", "npy", w, ["h", "d1"]),
        leaf("opt", "npy", w, ["h", "o1"]),
        tree={"k": "dict", "epoch": 3},
    )
    new = container(
        leaf("w", "npy", w, ["h", "d2"]),
        leaf("sched", "npy", w, ["h", "s1"]),
        tree={"k": "dict", "epoch": 4},
    )
    d = describe(old, new)
    assert d["kind"] == "container"
    assert d["leaves_added"] == ["sched"] and d["leaves_removed"] == ["opt"]
    assert [c["path"] for c in d["leaves_changed"]] == ["w"]
    assert d["leaves_changed"][0]["kind"] == "array"


def test_container_on_real_objects_when_the_format_is_registered(project: Path) -> None:
    if "container" not in serializers.formats():
        pytest.skip("the container format is not in this tree")
    w = RNG.random(100)
    w2 = w.copy()
    w2[0] = -1
    d = diff(
        project, {"w": w, "epoch": 3, "b": np.zeros(3)}, {"w": w2, "epoch": 4, "b": np.zeros(3)}
    )
    assert d["kind"] == "container"
    changed = {c["path"]: c for c in d["leaves_changed"]}
    assert list(changed) == ["w"] and changed["w"]["fraction_changed"] == pytest.approx(0.01)
    assert any("3 -> 4" in line for line in d["lines"])


def test_added_removed_and_unchanged() -> None:
    m = {
        "format": "json",
        "meta": {"type": "builtins.int", "value": 3},
        "segments": [{"name": "json", "size": 1, "parts": ["p"]}],
    }
    assert describe(None, m)["lines"] == ["added: builtins.int = 3"]
    assert describe(m, None)["status"] == "removed"
    assert describe(m, m) == {"status": "unchanged", "kind": "scalar", "lines": []}
