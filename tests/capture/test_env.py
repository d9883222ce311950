"""Tests for mlvc_server.capture.env: the software environment of a run."""

from __future__ import annotations

import json
import os
import platform
import re
import sys
from importlib import metadata
from pathlib import Path

import numpy as np
import pytest

from mlvc_server.capture.env import environment


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_python_and_platform() -> None:
    env = environment()
    assert env["python"] == {
        "version": platform.python_version(),
        "implementation": platform.python_implementation(),
        "executable": sys.executable,
    }
    assert env["platform"]["system"] == platform.system()
    assert env["platform"]["machine"] == platform.machine()


def test_numpy_is_listed_as_imported_with_its_version() -> None:
    env = environment()
    assert env["imported"]["numpy"] == np.__version__
    assert env["packages"]["numpy"] == np.__version__
    assert "pytest" in env["imported"]


def test_imported_follows_the_modules_given() -> None:
    assert environment({})["imported"] == {}
    assert environment({"numpy": np, "numpy.linalg": np.linalg, "json": json})["imported"] == {
        "numpy": np.__version__
    }


def test_packages_match_importlib_metadata() -> None:
    expected: dict[str, str] = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            expected.setdefault(canonical(name), dist.version)
    assert environment()["packages"] == dict(sorted(expected.items()))


def test_deterministic_and_sorted() -> None:
    a, b = environment(), environment()
    assert json.dumps(a) == json.dumps(b)
    for section in ("packages", "imported", "env_vars"):
        assert list(a[section]) == sorted(a[section])


def test_repeat_call_does_not_rescan_packages(monkeypatch: pytest.MonkeyPatch) -> None:
    import mlvc_server.capture.env as env_mod

    environment()
    calls: list[int] = []
    real = env_mod._scan
    monkeypatch.setattr(env_mod, "_scan", lambda *a, **k: calls.append(1) or real(*a, **k))
    environment()
    assert calls == []


def test_only_allowlisted_env_vars(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMP_NUM_THREADS", "4")
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "do-not-record")
    monkeypatch.setenv("HF_TOKEN", "do-not-record")
    env_vars = environment()["env_vars"]
    assert env_vars["OMP_NUM_THREADS"] == "4"
    assert env_vars["CUDA_VISIBLE_DEVICES"] == "0,1"
    assert "do-not-record" not in json.dumps(environment())


def test_result_belongs_to_the_caller() -> None:
    env = environment()
    env["packages"]["numpy"] = "0.0"
    env["python"]["version"] = "2.7"
    again = environment()
    assert again["packages"]["numpy"] == np.__version__
    assert again["python"]["version"] == platform.python_version()


def _fake_dist(site: Path, name: str, version: str, module: str) -> None:
    info = site / f"{name}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    (info / "RECORD").write_text(f"{module}/__init__.py,,\n{info.name}/METADATA,,\n")
    (site / module).mkdir()
    (site / module / "__init__.py").write_text("")


def test_install_in_the_running_process_is_seen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site-packages"
    site.mkdir()
    environment()
    monkeypatch.syspath_prepend(str(site))  # a new sys.path entry invalidates the cache
    _fake_dist(site, "mlvc_fake_one", "1.2.3", "mlvc_fake_one")
    os.utime(site, ns=(1, 1))
    env = environment()
    assert env["packages"]["mlvc-fake-one"] == "1.2.3"
    assert "mlvc-fake-one" not in env["imported"]

    _fake_dist(site, "mlvc_fake_two", "0.1", "mlvc_fake_two")  # like `%pip install`
    os.utime(site, ns=(2, 2))
    __import__("mlvc_fake_two")
    try:
        env = environment()
        assert env["packages"]["mlvc-fake-two"] == "0.1"
        assert env["imported"]["mlvc-fake-two"] == "0.1"
    finally:
        sys.modules.pop("mlvc_fake_two", None)


def test_egg_info_is_read_from_its_metadata(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "src"
    info = src / "Mlvc_Legacy.egg-info"
    info.mkdir(parents=True)
    (info / "PKG-INFO").write_text("Metadata-Version: 1.1\nName: Mlvc_Legacy\nVersion: 4.5\n")
    (info / "top_level.txt").write_text("mlvc_legacy\n")
    monkeypatch.syspath_prepend(str(src))
    assert environment()["packages"]["mlvc-legacy"] == "4.5"
    assert environment({"mlvc_legacy": np})["imported"] == {"mlvc-legacy": "4.5"}
