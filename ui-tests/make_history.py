"""Make a long history for a notebook, for the 1,000-commit UI test.

    python make_history.py ROOT NOTEBOOK COUNT

Commits on ``main``; every 100th commit also starts a branch ``sweep-K`` with three
commits of its own (so the graph has lanes), then goes back to ``main``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import mlvc_server as mlvc
from mlvc_server import service


def main() -> None:
    root, notebook, count = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    nb = root / notebook
    mlvc.init(root)
    t = time.perf_counter()
    made = 0
    for i in range(count):
        if made >= count:
            break
        mlvc.commit(
            f"step {i}: lr {0.001 * (i % 10 + 1):.3f}",
            variables={"lr": 0.001 * (i % 10 + 1), "epoch": i},
            notebook=nb,
            repo=root,
            params={"lr": 0.001 * (i % 10 + 1)},
            metrics={"acc": 0.5 + 0.4 * i / count, "loss": 1 - 0.8 * i / count},
            sources=False,
        )
        made += 1
        if i % 100 == 50 and made + 3 <= count:
            k = i // 100
            mlvc.branch(f"sweep-{k}", notebook=nb, repo=root)
            for j in range(3):
                mlvc.commit(
                    f"sweep {k}.{j}",
                    variables={"lr": 0.1 * (j + 1)},
                    notebook=nb,
                    repo=root,
                    params={"lr": 0.1 * (j + 1)},
                    metrics={"acc": 0.6 + 0.01 * j},
                    sources=False,
                )
                made += 1
            service.switch_branch("main", notebook=nb, repo=root)
    print(f"{made} commits in {time.perf_counter() - t:.1f} s")


if __name__ == "__main__":
    main()
