"""Tracked patterns kept per notebook in the store, and the cell summary of ``status``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import mlvc_server as mlvc
from mlvc_server.errors import MlvcError
from mlvc_server.kernel import tracking
from mlvc_server.service import cell_counts as _cell_changes


def test_patterns_are_kept_per_notebook(tmp_path: Path) -> None:
    mlvc.init(tmp_path)
    assert tracking.track(tmp_path, "exp/a.ipynb", "data/*.csv")
    assert not tracking.track(tmp_path, "exp/a.ipynb", "data/*.csv")
    assert tracking.track(tmp_path, "exp/a.ipynb", "raw")
    assert tracking.tracked(tmp_path, "exp/a.ipynb") == ["data/*.csv", "raw"]
    assert tracking.tracked(tmp_path, "b.ipynb") == []
    assert tracking.tracked(tmp_path, None) == []
    assert tracking.untrack(tmp_path, "exp/a.ipynb", "raw")
    assert not tracking.untrack(tmp_path, "exp/a.ipynb", "raw")
    stored = tmp_path / ".mlvc" / "mlvc" / "track" / "exp%2Fa.ipynb.json"
    assert json.loads(stored.read_text()) == {"patterns": ["data/*.csv"]}


def test_patterns_are_made_relative_to_the_project(tmp_path: Path) -> None:
    sub = tmp_path / "exp"
    assert tracking.normalize("data/*.csv", tmp_path, sub) == "exp/data/*.csv"
    assert tracking.normalize("../shared/x.csv", tmp_path, sub) == "shared/x.csv"
    assert tracking.normalize(str(tmp_path / "a.csv"), tmp_path, sub) == "a.csv"
    with pytest.raises(MlvcError, match="outside the project"):
        tracking.normalize("../../etc/passwd", tmp_path, sub)


def test_existing_splits_patterns_that_match_nothing(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "a.csv").write_text("1")
    (tmp_path / "empty").mkdir()
    found, empty = tracking.existing(
        tmp_path, ["data/*.csv", "data", "data/a.csv", "empty", "none/*.csv"]
    )
    assert found == ["data/*.csv", "data", "data/a.csv"]
    assert empty == ["empty", "none/*.csv"]


def _nb(cells: list[tuple[str, str, list[str]]]) -> bytes:
    return json.dumps(
        {"cells": [{"id": i, "source": s, "outputs": o} for i, s, o in cells]}
    ).encode()


def test_cell_changes_by_id() -> None:
    old = _nb([("a", "x = 1", []), ("b", "y = 2", []), ("c", "print(1)", [])])
    new = _nb([("a", "x = 10", []), ("c", "print(1)", ["1"]), ("d", "z", [])])
    assert _cell_changes(old, new) == {
        "added": 1,
        "removed": 1,
        "modified": 1,
        "outputs_changed": 1,
    }
    assert _cell_changes(None, new)["added"] == 3
