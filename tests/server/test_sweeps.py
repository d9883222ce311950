"""``POST /mlvc/sweeps``: a sweep of the notebook as a job (the panel's "Start Sweep…"),
its progress counted run by run, its outcomes the job's result."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from pathlib import Path
from typing import Any

import nbformat
import pytest
from tornado.httpclient import HTTPClientError

from mlvc_server import service

from .conftest import Api

pytestmark = pytest.mark.timeout(300)


@pytest.fixture
def sweepable(jp_root_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MLVC_CONFIG_DIR", str(jp_root_dir / ".config"))
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    params = nbformat.v4.new_code_cell("lr = 0.1", id="p")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell("acc = 1 - lr", id="m")]
    path = jp_root_dir / "train.ipynb"
    nbformat.write(nb, path)
    return path  # no store yet: the sweep makes one, as `mlvc sweep` does


async def test_a_sweep_runs_as_a_job_with_progress(api: Api, sweepable: Path) -> None:
    response = await api.request(
        "POST", "sweeps", body={"params": {"lr": [0.1, 0.5]}, "jobs": 1, "name": "ui"}
    )
    assert response.code == 202
    job_id = response.headers["Location"].split("/jobs/")[1].split("?")[0]
    seen: list[tuple[Any, Any]] = []
    for _ in range(2400):
        job = await api.get("jobs", job_id)
        seen.append((job["done"], job["total"]))
        if job["state"] != "running":
            break
        await asyncio.sleep(0.1)
    assert job["state"] == "succeeded", job
    assert job["kind"] == "sweep"
    outcomes = job["result"]["outcomes"]
    assert [o["status"] for o in outcomes] == ["ok", "ok"]
    assert {o["branch"] for o in outcomes} == {"sweep/ui/lr=0.1", "sweep/ui/lr=0.5"}
    assert (0, 2) in seen  # counted from the start
    assert any(d == 1 and t == 2 for d, t in seen)  # and run by run
    head = service.log(repo=sweepable.parent, rev=outcomes[1]["commit"], limit=1)[0]
    assert head["metrics"] == {"acc": 0.5} and head["params"] == {"lr": 0.5}
    # the user's branch did not move
    current = [
        b for b in service.branches(repo=sweepable.parent, notebook=sweepable) if b["current"]
    ]
    assert [b["name"] for b in current] == ["main"]


async def test_bad_sweeps_are_refused(api: Api, sweepable: Path) -> None:
    for body, words in (
        ({"params": {}}, "1 to 16 names"),
        ({"params": {"not a name": [1]}}, "not a Python variable name"),
        ({"params": {"lr": []}}, "list of 1 to 100"),
        ({"params": {"lr": [{"nested": 1}]}}, "list of 1 to 100"),
        ({"params": {"a": list(range(40)), "b": list(range(40))}}, "1600 combinations"),
        ({"params": {"lr": [1]}, "jobs": 0}, "'jobs'"),
        ({"params": {"lr": [1]}, "colour": "red"}, "colour"),
    ):
        code, err = await api.error("POST", "sweeps", body=body)
        assert code == 400 and words in err["message"], (body, err)


@pytest.fixture
def slow_sweepable(jp_root_dir: Path, sweepable: Path) -> Path:
    """``train.ipynb`` whose run with ``lr`` waits while the file ``slow-LR`` exists
    (after writing ``started-LR``)."""
    nb = nbformat.read(sweepable, as_version=4)
    nb.cells[1].source = (
        "import os, time\n"
        "if os.path.exists(f'slow-{lr}'): open(f'started-{lr}', 'w').close()\n"
        "while os.path.exists(f'slow-{lr}'): time.sleep(0.1)\n"
        "acc = 1 - lr"
    )
    nbformat.write(nb, sweepable)
    return sweepable


async def wait_job(api: Api, job_id: str, until: Any, limit: float = 120) -> dict[str, Any]:
    for _ in range(int(limit * 10)):
        job: dict[str, Any] = await api.get("jobs", job_id)
        if until(job):
            return job
        await asyncio.sleep(0.1)
    raise AssertionError(f"the job never got there: {job}")


async def test_a_sweep_job_is_cancelled_its_slot_freed_and_resumed(
    api: Api, slow_sweepable: Path, jp_root_dir: Path
) -> None:
    (jp_root_dir / "slow-0.5").write_text("")
    body = {"params": {"lr": [0.1, 0.5, 0.9]}, "jobs": 1, "name": "cx"}
    response = await api.request("POST", "sweeps", body=body)
    job_id = json.loads(response.body)["id"]
    job = await wait_job(api, job_id, lambda j: (jp_root_dir / "started-0.5").exists())
    assert job["state"] == "running" and job["cancellable"] and job["done"] == 1
    assert job["total"] == 3 and job["eta"] is not None and job["eta"] > 0
    # a page opened now finds the running sweep among the store's jobs
    listed = (await api.get("jobs"))["jobs"]
    assert [(j["id"], j["kind"], j["state"]) for j in listed] == [(job_id, "sweep", "running")]
    assert listed[0]["cancellable"]
    with pytest.raises(HTTPClientError) as refused:
        await api.request("GET", "jobs", headers={"Authorization": ""})
    assert refused.value.code == 403
    # without credentials the cancel is refused, and the sweep runs on
    with pytest.raises(HTTPClientError) as refused:
        await api.request("DELETE", "jobs", job_id, headers={"Authorization": ""})
    assert refused.value.code == 403
    assert (await api.get("jobs", job_id))["state"] == "running"

    t0 = time.monotonic()
    cancelled = json.loads((await api.request("DELETE", "jobs", job_id)).body)
    assert time.monotonic() - t0 < 20
    assert cancelled["state"] == "cancelled" and not cancelled["cancellable"]
    outcomes = cancelled["result"]["outcomes"]
    assert [o["status"] for o in outcomes] == ["ok", "cancelled", "cancelled"]
    assert outcomes[1]["commit"] is None and outcomes[0]["commit"]
    names = {b["name"] for b in service.branches(repo=jp_root_dir, notebook=slow_sweepable)}
    assert "sweep/cx/lr=0.1" in names and not names & {"sweep/cx/lr=0.5", "sweep/cx/lr=0.9"}
    # cancelling it again answers it as it is
    again = json.loads((await api.request("DELETE", "jobs", job_id)).body)
    assert again["state"] == "cancelled"

    # the slot is free at once: the same sweep starts again and runs only the rest
    (jp_root_dir / "slow-0.5").unlink()
    response = await api.request("POST", "sweeps", body=body)
    assert response.code == 202
    resumed = await wait_job(
        api, json.loads(response.body)["id"], lambda j: j["state"] != "running"
    )
    assert resumed["state"] == "succeeded", resumed
    statuses = [o["status"] for o in resumed["result"]["outcomes"]]
    assert statuses == ["skipped", "ok", "ok"]
    assert resumed["result"]["outcomes"][0]["commit"] == outcomes[0]["commit"]
    # newest first, the cancelled one kept
    listed = (await api.get("jobs"))["jobs"]
    assert [(j["id"], j["state"]) for j in listed] == [
        (resumed["id"], "succeeded"),
        (job_id, "cancelled"),
    ]


async def test_a_sweep_cancelled_as_it_starts_reports_its_runs_cancelled(
    api: Api, slow_sweepable: Path, jp_root_dir: Path
) -> None:
    body = {"params": {"lr": [0.1, 0.5]}, "jobs": 1, "name": "early"}
    job_id = json.loads((await api.request("POST", "sweeps", body=body)).body)["id"]
    # at once: the process is still starting (its signal handlers not in place yet)
    cancelled = json.loads((await api.request("DELETE", "jobs", job_id)).body)
    assert cancelled["state"] == "cancelled", cancelled
    assert cancelled["error"] is None, cancelled
    assert [o["status"] for o in cancelled["result"]["outcomes"]] == ["cancelled"] * 2
    names = {b["name"] for b in service.branches(repo=jp_root_dir, notebook=slow_sweepable)}
    assert not [n for n in names if n.startswith("sweep/early/")]


async def test_only_sweeps_can_be_cancelled(api: Api, jp_root_dir: Path) -> None:
    from mlvc_server.errors import JobNotCancellableError
    from mlvc_server.server.sync import JobRegistry

    jobs = JobRegistry()
    gate = threading.Event()
    push = jobs.start("push", jp_root_dir, lambda progress: gate.wait(30))
    assert push is not None
    with pytest.raises(JobNotCancellableError, match="only sweeps"):
        jobs.cancel(push, "test")
    assert push.as_json()["cancellable"] is False
    gate.set()
    assert push.thread is not None
    push.thread.join(10)
    assert push.state == "succeeded"
    assert jobs.cancel(push, "test") is push and push.state == "succeeded"
