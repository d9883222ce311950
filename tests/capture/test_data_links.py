"""Symlink loops under a tracked glob: each file recorded once, every walk bounded
(docs/reliability.md, "Data files")."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mlvc_server.capture import data
from mlvc_server.capture.data import DataHasher
from mlvc_server.errors import MlvcError


def tree(root: Path) -> None:
    (root / "data" / "sub").mkdir(parents=True)
    (root / "data" / "a.csv").write_text("a\n")
    (root / "data" / "sub" / "b.csv").write_text("b\n")
    (root / "data" / ".hidden.csv").write_text("h\n")


@pytest.mark.timeout(60)
def test_one_symlink_loop_records_each_file_once(tmp_path: Path) -> None:
    tree(tmp_path)
    os.symlink(tmp_path / "data", tmp_path / "data" / "sub" / "loop")  # data/sub/loop -> data

    got = DataHasher().hash_files(["data/**/*.csv"], tmp_path)

    assert sorted(got) == ["data/a.csv", "data/sub/b.csv"]


@pytest.mark.timeout(60)
def test_two_symlink_loops_end_and_each_file_is_once(tmp_path: Path) -> None:
    tree(tmp_path)
    os.symlink("..", tmp_path / "data" / "sub" / "up")
    os.symlink("../sub", tmp_path / "data" / "sub" / "again")
    os.symlink(tmp_path, tmp_path / "data" / "root")

    got = DataHasher().hash_files(["**/*.csv", "data/**"], tmp_path)

    assert sorted(got) == ["data/a.csv", "data/sub/b.csv"]


def test_a_file_reached_through_an_alias_folder_is_recorded_once(tmp_path: Path) -> None:
    tree(tmp_path)
    os.symlink(tmp_path / "data" / "sub", tmp_path / "data" / "alias")
    got = data.glob_files(str(tmp_path), "data/*/b.csv")
    assert [Path(p).relative_to(tmp_path).as_posix() for p in got] == ["data/alias/b.csv"]


def test_glob_matches_what_glob_did_without_links(tmp_path: Path) -> None:
    import glob

    tree(tmp_path)
    (tmp_path / "data" / "sub" / "c.txt").write_text("c")
    for pattern in ("data/**/*.csv", "data/*.csv", "**", "data/s?b/*", "data/[ab].csv", "**/b.csv"):
        want = sorted(
            os.path.normpath(os.path.join(tmp_path, m))
            for m in glob.iglob(pattern, root_dir=tmp_path, recursive=True)
            if os.path.isfile(os.path.join(tmp_path, m))
        )
        assert data.glob_files(str(tmp_path), pattern) == want, pattern


def test_walks_are_bounded_in_depth_and_count(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    deep = tmp_path / "d"
    for i in range(data.MAX_GLOB_DEPTH + 2):
        deep = deep / str(i)
    deep.mkdir(parents=True)
    (deep / "x.csv").write_text("x")
    with pytest.raises(MlvcError, match="nested more than"):
        DataHasher().hash_files(["d/**/*.csv"], tmp_path)
    monkeypatch.setattr(data, "MAX_GLOB_FILES", 3)
    for i in range(5):
        (tmp_path / f"f{i}.csv").write_text(str(i))
    with pytest.raises(MlvcError, match="more than 3 files"):
        DataHasher().hash_files(["*.csv"], tmp_path)
