"""The model registry (service/registry.py): versions per name, resolve, load_model,
gated promotion (metrics, a real stored evaluation, approvals), history, rollback,
concurrent writers, gc, and push/pull/clone of ``refs/mlvc/registry/*``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier

import mlvc_server as mlvc
from mlvc_server import service
from mlvc_server.errors import (
    GateFailedError,
    InvalidNameError,
    ModelNotFoundError,
    QueryError,
    RegistryError,
    TrustError,
    VariableNotFoundError,
    http_status,
)
from mlvc_server.service import evaluation, registry


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MLVC_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("MLVC_AUTHOR_NAME", "ana")
    monkeypatch.setenv("MLVC_AUTHOR_EMAIL", "ana@example.org")
    root = tmp_path / "p"
    root.mkdir()
    mlvc.init(root)
    monkeypatch.chdir(root)
    return root


def frame(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    df = pd.DataFrame(x, columns=["f0", "f1", "f2"])
    df["y"] = (x[:, 0] + 0.7 * x[:, 1] + rng.normal(scale=0.8, size=n) > 0).astype(int)
    return df


@pytest.fixture
def two(project: Path) -> tuple[str, str]:
    """A weak model (a stump, auc ~0.7) and a better one (logistic regression)."""
    frame(3000).to_parquet(project / "test.parquet")
    train = frame(2000, seed=1)
    feats = train[["f0", "f1", "f2"]]
    a = mlvc.commit(
        "stump",
        {"model": DecisionTreeClassifier(max_depth=1).fit(feats, train.y)},
        metrics={"auc": 0.7},
        params={"depth": 1},
        repo=project,
    )
    b = mlvc.commit(
        "logreg",
        {"model": LogisticRegression().fit(feats, train.y)},
        metrics={"auc": 0.9},
        repo=project,
    )
    return a, b


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "--git-dir", str(root / ".mlvc"), *args], check=True, capture_output=True, text=True
    ).stdout


def test_versions_are_numbered_per_name_and_resolved_by_version_alias_or_latest(
    project: Path, two: tuple[str, str]
) -> None:
    a, b = two
    v1 = mlvc.register("churn", a, "model", message="first")
    assert (v1["name"], v1["version"], v1["commit"], v1["variable"]) == ("churn", 1, a, "model")
    assert v1["registered_by"] == "ana" and v1["kind"] == "sklearn"
    assert v1["metrics"] == {"auc": 0.7} and v1["params"] == {"depth": 1}
    assert mlvc.register("churn", b, "model")["version"] == 2
    assert mlvc.register("fraud", b, "model")["version"] == 1  # numbered per name

    info = mlvc.model("churn")
    assert [v["version"] for v in info["versions"]] == [2, 1] and info["latest"] == 2
    assert [m["name"] for m in mlvc.models()] == ["churn", "fraud"]
    assert mlvc.resolve("churn")["version"] == 2
    assert mlvc.resolve("churn@latest")["version"] == 2
    assert mlvc.resolve("churn@1")["commit"] == a
    mlvc.promote("churn", 1, "production", reason="first release")
    got = mlvc.resolve("churn@production")
    assert got["version"] == 1 and got["aliases"] == ["production"]

    with pytest.raises(ModelNotFoundError, match="no alias 'staging'"):
        mlvc.resolve("churn@staging")
    with pytest.raises(ModelNotFoundError, match="no version 9"):
        mlvc.resolve("churn@9")
    with pytest.raises(ModelNotFoundError, match="no registered model 'nope'"):
        mlvc.model("nope")
    for bad in ("", "a/b", "-x", "a..b", "x.lock", "é"):
        with pytest.raises(InvalidNameError):
            mlvc.register(bad, a, "model")
    with pytest.raises(InvalidNameError):
        mlvc.promote("churn", 1, "latest", reason="x")
    with pytest.raises(VariableNotFoundError):
        mlvc.register("churn", a, "nope")
    assert mlvc.model("churn")["latest"] == 2  # the refused calls registered nothing
    assert http_status(ModelNotFoundError("x")) == 404

    # plain git reads the model's state (the real client)
    state = json.loads(git(project, "show", "refs/mlvc/registry/churn:model.json"))
    assert state["name"] == "churn" and state["aliases"] == {"production": 1}
    assert state["versions"]["2"]["commit"] == b and state["event"]["type"] == "promote"
    # the register event links the registered commit as its last parent
    first = registry.history("churn")[-1]
    assert first["type"] == "register"
    assert git(project, "rev-list", "--parents", "-n", "1", first["id"]).split()[1:] == [a]
    assert service.fsck(repo=project)["ok"]


def test_load_model_loads_the_object_and_needs_trust_only_for_a_foreign_pickle(
    project: Path, two: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _a, b = two
    mlvc.register("churn", b, "model")
    clf = mlvc.load_model("churn@1")
    x = frame(50, seed=5)[["f0", "f1", "f2"]]
    assert isinstance(clf, LogisticRegression)
    assert (clf.predict(x) == mlvc.load(b, "model").predict(x)).all()

    class Odd:  # no safe format: a pickle
        def __init__(self) -> None:
            self.w = [1, 2, 3]

    monkeypatch.setattr(sys.modules[__name__], "Odd", Odd, raising=False)
    Odd.__module__ = __name__
    Odd.__qualname__ = "Odd"
    c = mlvc.commit("odd", {"odd": Odd()}, repo=project, allow_pickle=True)
    version = mlvc.register("odd", c, "odd")
    assert version["kind"].startswith("pickle") or "pickle" in version["kind"]
    assert mlvc.load_model("odd").w == [1, 2, 3]  # this user wrote (signed) it
    # another user (another signing key) needs trust for the pickle, not for sklearn
    monkeypatch.setenv("MLVC_CONFIG_DIR", str(project.parent / "other-config"))
    with pytest.raises(TrustError):
        mlvc.load_model("odd")
    assert mlvc.load_model("odd", trust=True).w == [1, 2, 3]
    assert isinstance(mlvc.load_model("churn"), LogisticRegression)


def test_a_failing_metrics_gate_refuses_with_the_reason_and_changes_nothing(
    project: Path, two: tuple[str, str]
) -> None:
    a, b = two
    mlvc.register("churn", a, "model")
    mlvc.register("churn", b, "model")
    with pytest.raises(QueryError):
        mlvc.set_gates("churn", "production", metrics="metrics.auc >=")
    info = mlvc.set_gates("churn", "production", metrics="metrics.auc >= 0.8")
    assert info["gates"]["production"] == {
        "metrics": "metrics.auc >= 0.8",
        "evaluated": False,
        "approvals": 0,
    }
    ref_before = git(project, "rev-parse", "refs/mlvc/registry/churn")
    with pytest.raises(GateFailedError) as e:
        mlvc.promote("churn", 1, "production", reason="try the stump")
    assert "metrics gate failed" in str(e.value) and "auc=0.7" in str(e.value)
    assert e.value.gates == [{"gate": "metrics", "ok": False, "detail": e.value.gates[0]["detail"]}]
    assert http_status(e.value) == 409
    assert git(project, "rev-parse", "refs/mlvc/registry/churn") == ref_before
    assert "production" not in mlvc.model("churn")["aliases"]

    dry = mlvc.promote("churn", 1, "production", reason="check", dry_run=True)
    assert dry["promoted"] is False and dry["gates"][0]["ok"] is False and dry["event"] is None
    assert git(project, "rev-parse", "refs/mlvc/registry/churn") == ref_before

    p = mlvc.promote("churn", 2, "production", reason="auc 0.9")
    assert p["promoted"] and p["previous"] is None and p["gates"][0]["ok"]
    assert mlvc.resolve("churn@production")["version"] == 2
    with pytest.raises(RegistryError, match="already"):
        mlvc.promote("churn", 2, "production", reason="again")
    with pytest.raises(RegistryError, match="reason"):
        mlvc.promote("churn", 1, "staging", reason=" ")


def test_the_evaluated_gate_reads_a_real_stored_evaluation(
    project: Path, two: tuple[str, str]
) -> None:
    a, b = two
    mlvc.register("churn", a, "model")
    mlvc.register("churn", b, "model")
    mlvc.set_gates("churn", "production", evaluated=True)
    first = mlvc.promote("churn", 1, "production", reason="no holder yet")
    assert first["gates"] == [
        {"gate": "evaluated", "ok": True, "detail": "no current holder to compare with"}
    ]
    with pytest.raises(GateFailedError, match="no stored evaluation of version 1"):
        mlvc.promote("churn", 2, "production", reason="logreg")
    report = evaluation.evaluate(
        a, b, data="test.parquet", target="y", metrics="accuracy", seed=1, repo=project
    )
    assert report["verdict"]["better"] == "b"
    p = mlvc.promote("churn", 2, "production", reason="logreg wins the evaluation")
    (gate,) = p["gates"]
    assert gate["ok"] and report["id"][:8] in gate["detail"] and p["previous"] == 1
    # back to the stump: the stored evaluation (stump as A, logreg as B) finds the holder
    # (logreg) better, read the other way round
    with pytest.raises(GateFailedError, match="the holder, version 2, is better"):
        mlvc.promote("churn", 1, "production", reason="regress")
    assert mlvc.resolve("churn@production")["version"] == 2


def test_the_approvals_gate_counts_distinct_users_other_than_the_promoter(
    project: Path, two: tuple[str, str]
) -> None:
    a, _b = two
    mlvc.register("churn", a, "model")
    mlvc.set_gates("churn", "production", approvals=2)
    mlvc.approve("churn", 1, "production", user="ana")  # the promoter: does not count
    ev = mlvc.approve("churn", 1, "production", user="bob", comment="looks good")
    assert (ev["type"], ev["user"], ev["reason"], ev["version"]) == (
        "approve",
        "bob",
        "looks good",
        1,
    )
    with pytest.raises(RegistryError, match="bob approved"):
        mlvc.approve("churn", 1, "production", user="bob")
    with pytest.raises(GateFailedError, match=r"1 of 2 approval"):
        mlvc.promote("churn", 1, "production", reason="ship", user="ana")
    # for another promoter ana's approval counts and bob's own does not
    (check,) = mlvc.check_gates("churn", 1, "production", user="bob")
    assert check["ok"] is False and "1 of 2" in check["detail"] and "(ana)" in check["detail"]
    (check,) = mlvc.check_gates("churn", 1, "production", user="carol")
    assert check["ok"] is True and "(ana, bob)" in check["detail"]
    mlvc.approve("churn", 1, "production", user="dan")
    p = mlvc.promote("churn", 1, "production", reason="ship", user="ana")
    assert p["promoted"] and "2 of 2" in p["gates"][0]["detail"]
    # approvals are per version and alias
    assert mlvc.check_gates("churn", 1, "staging") == []


def test_every_move_is_recorded_and_rollback_is_one_call(
    project: Path, two: tuple[str, str]
) -> None:
    a, b = two
    for cid in (a, b, a):
        mlvc.register("churn", cid, "model")
    mlvc.set_gates("churn", "production", metrics="metrics.auc > 0")
    mlvc.promote("churn", 1, "production", reason="r1", user="ana")
    mlvc.promote("churn", 2, "production", reason="r2", user="bob")
    mlvc.promote("churn", 3, "production", reason="r3", user="ana")
    back = mlvc.rollback("churn", "production", reason="v3 broke", user="carol")
    assert (back["version"], back["previous"], back["promoted"]) == (2, 3, True)
    assert mlvc.resolve("churn@production")["version"] == 2
    assert mlvc.rollback("churn", "production", reason="v2 too")["version"] == 1
    with pytest.raises(RegistryError, match="no earlier holder"):
        mlvc.rollback("churn", "production", reason="nothing left")
    with pytest.raises(ModelNotFoundError, match="no alias"):
        mlvc.rollback("churn", "staging", reason="x")

    events = mlvc.model_history("churn")
    assert [e["type"] for e in events] == [
        "rollback",
        "rollback",
        "promote",
        "promote",
        "promote",
        "gates",
        "register",
        "register",
        "register",
    ]
    top = events[2]
    assert (top["user"], top["version"], top["previous"], top["reason"]) == ("ana", 3, 2, "r3")
    assert top["gates"][0]["gate"] == "metrics" and top["gates"][0]["ok"]
    assert events[0]["user"] == "carol" or events[1]["user"] == "carol"
    assert all(e["time"] and len(e["id"]) == 40 for e in events)
    assert len({e["id"] for e in events}) == len(events)


_WORKER = textwrap.dedent(
    """
    import json, sys
    import mlvc_server as mlvc
    from mlvc_server.errors import RegistryError
    repo, who, rev, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    out = {"registered": [], "promoted": []}
    sys.stdin.readline()  # start together
    for i in range(n):
        out["registered"].append(mlvc.register("m", rev, "model", repo=repo, user=who)["version"])
    for v in out["registered"]:
        try:
            p = mlvc.promote("m", v, "production", reason=who, repo=repo, user=who)
            out["promoted"].append([v, p["previous"]])
        except RegistryError as e:
            out["promoted"].append([v, "error: " + str(e)])
    print(json.dumps(out))
    """
)


def test_concurrent_writers_from_several_processes_never_lose_an_update(
    project: Path, two: tuple[str, str]
) -> None:
    a, _b = two
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER, str(project), f"u{i}", a, "3"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for i in range(4)
    ]
    for p in procs:
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()
    outs = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        outs.append(json.loads(out))
    registered = sorted(v for o in outs for v in o["registered"])
    assert registered == list(range(1, 13))  # 12 distinct versions: none numbered twice
    info = mlvc.model("m")
    assert [v["version"] for v in info["versions"]] == list(range(12, 0, -1))
    events = list(reversed(mlvc.model_history("m")))
    assert [e["type"] for e in events].count("register") == 12
    promotes = [e for e in events if e["type"] == "promote"]
    assert len(promotes) == sum(
        1 for o in outs for _v, p in o["promoted"] if not str(p).startswith("error")
    )
    assert len(promotes) >= 9  # only "already holds that version" may refuse one
    # the chain is serial: each promotion's previous holder is the one before it
    held = None
    for e in promotes:
        assert e["previous"] == held
        held = e["version"]
    assert info["aliases"]["production"] == held


def test_gc_keeps_registered_commits_and_their_payloads(project: Path) -> None:
    rng = np.random.default_rng(0)
    big = [rng.normal(size=200_000) for _ in range(4)]  # retention drops big payloads
    base = mlvc.commit("base", {"w": big[0]}, repo=project)
    service.branch("exp", repo=project)
    kept = mlvc.commit("registered, then superseded", {"w": big[1]}, repo=project)
    mlvc.commit("exp tip", {"w": big[2]}, repo=project)
    mlvc.register("churn", kept, "w")
    # a commit whose branch is deleted: only the registry reaches it
    service.branch("tmp", repo=project)
    lone = mlvc.commit("on a branch deleted later", {"w": big[3]}, repo=project)
    mlvc.register("lone", lone, "w")
    service.switch_branch("main", repo=project)
    service.delete_branch("tmp", repo=project)
    service.delete_branch("exp", repo=project)
    mlvc.commit("main tip", {"n": 1}, repo=project)

    report = service.gc(repo=project, keep_last=1, grace=0)
    assert base in report["commits_pruned"]  # the policy pruned what is not registered...
    assert kept not in report["commits_pruned"] and lone not in report["commits_pruned"]
    assert (mlvc.load_model("churn@1") == big[1]).all()  # ...not the registered versions
    assert (mlvc.load_model("lone") == big[3]).all()
    assert service.fsck(repo=project)["ok"]


def test_the_registry_travels_with_push_pull_and_clone(
    project: Path, two: tuple[str, str], tmp_path: Path
) -> None:
    a, b = two
    mlvc.register("churn", a, "model")
    mlvc.register("churn", b, "model")
    mlvc.promote("churn", 1, "production", reason="first")
    mlvc.promote("churn", 2, "production", reason="best")
    bare = tmp_path / "remote.git"
    subprocess.run(["git", "init", "--bare", "-q", str(bare)], check=True)
    service.remote_add("origin", str(bare), repo=project)
    pushed = service.push(repo=project)
    row = next(r for r in pushed["refs"] if r["ref"] == "refs/mlvc/registry/churn")
    assert row["status"] == "created" and row["kind"] == "model"
    state = json.loads(
        subprocess.run(
            ["git", "--git-dir", str(bare), "show", "refs/mlvc/registry/churn:model.json"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    assert state["aliases"] == {"production": 2}

    clone = tmp_path / "clone"
    service.clone(str(bare), clone)
    assert mlvc.model("churn", repo=clone)["aliases"] == {"production": 2}
    assert isinstance(mlvc.load_model("churn@production", repo=clone), LogisticRegression)
    assert len(mlvc.model_history("churn", repo=clone)) == 4

    # the clone moves the alias and pushes; the first project fast-forwards on pull
    mlvc.rollback("churn", "production", reason="clone says no", repo=clone, user="bob")
    mlvc.promote("churn", 1, "staging", reason="try", repo=clone, user="bob")
    mlvc.register("churn", b, "model", repo=clone, user="bob", message="bob's v3")
    assert service.push(repo=clone)["rejected"] == 0
    # meanwhile the first project registered its own v3 and approved and promoted it:
    # its push is refused (the remote moved): pull first
    mlvc.register("churn", a, "model", message="ana's v3")
    mlvc.approve("churn", 3, "staging", user="carol")
    mlvc.promote("churn", 3, "staging", reason="ana's pick")
    refused = service.push(repo=project)
    row = next(r for r in refused["refs"] if r["ref"] == "refs/mlvc/registry/churn")
    assert row["status"] == "rejected" and "pull first" in row["message"]
    assert refused["rejected"] == 1
    # the pull replays ana's three events on top of the remote's: her v3 becomes v4
    pulled = service.pull(repo=project)
    row = next(r for r in pulled["refs"] if r["ref"] == "refs/mlvc/registry/churn")
    assert row["status"] == "replayed" and pulled["diverged"] == 0
    assert row["replay"]["renumbered"] == {"3": 4} and row["replay"]["skipped"] == []
    info = mlvc.model("churn")
    assert [(v["version"], v["message"]) for v in info["versions"][:2]] == [
        (4, "ana's v3"),
        (3, "bob's v3"),
    ]
    assert info["versions"][0]["commit"] == a and info["versions"][1]["commit"] == b
    assert info["aliases"] == {"production": 1, "staging": 4}
    events = mlvc.model_history("churn")
    assert [(e["type"], e["user"], e["version"]) for e in events[:4]] == [
        ("promote", "ana", 4),
        ("approve", "carol", 4),
        ("register", "ana", 4),
        ("register", "bob", 3),
    ]
    assert events[0]["previous"] == 1 and events[0]["reason"] == "ana's pick"
    # now the push fast-forwards the remote, and the clone pulls it
    assert service.push(repo=project)["rejected"] == 0
    again = service.pull(repo=clone)
    row = next(r for r in again["refs"] if r["ref"] == "refs/mlvc/registry/churn")
    assert row["status"] == "fast-forward"
    assert mlvc.model("churn", repo=clone) == info
    assert (
        mlvc.load_model("churn@staging", repo=clone).predict(frame(20)[["f0", "f1", "f2"]])
        == mlvc.load(a, "model").predict(frame(20)[["f0", "f1", "f2"]])
    ).all()
    assert service.fsck(repo=clone)["ok"] and service.fsck(repo=project)["ok"]


def test_a_remote_s_registry_refs_are_checked_like_every_other_ref() -> None:
    from mlvc_server.errors import RemoteRefusedError
    from mlvc_server.store.sync import checked_refs

    sha = "a" * 40
    got = checked_refs(
        {
            b"refs/mlvc/registry/churn": sha,
            b"refs/mlvc/registry/nested/model": sha,  # not a model name: left out
            b"refs/mlvc/registry/-dash": sha,
        },
        "file:///remote",
    )
    assert got == {b"refs/mlvc/registry/churn": sha}
    with pytest.raises(RemoteRefusedError):
        checked_refs({b"refs/mlvc/registry/a..b": sha}, "file:///remote")
    with pytest.raises(RemoteRefusedError):
        checked_refs({b"refs/mlvc/registry/churn": "not-an-id"}, "file:///remote")
