"""Describe the software a run used: Python, platform, installed and imported packages.

Listing installed distributions is the slow part (reading ``importlib.metadata`` for
every distribution takes 100+ ms, mapping import names to distributions 250+ ms more).
This module reads each ``*.dist-info`` folder name straight from ``sys.path`` (name and
version are in the folder name; only ``.egg-info`` needs its metadata file) and each
distribution's ``top_level.txt`` or ``RECORD`` once per process (about 35 ms for 140
distributions), then caches the result. The cache is checked on every call by comparing
``sys.path`` and the modification times of the folders that hold distributions, which a
``pip install`` in the kernel changes: a few ``os.stat`` calls.

The output is deterministic (keys sorted), so an unchanged environment gives identical
JSON, and holds only an allowlist of environment variables (never secrets).
"""

from __future__ import annotations

import os
import platform
import re
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Final, TypedDict

from .secrets import redact

__all__ = [
    "ENV_VAR_ALLOWLIST",
    "EnvironmentInfo",
    "PlatformInfo",
    "PythonInfo",
    "environment",
]

#: Environment variables that change what a run computes or where; recorded when set.
ENV_VAR_ALLOWLIST: Final[tuple[str, ...]] = (
    "CUBLAS_WORKSPACE_CONFIG",
    "CUDA_DEVICE_ORDER",
    "CUDA_LAUNCH_BLOCKING",
    "CUDA_VISIBLE_DEVICES",
    "HIP_VISIBLE_DEVICES",
    "JAX_ENABLE_X64",
    "JAX_PLATFORMS",
    "KMP_AFFINITY",
    "MKL_NUM_THREADS",
    "NUMEXPR_MAX_THREADS",
    "NUMEXPR_NUM_THREADS",
    "NVIDIA_VISIBLE_DEVICES",
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "PYTHONHASHSEED",
    "PYTORCH_CUDA_ALLOC_CONF",
    "ROCR_VISIBLE_DEVICES",
    "TF_CUDNN_DETERMINISTIC",
    "TF_DETERMINISTIC_OPS",
    "TF_ENABLE_ONEDNN_OPTS",
    "TOKENIZERS_PARALLELISM",
    "VECLIB_MAXIMUM_THREADS",
    "XLA_FLAGS",
)

_NAME_SEPARATORS: Final = re.compile(r"[-_.]+")
_SITE_DIR_NAMES: Final = ("site-packages", "dist-packages")


class PythonInfo(TypedDict):
    """The interpreter: ``version`` ("3.11.7"), ``implementation`` ("CPython"), ``executable``."""

    version: str
    implementation: str
    executable: str


class PlatformInfo(TypedDict):
    """The operating system as Python sees it: ``system``, ``release``, ``machine``."""

    system: str
    release: str
    machine: str


class EnvironmentInfo(TypedDict):
    """The software environment of a run.

    Attributes:
        python: the interpreter.
        platform: the operating system.
        packages: every installed distribution, canonical name (PEP 503) -> version.
        imported: the distributions providing a top-level module that is imported,
            canonical name -> version.
        env_vars: the set variables of :data:`ENV_VAR_ALLOWLIST`, name -> value.
    """

    python: PythonInfo
    platform: PlatformInfo
    packages: dict[str, str]
    imported: dict[str, str]
    env_vars: dict[str, str]


class _Installed:
    """Installed distributions, as scanned for one state of ``sys.path``."""

    def __init__(
        self,
        fingerprint: tuple[object, ...],
        watched: tuple[str, ...],
        packages: dict[str, str],
        top_level: dict[str, tuple[str, ...]],
    ) -> None:
        self.fingerprint = fingerprint
        self.watched = watched
        self.packages = packages
        self.top_level = top_level


_lock = threading.Lock()
#: The module names of the last :func:`environment` call and their top-level names.
_last_tops: tuple[tuple[tuple[str, object], ...], set[str]] | None = None
_installed: _Installed | None = None
_static: tuple[PythonInfo, PlatformInfo] | None = None


def canonical_name(name: str) -> str:
    """A distribution name normalized as in PEP 503 (``Scikit_Learn`` -> ``scikit-learn``)."""
    return _NAME_SEPARATORS.sub("-", name).lower()


def _read_text(folder: str, name: str) -> str | None:
    try:
        with open(os.path.join(folder, name), encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return None


def _top_level_names(info_dir: str) -> set[str]:
    """Top-level import names a distribution provides (from top_level.txt or RECORD)."""
    text = _read_text(info_dir, "top_level.txt")
    if text is not None:
        tops = (line.strip().split("/", 1)[0].split(".", 1)[0] for line in text.splitlines())
        return {top for top in tops if top}
    names: set[str] = set()
    text = _read_text(info_dir, "RECORD") or _read_text(info_dir, "installed-files.txt")
    for line in (text or "").splitlines():
        path = line.split(",", 1)[0].strip('"')
        first, sep, _ = path.partition("/")
        if sep:
            if first not in ("", "..", ".", "__pycache__") and not first.endswith(
                (".dist-info", ".egg-info", ".data")
            ):
                names.add(first)
        elif first.endswith(".py"):
            names.add(first[:-3])
        elif first.endswith((".so", ".pyd")):
            names.add(first.split(".", 1)[0])
    return names


def _name_version(entry: os.DirEntry[str]) -> tuple[str, str] | None:
    """(name, version) of a ``.dist-info`` / ``.egg-info`` entry, or None."""
    stem, dot, kind = entry.name.rpartition(".")
    if not dot or kind not in ("dist-info", "egg-info") or stem.startswith("~"):
        return None
    if kind == "dist-info":
        # The wheel spec escapes "-" in the name, so the first "-" ends it.
        name, sep, version = stem.partition("-")
        if sep and name and version:
            return name, version
    from importlib import metadata  # slow to import (20 ms) and rarely needed

    try:
        meta = metadata.PathDistribution(Path(entry.path)).metadata
    except Exception:
        return None
    name, version = meta["Name"], meta["Version"]
    if isinstance(name, str) and isinstance(version, str) and name:
        return name, version
    return None


def _watched_stamps(watched: tuple[str, ...]) -> tuple[int, ...]:
    stamps = []
    for folder in watched:
        try:
            stamps.append(os.stat(folder).st_mtime_ns)
        except OSError:
            stamps.append(-1)
    return tuple(stamps)


def _scan(path: tuple[str, ...]) -> _Installed:
    """Read every distribution on ``path``; the first one found for a name wins."""
    packages: dict[str, str] = {}
    providers: dict[str, set[str]] = {}
    watched: list[str] = []
    for entry in path:
        folder = entry or os.curdir
        try:
            with os.scandir(folder) as it:
                infos = sorted((e for e in it if e.name.endswith("-info")), key=lambda e: e.name)
        except OSError:
            continue
        holds_dists = False
        for info in infos:
            found = _name_version(info)
            if found is None:
                continue
            holds_dists = True
            name = canonical_name(found[0])
            if name in packages:
                continue
            packages[name] = found[1]
            if info.is_dir():
                for top in _top_level_names(info.path):
                    providers.setdefault(top, set()).add(name)
        if holds_dists or os.path.basename(os.path.normpath(folder)) in _SITE_DIR_NAMES:
            watched.append(os.path.abspath(folder))
    watched_t = tuple(watched)
    return _Installed(
        fingerprint=(path, _watched_stamps(watched_t)),
        watched=watched_t,
        packages=dict(sorted(packages.items())),
        top_level={top: tuple(sorted(names)) for top, names in providers.items()},
    )


def _current_installed() -> _Installed:
    """The cached scan, redone when ``sys.path`` or a distribution folder changed."""
    global _installed
    path = tuple(p for p in sys.path if isinstance(p, str))
    with _lock:
        cached = _installed
        if (
            cached is None
            or cached.fingerprint[0] != path
            or cached.fingerprint[1] != _watched_stamps(cached.watched)
        ):
            cached = _installed = _scan(path)
        return cached


def _static_info() -> tuple[PythonInfo, PlatformInfo]:
    global _static
    if _static is None:
        python: PythonInfo = {
            "version": platform.python_version(),
            "implementation": platform.python_implementation(),
            "executable": sys.executable,
        }
        uname = platform.uname()
        plat: PlatformInfo = {
            "system": uname.system,
            "release": uname.release,
            "machine": uname.machine,
        }
        _static = (python, plat)
    return _static


def environment(modules: Mapping[str, ModuleType] | None = None) -> EnvironmentInfo:
    """Describe the running Python environment.

    The first call in a process scans the installed distributions (tens of ms); later
    calls reuse the scan unless ``sys.path`` or a folder holding distributions changed
    (e.g. ``%pip install`` in the kernel), and take well under a millisecond plus the
    cost of walking ``modules``.

    Args:
        modules: the loaded modules, name -> module; ``sys.modules`` by default. Used
            for ``imported``.

    Returns:
        An :class:`EnvironmentInfo`, with every mapping sorted by key. The caller owns
        the returned dicts.
    """
    python, plat = _static_info()
    installed = _current_installed()
    loaded = sys.modules if modules is None else modules
    stdlib = sys.stdlib_module_names
    imported: dict[str, str] = {}
    global _last_tops
    items = tuple(loaded.items())
    if _last_tops is not None and _last_tops[0] == items:
        tops = _last_tops[1]
    else:
        tops = {name.partition(".")[0] for name, mod in items if mod is not None}
        _last_tops = (items, tops)
    for top in tops:
        if top in stdlib:
            continue
        for dist in installed.top_level.get(top, ()):
            imported[dist] = installed.packages[dist]
    # allowlisted names only, and even their values with credential-looking parts redacted
    env_vars = {k: redact(os.environ[k]) for k in ENV_VAR_ALLOWLIST if k in os.environ}
    return {
        "python": {
            "version": python["version"],
            "implementation": python["implementation"],
            "executable": python["executable"],
        },
        "platform": {
            "system": plat["system"],
            "release": plat["release"],
            "machine": plat["machine"],
        },
        "packages": dict(installed.packages),
        "imported": dict(sorted(imported.items())),
        "env_vars": env_vars,
    }
