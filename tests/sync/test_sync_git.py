"""Push, pull and clone through real git servers: a local bare repository, ``git daemon``
(git://) and ``git http-backend`` (smart http). Payloads travel through git here (no
payload remote)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import mlvc_server as mlvc
from mlvc_server import service
from mlvc_server.errors import RemoteNotFoundError

from .conftest import git, remote_repo, weights

KINDS = ["local", "git", "http"]


@pytest.fixture(params=KINDS)
def remote(
    request: pytest.FixtureRequest, tmp_path: Path, git_daemon: Any, http_git: Any
) -> tuple[str, Path]:
    return remote_repo(request.param, tmp_path, git_daemon, http_git)


def log_ids(repo: Path) -> list[str]:
    return [c["id"] for c in mlvc.log(repo=repo, notebook=None)]


def test_clone_gets_the_same_history_and_byte_identical_variables(
    project: Path, tmp_path: Path, remote: tuple[str, Path]
) -> None:
    url, folder = remote
    v1, v2 = weights(1), weights(2)
    c1 = mlvc.commit("first", variables=v1, repo=project, params={"lr": 0.1})
    c2 = mlvc.commit("second", variables=v2, repo=project, metrics={"acc": 0.9})
    mlvc.tag("champion", c1, repo=project)
    service.remote_add("origin", url, repo=project)

    pushed = service.push(repo=project)

    assert {r["status"] for r in pushed["refs"]} == {"created"} and pushed["rejected"] == 0
    assert git(folder, "rev-parse", "refs/heads/_/main").strip() == c2
    assert git(folder, "rev-parse", "refs/tags/_/champion").strip() == c1
    git(folder, "fsck", "--full", "--strict")  # the real git client is happy

    cloned = service.clone(url, tmp_path / "b")
    b = Path(cloned["path"])

    assert log_ids(b) == [c2, c1]
    assert mlvc.show("champion", repo=b)["id"] == c1
    for rev, vals in (("HEAD", v2), ("champion", v1)):
        got = mlvc.restore(rev, repo=b)
        assert set(got) == set(vals)
        for name, value in vals.items():
            if isinstance(value, np.ndarray):
                assert got[name].tobytes() == value.tobytes()
            else:
                assert got[name] == value
    assert mlvc.fsck(repo=b)["ok"]
    git(b / ".mlvc", "fsck", "--full", "--strict")


def test_push_sends_only_what_the_remote_lacks(project: Path, remote: tuple[str, Path]) -> None:
    url, folder = remote
    mlvc.commit("first", variables=weights(1), repo=project)
    service.remote_add("origin", url, repo=project)
    service.push(repo=project)
    again = service.push(repo=project)
    assert [r["status"] for r in again["refs"]] == ["up-to-date"]

    before = set(git(folder, "rev-list", "--objects", "--all").split())
    changed = weights(1)
    changed["w0"] = changed["w0"] + 1  # one array of three changes
    mlvc.commit("second", variables=changed, repo=project)
    pushed = service.push(repo=project)
    after = set(git(folder, "rev-list", "--objects", "--all").split())

    assert [r["status"] for r in pushed["refs"]] == ["fast-forward"]
    new = after - before
    sizes = {
        int(git(folder, "cat-file", "-s", sha).strip())
        for sha in new
        if len(sha) == 40 and git(folder, "cat-file", "-t", sha).strip() == "blob"
    }
    # the changed array's data is new; the two unchanged arrays were not sent again
    assert sum(1 for s in sizes if s >= 1_000_000) == 1


def test_divergence_is_reported_and_nothing_is_overwritten_without_force(
    project: Path, tmp_path: Path, remote: tuple[str, Path]
) -> None:
    url, folder = remote
    base = mlvc.commit("base", variables=weights(1), repo=project)
    service.remote_add("origin", url, repo=project)
    service.push(repo=project)
    b = Path(service.clone(url, tmp_path / "b")["path"])
    theirs = mlvc.commit("theirs", variables={"x": 1}, repo=b)
    service.push(repo=b)
    mine1 = mlvc.commit("mine 1", variables={"x": 2}, repo=project)
    mine2 = mlvc.commit("mine 2", variables={"x": 3}, repo=project)

    out = service.push(repo=project)

    (row,) = out["refs"]
    assert row["status"] == "rejected" and (row["ahead"], row["behind"]) == (2, 1)
    assert "diverged" in row["message"] and "main" in row["message"]
    assert git(folder, "rev-parse", "refs/heads/_/main").strip() == theirs

    pulled = service.pull(repo=project)

    (row,) = pulled["refs"]
    assert row["status"] == "diverged" and (row["ahead"], row["behind"]) == (2, 1)
    # both kept: ours on the branch, theirs as a remote-tracking ref
    assert log_ids(project)[:3] == [mine2, mine1, base]
    store = service.workspace().store(project)
    assert store.ref(b"refs/remotes/origin/_/main") == theirs

    forced = service.push(repo=project, force=True)
    assert forced["refs"][0]["status"] == "forced"
    assert git(folder, "rev-parse", "refs/heads/_/main").strip() == mine2


def test_pull_fast_forwards_and_creates_branches(
    project: Path, tmp_path: Path, remote: tuple[str, Path]
) -> None:
    url, _folder = remote
    mlvc.commit("base", variables={"x": 1}, repo=project)
    service.remote_add("origin", url, repo=project)
    service.push(repo=project)
    b = Path(service.clone(url, tmp_path / "b")["path"])
    new = mlvc.commit("more", variables=weights(3), repo=project)
    mlvc.branch("sweep", repo=project)
    side = mlvc.commit("on sweep", variables={"x": 5}, repo=project)
    service.push(repo=project)

    out = service.pull(repo=b)

    status = {r["name"]: r["status"] for r in out["refs"]}
    assert status == {"main": "fast-forward", "sweep": "created"}
    assert mlvc.show("main", repo=b)["id"] == new
    assert mlvc.show("sweep", repo=b)["id"] == side
    assert mlvc.load("main", "w1", repo=b).tobytes() == weights(3)["w1"].tobytes()


def test_remote_config(project: Path, tmp_path: Path) -> None:
    with pytest.raises(RemoteNotFoundError, match="no remote"):
        service.push(repo=project)
    service.remote_add("origin", str(tmp_path / "x.git"), repo=project)
    service.remote_add("backup", "git://127.0.0.1:1/x.git", repo=project, payloads="file:///tmp/p")
    assert [(r["name"], r["payloads"]) for r in service.remotes(repo=project)] == [
        ("backup", "file:///tmp/p"),
        ("origin", None),
    ]
    # plain git sees the remote too
    assert "x.git" in git(project / ".mlvc", "remote", "-v")
    with pytest.raises(mlvc.MlvcError, match="exists already"):
        service.remote_add("origin", "elsewhere", repo=project)
    with pytest.raises(mlvc.MlvcError, match="invalid remote name"):
        service.remote_add("no spaces", "x", repo=project)
    service.remote_remove("backup", repo=project)
    assert [r["name"] for r in service.remotes(repo=project)] == ["origin"]
    with pytest.raises(RemoteNotFoundError):
        service.pull("backup", repo=project)
