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
