"""The fast-hash cache file is shared by every process using the store."""

from __future__ import annotations

import builtins
from pathlib import Path
from typing import Any

import pytest

from mlvc_server.store.hashcache import HashCache

A, B, C = "a" * 40, "b" * 40, "c" * 40


def test_entries_of_other_processes_are_seen_and_own_ones_not_read_back(tmp_path: Path) -> None:
    path = tmp_path / "hashcache"
    one, two = HashCache(path), HashCache(path)
    assert one.get("k1") is None and two.get("k1") is None  # no file yet
    one.put("k1", (A,))
    assert two.get("k1") == (A,)
    two.put("k2", (B,))
    one.put("k3", (C,))  # after two's line: one has not read that one yet
    assert one.get("k2") == (B,)
    assert two.get("k3") == (C,)
    # a torn last line (a killed writer) is left for later, and later lines still count
    with open(path, "ab") as f:
        f.write(b"k4 " + A.encode()[:10])
    assert two.get("k4") is None
    with open(path, "ab") as f:
        f.write(A.encode()[10:] + b"\n")
    one.put("k5", (B,))
    assert two.get("k4") == (A,) and two.get("k5") == (B,)
    assert HashCache(path).get("k3") == (C,)
    # what a reader read up to does not hide what was appended after it
    three = HashCache(path)
    assert three.get("k1") == (A,)
    one.put("k6", (C,))
    assert three.get("k6") == (C,)


def test_a_miss_costs_a_stat_when_nobody_appended(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "hashcache"
    cache = HashCache(path)
    cache.put("k1", (A,))
    opened: list[str] = []
    real_open = builtins.open

    def counting_open(file: Any, *a: Any, **kw: Any) -> Any:
        opened.append(str(file))
        return real_open(file, *a, **kw)

    monkeypatch.setattr(builtins, "open", counting_open)
    assert cache.get("missing") is None and cache.get("missing too") is None
    assert opened == []  # its own line is not read back either
    HashCache(path).put("k2", (B,))
    assert cache.get("k2") == (B,) and len(opened) == 1
