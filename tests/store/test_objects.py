"""Loose objects written by mlvc are ordinary git objects; damage is detected on read."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
from dulwich.repo import Repo

from mlvc_server.errors import CorruptObjectError
from mlvc_server.store import objects


@pytest.fixture
def bare(tmp_path: Path) -> Path:
    Repo.init_bare(str(tmp_path / "r.git"), mkdir=True).close()
    return tmp_path / "r.git"


def git(repo: Path, *args: str, input: bytes | None = None) -> bytes:
    return subprocess.run(
        ["git", "--git-dir", str(repo), *args], check=True, capture_output=True, input=input
    ).stdout


@pytest.mark.parametrize("size", [0, 1, 65535, 65536, 200_001, 3 << 20])
def test_git_reads_what_we_write(bare: Path, size: int) -> None:
    data = np.random.default_rng(size).integers(0, 256, size, dtype=np.uint8)
    chunks = [data[i : i + 70_000] for i in range(0, size, 70_000)] or [data]
    sha = objects.write_stored_blob(bare / "objects", chunks, size)
    assert sha == git(bare, "hash-object", "--stdin", input=data.tobytes()).decode().strip()
    assert git(bare, "cat-file", "-p", sha) == data.tobytes()
    git(bare, "fsck", "--strict")  # also checks the object layout
    with Repo(str(bare)) as r:
        assert r.object_store[sha.encode()].as_raw_string() == data.tobytes()


def test_read_into_buffer_round_trip(bare: Path) -> None:
    arr = np.arange(300_000, dtype=np.float64)
    sha = objects.write_stored_blob(bare / "objects", [arr], arr.nbytes)
    out = np.empty_like(arr)
    objects.read_loose_into(
        objects.loose_path(bare / "objects", sha), arr.nbytes, memoryview(out).cast("B"), verify=sha
    )
    assert np.array_equal(out, arr)


def test_reads_objects_git_compressed(bare: Path) -> None:
    data = b"hello world\n" * 10_000
    sha = git(bare, "hash-object", "-w", "--stdin", input=data).decode().strip()
    out = bytearray(len(data))
    objects.read_loose_into(objects.loose_path(bare / "objects", sha), len(data), memoryview(out))
    assert bytes(out) == data


def test_flipped_byte_is_detected(bare: Path) -> None:
    data = os.urandom(100_000)
    sha = objects.write_stored_blob(bare / "objects", [data], len(data))
    path = objects.loose_path(bare / "objects", sha)
    raw = bytearray(path.read_bytes())
    raw[50_000] ^= 0x01
    os.chmod(path, 0o644)
    path.write_bytes(bytes(raw))
    with pytest.raises(CorruptObjectError, match="checksum"):
        objects.read_loose_into(path, len(data), memoryview(bytearray(len(data))))


def test_truncated_object_is_detected(bare: Path) -> None:
    data = os.urandom(100_000)
    sha = objects.write_stored_blob(bare / "objects", [data], len(data))
    path = objects.loose_path(bare / "objects", sha)
    raw = path.read_bytes()
    os.chmod(path, 0o644)
    path.write_bytes(raw[:60_000])
    with pytest.raises(CorruptObjectError):
        objects.read_loose_into(path, len(data), memoryview(bytearray(len(data))))


def test_wrong_length_leaves_nothing(bare: Path) -> None:
    with pytest.raises(ValueError):
        objects.write_stored_blob(bare / "objects", [b"abc"], 4)
    leftovers = [p for p in (bare / "objects").rglob("*") if p.is_file()]
    assert leftovers == []
