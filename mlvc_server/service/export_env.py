"""What an export needs to run elsewhere: pinned requirements from the commit's recorded
environment, and MLflow's files (``MLmodel``, ``python_env.yaml``, ``conda.yaml``, the
input examples)."""

from __future__ import annotations

import json
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from ..store import payloads as payload_store
from .format import ExportedModel

# Distributions each stored format needs to load (beyond numpy).
_FORMAT_NEEDS: dict[str, tuple[str, ...]] = {
    "sklearn": ("scikit-learn", "scipy"),
    "safetensors": ("torch",),
    "lightgbm": ("lightgbm",),
    "xgboost": ("xgboost",),
    "catboost": ("catboost",),
    "keras": ("keras",),
    "jax": ("jax", "jaxlib"),
    "parquet": ("pandas", "pyarrow"),
    "arrow": ("pyarrow",),
    "sparse": ("scipy",),
    "image": ("pillow",),
    "pickle": ("cloudpickle",),
}
# Distribution names for the top-level module of a model's type.
_MODULE_DIST = {
    "sklearn": "scikit-learn",
    "torch": "torch",
    "lightgbm": "lightgbm",
    "xgboost": "xgboost",
    "catboost": "catboost",
    "keras": "keras",
    "tensorflow": "tensorflow",
    "jax": "jax",
}
# Some distributions go by another name in some environments.
_ALTERNATIVES = {"xgboost": ("xgboost", "xgboost-cpu"), "pillow": ("pillow", "PIL")}


# -- requirements ----------------------------------------------------------------------
def dist_key(name: str) -> str:
    """A distribution name as package indexes compare them (``scikit_learn`` ->
    ``scikit-learn``)."""
    return name.lower().replace("_", "-").replace(".", "-")


def requirement(dist: str, env: dict[str, Any]) -> tuple[str, str | None]:
    """``name==version`` from the commit's environment (local labels like ``+cpu``
    dropped: they are not on the package index), and a note when it was not recorded."""
    recorded: dict[str, str] = {}
    for key in ("packages", "imported"):
        for k, v in (env.get(key) or {}).items():
            recorded.setdefault(dist_key(k), str(v))
    for candidate in _ALTERNATIVES.get(dist, (dist,)):
        version = recorded.get(dist_key(candidate))
        if version:
            return f"{candidate}=={version.split('+')[0]}", None
    return dist, "version not recorded by the commit"


def needed_dists(manifest: dict[str, Any], model: Any, pyfunc: bool) -> list[str]:
    """The distributions loading the payload (and, with ``pyfunc``, serving it through
    MLflow) needs: numpy, the format's library, the model's, cloudpickle for a pickled
    structure, pandas for MLflow."""
    fmt, meta = manifest["format"], manifest["meta"]
    dists = ["numpy", *_FORMAT_NEEDS.get(fmt, ())]
    if fmt == "sklearn" and meta.get("backend") == "skops":
        dists.append("skops")
    if payload_store.needs_trust(fmt, meta):
        dists.append("cloudpickle")
    root = type(model).__module__.partition(".")[0]
    if root in _MODULE_DIST:
        dists.append(_MODULE_DIST[root])
    if fmt in ("lightgbm", "xgboost", "catboost") and hasattr(model, "get_params"):
        dists.append("scikit-learn")  # the sklearn wrapper of a booster
    if pyfunc:
        dists.append("pandas")
    return list(dict.fromkeys(dists))


def requirements(dists: list[str], env: dict[str, Any]) -> tuple[list[str], list[str]]:
    """Pinned requirement lines for ``dists`` from the commit's ``env``, and a note for
    each one whose version the commit did not record."""
    lines, notes = [], []
    for d in dists:
        line, note = requirement(d, env)
        lines.append(line)
        if note:
            notes.append(f"{d}: {note}")
    return lines, notes


def write_requirements(path: Path, lines: list[str], notes: list[str], source: str) -> None:
    """``requirements.txt``: a comment naming the model, the notes, the lines."""
    head = [f"# {source}"] + [f"# {n}" for n in notes]
    path.write_text("\n".join([*head, *lines]) + "\n")


# -- MLflow ----------------------------------------------------------------------------
def yaml_lines(value: Any, indent: int = 0) -> list[str]:
    """A small YAML writer for nested dicts and lists of scalars (strings quoted as JSON,
    which YAML reads as double-quoted strings)."""
    pad = "  " * indent
    out: list[str] = []
    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(v, dict | list) and v:
                out.append(f"{pad}{k}:")
                out.extend(yaml_lines(v, indent + 1))
            else:
                out.append(f"{pad}{k}: {json.dumps(v)}")
    else:
        for item in value:
            if isinstance(item, dict | list) and item:
                lines = yaml_lines(item, indent + 1)
                out.append(f"{pad}- {lines[0].lstrip()}")
                out.extend(lines[1:])
            else:
                out.append(f"{pad}- {json.dumps(item)}")
    return out


MLFLOW_FILES = {
    "MLmodel": "MLflow's model metadata (python_function flavor)",
    "python_env.yaml": "MLflow's virtualenv environment",
    "conda.yaml": "MLflow's conda environment",
    "input_example.json": "the first sample rows (pandas split orientation)",
    "serving_input_example.json": "the same as a serving request (mlflow models predict -t json)",
}


def python_version(env: dict[str, Any]) -> str:
    """The commit's Python version (this interpreter's when it recorded none)."""
    version = (env.get("python") or {}).get("version")
    return str(version) if version else ".".join(map(str, sys.version_info[:3]))


def write_mlflow(
    folder: Path, model: ExportedModel, env: dict[str, Any], reqs: list[str], example: Any
) -> list[str]:
    """``MLmodel`` (the python_function flavor, loader ``code/mlvc_loader.py``),
    ``python_env.yaml``, ``conda.yaml`` and the input examples; returns their names."""
    py = python_version(env)
    written = ["MLmodel", "python_env.yaml", "conda.yaml"]
    mlmodel: dict[str, Any] = {
        "artifact_path": "model",
        "flavors": {
            "python_function": {
                "loader_module": "mlvc_loader",
                "code": "code",
                "data": "model",
                "env": {"conda": "conda.yaml", "virtualenv": "python_env.yaml"},
                "python_version": py,
            }
        },
        "model_uuid": uuid.uuid4().hex,
        "utc_time_created": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f"),
        "metadata": {
            "mlvc_commit": model["commit"],
            "mlvc_variable": model["variable"],
            **({"mlvc_model": model["name"]} if model["name"] else {}),
            **({"mlvc_version": model["version"]} if model["version"] is not None else {}),
        },
    }
    if example is not None:
        mlmodel["saved_input_example_info"] = {
            "artifact_path": "input_example.json",
            "type": "dataframe",
            "pandas_orient": "split",
        }
        (folder / "input_example.json").write_text(json.dumps(example))
        # what ``mlflow models predict -t json`` and a serving endpoint take
        serving = json.dumps({"dataframe_split": example}, indent=1)
        (folder / "serving_input_example.json").write_text(serving)
        written += ["input_example.json", "serving_input_example.json"]
    (folder / "MLmodel").write_text("\n".join(yaml_lines(mlmodel)) + "\n")
    python_env = {
        "python": py,
        "build_dependencies": ["pip"],
        "dependencies": ["-r requirements.txt"],
    }
    (folder / "python_env.yaml").write_text("\n".join(yaml_lines(python_env)) + "\n")
    conda = {
        "name": "mlflow-env",
        "channels": ["conda-forge"],
        "dependencies": [f"python={py}", "pip", {"pip": reqs}],
    }
    (folder / "conda.yaml").write_text("\n".join(yaml_lines(conda)) + "\n")
    return written


def input_example(rows: Any, n: int = 5) -> dict[str, Any] | None:
    """The first rows in pandas' ``split`` orientation (columns, data)."""
    if rows is None:
        return None
    if hasattr(rows, "columns") and hasattr(rows, "to_numpy"):
        head = rows.head(n)
        return {
            "columns": [str(c) for c in head.columns],
            "data": json.loads(head.to_json(orient="values")),
        }
    arr = np.asarray(rows)
    if arr.ndim != 2 or arr.dtype.kind not in "biuf":
        return None
    return {"columns": [f"x{i}" for i in range(arr.shape[1])], "data": arr[:n].tolist()}
