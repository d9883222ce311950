"""Params and metrics a commit records without being told: read from the kernel's
namespace, never by running anything.

- **Params**: the names assigned in the notebook's cells tagged ``parameters`` (the
  papermill convention; also ``injected-parameters``, the cell papermill adds), read
  from the cells' source with :mod:`ast`, with their current values in the namespace when
  those are JSON scalars (str, int, float, bool, None; numpy scalars too).
- **Metrics**: scalar numbers whose names match :data:`DEFAULT_METRIC_NAMES` (or the
  ``MLVC_METRIC_NAMES`` environment variable, comma separated, or a list given by the
  caller): a name matches an entry when it equals it, when one of its ``_``-separated
  words equals it (``val_acc``, ``test_loss``), or when it matches it as a glob
  (``*_score``). Case does not matter.

Values given explicitly (``--param``, ``mlvc.log_params``, the panel) win over these.
"""

from __future__ import annotations

import ast
import fnmatch
import json
import math
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Final

#: The metric names recognised when nothing else is configured.
DEFAULT_METRIC_NAMES: Final = (
    "acc",
    "accuracy",
    "loss",
    "f1",
    "auc",
    "rmse",
    "mae",
    "r2",
    "precision",
    "recall",
)
#: The environment variable that replaces :data:`DEFAULT_METRIC_NAMES`.
METRIC_NAMES_ENV: Final = "MLVC_METRIC_NAMES"
#: The cell tags whose assignments are params.
PARAMETER_TAGS: Final = ("parameters", "injected-parameters")
#: The longest string param recorded.
MAX_PARAM_CHARS: Final = 1_000


def metric_names(configured: Iterable[str] | None = None) -> tuple[str, ...]:
    """The metric names in force: ``configured`` if given, else ``MLVC_METRIC_NAMES``,
    else the defaults (an empty variable or list: no automatic metrics)."""
    if configured is not None:
        return tuple(n.strip().lower() for n in configured if n.strip())
    env = os.environ.get(METRIC_NAMES_ENV)
    if env is not None:
        return tuple(n.strip().lower() for n in env.split(",") if n.strip())
    return DEFAULT_METRIC_NAMES


def is_metric_name(name: str, names: Iterable[str]) -> bool:
    """Whether a variable called ``name`` is a metric for these ``names``."""
    low = name.lower()
    words = set(low.split("_"))
    for entry in names:
        if any(c in entry for c in "*?["):
            if fnmatch.fnmatchcase(low, entry):
                return True
        elif low == entry or entry in words:
            return True
    return False


def _scalar(value: Any) -> tuple[bool, Any]:
    """``(True, plain value)`` for a JSON scalar (numpy scalars and 0-d arrays made
    plain), else ``(False, None)``."""
    if value is None or isinstance(value, bool | int | str):
        return True, value
    if isinstance(value, float):
        return True, value
    item = getattr(value, "item", None)
    if (
        callable(item)
        and getattr(value, "shape", None) == ()
        and type(value).__module__
        in (
            "numpy",
            "torch",
        )
    ):
        try:
            plain = item()
        except Exception:  # a value that cannot be made plain is no param
            return False, None
        if plain is None or isinstance(plain, bool | int | float | str):
            return True, plain
    return False, None


def scalar_metrics(namespace: Mapping[str, Any], names: Iterable[str]) -> dict[str, float]:
    """The namespace's finite numbers (not bools) whose names are metric names."""
    wanted = tuple(names)
    found: dict[str, float] = {}
    if not wanted:
        return found
    for name, value in namespace.items():
        if name.startswith("_") or not is_metric_name(name, wanted):
            continue
        ok, plain = _scalar(value)
        number = ok and isinstance(plain, int | float) and not isinstance(plain, bool)
        if number and math.isfinite(plain):
            found[name] = plain
    return found


def _strip_magics(source: str) -> str:
    """The cell's source with IPython-only lines (``%``, ``!``) commented out."""
    lines = source.splitlines()
    return "\n".join("#" + line if line.lstrip().startswith(("%", "!")) else line for line in lines)


def assigned_names(source: str) -> list[str]:
    """The names a cell's top-level statements assign, in order (``a = 1``,
    ``a: int = 1``, ``a, b = 1, 2``, ``a += 1``); none when it does not parse."""
    try:
        tree = ast.parse(_strip_magics(source))
    except (SyntaxError, ValueError):
        return []
    names: list[str] = []

    def targets(node: ast.AST) -> None:
        if isinstance(node, ast.Name):
            names.append(node.id)
        elif isinstance(node, ast.Tuple | ast.List):
            for elt in node.elts:
                targets(elt)
        elif isinstance(node, ast.Starred):
            targets(node.value)

    for stmt in tree.body:
        if isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                targets(target)
        elif isinstance(stmt, ast.AnnAssign | ast.AugAssign):
            targets(stmt.target)
    return list(dict.fromkeys(names))


def parameter_names(notebook: bytes | str | Path | Mapping[str, Any]) -> list[str]:
    """The names assigned in the notebook's cells tagged ``parameters`` or
    ``injected-parameters``; none when it cannot be read."""
    try:
        if isinstance(notebook, Mapping):
            nb: Any = notebook
        elif isinstance(notebook, Path):
            nb = json.loads(notebook.read_bytes())
        else:
            nb = json.loads(notebook)
    except (OSError, ValueError):
        return []
    names: list[str] = []
    cells = nb.get("cells") if isinstance(nb, dict) else None
    for cell in cells if isinstance(cells, list) else []:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        meta = cell.get("metadata")
        tags = meta.get("tags") if isinstance(meta, dict) else None
        if not isinstance(tags, list) or not any(t in PARAMETER_TAGS for t in tags):
            continue
        source = cell.get("source", "")
        text = "".join(source) if isinstance(source, list) else str(source)
        names.extend(assigned_names(text))
    return list(dict.fromkeys(names))


def notebook_params(
    notebook: bytes | str | Path | Mapping[str, Any], namespace: Mapping[str, Any]
) -> dict[str, Any]:
    """The current values of the notebook's parameters that are JSON scalars."""
    found: dict[str, Any] = {}
    for name in parameter_names(notebook):
        if name not in namespace:
            continue
        ok, plain = _scalar(namespace[name])
        if not ok or (isinstance(plain, str) and len(plain) > MAX_PARAM_CHARS):
            continue
        if isinstance(plain, float) and not math.isfinite(plain):
            continue
        found[name] = plain
    return found
