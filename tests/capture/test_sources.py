"""Tests for mlvc_server.capture.sources: the project's own imported .py files."""

from __future__ import annotations

import importlib
import json
import os
import sys
import types
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from mlvc_server.capture.sources import local_sources

MODULES = (
    "mlvc_t_local",
    "mlvc_t_pkg",
    "mlvc_t_pkg.sub",
    "mlvc_t_vendored",
    "mlvc_t_hidden",
    "mlvc_t_node",
    "mlvc_t_condalib",
)


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Path]:
    """A project with local modules, a virtualenv, a conda env and hidden folders, imported."""
    root = tmp_path / "proj"
    (root / "mlvc_t_pkg").mkdir(parents=True)
    (root / "mlvc_t_local.py").write_text("VALUE = 1\n")
    (root / "mlvc_t_pkg" / "__init__.py").write_text("")
    (root / "mlvc_t_pkg" / "sub.py").write_text("X = 2\n")
    env_site = root / "env" / "lib" / "python3.11" / "site-packages"
    env_site.mkdir(parents=True)
    (root / "env" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (env_site / "mlvc_t_vendored.py").write_text("")
    conda = root / "conda" / "lib"
    conda.mkdir(parents=True)
    (root / "conda" / "conda-meta").mkdir()
    (conda / "mlvc_t_condalib.py").write_text("")
    (root / ".hidden").mkdir()
    (root / ".hidden" / "mlvc_t_hidden.py").write_text("")
    (root / "node_modules").mkdir()
    (root / "node_modules" / "mlvc_t_node.py").write_text("")
    extra = [root, env_site, conda, root / ".hidden", root / "node_modules"]
    sys.path[:0] = [str(p) for p in extra]
    importlib.invalidate_caches()
    try:
        for name in MODULES:
            importlib.import_module(name)
        yield root
    finally:
        for p in extra:
            sys.path.remove(str(p))
        for name in MODULES:
            sys.modules.pop(name, None)


def test_finds_local_modules_only(project: Path) -> None:
    found = local_sources(project)
    assert found == {
        "mlvc_t_local.py": (project / "mlvc_t_local.py").resolve(),
        "mlvc_t_pkg/__init__.py": (project / "mlvc_t_pkg" / "__init__.py").resolve(),
        "mlvc_t_pkg/sub.py": (project / "mlvc_t_pkg" / "sub.py").resolve(),
    }
    assert all(p.is_absolute() for p in found.values())


def test_explicit_modules_mapping(project: Path) -> None:
    mods = {"json": json, "numpy": np, "mlvc_t_local": sys.modules["mlvc_t_local"]}
    assert list(local_sources(project, mods)) == ["mlvc_t_local.py"]


def test_stdlib_and_site_packages_are_never_local() -> None:
    mods = {"json": json, "numpy": np, "pytest": pytest}
    assert local_sources(Path("/"), mods) == {}
    assert local_sources(Path(np.__file__).parents[2], mods) == {}


def test_modules_without_source_files_are_ignored(project: Path) -> None:
    bare = types.ModuleType("bare")
    compiled = types.ModuleType("compiled")
    compiled.__file__ = str(project / "fast.cpython-311-x86_64-linux-gnu.so")
    assert local_sources(project, {"bare": bare, "compiled": compiled, "sys": sys}) == {}


def test_relative_file_is_resolved_against_cwd(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project)
    mod = types.ModuleType("rel")
    mod.__file__ = "mlvc_t_local.py"
    assert list(local_sources(project, {"rel": mod})) == ["mlvc_t_local.py"]


def test_deleted_file_is_not_reported(project: Path) -> None:
    assert "mlvc_t_pkg/sub.py" in local_sources(project)
    (project / "mlvc_t_pkg" / "sub.py").unlink()
    assert "mlvc_t_pkg/sub.py" not in local_sources(project)


def test_project_root_given_through_a_symlink(project: Path, tmp_path: Path) -> None:
    link = tmp_path / "link"
    link.symlink_to(project)
    assert "mlvc_t_local.py" in local_sources(link)


def test_repeat_call_reuses_per_file_decisions(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mlvc_server.capture.sources as src

    first = local_sources(project)
    calls: list[str] = []
    real = src._decide_file
    monkeypatch.setattr(src, "_decide_file", lambda f, r: calls.append(f) or real(f, r))
    assert local_sources(project) == first
    assert [c for c in calls if os.path.isabs(c) and "mlvc_t" in c] == []
