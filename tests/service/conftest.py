"""Fixtures of the service tests: a project folder with a notebook, as the working dir."""

from __future__ import annotations

import subprocess
from pathlib import Path

import nbformat
import pytest


def write_nb(path: Path, *sources: str) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s, id=f"cell-{i}") for i, s in enumerate(sources)]
    path.write_text(nbformat.writes(nb))


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLVC_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("MLVC_AUTHOR_NAME", "Ana")
    monkeypatch.setenv("MLVC_AUTHOR_EMAIL", "ana@example.org")
    write_nb(tmp_path / "train.ipynb", "import numpy as np", "X = np.arange(10)")
    return tmp_path


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "--git-dir", str(root / ".mlvc"), *args],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
