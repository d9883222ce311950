"""A store that cannot be written gives ReadOnlyStoreError (a clear message, no traceback)
for writes, and still reads (docs/reliability.md, "Read-only stores")."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

import mlvc_server as mlvc
from mlvc_server import service
from mlvc_server.errors import ReadOnlyStoreError


def _reset() -> None:
    service.workspace().reset()


@pytest.fixture
def read_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, str]]:
    """A project with one commit whose store is then made read-only: a read-only
    remount of a tmpfs as root (root ignores permissions), else permissions."""
    monkeypatch.setenv("MLVC_CONFIG_DIR", str(tmp_path / "config"))
    root = tmp_path / "ro"
    root.mkdir()
    mounted = False
    if os.geteuid() == 0:
        mount = shutil.which("mount")
        p = subprocess.run(
            [mount or "mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(root)],
            capture_output=True,
        )
        if p.returncode != 0:
            pytest.skip("running as root without the right to mount a file system")
        mounted = True
    try:
        mlvc.init(root)
        cid = mlvc.commit("first", variables={"x": [1, 2]}, repo=root, sources=False)
        _reset()
        if mounted:
            subprocess.run(["mount", "-o", "remount,ro", str(root)], check=True)
        else:
            for dirpath, _dirs, _files in os.walk(root / ".mlvc"):
                os.chmod(dirpath, 0o555)
        yield root, cid
    finally:
        _reset()
        if mounted:
            subprocess.run(["umount", "-l", str(root)], capture_output=True)
        else:
            for dirpath, _dirs, _files in os.walk(root / ".mlvc"):
                os.chmod(dirpath, 0o755)


def test_writes_to_a_read_only_store_raise_a_typed_error_and_reads_work(
    read_only: tuple[Path, str],
) -> None:
    root, cid = read_only
    with pytest.raises(ReadOnlyStoreError, match="cannot be written"):
        mlvc.commit("second", variables={"x": [3]}, repo=root, sources=False)
    with pytest.raises(ReadOnlyStoreError):
        mlvc.tag("t1", cid, repo=root)
    assert [c["id"] for c in mlvc.log(repo=root, notebook=None)] == [cid]
    assert mlvc.load(cid, "x", repo=root) == [1, 2]
