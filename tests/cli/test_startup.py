"""`mlvc log` and `mlvc status` start fast: they import neither dulwich nor the
serializers' libraries (numpy...) nor the query parser, and still answer correctly
(speed itself is measured by benchmarks/cli.py, not asserted here)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

import mlvc_server as mlvc
from mlvc_server.service.format import MANIFEST
from mlvc_server.store import payloads

HEAVY = (
    "dulwich",
    "numpy",
    "lark",
    "nbformat",
    "asyncio",
    "mlvc_server.serializers",
    # each of these cost 1-4 ms at every start before it was left out of log and status:
    "inspect",  # service/compat.py read signatures with it
    "hashlib",  # loads OpenSSL; summaries use the builtin blake2b, small reads _sha1
    "html",  # render escapes on its own
    "shutil",  # argparse's formatter imports it; the CLI's asks the terminal once
    "mlvc_server.service.shapes",  # the TypedDicts: only for type checking here
    "mlvc_server.store.producers",  # the lineage index
)

PROBE = """
import sys
from mlvc_server.cli import main
code = main(sys.argv[1:])
heavy = sorted({m.split(".")[0] if not m.startswith("mlvc_server") else m
                for m in sys.modules if m.startswith(HEAVY)})
print("HEAVY:" + ",".join(heavy), file=sys.stderr)
sys.exit(code)
"""


def mlvc_probe(cwd: Path, *args: str) -> tuple[str, list[str]]:
    p = subprocess.run(
        [sys.executable, "-c", f"HEAVY = {HEAVY!r}\n" + PROBE, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=os.environ,
    )
    assert p.returncode == 0, p.stderr
    line = [x for x in p.stderr.splitlines() if x.startswith("HEAVY:")][-1]
    return p.stdout, [m for m in line[6:].split(",") if m]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 1", id="c0")]
    nbformat.write(nb, tmp_path / "train.ipynb")
    for i in range(3):
        mlvc.commit(f"run {i}", variables={"x": i}, notebook="train.ipynb", metrics={"acc": i / 10})
    mlvc.branch("other", repo=tmp_path, notebook="train.ipynb", switch=False)
    mlvc.tag("best", repo=tmp_path, notebook="train.ipynb")
    return tmp_path


def test_log_reads_the_history_without_heavy_imports(project: Path) -> None:
    out, heavy = mlvc_probe(project, "log", "-n", "20")
    assert heavy == []
    assert [line.split()[0] for line in out.splitlines() if line and not line[0].isspace()] == [
        s["id"][:8] for s in mlvc.log(repo=project, notebook="train.ipynb")
    ]
    assert "run 2" in out and "best" in out and "other" in out


def test_status_compares_the_notebook_without_heavy_imports(project: Path) -> None:
    out, heavy = mlvc_probe(project, "status")
    assert heavy == []
    assert "notebook train.ipynb: unchanged" in out
    nb = nbformat.read(project / "train.ipynb", as_version=4)
    nb.cells[0].source = "x = 2"
    nbformat.write(nb, project / "train.ipynb")
    out, heavy = mlvc_probe(project, "status")
    assert heavy == []
    assert "notebook train.ipynb: changed" in out


def test_a_query_still_loads_its_parser(project: Path) -> None:
    out, heavy = mlvc_probe(project, "log", "--where", "metrics.acc > 0.15")
    assert "lark" in heavy
    assert "run 2" in out and "run 1" not in out


def test_the_help_of_one_command_lists_its_options(project: Path) -> None:
    p = subprocess.run(
        [sys.executable, "-m", "mlvc_server.cli", "log", "--help"],
        capture_output=True,
        text=True,
        cwd=project,
        env={**os.environ, "COLUMNS": "60"},
    )
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("usage: mlvc log") and "--where QUERY" in p.stdout
    # the width comes from COLUMNS, as with argparse's own formatter
    assert max(len(line) for line in p.stdout.splitlines()) <= 60


def test_help_of_every_command_is_still_built(project: Path) -> None:
    p = subprocess.run(
        [sys.executable, "-m", "mlvc_server.cli", "--help"],
        capture_output=True,
        text=True,
        cwd=project,
    )
    assert p.returncode == 0 and "sweep" in p.stdout and "status" in p.stdout
    p = subprocess.run(
        [sys.executable, "-m", "mlvc_server.cli", "-C", str(project), "nosuch"],
        capture_output=True,
        text=True,
    )
    assert p.returncode == 2 and "invalid choice" in p.stderr


def test_the_manifest_name_is_the_same_in_both_layers() -> None:
    assert MANIFEST == payloads.MANIFEST
