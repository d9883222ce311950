"""Per-cell autocommit cost in a real kernel, side by side with Kishu (issue 13).

A 10-cell numpy/pandas/scikit-learn/torch notebook runs in fresh ipykernels, cell by
cell, in three modes, each ``--rounds`` times (the modes interleaved, so that every mode
meets the same machine):

- floor: no checkpointing at all;
- mlvc: ``%load_ext mlvc_server`` and ``%mlvc autocommit on``;
- kishu: ``from kishu import init_kishu; init_kishu(<notebook>)`` (Kishu's per-cell
  checkpoint), when Kishu can be imported.

A cell's overhead is its wall time (execute request to reply, hooks included) minus the
floor's median for the same cell. The libraries are imported in every kernel before
checkpointing starts, so that neither tool's own imports make a cell look cheaper.
Printed per mode: median, p90 and worst cell, and mlvc's median against Kishu's (budget:
mlvc's median <= 1/4 of Kishu's).

    python benchmarks/autocommit_kishu.py [--rounds 3] [--rows 200000] [--kishu-path DIR]

Kishu is not a dependency of mlvc. Install it where this script can put it on the
kernels' path without touching the project's environment, e.g.
``pip install --no-deps --target /tmp/kishu kishu dataclasses-json dill ipylab
jupyter-ui-poll loguru marshmallow shellingham shortuuid typer typing-inspect`` and pass
``--kishu-path /tmp/kishu`` (its own ``typing``/``dataclasses`` backports must not be on
the path: they would shadow the standard library).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import nbformat
from jupyter_client.manager import start_new_kernel

CELLS = [
    "import numpy as np\nimport pandas as pd\nimport torch\n"
    "from sklearn.linear_model import LogisticRegression",
    "rng = np.random.default_rng(0)\nX = rng.normal(size=({rows}, 20))\n"
    "y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int)",
    "df = pd.DataFrame(X, columns=[f'f{{i}}' for i in range(20)])\ndf['y'] = y",
    "df['f0_x2'] = df['f0'] * 2\nstats = df.describe()",
    "clf = LogisticRegression(max_iter=200).fit(X[:20000], y[:20000])",
    "acc = float(clf.score(X[:20000], y[:20000]))\nC = 0.5",
    "torch.manual_seed(0)\nmodel = torch.nn.Sequential(torch.nn.Linear(20, 64), "
    "torch.nn.ReLU(), torch.nn.Linear(64, 2))\n"
    "opt = torch.optim.SGD(model.parameters(), lr=0.1)",
    "Xt = torch.tensor(X[:20000], dtype=torch.float32)\nyt = torch.tensor(y[:20000])\n"
    "for _ in range(20):\n    opt.zero_grad()\n"
    "    loss = torch.nn.functional.cross_entropy(model(Xt), yt)\n"
    "    loss.backward()\n    opt.step()\nfinal_loss = float(loss)",
    "with torch.no_grad():\n    preds = model(Xt).argmax(1).numpy()\n"
    "torch_acc = float((preds == y[:20000]).mean())",
    "summary = {{'acc': acc, 'torch_acc': torch_acc, 'rows': len(df)}}",
]


PRELUDE = "import numpy, pandas, torch, sklearn.linear_model"


class Kernel:
    def __init__(self, cwd: Path, extra_path: str | None) -> None:
        env = dict(os.environ, MLVC_SAVE_TIMEOUT="0", MLVC_CONFIG_DIR=str(cwd / ".config"))
        env["JPY_SESSION_NAME"] = str(cwd / "nb.ipynb")
        if extra_path:
            # Kishu finds its notebook through a Jupyter server, or this variable (its
            # test mode: a fixed kernel id, the notebook path given; nothing else changes)
            env["TEST_NOTEBOOK_PATH"] = str(cwd / "nb.ipynb")
            env["PYTHONPATH"] = os.pathsep.join(
                [*filter(None, [env.get("PYTHONPATH")]), extra_path]
            )
        self.km, self.kc = start_new_kernel(kernel_name="python3", cwd=str(cwd), env=env)

    def run(self, code: str, *, check: bool = True) -> float:
        """Wall seconds from the request to the reply (the post-cell hooks included)."""
        errors: list[str] = []

        def hook(msg: dict[str, Any]) -> None:
            if msg["msg_type"] == "error":
                errors.append("\n".join(msg["content"]["traceback"]))

        t = time.perf_counter()
        self.kc.execute_interactive(code, output_hook=hook, timeout=600)
        took = time.perf_counter() - t
        if errors and check:
            raise RuntimeError(errors[0])
        return took

    def close(self) -> None:
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=True)


def one_round(mode: str, root: Path, rows: int, kishu_path: str | None) -> list[float]:
    """The wall time of each cell of the notebook, in a fresh kernel and folder."""
    work = Path(tempfile.mkdtemp(dir=root, prefix=f"{mode}-"))
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c.format(rows=rows)) for c in CELLS]
    nbformat.write(nb, work / "nb.ipynb")
    k = Kernel(work, kishu_path if mode == "kishu" else None)
    try:
        # the libraries are imported before checkpointing starts, in every mode: what
        # mlvc or Kishu import themselves must not show as a cheaper first cell
        k.run(PRELUDE)
        if mode == "mlvc":
            k.run("%load_ext mlvc_server")
            k.run("%mlvc autocommit on")
        elif mode == "kishu":
            # the cell that installs Kishu's hooks ends with its post-cell hook complaining
            # that it saw no pre-cell (Kishu 0.3.4): harmless, the next cells are tracked
            k.run(
                f"from kishu import init_kishu\ninit_kishu({str(work / 'nb.ipynb')!r})",
                check=False,
            )
        return [k.run(c.format(rows=rows)) for c in CELLS]
    finally:
        k.close()


def stats(xs: list[float]) -> tuple[float, float, float]:
    return statistics.median(xs), statistics.quantiles(xs, n=10)[-1], max(xs)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--kishu-path", help="a folder holding Kishu (see the docstring)")
    args = ap.parse_args()
    modes = ["floor", "mlvc"]
    kishu_error = None
    probe = f"import sys; sys.path.append({args.kishu_path!r}) if {bool(args.kishu_path)} else 0"
    try:
        exec(probe + "\nimport kishu", {})
        modes.append("kishu")
    except Exception as e:  # not installed, or it fails to import
        kishu_error = f"{type(e).__name__}: {e}"
    with tempfile.TemporaryDirectory(dir=Path.cwd()) as tmp:
        root = Path(tmp)
        walls: dict[str, list[list[float]]] = {m: [] for m in modes}
        for _ in range(args.rounds):
            for mode in list(modes):
                try:
                    walls[mode].append(one_round(mode, root, args.rows, args.kishu_path))
                except Exception as e:  # Kishu failing in the kernel: reported, not fatal
                    if mode != "kishu":
                        raise
                    kishu_error = f"{type(e).__name__}: {str(e).splitlines()[-1][:200]}"
                    modes.remove("kishu")
    floor = [statistics.median(r[i] for r in walls["floor"]) for i in range(len(CELLS))]
    print(
        f"10-cell numpy/pandas/sklearn/torch notebook, DataFrame {args.rows} x 21; "
        f"{args.rounds} rounds per mode in fresh kernels; per-cell overhead = wall - floor"
    )
    print(f"floor: cells take {sum(floor) * 1000:.0f} ms in all (median per cell)")
    medians: dict[str, float] = {}
    for mode in modes[1:]:
        per_cell = [
            statistics.median(r[i] for r in walls[mode]) - floor[i] for i in range(len(CELLS))
        ]
        m, p90, worst = stats(per_cell)
        medians[mode] = m
        worst_cell = per_cell.index(worst) + 1
        print(
            f"{mode:6s} overhead per cell: median {m * 1000:7.1f} ms  p90 {p90 * 1000:7.1f} ms  "
            f"worst {worst * 1000:7.1f} ms (cell {worst_cell})"
        )
        print("       per cell (ms): " + " ".join(f"{x * 1000:.0f}" for x in per_cell))
    if "kishu" in medians:
        ratio = medians["mlvc"] / medians["kishu"] if medians["kishu"] > 0 else float("inf")
        ok = ratio <= 0.25
        print(
            f"mlvc / kishu median per-cell overhead: {ratio:.2f}  "
            f"budget <= 0.25: {'OK' if ok else 'OVER'}"
        )
        return 0 if ok else 1
    print(f"Kishu could not run: {kishu_error}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
