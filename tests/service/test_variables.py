"""Variables (mlvc_server/service/variables.py): exact round trips and trust."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import mlvc_server as mlvc
from mlvc_server.errors import (
    TrustError,
    VariableNotFoundError,
)


def test_restore_and_load_exact(project: Path) -> None:
    a = np.arange(12, dtype=np.int32).reshape(3, 4)
    cid = mlvc.commit("v1", variables={"a": a, "cfg": {"depth": 3, "act": "relu"}})
    mlvc.commit("v2", variables={"a": a * 2, "cfg": {"depth": 4, "act": "relu"}})
    got = mlvc.restore(cid)
    assert set(got) == {"a", "cfg"}
    assert got["a"].dtype == np.int32 and np.array_equal(got["a"], a)
    assert got["cfg"] == {"depth": 3, "act": "relu"}
    assert np.array_equal(mlvc.load("HEAD", "a"), a * 2)
    assert np.array_equal(mlvc.load("HEAD~1", "a"), a)
    assert mlvc.restore(cid, ["cfg"]) == {"cfg": {"depth": 3, "act": "relu"}}
    with pytest.raises(VariableNotFoundError):
        mlvc.load(cid, "nope")


def test_pickle_needs_trust_unless_signed_by_this_user(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Thing:
        def __init__(self) -> None:
            self.x = 42

    cid = mlvc.commit("p", variables={"t": Thing()})
    assert mlvc.show(cid)["variables"]["t"]["format"] == "pickle"
    assert mlvc.load(cid, "t").x == 42  # signed by us
    # another user (another key) must say they trust it
    monkeypatch.setenv("MLVC_CONFIG_DIR", str(project / "other-user"))
    with pytest.raises(TrustError, match="did not write"):
        mlvc.load(cid, "t")
    assert mlvc.load(cid, "t", trust=True).x == 42


def test_a_live_torch_model_is_restored_into_its_own_memory(project: Path) -> None:
    torch = pytest.importorskip("torch")
    from mlvc_server import service

    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
    before = {k: v.detach().clone() for k, v in model.state_dict().items()}
    cid = service.commit("model", {"model": model}, repo=project)
    ptrs = {k: v.data_ptr() for k, v in model.state_dict().items()}
    with torch.no_grad():
        for p in model.parameters():
            p.add_(1.0)

    loaded = service.load_many(
        service.workspace().store(project), cid, ["model"], trusted=False, live={"model": model}
    )

    assert loaded.values["model"] is model and not loaded.failed
    for k, v in model.state_dict().items():
        assert v.data_ptr() == ptrs[k]
        assert torch.equal(v, before[k])
