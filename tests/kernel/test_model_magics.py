"""``%mlvc model ...`` in a real kernel: register the kernel's model, gated promotion,
load it back with ``mlvc.load_model``; a refusal is one red line."""

from __future__ import annotations

import json
from typing import Any

import pytest
from harness import Kernel

from mlvc_server.service import registry

SETUP = """
%load_ext mlvc_server
import numpy as np
from sklearn.linear_model import LogisticRegression
rng = np.random.default_rng(0)
X = rng.normal(size=(200, 2)); y = (X[:, 0] > 0).astype(int)
clf = LogisticRegression().fit(X, y)
"""


@pytest.fixture(scope="module")
def k(kernel_factory: Any) -> Kernel:
    k = kernel_factory()
    k.run(SETUP)
    k.run("%mlvc commit -m first --metric auc=0.7")
    k.run("clf = LogisticRegression(C=0.1).fit(X, y)")
    k.run("%mlvc commit -m second --metric auc=0.9")
    return k


def test_register_promote_and_load_in_the_kernel(k: Kernel) -> None:
    out = k.run("%mlvc model register churn HEAD~1 clf -m baseline").stdout
    assert out.startswith("Registered churn version 1") and "(sklearn)" in out
    reply = k.run("%mlvc model register churn HEAD clf --json")
    got = json.loads(reply.stdout)
    assert got["version"] == 2 and got["notebook"] == "train.ipynb"  # the kernel's notebook
    k.run('%mlvc model gates churn --alias production --metrics "metrics.auc >= 0.8"')

    refused = k.run('%mlvc model promote churn 1 --alias production --reason "try"', ok=False)
    assert refused.error is not None and refused.error["ename"] == "MlvcCommandError"
    assert "metrics gate failed" in refused.error["evalue"]
    dry = k.run("%mlvc model promote churn 1 --alias production --reason x --dry-run", ok=False)
    assert "would be refused" in dry.stdout and "FAILED metrics" in dry.stdout

    done = k.run('%mlvc model promote churn 2 --alias production --reason "auc 0.9"').stdout
    assert done.startswith("Promoted churn version 2 to production")
    assert registry.resolve("churn@production", repo=k.project)["version"] == 2
    # the Python facade loads it (sklearn: a safe format, no trust needed)
    assert k.value("type(__import__('mlvc_server').load_model('churn@production')).__name__") == (
        "LogisticRegression"
    )
    assert k.value("__import__('mlvc_server').load_model('churn@production').C") == 0.1

    history = k.run("%mlvc model history churn").stdout.splitlines()
    assert [line.split()[3] for line in history] == ["promote", "gates", "register", "register"]
    shown = k.run("%mlvc model show churn").stdout
    assert "production -> version 2" in shown
    assert "churn" in k.run("%mlvc model list").stdout


def test_bad_input_is_a_usage_error_or_one_red_line(k: Kernel) -> None:
    missing = k.run("%mlvc model show nope", ok=False)
    assert missing.error is not None and "no registered model 'nope'" in missing.error["evalue"]
    usage = k.run("%mlvc model promote churn 1", ok=False)
    assert usage.error is not None and usage.error["ename"] == "UsageError"
