"""Status (mlvc_server/service/state.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import mlvc_server as mlvc

from .conftest import write_nb


def test_status_sees_changed_notebook_data_and_variables(project: Path) -> None:
    (project / "d.csv").write_text("x\n1\n")
    a = np.arange(100_000.0)
    mlvc.commit("one", variables={"a": a, "b": 2}, notebook="train.ipynb", data=["d.csv"])
    st = mlvc.status(notebook="train.ipynb", variables={"a": a, "b": 3, "c": 1})
    assert st["branch"] == "main" and st["notebook"]["changed"] is False
    assert st["variables"] == {"a": "unchanged", "b": "changed", "c": "added"}
    assert st["data"] == {"d.csv": "unchanged"}
    (project / "d.csv").write_text("x\n2\n")
    write_nb(project / "train.ipynb", "edited")
    st = mlvc.status(notebook="train.ipynb")
    assert st["data"] == {"d.csv": "changed"} and st["notebook"]["changed"] is True
