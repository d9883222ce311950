"""``%mlvc commit`` inside notebooks run headless by ``jupyter nbconvert --execute`` and by
``papermill``: each commit lands in the notebook's own history, twice in a row, also when
the runner was started from another notebook's kernel (a stale ``JPY_SESSION_NAME``); a
runner with several notebooks in one folder asks for ``--notebook``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from harness import write_notebook

from mlvc_server import service

BIN = Path(sys.executable).parent
CELLS = ["%load_ext mlvc_server", "C = 1.0\nacc = 0.5", "%mlvc commit -m 'headless run'"]


def env_for(project: Path, **more: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("JPY_SESSION_NAME", None)
    env.pop("MLVC_NOTEBOOK", None)
    env.update(
        MLVC_CONFIG_DIR=str(project.parent / f"{project.name}-config"),
        MLVC_AUTHOR_NAME="Test",
        MLVC_AUTHOR_EMAIL="test@example.org",
        # a kernel started from another notebook passes its session on
        JPY_SESSION_NAME=str(project / "launcher.ipynb"),
        **more,
    )
    return env


def run(argv: list[str], project: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, cwd=project, env=env_for(project, **env), capture_output=True, text=True, timeout=300
    )


def messages(project: Path, notebook: str) -> list[str]:
    return [r["message"] for r in service.log(repo=project, notebook=project / notebook)]


def test_nbconvert_execute_commits_to_the_notebook(tmp_path: Path) -> None:
    write_notebook(tmp_path / "nb" / "train.ipynb", CELLS)
    argv = [str(BIN / "jupyter-nbconvert"), "--to", "notebook", "--execute", "nb/train.ipynb"]
    for _ in range(2):  # runs twice in a row
        done = run(argv, tmp_path)
        assert done.returncode == 0, done.stderr
    # the store is made in the kernel's folder, nbconvert's notebook folder
    assert messages(tmp_path / "nb", "train.ipynb") == ["headless run", "headless run"]
    rec = service.show("HEAD", repo=tmp_path / "nb", notebook=tmp_path / "nb" / "train.ipynb")
    assert rec["metrics"]["acc"] == 0.5  # a metric by its name, as in JupyterLab


def test_papermill_commits_to_the_input_notebook(tmp_path: Path) -> None:
    pytest.importorskip("papermill")
    write_notebook(tmp_path / "train.ipynb", CELLS)
    (tmp_path / "out").mkdir()
    argv = [
        str(BIN / "papermill"),
        "train.ipynb",
        "out/run.ipynb",
        "-k",
        "python3",
        "--cwd",
        str(tmp_path),
    ]
    done = run(argv, tmp_path)
    assert done.returncode == 0, done.stderr
    assert messages(tmp_path, "train.ipynb") == ["headless run"]
    assert (tmp_path / "out" / "run.ipynb").is_file()


def test_several_notebooks_ask_for_the_notebook(tmp_path: Path) -> None:
    for name in ("a.ipynb", "b.ipynb"):
        write_notebook(tmp_path / name, CELLS)
    argv = [str(BIN / "jupyter-nbconvert"), "--to", "notebook", "--execute", "a.ipynb", "b.ipynb"]
    done = run(argv, tmp_path)
    assert done.returncode != 0
    said = done.stdout + done.stderr
    assert "NotebookUnknownError" in said and "--notebook PATH" in said and "MLVC_NOTEBOOK" in said
    # MLVC_NOTEBOOK names it
    done = run(argv[:-1], tmp_path, MLVC_NOTEBOOK="a.ipynb")
    assert done.returncode == 0, done.stderr
    assert messages(tmp_path, "a.ipynb") == ["headless run"]
