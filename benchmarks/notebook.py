"""Notebook workload: 20 small variables (~1 MiB in all), 3 changed per commit.

Budgets: commit p50 <= 5 ms, p90 <= 10 ms, and at least 4x faster than dulwich writing
the same objects (issue 21; DESIGN.md's in-kernel budget is 20 ms). That last one is
printed two ways: the whole commit's p50 against dulwich (the issue's wording: OVER,
1.0-1.1x: a commit creates ~12 files, each open ~0.1 ms on this disk), and mlvc's writers
alone against dulwich (what the store layout changed). Printed beside them:

- the floor: what a content-addressed store must do at least for the same commit:
  xxh3 every byte, SHA-1 and write the changed bytes;
- dulwich: the objects each commit wrote (recorded while it ran), written again into
  a fresh repository with dulwich's ``object_store.add_object``, one loose object each
  (the objects are built before the clock starts: only the writing is timed);
- by kind of commit: half of the commits change a 100 KiB array (a loose part, which
  dulwich compresses at ~2.7 ms a part), half only small values, so the p50 of either
  lands between two unlike groups. Each kind is reported apart, with the file operations
  alone that a commit of this layout makes (its pack and index, two refs moved under
  git's lock protocol, a reflog and a log-cache line: ``_common.floor_commit_files``)
  and what "4x faster than dulwich" would be for it.

    python benchmarks/notebook.py [--commits 50]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import numpy as np
from dulwich.objects import ShaFile
from dulwich.repo import Repo

sys.path.insert(0, str(Path(__file__).parent))
from _common import floor_commit, floor_commit_files

import mlvc_server as mlvc
from mlvc_server.store import objects as store_objects


class Recorder:
    """Records (type number, raw content) of every object the store writes."""

    def __init__(self) -> None:
        self.items: list[tuple[int, bytes]] = []
        #: seconds spent in mlvc's object writers (packs, merges, loose objects)
        self.seconds = 0.0
        #: (objects, raw bytes) of the packs written, and whether a loose part was
        self.packed = [0, 0]
        self.loose = False
        self._pack = store_objects.write_pack
        self._stored = store_objects.write_stored_blob
        self._compressed = store_objects.write_compressed
        self._entries = store_objects.write_pack_entries

    def install(self) -> None:
        def timed(fn, *a, **kw):  # type: ignore[no-untyped-def]
            t = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                self.seconds += time.perf_counter() - t

        def write_pack(objects_dir, items, **kw):  # type: ignore[no-untyped-def]
            items = list(items)
            self.items.extend((t, raw) for _sha, t, raw in items)
            self.packed[0] += len(items)
            self.packed[1] += sum(len(raw) for _sha, _t, raw in items)
            return timed(self._pack, objects_dir, items, **kw)

        def write_pack_entries(objects_dir, entries, **kw):  # type: ignore[no-untyped-def]
            return timed(self._entries, objects_dir, entries, **kw)

        def write_stored_blob(objects_dir, chunks, size, sha=None, **kw):  # type: ignore[no-untyped-def]
            chunks = [bytes(c) for c in chunks]
            self.items.append((3, b"".join(chunks)))
            self.loose = True
            return timed(self._stored, objects_dir, chunks, size, sha, **kw)

        def write_compressed(objects_dir, sha, legacy, **kw):  # type: ignore[no-untyped-def]
            import zlib

            data = zlib.decompress(legacy)
            head, _, raw = data.partition(b"\x00")
            kind = {b"commit": 1, b"tree": 2, b"blob": 3, b"tag": 4}[head.split(b" ")[0]]
            self.items.append((kind, raw))
            return timed(self._compressed, objects_dir, sha, legacy, **kw)

        store_objects.write_pack = write_pack  # type: ignore[assignment]
        store_objects.write_pack_entries = write_pack_entries  # type: ignore[assignment]
        store_objects.write_stored_blob = write_stored_blob  # type: ignore[assignment]
        store_objects.write_compressed = write_compressed  # type: ignore[assignment]

    def take(self) -> tuple[list[tuple[int, bytes]], float]:
        out, seconds, self.items, self.seconds = self.items, self.seconds, [], 0.0
        return out, seconds

    def take_shape(self) -> tuple[bool, int, int]:
        """(a loose part was written, objects packed, their raw bytes) since last asked."""
        out = (self.loose, self.packed[0], self.packed[1])
        self.loose, self.packed = False, [0, 0]
        return out


def dulwich_writes(repo: Repo, items: list[tuple[int, bytes]]) -> float:
    """Seconds dulwich takes to write ``items`` as loose objects (built beforehand)."""
    objs = [ShaFile.from_raw_string(t, raw) for t, raw in items]
    for o in objs:
        o.id  # noqa: B018 - hash before the clock starts
    t = time.perf_counter()
    for o in objs:
        repo.object_store.add_object(o)
    return time.perf_counter() - t


def workload(rng: np.random.Generator) -> dict[str, object]:
    v: dict[str, object] = {}
    for i in range(8):
        v[f"arr{i}"] = rng.normal(size=(64, 200))  # 100 KiB each
    for i in range(4):
        v[f"vec{i}"] = rng.integers(0, 10, size=2000)
    for i in range(6):
        v[f"param{i}"] = float(rng.random())
    v["config"] = {"layers": [64, 32, 10], "activation": "relu", "dropout": 0.1}
    v["labels"] = [f"class{i}" for i in range(10)]
    return v


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--commits", type=int, default=50)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    variables = workload(rng)
    with tempfile.TemporaryDirectory(dir=Path.cwd()) as tmp:
        root = Path(tmp)
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell(f"x{i} = {i}", id=f"c{i}") for i in range(30)]
        nbformat.write(nb, root / "train.ipynb")
        mlvc.init(root)
        mlvc.commit("warm-up", variables=variables, notebook=root / "train.ipynb", repo=root)
        recorder = Recorder()
        recorder.install()
        baseline = Repo.init_bare(str(root / "dulwich.git"), mkdir=True)
        times, floors, dul, n_objects, writes = [], [], [], [], []
        shapes: list[tuple[bool, int, int]] = []
        pending: list[tuple[list[bytes], list[bytes]]] = []
        recorded: list[list[tuple[int, bytes]]] = []
        names = [n for n in variables if n.startswith(("arr", "vec", "param"))]
        for c in range(args.commits):
            changed = [names[(c * 3 + j) % len(names)] for j in range(3)]
            for n in changed:
                v = variables[n]
                variables[n] = v + 1 if isinstance(v, np.ndarray) else float(v) + 1  # type: ignore[operator]
            bufs = [
                memoryview(np.ascontiguousarray(v)).cast("B")
                if isinstance(v, np.ndarray)
                else memoryview(repr(v).encode())
                for v in variables.values()
            ]
            new = [
                memoryview(np.ascontiguousarray(variables[n])).cast("B")
                if isinstance(variables[n], np.ndarray)
                else memoryview(repr(variables[n]).encode())
                for n in changed
            ]
            pending.append(([bytes(b) for b in bufs], [bytes(b) for b in new]))
            t = time.perf_counter()
            mlvc.commit(
                f"c{c}",
                variables=variables,
                notebook=root / "train.ipynb",
                repo=root,
                metrics={"acc": c / 100},
            )
            times.append(time.perf_counter() - t)
            written, seconds = recorder.take()
            shapes.append(recorder.take_shape())
            writes.append(seconds)
            n_objects.append(len(written))
            recorded.append(written)
        # the floor and dulwich run after the commits, so that their writes (dirty pages
        # the file system flushes) do not land in the middle of mlvc's commits
        for (bufs_c, new_c), written in zip(pending, recorded, strict=True):
            floors.append(
                floor_commit([memoryview(b) for b in bufs_c], [memoryview(b) for b in new_c], root)
            )
            dul.append(dulwich_writes(baseline, written))
        file_floors = [
            floor_commit_files(root, 12 + n_bytes, 1072 + 28 * n_packed)
            for _loose, n_packed, n_bytes in shapes
        ]
        total = sum(
            np.asarray(v).nbytes if isinstance(v, np.ndarray) else 0 for v in variables.values()
        )
        files = len(list((root / ".mlvc" / "objects").rglob("*")))
    p50, p90 = statistics.median(times), statistics.quantiles(times, n=10)[-1]
    fl = statistics.median(floors)
    d50 = statistics.median(dul)
    w50 = statistics.median(writes)
    print(
        f"notebook workload: {len(variables)} variables, {total / 2**20:.2f} MiB, "
        f"3 changed per commit, {args.commits} commits, "
        f"{statistics.median(n_objects):.0f} new objects per commit (median)"
    )
    ok_time, ok_write, ok_commit = p50 <= 0.005 and p90 <= 0.010, d50 / w50 >= 4, d50 / p50 >= 4
    ok = ok_time and ok_write and ok_commit
    print(
        f"commit p50 {p50 * 1000:6.2f} ms  p90 {p90 * 1000:6.2f} ms  "
        f"floor {fl * 1000:5.2f} ms (p50 {p50 / fl:4.1f}x the floor)  "
        f"dulwich writing the same objects {d50 * 1000:6.2f} ms (mlvc {d50 / p50:4.1f}x faster)"
    )
    print(
        f"writing the objects: mlvc {w50 * 1000:6.2f} ms (packs, merges, loose parts)  "
        f"dulwich {d50 * 1000:6.2f} ms (one loose object each)  "
        f"mlvc {d50 / w50:4.1f}x faster"
    )
    # the median commit of this workload is of either kind below (3 of every 6 commits
    # change a 100 KiB array): the ratio of the medians above compares unlike commits
    print(
        "by kind of commit (p50)                 mlvc       dulwich    ratio  file operations alone"
    )
    for label, want in (("writing a part over 64 KiB (loose)", True), ("small values only", False)):
        picked = [i for i, shape in enumerate(shapes) if shape[0] is want]
        if not picked:
            continue
        m = statistics.median(times[i] for i in picked)
        d = statistics.median(dul[i] for i in picked)
        f = statistics.median(file_floors[i] for i in picked)
        print(
            f"  {label:<36} {m * 1000:6.2f} ms  {d * 1000:6.2f} ms  {d / m:4.1f}x  "
            f"{f * 1000:5.2f} ms (4x faster than dulwich: {d / 4 * 1000:5.2f} ms)  "
            f"n={len(picked)}"
        )
    print(
        f"budget: commit p50 <= 5 ms and p90 <= 10 ms {'OK' if ok_time else 'OVER'}; "
        f"commit >= 4x faster than dulwich writing {'OK' if ok_commit else 'OVER'}; "
        f"writing >= 4x faster than dulwich {'OK' if ok_write else 'OVER'}  "
        f"({files} files and folders in objects/ after the run)"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
