"""Commit (mlvc_server/service/commits.py): real git commits, skipped variables, crash
safety, concurrency."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import nbformat
import numpy as np
import pytest

import mlvc_server as mlvc
from mlvc_server import service
from mlvc_server.errors import (
    InvalidNameError,
    NoSpaceError,
    RefConflictError,
    VariableNotFoundError,
)

from .conftest import git, write_nb


def test_commit_is_a_git_commit_plain_git_reads(project: Path) -> None:
    X = np.random.default_rng(0).normal(size=(100, 4))
    cid = mlvc.commit(
        "first model",
        variables={"X": X, "lr": 0.1, "tags": ["a", "b"]},
        notebook="train.ipynb",
        params={"C": 1.0},
        metrics={"acc": 0.93},
    )
    assert git(project, "log", "--format=%H %an <%ae> %s").strip() == (
        f"{cid} Ana <ana@example.org> first model"
    )
    files = set(git(project, "ls-tree", "-r", "--name-only", cid).split())
    assert {"mlvc.json", "env.json", "hardware.json", "train.ipynb"} <= files
    assert "vars/X/manifest.json" in files
    record = json.loads(git(project, "show", f"{cid}:mlvc.json"))
    assert record["message"] == "first model"
    assert record["params"] == {"C": 1.0} and record["metrics"] == {"acc": 0.93}
    assert record["variables"]["X"]["shape"] == [100, 4]
    assert record["variables"]["X"]["dtype"] == "float64"
    assert record["variables"]["lr"]["format"] == "json"
    # one line per field and per variable, metric...: git diff of two records reads
    lines = git(project, "show", f"{cid}:mlvc.json").splitlines()
    assert lines[0] == "{" and lines[-1] == "}" and ' "message": "first model",' in lines
    for entry in ('  "acc": 0.93', '  "C": 1.0', '  "X": {"dtype": "float64"', '  "lr": {'):
        assert sum(ln.startswith(entry) for ln in lines) == 1, entry
    nb = nbformat.reads(git(project, "show", f"{cid}:train.ipynb"), as_version=4)
    assert nb.cells[1].source == "X = np.arange(10)"
    # concatenating the parts the manifest names gives a valid .npy file; the parts are
    # kept by the payload index ref, not named in the commit's tree
    manifest = json.loads(git(project, "show", f"{cid}:vars/X/manifest.json"))
    parts = [p for seg in manifest["segments"] for p in seg["parts"]]
    assert not any(p.startswith("vars/X/0") for p in files)
    kept = git(project, "ls-tree", "-r", "refs/mlvc/payloads")
    assert all(p in kept for p in parts)
    raw = b"".join(
        subprocess.run(
            ["git", "--git-dir", str(project / ".mlvc"), "cat-file", "blob", p],
            check=True,
            capture_output=True,
        ).stdout
        for p in parts
    )
    (project / "x.npy").write_bytes(raw)
    assert np.array_equal(np.load(project / "x.npy", allow_pickle=False), X)


def test_many_commits_pass_git_fsck_strict(project: Path) -> None:
    rng = np.random.default_rng(1)
    w = rng.normal(size=50_000)
    for i in range(30):
        w[i * 100 : i * 100 + 10] += 1
        mlvc.commit(f"step {i}", variables={"w": w, "i": i}, notebook="train.ipynb")
        if i == 15:
            mlvc.branch("exp")
    git(project, "fsck", "--strict", "--no-dangling")
    assert mlvc.fsck()["ok"]
    assert len(git(project, "log", "--all", "--format=%H").split()) == 30


def test_unstorable_variable_is_skipped_and_named(project: Path) -> None:
    import threading

    gen = (i for i in range(3))
    cid = mlvc.commit("x", variables={"gen": gen, "lock": threading.Lock(), "ok": 1})
    rec = mlvc.show(cid)
    assert set(rec["variables"]) == {"ok"}
    assert "generator" in rec["skipped"]["gen"]
    assert "lock" in rec["skipped"]["lock"].lower()
    with pytest.raises(VariableNotFoundError, match="skipped"):
        mlvc.load(cid, "gen")


def test_too_large_variable_is_skipped(project: Path) -> None:
    cid = mlvc.commit(
        "x", variables={"big": np.zeros(1000), "small": np.zeros(2)}, max_variable_bytes=1000
    )
    rec = mlvc.show(cid)
    assert "big" in rec["skipped"] and "small" in rec["variables"]


def test_params_and_metrics_logged_before_commit(project: Path) -> None:
    mlvc.log_params(lr=np.float32(0.25), layers=3)
    for step, loss in enumerate([0.9, 0.5, 0.3]):
        mlvc.log_metrics(loss=loss, step=step)
    cid = mlvc.commit("trained")
    rec = mlvc.show(cid)
    assert rec["params"] == {"lr": 0.25, "layers": 3}
    assert rec["metrics"] == {"loss": 0.3}
    assert rec["metric_series"] == {"loss": [[0, 0.9], [1, 0.5], [2, 0.3]]}
    assert mlvc.show(mlvc.commit("next"))["params"] == {}  # consumed by the commit


def test_failed_commit_leaves_the_branch_as_it_was(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    c1 = mlvc.commit("good", variables={"a": np.zeros(10)}, notebook="train.ipynb")

    def disk_full(*a: Any, **k: Any) -> Any:
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as m:
        m.setattr(service.commits.payload_store, "write_payload", disk_full)
        with pytest.raises(NoSpaceError, match=r"no space left.*No space left on device"):
            mlvc.commit("bad", variables={"a": np.ones(10)}, notebook="train.ipynb")
    assert [c["id"] for c in mlvc.log(notebook="train.ipynb")] == [c1]
    assert mlvc.fsck()["ok"]


def test_concurrent_ref_move_is_reported_not_lost(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    c1 = mlvc.commit("one")
    store = service.workspace().store(".")
    real_ref = store.ref

    def stale_ref(name: bytes) -> str | None:
        return c1 if name.startswith(b"refs/heads/") else real_ref(name)

    c2 = mlvc.commit("two")  # moves main past c1
    with monkeypatch.context() as m:
        m.setattr(store, "ref", stale_ref)  # a writer that read the ref before c2
        with pytest.raises(RefConflictError, match="another process"):
            mlvc.commit("three")
    assert [c["id"] for c in mlvc.log()] == [c2, c1]


def test_notebook_outside_project_is_refused(project: Path, tmp_path_factory: Any) -> None:
    mlvc.init(".")
    outside = tmp_path_factory.mktemp("elsewhere") / "x.ipynb"
    write_nb(outside, "1")
    with pytest.raises(InvalidNameError, match="outside the project"):
        mlvc.commit("x", notebook=str(outside))


def _commit_many(root: str, worker: int, n: int) -> list[str]:
    import mlvc_server as m

    return [
        m.commit(
            f"w{worker} c{i}",
            variables={"x": np.full(1000, worker * 100 + i)},
            repo=root,
            notebook=f"{root}/train.ipynb",
            sources=False,
        )
        for i in range(n)
    ]


def test_concurrent_writers_lose_no_commit(project: Path) -> None:
    from concurrent.futures import ProcessPoolExecutor

    mlvc.init(".")
    with ProcessPoolExecutor(4) as pool:
        futures = [pool.submit(_commit_many, str(project), w, 8) for w in range(4)]
        made = {cid for f in futures for cid in f.result()}
    assert len(made) == 32
    history = mlvc.log(notebook="train.ipynb")
    assert {c["id"] for c in history} == made  # one linear branch holding every commit
    assert all(len(c["parents"]) <= 1 for c in history)
    git(project, "fsck", "--strict")
    assert mlvc.fsck()["ok"]
    for cid in list(made)[:5]:
        rec = mlvc.show(cid)
        worker, i = int(rec["message"][1]), int(rec["message"].split("c")[-1])
        assert mlvc.load(cid, "x")[0] == worker * 100 + i


def test_deep_notebook_path_commits(project: Path) -> None:
    deep = project / "/".join(["folder" + "x" * 40] * 6)
    deep.mkdir(parents=True)
    write_nb(deep / "train.ipynb", "1")
    cid = mlvc.commit("deep", notebook=deep / "train.ipynb")
    assert mlvc.branches(notebook=deep / "train.ipynb")[0]["head"] == cid


def test_commit_to_a_new_branch_starts_from_head(project: Path) -> None:
    base = mlvc.commit("base", variables={"x": 1}, notebook="train.ipynb")
    on_exp = mlvc.commit("on exp", variables={"x": 2}, notebook="train.ipynb", branch="exp")
    assert mlvc.show(on_exp)["parents"] == [base]
    assert {b["name"]: b["head"] for b in mlvc.branches(notebook="train.ipynb")} == {
        "main": base,
        "exp": on_exp,
    }
