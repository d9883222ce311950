"""A worker's copy of the project follows the remote; a transfer that fails once is
tried again (service/sweep_remote.py)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

import mlvc_server as mlvc
from mlvc_server import service
from mlvc_server.errors import CorruptObjectError
from mlvc_server.service.sweep_remote import prepare_worker
from mlvc_server.store import sync


@pytest.fixture
def shared(project: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """The coordinator's project pushed to a bare repository; a worker's copy of the
    project's files (no store)."""
    mlvc.init(project)
    mlvc.commit("base", notebook=project / "train.ipynb", repo=project)
    bare = tmp_path_factory.mktemp("server") / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    service.remote_add("origin", str(bare), repo=project)
    service.push(repo=project)
    worker = tmp_path_factory.mktemp("worker")
    shutil.copy(project / "train.ipynb", worker / "train.ipynb")
    return str(bare), worker


def test_a_fetch_that_fails_once_is_tried_again(
    shared: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, worker = shared
    real, calls = sync.fetch, []

    def flaky(store: Any, remote: str, *a: Any, **kw: Any) -> Any:
        calls.append(remote)
        if len(calls) == 1:
            raise CorruptObjectError("the received pack is damaged: a test")
        return real(store, remote, *a, **kw)

    monkeypatch.setattr(sync, "fetch", flaky)
    nb = prepare_worker(worker, url=url, remote="origin", notebook="train.ipynb", branch="main")
    assert nb == (worker / "train.ipynb").resolve() and len(calls) == 2
    assert [c["message"] for c in service.log(repo=worker, notebook=nb)] == ["base"]


def test_a_transfer_that_keeps_failing_is_reported(
    shared: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, worker = shared
    calls = []

    def broken(*a: Any, **kw: Any) -> Any:
        calls.append(1)
        raise CorruptObjectError("the received pack is damaged: a test")

    monkeypatch.setattr(sync, "fetch", broken)
    with pytest.raises(CorruptObjectError, match="damaged"):
        prepare_worker(worker, url=url, remote="origin", notebook="train.ipynb", branch="main")
    assert len(calls) == 2
