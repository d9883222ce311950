"""The statistics of an evaluation, on arrays only (no store, no models).

Every number an evaluation reports comes from one function here, and each names its
method (the ``method`` strings end up in the report and in docs/evaluation.md):

- classification metrics (accuracy, f1) and their paired difference: the **paired
  bootstrap** (Efron & Tibshirani 1993) resampling rows jointly. A row of a classifier
  evaluation is one cell ``(y, prediction of A, prediction of B)``; accuracy and F1 of
  both models depend only on how many rows fall in each cell, so drawing ``n`` rows with
  replacement is exactly drawing the cell counts from a multinomial distribution with
  the observed cell frequencies. That is the same bootstrap distribution as resampling
  row indices, at a cost that does not grow with the number of rows;
- accuracy's paired test: **exact McNemar** (McNemar 1947; the binomial test on the
  discordant pairs, ``scipy.stats.binomtest``);
- ROC AUC: **DeLong's test** (DeLong, DeLong & Clarke-Pearson 1988) with the fast
  midrank algorithm (Sun & Xu 2014); its interval is the normal interval of that test;
- regression losses (MAE, RMSE): the paired bootstrap resampling row indices (vectorized
  in blocks) or, above 50M row draws, the **bag of little bootstraps** (Kleiner et al.
  2014), and the **paired t-test** on the per-row losses (absolute error for MAE,
  squared error for RMSE: the test of the MSE difference);
- shadow: **population stability index** (decile bins of A's scores) and the
  two-sample **Kolmogorov-Smirnov** test (``scipy.stats.ks_2samp``);
- canary: the **predictable plug-in empirical-Bernstein confidence sequence**
  (Waudby-Smith & Ramdas 2023) on the mean paired difference of a bounded per-row
  score, valid at every row at once (so it can be watched continuously).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

#: Metrics of classifiers (higher is better) and regressors (lower is better).
CLASSIFICATION = ("accuracy", "f1", "roc_auc")
REGRESSION = ("mae", "rmse")
LOWER_IS_BETTER = frozenset(REGRESSION)

#: Row indices drawn per block by the index bootstrap (bounds its memory to ~64 MiB).
_BLOCK = 1 << 23


@dataclass
class Comparison:
    """One metric for both models, their paired difference and its test.

    ``diff`` is ``b - a`` in the metric's units; ``ci`` its interval at ``level``;
    ``better`` is ``"b"``, ``"a"`` or None (no significant difference at ``level``).
    """

    metric: str
    a: float
    b: float
    diff: float
    ci: tuple[float, float]
    level: float
    ci_method: str
    test: str
    p_value: float
    better: str | None
    n: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "a": self.a,
            "b": self.b,
            "diff": self.diff,
            "ci": [self.ci[0], self.ci[1]],
            "level": self.level,
            "ci_method": self.ci_method,
            "test": self.test,
            "p_value": self.p_value,
            "better": self.better,
            "n": self.n,
            "lower_is_better": self.metric in LOWER_IS_BETTER,
        }


def _better(metric: str, diff: float, p: float, level: float) -> str | None:
    if not p < 1 - level or diff == 0:
        return None
    gain = -diff if metric in LOWER_IS_BETTER else diff
    return "b" if gain > 0 else "a"


def percentile_ci(boot: NDArray[np.float64], level: float) -> tuple[float, float]:
    """The percentile interval (Efron 1979) of bootstrap replicates."""
    lo, hi = np.quantile(boot, [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)


def bootstrap_p(boot: NDArray[np.float64]) -> float:
    """Two-sided p-value of "no difference" from bootstrap replicates of the difference:
    about the smallest ``1 - level`` at which the percentile interval excludes 0, at
    least ``2 / (resamples + 1)``."""
    n = len(boot)
    if n == 0:
        return 1.0
    # (1 + k) / (n + 1): never 0 from a finite number of resamples (Davison & Hinkley 1997)
    below = (1 + int(np.sum(boot <= 0))) / (n + 1)
    above = (1 + int(np.sum(boot >= 0))) / (n + 1)
    return min(1.0, 2 * min(below, above))


# -- classification: cells and their multinomial bootstrap ------------------------------
@dataclass
class Cells:
    """Rows of a classifier evaluation grouped by ``(y, pred A, pred B)``.

    Attributes:
        labels: the classes (sorted), indices of which the cells use.
        y, a, b: for each occupied cell, the class index of the truth and of each model.
        counts: how many rows fall in each cell.
    """

    labels: NDArray[Any]
    y: NDArray[np.int64]
    a: NDArray[np.int64]
    b: NDArray[np.int64]
    counts: NDArray[np.int64]

    @property
    def n(self) -> int:
        return int(self.counts.sum())


def cells(y: NDArray[Any], pa: NDArray[Any], pb: NDArray[Any]) -> Cells:
    """Group rows into occupied ``(y, pa, pb)`` cells."""
    labels, inv = np.unique(np.concatenate([y, pa, pb]), return_inverse=True)
    n = len(y)
    k = len(labels)
    yi, ai, bi = inv[:n], inv[n : 2 * n], inv[2 * n :]
    code = (yi.astype(np.int64) * k + ai) * k + bi
    occupied, counts = np.unique(code, return_counts=True)
    return Cells(
        labels=labels,
        y=occupied // (k * k),
        a=(occupied // k) % k,
        b=occupied % k,
        counts=counts.astype(np.int64),
    )


def _confusions(c: Cells, counts: NDArray[Any]) -> tuple[NDArray[Any], NDArray[Any]]:
    """Confusion matrices ``[r, truth, predicted]`` of A and B for rows of cell counts."""
    k = len(c.labels)
    counts = np.atleast_2d(counts).astype(np.float64)
    ca = np.zeros((counts.shape[0], k * k))
    cb = np.zeros((counts.shape[0], k * k))
    ia = c.y * k + c.a
    ib = c.y * k + c.b
    for j in range(len(c.counts)):  # occupied cells: at most k**3, usually a handful
        ca[:, ia[j]] += counts[:, j]
        cb[:, ib[j]] += counts[:, j]
    return ca.reshape(-1, k, k), cb.reshape(-1, k, k)


def _accuracy(conf: NDArray[Any]) -> NDArray[np.float64]:
    total = conf.sum(axis=(1, 2))
    out: NDArray[np.float64] = np.trace(conf, axis1=1, axis2=2) / np.maximum(total, 1)
    return out


def _f1(conf: NDArray[Any], positive: int | None) -> NDArray[np.float64]:
    """F1 of the positive class (binary) or the macro average over classes (as
    ``sklearn.metrics.f1_score`` with ``zero_division=0``)."""
    tp = np.diagonal(conf, axis1=1, axis2=2)
    fp = conf.sum(axis=1) - tp
    fn = conf.sum(axis=2) - tp
    denom = 2 * tp + fp + fn
    f1 = np.where(denom > 0, 2 * tp / np.maximum(denom, 1e-300), 0.0)
    if positive is not None:
        out: NDArray[np.float64] = f1[:, positive]
        return out
    mean: NDArray[np.float64] = f1.mean(axis=1)
    return mean


def positive_index(labels: NDArray[Any]) -> int | None:
    """The positive class of a binary problem (the larger label, as scikit-learn's
    ``pos_label=1`` for 0/1), or None when there are more than two classes."""
    return len(labels) - 1 if len(labels) == 2 else None


def classification_metric(metric: str, conf: NDArray[Any], positive: int | None) -> Any:
    if metric == "accuracy":
        return _accuracy(conf)
    if metric == "f1":
        return _f1(conf, positive)
    raise ValueError(metric)


def compare_classification(
    metric: str,
    c: Cells,
    *,
    resamples: int,
    level: float,
    rng: np.random.Generator,
    boot_counts: NDArray[np.int64] | None = None,
) -> Comparison:
    """Accuracy or F1 of both models with the paired (multinomial cell) bootstrap
    interval of the difference; the test is exact McNemar for accuracy, the bootstrap
    p-value for F1."""
    from scipy.stats import binomtest

    positive = positive_index(c.labels)
    ca, cb = _confusions(c, c.counts)
    va = float(classification_metric(metric, ca, positive)[0])
    vb = float(classification_metric(metric, cb, positive)[0])
    if boot_counts is None:
        boot_counts = multinomial_counts(c, resamples, rng)
    bca, bcb = _confusions(c, boot_counts)
    boot = classification_metric(metric, bcb, positive) - classification_metric(
        metric, bca, positive
    )
    ci = percentile_ci(boot, level)
    if metric == "accuracy":
        right_a = c.y == c.a
        right_b = c.y == c.b
        only_b = int(c.counts[right_b & ~right_a].sum())
        only_a = int(c.counts[right_a & ~right_b].sum())
        p = 1.0 if only_a + only_b == 0 else binomtest(only_b, only_a + only_b, 0.5).pvalue
        test = f"exact McNemar (binomial test on {only_a + only_b} discordant rows)"
    else:
        p = bootstrap_p(boot)
        test = "paired bootstrap (percentile p-value)"
    diff = vb - va
    return Comparison(
        metric,
        va,
        vb,
        diff,
        ci,
        level,
        f"paired bootstrap, {resamples} multinomial resamples of rows, percentile interval",
        test,
        float(p),
        _better(metric, diff, float(p), level),
        c.n,
    )


def multinomial_counts(c: Cells, resamples: int, rng: np.random.Generator) -> NDArray[np.int64]:
    """``resamples`` bootstrap draws of the cell counts (rows drawn with replacement)."""
    n = c.n
    out: NDArray[np.int64] = rng.multinomial(n, c.counts / n, size=resamples)
    return out


# -- ROC AUC: DeLong --------------------------------------------------------------------
def _midrank_components(
    scores: NDArray[np.float64], m: int
) -> tuple[float, NDArray[np.float64], NDArray[np.float64]]:
    """AUC and DeLong's structural components (positives first in ``scores``)."""
    from scipy.stats import rankdata

    n = len(scores) - m
    tz = rankdata(scores, method="average")
    tx = rankdata(scores[:m], method="average")
    ty = rankdata(scores[m:], method="average")
    auc = (tz[:m].sum() - m * (m + 1) / 2) / (m * n)
    v01 = (tz[:m] - tx) / n
    v10 = 1.0 - (tz[m:] - ty) / m
    return float(auc), v01, v10


def delong(
    y_positive: NDArray[np.bool_],
    sa: NDArray[np.float64],
    sb: NDArray[np.float64],
    level: float,
) -> Comparison:
    """ROC AUC of both score vectors, DeLong's paired test and normal interval."""
    from scipy.stats import norm

    pos = np.asarray(y_positive, dtype=bool)
    m = int(pos.sum())
    n = len(pos) - m
    if m == 0 or n == 0:
        from ...errors import EvaluationError

        raise EvaluationError("roc_auc needs both classes among the rows evaluated")
    order = np.concatenate([np.flatnonzero(pos), np.flatnonzero(~pos)])
    auc_a, a01, a10 = _midrank_components(np.asarray(sa, np.float64)[order], m)
    auc_b, b01, b10 = _midrank_components(np.asarray(sb, np.float64)[order], m)
    s01 = np.cov(np.vstack([a01, b01]))
    s10 = np.cov(np.vstack([a10, b10]))
    s = s01 / m + s10 / n
    var = float(s[0, 0] + s[1, 1] - 2 * s[0, 1])
    diff = auc_b - auc_a
    if var <= 0:
        p = 1.0 if diff == 0 else 0.0
        half = 0.0
    else:
        se = math.sqrt(var)
        p = float(2 * norm.sf(abs(diff) / se))
        half = float(norm.ppf((1 + level) / 2)) * se
    return Comparison(
        "roc_auc",
        auc_a,
        auc_b,
        diff,
        (diff - half, diff + half),
        level,
        "DeLong normal interval (DeLong et al. 1988, midrank algorithm of Sun & Xu 2014)",
        "DeLong z-test of correlated AUCs",
        p,
        _better("roc_auc", diff, p, level),
        len(pos),
    )


# -- regression: per-row losses ---------------------------------------------------------
def row_losses(metric: str, y: NDArray[Any], pred: NDArray[Any]) -> NDArray[np.float64]:
    err = np.asarray(pred, dtype=np.float64) - np.asarray(y, dtype=np.float64)
    out: NDArray[np.float64] = np.abs(err) if metric == "mae" else err * err
    return out


def _finish(metric: str, mean_loss: Any) -> Any:
    return np.sqrt(mean_loss) if metric == "rmse" else mean_loss


def index_bootstrap_means(
    columns: NDArray[np.float64], resamples: int, rng: np.random.Generator
) -> NDArray[np.float64]:
    """Means of each column over ``resamples`` resamples of rows drawn with replacement
    (the same rows for every column: a paired bootstrap). ``columns``: (n, k)."""
    n = columns.shape[0]
    out = np.empty((resamples, columns.shape[1]))
    per = max(1, _BLOCK // max(n, 1))
    data = np.ascontiguousarray(columns.T)
    for start in range(0, resamples, per):
        r = min(per, resamples - start)
        idx = rng.integers(0, n, size=(r, n), dtype=np.int64 if n >= 2**31 else np.int32)
        for j in range(data.shape[0]):
            out[start : start + r, j] = data[j][idx].mean(axis=1)
    return out


#: Above this many row draws (rows x resamples), the per-row-loss bootstrap is the bag of
#: little bootstraps instead of resampling every row index.
EXACT_BOOTSTRAP_DRAWS = 50_000_000
#: The bag of little bootstraps: subsets of n**BLB_GAMMA rows, BLB_SUBSETS of them.
BLB_GAMMA = 0.6
BLB_SUBSETS = 10


def little_bootstraps(
    metric: str,
    la: NDArray[np.float64],
    lb: NDArray[np.float64],
    resamples: int,
    level: float,
    rng: np.random.Generator,
) -> tuple[tuple[float, float], str]:
    """The paired percentile interval by the bag of little bootstraps (Kleiner,
    Talwalkar, Sarkar & Jordan 2014): for each of :data:`BLB_SUBSETS` random subsets of
    ``b = n**0.6`` rows, ``resamples / subsets`` resamples of ``n`` rows drawn from the
    subset (multinomial counts, the same for A and B), the percentile interval of their
    deviation from the subset's estimate; the interval reported is the estimate plus
    the average of those bounds. Cost ``resamples * b``
    instead of ``resamples * n``."""
    n = len(la)
    b = max(2, int(n**BLB_GAMMA))
    r = max(50, resamples // BLB_SUBSETS)
    full = float(_finish(metric, lb.mean()) - _finish(metric, la.mean()))
    lows, highs = [], []
    for _ in range(BLB_SUBSETS):
        idx = rng.choice(n, size=b, replace=False)
        sa, sb = la[idx], lb[idx]
        w = rng.multinomial(n, np.full(b, 1.0 / b), size=r).astype(np.float64)
        boot = _finish(metric, w @ sb / n) - _finish(metric, w @ sa / n)
        # the subset's own estimate centres its resamples; the deviations carry over
        centre = float(_finish(metric, sb.mean()) - _finish(metric, sa.mean()))
        lo, hi = percentile_ci(boot - centre, level)
        lows.append(full + lo)
        highs.append(full + hi)
    method = (
        f"paired bag of little bootstraps: {BLB_SUBSETS} subsets of {b} rows x {r} "
        "resamples of all rows, the mean of their percentile intervals of the deviation "
        "around the estimate"
    )
    return (float(np.mean(lows)), float(np.mean(highs))), method


def compare_regression(
    metric: str,
    y: NDArray[Any],
    pa: NDArray[Any],
    pb: NDArray[Any],
    *,
    resamples: int,
    level: float,
    rng: np.random.Generator,
) -> Comparison:
    """MAE or RMSE of both models, the paired bootstrap interval of the difference and
    the paired t-test on the per-row losses."""
    from scipy.stats import ttest_rel

    la = row_losses(metric, y, pa)
    lb = row_losses(metric, y, pb)
    va = float(_finish(metric, la.mean()))
    vb = float(_finish(metric, lb.mean()))
    if len(la) * resamples <= EXACT_BOOTSTRAP_DRAWS:
        means = index_bootstrap_means(np.column_stack([la, lb]), resamples, rng)
        boot = _finish(metric, means[:, 1]) - _finish(metric, means[:, 0])
        ci = percentile_ci(boot, level)
        ci_method = f"paired bootstrap, {resamples} resamples of row indices, percentile interval"
    else:
        ci, ci_method = little_bootstraps(metric, la, lb, resamples, level, rng)
    p = 1.0 if np.array_equal(la, lb) else float(ttest_rel(lb, la).pvalue)
    loss = "absolute errors" if metric == "mae" else "squared errors"
    diff = vb - va
    return Comparison(
        metric,
        va,
        vb,
        diff,
        ci,
        level,
        ci_method,
        f"paired t-test on per-row {loss}",
        p,
        _better(metric, diff, p, level),
        len(la),
    )


# -- shadow: distribution shift -----------------------------------------------------------
def psi(a: NDArray[Any], b: NDArray[Any], bins: int = 10) -> float:
    """Population stability index of ``b`` against ``a``: decile bins of ``a`` for
    numbers, one bin per value for labels; empty bins get a frequency of 1e-4."""
    eps = 1e-4
    if np.asarray(a).dtype.kind in "fiu" and len(np.unique(a)) > bins:
        edges = np.unique(np.quantile(a, np.linspace(0, 1, bins + 1)[1:-1]))
        fa = np.bincount(np.searchsorted(edges, a, side="right"), minlength=len(edges) + 1)
        fb = np.bincount(np.searchsorted(edges, b, side="right"), minlength=len(edges) + 1)
    else:
        values, inv = np.unique(np.concatenate([a, b]), return_inverse=True)
        fa = np.bincount(inv[: len(a)], minlength=len(values))
        fb = np.bincount(inv[len(a) :], minlength=len(values))
    pa = np.maximum(fa / max(len(a), 1), eps)
    pb = np.maximum(fb / max(len(b), 1), eps)
    return float(np.sum((pb - pa) * np.log(pb / pa)))


def ks(a: NDArray[Any], b: NDArray[Any]) -> tuple[float, float]:
    """Two-sample Kolmogorov-Smirnov statistic and p-value."""
    from scipy.stats import ks_2samp

    r = ks_2samp(np.asarray(a, np.float64), np.asarray(b, np.float64))
    return float(r.statistic), float(r.pvalue)


# -- canary: a confidence sequence ------------------------------------------------------
def eb_confidence_sequence(
    x: NDArray[np.float64], alpha: float, cap: float = 0.5
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Lower and upper bounds, after each observation, of the predictable plug-in
    empirical-Bernstein confidence sequence for the mean of observations in [0, 1]
    (Waudby-Smith & Ramdas 2023, JRSS-B, Theorem 2 with the predictable plug-in
    ``lambda_t``): the true mean lies inside *every* interval at once with probability
    at least ``1 - alpha``, so it may be checked after each row (optional stopping).
    """
    t = np.arange(1, len(x) + 1, dtype=np.float64)
    log2a = math.log(2 / alpha)
    mu = (0.5 + np.cumsum(x)) / (t + 1)
    mu_prev = np.concatenate([[0.5], mu[:-1]])
    var = (0.25 + np.cumsum((x - mu) ** 2)) / (t + 1)
    var_prev = np.concatenate([[0.25], var[:-1]])
    lam = np.minimum(np.sqrt(2 * log2a / (var_prev * t * np.log1p(t))), cap)
    v = 4 * (x - mu_prev) ** 2
    psi_e = (-np.log1p(-lam) - lam) / 4
    lam_sum = np.cumsum(lam)
    centre = np.cumsum(lam * x) / lam_sum
    radius = (log2a + np.cumsum(v * psi_e)) / lam_sum
    return np.maximum(centre - radius, 0.0), np.minimum(centre + radius, 1.0)
