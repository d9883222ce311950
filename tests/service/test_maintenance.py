"""fsck (mlvc_server/service/maintenance.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import mlvc_server as mlvc
from mlvc_server import service
from mlvc_server.errors import (
    CorruptObjectError,
)


def test_fsck_finds_flipped_and_missing_payload_bytes(project: Path) -> None:
    import os

    cid = mlvc.commit("x", variables={"a": np.arange(200_000.0)})
    store = service.workspace().store(".")
    manifest = service.format.read_manifest(store, cid, "a")
    part = manifest["segments"][1]["parts"][0]
    path = project / ".mlvc" / "objects" / part[:2] / part[2:]
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0x10
    os.chmod(path, 0o644)
    path.write_bytes(bytes(raw))
    report = mlvc.fsck()
    assert not report["ok"] and any(part in p for p in report["problems"])
    with pytest.raises(CorruptObjectError, match="damaged"):
        mlvc.load(cid, "a")
    path.unlink()
    with pytest.raises(CorruptObjectError, match="missing"):
        mlvc.load(cid, "a")
    assert not mlvc.fsck()["ok"]
