"""Reading a stored payload by ranges (a bounded buffer over a big segment)."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from mlvc_server.errors import PayloadMissingError
from mlvc_server.serializers.base import Payload, Segment
from mlvc_server.store import Store
from mlvc_server.store import payloads as ps

#: these tests damage or remove single object files
pytestmark = pytest.mark.usefixtures("loose_objects")

CHUNK = 1 << 16


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Store:
    monkeypatch.setattr(ps, "CHUNK_SIZE", CHUNK)
    monkeypatch.setenv("MLVC_CONFIG_DIR", str(tmp_path / "config"))
    return Store.init(tmp_path)


def test_any_range_reads_the_right_bytes(store: Store) -> None:
    data = np.random.default_rng(0).integers(0, 256, 3 * CHUNK + 999, dtype=np.uint8)
    wp = ps.write_payload(store, Payload("npy", [Segment("d", data, data.nbytes)], {}, "bin"))
    reader = ps.StoredPayload(store, wp.manifest, "v")
    rng = random.Random(0)
    ranges = [(0, data.nbytes), (0, CHUNK), (CHUNK, 2 * CHUNK), (data.nbytes - 1, data.nbytes)]
    ranges += [tuple(sorted(rng.sample(range(data.nbytes + 1), 2))) for _ in range(40)]
    for lo, hi in ranges:
        out = bytearray(hi - lo)
        reader.readinto_segment(0, out, lo)
        assert bytes(out) == data[lo:hi].tobytes(), (lo, hi)
    with pytest.raises(ValueError, match="outside"):
        reader.readinto_segment(0, bytearray(10), data.nbytes - 5)
    with pytest.raises(ValueError, match="does not match"):
        reader.readinto_segment(0, bytearray(10))


def test_a_missing_part_is_named_in_a_range_read(store: Store) -> None:
    data = np.arange(3 * CHUNK // 8, dtype=np.int64)
    wp = ps.write_payload(store, Payload("npy", [Segment("d", data, data.nbytes)], {}, "bin"))
    sha = wp.manifest["segments"][0]["parts"][1]
    (store.objects_dir / sha[:2] / sha[2:]).unlink()
    reader = ps.StoredPayload(store, wp.manifest, "v")
    reader.readinto_segment(0, bytearray(CHUNK), 0)  # the first part is still there
    with pytest.raises(PayloadMissingError, match=sha[:12]):
        reader.readinto_segment(0, bytearray(100), CHUNK + 5)
