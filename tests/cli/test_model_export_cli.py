"""``mlvc model export`` as a terminal runs it: text and --json, a clear error and exit
status 1 when the export is refused, nothing written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import mlvc_server as mlvc
from mlvc_server import cli

pytest.importorskip("sklearn")
from sklearn.linear_model import LogisticRegression


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLVC_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("MLVC_AUTHOR_NAME", "ci")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 3))
    clf = LogisticRegression().fit(x, (x[:, 0] > 0).astype(int))
    np.save(tmp_path / "rows.npy", x[:10])
    mlvc.init(tmp_path)
    mlvc.commit("fit", {"clf": clf, "w": np.arange(3)}, metrics={"auc": 0.9}, repo=tmp_path)
    mlvc.register("churn", "HEAD", "clf", repo=tmp_path, user="ada")
    mlvc.promote("churn", 1, "production", reason="first good one", repo=tmp_path, user="bob")
    return tmp_path


def main(project: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(["-C", str(project), *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_export_text_and_json(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = main(
        project, capsys, "model", "export", "churn@production", "native-dir", "--format", "native"
    )
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("Exported churn version 1 (clf of ") and " as native to " in lines[0]
    assert lines[1] == (
        "  reload check: identical predictions on 16 rows in a fresh Python with the "
        "exported loader"
    )
    assert (
        "| promote | 1 | production | bob | first good one |"
        in (project / "native-dir/README.md").read_text()
    )
    code, out, err = main(
        project,
        capsys,
        "model",
        "export",
        "HEAD:clf",
        "onnx-dir",
        "--format",
        "onnx",
        "--sample",
        "rows.npy",
        "--json",
    )
    assert code == 0, err
    got = json.loads(out)
    assert got["model"]["name"] is None and got["model"]["variable"] == "clf"
    assert got["checks"]["onnx"]["ok"] and got["checks"]["onnx"]["rows"] == 10
    assert (project / "onnx-dir/model.onnx").is_file()


def test_refusals_exit_1_and_write_nothing(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _out, err = main(project, capsys, "model", "export", "HEAD:w", "x", "--format", "onnx")
    assert code == 1 and "ONNX export supports scikit-learn" in err and not (project / "x").exists()
    code, _out, err = main(
        project, capsys, "model", "export", "churn@staging", "x", "--format", "native"
    )
    assert code == 1 and "no alias 'staging'" in err
    with pytest.raises(SystemExit) as usage:
        cli.main(["-C", str(project), "model", "export", "churn", "x", "--format", "pmml"])
    assert usage.value.code == 2


def test_the_console_script(project: Path) -> None:
    """The real ``mlvc`` entry point, once."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "mlvc_server.cli",
            "model",
            "export",
            "churn",
            "m",
            "--format",
            "mlflow",
            "--sample",
            "rows.npy",
        ],
        cwd=project,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "identical predictions on 10 rows" in proc.stdout
    assert (project / "m/MLmodel").is_file() and (project / "m/input_example.json").is_file()
