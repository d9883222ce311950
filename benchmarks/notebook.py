"""Notebook workload: 20 small variables (~1 MiB in all), 3 changed per commit.

Budget (DESIGN.md): commit p50 <= 20 ms in the kernel. The floor printed beside it is
what a content-addressed store must do at least for the same commit: xxh3 every byte,
SHA-1 and write the changed bytes.

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

sys.path.insert(0, str(Path(__file__).parent))
from _common import floor_commit

import mlvc_server as mlvc


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
        times, floors = [], []
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
            floors.append(floor_commit(bufs, new, root))
            t = time.perf_counter()
            mlvc.commit(
                f"c{c}",
                variables=variables,
                notebook=root / "train.ipynb",
                repo=root,
                metrics={"acc": c / 100},
            )
            times.append(time.perf_counter() - t)
        total = sum(
            np.asarray(v).nbytes if isinstance(v, np.ndarray) else 0 for v in variables.values()
        )
    p50, p90 = statistics.median(times), statistics.quantiles(times, n=10)[-1]
    fl = statistics.median(floors)
    print(
        f"notebook workload: {len(variables)} variables, {total / 2**20:.2f} MiB, "
        f"3 changed per commit, {args.commits} commits"
    )
    print(
        f"commit p50 {p50 * 1000:7.2f} ms  p90 {p90 * 1000:7.2f} ms  floor {fl * 1000:6.2f} ms  "
        f"ratio {p50 / fl:5.1f}x  budget p50 <= 20 ms  {'OK' if p50 <= 0.020 else 'OVER'}"
    )
    return 0 if p50 <= 0.020 else 1


if __name__ == "__main__":
    sys.exit(main())
