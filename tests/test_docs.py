"""Every command in the documentation runs, and the reference pages match the code.

``test_doc_commands`` runs each page of ``docs/`` and ``README.md`` in a fresh project,
block by block in page order: shell blocks (```` ```bash ````, ``sh``, ``console``: its
``$`` lines) with ``bash`` and this environment's ``mlvc`` entry point first on ``PATH``;
Python blocks (magics included) as cells of a real kernel started for the project's
notebook. A block fails the test when a command exits non-zero or a cell raises.

The project is what the examples assume: ``train.ipynb`` (``TRAIN``: a cell tagged
``parameters`` with ``C``, ``epochs`` and ``seed``; it reads ``data/train.csv``, fits a
scikit-learn model ``clf`` and logs ``acc`` and a ``loss`` series) with one run committed
by ``mlvc run`` and tagged ``first``. Before a page's first Python block, the kernel runs
the notebook's cells (``PREAMBLE``), as the user would have.

Commands that cannot run here are listed in ``SKIP`` with the reason; ``mlvc`` commands
that need a reachable remote are only parsed, by the CLI's own parser (``PARSE_ONLY``).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import pytest
import yaml

sys.path.insert(0, str(Path(__file__).parent / "kernel"))
from harness import Kernel

from mlvc_server import cli
from mlvc_server.kernel.magics import build_parser

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = [*sorted(DOCS.glob("*.md")), ROOT / "README.md"]
WORKFLOW = DOCS / "examples" / "github-actions.yml"
BIN = Path(sys.executable).parent

#: Commands that are not run, with the reason (matched after a trailing ``# comment`` is cut).
SKIP: dict[str, str] = {
    "bash scripts/demo.sh": "serves JupyterLab until stopped; test_binder.py::test_demo_script "
    "starts it on another port",
    ". .venv/bin/activate": "the checkout's environment: these tests already run in it",
    "python benchmarks/finetune.py": "a benchmark of minutes and GiBs, run by hand",
    "python benchmarks/notebook.py": "a benchmark, run by hand",
    "python benchmarks/history.py": "a benchmark, run by hand",
    "python benchmarks/query.py": "a benchmark, run by hand",
    "python benchmarks/sweep.py": "a benchmark, run by hand",
    "python benchmarks/sweep_cancel.py": "a benchmark, run by hand",
    "python benchmarks/data.py": "writes and hashes a 1 GiB file, run by hand",
    "python benchmarks/formats.py": "a benchmark of GiBs, run by hand",
    "python benchmarks/status.py": "a benchmark of GiBs in kernels, run by hand",
    "python benchmarks/evaluate.py": "1M rows and 1,200 simulations, run by hand",
    "python benchmarks/lineage.py": "2,000 commits, run by hand",
    "python benchmarks/registry.py": "a benchmark, run by hand",
    "python benchmarks/gpu_check.py": "needs a CUDA GPU",
    "python benchmarks/cli.py": "a benchmark of process start-up, run by hand",
    "python benchmarks/autocommit_kishu.py": "a benchmark of kernels, minutes, run by hand",
    "python -m pip install jupyterlab-mlvc s3fs scikit-learn pandas": "installs packages: the "
    "test environment has mlvc and what train.ipynb imports",
    'pip install "jupyterlab-mlvc[all]"': "installs packages: the test environment has mlvc "
    "with every extra ([test] includes [all])",
    "git config receive.unpackLimit 1": "configures the git server's bare repository",
    "git config pack.compression 0": "configures the git server's bare repository",
    "git config core.bigFileThreshold 1m": "configures the git server's bare repository",
    "mlvc gc --dry-run ...": "`...` stands for the rules of the lines above it",
}
#: ``mlvc`` subcommands that need a reachable remote: their lines are parsed, not run.
PARSE_ONLY = {"remote", "push", "pull", "clone"}
#: Values for the GitHub expressions of the example workflow.
GITHUB = {
    "github.run_number": "7",
    "github.sha": "0a1b2c3d",
    "vars.MLVC_REMOTE": "git@example.org:team/experiments.git",
    "vars.MLVC_PAYLOADS": "s3://bucket/mlvc",
}
#: Links to files that others add (the UI tests' screenshots, the remotes page).
PENDING = {
    "docs/images/panel.png": "a screenshot the UI tests save (ui-tests/)",
    "docs/images/diff.png": "a screenshot the UI tests save (ui-tests/)",
    "docs/images/compare.png": "a screenshot the UI tests save (ui-tests/)",
    "docs/remotes.md": "the remotes page (remote, push, pull, clone, gc)",
}

#: ``train.ipynb``: the notebook the examples commit (cells, with their tags).
TRAIN = [
    ("C = 1.0\nepochs = 2\nseed = 0", ["parameters"]),
    (
        "import csv\n\n"
        "import numpy as np\n"
        "from sklearn.linear_model import LogisticRegression\n\n"
        "with open('data/train.csv') as f:\n"
        "    rows = list(csv.DictReader(f))\n"
        "rng = np.random.default_rng(seed)\n"
        "X = rng.normal(size=(120, 4))\n"
        "y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int)\n"
        "X_test, y_test = X[:40], y[:40]\n"
        "clf = LogisticRegression(C=C).fit(X[40:], y[40:])\n"
        "acc = clf.score(X_test, y_test)",
        [],
    ),
    (
        "import mlvc_server as mlvc\n\n"
        "for step in range(epochs):\n"
        "    mlvc.log_metrics(loss=1 / (step + 1), step=step)\n"
        "mlvc.log_metrics(acc=acc)",
        [],
    ),
]
#: What the kernel runs before a page's first Python block: the extension, and the
#: notebook's cells as the user would have run them (the examples commit ``clf``, ``acc``...).
PREAMBLE = "\n\n".join(["%load_ext mlvc_server", *(src for src, _ in TRAIN)])


# -- reading the docs -----------------------------------------------------------------------
@dataclass
class Block:
    page: str
    line: int
    lang: str
    text: str

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}"


_FENCE = re.compile(
    r"^(?P<indent>[ \t]*)```(?P<lang>[\w+-]*)[^\n]*\n(?P<body>.*?)^(?P=indent)```[ \t]*$",
    re.M | re.S,
)
SHELL = {"bash", "sh", "shell", "console"}
PYTHON = {"python", "ipython", "py"}


def blocks(path: Path) -> list[Block]:
    """The fenced code blocks of a markdown file, dedented (blocks may sit in lists)."""
    text = path.read_text(encoding="utf-8")
    out = []
    for m in _FENCE.finditer(text):
        indent = len(m["indent"])
        body = "".join(line[indent:] for line in m["body"].splitlines(keepends=True))
        line = text.count("\n", 0, m.start()) + 1
        out.append(Block(path.relative_to(ROOT).as_posix(), line, m["lang"].lower(), body))
    return out


def _strip_comment(line: str) -> str:
    return re.sub(r"\s+#\s.*$", "", line).strip()


def commands(block: Block) -> list[str]:
    """The logical lines of a shell block (``\\``-continuations joined; ``$`` lines of a
    console block)."""
    lines = block.text.splitlines()
    if block.lang == "console":
        lines = [ln[2:] for ln in lines if ln.startswith("$ ")]
    joined: list[str] = []
    for ln in lines:
        if joined and joined[-1].endswith("\\"):
            joined[-1] = joined[-1][:-1] + " " + ln.strip()
        else:
            joined.append(ln)
    return [ln for ln in joined if ln.strip() and not ln.lstrip().startswith("#")]


def _mlvc_argv(command: str) -> list[str] | None:
    argv = shlex.split(command)
    return argv[1:] if argv and argv[0] == "mlvc" else None


# -- the project the examples run in --------------------------------------------------------
def _env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("JPY_SESSION_NAME", "VIRTUAL_ENV")}
    env.update(
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        MLVC_CONFIG_DIR=str(tmp / "config"),
        MLVC_AUTHOR_NAME="Docs",
        MLVC_AUTHOR_EMAIL="docs@example.org",
        MLVC_SAVE_TIMEOUT="0.3",
        GIT_AUTHOR_NAME="Docs",
        GIT_AUTHOR_EMAIL="docs@example.org",
        GIT_COMMITTER_NAME="Docs",
        GIT_COMMITTER_EMAIL="docs@example.org",
    )
    return env


def _bash(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", "set -euo pipefail\n" + script],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def seed_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``train.ipynb`` and ``data/train.csv`` with one run committed and tagged ``first``."""
    project = tmp_path_factory.mktemp("seed") / "project"
    (project / "data").mkdir(parents=True)
    (project / "data" / "train.csv").write_text("x,y\n1,0\n2,1\n3,1\n")
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    for i, (src, tags) in enumerate(TRAIN):
        cell = nbformat.v4.new_code_cell(src, id=f"train-{i}")
        cell.metadata["tags"] = tags
        nb.cells.append(cell)
    nbformat.write(nb, project / "train.ipynb")
    p = _bash('mlvc run train.ipynb -m "first run"\nmlvc tag first', project, _env(project))
    assert p.returncode == 0, p.stderr
    return project


@pytest.fixture
def project(seed_project: Path, tmp_path: Path) -> Path:
    dest = tmp_path / "project"
    shutil.copytree(seed_project, dest)
    return dest


class Session:
    """Runs one page's blocks in one project (one kernel, started on first use)."""

    def __init__(self, project: Path) -> None:
        self.project = project
        self.env = _env(project)
        self.kernel: Kernel | None = None

    def shell(self, block: Block) -> None:
        script = []
        for command in commands(block):
            key = _strip_comment(command)
            if key in SKIP:
                script.append(f": skipped {shlex.quote(key)}")
                continue
            argv = _mlvc_argv(key)
            if argv and argv[0] in PARSE_ONLY:
                parse(key)
                script.append(f": parsed {shlex.quote(key)}")
                continue
            script.append(command)
        p = _bash("\n".join(script), self.project, self.env)
        assert p.returncode == 0, f"{block.where}:\n{block.text}\n{p.stdout}\n{p.stderr}"

    def python(self, block: Block) -> None:
        k = self._kernel()
        reply = k.run(block.text, ok=False, timeout=300)
        tb = "\n".join((reply.error or {}).get("traceback") or [])
        assert reply.status == "ok", f"{block.where}:\n{block.text}\n{tb}\n{reply.stderr}"
        assert "not restored" not in reply.text, f"{block.where}: {reply.text}"

    def _kernel(self) -> Kernel:
        if self.kernel is None:
            from jupyter_client.manager import start_new_kernel

            env = dict(self.env, JPY_SESSION_NAME=str(self.project / "train.ipynb"))
            km, kc = start_new_kernel(kernel_name="python3", cwd=str(self.project), env=env)
            self.kernel = Kernel(km, kc, self.project)
            assert self.kernel.value("__import__('sys').prefix") == sys.prefix
            self.kernel.run(PREAMBLE)
        return self.kernel

    def close(self) -> None:
        if self.kernel is not None:
            self.kernel.kc.stop_channels()
            self.kernel.km.shutdown_kernel(now=True)


def parse(command: str) -> None:
    """Parse an ``mlvc`` command line with the CLI's parser (no run)."""
    argv = _mlvc_argv(command)
    assert argv is not None
    try:
        cli._parser().parse_args(argv)
    except SystemExit as e:
        pytest.fail(f"`{command}` does not parse (exit {e.code})")


@pytest.fixture
def session(project: Path) -> Iterator[Session]:
    s = Session(project)
    yield s
    s.close()


#: Pages whose commands take longer than the default timeout (seconds, on a loaded machine).
SLOW_PAGES = {"docs/export.md": 300}  # each export loads itself in a fresh Python; MLflow


# -- the tests ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "page",
    [
        pytest.param(page, marks=pytest.mark.timeout(SLOW_PAGES[page]))
        if page in SLOW_PAGES
        else page
        for page in (p.relative_to(ROOT).as_posix() for p in PAGES)
    ],
)
def test_doc_commands(page: str, session: Session) -> None:
    ran = 0
    for block in blocks(ROOT / page):
        if block.lang in SHELL:
            session.shell(block)
        elif block.lang in PYTHON:
            session.python(block)
        else:
            continue
        ran += 1
    if not ran:
        pytest.skip(f"{page} has no shell or Python blocks")


def test_every_skip_is_still_in_the_docs() -> None:
    found = {
        _strip_comment(c)
        for page in PAGES
        for b in blocks(page)
        if b.lang in SHELL
        for c in commands(b)
    }
    found |= {_strip_comment(c) for c in _workflow_commands()}
    assert set(SKIP) <= found, f"stale entries in SKIP: {set(SKIP) - found}"


def _workflow() -> dict[Any, Any]:
    data: dict[Any, Any] = yaml.safe_load(WORKFLOW.read_text())
    return data


def _workflow_commands() -> list[str]:
    out = []
    for step in _workflow()["jobs"]["retrain"]["steps"]:
        for line in str(step.get("run", "")).splitlines():
            if line.strip():
                out.append(
                    re.sub(r"\$\{\{\s*([\w.]+)\s*\}\}", lambda m: GITHUB[m[1]], line.strip())
                )
    return out


def test_example_workflow(project: Path) -> None:
    """The CI example: its steps exist, its mlvc commands parse, and the run it makes
    commits (its install step and remote commands are not run here)."""
    wf = _workflow()
    assert True in wf and "push" in wf[True]  # YAML 1.1 reads the key `on` as True
    steps = wf["jobs"]["retrain"]["steps"]
    assert any(s.get("uses", "").startswith("actions/checkout") for s in steps)
    env = dict(_env(project), **{str(k): str(v) for k, v in wf["jobs"]["retrain"]["env"].items()})
    script = []
    for command in _workflow_commands():
        if command in SKIP:
            continue
        argv = _mlvc_argv(command.split(" > ")[0])
        assert argv is not None, f"not an mlvc command and not in SKIP: {command}"
        parse(command.split(" > ")[0])
        if argv[0] not in PARSE_ONLY:
            script.append(command)
    p = _bash("\n".join(script), project, env)
    assert p.returncode == 0, p.stderr
    run = json.loads((project / "run.json").read_text())
    assert run["status"] == "ok" and run["branch"] == "ci"
    # -p values, and C at its value in the parameters cell
    assert run["params"] == {"C": 1.0, "epochs": 3, "seed": 7} and run["author"] == "ci"
    assert (project / "executed.ipynb").is_file()


def _subcommands(parser: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    for action in parser._actions:
        choices = getattr(action, "choices", None)
        if isinstance(choices, dict):
            for name, sub in choices.items():
                yield f"{prefix}{name}", sub
                yield from _subcommands(sub, f"{prefix}{name} ")


def _options(parser: Any) -> list[list[str]]:
    skip = {"-h", "--help", "--json", "-N", "--notebook"}
    return [
        [o for o in a.option_strings if o not in skip]
        for a in parser._actions
        if a.option_strings and not set(a.option_strings) & skip
    ]


def _mentions(text: str, option: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", text) is not None


def test_cli_reference_covers_every_command_and_option() -> None:
    text = (DOCS / "cli.md").read_text()
    remotes = DOCS / "remotes.md"
    headings = set(re.findall(r"^#+ mlvc ([\w-]+)", text, re.M))
    for name, sub in _subcommands(cli._parser()):
        top = name.split()[0]
        elsewhere = top in PARSE_ONLY | {"gc"}
        if " " not in name:
            assert name in headings or (elsewhere and f"`mlvc {name}`" in text), (
                f"docs/cli.md has no section on `mlvc {name}`"
            )
        if elsewhere and not remotes.exists():
            continue  # documented in docs/remotes.md, not written yet (see PENDING)
        where = text + (remotes.read_text() if elsewhere else "")
        for strings in _options(sub):
            assert any(_mentions(where, o) for o in strings), (
                f"`mlvc {name}` option {'/'.join(strings)} is not documented"
            )


def test_magics_reference_covers_every_command_and_option() -> None:
    text = (DOCS / "magics.md").read_text()
    for name, sub in _subcommands(build_parser()):
        assert f"%mlvc {name}" in text, f"docs/magics.md never shows `%mlvc {name}`"
        for strings in _options(sub):
            assert any(_mentions(text, o) for o in strings), (
                f"`%mlvc {name}` option {'/'.join(strings)} is not in docs/magics.md"
            )


def test_rest_reference_lists_every_endpoint_of_the_openapi_description() -> None:
    spec = yaml.safe_load((ROOT / "mlvc_server" / "openapi.yaml").read_text())
    methods = {"get", "post", "put", "patch", "delete"}
    in_spec = {
        (m.upper(), path) for path, item in spec["paths"].items() for m in item if m in methods
    }
    in_doc = set()
    for methods_text, path in re.findall(
        r"^\|\s*`([A-Z, ]+) (/mlvc/[^`]*)`", (DOCS / "rest.md").read_text(), re.M
    ):
        in_doc |= {(m.strip(), path) for m in methods_text.split(",")}
    assert in_doc == in_spec


_LINK = re.compile(r"\]\((?!https?://|#|mailto:)([^)\s#]+)(?:#[^)]*)?\)")


def _links() -> list[tuple[str, str]]:
    out = []
    for page in PAGES:
        for target in _LINK.findall(page.read_text()):
            resolved = (page.parent / target).resolve()
            out.append((page.relative_to(ROOT).as_posix(), resolved.relative_to(ROOT).as_posix()))
    return out


def test_links_between_pages_resolve() -> None:
    broken = [(p, t) for p, t in _links() if t not in PENDING and not (ROOT / t).exists()]
    assert not broken


@pytest.mark.parametrize("target", sorted(PENDING))
def test_pending_link_targets(target: str) -> None:
    assert any(t == target for _, t in _links()), f"{target} is linked from no page any more"
    if not (ROOT / target).exists():
        pytest.skip(f"{target} is not there yet: {PENDING[target]}")
