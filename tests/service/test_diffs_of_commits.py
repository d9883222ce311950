"""Diffs of stored commits as the service returns them (mlvc_server/service/diffs.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import mlvc_server as mlvc

from .conftest import write_nb


def test_diff_sections(project: Path) -> None:
    (project / "data.csv").write_text("a,b\n1,2\n")
    w = np.linspace(0, 1, 1000)
    c1 = mlvc.commit(
        "one",
        variables={"w": w, "C": 1.0},
        notebook="train.ipynb",
        params={"C": 1.0, "max_iter": 100},
        metrics={"acc": 0.951},
        data=["data.csv"],
    )
    w2 = w.copy()
    w2[:100] += 0.5
    (project / "data.csv").write_text("a,b\n1,2\n3,4\n")
    write_nb(project / "train.ipynb", "import numpy as np", "X = np.arange(20)", "print(X)")
    c2 = mlvc.commit(
        "two",
        variables={"w": w2, "C": 0.5, "new": 1},
        notebook="train.ipynb",
        params={"C": 0.5, "max_iter": 100},
        metrics={"acc": 0.962},
        data=["data.csv"],
    )
    d = mlvc.diff(c1, c2)
    assert d["a"]["id"] == c1 and d["b"]["id"] == c2
    params = {e["key"]: e for e in d["params"]}
    assert params["C"]["status"] == "changed" and params["C"]["delta"] == -0.5
    assert params["max_iter"]["status"] == "unchanged"
    assert d["metrics"][0]["delta"] == pytest.approx(0.011)
    var = {v["name"]: v for v in d["variables"]}
    assert var["w"]["status"] == "changed"
    assert var["w"]["fraction_changed"] == pytest.approx(0.1)
    assert var["w"]["max_abs_diff"] == pytest.approx(0.5)
    assert var["C"]["a"]["value"] == 1.0 and var["C"]["b"]["value"] == 0.5
    assert var["new"]["status"] == "added"
    assert d["data"][0]["status"] == "changed"
    assert d["notebook"]["status"] == "changed"
    assert d["notebook"]["cells"] == {"added": 1, "removed": 0, "modified": 1, "outputs_changed": 0}
    assert set(d) >= {"params", "metrics", "variables", "data", "env", "hardware", "notebook"}
    json.dumps(d)  # the REST API sends it as is
    view = d["notebook"]["cell_view"]
    assert [c["status"] for c in view] == ["unchanged", "modified", "added"]
    assert view[1]["lines"] == [["-", "X = np.arange(10)"], ["+", "X = np.arange(20)"]]
    assert view[2]["b"]["source"] == "print(X)" and "a" not in view[2]
    fast = mlvc.diff(c1, c2, cells=False)
    assert "diff" not in fast["notebook"]


def test_cell_view_pairs_cells_and_keeps_outputs_small() -> None:
    import nbdime
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

    from mlvc_server.service.diffs import OUTPUT_TEXT_LIMIT, cell_view

    def out(text: str) -> Any:
        return new_output("stream", name="stdout", text=text)

    a = new_notebook(
        cells=[
            new_markdown_cell("# Title"),
            new_code_cell("gone = 1"),
            new_code_cell("print(acc)", execution_count=1, outputs=[out("0.91\n")]),
            new_code_cell("x = 1\ny = 2"),
            new_code_cell("big()", outputs=[out("z" * (OUTPUT_TEXT_LIMIT + 50))]),
        ]
    )
    b = new_notebook(
        cells=[
            new_markdown_cell("# Title"),
            new_code_cell("print(acc)", execution_count=2, outputs=[out("0.95\n")]),
            new_code_cell("x = 1\ny = 3"),
            new_code_cell("new()"),
            new_code_cell("big()", outputs=[out("z" * (OUTPUT_TEXT_LIMIT + 50))]),
        ]
    )
    view = cell_view(a, b, nbdime.diff_notebooks(a, b))
    statuses = [c["status"] for c in view]
    assert statuses == ["unchanged", "removed", "outputs", "modified", "added", "unchanged"]
    assert view[1]["a"]["source"] == "gone = 1"
    assert view[2]["a"]["outputs"][0]["text"] == "0.91\n"
    assert view[2]["b"]["execution_count"] == 2
    assert view[3]["lines"] == [[" ", "x = 1"], ["-", "y = 2"], ["+", "y = 3"]]
    assert len(view[5]["b"]["outputs"][0]["text"]) == OUTPUT_TEXT_LIMIT


def test_diff_of_a_notebook_that_is_not_nbformat_says_so(project: Path) -> None:
    (project / "train.ipynb").write_text('{"cells": "nope"}')
    a = mlvc.commit("a", notebook="train.ipynb")
    (project / "train.ipynb").write_text('{"cells": "still nope"}')
    b = mlvc.commit("b", notebook="train.ipynb")
    nb = mlvc.diff(a, b)["notebook"]
    assert nb["status"] == "changed" and "cannot be compared" in nb["error"]
