"""``%mlvc`` in a real kernel: loading, usage errors, the notebook, the save protocol,
checkout's safety commit, track, lineage and autocommit."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from harness import SAVE_TIMEOUT, Kernel, Reply, write_notebook

import mlvc_server as mlvc
from mlvc_server.kernel.protocol import MIME

HEAVY = ("numpy", "pandas", "torch", "sklearn", "dulwich", "blake3", "nbformat", "psutil")

LOAD = f"""
import sys, time
_before = set(sys.modules)
_t = time.perf_counter()
get_ipython().run_line_magic("load_ext", "mlvc_server")
_t = time.perf_counter() - _t
_new = set(sys.modules) - _before
_load = {{"seconds": _t, "new": len(_new), "heavy": [m for m in {HEAVY!r} if m in _new]}}
"""


@pytest.fixture(scope="module")
def k(kernel_factory: Any) -> Kernel:
    """A kernel started for train.ipynb, with the extension loaded (and timed) first."""
    k = kernel_factory()
    k.run(LOAD)
    return k


@pytest.fixture(scope="module")
def first_commit(k: Kernel) -> Reply:
    """The kernel's first commit: its save request goes unanswered."""
    k.run("w = 1")
    return k.run("%mlvc commit -m first")


def _log(k: Kernel, notebook: str | None = "train.ipynb") -> list[dict[str, Any]]:
    """The notebook's current branch, newest first (commits of one second in order)."""
    return mlvc.log(repo=k.project, notebook=k.project / notebook if notebook else None, rev="HEAD")


def _requests(reply: Reply) -> list[dict[str, Any]]:
    return [d for d in reply.displays if MIME in d["data"]]


# -- loading ------------------------------------------------------------------------------
def test_load_ext_is_cheap(k: Kernel) -> None:
    load = k.value("_load")
    assert load["heavy"] == [], f"loading the extension imported {load['heavy']}"
    assert load["new"] < 40, load  # the time itself is measured in benchmarks/kernel.py
    print(f"load_ext: {load['seconds'] * 1000:.1f} ms, {load['new']} modules imported")


def test_help(k: Kernel) -> None:
    out = k.run("%mlvc --help").stdout
    for name in ("init", "status", "commit", "log", "diff", "branch", "checkout", "restore"):
        assert re.search(rf"^\s+{name}\s", out, re.M), name
    out = k.run("%mlvc commit --help").stdout
    assert "--param K=V" in out and "--no-vars" in out and "--notebook PATH" in out
    assert "usage: %mlvc" in k.run("%mlvc").stdout


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("%mlvc commit", "the following arguments are required: -m/--message"),
        ("%mlvc frobnicate", "invalid choice: 'frobnicate'"),
        ("%mlvc commit -m x --param lr", "expected NAME=VALUE, got 'lr'"),
        ("%mlvc commit -m x --vars a --no-vars", "not allowed with argument"),
        ("%mlvc checkout HEAD --vars-only --notebook-only", "not allowed with argument"),
        ("%mlvc restore", "the following arguments are required: REV"),
        ("%mlvc autocommit maybe", "invalid choice: 'maybe'"),
        ("%mlvc log -n many", "invalid int value: 'many'"),
        ("%mlvc commit -m 'unclosed", "No closing quotation"),
    ],
)
def test_usage_errors_are_clear(k: Kernel, line: str, says: str) -> None:
    out = k.run(line, ok=False)
    assert out.status == "error"
    assert out.error is not None and out.error["ename"] == "UsageError"
    assert says in out.error["evalue"]


def test_an_mlvc_error_is_one_red_line(k: Kernel, first_commit: Reply) -> None:
    out = k.run("%mlvc diff nope", ok=False)
    assert out.error is not None
    assert out.error["ename"] == "MlvcCommandError"
    assert out.error["traceback"] == ["\x1b[0;31mmlvc: unknown revision 'nope'\x1b[0m"]


# -- the notebook and the save protocol -------------------------------------------------------
def test_save_request_then_timeout_then_no_more_waiting(k: Kernel, first_commit: Reply) -> None:
    (request,) = _requests(first_commit)
    data = request["data"][MIME]
    assert data["action"] == "save"
    assert data["path"] == str(k.project / "train.ipynb")
    assert re.fullmatch(r"[0-9a-f]{32}", data["id"])
    assert abs(data["time"] - time.time()) < 60
    assert request["data"]["text/plain"] == ""
    assert request["transient"]["display_id"] == data["id"]
    # the request is replaced by an empty output, so it is not saved in the notebook
    (update,) = first_commit.updates
    assert update["data"] == {"text/plain": ""}
    assert update["transient"]["display_id"] == data["id"]
    # nobody answered: the commit waited, then used the saved file
    assert first_commit.seconds >= SAVE_TIMEOUT
    assert "no frontend saved the notebook" in first_commit.stdout
    rec = mlvc.show(_log(k)[-1]["id"], repo=k.project, notebook=k.project / "train.ipynb")
    assert rec["notebook"] == "train.ipynb" and rec["notebook_saved_at"]
    # the next commit does not ask (nor wait) again
    second = k.run("%mlvc commit -m 'no wait'")
    assert _requests(second) == [] and "no frontend" not in second.stdout
    assert second.seconds < SAVE_TIMEOUT


def test_a_frontend_that_saves_ends_the_wait(k: Kernel, first_commit: Reply) -> None:
    # A stand-in for JupyterLab: touch the notebook file 0.1 s after the request.
    k.run(
        "import os, threading\n"
        "import mlvc_server.kernel as _mk\n"
        "_mk._magics.session.no_frontend = False\n"
        "_mk._magics.session.save_timeout = 10\n"
        "threading.Timer(0.1, os.utime, [__session__]).start()"
    )
    out = k.run("%mlvc commit -m saved")
    assert len(_requests(out)) == 1 and "no frontend" not in out.stdout
    assert out.seconds < 5
    k.run("_mk._magics.session.no_frontend = True")


def test_notebook_comes_from_session(k: Kernel, first_commit: Reply) -> None:
    assert k.value("__session__") == str(k.project / "train.ipynb")
    write_notebook(k.project / "sub" / "other.ipynb", ["y = 2"])
    k.run("_keep = __session__; __session__ = 'sub/other.ipynb'")
    out = k.run("%mlvc commit -m other")
    assert "(sub/other.ipynb)" in out.stdout
    k.run("__session__ = _keep")
    assert [c["message"] for c in _log(k, "sub/other.ipynb")] == ["other"]
    write_notebook(k.project / "third.ipynb", ["z = 3"])
    k.run("%mlvc commit -m third --notebook third.ipynb")
    assert [c["message"] for c in _log(k, "third.ipynb")] == ["third"]
    assert "other" not in [c["message"] for c in _log(k)]


def test_without_a_notebook_says_so_once(kernel_factory: Any) -> None:
    k = kernel_factory(notebook=None)
    k.run("%load_ext mlvc_server\nv = 1")
    assert "No mlvc store yet" in k.run("%mlvc status").stdout
    assert "Initialized the mlvc store in" in k.run("%mlvc init").stdout
    assert (k.project / ".mlvc" / "HEAD").is_file()
    first = k.run("%mlvc commit -m one")
    assert "does not know its notebook" in first.stdout and _requests(first) == []
    second = k.run("%mlvc commit -m two")
    assert "does not know its notebook" not in second.stdout
    (c, _) = _log(k, None)
    assert c["notebook"] is None and c["variables"] == ["v"]
    k.run("%unload_ext mlvc_server")
    assert k.run("%mlvc status", ok=False).status == "error"
    k.run("%load_ext mlvc_server")
    assert "Variables: no changes" in k.run("%mlvc status").stdout


def test_params_and_metrics_from_flags_and_code(k: Kernel, first_commit: Reply) -> None:
    k.run(
        "import mlvc_server as mlvc\n"
        "mlvc.log_params(lr=0.1)\n"
        "mlvc.log_metrics(loss=0.5, step=1)\n"
        "mlvc.log_metrics(loss=0.3, step=2)"
    )
    k.run(
        "%mlvc commit -m hp --param C=1e-3 --param opt=adam --param layers=[64,32] --metric acc=0.9"
    )
    rec = mlvc.show("HEAD", repo=k.project, notebook=k.project / "train.ipynb")
    assert rec["params"] == {"lr": 0.1, "C": 0.001, "opt": "adam", "layers": [64, 32]}
    assert rec["metrics"] == {"loss": 0.3, "acc": 0.9}
    assert rec["metric_series"] == {"loss": [[1, 0.5], [2, 0.3]]}


def test_status_shows_changed_cells(k: Kernel, first_commit: Reply) -> None:
    write_notebook(k.project / "train.ipynb", ["x = 1"])
    k.run("%mlvc commit -m cells")
    assert "Notebook: no changes" in k.run("%mlvc status").stdout
    write_notebook(k.project / "train.ipynb", ["x = 2", "print(x)"])
    out = k.run("%mlvc status").stdout
    assert "Notebook: changed (1 added, 1 modified)" in out
    assert "Variables: no changes" in out


# -- checkout -------------------------------------------------------------------------------
def test_checkout_commits_changed_state_first(k: Kernel, first_commit: Reply) -> None:
    k.run("w = 10")
    k.run("%mlvc commit -m base")
    k.run("w = 11")
    out = k.run("%mlvc checkout HEAD")
    m = re.search(r"Saved your current state as commit ([0-9a-f]{8}) first", out.stdout)
    assert m, out.stdout
    # the safety commit tops the branch; the notebook is at "base" again (detached)
    st = mlvc.status(repo=k.project, notebook=k.project / "train.ipynb")
    assert st["detached"] is True and st["head"] == _log(k)[0]["id"]
    assert _log(k)[0]["message"] == "base"
    head = mlvc.log(repo=k.project, notebook=k.project / "train.ipynb", rev=st["branch"])[0]
    assert head["short_id"] == m.group(1)
    assert head["message"] == "Before checkout of HEAD"
    assert mlvc.load(head["id"], "w", repo=k.project, notebook=k.project / "train.ipynb") == 11
    assert k.value("w") == 10  # the checked-out state, not the safety commit's
    assert "Restored" in out.stdout and "w" in out.stdout


def test_checkout_without_changes_makes_no_safety_commit(k: Kernel, first_commit: Reply) -> None:
    k.run("%mlvc commit -m clean")
    n = len(_log(k))
    out = k.run("%mlvc checkout HEAD")
    assert "Saved your current state" not in out.stdout
    assert len(_log(k)) == n


def test_checkout_writes_the_notebook_and_asks_to_revert(k: Kernel, first_commit: Reply) -> None:
    k.run("%mlvc commit -m 'notebook v1'")
    committed = (k.project / "train.ipynb").read_bytes()
    write_notebook(k.project / "train.ipynb", ["x = 'edited'"])
    out = k.run("%mlvc checkout HEAD --notebook-only")
    assert "Saved your current state" in out.stdout  # the edited notebook
    assert (k.project / "train.ipynb").read_bytes() == committed
    (request,) = _requests(out)
    assert request["data"][MIME]["action"] == "revert"
    assert request["data"][MIME]["path"] == str(k.project / "train.ipynb")
    assert "Restored" not in out.stdout
    # what the cell printed, for the notification after the reload replaced the cell
    message = request["data"][MIME]["message"]
    assert message.startswith("Saved your current state as commit ")
    assert "Checked out " in message and "notebook written" in message


# -- data -------------------------------------------------------------------------------------
def test_lineage_records_reads_not_writes(k: Kernel, first_commit: Reply) -> None:
    (k.project / "inputs.txt").write_text("a,b\n1,2\n")
    (k.project / ".hidden").mkdir()
    (k.project / ".hidden" / "secret.txt").write_text("x")
    k.run(
        "import pathlib\n"
        "_ = pathlib.Path('inputs.txt').read_text()\n"
        "_ = open('.hidden/secret.txt').read()\n"
        "with open('predictions.txt', 'w') as f: f.write('1')\n"
        "_ = open('predictions.txt').read()"
    )
    k.run("%mlvc commit -m lineage")
    data = mlvc.show("HEAD", repo=k.project, notebook=k.project / "train.ipynb")["data"]
    assert "inputs.txt" in data
    assert not {"predictions.txt", ".hidden/secret.txt", "train.ipynb"} & set(data)


def test_track_and_untrack(k: Kernel, first_commit: Reply) -> None:
    (k.project / "extra").mkdir()
    (k.project / "extra" / "a.csv").write_text("1\n")
    assert "Tracking 'extra/*.csv'" in k.run("%mlvc track 'extra/*.csv'").stdout
    assert "Already tracking" in k.run("%mlvc track extra/*.csv").stdout
    assert k.run("%mlvc track").stdout.strip() == "extra/*.csv"
    assert (k.project / ".mlvc/mlvc/track/train.ipynb.json").is_file()
    k.run("%mlvc commit -m tracked")
    assert (
        "extra/a.csv"
        in mlvc.show("HEAD", repo=k.project, notebook=k.project / "train.ipynb")["data"]
    )
    (k.project / "extra" / "a.csv").write_text("2\n")
    assert "Data: 1 changed (extra/a.csv)" in k.run("%mlvc status").stdout
    assert "No longer tracking" in k.run("%mlvc untrack 'extra/*.csv'").stdout
    out = k.run("%mlvc untrack 'extra/*.csv'", ok=False)
    assert out.error is not None and "is not tracked" in out.error["evalue"]
    out = k.run("%mlvc track ../elsewhere.csv", ok=False)
    assert out.error is not None and "outside the project" in out.error["evalue"]


# -- branches, tags, log ------------------------------------------------------------------------
def test_branch_tag_and_log(k: Kernel, first_commit: Reply) -> None:
    assert "* main" in k.run("%mlvc branch").stdout
    assert "Created branch exp-1" in k.run("%mlvc branch exp-1").stdout
    k.run("w = 'on exp'")
    assert "on exp-1" in k.run("%mlvc commit -m 'on the branch'").stdout
    listed = k.run("%mlvc branch").stdout
    assert "* exp-1" in listed and "  main" in listed
    assert "Tagged" in k.run("%mlvc tag best").stdout
    assert "best" in k.run("%mlvc tag").stdout
    out = k.run("%mlvc tag best HEAD~1", ok=False)
    assert out.error is not None and "already exists" in out.error["evalue"]
    k.run("%mlvc tag best HEAD~1 -f")
    shown = k.run("%mlvc log -n 3")  # the widgets view (its content is tested there)
    (view,) = shown.displays
    assert "application/vnd.jupyter.widget-view+json" in view["data"]
    out = k.run("%mlvc checkout main")  # back to the other experiment
    assert "(branch main)" in out.stdout and "Saved your current state" not in out.stdout
    assert "* main" in k.run("%mlvc branch").stdout
    assert k.value("w") == mlvc.load(
        "main", "w", repo=k.project, notebook=k.project / "train.ipynb"
    )


# -- autocommit -----------------------------------------------------------------------------
def test_autocommit(k: Kernel, first_commit: Reply) -> None:
    k.run("%mlvc commit -m 'before autocommit'")
    assert "autocommit is off" in k.run("%mlvc autocommit").stdout
    assert "autocommit is on" in k.run("%mlvc autocommit on").stdout
    changed = k.run("auto_v = 1")
    assert re.search(r"auto-committed [0-9a-f]{8} \(cell \d+\)", changed.stdout)
    assert "auto-committed" not in k.run("1 + 1").stdout  # nothing changed
    failed = k.run("auto_v = 2\nraise ValueError('boom')", ok=False)
    assert "auto-committed" not in failed.stdout  # the cell failed
    assert "auto-committed" not in k.run("%mlvc status").stdout
    assert "autocommit is off" in k.run("%mlvc autocommit off").stdout
    assert "auto-committed" not in k.run("auto_v = 3").stdout
    messages = [c["message"] for c in _log(k)[:3]]
    assert messages[0].startswith("auto: cell ") and messages[1] == "before autocommit"


@pytest.mark.parametrize(
    ("line", "argv"),
    [
        ("log -n 3  # the newest", ["log", "-n", "3"]),
        ('commit -m "fix #3"', ["commit", "-m", "fix #3"]),
        ("commit -m fix#3", ["commit", "-m", "fix#3"]),
        ("commit -m 'a # b' # why", ["commit", "-m", "a # b"]),
    ],
)
def test_trailing_comments_are_dropped_hashes_in_words_kept(line: str, argv: list[str]) -> None:
    import shlex

    from mlvc_server.kernel.magics import _drop_comment

    assert shlex.split(_drop_comment(line)) == argv
