"""The Binder demo: every notebook in ``binder/`` runs headless with ``mlvc run`` and makes
the commits its story promises; ``binder/`` builds the way repo2docker builds it.

``test_demo_notebook`` runs each notebook with this environment's ``mlvc`` (seconds).
``test_binder_build`` does what repo2docker does, in a fresh virtual environment: install
``binder/requirements.txt``, run ``binder/postBuild`` from the repository root (a copy of
the checkout: tracked and new files, plus the built frontend), then run every notebook
with that environment's ``mlvc``, with the same checks. It takes minutes (torch is big),
so it runs only in CI (``CI=true``, as ``.ci/run`` runs; ``test_demo_notebook`` is skipped
there) or with ``MLVC_BINDER_BUILD=1`` (``=0`` skips it).
"""

from __future__ import annotations

import json
import os
import platform
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import venv
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mlvc_server import service

ROOT = Path(__file__).resolve().parents[1]
BINDER = ROOT / "binder"


def _messages(project: Path, notebook: str, **kw: Any) -> list[str]:
    return [c["message"] for c in service.log(repo=project, notebook=project / notebook, **kw)]


def check_getting_started(project: Path, run: dict[str, Any]) -> None:
    nb = "01-getting-started.ipynb"
    # baseline on main, two other values of C on a branch, a safety commit on leaving it
    assert _messages(project, nb, branch="other-c") == [
        "Before checkout of main",
        "C=0.01",
        "C=10.0",
        "baseline: logistic regression",
    ]
    assert _messages(project, nb, branch="main") == [
        "run 01-getting-started.ipynb",
        "baseline: logistic regression",
    ]
    baseline = service.show("baseline", repo=project, notebook=project / nb)
    # C is logged; max_iter comes from the parameters cell
    assert baseline["params"] == {"C": 1.0, "max_iter": 1000} and baseline["branch"] == "main"
    assert {"model", "X_train", "acc"} <= set(baseline["variables"])
    tried = {
        c["params"]["C"]: c["metrics"]["acc"]
        for c in service.log(repo=project, notebook=project / nb)
        if c["message"].startswith("C=")
    }
    assert set(tried) == {10.0, 0.01}
    assert all(acc < baseline["metrics"]["acc"] for acc in tried.values())  # as the text says
    # the rollback: the run ends on main with the baseline's variables back in the kernel
    assert run["branch"] == "main" and run["status"] == "ok"
    assert service.load(run["id"], "C", repo=project) == 1.0
    assert service.load(run["id"], "acc", repo=project) == baseline["metrics"]["acc"]


def check_torch_finetune(project: Path, run: dict[str, Any]) -> None:
    nb = "02-torch-finetune.ipynb"
    assert _messages(project, nb) == [
        "run 02-torch-finetune.ipynb",
        "fine-tuned the head",
        "pretrained on a fifth of the data",
    ]
    first = service.show("HEAD~2", repo=project, notebook=project / nb)
    tuned = service.show("HEAD~1", repo=project, notebook=project / nb)
    model = tuned["variables"]["model"]
    assert model["format"] == "safetensors" and model["size"] > 1_000_000
    # the fine-tune wrote the head's tensors (~20 kB), not another model
    assert tuned["bytes_written"] < 0.05 * model["size"] < first["bytes_written"]
    # the parameters cell's values, with the logged finetune_lr
    assert tuned["params"] == {
        "finetune_lr": 0.01,
        "finetune_epochs": 30,
        "hidden": 512,
        "pretrain_epochs": 30,
        "pretrain_lr": 0.001,
        "seed": 0,
    }
    diff = service.diff("HEAD~2", "HEAD~1", repo=project, notebook=project / nb)
    (entry,) = [v for v in diff["variables"] if v["name"] == "model"]
    assert set(entry["segments_changed"]) >= {"4.weight", "4.bias"}
    assert not {"0.weight", "2.weight"} & set(entry["segments_changed"])


def check_data_lineage(project: Path, run: dict[str, Any]) -> None:
    nb = "03-data-lineage.ipynb"
    assert _messages(project, nb) == [
        "run 03-data-lineage.ipynb",
        "tree on data release 2",
        "tree on data release 1",
    ]
    one = service.show("HEAD~2", repo=project, notebook=project / nb)["data"]
    two = service.show("HEAD~1", repo=project, notebook=project / nb)["data"]
    assert set(one) == set(two) == {"data/wine.csv"}  # read by pandas, seen by the lineage hook
    assert one["data/wine.csv"]["hash"] != two["data/wine.csv"]["hash"]
    diff = service.diff("HEAD~2", "HEAD~1", repo=project, notebook=project / nb)
    assert [(d["path"], d["status"]) for d in diff["data"]] == [("data/wine.csv", "changed")]
    assert run["data"]["data/wine.csv"] == two["data/wine.csv"]


CHECKS: dict[str, Callable[[Path, dict[str, Any]], None]] = {
    "01-getting-started.ipynb": check_getting_started,
    "02-torch-finetune.ipynb": check_torch_finetune,
    "03-data-lineage.ipynb": check_data_lineage,
}


def test_every_demo_notebook_is_checked() -> None:
    assert {p.name for p in BINDER.glob("*.ipynb")} == set(CHECKS)


def _copy_binder(dest: Path) -> Path:
    shutil.copytree(BINDER, dest, ignore=shutil.ignore_patterns(".mlvc", "data", ".ipynb_*"))
    return dest


def _run_demo(mlvc: list[str], folder: Path, name: str, env: dict[str, str]) -> dict[str, Any]:
    p = subprocess.run(
        [*mlvc, "run", *name.split(), "--json"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert p.returncode == 0, f"{name} failed:\n{p.stderr[-4000:]}"
    run: dict[str, Any] = json.loads(p.stdout)
    return run


def _build_enabled() -> bool:
    default = "1" if os.environ.get("CI") == "true" else "0"  # .ci/run sets CI=true
    return os.environ.get("MLVC_BINDER_BUILD", default) == "1"


def _run_and_check(mlvc: list[str], folder: Path, name: str, env: dict[str, str]) -> None:
    run = _run_demo(mlvc, folder, name, env)
    # a run from binder/ keeps its store there, as the kernel of the interactive demo does
    assert (folder / ".mlvc").is_dir()
    assert Path(run["env"]["python"]["executable"]).parent == Path(mlvc[0]).parent
    CHECKS[name](folder, run)
    if name == "01-getting-started.ipynb":  # runnable twice: its branch exists then
        again = _run_demo(mlvc, folder, name, env)
        assert again["status"] == "ok" and again["branch"] == "main"
        nb = folder / name
        tried = [m for m in _messages(folder, name, branch="other-c") if m.startswith("C=")]
        assert tried == ["C=0.01", "C=10.0"] * 2  # both runs' tries, on the one branch
        assert len(service.log(repo=folder, notebook=nb, branch="other-c")) > 4
    if name == "02-torch-finetune.ipynb":  # the notebook's own suggestion, run again
        again = _run_demo(mlvc, folder, f"{name} -p finetune_lr=0.003", env)
        assert again["params"]["finetune_lr"] == 0.003 and again["status"] == "ok"
        assert again["params"]["hidden"] == 512  # the parameters cell's own values
        assert len(service.log(repo=folder, notebook=folder / name)) == 6


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_demo_notebook(name: str, tmp_path: Path) -> None:
    if _build_enabled():
        pytest.skip("test_binder_build runs every notebook with the same checks")
    folder = _copy_binder(tmp_path / "binder")
    exe = Path(sys.executable).with_name("mlvc")
    mlvc = [str(exe)] if exe.exists() else [sys.executable, "-m", "mlvc_server.cli"]
    env = dict(os.environ, MLVC_CONFIG_DIR=str(tmp_path / "config"))
    env.pop("JPY_SESSION_NAME", None)
    _run_and_check(mlvc, folder, name, env)


# -- the README's main command ------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _get(url: str, token: str) -> tuple[int, bytes]:
    req = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return int(r.status), bytes(r.read())
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def test_demo_script(tmp_path: Path) -> None:
    """``bash scripts/demo.sh`` serves JupyterLab on a copy of ``binder/``'s notebooks
    (``build/demo/notebooks``) with both halves of the extension, and opens the first
    notebook in the browser; ``binder/`` is left as it was. Its install steps are
    skipped (``MLVC_DEMO_SETUP=0``: scripts/setup.sh made this environment), it listens
    on a free port (not 8888), and the "browser" is ``echo``, so the page it opens is in
    the log."""
    if not (ROOT / ".venv" / "bin" / "activate").is_file():
        pytest.skip("no .venv in the checkout (scripts/setup.sh makes it)")
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(
        os.environ,
        MLVC_DEMO_SETUP="0",
        MLVC_DEMO_PORT=str(port),
        JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
        MLVC_CONFIG_DIR=str(tmp_path / "config"),
        BROWSER="echo OPENED %s",
    )
    log = tmp_path / "server.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            ["bash", "scripts/demo.sh", "--", f"--IdentityProvider.token={token}"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120  # a liveness limit, not a timing assertion
        while True:
            assert proc.poll() is None, log.read_text()
            try:
                if _get(f"{base}/api/status", token)[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.5)
        assert _get(f"{base}/lab", token)[0] == 200
        status, body = _get(f"{base}/lab/api/extensions", token)
        assert status == 200
        names = {e["name"]: e for e in json.loads(body)}
        assert names["jupyterlab-mlvc"]["enabled"]
        # the server extension answers, and its root is the copy of the notebooks
        status, body = _get(f"{base}/mlvc/status?path=01-getting-started.ipynb", token)
        assert status == 200, body
        status, _ = _get(f"{base}/api/contents/01-getting-started.ipynb?content=0", token)
        assert status == 200
        # the browser opens a redirect page (it holds the token) to the first notebook
        while "OPENED file://" not in log.read_text():
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.5)
        page = log.read_text().split("OPENED file://", 1)[1].split()[0]
        assert "/lab/tree/01-getting-started.ipynb" in Path(page).read_text()
        copy = json.loads((ROOT / "build/demo/notebooks/01-getting-started.ipynb").read_text())
        # the kernel's language_info is in: opening does not mark the notebook unsaved
        assert copy["metadata"]["language_info"]["version"] == platform.python_version()
        tracked = subprocess.run(
            ["git", "status", "--porcelain", "--", "binder"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert tracked == "", tracked  # the checkout stays clean
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


# -- the build, as repo2docker does it ----------------------------------------------------
def _checkout_copy(dest: Path) -> None:
    """The files a clone would have (tracked and new, not ignored), plus the built frontend."""
    out = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout
    for rel in filter(None, out.decode().split("\0")):
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    # Binder builds the frontend in postBuild's `pip install .` (Node.js is in its base
    # image); the frontend build is checked by scripts/test.sh, so reuse its output here.
    labext = ROOT / "mlvc_server" / "labextension"
    if not (labext / "static" / "style.js").is_file():
        pytest.skip("the frontend is not built (run scripts/setup.sh)")
    shutil.copytree(labext, dest / "mlvc_server" / "labextension")


def _resolves(host: str) -> bool:
    try:
        socket.getaddrinfo(host, 443)
    except OSError:
        return False
    return True


@pytest.mark.binder_build
@pytest.mark.timeout(1800)
def test_binder_build(tmp_path: Path) -> None:
    if not _build_enabled():
        pytest.skip("builds a fresh environment for minutes: set MLVC_BINDER_BUILD=1")
    repo, env_dir = tmp_path / "repo", tmp_path / "env"
    _checkout_copy(repo)
    venv.EnvBuilder(with_pip=True).create(env_dir)
    bin_dir = env_dir / "bin"
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "JPY_SESSION_NAME")
    }
    env.update(
        PATH=f"{bin_dir}{os.pathsep}{env['PATH']}",
        MLVC_CONFIG_DIR=str(tmp_path / "config"),
        PIP_PROGRESS_BAR="off",
    )
    if not _resolves("download.pytorch.org"):
        env["PIP_RETRIES"] = "0"  # this machine reaches PyPI and local mirrors only

    def sh(*cmd: str) -> None:
        p = subprocess.run(cmd, cwd=repo, env=env, capture_output=True, text=True)
        assert p.returncode == 0, f"{' '.join(cmd)} failed:\n{p.stdout[-3000:]}{p.stderr[-3000:]}"

    sh(str(bin_dir / "python"), "-m", "pip", "install", "-q", "-r", "binder/requirements.txt")
    sh("binder/postBuild")  # repo2docker runs it from the repository root

    # the environment is its own: torch is the CPU build, mlvc is the copy's install
    probe = subprocess.run(
        [
            str(bin_dir / "python"),
            "-c",
            "import sys, torch, mlvc_server; "
            "print(sys.prefix, torch.__version__, mlvc_server.__file__, sep='\\n')",
        ],
        cwd=tmp_path,  # not the checkout: `python -c` would import its mlvc_server
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\n")
    assert Path(probe[0]) == env_dir and "cuda" not in probe[1]
    assert Path(probe[2]).is_relative_to(env_dir)

    for name in CHECKS:
        _run_and_check([str(bin_dir / "mlvc")], repo / "binder", name, env)
