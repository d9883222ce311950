"""The json format: exact round trips of plain Python values."""

from __future__ import annotations

import datetime as dt
import decimal
import fractions
import json
import math
import pathlib
import struct
import uuid
import zoneinfo
from collections import OrderedDict
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlvc_server import serializers
from mlvc_server.serializers.json_format import TAG, JsonSerializer, decode, encode, is_plain

from .conftest import MemoryReader, roundtrip


def same(a: Any, b: Any) -> bool:
    """Equality that also compares types exactly and floats bit for bit."""
    if type(a) is not type(b):
        return False
    if type(a) is float:
        return struct.pack(">d", a) == struct.pack(">d", b)
    if type(a) in (list, tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if type(a) is dict:
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    return bool(a == b)


scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**200), max_value=2**200)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text()
)
keys = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=5)
        | st.lists(children, max_size=5).map(tuple)
        | st.dictionaries(st.text(max_size=5), children, max_size=5)
        | st.dictionaries(keys, children, max_size=5)
    ),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(values)
def test_roundtrip_property(value: Any) -> None:
    back, payload = roundtrip(value)
    assert payload.format == "json"
    assert same(value, back)


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        False,
        0,
        1,
        -(10**100),
        1.0,
        -0.0,
        0.1,
        5e-324,
        1.7976931348623157e308,
        math.inf,
        -math.inf,
        math.nan,
        "",
        "héllo \u2603 \U0001f600",
        "lone surrogate \ud800",
        [],
        (),
        {},
        [1, (2, 3.0), {"a": [None, True]}],
        ((),),
        {1: "int key", 2.5: "float key", None: "none", (1, "x"): "tuple"},
        {True: "bool key", "s": 1},
        {"$t": "looks like a tag", "v": 1},
        {"a": {"$t": "tuple", "v": [1]}},
    ],
)
def test_roundtrip_examples(value: Any) -> None:
    back, payload = roundtrip(value)
    assert payload.format == "json"
    assert same(value, back)
    assert len(payload.segments) == 1


def test_nan_payload_and_sign_are_bit_exact() -> None:
    weird_nan = struct.unpack(">d", bytes.fromhex("fff8000000000123"))[0]
    back, _ = roundtrip([weird_nan, -math.nan])
    assert struct.pack(">d", back[0]).hex() == "fff8000000000123"
    assert struct.pack(">d", back[1]) == struct.pack(">d", -math.nan)


def test_int_stays_int_bool_stays_bool() -> None:
    back, _ = roundtrip({"a": 1, "b": True, "c": 1.0})
    assert type(back["a"]) is int and type(back["b"]) is bool and type(back["c"]) is float


def test_payload_is_plain_json() -> None:
    payload = serializers.serialize({"lr": 0.1, "layers": (64, 32)})
    doc = json.loads(bytes(payload.segments[0].data))
    assert doc == {"lr": 0.1, "layers": {"$t": "tuple", "v": [64, 32]}}
    assert payload.extension == "json"


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0.1, 0.1), (3, 3), ("adam", "adam"), (None, None), (True, True)],
)
def test_meta_has_scalar_value(value: Any, expected: Any) -> None:
    meta = serializers.serialize(value).meta
    assert meta["value"] == expected
    assert type(meta["value"]) is type(expected)
    assert meta["type"] == f"builtins.{type(value).__name__}"


def test_meta_nan_value_is_json_able_and_decodes() -> None:
    meta = serializers.serialize(math.nan).meta
    json.dumps(meta, allow_nan=False)
    assert math.isnan(decode(meta["value"]))


def test_meta_preview_is_short() -> None:
    big = list(range(100_000))
    meta = serializers.serialize(big).meta
    assert len(meta["value_preview"]) <= 200
    assert "value" not in meta
    assert meta["length"] == 100_000
    assert len(serializers.serialize("x" * 10_000).meta["value_preview"]) <= 200


@pytest.mark.parametrize(
    "value",
    [
        OrderedDict(a=1),
        [1, object()],
        {"a": {1, 2}},
        dt.datetime(2020, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=1), "CET")),
        decimal.Decimal("1" * 5000),
    ],
)
def test_not_plain_is_rejected(value: Any) -> None:
    assert not JsonSerializer().accepts(value)
    assert serializers.serialize(value).format != "json"


STDLIB_VALUES = [
    b"\x00bytes\xff",
    bytearray(b"mutable"),
    1 + 2j,
    complex(math.nan, -0.0),
    dt.datetime(2020, 1, 2, 3, 4, 5, 6),
    dt.datetime(2020, 1, 1, tzinfo=dt.UTC),
    dt.datetime(2020, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=-3, minutes=-30))),
    # the repeated hour of a DST change: the zone and fold come back
    dt.datetime(2021, 11, 7, 1, 30, tzinfo=zoneinfo.ZoneInfo("America/New_York"), fold=1),
    dt.date(2020, 5, 6),
    dt.time(1, 2, 3, 4),
    dt.time(1, 2, tzinfo=dt.UTC),
    dt.timedelta(days=-1, seconds=5, microseconds=7),
    decimal.Decimal("-1.50"),
    decimal.Decimal("NaN"),
    decimal.Decimal("-0"),
    fractions.Fraction(-1, 3),
    uuid.UUID("12345678-1234-5678-1234-567812345678"),
    pathlib.Path("data/train.csv"),
    pathlib.PurePosixPath("/x/y"),
    pathlib.PureWindowsPath("C:/Users/x"),
    {dt.date(2020, 1, 1): [pathlib.Path("p"), b"b"], "when": dt.datetime(2020, 1, 1)},
]


@pytest.mark.parametrize("value", STDLIB_VALUES, ids=lambda v: type(v).__name__)
def test_the_standard_librarys_values_round_trip_without_pickle(value: Any) -> None:
    payload = serializers.serialize(value)
    assert payload.format == "json" and not serializers.get("json").unsafe
    back, _ = roundtrip(value)
    assert type(back) is type(value) and repr(back) == repr(value)
    if isinstance(value, dt.datetime):
        assert back.tzinfo == value.tzinfo and back.fold == value.fold


def test_subclasses_are_not_plain() -> None:
    import enum

    class Color(enum.IntEnum):
        RED = 1

    assert not is_plain(Color.RED)
    assert not is_plain([Color.RED])


def test_cycles_and_deep_nesting_are_not_plain() -> None:
    cyclic: list[Any] = []
    cyclic.append(cyclic)
    assert not is_plain(cyclic)
    deep: Any = 0
    for _ in range(250):
        deep = [deep]
    assert not is_plain(deep)
    # too deep for json: the container format takes it (its inner levels inline), safely
    back, payload = roundtrip(deep)
    assert payload.format == "container" and not payload.meta.get("unsafe")
    assert back == deep
    # a cycle is declined by every safe format: pickle holds it
    back, payload = roundtrip(cyclic, trusted=True)
    assert payload.format == "pickle" and back[0] is back


def test_huge_int_falls_back() -> None:
    assert not is_plain(10**5000)
    assert is_plain(10**4000)


def test_encode_decode_inverse() -> None:
    value = {"x": (1, [2.5, math.inf]), 3: None}
    assert same(decode(json.loads(json.dumps(encode(value)))), value)


def test_load_uses_reader() -> None:
    payload = serializers.serialize([1, 2])
    reader = MemoryReader(payload)
    assert serializers.get("json").load(payload.meta, reader) == [1, 2]
    assert reader.reads == [0]


def test_pandas_timestamps_and_timedeltas_round_trip_without_pickle() -> None:
    pd = pytest.importorskip("pandas")
    values = [
        pd.Timestamp("2020-01-01 00:00:00.000000001"),
        pd.Timestamp("2020-01-01").as_unit("s"),
        pd.Timestamp("2020-01-01", tz="UTC"),
        pd.Timestamp("2021-11-07 06:30", tz="UTC").tz_convert("America/New_York"),
        pd.Timestamp("2020-01-01 03:00:00.5", tz="+02:00"),
        pd.Timestamp("2020-01-01", tz=dt.timezone(dt.timedelta(hours=-5), "EST")),
        pd.Timedelta("1D 3ns"),
        pd.Timedelta("2h").as_unit("s"),
    ]
    for value in values:
        back, payload = roundtrip(value)
        assert payload.format == "json"
        assert type(back) is type(value) and back == value and back.unit == value.unit
        assert str(getattr(back, "tz", None)) == str(getattr(value, "tz", None))
    back, payload = roundtrip({"start": pd.Timestamp("2020-05-05"), "end": pd.NaT})
    assert payload.format == "json" and back["end"] is pd.NaT
    assert back["start"] == pd.Timestamp("2020-05-05")


def test_numpy_dtypes_and_scalar_types_round_trip_without_pickle() -> None:
    """A dtype or a type passed as one (``dtype=np.float32``, ``float``) is JSON, and a
    tampered name cannot make the load hand back anything but a scalar type."""
    np = pytest.importorskip("numpy")
    values = [
        np.dtype("f8"),
        np.dtype(">i2"),
        np.dtype("M8[ns]"),
        np.dtype("U5"),
        np.dtype("O"),
        np.dtype([("a", "<i4"), ("b", "<f8", (2,))]),
        np.dtype([("x", [("y", "<i2")])]),
        np.float32,
        np.bool_,
        float,
        str,
        {"dtype": np.float16, "record": np.dtype([("id", "<u8")]), "cast": int},
    ]
    for value in values:
        back, payload = roundtrip(value)
        assert payload.format == "json" and not payload.meta.get("unsafe"), value
        assert back == value and type(back) is type(value)
    # what the .npy description does not keep is left to other formats
    for value in (np.dtype("f4", metadata={"unit": "m"}), np.ndarray, type):
        assert serializers.serialize(value).format != "json"
    for tampered in ({TAG: "type", "v": "numpy.load"}, {TAG: "type", "v": "eval"}):
        with pytest.raises(ValueError):
            decode(tampered)
