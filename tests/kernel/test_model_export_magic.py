"""``%mlvc model export`` in a real kernel: the kernel's committed model, by registry
name, to a folder beside the notebook; a refusal is one red line."""

from __future__ import annotations

import json
from typing import Any

import pytest
from harness import Kernel

SETUP = """
%load_ext mlvc_server
import numpy as np
from sklearn.linear_model import LogisticRegression
rng = np.random.default_rng(0)
X = rng.normal(size=(100, 3)); y = (X[:, 0] > 0).astype(int)
clf = LogisticRegression().fit(X, y)
"""


@pytest.fixture(scope="module")
def k(kernel_factory: Any) -> Kernel:
    pytest.importorskip("sklearn")
    k = kernel_factory()
    k.run(SETUP)
    k.run("%mlvc commit -m fit --metric auc=0.9")
    k.run("%mlvc model register churn HEAD clf")
    return k


def test_export_from_the_kernel(k: Kernel) -> None:
    out = k.run("%mlvc model export churn@1 served --format native").stdout
    assert out.startswith("Exported churn version 1 (clf of ") and "reload check: identical" in out
    assert (k.project / "served/model/clf.sklearn-state").is_file()
    got = json.loads(k.run("%mlvc model export HEAD:clf served2 --format native --json").stdout)
    assert got["model"]["variable"] == "clf" and got["checks"]["reload"]["ok"]
    assert got["path"] == str(k.project / "served2")


def test_a_refused_export_is_one_red_line(k: Kernel) -> None:
    refused = k.run("%mlvc model export HEAD:X served3 --format mlflow", ok=False)
    assert refused.error is not None and "no predict method" in refused.error["evalue"]
    assert not (k.project / "served3").exists()
