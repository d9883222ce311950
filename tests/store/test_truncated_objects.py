"""A stored object cut short at any byte is reported as CorruptObjectError, never as a raw
TypeError or ValueError, and never read as other data (docs/reliability.md, "Damaged
objects")."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import mlvc_server as mlvc
from mlvc_server.errors import CorruptObjectError
from mlvc_server.store.repo import Store

#: these tests damage or remove single object files
pytestmark = pytest.mark.usefixtures("loose_objects")


@pytest.mark.parametrize("kind", ["tree", "commit", "blob"])
def test_an_object_file_cut_at_any_byte_is_a_corrupt_object(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    monkeypatch.setenv("MLVC_CONFIG_DIR", str(tmp_path / "config"))
    mlvc.init(tmp_path)
    cid = mlvc.commit("x", variables={"a": 1}, repo=tmp_path, sources=False)
    store = Store(tmp_path)
    commit = store.commit_obj(cid)
    sha = {
        "commit": cid,
        "tree": commit.tree.decode(),
        "blob": store.tree_lookup(commit.tree.decode(), "mlvc.json")[1],  # type: ignore[index]
    }[kind]
    path = tmp_path / ".mlvc" / "objects" / sha[:2] / sha[2:]
    whole = path.read_bytes()
    os.chmod(path, 0o644)
    reported = 0
    for cut in range(len(whole)):
        path.write_bytes(whole[:cut])
        try:
            got = store.get(sha)
        except CorruptObjectError:
            reported += 1
            continue
        # only the stream's end (Adler-32 trailer, final block marker) may be missing: the
        # content is whole, and checked against its id
        assert got.id.decode() == sha and cut >= len(whole) - 8
    assert reported >= len(whole) - 8
    path.write_bytes(whole)
    assert Store(tmp_path).get(sha).id.decode() == sha
