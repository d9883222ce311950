"""Fingerprints: equal for equal content, different after any in-place change, None when
no cheap and safe one exists."""

from __future__ import annotations

import collections
import dataclasses
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from mlvc_server.serializers.fingerprint import OBJECT_LIMIT, fingerprint

RNG = np.random.default_rng(0)
X = RNG.random((200, 4))
Y = (X[:, 0] > 0.5).astype(np.int64)


def frame() -> pd.DataFrame:
    n = 50
    return pd.DataFrame(
        {
            "i": np.arange(n),
            "f": np.linspace(0, 1, n),
            "s": pd.array([f"s{i}" for i in range(n)], dtype="str"),
            "c": pd.Categorical(["a", "b"] * (n // 2)),
            "n": pd.array([1, None] * (n // 2), dtype="Int64"),
            "t": pd.date_range("2024-01-01", periods=n, tz="Europe/Paris"),
            "b": pd.array([True, False] * (n // 2), dtype="boolean"),
            "a": pd.array(list(range(n)), dtype="int64[pyarrow]"),
        }
    )


def test_array_equal_content_equal_fingerprint_and_every_change_shows() -> None:
    a = RNG.random((100, 10))
    fp = fingerprint(a)
    assert fp is not None and fp.startswith("fp2-")
    assert fingerprint(a.copy()) == fp
    a[57, 3] += 1e-12
    assert fingerprint(a) != fp
    assert fingerprint(a.astype(np.float32)) != fingerprint(a)
    assert fingerprint(a.reshape(10, 100)) != fingerprint(a)
    assert fingerprint(np.asfortranarray(a)) != fingerprint(a)  # stored differently
    assert fingerprint(a[:, ::2]) == fingerprint(np.ascontiguousarray(a[:, ::2]))
    assert fingerprint(np.float32(1.5)) != fingerprint(np.float64(1.5))
    assert fingerprint(np.float64(1.5)) != fingerprint(1.5)


def test_object_arrays_of_plain_items_only() -> None:
    labels = np.array(["a", "b", None], dtype=object)
    assert fingerprint(labels) == fingerprint(labels.copy()) is not None
    labels[1] = "c"
    assert fingerprint(labels) != fingerprint(np.array(["a", "b", None], dtype=object))
    assert fingerprint(np.array([object()], dtype=object)) is None
    assert fingerprint(np.empty(OBJECT_LIMIT + 1, dtype=object)) is None


@pytest.mark.parametrize("column", ["i", "f", "s", "c", "n", "t", "b", "a"])
def test_frame_one_cell_changed_in_place_changes_the_fingerprint(column: str) -> None:
    df = frame()
    fp = fingerprint(df)
    assert fp is not None
    assert fingerprint(frame()) == fp
    other = {
        "i": 999,
        "f": -1.0,
        "s": "zz",
        "c": "b",
        "n": 7,
        "t": pd.Timestamp("2000-01-01", tz="Europe/Paris"),
        "b": None,
        "a": -5,
    }[column]
    df.loc[0, column] = other
    assert fingerprint(df) != fp


def test_frame_structure_changes_show() -> None:
    df = frame()
    fp = fingerprint(df)
    assert fingerprint(df.rename(columns={"i": "j"})) != fp
    assert fingerprint(df.set_axis(range(1, 51))) != fp
    renamed = frame()
    renamed.index.name = "row"
    assert fingerprint(renamed) != fp
    with_attrs = frame()
    with_attrs.attrs["source"] = "x"
    assert fingerprint(with_attrs) != fp
    assert fingerprint(df.astype({"i": "int32"})) != fp
    utc = frame()
    utc["t"] = utc["t"].dt.tz_convert("UTC")  # same instants, other zone
    assert fingerprint(utc) != fp
    cats = frame()
    cats["c"] = cats["c"].cat.rename_categories({"a": "A"})
    assert fingerprint(cats) != fp


def test_series_index_and_multiindex() -> None:
    s = pd.Series(np.arange(5.0), index=list("abcde"), name="x")
    fp = fingerprint(s)
    assert fp is not None and fingerprint(s.copy()) == fp
    assert fingerprint(s.rename("y")) != fp
    s2 = s.copy()
    s2.iloc[2] = 0.5
    assert fingerprint(s2) != fp
    mi = pd.DataFrame(
        {"v": range(4)}, index=pd.MultiIndex.from_product([["a", "b"], [1, 2]], names=["k", "n"])
    )
    assert fingerprint(mi) == fingerprint(mi.copy()) is not None
    assert fingerprint(mi.swaplevel()) != fingerprint(mi)


def test_estimator_fingerprint_follows_params_and_refits() -> None:
    rf = RandomForestClassifier(n_estimators=3, random_state=0).fit(X, Y)
    fp = fingerprint(rf)
    assert fp is not None and fingerprint(rf) == fp
    rf.fit(X[::-1], Y[::-1])  # refit in place
    assert fingerprint(rf) != fp
    logreg = LogisticRegression().fit(X, Y)
    fp = fingerprint(logreg)
    logreg.set_params(C=0.5)  # params only
    assert fingerprint(logreg) != fp
    logreg.set_params(C=1.0)
    assert fingerprint(logreg) == fp
    logreg.coef_[0, 0] += 1  # a fitted array changed in place
    assert fingerprint(logreg) != fp
    # a function inside: no fingerprint (it would need skops or pickle to store)
    assert fingerprint(make_pipeline(FunctionTransformer(np.log1p), StandardScaler())) is None


Point = collections.namedtuple("Point", "x y")


@dataclasses.dataclass
class Run:
    weights: Any
    lr: float


def test_containers_per_leaf() -> None:
    w = RNG.random(100)
    state = {"w": w, "step": 3, "cfg": {"lr": 0.1, "tags": ["a", "b"]}, "pt": Point(1, 2)}
    fp = fingerprint(state)
    assert fp is not None
    assert fingerprint({**state}) == fp
    w[5] = -1
    assert fingerprint(state) != fp
    assert fingerprint({"a": 1, "b": 2}) != fingerprint({"b": 2, "a": 1})  # order is stored
    assert fingerprint([1, 2]) != fingerprint((1, 2))
    assert fingerprint(Point(1, 2)) != fingerprint((1, 2))
    assert fingerprint(1) != fingerprint(1.0) != fingerprint(True)
    run = Run(RNG.random(3), 0.1)
    fp = fingerprint(run)
    assert fp is not None
    run.lr = 0.2
    assert fingerprint(run) != fp
    assert fingerprint({"f": len}) is None
    assert fingerprint([object()]) is None
    nested: list[Any] = []
    node = nested
    for _ in range(100):
        node.append([])
        node = node[0]
    assert fingerprint(nested) is None


def test_shared_values_are_not_copies() -> None:
    w = RNG.random(10)
    shared = fingerprint({"a": w, "b": w})
    assert shared is not None
    assert fingerprint({"a": w, "b": w.copy()}) != shared  # stored as two leaves, not one
    assert fingerprint({"a": w, "b": w}) == shared
    rows = [1, 2]
    assert fingerprint([rows, rows]) != fingerprint([rows, [1, 2]])


def test_tensors_on_cpu() -> None:
    torch = pytest.importorskip("torch")
    t = torch.arange(10, dtype=torch.bfloat16)
    fp = fingerprint(t)
    assert fp is not None and fingerprint(t.clone()) == fp
    t[3] = 7
    assert fingerprint(t) != fp
    assert fingerprint(torch.nn.Parameter(t.clone())) != fingerprint(t)
    assert fingerprint({"w": torch.zeros(2)}) is not None
    weight = torch.ones(2, 2)
    tied = fingerprint({"emb": weight, "head": weight.view(2, 2)})
    assert tied != fingerprint({"emb": weight, "head": weight.clone()})


def test_things_without_a_cheap_fingerprint(tmp_path: Any) -> None:
    class Mine:
        pass

    assert fingerprint(Mine()) is None
    # a memmap's bytes are in its file: the npy format fingerprints them while streaming
    assert fingerprint(np.memmap(tmp_path / "m.bin", dtype=np.uint8, mode="w+", shape=4)) is None
    assert fingerprint(pd.DataFrame({"o": pd.array(["x", None], dtype="string[python]")})) is None
    assert fingerprint(pd.Series([{"a": 1}], dtype=object)) is None


def test_big_buffers_hashed_by_chunks_on_threads_give_one_fingerprint() -> None:
    from mlvc_server.serializers import fingerprint as fp_module

    big = np.random.default_rng(1).random((fp_module.PARALLEL_MIN + 3 * fp_module.CHUNK) // 8 + 5)
    pool = fp_module._pool()
    try:
        fp_module._pool_state[:] = [None]  # one thread
        alone = fingerprint(big)
        fp_module._pool_state[:] = [pool]
        assert fingerprint(big) == alone  # the same on threads
        for i in (0, fp_module.CHUNK // 8, big.size - 1):  # a change in any chunk shows
            changed = big.copy()
            changed[i] += 1
            assert fingerprint(changed) != alone
        df = pd.DataFrame({"a": big, "b": big[::-1].copy()})
        swapped = pd.DataFrame({"a": big[::-1].copy(), "b": big})
        assert fingerprint(df) != fingerprint(swapped)
    finally:
        fp_module._pool_state[:] = [pool]
