"""Sweep workload: ``mlvc sweep`` of a small notebook, one run at a time (budget: <= 10%
overhead per run). The floor is executing the same notebook, as many times, with nbclient
alone (a fresh kernel each time, nothing committed), measured before and after the sweep
(the mean of both: the machine's load drifts).

    python benchmarks/sweep.py [--runs 4] [--seconds 2]

Two figures: **per run**, the time from a run's start to its commit (the ``seconds`` of
each run in ``mlvc sweep --json``: parameters injected, setup, cells, commit), against
nbclient's time per run (kernel start, cells, shutdown); and **per run, whole command**,
the sweep command's wall time (the process start-up, planning and the summary table
included) divided by the runs. ``--seconds`` is how long the notebook computes.
"""

from __future__ import annotations

import argparse
import json
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

        def floor_once() -> float:
            t = time.perf_counter()
            for _ in range(args.runs):
                nb = nbformat.read(nb_path, as_version=4)
                NotebookClient(
                    nb, kernel_name="python3", resources={"metadata": {"path": tmp}}
                ).execute()
            return (time.perf_counter() - t) / args.runs

        before = floor_once()
        values = ",".join(str(i) for i in range(args.runs))
        subprocess.run(
            [sys.executable, "-m", "mlvc_server.cli", "-C", tmp, "init"],
            env=env,
            check=True,
            capture_output=True,
        )
        t = time.perf_counter()
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
                "--json",
            ],
            env=env,
            capture_output=True,
            text=True,
        )
        whole = (time.perf_counter() - t) / args.runs
        after = floor_once()
        if p.returncode != 0:
            print(p.stdout, p.stderr)
            return 1
        runs = [o["seconds"] for o in json.loads(p.stdout)]
    floor = (before + after) / 2
    per_run = sum(runs) / len(runs)
    print(f"{args.runs} runs of a notebook computing {args.seconds:.1f} s")
    print(
        f"nbclient alone (floor):      {floor:6.2f} s per run "
        f"({before:.2f} before, {after:.2f} after)"
    )
    print(
        f"mlvc sweep --jobs 1, a run:  {per_run:6.2f} s per run  "
        f"({(per_run / floor - 1) * 100:+.0f}% over the floor; budget +10%)"
    )
    print(
        f"  whole command / runs:      {whole:6.2f} s per run  "
        f"({(whole / floor - 1) * 100:+.0f}%: process start-up, plan and summary included)"
    )
    print("  each run:", ", ".join(f"{s:.2f}" for s in runs))
    return 0 if per_run <= floor * 1.10 else 1


if __name__ == "__main__":
    sys.exit(main())
