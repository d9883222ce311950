"""Payloads: chunking, deduplication, the fast-hash cache and streamed (GPU-like) segments."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from mlvc_server.serializers.base import Payload, Segment
from mlvc_server.store import Store
from mlvc_server.store import payloads as ps


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Store:
    monkeypatch.setattr(ps, "CHUNK_SIZE", 1 << 20)  # 1 MiB chunks keep the test small
    monkeypatch.setenv("MLVC_CONFIG_DIR", str(tmp_path / "config"))
    return Store.init(tmp_path)


def raw_payload(*arrays: np.ndarray) -> Payload:
    segs = [Segment(f"t{i}", a, a.nbytes) for i, a in enumerate(arrays)]
    return Payload("npy", segs, {"type": "test"}, "bin")


def read_all(store: Store, manifest: dict) -> list[bytes]:
    reader = ps.StoredPayload(store, manifest, "v")
    return [reader.read_segment(i) for i in range(len(reader.segment_names))]


def test_big_segment_is_split_into_fixed_chunks(store: Store) -> None:
    a = np.random.default_rng(0).integers(0, 255, (5 << 20) // 8 + 3, dtype=np.uint64)
    wp = ps.write_payload(store, raw_payload(a))
    seg = wp.manifest["segments"][0]
    assert len(seg["parts"]) == 6  # 5 MiB + 24 bytes in 1 MiB chunks
    assert read_all(store, wp.manifest) == [a.tobytes()]
    assert wp.bytes_written == a.nbytes


def test_unchanged_chunks_cost_nothing_the_second_time(store: Store) -> None:
    a = np.random.default_rng(1).normal(size=(4 << 20) // 8)
    ps.write_payload(store, raw_payload(a))
    a[10] += 1  # changes the first chunk only
    wp = ps.write_payload(store, raw_payload(a))
    assert wp.bytes_written == 1 << 20
    assert read_all(store, wp.manifest) == [a.tobytes()]


def test_cache_hits_skip_sha1(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    a = np.random.default_rng(2).normal(size=(2 << 20) // 8)
    first = ps.write_payload(store, raw_payload(a))
    calls = []
    real = ps.objects.blob_sha
    monkeypatch.setattr(ps.objects, "blob_sha", lambda *x: calls.append(1) or real(*x))
    second = ps.write_payload(store, raw_payload(a))
    assert calls == [] and second.part_ids == first.part_ids


def test_stale_cache_entry_is_not_trusted(store: Store) -> None:
    a = np.random.default_rng(3).normal(size=(2 << 20) // 8)
    first = ps.write_payload(store, raw_payload(a))
    for sha in set(first.part_ids):  # the objects vanish (e.g. pruned) but the cache remains
        ps.objects.loose_path(store.objects_dir, sha).unlink()
    again = ps.write_payload(store, raw_payload(a))
    assert again.bytes_written == a.nbytes
    assert read_all(store, again.manifest) == [a.tobytes()]


def test_identical_tensors_are_stored_once(store: Store) -> None:
    a = np.random.default_rng(4).normal(size=(1 << 20) // 8)
    wp = ps.write_payload(store, raw_payload(a, a.copy(), a.copy()))
    assert wp.bytes_written == a.nbytes


def _streamed(data: bytes, fingerprint: str | None) -> Segment:
    def materialize() -> Iterator[memoryview]:
        staging = bytearray(300_000)  # one reused buffer, like pinned host memory
        view = memoryview(staging)
        for start in range(0, len(data), len(staging)):
            piece = data[start : start + len(staging)]
            view[: len(piece)] = piece
            yield view[: len(piece)]

    return Segment("gpu", None, len(data), fingerprint, materialize)


def test_streamed_segment_with_fingerprint(store: Store) -> None:
    data = np.random.default_rng(5).bytes((3 << 20) + 17)
    p = Payload("npy", [_streamed(data, "fp-1")], {"type": "t"}, "bin")
    first = ps.write_payload(store, p)
    assert read_all(store, first.manifest) == [data]
    assert len(first.manifest["segments"][0]["parts"]) == 4

    def boom() -> Iterator[memoryview]:
        raise AssertionError("an unchanged device tensor must not be copied to the host")

    p2 = Payload("npy", [Segment("gpu", None, len(data), "fp-1", boom)], {"type": "t"}, "bin")
    second = ps.write_payload(store, p2)
    assert second.bytes_written == 0
    assert second.manifest == first.manifest
    # a changed fingerprint streams again
    data2 = data[:-1] + b"x"
    third = ps.write_payload(store, Payload("npy", [_streamed(data2, "fp-2")], {}, "bin"))
    assert read_all(store, third.manifest) == [data2]


def test_empty_segment(store: Store) -> None:
    wp = ps.write_payload(store, raw_payload(np.zeros(0)))
    assert read_all(store, wp.manifest) == [b""]
