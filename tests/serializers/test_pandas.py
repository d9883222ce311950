"""The parquet format: pandas DataFrames and Series, exact round trips."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from mlvc_server import serializers
from mlvc_server.serializers.parquet_format import ParquetSerializer

from .conftest import concat, roundtrip

N = 6


def frames() -> dict[str, pd.DataFrame]:
    idx = pd.date_range("2021-01-01", periods=N, freq="D")
    return {
        "numbers": pd.DataFrame(
            {
                "i8": np.arange(N, dtype=np.int8),
                "u64": np.arange(N, dtype=np.uint64),
                "f16": np.linspace(0, 1, N).astype(np.float16),
                "f32": np.linspace(0, 1, N).astype(np.float32),
                "f64": [0.1, -0.0, np.nan, np.inf, -np.inf, 5e-324],
                "b": [True, False] * (N // 2),
            }
        ),
        "pandas_dtypes": pd.DataFrame(
            {
                "cat": pd.Categorical(list("abcabc")),
                "cat_ordered": pd.Categorical(
                    list("abcabc"), categories=list("dcba"), ordered=True
                ),
                "tz": pd.date_range("2020-01-01", periods=N, tz="Europe/Paris"),
                "tz_ns": pd.date_range("2020-01-01", periods=N, tz="UTC", unit="ns"),
                "naive_ms": pd.date_range("2020-01-01", periods=N, unit="ms"),
                "nat": pd.to_datetime(["2020-01-01", None] * (N // 2)),
                "td": pd.to_timedelta(np.arange(N), unit="s"),
                "Int64": pd.array([1, None, 3, 4, 5, 6], dtype="Int64"),
                "UInt8": pd.array([1, None, 3, 4, 5, 6], dtype="UInt8"),
                "Float64": pd.array([1.5, None, 3, 4, 5, 6], dtype="Float64"),
                "boolean": pd.array([True, None, False, True, None, False], dtype="boolean"),
                "string": pd.array(["a", None, "c", "d", "e", "f"], dtype="string"),
                "str": pd.Series(["a", None, "c", "d", "é", "\u2603"], dtype="str"),
                "string_python": pd.array(list("abcdef"), dtype=pd.StringDtype("python")),
                "period": pd.period_range("2020-01", periods=N, freq="M"),
                "interval": pd.interval_range(0, N),
                "arrow_int": pd.array([1, 2, None, 4, 5, 6], dtype="int64[pyarrow]"),
            }
        ),
        "named_index": pd.DataFrame({"a": range(N)}, index=pd.Index(list("uvwxyz"), name="key")),
        "range_index": pd.DataFrame({"a": range(N)}, index=pd.RangeIndex(10, 10 + 2 * N, 2)),
        "freq_index": pd.DataFrame({"a": range(N)}, index=idx),
        "tz_index": pd.DataFrame({"a": range(N)}, index=idx.tz_localize("US/Eastern")[::-1]),
        "multi_index": pd.DataFrame(
            {"a": range(4)},
            index=pd.MultiIndex.from_product([["x", "y"], [1, 2]], names=["p", "q"]),
        ),
        "multi_columns": pd.DataFrame(
            np.arange(8.0).reshape(2, 4),
            columns=pd.MultiIndex.from_product([["a", "b"], ["x", "y"]]),
        ),
        "int_columns": pd.DataFrame({0: range(N), 1: range(N)}),
        "dup_index": pd.DataFrame({"a": range(3)}, index=[1, 1, 2]),
        "empty": pd.DataFrame(),
        "empty_rows": pd.DataFrame({"a": pd.Series([], dtype="float64")}),
    }


@pytest.mark.parametrize("name", list(frames()))
def test_frame_roundtrip_exact(name: str) -> None:
    df = frames()[name]
    back, payload = roundtrip(df)
    assert payload.format == "parquet"
    pd.testing.assert_frame_equal(df, back, check_exact=True, check_index_type=True)
    assert type(back.index) is type(df.index)
    assert back.index.equals(df.index)
    if isinstance(df.index, pd.DatetimeIndex):
        assert back.index.freq == df.index.freq


def test_attrs_are_kept() -> None:
    df = pd.DataFrame({"a": [1, 2]})
    df.attrs["source"] = "train.csv"
    back, _ = roundtrip(df)
    assert back.attrs == {"source": "train.csv"}


@pytest.mark.parametrize(
    "series",
    [
        pd.Series([1.5, 2.5, np.nan], name="x"),
        pd.Series([1, 2, 3]),
        pd.Series(pd.Categorical(list("aab")), name=0, index=pd.Index(list("pqr"), name="k")),
        pd.Series(pd.array([1, None], dtype="Int64"), name=("a", 1)),
        pd.Series(["x", "y"], dtype=pd.StringDtype("python"), name="s"),
    ],
)
def test_series_roundtrip_exact(series: pd.Series) -> None:
    back, payload = roundtrip(series)
    assert payload.format == "parquet"
    assert payload.meta["type"] == "pandas.Series"
    pd.testing.assert_series_equal(series, back, check_exact=True)
    assert back.name == series.name and type(back.name) is type(series.name)


def test_payload_is_a_parquet_file_and_meta() -> None:
    df = frames()["numbers"]
    payload = serializers.serialize(df)
    assert payload.extension == "parquet" and len(payload.segments) == 1
    table = pq.read_table(io.BytesIO(concat(payload)))
    assert table.num_rows == N
    assert table.schema.field("f64").type.to_pandas_dtype() == np.float64
    meta = payload.meta
    assert meta["type"] == "pandas.DataFrame"
    assert meta["shape"] == [N, 6]
    assert meta["columns"][0] == {"name": "i8", "dtype": "int8"}
    assert meta["nbytes"] > 0
    assert meta["index"]["type"] == "pandas.RangeIndex"


def test_wide_frame_meta_is_truncated() -> None:
    df = pd.DataFrame(np.zeros((2, 300)), columns=[f"c{i}" for i in range(300)])
    meta = serializers.serialize(df).meta
    assert len(meta["columns"]) == 200
    assert meta["columns_total"] == 300


@pytest.mark.parametrize(
    "df",
    [
        pd.DataFrame({"s": pd.Series(["a", 1, 2.0, None], dtype=object)}),
        pd.DataFrame({"s": pd.Series(["a", None], dtype=object)}),
        pd.DataFrame({"l": [[1], [2, 3]]}),
        pd.DataFrame({"c": np.arange(2) + 1j}),
        pd.DataFrame({"s": pd.arrays.SparseArray([0, 1])}),
        pd.DataFrame([[1, 2]], columns=["a", "a"]),
        pd.DataFrame({"a": [1], 1: [2]}),
        pd.DataFrame({"a": [1, 2]}, index=pd.Index([1, "x"], dtype=object)),
    ],
    ids=[
        "mixed-objects",
        "object-strings-with-none",
        "lists",
        "complex",
        "sparse",
        "duplicate-columns",
        "mixed-labels",
        "object-index",
    ],
)
def test_not_exact_frames_fall_to_pickle(df: pd.DataFrame) -> None:
    assert not ParquetSerializer().accepts(df)
    back, payload = roundtrip(df, trusted=True)
    assert payload.format == "pickle"
    pd.testing.assert_frame_equal(df, back, check_exact=True)


def test_dtypes_parquet_changes_are_fixed_after_reading() -> None:
    df = pd.DataFrame(
        {
            "int_cats": pd.Categorical([1, 2, 1], categories=[3, 2, 1], ordered=True),
            "float_cats": pd.Categorical([1.5, None, 1.5]),
            "time_cats": pd.Categorical(
                pd.to_datetime(["2020-01-01", "2020-01-02"] * 1 + ["2020-01-01"])
            ),
            "seconds": pd.to_datetime(["2020-01-01 00:00:00", None, "2021-05-05 10:00:01"]).astype(
                "datetime64[s]"
            ),
            "seconds_tz": pd.date_range("2020", periods=3, unit="s", tz="Asia/Tokyo"),
            "object_str": np.array(["a", "b", "\u2603"], dtype=object),
            "x": [1, 2, 3],
        },
        index=pd.Index([5, 6, 7], name="k"),
    )
    for value in [df, df["int_cats"], df["seconds"], df["object_str"]]:
        back, payload = roundtrip(value)
        assert payload.format == "parquet"
        if isinstance(value, pd.DataFrame):
            pd.testing.assert_frame_equal(back, value, check_exact=True)
        else:
            pd.testing.assert_series_equal(back, value, check_exact=True)
    assert serializers.serialize(df).meta["column_fixes"]["0"] == {"categories": 0, "ordered": True}


def test_subclass_is_not_parquet() -> None:
    class MyFrame(pd.DataFrame):
        pass

    assert not ParquetSerializer().accepts(MyFrame({"a": [1]}))


def test_mixed_objects_without_pickle_is_unsupported() -> None:
    from mlvc_server.errors import UnsupportedTypeError

    df = pd.DataFrame({"s": pd.Series(["a", 1], dtype=object)})
    with pytest.raises(UnsupportedTypeError, match="pickle is not allowed"):
        serializers.serialize(df, allow_pickle=False)


def test_large_frame_roundtrip() -> None:
    rng = np.random.default_rng(1)
    df = pd.DataFrame(
        {
            "x": rng.random(200_000),
            "k": pd.Categorical(rng.choice(list("abcdef"), 200_000)),
            "t": pd.date_range("2000", periods=200_000, freq="min", tz="UTC"),
        }
    )
    back, _ = roundtrip(df)
    pd.testing.assert_frame_equal(df, back, check_exact=True)


INDEXES = {
    "int": pd.Index([3, 1, 2], name="k"),
    "range": pd.RangeIndex(2, 10, 2, name="r"),
    "str": pd.Index(["a", "b"]),
    "datetime with freq": pd.date_range("2020-01-01", periods=3, freq="D", name="d"),
    "datetime tz": pd.date_range("2020-01-01", periods=3, tz="UTC"),
    "timedelta": pd.timedelta_range("1D", periods=2),
    "categorical": pd.CategoricalIndex(["a", "b", "a"], name="c"),
    "multi": pd.MultiIndex.from_tuples([(1, "a"), (2, "b")], names=["x", "y"]),
    "period": pd.period_range("2020-01", periods=2, freq="M"),
    "empty": pd.Index([], dtype="int64"),
}


@pytest.mark.parametrize("name", sorted(INDEXES))
def test_an_index_alone_is_parquet_not_pickle(name: str) -> None:
    index = INDEXES[name]
    back, payload = roundtrip(index)
    assert payload.format == "parquet" and payload.meta["type"].startswith("pandas.")
    assert type(back) is type(index) and back.equals(index)
    assert back.names == index.names and back.dtype == index.dtype
    assert getattr(back, "freq", None) == getattr(index, "freq", None)


def test_a_categorical_alone_is_parquet_not_pickle() -> None:
    cat = pd.Categorical(["lo", "hi", "lo"], categories=["lo", "hi"], ordered=True)
    back, payload = roundtrip(cat)
    assert payload.format == "parquet"
    assert type(back) is pd.Categorical and back.equals(cat) and back.ordered


@pytest.mark.parametrize(
    "index", [pd.RangeIndex(2, 12, 2), pd.Index(["a", "b"], name="n"), pd.RangeIndex(0)]
)
def test_a_frame_without_columns_keeps_its_rows(index: pd.Index) -> None:
    df = pd.DataFrame(index=index)
    back, payload = roundtrip(df)
    assert payload.format == "parquet"
    assert back.shape == df.shape and back.index.equals(df.index)
    assert type(back.index) is type(df.index) and back.index.name == df.index.name
