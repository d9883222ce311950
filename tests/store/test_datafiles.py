"""Data files' content as content-defined chunks: boundaries, dedup, atomic restore."""

from __future__ import annotations

import itertools
import os
import random
from pathlib import Path
from typing import Any

import pytest

from mlvc_server.capture.data import hash_file
from mlvc_server.errors import CorruptObjectError, MlvcError
from mlvc_server.store import Store, datafiles, objects


def _bytes(n: int, seed: int = 0) -> bytes:
    return random.Random(seed).randbytes(n)


def test_chunks_cover_the_buffer_within_the_size_limits() -> None:
    data = _bytes(5 << 20)
    cuts = list(datafiles.cut(data))
    assert cuts[0][0] == 0
    assert sum(n for _o, n in cuts) == len(data)
    for (o1, n1), (o2, _n2) in itertools.pairwise(cuts):
        assert o1 + n1 == o2
    assert all(datafiles.MIN_CHUNK <= n <= datafiles.MAX_CHUNK for _o, n in cuts[:-1])
    assert 10 < len(cuts) < 60  # about 5 MiB / (AVG + MIN)


def test_boundaries_follow_the_content_not_the_offsets() -> None:
    data = _bytes(4 << 20, seed=1)
    shifted = b"a few inserted bytes" + data
    ends = {o + n for o, n in datafiles.cut(data)}
    shifted_ends = {o + n - 20 for o, n in datafiles.cut(shifted)}
    # after the first chunk or two, every boundary is found again, 20 bytes later
    assert len(ends & shifted_ends) >= len(ends) - 2


def test_capture_and_restore_round_trip(tmp_path: Path) -> None:
    store = Store.init(tmp_path)
    src = tmp_path / "a.bin"
    src.write_bytes(_bytes(3 << 20, seed=2))
    digest = hash_file(src)
    cap = datafiles.capture_file(store, src, digest)
    assert cap.size == 3 << 20
    assert cap.bytes_written == cap.size
    assert cap.chunks == len(cap.part_ids) > 1
    out = tmp_path / "sub" / "b.bin"
    assert datafiles.restore_file(store, cap.manifest_id, out, digest) == cap.size
    assert out.read_bytes() == src.read_bytes()
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".mlvc-data.")]


def test_an_empty_file_round_trips(tmp_path: Path) -> None:
    store = Store.init(tmp_path)
    (tmp_path / "e").write_bytes(b"")
    digest = hash_file(tmp_path / "e")
    cap = datafiles.capture_file(store, tmp_path / "e", digest)
    datafiles.restore_file(store, cap.manifest_id, tmp_path / "f", digest)
    assert (tmp_path / "f").read_bytes() == b""


def test_an_append_stores_only_the_last_chunks(tmp_path: Path) -> None:
    store = Store.init(tmp_path)
    src = tmp_path / "rows.csv"
    rows = [f"{i},{i * 7 % 1000},label-{i % 13}\n" for i in range(200_000)]
    src.write_text("".join(rows))
    first = datafiles.capture_file(store, src, hash_file(src))
    with src.open("a") as f:
        f.write("".join(f"{i},0,new\n" for i in range(2000)))
    second = datafiles.capture_file(store, src, hash_file(src))
    assert second.bytes_written <= datafiles.MAX_CHUNK + 2000 * 12
    assert second.bytes_written < first.size * 0.3
    assert len(set(second.part_ids) & set(first.part_ids)) >= first.chunks - 1


def test_an_edit_in_the_middle_stores_the_chunks_around_it(tmp_path: Path) -> None:
    store = Store.init(tmp_path)
    src = tmp_path / "a.bin"
    data = bytearray(_bytes(6 << 20, seed=3))
    src.write_bytes(data)
    first = datafiles.capture_file(store, src, hash_file(src))
    data[3 << 20 : (3 << 20) + 10] = b"0123456789"
    src.write_bytes(data)
    second = datafiles.capture_file(store, src, hash_file(src))
    assert 0 < second.bytes_written <= 2 * datafiles.MAX_CHUNK
    assert len(set(first.part_ids) - set(second.part_ids)) <= 2


def test_an_unchanged_file_is_not_chunked_again(tmp_path: Path) -> None:
    store = Store.init(tmp_path)
    src = tmp_path / "a.bin"
    src.write_bytes(_bytes(1 << 20, seed=4))
    digest = hash_file(src)
    first = datafiles.capture_file(store, src, digest)
    again = datafiles.capture_file(store, src, digest, lambda st: pytest.fail("read again"))
    assert again.manifest_id == first.manifest_id
    assert again.bytes_written == 0


def test_a_file_changed_since_it_was_hashed_is_refused(tmp_path: Path) -> None:
    store = Store.init(tmp_path)
    src = tmp_path / "a.bin"
    src.write_bytes(b"x" * 100)
    with pytest.raises(MlvcError, match="changed while"):
        datafiles.capture_file(store, src, "blake3:" + "0" * 64, lambda st: False)


@pytest.mark.parametrize("mib", [2, 7])  # one run, read on the caller's thread; several
def test_restore_of_damaged_content_leaves_the_file_alone(tmp_path: Path, mib: int) -> None:
    store = Store.init(tmp_path)
    src = tmp_path / "a.bin"
    src.write_bytes(_bytes(mib << 20, seed=5))
    digest = hash_file(src)
    cap = datafiles.capture_file(store, src, digest)
    part = objects.loose_path(store.objects_dir, cap.part_ids[-2])
    raw = bytearray(part.read_bytes())
    raw[-100] ^= 0xFF
    os.chmod(part, 0o644)
    part.write_bytes(raw)
    (tmp_path / "dest.bin").write_bytes(b"mine")
    with pytest.raises(CorruptObjectError):
        datafiles.restore_file(store, cap.manifest_id, tmp_path / "dest.bin", digest)
    assert (tmp_path / "dest.bin").read_bytes() == b"mine"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".mlvc")) == [".mlvc"]


def test_entry_names_escape_folders() -> None:
    assert datafiles.entry_name("data/a%b/c.csv") == "data%2Fa%25b%2Fc.csv"


# -- changed chunks stored as patches against the previous content ---------------------
ROW = 100


def _table(rows: int, seed: int = 7) -> bytearray:
    """Fixed-width CSV-like rows of random letters (they do not compress by themselves)."""
    rng = random.Random(seed)
    letters = b"abcdefghijklmnopqrstuvwxyz0123456789"
    out = bytearray()
    for i in range(rows):
        body = bytes(rng.choice(letters) for _ in range(ROW - 20))
        out += b"%018d," % i + body + b"\n"
    return out


def _capture(store: Store, src: Path, name: str = "t.csv") -> datafiles.CapturedFile:
    return datafiles.capture_file(store, src, hash_file(src), name=name)


def _restored(store: Store, cap: datafiles.CapturedFile, digest: str, dest: Path) -> bytes:
    datafiles.restore_file(store, cap.manifest_id, dest, digest)
    return dest.read_bytes()


def test_rows_edited_at_random_store_patches_not_chunks(tmp_path: Path) -> None:
    store = Store.init(tmp_path)
    src = tmp_path / "t.csv"
    data = _table(40_000)
    src.write_bytes(data)
    first = _capture(store, src)
    rng = random.Random(1)
    for row in rng.sample(range(40_000), 400):  # 1% of the rows, one every 10 KB
        data[row * ROW + 30 : row * ROW + 40] = b"EDITEDEDIT"
    src.write_bytes(data)
    digest = hash_file(src)
    second = _capture(store, src)
    # every chunk holds an edited row, yet only the patches are new
    assert second.bytes_written < 0.02 * len(data)
    segments = datafiles.read_manifest(store, second.manifest_id)["segments"]
    patched = [s for s in segments if s.get("codec") == "zstd-patch"]
    assert len(patched) >= len(segments) - 2
    assert all(set(s["parts"][:-1]) <= set(first.part_ids) for s in patched)
    assert _restored(store, second, digest, tmp_path / "out.csv") == bytes(data)
    # without the previous content as base, the whole file is stored again
    other = Store.init(tmp_path / "other")
    assert datafiles.capture_file(other, src, digest).bytes_written > 0.9 * len(data)


def test_inserted_rows_and_a_new_column_are_patched(tmp_path: Path) -> None:
    store = Store.init(tmp_path)
    src = tmp_path / "t.csv"
    rows = _table(30_000).splitlines(keepends=True)
    src.write_bytes(b"".join(rows))
    _capture(store, src)
    # 300 rows inserted in the middle: the chunks around them change length
    inserted = rows[:15_000] + [b"%018d,new row\n" % i for i in range(300)] + rows[15_000:]
    src.write_bytes(b"".join(inserted))
    digest = hash_file(src)
    cap = _capture(store, src)
    assert cap.bytes_written < 0.05 * src.stat().st_size
    assert _restored(store, cap, digest, tmp_path / "a.csv") == src.read_bytes()
    # a column at the end of every row: every chunk is longer, none is the same
    widened = [r[:-1] + b",%08d\n" % (i % 997) for i, r in enumerate(inserted)]
    src.write_bytes(b"".join(widened))
    digest = hash_file(src)
    cap = _capture(store, src)
    assert cap.bytes_written < 0.15 * src.stat().st_size
    assert _restored(store, cap, digest, tmp_path / "b.csv") == src.read_bytes()


def test_patches_stay_one_level_deep_and_repeat_for_free(tmp_path: Path) -> None:
    store = Store.init(tmp_path)
    src = tmp_path / "t.csv"
    data = _table(20_000)
    src.write_bytes(data)
    first = _capture(store, src)
    versions = []
    for k in range(3):
        for row in random.Random(k).sample(range(20_000), 200):
            data[row * ROW + 30 : row * ROW + 33] = b"v%d!" % k
        src.write_bytes(data)
        versions.append((_capture(store, src), hash_file(src), bytes(data)))
    for cap, digest, content in versions:
        for seg in datafiles.read_manifest(store, cap.manifest_id)["segments"]:
            # every base is a whole chunk of the first version, never another patch
            assert set(seg["parts"][:-1] if seg.get("codec") else seg["parts"]) <= set(
                first.part_ids
            ) or not seg.get("codec")
        assert _restored(store, cap, digest, tmp_path / "o.csv") == content
    # the same content under another name: every chunk known, nothing written
    (tmp_path / "copy.csv").write_bytes(data)
    again = datafiles.capture_file(
        store, tmp_path / "copy.csv", hash_file(tmp_path / "copy.csv"), name="copy.csv"
    )
    assert again.bytes_written == 0
    assert again.part_ids and set(again.part_ids) == set(versions[-1][0].part_ids)


def test_a_pruned_base_is_not_patched_against(tmp_path: Path) -> None:
    store = Store.init(tmp_path)
    src = tmp_path / "t.csv"
    data = _table(20_000)
    src.write_bytes(data)
    first = _capture(store, src)
    pruned = set()
    for sha in first.part_ids:  # what retention does to a pruned commit's big chunks
        path = objects.loose_path(store.objects_dir, sha)
        if path.exists():
            path.unlink()
            pruned.add(sha)
    assert pruned
    for row in range(0, 20_000, 100):
        data[row * ROW + 30 : row * ROW + 33] = b"new"
    src.write_bytes(data)
    digest = hash_file(src)
    cap = _capture(store, src)
    segments = datafiles.read_manifest(store, cap.manifest_id)["segments"]
    assert not pruned & {p for s in segments for p in s["parts"]}
    assert any(s.get("codec") for s in segments)  # the chunks still here are bases
    assert _restored(store, cap, digest, tmp_path / "o.csv") == bytes(data)


def _patch_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the patches computed (zstd runs) from here on."""
    from mlvc_server.store import payloads

    calls: list[int] = []
    make = payloads.make_patch

    def counted(base: bytes, target: bytes) -> bytes:
        calls.append(len(target))
        return make(base, target)

    monkeypatch.setattr(payloads, "make_patch", counted)
    with_window = payloads.patch_with

    def counted_window(dictionary: Any, target: bytes) -> bytes:
        calls.append(len(target))
        return with_window(dictionary, target)

    monkeypatch.setattr(payloads, "patch_with", counted_window)
    return calls


def test_new_bytes_at_every_chunk_are_stored_whole_without_patching(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store.init(tmp_path)
    src = tmp_path / "t.bin"
    src.write_bytes(_bytes(6 << 20, seed=3))
    _capture(store, src, "t.bin")
    calls = _patch_calls(monkeypatch)
    # every chunk changes (new bytes of another length, as a re-encoded file is): the
    # samples find nothing of them in the base, so no patch is even computed
    src.write_bytes(_bytes((6 << 20) + 12_345, seed=4))
    digest = hash_file(src)
    cap = _capture(store, src, "t.bin")
    segments = datafiles.read_manifest(store, cap.manifest_id)["segments"]
    assert len(segments) > 20
    assert not [s for s in segments if s.get("codec")]
    assert cap.bytes_written == src.stat().st_size
    assert calls == []
    assert _restored(store, cap, digest, tmp_path / "o.bin") == src.read_bytes()


def test_patching_gives_up_after_the_first_patches_are_all_too_big(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store.init(tmp_path)
    src = tmp_path / "t.bin"
    src.write_bytes(_bytes(8 << 20, seed=5))
    _capture(store, src, "t.bin")
    calls = _patch_calls(monkeypatch)
    # samples that pass (as a file sharing short runs with its base may) over new bytes:
    # the first BAIL_AFTER patches are too big, and the rest of the file is not patched
    monkeypatch.setattr(datafiles, "likely_patchable", lambda *a: True)
    src.write_bytes(_bytes(8 << 20, seed=6))
    digest = hash_file(src)
    cap = _capture(store, src, "t.bin")
    segments = datafiles.read_manifest(store, cap.manifest_id)["segments"]
    assert len(segments) > 3 * datafiles.BAIL_AFTER
    assert not [s for s in segments if s.get("codec")]
    assert cap.bytes_written == src.stat().st_size
    # the ones computed before the verdict (at most the chunks in flight) and no more
    from mlvc_server.store import payloads

    assert datafiles.BAIL_AFTER <= len(calls) <= datafiles.BAIL_AFTER + 2 * payloads.WORKERS + 1
    assert _restored(store, cap, digest, tmp_path / "o.bin") == src.read_bytes()


def test_patchability_is_estimated_from_samples() -> None:
    base = _table(3_000)
    edited = bytearray(base)
    for row in range(0, 3_000, 97):
        edited[row * ROW + 30 : row * ROW + 40] = b"EDITEDEDIT"
    widened = b"".join(r[:-1] + b",%08d\n" % i for i, r in enumerate(base.splitlines(True)))
    assert datafiles.likely_patchable(base, edited, 0, len(base))
    # a chunk of widened rows, from where the mapping puts it in the base
    at = 100_000
    chunk = widened[at : at + 150_000]
    span = len(chunk) * len(base) // len(widened)
    assert datafiles.likely_patchable(base, chunk, at * len(base) // len(widened), span)
    assert not datafiles.likely_patchable(base, _bytes(150_000), 0, len(base))
    # a few rows where the mapping puts them, most of them much further (a parquet
    # column chunk moved): those are looked for in all of the base
    moved = base[:20_000] + base[200_000:280_000]
    assert datafiles.likely_patchable(base, moved, 0, len(moved))
    assert not datafiles.likely_patchable(base, _bytes(20_000) + base[200_000:280_000], 0, 100_000)


def test_patches_round_trip_and_refuse_garbage() -> None:
    from mlvc_server.store import payloads

    base = _bytes(200_000, seed=9)
    same_len = bytearray(base)
    same_len[1000:1010] = b"0123456789"
    longer = base[:5000] + b"inserted" + base[5000:]
    for target in (bytes(same_len), longer, b"", base[:10]):
        patch = payloads.make_patch(base, target)
        assert payloads.apply_patch(base, patch, len(target)) == target
    assert len(payloads.make_patch(base, bytes(same_len))) < 200
    assert len(payloads.make_patch(base, longer)) < 200
    for bad in (b"", b"q" + b"x" * 20, b"d" + b"x" * 20, b"x" + b"x" * 20):
        with pytest.raises(ValueError):
            payloads.apply_patch(base, bad, len(base))
    with pytest.raises(ValueError):  # a patch that gives another size
        payloads.apply_patch(base, payloads.make_patch(base, longer), len(base))


def test_a_checkout_reads_each_shared_base_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store.init(tmp_path)
    src = tmp_path / "t.csv"
    rows = _table(30_000).splitlines(keepends=True)
    src.write_bytes(b"".join(rows))
    _capture(store, src)
    # a column added: every chunk is a patch against two or three chunks of the first
    # version, and neighbouring chunks share those
    src.write_bytes(b"".join(r[:-1] + b",%08d\n" % (i % 997) for i, r in enumerate(rows)))
    digest = hash_file(src)
    cap = _capture(store, src)
    segments = datafiles.read_manifest(store, cap.manifest_id)["segments"]
    bases = [p for seg in segments if seg.get("codec") for p in seg["parts"][:-1]]
    assert len(bases) > len(set(bases))  # shared
    reads: dict[str, int] = {}
    real = store.read_blob_into

    def counted(sha: str, out: memoryview, xxh3: str | None = None) -> None:
        reads[sha] = reads.get(sha, 0) + 1
        real(sha, out, xxh3)

    monkeypatch.setattr(store, "read_blob_into", counted)
    assert _restored(store, cap, digest, tmp_path / "a.csv") == src.read_bytes()
    assert {reads[b] for b in set(bases)} == {1}
    # with no room to keep them, each is read again where it is needed: same bytes
    reads.clear()
    monkeypatch.setattr(datafiles, "_SHARED_BASES", 0)
    assert _restored(store, cap, digest, tmp_path / "b.csv") == src.read_bytes()
    assert sum(reads[b] for b in set(bases)) == len(bases)


def test_widened_rows_share_one_dictionary_per_window(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store.init(tmp_path)
    src = tmp_path / "t.csv"
    rows = _table(40_000).splitlines(keepends=True)
    src.write_bytes(b"".join(rows))
    _capture(store, src)
    made: list[int] = []
    make = datafiles._Windows._make

    def counted(self: Any, parts: Any) -> Any:
        made.append(len(parts))
        return make(self, parts)

    monkeypatch.setattr(datafiles._Windows, "_make", counted)
    src.write_bytes(b"".join(r[:-1] + b",%08d\n" % (i % 997) for i, r in enumerate(rows)))
    digest = hash_file(src)
    cap = _capture(store, src)
    patched = [
        s for s in datafiles.read_manifest(store, cap.manifest_id)["segments"] if s.get("codec")
    ]
    assert len(patched) >= 20 and cap.bytes_written < 0.15 * src.stat().st_size
    # each window's dictionary made once, for the several chunks under it
    assert len(made) <= len(patched) // 3
    assert max(len(s["parts"]) - 1 for s in patched) <= datafiles.WINDOW
    assert _restored(store, cap, digest, tmp_path / "a.csv") == src.read_bytes()


def test_a_worker_still_holding_its_chunk_does_not_fail_the_capture(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A thread pool's worker drops its arguments (views of the file's mapping) only
    after the result it set was seen: closing the mapping then raised BufferError
    ("cannot close exported pointers exist") and lost the capture, on a loaded machine."""
    from concurrent.futures import Future

    held: list[Any] = []

    class Lingering:  # runs each task at once, and keeps its arguments like a late worker
        def submit(self, fn: Any, *args: Any) -> Future[Any]:
            f: Future[Any] = Future()
            f.set_result(fn(*args))
            held.append(args)
            return f

    store = Store.init(tmp_path)
    src = tmp_path / "t.csv"
    data = _table(20_000)
    src.write_bytes(data)
    _capture(store, src)
    data[5 * ROW + 30 : 5 * ROW + 40] = b"EDITEDEDIT"
    src.write_bytes(data)
    monkeypatch.setattr(datafiles.payloads, "workers", lambda: Lingering())
    second = _capture(store, src)
    assert held, "no chunk was patched on a worker"
    held.clear()
    assert _restored(store, second, hash_file(src), tmp_path / "out.csv") == bytes(data)


def test_a_checkout_hands_the_chunks_out_in_runs_that_cover_them_all() -> None:
    mib = 1 << 20
    for sizes in ([], [0], [mib] * 9, [5 * mib, 1, mib, 3 * mib, 3 * mib], [7] * 1000):
        runs = datafiles._runs(sizes)
        # in order, no gaps, every chunk once, each run's bytes its chunks' sum
        assert [i for a, b, _n in runs for i in range(a, b)] == list(range(len(sizes)))
        assert all(n == sum(sizes[a:b]) for a, b, n in runs)
        # a run passes the size only when it holds a single chunk
        assert all(n <= datafiles._RUN_BYTES or b - a == 1 for a, b, n in runs)
    per_run = datafiles._RUN_BYTES // mib
    assert len(datafiles._runs([mib] * 9)) == -(-9 // per_run)


def _manifest_with(store: Store, manifest_id: str, edit: Any) -> str:
    """A copy of a content manifest, changed by ``edit(manifest)``, stored; its id."""
    import json

    manifest = datafiles.read_manifest(store, manifest_id)
    edit(manifest)
    return store.add_bytes(json.dumps(manifest).encode())


def test_a_checkout_checks_every_chunk_and_the_recorded_hash(tmp_path: Path) -> None:
    store = Store.init(tmp_path)
    src = tmp_path / "t.csv"
    data = _table(40_000)
    src.write_bytes(data)
    _capture(store, src)
    for row in random.Random(2).sample(range(40_000), 400):
        data[row * ROW + 30 : row * ROW + 40] = b"EDITEDEDIT"
    src.write_bytes(data)
    digest = hash_file(src)
    second = _capture(store, src)
    manifest = datafiles.read_manifest(store, second.manifest_id)
    assert manifest["meta"]["digest"] == digest
    patched = [i for i, s in enumerate(manifest["segments"]) if s.get("codec")]
    assert patched and all(manifest["segments"][i]["content_xxh3"] for i in patched)
    dest = tmp_path / "out.csv"
    assert _restored(store, second, digest, dest) == bytes(data)

    # a patched chunk whose result is not the chunk recorded: caught by its own hash
    def mishash(m: dict[str, Any]) -> None:
        m["segments"][patched[0]]["content_xxh3"] = "0" * 32

    wrong = _manifest_with(store, second.manifest_id, mishash)
    dest.write_bytes(b"mine")
    with pytest.raises(CorruptObjectError, match="once its patch is applied"):
        datafiles.restore_file(store, wrong, dest, digest)
    assert dest.read_bytes() == b"mine"

    # a manifest that records another file's hash is refused before anything is written
    other = _manifest_with(store, second.manifest_id, lambda m: m["meta"].update(digest="x"))
    with pytest.raises(CorruptObjectError, match="does not match the hash its commit"):
        datafiles.restore_file(store, other, dest, digest)


def test_a_manifest_without_a_recorded_hash_is_checked_by_hashing_the_file(
    tmp_path: Path,
) -> None:
    store = Store.init(tmp_path)
    src = tmp_path / "a.bin"
    src.write_bytes(_bytes(3 << 20, seed=9))
    digest = hash_file(src)
    cap = datafiles.capture_file(store, src, digest)

    def older(m: dict[str, Any]) -> None:  # as mlvc wrote them before, chunks swapped
        del m["meta"]["digest"]
        m["segments"][0], m["segments"][1] = m["segments"][1], m["segments"][0]

    swapped = _manifest_with(store, cap.manifest_id, older)
    assert len(datafiles.read_manifest(store, swapped)["segments"]) > 2
    with pytest.raises(CorruptObjectError, match="does not match the hash its commit"):
        datafiles.restore_file(store, swapped, tmp_path / "out.bin", digest)
    assert not (tmp_path / "out.bin").exists()
