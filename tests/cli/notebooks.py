"""What the CLI tests share: running ``mlvc`` as a process, and a project holding a
notebook with a ``parameters`` cell (papermill's convention) for ``run`` and ``sweep``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest


def mlvc_process(cwd: Path, *args: str, timeout: float = 500) -> subprocess.CompletedProcess[str]:
    """``mlvc ARGS`` run in ``cwd`` as a user's shell would."""
    exe = Path(sys.executable).with_name("mlvc")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "mlvc_server.cli"]
    return subprocess.run(
        [*cmd, *args], cwd=cwd, capture_output=True, text=True, env=os.environ, timeout=timeout
    )


def parameterized_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, params: str, body: str
) -> Path:
    """``tmp_path`` as the working directory, holding ``train.ipynb``: a cell tagged
    ``parameters`` (``params``) and a cell ``body``."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLVC_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("MLVC_AUTHOR_NAME", "CI bot")
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    cell = nbformat.v4.new_code_cell(params, id="p")
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [cell, nbformat.v4.new_code_cell(body, id="m")]
    nbformat.write(nb, tmp_path / "train.ipynb")
    return tmp_path
