"""A payload remote in object storage (moto's S3 server, and a plain folder): payloads
go there on push, not through git; a clone has history and metadata at once and fetches
payload parts lazily, verified, on restore."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import mlvc_server as mlvc
from mlvc_server import service
from mlvc_server.errors import CorruptObjectError, PayloadMissingError
from mlvc_server.store import keep
from mlvc_server.store.payload_remote import PayloadRemote

from .conftest import bare, git, weights


def parts_of(repo: Path, rev: str, names: tuple[str, ...] = ("w0", "w1", "w2", "lr")) -> list[str]:
    """The payload parts of variables of a commit, in order."""
    store = service.workspace().store(repo)
    cid = service.show(rev, repo=repo)["id"]
    return [
        p
        for name in names
        for seg in service.format.read_manifest(store, cid, name)["segments"]
        for p in seg["parts"]
    ]


@pytest.fixture(params=["s3", "folder"])
def payload_url(
    request: pytest.FixtureRequest, tmp_path: Path, s3: Callable[[], tuple[str, dict[str, str]]]
) -> tuple[str, dict[str, Any]]:
    if request.param == "s3":
        return s3()
    return (tmp_path / "shared" / "payloads").as_uri(), {}


def test_payloads_go_to_object_storage_and_come_back_lazily(
    project: Path, tmp_path: Path, payload_url: tuple[str, dict[str, Any]]
) -> None:
    url, options = payload_url
    remote = bare(tmp_path / "exp.git")
    v1, v2 = weights(1), weights(2)
    c1 = mlvc.commit("first", variables=v1, repo=project, metrics={"acc": 0.5})
    c2 = mlvc.commit("second", variables=v2, repo=project, metrics={"acc": 0.7})
    service.remote_add("origin", str(remote), repo=project, payloads=url, payload_options=options)

    out = service.push(repo=project)

    assert out["payloads"]["uploaded"] == len(set(parts_of(project, c1) + parts_of(project, c2)))
    # the git remote got history and manifests, not the payload bytes
    for p in parts_of(project, c2):
        assert git(remote, "cat-file", "-e", p, check=False) == ""
        assert not (remote / "objects" / p[:2] / p[2:]).exists()
    git(remote, "fsck", "--full", "--strict")
    on_remote = PayloadRemote(url, options).listing()
    assert set(parts_of(project, c2)) <= set(on_remote)

    # a clone finds the payload remote on the git remote (published on push)
    b = Path(service.clone(str(remote), tmp_path / "b", payload_options=options)["path"])
    assert service.remotes(repo=b)[0]["payloads"] == url
    store = service.workspace().store(b)
    assert not any(store.has_object(p) for p in parts_of(b, c2))
    # history and records work without payloads
    assert [c["id"] for c in mlvc.log(repo=b, notebook=None)] == [c2, c1]
    assert mlvc.show(c1, repo=b)["metrics"] == {"acc": 0.5}
    assert not any(store.has_object(p) for p in parts_of(b, c2))

    got = mlvc.load(c1, "w1", repo=b)  # fetched now, verified, stored

    assert got.tobytes() == v1["w1"].tobytes()
    assert all(store.has_object(p) for p in parts_of(b, c1, ("w1",)))
    # kept by the payload index from now on (gc keeps it unless retention drops c1)
    cid_vars = store.tree_lookup(store.commit_obj(c1).tree.decode(), "vars")
    assert cid_vars is not None and keep.lookup(store, cid_vars[1]) is not None
    # a diff fetches what it compares
    d = mlvc.diff(c1, c2, repo=b, cells=False)
    assert [m["key"] for m in d["metrics"]] == ["acc"]
    assert mlvc.fsck(repo=b)["ok"]
    git(b / ".mlvc", "fsck", "--full", "--strict")


def test_an_interrupted_push_resumes_with_what_is_missing(
    project: Path,
    tmp_path: Path,
    s3: Callable[[], tuple[str, dict[str, str]]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from mlvc_server.store import payload_remote

    url, options = s3()
    remote = bare(tmp_path / "exp.git")
    c1 = mlvc.commit("first", variables=weights(1), repo=project)
    service.remote_add("origin", str(remote), repo=project, payloads=url, payload_options=options)
    parts = sorted(set(parts_of(project, c1)))
    monkeypatch.setattr(payload_remote, "BATCH_BYTES", 1)  # one part per request
    calls = []
    real_put = PayloadRemote._put

    def flaky_put(self: PayloadRemote, batch: dict[str, Any]) -> None:
        calls.append(list(batch))
        if len(calls) == 3:
            raise payload_remote.PayloadRemoteError("connection reset (simulated)")
        real_put(self, batch)

    monkeypatch.setattr(PayloadRemote, "_put", flaky_put)
    with pytest.raises(payload_remote.PayloadRemoteError, match="connection reset"):
        service.push(repo=project)
    # parts go first, refs after: the remote has no commit whose parts are missing
    assert git(remote, "for-each-ref") == ""
    pr = PayloadRemote(url, options)
    arrived = sorted(pr.listing())
    assert len(arrived) == 2
    # one of them arrived cut short (a store without atomic writes): it counts as missing
    pr.fs.pipe(pr.key(arrived[0]), b"cut short")
    monkeypatch.setattr(PayloadRemote, "_put", real_put)

    out = service.push(repo=project)

    assert out["payloads"]["present"] == 1
    assert out["payloads"]["uploaded"] == len(parts) - 1
    pr.fs.invalidate_cache()
    listing = pr.listing()
    store = service.workspace().store(project)
    for p in parts:
        assert listing[p] == len(store.read_blob(p))


def test_a_damaged_part_in_storage_is_refused(
    project: Path, tmp_path: Path, s3: Callable[[], tuple[str, dict[str, str]]]
) -> None:
    url, options = s3()
    remote = bare(tmp_path / "exp.git")
    v = weights(4)
    c1 = mlvc.commit("first", variables=v, repo=project)
    service.remote_add("origin", str(remote), repo=project, payloads=url, payload_options=options)
    service.push(repo=project)
    b = Path(service.clone(str(remote), tmp_path / "b", payload_options=options)["path"])
    pr = PayloadRemote(url, options)
    victim = parts_of(project, c1, ("w2",))[-1]  # the data part of w2
    data = bytearray(pr.fs.cat_file(pr.key(victim)))
    data[100] ^= 0xFF
    pr.fs.pipe(pr.key(victim), bytes(data))

    with pytest.raises(CorruptObjectError, match="damaged"):
        mlvc.load(c1, "w2", repo=b)
    assert not service.workspace().store(b).has_object(victim)
    assert mlvc.load(c1, "w0", repo=b).tobytes() == v["w0"].tobytes()


def test_without_the_payload_remote_restore_says_where_to_get_it(
    project: Path, tmp_path: Path
) -> None:
    remote = bare(tmp_path / "exp.git")
    shared = (tmp_path / "payloads").as_uri()
    c1 = mlvc.commit("first", variables=weights(1), repo=project)
    service.remote_add("origin", str(remote), repo=project, payloads=shared)
    service.push(repo=project)
    b = Path(service.clone(str(remote), tmp_path / "b")["path"])
    service.remote_add("origin", str(remote), repo=b, replace=True)  # forget the payload remote

    with pytest.raises(PayloadMissingError) as info:
        mlvc.load(c1, "w0", repo=b)
    message = str(info.value)
    assert "'w0'" in message and c1[:8] in message and "--payloads" in message
    # the record still tells the small facts
    np.testing.assert_equal(mlvc.show(c1, repo=b)["variables"]["lr"]["value"], 0.02)
