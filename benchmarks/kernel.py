"""The kernel side: ``%mlvc commit`` of the notebook workload in a real kernel, autocommit,
loading the extension, and the lineage audit hook.

- commit: 20 small variables (~1 MiB, see notebook.py), 3 changed per commit, committed
  with ``%mlvc commit`` in a real ipykernel; timed inside the kernel around the magic
  (budget p50 <= 20 ms), beside ``mlvc.commit`` called directly in the same kernel.
- autocommit: what the post-cell hook adds to a cell that changed 3 variables, and to
  a cell that changed nothing (budget: 5% of the cell or 50 ms for small state).
- load_ext: time and modules imported by ``%load_ext mlvc_server`` in a fresh kernel.
- audit hook: 100k ``open()`` of a standard-library file without and with the hook.

    python benchmarks/kernel.py [--commits 50]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).parent))
from _common import Kernel

SETUP = """
import sys, time, statistics
sys.path.insert(0, {bench!r})
import numpy as np
from notebook import workload
_v = workload(np.random.default_rng(0))
globals().update(_v)
_names = [n for n in _v if n.startswith(("arr", "vec", "param"))]

def _change(c):
    for n in [_names[(c * 3 + j) % len(_names)] for j in range(3)]:
        v = globals()[n]
        globals()[n] = v + 1 if isinstance(v, np.ndarray) else float(v) + 1
"""

COMMITS = """
import mlvc_server as _mlvc
_t_magic, _t_direct = [], []
for _c in range({n}):  # alternately, so that both see the same store and machine
    _change(2 * _c)
    _t = time.perf_counter()
    get_ipython().run_line_magic("mlvc", f"commit -m c{{_c}} --metric acc={{_c / 100}}")
    _t_magic.append(time.perf_counter() - _t)
    _change(2 * _c + 1)
    _vars = {{k: globals()[k] for k in _v}}
    _t = time.perf_counter()
    _mlvc.commit(f"d{{_c}}", variables=_vars, notebook="train.ipynb", metrics={{"acc": _c}})
    _t_direct.append(time.perf_counter() - _t)
"""

HOOK = """
import os, sys, sysconfig, time
path = os.path.join(sysconfig.get_paths()["stdlib"], "os.py")
if sys.argv[1] == "on":
    from mlvc_server.kernel.lineage import lineage
    lineage.install(os.getcwd())
def run(n=100_000):
    t = time.perf_counter()
    for _ in range(n):
        open(path, "rb").close()
    return (time.perf_counter() - t) / n
run(5000)
print(min(run() for _ in range(5)))
"""


def _open_cost(root: Path, hook: bool) -> float:
    """Seconds per ``open()`` of a stdlib file, in a fresh process, with or without hook."""
    out = subprocess.run(
        [sys.executable, "-c", HOOK, "on" if hook else "off"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return float(out)


def _pcts(xs: list[float]) -> tuple[float, float]:
    return statistics.median(xs), statistics.quantiles(xs, n=10)[-1]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--commits", type=int, default=50)
    args = ap.parse_args()
    n = args.commits
    bench = str(Path(__file__).resolve().parent)
    with tempfile.TemporaryDirectory(dir=Path.cwd()) as tmp:
        root = Path(tmp)
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell(f"x{i} = {i}", id=f"c{i}") for i in range(30)]
        nbformat.write(nb, root / "train.ipynb")
        k = Kernel(root)
        try:
            k.run(
                "import sys, time\n_s = set(sys.modules); _t = time.perf_counter()\n"
                "get_ipython().run_line_magic('load_ext', 'mlvc_server')\n"
                "_load = [time.perf_counter() - _t, len(set(sys.modules) - _s)]"
            )
            load = k.value("_load")
            k.run(SETUP.format(bench=bench))
            k.run("%mlvc commit -m warm-up")  # the first commit imports the store
            k.run(COMMITS.format(n=n))
            magic, direct = k.value("_t_magic"), k.value("_t_direct")
            # autocommit: cells that change 3 variables, then cells that change nothing
            k.run("%mlvc autocommit on")
            k.run("import mlvc_server.kernel as _mk")
            # (a value is printed by its cell before that cell's own autocommit runs)
            seconds = "_mk._magics.session.autocommit_seconds"
            auto_changed, auto_same = [], []
            for c in range(min(n, 30)):
                k.run(f"_change({3000 + c})")
                auto_changed.append(k.value(seconds))
            for _ in range(min(n, 30)):
                k.run("_ = 1 + 1")
                auto_same.append(k.value(seconds))
        finally:
            k.close()
        # alternate processes without and with the hook; the best of each (noise only adds)
        pairs = [(_open_cost(root, False), _open_cost(root, True)) for _ in range(3)]
    before, after = min(p[0] for p in pairs), min(p[1] for p in pairs)
    p50, p90 = _pcts(magic)
    d50, d90 = _pcts(direct)
    a50, a90 = _pcts(auto_changed)
    s50, s90 = _pcts(auto_same)
    print(f"load_ext: {load[0] * 1000:.1f} ms, {load[1]} modules imported")
    print(
        f"audit hook: 100k open() of a stdlib file, {before * 1e6:.2f} us -> {after * 1e6:.2f} us "
        f"(+{(after - before) * 1e9:.0f} ns, {after / before - 1:+.1%})"
    )
    print(f"notebook workload: 20 variables, ~1 MiB, 3 changed per commit, {n} commits")
    ok = p50 <= 0.020
    print(
        f"%mlvc commit in the kernel: p50 {p50 * 1000:6.2f} ms  p90 {p90 * 1000:6.2f} ms  "
        f"budget p50 <= 20 ms  {'OK' if ok else 'OVER'}"
    )
    print(f"mlvc.commit in the kernel:   p50 {d50 * 1000:6.2f} ms  p90 {d90 * 1000:6.2f} ms")
    print(
        f"autocommit after a cell that changed 3 variables: p50 {a50 * 1000:6.2f} ms  "
        f"p90 {a90 * 1000:6.2f} ms (budget 50 ms for small state)"
    )
    print(
        f"autocommit after a cell that changed nothing:    p50 {s50 * 1000:6.2f} ms  "
        f"p90 {s90 * 1000:6.2f} ms"
    )
    return 0 if ok and a50 <= 0.050 else 1


if __name__ == "__main__":
    sys.exit(main())
