"""Part-id prediction (what ``status`` compares) agrees with what the writer writes.

The device (fingerprint) path runs on CPU tensors through the stand-in the torch
serializer tests use: ``torch_format.HOST_DEVICES`` emptied, so every tensor is
fingerprinted and streamed in slices as a CUDA tensor would be.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch
from nbformat.v4 import new_code_cell, new_notebook
from torch import nn

import mlvc_server as mlvc
from mlvc_server import serializers
from mlvc_server.serializers import torch_format
from mlvc_server.serializers.base import Payload, Segment
from mlvc_server.store import Store
from mlvc_server.store import payloads as ps

CHUNK = 1 << 20


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Store:
    monkeypatch.setattr(ps, "CHUNK_SIZE", CHUNK)  # 1 MiB chunks keep the test small
    monkeypatch.setenv("MLVC_CONFIG_DIR", str(tmp_path / "config"))
    return Store.init(tmp_path)


@pytest.fixture
def device_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """CPU tensors take the GPU path: fingerprint on the device, sliced materialize."""
    monkeypatch.setattr(torch_format, "HOST_DEVICES", ())
    monkeypatch.setattr(torch_format, "SLICE_BYTES", 300_000)  # slices cut across chunks


def arrays(nbytes: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, nbytes, dtype=np.uint8)


SIZES = {
    "empty": 0,
    "small": 1000,
    "over-small": ps.SMALL + 8,
    "over-chunk": 2 * CHUNK + 12_345,
    "exact-chunks": 3 * CHUNK,
}


@pytest.mark.parametrize("size", SIZES.values(), ids=SIZES.keys())
def test_in_memory_segments(store: Store, size: int) -> None:
    a = arrays(size)
    payload = Payload("npy", [Segment("h", b"head", 4), Segment("d", a, a.nbytes)], {}, "npy")
    before = ps.predict_part_ids(store, payload)  # cache cold: SHA-1 of the bytes
    written = ps.write_payload(store, payload).part_ids
    assert before == written
    assert ps.predict_part_ids(store, payload) == written  # cache warm
    if size:
        a[size // 2] ^= 1
        assert ps.predict_part_ids(store, payload) != written


def streamed(a: np.ndarray, fingerprint: str | None, piece: int = 70_001) -> Segment:
    def pieces() -> Iterator[memoryview]:
        buf = bytearray(piece)  # reused, as the pinned staging buffer is
        for start in range(0, a.nbytes, piece):
            n = min(piece, a.nbytes - start)
            buf[:n] = a[start : start + n].tobytes()
            yield memoryview(buf)[:n]

    return Segment("s", None, a.nbytes, fingerprint=fingerprint, materialize=pieces)


@pytest.mark.parametrize("size", SIZES.values(), ids=SIZES.keys())
@pytest.mark.parametrize("fingerprinted", [True, False], ids=["fingerprint", "stream"])
def test_streamed_segments(store: Store, size: int, fingerprinted: bool) -> None:
    a = arrays(size, seed=1)
    fp = f"test:{size}" if fingerprinted else None
    payload = Payload("npy", [streamed(a, fp)], {}, "bin")
    before = ps.predict_part_ids(store, payload)
    written = ps.write_payload(store, payload).part_ids
    assert before == written
    assert len(written) == -(-size // CHUNK)
    assert ps.predict_part_ids(store, payload) == written


@pytest.mark.usefixtures("device_path")
def test_torch_device_path(store: Store) -> None:
    sd = {
        "big": torch.randn((2 * CHUNK + 4096) // 4),
        "over_small": torch.randn(ps.SMALL // 2 + 7).to(torch.float16),
        "small": torch.arange(10),
        "empty": torch.ones(0),
    }
    payload = serializers.serialize(sd)
    assert all(s.data is None and s.fingerprint for s in payload.segments[1:])
    before = ps.predict_part_ids(store, payload)
    written = ps.write_payload(store, payload).part_ids
    assert before == written
    again = serializers.serialize(sd)
    assert ps.predict_part_ids(store, again) == written
    sd["big"][5] += 1
    assert ps.predict_part_ids(store, serializers.serialize(sd)) != written


@pytest.mark.usefixtures("device_path")
def test_prediction_hit_reads_no_device_bytes(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    sd = {"w": torch.randn(CHUNK)}
    written = ps.write_payload(store, serializers.serialize(sd)).part_ids
    copies: list[int] = []
    real = torch_format._materialize
    monkeypatch.setattr(
        torch_format, "_materialize", lambda t, s=None: copies.append(1) or real(t, s)
    )
    assert ps.predict_part_ids(store, serializers.serialize(sd)) == written
    assert copies == []


# ------------------------------------------------------------------ status


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLVC_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("MLVC_AUTHOR_NAME", "Ana")
    monkeypatch.setenv("MLVC_AUTHOR_EMAIL", "ana@example.org")
    nb = new_notebook(cells=[new_code_cell("model = make()")])
    nbformat.write(nb, tmp_path / "train.ipynb")
    return tmp_path


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(300, 64)
        self.body = nn.Sequential(nn.Linear(64, 256), nn.BatchNorm1d(256), nn.Linear(256, 64))
        self.head = nn.Linear(64, 300, bias=False)
        self.head.weight = self.embed.weight  # tied


@pytest.mark.usefixtures("project", "device_path")
def test_status_of_unchanged_device_model_is_unchanged() -> None:
    torch.manual_seed(0)
    model = Net()
    sd = {k: v.clone() for k, v in model.state_dict().items()}
    mlvc.commit("one", variables={"model": model, "sd": sd}, notebook="train.ipynb")
    st = mlvc.status(notebook="train.ipynb", variables={"model": model, "sd": sd})
    assert st["variables"] == {"model": "unchanged", "sd": "unchanged"}
    with torch.no_grad():
        model.body[0].weight[0, 0] += 1
        sd["body.2.bias"][3] = 7.0
    st = mlvc.status(notebook="train.ipynb", variables={"model": model, "sd": sd})
    assert st["variables"] == {"model": "changed", "sd": "changed"}
    mlvc.commit("two", variables={"model": model, "sd": sd}, notebook="train.ipynb")
    st = mlvc.status(notebook="train.ipynb", variables={"model": model, "sd": sd})
    assert st["variables"] == {"model": "unchanged", "sd": "unchanged"}


def test_a_stream_that_fails_midway_raises(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ps, "WORKERS", 2)
    a = arrays(5 * CHUNK, seed=4)

    def pieces() -> Iterator[memoryview]:
        yield memoryview(a[: 3 * CHUNK])
        raise RuntimeError("device lost")

    seg = Segment("s", None, a.nbytes, fingerprint="test:fail", materialize=pieces)
    with pytest.raises(RuntimeError, match="device lost"):
        ps.write_payload(store, Payload("npy", [seg], {}, "bin"))
    assert store.hash_cache.get(ps._fingerprint_key(seg)) is None


@pytest.mark.parametrize("workers", [1, 3])
def test_streamed_writes_match_across_worker_counts(
    store: Store, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    monkeypatch.setattr(ps, "WORKERS", workers)
    a = arrays(6 * CHUNK + 5, seed=5)
    wp = ps.write_payload(store, Payload("npy", [streamed(a, None)], {}, "bin"))
    reader = ps.StoredPayload(store, wp.manifest, "v")
    assert reader.read_segment(0) == a.tobytes()
    assert wp.part_ids == ps.predict_part_ids(store, Payload("npy", [Segment("d", a, a.nbytes)]))
