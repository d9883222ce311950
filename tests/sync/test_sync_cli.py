"""The ``mlvc`` commands remote, push, pull, clone, gc and du."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

import mlvc_server as mlvc
from mlvc_server import service
from mlvc_server.cli import main

from .conftest import bare, git, weights


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_remote_push_clone_pull_from_the_command_line(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    remote = bare(tmp_path / "team.git")
    c1 = mlvc.commit("first", variables=weights(1), repo=project)
    a = str(project)

    assert run(capsys, "-C", a, "remote", "add", "origin", str(remote))[0] == 0
    code, out, _ = run(capsys, "-C", a, "remote", "list", "--json")
    assert code == 0 and json.loads(out)[0]["url"] == str(remote)
    code, out, _ = run(capsys, "-C", a, "push")
    assert code == 0 and "branch 'main': created" in out

    b = tmp_path / "b"
    code, out, _ = run(capsys, "clone", str(remote), str(b), "--json")
    assert code == 0 and json.loads(out)["refs"][0]["status"] == "created"
    assert mlvc.load(c1, "w0", repo=b).tobytes() == weights(1)["w0"].tobytes()

    mlvc.commit("theirs", variables={"x": 1}, repo=b)
    assert run(capsys, "-C", str(b), "push")[0] == 0
    mlvc.commit("mine", variables={"x": 2}, repo=project)
    code, out, err = run(capsys, "-C", a, "push")
    assert code == 1  # rejected: nothing overwritten
    assert "diverged" in out and "1 local commit(s)" in out and "rejected" in err
    code, out, _ = run(capsys, "-C", a, "pull")
    assert code == 0 and "has diverged: 1 local commit(s), 1 on origin" in out
    code, out, _ = run(capsys, "-C", a, "push", "--force", "origin", "main")
    assert code == 0 and "overwrote" in out

    assert run(capsys, "-C", a, "remote", "remove", "origin")[0] == 0
    code, _, err = run(capsys, "-C", a, "push")
    assert code == 1 and "no remote" in err


def test_gc_and_du_from_the_command_line(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for i in range(3):
        mlvc.commit(f"v{i}", variables=weights(i), repo=project)
    a = str(project)

    code, out, _ = run(capsys, "-C", a, "du", "--commits")
    assert code == 0 and "main: 10.3 MiB in 3 commit(s)" in out
    code, out, _ = run(capsys, "-C", a, "gc", "--keep-last", "1", "--dry-run", "--grace", "now")
    assert code == 0 and out.startswith("would free 6.87 MiB") and "dry run" in out
    code, out, _ = run(capsys, "-C", a, "gc", "--keep-last", "1", "--grace", "now", "--json")
    report = json.loads(out)
    assert code == 0 and len(report["commits_pruned"]) == 2 and report["bytes_freed"] > 7e6
    code, out, _ = run(capsys, "-C", a, "du", "--json")
    du = json.loads(out)
    assert du["payload_bytes_local"] < du["payload_bytes_unique"] / 2
    code, _, err = run(capsys, "-C", a, "gc", "--keep-newer-than", "soon")
    assert code == 1 and "invalid duration" in err


def _notebook(path: Path, source: str) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source, id="c0")]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


def test_clone_writes_each_notebook_as_its_main_branch_has_it(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    remote = bare(tmp_path / "team.git")
    _notebook(project / "train.ipynb", "x = 1")
    _notebook(project / "sub" / "prep.ipynb", "y = 1")
    mlvc.commit("train 1", repo=project, notebook=project / "train.ipynb")
    service.branch("exp", repo=project, notebook=project / "train.ipynb")
    _notebook(project / "train.ipynb", "x = 2")
    mlvc.commit("on exp", repo=project, notebook=project / "train.ipynb")
    # prep's only branch is not main: it is written from that branch, now its current one
    service.branch("clean", repo=project, notebook=project / "sub" / "prep.ipynb")
    mlvc.commit("prep", repo=project, notebook=project / "sub" / "prep.ipynb")
    service.remote_add("origin", str(remote), repo=project)
    service.push(repo=project)

    b = tmp_path / "b"
    (b / "sub").mkdir(parents=True)
    (b / "sub" / "prep.ipynb").write_text("mine")  # a file in the way is left alone
    code, out, _ = run(capsys, "clone", str(remote), str(b))
    assert code == 0 and "notebooks written: train.ipynb" in out
    assert (b / "sub" / "prep.ipynb").read_text() == "mine"
    assert nbformat.read(b / "train.ipynb", as_version=4).cells[0].source == "x = 1"
    st = service.status(repo=b, notebook="train.ipynb")
    assert st["branch"] == "main" and st["notebook"]["changed"] is False

    c = Path(service.clone(str(remote), tmp_path / "c")["path"])
    assert nbformat.read(c / "sub" / "prep.ipynb", as_version=4).cells[0].source == "y = 1"
    assert service.status(repo=c, notebook="sub/prep.ipynb")["branch"] == "clean"


def test_clone_never_writes_a_notebook_outside_its_folder(project: Path, tmp_path: Path) -> None:
    remote = bare(tmp_path / "team.git")
    _notebook(project / "train.ipynb", "x = 1")
    cid = mlvc.commit("train 1", repo=project, notebook=project / "train.ipynb")
    service.remote_add("origin", str(remote), repo=project)
    service.push(repo=project)
    # a hostile remote names a notebook above the clone's folder, and one in its store
    for key in ("%2E%2E/evil.ipynb", "%2Emlvc/evil.ipynb"):
        git(remote, "update-ref", f"refs/heads/{key}/main", cid)
    out = service.clone(str(remote), tmp_path / "b" / "c")
    assert out["notebooks"] == ["train.ipynb"]
    assert not (tmp_path / "b" / "evil.ipynb").exists()
    assert not (tmp_path / "b" / "c" / ".mlvc" / "evil.ipynb").exists()


def test_pull_brings_unchanged_notebooks_along_and_leaves_edited_ones(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    remote = bare(tmp_path / "team.git")
    nb = project / "train.ipynb"
    _notebook(nb, "x = 1")
    mlvc.commit("one", repo=project, notebook=nb)
    service.remote_add("origin", str(remote), repo=project)
    service.push(repo=project)
    b = Path(service.clone(str(remote), tmp_path / "b")["path"])
    assert (b / "train.ipynb").read_bytes() == nb.read_bytes()

    # a colleague's new version and a new notebook: both come with the pull
    _notebook(nb, "x = 2")
    two = mlvc.commit("two", repo=project, notebook=nb)
    _notebook(project / "eval.ipynb", "e = 1")
    mlvc.commit("eval", repo=project, notebook=project / "eval.ipynb")
    service.push(repo=project)
    code, out, _ = run(capsys, "-C", str(b), "pull")
    assert code == 0 and "notebooks updated: eval.ipynb, train.ipynb" in out
    assert (b / "train.ipynb").read_bytes() == nb.read_bytes()
    assert (b / "eval.ipynb").read_bytes() == (project / "eval.ipynb").read_bytes()
    st = service.status(repo=b, notebook="train.ipynb")
    assert st["head"] == two and st["notebook"]["changed"] is False

    # edits of one's own are never overwritten: the branch moves, the file stays
    _notebook(b / "train.ipynb", "x = 'mine'")
    mine = (b / "train.ipynb").read_bytes()
    _notebook(nb, "x = 3")
    mlvc.commit("three", repo=project, notebook=nb)
    service.push(repo=project)
    report = service.pull(repo=b)
    assert report["notebooks"] == []
    assert (b / "train.ipynb").read_bytes() == mine
    assert service.status(repo=b, notebook="train.ipynb")["notebook"]["changed"] is True
