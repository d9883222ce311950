"""``mlvc commit --output`` and ``mlvc lineage`` (text, JSON, Mermaid), as a terminal runs
them."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from .test_cli import run


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLVC_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("MLVC_AUTHOR_NAME", "CI bot")
    for name in ("prep.ipynb", "train.ipynb"):
        nbformat.write(nbformat.v4.new_notebook(), tmp_path / name)
    (tmp_path / "raw.csv").write_text("a\n1\n\n2\n")
    (tmp_path / "clean.csv").write_text("a\n1\n2\n")
    return tmp_path


def test_commit_output_then_lineage_in_three_formats(project: Path) -> None:
    prep = json.loads(
        run(
            project,
            *("commit", "-N", "prep.ipynb", "-m", "prep", "--data", "raw.csv"),
            *("--output", "clean.csv", "--json"),
        ).stdout
    )
    assert set(prep["outputs"]) == {"clean.csv"}
    train = json.loads(
        run(
            project,
            *("commit", "-N", "train.ipynb", "-m", "train", "--data", "clean.csv", "--json"),
        ).stdout
    )

    text = run(project, "lineage", "-N", "train.ipynb").stdout
    lines = text.splitlines()
    assert lines[0].startswith(f"commit {train['id'][:8]} train.ipynb: train")
    assert f"data clean.csv  {prep['outputs']['clean.csv']['hash']}" in lines[1]
    assert f"written by: commit {prep['id'][:8]} prep.ipynb: prep" in lines[2]
    assert "data raw.csv" in lines[3] and "(no commit wrote this content)" in lines[3]

    doc = json.loads(run(project, "lineage", train["id"], "--format", "json").stdout)
    assert doc == json.loads(run(project, "lineage", train["id"], "--json").stdout)
    assert doc["root"] == f"commit:{train['id']}" and not doc["truncated"]
    assert {n["kind"] for n in doc["nodes"]} == {"commit", "data"}
    mermaid = run(project, "lineage", train["id"], "--format", "mermaid").stdout
    assert mermaid == doc["mermaid"] + "\n"
    assert mermaid.startswith("flowchart LR\n") and "-->|wrote|" in mermaid


def test_lineage_errors(project: Path) -> None:
    run(project, "commit", "-N", "train.ipynb", "-m", "one")

    missing = run(project, "lineage", "nope", "--rev", ok=False)
    assert missing.returncode == 1 and "unknown revision 'nope'" in missing.stderr
    bad_output = run(
        project, "commit", "-N", "train.ipynb", "-m", "x", "--output", "no.csv", ok=False
    )
    assert bad_output.returncode == 1 and "not found" in bad_output.stderr
    usage = run(project, "lineage", "--format", "svg", ok=False)
    assert usage.returncode == 2
