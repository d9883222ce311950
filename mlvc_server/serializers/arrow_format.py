"""``arrow``: pyarrow Tables and RecordBatches, polars DataFrames and Series, as parquet
with the Arrow schema kept (never pickle).

The table is written as :mod:`.parquet_format` writes pandas frames (zstd level 1, row
groups of ``ROW_GROUP_ROWS`` rows, dictionary encoding for strings and dictionaries) and
cut into one segment per column chunk, so one changed value stores about one column
chunk. pyarrow stores the Arrow schema in the file (``ARROW:schema``), so types come back
exactly (dictionary, large string, timestamps with zone, decimals, nested lists and
structs, schema metadata). polars values go through ``to_arrow()`` / ``pl.from_arrow``
(polars ``Object`` columns are declined). A polars Series is stored as a one-column
frame under its name.
"""

from __future__ import annotations

import io
import sys
from typing import Any

from .base import Decline, Payload, PayloadReader, qualified_type_name
from .parquet_format import (
    COMPRESSION,
    COMPRESSION_LEVEL,
    ROW_GROUP_ROWS,
    chunk_segments,
    dictionary_columns,
    read_whole,
)

_KINDS = {
    "pyarrow.lib.Table": "table",
    "pyarrow.lib.RecordBatch": "record_batch",
    "polars.dataframe.frame.DataFrame": "polars",
    "polars.series.series.Series": "polars_series",
}


def _kind(obj: Any) -> str | None:
    return _KINDS.get(qualified_type_name(obj))


class ArrowSerializer:
    """Arrow tables and polars frames as parquet, one segment per column chunk."""

    format = "arrow"
    unsafe = False

    def accepts(self, obj: Any) -> bool:
        """An exact pyarrow Table/RecordBatch or polars DataFrame/Series."""
        root = type(obj).__module__.partition(".")[0]
        return root in ("pyarrow", "polars") and root in sys.modules and _kind(obj) is not None

    def estimate_size(self, obj: Any) -> int | None:
        """The in-memory size of the buffers."""
        size = getattr(obj, "nbytes", None)
        if size is None and hasattr(obj, "estimated_size"):
            size = obj.estimated_size()
        return int(size) if size is not None else None

    def dump(self, obj: Any) -> Payload:
        """The parquet file, cut at its column chunks."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        kind = _kind(obj)
        meta: dict[str, Any] = {"type": qualified_type_name(obj), "kind": kind}
        try:
            if kind == "polars_series":
                meta["series_name"] = obj.name
                table = obj.to_frame().to_arrow()
            elif kind == "polars":
                table = obj.to_arrow()
            elif kind == "record_batch":
                table = pa.Table.from_batches([obj])
            else:
                table = obj
        except Exception as exc:  # polars Object columns and the like
            raise Decline(f"it has no Arrow form: {type(exc).__name__}: {exc}") from exc
        buf = io.BytesIO()
        try:
            pq.write_table(
                table,
                buf,
                compression=COMPRESSION,
                compression_level=COMPRESSION_LEVEL,
                row_group_size=ROW_GROUP_ROWS,
                use_dictionary=dictionary_columns(table),
                use_compliant_nested_type=False,  # keeps list fields named as they are
            )
        except (pa.ArrowException, TypeError, ValueError) as exc:
            raise Decline(f"parquet cannot hold it: {exc}") from exc
        data = buf.getbuffer()
        meta["shape"] = [int(table.num_rows), int(table.num_columns)]
        meta["columns"] = [{"name": f.name, "dtype": str(f.type)} for f in list(table.schema)[:200]]
        meta["nbytes"] = int(table.nbytes)
        return Payload(self.format, chunk_segments(data), meta, extension="parquet")

    def load(self, meta: dict[str, Any], reader: PayloadReader) -> Any:
        """Read the parquet file back into the same kind of value."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pq.read_table(pa.BufferReader(read_whole(reader)))
        kind = meta.get("kind")
        if kind == "record_batch":
            return (
                table.combine_chunks().to_batches()[0]
                if table.num_rows
                else (pa.RecordBatch.from_pylist([], schema=table.schema))
            )
        if kind in ("polars", "polars_series"):
            import polars as pl

            frame: Any = pl.from_arrow(table)
            if kind == "polars_series":
                return frame.to_series(0).alias(meta.get("series_name", ""))
            return frame
        return table
