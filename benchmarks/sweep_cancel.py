"""How fast ``mlvc sweep`` stops when cancelled (budget: <= 5 s from SIGTERM to exit,
the running kernels shut down and the summary printed).

    python benchmarks/sweep_cancel.py [--tries 3] [--jobs 2]

Each try starts ``mlvc sweep --jobs J`` of a notebook whose runs hang (a cell that
sleeps for a minute), waits until all J runs are inside that cell, sends SIGTERM and
times the process until it exits (it must exit 143 with every run ``cancelled``). The
floor is the same process killed with SIGKILL (no clean-up: the kernels are left to
notice their parent died), so the ratio says what the clean stop costs.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat


def notebook(path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    params = nbformat.v4.new_code_cell("x = 0", id="p")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [
        params,
        nbformat.v4.new_code_cell(
            "import time\nopen(f'started-{x}', 'w').close()\ntime.sleep(60)", id="c"
        ),
    ]
    nbformat.write(nb, path)


def one(root: Path, jobs: int, sig: signal.Signals, name: str) -> float:
    for f in root.glob("started-*"):
        f.unlink()
    values = ",".join(str(i) for i in range(jobs))
    cmd = [sys.executable, "-m", "mlvc_server.cli", "sweep", "train.ipynb"]
    cmd += ["-p", f"x={values}", "--jobs", str(jobs), "--name", name]
    proc = subprocess.Popen(cmd, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while len(list(root.glob("started-*"))) < jobs:
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            raise SystemExit("the runs never started")
        time.sleep(0.05)
    t = time.perf_counter()
    proc.send_signal(sig)
    out, _ = proc.communicate(timeout=120)
    took = time.perf_counter() - t
    if sig == signal.SIGTERM:
        text = out.decode()
        if proc.returncode != 143 or f"{jobs} runs: {jobs} cancelled" not in text:
            raise SystemExit(f"not a clean cancel (exit {proc.returncode}):\n{text}")
    return took


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tries", type=int, default=3)
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(dir=Path.cwd()) as tmp:
        root = Path(tmp)
        os.environ.setdefault("MLVC_CONFIG_DIR", str(root / ".config"))
        notebook(root / "train.ipynb")
        clean = [one(root, args.jobs, signal.SIGTERM, f"c{i}") for i in range(args.tries)]
        floor = [one(root, args.jobs, signal.SIGKILL, f"k{i}") for i in range(args.tries)]
    c, k = statistics.median(clean), statistics.median(floor)
    print(f"SIGTERM to exit, {args.jobs} runs under way: median {c:.2f} s ({clean})")
    print(f"SIGKILL to exit (floor): median {k:.3f} s")
    print(f"clean stop: {c:.2f} s against the 5 s budget ({'within' if c <= 5 else 'OVER'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
