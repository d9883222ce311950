"""``mlvc log --where``, ``mlvc compare`` and ``mlvc run --require`` from a terminal."""

from __future__ import annotations

import csv
import io
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

import mlvc_server as mlvc

from .notebooks import mlvc_process, parameterized_project

QUERY = 'metrics.acc > 0.9 and params.C < 2 and branch ~ "sweep-*" and kind != "safety"'


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return mlvc_process(cwd, *args, timeout=300)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return parameterized_project(
        tmp_path,
        monkeypatch,
        "C = 1.0",
        "import mlvc_server as mlvc\nmlvc.log_metrics(acc=min(0.99, 0.8 + C / 10))",
    )


def commits(root: Path) -> dict[str, str]:
    out = {}
    for name, branch, c, acc in [
        ("a", None, 0.1, 0.8),
        ("b", None, 1.0, 0.93),
        ("c", "sweep-1", 0.5, 0.97),
        ("d", "sweep-1", 5, 0.91),
        ("e", "sweep-2", 1.5, 0.95),
    ]:
        out[name] = mlvc.commit(
            name,
            notebook=root / "train.ipynb",
            repo=root,
            sources=False,
            branch=branch,
            params={"C": c, "kernel": "rbf"},
            metrics={"acc": acc},
        )
    return out


def test_log_where_gives_the_commits_of_the_python_api(project: Path) -> None:
    ids = commits(project)
    expected = [c["id"] for c in mlvc.log(repo=project, notebook="train.ipynb", where=QUERY)]
    assert sorted(expected) == sorted([ids["e"], ids["c"]])
    p = run(project, "log", "-N", "train.ipynb", "--where", QUERY, "--json")
    assert p.returncode == 0, p.stderr
    assert [c["id"] for c in json.loads(p.stdout)] == expected
    text = run(project, "log", "-N", "train.ipynb", "--where", QUERY).stdout
    assert ids["c"][:8] in text and ids["a"][:8] not in text
    none = run(project, "log", "-N", "train.ipynb", "--where", "params.C > 100")
    assert none.returncode == 0 and "No commit matches." in none.stdout


def test_a_bad_query_exits_1_pointing_at_the_token(project: Path) -> None:
    commits(project)
    p = run(project, "log", "-N", "train.ipynb", "--where", "metrics.acc > > 1")
    assert p.returncode == 1
    assert "column 15" in p.stderr and "unexpected '>'" in p.stderr
    assert "metrics.acc > > 1\n" in p.stderr and "^" in p.stderr


def test_compare_table_json_csv(project: Path) -> None:
    ids = commits(project)
    p = run(project, "compare", "-N", "train.ipynb", "--where", "metrics.acc > 0.9")
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0].split() == ["commit", "branch", "params.C", "params.kernel", "metrics.acc"]
    best = [ln for ln in lines if ln.rstrip().endswith("*")]
    assert len(best) == 1 and ids["c"][:8] in best[0] and "0.97 *" in best[0]
    assert ids["a"][:8] not in p.stdout
    # only differing columns, sorted best first
    table: Any = json.loads(
        run(
            project,
            "compare",
            "-N",
            "train.ipynb",
            "--only-differing",
            "--sort",
            "metrics.acc",
            "--json",
        ).stdout
    )
    assert table["columns"] == {"params": ["C"], "metrics": ["acc"]}
    assert [r["id"] for r in table["rows"]] == [ids[k] for k in "cebda"]
    # chosen revisions, as CSV
    out = run(project, "compare", "-N", "train.ipynb", ids["a"][:8], ids["b"][:8], "--csv")
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert [r["id"] for r in rows] == [ids["a"], ids["b"]]
    assert rows[1]["params.C"] == "1.0" and rows[1]["metrics.acc"] == "0.93"
    bad = run(project, "compare", "-N", "train.ipynb", "--sort", "nope")
    assert bad.returncode == 1 and "cannot sort by" in bad.stderr


def test_run_require_gates_on_the_runs_metrics(project: Path) -> None:
    met = run(project, "run", "train.ipynb", "-p", "C=1.5", "--require", "metrics.acc >= 0.9")
    assert met.returncode == 0, met.stderr
    unmet = run(
        project,
        "run",
        "train.ipynb",
        "-p",
        "C=0.5",
        "--require",
        "metrics.acc >= 0.9",
        "--require",
        "params.C exists",
    )
    assert unmet.returncode == 1
    assert "requirement not met: metrics.acc >= 0.9" in unmet.stderr
    assert "acc=0.85" in unmet.stderr and "params.C exists" not in unmet.stderr
    # the run is committed all the same
    assert len(mlvc.log(repo=project, notebook="train.ipynb")) == 2
    # a bad gate fails before running anything
    bad = run(project, "run", "train.ipynb", "--require", "metrics.acc >=")
    assert bad.returncode == 1 and "query error" in bad.stderr
    assert len(mlvc.log(repo=project, notebook="train.ipynb")) == 2
