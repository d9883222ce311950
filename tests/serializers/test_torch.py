"""The safetensors format: tensors, state_dicts, modules; the on-device fingerprint."""

from __future__ import annotations

import importlib.util
import json
import os
import random
import struct
from collections import OrderedDict
from typing import Any

import numpy as np
import pytest
import safetensors.torch
import torch
from torch import nn

from mlvc_server import serializers
from mlvc_server.errors import SerializationError, TrustError, UnsupportedTypeError
from mlvc_server.serializers import torch_fingerprint as torchfp
from mlvc_server.serializers import torch_format
from mlvc_server.serializers.torch_fingerprint import tensor_fingerprint
from mlvc_server.serializers.torch_format import SafetensorsSerializer

from .conftest import MemoryReader, concat, roundtrip

DTYPES = [
    torch.float32,
    torch.float64,
    torch.float16,
    torch.bfloat16,
    torch.int8,
    torch.uint8,
    torch.int16,
    torch.int32,
    torch.int64,
    torch.bool,
    torch.complex64,
    torch.complex128,
    torch.uint16,
    torch.uint32,
    torch.uint64,
    torch.float8_e4m3fn,
    torch.float8_e5m2,
]


def random_tensor(dtype: torch.dtype, shape: tuple[int, ...], seed: int = 0) -> torch.Tensor:
    """Random bits of the given dtype (all bit patterns, NaNs included)."""
    gen = torch.Generator().manual_seed(seed)
    nbytes = int(np.prod(shape, dtype=np.int64)) * torch.empty((), dtype=dtype).element_size()
    raw = torch.randint(0, 256, (nbytes,), dtype=torch.uint8, generator=gen)
    if dtype == torch.bool:
        raw = raw % 2
    return raw.view(dtype).reshape(shape)


def same_bits(a: torch.Tensor, b: torch.Tensor) -> bool:
    return (
        a.dtype == b.dtype
        and a.shape == b.shape
        and a.contiguous()
        .reshape(-1)
        .view(torch.uint8)
        .equal(b.contiguous().reshape(-1).view(torch.uint8))
    )


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(10, 4)
        self.body = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 4))
        self.head = nn.Linear(4, 10, bias=False)
        self.head.weight = self.embed.weight  # tied
        self.register_buffer("scratch", torch.arange(3.0), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(self.embed(x)))


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("shape", [(), (0,), (3,), (2, 3, 5)], ids=str)
def test_tensor_roundtrip_bit_exact(dtype: torch.dtype, shape: tuple[int, ...]) -> None:
    t = random_tensor(dtype, shape, seed=len(shape))
    back, payload = roundtrip(t)
    assert payload.format == "safetensors"
    assert type(back) is torch.Tensor
    assert back.device.type == "cpu"
    assert same_bits(t, back)
    assert payload.meta["dtype"] == str(dtype).removeprefix("torch.")
    assert payload.meta["shape"] == list(shape)


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_concatenation_is_a_safetensors_file(dtype: torch.dtype) -> None:
    sd = {"a": random_tensor(dtype, (4, 3)), "b": random_tensor(torch.float32, (5,))}
    payload = serializers.serialize(sd)
    loaded = safetensors.torch.load(concat(payload))
    assert same_bits(loaded["b"], sd["b"])
    if (
        dtype in (torch.complex128, torch.uint16, torch.uint32, torch.uint64)
        and loaded["a"].dtype != dtype
    ):
        # stored raw (U8 with an item-size dimension) where safetensors has no code
        assert loaded["a"].dtype == torch.uint8
        assert bytes(loaded["a"].numpy()) == bytes(sd["a"].contiguous().view(torch.uint8).numpy())
    else:
        assert same_bits(loaded["a"], sd["a"])


def test_header_segment_is_the_safetensors_header() -> None:
    sd = OrderedDict(w=torch.ones(2, 2), b=torch.zeros(3, dtype=torch.int64))
    payload = serializers.serialize(sd)
    assert [s.name for s in payload.segments] == ["header", "w", "b"]
    head = bytes(payload.segments[0].data)
    (n,) = struct.unpack("<Q", head[:8])
    assert len(head) == 8 + n and n % 8 == 0
    header = json.loads(head[8:])
    assert header["w"] == {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]}
    assert header["b"] == {"dtype": "I64", "shape": [3], "data_offsets": [16, 40]}
    assert payload.meta["tensors"]["w"] == {"shape": [2, 2], "dtype": "float32", "nbytes": 16}
    assert payload.meta["kind"] == "state_dict"


def test_state_dict_roundtrip_keeps_order_and_container() -> None:
    sd = OrderedDict((f"layer{i}.weight", torch.randn(3, i + 1)) for i in range(5))
    back, _ = roundtrip(sd)
    assert type(back) is OrderedDict and list(back) == list(sd)
    for k in sd:
        assert same_bits(sd[k], back[k])
    plain = {"z": torch.ones(1), "a": torch.zeros(2)}
    back2, _ = roundtrip(plain)
    assert type(back2) is dict and list(back2) == ["z", "a"]


def test_cpu_dump_is_zero_copy() -> None:
    sd = {"w": torch.randn(256, 256), "h": torch.randn(64).to(torch.bfloat16)}
    payload = serializers.serialize(sd)
    for segment in payload.segments[1:]:
        view = np.frombuffer(segment.data, dtype=np.uint8)
        assert view.ctypes.data == sd[segment.name].data_ptr()


def test_non_contiguous_and_views() -> None:
    base = torch.arange(24.0).reshape(4, 6)
    sd = {"t": base.t(), "slice": base[1:3, ::2], "row": base[2]}
    back, _ = roundtrip(sd)
    for k, v in sd.items():
        assert torch.equal(back[k], v) and back[k].is_contiguous()


def test_conj_and_neg_views() -> None:
    z = torch.randn(4, dtype=torch.complex64)
    back, _ = roundtrip({"c": z.conj()})
    assert torch.equal(back["c"], z.conj().resolve_conj())


def test_tied_tensors_stored_once_and_retied() -> None:
    w = torch.randn(10, 4)
    sd = {"embed.weight": w, "head.weight": w, "other": w.clone()}
    back, payload = roundtrip(sd)
    assert [s.name for s in payload.segments] == ["header", "embed.weight", "other"]
    assert payload.meta["aliases"] == {"head.weight": "embed.weight"}
    assert back["head.weight"] is back["embed.weight"]
    assert back["other"].data_ptr() != back["embed.weight"].data_ptr()
    assert list(back) == list(sd)
    loaded = safetensors.torch.load(concat(payload))
    assert set(loaded) == {"embed.weight", "other"}


def test_parameter_roundtrip() -> None:
    p = nn.Parameter(torch.randn(3))
    back, _ = roundtrip(p)
    assert isinstance(back, nn.Parameter) and back.requires_grad
    assert same_bits(back, p)
    t = torch.randn(2, requires_grad=True)
    back_t, _ = roundtrip(t)
    assert type(back_t) is torch.Tensor and back_t.requires_grad


def test_module_roundtrip_needs_trust() -> None:
    torch.manual_seed(0)
    net = Net()
    net.body[1].running_mean += 1.0
    net.eval()
    x = torch.randint(0, 10, (5,))
    payload = serializers.serialize(net)
    assert payload.format == "safetensors"
    assert payload.meta["kind"] == "module"
    assert payload.meta["unsafe"] is True
    assert payload.meta["type"].endswith("Net")
    assert "head.weight" in payload.meta["aliases"]
    reader = MemoryReader(payload)
    with pytest.raises(TrustError, match="state_dict_only"):
        serializers.deserialize("safetensors", payload.meta, reader)
    back = serializers.deserialize("safetensors", payload.meta, reader, trusted=True)
    assert type(back) is Net
    assert back.head.weight is back.embed.weight  # one Parameter, still tied
    assert isinstance(back.head.weight, nn.Parameter)
    assert not back.training
    assert torch.equal(back(x), net(x))
    assert torch.equal(back.scratch, net.scratch)
    for (k1, v1), (k2, v2) in zip(net.state_dict().items(), back.state_dict().items(), strict=True):
        assert k1 == k2 and same_bits(v1, v2)


def test_module_structure_pickle_has_no_weights() -> None:
    net = nn.Linear(1000, 1000)
    payload = serializers.serialize(net)
    assert payload.segments[0].size < 50_000  # the structure, not 4 MB of weights
    assert payload.size > 4_000_000


def test_module_state_dict_only_without_trust() -> None:
    net = Net()
    payload = serializers.serialize(net)
    meta = {**payload.meta, "state_dict_only": True}
    sd = serializers.deserialize("safetensors", meta, MemoryReader(payload))
    assert list(sd) == list(net.state_dict())
    assert sd["head.weight"] is sd["embed.weight"]
    fresh = Net()
    fresh.load_state_dict(sd)
    for k, v in net.state_dict().items():
        assert same_bits(v, fresh.state_dict()[k])


def test_module_safetensors_file_loads() -> None:
    net = Net()
    loaded = safetensors.torch.load(concat(serializers.serialize(net)))
    assert same_bits(loaded["body.0.weight"], net.body[0].weight.detach())
    assert "scratch" in loaded  # non-persistent buffers are stored too


def test_module_without_pickle_is_refused() -> None:
    with pytest.raises(UnsupportedTypeError, match="state_dict"):
        serializers.serialize(nn.Linear(2, 2), allow_pickle=False)
    sd = nn.Linear(2, 2).state_dict()
    assert serializers.serialize(sd, allow_pickle=False).format == "safetensors"


def test_module_with_unpicklable_part() -> None:
    import threading

    net = nn.Linear(2, 2)
    net.lock = threading.Lock()
    with pytest.raises(UnsupportedTypeError, match="state_dict"):
        serializers.serialize(net)


def test_unsupported_tensors_fall_to_pickle() -> None:
    ser = SafetensorsSerializer()
    sparse = torch.eye(3).to_sparse()
    assert not ser.accepts(sparse)
    back, payload = roundtrip(sparse, trusted=True)
    assert payload.format == "pickle" and torch.equal(back.to_dense(), torch.eye(3))
    assert not ser.accepts({"a": torch.ones(1), "b": 3})
    assert not ser.accepts({1: torch.ones(1)})
    assert not ser.accepts({})
    assert not ser.accepts(torch.empty(2, device="meta"))


def test_device_path_on_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    """The GPU path (no data, fingerprint, sliced materialize), run on CPU tensors."""
    monkeypatch.setattr(torch_format, "HOST_DEVICES", ())
    monkeypatch.setattr(torch_format, "SLICE_BYTES", 1000)
    sd = {"w": torch.randn(50, 30), "b": torch.randn(7).to(torch.bfloat16), "e": torch.ones(0)}
    payload = serializers.serialize(sd)
    for segment in payload.segments[1:]:
        assert segment.data is None
        assert segment.fingerprint == tensor_fingerprint(sd[segment.name])
        assert segment.materialize is not None
    slices = [bytes(b) for b in payload.segments[1].materialize()]  # type: ignore[misc]
    assert [len(s) for s in slices] == [1000] * 6
    assert b"".join(slices) == bytes(sd["w"].numpy().view(np.uint8))
    back, _ = roundtrip(sd)
    for k in sd:
        assert same_bits(sd[k], back[k])


def test_materialize_reuses_one_staging_buffer() -> None:
    t = torch.arange(1000, dtype=torch.int32)
    views = list(torch_format._materialize(t, slice_bytes=1024))
    addresses = {np.frombuffer(v, dtype=np.uint8).ctypes.data for v in views}
    assert len(addresses) == 1
    assert sum(len(v) for v in views) == 4000


# ------------------------------------------------------------------ fingerprint


@pytest.mark.parametrize(
    "dtype",
    [
        torch.float32,
        torch.float16,
        torch.bfloat16,
        torch.int8,
        torch.bool,
        torch.float64,
        torch.complex64,
        torch.uint8,
    ],
    ids=str,
)
def test_fingerprint_detects_every_single_element_change(dtype: torch.dtype) -> None:
    t = random_tensor(dtype, (37, 11), seed=3)
    fp = tensor_fingerprint(t)
    assert fp == tensor_fingerprint(t.clone())
    rng = random.Random(0)
    flat = t.reshape(-1)
    positions = (
        list(range(flat.numel())) if flat.numel() <= 500 else rng.sample(range(flat.numel()), 500)
    )
    raw = flat.view(torch.uint8)
    itemsize = t.element_size()
    seen = {fp}
    for pos in positions:
        changed = raw.clone()
        byte = pos * itemsize + rng.randrange(itemsize)
        changed[byte] ^= 1 << rng.randrange(8 if dtype != torch.bool else 1)
        new = tensor_fingerprint(changed.view(dtype).reshape(t.shape))
        assert new != fp
        seen.add(new)
    assert len(seen) == len(positions) + 1


def test_fingerprint_swaps_signed_zero_and_nan_payloads() -> None:
    t = torch.randn(1000, dtype=torch.float32)
    fp = tensor_fingerprint(t)
    rng = random.Random(1)
    for _ in range(300):
        i, j = rng.sample(range(1000), 2)
        s = t.clone()
        s[i], s[j] = t[j], t[i]
        assert tensor_fingerprint(s) != fp
    z = torch.zeros(64)
    nz = z.clone()
    nz[17] = -0.0
    assert tensor_fingerprint(z) != tensor_fingerprint(nz)
    nan1 = torch.full((8,), float("nan"))
    nan2 = nan1.clone()
    nan2.view(torch.int32)[5] |= 0x1234
    assert torch.isnan(nan2).all()
    assert tensor_fingerprint(nan1) != tensor_fingerprint(nan2)


def test_fingerprint_identity_and_metadata() -> None:
    t = torch.randn(6, 4)
    assert tensor_fingerprint(t) == tensor_fingerprint(t.clone())
    assert tensor_fingerprint(t) == tensor_fingerprint(t.t().contiguous().t())  # same values
    assert tensor_fingerprint(t) != tensor_fingerprint(t.reshape(4, 6))  # shape
    assert tensor_fingerprint(t) != tensor_fingerprint(t.view(torch.int32))  # dtype
    assert tensor_fingerprint(torch.zeros(3)) != tensor_fingerprint(torch.zeros(4))
    assert tensor_fingerprint(torch.zeros(0)).startswith("tf1:float32:0:0:")
    fp = tensor_fingerprint(t)
    assert fp.startswith("tf1:float32:6x4:96:") and len(fp.rsplit(":", 1)[1]) == 32


def test_fingerprint_chunking_and_alignment_do_not_matter() -> None:
    base = torch.randint(0, 256, (10_003,), dtype=torch.uint8)
    t = base[3:10_000]  # storage offset not 8-byte aligned, length not a multiple of 8
    fp = tensor_fingerprint(t)
    assert fp == tensor_fingerprint(t.clone())
    assert fp == tensor_fingerprint(t, chunk_words=7)
    assert fp == tensor_fingerprint(t.clone(), chunk_words=1)


def test_fingerprint_tail_bytes_count() -> None:
    a = torch.zeros(9, dtype=torch.uint8)
    b = a.clone()
    b[8] = 1
    assert tensor_fingerprint(a) != tensor_fingerprint(b)
    # zero padding must not make 9 zero bytes look like 16
    assert tensor_fingerprint(a) != tensor_fingerprint(torch.zeros(16, dtype=torch.uint8))


def _fingerprint_cases() -> list[torch.Tensor]:
    gen = torch.Generator().manual_seed(7)
    cases = [random_tensor(dt, (n,), seed=n) for dt in DTYPES for n in (1, 8, 1000)]
    cases += [
        torch.randn(33, 17, generator=gen).t(),  # not contiguous
        torch.randn(torchfp._SPAN * 3 + 3, generator=gen).double(),  # several programs
        torch.ones(0),
        torch.randint(0, 256, (4099,), dtype=torch.uint8, generator=gen)[3:],  # unaligned
    ]
    return cases


@pytest.mark.skipif(
    os.environ.get("TRITON_INTERPRET") != "1" or importlib.util.find_spec("triton") is None,
    reason="runs the fused kernel in Triton's CPU interpreter (TRITON_INTERPRET=1)",
)
def test_fused_fingerprints_equal_tf1_in_the_interpreter() -> None:
    cases = _fingerprint_cases()
    assert torchfp.tensor_fingerprints(cases, fused=True) == [
        torchfp.tensor_fingerprint(t) for t in cases
    ]
    assert not torchfp._kernel_failed


def test_batched_fingerprints_without_the_kernel() -> None:
    cases = _fingerprint_cases()
    assert torchfp.tensor_fingerprints(cases, fused=False) == [
        torchfp.tensor_fingerprint(t) for t in cases
    ]


def test_a_kernel_that_disagrees_is_never_used(monkeypatch: pytest.MonkeyPatch) -> None:
    """The once-per-device self-check catches a kernel built wrong: fall back, warn."""
    monkeypatch.setattr(torchfp, "_kernel", object())
    monkeypatch.setattr(torchfp, "_kernel_failed", False)
    monkeypatch.setattr(torchfp, "_verified", set())
    calls: list[int] = []

    def wrong(kernel: Any, device: Any, items: list[Any]) -> list[tuple[int, str]]:
        calls.append(len(items))
        return [(index, "tf1:bogus") for index, _, _ in items]

    monkeypatch.setattr(torchfp, "_fused_group", wrong)
    cases = _fingerprint_cases()
    with pytest.warns(RuntimeWarning, match="differ from the reference"):
        got = torchfp.tensor_fingerprints(cases, fused=True)
    assert got == [torchfp.tensor_fingerprint(t) for t in cases]
    assert torchfp._kernel_failed and calls == [2]  # the self-check only
    assert torchfp.tensor_fingerprints(cases[:3], fused=True) == [
        torchfp.tensor_fingerprint(t) for t in cases[:3]
    ]
    assert calls == [2]


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_fused_fingerprints_on_cuda_equal_tf1() -> None:  # pragma: no cover - GPU only
    cases = _fingerprint_cases()
    on_device = [t.cuda() for t in cases]
    assert torchfp._fused_kernel() is not None, "Triton is missing: the fused path is off"
    assert torchfp.tensor_fingerprints(on_device) == [torchfp.tensor_fingerprint(t) for t in cases]
    assert not torchfp._kernel_failed


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_tensor_stays_on_device() -> None:  # pragma: no cover - GPU only
    t = torch.randn(1 << 20, device="cuda")
    payload = serializers.serialize({"w": t})
    seg = payload.segments[1]
    assert seg.data is None and seg.fingerprint == tensor_fingerprint(t.cpu())
    back, _ = roundtrip({"w": t})
    assert back["w"].device.type == "cpu" and torch.equal(back["w"], t.cpu())


def _unused(*_: Any) -> None:
    pass


# ------------------------------------------------------------------ restore in place


def _bits(t: torch.Tensor) -> bytes:
    return bytes(t.detach().contiguous().reshape(-1).view(torch.uint8).numpy())


def _ptrs(obj: Any) -> dict[str, int]:
    named = obj.state_dict(keep_vars=True) if isinstance(obj, nn.Module) else obj
    return {k: v.data_ptr() for k, v in named.items()}


@pytest.fixture
def store(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    from mlvc_server.store import Store
    from mlvc_server.store import payloads as ps

    monkeypatch.setattr(ps, "CHUNK_SIZE", 1 << 16)  # many parts per tensor
    monkeypatch.setenv("MLVC_CONFIG_DIR", str(tmp_path / "config"))
    return Store.init(tmp_path)


def _stored(store: Any, obj: Any) -> Any:
    from mlvc_server.store import payloads as ps

    payload = serializers.serialize(obj)
    written = ps.write_payload(store, payload)
    return payload.meta, ps.StoredPayload(store, written.manifest, "m")


@pytest.mark.parametrize("device_path", [False, True], ids=["host", "device-standin"])
def test_load_into_restores_in_place(
    store: Any, monkeypatch: pytest.MonkeyPatch, device_path: bool
) -> None:
    if device_path:
        monkeypatch.setattr(torch_format, "HOST_DEVICES", ())
    torch.manual_seed(0)
    model = Net()
    model.body[0].weight = nn.Parameter(torch.randn(4, 8).t())  # not contiguous
    model.body[0].weight.data = model.body[0].weight.data  # keep the transposed view
    big = nn.Linear(300, 200)  # 240 KB weight: several slices and parts
    model.add_module("big", big)
    meta, reader = _stored(store, model)
    saved = {k: _bits(v) for k, v in model.state_dict().items()}
    ptrs = _ptrs(model)
    with torch.no_grad():
        model.big.weight.mul_(3)
        model.body[0].weight.add_(1)
        model.embed.weight[2, 1] = 9.0  # tied with head.weight
    stats = torch_format.load_into(model, meta, reader, slice_bytes=50_000)
    assert {k: _bits(v) for k, v in model.state_dict().items()} == saved
    assert _ptrs(model) == ptrs and model.head.weight is model.embed.weight
    assert model.big.weight.requires_grad and type(model.big.weight) is nn.Parameter
    tensors = len(meta["tensors"])
    assert stats.tensors == tensors
    if device_path:  # unchanged tensors were recognised by their fingerprints
        assert stats.copied == 3 and stats.skipped == tensors - 3
        assert stats.bytes == 200 * 300 * 4 + 8 * 4 * 4 + 10 * 4 * 4
    else:
        assert stats.copied == tensors and stats.skipped == 0


def test_load_into_without_offset_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    """A reader that reads whole segments only (MemoryReader) still works, sliced or not."""
    monkeypatch.setattr(torch_format, "HOST_DEVICES", ())
    sd = {"a": torch.randn(1000), "b": torch.arange(7)}
    payload = serializers.serialize(sd)
    reader = MemoryReader(payload)
    live = {"a": torch.zeros(1000), "b": torch.zeros(7, dtype=torch.int64)}
    ptrs = _ptrs(live)
    stats = torch_format.load_into(live, payload.meta, reader, slice_bytes=512)
    assert torch.equal(live["a"], sd["a"]) and torch.equal(live["b"], sd["b"])
    assert _ptrs(live) == ptrs and stats.copied == 2


def test_load_into_refuses_a_different_structure(store: Any) -> None:
    sd = {"a": torch.randn(10), "b": torch.randn(3)}
    meta, reader = _stored(store, sd)
    cases = [
        ({"a": torch.zeros(10)}, "only stored: ['b']"),
        ({"a": torch.zeros(10), "b": torch.zeros(4)}, "'b' is float32[4] live"),
        ({"a": torch.zeros(10), "b": torch.zeros(3, dtype=torch.float64)}, "float64"),
        (torch.zeros(10), "a tensor"),
        ([1, 2], "holds no torch tensors"),
    ]
    for live, why in cases:
        before = {k: v.clone() for k, v in live.items()} if isinstance(live, dict) else None
        with pytest.raises(SerializationError, match="cannot restore in place") as err:
            torch_format.load_into(live, meta, reader)
        assert why in str(err.value)
        if before is not None:
            assert all(torch.equal(before[k], live[k]) for k in before)


def test_load_into_a_module_needs_no_trust(store: Any) -> None:
    model = Net()
    meta, reader = _stored(store, model)
    assert meta["unsafe"]
    other = Net()
    torch_format.load_into(other, meta, reader)
    assert all(
        torch.equal(a, b)
        for a, b in zip(model.state_dict().values(), other.state_dict().values(), strict=True)
    )
