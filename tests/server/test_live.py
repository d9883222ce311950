"""Live sync (server/events.py): store-changed events and the log's ETag.

A panel's ``GET /mlvc/log`` makes the server watch that notebook's store; a commit made
by another process (the CLI here) is noticed within a second and emitted on
jupyter_server's event bus, as is a change the server itself makes. The log answers
``304`` to ``If-None-Match`` while nothing changed.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError

from mlvc_server import service
from mlvc_server.server.events import SCHEMA_ID, StoreWatcher
from mlvc_server.store.stamp import store_stamp

from .conftest import Api, write_notebook


class Events:
    """The store-changed events the server emits during a test."""

    def __init__(self, serverapp: Any) -> None:
        self.seen: list[dict[str, Any]] = []
        self.logger = serverapp.event_logger

        async def listener(logger: Any, schema_id: str, data: dict[str, Any]) -> None:
            self.seen.append({**data, "at": time.monotonic()})

        self.listener = listener
        self.logger.add_listener(schema_id=SCHEMA_ID, listener=listener)

    async def wait(self, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.seen) < count and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        return self.seen

    def close(self) -> None:
        self.logger.remove_listener(schema_id=SCHEMA_ID, listener=self.listener)


@pytest.fixture
def events(jp_serverapp: Any) -> Any:
    ev = Events(jp_serverapp)
    yield ev
    ev.close()


def cli(root: Path, *args: str) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    subprocess.run(
        [sys.executable, "-m", "mlvc_server.cli", *args],
        cwd=root,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )


def test_the_event_schema_is_registered(jp_serverapp: Any) -> None:
    assert SCHEMA_ID in jp_serverapp.event_logger.schemas.schema_ids


async def test_a_cli_commit_in_another_process_is_emitted_within_a_second(
    api: Api, notebook: Path, jp_root_dir: Path, events: Events
) -> None:
    service.init(jp_root_dir)
    await api.get("log")  # the panel opens: the store is watched
    start = time.monotonic()
    await asyncio.to_thread(cli, jp_root_dir, "commit", "-N", "train.ipynb", "-m", "from the CLI")
    done = time.monotonic()
    seen = await events.wait(1)
    assert seen, "no store-changed event after a CLI commit"
    event = seen[0]
    assert event["paths"] == ["train.ipynb"] and event["store"] == ""
    assert event["reason"] == "watcher"
    # noticed within one check interval (0.5 s) of the commit's end, with slack for CI
    assert event["at"] - done < 1.0, event["at"] - start
    log = await api.get("log")
    assert [c["message"] for c in log["commits"]] == ["from the CLI"]


async def test_a_change_the_server_makes_is_emitted_at_once(
    api: Api, notebook: Path, jp_root_dir: Path, events: Events
) -> None:
    service.init(jp_root_dir)
    service.commit("first", notebook=notebook, repo=jp_root_dir, sources=False)
    await api.get("log")
    before = time.monotonic()
    made = await api.request("POST", "branches", body={"name": "other"})
    assert made.code == 201
    seen = await events.wait(1, timeout=0.4)  # before the watcher's next check
    assert [e["reason"] for e in seen] == ["request"]
    assert seen[0]["at"] - before < 0.4
    await asyncio.sleep(0.7)
    assert len(events.seen) == 1, "the watcher emitted the same change again"


async def test_the_first_commit_of_a_new_store_is_noticed(
    api: Api, notebook: Path, jp_root_dir: Path, events: Events
) -> None:
    first = await api.get("log")  # the panel is open before any store exists
    assert first["initialized"] is False
    service.commit("first", notebook=notebook, repo=jp_root_dir, sources=False)
    seen = await events.wait(1, timeout=2.0)
    assert [e["paths"] for e in seen] == [["train.ipynb"]]


async def test_no_event_for_stores_no_panel_looks_at(
    api: Api, notebook: Path, jp_root_dir: Path, events: Events
) -> None:
    service.init(jp_root_dir)
    service.commit("first", notebook=notebook, repo=jp_root_dir, sources=False)
    await asyncio.sleep(0.7)
    assert events.seen == []


async def test_log_etag_answers_304_until_the_history_changes(
    api: Api, notebook: Path, jp_root_dir: Path
) -> None:
    service.init(jp_root_dir)
    service.commit("first", notebook=notebook, repo=jp_root_dir, sources=False)
    first = await api.request("GET", "log")
    etag = first.headers["ETag"]
    with pytest.raises(HTTPClientError) as info:
        await api.request("GET", "log", headers={"If-None-Match": etag})
    assert info.value.code == 304
    # another page is another answer
    other = await api.request("GET", "log", params={"limit": "1"})
    assert other.headers["ETag"] != etag

    service.commit("second", notebook=notebook, repo=jp_root_dir, sources=False)
    changed = await api.request("GET", "log", headers={"If-None-Match": etag})
    assert changed.code == 200 and changed.headers["ETag"] != etag
    # switching branch changes what the log says (the current branch): a new ETag
    service.branch("b2", repo=jp_root_dir, notebook=notebook)
    switched = await api.request("GET", "log", headers={"If-None-Match": changed.headers["ETag"]})
    assert switched.code == 200


def test_stamp_changes_with_commits_branches_and_tags(tmp_path: Path) -> None:
    nb = write_notebook(tmp_path / "a.ipynb", "x = 1")
    service.init(tmp_path)
    stamps = [store_stamp(tmp_path)]
    service.commit("one", notebook=nb, repo=tmp_path, sources=False)
    stamps.append(store_stamp(tmp_path))
    assert store_stamp(tmp_path) == stamps[-1]  # stable while nothing changes
    service.tag("t1", repo=tmp_path, notebook=nb)
    stamps.append(store_stamp(tmp_path))
    service.branch("b", repo=tmp_path, notebook=nb)
    stamps.append(store_stamp(tmp_path))
    service.switch_branch("main", repo=tmp_path, notebook=nb)
    stamps.append(store_stamp(tmp_path))
    assert len(set(stamps)) == len(stamps), stamps


async def test_the_watcher_drops_stores_no_panel_asked_about(tmp_path: Path) -> None:
    nb = write_notebook(tmp_path / "a.ipynb", "x = 1")
    service.init(tmp_path)
    sent: list[dict[str, Any]] = []
    # idle: longer than a first commit takes on a loaded machine (the store would be
    # dropped before the watcher's first look)
    watcher = StoreWatcher(sent.append, interval=0.05, idle=1.5)
    watcher.watch(tmp_path, "", "a.ipynb")
    service.commit("one", notebook=nb, repo=tmp_path, sources=False)
    for _ in range(30):
        await asyncio.sleep(0.05)
        if sent:
            break
    assert sent == [{"store": "", "paths": ["a.ipynb"], "reason": "watcher"}]
    await asyncio.sleep(1.6)
    assert watcher.watched == {}
    service.commit("two", notebook=nb, repo=tmp_path, sources=False)
    await asyncio.sleep(0.15)
    assert len(sent) == 1
    await watcher.stop()
