"""Data files' content as content-defined chunks: boundaries, dedup, atomic restore."""

from __future__ import annotations

import itertools
import os
import random
from pathlib import Path

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


def test_restore_of_damaged_content_leaves_the_file_alone(tmp_path: Path) -> None:
    store = Store.init(tmp_path)
    src = tmp_path / "a.bin"
    src.write_bytes(_bytes(2 << 20, seed=5))
    digest = hash_file(src)
    cap = datafiles.capture_file(store, src, digest)
    part = objects.loose_path(store.objects_dir, cap.part_ids[1])
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
