"""Params from ``parameters`` cells and metrics by name (capture/params.py)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from mlvc_server.capture.params import (
    DEFAULT_METRIC_NAMES,
    assigned_names,
    is_metric_name,
    metric_names,
    notebook_params,
    parameter_names,
    scalar_metrics,
)


def nb(*cells: tuple[str, list[str]]) -> dict[str, object]:
    return {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {},
        "cells": [
            {"cell_type": "code", "source": src, "metadata": {"tags": tags}, "outputs": []}
            for src, tags in cells
        ],
    }


def test_assigned_names_reads_assignments_without_running_anything() -> None:
    src = (
        "%matplotlib inline\nlr: float = 0.1\na, (b, *c) = 1, (2, 3)\nn += 1\nprint(x)\nimport os\n"
    )
    assert assigned_names(src) == ["lr", "a", "b", "c", "n"]
    assert assigned_names("def f(:\n") == []
    assert assigned_names("if True:\n    hidden = 1\nobj.attr = 2\nd['k'] = 3") == []


def test_parameter_names_only_from_tagged_cells(tmp_path: Path) -> None:
    book = nb(
        ("C = 1.0\nname = 'run'", ["parameters"]),
        ("C = 5.0\nseed = 7", ["injected-parameters"]),
        ("not_a_param = 3", []),
        (["lr = 0.1\n", "epochs = 3"], ["parameters", "other"]),
    )
    assert parameter_names(book) == ["C", "name", "seed", "lr", "epochs"]
    path = tmp_path / "a.ipynb"
    path.write_text(json.dumps(book))
    assert parameter_names(path) == parameter_names(path.read_bytes())
    assert parameter_names(tmp_path / "missing.ipynb") == []
    assert parameter_names(b"not json") == []


def test_notebook_params_are_current_json_scalars() -> None:
    book = nb(("C = 1.0\nname = 'x'\narr = [1]\nlr = 0\nmissing = 1\nbig = 1", ["parameters"]))
    ns = {
        "C": 0.5,  # changed since the cell ran: the current value counts
        "name": "x",
        "arr": [1],
        "lr": np.float32(0.25),
        "big": float("nan"),
    }
    assert notebook_params(book, ns) == {"C": 0.5, "name": "x", "lr": 0.25}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("acc", True),
        ("ACC", True),
        ("val_acc", True),
        ("test_loss", True),
        ("f1", True),
        ("accumulate", False),
        ("lossy", False),
        ("model", False),
    ],
)
def test_metric_names_match_words(name: str, expected: bool) -> None:
    assert is_metric_name(name, DEFAULT_METRIC_NAMES) is expected


def test_metrics_are_finite_numbers_named_like_metrics(monkeypatch: pytest.MonkeyPatch) -> None:
    ns = {
        "acc": 0.9,
        "val_loss": np.float64(0.1),
        "f1": True,  # a bool is no metric
        "loss": lambda: 0,  # nor a function
        "auc": float("inf"),
        "recall": np.array([0.1, 0.2]),
        "_acc": 1.0,
        "lr": 0.1,
    }
    assert scalar_metrics(ns, DEFAULT_METRIC_NAMES) == {"acc": 0.9, "val_loss": 0.1}
    assert scalar_metrics(ns, ["*_loss"]) == {"val_loss": 0.1}
    monkeypatch.setenv("MLVC_METRIC_NAMES", "lr, score")
    assert metric_names() == ("lr", "score")
    assert scalar_metrics(ns, metric_names()) == {"lr": 0.1}
    monkeypatch.setenv("MLVC_METRIC_NAMES", "")
    assert scalar_metrics(ns, metric_names()) == {}
    assert metric_names(["Acc"]) == ("acc",)
