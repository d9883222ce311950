"""Missing-library hints: a value pickled (or refused) because the library its safe format
needs is missing names what to install."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from mlvc_server import serializers
from mlvc_server.errors import UnsupportedTypeError
from mlvc_server.serializers import missing_hint


def test_no_hint_when_everything_is_installed() -> None:
    assert missing_hint(pd.DataFrame({"a": [1]})) is None
    assert missing_hint(LogisticRegression()) is None
    assert missing_hint(object()) is None
    assert "hint" not in serializers.serialize(pd.DataFrame({"a": [1]})).meta


def test_frame_without_pyarrow_is_pickled_with_the_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # `import pyarrow` now fails
    df = pd.DataFrame(np.arange(4).reshape(2, 2))  # no string labels: pickles without pyarrow
    hint = missing_hint(df)
    assert hint is not None
    assert (
        hint.startswith("pyarrow is not installed") and 'pip install "jupyterlab-mlvc[ml]"' in hint
    )
    payload = serializers.serialize(df)
    assert payload.format == "pickle" and payload.meta["hint"] == hint
    with pytest.raises(UnsupportedTypeError, match=r"jupyterlab-mlvc\[ml\]"):
        serializers.serialize(df, allow_pickle=False)


def test_estimator_needing_skops_without_it_names_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "skops", None)
    monkeypatch.setattr(serializers.get("sklearn"), "_fallback", None)
    pipe = make_pipeline(FunctionTransformer(np.log1p), LogisticRegression())
    payload = serializers.serialize(pipe)  # the state format declines the function
    assert payload.meta["backend"] == "cloudpickle" and payload.meta["unsafe"] is True
    assert "skops is not installed" in payload.meta["hint"]
    # an estimator the state format holds needs no skops: no hint
    assert "hint" not in serializers.serialize(LogisticRegression()).meta
