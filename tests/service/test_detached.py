"""Checking out an old commit detaches the notebook there: status compares with it, and
the next commit starts a branch from it (service/checkouts.py, service/commits.py)."""

from __future__ import annotations

from pathlib import Path

import nbformat

from mlvc_server import service
from mlvc_server.store.revisions import detached


def _write(path: Path, source: str) -> None:
    book = nbformat.v4.new_notebook()
    book.cells = [nbformat.v4.new_code_cell(source, id="c0")]
    nbformat.write(book, path)


def test_commit_after_checking_out_an_old_commit_starts_a_branch_there(tmp_path: Path) -> None:
    nb = tmp_path / "a.ipynb"
    kw = {"repo": tmp_path, "notebook": nb}
    _write(nb, "C = 1")
    service.init(tmp_path)
    a = service.commit("C=1", params={"C": 1}, sources=False, **kw)
    _write(nb, "C = 2")
    b = service.commit("C=2", params={"C": 2}, sources=False, **kw)

    done = service.checkout(a, **kw)
    assert done["commit"] == a and done["branch"] == "main"
    st = service.status(**kw)
    assert st["head"] == a and st["detached"] is True
    assert st["notebook"] is not None and st["notebook"]["changed"] is False  # it is a's
    assert service.show("HEAD", **kw)["id"] == a

    _write(nb, "C = 3")
    c = service.commit("C=3 from the first", params={"C": 3}, sources=False, **kw)
    record = service.show(c, **kw)
    assert record["parents"] == [a]
    branch = f"main-from-{a[:7]}"
    assert record["branch"] == branch
    heads = {x["name"]: x for x in service.branches(**kw)}
    assert heads["main"]["head"] == b  # main is where it was
    assert heads[branch]["head"] == c and heads[branch]["current"] is True
    st = service.status(**kw)
    assert st["detached"] is False and st["head"] == c and st["branch"] == branch


def test_checking_out_a_branch_or_its_tip_is_not_detached(tmp_path: Path) -> None:
    nb = tmp_path / "a.ipynb"
    kw = {"repo": tmp_path, "notebook": nb}
    _write(nb, "C = 1")
    service.init(tmp_path)
    a = service.commit("one", sources=False, **kw)
    _write(nb, "C = 2")
    b = service.commit("two", sources=False, **kw)
    service.checkout(a, **kw)
    assert service.status(**kw)["detached"] is True
    service.checkout("main", **kw)
    assert service.status(**kw)["detached"] is False
    service.checkout(a, **kw)
    service.checkout(b, **kw)  # the tip, by id
    assert service.status(**kw)["detached"] is False
    service.checkout(a, **kw)
    service.switch_branch("main", **kw)  # switching branches ends it too
    st = service.status(**kw)
    assert st["detached"] is False and st["head"] == b


def test_a_taken_branch_name_gets_a_number(tmp_path: Path) -> None:
    nb = tmp_path / "a.ipynb"
    kw = {"repo": tmp_path, "notebook": nb}
    _write(nb, "C = 1")
    service.init(tmp_path)
    a = service.commit("one", sources=False, **kw)
    _write(nb, "C = 2")
    service.commit("two", sources=False, **kw)
    for n, expected in ((1, f"main-from-{a[:7]}"), (2, f"main-from-{a[:7]}-2")):
        service.checkout("main", **kw)
        service.checkout(a, **kw)
        _write(nb, f"C = {10 + n}")
        cid = service.commit(f"try {n}", sources=False, **kw)
        assert service.show(cid, **kw)["branch"] == expected
        assert service.show(cid, **kw)["parents"] == [a]
    # a detached notebook's state file names a full id
    from mlvc_server.store import Store

    with Store(tmp_path) as store:
        assert detached(store, "a.ipynb") is None
