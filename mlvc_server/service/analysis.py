"""Analysis: compare commits' params and metrics, and metric series for charts."""

from __future__ import annotations

import math
import os
import re
from collections.abc import Collection, Iterable
from typing import Any

from ..errors import QueryError
from ..store.revisions import resolve
from .compat import legacy_positional
from .format import CompareTable, SeriesTable, Summary, read_record
from .history import log, summary_of
from .query import compile_query
from .workspace import open_store, rel_notebook

#: Metric names made of (or ending in) these words are better when lower; the others
#: when higher. See :func:`metric_goal`.
LOWER_IS_BETTER = frozenset(
    {
        "loss",
        "error",
        "err",
        "mse",
        "rmse",
        "mae",
        "mape",
        "smape",
        "nll",
        "perplexity",
        "ppl",
        "wer",
        "cer",
        "fpr",
        "fnr",
        "latency",
        "duration",
        "time",
        "seconds",
    }
)


def metric_goal(name: str) -> str:
    """Whether a metric is better when higher (``"max"``) or lower (``"min"``).

    The name is split into words at every character that is not a letter or digit
    (``val_loss`` -> ``val``, ``loss``); it is ``"min"`` when one of the words is in
    :data:`LOWER_IS_BETTER` or the name ends in ``loss`` or ``error`` (``valloss``),
    else ``"max"`` (accuracy, F1, AUC, R2, BLEU...).

    Args:
        name: the metric's name.
    """
    low = name.lower()
    words = {w for w in re.split(r"[^a-z0-9]+", low) if w}
    if words & LOWER_IS_BETTER or low.endswith(("loss", "error")):
        return "min"
    return "max"


def _number(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, int | float):
        return None
    f = float(v)
    return f if math.isfinite(f) else None


def _results(commits: list[Any], include_safety: bool) -> list[Any]:
    """The commits that hold results: safety commits left out unless asked for."""
    if include_safety:
        return commits
    return [c for c in commits if c.get("kind") != "safety"]


def runs(commits: list[Summary]) -> list[Summary]:
    """The commits of runs: evaluations of two versions (kind ``evaluation``, whose
    metrics are differences) are no rows of a compare table or points of a series."""
    return [c for c in commits if c.get("kind") != "evaluation"]


@legacy_positional("repo", "notebook")
def compare(
    *,
    repo: str | os.PathLike[str] = ".",
    notebook: str | os.PathLike[str] | None = None,
    revs: Iterable[str] | None = None,
    branch: str | None = None,
    limit: int | None = None,
    include_safety: bool = False,
    where: str | None = None,
    sort: str | None = None,
    only_differing: bool = False,
) -> CompareTable:
    """A table of params and metrics over commits, with the best value of each metric.

    Args:
        notebook: the notebook whose history is compared.
        revs: these revisions, in this order (duplicates once); None: the history.
        branch: with ``revs`` None, only commits reachable from this branch.
        limit: with ``revs`` None, the newest this many commits (that match ``where``).
        where: only commits matching this query (see :mod:`mlvc_server.service.query`).
        sort: order the rows by this field: ``metrics.NAME`` (best first, by
            :func:`metric_goal`), ``params.NAME``, ``time``, ``branch``, ``message``,
            ``author`` or ``status`` (ascending); a leading ``-`` reverses it. Rows
            without the value come last.
        only_differing: leave out the params and metrics columns whose value is the
            same in every row.
        include_safety: with ``revs`` None, keep the safety commits mlvc made before
            checkouts (left out by default: they hold no new result).

    Returns:
        ``rows`` (one per commit: ``id``, ``short_id``, ``message``, ``author``, ``time``,
        ``branch``, ``status``, ``branches``, ``tags``, ``params``, ``metrics``),
        ``columns`` (``params`` and ``metrics``: the sorted union of names) and ``best``
        (metric -> ``goal``, ``value`` and ``ids``, the commits that reach it; numeric
        values only, goal by :func:`metric_goal`).
    """
    if revs is not None:
        store = open_store(repo)
        nb = rel_notebook(store, notebook)
        ids = list(dict.fromkeys(resolve(store, r, nb) for r in revs))
        commits = [summary_of(store, cid) for cid in ids]
        if where is not None:
            pred = compile_query(where)
            commits = [c for c in commits if pred(c)]
    else:
        commits = _results(
            runs(log(repo=repo, notebook=notebook, branch=branch, limit=limit, where=where)),
            include_safety,
        )
    keys = ("id", "short_id", "message", "author", "time", "branch", "status")
    rows: list[dict[str, Any]] = [
        {
            **{k: c.get(k) for k in keys},
            "branches": c.get("branches", []),
            "tags": c.get("tags", []),
            "params": c.get("params", {}),
            "metrics": c.get("metrics", {}),
        }
        for c in commits
    ]
    if sort:
        rows = _sorted_rows(rows, sort)
    params = sorted({k for r in rows for k in r["params"]})
    metrics = sorted({k for r in rows for k in r["metrics"]})
    if only_differing and len(rows) > 1:
        params = [k for k in params if _differs(rows, "params", k)]
        metrics = [k for k in metrics if _differs(rows, "metrics", k)]
    best: dict[str, Any] = {}
    for m in metrics:
        goal = metric_goal(m)
        values = [(v, r["id"]) for r in rows if (v := _number(r["metrics"].get(m))) is not None]
        if not values:
            continue
        top = (min if goal == "min" else max)(v for v, _ in values)
        best[m] = {"goal": goal, "value": top, "ids": [cid for v, cid in values if v == top]}
    return {"rows": rows, "columns": {"params": params, "metrics": metrics}, "best": best}


#: The fields :func:`compare` sorts by, besides ``params.NAME`` and ``metrics.NAME``.
SORT_FIELDS = ("time", "branch", "message", "author", "status")


def _sort_value(row: dict[str, Any], field: str) -> Any:
    head, _, name = field.partition(".")
    if head in ("params", "metrics"):
        return row[head].get(name)
    return row.get(head)


def _sorted_rows(rows: list[dict[str, Any]], sort: str) -> list[dict[str, Any]]:
    field = sort.lstrip("-")
    reverse = sort.startswith("-")
    head, _, name = field.partition(".")
    if not ((head in ("params", "metrics") and name) or (head in SORT_FIELDS and not name)):
        raise QueryError(
            f"cannot sort by {sort!r}: give metrics.NAME, params.NAME or one of "
            f"{', '.join(SORT_FIELDS)} (a leading '-' reverses)",
            query=sort,
        )
    if head == "metrics" and metric_goal(name) == "max":
        reverse = not reverse  # best first

    def key(row: dict[str, Any]) -> tuple[int, Any]:
        v = _sort_value(row, field)
        n = _number(v)
        if n is not None:
            return (0, n)
        return (1, str(v)) if isinstance(v, str) else (2, "")

    present = [r for r in rows if _sort_value(r, field) is not None]
    missing = [r for r in rows if _sort_value(r, field) is None]
    numbers = [r for r in present if key(r)[0] == 0]
    others = [r for r in present if key(r)[0] != 0]
    numbers.sort(key=lambda r: key(r)[1], reverse=reverse)
    others.sort(key=lambda r: key(r)[1], reverse=reverse)
    return numbers + others + missing


def _differs(rows: list[dict[str, Any]], section: str, name: str) -> bool:
    marker = object()
    first = rows[0][section].get(name, marker)
    return any(r[section].get(name, marker) != first for r in rows[1:])


@legacy_positional("repo", "notebook")
def series(
    *,
    repo: str | os.PathLike[str] = ".",
    notebook: str | os.PathLike[str] | None = None,
    metric: str | None = None,
    branch: str | None = None,
    limit: int | None = None,
    include_safety: bool = False,
    ids: Collection[str] | None = None,
) -> SeriesTable:
    """Metric values for charts: across commits, and step by step within each commit.

    Args:
        notebook: the notebook whose history is read.
        metric: only this metric; None: every metric.
        branch: only commits reachable from this branch.
        limit: the newest this many commits.
        include_safety: keep the safety commits (left out by default).
        ids: only these commits (full ids: the rows of a compare table); only their
            records are read.

    Returns:
        ``series``: metric -> ``goal``, ``points`` (oldest commit first: ``id``,
        ``short_id``, ``time``, ``branch``, ``value``) and ``steps`` (per commit that
        logged a series with ``log_metrics(step=...)``: ``id``, ``short_id``,
        ``branch``, ``message`` and ``steps``, a list of ``[step, value]``). Only
        numeric values are included.
    """
    commits = _results(
        runs(log(repo=repo, notebook=notebook, branch=branch, limit=limit)), include_safety
    )
    if ids is not None:
        commits = [c for c in commits if c["id"] in ids]
    commits.reverse()
    store = open_store(repo)
    out: dict[str, dict[str, Any]] = {}

    def entry(name: str) -> dict[str, Any]:
        e = out.get(name)
        if e is None:
            e = out[name] = {"goal": metric_goal(name), "points": [], "steps": []}
        return e

    for c in commits:
        head_fields = {"id": c["id"], "short_id": c["short_id"]}
        for name, value in c.get("metrics", {}).items():
            v = _number(value)
            if v is not None and (metric is None or name == metric):
                entry(name)["points"].append(
                    {**head_fields, "time": c["time"], "branch": c["branch"], "value": v}
                )
        rec_series = read_record(store, c["id"]).get("metric_series") or {}
        for name, steps in rec_series.items():
            if metric is not None and name != metric:
                continue
            pts = [
                [s, v]
                for s, v in ((p[0], _number(p[1])) for p in steps if len(p) == 2)
                if v is not None and _number(s) is not None
            ]
            if pts:
                entry(name)["steps"].append(
                    {
                        **head_fields,
                        "branch": c["branch"],
                        "message": c["message"],
                        "steps": pts,
                    }
                )
    return {"series": out}
