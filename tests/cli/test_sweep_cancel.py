"""Cancelling a sweep with real kernels: in-process through ``service.sweeps`` and the
CLI's local executor, and ``mlvc sweep`` stopped by SIGTERM; the running kernels shut
down, nothing is committed for the cancelled runs, and the next sweep runs only them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import psutil
import pytest

from mlvc_server import service
from mlvc_server.cli.sweep import local_executor
from mlvc_server.service.sweeps import SweepCancel, SweepOutcome, sweep

from .notebooks import parameterized_project

pytestmark = pytest.mark.timeout(300)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return parameterized_project(
        tmp_path,
        monkeypatch,
        "a = 1\nb = 1",
        # a run whose slow-A-B file exists says where it runs, then waits for it
        "import os, time\n"
        "import mlvc_server as mlvc\n"
        "if os.path.exists(f'slow-{a}-{b}'):\n"
        "    open(f'started-{a}-{b}', 'w').write(str(os.getpid()))\n"
        "while os.path.exists(f'slow-{a}-{b}'): time.sleep(0.1)\n"
        "mlvc.log_metrics(score=a * 10 + b)",
    )


def wait_for(paths: list[Path], limit: float = 120) -> list[int]:
    """The kernel pids written in ``paths``, once they all exist."""
    deadline = time.monotonic() + limit
    while not all(p.exists() and p.read_text() for p in paths):
        assert time.monotonic() < deadline, f"never started: {paths}"
        time.sleep(0.1)
    return [int(p.read_text()) for p in paths]


def gone(pid: int, limit: float = 15) -> bool:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.1)
    return False


def sweep_branches(root: Path, name: str) -> dict[str, str]:
    nb = root / "train.ipynb"
    return {
        b["name"]: b["head"]
        for b in service.branches(repo=root, notebook=nb)
        if b["name"].startswith(f"sweep/{name}/")
    }


def test_cancel_stops_the_running_kernel_in_process(project: Path) -> None:
    nb = project / "train.ipynb"
    base = service.commit("base", repo=project, notebook=nb, sources=False)
    (project / "slow-1-1").write_text("")
    cancel = SweepCancel()
    result: dict[str, list[SweepOutcome]] = {}
    executor = local_executor(1, str(project), str(nb), {"timeout": None, "kernel": None})
    t = threading.Thread(
        target=lambda: result.update(
            out=sweep(
                {"a": [1], "b": [1, 2]},
                executor,
                repo=project,
                notebook=nb,
                name="svc",
                cancel=cancel,
            )
        )
    )
    # children of earlier tests (servers, daemons) may still run in this process
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    t.start()
    (pid,) = wait_for([project / "started-1-1"])
    ours = {p.pid for p in psutil.Process().children(recursive=True)} - before
    assert pid in ours
    t0 = time.monotonic()
    cancel.cancel("test")
    t.join(timeout=60)
    assert not t.is_alive()
    stopped = time.monotonic() - t0
    assert stopped < 15, stopped  # the kernel is killed, not waited for
    assert [(o.job.label, o.status, o.commit) for o in result["out"]] == [
        ("a=1+b=1", "cancelled", None),
        ("a=1+b=2", "cancelled", None),
    ]
    assert gone(pid)
    # the running kernel and the one started ahead for the next run: none is left
    assert all(gone(p) for p in ours), ours
    assert sweep_branches(project, "svc") == {}
    assert service.show("HEAD", repo=project, notebook=nb)["id"] == base


def test_sigterm_cancels_mlvc_sweep_and_a_resume_runs_the_rest(project: Path) -> None:
    for slow in ("slow-1-2", "slow-2-1"):
        (project / slow).write_text("")
    cmd = [sys.executable, "-m", "mlvc_server.cli", "sweep", "train.ipynb"]
    cmd += ["-p", "a=1,2", "-p", "b=1,2", "--jobs", "2", "--name", "sig"]
    proc = subprocess.Popen(
        cmd, cwd=project, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        # a=1+b=1 ends at once; a=1+b=2 and then a=2+b=1 hang: a=2+b=2 never starts
        pids = wait_for([project / "started-1-2", project / "started-2-1"])
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert "SIGTERM: cancelling" in err and "[1/4] a=1+b=1: ok" in err
    assert "4 runs: 3 cancelled, 1 ok" in out, out
    assert "Cancelled: 3 combinations did not run" in out
    assert all(gone(p) for p in pids)
    heads = sweep_branches(project, "sig")
    assert list(heads) == ["sweep/sig/a=1+b=1"]  # no commit, no branch for the others
    first = heads["sweep/sig/a=1+b=1"]
    # resume: only the three missing combinations run
    for slow in ("slow-1-2", "slow-2-1"):
        (project / slow).unlink()
    again = subprocess.run(
        [*cmd, "--json"], cwd=project, capture_output=True, text=True, timeout=200
    )
    assert again.returncode == 0, again.stderr
    assert "[0/3] started: 3 to run, 1 committed before (skipped)" in again.stderr
    outcomes: list[dict[str, Any]] = json.loads(again.stdout)
    assert [o["status"] for o in outcomes] == ["skipped", "ok", "ok", "ok"]
    assert outcomes[0]["commit"] == first
    runs = {
        b: service.log(repo=project, rev=h, limit=1)[0]["metrics"]
        for b, h in sweep_branches(project, "sig").items()
    }
    assert runs == {
        "sweep/sig/a=1+b=1": {"score": 11},
        "sweep/sig/a=1+b=2": {"score": 12},
        "sweep/sig/a=2+b=1": {"score": 21},
        "sweep/sig/a=2+b=2": {"score": 22},
    }
    assert os.path.exists(project / "train.ipynb")


def test_sigterm_cancels_a_dask_sweep_and_its_running_tasks_stop(project: Path) -> None:
    dask = pytest.importorskip("dask")
    distributed = pytest.importorskip("distributed")
    for slow in ("slow-1-1", "slow-1-2"):
        (project / slow).write_text("")
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        cluster = distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        )
    try:
        cmd = [sys.executable, "-m", "mlvc_server.cli", "sweep", "train.ipynb"]
        cmd += ["-p", "a=1", "-p", "b=1,2,3", "--name", "dk", "--cluster"]
        cmd += [cluster.scheduler_address]
        proc = subprocess.Popen(
            cmd, cwd=project, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        try:
            # both workers run a slow run; a=1+b=3 waits for a free worker
            pids = wait_for([project / "started-1-1", project / "started-1-2"])
            t0 = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert proc.returncode == 128 + signal.SIGTERM, err
        assert time.monotonic() - t0 < 30  # the tasks stopped their runs (not a hang)
        assert "3 runs: 3 cancelled" in out, out
        assert all(gone(p) for p in pids)  # the runs' kernels, on the workers
        assert sweep_branches(project, "dk") == {}
        # the workers run nothing any more (Dask itself cannot stop a running task)
        with distributed.Client(cluster) as client:
            deadline = time.monotonic() + 20
            while any(client.call_stack().values()) and time.monotonic() < deadline:
                time.sleep(0.2)
            assert not any(client.call_stack().values())
    finally:
        cluster.close()
