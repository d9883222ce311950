"""The query language (service/query.py) and ``where`` in log and compare."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mlvc_server import service
from mlvc_server.errors import QueryError, http_status
from mlvc_server.service.query import compile_query

RUN: dict[str, Any] = {
    "id": "0123456789abcdef0123456789abcdef01234567",
    "short_id": "01234567",
    "message": "sweep run",
    "author": "Ana",
    "email": "ana@example.org",
    "time": "2026-03-01T10:00:00+00:00",
    "branch": "sweep-a",
    "notebook": "train.ipynb",
    "status": "ok",
    "params": {"C": 0.5, "model": "svc", "opt.lr": 0.01, "flag": True, "n": 3},
    "metrics": {"acc": 0.95, "loss": 0.2},
    "variables": ["clf"],
    "parents": [],
    "branches": ["sweep-a"],
    "tags": ["best", "v1"],
}


def ok(q: str, c: dict[str, Any] = RUN) -> bool:
    return compile_query(q)(c)


@pytest.mark.parametrize(
    "q",
    [
        'metrics.acc > 0.9 and params.C < 1 and branch ~ "sweep-*" and kind != "safety"',
        "metrics.acc >= 0.95 and metrics.loss <= 0.2",
        "params.model = svc",
        "params.model == 'svc'",
        "params.opt.lr = 1e-2",
        "params.flag = true",
        "params.n = 3.0",
        "params.missing = null",
        "params.C exists",
        "not kind exists",
        "params.C in [1, 0.5]",
        "params.model not in ['rf', 'knn']",
        "tags = best",
        "tags ~ 'v*'",
        "id = 01234567",
        "short_id = 0123",
        'message ~ "*run"',
        'time >= "2026-01-01"',
        "status != failed",
        "variables = clf",
        "(metrics.acc > 0.99 or params.C < 1) and status = ok",
    ],
)
def test_queries_that_match(q: str) -> None:
    assert ok(q)


@pytest.mark.parametrize(
    "q",
    [
        "metrics.acc > 0.99",
        "params.C > 1",
        "params.model = SVC",  # case-sensitive
        "params.flag = 1",  # a boolean is not a number
        "params.n = '3'",  # a number is not a string
        "params.C < 'z'",  # ordering across types is false
        "params.missing > 0",
        "params.missing exists",
        "kind = safety",
        "tags = nope",
        "tags !~ 'v*'",
        "id = 0124",
        "params.C not in [0.5]",
        "branch ~ 'sweep'",  # a glob matches the whole name
    ],
)
def test_queries_that_do_not_match(q: str) -> None:
    assert not ok(q)


def test_precedence_not_over_and_over_or() -> None:
    # or binds loosest: true or (false and false)
    assert ok("params.C = 0.5 or params.C = 9 and params.n = 9")
    # parentheses change it: (true or false) and false
    assert not ok("(params.C = 0.5 or params.C = 9) and params.n = 9")
    # not binds tighter than and: (not false) and true
    assert ok("not params.C = 9 and params.n = 3")
    assert not ok("not (params.C = 0.5 and params.n = 3)")
    assert ok("not not params.C = 0.5")


def test_a_missing_value_is_null() -> None:
    safety = {**RUN, "kind": "safety"}
    assert ok('kind != "safety"') and not ok('kind != "safety"', safety)
    assert ok("kind = null") and not ok("kind = null", safety)


@pytest.mark.parametrize(
    ("q", "column", "words"),
    [
        ("metrics.acc > 0.9 and and x = 1", 23, "unexpected 'and'"),
        ("metrics.acc >> 1", 14, "unexpected '>'"),
        ("metrics.acc >", 14, "ends too early"),
        ("foo = 1", 1, "unknown field 'foo'"),
        ("params = 1", 1, "'params' needs a name"),
        ('branch = "main', 10, "a string is not closed"),
        ("params.C in 1", 13, "expected '['"),
        ("params.C $ 1", 10, "unexpected character '$'"),
        ("branch ~ 3", 1, "glob pattern"),
        ("(params.C = 1", 14, "expected ')'"),
    ],
)
def test_errors_point_at_the_bad_token(q: str, column: int, words: str) -> None:
    with pytest.raises(QueryError) as info:
        compile_query(q)
    err = info.value
    assert err.column == column
    assert f"column {column}" in str(err) and words in str(err)
    # the query is shown with a caret under the bad token
    query_line, caret_line = str(err).splitlines()[-2:]
    assert query_line.strip() == q
    assert caret_line.index("^") == query_line.index(q) + column - 1
    assert http_status(err) == 400


def test_empty_and_huge_queries_are_refused() -> None:
    for q in ("", "   ", "params.C = 1 " + "or params.C = 1 " * 400):
        with pytest.raises(QueryError):
            compile_query(q)


def commit(root: Path, message: str, branch: str | None = None, **kw: Any) -> str:
    return service.commit(
        message, notebook=root / "train.ipynb", repo=root, sources=False, branch=branch, **kw
    )


def test_log_and_compare_where(project: Path) -> None:
    a = commit(project, "a", params={"C": 0.1}, metrics={"acc": 0.8})
    b = commit(project, "b", params={"C": 1.0}, metrics={"acc": 0.93})
    c = commit(project, "c", branch="sweep-1", params={"C": 0.5}, metrics={"acc": 0.97})
    d = commit(project, "d", branch="sweep-1", params={"C": 5}, metrics={"acc": 0.91})
    nb = project / "train.ipynb"
    q = 'metrics.acc > 0.9 and params.C < 2 and branch ~ "sweep-*"'
    assert [x["id"] for x in service.log(repo=project, notebook=nb, where=q)] == [c]
    assert [x["id"] for x in service.log(repo=project, notebook=nb, where="metrics.acc > 0.9")] == [
        d,
        c,
        b,
    ]
    # limit and skip page through the matches
    page = service.log(repo=project, notebook=nb, where="metrics.acc > 0.9", limit=1, skip=1)
    assert [x["id"] for x in page] == [c]
    assert service.log(repo=project, notebook=nb, where="params.C > 100") == []
    table = service.compare(repo=project, notebook=nb, where="metrics.acc > 0.85")
    assert {r["id"] for r in table["rows"]} == {b, c, d}
    assert table["best"]["acc"]["ids"] == [c]
    picked = service.compare(repo=project, notebook=nb, revs=[a, b, c], where="params.C >= 0.5")
    assert [r["id"] for r in picked["rows"]] == [b, c]
    with pytest.raises(QueryError):
        service.log(repo=project, notebook=nb, where="metrics.acc >")


def test_compare_sort_and_only_differing(project: Path) -> None:
    nb = project / "train.ipynb"
    a = commit(project, "a", params={"C": 0.1, "k": "rbf"}, metrics={"acc": 0.8, "loss": 0.5})
    b = commit(project, "b", params={"C": 1.0, "k": "rbf"}, metrics={"acc": 0.9, "loss": 0.7})
    c = commit(project, "c", params={"C": 0.5, "k": "rbf"}, metrics={"acc": 0.85})
    ids = lambda t: [r["id"] for r in t["rows"]]  # noqa: E731
    assert ids(service.compare(repo=project, notebook=nb, sort="metrics.acc")) == [b, c, a]
    assert ids(service.compare(repo=project, notebook=nb, sort="-metrics.acc")) == [a, c, b]
    # lower is better for a loss; commits without it come last
    assert ids(service.compare(repo=project, notebook=nb, sort="metrics.loss")) == [a, b, c]
    assert ids(service.compare(repo=project, notebook=nb, sort="params.C")) == [a, c, b]
    table = service.compare(repo=project, notebook=nb, only_differing=True)
    assert table["columns"] == {"params": ["C"], "metrics": ["acc", "loss"]}
    with pytest.raises(QueryError, match="cannot sort by"):
        service.compare(repo=project, notebook=nb, sort="nope")
