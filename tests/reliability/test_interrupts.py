"""A value whose own code raises KeyboardInterrupt or SystemExit while it is serialized is
skipped and named; a real Ctrl-C (SIGINT) of the user still stops the commit
(docs/reliability.md, "Interrupts")."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import mlvc_server as mlvc
from mlvc_server import service
from mlvc_server.errors import UnsupportedTypeError
from mlvc_server.serializers import serialize


class Raises:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc

    def __reduce__(self) -> Any:
        raise self.exc


class Slow:
    def __reduce__(self) -> Any:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            pass
        return (Slow, ())


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MLVC_CONFIG_DIR", str(tmp_path / "config"))
    mlvc.init(tmp_path)
    return tmp_path


@pytest.mark.parametrize("exc", [KeyboardInterrupt(), SystemExit(3), SystemExit()])
def test_serialize_turns_an_interrupt_raised_by_the_value_into_a_skip(exc: BaseException) -> None:
    with pytest.raises(UnsupportedTypeError, match=type(exc).__name__):
        serialize(Raises(exc))


@pytest.mark.parametrize("seconds", [0, 30])  # in this thread, and in the deadline worker
@pytest.mark.parametrize("exc", [KeyboardInterrupt, SystemExit])
def test_a_commit_skips_and_names_such_a_variable_and_keeps_the_others(
    project: Path, seconds: float, exc: type[BaseException]
) -> None:
    cid = service.commit(
        "x",
        variables={"bad": Raises(exc()), "good": [1, 2, 3]},
        repo=project,
        sources=False,
        max_serialize_seconds=seconds,
    )
    rec = mlvc.show(cid, repo=project)
    assert list(rec["variables"]) == ["good"]
    assert exc.__name__ in rec["skipped"]["bad"]
    assert mlvc.load(cid, "good", repo=project) == [1, 2, 3]


@pytest.mark.parametrize("seconds", [0, 30])
def test_a_real_ctrl_c_still_stops_the_commit(project: Path, seconds: float) -> None:
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signals reach the main thread only")
    timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    started = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            service.commit(
                "x",
                variables={"slow": Slow()},
                repo=project,
                sources=False,
                max_serialize_seconds=seconds,
            )
    finally:
        timer.cancel()
    assert time.monotonic() - started < 15
    assert mlvc.log(repo=project, notebook=None) == []
