"""The `mlvc` console script, run as a terminal or CI job runs it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
import numpy as np
import pytest

import mlvc_server as mlvc


def run(cwd: Path, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    mlvc_bin = Path(sys.executable).with_name("mlvc")
    cmd = [str(mlvc_bin)] if mlvc_bin.exists() else [sys.executable, "-m", "mlvc_server.cli"]
    p = subprocess.run([*cmd, *args], cwd=cwd, capture_output=True, text=True, env=os.environ)
    if ok:
        assert p.returncode == 0, p.stderr
    return p


def js(cwd: Path, *args: str) -> Any:
    return json.loads(run(cwd, *args, "--json").stdout)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLVC_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("MLVC_AUTHOR_NAME", "CI bot")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("C = 1.0", id="c0")]
    nbformat.write(nb, tmp_path / "train.ipynb")
    return tmp_path


def test_init_commit_log_show(project: Path) -> None:
    assert "Initialized" in run(project, "init").stdout
    assert (project / ".mlvc" / "HEAD").exists()
    (project / "data.csv").write_text("a\n1\n")
    out = js(
        project,
        "commit",
        "-m",
        "from CI",
        "-N",
        "train.ipynb",
        "--param",
        "C=1.0",
        "--metric",
        "acc=0.9",
        "--data",
        "data.csv",
    )
    assert out["params"] == {"C": 1.0} and out["metrics"] == {"acc": 0.9}
    assert "data.csv" in out["data"]
    log = js(project, "log")
    assert [c["message"] for c in log] == ["from CI"]
    assert set(log[0]) >= {
        "id",
        "message",
        "author",
        "time",
        "branch",
        "notebook",
        "params",
        "metrics",
    }
    assert log[0]["author"] == "CI bot" and log[0]["notebook"] == "train.ipynb"
    show = js(project, "show", log[0]["short_id"])
    assert set(show) >= {"variables", "skipped", "data", "sources", "env", "hardware"}
    text = run(project, "log").stdout
    assert "from CI" in text and "acc=0.9" in text


def test_diff_branch_tag_checkout(project: Path) -> None:
    c1 = mlvc.commit(
        "one", variables={"w": np.zeros(100)}, notebook="train.ipynb", params={"C": 1.0}
    )
    run(project, "branch", "small-c")
    nb = nbformat.read(project / "train.ipynb", as_version=4)
    nb.cells[0].source = "C = 0.01"
    nbformat.write(nb, project / "train.ipynb")
    c2 = mlvc.commit(
        "two", variables={"w": np.ones(100)}, notebook="train.ipynb", params={"C": 0.01}
    )
    d = js(project, "diff", c1[:8], c2[:8])
    assert d["params"][0] == {
        "key": "C",
        "status": "changed",
        "a": 1.0,
        "b": 0.01,
        "delta": pytest.approx(-0.99),
    }
    text = run(project, "diff").stdout
    # the same presenter as the magics: one line per change, aligned
    assert re.search(r"^Params +C +1 → 0\.01 \(-0\.99\)$", text, re.M), text
    assert re.search(r"^Variables +w +.*changed", text, re.M), text
    branches = {b["name"]: b for b in js(project, "branch")}
    assert branches["small-c"]["current"] and branches["small-c"]["head"] == c2
    assert js(project, "tag", "champion", c1[:8])["commit"] == c1
    assert js(project, "tag") == [{"name": "champion", "commit": c1}]
    out = js(project, "checkout", "main")
    assert out["commit"] == c1 and out["branch"] == "main" and out["notebook_written"]
    assert nbformat.read(project / "train.ipynb", as_version=4).cells[0].source == "C = 1.0"
    st = js(project, "status")
    assert st["branch"] == "main" and st["notebook"]["changed"] is False


def test_fsck_and_du(project: Path) -> None:
    cid = mlvc.commit("x", variables={"a": np.arange(100_000.0)})
    assert js(project, "fsck")["ok"] is True
    du = js(project, "du")
    assert du["payload_bytes_unique"] >= 800_000 and du["store_bytes"] > 0
    part = mlvc.service.format.read_manifest(mlvc.service.workspace().store("."), cid, "a")[
        "segments"
    ][1]["parts"][0]
    path = project / ".mlvc" / "objects" / part[:2] / part[2:]
    raw = bytearray(path.read_bytes())
    raw[-100] ^= 1
    os.chmod(path, 0o644)
    path.write_bytes(bytes(raw))
    p = run(project, "fsck", ok=False)
    assert p.returncode == 1 and part in p.stdout


def test_errors_are_clear_and_exit_nonzero(project: Path) -> None:
    p = run(project, "log", ok=False)
    assert p.returncode == 1 and "no mlvc store" in p.stderr
    run(project, "init")
    p = run(project, "show", "nosuch", ok=False)
    assert p.returncode == 1 and "unknown revision" in p.stderr
    p = run(project, "branch", "bad name", "-N", "train.ipynb", ok=False)
    assert p.returncode == 1 and "invalid branch name" in p.stderr
    p = run(project, "frobnicate", ok=False)
    assert p.returncode == 2
