"""Faults: a full disk is reported and changes nothing; damaged or missing payload bytes
are found by ``mlvc fsck`` and refused by restore (docs/reliability.md, "Faults").
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import resource
import shutil
import struct
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mlvc_server import cli, service
from mlvc_server.errors import CorruptObjectError, MlvcError, NoSpaceError
from mlvc_server.store import repo as repo_mod

from .harness import (
    Emit,
    Fn,
    check_store,
    git,
    leftovers,
    reset_caches,
    run_forked,
    trials,
)
from .workloads import NOTEBOOK, CommitWorkload, expected, notebook_content


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MLVC_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("MLVC_AUTHOR_NAME", "Faulty")
    root = tmp_path / "project"
    root.mkdir()
    return root


def refs(root: Path) -> dict[str, str]:
    """Every ref (branches, tags, the payload index ``refs/mlvc/payloads``) and HEAD."""
    out = git(root, "show-ref").stdout.splitlines()
    shown = {line.split()[1]: line.split()[0] for line in out}
    shown["HEAD"] = (root / ".mlvc" / "HEAD").read_text()
    return shown


def committing(root: Path, seed: int, emit: Emit) -> None:
    """Child: one commit; report its id, or the mlvc error it raised."""
    try:
        CommitWorkload(commits=1).run(root, seed, emit)
    except MlvcError as e:
        emit("note", json.dumps({"type": type(e).__name__, "message": str(e)}))


def assert_refused_cleanly(root: Path, before: dict[str, str], pid: int, note: Any) -> None:
    assert note["type"] == "NoSpaceError", note
    assert note["message"].startswith("no space left to write the store"), note
    assert refs(root) == before, "a failed commit moved a ref"
    check_store(root)
    left = leftovers(root)
    assert not [p for p in left if p.name.endswith((".lock", ".tmp"))], left
    assert not [p for p in left if f"_{pid}_" in p.name], f"temporary files left: {left}"


# -- a full disk -----------------------------------------------------------------------------
def test_a_full_disk_at_any_write_of_a_commit_is_reported_and_changes_nothing(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The disk fills up at write number N of a commit (N = 1, 2, ...): every write from
    then on fails with ENOSPC."""
    # merging small packs (every 8th commit or so, ignored when it fails) would add steps
    # to some commits only, and blur the line between refused and made commits
    monkeypatch.setattr(repo_mod, "_MERGE_WIDTH", 1 << 30)
    w = CommitWorkload(commits=1)
    w.setup(project)
    run_forked(w, project, 0)
    probe = run_forked(Fn(committing), project, 1, crash_at=(1 << 30, "enospc"))
    total = probe.steps
    # (small objects are written as one pack: a commit is ~26 steps, not ~45)
    assert total is not None and total > 20
    w.verify(project, 1, probe.done)
    budget = trials(25)
    steps = range(1, total + 2) if budget >= total else np.linspace(1, total + 1, budget)
    made: list[bool] = []
    for seed, step in enumerate(sorted({int(s) for s in steps}), start=2):
        before = refs(project)
        result = run_forked(Fn(committing), project, seed, crash_at=(step, "enospc"))
        made.append(bool(result.done))
        if result.done:  # the disk filled up only after the commit was made
            w.verify(project, seed, result.done)
            continue
        assert len(result.notes) == 1, result
        assert_refused_cleanly(project, before, result.pid, result.notes[0])
    # refused up to the ref update, made from then on (the writes after it are caches and
    # the reflog, whose failures must not fail a commit that is made). Step numbers shift a
    # little from one commit to the next (a folder of objects exists or not), so the line
    # between the two is blurred by a step or two.
    assert not made[0] and made[-1], made
    failed = made.count(False)
    assert failed >= len(made) // 2, made
    # and once there is room again, commits work
    after = run_forked(w, project, 99_999)
    w.verify(project, 99_999, after.done)
    print(f"fault figures: a full disk at {failed} points of a {total}-step commit, all clean")


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """An 8 MiB tmpfs (needs the right to mount; skipped where there is none)."""
    mnt = tmp_path / "small-disk"
    mnt.mkdir()
    mount = shutil.which("mount")
    if mount is None:
        pytest.skip("no mount command here")
    p = subprocess.run(
        [mount, "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mnt)], capture_output=True, text=True
    )
    if p.returncode != 0:
        pytest.skip(f"cannot mount a small file system here: {p.stderr.strip()}")
    try:
        yield mnt
    finally:
        reset_caches()
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def test_a_commit_that_fills_a_real_disk_is_reported_and_leaves_the_store_as_it_was(
    small_disk: Path,
) -> None:
    root = small_disk / "project"
    root.mkdir()
    (root / NOTEBOOK).write_text(json.dumps(notebook_content(0, 0)))
    first = service.commit(
        "small", variables=expected(0, 0), notebook=root / NOTEBOOK, repo=root, sources=False
    )
    before, free = refs(root), shutil.disk_usage(small_disk).free
    big = np.random.default_rng(0).standard_normal(3 << 20)  # 24 MiB: more than the disk

    with pytest.raises(NoSpaceError, match="no space left to write the store") as info:
        service.commit("big", variables={"big": big}, notebook=root / NOTEBOOK, repo=root)

    assert "Nothing was committed" in str(info.value)
    assert refs(root) == before
    assert [c["id"] for c in service.log(repo=root, notebook=root / NOTEBOOK)] == [first]
    check_store(root)
    assert leftovers(root) == []
    assert shutil.disk_usage(small_disk).free >= free - (64 << 10)  # the partial file is gone
    second = service.commit("after", notebook=root / NOTEBOOK, repo=root, sources=False)
    assert service.log(repo=root, notebook=root / NOTEBOOK)[0]["id"] == second


def test_a_file_size_limit_is_reported_like_a_full_disk(project: Path) -> None:
    (project / NOTEBOOK).write_text(json.dumps(notebook_content(0, 0)))
    service.init(project)
    first = service.commit("before", notebook=project / NOTEBOOK, repo=project, sources=False)
    before = refs(project)

    def limited(root: Path, seed: int, emit: Emit) -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))
        try:
            service.commit(
                "big", variables={"big": np.ones(1 << 18)}, repo=root, notebook=root / NOTEBOOK
            )
        except MlvcError as e:
            emit("note", json.dumps({"type": type(e).__name__, "message": str(e)}))

    result = run_forked(Fn(limited), project, 0)

    assert_refused_cleanly(project, before, result.pid, result.notes[0])
    assert "File too large" in result.notes[0]["message"]
    assert service.log(repo=project, notebook=project / NOTEBOOK)[0]["id"] == first


# -- damaged and missing payload bytes ------------------------------------------------------
def object_path(root: Path, sha: str) -> Path:
    return root / ".mlvc" / "objects" / sha[:2] / sha[2:]


def packed_entry(root: Path, sha: str) -> tuple[Path, int, int]:
    """The pack holding object ``sha`` and the byte range of its entry in it (read from
    the version 2 index: 256 fan-out counts, the sorted ids, their CRCs, their offsets)."""
    want = bytes.fromhex(sha)
    for idx_path in (root / ".mlvc" / "objects" / "pack").glob("*.idx"):
        raw = idx_path.read_bytes()
        assert raw[:8] == b"\xfftOc\x00\x00\x00\x02"
        n = struct.unpack(">I", raw[8 + 255 * 4 : 8 + 256 * 4])[0]
        ids = [raw[1032 + 20 * i : 1052 + 20 * i] for i in range(n)]
        if want not in ids:
            continue
        at = 1032 + 24 * n
        offsets = struct.unpack(f">{n}I", raw[at : at + 4 * n])
        start = offsets[ids.index(want)]
        pack = idx_path.with_suffix(".pack")
        end = min((o for o in offsets if o > start), default=pack.stat().st_size - 20)
        return pack, start, end
    raise AssertionError(f"object {sha} is neither loose nor packed")


def damage(path: Path, offset: int) -> None:
    raw = bytearray(path.read_bytes())
    raw[offset % len(raw)] ^= 0x40
    os.chmod(path, 0o644)
    path.write_bytes(bytes(raw))


def fsck_cli(root: Path) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = cli.main(["-C", str(root), "fsck"])
    return code, out.getvalue()


@pytest.fixture
def two_commits(project: Path) -> tuple[Path, str, str]:
    (project / NOTEBOOK).write_text(json.dumps(notebook_content(0, 0)))
    kw: dict[str, Any] = {"notebook": project / NOTEBOOK, "repo": project, "sources": False}
    a = service.commit("a", variables={"w": np.arange(50_000.0), "cfg": {"x": 1}}, **kw)
    b = service.commit("b", variables={"w": np.arange(60_000.0), "cfg": {"x": 2}}, **kw)
    return project, a, b


def part_of(root: Path, cid: str, name: str, segment: int = -1) -> str:
    manifest = service.format.read_manifest(service.workspace().store(root), cid, name)
    return str(manifest["segments"][segment]["parts"][0])


@pytest.mark.parametrize("offset", [3, 40, 1000, -1], ids=["header", "start", "data", "checksum"])
def test_a_flipped_byte_in_a_payload_is_found_by_fsck_and_refused_by_restore(
    two_commits: tuple[Path, str, str], offset: int
) -> None:
    root, a, b = two_commits
    part = part_of(root, b, "w")
    damage(object_path(root, part), offset)
    reset_caches()

    code, out = fsck_cli(root)
    assert code == 1 and "FAILED" in out
    assert f"error: {b[:8]}/vars/w: part {part}" in out  # names the commit and variable
    if offset == -1:
        # the flip is in zlib's checksum, not in the bytes: restore reads the bytes and
        # checks them against the xxh3 its manifest recorded, and they are intact
        assert service.load(b, "w", repo=root).tobytes() == np.arange(60_000.0).tobytes()
    else:
        with pytest.raises(CorruptObjectError, match=rf"variable 'w'.*{part}.*damaged"):
            service.restore(b, ["w"], repo=root)
        with pytest.raises(CorruptObjectError, match="damaged"):
            service.load(b, "w", repo=root)
    assert service.restore(b, ["cfg"], repo=root) == {"cfg": {"x": 2}}  # the rest still loads
    assert service.load(a, "w", repo=root).tobytes() == np.arange(50_000.0).tobytes()


def test_a_missing_payload_part_is_found_by_fsck_and_refused_by_restore(
    two_commits: tuple[Path, str, str],
) -> None:
    root, a, b = two_commits
    part = part_of(root, b, "w")
    object_path(root, part).unlink()
    reset_caches()

    code, out = fsck_cli(root)
    assert code == 1 and part in out
    with pytest.raises(CorruptObjectError, match=rf"variable 'w'.*{part[:12]}"):
        service.restore(b, None, repo=root)
    assert service.restore(a, None, repo=root)["cfg"] == {"x": 1}


@pytest.mark.parametrize("how", ["flipped", "truncated"])
@pytest.mark.parametrize("what", ["mlvc.json", "vars/cfg/manifest.json", "vars"])
def test_a_damaged_record_manifest_or_tree_gives_a_clear_error_not_a_crash(
    two_commits: tuple[Path, str, str], what: str, how: str
) -> None:
    root, a, b = two_commits
    store = service.workspace().store(root)
    found = store.tree_lookup(store.commit_obj(b).tree.decode(), what)
    assert found is not None
    path = object_path(root, found[1])
    packed = not path.exists()
    if not packed:
        start, end = 0, path.stat().st_size
    else:  # small objects are packed: damage the object's entry inside its pack
        path, start, end = packed_entry(root, found[1])
    if how == "flipped":
        damage(path, end - 3 if end - start > 6 else start + 1)
    else:  # cut short: zlib inflates what is there without complaint
        os.chmod(path, 0o644)
        path.write_bytes(path.read_bytes()[: (start + end) // 2])
    reset_caches()

    code, out = fsck_cli(root)
    # a flipped byte costs only the object it falls in, packed or not; a pack cut short
    # loses the objects after the cut too (fsck may name one of those first)
    cut_pack = packed and how == "truncated"
    assert code == 1 and (found[1] in out or (cut_pack and "damaged" in out)), out
    calls = [
        lambda: service.show(b, repo=root),
        lambda: service.restore(b, None, repo=root),
        lambda: service.diff(a, b, repo=root),
    ]
    for call in calls:
        try:
            call()
        except MlvcError as e:  # a clear error; never zlib.error or a traceback
            assert "damaged" in str(e) or "missing" in str(e), e
    assert [c["id"] for c in service.log(repo=root, notebook=root / NOTEBOOK)] == [b, a]
    assert service.restore(a, None, repo=root)["cfg"] == {"x": 1}
