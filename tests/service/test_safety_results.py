"""Safety commits hold no new result: compare and series leave them out unless asked."""

from __future__ import annotations

from pathlib import Path

import nbformat

from mlvc_server import service


def _nb(path: Path) -> Path:
    book = nbformat.v4.new_notebook()
    book.cells = [nbformat.v4.new_code_cell("x = 1", id="c0")]
    nbformat.write(book, path)
    return path


def test_compare_and_series_leave_safety_commits_out_by_default(tmp_path: Path) -> None:
    nb = _nb(tmp_path / "a.ipynb")
    service.init(tmp_path)
    kw = {"repo": tmp_path, "notebook": nb}
    first = service.commit("C=1", params={"C": 1}, metrics={"acc": 0.5}, sources=False, **kw)
    # a safety commit made in a kernel finds the same metrics in the namespace
    safety = service.commit(
        "Before checkout of main", kind="safety", metrics={"acc": 0.5}, sources=False, **kw
    )

    table = service.compare(**kw)
    assert [r["id"] for r in table["rows"]] == [first]
    assert table["columns"] == {"params": ["C"], "metrics": ["acc"]}
    every = service.compare(include_safety=True, **kw)
    assert [r["id"] for r in every["rows"]] == [safety, first]
    # commits named explicitly are compared as asked
    named = service.compare(revs=[safety, first], **kw)
    assert [r["id"] for r in named["rows"]] == [safety, first]

    assert [p["id"] for p in service.series(**kw)["series"]["acc"]["points"]] == [first]
    series = service.series(include_safety=True, **kw)["series"]
    assert [p["id"] for p in series["acc"]["points"]] == [first, safety]


def test_a_branch_tip_diff_skips_the_safety_commit_on_top(tmp_path: Path) -> None:
    nb = _nb(tmp_path / "a.ipynb")
    service.init(tmp_path)
    kw = {"repo": tmp_path, "notebook": nb}
    base = service.commit("baseline", params={"C": 1.0}, metrics={"acc": 0.9}, sources=False, **kw)
    service.branch("other-c", **kw)
    tried = service.commit("C=10", params={"C": 10.0}, metrics={"acc": 0.8}, sources=False, **kw)
    safety = service.commit("Before checkout of main", kind="safety", sources=False, **kw)
    assert (
        service.branches(**kw)[[b["name"] for b in service.branches(**kw)].index("other-c")]["head"]
        == safety
    )

    d = service.diff("main", "other-c", **kw)
    assert d["b"]["id"] == tried
    assert d["params"] == [{"key": "C", "status": "changed", "a": 1.0, "b": 10.0, "delta": 9.0}]
    raw = service.diff("main", "other-c", include_safety=True, **kw)
    assert raw["b"]["id"] == safety
    assert [(p["key"], p["status"]) for p in raw["params"]] == [("C", "removed")]
    # a commit id is taken as it is
    assert service.diff(base, safety, **kw)["b"]["id"] == safety
