"""Evaluations over REST (mlvc_server/server/evaluation.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier

from mlvc_server import service

from .conftest import Api


def models(root: Path) -> tuple[str, str]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2000, 2))
    df = pd.DataFrame(x, columns=["p", "q"])
    df["y"] = (x[:, 0] - x[:, 1] + rng.normal(scale=0.5, size=2000) > 0).astype(int)
    (root / "data").mkdir()
    df.to_csv(root / "data" / "test.csv", index=False)
    feats = df[["p", "q"]]
    nb = root / "train.ipynb"
    a = service.commit(
        "stump",
        {"m": DecisionTreeClassifier(max_depth=1).fit(feats, df.y)},
        notebook=nb,
        repo=root,
        sources=False,
    )
    b = service.commit(
        "logreg",
        {"m": LogisticRegression().fit(feats, df.y)},
        notebook=nb,
        repo=root,
        sources=False,
    )
    return a, b


async def test_post_runs_and_stores_an_evaluation_that_get_lists(
    api: Api, notebook: Path, jp_root_dir: Path
) -> None:
    a, b = models(jp_root_dir)

    report = await api.post(
        "evaluations",
        body={"a": a, "b": b, "data": "data/test.csv", "target": "y", "seed": 1},
    )
    assert report["type"] == "evaluate" and report["verdict"]["better"] == "b"
    assert report["metrics"]["accuracy"]["ci"][0] > 0
    listed = await api.get("evaluations")
    assert [e["id"] for e in listed["evaluations"]] == [report["id"]]
    shadow = await api.post(
        "evaluations", body={"type": "shadow", "a": a, "b": b, "data": "data/test.csv", "top": 2}
    )
    assert shadow["disagreement"]["rate"] > 0 and len(shadow["top"]) == 2
    log = await api.get("log")
    assert "evaluation" in [c.get("kind") for c in log["commits"]]


async def test_bad_requests_are_refused_with_the_reason(
    api: Api, notebook: Path, jp_root_dir: Path
) -> None:
    a, b = models(jp_root_dir)
    base = {"a": a, "b": b, "data": "data/test.csv", "target": "y"}

    code, err = await api.error("POST", "evaluations", body={**base, "target": "label"})
    assert code == 422 and "label" in err["message"]
    code, err = await api.error("POST", "evaluations", body={**base, "data": "../etc/passwd"})
    assert code == 400 and ".." in err["message"]
    code, err = await api.error("POST", "evaluations", body={**base, "data": "/etc/passwd"})
    assert code == 400
    code, err = await api.error("POST", "evaluations", body={**base, "level": 2})
    assert code == 400 and "level" in err["message"]
    code, err = await api.error("POST", "evaluations", body={**base, "b": "nope"})
    assert code == 404
    code, err = await api.error("POST", "evaluations", body={**base, "metrics": "accuracy"})
    assert code == 400
    code, err = await api.error("POST", "evaluations", body={**base, "colour": 1})
    assert code == 400 and "unknown field" in err["message"]
    assert (await api.get("evaluations"))["evaluations"] == []
