"""Safe native formats for common ML objects, through the real store: memmaps and ndarray
subclasses, scipy.sparse, PIL images, pyarrow and polars tables, JAX arrays, and
DataFrames deduplicated per column chunk. Each round-trips exactly through
``mlvc_server.load`` and is stored without pickle."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import mlvc_server as mlvc
from mlvc_server import serializers
from mlvc_server.serializers import parquet_format

SAFE = {"npy", "sparse", "image", "arrow", "jax", "parquet", "container", "safetensors"}


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLVC_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("MLVC_AUTHOR_NAME", "Ana")
    monkeypatch.setenv("MLVC_AUTHOR_EMAIL", "ana@example.org")
    return tmp_path


def through_store(project: Path, value: Any, fmt: str, name: str = "v") -> Any:
    """Commit ``value``, check it was stored in ``fmt`` (no pickle), load it back."""
    cid = mlvc.commit("c", variables={name: value}, repo=project, sources=False)
    entry = mlvc.show(cid, repo=project)["variables"][name]
    assert entry["format"] == fmt and fmt in SAFE
    assert not entry.get("unsafe")
    return mlvc.load(cid, name, repo=project)


# -- numpy memmap and subclasses ------------------------------------------------------------
def test_a_memmap_is_streamed_from_its_file_and_loads_exactly(project: Path) -> None:
    path = project / "big.dat"
    mm = np.memmap(path, dtype=np.float32, mode="w+", shape=(3000, 100), offset=4096 + 17)
    mm[:] = np.arange(300_000, dtype=np.float32).reshape(3000, 100)
    payload = serializers.serialize(mm)
    data = payload.segments[1]
    assert data.data is None and data.materialize is not None  # never read through memory
    assert data.fingerprint is not None and data.fingerprint.startswith("mm1:")
    assert payload.meta["memmap"]["filename"] == str(path)
    back = through_store(project, mm, "npy")
    assert type(back) is np.ndarray and back.dtype == np.float32
    np.testing.assert_array_equal(back, mm)
    # a slice of it: the right region of the file
    back = through_store(project, mm[1000:1010], "npy", "part")
    np.testing.assert_array_equal(back, np.asarray(mm[1000:1010]))
    # an unchanged memmap is recognised by its fingerprint: nothing new is written
    cid = mlvc.commit("again", variables={"v": mm}, repo=project, sources=False)
    assert mlvc.show(cid, repo=project)["bytes_written"] < 64 << 10
    mm[5, 5] = -1.0  # changed in place, through the shared mapping
    assert mlvc.status(repo=project, variables={"v": mm})["variables"] == {"v": "changed"}
    cid = mlvc.commit("changed", variables={"v": mm}, repo=project, sources=False)
    assert mlvc.load(cid, "v", repo=project)[5, 5] == -1.0


def test_a_copy_on_write_memmap_is_stored_from_memory(project: Path) -> None:
    path = project / "c.dat"
    np.memmap(path, dtype=np.int16, mode="w+", shape=(100,))[:] = 7
    cow = np.memmap(path, dtype=np.int16, mode="c", shape=(100,))
    cow[0] = 1  # only in this process's private copy
    assert serializers.serialize(cow).segments[1].data is not None
    back = through_store(project, cow, "npy")
    assert back[0] == 1 and (back[1:] == 7).all()


def test_matrix_and_recarray_keep_their_class(project: Path) -> None:
    m = np.asmatrix(np.arange(6.0).reshape(2, 3))
    back = through_store(project, m, "npy")
    assert type(back) is np.matrix
    np.testing.assert_array_equal(back, m)
    rec = np.rec.array([(1, 2.5), (3, 4.5)], dtype=[("a", "i4"), ("b", "f8")])
    back = through_store(project, rec, "npy", "rec")
    assert type(back) is np.recarray and back.dtype == rec.dtype
    assert back.b[1] == 4.5


@pytest.mark.parametrize(
    "masked",
    [
        np.ma.masked_array([1.0, 2.0, 3.0], mask=[0, 1, 0], fill_value=-9.0),
        np.ma.masked_array(np.arange(6).reshape(2, 3), mask=np.eye(2, 3, dtype=bool)),
        np.ma.masked_array([1, 2], hard_mask=True),  # no mask at all
        np.ma.masked_invalid([1.0, np.nan]),
    ],
)
def test_a_masked_array_keeps_its_mask_and_fill_value(project: Path, masked: Any) -> None:
    back = through_store(project, masked, "npy", "masked")
    assert type(back) is np.ma.MaskedArray
    np.testing.assert_array_equal(np.ma.getdata(back), np.ma.getdata(masked))
    np.testing.assert_array_equal(np.ma.getmaskarray(back), np.ma.getmaskarray(masked))
    assert (back.mask is np.ma.nomask) == (masked.mask is np.ma.nomask)
    assert back.fill_value == masked.fill_value and back.hardmask == masked.hardmask


def test_a_masked_array_whose_mask_alone_changed_is_stored_again(project: Path) -> None:
    data = np.arange(4.0)
    first = mlvc.commit("a", variables={"m": np.ma.masked_array(data, mask=[0, 1, 0, 0])})
    second = mlvc.commit("b", variables={"m": np.ma.masked_array(data, mask=[0, 0, 0, 1])})
    assert mlvc.load(first, "m").mask.tolist() == [False, True, False, False]
    assert mlvc.load(second, "m").mask.tolist() == [False, False, False, True]


# -- scipy.sparse ----------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["csr", "csc", "coo", "bsr", "dia", "lil", "dok"])
@pytest.mark.parametrize("kind", ["matrix", "array"])
def test_scipy_sparse_round_trips_exactly(project: Path, fmt: str, kind: str) -> None:
    sp = pytest.importorskip("scipy.sparse")
    base = sp.random(60, 50, density=0.1, format="csr", random_state=0, dtype=np.float32)
    value = getattr(sp, f"{fmt}_{kind}")(base.asformat(fmt))
    back = through_store(project, value, "sparse")
    assert type(back) is type(value)
    assert back.dtype == value.dtype and back.shape == value.shape
    np.testing.assert_array_equal(back.toarray(), value.toarray())
    for component in ("indices", "indptr", "row", "col", "offsets"):
        if hasattr(value, component) and fmt not in ("lil", "dok"):
            assert getattr(back, component).dtype == getattr(value, component).dtype


# -- PIL images -------------------------------------------------------------------------------
def test_pil_images_round_trip_losslessly(project: Path) -> None:
    image_mod = pytest.importorskip("PIL.Image")
    rng = np.random.default_rng(0)
    png = io.BytesIO()
    image_mod.fromarray(rng.integers(0, 255, (8, 9, 3), dtype=np.uint8)).save(
        png, "PNG", dpi=(300, 300)
    )
    png.seek(0)
    images = {
        "rgb": image_mod.fromarray(rng.integers(0, 255, (20, 30, 3), dtype=np.uint8)),
        "rgba": image_mod.fromarray(rng.integers(0, 255, (5, 6, 4), dtype=np.uint8), "RGBA"),
        "palette": image_mod.fromarray(rng.integers(0, 255, (7, 7), dtype=np.uint8)).convert("P"),
        "bits": image_mod.new("1", (9, 3), 1),
        "i16": image_mod.new("I;16", (4, 4), 300),
        "float": image_mod.new("F", (3, 2), 1.25),
        "opened": image_mod.open(png),
    }
    for name, image in images.items():
        back = through_store(project, image, "image", name)
        assert back.mode == image.mode and back.size == image.size, name
        assert back.tobytes() == image.tobytes(), name
        assert back.getpalette() == image.getpalette(), name
    assert back.info["dpi"] == pytest.approx((300, 300), abs=0.01)


# -- pyarrow and polars -------------------------------------------------------------------------
def test_pyarrow_tables_keep_their_exact_schema(project: Path) -> None:
    import datetime as dt
    import decimal

    pa = pytest.importorskip("pyarrow")
    table = pa.table(
        {
            "i8": pa.array([1, None, 3], pa.int8()),
            "u32": pa.array([1, 2, 3], pa.uint32()),
            "f16": pa.array(np.array([1, 2, 3], np.float16)),
            "s": ["a", None, "c"],
            "large": pa.array(["x", "y", "z"], pa.large_string()),
            "dict": pa.array(["a", "b", "a"]).dictionary_encode(),
            "ts": pa.array([1, 2, 3], pa.timestamp("us", tz="Europe/Paris")),
            "dec": pa.array([decimal.Decimal("1.10"), None, decimal.Decimal("-2.5")]),
            "list": [[1, 2], [], None],
            "struct": [{"a": 1, "b": "x"}, None, {"a": 3, "b": None}],
            "dur": pa.array([1, 2, 3], pa.duration("ms")),
            "bin": [b"\x00", b"", None],
            "date": pa.array([dt.date(2020, 1, 1)] * 3),
        }
    ).replace_schema_metadata({"source": "test"})
    for name, value in {"table": table, "batch": table.to_batches()[0]}.items():
        back = through_store(project, value, "arrow", name)
        assert type(back) is type(value)
        assert back.schema.equals(value.schema, check_metadata=True)
        assert back.equals(value)


def test_polars_frames_and_series_round_trip(project: Path) -> None:
    import datetime as dt

    pl = pytest.importorskip("polars")
    df = pl.DataFrame(
        {
            "a": [1, 2, None],
            "s": ["x", None, "z"],
            "cat": pl.Series(["u", "v", "u"], dtype=pl.Categorical),
            "enum": pl.Series(["lo", "hi", "lo"], dtype=pl.Enum(["lo", "hi"])),
            "t": [dt.datetime(2020, 1, 1)] * 3,
            "l": [[1], [2, 3], []],
            "f32": pl.Series([1.5, 2, 3], dtype=pl.Float32),
            "u8": pl.Series([1, 2, 3], dtype=pl.UInt8),
        }
    )
    back = through_store(project, df, "arrow")
    assert back.schema == df.schema and back.equals(df)
    back = through_store(project, df["enum"], "arrow", "series")
    assert back.name == "enum" and back.dtype == df["enum"].dtype and back.equals(df["enum"])


# -- JAX (tested when installed) -------------------------------------------------------------
def test_jax_arrays_and_parameter_trees_come_back_as_jax(project: Path) -> None:
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    params = {
        "dense": {"w": jnp.ones((3, 4), jnp.bfloat16), "b": jnp.zeros(4)},
        "emb": jnp.arange(6, dtype=jnp.int32).reshape(2, 3),
        "step": 3,
    }
    back = through_store(project, params["emb"], "jax")
    assert isinstance(back, jax.Array) and back.dtype == jnp.int32
    back = through_store(project, params, "container", "params")
    assert jax.tree_util.tree_structure(back) == jax.tree_util.tree_structure(params)
    for a, b in zip(
        jax.tree_util.tree_leaves(params), jax.tree_util.tree_leaves(back), strict=True
    ):
        assert type(a) is type(b)
        if isinstance(a, jax.Array):
            assert a.dtype == b.dtype and bool((a == b).all())


# -- DataFrames below the whole frame -------------------------------------------------------------
def test_one_changed_value_stores_about_one_column_chunk(project: Path) -> None:
    rows = 2 * parquet_format.ROW_GROUP_ROWS
    rng = np.random.default_rng(0)
    df = pd.DataFrame({f"c{i}": rng.standard_normal(rows) for i in range(6)})
    cid = mlvc.commit("v0", variables={"df": df}, repo=project, sources=False)
    full = mlvc.show(cid, repo=project)["bytes_written"]
    chunk = full / 6 / 2
    df.iat[rows - 5, 4] = 42.0
    cid = mlvc.commit("v1", variables={"df": df}, repo=project, sources=False)
    written = mlvc.show(cid, repo=project)["bytes_written"]
    assert written <= 1.2 * chunk, (written, chunk)
    back = mlvc.load(cid, "df", repo=project)
    pd.testing.assert_frame_equal(back, df, check_exact=True)
    payload = serializers.serialize(df)
    names = [s.name for s in payload.segments]
    assert names[0] == "magic" and names[-1] == "footer" and "rg1/c4" in names
