"""Evaluations travel with push, pull and clone (refs/mlvc/evaluations/...)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier

import mlvc_server as mlvc
from mlvc_server import service
from mlvc_server.service import evaluation

from .conftest import bare, git


def test_push_clone_and_pull_carry_evaluations(project: Path, tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.normal(size=(800, 2)), columns=["u", "v"])
    df["y"] = (df.u + rng.normal(scale=0.5, size=800) > 0).astype(int)
    df.to_csv(project / "test.csv", index=False)
    feats = df[["u", "v"]]
    a = mlvc.commit(
        "stump", {"m": DecisionTreeClassifier(max_depth=1).fit(feats, df.y)}, repo=project
    )
    b = mlvc.commit("logreg", {"m": LogisticRegression().fit(feats, df.y)}, repo=project)
    first = evaluation.evaluate(a, b, data=project / "test.csv", target="y", seed=0, repo=project)
    url = str(bare(tmp_path / "team.git"))
    service.remote_add("origin", url, repo=project)

    pushed = service.push(repo=project)

    kinds = {r["kind"]: r["status"] for r in pushed["refs"]}
    assert kinds == {"branch": "created", "evaluation": "created"}
    assert first["id"] in git(Path(url), "for-each-ref", "refs/mlvc/evaluations")
    clone = Path(service.clone(url, tmp_path / "clone")["path"])
    assert [e["id"] for e in evaluation.evaluations(repo=clone)] == [first["id"]]
    assert evaluation.latest(a, b, repo=clone)["verdict"] == first["verdict"]

    second = evaluation.shadow(a, b, inputs=project / "test.csv", latency_rows=5, repo=project)
    assert service.push(repo=project)["rejected"] == 0
    pulled = service.pull(repo=clone)
    assert {r["name"]: r["status"] for r in pulled["refs"] if r["kind"] == "evaluation"} == {
        first["id"]: "up-to-date",
        second["id"]: "created",
    }
    assert {e["id"] for e in evaluation.evaluations(repo=clone)} == {first["id"], second["id"]}
    assert service.log(repo=clone)[0]["kind"] == "evaluation"
