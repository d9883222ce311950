"""Formats workload (issue 13, part B): fingerprints, the scikit-learn state format.

Prints, in one run, each figure with its floor and budget:

- unchanged 1M x 20 DataFrame and unchanged RandomForest(100 trees): the commit of a
  variable through the fingerprint cache (``store.fingerprints.write_value``, what the
  service's commit calls for each variable) in ms (budget <= 20 ms), and the ratio to the
  xxh3 floor of the frame's bytes;
- the same for a frame that no cell touched since the last check: the kernel's dirty
  tracking hands the commit its fingerprint (no hashing);
- the same through ``mlvc_server.commit`` (the whole commit: record, env, refs);
- the first scikit-learn estimator committed in a fresh process (budget <= 300 ms);
- RandomForest(100 trees) commit and load against ``joblib.dump``/``joblib.load`` of the
  same model (budget <= 3x each);
- status of ``--gib`` GiB of DataFrames plus ``--gib`` GiB of arrays: fingerprinting them
  all against xxh3 over the same bytes (budget <= 2x).

    python benchmarks/formats.py [--gib 1] [--rows 1000000]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xxhash
from _common import report

import mlvc_server as mlvc
from mlvc_server import serializers, service
from mlvc_server.serializers.fingerprint import fingerprint
from mlvc_server.store import Store, fingerprints


def best(fn: Callable[[], Any], n: int = 5) -> float:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def frame_buffers(df: pd.DataFrame) -> list[memoryview]:
    return [memoryview(np.ascontiguousarray(b.values)).cast("B") for b in df._mgr.blocks]


def xxh3_floor(buffers: list[memoryview]) -> float:
    def run() -> None:
        for b in buffers:
            xxhash.xxh3_128_hexdigest(b)

    return best(run, 3)


def make_frame(rows: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    cols: dict[str, Any] = {}
    for i in range(20):
        cols[f"c{i}"] = rng.random(rows) if i % 2 else rng.integers(0, 1 << 40, rows)
    return pd.DataFrame(cols)


def forest() -> Any:
    from sklearn.ensemble import RandomForestClassifier

    rng = np.random.default_rng(0)
    X = rng.random((5000, 20))
    y = (X[:, 0] + X[:, 1] > 1).astype(int)
    return RandomForestClassifier(100, random_state=0, n_jobs=1).fit(X, y)


FIRST_ESTIMATOR = textwrap.dedent(
    """
    import sys, tempfile, time
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    X = np.random.default_rng(0).random((200, 5)); y = (X[:, 0] > .5).astype(int)
    model = LogisticRegression().fit(X, y)
    import mlvc_server
    repo = tempfile.mkdtemp(dir=sys.argv[1])
    mlvc_server.commit("warm", {"a": 1}, repo=repo, sources=False)
    t = time.perf_counter()
    mlvc_server.commit("model", {"model": model}, repo=repo, sources=False)
    print(time.perf_counter() - t)
    """
)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--gib", type=float, default=1.0, help="GiB of frames and of arrays")
    ap.add_argument("--rows", type=int, default=1_000_000)
    args = ap.parse_args()
    ok = True
    with tempfile.TemporaryDirectory(dir=Path.cwd()) as tmp:
        root = Path(tmp)
        os.environ.setdefault("MLVC_CONFIG_DIR", str(root / "config"))
        repo = root / "repo"
        repo.mkdir()
        store = Store.init(repo)

        # -- unchanged DataFrame and RandomForest -------------------------------------------
        df = make_frame(args.rows)
        floor = xxh3_floor(frame_buffers(df))
        mlvc.commit("df", {"df": df}, repo=repo, sources=False)

        def write_df() -> None:
            fingerprints.write_value(store, df, lambda: serializers.serialize(df))

        write_df()
        t = best(write_df)
        print(f"(1M x 20 frame: {df.memory_usage().sum() / 2**20:.0f} MiB)")
        ok &= report("unchanged frame: write_value", t * 1e3, floor * 1e3, 2.0, "ms")
        ok &= t <= 0.020
        print(f"{'':<38} budget <= 20 ms: {'OK' if t <= 0.020 else 'OVER'}")
        # in a kernel, dirty tracking hands the commit the fingerprint of a frame no cell
        # touched since the last check (benchmarks/status.py measures it in a kernel)
        trusted = {id(df): (df, fingerprint(df))}

        def write_untouched() -> None:
            with service.snapshot(trusted):
                write_df()

        t = best(write_untouched)
        print(
            f"{'unchanged frame, untouched (tracked)':<38} {t * 1e3:10.3f} ms  "
            f"budget <= 20 ms: {'OK' if t <= 0.020 else 'OVER'}"
        )
        t = best(lambda: mlvc.commit("df", {"df": df}, repo=repo, sources=False), 3)
        print(f"{'unchanged frame: mlvc.commit (whole)':<38} {t * 1e3:10.1f} ms")
        rf = forest()
        fingerprints.write_value(store, rf, lambda: serializers.serialize(rf))
        t = best(lambda: fingerprints.write_value(store, rf, lambda: serializers.serialize(rf)))
        print(
            f"{'unchanged RandomForest: write_value':<38} {t * 1e3:10.1f} ms  "
            f"budget <= 20 ms: {'OK' if t <= 0.020 else 'OVER'}"
        )
        ok &= t <= 0.020
        t = best(lambda: mlvc.commit("rf", {"rf": rf}, repo=repo, sources=False), 3)
        print(f"{'unchanged RandomForest: mlvc.commit':<38} {t * 1e3:10.1f} ms")

        # -- first estimator in a fresh process ---------------------------------------------
        out = subprocess.run(
            [sys.executable, "-c", FIRST_ESTIMATOR, str(root)],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        )
        t = float(out.stdout.strip().splitlines()[-1])
        print(
            f"{'first estimator commit, fresh process':<38} {t * 1e3:10.1f} ms  "
            f"budget <= 300 ms: {'OK' if t <= 0.300 else 'OVER'}"
        )
        ok &= t <= 0.300

        # -- RandomForest against joblib ----------------------------------------------------
        import joblib

        path = root / "rf.joblib"
        dump = best(lambda: joblib.dump(rf, path), 3)
        load = best(lambda: joblib.load(path), 3)

        def commit_new() -> None:
            fresh = Path(tempfile.mkdtemp(dir=root))
            mlvc.commit("rf", {"rf": rf}, repo=fresh, sources=False)

        t_commit = best(commit_new, 3)
        t_load = best(lambda: mlvc.load("HEAD", "rf", repo=repo), 3)
        ok &= report("RandomForest(100) commit vs joblib", t_commit, dump, 3.0)
        ok &= report("RandomForest(100) load vs joblib", t_load, load, 3.0)

        # -- status: fingerprints of GiBs of frames and arrays -------------------------------
        size = int(args.gib * (1 << 30))
        rows = size // (20 * 8)
        frames = [make_frame(rows // 4, seed) for seed in range(4)]
        arrays = [np.random.default_rng(i).random(size // 8 // 4) for i in range(4)]
        buffers = [b for f in frames for b in frame_buffers(f)]
        buffers += [memoryview(a).cast("B") for a in arrays]
        floor = xxh3_floor(buffers)

        def status() -> None:
            for value in [*frames, *arrays]:
                assert fingerprint(value) is not None

        t = best(status, 3)
        total = sum(b.nbytes for b in buffers) / 2**30
        ok &= report(f"status fingerprints ({total:.1f} GiB)", t, floor, 2.0)
    print("ALL OK" if ok else "SOME OVER BUDGET")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
