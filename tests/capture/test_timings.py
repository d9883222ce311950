"""Tests for mlvc_server.capture.timings."""

from __future__ import annotations

import time

import pytest

from mlvc_server.capture.timings import timed


def test_records_elapsed_seconds() -> None:
    timings: dict[str, float] = {}
    with timed(timings, "env"):
        time.sleep(0.01)
    assert 0.009 <= timings["env"] < 1.0


def test_same_key_accumulates() -> None:
    timings: dict[str, float] = {"data": 1.0}
    with timed(timings, "data"):
        pass
    assert timings["data"] >= 1.0


def test_records_when_the_block_raises() -> None:
    timings: dict[str, float] = {}
    with pytest.raises(RuntimeError), timed(timings, "variables"):
        raise RuntimeError("boom")
    assert "variables" in timings
