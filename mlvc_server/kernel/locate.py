"""Which notebook a kernel runs: the rule, in order.

1. ``--notebook PATH`` (the caller names it).
2. Where the frontend said the notebook moved (a rename or move in JupyterLab or
   Notebook 7: the mlvc frontend tells the kernel, see :func:`moved`).
3. ``MLVC_NOTEBOOK``: the environment variable, for any runner mlvc cannot recognise
   (papermill's or nbclient's Python API, Jupyter Book, a custom script).
4. The runner that started the kernel, from its parent process's command line:
   ``jupyter nbconvert --execute NB``, ``jupyter execute NB``, ``papermill IN OUT``
   (the input notebook) and ``pytest --nbval NB``. With several notebooks on the
   command line, the one in the kernel's working folder (nbconvert and papermill start
   the kernel there); if that leaves more than one, none (name it).
5. The frontend's session: ``__session__`` (ipykernel sets it from
   ``JPY_SESSION_NAME``, which jupyter_server sets to the notebook's path when it
   starts the kernel; ``mlvc run`` sets it too), ``__vsc_ipynb_file__`` (VS Code), or
   ``JPY_SESSION_NAME`` itself.

A runner comes before the session because a runner started from a notebook
(``!papermill a.ipynb b.ipynb``) passes on the launching kernel's ``JPY_SESSION_NAME``.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

__all__ = ["ENV", "Runner", "describe", "moved", "runner", "runner_from_argv"]

#: The environment variable that names the notebook for runners mlvc can't recognise.
ENV: Final = "MLVC_NOTEBOOK"

#: The runners recognised from a command line: a word that names the program, and
#: whether the notebook is the first notebook argument (papermill: the input).
_FIRST_ONLY: Final = {"papermill": True, "nbconvert": False, "execute": False, "nbval": False}


@dataclass(frozen=True)
class Runner:
    """A headless runner found from the kernel's parent process.

    Attributes:
        name: ``nbconvert``, ``execute`` (``jupyter execute``), ``papermill`` or ``nbval``.
        notebook: the notebook's absolute path, or None when it can't be told.
        candidates: the notebooks on the runner's command line.
    """

    name: str
    notebook: Path | None
    candidates: tuple[Path, ...]


def _runner_name(argv: Sequence[str]) -> str | None:
    words = [Path(a).name for a in argv[:3]]
    for word in words:
        base = word.removesuffix(".exe").removesuffix("-script.py")
        if base in ("papermill", "jupyter-nbconvert", "jupyter-execute"):
            return base.removeprefix("jupyter-")
    # ``python -m papermill``, ``jupyter nbconvert``, ``jupyter execute``
    for i, a in enumerate(argv[:-1]):
        if a == "-m" and argv[i + 1] in ("papermill", "nbconvert", "nbclient"):
            return "execute" if argv[i + 1] == "nbclient" else argv[i + 1]
        if Path(a).name in ("jupyter", "jupyter.exe") and argv[i + 1] in ("nbconvert", "execute"):
            return argv[i + 1]
    if any(a in ("--nbval", "--nbval-lax") for a in argv):
        return "nbval"
    return None


def runner_from_argv(argv: Sequence[str], cwd: Path, kernel_cwd: Path) -> Runner | None:
    """The runner a command line starts, and the notebook it runs in ``kernel_cwd``.

    Args:
        argv: the runner's command line.
        cwd: the runner's working folder (relative notebook paths start there).
        kernel_cwd: the kernel's working folder (with several notebooks, the one there).

    Returns:
        The runner, or None when the command line is not a known runner's.
    """
    name = _runner_name(argv)
    if name is None:
        return None
    if (
        name == "nbconvert"
        and not any(a.startswith("--execute") for a in argv)
        and not any(a.startswith("--ExecutePreprocessor.enabled") for a in argv)
    ):
        return None
    found: list[Path] = []
    for a in argv[1:]:
        value = a.split("=", 1)[1] if a.startswith("-") and "=" in a else a
        if value.endswith(".ipynb") and "://" not in value:
            p = Path(os.path.abspath(cwd / os.path.expanduser(value)))
            if p.is_file() or name == "papermill":
                found.append(p)
    if _FIRST_ONLY[name]:
        found = found[:1]
    found = list(dict.fromkeys(found))
    if len(found) == 1:
        return Runner(name, found[0], tuple(found))
    here = [p for p in found if p.parent == kernel_cwd]
    return Runner(name, here[0] if len(here) == 1 else None, tuple(found))


def runner() -> Runner | None:
    """The headless runner that started this kernel, from its parent process.

    The kernel's parent is the runner itself (jupyter_client starts the kernel as its
    child); a kernel started through a nanny or a shell wrapper is looked up one level
    higher.
    """
    try:
        import psutil
    except ImportError:  # pragma: no cover - psutil is a dependency
        return None
    kernel_cwd = Path.cwd()
    try:
        proc: Any = psutil.Process().parent()
        for _ in range(2):
            if proc is None:
                return None
            found = runner_from_argv(proc.cmdline(), Path(proc.cwd()), kernel_cwd)
            if found is not None:
                return found
            proc = proc.parent()
    except (psutil.Error, OSError):
        return None
    return None


def moved(known: str | None, old: str, new: str, *, cwd: Path) -> Path:
    """Where the notebook is after the frontend moved it from ``old`` to ``new``.

    The frontend knows paths relative to the server's root; the kernel knows its
    notebook's absolute path (or nothing). The server's root is the known path less
    ``old``; without it, the kernel's working folder less ``old``'s folder (jupyter
    starts the kernel in the notebook's folder), else the working folder itself.

    Args:
        known: the notebook's absolute path as the kernel knew it (None: unknown).
        old: the notebook's old path, relative to the server root.
        new: its new path, relative to the server root.
        cwd: the kernel's working folder.

    Returns:
        The notebook's new absolute path.
    """
    old_parts = Path(old.lstrip("/")).parts
    new_rel = Path(new.lstrip("/"))
    if known:
        parts = Path(os.path.abspath(known)).parts
        if old_parts and parts[-len(old_parts) :] == old_parts:
            return Path(*parts[: -len(old_parts)], new_rel)
    folder = old_parts[:-1]
    if folder and cwd.parts[-len(folder) :] == folder:
        return Path(*cwd.parts[: -len(folder)], new_rel)
    return cwd / new_rel if not folder else cwd / new_rel.name


def describe(r: Runner) -> str:
    """Why a runner's notebook could not be told, for an error message."""
    names = ", ".join(shlex.quote(str(p)) for p in r.candidates) or "none"
    return f"{r.name} runs several notebooks ({names})"
