"""The Python API as a notebook or training script uses it, checked with the real git client."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import nbformat
import numpy as np
import pytest

import mlvc_server as mlvc
from mlvc_server import service
from mlvc_server.errors import (
    CorruptObjectError,
    InvalidNameError,
    NoSpaceError,
    RefConflictError,
    RevisionNotFoundError,
    TrustError,
    VariableNotFoundError,
)


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "--git-dir", str(root / ".mlvc"), *args],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def write_nb(path: Path, *sources: str) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s, id=f"cell-{i}") for i, s in enumerate(sources)]
    path.write_text(nbformat.writes(nb))


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLVC_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("MLVC_AUTHOR_NAME", "Ana")
    monkeypatch.setenv("MLVC_AUTHOR_EMAIL", "ana@example.org")
    write_nb(tmp_path / "train.ipynb", "import numpy as np", "X = np.arange(10)")
    return tmp_path


def test_commit_is_a_git_commit_plain_git_reads(project: Path) -> None:
    X = np.random.default_rng(0).normal(size=(100, 4))
    cid = mlvc.commit(
        "first model",
        variables={"X": X, "lr": 0.1, "tags": ["a", "b"]},
        notebook="train.ipynb",
        params={"C": 1.0},
        metrics={"acc": 0.93},
    )
    assert git(project, "log", "--format=%H %an <%ae> %s").strip() == (
        f"{cid} Ana <ana@example.org> first model"
    )
    files = set(git(project, "ls-tree", "-r", "--name-only", cid).split())
    assert {"mlvc.json", "env.json", "hardware.json", "train.ipynb"} <= files
    assert "vars/X/manifest.json" in files
    record = json.loads(git(project, "show", f"{cid}:mlvc.json"))
    assert record["message"] == "first model"
    assert record["params"] == {"C": 1.0} and record["metrics"] == {"acc": 0.93}
    assert record["variables"]["X"]["shape"] == [100, 4]
    assert record["variables"]["X"]["dtype"] == "float64"
    assert record["variables"]["lr"]["format"] == "json"
    nb = nbformat.reads(git(project, "show", f"{cid}:train.ipynb"), as_version=4)
    assert nb.cells[1].source == "X = np.arange(10)"
    # concatenating the parts the manifest names gives a valid .npy file; the parts are
    # kept by the payload index ref, not named in the commit's tree
    manifest = json.loads(git(project, "show", f"{cid}:vars/X/manifest.json"))
    parts = [p for seg in manifest["segments"] for p in seg["parts"]]
    assert not any(p.startswith("vars/X/0") for p in files)
    kept = git(project, "ls-tree", "-r", "refs/mlvc/payloads")
    assert all(p in kept for p in parts)
    raw = b"".join(
        subprocess.run(
            ["git", "--git-dir", str(project / ".mlvc"), "cat-file", "blob", p],
            check=True,
            capture_output=True,
        ).stdout
        for p in parts
    )
    (project / "x.npy").write_bytes(raw)
    assert np.array_equal(np.load(project / "x.npy", allow_pickle=False), X)


def test_many_commits_pass_git_fsck_strict(project: Path) -> None:
    rng = np.random.default_rng(1)
    w = rng.normal(size=50_000)
    for i in range(30):
        w[i * 100 : i * 100 + 10] += 1
        mlvc.commit(f"step {i}", variables={"w": w, "i": i}, notebook="train.ipynb")
        if i == 15:
            mlvc.branch("exp")
    git(project, "fsck", "--strict", "--no-dangling")
    assert mlvc.fsck()["ok"]
    assert len(git(project, "log", "--all", "--format=%H").split()) == 30


def test_restore_and_load_exact(project: Path) -> None:
    a = np.arange(12, dtype=np.int32).reshape(3, 4)
    cid = mlvc.commit("v1", variables={"a": a, "cfg": {"depth": 3, "act": "relu"}})
    mlvc.commit("v2", variables={"a": a * 2, "cfg": {"depth": 4, "act": "relu"}})
    got = mlvc.restore(cid)
    assert set(got) == {"a", "cfg"}
    assert got["a"].dtype == np.int32 and np.array_equal(got["a"], a)
    assert got["cfg"] == {"depth": 3, "act": "relu"}
    assert np.array_equal(mlvc.load("HEAD", "a"), a * 2)
    assert np.array_equal(mlvc.load("HEAD~1", "a"), a)
    assert mlvc.restore(cid, ["cfg"]) == {"cfg": {"depth": 3, "act": "relu"}}
    with pytest.raises(VariableNotFoundError):
        mlvc.load(cid, "nope")


def test_unstorable_variable_is_skipped_and_named(project: Path) -> None:
    import threading

    gen = (i for i in range(3))
    cid = mlvc.commit("x", variables={"gen": gen, "lock": threading.Lock(), "ok": 1})
    rec = mlvc.show(cid)
    assert set(rec["variables"]) == {"ok"}
    assert "generator" in rec["skipped"]["gen"]
    assert "lock" in rec["skipped"]["lock"].lower()
    with pytest.raises(VariableNotFoundError, match="skipped"):
        mlvc.load(cid, "gen")


def test_too_large_variable_is_skipped(project: Path) -> None:
    cid = mlvc.commit(
        "x", variables={"big": np.zeros(1000), "small": np.zeros(2)}, max_variable_bytes=1000
    )
    rec = mlvc.show(cid)
    assert "big" in rec["skipped"] and "small" in rec["variables"]


def test_per_notebook_histories_do_not_mix(project: Path) -> None:
    write_nb(project / "other.ipynb", "y = 2")
    a1 = mlvc.commit("train 1", notebook="train.ipynb")
    b1 = mlvc.commit("other 1", notebook="other.ipynb")
    a2 = mlvc.commit("train 2", notebook="train.ipynb")
    assert [c["id"] for c in mlvc.log(notebook="train.ipynb")] == [a2, a1]
    assert [c["id"] for c in mlvc.log(notebook="other.ipynb")] == [b1]
    assert {c["id"] for c in mlvc.log()} == {a1, a2, b1}
    assert mlvc.log(notebook="train.ipynb")[0]["parents"] == [a1]


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


def test_diff_sections(project: Path) -> None:
    (project / "data.csv").write_text("a,b\n1,2\n")
    w = np.linspace(0, 1, 1000)
    c1 = mlvc.commit(
        "one",
        variables={"w": w, "C": 1.0},
        notebook="train.ipynb",
        params={"C": 1.0, "max_iter": 100},
        metrics={"acc": 0.951},
        data=["data.csv"],
    )
    w2 = w.copy()
    w2[:100] += 0.5
    (project / "data.csv").write_text("a,b\n1,2\n3,4\n")
    write_nb(project / "train.ipynb", "import numpy as np", "X = np.arange(20)", "print(X)")
    c2 = mlvc.commit(
        "two",
        variables={"w": w2, "C": 0.5, "new": 1},
        notebook="train.ipynb",
        params={"C": 0.5, "max_iter": 100},
        metrics={"acc": 0.962},
        data=["data.csv"],
    )
    d = mlvc.diff(c1, c2)
    assert d["a"]["id"] == c1 and d["b"]["id"] == c2
    params = {e["key"]: e for e in d["params"]}
    assert params["C"]["status"] == "changed" and params["C"]["delta"] == -0.5
    assert params["max_iter"]["status"] == "unchanged"
    assert d["metrics"][0]["delta"] == pytest.approx(0.011)
    var = {v["name"]: v for v in d["variables"]}
    assert var["w"]["status"] == "changed"
    assert var["w"]["fraction_changed"] == pytest.approx(0.1)
    assert var["w"]["max_abs_diff"] == pytest.approx(0.5)
    assert var["C"]["a"]["value"] == 1.0 and var["C"]["b"]["value"] == 0.5
    assert var["new"]["status"] == "added"
    assert d["data"][0]["status"] == "changed"
    assert d["notebook"]["status"] == "changed"
    assert d["notebook"]["cells"] == {"added": 1, "removed": 0, "modified": 1, "outputs_changed": 0}
    assert set(d) >= {"params", "metrics", "variables", "data", "env", "hardware", "notebook"}
    json.dumps(d)  # the REST API sends it as is
    view = d["notebook"]["cell_view"]
    assert [c["status"] for c in view] == ["unchanged", "modified", "added"]
    assert view[1]["lines"] == [["-", "X = np.arange(10)"], ["+", "X = np.arange(20)"]]
    assert view[2]["b"]["source"] == "print(X)" and "a" not in view[2]
    fast = mlvc.diff(c1, c2, cells=False)
    assert "diff" not in fast["notebook"]


def test_cell_view_pairs_cells_and_keeps_outputs_small() -> None:
    import nbdime
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

    from mlvc_server.diffs import OUTPUT_TEXT_LIMIT, cell_view

    def out(text: str) -> Any:
        return new_output("stream", name="stdout", text=text)

    a = new_notebook(
        cells=[
            new_markdown_cell("# Title"),
            new_code_cell("gone = 1"),
            new_code_cell("print(acc)", execution_count=1, outputs=[out("0.91\n")]),
            new_code_cell("x = 1\ny = 2"),
            new_code_cell("big()", outputs=[out("z" * (OUTPUT_TEXT_LIMIT + 50))]),
        ]
    )
    b = new_notebook(
        cells=[
            new_markdown_cell("# Title"),
            new_code_cell("print(acc)", execution_count=2, outputs=[out("0.95\n")]),
            new_code_cell("x = 1\ny = 3"),
            new_code_cell("new()"),
            new_code_cell("big()", outputs=[out("z" * (OUTPUT_TEXT_LIMIT + 50))]),
        ]
    )
    view = cell_view(a, b, nbdime.diff_notebooks(a, b))
    statuses = [c["status"] for c in view]
    assert statuses == ["unchanged", "removed", "outputs", "modified", "added", "unchanged"]
    assert view[1]["a"]["source"] == "gone = 1"
    assert view[2]["a"]["outputs"][0]["text"] == "0.91\n"
    assert view[2]["b"]["execution_count"] == 2
    assert view[3]["lines"] == [[" ", "x = 1"], ["-", "y = 2"], ["+", "y = 3"]]
    assert len(view[5]["b"]["outputs"][0]["text"]) == OUTPUT_TEXT_LIMIT


def test_status_sees_changed_notebook_data_and_variables(project: Path) -> None:
    (project / "d.csv").write_text("x\n1\n")
    a = np.arange(100_000.0)
    mlvc.commit("one", variables={"a": a, "b": 2}, notebook="train.ipynb", data=["d.csv"])
    st = mlvc.status(notebook="train.ipynb", variables={"a": a, "b": 3, "c": 1})
    assert st["branch"] == "main" and st["notebook"]["changed"] is False
    assert st["variables"] == {"a": "unchanged", "b": "changed", "c": "added"}
    assert st["data"] == {"d.csv": "unchanged"}
    (project / "d.csv").write_text("x\n2\n")
    write_nb(project / "train.ipynb", "edited")
    st = mlvc.status(notebook="train.ipynb")
    assert st["data"] == {"d.csv": "changed"} and st["notebook"]["changed"] is True


def test_params_and_metrics_logged_before_commit(project: Path) -> None:
    mlvc.log_params(lr=np.float32(0.25), layers=3)
    for step, loss in enumerate([0.9, 0.5, 0.3]):
        mlvc.log_metrics(loss=loss, step=step)
    cid = mlvc.commit("trained")
    rec = mlvc.show(cid)
    assert rec["params"] == {"lr": 0.25, "layers": 3}
    assert rec["metrics"] == {"loss": 0.3}
    assert rec["metric_series"] == {"loss": [[0, 0.9], [1, 0.5], [2, 0.3]]}
    assert mlvc.show(mlvc.commit("next"))["params"] == {}  # consumed by the commit


def test_pickle_needs_trust_unless_signed_by_this_user(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Thing:
        def __init__(self) -> None:
            self.x = 42

    cid = mlvc.commit("p", variables={"t": Thing()})
    assert mlvc.show(cid)["variables"]["t"]["format"] == "pickle"
    assert mlvc.load(cid, "t").x == 42  # signed by us
    # another user (another key) must say they trust it
    monkeypatch.setenv("MLVC_CONFIG_DIR", str(project / "other-user"))
    with pytest.raises(TrustError, match="did not write"):
        mlvc.load(cid, "t")
    assert mlvc.load(cid, "t", trust=True).x == 42


def test_failed_commit_leaves_the_branch_as_it_was(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    c1 = mlvc.commit("good", variables={"a": np.zeros(10)}, notebook="train.ipynb")

    def disk_full(*a: Any, **k: Any) -> Any:
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as m:
        m.setattr(service.payload_store, "write_payload", disk_full)
        with pytest.raises(NoSpaceError, match=r"no space left.*No space left on device"):
            mlvc.commit("bad", variables={"a": np.ones(10)}, notebook="train.ipynb")
    assert [c["id"] for c in mlvc.log(notebook="train.ipynb")] == [c1]
    assert mlvc.fsck()["ok"]


def test_concurrent_ref_move_is_reported_not_lost(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    c1 = mlvc.commit("one")
    store = service._store(".")
    real_ref = store.ref

    def stale_ref(name: bytes) -> str | None:
        return c1 if name.startswith(b"refs/heads/") else real_ref(name)

    c2 = mlvc.commit("two")  # moves main past c1
    with monkeypatch.context() as m:
        m.setattr(store, "ref", stale_ref)  # a writer that read the ref before c2
        with pytest.raises(RefConflictError, match="another process"):
            mlvc.commit("three")
    assert [c["id"] for c in mlvc.log()] == [c2, c1]


def test_fsck_finds_flipped_and_missing_payload_bytes(project: Path) -> None:
    import os

    cid = mlvc.commit("x", variables={"a": np.arange(200_000.0)})
    store = service._store(".")
    manifest = service._manifest(store, cid, "a")
    part = manifest["segments"][1]["parts"][0]
    path = project / ".mlvc" / "objects" / part[:2] / part[2:]
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0x10
    os.chmod(path, 0o644)
    path.write_bytes(bytes(raw))
    report = mlvc.fsck()
    assert not report["ok"] and any(part in p for p in report["problems"])
    with pytest.raises(CorruptObjectError, match="damaged"):
        mlvc.load(cid, "a")
    path.unlink()
    with pytest.raises(CorruptObjectError, match="missing"):
        mlvc.load(cid, "a")
    assert not mlvc.fsck()["ok"]


def test_notebook_outside_project_is_refused(project: Path, tmp_path_factory: Any) -> None:
    mlvc.init(".")
    outside = tmp_path_factory.mktemp("elsewhere") / "x.ipynb"
    write_nb(outside, "1")
    with pytest.raises(InvalidNameError, match="outside the project"):
        mlvc.commit("x", notebook=str(outside))


def _commit_many(root: str, worker: int, n: int) -> list[str]:
    import mlvc_server as m

    return [
        m.commit(
            f"w{worker} c{i}",
            variables={"x": np.full(1000, worker * 100 + i)},
            repo=root,
            notebook=f"{root}/train.ipynb",
            sources=False,
        )
        for i in range(n)
    ]


def test_concurrent_writers_lose_no_commit(project: Path) -> None:
    from concurrent.futures import ProcessPoolExecutor

    mlvc.init(".")
    with ProcessPoolExecutor(4) as pool:
        futures = [pool.submit(_commit_many, str(project), w, 8) for w in range(4)]
        made = {cid for f in futures for cid in f.result()}
    assert len(made) == 32
    history = mlvc.log(notebook="train.ipynb")
    assert {c["id"] for c in history} == made  # one linear branch holding every commit
    assert all(len(c["parents"]) <= 1 for c in history)
    git(project, "fsck", "--strict")
    assert mlvc.fsck()["ok"]
    for cid in list(made)[:5]:
        rec = mlvc.show(cid)
        worker, i = int(rec["message"][1]), int(rec["message"].split("c")[-1])
        assert mlvc.load(cid, "x")[0] == worker * 100 + i


def test_deep_notebook_path_commits(project: Path) -> None:
    deep = project / "/".join(["folder" + "x" * 40] * 6)
    deep.mkdir(parents=True)
    write_nb(deep / "train.ipynb", "1")
    cid = mlvc.commit("deep", notebook=deep / "train.ipynb")
    assert mlvc.branches(notebook=deep / "train.ipynb")[0]["head"] == cid


def test_diff_of_a_notebook_that_is_not_nbformat_says_so(project: Path) -> None:
    (project / "train.ipynb").write_text('{"cells": "nope"}')
    a = mlvc.commit("a", notebook="train.ipynb")
    (project / "train.ipynb").write_text('{"cells": "still nope"}')
    b = mlvc.commit("b", notebook="train.ipynb")
    nb = mlvc.diff(a, b)["notebook"]
    assert nb["status"] == "changed" and "cannot be compared" in nb["error"]


def test_log_lists_children_before_parents_within_one_second(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Commit times are whole seconds: many commits share one. The log must still be
    # topological (the panel draws its graph from that order).
    monkeypatch.setattr(service.time, "time", lambda: 1_800_000_000.25)
    base = mlvc.commit("base", variables={"x": 0}, notebook="train.ipynb")
    for k in range(8):
        service.branch(f"b{k}", base, notebook="train.ipynb")
        for j in range(2):
            mlvc.commit(f"b{k}.{j}", variables={"x": k * 10 + j}, notebook="train.ipynb")
    service.switch_branch("main", notebook="train.ipynb")
    for j in range(3):
        mlvc.commit(f"main {j}", variables={"x": -j}, notebook="train.ipynb")
    order = mlvc.log(notebook="train.ipynb")
    assert len(order) == 1 + 8 * 2 + 3
    position = {c["id"]: i for i, c in enumerate(order)}
    for c in order:
        for p in c["parents"]:
            assert position[p] > position[c["id"]], f"{c['message']} listed after its parent"
    assert "gen" not in order[0] and "ts" not in order[0]


def test_commit_to_a_new_branch_starts_from_head(project: Path) -> None:
    base = mlvc.commit("base", variables={"x": 1}, notebook="train.ipynb")
    on_exp = mlvc.commit("on exp", variables={"x": 2}, notebook="train.ipynb", branch="exp")
    assert mlvc.show(on_exp)["parents"] == [base]
    assert {b["name"]: b["head"] for b in mlvc.branches(notebook="train.ipynb")} == {
        "main": base,
        "exp": on_exp,
    }
