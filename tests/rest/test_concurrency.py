"""The server answers other requests while store work runs (off the event loop)."""

from __future__ import annotations

import asyncio
import time
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

    def slow_diff(*args: Any, **kwargs: Any) -> Any:
        time.sleep(1.0)  # a 1 GiB diff or commit, in the worker thread
        return real_diff(*args, **kwargs)

    monkeypatch.setattr(service, "diff", slow_diff)
    started = time.monotonic()
    slow = asyncio.ensure_future(api.get("diff"))
    await asyncio.sleep(0.1)

    log = await api.get("log")
    log_done = time.monotonic() - started
    diff = await slow
    diff_done = time.monotonic() - started

    assert [c["message"] for c in log["commits"]] == ["b", "a"]
    assert log_done < 0.8 < 1.0 <= diff_done
    assert diff["b"]["message"] == "b"
