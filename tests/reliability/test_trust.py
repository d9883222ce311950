"""Trust: a pickle planted in a store runs nothing until the user trusts it by name
(docs/security.md).

The attacker here is anyone who can put bytes in the store the user opens: another
user of a shared folder or remote, or a store copied from elsewhere. Their payloads'
``__reduce__`` creates a marker file when unpickled; every read-only operation (the API,
the CLI, the REST API of a live server) runs over them and the marker must not appear.
Then restore without trust refuses, and restore with trust does run it: proof that the
marker would have shown an unpickling.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import pickle
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import numpy as np
import pytest

from mlvc_server import cli, serializers, service
from mlvc_server.errors import SerializationError, TrustError
from mlvc_server.serializers.base import Payload, Segment

from .harness import Emit, Fn, reset_caches, run_forked

NB = "train.ipynb"


class Evil:
    """Unpickling it creates ``marker``: code from the payload ran. Each ``version``
    pickles to other bytes (so that a diff of two commits compares them)."""

    def __init__(self, marker: Path, version: int = 0) -> None:
        self.marker = marker
        self.version = version

    def __reduce__(self) -> Any:
        return (Path.touch, (self.marker, 0o600 + self.version))


class PlainPickleAsSklearn:
    """An attacker's serializer: a bare pickle labelled as a scikit-learn payload that
    does not need trust (no ``unsafe`` in its meta, so no signature is asked for)."""

    format = "sklearn"
    unsafe = False

    def accepts(self, obj: Any) -> bool:
        return isinstance(obj, Evil)

    def dump(self, obj: Any) -> Payload:
        data = pickle.dumps(obj)
        meta = {"type": "sklearn.linear_model.LogisticRegression", "backend": "cloudpickle"}
        return Payload(self.format, [Segment("pickle", data, len(data))], meta, "bin")


class ObjectArrayAsNpy:
    """An attacker's serializer: an ``.npy`` of dtype object (a pickle inside)."""

    format = "npy"
    unsafe = False

    def accepts(self, obj: Any) -> bool:
        return isinstance(obj, Evil)

    def dump(self, obj: Any) -> Payload:
        arr = np.empty(1, dtype=object)
        arr[0] = obj
        buf = io.BytesIO()
        np.save(buf, arr, allow_pickle=True)
        raw = buf.getvalue()
        cut = 128  # np.save's header is padded to 128 bytes here
        return Payload(
            self.format,
            [Segment("header", raw[:cut], cut), Segment("data", raw[cut:], len(raw) - cut)],
            {"type": "numpy.ndarray", "shape": [1], "dtype": "float64", "nbytes": 8},
            "npy",
        )


def attack(root: Path, seed: int, emit: Emit) -> None:
    """Child (another user, with their own signing key): commits planted payloads."""
    marker = root.parent / "pwned"
    nb = root / NB
    kw: dict[str, Any] = {"notebook": nb, "repo": root, "sources": False}
    for i in range(2):  # two commits, so that diff compares two versions of each
        cid = service.commit(
            f"evil {i}", variables={"evil": Evil(marker, i), "x": np.arange(3 + i)}, **kw
        )
        emit("done", "pickle", cid)
    for i in range(2):  # a container whose one leaf is a pickle: the rest is safe
        box = {"w": np.arange(3 + i), "evil": Evil(marker, i), "epoch": i}
        cid = service.commit(f"box {i}", variables={"box": box}, **kw)
        emit("done", "container", cid)
    for fake in (PlainPickleAsSklearn(), ObjectArrayAsNpy()):
        serializers.register(fake, 0)  # only in this child
        for i in range(2):
            cid = service.commit(f"{fake.format} {i}", variables={"evil": Evil(marker, i)}, **kw)
            emit("done", fake.format, cid)
        serializers.unregister(fake.format)


@pytest.fixture
def planted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Path, dict[str, list[str]], Path]]:
    """A store written by an attacker, copied to where the victim opens it."""
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 1", id="c0")]
    nbformat.write(nb, theirs / NB)
    monkeypatch.setenv("MLVC_CONFIG_DIR", str(tmp_path / "attacker-config"))
    service.init(theirs)
    result = run_forked(Fn(attack), theirs, 0)
    commits: dict[str, list[str]] = {}
    for kind, cid in result.done:
        commits.setdefault(kind, []).append(cid)
    mine = tmp_path / "mine"
    shutil.copytree(theirs, mine)  # a store copied from elsewhere (or cloned)
    monkeypatch.setenv("MLVC_CONFIG_DIR", str(tmp_path / "victim-config"))
    monkeypatch.chdir(mine)
    reset_caches()
    marker = tmp_path / "pwned"
    assert not marker.exists()
    yield mine, commits, marker
    reset_caches()


def quiet_cli(*argv: str) -> int:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return cli.main(list(argv))


def test_reading_a_planted_store_never_unpickles(
    planted: tuple[Path, dict[str, list[str]], Path],
) -> None:
    root, commits, marker = planted
    every = [c for ids in commits.values() for c in ids]
    service.log(repo=root, notebook=NB)
    service.log(repo=root)
    for cid in every:
        service.show(cid, repo=root, notebook=NB)
        service.notebook_at(cid, repo=root, notebook=NB)
    for ids in commits.values():
        service.diff(ids[0], ids[1], repo=root, notebook=NB, cells=True, values=True)
    service.status(repo=root, notebook=NB)
    service.status(repo=root, notebook=NB, variables={"evil": 1, "x": np.arange(3)})
    service.compare(repo=root, notebook=NB)
    service.series(repo=root, notebook=NB)
    service.branches(repo=root, notebook=NB)
    service.tags(repo=root, notebook=NB)
    service.du(repo=root)
    assert service.fsck(repo=root)["ok"]
    for argv in (["log"], ["show"], ["diff"], ["status"], ["branch"], ["tag"]):
        assert quiet_cli("-C", str(root), *argv, "-N", NB, "--json") == 0, argv
    for argv in (["fsck"], ["du"], ["log", "--all"]):
        assert quiet_cli("-C", str(root), *argv, "--json") == 0, argv
    assert not marker.exists(), "a read-only operation unpickled a planted payload"


def test_restore_without_trust_refuses_a_pickle_of_another_user_and_runs_nothing(
    planted: tuple[Path, dict[str, list[str]], Path],
) -> None:
    root, commits, marker = planted
    cid = commits["pickle"][-1]
    with pytest.raises(TrustError, match="did not write") as info:
        service.restore(cid, None, repo=root, notebook=NB)
    assert "trust=True" in str(info.value)
    with pytest.raises(TrustError):
        service.load(cid, "evil", repo=root, notebook=NB)
    assert service.restore(cid, ["x"], repo=root, notebook=NB)["x"].tolist() == [0, 1, 2, 3]
    assert not marker.exists()

    service.load(cid, "evil", repo=root, notebook=NB, trust=True)  # the user says they trust it
    assert marker.exists(), "the test could not have seen an unpickling"


def test_a_container_with_a_pickled_leaf_of_another_user_needs_trust(
    planted: tuple[Path, dict[str, list[str]], Path],
) -> None:
    root, commits, marker = planted
    cid = commits["container"][-1]
    assert service.show(cid, repo=root, notebook=NB)["variables"]["box"]["pickled"] == ["evil"]
    with pytest.raises(TrustError, match="did not write"):
        service.load(cid, "box", repo=root, notebook=NB)
    assert not marker.exists()
    box = service.load(cid, "box", repo=root, notebook=NB, trust=True)
    assert box["w"].tolist() == [0, 1, 2, 3] and box["epoch"] == 1
    assert marker.exists(), "the test could not have seen an unpickling"


def test_a_pickle_labelled_as_a_safe_format_is_still_refused_without_trust(
    planted: tuple[Path, dict[str, list[str]], Path],
) -> None:
    root, commits, marker = planted
    for cid in commits["sklearn"]:
        with pytest.raises(TrustError, match="trusted=True"):
            service.load(cid, "evil", repo=root, notebook=NB)
    for cid in commits["npy"]:
        with pytest.raises(SerializationError, match="object array"):
            service.load(cid, "evil", repo=root, notebook=NB)
        with pytest.raises(SerializationError, match="object array"):
            service.load(cid, "evil", repo=root, notebook=NB, trust=True)  # npy never unpickles
    assert not marker.exists()


def test_a_pickle_signed_by_this_user_loads_without_trust_and_a_tampered_one_does_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLVC_CONFIG_DIR", str(tmp_path / "config"))
    marker = tmp_path / "ran"
    cid = service.commit("mine", variables={"evil": Evil(marker)}, repo=tmp_path, sources=False)
    service.load(cid, "evil", repo=tmp_path)  # my own pickle: no question asked
    assert marker.exists()
    marker.unlink()
    # the same bytes under another user's key: the signature no longer checks out
    monkeypatch.setenv("MLVC_CONFIG_DIR", str(tmp_path / "someone-else"))
    with pytest.raises(TrustError):
        service.load(cid, "evil", repo=tmp_path)
    assert not marker.exists()


def test_a_damaged_signing_key_is_reported_not_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLVC_CONFIG_DIR", str(tmp_path / "config"))
    cid = service.commit(
        "mine", variables={"evil": Evil(tmp_path / "m")}, repo=tmp_path, sources=False
    )
    key = tmp_path / "config" / "signing.key"
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    good = key.read_text()
    key.write_text("not hex")
    with pytest.raises(TrustError, match=r"signing key .* is damaged"):
        service.load(cid, "evil", repo=tmp_path)
    assert key.read_text() == "not hex"  # never silently replaced
    key.write_text(good)


def test_processes_making_the_signing_key_at_once_agree_on_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlvc_server.store import trust

    from .harness import finish_forked, start_forked, wait_for

    go = tmp_path / "go"

    def sign(root: Path, seed: int, emit: Emit) -> None:
        wait_for(go)
        emit("done", trust.sign("pickle", {"n": 1}, ["a" * 40]))

    for trial in range(10):
        monkeypatch.setenv("MLVC_CONFIG_DIR", str(tmp_path / f"config{trial}"))
        go.unlink(missing_ok=True)
        children = [start_forked(Fn(sign), tmp_path, k) for k in range(6)]
        go.touch()
        signatures = {r.done[0][0] for r in (finish_forked(c) for c in children)}
        assert len(signatures) == 1, f"trial {trial}: processes used different keys"
        assert trust.verify(signatures.pop(), "pickle", {"n": 1}, ["a" * 40])
        assert os.listdir(tmp_path / f"config{trial}") == ["signing.key"]


@pytest.mark.timeout(300)
def test_the_rest_api_never_unpickles_and_restores_a_foreign_pickle_only_with_trust(
    planted: tuple[Path, dict[str, list[str]], Path], tmp_path: Path
) -> None:
    from server.live import LiveServer

    root, commits, marker = planted
    a, b = commits["pickle"]
    q = {"path": NB}
    with LiveServer(root, tmp_path / "server-home", mlvc={"kernel_timeout": 30}) as server:
        for route, params in [
            ("mlvc/status", q),
            ("mlvc/log", q),
            (f"mlvc/commits/{b}", q),
            ("mlvc/branches", q),
            ("mlvc/branches/main", q),
            ("mlvc/tags", q),
            ("mlvc/diff", {**q, "a": a, "b": b}),
            ("mlvc/diff", {**q, "a": commits["npy"][0], "b": commits["npy"][1]}),
            ("mlvc/compare", q),
            ("mlvc/series", q),
        ]:
            status, _ = server.request("GET", route, params=params)
            assert status == 200, route
        assert not marker.exists(), "a REST read unpickled a planted payload"

        try:  # restores go through the notebook's kernel
            client = server.start_kernel(NB)
        except RuntimeError:  # a kernel port taken by another process meanwhile: once more
            client = server.start_kernel(NB)
        try:
            status, answer = server.request("POST", "mlvc/restore", {"rev": b}, q)
            # the safe variable is restored; the pickle is refused, and says why
            assert status == 200 and answer["restored"] == ["x"], answer
            assert answer["failed"]["evil"]["error"] == "TrustError", answer
            assert "did not write" in json.dumps(answer["failed"])
            status, answer = server.request(
                "POST", "mlvc/restore", {"rev": b, "names": ["evil"]}, q
            )
            assert status == 403, answer
            assert not marker.exists()
            status, answer = server.request("POST", "mlvc/restore", {"rev": b, "trust": True}, q)
            assert status == 200 and sorted(answer["restored"]) == ["evil", "x"], answer
            assert marker.exists(), "restore with trust should have run the pickle"
        finally:
            client.stop_channels()
