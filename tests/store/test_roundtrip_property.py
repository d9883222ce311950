"""Property: whatever array is committed comes back bit for bit, whatever the chunking."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import mlvc_server as mlvc
from mlvc_server.store import payloads as ps

dtypes = st.one_of(
    hnp.integer_dtypes(),
    hnp.unsigned_integer_dtypes(),
    hnp.floating_dtypes(),
    hnp.complex_number_dtypes(),
    hnp.boolean_dtypes(),
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(arr=hnp.arrays(dtypes, hnp.array_shapes(min_dims=0, max_dims=3, max_side=40)))
def test_commit_load_round_trip(
    arr: np.ndarray, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ps, "CHUNK_SIZE", 256)  # many chunks even for small arrays
    monkeypatch.setenv("MLVC_CONFIG_DIR", str(tmp_path / "cfg"))
    cid = mlvc.commit("p", variables={"a": arr}, repo=tmp_path, sources=False)
    back = mlvc.load(cid, "a", repo=tmp_path)
    assert back.dtype == arr.dtype and back.shape == arr.shape
    assert back.tobytes() == arr.tobytes()
