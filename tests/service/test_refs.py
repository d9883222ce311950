"""Branches, tags and revisions (mlvc_server/service/refs.py), and checkout."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

import mlvc_server as mlvc
from mlvc_server import service
from mlvc_server.errors import (
    InvalidNameError,
    RefConflictError,
    RevisionNotFoundError,
)

from .conftest import git, write_nb


def test_branches_and_checkout_roll_back_without_losing_history(project: Path) -> None:
    nb = "train.ipynb"
    c1 = mlvc.commit("C=1", notebook=nb, params={"C": 1})
    mlvc.branch("lr-sweep", notebook=nb)
    write_nb(project / nb, "C = 0.3")
    c2 = mlvc.commit("C=0.3", notebook=nb, params={"C": 0.3})
    assert mlvc.log(notebook=nb, branch="lr-sweep")[0]["id"] == c2
    assert mlvc.log(notebook=nb, branch="main")[0]["id"] == c1
    assert {b["name"]: b["current"] for b in mlvc.branches(notebook=nb)} == {
        "lr-sweep": True,
        "main": False,
    }
    # unsaved work in the notebook is committed first, then the old notebook comes back
    write_nb(project / nb, "C = 0.01  # not committed yet")
    out = mlvc.checkout("main", notebook=nb)
    assert out["safety_commit"] is not None and out["branch"] == "main"
    assert nbformat.read(project / nb, as_version=4).cells[0].source == "import numpy as np"
    safety = mlvc.show(out["safety_commit"])
    assert safety["branch"] == "lr-sweep"
    assert "not committed yet" in service.notebook_at(out["safety_commit"]).decode()
    # rolling back to a commit id keeps the branch; the next commit lands on top
    out = mlvc.checkout(c1[:10], notebook=nb)
    assert out["safety_commit"] is None and out["branch"] == "main"


def test_branch_errors(project: Path) -> None:
    mlvc.commit("x", notebook="train.ipynb")
    with pytest.raises(InvalidNameError):
        mlvc.branch("bad name", notebook="train.ipynb")
    mlvc.branch("exp", notebook="train.ipynb", switch=False)
    with pytest.raises(RefConflictError):
        mlvc.branch("exp", notebook="train.ipynb")
    with pytest.raises(RevisionNotFoundError):
        mlvc.branch("exp2", rev="nosuch", notebook="train.ipynb")


def test_tags_and_movable_aliases(project: Path) -> None:
    nb = "train.ipynb"
    c1 = mlvc.commit("one", notebook=nb)
    c2 = mlvc.commit("two", notebook=nb)
    mlvc.tag("champion", c1, notebook=nb)
    assert mlvc.show("champion", notebook=nb)["id"] == c1
    with pytest.raises(RefConflictError):
        mlvc.tag("champion", c2, notebook=nb)
    mlvc.tag("champion", c2, notebook=nb, force=True)
    assert service.log(notebook=nb)[0]["tags"] == ["champion"]
    git(project, "fsck", "--strict")
    mlvc.tag("champion", notebook=nb, delete=True)
    assert mlvc.tags(notebook=nb) == []


def test_revisions(project: Path) -> None:
    ids = [mlvc.commit(f"c{i}", notebook="train.ipynb") for i in range(4)]
    nb = "train.ipynb"
    assert service.show("HEAD", notebook=nb)["id"] == ids[3]
    assert service.show("HEAD~2", notebook=nb)["id"] == ids[1]
    assert service.show("HEAD^^^", notebook=nb)["id"] == ids[0]
    assert service.show("main~1", notebook=nb)["id"] == ids[2]
    assert service.show(ids[1][:7])["id"] == ids[1]
    with pytest.raises(RevisionNotFoundError, match="shorter"):
        service.show("HEAD~9", notebook=nb)
    with pytest.raises(RevisionNotFoundError):
        service.show("nosuchthing")
