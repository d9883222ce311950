"""Containers (dict/list/tuple/namedtuple/dataclass/...) are stored leaf by leaf, each leaf
in its own safe format, through the real store: exact round trips, no pickle, and a
changed leaf costs its own bytes only."""

from __future__ import annotations

import collections
import dataclasses
import enum
import json
import struct
import sys
import warnings
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pytest

import mlvc_server as mlvc
from mlvc_server import serializers
from mlvc_server.errors import SerializationError, TrustError, UnsupportedTypeError
from mlvc_server.serializers.container_format import (
    MAX_DEPTH,
    ContainerRebuildWarning,
    leaf_changes,
    leaf_paths,
)

from .conftest import MemoryReader, roundtrip

MIB = 1 << 20


class Color(enum.Enum):
    RED = 1
    BLUE = "blue"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


class Point(NamedTuple):
    x: Any
    y: Any


@dataclasses.dataclass
class Run:
    weights: np.ndarray
    lr: float = 0.1
    tags: list[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass(frozen=True, slots=True)
class Frozen:
    a: np.ndarray
    b: int


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLVC_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("MLVC_AUTHOR_NAME", "Ana")
    monkeypatch.setenv("MLVC_AUTHOR_EMAIL", "ana@example.org")
    return tmp_path


def commit_load(project: Path, value: Any, name: str = "v") -> tuple[Any, dict[str, Any]]:
    cid = mlvc.commit("c", variables={name: value}, repo=project, sources=False)
    record = mlvc.show(cid, repo=project)
    assert name in record["variables"], record.get("skipped")
    return mlvc.load(cid, name, repo=project), record


def assert_same(a: Any, b: Any) -> None:
    """Deep equality that also checks types (and dtypes of arrays)."""
    assert type(a) is type(b), (type(a), type(b))
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            assert_same(a[k], b[k])
    elif isinstance(a, list | tuple | collections.deque):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            assert_same(x, y)
    elif dataclasses.is_dataclass(a):
        for f in dataclasses.fields(a):
            assert_same(getattr(a, f.name), getattr(b, f.name))
    elif type(a).__module__ == "torch":
        import torch

        assert torch.equal(a, b) and a.dtype == b.dtype
    else:
        assert a == b


def test_every_container_kind_round_trips_exactly_through_the_store(project: Path) -> None:
    rng = np.random.default_rng(0)
    arr = rng.standard_normal((4, 5)).astype(np.float32)
    value = {
        "arr": arr,
        "list": [rng.integers(0, 9, 7), 1, "two", None],
        "tuple": (np.arange(3), 2.5, True),
        "point": Point(np.ones(2), "y"),
        "run": Run(np.zeros(3), 0.01, ["a"]),
        "frozen": Frozen(np.full(2, 7, np.int16), 4),
        "odict": collections.OrderedDict([("b", np.arange(2)), ("a", 1)]),
        "ddict": collections.defaultdict(list, {"k": [np.ones(1)]}),
        "counter": collections.Counter("abracadabra"),
        "deque": collections.deque([np.arange(2)], maxlen=5),
        "set": {3, 1, 2},
        "frozenset": frozenset({"x"}),
        7: {(1, 2): np.float32(1.5), None: np.int64(-3), 2.5: np.bool_(True)},
        "nan": float("nan"),
        "big_plain": list(range(5000)),
    }
    back, record = commit_load(project, value)
    entry = record["variables"]["v"]
    assert entry["format"] == "container"
    assert not entry.get("unsafe") and "pickled" not in entry
    nan = back.pop("nan")
    assert nan != nan
    value.pop("nan")
    assert_same(value, back)
    assert back["ddict"].default_factory is list
    assert back["deque"].maxlen == 5
    assert type(back["counter"]) is collections.Counter and back["counter"]["a"] == 5
    assert type(back[7][(1, 2)]) is np.float32


def test_shared_leaves_and_subtrees_come_back_shared(project: Path) -> None:
    tied = np.arange(6.0)
    sub = {"w": np.ones(2)}
    plain = [1, 2]
    # (a plain value inside another plain one is inline JSON, which keeps no sharing, as
    # the json format; here "q" holds an array, so it is walked and "plain" is shared)
    value = {"emb": tied, "out": tied, "a": sub, "b": [sub], "p": plain, "q": (plain, tied)}
    back, _ = commit_load(project, value)
    assert back["emb"] is back["out"]
    assert back["a"] is back["b"][0]
    assert back["p"] is back["q"][0] and back["p"] == [1, 2]


def test_a_changed_leaf_costs_its_own_bytes_only(project: Path) -> None:
    rng = np.random.default_rng(1)
    params = {f"layer{i}": rng.standard_normal(MIB // 8) for i in range(8)}  # 1 MiB each
    first = mlvc.commit("v0", variables={"params": params}, repo=project, sources=False)
    assert mlvc.show(first, repo=project)["bytes_written"] >= 8 * MIB
    old = params["layer3"]
    params["layer3"] = old + 1.0
    second = mlvc.commit("v1", variables={"params": params}, repo=project, sources=False)
    written = mlvc.show(second, repo=project)["bytes_written"]
    assert MIB <= written <= MIB + 64 << 10, written
    # the same arrays under another variable, in another container kind: nothing new
    third = mlvc.commit(
        "v2", variables={"again": list(params.values())}, repo=project, sources=False
    )
    assert mlvc.show(third, repo=project)["bytes_written"] <= 64 << 10
    assert_same(mlvc.load(first, "params", repo=project)["layer3"], old)
    assert_same(mlvc.load(second, "params", repo=project), params)


def test_an_inline_value_change_is_seen_by_status(project: Path) -> None:
    value = {"w": np.ones(10), "epoch": 3}
    mlvc.commit("c", variables={"ckpt": value}, repo=project, sources=False)
    assert mlvc.status(repo=project, variables={"ckpt": value})["variables"] == {
        "ckpt": "unchanged"
    }
    value["epoch"] = 4
    assert mlvc.status(repo=project, variables={"ckpt": value})["variables"] == {"ckpt": "changed"}


def test_a_pytorch_training_checkpoint_is_stored_without_pickle(project: Path) -> None:
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=2)
    for _ in range(3):
        model(torch.randn(5, 4)).pow(2).sum().backward()
        opt.step()
        sched.step()
    ckpt = {
        "model": model.state_dict(),
        "optimizer": opt.state_dict(),
        "scheduler": sched.state_dict(),
        "epoch": 3,
        "best": 0.25,
    }
    back, record = commit_load(project, ckpt, "ckpt")
    entry = record["variables"]["ckpt"]
    assert entry["format"] == "container" and not entry.get("unsafe")
    leaves = leaf_paths(serializers.serialize(ckpt).meta)
    assert {leaf["format"] for leaf in leaves.values()} == {"safetensors"}
    assert "model" in leaves and "optimizer/state/0" in leaves
    assert back["epoch"] == 3 and back["best"] == 0.25
    assert list(back["optimizer"]["state"]) == [0, 1, 2, 3]  # int keys kept
    model2 = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    model2.load_state_dict(back["model"])
    opt2 = torch.optim.AdamW(model2.parameters(), lr=1e-3)
    opt2.load_state_dict(back["optimizer"])
    for k, t in ckpt["optimizer"]["state"][1].items():
        assert torch.equal(t, opt2.state_dict()["state"][1][k])
    assert back["optimizer"]["param_groups"] == ckpt["optimizer"]["param_groups"]
    assert back["scheduler"] == ckpt["scheduler"]


def test_a_leaf_only_pickle_holds_is_pickled_alone_and_named(project: Path) -> None:
    value = {"w": np.arange(4), "fn": lambda x: x + 1}
    payload = serializers.serialize(value)
    assert payload.format == "container"
    assert payload.meta["unsafe"] is True and payload.meta["pickled"] == ["fn"]
    assert "fn" in payload.meta["trust_reason"]
    with pytest.raises(TrustError):
        serializers.deserialize(payload.format, payload.meta, MemoryReader(payload))
    with pytest.raises(UnsupportedTypeError, match="without pickle"):
        serializers.serialize(value, allow_pickle=False)
    # the user's own commit is signed: it loads without trust
    back, record = commit_load(project, value)
    assert record["variables"]["v"]["pickled"] == ["fn"]
    assert back["fn"](1) == 2
    assert_same(back["w"], value["w"])


def test_containers_pickle_would_hold_whole_are_pickled_whole_with_the_reason() -> None:
    class Thing:
        pass

    payload = serializers.serialize([Thing(), Thing()])
    assert payload.format == "pickle"
    assert "every leaf needs pickle" in payload.meta["pickle_reason"]
    cyclic: list[Any] = [np.ones(2)]
    cyclic.append(cyclic)
    payload = serializers.serialize(cyclic)
    assert payload.format == "pickle" and "cycle" in payload.meta["pickle_reason"]
    deep: Any = np.ones(1)
    for _ in range(MAX_DEPTH + 2):
        deep = [deep]
    payload = serializers.serialize(deep)
    assert payload.format == "pickle" and "deeper than" in payload.meta["pickle_reason"]
    with pytest.raises(UnsupportedTypeError, match="deeper than"):
        serializers.serialize(deep, allow_pickle=False)


def test_an_unstorable_leaf_is_named_by_its_path() -> None:
    with pytest.raises(UnsupportedTypeError, match="'a/gen'"):
        serializers.serialize({"w": np.ones(2), "a": {"gen": (i for i in range(3))}})


def test_a_class_not_imported_comes_back_as_a_dict_with_a_warning() -> None:
    def make() -> Any:
        @dataclasses.dataclass
        class Local:
            w: np.ndarray

        return Local(np.ones(2))

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        back, payload = roundtrip({"p": Point(np.ones(1), 2)})
    assert type(back["p"]) is Point
    with pytest.warns(ContainerRebuildWarning, match="plain dict"):
        back, payload = roundtrip(make())
    assert type(back) is dict and list(back) == ["w"]
    manifest = payload.meta["manifest"]
    assert manifest["tree"]["cls"].startswith(__name__ + ":")


def test_a_pickle_leaf_labelled_otherwise_in_a_hostile_manifest_is_refused() -> None:
    payload = serializers.serialize({"w": np.ones(2), "f": print})
    # pretend the store's writer hid the pickled leaf: the meta says nothing of trust
    meta = {k: v for k, v in payload.meta.items() if k not in ("unsafe", "pickled")}
    with pytest.raises(TrustError):
        serializers.deserialize("container", meta, MemoryReader(payload))


def test_a_manifest_that_does_not_match_its_segments_is_an_error() -> None:
    payload = serializers.serialize({"w": np.ones(2)})
    reader = MemoryReader(payload)
    head = reader.blobs[0]
    manifest = json.loads(head[8:])
    manifest["leaves"][0]["segments"] = 5
    body = json.dumps(manifest).encode()
    reader.blobs[0] = struct.pack("<Q", len(body)) + body
    with pytest.raises(SerializationError, match="segments"):
        serializers.deserialize("container", payload.meta, reader)
    manifest["leaves"][0]["segments"] = 2
    manifest["leaves"][0]["format"] = "container"
    body = json.dumps(manifest).encode()
    reader.blobs[0] = struct.pack("<Q", len(body)) + body
    with pytest.raises(SerializationError, match="cannot be a container"):
        serializers.deserialize("container", payload.meta, reader)


def test_leaf_changes_name_added_removed_and_changed_paths(project: Path) -> None:
    from mlvc_server import service

    value = {"w": np.ones(100), "b": np.zeros(3), "cfg": {"lr": 0.1}, "n": 3}
    a = mlvc.commit("a", variables={"v": value}, repo=project, sources=False)
    value2 = {"w": np.ones(100), "b": np.ones(3), "cfg": {"lr": 0.2}, "extra": np.arange(2)}
    b = mlvc.commit("b", variables={"v": value2}, repo=project, sources=False)
    store = service.workspace().store(project)
    changes = leaf_changes(
        service.format.read_manifest(store, a, "v"), service.format.read_manifest(store, b, "v")
    )
    assert changes == {
        "added": ["extra"],
        "removed": ["n"],
        "changed": ["b", "cfg"],
        "unchanged": ["w"],
    }


def test_many_small_leaves_are_packed_into_few_segments(project: Path) -> None:
    rng = np.random.default_rng(3)
    small = [rng.standard_normal(16) for _ in range(2000)]
    value = {"small": small, "big": rng.standard_normal(1 << 16)}
    payload = serializers.serialize(value)
    packs = [s for s in payload.segments if s.name.startswith("pack")]
    assert 1 <= len(packs) <= 3 and len(payload.segments) <= len(packs) + 3
    back, _ = commit_load(project, value)
    assert_same(back, value)
    # one small leaf changed: the manifest and one pack are written again, not the big leaf
    small[1500] = small[1500] + 1
    cid = mlvc.commit("again", variables={"v": value}, repo=project, sources=False)
    assert mlvc.show(cid, repo=project)["bytes_written"] <= 2 << 20
    assert_same(mlvc.load(cid, "v", repo=project)["small"][1500], small[1500])


def test_a_list_of_custom_objects_is_pickled_whole_early() -> None:
    class Item:
        def __init__(self, i: int) -> None:
            self.i = i

    payload = serializers.serialize([Item(i) for i in range(5000)] + [np.ones(3)])
    assert payload.format == "pickle"
    assert "first 64 leaves all need pickle" in payload.meta["pickle_reason"]


def test_enum_members_come_back_as_members_without_pickle(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for v in (Color.RED, Level.HIGH):
        back, payload = roundtrip(v)  # no trust needed
        assert payload.format == "container" and not payload.meta.get("unsafe")
        assert back is v
    value = {"color": Color.BLUE, "levels": [Level.LOW, Level.HIGH], "w": np.ones(2)}
    back, payload = roundtrip(value)
    assert payload.format == "container" and not payload.meta.get("unsafe")
    assert back["color"] is Color.BLUE and back["levels"] == [Level.LOW, Level.HIGH]
    assert back["levels"][1] is Level.HIGH and back["w"].tolist() == [1.0, 1.0]
    # the class gone from its module: the member comes back as its value, with a warning
    payload = serializers.serialize(Color.BLUE)
    monkeypatch.delattr(sys.modules[__name__], "Color")
    with pytest.warns(ContainerRebuildWarning, match="comes back as its value"):
        back = serializers.deserialize("container", payload.meta, MemoryReader(payload))
    assert back == "blue"
