"""Model registry workload: register N versions of one model, then resolve, read the
history, promote, and four processes registering at once.

Floors: a register or promote writes two small blobs, a tree and a commit and moves one
ref by compare-and-swap, as ``mlvc tag`` moves one ref; the floor of a registry write is
a tag (the ref move without the model's state). The state (``model.json``) holds every
version, so a write costs more as versions accumulate: the report gives the cost at the
start and at N versions. ``history`` reads each event's small ``event.json``; its floor
is ``git log`` walking the same commits.

    python benchmarks/registry.py [--versions 400] [--processes 4]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _common import dir_bytes, report

import mlvc_server as mlvc

WORKER = textwrap.dedent(
    """
    import sys, time
    import mlvc_server as mlvc
    repo, rev, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    sys.stdin.readline()
    t = time.perf_counter()
    for _ in range(n):
        mlvc.register("busy", rev, "w", repo=repo)
    print(time.perf_counter() - t)
    """
)


def timed(fn: object, *args: object, **kw: object) -> float:
    t = time.perf_counter()
    fn(*args, **kw)  # type: ignore[operator]
    return time.perf_counter() - t


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--versions", type=int, default=400)
    ap.add_argument("--processes", type=int, default=4)
    ap.add_argument("--per-process", type=int, default=25)
    args = ap.parse_args()
    ok = True
    with tempfile.TemporaryDirectory(prefix="mlvc-registry-") as tmp:
        root = Path(tmp) / "p"
        os.environ.setdefault("MLVC_CONFIG_DIR", str(Path(tmp) / "config"))
        mlvc.init(root)
        cid = mlvc.commit(
            "x", {"w": np.arange(3)}, repo=root, metrics={"auc": 0.9}, params={"C": 1}
        )
        tags = [timed(mlvc.tag, f"t{i}", cid, repo=root) for i in range(30)]
        floor = statistics.median(tags)
        times = [timed(mlvc.register, "churn", cid, "w", repo=root) for _ in range(args.versions)]
        first, last = statistics.median(times[:20]), statistics.median(times[-20:])
        ok &= report("register (first 20 versions)", first, floor, 20)
        ok &= report(f"register (at {args.versions} versions)", last, floor, 60)
        resolve = statistics.median(
            timed(mlvc.resolve, "churn@latest", repo=root) for _ in range(20)
        )
        ok &= report(f"resolve (at {args.versions} versions)", resolve, floor, 20)
        promote = timed(mlvc.promote, "churn", args.versions, "production", reason="b", repo=root)
        ok &= report(f"promote (at {args.versions} versions)", promote, floor, 60)
        t = time.perf_counter()
        subprocess.run(
            [
                "git",
                "--git-dir",
                str(root / ".mlvc"),
                "log",
                "--first-parent",
                "--format=%H %s",
                "refs/mlvc/registry/churn",
            ],
            check=True,
            capture_output=True,
        )
        git_log = time.perf_counter() - t
        hist = timed(mlvc.model_history, "churn", repo=root)
        ok &= report(f"history ({args.versions + 1} events) vs git log", hist, git_log, 40)
        size = dir_bytes(root / ".mlvc" / "objects") / 1e6
        print(f"store objects after {args.versions} versions: {size:.1f} MB")

        env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", WORKER, str(root), cid, str(args.per_process)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                env=env,
            )
            for _ in range(args.processes)
        ]
        t = time.perf_counter()
        for p in procs:
            assert p.stdin is not None
            p.stdin.write("go\n")
            p.stdin.flush()
        for p in procs:
            p.communicate(timeout=600)
            assert p.returncode == 0
        wall = time.perf_counter() - t
        n = args.processes * args.per_process
        versions = [v["version"] for v in mlvc.model("busy", repo=root)["versions"]]
        assert sorted(versions) == list(range(1, n + 1)), "a lost or doubled version"
        print(
            f"{args.processes} processes x {args.per_process} registers: {n} distinct versions, "
            f"{n / wall:.0f} registers/s ({wall:.2f} s wall)"
        )
    print("OK" if ok else "OVER BUDGET")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
