"""Query workload: ``log --where`` over 10,000 commits (budget <= 200 ms). The floor is
the same ``log`` without a query (the walk every log does); the ratio is the query's cost.

The commits are written with dulwich directly (mlvc records with params and metrics, on
10 branches) so that building 10,000 of them takes seconds, not the minutes of 10,000
``mlvc.commit`` calls; ``log`` reads them as it reads any commit.

    python benchmarks/query.py [--commits 10000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from dulwich.objects import Blob, Commit, Tree
from dulwich.repo import Repo

import mlvc_server as mlvc
from mlvc_server import service

QUERY = (
    'metrics.acc > 0.9 and params.C < 1 and branch ~ "sweep-*" and kind != "safety" '
    "and not (status = failed or tags = broken)"
)


def build(root: Path, n: int) -> None:
    mlvc.init(root)
    repo = Repo(str(root / ".mlvc"))
    store = repo.object_store
    parents: dict[str, bytes | None] = {}
    objects: list[tuple[object, None]] = []
    for i in range(n):
        branch = "main" if i % 10 == 0 else f"sweep-{i % 10}"
        rec = {
            "mlvc_record": 1,
            "message": f"run {i}",
            "author": "bench",
            "email": "bench@example.org",
            "time": "2026-01-01T00:00:00+00:00",
            "notebook": "train.ipynb",
            "branch": branch,
            "status": "ok" if i % 17 else "failed",
            "params": {"C": (i % 7) / 3, "lr": 10 ** -(i % 4), "model": "svc"},
            "metrics": {"acc": (i * 7919 % 1000) / 1000, "loss": i % 13 / 10},
            "variables": {},
        }
        blob = Blob.from_string(json.dumps(rec).encode())
        tree = Tree()
        tree.add(b"mlvc.json", 0o100644, blob.id)
        c = Commit()
        c.tree = tree.id
        parent = parents.get(branch)
        c.parents = [parent] if parent else []
        c.author = c.committer = b"bench <bench@example.org>"
        c.commit_time = c.author_time = 1_700_000_000 + i
        c.commit_timezone = c.author_timezone = 0
        c.message = rec["message"].encode()  # type: ignore[attr-defined]
        objects += [(blob, None), (tree, None), (c, None)]
        parents[branch] = c.id
    store.add_objects(objects)  # type: ignore[arg-type]  # one pack
    for branch, sha in parents.items():
        assert sha is not None
        repo.refs[f"refs/heads/train.ipynb/{branch}".encode()] = sha
    repo.close()


def timed(fn: object, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--commits", type=int, default=10_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(dir=Path.cwd()) as tmp:
        root = Path(tmp)
        (root / "train.ipynb").write_text("{}")
        t = time.perf_counter()
        build(root, args.commits)
        print(f"built {args.commits} commits in {time.perf_counter() - t:.1f} s")
        nb = root / "train.ipynb"
        t = time.perf_counter()
        everything = mlvc.log(repo=root, notebook=nb)
        print(f"first log (reads every record, fills the cache): {time.perf_counter() - t:.2f} s")
        assert len(everything) == args.commits, len(everything)
        floor = timed(lambda: mlvc.log(repo=root, notebook=nb))
        found = mlvc.log(repo=root, notebook=nb, where=QUERY)
        where = timed(lambda: mlvc.log(repo=root, notebook=nb, where=QUERY))
        page = timed(lambda: mlvc.log(repo=root, notebook=nb, where=QUERY, limit=50))
        service.workspace().summary_memo.clear()
        t = time.perf_counter()
        mlvc.log(repo=root, notebook=nb, where=QUERY)
        cold = time.perf_counter() - t
    print(f"query: {QUERY}")
    print(f"matches: {len(found)} of {args.commits}")
    print(f"log (floor):         {floor * 1000:7.1f} ms")
    print(
        f"log --where:         {where * 1000:7.1f} ms  (budget 200 ms; "
        f"{where / floor:.2f}x the floor)"
    )
    print(f"log --where -n 50:   {page * 1000:7.1f} ms")
    print(f"log --where, cold:   {cold * 1000:7.1f} ms  (the cache file read again)")
    return 0 if where <= 0.2 else 1


if __name__ == "__main__":
    sys.exit(main())
