"""Make the commits of a sweep for the Compare charts UI test.

    python make_sweep.py ROOT NOTEBOOK COUNT [BRANCHES]

COUNT runs with params ``lr`` and ``layers`` and metrics ``acc`` and ``loss``, as
``mlvc sweep`` would commit them (faster: no kernel), spread over BRANCHES branches
``sweep/grid-K`` (default: one branch per run, ``sweep/grid/lr=...+layers=...``).
Up to :data:`MOST_WITH_STEPS` runs also log ``acc`` and ``loss`` at each of
:data:`EPOCHS` steps (the Compare view's chart across steps).
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import mlvc_server as mlvc

#: Sweeps of at most this many runs log their metrics step by step.
MOST_WITH_STEPS = 100
#: The steps each run logs.
EPOCHS = 8


def main() -> None:
    root, notebook, count = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    groups = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    nb = root / notebook
    mlvc.init(root)
    mlvc.commit("baseline", notebook=nb, repo=root, sources=False)
    t = time.perf_counter()
    for i in range(count):
        lr = round(10 ** (-1 - 3 * ((i * 7) % count) / count), 6)
        layers = 1 + i % 4
        acc = 0.6 + 0.3 * math.exp(-((math.log10(lr) + 2.5) ** 2)) + 0.02 * layers
        if count <= MOST_WITH_STEPS:
            for epoch in range(EPOCHS):
                reached = acc * (1 - 0.5 * math.exp(-epoch / (1.5 + layers / 2)))
                mlvc.log_metrics(step=epoch, acc=round(reached, 4), loss=round(1.2 - reached, 4))
        branch = f"sweep/grid-{i % groups}" if groups else f"sweep/grid/lr={lr}+layers={layers}"
        mlvc.commit(
            f"sweep grid: lr={lr} layers={layers}",
            notebook=nb,
            repo=root,
            branch=branch,
            params={"lr": lr, "layers": layers},
            metrics={"acc": round(acc, 4), "loss": round(1.2 - acc, 4)},
            sources=False,
        )
    print(f"{count} runs in {time.perf_counter() - t:.1f} s")


if __name__ == "__main__":
    main()
