"""Lineage workload: two notebooks, 2,000 commits; prep.ipynb writes a data file at each
commit (an output), train.ipynb reads one at each. ``lineage`` of train's newest commit
must find the prep commit that wrote that content among all commits of the store
(budget <= 100 ms warm, like ``log``).

The floor is what lineage would cost without the outputs index: reading every commit's
record (dulwich alone, the records' JSON parsed) to find which wrote the hash. The
lineage figures include walking every branch (the log cache) and loading the index.

    python benchmarks/lineage.py [--commits 2000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from dulwich.repo import Repo

from mlvc_server import service
from mlvc_server.store import producers


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--commits", type=int, default=2000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(dir=Path.cwd()) as tmp:
        root = Path(tmp)
        for name in ("prep.ipynb", "train.ipynb"):
            nbformat.write(nbformat.v4.new_notebook(), root / name)
        (root / "data").mkdir()
        (root / "raw.csv").write_text("a\n" + "\n".join(map(str, range(100))) + "\n")
        service.init(root)
        t = time.perf_counter()
        for i in range(args.commits // 2):
            part = f"data/part-{i % 50}.csv"
            (root / part).write_text(f"a\n{i}\n")
            service.commit(
                f"prep {i}",
                repo=root,
                notebook=root / "prep.ipynb",
                data=["raw.csv"],
                outputs=[part],
                sources=False,
            )
            service.commit(
                f"train {i}",
                repo=root,
                notebook=root / "train.ipynb",
                data=[part],
                metrics={"acc": i / args.commits},
                sources=False,
            )
        build = time.perf_counter() - t
        newest = service.log(repo=root, notebook=root / "train.ipynb", limit=1)[0]["id"]
        producer = service.log(repo=root, notebook=root / "prep.ipynb", limit=1)[0]["id"]

        def lineage() -> float:
            t = time.perf_counter()
            lin = service.lineage(newest, repo=root)
            took = time.perf_counter() - t
            wrote = [e["from"] for e in lin["edges"] if e["label"] == "wrote"]
            assert wrote == [f"commit:{producer}"], wrote
            return took

        service.workspace().reset()  # a process that has not seen the store yet
        cold = lineage()
        warm = statistics.median(lineage() for _ in range(5))
        index = root / ".mlvc" / "mlvc" / producers.FILE
        index.unlink()  # a store whose commits predate the index (or were fetched)
        service.workspace().reset()
        unindexed = lineage()
        service.workspace().reset()
        t = time.perf_counter()
        service.log(repo=root)
        log_all = time.perf_counter() - t
        with Repo(str(root / ".mlvc")) as r:
            t = time.perf_counter()
            heads = [r.refs[n] for n in r.refs.as_dict() if n.startswith(b"refs/heads/")]
            found = 0
            for entry in r.get_walker(include=heads):
                tree = r[entry.commit.tree]
                record = json.loads(r[tree[b"mlvc.json"][1]].data)
                found += bool(record.get("outputs"))
            floor = time.perf_counter() - t
        assert found == args.commits // 2, found
    print(
        f"lineage workload: {args.commits} commits in 2 notebooks (built in {build:.1f} s, "
        f"{build / args.commits * 1000:.1f} ms each); floor = reading every record "
        f"(dulwich) {floor * 1000:.1f} ms; log --all (cold) {log_all * 1000:.1f} ms"
    )
    ok = True
    for name, value, budget in (
        ("lineage, first call in a process", cold, 0.100),
        ("lineage, warm", warm, 0.100),
        ("lineage, no index yet (fills it)", unindexed, None),
    ):
        good = budget is None or value <= budget
        ok &= good
        limit = f"budget <= {budget * 1000:.0f} ms  {'OK' if good else 'OVER'}" if budget else ""
        print(
            f"{name:<34} {value * 1000:8.1f} ms  ratio to the floor {value / floor:5.2f}x  {limit}"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
