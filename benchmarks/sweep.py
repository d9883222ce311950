"""Sweep workload: ``mlvc sweep`` of a small notebook, one run at a time (budget: <= 10%
overhead per run). The floor is executing the same notebook, as many times, with nbclient
alone (a fresh kernel each time, nothing committed).

    python benchmarks/sweep.py [--runs 4] [--seconds 2]

``--seconds`` is how long the notebook computes: the overhead of a sweep run is fixed
(a process, the parameters cell, the commit), so it is a smaller share of longer runs.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def notebook(path: Path, seconds: float) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    params = nbformat.v4.new_code_cell("x = 0", id="p")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [
        params,
        nbformat.v4.new_code_cell(
            "import time\n"
            "import numpy as np\n"
            f"t = time.perf_counter()\n"
            f"while time.perf_counter() - t < {seconds}:\n"
            "    w = np.random.default_rng(x).normal(size=(200, 200)) @ np.eye(200)\n"
            "score = float(w.mean())",
            id="c",
        ),
        nbformat.v4.new_code_cell(
            "import mlvc_server as mlvc\nmlvc.log_metrics(score=score)", id="m"
        ),
    ]
    nbformat.write(nb, path)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=2.0)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(dir=Path.cwd()) as tmp:
        root = Path(tmp)
        nb_path = root / "train.ipynb"
        notebook(nb_path, args.seconds)
        env = {**os.environ, "MLVC_CONFIG_DIR": str(root / "config")}
        t = time.perf_counter()
        for _ in range(args.runs):
            nb = nbformat.read(nb_path, as_version=4)
            NotebookClient(
                nb, kernel_name="python3", resources={"metadata": {"path": tmp}}
            ).execute()
        floor = (time.perf_counter() - t) / args.runs
        values = ",".join(str(i) for i in range(args.runs))
        t = time.perf_counter()
        p = subprocess.run(
            [sys.executable, "-m", "mlvc_server.cli", "-C", tmp, "init"], env=env, check=True
        )
        p = subprocess.run(
            [
                sys.executable,
                "-m",
                "mlvc_server.cli",
                "-C",
                tmp,
                "sweep",
                str(nb_path),
                "-p",
                f"x={values}",
                "--jobs",
                "1",
                "--name",
                "bench",
            ],
            env=env,
            capture_output=True,
            text=True,
        )
        sweep = (time.perf_counter() - t) / args.runs
        if p.returncode != 0:
            print(p.stdout, p.stderr)
            return 1
    print(f"{args.runs} runs of a notebook computing {args.seconds:.1f} s")
    print(f"nbclient alone (floor): {floor:6.2f} s per run")
    print(
        f"mlvc sweep --jobs 1:    {sweep:6.2f} s per run  "
        f"({(sweep / floor - 1) * 100:+.0f}% over the floor; budget +10%)"
    )
    return 0 if sweep <= floor * 1.10 else 1


if __name__ == "__main__":
    sys.exit(main())
