"""The fingerprint cache: an unchanged value is committed without serializing it, and a
stale, pruned or disallowed entry is never reused."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import RandomForestClassifier

from mlvc_server import serializers
from mlvc_server.serializers.base import Payload
from mlvc_server.store import Store, objects
from mlvc_server.store import fingerprints as fps
from mlvc_server.store import payloads as ps

#: these tests damage or remove single object files
pytestmark = pytest.mark.usefixtures("loose_objects")


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Store:
    monkeypatch.setenv("MLVC_CONFIG_DIR", str(tmp_path / "config"))
    fps._manifests.clear()
    return Store.init(tmp_path)


class Counting:
    """``serialize`` for write_value, counting its calls."""

    def __init__(self, value: Any, **kwargs: Any) -> None:
        self.value, self.kwargs, self.calls = value, kwargs, 0

    def __call__(self) -> Payload:
        self.calls += 1
        return serializers.serialize(self.value, **self.kwargs)


def values() -> dict[str, Any]:
    rng = np.random.default_rng(0)
    X = rng.random((100, 3))
    return {
        "frame": pd.DataFrame({"a": np.arange(1000), "s": [f"r{i}" for i in range(1000)]}),
        "array": rng.random((300, 300)),
        "forest": RandomForestClassifier(3, random_state=0).fit(X, X[:, 0] > 0.5),
        "state": {"w": rng.random(50), "epoch": 3},
    }


@pytest.mark.parametrize("name", list(values()))
def test_unchanged_value_is_not_serialized_again(store: Store, name: str) -> None:
    value = values()[name]
    first = Counting(value)
    a = fps.write_value(store, value, first)
    assert first.calls == 1 and not a.reused and a.fingerprint
    again = Counting(value)
    b = fps.write_value(store, value, again)
    assert again.calls == 0 and b.reused and b.bytes_written == 0
    assert (b.manifest_id, b.part_ids, b.format) == (a.manifest_id, a.part_ids, a.format)
    # what was reused loads back to the value
    back = serializers.deserialize(
        b.format, b.meta, ps.StoredPayload(store, b.manifest, name), trusted=True
    )
    assert fps.write_value(store, back, Counting(back)).manifest_id == a.manifest_id


def test_a_changed_value_is_serialized_and_status_sees_it(store: Store) -> None:
    df = values()["frame"]
    a = fps.write_value(store, df, Counting(df))
    assert fps.unchanged(store, df, a.part_ids) is True
    df.loc[10, "a"] = -1  # in place
    assert fps.unchanged(store, df, a.part_ids) is None  # unknown: serialize to know
    counting = Counting(df)
    b = fps.write_value(store, df, counting)
    assert counting.calls == 1 and b.manifest_id != a.manifest_id
    assert fps.unchanged(store, df, a.part_ids) is False  # known, and not those parts
    assert fps.unchanged(store, df, b.part_ids) is True


def test_values_without_fingerprint_are_always_serialized(store: Store) -> None:
    value = [object]  # a class: pickled, no fingerprint
    counting = Counting(value)
    fps.write_value(store, value, counting)
    fps.write_value(store, value, counting)
    assert counting.calls == 2


def test_pruned_parts_or_manifest_are_not_reused(store: Store) -> None:
    arr = np.arange(100_000, dtype=np.float64)
    a = fps.write_value(store, arr, Counting(arr))
    os.unlink(objects.loose_path(store.objects_dir, a.part_ids[-1]))  # gc pruned a part
    fps._manifests.clear()
    counting = Counting(arr)
    b = fps.write_value(store, arr, counting)
    assert counting.calls == 1 and not b.reused
    assert store.has_object(b.part_ids[-1])  # written again
    os.unlink(objects.loose_path(store.objects_dir, b.manifest_id))
    fps._manifests.clear()
    assert fps.lookup(store, b.fingerprint) is None


def test_pickle_and_size_rules_are_checked_on_reuse(store: Store) -> None:
    value = {"f": np.arange(3), "obj": RandomForestClassifier}  # the class needs pickle
    fp = "fp1-test"
    payload = serializers.serialize(value)
    assert ps.needs_trust(payload.format, payload.meta)  # pickled, whole or in part
    wp = ps.write_payload(store, payload)
    mid = store.add_bytes(ps.manifest_bytes(wp.manifest))
    fps.record(store, fp, mid)
    assert fps.lookup(store, fp) is not None
    assert fps.lookup(store, fp, allow_pickle=False) is None
    assert fps.lookup(store, fp, max_bytes=wp.manifest["size"] - 1) is None
    assert fps.lookup(store, fp, max_bytes=wp.manifest["size"]) is not None
    assert fps.lookup(store, None) is None


def test_entries_are_shared_through_the_store_file(store: Store, tmp_path: Path) -> None:
    arr = np.arange(10.0)
    a = fps.write_value(store, arr, Counting(arr))
    fps._manifests.clear()
    other = Store(tmp_path)  # another process opening the same store
    counting = Counting(arr)
    assert fps.write_value(other, arr, counting).manifest_id == a.manifest_id
    assert counting.calls == 0


def test_a_snapshot_hashes_each_value_once_and_later_changes_are_seen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mlvc_server as mlvc
    from mlvc_server import service
    from mlvc_server.serializers import fingerprint as fpmod

    monkeypatch.setenv("MLVC_CONFIG_DIR", str(tmp_path / "config"))
    hashed: list[int] = []

    class Counting(fpmod._Hasher):
        def value(self, obj: Any, depth: int = 0) -> None:
            if depth == 0:
                hashed.append(id(obj))
            super().value(obj, depth)

    monkeypatch.setattr(fpmod, "_Hasher", Counting)
    df = pd.DataFrame({"a": np.arange(1000.0), "b": np.arange(1000)})
    arr = np.arange(5000.0)
    mlvc.commit("first", {"df": df, "arr": arr}, repo=tmp_path, sources=False)
    hashed.clear()
    with service.snapshot():  # what autocommit does after a cell: check, then commit
        st = service.status(repo=tmp_path, variables={"df": df, "arr": arr})
        assert st["variables"] == {"df": "unchanged", "arr": "unchanged"}
        mlvc.commit("same", {"df": df, "arr": arr}, repo=tmp_path, sources=False)
    assert sorted(hashed) == sorted([id(df), id(arr)])  # once each, not twice
    # one value changed in place after the snapshot: seen by the next check and commit
    df.iloc[500, 0] = -1.0
    arr[4999] = -1.0
    with service.snapshot():
        st = service.status(repo=tmp_path, variables={"df": df, "arr": arr})
        assert st["variables"] == {"df": "changed", "arr": "changed"}
        cid = mlvc.commit("changed", {"df": df, "arr": arr}, repo=tmp_path, sources=False)
    assert mlvc.load(cid, "df", repo=tmp_path).iloc[500, 0] == -1.0
    assert mlvc.load(cid, "arr", repo=tmp_path)[4999] == -1.0


def test_a_snapshot_serializes_a_changed_value_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mlvc_server as mlvc
    from mlvc_server import service
    from mlvc_server.serializers import deadline

    monkeypatch.setenv("MLVC_CONFIG_DIR", str(tmp_path / "config"))
    df = pd.DataFrame({"a": np.arange(1000.0)})
    mlvc.commit("first", {"df": df}, repo=tmp_path, sources=False)
    calls: list[int] = []
    real = deadline._serialize_within

    def counting(value: Any, seconds: float | None, **kw: Any) -> Any:
        calls.append(id(value))
        return real(value, seconds, **kw)

    monkeypatch.setattr(deadline, "_serialize_within", counting)
    # a value with a new fingerprint: status serializes it to compare, the commit reuses it
    df2 = pd.DataFrame({"a": np.arange(1000.0) + 1})
    with service.snapshot():
        st = service.status(repo=tmp_path, variables={"df": df2})
        assert st["variables"] == {"df": "changed"}
        cid = mlvc.commit("second", {"df": df2}, repo=tmp_path, sources=False)
    assert calls == [id(df2)]
    assert mlvc.load(cid, "df", repo=tmp_path)["a"].iloc[0] == 1.0
    # outside a snapshot nothing is remembered: a status and a commit serialize each
    df3 = pd.DataFrame({"a": np.arange(1000.0) + 2})
    calls.clear()
    service.status(repo=tmp_path, variables={"df": df3})
    mlvc.commit("third", {"df": df3}, repo=tmp_path, sources=False)
    assert calls == [id(df3), id(df3)]
