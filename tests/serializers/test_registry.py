"""The registry: priority order, lazy imports, limits, trust, plugins."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections import OrderedDict
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch

from mlvc_server import serializers
from mlvc_server.errors import SerializationError, TrustError, UnsupportedTypeError
from mlvc_server.serializers.base import Decline, Payload, PayloadReader, Segment

from .conftest import MemoryReader, roundtrip

HEAVY = ("numpy", "pandas", "pyarrow", "torch", "safetensors", "sklearn", "cloudpickle", "skops")


def run_python(code: str) -> Any:
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_import_and_plain_values_import_no_heavy_module() -> None:
    loaded = run_python(
        f"""
        import json, sys
        import mlvc_server.serializers as s
        from mlvc_server.serializers.base import Segment
        for value in (1.5, 3, "x", None, [1, (2, 3)], {{"lr": 0.1}}, float("nan")):
            p = s.serialize(value)
            assert p.format == "json", p.format
        print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))
        """
    )
    assert loaded == []


def test_numpy_value_imports_only_numpy() -> None:
    loaded = run_python(
        f"""
        import json, sys
        import numpy as np
        import mlvc_server.serializers as s
        assert s.serialize(np.arange(3)).format == "npy"
        print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))
        """
    )
    assert loaded == ["numpy"]


def test_priority_order() -> None:
    assert serializers.formats() == [
        "json",
        "bytes",
        "npy",
        "random",
        "sparse",
        "parquet",
        "arrow",
        "image",
        "keras",
        "safetensors",
        "jax",
        "lightgbm",
        "xgboost",
        "catboost",
        "sklearn",
        "container",
        "pickle",
    ]


@pytest.mark.parametrize(
    ("value", "fmt"),
    [
        (0.1, "json"),
        ({"a": [1, 2]}, "json"),
        (np.float32(1), "npy"),
        (np.zeros((2, 2)), "npy"),
        (pd.DataFrame({"a": [1]}), "parquet"),
        (pd.Series([1.0]), "parquet"),
        (torch.zeros(2), "safetensors"),
        (OrderedDict(w=torch.zeros(1)), "safetensors"),
        ({"w": np.zeros(1)}, "container"),
        ({1, 2}, "container"),
        (Decimal(1), "json"),
        (b"x" * 100_000, "bytes"),
        (range(3), "pickle"),
        (np.random.default_rng(0), "random"),
    ],
)
def test_format_picked(value: Any, fmt: str) -> None:
    assert serializers.serialize(value).format == fmt


def test_get_and_unknown_format() -> None:
    assert serializers.get("npy").format == "npy"
    with pytest.raises(SerializationError, match="unknown serialization format 'nope'"):
        serializers.get("nope")
    with pytest.raises(SerializationError):
        serializers.deserialize("nope", {}, MemoryReader(serializers.serialize(1)))


def test_max_bytes_estimated_before_dump() -> None:
    arr = np.zeros(1_000_000)
    with pytest.raises(UnsupportedTypeError) as info:
        serializers.serialize(arr, max_bytes=1_000_000)
    message = str(info.value)
    assert "numpy.ndarray is too large" in message
    assert "estimated at 7.6 MiB (8000000 bytes)" in message
    assert "limit of 976.6 KiB (1000000 bytes)" in message
    assert serializers.serialize(arr, max_bytes=9_000_000).format == "npy"


def test_max_bytes_measured_after_dump() -> None:
    with pytest.raises(UnsupportedTypeError, match=r"size of .* exceeds the limit of 10 B"):
        serializers.serialize("x" * 100, max_bytes=10)


def test_max_bytes_torch_and_pandas() -> None:
    with pytest.raises(UnsupportedTypeError, match="too large"):
        serializers.serialize({"w": torch.zeros(1000)}, max_bytes=100)
    with pytest.raises(UnsupportedTypeError, match="too large"):
        serializers.serialize(pd.DataFrame({"a": np.zeros(1000)}), max_bytes=100)


class Upper:
    """A toy plugin type."""

    def __init__(self, text: str) -> None:
        self.text = text


class UpperSerializer:
    format = "upper"
    unsafe = False

    def accepts(self, obj: Any) -> bool:
        return isinstance(obj, Upper)

    def dump(self, obj: Any) -> Payload:
        if obj.text == "decline":
            raise Decline("not today")
        data = obj.text.upper().encode()
        return Payload(self.format, [Segment("text", data, len(data))], {"type": "Upper"})

    def load(self, meta: dict[str, Any], reader: PayloadReader) -> Any:
        return Upper(reader.read_segment(0).decode().lower())


def test_register_plugin_and_decline() -> None:
    serializers.register(UpperSerializer(), 5)
    try:
        assert serializers.formats()[0] == "upper"
        back, payload = roundtrip(Upper("abc"))
        assert payload.format == "upper" and back.text == "abc"
        # a decline passes the object on: here to pickle
        back2, payload2 = roundtrip(Upper("decline"), trusted=True)
        assert payload2.format == "pickle" and back2.text == "decline"
        with pytest.raises(UnsupportedTypeError, match="upper: not today"):
            serializers.serialize(Upper("decline"), allow_pickle=False)
        # re-registering replaces
        serializers.register(UpperSerializer(), 2000)
        assert serializers.formats().count("upper") == 1
        assert serializers.formats()[-1] == "upper"
    finally:
        serializers.unregister("upper")
    assert "upper" not in serializers.formats()


def test_unsafe_plugin_needs_trust() -> None:
    class Unsafe(UpperSerializer):
        format = "upper-unsafe"
        unsafe = True

    serializers.register(Unsafe(), 5)
    try:
        payload = serializers.serialize(Upper("abc"))
        assert payload.format == "upper-unsafe"
        with pytest.raises(TrustError):
            serializers.deserialize(payload.format, payload.meta, MemoryReader(payload))
        back = serializers.deserialize(
            payload.format, payload.meta, MemoryReader(payload), trusted=True
        )
        assert back.text == "abc"
        with pytest.raises(UnsupportedTypeError, match="pickle is not allowed"):
            serializers.serialize(Upper("abc"), allow_pickle=False)
    finally:
        serializers.unregister("upper-unsafe")


def test_buggy_serializer_falls_through() -> None:
    class Buggy(UpperSerializer):
        format = "buggy"

        def dump(self, obj: Any) -> Payload:
            raise RuntimeError("oops")

    serializers.register(Buggy(), 5)
    try:
        _, payload = roundtrip(Upper("x"), trusted=True)
        assert payload.format == "pickle"
    finally:
        serializers.unregister("buggy")


def test_corrupt_payload_is_a_serialization_error() -> None:
    payload = serializers.serialize(torch.ones(3))
    reader = MemoryReader(payload)
    reader.blobs[0] = b"\x05\x00\x00\x00\x00\x00\x00\x00{bad}"
    with pytest.raises(SerializationError, match=r"cannot load torch\.Tensor"):
        serializers.deserialize("safetensors", payload.meta, reader)


def test_segments_chunk_without_copy() -> None:
    arr = np.arange(1 << 20, dtype=np.uint8)
    payload = serializers.serialize(arr)
    chunks = list(payload.segments[1].chunks(max_size=1 << 18))
    assert len(chunks) == 4
    assert np.shares_memory(np.frombuffer(chunks[2], np.uint8), arr)


def test_meta_is_strict_json_for_every_format() -> None:
    from sklearn.linear_model import LogisticRegression

    values = [
        float("nan"),
        {"a": (1, float("inf"))},
        np.float64("nan"),
        np.zeros((3, 2), dtype=[("a", "<i4"), ("b", "<f8")]),
        pd.DataFrame({"x": [1.0, float("nan")], "c": pd.Categorical(["a", "b"])}),
        pd.Series([1], name=float("nan")),
        {"w": torch.zeros(2, dtype=torch.complex128), "v": torch.ones(1)},
        torch.nn.Linear(2, 2),
        LogisticRegression(C=float("inf")).fit([[0.0], [1.0]], [0, 1]),
        {1, 2},
        {"w": np.ones(2), "nan": float("nan"), "s": np.float32("inf"), "f": print},
        pd.DataFrame({"c": pd.Categorical([1.5, float("nan")])}),
    ]
    sparse = pytest.importorskip("scipy.sparse")
    image = pytest.importorskip("PIL.Image")
    pa = pytest.importorskip("pyarrow")
    pl = pytest.importorskip("polars")
    jnp = pytest.importorskip("jax.numpy")
    values += [
        sparse.csr_matrix(np.array([[0, float("nan")]])),
        image.new("F", (2, 2), float("nan")),
        pa.table({"x": [float("nan")]}),
        pl.DataFrame({"x": [float("nan")]}),
        jnp.array([float("nan")]),
    ]
    for value in values:
        payload = serializers.serialize(value)
        json.dumps(payload.meta, allow_nan=False)
        assert isinstance(payload.meta["type"], str)
