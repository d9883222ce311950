"""``mlvc run``: a notebook executed headless in a real kernel, then committed.

The runs go through the ``mlvc`` console script, as a CI job runs them.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import nbformat
import pytest

from mlvc_server import service
from mlvc_server.cli.run import (
    DEAD_SOCKET_AGE,
    INJECTED_TAG,
    inject_parameters,
    python_literal,
    remove_dead_sockets,
)
from mlvc_server.errors import InvalidNameError


def mlvc(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("mlvc")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "mlvc_server.cli"]
    return subprocess.run(
        [*cmd, *args], cwd=cwd, capture_output=True, text=True, env=os.environ, timeout=300
    )


def write(path: Path, cells: list[str | tuple[str, list[str]]]) -> None:
    """A notebook of code cells; a ``(source, tags)`` pair is a tagged cell."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    for i, c in enumerate(cells):
        src, tags = (c, []) if isinstance(c, str) else c
        cell = nbformat.v4.new_code_cell(src, id=f"c{i}")
        if tags:
            cell.metadata["tags"] = tags
        nb.cells.append(cell)
    nbformat.write(nb, path)


def committed_notebook(project: Path, rev: str, notebook: str) -> Any:
    raw = service.notebook_at(rev, repo=project, notebook=project / notebook)
    assert raw is not None
    return nbformat.reads(raw.decode(), as_version=4)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLVC_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("MLVC_AUTHOR_NAME", "CI bot")
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    return tmp_path


# -- parameters, as papermill injects them ------------------------------------------------
def _nb(*cells: Any) -> Any:
    nb = nbformat.v4.new_notebook()
    nb.cells = list(cells)
    return nb


def _tagged(src: str, *tags: str) -> Any:
    cell = nbformat.v4.new_code_cell(src)
    cell.metadata["tags"] = list(tags)
    return cell


def test_parameters_go_right_after_the_parameters_cell() -> None:
    nb = _nb(nbformat.v4.new_code_cell("import x"), _tagged("C = 1.0", "parameters"))
    nb.cells.append(nbformat.v4.new_code_cell("fit(C)"))
    at = inject_parameters(nb, {"C": 0.5, "layers": [64, 32], "name": "run 1"})
    assert at == 2
    cell = nb.cells[2]
    assert cell.metadata["tags"] == [INJECTED_TAG]
    assert cell.source == "# Parameters\nC = 0.5\nlayers = [64, 32]\nname = 'run 1'\n"
    assert [c.source for c in nb.cells[:2]] == ["import x", "C = 1.0"]
    assert nb.cells[3].source == "fit(C)"
    nbformat.validate(nb)


def test_parameters_replace_an_earlier_injection_and_default_to_the_top() -> None:
    nb = _nb(_tagged("# Parameters\nC = 9\n", INJECTED_TAG), nbformat.v4.new_code_cell("fit(C)"))
    assert inject_parameters(nb, {"C": 2}) == 0
    assert [c.source for c in nb.cells] == ["# Parameters\nC = 2\n", "fit(C)"]
    assert inject_parameters(nb, {}) is None
    assert [c.source for c in nb.cells] == ["fit(C)"]


@pytest.mark.parametrize("name", ["1x", "a-b", "class", ""])
def test_parameter_names_must_be_python_names(name: str) -> None:
    with pytest.raises(InvalidNameError):
        inject_parameters(_nb(), {name: 1})


@pytest.mark.parametrize(
    "value", [1, -2.5, 1e-3, True, None, "it's", [1, "a", [None]], {"k": {"n": 1.5}}, "x\ny"]
)
def test_parameter_values_are_python_literals(value: Any) -> None:
    assert eval(python_literal(value)) == value


def test_non_finite_parameters() -> None:
    assert math.isnan(eval(python_literal(float("nan"))))
    assert eval(python_literal(float("-inf"))) == float("-inf")


# -- runs ---------------------------------------------------------------------------------
def test_run_commits_the_executed_notebook_with_the_kernels_state(project: Path) -> None:
    (project / "data.csv").write_text("a,b\n1,2\n3,4\n")
    write(
        project / "train.ipynb",
        [
            "%load_ext mlvc_server",
            ("C = 1.0\nepochs = 1", ["parameters"]),
            "rows = open('data.csv').read().splitlines()\nprint('C is', C, 'rows', len(rows))",
            '%mlvc commit -m "from a cell"',
            # output of a child process: not on `mlvc run --json`'s stdout
            "import subprocess\nsubprocess.run(['echo', 'from a child'], check=True)",
            "import mlvc_server as mlvc\n"
            "for step in range(epochs):\n"
            "    mlvc.log_metrics(loss=1.0 / (step + 1), step=step)\n"
            "model = {'C': C, 'epochs': epochs}",
        ],
    )
    before = (project / "train.ipynb").read_bytes()
    p = mlvc(project, "run", "train.ipynb", "-p", "C=0.5", "-p", "epochs=3", "--json")
    assert p.returncode == 0, p.stderr
    rec = json.loads(p.stdout)
    # the kernel listens on local sockets: no TCP port, and no warning about one
    assert "WARNING" not in p.stderr and "without encryption" not in p.stderr, p.stderr

    assert rec["status"] == "ok" and "error" not in rec
    assert rec["notebook"] == "train.ipynb" and rec["branch"] == "main"
    assert rec["message"] == "run train.ipynb C=0.5 epochs=3"
    assert rec["params"] == {"C": 0.5, "epochs": 3}
    assert rec["run"]["parameters"] == {"C": 0.5, "epochs": 3}
    assert rec["run"]["kernel"] == "python3" and rec["run"]["cells_executed"] == 7
    assert rec["metrics"] == {"loss": pytest.approx(1 / 3)}
    assert [s for s, _ in rec["metric_series"]["loss"]] == [0, 1, 2]
    assert {"C", "epochs", "rows", "model"} <= set(rec["variables"])
    assert service.load(rec["id"], "model", repo=project) == {"C": 0.5, "epochs": 3}
    assert set(rec["data"]) == {"data.csv"}  # seen by the lineage hook in the kernel
    assert rec["env"]["python"]["executable"]
    # the kernel ran the Python of this environment
    assert Path(rec["env"]["python"]["executable"]).parent == Path(sys.executable).parent

    # the commit holds the executed notebook, parameters injected after the parameters cell
    nb = committed_notebook(project, rec["id"], "train.ipynb")
    assert nb.cells[2].metadata["tags"] == [INJECTED_TAG]
    assert nb.cells[2].source == "# Parameters\nC = 0.5\nepochs = 3\n"
    assert "C is 0.5 rows 3" in nb.cells[3].outputs[0]["text"]
    assert all(c.execution_count is not None for c in nb.cells)
    assert (project / "train.ipynb").read_bytes() == before  # the user's file is untouched
    # ... and `mlvc status` says so, though the commit holds the executed notebook
    st = json.loads(mlvc(project, "status", "-N", "train.ipynb", "--json").stdout)
    assert st["notebook"]["changed"] is False

    # the notebook's own %mlvc commit ran without waiting for a frontend to save
    log = service.log(repo=project, notebook=project / "train.ipynb")
    assert [c["message"] for c in log] == ["run train.ipynb C=0.5 epochs=3", "from a cell"]
    assert log[0]["id"] == rec["id"] and log[0]["status"] == "ok"
    cell_out = "".join(o.get("text", "") for o in nb.cells[4].outputs)
    assert "Committed" in cell_out and "frontend" not in cell_out
    assert set(service.show(log[1]["id"], repo=project)["data"]) == {"data.csv"}


def test_status_after_a_run_tells_the_file_as_run_from_an_edited_one(project: Path) -> None:
    # no kernelspec in the notebook: the run records the kernel it started
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 1\nprint(x)", id="c0")]
    nbformat.write(nb, project / "nb.ipynb")
    p = mlvc(project, "run", "nb.ipynb", "--json")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["run"]["kernel"] == "python3"
    assert service.status(repo=project, notebook="nb.ipynb")["notebook"]["changed"] is False
    nb.cells[0].source = "x = 2\nprint(x)"
    nbformat.write(nb, project / "nb.ipynb")
    assert service.status(repo=project, notebook="nb.ipynb")["notebook"]["changed"] is True
    # --output over the notebook itself: the file is the executed notebook the commit holds
    assert mlvc(project, "run", "nb.ipynb", "--output", "nb.ipynb").returncode == 0
    assert service.status(repo=project, notebook="nb.ipynb")["notebook"]["changed"] is False
    assert "outputs" in (project / "nb.ipynb").read_text()


def test_a_failing_cell_exits_1_and_the_failed_run_is_recorded(project: Path) -> None:
    write(
        project / "train.ipynb",
        ["x = 41", "print('before')\nraise ValueError('boom')", "y = x + 1"],
    )
    p = mlvc(project, "run", "train.ipynb", "-m", "nightly", "--output", "out.ipynb")
    assert p.returncode == 1
    assert "cell 1 failed: ValueError: boom" in p.stderr
    assert "Committed the failed run as" in p.stdout

    rec = service.show("HEAD", repo=project, notebook=project / "train.ipynb")
    assert rec["status"] == "failed" and rec["message"] == "nightly"
    assert rec["error"] == {"ename": "ValueError", "evalue": "boom", "cell": 1, "cell_id": "c1"}
    assert rec["run"]["cells_executed"] == 2
    assert "x" in rec["variables"] and "y" not in rec["variables"]
    assert service.log(repo=project, notebook=project / "train.ipynb")[0]["status"] == "failed"

    # outputs up to the failure, in the commit and in --output
    for nb in (
        committed_notebook(project, rec["id"], "train.ipynb"),
        nbformat.read(project / "out.ipynb", as_version=4),
    ):
        assert nb.cells[1].outputs[0]["text"] == "before\n"
        assert nb.cells[1].outputs[-1]["ename"] == "ValueError"
        assert nb.cells[2].outputs == [] and nb.cells[2].execution_count is None

    # the CLI's log and show say so
    log = mlvc(project, "log")
    assert "[failed] nightly" in log.stdout
    show = mlvc(project, "show")
    assert "Status: failed in cell 1: ValueError: boom" in show.stdout


def test_a_cell_over_the_timeout_is_interrupted_and_the_run_recorded(project: Path) -> None:
    write(project / "slow.ipynb", ["x = 1", "import time\ntime.sleep(120)", "y = 2"])
    p = mlvc(project, "run", "slow.ipynb", "--timeout", "1", "--json")
    assert p.returncode == 1
    rec = json.loads(p.stdout)
    assert rec["status"] == "failed"
    assert rec["error"]["ename"] == "CellTimeoutError" and rec["error"]["cell"] == 1
    assert "x" in rec["variables"]  # committed by the kernel itself, after the interrupt


def test_a_dead_kernel_fails_the_run_which_is_still_recorded(project: Path) -> None:
    write(project / "die.ipynb", ["x = 1", "import os\nos._exit(3)", "y = 2"])
    p = mlvc(project, "run", "die.ipynb", "--json")
    assert p.returncode == 1
    rec = json.loads(p.stdout)
    assert rec["status"] == "failed"
    assert rec["error"]["ename"] == "DeadKernelError" and rec["error"]["cell"] == 1
    assert rec["variables"] == {}  # they died with the kernel
    nb = committed_notebook(project, rec["id"], "die.ipynb")
    assert nb.cells[0].execution_count == 1


def test_the_sockets_of_a_killed_run_are_removed_by_a_later_run(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import signal
    import socket

    runtime = tmp_path / "rt"  # short: a socket's path has at most 107 bytes
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(runtime))
    write(project / "slow.ipynb", ["import time\ntime.sleep(60)"])
    exe = Path(sys.executable).with_name("mlvc")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "mlvc_server.cli"]
    run = subprocess.Popen([*cmd, "run", "slow.ipynb"], cwd=project, env=os.environ)
    try:
        deadline = time.monotonic() + 120
        while len(list(runtime.glob("mlvc-*-ipc-*"))) < 5 and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1)  # the kernel is running the cell
    finally:
        run.send_signal(signal.SIGKILL)  # killed outright: nothing cleans up after it
        run.wait()
    left = sorted(p.name for p in runtime.glob("mlvc-*-ipc-*"))
    assert len(left) == 5, left
    old = time.time() - DEAD_SOCKET_AGE - 5
    for name in left:
        os.utime(runtime / name, (old, old))
    # beside them: a socket something listens on, a dead one just made, another file
    live = socket.socket(socket.AF_UNIX)
    live.bind(str(runtime / "mlvc-aaaaaaaaaaaa-ipc-1"))
    live.listen()
    young = socket.socket(socket.AF_UNIX)
    young.bind(str(runtime / "mlvc-bbbbbbbbbbbb-ipc-1"))
    young.close()
    (runtime / "mlvc-cccccccccccc-ipc-1").write_text("not a socket")
    for name in ("mlvc-aaaaaaaaaaaa-ipc-1", "mlvc-cccccccccccc-ipc-1"):
        os.utime(runtime / name, (old, old))
    try:
        # the orphaned kernel sees its parent gone and exits within a second or so
        removed: list[str] = []
        deadline = time.monotonic() + 30
        while len(removed) < 5 and time.monotonic() < deadline:
            removed += remove_dead_sockets(runtime)
            time.sleep(0.2)
        assert sorted(removed) == left
        assert sorted(p.name for p in runtime.glob("mlvc-*")) == [
            "mlvc-aaaaaaaaaaaa-ipc-1",
            "mlvc-bbbbbbbbbbbb-ipc-1",
            "mlvc-cccccccccccc-ipc-1",
        ]
    finally:
        live.close()
    # `mlvc run` removes dead ones by itself (once per process)
    for name in ("mlvc-aaaaaaaaaaaa-ipc-1", "mlvc-bbbbbbbbbbbb-ipc-1"):
        os.utime(runtime / name, (old, old))  # both dead now, and old enough
    write(project / "quick.ipynb", ["x = 1"])
    assert mlvc(project, "run", "quick.ipynb").returncode == 0
    assert sorted(p.name for p in runtime.glob("mlvc-*")) == ["mlvc-cccccccccccc-ipc-1"]


def test_branch_option_runs_on_a_new_branch_from_head(project: Path) -> None:
    write(project / "train.ipynb", [("lr = 0.1", ["parameters"]), "score = lr * 10"])
    assert mlvc(project, "run", "train.ipynb").returncode == 0
    # the notebook's own %mlvc commit cell commits to the run's branch too
    write(
        project / "train.ipynb",
        [
            ("lr = 0.1", ["parameters"]),
            "%load_ext mlvc_server",
            "score = lr * 10",
            "%mlvc commit -m 'inside the run'",
        ],
    )
    p = mlvc(project, "run", "train.ipynb", "-p", "lr=0.2", "--branch", "lr-sweep", "--json")
    assert p.returncode == 0, p.stderr
    rec = json.loads(p.stdout)
    assert rec["branch"] == "lr-sweep" and rec["params"] == {"lr": 0.2}
    main = service.log(repo=project, notebook=project / "train.ipynb", branch="main")
    inside = service.log(repo=project, rev=rec["parents"][0], limit=1)[0]
    assert inside["message"] == "inside the run" and inside["branch"] == "lr-sweep"
    assert inside["parents"] == [main[0]["id"]]
    assert len(main) == 1  # nothing of the run landed on main
    branches = {
        b["name"]: b for b in service.branches(repo=project, notebook=project / "train.ipynb")
    }
    # the user's current branch did not move while the run went, nor after it
    assert branches["main"]["current"] and not branches["lr-sweep"]["current"]


def test_bad_calls_commit_nothing(project: Path) -> None:
    write(project / "train.ipynb", ["x = 1"])
    p = mlvc(project, "run", "missing.ipynb")
    assert p.returncode == 1 and "no notebook" in p.stderr
    p = mlvc(project, "run", "train.ipynb", "-p", "1x=2")
    assert p.returncode == 1 and "not a Python variable name" in p.stderr
    p = mlvc(project, "run", "train.ipynb", "-p", "novalue")
    assert p.returncode == 2 and "NAME=VALUE" in p.stderr
    p = mlvc(project, "run", "train.ipynb", "--kernel", "no-such-kernel")
    assert p.returncode == 1 and "no-such-kernel" in p.stderr
    assert service.log(repo=project, notebook=project / "train.ipynb") == []
