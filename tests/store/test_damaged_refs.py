"""Damaged refs are found, reported with the repair command and repaired; never taken for
"no commits yet" (docs/reliability.md, "Damaged refs")."""

from __future__ import annotations

from pathlib import Path

import pytest

import mlvc_server as mlvc
from mlvc_server import service
from mlvc_server.errors import DamagedRefError
from mlvc_server.store import fsck as store_fsck
from mlvc_server.store import gc as store_gc
from mlvc_server.store.repo import Store

#: these tests damage or remove single object files
pytestmark = pytest.mark.usefixtures("loose_objects")

MAIN = "refs/heads/_/main"

DAMAGE = {
    "empty": b"",
    "garbage": b"\x00\xffnot a commit id at all\n",
    "short": b"1234abcd\n",
    "missing": b"0123456789abcdef0123456789abcdef01234567\n",
}


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MLVC_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("MLVC_AUTHOR_NAME", "Ana")
    root = tmp_path / "p"
    root.mkdir()
    mlvc.init(root)
    return root


def two_commits(project: Path) -> tuple[str, str]:
    c1 = mlvc.commit("one", variables={"x": 1}, repo=project, sources=False)
    c2 = mlvc.commit("two", variables={"x": 2}, repo=project, sources=False)
    return c1, c2


def fresh() -> None:
    service.workspace().reset()


@pytest.mark.parametrize("kind", sorted(DAMAGE))
def test_a_damaged_branch_ref_is_reported_everywhere_and_never_built_on(
    project: Path, kind: str
) -> None:
    _c1, c2 = two_commits(project)
    (project / ".mlvc" / MAIN).write_bytes(DAMAGE[kind])
    fresh()

    report = mlvc.fsck(repo=project)
    assert not report["ok"]
    assert any(MAIN in p and "fsck --repair" in p for p in report["problems"])
    with pytest.raises(DamagedRefError, match="fsck --repair"):
        mlvc.commit("three", variables={"x": 3}, repo=project, sources=False)
    with pytest.raises(DamagedRefError, match="fsck --repair"):
        mlvc.log(repo=project, notebook=None)
    with pytest.raises(DamagedRefError):
        Store(project).ref(MAIN.encode())
    with pytest.raises(DamagedRefError, match="gc refuses"):
        store_gc.gc(Store(project))
    assert (project / ".mlvc" / MAIN).read_bytes() == DAMAGE[kind]  # nothing built on it

    repaired = store_fsck.repair_refs(Store(project))

    assert repaired == [
        {"ref": MAIN, "problem": repaired[0]["problem"], "action": "restored", "to": c2}
    ]
    fresh()
    assert mlvc.fsck(repo=project)["ok"]
    c3 = mlvc.commit("three", variables={"x": 3}, repo=project, sources=False)
    assert [c["id"] for c in mlvc.log(repo=project, notebook=None)][:2] == [c3, c2]


def test_repair_skips_reflog_entries_whose_commit_is_gone_and_deletes_when_none_is_good(
    project: Path,
) -> None:
    c1, c2 = two_commits(project)
    store = Store(project)
    # c2's object lost (as a bad disk would): the ref names a missing commit
    obj = project / ".mlvc" / "objects" / c2[:2] / c2[2:]
    obj.chmod(0o644)
    obj.unlink()
    fresh()
    assert mlvc.fsck(repo=project)["damaged_refs"] == [MAIN]
    out = store_fsck.repair_refs(store)
    assert out[0]["action"] == "restored" and out[0]["to"] == c1
    assert Store(project).ref(MAIN.encode()) == c1

    # a branch whose reflog names nothing good: deleted, its value kept in a log
    other = project / ".mlvc" / "refs" / "heads" / "_" / "lost"
    other.write_bytes(b"garbage\n")
    out = store_fsck.repair_refs(Store(project))
    assert out == [
        {"ref": "refs/heads/_/lost", "problem": out[0]["problem"], "action": "deleted", "to": None}
    ]
    assert not other.exists()
    assert "garbage" in (project / ".mlvc" / "mlvc" / "damaged-refs.log").read_text()
    fresh()
    assert mlvc.fsck(repo=project)["ok"]
