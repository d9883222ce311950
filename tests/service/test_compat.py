"""Calls in the first API's positional style still work, with a DeprecationWarning."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import mlvc_server as mlvc
from mlvc_server import service


def test_positional_repo_and_notebook_still_work_and_warn(tmp_path: Path) -> None:
    nb = tmp_path / "train.ipynb"
    nb.write_text('{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}')
    with pytest.warns(DeprecationWarning, match=r"pass notebook=\.\.\., params=\.\.\."):
        cid = service.commit("old style", {"w": np.arange(3)}, nb, {"C": 1}, None, None, tmp_path)
    with pytest.warns(DeprecationWarning, match=r"repo=\.\.\., notebook=\.\.\. to log\(\)"):
        log = mlvc.log(tmp_path, nb)
    assert [c["id"] for c in log] == [cid] and log[0]["params"] == {"C": 1}
    with pytest.warns(DeprecationWarning):
        assert mlvc.load(cid, "w", tmp_path, nb).tolist() == [0, 1, 2]
    # the keyword style gives the same without a warning
    assert mlvc.log(repo=tmp_path, notebook=nb) == log


def test_too_many_or_doubled_arguments_are_type_errors(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="at most 2 positional"):
        mlvc.log(tmp_path, None, "extra")  # type: ignore[misc]
    with pytest.raises(TypeError, match="multiple values for 'repo'"):
        mlvc.log(tmp_path, repo=tmp_path)  # type: ignore[misc]
