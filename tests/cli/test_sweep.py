"""``mlvc sweep``: local processes, and a Dask LocalCluster of 2 worker processes (one
killed mid-sweep: only its run is lost, and a resume completes it)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from mlvc_server import service

from .notebooks import mlvc_process, parameterized_project

pytestmark = pytest.mark.timeout(600)


def mlvc(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return mlvc_process(cwd, *args, timeout=500)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return parameterized_project(
        tmp_path,
        monkeypatch,
        "a = 1\nb = 1",
        "import os, time\n"
        "import mlvc_server as mlvc\n"
        "if b == 0: raise ValueError('b is zero')\n"
        "if os.path.exists(f'slow-{a}-{b}'): open(f'started-{a}-{b}', 'w').close()\n"
        "while os.path.exists(f'slow-{a}-{b}'): time.sleep(0.2)\n"
        "mlvc.log_metrics(score=a * 10 + b)",
    )


def sweep_commits(root: Path, name: str) -> dict[str, dict[str, Any]]:
    """Branch -> the summary at its head, for the sweep's branches."""
    out = {}
    for b in service.branches(repo=root, notebook=root / "train.ipynb"):
        if b["name"].startswith(f"sweep/{name}/") and b["head"]:
            out[b["name"]] = service.log(repo=root, rev=b["head"], limit=1)[0]
    return out


def test_local_sweep_commits_each_run_on_its_branch_and_resumes(project: Path) -> None:
    p = mlvc(project, "sweep", "train.ipynb", "-p", "a=1", "-p", "b=0,2", "--jobs", "2")
    assert p.returncode == 1  # b=0 fails
    assert "[2/2]" in p.stderr and "ETA" in p.stderr
    assert "2 runs: 1 failed, 1 ok" in p.stdout and "ValueError: b is zero" in p.stdout
    assert "metrics.score" in p.stdout and "12 *" in p.stdout
    heads = sweep_commits(project, "train")
    assert set(heads) == {"sweep/train/a=1+b=0", "sweep/train/a=1+b=2"}
    ok = heads["sweep/train/a=1+b=2"]
    assert ok["status"] == "ok" and ok["metrics"] == {"score": 12}
    assert ok["params"] == {"a": 1, "b": 2} and ok["branch"] == "sweep/train/a=1+b=2"
    assert heads["sweep/train/a=1+b=0"]["status"] == "failed"
    again = mlvc(project, "sweep", "train.ipynb", "-p", "a=1", "-p", "b=0,2", "--json")
    outcomes = json.loads(again.stdout)
    assert [o["status"] for o in outcomes] == ["failed", "skipped"]
    assert outcomes[1]["commit"] == ok["id"]


def test_dask_cluster_sweep_survives_a_killed_worker(project: Path) -> None:
    dask = pytest.importorskip("dask")
    distributed = pytest.importorskip("distributed")
    victim = "a=2+b=3"
    (project / "slow-2-3").write_text("")
    # a task whose worker dies is not retried elsewhere (the default retries it): lost
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        cluster = distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        )
    client = distributed.Client(cluster)
    try:
        result: dict[str, Any] = {}
        args = ["sweep", "train.ipynb", "-p", "a=1,2", "-p", "b=1,2,3", "--name", "dk"]
        args += ["--cluster", cluster.scheduler_address]
        t = threading.Thread(target=lambda: result.update(p=mlvc(project, *args)))
        t.start()
        # wait until the victim's run is under way on a worker, then kill that worker
        pid = None
        deadline = time.monotonic() + 240
        while pid is None and time.monotonic() < deadline:
            if (project / "started-2-3").exists():  # its notebook is running
                for addr, tasks in client.call_stack().items():  # executing, not queued
                    if any(victim in str(k) for k in tasks):
                        pid = client.run(os.getpid, workers=[addr])[addr]
            time.sleep(0.2)
        assert pid, "the victim's run never started"
        os.kill(pid, signal.SIGKILL)
        (project / "slow-2-3").unlink()
        t.join(timeout=400)
        p = result["p"]
        assert p.returncode == 1, p.stderr
        assert "6 runs: 1 lost, 5 ok" in p.stdout, p.stdout
        heads = sweep_commits(project, "dk")
        # a branch made while the notebook had no commit starts from whatever HEAD was:
        # what counts is a commit of the branch's own run at its head
        done = {b for b, s in heads.items() if s["status"] == "ok" and s["branch"] == b}
        assert len(done) == 5 and f"sweep/dk/{victim}" not in done
        # resume: only the lost run runs again
        again = mlvc(project, *args)
        assert again.returncode == 0, again.stdout + again.stderr
        assert "6 runs: 1 ok, 5 skipped" in again.stdout
        heads = sweep_commits(project, "dk")
        assert len(heads) == 6
        for branch, s in heads.items():
            a, b = (int(kv.split("=")[1]) for kv in branch.split("/")[-1].split("+"))
            assert s["status"] == "ok" and s["metrics"] == {"score": a * 10 + b}
            assert s["branch"] == branch
    finally:
        client.close()
        cluster.close()


GIT_DAEMON = "/usr/lib/git-core/git-daemon"


@pytest.fixture
def git_remote(tmp_path: Path) -> Any:
    """A bare repository served by ``git daemon`` on 127.0.0.1 (git://): the project's
    remote, reached over the network, not through a path both sides see."""
    if not os.path.exists(GIT_DAEMON):
        pytest.skip("git-daemon is not installed")
    import socket

    base = tmp_path / "server"
    base.mkdir()
    subprocess.run(["git", "init", "-q", "--bare", str(base / "proj.git")], check=True)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [
            GIT_DAEMON,
            "--reuseaddr",
            "--export-all",
            "--enable=receive-pack",
            f"--base-path={base}",
            "--listen=127.0.0.1",
            f"--port={port}",
            str(base),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    yield f"git://127.0.0.1:{port}/proj.git", base / "proj.git"
    proc.terminate()
    proc.wait(10)


def test_dask_sweep_without_a_shared_filesystem(
    project: Path, git_remote: tuple[str, Path]
) -> None:
    """Each worker runs in its own copy of the project (no shared .mlvc); the runs come
    home through the project's git remote. A worker killed mid-sweep loses only its run,
    which a resume completes."""
    import shutil

    dask = pytest.importorskip("dask")
    distributed = pytest.importorskip("distributed")
    url, bare_repo = git_remote
    coord = project / "coord"
    coord.mkdir()
    shutil.move(project / "train.ipynb", coord / "train.ipynb")
    assert mlvc(coord, "init").returncode == 0
    assert mlvc(coord, "commit", "-N", "train.ipynb", "-m", "base").returncode == 0
    base = service.log(repo=coord, notebook=coord / "train.ipynb")[0]["id"]
    assert mlvc(coord, "remote", "add", "origin", url).returncode == 0
    copies = [project / "w0", project / "w1"]
    for c in copies:  # each worker machine's checkout of the project: files, no store
        c.mkdir()
        shutil.copy(coord / "train.ipynb", c / "train.ipynb")
        (c / "slow-2-3").write_text("")
    victim = "a=2+b=3"
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        cluster = distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        )
    client = distributed.Client(cluster)
    try:
        result: dict[str, Any] = {}
        args = ["sweep", "train.ipynb", "-p", "a=1,2", "-p", "b=1,2,3", "--name", "nfs"]
        args += ["--cluster", cluster.scheduler_address, "--remote", "origin"]
        args += ["--worker-project", str(project / "w{worker}")]
        t = threading.Thread(target=lambda: result.update(p=mlvc(coord, *args)))
        t.start()
        pid = None
        deadline = time.monotonic() + 240
        while pid is None and time.monotonic() < deadline:
            if any((c / "started-2-3").exists() for c in copies):
                for addr, tasks in client.call_stack().items():
                    if any(victim in str(k) for k in tasks):
                        pid = client.run(os.getpid, workers=[addr])[addr]
            time.sleep(0.2)
        assert pid, "the victim's run never started"
        os.kill(pid, signal.SIGKILL)
        for c in copies:
            (c / "slow-2-3").unlink()
        t.join(timeout=400)
        p = result["p"]
        assert p.returncode == 1, p.stderr
        assert "6 runs: 1 lost, 5 ok" in p.stdout, p.stdout + p.stderr
        # the workers committed into their own stores, never into the coordinator's
        assert all((c / ".mlvc").is_dir() for c in copies)
        heads = sweep_commits(coord, "nfs")
        done = {b for b, s in heads.items() if s["status"] == "ok" and s["branch"] == b}
        assert len(done) == 5 and f"sweep/nfs/{victim}" not in done
        for b in done:
            assert heads[b]["parents"] == [base]  # each run starts from the notebook's HEAD
        # the runs are on the remote too, as plain git sees them
        refs = subprocess.run(
            ["git", "--git-dir", str(bare_repo), "for-each-ref", "--format=%(refname)"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert refs.count("refs/heads/train.ipynb/sweep/nfs/") == 6
        # the user's branch did not move
        main = service.log(repo=coord, notebook=coord / "train.ipynb", branch="main")
        assert main[0]["id"] == base
        again = mlvc(coord, *args)
        assert again.returncode == 0, again.stdout + again.stderr
        assert "6 runs: 1 ok, 5 skipped" in again.stdout
        heads = sweep_commits(coord, "nfs")
        assert len(heads) == 6
        for branch, s in heads.items():
            a, b = (int(kv.split("=")[1]) for kv in branch.split("/")[-1].split("+"))
            assert s["status"] == "ok" and s["metrics"] == {"score": a * 10 + b}
            assert s["branch"] == branch
        # a store the coordinator brought home from the remote is whole
        fsck = mlvc(coord, "fsck")
        assert fsck.returncode == 0, fsck.stdout + fsck.stderr
    finally:
        client.close()
        cluster.close()
