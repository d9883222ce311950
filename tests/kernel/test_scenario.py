"""The data scientist's scenario in a real kernel: train, commit, change C, retrain,
commit, diff, restore the first model, and the CSV it read shows up as data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import mlvc_server as mlvc
from mlvc_server.capture import hash_file

TRAIN = """
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

df = pd.read_csv("data/train.csv")
X = StandardScaler().fit_transform(df.drop(columns="target").to_numpy())
y = df["target"].to_numpy()
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
"""

FIT = """
clf = LogisticRegression(C=C, max_iter=1000).fit(X_train, y_train)
acc = float(clf.score(X_test, y_test))
"""


@pytest.fixture(scope="module")
def scenario(kernel_factory: Any) -> dict[str, Any]:
    """Train on breast cancer data read from a CSV, commit, change C, retrain, commit."""
    from sklearn.datasets import load_breast_cancer

    k = kernel_factory()
    csv = k.project / "data" / "train.csv"
    csv.parent.mkdir()
    load_breast_cancer(as_frame=True).frame.to_csv(csv, index=False)
    k.run("%load_ext mlvc_server")
    k.run(TRAIN + "C = 1.0\n" + FIT + "p_first = clf.predict_proba(X_test)")
    first = k.run("%mlvc commit -m first --metric acc={acc}")
    k.run("C = 0.001\n" + FIT)
    second = k.run("%mlvc commit -m second --metric acc={acc}")
    log = mlvc.log(repo=k.project, notebook=k.project / "train.ipynb")
    return {"k": k, "csv": csv, "first": first, "second": second, "log": log}


def test_commits_are_recorded(scenario: dict[str, Any]) -> None:
    log = scenario["log"]
    assert [c["message"] for c in log] == ["second", "first"]
    assert f"Committed {log[1]['short_id']} on main" in scenario["first"].stdout
    assert log[0]["metrics"]["acc"] < log[1]["metrics"]["acc"]
    assert {"clf", "C", "X_train", "p_first"} <= set(log[1]["variables"])


def test_diff_shows_hyperparameter_metric_and_model(scenario: dict[str, Any]) -> None:
    k, log = scenario["k"], scenario["log"]
    d = mlvc.diff(log[1]["id"], log[0]["id"], repo=k.project, notebook=k.project / "train.ipynb")
    acc = next(e for e in d["metrics"] if e["key"] == "acc")
    assert acc["status"] == "changed" and acc["delta"] < 0
    variables = {v["name"]: v for v in d["variables"]}
    assert variables["C"]["status"] == "changed"
    assert (variables["C"]["a"]["value"], variables["C"]["b"]["value"]) == (1.0, 0.001)
    assert variables["clf"]["status"] == "changed"
    assert {k: v for k, v in variables["clf"]["params"][0].items() if k != "delta"} == {
        "key": "C",
        "status": "changed",
        "a": 1.0,
        "b": 0.001,
    }
    assert variables["X_train"]["status"] == "unchanged"

    shown = k.run("%mlvc diff").text
    lines = {line.split()[0]: line for line in shown.splitlines() if line.strip()}
    assert "acc" in lines["Metrics"] and "→" in lines["Metrics"]
    variables_text = shown.split("Variables", 1)[1]
    assert "C" in variables_text and "0.001" in variables_text
    assert "clf" in variables_text


def test_restore_first_model_gives_identical_predictions(scenario: dict[str, Any]) -> None:
    k, log = scenario["k"], scenario["log"]
    out = k.run(f"%mlvc restore {log[1]['short_id']} clf")
    assert f"Restored clf from {log[1]['short_id']}" in out.stdout
    assert k.value("bool(np.array_equal(clf.predict_proba(X_test), p_first))") is True
    assert k.value("C") == 0.001  # only clf was restored


def test_csv_read_with_pandas_is_in_the_commit_data(scenario: dict[str, Any]) -> None:
    k, log, csv = scenario["k"], scenario["log"], scenario["csv"]
    for c in log:
        data = mlvc.show(c["id"], repo=k.project, notebook=k.project / "train.ipynb")["data"]
        # the CSV only: not the notebook, sklearn's own files, or the kernel's .py imports
        assert list(data) == ["data/train.csv"]
        assert data["data/train.csv"]["hash"] == hash_file(csv)
        assert data["data/train.csv"]["size"] == csv.stat().st_size


def test_editing_the_csv_shows_in_status(scenario: dict[str, Any]) -> None:
    k, csv = scenario["k"], scenario["csv"]
    before = k.run("%mlvc status").stdout
    assert "Data: no changes; 1 unchanged" in before
    lines = csv.read_text().splitlines(keepends=True)
    csv.write_text("".join([*lines, lines[-1]]))  # one more row
    after = k.run("%mlvc status").stdout
    assert "Data: 1 changed (data/train.csv)" in after
    assert "Variables: 1 changed (clf)" in after  # the restored first model


def test_no_frontend_commit_records_when_the_notebook_was_saved(
    scenario: dict[str, Any],
) -> None:
    k, log = scenario["k"], scenario["log"]
    rec = mlvc.show(log[1]["id"], repo=k.project, notebook=k.project / "train.ipynb")
    assert rec["notebook"] == "train.ipynb"
    assert rec["notebook_saved_at"]
    assert rec["kernel"]["language"] == "python"
    assert Path(k.project / ".mlvc" / "HEAD").is_file()
