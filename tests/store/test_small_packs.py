"""Small objects are written as one pack per commit, and plain git reads the store."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from dulwich.objects import Blob

import mlvc_server as mlvc
from mlvc_server.store import Store, objects
from mlvc_server.store import repo as repo_mod


def git(store: Path, *args: str) -> str:
    p = subprocess.run(
        ["git", "--git-dir", str(store), *args], capture_output=True, text=True, check=True
    )
    assert "error" not in p.stderr.lower(), p.stderr
    return p.stdout


def files_under(path: Path) -> set[str]:
    return {str(p.relative_to(path)) for p in path.rglob("*") if p.is_file()}


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MLVC_CONFIG_DIR", str(tmp_path / "config"))
    root = tmp_path / "project"
    root.mkdir()
    mlvc.init(root)
    return root


def small_state(i: int) -> dict[str, object]:
    return {
        "w": np.arange(1000.0) + i,  # 8 KB: packed
        "big": np.arange(20_000.0) + i,  # 160 KB: a loose object
        "lr": 0.1 * i,
        "cfg": {"layers": [i, 2]},
    }


def test_a_commit_writes_its_small_objects_as_one_pack_that_git_reads(project: Path) -> None:
    objdir = project / ".mlvc" / "objects"
    mlvc.commit("first", variables=small_state(0), repo=project)
    before = files_under(objdir)
    cid = mlvc.commit("second", variables=small_state(1), repo=project)
    new = files_under(objdir) - before
    packs = sorted(n for n in new if n.startswith("pack/"))
    loose = sorted(n for n in new if not n.startswith("pack/"))
    # one pack each time a ref moves: the payload index's, then the branch's
    assert len(packs) in (2, 4) and {Path(p).suffix for p in packs} == {".pack", ".idx"}
    # the only loose object is the part of the big array (> PACK_OBJECT_MAX)
    assert len(loose) == 1, loose
    store = project / ".mlvc"
    assert git(store, "fsck", "--full", "--strict", "--no-dangling") == ""
    assert git(store, "log", "--format=%H %s", "-1", cid).split() == [cid, "second"]
    assert '"message": "second"' in git(store, "show", f"{cid}:mlvc.json")
    out = "".join(git(store, "verify-pack", "-v", str(objdir / p)) for p in packs[::2])
    assert "commit" in out and "tree" in out and "blob" in out
    # and mlvc reads everything back
    back = mlvc.restore(cid, repo=project)
    assert np.array_equal(back["w"], np.arange(1000.0) + 1) and back["cfg"] == {"layers": [1, 2]}
    assert mlvc.fsck(repo=project)["ok"]


def test_gathered_objects_are_readable_before_and_on_disk_only_after_a_ref_moves(
    project: Path,
) -> None:
    with Store(project) as st:
        blob = st.add_bytes(b"not yet on disk")
        part = st.add_blob(b"x" * 1000)
        tree = st.write_tree({"a": blob, "p": part})
        cid = st.write_commit(tree, [], "m", "A <a@b>", when=0, tz_offset=0)
        for sha in (blob, part, tree, cid):
            assert st.has_object(sha)
        assert st.read_blob(blob) == b"not yet on disk"
        out = bytearray(1000)
        st.read_blob_into(part, memoryview(out))
        assert bytes(out) == b"x" * 1000
        # nothing is written yet: a process killed here leaves the store as it was
        assert not (project / ".mlvc" / "objects" / "pack").exists() or not any(
            (project / ".mlvc" / "objects" / "pack").iterdir()
        )
        with Store(project) as other:
            assert not other.has_object(cid)
        st.cas_ref(b"refs/heads/x", None, cid)  # objects first, then the ref
        with Store(project) as other:
            assert other.has_object(cid) and other.read_blob(blob) == b"not yet on disk"
    assert git(project / ".mlvc", "fsck", "--full", "--strict", "--no-dangling") == ""


def test_closing_a_store_writes_what_it_gathered(project: Path) -> None:
    with Store(project) as st:
        sha = st.add_bytes(b"kept")
    with Store(project) as st:
        assert st.read_blob(sha) == b"kept"


def test_big_objects_stay_loose(project: Path) -> None:
    data = os.urandom(repo_mod.PACK_OBJECT_MAX + 1)
    with Store(project) as st:
        sha = st.add(Blob.from_string(data))
        assert objects.loose_path(st.objects_dir, sha).exists()


def test_many_commits_keep_few_packs_and_every_object(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(repo_mod, "_MERGE_WIDTH", 3)
    monkeypatch.setattr(repo_mod, "_MERGE_BASE", 4 << 10)
    monkeypatch.setattr(repo_mod, "_MERGE_FACTOR", 3)
    ids = [mlvc.commit(f"c{i}", variables=small_state(i), repo=project) for i in range(24)]
    pack_dir = project / ".mlvc" / "objects" / "pack"
    n_packs = len(list(pack_dir.glob("*.pack")))
    assert len(list(pack_dir.glob("*.idx"))) == n_packs
    assert n_packs <= 8, n_packs  # merged by size class, not one (or two) per commit
    assert git(project / ".mlvc", "fsck", "--full", "--strict", "--no-dangling") == ""
    mlvc.service.workspace().reset()  # a fresh process's view
    for i, cid in enumerate(ids):
        assert mlvc.load(cid, "cfg", repo=project) == {"layers": [i, 2]}
        assert mlvc.show(cid[:10], repo=project)["message"] == f"c{i}"


def test_a_flipped_byte_in_a_pack_costs_only_its_object(project: Path) -> None:
    with Store(project) as st:
        ids = [st.add_bytes(f"object number {i} ".encode() * 20) for i in range(5)]
        st.cas_ref(
            b"refs/heads/x",
            None,
            st.write_commit(
                st.write_tree({f"f{i}": s for i, s in enumerate(ids)}),
                [],
                "m",
                "A <a@b>",
                when=0,
                tz_offset=0,
            ),
        )
    pack = next((project / ".mlvc" / "objects" / "pack").glob("*.pack"))
    raw = bytearray(pack.read_bytes())
    raw[-25] ^= 0x40  # inside the last entry (a blob: entries are ordered commit, tree, blob)
    os.chmod(pack, 0o644)
    pack.write_bytes(bytes(raw))
    with Store(project) as st:
        readable = []
        for sha in ids:
            try:
                st.get(sha)
                readable.append(sha)
            except mlvc.errors.CorruptObjectError:
                pass
        assert len(readable) == len(ids) - 1


def test_a_merge_whose_packs_another_store_merged_away_meanwhile_gives_up_cleanly(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two stores of one repository (two processes, or threads with a store each) merge
    at once: the packs this store listed are merged away by the other, and a thread of
    this store refreshes its indexes in between. The merge is given up, nothing is
    lost, and the next merge works (it once raised KeyError from the indexes)."""
    monkeypatch.setattr(repo_mod, "_MERGE_WIDTH", 3)
    blobs = [os.urandom(2000) for _ in range(3)]
    with Store(project) as mine, Store(project) as other:
        ids = []
        for data in blobs:  # three small packs: one merge's worth
            ids.append(mine.add(Blob.from_string(data)))
            mine.flush()
        real = mine._pack_indexes.raw_entries
        calls = []

        def merged_away_meanwhile(name: str, index: bytes) -> object:
            if not calls:
                other._merge_due = True
                other.merge_packs()  # the other store merges the same packs
                mine._pack_indexes.refresh(force=True)  # another thread of this store
            calls.append(name)
            return real(name, index)

        monkeypatch.setattr(mine._pack_indexes, "raw_entries", merged_away_meanwhile)
        mine._merge_due = True
        mine.merge_packs()  # must not raise
        assert calls, "the merge did not run"
        pack_dir = project / ".mlvc" / "objects" / "pack"
        assert len(list(pack_dir.glob("*.pack"))) == 1
        for sha, data in zip(ids, blobs, strict=True):
            assert mine.get(sha).as_raw_string() == data
            assert other.get(sha).as_raw_string() == data
    assert git(project / ".mlvc", "fsck", "--full", "--strict", "--no-dangling") == ""


@pytest.mark.parametrize("size", [0, 300, 4000, 5000, 40_000, repo_mod.PACK_OBJECT_MAX])
@pytest.mark.parametrize("kind", ["random", "text"])
def test_packed_parts_read_back_by_their_xxh3_or_their_id(
    project: Path, size: int, kind: str
) -> None:
    """A packed payload part (a patch, the last chunk of a data file) is read from its
    entry in one or more reads whatever its size, checked by its recorded xxh3 or, with
    none given or a wrong one, by its id; a flipped byte is refused either way."""
    import xxhash

    data = os.urandom(size) if kind == "random" else (b"row,1,2,3\n" * size)[:size]
    with Store(project) as st:
        sha = st.add_bytes(data)
        st.flush()
    assert not objects.loose_path(project / ".mlvc" / "objects", sha).exists()
    xxh = xxhash.xxh3_128_hexdigest(data)
    with Store(project) as st:
        for given in (xxh, None, "0" * 32):
            out = bytearray(size)
            st.read_blob_into(sha, memoryview(out), given)
            assert bytes(out) == data
    if not size:
        return
    pack = next((project / ".mlvc" / "objects" / "pack").glob("*.pack"))
    raw = bytearray(pack.read_bytes())
    # in the content (stored as it is), or in the Adler-32 ending the deflate stream
    at = raw.find(data[:64]) + 10 if kind == "random" else len(raw) - 20 - 2
    assert at >= 10
    raw[at] ^= 0x40
    os.chmod(pack, 0o644)
    pack.write_bytes(bytes(raw))
    with Store(project) as st:
        for given in (xxh, None):
            with pytest.raises(mlvc.errors.CorruptObjectError):
                st.read_blob_into(sha, memoryview(bytearray(size)), given)


def test_a_pack_with_a_keep_file_is_never_merged(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """git's ``.keep`` (a pack being received, or kept on purpose) holds a pack out of
    the merges, also when the file appears after the pack was first listed."""
    monkeypatch.setattr(repo_mod, "_MERGE_WIDTH", 2)
    monkeypatch.setattr(repo_mod, "_MERGE_BASE", 4 << 10)
    pack_dir = project / ".mlvc" / "objects" / "pack"
    mlvc.commit("c0", variables=small_state(0), repo=project)
    mlvc.commit("c1", variables=small_state(1), repo=project)  # listed, sized, merged
    kept = next(pack_dir.glob("*.pack"))
    kept.with_suffix(".keep").write_text("")
    for i in range(2, 10):
        mlvc.commit(f"c{i}", variables=small_state(i), repo=project)
    assert kept.exists() and kept.with_suffix(".idx").exists()
    assert len(list(pack_dir.glob("*.pack"))) <= 5


def test_an_object_met_in_a_pack_is_not_looked_up_again_for_a_while(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(project)
    written = store.add_bytes(b"written into a pack by this process")
    store.flush()
    other = Store(project)  # another process: it meets the object in the pack
    asked: list[bool] = []
    real_refresh = objects.PackIndexes.refresh

    def refresh(self: objects.PackIndexes, force: bool = False) -> None:
        asked.append(force)
        real_refresh(self, force)

    monkeypatch.setattr(objects.PackIndexes, "refresh", refresh)
    assert store.in_packs(written) and asked == []  # what it wrote: no lookup
    assert other.in_packs(written) and len(asked) == 1  # found once...
    assert other.in_packs(written) and len(asked) == 1  # ...then known
    packs = set(os.listdir(project / ".mlvc" / "objects" / "pack"))
    assert other.add_bytes(b"written into a pack by this process") == written
    other.flush()  # nothing gathered: no new pack
    assert set(os.listdir(project / ".mlvc" / "objects" / "pack")) == packs
    assert len(asked) == 1
    # an object that is not there is asked every time
    assert not other.in_packs("0" * 40) and not other.in_packs("0" * 40)
    assert len(asked) == 3
    # past PACKED_SECONDS, the tables are asked again (git gc by hand may drop objects)
    later = repo_mod.time.monotonic() + repo_mod.PACKED_SECONDS + 1
    monkeypatch.setattr(repo_mod.time, "monotonic", lambda: later)
    assert other.in_packs(written) and len(asked) == 4
    store.close()
    other.close()


def test_a_pack_written_is_taken_in_without_listing_the_folder_again(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(project)
    store.add_bytes(b"one")
    store.flush()
    other = Store(project)  # another process writes a pack meanwhile
    two = other.add_bytes(b"two")
    other.flush()
    listed: list[str] = []
    real_listdir = os.listdir

    def listdir(path: Any) -> list[str]:
        listed.append(str(path))
        return real_listdir(path)

    monkeypatch.setattr(os, "listdir", listdir)
    three = store.add_bytes(b"three")
    store.flush()
    assert len(listed) == 1  # the folder changed under it: listed once, before writing
    four = store.add_bytes(b"four")
    store.flush()
    assert len(listed) == 1  # nothing else changed: its own pack is added alone
    assert all(store.in_packs(sha) for sha in (two, three, four))
    assert store.read_blob(four) == b"four" and store.read_blob(two) == b"two"
    store.close()
    other.close()


@pytest.mark.parametrize("size", [0, 1, 255, 256, 257, 4096, 4097, 65535, 65536])
def test_packed_objects_of_every_size_read_back_with_git(project: Path, size: int) -> None:
    data = bytes(range(256)) * (size // 256) + bytes(size % 256)
    with Store(project) as st:
        blob = st.add_blob(data)
        tree = st.write_tree({"data": blob})
        cid = st.write_commit(tree, [], "m", "A <a@b>", when=0, tz_offset=0)
        st.cas_ref(b"refs/heads/x", None, cid)
    store = project / ".mlvc"
    assert git(store, "fsck", "--full", "--strict", "--no-dangling") == ""
    got = subprocess.run(
        ["git", "--git-dir", str(store), "cat-file", "blob", blob], capture_output=True, check=True
    ).stdout
    assert got == data
    with Store(project) as fresh:
        assert fresh.read_blob(blob) == data


def test_ids_are_found_by_prefix_while_another_process_merges_their_packs(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server resolving the id of a commit it just made, while a kernel's commits merge
    packs: the id is found whether loose, gathered, packed, or merged into a new pack
    since this store listed the folder (it was once reported unknown under load)."""
    from mlvc_server.store.revisions import resolve

    monkeypatch.setattr(repo_mod, "_MERGE_WIDTH", 3)
    with Store(project) as server, Store(project) as kernel:
        blob = server.add_bytes(b"made by the server")
        assert server.ids_with_prefix(blob[:6]) == [blob]  # gathered, not written yet
        cid = server.write_commit(server.write_tree({"f": blob}), [], "m", "A <a@b>")
        server.cas_ref(b"refs/heads/main", None, cid)
        assert resolve(server, cid) == cid and resolve(server, cid[:8]) == cid
        for i in range(6):  # the kernel writes packs and merges the server's away
            kernel.add_bytes(b"kernel %d" % i)
            kernel.flush()
            kernel.merge_packs()
        packs = {p.stem for p in (project / ".mlvc" / "objects" / "pack").glob("*.pack")}
        assert len(packs) <= 3  # merged
        assert resolve(server, cid) == cid and resolve(server, cid[:8]) == cid
        assert server.ids_with_prefix(blob[:6]) == [blob]
        big = os.urandom(repo_mod.PACK_OBJECT_MAX + 1)  # a loose object
        loose = server.add(Blob.from_string(big))
        assert server.ids_with_prefix(loose[:5]) == [loose]
        assert server.ids_with_prefix(loose) == [loose]
        assert server.ids_with_prefix("0" * 39 + "1") == []
