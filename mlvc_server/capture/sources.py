"""Find the project's own Python files that the running code imported.

A result depends on the code that produced it: a commit records the local ``.py`` files
(``utils.py``, ``models/net.py``) that were imported from the project folder, and not the
installed libraries, the standard library or a virtualenv that happens to live inside
the project. The decision for each file is cached, so a repeat call costs a dictionary
lookup per loaded module (well under a millisecond for a thousand modules).
"""

from __future__ import annotations

import contextlib
import os
import site
import sys
import sysconfig
import threading
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Any, Final

from .secrets import scan_source

__all__ = ["local_sources"]

#: Folder names that never hold the project's own sources.
EXCLUDED_DIRS: Final[frozenset[str]] = frozenset(
    {"venv", "site-packages", "dist-packages", "node_modules", "__pycache__", "__pypackages__"}
)
#: Files whose presence marks a folder as a Python environment (virtualenv, conda).
_ENV_MARKERS: Final[tuple[str, ...]] = ("pyvenv.cfg", "conda-meta")

_lock = threading.Lock()
#: real root -> absolute ``__file__`` -> (relative POSIX path, real path) or None.
_decisions: dict[str, dict[str, tuple[str, str] | None]] = {}
#: Per project root: the loaded modules of the last call and the files they gave.
_last_found: dict[str, tuple[tuple[object, ...], dict[str, str]]] = {}
#: folder -> whether it is the top of a Python environment.
_env_dirs: dict[str, bool] = {}
_library_dirs: tuple[str, ...] | None = None


def library_roots() -> tuple[str, ...]:
    """The stdlib and site-packages folders of this interpreter, as given and resolved."""
    global _library_dirs
    if _library_dirs is None:
        found: set[str] = set()
        paths = sysconfig.get_paths()
        for key in ("stdlib", "platstdlib", "purelib", "platlib"):
            if paths.get(key):
                found.add(os.path.abspath(paths[key]))
                found.add(os.path.realpath(paths[key]))
        extra: list[str] = []
        # Some embedded / old virtualenv site modules lack getsitepackages.
        with contextlib.suppress(AttributeError):
            extra.extend(site.getsitepackages())
        user_site = getattr(site, "USER_SITE", None)
        if isinstance(user_site, str):
            extra.append(user_site)
        found.update(os.path.abspath(p) for p in extra)
        found.update(os.path.realpath(p) for p in extra)
        _library_dirs = tuple(sorted(found))
    return _library_dirs


def is_env_dir(folder: str) -> bool:
    cached = _env_dirs.get(folder)
    if cached is None:
        cached = any(os.path.exists(os.path.join(folder, m)) for m in _ENV_MARKERS)
        _env_dirs[folder] = cached
    return cached


def inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _decide(real_file: str, root: str) -> tuple[str, str] | None:
    """``(relative POSIX path, absolute path)`` if ``real_file`` is a project source."""
    if not real_file.endswith(".py") or not inside(real_file, root):
        return None
    if any(inside(real_file, lib) for lib in library_roots()):
        return None
    rel = os.path.relpath(real_file, root)
    parts = rel.split(os.sep)
    folder = root
    for part in parts[:-1]:
        if part.startswith(".") or part in EXCLUDED_DIRS:
            return None
        folder = os.path.join(folder, part)
        if is_env_dir(folder):
            return None
    if parts[-1].startswith("."):
        return None
    return "/".join(parts), real_file


def _decide_file(path: str, real_root: str) -> tuple[str, str] | None:
    """Like :func:`_decide` for an absolute, unresolved path, skipping libraries early."""
    if not path.endswith(".py"):
        return None
    if any(inside(path, lib) for lib in library_roots()):
        return None  # without resolving symlinks: the common case, made cheap
    return _decide(os.path.realpath(path), real_root)


def _module_file(module: object) -> str | None:
    """A module's ``__file__`` read from its ``__dict__`` (no module ``__getattr__``)."""
    try:
        value = module.__dict__.get("__file__")
    except Exception:
        return None
    return value if type(value) is str else None


def local_sources(
    root: Path,
    modules: Mapping[str, ModuleType] | None = None,
    *,
    allow_secrets: bool = False,
    secrets_found: dict[str, list[Any]] | None = None,
) -> dict[str, Path]:
    """The project's ``.py`` files that the running code imported.

    A module counts when its ``__file__`` is a ``.py`` file inside ``root`` (symlinks
    resolved), and not in the standard library or a site-packages folder, nor below a
    hidden folder (``.venv``, ``.mlvc``, ``.git``, ``.ipynb_checkpoints``...), a folder
    named ``venv``, ``site-packages``, ``dist-packages``, ``node_modules`` or
    ``__pycache__``, or a Python environment (a folder holding ``pyvenv.cfg`` or
    ``conda-meta``). Modules without a source file (builtins, extension modules,
    ``.pyc``-only imports, the notebook itself) are not listed, nor are files deleted
    since they were imported.

    A file that looks like it holds a secret (``PASSWORD = "..."``, a token: see
    :func:`.secrets.scan_source`) is left out unless ``allow_secrets``; either way its
    findings go to ``secrets_found`` (relative path -> warnings) when given.

    Args:
        root: the project folder.
        modules: the loaded modules, name -> module; ``sys.modules`` by default.
        allow_secrets: record such files anyway (``--allow-secrets``).
        secrets_found: filled with the files that look like they hold secrets.

    Returns:
        POSIX path relative to ``root`` -> absolute (resolved) path, sorted by path.
    """
    real_root = os.path.realpath(os.fspath(root))
    loaded = tuple((sys.modules if modules is None else modules).values())
    found: dict[str, str] = {}
    with _lock:
        last = _last_found.get(real_root)
        # the same module objects as last time (compared by identity): the same files
        if last is not None and last[0] == loaded:
            found = dict(last[1])
            loaded = ()
        decisions = _decisions.setdefault(real_root, {})
        relative = False
        for module in loaded:
            raw = _module_file(module)
            if raw is None:
                continue
            try:
                decision = decisions[raw]
            except KeyError:
                if os.path.isabs(raw):
                    decision = decisions[raw] = _decide_file(raw, real_root)
                else:  # relative to the current directory: not cached
                    relative = True
                    decision = _decide_file(os.path.join(os.getcwd(), raw), real_root)
            if decision is not None:
                found[decision[0]] = decision[1]
        if loaded and not relative:
            _last_found[real_root] = (loaded, dict(found))
    # A file deleted since it was imported cannot be recorded (checked on every call).
    out = {rel: Path(found[rel]) for rel in sorted(found) if os.path.isfile(found[rel])}
    for rel, path in list(out.items()):
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        warnings = scan_source(text, rel)
        if warnings:
            if secrets_found is not None:
                secrets_found[rel] = list(warnings)
            if not allow_secrets:
                del out[rel]
    return out
