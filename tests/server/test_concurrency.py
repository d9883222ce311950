"""The server answers other requests while store work runs (off the event loop)."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import pytest

from mlvc_server import service

from .conftest import Api


async def test_a_slow_store_call_does_not_block_other_requests(
    api: Api, notebook: Path, jp_root_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    service.commit("a", notebook=notebook, repo=jp_root_dir, sources=False)
    service.commit("b", notebook=notebook, repo=jp_root_dir, sources=False)
    real_diff = service.diff
    in_diff, release = threading.Event(), threading.Event()

    def slow_diff(*args: Any, **kwargs: Any) -> Any:
        in_diff.set()
        # a 1 GiB diff, in the worker thread: it goes on only once the test has had
        # its answer to another request (a blocked event loop would never give it)
        assert release.wait(30), "the log request was not answered while the diff ran"
        return real_diff(*args, **kwargs)

    monkeypatch.setattr(service, "diff", slow_diff)
    slow = asyncio.ensure_future(api.get("diff"))
    while not in_diff.is_set():
        await asyncio.sleep(0.01)

    log = await api.get("log")
    assert not slow.done()
    release.set()
    diff = await slow

    assert [c["message"] for c in log["commits"]] == ["b", "a"]
    assert diff["b"]["message"] == "b"
