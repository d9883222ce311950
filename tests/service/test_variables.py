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
