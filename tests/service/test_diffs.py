"""The diff module on its own (mlvc_server/service/diffs.py): dict diffs, cell counts,
cell alignment and the diff of two stored commits."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nbformat
import numpy as np

from mlvc_server import service
from mlvc_server.service.diffs import cell_counts, cell_view, dict_diff, diff_commits


def test_dict_diff_names_every_key_with_a_delta_for_numbers_only() -> None:
    got = dict_diff(
        {"C": 1.0, "kernel": "rbf", "flag": True, "gone": 1},
        {"C": 0.25, "kernel": "rbf", "flag": False, "new": 3},
    )
    by_key = {e["key"]: e for e in got}
    assert [e["key"] for e in got] == ["C", "kernel", "flag", "gone", "new"]
    assert by_key["C"] == {"key": "C", "status": "changed", "a": 1.0, "b": 0.25, "delta": -0.75}
    assert by_key["kernel"]["status"] == "unchanged"
    assert by_key["flag"]["status"] == "changed" and "delta" not in by_key["flag"]  # bools
    assert by_key["gone"] == {"key": "gone", "status": "removed", "a": 1, "b": None}
    assert by_key["new"] == {"key": "new", "status": "added", "a": None, "b": 3}


def _nb(cells: list[tuple[str, str, list[str]]]) -> bytes:
    nb = nbformat.v4.new_notebook()
    for cid, src, outs in cells:
        c = nbformat.v4.new_code_cell(src)
        c["id"] = cid
        c["outputs"] = [nbformat.v4.new_output("stream", text=o) for o in outs]
        nb.cells.append(c)
    return nbformat.writes(nb).encode()


def test_cell_counts_by_id() -> None:
    old = _nb([("a", "x = 1", []), ("b", "y = 2", []), ("c", "print(1)", [])])
    new = _nb([("a", "x = 10", []), ("c", "print(1)", ["1"]), ("d", "z", [])])
    assert cell_counts(old, new) == {"added": 1, "removed": 1, "modified": 1, "outputs_changed": 1}
    assert cell_counts(None, new)["added"] == 3
    assert cell_counts(b"not json", new)["added"] == 3


def test_cell_view_aligns_cells_and_diffs_lines() -> None:
    import nbdime

    a = nbformat.reads(_nb([("a", "x = 1\ny = 2", []), ("b", "keep", [])]).decode(), 4)
    b = nbformat.reads(
        _nb([("a", "x = 1\ny = 3", []), ("b", "keep", ["out"]), ("c", "new", [])]).decode(), 4
    )
    view = cell_view(a, b, nbdime.diff_notebooks(a, b))
    assert [e["status"] for e in view] == ["modified", "outputs", "added"]
    assert [" ", "x = 1"] in view[0]["lines"]
    assert ["-", "y = 2"] in view[0]["lines"] and ["+", "y = 3"] in view[0]["lines"]


def test_diff_of_two_commits_with_and_without_cells_agree_on_counts(project: Path) -> None:
    nb = project / "train.ipynb"
    nb.write_bytes(_nb([("a", "C = 1.0", [])]))
    a = service.commit("a", {"w": np.zeros(8), "C": 1.0}, repo=project, notebook=nb)
    nb.write_bytes(_nb([("a", "C = 0.5", []), ("b", "fit()", [])]))
    b = service.commit("b", {"w": np.ones(8), "C": 0.5}, repo=project, notebook=nb)
    store = service.workspace().store(project)

    full = diff_commits(store, a, b)
    fast = diff_commits(store, a, b, cells=False)

    assert full["notebook"]["cells"] == fast["notebook"]["cells"]
    assert fast["notebook"]["cells"]["added"] == 1 and "cell_view" not in fast["notebook"]
    variables = {v["name"]: v for v in full["variables"]}
    assert variables["w"]["status"] == "changed"
    assert variables["w"]["fraction_changed"] == 1.0 and variables["w"]["max_abs_diff"] == 1.0
    assert variables["C"]["status"] == "changed"
    assert (full["a"]["id"], full["b"]["id"]) == (a, b)
    assert json.loads(json.dumps(full)) == full  # plain JSON, as the REST API sends it


def test_notebook_diffs_have_limits(project: Path, monkeypatch: Any) -> None:
    from mlvc_server.service import diffs

    nb = project / "train.ipynb"
    nb.write_bytes(_nb([(f"c{i}", f"x = {i}", []) for i in range(30)]))
    a = service.commit("a", repo=project, notebook=nb)
    nb.write_bytes(_nb([(f"c{i}", f"x = {i + 1}", []) for i in range(30)]))
    b = service.commit("b", repo=project, notebook=nb)
    store = service.workspace().store(project)

    monkeypatch.setattr(diffs, "MAX_CELL_DIFF_CELLS", 10)
    many = diff_commits(store, a, b)["notebook"]
    assert many["cells"]["modified"] == 30 and "cell_view" not in many
    assert "counted by cell id" in many["limit"]

    monkeypatch.setattr(diffs, "MAX_NOTEBOOK_DIFF_BYTES", 1000)
    big = diff_commits(store, a, b)["notebook"]
    assert big["status"] == "changed" and "cells" not in big and "MiB" in big["limit"]
