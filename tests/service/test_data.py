"""Data files' content: capture at commit, checkout, diff; kept by gc, pushed, fsck'ed."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pandas as pd
import pytest

import mlvc_server as mlvc
from mlvc_server import render, service
from mlvc_server.errors import DataNotFoundError, MlvcError
from mlvc_server.store import datafiles, objects
from mlvc_server.store.repo import Store

from .conftest import git, write_nb


def rows(n: int, start: int = 0) -> pd.DataFrame:
    return pd.DataFrame(
        {"id": range(start, start + n), "x": [i * 0.5 for i in range(start, start + n)]}
    )


@pytest.fixture
def data(project: Path) -> Path:
    (project / "data").mkdir()
    rows(20_000).to_csv(project / "data" / "t.csv", index=False)
    (project / "data" / "notes.txt").write_text("hello\n")
    mlvc.init(project)
    return project


def test_content_patterns_capture_matching_files_only(data: Path) -> None:
    assert service.track_content(["data/*.csv"], repo=data) == ["data/*.csv"]
    cid = mlvc.commit("one", repo=data, data=["data"])
    rec = mlvc.show(cid, repo=data)
    csv, txt = rec["data"]["data/t.csv"], rec["data"]["data/notes.txt"]
    assert csv["content"] and csv["chunks"] >= 1
    assert "content" not in txt
    # the manifest is in the commit's tree, readable with plain git
    tree = git(data, "ls-tree", "-r", "--name-only", cid)
    assert "data/data%2Ft.csv/manifest.json" in tree.split()
    assert rec["bytes_written"] >= csv["size"]
    assert service.untrack_content(["data/*.csv"], repo=data) == []
    with pytest.raises(MlvcError, match="not a content pattern"):
        service.untrack_content(["data/*.csv"], repo=data)


def test_the_size_limit_captures_every_small_file(
    data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert service.set_content_max("1K", repo=data) == 1024
    cid = mlvc.commit("one", repo=data, data=["data"])
    got = mlvc.show(cid, repo=data)["data"]
    assert "content" in got["data/notes.txt"] and "content" not in got["data/t.csv"]
    monkeypatch.setenv(service.data.ENV_MAX, "10M")
    assert service.content_settings(repo=data)["max_bytes_from"] == "env"
    got = mlvc.show(mlvc.commit("two", repo=data, data=["data"]), repo=data)["data"]
    assert "content" in got["data/t.csv"]
    with pytest.raises(MlvcError, match="not a size"):
        service.set_content_max("lots", repo=data)


def test_checkout_brings_back_what_a_commit_read(data: Path) -> None:
    service.track_content(["data/**"], repo=data)
    c1 = mlvc.commit("one", repo=data, data=["data"])
    first = (data / "data" / "t.csv").read_bytes()
    pd.concat([rows(20_000), rows(200, 20_000)]).to_csv(data / "data" / "t.csv", index=False)
    c2 = mlvc.commit("two", repo=data, data=["data"])
    second = (data / "data" / "t.csv").read_bytes()
    # an append stores the few chunks at the end, not the file again
    assert mlvc.show(c2, repo=data)["bytes_written"] < len(first) / 2

    dry = service.data_checkout(c1, repo=data, dry_run=True)
    assert dry["restored"] == ["data/t.csv"] and dry["unchanged"] == ["data/notes.txt"]
    assert (data / "data" / "t.csv").read_bytes() == second  # a dry run writes nothing

    res = service.data_checkout(c1, repo=data)
    assert (data / "data" / "t.csv").read_bytes() == first
    kept = Path(res["safety_copies"]["data/t.csv"])
    assert kept.read_bytes() == second and ".mlvc" in kept.parts
    assert res["bytes"] == len(first)
    again = service.data_checkout(c1, repo=data)
    assert again["restored"] == [] and sorted(again["unchanged"]) == sorted(
        ["data/t.csv", "data/notes.txt"]
    )
    # a missing file comes back too, without a safety copy; by path or glob
    (data / "data" / "t.csv").unlink()
    res = service.data_checkout(c2, ["data/*.csv"], repo=data)
    assert res["restored"] == ["data/t.csv"] and res["safety_copies"] == {}
    assert (data / "data" / "t.csv").read_bytes() == second
    with pytest.raises(DataNotFoundError, match="no data file"):
        service.data_checkout(c1, ["data/other.csv"], repo=data)


def test_checkout_with_data_puts_back_the_notebook_and_the_data(data: Path) -> None:
    service.track_content(["data/**"], repo=data)
    nb = data / "train.ipynb"
    c1 = mlvc.commit("one", repo=data, notebook=nb, data=["data"])
    first, first_nb = (data / "data" / "t.csv").read_bytes(), nb.read_bytes()
    pd.concat([rows(20_000), rows(500, 20_000)]).to_csv(data / "data" / "t.csv", index=False)
    write_nb(nb, "print('second')")
    c2 = mlvc.commit("two", repo=data, notebook=nb, data=["data"])
    second = (data / "data" / "t.csv").read_bytes()

    # the plan a dialog shows: what differs, with the sizes on both sides
    plan = service.data_checkout(c1, repo=data, notebook=nb, dry_run=True)
    assert plan["restored"] == ["data/t.csv"]
    assert plan["sizes"] == {"data/t.csv": len(first)}
    assert plan["current_sizes"] == {"data/t.csv": len(second)}

    # without data=: the notebook only, the data file stays
    out = service.checkout(c1, repo=data, notebook=nb)
    assert out["data"] is None and out["notebook_written"]
    assert nb.read_bytes() == first_nb and (data / "data" / "t.csv").read_bytes() == second

    # with it: the data too, the replaced file kept as a safety copy
    service.checkout(c2, repo=data, notebook=nb)
    (data / "data" / "t.csv").write_bytes(second + b"99999,1.0\n")  # not committed
    out = service.checkout(c1, repo=data, notebook=nb, data=True)
    assert out["data"] is not None and out["data"]["restored"] == ["data/t.csv"]
    assert (data / "data" / "t.csv").read_bytes() == first
    kept = Path(out["data"]["safety_copies"]["data/t.csv"])
    assert kept.read_bytes() == second + b"99999,1.0\n"
    assert not out["data"]["dry_run"] and out["data"]["bytes"] == len(first)

    # by path (relative to the project root for the REST API), and a bad path refused
    # before the notebook, the branch or any file changed
    out = service.checkout(c2, repo=data, notebook=nb, data=["data/t.csv"], data_from_root=True)
    assert out["data"] is not None and out["data"]["restored"] == ["data/t.csv"]
    assert (data / "data" / "t.csv").read_bytes() == second
    before = nb.read_bytes()
    with pytest.raises(DataNotFoundError, match="no data file"):
        service.checkout(c1, repo=data, notebook=nb, data=["data/other.csv"])
    assert nb.read_bytes() == before and (data / "data" / "t.csv").read_bytes() == second
    assert service.status(repo=data, notebook=nb)["head"] == c2


def test_files_only_hashed_are_named_not_written(data: Path) -> None:
    c1 = mlvc.commit("one", repo=data, data=["data"])
    (data / "data" / "notes.txt").write_text("changed\n")
    res = service.data_checkout(c1, repo=data)
    assert res["not_captured"] == ["data/notes.txt"] and res["restored"] == []
    assert (data / "data" / "notes.txt").read_text() == "changed\n"


def test_diff_of_csv_rows_and_schema(data: Path) -> None:
    service.track_content(["data/**"], repo=data)
    c1 = mlvc.commit("one", repo=data, data=["data"])
    df = pd.concat([rows(20_000), rows(3, 20_000)]).drop(index=[5, 6])
    df.loc[100, "x"] = -1.0
    df["extra"] = 1
    df.to_csv(data / "data" / "t.csv", index=False)
    (data / "data" / "new.txt").write_text("n")
    c2 = mlvc.commit("two", repo=data, data=["data"])

    d = service.data_diff(c1, c2, repo=data)
    by = {f["path"]: f for f in d["files"]}
    assert by["data/new.txt"]["status"] == "added" and by["data/new.txt"]["size_a"] is None
    assert "data/notes.txt" not in by  # unchanged
    t = by["data/t.csv"]
    assert t["status"] == "changed" and t["size_b"] == (data / "data" / "t.csv").stat().st_size
    assert t["schema"]["added"] == ["extra"] and t["schema"]["removed"] == []
    df.drop(columns="extra").to_csv(data / "data" / "t.csv", index=False)
    c3 = mlvc.commit("three", repo=data, data=["data"])
    # rows are compared on the columns both versions have: the new column is the
    # schema's news, not a change of every row (the edited row is one removed, one
    # added; by key, one changed), with the column or without it
    for c in (c2, c3):
        t = {f["path"]: f for f in service.data_diff(c1, c, repo=data)["files"]}["data/t.csv"]
        assert t["rows"] == {"a": 20_000, "b": 20_001, "added": 4, "removed": 3}
        t = service.data_diff(c1, c, key="id", repo=data)["files"][1]
        assert t["path"] == "data/t.csv"
        assert t["rows"] == {
            "a": 20_000,
            "b": 20_001,
            "added": 3,
            "removed": 2,
            "changed": 1,
            "key": "id",
        }
    with pytest.raises(MlvcError, match="no column 'nope'"):
        service.data_diff(c1, c3, key="nope", repo=data)


def test_diff_of_parquet_schema_and_rows(data: Path) -> None:
    service.track_content(["data/**"], repo=data)
    rows(5000).to_parquet(data / "data" / "t.parquet", index=False)
    c1 = mlvc.commit("one", repo=data, data=["data/t.parquet"])
    df = rows(5010)
    df["x"] = df["x"].astype("float32")
    df.to_parquet(data / "data" / "t.parquet", index=False)
    c2 = mlvc.commit("two", repo=data, data=["data/t.parquet"])
    (f,) = service.data_diff(c1, c2, key="id", repo=data)["files"]
    assert f["schema"]["changed"] == {"x": ["double", "float"]}
    # a retyped column is compared by value: the same numbers in float32 are no change
    assert f["rows"] == {"a": 5000, "b": 5010, "added": 10, "removed": 0, "changed": 0, "key": "id"}


def test_diff_of_tables_with_no_column_in_common_compares_whole_rows(data: Path) -> None:
    service.track_content(["data/**"], repo=data)
    rows(50).to_csv(data / "data" / "t.csv", index=False)
    c1 = mlvc.commit("one", repo=data, data=["data/t.csv"])
    renamed = rows(50).rename(columns={"id": "k", "x": "y"})
    renamed.loc[:4, "y"] = -1.0
    renamed.to_csv(data / "data" / "t.csv", index=False)
    c2 = mlvc.commit("two", repo=data, data=["data/t.csv"])
    (f,) = service.data_diff(c1, c2, repo=data)["files"]
    assert f["schema"]["added"] == ["k", "y"] and f["schema"]["removed"] == ["id", "x"]
    # every column renamed: rows are compared by their values, in order
    assert f["rows"] == {"a": 50, "b": 50, "added": 5, "removed": 5}


def test_diff_of_files_not_captured_says_so(data: Path) -> None:
    c1 = mlvc.commit("one", repo=data, data=["data"])
    rows(10).to_csv(data / "data" / "t.csv", index=False)
    c2 = mlvc.commit("two", repo=data, data=["data"])
    (f,) = service.data_diff(c1, c2, repo=data)["files"]
    assert not f["captured"] and "not captured" in f["note"] and "rows" not in f


def test_gc_keeps_data_of_kept_commits_and_frees_the_rest(data: Path) -> None:
    service.track_content(["data/**"], repo=data)
    big = data / "data" / "big.bin"
    ids = []
    for i in range(3):
        big.write_bytes(os.urandom(1 << 20))
        ids.append(mlvc.commit(f"v{i}", repo=data, data=["data/big.bin"]))
    report = service.gc(repo=data, keep_last=1, grace="now")
    assert ids[0] in report["commits_pruned"] and ids[2] not in report["commits_pruned"]
    # chunks of at most 64 KiB sit in packs with the small objects, which retention keeps
    assert report["bytes_freed"] >= 0.8 * (2 << 20)
    assert mlvc.fsck(repo=data)["ok"]
    assert git(data, "fsck", "--full", "--strict", "--no-dangling") == ""
    big.unlink()
    service.data_checkout(ids[2], repo=data)
    assert big.stat().st_size == 1 << 20
    with pytest.raises(MlvcError, match="pruned"):
        service.data_checkout(ids[0], repo=data)
    assert not big.exists() or big.stat().st_size == 1 << 20


def test_fsck_finds_a_damaged_data_chunk(data: Path) -> None:
    service.track_content(["data/t.csv"], repo=data)
    cid = mlvc.commit("one", repo=data, data=["data/t.csv"])
    manifest = mlvc.show(cid, repo=data)["data"]["data/t.csv"]["content"]
    store = Store.open(data)
    part = datafiles.read_manifest(store, manifest)["segments"][0]["parts"][0]
    path = objects.loose_path(store.objects_dir, part)
    raw = bytearray(path.read_bytes())
    raw[-10] ^= 0xFF
    os.chmod(path, 0o644)
    path.write_bytes(raw)
    report = mlvc.fsck(repo=data)
    assert not report["ok"] and any("data" in p for p in report["problems"])


def test_push_and_clone_carry_the_data(data: Path, tmp_path: Path) -> None:
    service.track_content(["data/**"], repo=data)
    cid = mlvc.commit("one", repo=data, data=["data"])
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    service.remote_add("origin", str(remote), repo=data)
    service.push(repo=data)
    clone = Path(service.clone(str(remote), tmp_path / "b")["path"])
    res = service.data_checkout(cid, repo=clone)
    assert sorted(res["restored"]) == ["data/notes.txt", "data/t.csv"]
    assert (clone / "data" / "t.csv").read_bytes() == (data / "data" / "t.csv").read_bytes()


def test_a_crafted_record_cannot_write_outside_the_project(data: Path) -> None:
    service.track_content(["data/**"], repo=data)
    real = mlvc.show(mlvc.commit("one", repo=data, data=["data"]), repo=data)["data"]
    entry = real["data/t.csv"]
    for bad in ("../evil.csv", "/tmp/evil.csv", "a/../../evil.csv", ".mlvc/config"):
        # a record as a collaborator's pulled commit could carry it
        cid = mlvc.commit("crafted", repo=data, extra={"data": {bad: entry}})
        with pytest.raises(MlvcError, match="not a path inside the project"):
            service.data_checkout(cid, repo=data)
    assert not (data.parent / "evil.csv").exists()


def test_edited_rows_are_patches_that_gc_fsck_and_push_keep_whole(
    data: Path, tmp_path: Path
) -> None:
    service.track_content(["data/t.csv"], repo=data)
    src = data / "data" / "t.csv"
    table = rows(60_000)
    table.to_csv(src, index=False)
    c1 = mlvc.commit("one", repo=data, data=["data/t.csv"])
    size = src.stat().st_size
    table.loc[table.index[::100], "x"] = -1.0  # 1% of the rows, spread over the file
    table.to_csv(src, index=False)
    c2 = mlvc.commit("two", repo=data, data=["data/t.csv"])
    edited = src.read_bytes()
    rec = mlvc.show(c2, repo=data)
    assert rec["bytes_written"] < 0.10 * size
    store = Store.open(data)
    segments = datafiles.read_manifest(store, rec["data"]["data/t.csv"]["content"])["segments"]
    assert any(s.get("codec") == "zstd-patch" for s in segments)
    assert mlvc.fsck(repo=data)["ok"]
    assert git(data, "fsck", "--full", "--strict", "--no-dangling") == ""
    # retention prunes the first commit; the chunks the second one is patched against stay
    report = service.gc(repo=data, keep_last=1, grace="now")
    assert c1 in report["commits_pruned"]
    assert mlvc.fsck(repo=data)["ok"]
    src.unlink()
    service.data_checkout(c2, repo=data)
    assert src.read_bytes() == edited
    # and a clone gets bases and patches
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    service.remote_add("origin", str(remote), repo=data)
    service.push(repo=data)
    clone = Path(service.clone(str(remote), tmp_path / "b")["path"])
    service.data_checkout(c2, repo=clone)
    assert (clone / "data" / "t.csv").read_bytes() == edited


def test_undo_puts_the_files_back_as_they_were_before_the_checkout(data: Path) -> None:
    service.track_content(["data/**"], repo=data)
    c1 = mlvc.commit("one", repo=data, data=["data"])
    (data / "data" / "extra.csv").write_text("a,b\n1,2\n")
    c2 = mlvc.commit("two", repo=data, data=["data"])
    # the files now: t.csv edited after c2 (never committed), extra.csv gone
    rows(500).to_csv(data / "data" / "t.csv", index=False)
    mine = (data / "data" / "t.csv").read_bytes()
    (data / "data" / "extra.csv").unlink()
    notes = (data / "data" / "notes.txt").read_bytes()

    assert service.data_checkout(c1, repo=data, dry_run=True)["safety"] is None
    out = service.data_checkout(c2, repo=data)
    assert sorted(out["restored"]) == ["data/extra.csv", "data/t.csv"] and out["safety"]
    assert "mlvc data undo " + out["safety"] in render.data_checkout_text(out)
    assert (data / "data" / "extra.csv").exists()

    undone = service.data_undo(out["safety"], repo=data)
    assert undone["put_back"] == ["data/t.csv"] and undone["removed"] == ["data/extra.csv"]
    assert undone["commit"] == c2 and undone["left_alone"] == {}
    assert (data / "data" / "t.csv").read_bytes() == mine  # the edit nobody committed
    assert not (data / "data" / "extra.csv").exists()
    assert (data / "data" / "notes.txt").read_bytes() == notes
    # the status knows the files as they are now: nothing is hashed stale
    assert service.data_checkout(c2, repo=data, dry_run=True)["restored"] == sorted(
        ["data/extra.csv", "data/t.csv"]
    )
    with pytest.raises(MlvcError, match="undone already"):
        service.data_undo(out["safety"], repo=data)
    with pytest.raises(DataNotFoundError, match="no data checkout to undo"):
        service.data_undo(repo=data)


def test_undo_leaves_a_file_changed_since_the_checkout_alone(data: Path) -> None:
    service.track_content(["data/**"], repo=data)
    c1 = mlvc.commit("one", repo=data, data=["data"])
    rows(300).to_csv(data / "data" / "t.csv", index=False)
    (data / "data" / "notes.txt").write_text("mine\n")
    first = service.data_checkout(c1, repo=data)
    second = service.data_checkout(c1, repo=data)  # nothing to write: no record
    assert second["safety"] is None and second["restored"] == []
    (data / "data" / "notes.txt").write_text("changed after the checkout\n")
    undone = service.data_undo(repo=data)  # the latest one
    assert undone["safety"] == first["safety"]
    assert undone["put_back"] == ["data/t.csv"]
    assert undone["left_alone"] == {"data/notes.txt": "changed since the checkout"}
    assert (data / "data" / "notes.txt").read_text() == "changed after the checkout\n"
    # its safety copy stays where the checkout said
    assert Path(first["safety_copies"]["data/notes.txt"]).read_text() == "mine\n"
    for bad in ("../x", "20260101T000000-zzzzzzzz", "a/b"):
        with pytest.raises(MlvcError):
            service.data_undo(bad, repo=data)
    with pytest.raises(DataNotFoundError):
        service.data_undo("20260101T000000-0123abcd", repo=data)


def test_two_checkouts_in_one_second_keep_their_safety_copies_apart(data: Path) -> None:
    service.track_content(["data/**"], repo=data)
    c1 = mlvc.commit("one", repo=data, data=["data"])
    names = set()
    for text in ("first\n", "second\n"):
        (data / "data" / "notes.txt").write_text(text)
        out = service.data_checkout(c1, repo=data)
        names.add(out["safety"])
        assert Path(out["safety_copies"]["data/notes.txt"]).read_text() == text
    assert len(names) == 2
