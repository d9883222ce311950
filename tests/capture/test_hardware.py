"""Tests for mlvc_server.capture.hardware: the machine a run used."""

from __future__ import annotations

import importlib
import json
import os
import sys
import types
from typing import Any

import pytest

# The package exports the function ``hardware``, which shadows the submodule's name.
hw = importlib.import_module("mlvc_server.capture.hardware")


def test_keys_and_sane_values() -> None:
    info = hw.hardware()
    assert set(info) == {"cpu", "memory", "gpus", "os", "hostname"}
    assert set(info["cpu"]) == {"model", "physical_cores", "logical_cores", "arch"}
    assert info["cpu"]["logical_cores"] >= 1
    assert info["cpu"]["logical_cores"] == os.cpu_count()
    physical = info["cpu"]["physical_cores"]
    assert physical is None or 1 <= physical <= info["cpu"]["logical_cores"]
    assert info["cpu"]["model"]
    assert info["memory"]["total_bytes"] > 0
    assert isinstance(info["gpus"], list)
    for gpu in info["gpus"]:
        assert set(gpu) == {"index", "name", "memory_bytes", "driver"}
    assert info["os"]["system"]
    assert info["hostname"]


def test_cached_and_deterministic(monkeypatch: pytest.MonkeyPatch) -> None:
    first = hw.hardware()
    monkeypatch.setattr(hw.subprocess, "run", lambda *a, **k: pytest.fail("probed again"))
    second = hw.hardware()
    assert json.dumps(first) == json.dumps(second)


def test_result_belongs_to_the_caller() -> None:
    info = hw.hardware()
    info["cpu"]["model"] = "changed"
    info["gpus"].append({"index": 9, "name": "x", "memory_bytes": None, "driver": None})
    again = hw.hardware()
    assert again["cpu"]["model"] != "changed"
    assert all(g["index"] != 9 for g in again["gpus"])


def test_parse_nvidia_smi_output() -> None:
    out = "1, NVIDIA H100 80GB HBM3, 81559, 550.54.15\n0, NVIDIA A10G, 23028, 550.54.15\n"
    assert hw._parse_nvidia_smi(out) == [
        {"index": 0, "name": "NVIDIA A10G", "memory_bytes": 23028 << 20, "driver": "550.54.15"},
        {
            "index": 1,
            "name": "NVIDIA H100 80GB HBM3",
            "memory_bytes": 81559 << 20,
            "driver": "550.54.15",
        },
    ]
    assert hw._parse_nvidia_smi("0, Some GPU, [N/A], 1.0\n")[0]["memory_bytes"] is None
    assert hw._parse_nvidia_smi("No devices were found\n") == []


def _fake_torch(initialized: bool) -> Any:
    props = types.SimpleNamespace(name="Fake GPU", total_memory=8 << 30)
    cuda = types.SimpleNamespace(
        is_initialized=lambda: initialized,
        device_count=lambda: 2,
        get_device_properties=lambda i: props,
    )
    return types.SimpleNamespace(cuda=cuda)


def test_torch_is_asked_only_when_imported_and_cuda_initialized(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delitem(sys.modules, "torch", raising=False)
    assert hw._torch_gpus() == []
    monkeypatch.setitem(sys.modules, "torch", _fake_torch(False))
    assert hw._torch_gpus() == []
    monkeypatch.setitem(sys.modules, "torch", _fake_torch(True))
    assert hw._torch_gpus() == [
        {"index": 0, "name": "Fake GPU", "memory_bytes": 8 << 30, "driver": None},
        {"index": 1, "name": "Fake GPU", "memory_bytes": 8 << 30, "driver": None},
    ]


def test_gpus_from_torch_appear_once_cuda_is_initialized(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(hw, "_cached", None)
    monkeypatch.setattr(hw, "_gpus_final", False)
    monkeypatch.setattr(hw, "_nvidia_smi_gpus", lambda: None)
    monkeypatch.delitem(sys.modules, "torch", raising=False)
    assert hw.hardware()["gpus"] == []
    monkeypatch.setitem(sys.modules, "torch", _fake_torch(True))
    assert [g["name"] for g in hw.hardware()["gpus"]] == ["Fake GPU", "Fake GPU"]
