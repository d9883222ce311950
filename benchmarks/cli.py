"""Everyday commands in a terminal: `mlvc log -n 20` and `mlvc status` as whole processes
(Python's start included; run as the ``mlvc`` console script runs), against the start of
a bare interpreter (`python -c pass`) and `git log -n 20` on the same store.

Budgets (issue 21): each <= 60 ms wall (median) and <= 5x the bare interpreter's start.
Also printed: which heavy libraries the command imported (none of dulwich.repo, numpy,
lark, nbformat should load for these two).

    python benchmarks/cli.py [--runs 15] [--commits 50]

The package's bytecode is compiled first (as an installed wheel's is), so that the
numbers do not include compiling the sources.
"""

from __future__ import annotations

import argparse
import compileall
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HEAVY = ("dulwich.repo", "dulwich.pack", "numpy", "lark", "nbformat", "pandas", "torch")


def wall(cmd: list[str], cwd: Path, env: dict[str, str], runs: int) -> float:
    """Median wall seconds of running ``cmd`` ``runs`` times (after one warm-up)."""
    subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, check=True)
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, check=True)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def imported(args: list[str], cwd: Path, env: dict[str, str]) -> list[str]:
    """The heavy modules that ``python -m mlvc_server.cli ARGS`` imports."""
    code = (
        "import sys, runpy; sys.argv = ['mlvc', *sys.argv[1:]]\n"
        "try:\n    runpy.run_module('mlvc_server.cli', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)"
    )
    p = subprocess.run(
        [sys.executable, "-c", code, *args], cwd=cwd, env=env, capture_output=True, text=True
    )
    lines = p.stderr.splitlines()
    return [m for m in lines[-1].split(",") if m] if lines else []


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--commits", type=int, default=50)
    args = ap.parse_args()
    import mlvc_server

    package = Path(mlvc_server.__file__).parent
    compileall.compile_dir(str(package), quiet=1)
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(package.parent), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    with tempfile.TemporaryDirectory(dir=Path.cwd()) as tmp:
        root = Path(tmp)
        subprocess.run(
            [
                sys.executable,
                "-c",
                "import nbformat, mlvc_server as mlvc\n"
                "nb = nbformat.v4.new_notebook()\n"
                "nb.cells = [nbformat.v4.new_code_cell('x = 1')]\n"
                "nbformat.write(nb, 'train.ipynb')\n"
                f"for i in range({args.commits}):\n"
                "    mlvc.commit(f'c{i}', variables={'x': i, 'lr': 0.1}, notebook='train.ipynb',\n"
                "                metrics={'acc': i / 100}, params={'lr': 0.1})\n",
            ],
            cwd=root,
            env=env,
            check=True,
        )
        bare = wall([sys.executable, "-c", "pass"], root, env, args.runs)
        print(
            f"store: {args.commits} commits; median of {args.runs} runs; "
            f"`python -c pass` {bare * 1000:.1f} ms"
        )
        ok = True
        git = shutil.which("git")
        if git:
            g = wall([git, "--git-dir", ".mlvc", "log", "-n", "20", "--all"], root, env, args.runs)
            print(f"git log -n 20        {g * 1000:6.1f} ms")
        # what the `mlvc` console script that pip writes runs
        script = "import sys\nfrom mlvc_server.cli import main\nsys.exit(main())"
        for cmd in (["log", "-n", "20"], ["status"]):
            t = wall([sys.executable, "-c", script, *cmd], root, env, args.runs)
            heavy = imported(cmd, root, env)
            good = t <= 0.060 and t <= 5 * bare
            ok = ok and good
            print(
                f"mlvc {' '.join(cmd):15s} {t * 1000:6.1f} ms  {t / bare:4.1f}x python's start  "
                f"budget <= 60 ms and <= 5x: {'OK' if good else 'OVER'}  "
                f"heavy imports: {', '.join(heavy) or 'none'}"
            )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
