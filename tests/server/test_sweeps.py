"""``POST /mlvc/sweeps``: a sweep of the notebook as a job (the panel's "Start Sweep…"),
its progress counted run by run, its outcomes the job's result."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import nbformat
import pytest

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
