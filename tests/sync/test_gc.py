"""Retention and gc: the payload bytes of commits outside the policy are freed (bytes on
disk go down) while history, records, notebooks and small variables stay readable and
the real ``git fsck --full`` stays clean; restoring a pruned variable says so, or
fetches it from the payload remote."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest

import mlvc_server as mlvc
from mlvc_server import service
from mlvc_server.errors import PayloadMissingError
from mlvc_server.store import gc as store_gc

from .conftest import bare, git, weights


def disk_bytes(project: Path) -> int:
    total = 0
    for dirpath, _dirs, files in os.walk(project / ".mlvc" / "objects"):
        total += sum(os.lstat(os.path.join(dirpath, f)).st_size for f in files)
    return total


ARRAY = 1_200_128  # one float32 array of 300,000 as .npy
DATA = 1_200_000  # its data (the .npy header is one part shared by all of them)


def history(project: Path, n: int) -> list[str]:
    """``n`` commits of a 3 x 1.2 MB model, every array new in each (a training run)."""
    ids = []
    for i in range(n):
        v = weights(i)
        v["lr"] = 0.1 * (i + 1)
        ids.append(mlvc.commit(f"v{i}", variables=v, repo=project, metrics={"step": i}))
    return ids


def test_retention_frees_payload_bytes_and_git_fsck_stays_clean(project: Path) -> None:
    ids = history(project, 6)
    mlvc.tag("champion", ids[1], repo=project)
    keep_v = mlvc.restore(ids[1], repo=project)
    last_v = mlvc.restore(ids[-1], repo=project)
    before = disk_bytes(project)
    dry = service.gc(repo=project, keep_last=2, keep_tagged=True, dry_run=True, grace="now")
    assert disk_bytes(project) == before  # a dry run changes nothing

    report = service.gc(repo=project, keep_last=2, keep_tagged=True, grace="now")

    after = disk_bytes(project)
    assert (report["bytes_before"], report["bytes_after"]) == (before, after)
    # freed, less the few small index trees written for the new state
    assert 0 <= report["bytes_freed"] - (before - after) < 10_000
    # commits 0, 2, 3 lost their arrays (3 x 1.2 MB each); 1 (tagged), 4, 5 kept them
    assert sorted(report["commits_pruned"]) == sorted([ids[0], ids[2], ids[3]])
    # (less the pack of the new index trees: small objects are packed, ~2 KB)
    assert 9 * ARRAY - 10_000 <= before - after < 9 * ARRAY + 100_000
    # the dry run predicted it (less the few small index trees replaced meanwhile)
    assert 0 <= report["bytes_freed"] - dry["bytes_freed"] < 10_000
    assert git(project / ".mlvc", "fsck", "--full", "--strict", "--no-dangling") == ""
    assert mlvc.fsck(repo=project)["ok"]
    # history, records and small variables stay
    assert [c["id"] for c in mlvc.log(repo=project, notebook=None)] == ids[::-1]
    assert mlvc.show(ids[0], repo=project)["metrics"] == {"step": 0}
    assert mlvc.load(ids[0], "lr", repo=project) == pytest.approx(0.1)  # small: kept
    # kept commits restore byte-identical
    for cid, vals in ((ids[1], keep_v), (ids[-1], last_v)):
        got = mlvc.restore(cid, repo=project)
        for name, value in vals.items():
            assert np.array_equal(got[name], value)
    # a pruned one says so, naming the commit and the variable
    with pytest.raises(PayloadMissingError) as info:
        mlvc.load(ids[0], "w0", repo=project)
    assert ids[0][:8] in str(info.value) and "'w0'" in str(info.value)
    assert "pruned" in str(info.value)
    # what is left is still all needed: a second gc frees nothing
    again = service.gc(repo=project, keep_last=2, keep_tagged=True, grace="now")
    assert again["bytes_freed"] == 0


def test_pruned_payloads_come_back_from_the_payload_remote(project: Path, tmp_path: Path) -> None:
    ids = history(project, 3)
    old = mlvc.load(ids[0], "w0", repo=project)
    service.remote_add(
        "origin", str(bare(tmp_path / "r.git")), repo=project, payloads=(tmp_path / "p").as_uri()
    )
    service.push(repo=project)
    service.gc(repo=project, keep_last=1, grace="now")
    assert (
        not service.workspace()
        .store(project)
        .has_object(
            service.format.read_manifest(service.workspace().store(project), ids[0], "w0")[
                "segments"
            ][1]["parts"][0]
        )
    )

    assert np.array_equal(mlvc.load(ids[0], "w0", repo=project), old)


def test_gc_keeps_what_is_young_and_removes_stale_temporary_files(project: Path) -> None:
    ids = history(project, 2)
    store = service.workspace().store(project)
    stale = store.objects_dir / "tmp_obj_999_1_1"
    stale.write_bytes(b"x" * 1000)
    old = time.time() - 7200
    os.utime(stale, (old, old))
    fresh = store.objects_dir / "tmp_obj_999_1_2"
    fresh.write_bytes(b"y" * 10)

    # with the default grace period, the pruned commit's parts are too young to go
    young = service.gc(repo=project, keep_last=1)
    assert young["commits_pruned"] == [ids[0]] and young["objects_deleted"] == 0
    assert young["temp_files_deleted"] == 1
    assert not stale.exists() and fresh.exists()
    assert git(project / ".mlvc", "fsck", "--full", "--strict", "--no-dangling") == ""

    # later (an hour on), they go
    later = store_gc.gc(store, store_gc.Policy(keep_last=1), now=time.time() + 3700)
    assert later["objects_deleted"] > 0 and later["bytes_freed"] > 1_000_000
    assert git(project / ".mlvc", "fsck", "--full", "--strict", "--no-dangling") == ""


def test_gc_without_a_policy_only_removes_unreachable_objects(project: Path) -> None:
    ids = history(project, 2)
    mlvc.branch("tmp", repo=project)
    mlvc.commit("on tmp", variables={"big": np.ones(400_000)}, repo=project)
    service.switch_branch("main", repo=project)
    service.delete_branch("tmp", repo=project)
    store = service.workspace().store(project)
    # the deleted branch's payload index entry is only dropped once it is old
    report = store_gc.gc(store, None, now=time.time() + 7200, grace=3600)

    assert report["commits_pruned"] == []
    assert report["bytes_freed"] >= 3_200_000
    for cid in ids:
        assert mlvc.restore(cid, repo=project)
    assert git(project / ".mlvc", "fsck", "--full", "--strict", "--no-dangling") == ""


def test_du_shows_unique_and_shared_bytes(project: Path) -> None:
    ids = history(project, 2)
    mlvc.branch("sweep", repo=project)
    v = weights(1)  # the same arrays as ids[1] ...
    v["w2"] = np.zeros(300_000, dtype=np.float32)  # ... but one
    mlvc.commit("sweep", variables=v, repo=project)

    out = service.du(repo=project, commits=True)

    by = {b["branch"]: b for b in out["branches"]}
    assert set(by) == {"main", "sweep"}
    # sweep's history includes main's: everything on main is shared but the zeros
    assert DATA <= by["sweep"]["unique_bytes"] < ARRAY + 1000
    assert by["main"]["unique_bytes"] == 0
    assert by["main"]["shared_bytes"] >= 6 * DATA
    rows = {c["id"]: c for c in out["commits"]}
    # ids[0]'s arrays are its own; ids[1] shares w0 and w1 with the sweep commit
    assert rows[ids[0]]["unique_bytes"] >= 3 * DATA
    assert 2 * DATA <= rows[ids[1]]["shared_bytes"] < 2 * ARRAY + 1000
    assert rows[ids[1]]["payload_bytes"] == (
        rows[ids[1]]["unique_bytes"] + rows[ids[1]]["shared_bytes"]
    )
    assert rows[ids[0]]["local_bytes"] == rows[ids[0]]["payload_bytes"]
    service.gc(repo=project, keep_last=1, grace="now")
    after = {c["id"]: c for c in service.du(repo=project, commits=True)["commits"]}
    assert after[ids[0]]["local_bytes"] < rows[ids[0]]["local_bytes"]


def test_retention_applies_to_a_clone_of_a_git_only_remote(project: Path, tmp_path: Path) -> None:
    ids = history(project, 3)
    remote = bare(tmp_path / "r.git")
    service.remote_add("origin", str(remote), repo=project)
    service.push(repo=project)
    b = Path(service.clone(str(remote), tmp_path / "b")["path"])
    assert mlvc.load(ids[0], "w0", repo=b).tobytes() == weights(0)["w0"].tobytes()
    before = disk_bytes(b)

    report = service.gc(repo=b, keep_last=1, grace="now")

    assert sorted(report["commits_pruned"]) == sorted(ids[:2])
    assert before - disk_bytes(b) >= 6 * DATA
    assert git(b / ".mlvc", "fsck", "--full", "--strict", "--no-dangling") == ""
    with pytest.raises(PayloadMissingError):
        mlvc.load(ids[0], "w0", repo=b)
    assert mlvc.load(ids[2], "w0", repo=b).tobytes() == weights(2)["w0"].tobytes()
