"""Tests for mlvc_server.capture.data: BLAKE3 hashes of data files with a stat cache."""

from __future__ import annotations

import json
import os
import time
from datetime import datetime
from pathlib import Path

import pytest
from blake3 import blake3

from mlvc_server.capture import data as data_mod
from mlvc_server.capture.data import DataHasher, hash_file
from mlvc_server.errors import MlvcError

OLD = 1_600_000_000  # a modification time well in the past (not "racy")


def b3(content: bytes) -> str:
    return "blake3:" + blake3(content).hexdigest()


def write(path: Path, content: bytes, mtime: float | None = OLD) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    write(root / "data" / "train.csv", b"a,b\n1,2\n")
    write(root / "data" / "test.csv", b"a,b\n3,4\n")
    write(root / "data" / "sub" / "extra.csv", b"a,b\n5,6\n")
    write(root / "data" / ".hidden.csv", b"secret-ish\n")
    write(root / "data" / "notes.txt", b"notes\n")
    return root


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Counts reads of file content by recording every call of the hash function."""
    seen: list[str] = []
    real = data_mod._hash_path

    def counting(path: str, size: int) -> str:
        seen.append(path)
        return real(path, size)

    monkeypatch.setattr(data_mod, "_hash_path", counting)
    return seen


def cache_file(tmp_path: Path) -> Path:
    return tmp_path / ".mlvc" / "mlvc" / "data-cache.json"


def test_record_matches_blake3_of_content(project: Path, tmp_path: Path) -> None:
    records = DataHasher(cache_file(tmp_path)).hash_files(["data/train.csv"], project)
    assert list(records) == ["data/train.csv"]
    rec = records["data/train.csv"]
    assert rec["hash"] == b3(b"a,b\n1,2\n")
    assert rec["size"] == 8
    assert datetime.fromisoformat(rec["mtime"]).timestamp() == OLD
    assert rec["mtime"] == "2020-09-13T12:26:40+00:00"


@pytest.mark.parametrize("size", [0, 1, 1024, (1 << 20) - 1, 1 << 20, 3 * (1 << 20) + 5])
def test_hash_of_any_size_matches_blake3(tmp_path: Path, size: int) -> None:
    content = os.urandom(size)
    path = write(tmp_path / "f.bin", content)
    assert hash_file(path) == b3(content)
    assert DataHasher().hash_files([str(path)], tmp_path)["f.bin"]["hash"] == b3(content)


def test_unchanged_file_is_not_read_again(project: Path, tmp_path: Path, calls: list[str]) -> None:
    hasher = DataHasher(cache_file(tmp_path))
    first = hasher.hash_files(["data/train.csv"], project)
    assert len(calls) == 1
    assert hasher.hash_files(["data/train.csv"], project) == first
    assert len(calls) == 1
    # A new instance (a new process) reads the persisted cache instead of the file.
    assert DataHasher(cache_file(tmp_path)).hash_files(["data/train.csv"], project) == first
    assert len(calls) == 1


def test_changed_file_is_hashed_again(project: Path, tmp_path: Path, calls: list[str]) -> None:
    hasher = DataHasher(cache_file(tmp_path))
    before = hasher.hash_files(["data/train.csv"], project)["data/train.csv"]
    write(project / "data" / "train.csv", b"a,b\n1,2\n7,8\n", mtime=OLD + 60)
    after = hasher.hash_files(["data/train.csv"], project)["data/train.csv"]
    assert len(calls) == 2
    assert after["hash"] == b3(b"a,b\n1,2\n7,8\n") != before["hash"]
    assert after["size"] == 12


def test_same_size_same_mtime_rewrite_is_detected(
    project: Path, tmp_path: Path, calls: list[str]
) -> None:
    """A tool that restores the mtime cannot hide a change: the ctime still moves."""
    path = project / "data" / "train.csv"
    hasher = DataHasher(cache_file(tmp_path))
    hasher.hash_files(["data/train.csv"], project)
    time.sleep(0.01)
    write(path, b"a,b\n9,9\n", mtime=OLD)
    rec = hasher.hash_files(["data/train.csv"], project)["data/train.csv"]
    assert rec["hash"] == b3(b"a,b\n9,9\n")
    assert len(calls) == 2


def test_freshly_written_file_is_not_trusted_until_its_mtime_settles(
    tmp_path: Path, calls: list[str]
) -> None:
    write(tmp_path / "live.csv", b"1\n", mtime=None)  # mtime = now: "racy"
    hasher = DataHasher(cache_file(tmp_path))
    hasher.hash_files(["live.csv"], tmp_path)
    time.sleep(0.06)
    hasher.hash_files(["live.csv"], tmp_path)  # still racy: hashed again, now settled
    hasher.hash_files(["live.csv"], tmp_path)
    assert len(calls) == 2


def test_glob_patterns(project: Path) -> None:
    hasher = DataHasher()
    assert list(hasher.hash_files(["data/*.csv"], project)) == ["data/test.csv", "data/train.csv"]
    assert list(hasher.hash_files(["data/**/*.csv"], project)) == [
        "data/sub/extra.csv",
        "data/test.csv",
        "data/train.csv",
    ]
    assert list(hasher.hash_files([str(project / "data" / "t*.csv")], project)) == [
        "data/test.csv",
        "data/train.csv",
    ]


def test_several_patterns_are_merged_and_sorted(project: Path) -> None:
    records = DataHasher().hash_files(["data/train.csv", "data/*.csv", "data/notes.txt"], project)
    assert list(records) == ["data/notes.txt", "data/test.csv", "data/train.csv"]


def test_folder_means_every_visible_file_below_it(project: Path) -> None:
    assert list(DataHasher().hash_files(["data"], project)) == [
        "data/notes.txt",
        "data/sub/extra.csv",
        "data/test.csv",
        "data/train.csv",
    ]


def test_absolute_path_inside_root(project: Path) -> None:
    path = project / "data" / "train.csv"
    assert list(DataHasher().hash_files([str(path)], project)) == ["data/train.csv"]


def test_missing_file_names_the_pattern(project: Path) -> None:
    with pytest.raises(MlvcError, match=r"data/missing\.csv"):
        DataHasher().hash_files(["data/missing.csv"], project)


def test_glob_matching_nothing_names_the_pattern(project: Path) -> None:
    with pytest.raises(MlvcError, match=r"data/\*\.parquet"):
        DataHasher().hash_files(["data/*.parquet"], project)


@pytest.mark.parametrize("pattern", ["../outside.csv", "data/../../outside.csv", "../*.csv"])
def test_relative_path_outside_root_is_rejected(
    project: Path, tmp_path: Path, pattern: str
) -> None:
    write(tmp_path / "outside.csv", b"x\n")
    with pytest.raises(MlvcError, match="outside"):
        DataHasher().hash_files([pattern], project)


def test_absolute_path_outside_root_is_rejected(project: Path, tmp_path: Path) -> None:
    outside = write(tmp_path / "outside.csv", b"x\n")
    with pytest.raises(MlvcError, match="outside"):
        DataHasher().hash_files([str(outside)], project)


def test_symlink_inside_root_to_shared_data_is_hashed(project: Path, tmp_path: Path) -> None:
    shared = write(tmp_path / "shared" / "big.bin", b"shared bytes")
    (project / "data" / "big.bin").symlink_to(shared)
    rec = DataHasher().hash_files(["data/big.bin"], project)["data/big.bin"]
    assert rec["hash"] == b3(b"shared bytes")


def test_corrupt_cache_file_is_ignored_and_replaced(project: Path, tmp_path: Path) -> None:
    cache = cache_file(tmp_path)
    for garbage in ("{not json", '{"version": 1, "entries": {"/x": {"size": "big"}}}', "[]"):
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text(garbage)
        records = DataHasher(cache).hash_files(["data/train.csv"], project)
        assert records["data/train.csv"]["hash"] == b3(b"a,b\n1,2\n")
        saved = json.loads(cache.read_text())
        assert str(project / "data" / "train.csv") in saved["entries"]


def test_cache_is_written_atomically_without_leftovers(project: Path, tmp_path: Path) -> None:
    cache = cache_file(tmp_path)
    DataHasher(cache).hash_files(["data"], project)
    assert sorted(p.name for p in cache.parent.iterdir()) == ["data-cache.json"]


def test_cache_file_written_by_another_process_is_picked_up(
    project: Path, tmp_path: Path, calls: list[str]
) -> None:
    cache = cache_file(tmp_path)
    kernel, server = DataHasher(cache), DataHasher(cache)
    kernel.hash_files(["data/train.csv"], project)  # server has loaded nothing yet
    server.hash_files(["data/test.csv"], project)
    kernel.hash_files(["data/train.csv", "data/test.csv"], project)
    assert len(calls) == 2


def test_hash_file_errors(tmp_path: Path) -> None:
    with pytest.raises(MlvcError, match="not found"):
        hash_file(tmp_path / "nope.bin")
    with pytest.raises(MlvcError, match="not a regular file"):
        hash_file(tmp_path)


def test_cached_hash_file_method(project: Path, tmp_path: Path, calls: list[str]) -> None:
    hasher = DataHasher(cache_file(tmp_path))
    path = project / "data" / "train.csv"
    assert hasher.hash_file(path) == b3(b"a,b\n1,2\n")
    assert hasher.hash_file(path) == b3(b"a,b\n1,2\n")
    assert len(calls) == 1


def test_remembered_hash_is_used_until_the_file_changes(tmp_path: Path, calls: list[str]) -> None:
    hasher = DataHasher(tmp_path / "cache.json")
    f = write(tmp_path / "old.bin", b"checked out")  # mtime in the past
    hasher.remember(f, b3(b"checked out"))
    assert hasher.hash_file(f) == b3(b"checked out")
    assert calls == []  # known without reading
    write(f, b"changed!!!!", mtime=None)
    assert hasher.hash_file(f) == b3(b"changed!!!!")
    assert len(calls) == 1


def test_a_remembered_hash_of_a_file_just_written_is_checked_once(
    tmp_path: Path, calls: list[str]
) -> None:
    hasher = DataHasher(tmp_path / "cache.json")
    f = write(tmp_path / "new.bin", b"fresh", mtime=None)
    # within the file system's timestamp granularity a later write could not be told
    # apart: the next look reads the file
    hasher.remember(f, b3(b"something else"))
    assert hasher.hash_file(f) == b3(b"fresh")
    assert len(calls) == 1
