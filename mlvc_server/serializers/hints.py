"""What to install so that a value is stored in a safe format instead of pickle.

:func:`missing_hint` looks at the library a value comes from and at the optional
libraries its safe format needs; when one is missing it returns the sentence to show
(the registry puts it in ``payload.meta["hint"]`` of a pickled payload, so the commit
record names it, and in the error when pickle is not allowed).
"""

from __future__ import annotations

import importlib.util
import sys
from typing import Any

from .base import type_root_module

#: The pip extra that installs every optional library the safe formats use.
EXTRA = 'pip install "jupyterlab-mlvc[ml]"'

#: Library a value comes from -> (modules its safe format needs, what they store).
NEEDS: dict[str, tuple[tuple[str, ...], str]] = {
    "pandas": (("pyarrow",), "DataFrames and Series as parquet"),
    "polars": (("pyarrow",), "polars frames as Arrow IPC"),
    "torch": (("safetensors",), "tensors and state_dicts as safetensors"),
    "sklearn": (("skops",), "scikit-learn estimators holding functions or custom classes"),
}


def _installed(module: str) -> bool:
    if module in sys.modules:
        return sys.modules[module] is not None
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def missing_hint(obj: Any) -> str | None:
    """The install hint for ``obj`` when a library its safe format needs is missing.

    Args:
        obj: a value that is about to be pickled (or refused when pickle is not allowed).

    Returns:
        E.g. ``"pyarrow is not installed (it stores DataFrames and Series as parquet):
        pip install "jupyterlab-mlvc[ml]""``, or None when nothing is missing.
    """
    root = type_root_module(obj)
    need = NEEDS.get(root)
    if need is None:
        return None
    modules, what = need
    missing = [m for m in modules if not _installed(m)]
    if not missing:
        return None
    verb = "is" if len(missing) == 1 else "are"
    return f"{', '.join(missing)} {verb} not installed (it stores {what}): {EXTRA}"


__all__ = ["EXTRA", "missing_hint"]
