"""Evaluation workload (docs/evaluation.md).

1. Calibration, full settings, on simulated classifiers with a known truth:
   - 95% paired-bootstrap intervals of the accuracy difference cover the truth in
     93-97% of 400 simulations (2,000 rows, 1,000 resamples);
   - two equally accurate models: the verdict's false-positive rate <= 5% (400 sims);
   - a 2-point accuracy gain on 20,000 rows is detected in >= 90% of 400 simulations.
2. Speed: ``evaluate`` of two scikit-learn classifiers on 1M rows with 1,000 bootstrap
   resamples (accuracy, f1, roc_auc), end to end (read and hash the file, load both
   models, predict, statistics, store the record) <= 2 x the two predict calls + 2 s.
   The floor is measured in the same run. ``rmse,mae`` of two regressors on the same
   rows (a bootstrap that resamples row indices) is printed against the same budget.

    python benchmarks/evaluate.py [--rows 1000000] [--sims 400] [--resamples 1000]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import binomtest
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge

import mlvc_server as mlvc
from mlvc_server.service import evaluation
from mlvc_server.service.evaluation import stats


def simulate(rng: np.random.Generator, n: int, acc_a: float, acc_b: float):
    y = rng.integers(0, 2, n)
    right_a = rng.random(n) < acc_a
    right_b = rng.random(n) < acc_b
    return y, np.where(right_a, y, 1 - y), np.where(right_b, y, 1 - y)


def compare(y, pa, pb, seed: int, resamples: int) -> stats.Comparison:
    return stats.compare_classification(
        "accuracy",
        stats.cells(y, pa, pb),
        resamples=resamples,
        level=0.95,
        rng=np.random.default_rng(seed),
    )


def calibration(sims: int, resamples: int) -> bool:
    rng = np.random.default_rng(2026)
    t = time.perf_counter()
    truth = 0.83 - 0.80
    cover = np.mean(
        [
            (lambda c: c.ci[0] <= truth <= c.ci[1])(
                compare(*simulate(rng, 2000, 0.80, 0.83), i, resamples)
            )
            for i in range(sims)
        ]
    )
    identical = 0
    for i in range(sims):
        y, pa, _ = simulate(rng, 2000, 0.80, 0.80)
        identical += compare(y, pa, pa.copy(), i, resamples).better is not None
    fpr = np.mean(
        [
            compare(*simulate(rng, 2000, 0.80, 0.80), i, resamples).better is not None
            for i in range(sims)
        ]
    )
    fpr_p = binomtest(round(fpr * sims), sims, 0.05, alternative="greater").pvalue
    power = np.mean(
        [
            compare(*simulate(rng, 20_000, 0.80, 0.82), i, resamples).better == "b"
            for i in range(sims)
        ]
    )
    ok = [0.93 <= cover <= 0.97, identical / sims <= 0.05, fpr_p > 0.01, power >= 0.90]
    mark = ["ok" if good else "FAIL" for good in ok]
    took = time.perf_counter() - t
    print(f"calibration ({sims} simulations, {resamples} resamples, {took:.1f} s):")
    print(f"  coverage of 95% intervals    {cover:.3f}  (budget 0.93-0.97)  {mark[0]}")
    print(f"  false positives, identical   {identical / sims:.3f}  (budget <= 0.05)  {mark[1]}")
    print(
        f"  false positives, equally good {fpr:.3f}  (level 0.05; fails only when "
        f"significantly above: one-sided binomial p = {fpr_p:.3f} > 0.01)  {mark[2]}"
    )
    print(f"  power, +2 points, 20k rows   {power:.3f}  (budget >= 0.90)  {mark[3]}")
    return all(ok)


def speed(rows: int, resamples: int) -> bool:
    rng = np.random.default_rng(0)
    k = 10
    x = rng.normal(size=(rows, k)).astype(np.float32)
    w = rng.normal(size=k)
    logit = x @ w
    y = (logit + rng.normal(scale=1.5, size=rows) > 0).astype(np.int64)
    cols = [f"f{i}" for i in range(k)]
    df = pd.DataFrame(x, columns=cols).assign(y=y, t=logit + rng.normal(size=rows))
    train = slice(0, 50_000)
    a = LogisticRegression(max_iter=200).fit(df[cols][train], y[train])
    b = HistGradientBoostingClassifier(max_iter=50).fit(df[cols][train], y[train])
    ra = LinearRegression().fit(df[cols][train], df.t[train])
    rb = Ridge(alpha=1e4).fit(df[cols][train], df.t[train])
    ok = True
    with tempfile.TemporaryDirectory(dir=Path.cwd()) as tmp:
        root = Path(tmp)
        mlvc.init(root)
        df.to_parquet(root / "test.parquet")
        ca = mlvc.commit("logreg", {"model": a, "reg": ra}, repo=root, sources=False)
        cb = mlvc.commit("hgb", {"model": b, "reg": rb}, repo=root, sources=False)
        for label, metrics, ma, mb, variable in (
            ("classifiers, accuracy,f1,roc_auc", None, a, b, "model"),
            ("regressors, rmse,mae", "rmse,mae", ra, rb, "reg"),
        ):
            feats = df[cols]
            t = time.perf_counter()
            ma.predict(feats)
            mb.predict(feats)
            floor = time.perf_counter() - t
            t = time.perf_counter()
            r = evaluation.evaluate(
                ca,
                cb,
                data=root / "test.parquet",
                target="y" if metrics is None else "t",
                metrics=metrics,
                variable=variable,
                seed=1,
                resamples=resamples,
                repo=root,
            )
            took = time.perf_counter() - t
            budget = 2 * floor + 2
            good = took <= budget
            ok &= good or metrics is not None
            tm = r["timings"]
            print(
                f"evaluate {rows:,} rows, {resamples} resamples ({label}): {took:.2f} s "
                f"(predict {tm['predict']:.2f} s, statistics {tm['statistics']:.2f} s); "
                f"floor: two predict calls {floor:.2f} s; budget 2 x floor + 2 s = "
                f"{budget:.2f} s; ratio {took / budget:.2f} "
                + ("ok" if good else "over" if metrics is not None else "FAIL")
            )
    return ok


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--sims", type=int, default=400)
    ap.add_argument("--resamples", type=int, default=1000)
    args = ap.parse_args()
    os.environ.setdefault("MLVC_AUTHOR_NAME", "bench")
    good = calibration(args.sims, args.resamples)
    good &= speed(args.rows, args.resamples)
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())
