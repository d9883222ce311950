"""The lineage audit hook's decisions, called directly (no hook is installed here)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mlvc_server.kernel.lineage import DataLineage


@pytest.fixture
def lin(tmp_path: Path) -> DataLineage:
    lin = DataLineage()
    lin.set_root(tmp_path)
    lin.enabled = True
    return lin


def test_reads_inside_the_project_are_recorded(lin: DataLineage, tmp_path: Path) -> None:
    hook = lin._make_hook()
    hook("open", (str(tmp_path / "a.csv"), "r", 0))
    hook("open", (tmp_path / "b.parquet", "rb", 0))  # a PathLike
    hook("open", (os.fsencode(tmp_path / "c.bin"), "rb", 0))  # bytes
    hook("open", (str(tmp_path / "d.npy"), None, os.O_RDONLY))  # os.open
    assert lin.reads == {str(tmp_path / n) for n in ("a.csv", "b.parquet", "c.bin", "d.npy")}


def test_other_opens_are_ignored(lin: DataLineage, tmp_path: Path) -> None:
    hook = lin._make_hook()
    hook("exec", (None,))
    hook("open", ("/usr/lib/python3/csv.txt", "r", 0))  # outside the project
    hook("open", (str(tmp_path) + "-sibling/a.csv", "r", 0))  # a prefix is not a parent
    hook("open", (str(tmp_path / "utils.py"), "r", 0))  # imports
    hook("open", (str(tmp_path / "__pycache__" / "u.cpython-311.pyc"), "r", 0))
    hook("open", (3, "r", 0))  # a file descriptor
    with lin.paused():
        hook("open", (str(tmp_path / "mlvc-reads-this.csv"), "r", 0))
    lin.enabled = False
    hook("open", (str(tmp_path / "while-off.csv"), "r", 0))
    assert lin.reads == set()


def test_files_the_code_writes_are_not_inputs(lin: DataLineage, tmp_path: Path) -> None:
    hook = lin._make_hook()
    for name, mode, flags in [
        ("w.csv", "w", 0),
        ("a.csv", "a", 0),
        ("x.csv", "xb", 0),
        ("rw.csv", "r+", 0),
        ("os.csv", None, os.O_WRONLY | os.O_CREAT),
    ]:
        hook("open", (str(tmp_path / name), "r", 0))
        hook("open", (str(tmp_path / name), mode, flags))
        hook("open", (str(tmp_path / name), "r", 0))  # read back after writing
    assert lin.reads == set()
    assert len(lin.writes) == 5


def test_relative_paths_start_at_the_current_folder(
    lin: DataLineage, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    lin._make_hook()("open", ("data.csv", "r", 0))
    assert lin.reads == {str(tmp_path / "data.csv")}


def test_files_leaves_out_hidden_folders_environments_and_the_notebook(
    lin: DataLineage, tmp_path: Path
) -> None:
    keep = ["data/train.csv", "raw.txt"]
    drop = [
        ".mlvc/objects/ab",
        ".ipynb_checkpoints/train-checkpoint.ipynb",
        ".venv/lib/python3.11/site-packages/sklearn/datasets/data/iris.csv",
        "env/pyvenv.cfg",
        "env/share/thing.txt",
        "node_modules/x/package.json",
        ".secret",
        "train.ipynb",
    ]
    for rel in keep + drop:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x")
    hook = lin._make_hook()
    for rel in [*keep, *drop, "deleted.csv"]:
        hook("open", (str(tmp_path / rel), "r", 0))
    assert lin.files(tmp_path, exclude=[str(tmp_path / "train.ipynb")]) == sorted(keep)


def test_paths_of_no_interest_are_remembered_until_the_root_moves(
    lin: DataLineage, tmp_path: Path
) -> None:
    hook = lin._make_hook()
    outside = "/usr/lib/python3/csv.txt"
    hook("open", (outside, "r", 0))
    hook("open", ("relative.txt", "r", 0))  # relative: never remembered
    assert list(lin._skip) == [outside]
    lin.set_root("/usr/lib")
    assert lin._skip == {}
    hook("open", (outside, "r", 0))
    assert lin.reads == {outside}


def test_an_unhashable_path_like_is_fine(lin: DataLineage, tmp_path: Path) -> None:
    class Unhashable:
        __hash__ = None  # type: ignore[assignment]

        def __fspath__(self) -> str:
            return str(tmp_path / "u.csv")

    lin._make_hook()("open", (Unhashable(), "r", 0))
    assert lin.reads == {str(tmp_path / "u.csv")}


def test_outputs_are_the_files_written_since_the_last_commit_took_them(
    lin: DataLineage, tmp_path: Path
) -> None:
    hook = lin._make_hook()
    for name in ("out.csv", "model.pt", ".hidden.csv"):
        (tmp_path / name).write_text("x")
        hook("open", (str(tmp_path / name), "w", 0))
    hook("open", (str(tmp_path / "gone.csv"), "w", 0))  # written, then deleted
    hook("open", (str(tmp_path / "in.csv"), "r", 0))
    (tmp_path / "in.csv").write_text("x")

    assert lin.outputs(tmp_path) == ["model.pt", "out.csv"]
    assert lin.files(tmp_path) == ["in.csv"]

    lin.outputs_taken(tmp_path, ["model.pt", "out.csv"])
    assert lin.outputs(tmp_path) == []
    hook("open", (str(tmp_path / "out.csv"), "a", 0))  # written again
    assert lin.outputs(tmp_path) == ["out.csv"]
    assert lin.files(tmp_path) == ["in.csv"]  # still never an input
