"""Which notebook a kernel runs: a rename told by the frontend, ``MLVC_NOTEBOOK`` and the
headless runners recognised from the kernel's parent process (the rule of
:mod:`mlvc_server.kernel.locate`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from harness import Kernel, write_notebook

from mlvc_server import service
from mlvc_server.kernel.locate import moved, runner_from_argv

#: What the frontend sends (silently) when a notebook's path changes: src/rename.ts.
MOVED = (
    "try:\n"
    "    __import__('mlvc_server.kernel.session', fromlist=['notebook_moved'])"
    ".notebook_moved({old}, {new})\n"
    "except ImportError:\n"
    "    pass\n"
)


def tell_moved(k: Kernel, old: str, new: str) -> None:
    """Send the frontend's silent request, as src/rename.ts does, and wait for it."""
    msg_id = k.kc.execute(MOVED.format(old=json.dumps(old), new=json.dumps(new)), silent=True)
    reply = k.kc.get_shell_msg(timeout=30)
    while reply["parent_header"].get("msg_id") != msg_id:
        reply = k.kc.get_shell_msg(timeout=30)
    assert reply["content"]["status"] == "ok", reply["content"]


@pytest.mark.parametrize(
    ("known", "old", "new", "expect"),
    [
        ("/srv/root/Untitled.ipynb", "Untitled.ipynb", "x.ipynb", "/srv/root/x.ipynb"),
        ("/srv/root/a/Untitled.ipynb", "a/Untitled.ipynb", "b/y.ipynb", "/srv/root/b/y.ipynb"),
        (None, "a/Untitled.ipynb", "a/z.ipynb", "/srv/root/a/z.ipynb"),
        (None, "Untitled.ipynb", "z.ipynb", "/srv/root/a/z.ipynb"),
    ],
)
def test_moved_keeps_the_server_root(known: str | None, old: str, new: str, expect: str) -> None:
    assert moved(known, old, new, cwd=Path("/srv/root/a")) == Path(expect)


def test_runners_from_command_lines(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    for name in ("a.ipynb", "b.ipynb", "sub/c.ipynb"):
        write_notebook(tmp_path / name, ["x = 1"])
    here, sub = tmp_path, tmp_path / "sub"
    py = "/venv/bin/python"

    def nb(argv: list[str], kernel_cwd: Path = here) -> Any:
        found = runner_from_argv(argv, tmp_path, kernel_cwd)
        return None if found is None else (found.name, found.notebook)

    assert nb([py, "/venv/bin/jupyter-nbconvert", "--to", "notebook", "--execute", "a.ipynb"]) == (
        "nbconvert",
        here / "a.ipynb",
    )
    # without --execute nbconvert starts no kernel: not a runner
    assert nb([py, "/venv/bin/jupyter-nbconvert", "--to", "html", "a.ipynb"]) is None
    # several notebooks: the one in the kernel's folder, else none
    argv = [py, "/venv/bin/jupyter-nbconvert", "--execute", "a.ipynb", "sub/c.ipynb"]
    assert nb(argv, sub) == ("nbconvert", sub / "c.ipynb")
    assert nb([*argv, "b.ipynb"], here) == ("nbconvert", None)
    # papermill: the input, also when the output does not exist yet
    assert nb([py, "/venv/bin/papermill", "sub/c.ipynb", "out/run.ipynb", "-p", "a", "1"]) == (
        "papermill",
        sub / "c.ipynb",
    )
    assert nb([py, "-m", "papermill", "a.ipynb", "b.ipynb"]) == ("papermill", here / "a.ipynb")
    assert nb([py, "/venv/bin/jupyter", "execute", "b.ipynb"]) == ("execute", here / "b.ipynb")
    assert nb([py, "-m", "pytest", "--nbval-lax", "b.ipynb"]) == ("nbval", here / "b.ipynb")
    # a server started with a notebook is not a runner (its session names the notebook)
    assert nb([py, "/venv/bin/jupyter-lab", "a.ipynb"]) is None
    assert nb([py, "-m", "pytest", "tests"]) is None


def test_a_renamed_notebook_is_committed_under_its_new_name(kernel_factory: Any) -> None:
    k = kernel_factory("Untitled.ipynb")
    k.run("%load_ext mlvc_server\nC = 1.0")
    (k.project / "Untitled.ipynb").rename(k.project / "x.ipynb")  # what the frontend does
    tell_moved(k, "Untitled.ipynb", "x.ipynb")
    assert k.value("__session__") == str(k.project / "x.ipynb")
    out = k.run("%mlvc commit -m 'after the rename'").text
    assert "does not exist" not in out
    [row] = service.log(repo=k.project, notebook=k.project / "x.ipynb")
    assert row["message"] == "after the rename"
    # moved again, into a folder: the later name wins
    (k.project / "sub").mkdir()
    (k.project / "x.ipynb").rename(k.project / "sub" / "y.ipynb")
    tell_moved(k, "x.ipynb", "sub/y.ipynb")
    k.run("C = 2.0\n%mlvc commit -m 'moved to sub'")
    [row] = service.log(repo=k.project, notebook=k.project / "sub" / "y.ipynb")
    assert row["message"] == "moved to sub"


def test_mlvc_notebook_names_it(kernel_factory: Any) -> None:
    k = kernel_factory(None, env={"MLVC_NOTEBOOK": "named.ipynb"})
    write_notebook(k.project / "named.ipynb", ["x = 1"])
    k.run("%load_ext mlvc_server\nx = 1\n%mlvc commit -m named")
    assert [r["message"] for r in service.log(repo=k.project, notebook="named.ipynb")] == ["named"]


def test_the_request_is_harmless_without_mlvc(kernel_factory: Any) -> None:
    k = kernel_factory("Untitled.ipynb")
    k.run("import sys; sys.modules['mlvc_server.kernel.session'] = None")  # as if absent
    tell_moved(k, "Untitled.ipynb", "x.ipynb")
    assert k.value("__session__") == str(k.project / "Untitled.ipynb")
