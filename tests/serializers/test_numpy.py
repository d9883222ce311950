"""The npy format: numpy arrays and scalars, zero-copy dump, valid .npy files."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from mlvc_server import serializers
from mlvc_server.errors import SerializationError
from mlvc_server.serializers.npy_format import NpySerializer, parse_header

from .conftest import MemoryReader, concat, roundtrip


def assert_identical(a: Any, b: Any) -> None:
    assert type(a) is type(b)
    assert a.dtype == b.dtype
    assert a.shape == b.shape
    a_arr, b_arr = np.asarray(a), np.asarray(b)
    assert a_arr.tobytes() == b_arr.tobytes()


dtypes = (
    hnp.scalar_dtypes()
    | hnp.unicode_string_dtypes()
    | hnp.byte_string_dtypes()
    | hnp.nested_dtypes(max_itemsize=64)
    | hnp.array_dtypes(allow_subarrays=True)
)


@settings(max_examples=200, deadline=None)
@given(
    hnp.arrays(
        dtype=dtypes,
        shape=hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=5),
    ),
    st.sampled_from(["C", "F", "strided"]),
)
def test_roundtrip_property(arr: np.ndarray[Any, Any], layout: str) -> None:
    if not NpySerializer().accepts(arr):  # only structured dtypes with non-latin-1 names
        with pytest.raises(UnicodeEncodeError):
            repr(np.lib.format.dtype_to_descr(arr.dtype)).encode("latin1")
        return
    if layout == "F":
        arr = np.asfortranarray(arr)
    elif layout == "strided" and arr.ndim:
        arr = arr[::-1]
    back, payload = roundtrip(arr)
    assert payload.format == "npy"
    assert_identical(arr, back)
    assert payload.meta["shape"] == list(arr.shape)
    assert payload.meta["nbytes"] == arr.nbytes
    loaded = np.load(io.BytesIO(concat(payload)), allow_pickle=False)
    assert_identical(arr, loaded)


@settings(max_examples=100, deadline=None)
@given(hnp.scalar_dtypes().flatmap(hnp.from_dtype))
def test_scalar_roundtrip_property(value: Any) -> None:
    value = np.asarray(value)[()]  # hypothesis gives some values as Python scalars
    back, payload = roundtrip(value)
    assert payload.format == "npy"
    assert_identical(value, back)


@pytest.mark.parametrize(
    "value",
    [
        np.float32(1.5),
        np.int8(-3),
        np.bool_(True),
        np.complex64(1 + 2j),
        np.datetime64("2020-01-01"),
    ],
)
def test_scalar_types_come_back(value: Any) -> None:
    back, payload = roundtrip(value)
    assert type(back) is type(value)
    assert back == value
    assert payload.meta["scalar"] is True
    assert payload.meta["type"] == f"numpy.{type(value).__name__}"


def test_scalar_meta_value() -> None:
    assert serializers.serialize(np.float32(1.5)).meta["value"] == 1.5
    assert serializers.serialize(np.int64(7)).meta["value"] == 7
    assert serializers.serialize(np.float64("nan")).meta["value"] == "nan"


def test_zero_d_array_stays_array() -> None:
    arr = np.array(3.25)
    back, _ = roundtrip(arr)
    assert type(back) is np.ndarray and back.shape == () and back == 3.25


def test_segments_are_header_and_data() -> None:
    arr = np.arange(12, dtype=np.float32).reshape(3, 4)
    payload = serializers.serialize(arr)
    assert [s.name for s in payload.segments] == ["header", "data"]
    assert payload.extension == "npy"
    header = bytes(payload.segments[0].data)
    assert header.startswith(b"\x93NUMPY")
    assert len(header) % 64 == 0
    assert payload.meta == {
        "type": "numpy.ndarray",
        "shape": [3, 4],
        "dtype": "float32",
        "nbytes": 48,
    }


def test_big_array_is_not_copied() -> None:
    arr = np.random.default_rng(0).random((1024, 1024 * 4))  # 32 MiB
    payload = serializers.serialize(arr)
    data = payload.segments[1].data
    assert np.shares_memory(np.frombuffer(data, dtype=np.uint8), arr)
    view = np.frombuffer(data, dtype=np.uint8)
    assert view.ctypes.data == arr.ctypes.data


def test_fortran_array_is_not_copied_and_keeps_order() -> None:
    arr = np.asfortranarray(np.arange(20, dtype=np.int32).reshape(4, 5))
    payload = serializers.serialize(arr)
    assert payload.meta["fortran_order"] is True
    assert np.shares_memory(np.frombuffer(payload.segments[1].data, dtype=np.uint8), arr)
    back, _ = roundtrip(arr)
    assert back.flags.f_contiguous
    np.testing.assert_array_equal(back, arr)
    loaded = np.load(io.BytesIO(concat(payload)), allow_pickle=False)
    np.testing.assert_array_equal(loaded, arr)


def test_strided_view_is_copied_once() -> None:
    base = np.arange(100, dtype=np.float64)
    arr = base[::3]
    back, payload = roundtrip(arr)
    np.testing.assert_array_equal(back, arr)
    assert not np.shares_memory(np.frombuffer(payload.segments[1].data, np.uint8), base)


def test_load_reads_into_fresh_array_directly() -> None:
    arr = np.arange(1000, dtype=np.int16)
    payload = serializers.serialize(arr)
    reader = MemoryReader(payload)
    calls: list[Any] = []
    original = reader.readinto_segment

    def spy(index: int, buffer: Any) -> None:
        calls.append((index, buffer))
        original(index, buffer)

    reader.readinto_segment = spy  # type: ignore[method-assign]
    back = serializers.deserialize("npy", payload.meta, reader)
    assert len(calls) == 1 and calls[0][0] == 1
    assert np.shares_memory(np.frombuffer(calls[0][1], dtype=np.uint8), back)


def test_structured_dtype() -> None:
    dt = np.dtype([("name", "U10"), ("pos", "<f8", (3,)), ("flag", "?")])
    arr = np.zeros(4, dtype=dt)
    arr["name"] = ["a", "b", "c", "d"]
    arr["pos"][1] = [1, 2, 3]
    back, payload = roundtrip(arr)
    assert payload.format == "npy"
    assert_identical(arr, back)


def test_special_values_bit_exact() -> None:
    arr = np.array([0.0, -0.0, np.nan, -np.nan, np.inf], dtype=np.float64)
    arr.view(np.uint64)[2] |= 0x123
    back, _ = roundtrip(arr)
    assert arr.tobytes() == back.tobytes()


@pytest.mark.parametrize(
    "arr",
    [
        np.array([1, "a", None], dtype=object),
        np.zeros(2, dtype=[("a", "i4"), ("b", "O")]),
        np.array(["x", "yy"], dtype=np.dtypes.StringDType()),
    ],
    ids=["object", "structured-object", "stringdtype"],
)
def test_object_arrays_fall_to_pickle(arr: Any) -> None:
    assert not NpySerializer().accepts(arr)
    back, payload = roundtrip(arr, trusted=True)
    assert payload.format == "pickle"
    assert back.dtype == arr.dtype


class Tagged(np.ndarray):
    """An ndarray subclass with state of its own (npy would lose it)."""

    tag = "none"


def test_subclasses_are_not_npy() -> None:
    m = np.arange(3).view(Tagged)
    m.tag = "mine"
    assert not NpySerializer().accepts(m)
    back, payload = roundtrip(m, trusted=True)
    assert payload.format == "pickle"
    assert isinstance(back, Tagged)
    np.testing.assert_array_equal(back, m)
    # the same bytes with other state beside them are another value
    from mlvc_server.serializers.fingerprint import fingerprint

    other = np.arange(3).view(Tagged)
    other.tag = "theirs"
    assert fingerprint(m) is None and fingerprint(other) is None
    # a masked array is npy: its data and mask, no pickle
    masked = np.ma.masked_array([1, 2, 3], mask=[0, 1, 0])
    back, payload = roundtrip(masked)
    assert payload.format == "npy" and isinstance(back, np.ma.MaskedArray)
    np.testing.assert_array_equal(back.mask, masked.mask)


def test_object_header_is_refused_on_load() -> None:
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "|O", "fortran_order": False, "shape": (1,)}
    )
    with pytest.raises(SerializationError, match="object"):
        parse_header(header.getvalue())


def test_size_mismatch_is_an_error() -> None:
    payload = serializers.serialize(np.arange(4))
    reader = MemoryReader(payload)
    reader.blobs[1] = reader.blobs[1][:-8]
    with pytest.raises(SerializationError, match="bytes"):
        serializers.deserialize("npy", payload.meta, reader)
