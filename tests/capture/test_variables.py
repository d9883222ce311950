"""Tests for mlvc_server.capture.variables: picking the user's variables from a namespace."""

from __future__ import annotations

import builtins
import collections
import functools
import json
import os
import types
import typing
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlvc_server.capture.variables import _is_internal_name, select_variables


class Model:
    """A user class defined in the notebook."""


def preprocess(x: int) -> int:
    return x + 1


class _ExitAutocall:
    """Stands in for IPython's ``exit``/``quit`` objects (an IPython type)."""


_ExitAutocall.__module__ = "IPython.core.autocall"


class _Kernel:
    pass


_Kernel.__module__ = "ipykernel.ipkernel"


class Trap:
    """A value that fails loudly if anything but ``type()`` looks at it."""

    def __getattribute__(self, name: str) -> Any:
        raise AssertionError(f"value was touched: {name}")

    def __eq__(self, other: object) -> bool:
        raise AssertionError("value was compared")

    __hash__ = None  # type: ignore[assignment]


def ipython_like_namespace() -> dict[str, Any]:
    """A namespace shaped like IPython's user_ns after a few cells."""
    arr = np.arange(12.0).reshape(3, 4)
    return {
        "__name__": "__main__",
        "__doc__": "Automatically created module for IPython interactive environment",
        "__builtins__": builtins,
        "__builtin__": builtins,
        "_ih": ["", "import numpy as np", "x = 1"],
        "_oh": {3: 5},
        "_dh": ["/work"],
        "In": ["", "import numpy as np", "x = 1"],
        "Out": {3: 5},
        "get_ipython": lambda: None,
        "exit": _ExitAutocall(),
        "quit": _ExitAutocall(),
        "_": 5,
        "__": "",
        "___": "",
        "_i": "x = 1",
        "_ii": "import numpy as np",
        "_iii": "",
        "_i1": "import numpy as np",
        "_i2": "x = 1",
        "_i3": "x + 4",
        "_3": 5,
        "np": np,
        "os": os,
        "json": json,
        "preprocess": preprocess,
        "lam": lambda v: v,
        "sqrt": np.sqrt,
        "mean": np.mean,
        "loss": functools.partial(preprocess),
        "Model": Model,
        "Counter": collections.Counter,
        "print2": print,
        "method": [].append,
        "List": typing.List,  # noqa: UP006 - a typing alias in the namespace on purpose
        "kernel_obj": _Kernel(),
        "_private": 7,
        "x": 1,
        "arr": arr,
        "cfg": {"lr": 0.1, "layers": [64, 32]},
        "name": "run-1",
        "model": Model(),
        "dtype": np.float32(1.0).dtype,
        "trap": Trap(),
    }


def test_scan_selects_only_user_values() -> None:
    ns = ipython_like_namespace()
    selected, skipped = select_variables(ns)
    assert list(selected) == ["x", "arr", "cfg", "name", "model", "dtype", "trap"]
    for name, value in selected.items():
        assert value is ns[name]  # the very objects, never copies
    assert skipped == {
        "np": "module",
        "os": "module",
        "json": "module",
        "preprocess": "function",
        "lam": "function",
        "sqrt": "function",
        "mean": "function",
        "loss": "function",
        "Model": "class",
        "Counter": "class",
        "print2": "builtin",
        "method": "builtin",
        "List": "type annotation",
        "kernel_obj": "IPython internal",
        "_private": "private name",
    }


def test_ipython_bookkeeping_is_dropped_silently() -> None:
    _, skipped = select_variables(ipython_like_namespace())
    for name in ("In", "Out", "get_ipython", "exit", "quit", "_", "_ih", "_i3", "_3"):
        assert name not in skipped
    assert "__builtins__" not in skipped


def test_include_private_takes_private_names_but_not_ipython_ones() -> None:
    selected, skipped = select_variables(ipython_like_namespace(), include_private=True)
    assert selected["_private"] == 7
    for name in ("_", "__", "_i", "_i3", "_3", "_ih", "__builtins__", "__name__"):
        assert name not in selected
    assert "_private" not in skipped


def test_explicit_names_report_missing_and_keep_order() -> None:
    ns = ipython_like_namespace()
    selected, skipped = select_variables(ns, ["cfg", "missing", "x", "cfg", "np", "preprocess"])
    assert list(selected) == ["cfg", "x", "preprocess"]
    assert selected["cfg"] is ns["cfg"]
    assert skipped == {"missing": "not defined", "np": "module"}


def test_explicit_private_name_is_taken() -> None:
    selected, skipped = select_variables({"_w": 1}, ["_w"])
    assert selected == {"_w": 1}
    assert skipped == {}


def test_single_string_is_rejected() -> None:
    with pytest.raises(TypeError):
        select_variables({"model": 1}, "model")


def test_empty_namespace() -> None:
    assert select_variables({}) == ({}, {})
    assert select_variables({}, []) == ({}, {})


def test_module_subclass_and_builtin_module_are_modules() -> None:
    lazy = types.ModuleType("lazy")
    selected, skipped = select_variables({"lazy": lazy, "b": builtins})
    assert selected == {}
    assert skipped == {"lazy": "module", "b": "module"}


# user names: not IPython's bookkeeping (``In``, ``Out``, ``exit``...), tested above
identifiers = st.from_regex(r"[a-zA-Z][a-zA-Z0-9_]{0,12}", fullmatch=True).filter(
    lambda name: not _is_internal_name(name)
)


@given(st.dictionaries(identifiers, st.integers() | st.text() | st.floats(allow_nan=False)))
def test_plain_values_are_all_selected(ns: dict[str, Any]) -> None:
    selected, skipped = select_variables(ns)
    assert selected == ns
    assert skipped == {}
