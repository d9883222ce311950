"""``parquet``: pandas DataFrames and Series as one parquet file (pyarrow, zstd level 1).

The file is written in row groups of :data:`ROW_GROUP_ROWS` rows and cut into segments at
its column chunks (one segment per column of each row group, plus the leading magic and
the footer), so changing one value of a big frame changes one column chunk (and the
footer): the other chunks are unchanged segments and deduplicate.

The index is kept (a ``RangeIndex`` as metadata, any other index as columns), and so are
``df.attrs``. Accepted column (and index level) dtypes are those measured to come back
exactly (``pd.testing.assert_frame_equal(check_exact=True)``):

* numpy bool, int, uint, float16/32/64; ``datetime64`` in ms/us/ns; ``timedelta64``;
* ``DatetimeTZDtype`` in ms/us/ns; nullable ``Int*``/``UInt*``/``Float*``/``boolean``;
* ``StringDtype`` (any storage and NA value: the storage is restored after reading);
* ``CategoricalDtype`` with string categories; ``PeriodDtype``; ``IntervalDtype`` over
  numbers; ``ArrowDtype``.

Stored with a fix-up (``meta["column_fixes"]``): categoricals over numbers or datetimes
(the column holds the codes, the categories are an ``.npy`` segment after the parquet
file), second-resolution datetimes and ``object`` columns holding only ``str`` values
(converted back after reading).

Not accepted (they fall to the next format, in practice pickle): other ``object`` columns
(pyarrow either refuses mixed objects or gives back another dtype: a list comes back as
an ndarray, ints with None as float64), sparse and complex columns,
duplicate or mixed-type column labels. A ``DatetimeIndex``'s ``freq`` is restored.
"""

from __future__ import annotations

import io
import sys
from typing import Any

from .base import Decline, Payload, PayloadReader, Segment, qualified_type_name, type_root_module
from .json_format import decode, encode, is_plain
from .npy_format import read_array

_MASKED = {f"{p}Int{b}" for p in ("", "U") for b in (8, 16, 32, 64)} | {
    "Float32",
    "Float64",
    "boolean",
}
_TIME_UNITS = ("ms", "us", "ns")
#: the column a frame without columns is stored with (dropped when read)
_PLACEHOLDER = "__mlvc_rows__"
_SERIES_COLUMN = "__mlvc_series__"
_MAX_COLUMNS_META = 200
COMPRESSION = "zstd"
COMPRESSION_LEVEL = 1
#: Files up to this size stay one segment (splitting them saves nothing worth a blob each).
SPLIT_MIN = 1 << 20
#: Rows per row group: a float64 column chunk is 1 MiB before compression.
ROW_GROUP_ROWS = 1 << 17


def dictionary_columns(table: Any) -> list[str]:
    """The columns worth dictionary encoding: categoricals (which need it to keep their
    categories), strings and binaries (numbers mostly have too
    many distinct values: trying costs 5x the write time and grows the file)."""
    import pyarrow as pa

    kinds = (
        pa.types.is_string,
        pa.types.is_large_string,
        pa.types.is_binary,
        pa.types.is_dictionary,
    )
    return [f.name for f in table.schema if any(k(f.type) for k in kinds)]


def read_whole(reader: PayloadReader, count: int | None = None) -> bytearray:
    """The first ``count`` segments of a payload (all by default), concatenated into one
    fresh buffer (one copy).

    Args:
        reader: the payload reader.
        count: how many segments make the file.

    Returns:
        The serialized file.
    """
    if count is None:
        count = len(reader.segment_names)
    sizes = [reader.segment_size(i) for i in range(count)]
    whole = bytearray(sum(sizes))
    view = memoryview(whole)
    position = 0
    for i, size in enumerate(sizes):
        reader.readinto_segment(i, view[position : position + size])
        position += size
    return whole


def chunk_segments(data: memoryview) -> list[Segment]:
    """Cut a parquet file into segments at its column chunks, without copying.

    Args:
        data: the whole parquet file.

    Returns:
        Segments covering ``data`` in order: ``magic``, one per column chunk
        (``rg{i}/{column}``), anything between them, and the ``footer``; one segment
        ``parquet`` for a file of at most :data:`SPLIT_MIN` bytes.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    if data.nbytes <= SPLIT_MIN:
        return [Segment("parquet", data, data.nbytes)]
    metadata = pq.ParquetFile(pa.BufferReader(pa.py_buffer(data))).metadata
    spans: list[tuple[int, int, str]] = []
    for i in range(metadata.num_row_groups):
        group = metadata.row_group(i)
        for j in range(group.num_columns):
            column = group.column(j)
            start = column.data_page_offset
            if column.has_dictionary_page and 0 < column.dictionary_page_offset < start:
                start = column.dictionary_page_offset
            spans.append(
                (start, start + column.total_compressed_size, f"rg{i}/{column.path_in_schema}")
            )
    spans.sort()
    segments: list[Segment] = []
    position = 0
    for start, end, name in spans:
        if start < position or end > len(data):
            return [Segment("parquet", data, data.nbytes)]  # unexpected layout: one piece
        if start > position:
            label = "magic" if position == 0 else f"gap@{position}"
            segments.append(Segment(label, data[position:start], start - position))
        segments.append(Segment(name, data[start:end], end - start))
        position = end
    segments.append(Segment("footer", data[position:], len(data) - position))
    return segments


def _dtype_ok(pd: Any, np: Any, dtype: Any) -> bool:
    if isinstance(dtype, np.dtype):
        if dtype.kind in "biu":
            return True
        if dtype.kind == "f":
            return bool(dtype.itemsize <= 8)
        if dtype.kind == "M":
            return np.datetime_data(dtype)[0] in _TIME_UNITS
        if dtype.kind == "m":
            return np.datetime_data(dtype)[0] in ("s", *_TIME_UNITS)
        return False
    if isinstance(dtype, pd.DatetimeTZDtype):
        return dtype.unit in _TIME_UNITS
    if isinstance(dtype, pd.StringDtype | pd.PeriodDtype | pd.ArrowDtype):
        return True
    if isinstance(dtype, pd.CategoricalDtype):
        return isinstance(dtype.categories.dtype, pd.StringDtype)
    if isinstance(dtype, pd.IntervalDtype):
        sub = dtype.subtype
        return isinstance(sub, np.dtype) and sub.kind in "iuf"
    return bool(getattr(dtype, "name", None) in _MASKED)


def _fixed_after_reading(pd: Any, np: Any, dtype: Any) -> str | None:
    """How a column dtype parquet does not give back is stored instead: ``"codes"`` for a
    categorical over numbers or datetimes (its codes as the column, its categories as an
    ``.npy`` segment), ``"astype"`` for second-resolution datetimes (converted back after
    reading); None when the column needs nothing."""
    if isinstance(dtype, pd.CategoricalDtype):
        categories = dtype.categories.dtype
        if isinstance(categories, np.dtype) and categories.kind in "biufmM":
            from .npy_format import storable_dtype

            return "codes" if storable_dtype(categories) else None
        return None
    if isinstance(dtype, np.dtype) and dtype.kind == "M" and np.datetime_data(dtype)[0] == "s":
        return "astype"
    if isinstance(dtype, pd.DatetimeTZDtype) and dtype.unit == "s":
        return "astype"
    return None


def _index_ok(pd: Any, np: Any, index: Any) -> bool:
    if isinstance(index, pd.RangeIndex):
        return True
    if isinstance(index, pd.MultiIndex):
        return all(_dtype_ok(pd, np, level.dtype) for level in index.levels)
    return _dtype_ok(pd, np, index.dtype)


def _labels_ok(pd: Any, columns: Any) -> bool:
    if not columns.is_unique:
        return False
    if isinstance(columns, pd.MultiIndex):
        return all(level.inferred_type in ("string", "integer") for level in columns.levels)
    return columns.inferred_type in ("string", "integer", "empty")


def why_not(obj: Any) -> str | None:
    """Why this DataFrame/Series cannot be stored exactly as parquet, or None.

    Args:
        obj: a pandas DataFrame or Series.

    Returns:
        A reason, or None when every dtype and label is known to round trip.
    """
    import numpy as np
    import pandas as pd

    if isinstance(obj, pd.Series):
        if not is_plain(obj.name):
            return f"Series name {obj.name!r} is not a plain value"
        dtypes = [obj.dtype]
    else:
        if not _labels_ok(pd, obj.columns):
            return "column labels are duplicated or of mixed types"
        dtypes = list(obj.dtypes)
    for i, dtype in enumerate(dtypes):
        if _dtype_ok(pd, np, dtype) or _fixed_after_reading(pd, np, dtype) is not None:
            continue
        if isinstance(dtype, np.dtype) and dtype.kind == "O":
            values = obj if isinstance(obj, pd.Series) else obj.iloc[:, i]
            if pd.api.types.infer_dtype(values, skipna=False) == "string":
                continue  # all str: stored as strings, made object again after reading
            return "an object column holds more than str values"
        return f"dtype {dtype} does not round trip exactly through parquet"
    if not _index_ok(pd, np, obj.index):
        return f"index dtype {obj.index.dtype} does not round trip exactly through parquet"
    return None


class ParquetSerializer:
    """pandas DataFrame and Series as parquet."""

    format = "parquet"
    unsafe = False

    def accepts(self, obj: Any) -> bool:
        """Exact ``DataFrame``/``Series`` whose dtypes and labels round trip; an ``Index``
        (of any kind) or a ``Categorical`` too, stored as a frame's index or a column."""
        if type_root_module(obj) != "pandas" or "pandas" not in sys.modules:
            return False
        pd = sys.modules["pandas"]
        if type(obj) is not pd.DataFrame and type(obj) is not pd.Series:
            wrapped = _wrapped(pd, obj)
            return wrapped is not None and why_not(wrapped[0]) is None
        return why_not(obj) is None

    def estimate_size(self, obj: Any) -> int | None:
        """In-memory size of the values and index (not deep: strings counted roughly)."""
        usage = obj.memory_usage(index=True, deep=False)
        return int(usage.sum()) if hasattr(usage, "sum") else int(usage)

    def dump(self, obj: Any) -> Payload:
        """One segment: the parquet file."""
        import pandas as pd

        wrapped = _wrapped(pd, obj)
        if wrapped is not None:  # an Index or Categorical, inside a frame or series
            payload = self.dump(wrapped[0])
            payload.meta.update(type=qualified_type_name(obj), wrapped=wrapped[1])
            payload.meta["shape"] = [len(obj)]
            return payload
        import pyarrow as pa
        import pyarrow.parquet as pq

        reason = why_not(obj)
        if reason is not None:
            raise Decline(reason)
        import numpy as np

        from .npy_format import array_segments

        series = isinstance(obj, pd.Series)
        frame = obj.to_frame(name=_SERIES_COLUMN) if series else obj
        # a frame without columns keeps its rows (and a RangeIndex) only with a column
        placeholder = not series and frame.shape[1] == 0
        if placeholder:
            frame = frame.assign(**{_PLACEHOLDER: np.zeros(len(frame), dtype=np.int8)})
        fixes: dict[str, Any] = {}
        categories: list[Segment] = []
        for i, dtype in enumerate(list(frame.dtypes)):
            how = _fixed_after_reading(pd, np, dtype)
            if isinstance(dtype, np.dtype) and dtype.kind == "O":
                fixes[str(i)] = {"astype": "object"}
                continue
            if how is None or _dtype_ok(pd, np, dtype):
                continue
            if how == "codes":
                if frame is obj:
                    frame = obj.copy(deep=False)
                frame.isetitem(i, frame.iloc[:, i].cat.codes)
                segs, _ = array_segments(
                    np.ascontiguousarray(dtype.categories.to_numpy()), f"categories{i}."
                )
                fixes[str(i)] = {"categories": len(categories) // 2, "ordered": dtype.ordered}
                categories.extend(segs)
            else:
                fixes[str(i)] = {"astype": str(dtype)}
        try:
            table = pa.Table.from_pandas(frame, preserve_index=None)
        except (pa.ArrowException, TypeError, ValueError) as exc:
            raise Decline(f"pyarrow cannot represent it: {exc}") from exc
        buf = io.BytesIO()
        pq.write_table(
            table,
            buf,
            compression=COMPRESSION,
            compression_level=COMPRESSION_LEVEL,
            row_group_size=ROW_GROUP_ROWS,
            use_dictionary=dictionary_columns(table),
        )
        data = buf.getbuffer()
        meta: dict[str, Any] = {
            "type": qualified_type_name(obj),
            "shape": list(obj.shape),
            "nbytes": self.estimate_size(obj),
            "index": {"type": qualified_type_name(obj.index), "dtype": str(obj.index.dtype)},
        }
        columns = [(obj.name, obj.dtype)] if series else list(obj.dtypes.items())
        meta["columns"] = [
            {"name": str(name), "dtype": str(dtype)} for name, dtype in columns[:_MAX_COLUMNS_META]
        ]
        if len(columns) > _MAX_COLUMNS_META:
            meta["columns_total"] = len(columns)
        strings = {
            str(i): [dtype.storage, dtype.na_value is pd.NA]
            for i, (_, dtype) in enumerate(columns)
            if isinstance(dtype, pd.StringDtype)
        }
        if strings:
            meta["string_dtypes"] = strings
        freq = getattr(obj.index, "freqstr", None)
        if freq is not None and not isinstance(obj.index, pd.PeriodIndex):
            meta["index_freq"] = freq
        if series:
            meta["series_name"] = encode(obj.name)
        if placeholder:
            meta["placeholder"] = _PLACEHOLDER
            columns_index = obj.columns
            meta["empty_columns"] = (
                "range" if isinstance(columns_index, pd.RangeIndex) else str(columns_index.dtype)
            )
        segments = chunk_segments(data)
        if fixes:
            meta["column_fixes"] = fixes
            meta["parquet_segments"] = len(segments)
        return Payload(
            format=self.format,
            segments=segments + categories,
            meta=meta,
            extension="parquet",
        )

    def load(self, meta: dict[str, Any], reader: PayloadReader) -> Any:
        """Read the parquet file back into the same DataFrame/Series."""
        import numpy as np
        import pandas as pd
        import pyarrow as pa
        import pyarrow.parquet as pq

        count = int(meta.get("parquet_segments", len(reader.segment_names)))
        frame = pq.read_table(pa.BufferReader(read_whole(reader, count))).to_pandas()
        for position, fix in meta.get("column_fixes", {}).items():
            i = int(position)
            column = frame.iloc[:, i]
            if "astype" in fix:
                frame.isetitem(i, column.astype(str(fix["astype"])))
                continue
            k = count + 2 * int(fix["categories"])
            cats = pd.Index(read_array(reader, k, k + 1))
            frame.isetitem(
                i,
                pd.Series(
                    pd.Categorical.from_codes(
                        column.to_numpy(), categories=cats, ordered=bool(fix["ordered"])
                    ),
                    index=frame.index,
                    name=column.name,
                ),
            )
        for position, (storage, na_is_na) in meta.get("string_dtypes", {}).items():
            dtype = pd.StringDtype(storage, na_value=pd.NA if na_is_na else np.nan)
            i = int(position)
            if frame.dtypes.iloc[i] != dtype:
                frame.isetitem(i, frame.iloc[:, i].astype(dtype))
        freq = meta.get("index_freq")
        if freq is not None:
            cls = pd.TimedeltaIndex if isinstance(frame.index, pd.TimedeltaIndex) else None
            frame.index = (cls or pd.DatetimeIndex)(frame.index, freq=freq)
        if "placeholder" in meta:
            frame = frame.drop(columns=[meta["placeholder"]])
            kind = meta.get("empty_columns", "range")
            frame.columns = pd.RangeIndex(0) if kind == "range" else pd.Index([], dtype=kind)
        if meta.get("wrapped") == "index":
            return frame.index
        if "series_name" in meta:
            series = frame[_SERIES_COLUMN]
            series.name = decode(meta["series_name"])
            return series.array if meta.get("wrapped") == "categorical" else series
        return frame


def _wrapped(pd: Any, obj: Any) -> tuple[Any, str] | None:
    """An ``Index`` as the index of a frame without columns, a ``Categorical`` as a
    series: ``(the frame or series, how)``; None for anything else."""
    if isinstance(obj, pd.Index) and type(obj).__module__.split(".")[0] == "pandas":
        return pd.DataFrame(index=obj), "index"
    if type(obj) is pd.Categorical:
        return pd.Series(obj, name=None), "categorical"
    return None
