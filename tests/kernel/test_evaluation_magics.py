"""``%mlvc evaluate``, ``shadow``, ``canary`` and ``evaluations`` in a real kernel: the
report as HTML with its text as ``text/plain``; bad input is one red line."""

from __future__ import annotations

from typing import Any

import pytest
from harness import Kernel

from mlvc_server.service import evaluation

SETUP = """
%load_ext mlvc_server
import numpy as np, pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier
rng = np.random.default_rng(0)
df = pd.DataFrame(rng.normal(size=(1500, 2)), columns=["u", "v"])
df["y"] = (df.u - df.v + rng.normal(scale=0.7, size=1500) > 0).astype(int)
df.to_parquet("test.parquet")
del rng
model = DecisionTreeClassifier(max_depth=1).fit(df[["u", "v"]], df.y)
"""


@pytest.fixture(scope="module")
def k(kernel_factory: Any) -> Kernel:
    k = kernel_factory()
    k.run(SETUP)
    k.run("%mlvc commit -m stump")
    k.run("model = LogisticRegression().fit(df[['u', 'v']], df.y)")
    k.run("%mlvc commit -m logreg")
    return k


def test_evaluate_shows_the_report_as_html_and_text(k: Kernel) -> None:
    reply = k.run("%mlvc evaluate HEAD~1 HEAD --data test.parquet --target y --seed 2")

    (shown,) = reply.displays
    html, text = shown["data"]["text/html"], shown["data"]["text/plain"]
    assert 'aria-label="evaluation metrics"' in html and "<svg" in html
    assert "B is better at the 95% level" in html and "exact McNemar" in html
    assert text.splitlines()[-1].startswith("verdict: B is better")
    (stored,) = evaluation.evaluations(repo=k.project)
    assert stored["verdict"]["better"] == "b"


def test_shadow_canary_and_the_list(k: Kernel) -> None:
    shadow = k.run("%mlvc shadow HEAD~1 HEAD --inputs test.parquet --top 2 --latency-rows 5")
    assert "disagreement:" in shadow.displays[0]["data"]["text/plain"]
    canary = k.run(
        "%mlvc canary HEAD~1 HEAD --stream test.parquet --target y --fraction 0.5 --seed 1"
    )
    assert "confidence sequence" in canary.displays[0]["data"]["text/plain"]
    listed = k.run("%mlvc evaluations")
    assert [line.split()[1] for line in listed.stdout.splitlines()[1:]] == [
        "canary",
        "shadow",
        "evaluate",
    ]


def test_bad_input_is_one_red_line(k: Kernel) -> None:
    reply = k.run("%mlvc evaluate HEAD~1 HEAD --data test.parquet --target label", ok=False)

    assert reply.status == "error"
    assert reply.error is not None and reply.error["ename"] == "MlvcCommandError"
    assert "no target column 'label'" in reply.error["evalue"]
