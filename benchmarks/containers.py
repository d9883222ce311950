"""Containers: the fine-tune workload held as a plain dict of numpy arrays, and a
DataFrame with one value changed.

The dict workload is benchmarks/finetune.py's (a 256 MiB model of 64 float32 arrays, 10
versions, 10% of the arrays changed per version, some replaced, some changed in place),
measured against the same floors (benchmarks/_common.py), with the same budgets: first
commit <= 2x, later commits <= 3x, storage <= 1.05x unique bytes, restore <= 3x reading
the bytes back, extra memory during a commit <= 64 MiB.

The DataFrame figure: a 1M x 20 float64 frame committed, one value changed, committed
again; the bytes the second commit wrote against the size of one column chunk (budget
<= 2 column chunks).

The memmap figure: a 4 GiB ``np.memmap`` (``--memmap-mib``, 0 to skip) committed, then
committed again unchanged; the peak extra memory of the process (budget <= 64 MiB).

    python benchmarks/containers.py [--mib 256] [--versions 10] [--arrays 64] [--rows N]
                                    [--memmap-mib 4096]
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _common import PeakRSS, dir_bytes, floor_commit, read_floor, report, report_finetune

import mlvc_server as mlvc


def views(d: dict[str, np.ndarray], keys: list[str] | None = None) -> list[memoryview]:
    return [memoryview(d[k]).cast("B") for k in (keys or list(d))]


def dict_workload(args: argparse.Namespace, root: Path) -> bool:
    n = args.arrays
    per = args.mib * (1 << 20) // n // 4
    rng = np.random.default_rng(0)
    params = {f"layer{i:02d}.weight": rng.standard_normal(per, dtype=np.float32) for i in range(n)}
    changed_per_version = max(1, n // 10)
    warm = root / "warm"
    warm.mkdir()
    mlvc.commit("warm", variables={"m": {"w": np.ones(1000)}}, repo=warm, sources=False)
    proj = root / "proj"
    proj.mkdir()
    mlvc.init(proj)
    unique: dict[bytes, int] = {}

    def note_unique(keys: list[str]) -> None:
        import xxhash

        for k in keys:
            b = memoryview(params[k]).cast("B")
            unique[xxhash.xxh3_128_digest(b)] = len(b)

    first_floor = floor_commit(views(params), views(params), root)
    gc.collect()
    with PeakRSS() as mem_first:
        t = time.perf_counter()
        cid0 = mlvc.commit("v0", variables={"params": params}, repo=proj, sources=False)
        first = time.perf_counter() - t
    first_floor = min(first_floor, floor_commit(views(params), views(params), root))
    note_unique(list(params))
    assert mlvc.show(cid0, repo=proj)["variables"]["params"]["format"] == "container"

    later, floors, mems = [], [], []
    for v in range(1, args.versions):
        keys = list(params)
        changed = [keys[(v * 7 + j * 11) % n] for j in range(changed_per_version)]
        for j, k in enumerate(changed):
            if j % 2:
                params[k] += np.float32(0.001)  # in place, as an optimizer step
            else:
                params[k] = rng.standard_normal(per, dtype=np.float32)  # replaced
        floor = floor_commit(views(params), views(params, changed), root)
        gc.collect()
        with PeakRSS() as mem:
            t = time.perf_counter()
            mlvc.commit(f"v{v}", variables={"params": params}, repo=proj, sources=False)
            later.append(time.perf_counter() - t)
        floors.append(min(floor, floor_commit(views(params), views(params, changed), root)))
        mems.append(mem.extra)
        note_unique(changed)

    store_bytes = dir_bytes(proj / ".mlvc" / "objects")
    unique_bytes = sum(unique.values())

    blobs = root / "readback"
    blobs.mkdir()
    first_params = mlvc.load(cid0, "params", repo=proj)
    for i, arr in enumerate(first_params.values()):
        (blobs / str(i)).write_bytes(arr.tobytes())
    del first_params
    gc.collect()
    restore_floor = read_floor(blobs, n, per * 4)
    t = time.perf_counter()
    mlvc.load(cid0, "params", repo=proj)
    restore = time.perf_counter() - t

    print(
        f"fine-tune workload as a dict of numpy arrays: {args.mib} MiB, {n} float32 arrays, "
        f"{args.versions} versions, {changed_per_version} arrays changed per version"
    )
    return report_finetune(
        first,
        first_floor,
        later,
        floors,
        store_bytes,
        unique_bytes,
        restore,
        restore_floor,
        [mem_first.extra, *mems],
    )


def dataframe_change(args: argparse.Namespace, root: Path) -> bool:
    import pandas as pd

    from mlvc_server.serializers import parquet_format

    rows, cols = args.rows, 20
    rng = np.random.default_rng(1)
    df = pd.DataFrame({f"c{i}": rng.standard_normal(rows) for i in range(cols)})
    proj = root / "df"
    proj.mkdir()
    t = time.perf_counter()
    cid = mlvc.commit("v0", variables={"df": df}, repo=proj, sources=False)
    first = time.perf_counter() - t
    full = mlvc.show(cid, repo=proj)["bytes_written"]
    df.iat[rows // 2, 7] = 42.0
    t = time.perf_counter()
    cid = mlvc.commit("v1", variables={"df": df}, repo=proj, sources=False)
    second = time.perf_counter() - t
    written = mlvc.show(cid, repo=proj)["bytes_written"]
    back = mlvc.load(cid, "df", repo=proj)
    pd.testing.assert_frame_equal(back, df, check_exact=True)
    chunk_rows = min(rows, parquet_format.ROW_GROUP_ROWS)
    column_chunk = full / cols * chunk_rows / rows  # one column of one row group, stored
    print(
        f"DataFrame {rows} x {cols} float64 ({df.memory_usage().sum() / 2**20:.0f} MiB): "
        f"first commit {first:.3f} s ({full / 2**20:.1f} MiB written), "
        f"one value changed: {second:.3f} s"
    )
    return report(
        "one value changed: bytes written (KiB)",
        written / 1024,
        column_chunk / 1024,
        2.0,
        unit="KiB",
    )


def memmap_commit(args: argparse.Namespace, root: Path) -> bool:
    """A big np.memmap commits with bounded extra memory: its bytes are read from the file
    in slices, never through the mapping as a whole."""
    size = args.memmap_mib << 20
    path = root / "big.dat"
    with open(path, "wb") as f:  # written in pieces, so this process never holds it
        rng = np.random.default_rng(2)
        piece = 64 << 20
        for start in range(0, size, piece):
            f.write(rng.integers(0, 255, min(piece, size - start), dtype=np.uint8).tobytes())
    mm = np.memmap(path, dtype=np.float32, mode="r+", shape=(size // 4,))
    proj = root / "mm"
    proj.mkdir()
    mlvc.init(proj)
    gc.collect()
    with PeakRSS() as mem:
        t = time.perf_counter()
        mlvc.commit("mm", variables={"mm": mm}, repo=proj, sources=False)
        first = time.perf_counter() - t
    with PeakRSS() as mem_again:
        t = time.perf_counter()
        mlvc.commit("mm again", variables={"mm": mm}, repo=proj, sources=False)
        again = time.perf_counter() - t
    peak = max(mem.extra, mem_again.extra) / 2**20
    print(
        f"np.memmap of {args.memmap_mib} MiB: commit {first:.2f} s, unchanged again {again:.2f} s"
    )
    print(
        f"{'peak extra memory during the commits':<38} {peak:10.1f} MiB  budget <= 64 MiB  "
        f"{'OK' if peak <= 64 else 'OVER'}"
    )
    return peak <= 64


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mib", type=int, default=256)
    ap.add_argument("--versions", type=int, default=10)
    ap.add_argument("--arrays", type=int, default=64)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--memmap-mib", type=int, default=4096)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(dir=Path.cwd()) as tmp:
        ok = dict_workload(args, Path(tmp))
    with tempfile.TemporaryDirectory(dir=Path.cwd()) as tmp:
        ok &= dataframe_change(args, Path(tmp))
    if args.memmap_mib:
        with tempfile.TemporaryDirectory(dir=Path.cwd()) as tmp:
            ok &= memmap_commit(args, Path(tmp))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
