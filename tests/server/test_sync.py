"""Push and pull from the sidebar: the remotes, push/pull jobs with progress, against a
real Jupyter server and a bare git repository on disk."""

from __future__ import annotations

import asyncio
import subprocess
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tornado.httpclient import HTTPResponse

import mlvc_server as mlvc
from mlvc_server import service

from .conftest import Api


@pytest.fixture
def seeded(
    notebook: Path, jp_root_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """A store with two commits of ``train.ipynb`` and a remote ``origin`` (a bare repo)."""
    monkeypatch.setenv("MLVC_CONFIG_DIR", str(tmp_path / "cfg"))
    mlvc.init(jp_root_dir)
    for i in range(2):
        mlvc.commit(
            f"v{i}",
            variables={"w": np.full(50_000, i, dtype=np.float32)},
            notebook=notebook,
            repo=jp_root_dir,
        )
    remote = tmp_path / "team.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    service.remote_add("origin", str(remote), repo=jp_root_dir)
    return remote


async def finish(api: Api, response: HTTPResponse) -> dict[str, Any]:
    """Poll the job a push or pull answered until it is no longer running."""
    assert response.code == 202
    location = response.headers["Location"]
    job_id = location.split("/jobs/")[1].split("?")[0]
    assert "path=train.ipynb" in location
    for _ in range(400):
        job = await api.get("jobs", job_id)
        if job["state"] != "running":
            return job
        await asyncio.sleep(0.05)
    raise AssertionError("the job did not finish")


async def test_remotes_are_listed(api: Api, seeded: Path) -> None:
    body = await api.get("remotes")

    assert body == {
        "remotes": [{"name": "origin", "url": str(seeded), "payloads": None, "payload_options": []}]
    }


async def test_push_runs_as_a_job_and_reports_each_ref(
    api: Api, seeded: Path, jp_root_dir: Path
) -> None:
    job = await finish(api, await api.request("POST", "push", body={}))

    assert job["state"] == "succeeded" and job["kind"] == "push" and job["finished"]
    (ref,) = job["result"]["refs"]
    assert ref["status"] == "created" and ref["notebook"] == "train.ipynb"
    head = mlvc.show("main", repo=jp_root_dir, notebook=jp_root_dir / "train.ipynb")["id"]
    tip = subprocess.run(
        ["git", "--git-dir", str(seeded), "rev-parse", "refs/heads/train.ipynb/main"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert tip == head

    again = await finish(api, await api.request("POST", "push", body={"remote": "origin"}))
    assert again["result"]["refs"][0]["status"] == "up-to-date"


async def test_pull_reports_divergence_and_keeps_both(
    api: Api, seeded: Path, jp_root_dir: Path, tmp_path: Path
) -> None:
    await finish(api, await api.request("POST", "push", body={}))
    other = Path(service.clone(str(seeded), tmp_path / "other")["path"])
    (other / "train.ipynb").write_bytes((jp_root_dir / "train.ipynb").read_bytes())
    mlvc.commit("theirs", variables={"x": 1}, notebook=other / "train.ipynb", repo=other)
    service.push(repo=other)
    mlvc.commit("mine", variables={"x": 2}, notebook=jp_root_dir / "train.ipynb", repo=jp_root_dir)

    push = await finish(api, await api.request("POST", "push", body={}))
    pull = await finish(api, await api.request("POST", "pull", body={}))

    assert push["result"]["rejected"] == 1
    assert push["result"]["refs"][0]["status"] == "rejected"
    assert "diverged" in push["result"]["refs"][0]["message"]
    (row,) = pull["result"]["refs"]
    assert (row["status"], row["ahead"], row["behind"]) == ("diverged", 1, 1)


async def test_a_failed_job_says_why(api: Api, seeded: Path) -> None:
    subprocess.run(["rm", "-rf", str(seeded)], check=True)

    job = await finish(api, await api.request("POST", "push", body={}))

    assert job["state"] == "failed" and job["result"] is None
    assert job["error"]["status"] == 502 and "not a git repository" in job["error"]["message"]


async def test_one_job_at_a_time_per_store(
    api: Api, seeded: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = threading.Event()

    def slow_push(*args: Any, progress: Any = None, **kwargs: Any) -> dict[str, Any]:
        progress({"phase": "uploading payloads", "done": 5, "total": 10})
        release.wait(10)
        return {"remote": "origin", "url": "x", "refs": [], "rejected": 0, "payloads": None}

    monkeypatch.setattr(service, "push", slow_push)
    first = await api.request("POST", "push", body={})
    job_id = first.headers["Location"].split("/jobs/")[1].split("?")[0]
    for _ in range(100):
        running = await api.get("jobs", job_id)
        if running["phase"] == "uploading payloads":
            break
        await asyncio.sleep(0.02)
    assert (running["state"], running["done"], running["total"]) == ("running", 5, 10)

    code, body = await api.error("POST", "pull", body={})
    assert code == 409 and body["reason"] == "JobRunning"
    release.set()
    assert (await finish(api, first))["state"] == "succeeded"


async def test_bad_requests_are_refused(api: Api, seeded: Path, jp_root_dir: Path) -> None:
    code, body = await api.error("POST", "push", body={"remote": "nope"})
    assert code == 404 and body["reason"] == "RemoteNotFoundError"
    code, body = await api.error("POST", "push", body={"force": "yes"})
    assert code == 400
    code, body = await api.error("POST", "push", body={"branches": "main"})
    assert code == 400
    code, body = await api.error("POST", "pull", body={"remote": "origin", "extra": 1})
    assert code == 400
    code, body = await api.error("GET", "jobs", "abc123")
    assert code == 404
    service.remote_remove("origin", repo=jp_root_dir)
    code, body = await api.error("POST", "pull", body={})
    assert code == 404 and "no remote" in body["message"]
