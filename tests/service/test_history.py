"""History (mlvc_server/service/history.py): log order and per-notebook histories."""

from __future__ import annotations

from pathlib import Path

import pytest

import mlvc_server as mlvc
from mlvc_server import service

from .conftest import write_nb


def test_per_notebook_histories_do_not_mix(project: Path) -> None:
    write_nb(project / "other.ipynb", "y = 2")
    a1 = mlvc.commit("train 1", notebook="train.ipynb")
    b1 = mlvc.commit("other 1", notebook="other.ipynb")
    a2 = mlvc.commit("train 2", notebook="train.ipynb")
    assert [c["id"] for c in mlvc.log(notebook="train.ipynb")] == [a2, a1]
    assert [c["id"] for c in mlvc.log(notebook="other.ipynb")] == [b1]
    assert {c["id"] for c in mlvc.log()} == {a1, a2, b1}
    assert mlvc.log(notebook="train.ipynb")[0]["parents"] == [a1]


def test_log_lists_children_before_parents_within_one_second(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Commit times are whole seconds: many commits share one. The log must still be
    # topological (the panel draws its graph from that order).
    monkeypatch.setattr(service.commits.time, "time", lambda: 1_800_000_000.25)
    base = mlvc.commit("base", variables={"x": 0}, notebook="train.ipynb")
    for k in range(8):
        service.branch(f"b{k}", base, notebook="train.ipynb")
        for j in range(2):
            mlvc.commit(f"b{k}.{j}", variables={"x": k * 10 + j}, notebook="train.ipynb")
    service.switch_branch("main", notebook="train.ipynb")
    for j in range(3):
        mlvc.commit(f"main {j}", variables={"x": -j}, notebook="train.ipynb")
    order = mlvc.log(notebook="train.ipynb")
    assert len(order) == 1 + 8 * 2 + 3
    position = {c["id"]: i for i, c in enumerate(order)}
    for c in order:
        for p in c["parents"]:
            assert position[p] > position[c["id"]], f"{c['message']} listed after its parent"
    assert "gen" not in order[0] and "ts" not in order[0]
