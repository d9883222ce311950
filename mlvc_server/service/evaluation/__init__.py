"""Offline evaluation of two model versions: ``evaluate`` (labeled data, paired
statistics), ``shadow`` (unlabeled inputs, how the two disagree), ``canary`` (a simulated
gradual rollout with an always-valid sequential test); ``evaluations`` lists what is
stored and ``latest`` returns the last verdict, for a promotion gate.

    stats.py    the statistics (bootstrap, McNemar, DeLong, t-test, PSI, KS, the
                confidence sequence), on arrays only
    inputs.py   models from commits, data files, features, predictions
    records.py  evaluations as commits under refs/mlvc/evaluations/

See docs/evaluation.md for the method of every number and its references.
"""

from __future__ import annotations

import os
import re
import secrets
import time
from typing import Any

import numpy as np

from ...errors import EvaluationError, PredictionTypeError
from ...store.revisions import resolve
from ..workspace import open_store, rel_notebook
from . import records, stats
from .inputs import (
    Predictions,
    Version,
    features,
    hash_data,
    is_classifier,
    load_version,
    predict,
    read_table,
    require_columns,
)

DEFAULT_LEVEL = 0.95
DEFAULT_RESAMPLES = 1000
#: Slices of a numeric column with more distinct values than this are its quartiles.
MAX_SLICES = 20

__all__ = ["DEFAULT_LEVEL", "canary", "evaluate", "evaluations", "latest", "shadow"]


def _check_level(level: float) -> float:
    if not 0.5 <= level < 1:
        raise EvaluationError(f"level {level} must be at least 0.5 and below 1 (e.g. 0.95)")
    return float(level)


def _seed(seed: int | None) -> int:
    return int(secrets.randbits(32)) if seed is None else int(seed)


def _metrics(metrics: str | list[str] | None, classifier: bool, binary: bool) -> list[str]:
    if metrics is None or metrics == "" or metrics == []:
        if classifier:
            return ["accuracy", "f1", "roc_auc"] if binary else ["accuracy", "f1"]
        return ["rmse", "mae"]
    names = metrics.split(",") if isinstance(metrics, str) else list(metrics)
    names = [m.strip().lower() for m in names if m.strip()]
    known = stats.CLASSIFICATION + stats.REGRESSION
    bad = [m for m in names if m not in known]
    if bad:
        raise EvaluationError(f"unknown metric(s) {', '.join(bad)}: use {', '.join(known)}")
    if (
        classifier
        and any(m in stats.REGRESSION for m in names)
        and any(m in stats.CLASSIFICATION for m in names)
    ):
        raise EvaluationError("mix of classification and regression metrics: pick one kind")
    return names


def _numeric(name: str, arr: Any, what: str) -> Any:
    a = np.asarray(arr)
    if a.dtype.kind not in "fiub":
        raise PredictionTypeError(
            f"{what} are not numbers ({a.dtype}) but {name} needs numbers: use a "
            "classification metric (accuracy, f1, roc_auc) for labels"
        )
    a = a.astype(np.float64)
    if not np.all(np.isfinite(a)):
        raise PredictionTypeError(f"{what} hold NaN or infinite values; {name} needs numbers")
    return a


def _compare(
    metric: str,
    y: Any,
    pa: Predictions,
    pb: Predictions,
    *,
    resamples: int,
    level: float,
    rng: np.random.Generator,
    cells: stats.Cells | None,
    boot_counts: Any,
) -> dict[str, Any]:
    if metric in stats.REGRESSION:
        yy = _numeric(metric, y, "the target values")
        a = _numeric(metric, pa.labels, "the predictions of A")
        b = _numeric(metric, pb.labels, "the predictions of B")
        return stats.compare_regression(
            metric, yy, a, b, resamples=resamples, level=level, rng=rng
        ).as_dict()
    if metric == "roc_auc":
        if cells is None or len(cells.labels) != 2:
            raise EvaluationError("roc_auc needs a binary target (two classes)")
        if pa.scores is None or pb.scores is None:
            raise PredictionTypeError(
                "roc_auc needs scores: both models must have predict_proba or decision_function"
            )
        positive = cells.labels[1]
        return stats.delong(np.asarray(y) == positive, pa.scores, pb.scores, level).as_dict()
    assert cells is not None
    return stats.compare_classification(
        metric, cells, resamples=resamples, level=level, rng=rng, boot_counts=boot_counts
    ).as_dict()


def _comparisons(
    metrics: list[str],
    y: Any,
    pa: Predictions,
    pb: Predictions,
    *,
    resamples: int,
    level: float,
    rng: np.random.Generator,
    strict: bool,
) -> dict[str, Any]:
    classification = any(m in ("accuracy", "f1", "roc_auc") for m in metrics)
    cells = None
    if classification:
        try:
            cells = stats.cells(np.asarray(y), pa.labels, pb.labels)
        except TypeError:  # labels of kinds that do not compare (numbers and strings)
            raise PredictionTypeError(
                f"the target ({np.asarray(y).dtype}) and the predictions "
                f"({pa.labels.dtype}, {pb.labels.dtype}) are labels of different kinds"
            ) from None
    # the same resampled rows for every classification metric (one joint bootstrap)
    boot_counts = stats.multinomial_counts(cells, resamples, rng) if cells is not None else None
    out: dict[str, Any] = {}
    for m in metrics:
        try:
            out[m] = _compare(
                m,
                y,
                pa,
                pb,
                resamples=resamples,
                level=level,
                rng=rng,
                cells=cells,
                boot_counts=boot_counts,
            )
        except EvaluationError as e:
            if strict:
                raise
            out[m] = {"metric": m, "error": str(e)}
    return out


def _verdict(comp: dict[str, Any], level: float) -> dict[str, Any]:
    m = comp["metric"]
    pct = f"{level:.0%}"
    if "error" in comp:
        return {"metric": m, "level": level, "better": None, "text": comp["error"]}
    better = comp["better"]
    ci = comp["ci"]
    detail = (
        f"{m} {comp['a']:.4g} -> {comp['b']:.4g}, difference {comp['diff']:+.4g} "
        f"({pct} CI [{ci[0]:+.4g}, {ci[1]:+.4g}]; {comp['test']}: p={comp['p_value']:.3g})"
    )
    if better == "b":
        text = f"B is better at the {pct} level: {detail}"
    elif better == "a":
        text = f"A is better at the {pct} level: {detail}"
    else:
        text = f"no significant difference at the {pct} level: {detail}"
    return {"metric": m, "level": level, "better": better, "text": text}


def _subset(p: Predictions, mask: Any) -> Predictions:
    return Predictions(p.labels[mask], None if p.scores is None else p.scores[mask])


def _slices(df: Any, column: str) -> list[tuple[str, Any]]:
    import pandas as pd

    col = df[column]
    if col.dtype.kind in "fiu" and col.nunique() > MAX_SLICES:
        binned = pd.qcut(col, 4, duplicates="drop")
        return [(str(k), (binned == k).to_numpy()) for k in binned.cat.categories]
    values = col.dropna().unique()
    if len(values) > 200:
        raise EvaluationError(
            f"slice column {column!r} has {len(values)} distinct values: slice by a column "
            "with fewer (numeric columns are cut into quartiles)"
        )
    out = [(str(v), (col == v).to_numpy()) for v in sorted(values, key=str)]
    if col.isna().any():
        out.append(("(missing)", col.isna().to_numpy()))
    return out


def _open(
    a: str,
    b: str,
    repo: str | os.PathLike[str],
    notebook: str | os.PathLike[str] | None,
    variable: str | None,
    trust: bool,
) -> tuple[Any, str | None, Version, Version]:
    store = open_store(repo)
    nb = rel_notebook(store, notebook)
    va = load_version(store, "A", a, nb, variable, trust)
    vb = load_version(store, "B", b, nb, variable, trust)
    return store, nb, va, vb


def evaluate(
    a: str,
    b: str,
    *,
    data: str | os.PathLike[str],
    target: str,
    metrics: str | list[str] | None = None,
    slice: str | None = None,
    seed: int | None = None,
    variable: str | None = None,
    level: float = DEFAULT_LEVEL,
    resamples: int = DEFAULT_RESAMPLES,
    repo: str | os.PathLike[str] = ".",
    notebook: str | os.PathLike[str] | None = None,
    trust: bool = False,
    record: bool = True,
) -> dict[str, Any]:
    """Compare two model versions on the same labeled rows, with paired statistics.

    Args:
        a, b: revisions (commit ids, branches, tags, ``HEAD~1``) holding a model.
        data: a Parquet, CSV or JSON-lines file with the features and the target.
        target: the target column.
        metrics: ``accuracy,f1,roc_auc`` or ``rmse,mae`` (the default follows the model
            kind); the first is the one the verdict is about.
        slice: a column whose values (quartiles if numeric) split the rows into slices
            evaluated on their own too.
        seed: seed of the bootstrap (recorded; drawn at random when None).
        variable: the model's variable (default: the one model variable of each commit).
        level: confidence level of the intervals and the verdict.
        resamples: bootstrap resamples.
        trust: allow loading pickled models written by someone else.
        record: store the evaluation (a commit under ``refs/mlvc/evaluations/``).

    Returns:
        The report: ``type`` ("evaluate"), ``a`` and ``b`` (rev, commit, variable,
        type), ``data`` (path, hash, size, rows), ``target``, ``settings``, ``metrics``
        (per metric: ``a``, ``b``, ``diff`` = b - a, ``ci``, ``ci_method``, ``test``,
        ``p_value``, ``better``), ``slices``, ``verdict``, ``timings`` and ``id``.

    Raises:
        MissingColumnError, FeatureMismatchError, RowCountError, PredictionTypeError,
        NotAModelError, EvaluationError: the input cannot be evaluated (nothing stored).
    """
    level = _check_level(level)
    if resamples < 100:
        raise EvaluationError("resamples must be at least 100")
    t0 = time.perf_counter()
    store, nb, va, vb = _open(a, b, repo, notebook, variable, trust)
    df = read_table(data)
    require_columns(df, [target], "target")
    if slice is not None:
        require_columns(df, [slice], "slice")
    if len(df) == 0:
        raise EvaluationError(f"data file {str(data)!r} has no rows")
    y = df[target].to_numpy()
    if (df[target].isna()).any():
        raise EvaluationError(f"target column {target!r} has missing values")
    exclude = [target] + ([slice] if slice is not None else [])
    try:
        x = features(df, [va, vb], [target])
    except EvaluationError:
        if slice is None:
            raise
        x = features(df, [va, vb], exclude)
    classifier = is_classifier(va.model) and is_classifier(vb.model)
    binary = classifier and len(np.unique(y)) == 2
    names = _metrics(metrics, classifier, binary)
    if not classifier and any(m in stats.CLASSIFICATION for m in names):
        raise PredictionTypeError(
            f"{', '.join(m for m in names if m in stats.CLASSIFICATION)} need classifiers; "
            f"{'A' if not is_classifier(va.model) else 'B'} is not a classifier: use rmse or mae"
        )
    want_scores = "roc_auc" in names
    t_predict = time.perf_counter()
    pa = predict(va, x["A"], len(df), scores=want_scores)
    pb = predict(vb, x["B"], len(df), scores=want_scores)
    predict_seconds = time.perf_counter() - t_predict
    seed = _seed(seed)
    rng = np.random.default_rng(seed)
    t_stats = time.perf_counter()
    comps = _comparisons(names, y, pa, pb, resamples=resamples, level=level, rng=rng, strict=True)
    slices: list[dict[str, Any]] = []
    if slice is not None:
        for value, mask in _slices(df, slice):
            slices.append(
                {
                    "column": slice,
                    "value": value,
                    "rows": int(mask.sum()),
                    "metrics": _comparisons(
                        names,
                        y[mask],
                        _subset(pa, mask),
                        _subset(pb, mask),
                        resamples=resamples,
                        level=level,
                        rng=rng,
                        strict=False,
                    ),
                }
            )
    stats_seconds = time.perf_counter() - t_stats
    verdict = _verdict(comps[names[0]], level)
    report: dict[str, Any] = {
        "type": "evaluate",
        "a": va.as_dict(),
        "b": vb.as_dict(),
        "data": {**hash_data(store, data), "rows": len(df)},
        "target": target,
        "settings": {
            "metrics": names,
            "level": level,
            "resamples": resamples,
            "seed": seed,
            "slice": slice,
        },
        "metrics": comps,
        "slices": slices,
        "verdict": verdict,
        "headline": {f"{m}_diff": c["diff"] for m, c in comps.items() if "diff" in c},
        "timings": {
            "predict": round(predict_seconds, 6),
            "predict_a": round(pa.seconds, 6),
            "predict_b": round(pb.seconds, 6),
            "statistics": round(stats_seconds, 6),
            "total": round(time.perf_counter() - t0, 6),
        },
        "id": None,
    }
    if record:
        records.save(
            store,
            report,
            nb,
            f"evaluate {va.commit[:8]} vs {vb.commit[:8]} on {report['data']['path']}: "
            + verdict["text"].split(":")[0],
        )
    return report


# -- shadow -------------------------------------------------------------------------------
def _latency(v: Version, x: Any, rows: int) -> dict[str, Any]:
    """Percentiles of one-row predict calls over the first ``rows`` rows, in ms."""
    times = []
    for i in range(rows):
        one = x.iloc[i : i + 1] if hasattr(x, "iloc") else x[i : i + 1]
        t0 = time.perf_counter()
        v.model.predict(one)
        times.append((time.perf_counter() - t0) * 1000)
    if not times:
        return {"calls": 0}
    p50, p90, p99 = np.percentile(times, [50, 90, 99])
    return {
        "calls": len(times),
        "p50_ms": float(p50),
        "p90_ms": float(p90),
        "p99_ms": float(p99),
        "max_ms": float(max(times)),
    }


def _cell(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return value if isinstance(value, (int, float, str, bool)) or value is None else str(value)


def shadow(
    a: str,
    b: str,
    *,
    inputs: str | os.PathLike[str],
    variable: str | None = None,
    top: int = 10,
    latency_rows: int = 200,
    tolerance: float = 0.0,
    repo: str | os.PathLike[str] = ".",
    notebook: str | os.PathLike[str] | None = None,
    trust: bool = False,
    record: bool = True,
) -> dict[str, Any]:
    """Replay recorded inputs (no labels) through both versions.

    Reports the disagreement rate (labels that differ; for regressors, predictions
    more than ``tolerance`` apart), the population stability index and the two-sample
    KS test between the two prediction (or score) distributions, the latency
    percentiles of one-row calls of each version (first ``latency_rows`` rows) and the
    ``top`` rows where they disagree most.
    """
    t0 = time.perf_counter()
    store, nb, va, vb = _open(a, b, repo, notebook, variable, trust)
    df = read_table(inputs)
    if len(df) == 0:
        raise EvaluationError(f"inputs file {str(inputs)!r} has no rows")
    x = features(df, [va, vb], [])
    classifier = is_classifier(va.model) and is_classifier(vb.model)
    pa = predict(va, x["A"], len(df), scores=classifier)
    pb = predict(vb, x["B"], len(df), scores=classifier)
    sa: Any
    sb: Any
    if classifier:
        differ = pa.labels != pb.labels
        if pa.scores is not None and pb.scores is not None:
            sa, sb = pa.scores, pb.scores
            gap = np.abs(sa - sb)
            basis = "probability of the positive class"
        else:
            sa = sb = None
            gap = differ.astype(np.float64)
            basis = "predicted labels"
    else:
        sa = _numeric("shadow", pa.labels, "the predictions of A")
        sb = _numeric("shadow", pb.labels, "the predictions of B")
        gap = np.abs(sa - sb)
        differ = gap > tolerance
        basis = "predicted values"
    if sa is not None and sb is not None:
        ks_stat, ks_p = stats.ks(sa, sb)
        shift = {
            "basis": basis,
            "psi": stats.psi(sa, sb),
            "psi_method": "population stability index over decile bins of A",
            "ks": ks_stat,
            "ks_p_value": ks_p,
            "ks_method": "two-sample Kolmogorov-Smirnov (scipy.stats.ks_2samp)",
        }
    else:
        shift = {
            "basis": basis,
            "psi": stats.psi(pa.labels, pb.labels),
            "psi_method": "population stability index over the predicted labels",
            "ks": None,
            "ks_p_value": None,
            "ks_method": "not applicable to labels",
        }
    order = np.argsort(-gap, kind="stable")[: max(0, top)]
    cols = list(df.columns)[:20]
    rows = [
        {
            "row": int(i),
            "a": _cell(pa.labels[i]),
            "b": _cell(pb.labels[i]),
            "gap": float(gap[i]),
            "inputs": {str(c): _cell(df.iloc[int(i)][c]) for c in cols},
        }
        for i in order
        if gap[i] > 0
    ]
    k = min(max(0, latency_rows), len(df))
    report: dict[str, Any] = {
        "type": "shadow",
        "a": va.as_dict(),
        "b": vb.as_dict(),
        "data": {**hash_data(store, inputs), "rows": len(df)},
        "disagreement": {
            "rate": float(differ.mean()),
            "rows": int(differ.sum()),
            "basis": "labels differ" if classifier else f"|A - B| > {tolerance}",
        },
        "shift": shift,
        "latency": {
            "A": _latency(va, x["A"], k),
            "B": _latency(vb, x["B"], k),
            "method": f"wall time of one-row predict calls on the first {k} rows",
            "batch_seconds": {"A": pa.seconds, "B": pb.seconds},
        },
        "top": rows,
        "settings": {"top": top, "latency_rows": latency_rows, "tolerance": tolerance},
        "headline": {"disagreement_rate": float(differ.mean()), "psi": shift["psi"]},
        "verdict": {
            "better": None,
            "text": f"{differ.mean():.2%} of {len(df)} rows disagree; PSI {shift['psi']:.4f}",
        },
        "timings": {"total": round(time.perf_counter() - t0, 6)},
        "id": None,
    }
    if record:
        records.save(
            store,
            report,
            nb,
            f"shadow {va.commit[:8]} vs {vb.commit[:8]}: " + report["verdict"]["text"],
        )
    return report


# -- canary -------------------------------------------------------------------------------
_GUARD = re.compile(r"^\s*accuracy_(drop|gain)\s*(<=|>=)\s*([0-9.eE+-]+)\s*$")


def parse_guard(guard: str) -> float:
    """The threshold on ``accuracy(B) - accuracy(A)`` that a guard asks B to stay above:
    ``accuracy_drop <= d`` means ``>= -d``; ``accuracy_gain >= g`` means ``>= g``.

    Raises:
        EvaluationError: another form.
    """
    m = _GUARD.match(guard or "")
    if not m or (m.group(1) == "drop") != (m.group(2) == "<="):
        raise EvaluationError(
            f"guard {guard!r} not understood: use 'accuracy_drop <= 0.01' or 'accuracy_gain >= 0'"
        )
    try:
        value = float(m.group(3))
    except ValueError:
        raise EvaluationError(f"guard {guard!r}: {m.group(3)!r} is not a number") from None
    if not -1 < value < 1:
        raise EvaluationError(f"guard {guard!r}: the threshold must be between -1 and 1")
    return -value if m.group(1) == "drop" else value


def canary(
    a: str,
    b: str,
    *,
    stream: str | os.PathLike[str],
    target: str,
    fraction: float = 0.05,
    guard: str = "accuracy_drop <= 0.01",
    seed: int | None = None,
    level: float = DEFAULT_LEVEL,
    time_column: str | None = None,
    variable: str | None = None,
    repo: str | os.PathLike[str] = ".",
    notebook: str | os.PathLike[str] | None = None,
    trust: bool = False,
    record: bool = True,
) -> dict[str, Any]:
    """Simulate a canary: route ``fraction`` of a time-ordered labeled stream to B and
    watch ``accuracy(B) - accuracy(A)`` on the routed rows (both models score them, a
    paired difference) with an always-valid confidence sequence at ``level``.

    The first routed row at which the whole interval clears the guard's threshold
    promotes B; the first at which it lies below rolls B back; else the stream ended
    undecided. Reports the decision, the rows (routed and of the stream) it took and
    the interval then and at the end.
    """
    level = _check_level(level)
    threshold = parse_guard(guard)
    if not 0 < fraction <= 1:
        raise EvaluationError(f"fraction {fraction} must be in (0, 1]")
    t0 = time.perf_counter()
    store, nb, va, vb = _open(a, b, repo, notebook, variable, trust)
    df = read_table(stream)
    require_columns(df, [target] + ([time_column] if time_column else []), "stream")
    if time_column:
        df = df.sort_values(time_column, kind="stable").reset_index(drop=True)
    if not (is_classifier(va.model) and is_classifier(vb.model)):
        raise PredictionTypeError("canary guards accuracy: both models must be classifiers")
    seed = _seed(seed)
    rng = np.random.default_rng(seed)
    routed = np.flatnonzero(rng.random(len(df)) < fraction)
    if len(routed) == 0:
        raise EvaluationError(f"no row of {len(df)} was routed to B at fraction {fraction}")
    sub = df.iloc[routed]
    exclude = [target] + ([time_column] if time_column else [])
    x = features(sub, [va, vb], exclude)
    y = sub[target].to_numpy()
    pa = predict(va, x["A"], len(sub), scores=False)
    pb = predict(vb, x["B"], len(sub), scores=False)
    d = (pb.labels == y).astype(np.float64) - (pa.labels == y).astype(np.float64)
    lo01, hi01 = stats.eb_confidence_sequence((d + 1) / 2, 1 - level)
    lo, hi = 2 * lo01 - 1, 2 * hi01 - 1
    promote = np.flatnonzero(lo > threshold)
    rollback = np.flatnonzero(hi < threshold)
    first_p = int(promote[0]) if len(promote) else None
    first_r = int(rollback[0]) if len(rollback) else None
    if first_p is not None and (first_r is None or first_p < first_r):
        decision, at = "promote", first_p
    elif first_r is not None:
        decision, at = "rollback", first_r
    else:
        decision, at = "undecided", len(d) - 1
    cum = np.cumsum(d)
    pct = f"{level:.0%}"
    text = (
        f"{decision} after {at + 1} routed rows (row {int(routed[at]) + 1} of the stream): "
        f"accuracy(B) - accuracy(A) in [{lo[at]:+.4f}, {hi[at]:+.4f}] ({pct} confidence "
        f"sequence), guard {guard.strip()}"
        if decision != "undecided"
        else f"undecided after all {len(d)} routed rows: accuracy(B) - accuracy(A) in "
        f"[{lo[at]:+.4f}, {hi[at]:+.4f}] ({pct} confidence sequence) still straddles "
        f"{threshold:+.4f} (guard {guard.strip()})"
    )
    report: dict[str, Any] = {
        "type": "canary",
        "a": va.as_dict(),
        "b": vb.as_dict(),
        "data": {**hash_data(store, stream), "rows": len(df)},
        "target": target,
        "settings": {
            "fraction": fraction,
            "guard": guard.strip(),
            "threshold": threshold,
            "level": level,
            "seed": seed,
            "time_column": time_column,
        },
        "routed_rows": len(d),
        "decision": decision,
        "decided_after": None
        if decision == "undecided"
        else {"routed_rows": at + 1, "stream_rows": int(routed[at]) + 1},
        "at_decision": {"mean": float(cum[at] / (at + 1)), "ci": [float(lo[at]), float(hi[at])]},
        "at_end": {
            "mean": float(cum[-1] / len(d)),
            "ci": [float(lo[-1]), float(hi[-1])],
            "accuracy_a": float((pa.labels == y).mean()),
            "accuracy_b": float((pb.labels == y).mean()),
        },
        "method": "predictable plug-in empirical-Bernstein confidence sequence "
        "(Waudby-Smith & Ramdas 2023) on the paired per-row difference of correctness",
        "headline": {"accuracy_diff": float(cum[-1] / len(d))},
        "verdict": {
            "better": "b" if decision == "promote" else "a" if decision == "rollback" else None,
            "decision": decision,
            "level": level,
            "text": text,
        },
        "timings": {"total": round(time.perf_counter() - t0, 6)},
        "id": None,
    }
    if record:
        records.save(store, report, nb, f"canary {va.commit[:8]} -> {vb.commit[:8]}: {decision}")
    return report


# -- stored evaluations -----------------------------------------------------------------
def evaluations(
    *,
    repo: str | os.PathLike[str] = ".",
    notebook: str | os.PathLike[str] | None = None,
    all_notebooks: bool = False,
) -> list[dict[str, Any]]:
    """The stored evaluations of a notebook (or all), newest first: ``id``, ``type``,
    ``time``, ``author``, ``a`` and ``b``, ``verdict``, ``data``, ``message``."""
    store = open_store(repo)
    nb = rel_notebook(store, notebook)
    return records.listing(store, nb, all_notebooks or notebook is None)


def latest(
    a: str,
    b: str,
    *,
    repo: str | os.PathLike[str] = ".",
    notebook: str | os.PathLike[str] | None = None,
    type: str = "evaluate",
) -> dict[str, Any] | None:
    """The newest stored evaluation of ``type`` comparing ``a`` (as A) with ``b`` (as
    B), or None: a promotion gate reads ``report["verdict"]["better"] == "b"`` or the
    interval of ``report["metrics"][metric]["ci"]``."""
    store = open_store(repo)
    nb = rel_notebook(store, notebook)
    ca, cb = resolve(store, a, nb), resolve(store, b, nb)
    for e in records.listing(store, nb, True):
        if e["type"] == type and e["a"].get("commit") == ca and e["b"].get("commit") == cb:
            return records.report_of(store, e["id"])
    return None
