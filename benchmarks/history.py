"""History workload: `log` of 1,000 commits (budget <= 100 ms) and a diff of two commits
without the cell diff (budget <= 100 ms). The floor is reading the same commit objects
with dulwich alone (what any git-based log must do).

    python benchmarks/history.py [--commits 1000]
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
from dulwich.repo import Repo

import mlvc_server as mlvc
from mlvc_server import service


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--commits", type=int, default=1000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(dir=Path.cwd()) as tmp:
        root = Path(tmp)
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell(f"x{i} = {i}", id=f"c{i}") for i in range(20)]
        nbformat.write(nb, root / "train.ipynb")
        mlvc.init(root)
        rng = np.random.default_rng(0)
        w = rng.normal(size=1000)
        t = time.perf_counter()
        for i in range(args.commits):
            w[i % 1000] += 1
            if i == args.commits // 2:
                mlvc.branch("exp", notebook=root / "train.ipynb", repo=root)
            mlvc.commit(
                f"commit {i}",
                variables={"w": w, "lr": 0.1 + i},
                notebook=root / "train.ipynb",
                repo=root,
                params={"lr": 0.1 + i},
                metrics={"acc": i / args.commits},
                sources=False,
            )
        build = time.perf_counter() - t
        # log from the server's point of view: a process that has not seen the store yet
        service.workspace().reset()
        t = time.perf_counter()
        commits = mlvc.log(repo=root, notebook=root / "train.ipynb")
        log_cold = time.perf_counter() - t
        times = []
        for _ in range(5):
            t = time.perf_counter()
            commits = mlvc.log(repo=root, notebook=root / "train.ipynb")
            times.append(time.perf_counter() - t)
        log_warm = statistics.median(times)
        assert len(commits) == args.commits, len(commits)
        with Repo(str(root / ".mlvc")) as r:
            t = time.perf_counter()
            heads = [r.refs[n] for n in r.refs.as_dict() if n.startswith(b"refs/heads/")]
            n = sum(1 for _ in r.get_walker(include=heads))
            floor = time.perf_counter() - t
        assert n == args.commits
        a, b = commits[-1]["id"], commits[0]["id"]
        t = time.perf_counter()
        mlvc.diff(a, b, repo=root, cells=False)
        diff_t = time.perf_counter() - t
        t = time.perf_counter()
        mlvc.diff(a, b, repo=root, cells=True)
        diff_cells = time.perf_counter() - t
    print(
        f"history workload: {args.commits} commits (built in {build:.1f} s, "
        f"{build / args.commits * 1000:.1f} ms each)"
    )
    ok = True
    for name, value in (("log, first call in a process", log_cold), ("log, warm", log_warm)):
        good = value <= 0.100
        ok &= good
        print(
            f"{name:<34} {value * 1000:8.1f} ms  floor (dulwich walk) {floor * 1000:7.1f} ms  "
            f"ratio {value / floor:4.1f}x  budget <= 100 ms  {'OK' if good else 'OVER'}"
        )
    good = diff_t <= 0.100
    ok &= good
    print(
        f"{'diff without cell diff':<34} {diff_t * 1000:8.1f} ms  budget <= 100 ms  "
        f"{'OK' if good else 'OVER'}   (with nbdime cell diff: {diff_cells * 1000:.1f} ms)"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
