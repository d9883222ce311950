"""From a click to the commit appearing: the sidebar's Commit through the REST API.

Budget (DESIGN.md): <= 200 ms from the sidebar click to the commit appearing in the
graph, for the notebook workload (20 small variables, ~1 MiB, 3 changed per commit).

The script starts a real ``jupyter server`` (127.0.0.1, a free port, token auth) on a
temporary folder, opens a python3 kernel session for ``train.ipynb`` as JupyterLab does,
defines the workload in the kernel, then times, per commit, what the sidebar does after
a click: ``POST /mlvc/commits`` (the server asks the notebook's kernel to commit, the
same code as ``%mlvc commit``) and ``GET /mlvc/log`` (the graph refresh, which must list
the new commit first). Between commits, 3 variables change in the kernel (not timed).
The frontend's save of the notebook before the POST is not included.

    python benchmarks/rest.py [--commits 30]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "server"))
from live import LiveServer, run_cell  # noqa: E402

BUDGET = 0.200

SETUP = f"""
import importlib.util, sys, numpy as np
sys.path.insert(0, {str(HERE)!r})
_spec = importlib.util.spec_from_file_location("_bench_notebook", {str(HERE / "notebook.py")!r})
_mod = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_mod)
globals().update(_mod.workload(np.random.default_rng(0)))
_names = [n for n in list(globals()) if n.startswith(("arr", "vec", "param"))]
del sys.path[0]
"""

CHANGE = """
for _n in [_names[({c} * 3 + _j) % len(_names)] for _j in range(3)]:
    _v = globals()[_n]
    globals()[_n] = _v + 1 if isinstance(_v, np.ndarray) else float(_v) + 1
"""


def write_notebook(path: Path) -> None:
    """The benchmark's notebook: 30 small code cells, as in benchmarks/notebook.py."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(f"x{i} = {i}", id=f"c{i}") for i in range(30)]
    nbformat.write(nb, path)


def pct(values: list[float], q: int) -> float:
    """The q-th percentile (q in 1..99)."""
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]


def main() -> int:
    """Run the benchmark; exit 1 when the p50 is over budget."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--commits", type=int, default=30)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="mlvc-rest-bench-") as tmp:
        root, home = Path(tmp) / "root", Path(tmp) / "home"
        root.mkdir()
        home.mkdir()
        write_notebook(root / "train.ipynb")
        with LiveServer(root, home) as server:
            client = server.start_kernel("train.ipynb")
            run_cell(client, SETUP)
            query = {"path": "train.ipynb"}
            for i in range(2):  # warm-up: store creation, first imports in the kernel
                status, body = server.request(
                    "POST", "mlvc/commits", {"message": f"warm-up {i}"}, query
                )
                assert status == 201 and body["kernel"] == "used", body
            totals, commits, logs, in_kernel = [], [], [], []
            n_vars = 0
            for c in range(args.commits):
                run_cell(client, CHANGE.format(c=c))
                t0 = time.perf_counter()
                status, made = server.request(
                    "POST",
                    "mlvc/commits",
                    {"message": f"c{c}", "metrics": {"acc": c / 100}},
                    query,
                )
                t1 = time.perf_counter()
                _, log = server.request("GET", "mlvc/log", None, {**query, "limit": 50})
                t2 = time.perf_counter()
                assert status == 201, made
                assert log["commits"][0]["id"] == made["commit"]["id"], "commit not in the log"
                n_vars = len(made["commit"]["variables"])
                totals.append(t2 - t0)
                commits.append(t1 - t0)
                logs.append(t2 - t1)
                _, rec = server.request("GET", f"mlvc/commits/{made['commit']['id']}", None, query)
                in_kernel.append(rec["timings"]["total"])
            client.stop_channels()

    def ms(values: list[float]) -> str:
        return (
            f"p50 {statistics.median(values) * 1000:7.1f} ms  p90 {pct(values, 90) * 1000:7.1f} ms"
        )

    p50 = statistics.median(totals)
    print(
        f"REST click-to-commit: {n_vars} variables (~1 MiB), 3 changed per commit, "
        f"{args.commits} commits, kernel via jupyter server on 127.0.0.1"
    )
    print(f"  POST /mlvc/commits        {ms(commits)}")
    print(f"  GET /mlvc/log (limit 50)  {ms(logs)}")
    print(f"  service.commit in kernel  {ms(in_kernel)}")
    print(
        f"  click -> in the graph     {ms(totals)}  budget p50 <= {BUDGET * 1000:.0f} ms  "
        f"{'OK' if p50 <= BUDGET else 'OVER'}"
    )
    return 0 if p50 <= BUDGET else 1


if __name__ == "__main__":
    sys.exit(main())
