"""``mlvc model ...`` as a terminal or CI job runs it: text and --json, exit status 1 on
a refused promotion or a dry run whose gates fail."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import mlvc_server as mlvc
from mlvc_server import cli


class Result:
    def __init__(self, returncode: int, stdout: str, stderr: str) -> None:
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


_capsys: pytest.CaptureFixture[str] | None = None


def run(cwd: Path, *args: str, ok: bool = True, **env: str) -> Result:
    """``mlvc ARGS`` in this process (the console script's main; one subprocess call in
    the test checks the real script)."""
    assert _capsys is not None
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        code = cli.main(["-C", str(cwd), *args])
    except SystemExit as e:  # argparse's usage errors
        code = int(e.code or 0)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    out = _capsys.readouterr()
    if ok:
        assert code == 0, out.err
    return Result(code, out.out, out.err)


def js(cwd: Path, *args: str, **env: str) -> Any:
    return json.loads(run(cwd, *args, "--json", **env).stdout)


@pytest.fixture
def project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Path:
    global _capsys
    _capsys = capsys
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLVC_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("MLVC_AUTHOR_NAME", "ci")
    mlvc.init(tmp_path)
    mlvc.commit("one", {"w": np.arange(3)}, metrics={"auc": 0.7}, repo=tmp_path)
    mlvc.commit("two", {"w": np.arange(4)}, metrics={"auc": 0.9}, repo=tmp_path)
    return tmp_path


def test_the_model_commands(project: Path) -> None:
    first = run(project, "model", "register", "churn", "HEAD~1", "w", "-m", "baseline").stdout
    assert first.startswith("Registered churn version 1") and "message    baseline" in first
    assert js(project, "model", "register", "churn", "HEAD", "w")["version"] == 2
    gates = js(
        project,
        "model",
        "gates",
        "churn",
        "--alias",
        "prod",
        "--metrics",
        "metrics.auc >= 0.8",
        "--approvals",
        "1",
    )
    assert gates["gates"]["prod"] == {
        "metrics": "metrics.auc >= 0.8",
        "evaluated": False,
        "approvals": 1,
    }

    dry = run(
        project,
        "model",
        "promote",
        "churn",
        "2",
        "--alias",
        "prod",
        "--reason",
        "r",
        "--dry-run",
        ok=False,
    )
    assert dry.returncode == 1 and "would be refused" in dry.stdout
    assert "ok     metrics" in dry.stdout and "FAILED approvals: 0 of 1" in dry.stdout
    refused = run(
        project, "model", "promote", "churn", "2", "--alias", "prod", "--reason", "r", ok=False
    )
    assert refused.returncode == 1 and "approvals gate failed" in refused.stderr
    assert "prod" not in mlvc.model("churn", repo=project)["aliases"]

    approval = js(
        project, "model", "approve", "churn", "2", "--alias", "prod", MLVC_AUTHOR_NAME="bob"
    )
    assert approval["user"] == "bob" and approval["type"] == "approve"
    done = js(project, "model", "promote", "churn", "2", "--alias", "prod", "--reason", "auc 0.9")
    assert done["promoted"] and [g["ok"] for g in done["gates"]] == [True, True]

    assert js(project, "model", "show", "churn@prod")["version"] == 2
    assert js(project, "model", "show", "churn")["aliases"] == {"prod": 2}
    assert [m["name"] for m in js(project, "model", "list")] == ["churn"]
    history = run(project, "model", "history", "churn").stdout.splitlines()
    assert [h.split()[3] for h in history] == [
        "promote",
        "approve",
        "gates",
        "register",
        "register",
    ]
    assert "auc 0.9 [gates: metrics ok, approvals ok]" in history[0]

    bad = run(project, "model", "rollback", "churn", "--alias", "prod", "--reason", "x", ok=False)
    assert bad.returncode == 1 and "no earlier holder" in bad.stderr
    usage = run(project, "model", "promote", "churn", "2", ok=False)
    assert usage.returncode == 2 and "--alias" in usage.stderr
    # the console script itself, as CI runs it
    mlvc_bin = Path(sys.executable).with_name("mlvc")
    cmd = [str(mlvc_bin)] if mlvc_bin.exists() else [sys.executable, "-m", "mlvc_server.cli"]
    p = subprocess.run(
        [*cmd, "model", "show", "churn@prod", "--json"], cwd=project, capture_output=True, text=True
    )
    assert p.returncode == 0 and json.loads(p.stdout)["commit"] == mlvc.resolve("churn@2")["commit"]
