"""Export: hand one model version to serving outside mlvc.

``export(spec, fmt, dest)`` writes a folder for one model (a variable of a commit, or a
registered version):

- ``native``: the model's payload in the safe format mlvc stores (the same bytes:
  safetensors, the scikit-learn state format or skops, LightGBM/XGBoost native files...)
  as ``model/<variable>.<ext>`` with ``model/payload.json``; ``code/mlvc_loader.py`` and
  ``code/mlvc_runtime/`` (a copy of mlvc's serializers) to load it without mlvc;
  ``requirements.txt`` pinned from the commit's recorded environment; a model card
  ``README.md`` (params, metrics, data read with hashes, sources, environment, hardware,
  registry versions and promotions);
- ``mlflow``: the same, plus ``MLmodel`` (the ``python_function`` flavor, whose loader is
  ``code/mlvc_loader.py``), ``python_env.yaml``, ``conda.yaml`` and an input example;
  ``mlflow models predict -m DIR`` runs it;
- ``onnx``: ``model.onnx`` converted from a scikit-learn estimator (skl2onnx) or a torch
  ``nn.Module`` (``torch.onnx``), checked with ONNX Runtime against the original.

Every export is checked before it is kept: the native and MLflow folders are loaded in a
fresh Python process with the shipped loader and their predictions compared with the
original's; ONNX outputs must agree within the tolerance. The folder is written beside
``dest`` and renamed into place only when the checks pass.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from .. import errors
from .. import serializers as serializers_pkg
from ..errors import (
    ExportCheckError,
    ExportError,
    UnsupportedExportError,
    VariableNotFoundError,
)
from ..store import Store
from ..store import payloads as payload_store
from ..store.revisions import resolve
from . import export_loader
from .export_card import card, mlvc_version
from .export_env import (
    MLFLOW_FILES,
    input_example,
    needed_dists,
    requirements,
    write_mlflow,
    write_requirements,
)
from .format import (
    SOURCES,
    ExportedModel,
    ExportResult,
    read_manifest,
)
from .history import record_of
from .variables import load_variable
from .workspace import open_store, rel_notebook

FORMATS = ("mlflow", "onnx", "native")
#: Rows made up when no sample is given (shaped from the model).
SYNTHETIC_ROWS = 16
#: ONNX outputs must satisfy ``|onnx - original| <= tol * (1 + |original|)``.
DEFAULT_TOLERANCE = 1e-4
#: The checks run on the first rows of a bigger sample.
MAX_CHECK_ROWS = 1000
#: Seconds the reload check (a fresh Python process) may take.
RELOAD_TIMEOUT = 300


# -- resolving what to export ----------------------------------------------------------
def _resolve_spec(
    store: Store, spec: str, notebook: str | os.PathLike[str] | None
) -> tuple[ExportedModel, dict[str, Any] | None]:
    """The model a spec names: ``REV:VARIABLE`` or a registry spec (``NAME``,
    ``NAME@VERSION``, ``NAME@ALIAS``), and the registry facts for the card."""
    if ":" in spec:
        rev, _, variable = spec.rpartition(":")
        if not rev or not variable:
            raise ExportError(f"cannot read {spec!r}: write REV:VARIABLE (e.g. HEAD:clf)")
        cid = resolve(store, rev, rel_notebook(store, notebook))
        model: ExportedModel = {"name": None, "version": None, "commit": cid, "variable": variable}
        return model, _registrations(store, cid, variable)
    return _resolve_registered(store, spec)


def _registrations(store: Store, cid: str, variable: str) -> dict[str, Any] | None:
    """The registered versions that are this variable of this commit (for the card of an
    export named ``REV:VARIABLE``)."""
    from . import registry

    found = [
        f"{m['name']} version {v['version']}"
        + (f" (aliases: {', '.join(v['aliases'])})" if v["aliases"] else "")
        for m in registry.models(repo=store.root)
        for v in m["versions"]
        if v["commit"] == cid and v["variable"] == variable
    ]
    return {"facts": {"registered as": "; ".join(found)}, "events": []} if found else None


def _resolve_registered(store: Store, spec: str) -> tuple[ExportedModel, dict[str, Any] | None]:
    """A registered version (:func:`.registry.resolve`) and, for the card, its facts and
    the history of this version: who registered, approved, promoted or rolled it back,
    when and why, with the gate results."""
    from . import registry

    mv = registry.resolve(spec, repo=store.root)
    model: ExportedModel = {
        "name": mv["name"],
        "version": mv["version"],
        "commit": mv["commit"],
        "variable": mv["variable"],
    }
    events = [
        e
        for e in registry.history(mv["name"], repo=store.root)
        if e["version"] == mv["version"] or e["previous"] == mv["version"]
    ]
    facts = {
        "model": mv["name"],
        "version": mv["version"],
        "aliases now": ", ".join(mv["aliases"]) or "none",
        "registered by": f"{mv['registered_by']} on {mv['time']}",
        "exported as": spec,
    }
    if mv["message"]:
        facts["registration message"] = mv["message"]
    return model, {"facts": facts, "events": list(reversed(events))}


# -- sample rows -----------------------------------------------------------------------
def _read_sample(sample: Any) -> Any:
    """Rows given as a file (``.npy``, Parquet, CSV, JSON lines) or as an array/DataFrame."""
    if isinstance(sample, str | os.PathLike):
        path = Path(sample)
        if path.suffix.lower() == ".npy":
            if not path.is_file():
                raise ExportError(f"sample file {str(sample)!r} does not exist")
            try:
                return np.load(path, allow_pickle=False)
            except ValueError as e:
                raise ExportError(f"cannot read {str(sample)!r} as .npy: {e}") from None
        from .evaluation.inputs import read_table

        try:
            return read_table(path)
        except errors.EvaluationError as e:
            raise ExportError(f"sample rows: {e}") from None
    return sample


def _first_linear(model: Any) -> int | None:
    import torch

    for m in model.modules():
        if isinstance(m, torch.nn.Linear):
            return int(m.in_features)
        if isinstance(m, torch.nn.Conv1d | torch.nn.Conv2d | torch.nn.Conv3d | torch.nn.RNNBase):
            return None  # an image/sequence model: its input shape is not known here
    return None


def _synthetic(model: Any) -> Any:
    """Rows shaped from the model (standard normal), or None when its input shape is
    unknown (a torch module whose first layer is not ``Linear``...)."""
    rng = np.random.default_rng(0)
    if _is_torch_module(model):
        n = _first_linear(model)
        return None if n is None else rng.standard_normal((SYNTHETIC_ROWS, n)).astype(np.float32)
    n = getattr(model, "n_features_in_", None)
    if n is None:
        n = getattr(model, "n_features_", None)  # LightGBM's sklearn wrapper, old boosters
    for method in ("num_feature", "num_features"):  # LightGBM's, XGBoost's Booster
        if n is None and callable(getattr(model, method, None)):
            n = getattr(model, method)()
    if not isinstance(n, int | np.integer) or n <= 0:
        return None
    rows = rng.standard_normal((SYNTHETIC_ROWS, int(n)))
    names = getattr(model, "feature_names_in_", None)
    if names is not None:
        import pandas as pd

        return pd.DataFrame(rows, columns=[str(c) for c in names])
    return rows


def _is_torch_module(model: Any) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(model, torch.nn.Module)


def _predictable(model: Any) -> bool:
    return _is_torch_module(model) or callable(getattr(model, "predict", None))


# -- files -----------------------------------------------------------------------------
#: A raw booster is its library's own model file: named as that library names it.
_NATIVE_EXT = {"lightgbm": "txt", "xgboost": "ubj", "catboost": "cbm"}


def _payload_file_name(variable: str, manifest: dict[str, Any]) -> str:
    ext = manifest.get("extension") or "bin"
    names = [s["name"] for s in manifest["segments"]]
    if ext == "bin" and names == ["model"] and manifest["format"] in _NATIVE_EXT:
        ext = _NATIVE_EXT[manifest["format"]]
    if ext == "bin" and names == ["skops"]:
        ext = "skops"  # a skops file: skops.io.load reads it as it is
    if ext == "bin":
        backend = manifest["meta"].get("backend")
        ext = f"{manifest['format']}-{backend}" if backend else manifest["format"]
    return f"{variable}.{ext}"


def _write_payload(
    store: Store, cid: str, variable: str, manifest: dict[str, Any], folder: Path
) -> tuple[str, dict[str, Any]]:
    """The variable's stored bytes as one file plus ``payload.json``; returns the file
    name and the payload info."""
    folder.mkdir(parents=True, exist_ok=True)
    name = _payload_file_name(variable, manifest)
    reader = payload_store.StoredPayload(store, manifest, variable, cid)
    with open(folder / name, "wb") as f:
        for i in range(len(reader.segment_names)):
            size = reader.segment_size(i)
            step = 64 << 20
            for offset in range(0, size, step):
                buf = bytearray(min(step, size - offset))
                reader.readinto_segment(i, buf, offset)
                f.write(buf)
    info = {
        "mlvc_export": 1,
        "file": name,
        "format": manifest["format"],
        "meta": manifest["meta"],
        "segments": [{"name": s["name"], "size": int(s["size"])} for s in manifest["segments"]],
        "size": int(manifest.get("size", sum(int(s["size"]) for s in manifest["segments"]))),
    }
    (folder / export_loader.PAYLOAD_JSON).write_text(json.dumps(info, indent=1, sort_keys=True))
    return name, info


def _write_loader(code: Path) -> None:
    """``mlvc_loader.py`` and ``mlvc_runtime/`` (mlvc's serializers and errors, copied)."""
    code.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(export_loader.__file__, code / "mlvc_loader.py")
    runtime = code / export_loader.RUNTIME
    (runtime / "serializers").mkdir(parents=True)
    (runtime / "__init__.py").write_text(
        f'"""mlvc {mlvc_version()}: its serializers, copied to load an exported model '
        'without mlvc (see mlvc_loader.py)."""\n'
    )
    if errors.__file__ is None or serializers_pkg.__file__ is None:
        raise ExportError("mlvc's own source files are not readable here")
    shutil.copyfile(errors.__file__, runtime / "errors.py")
    for src in sorted(Path(serializers_pkg.__file__).parent.glob("*.py")):
        shutil.copyfile(src, runtime / "serializers" / src.name)


def _copy_sources(store: Store, cid: str, code: Path) -> list[str]:
    """The commit's recorded source files into ``code/`` (a pickled structure may name
    their classes); returns their paths."""
    tree = store.commit_obj(cid).tree.decode()
    found = store.tree_lookup(tree, SOURCES)
    out: list[str] = []
    if not found:
        return out

    def walk(tree_id: str, prefix: str) -> None:
        for raw, mode, sha in store.tree(tree_id).iteritems():
            rel = f"{prefix}{raw.decode()}"
            if mode & 0o040000:
                walk(sha.decode(), rel + "/")
                continue
            target = code / rel
            if target.exists() or ".." in Path(rel).parts:
                continue  # never replace the loader or its runtime
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(store.read_blob(sha.decode()))
            out.append(rel)

    walk(found[1], "")
    return out


# -- checks ----------------------------------------------------------------------------
_RELOAD = r"""
import json, sys
import numpy as np
sys.path.insert(0, sys.argv[1])
import mlvc_loader
model = mlvc_loader.load_model(sys.argv[2])
src = sys.argv[3]
if src.endswith(".npy"):
    x = np.load(src, allow_pickle=False)
else:
    import pandas as pd
    x = pd.read_parquet(src)
y = np.asarray(mlvc_loader.predict(model, x))
if y.dtype.kind in "biufcUS":
    np.save(sys.argv[4], y, allow_pickle=False)
else:
    json.dump(y.tolist(), open(sys.argv[4] + ".json", "w"), default=str)
print(json.dumps({"mlvc_server_imported": "mlvc_server" in sys.modules}))
"""


def _compare(expected: Any, got: Any) -> dict[str, Any]:
    a, b = np.asarray(expected), np.asarray(got)
    if a.shape != b.shape:
        return {"ok": False, "detail": f"shape {b.shape} differs from the original's {a.shape}"}
    if a.dtype.kind in "biuf" and b.dtype.kind in "biuf":
        diff = float(np.max(np.abs(a.astype(np.float64) - b.astype(np.float64)), initial=0.0))
        return {"ok": diff == 0.0, "max_abs_diff": diff}
    same = bool(np.array_equal(a.astype(str), b.astype(str)))
    return {"ok": same, "max_abs_diff": 0.0 if same else None}


def original_predictions(model: Any, rows: Any) -> Any:
    """The original model's predictions on the sample rows.

    Raises:
        ExportError: it cannot predict on them (other columns, another shape...).
    """
    try:
        return export_loader.predict(model, rows)
    except Exception as e:  # the model's own library says why
        raise ExportError(
            f"the model cannot predict on the sample rows ({type(e).__name__}: {e}); "
            "pass rows shaped as its training input (--sample FILE)"
        ) from None


def _reload_check(folder: Path, model: Any, rows: Any) -> dict[str, Any]:
    """Load the export with its own loader in a fresh Python process and compare its
    predictions with the original's on ``rows`` (they must be identical: same bytes)."""
    expected = original_predictions(model, rows)
    with tempfile.TemporaryDirectory(prefix="mlvc-export-check-") as tmp:
        if hasattr(rows, "to_parquet"):
            src = os.path.join(tmp, "rows.parquet")
            rows.to_parquet(src)
        else:
            src = os.path.join(tmp, "rows.npy")
            np.save(src, np.asarray(rows), allow_pickle=False)
        out = os.path.join(tmp, "out.npy")
        proc = subprocess.run(
            [sys.executable, "-c", _RELOAD, str(folder / "code"), str(folder / "model"), src, out],
            capture_output=True,
            text=True,
            timeout=RELOAD_TIMEOUT,
            cwd=tmp,
        )
        if proc.returncode != 0:
            last = (proc.stderr.strip().splitlines() or ["(no message)"])[-1]
            hint = (
                "; a class of the model comes from a module that is not importable there: "
                "keep it in a source file the commit records (it is copied to code/) or "
                "install it"
                if "ModuleNotFoundError" in last
                else ""
            )
            raise ExportCheckError(
                f"the exported model does not load in a fresh Python with its own loader: "
                f"{last}{hint}; nothing was written"
            )
        got = (
            np.load(out, allow_pickle=False)
            if os.path.exists(out)
            else np.asarray(json.loads(Path(out + ".json").read_text()))
        )
        imported = json.loads(proc.stdout.strip().splitlines()[-1])["mlvc_server_imported"]
    result = _compare(expected, got)
    result.update({"rows": int(np.asarray(rows).shape[0]), "mlvc_imported": imported})
    if not result["ok"]:
        raise ExportCheckError(
            "the exported model predicts differently from the original "
            f"({result.get('detail') or 'max abs diff ' + str(result.get('max_abs_diff'))})"
        )
    return result


# -- the operation ---------------------------------------------------------------------
def _fresh_dest(dest: str | os.PathLike[str]) -> Path:
    path = Path(dest).absolute()
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise ExportError(f"{str(dest)!r} exists and is not an empty folder: choose a new one")
    if not path.parent.is_dir():
        raise ExportError(f"the folder {str(path.parent)!r} does not exist")
    return path


def _load(store: Store, cid: str, variable: str, trust: bool) -> Any:
    try:
        return load_variable(store, cid, variable, trust)
    except (ImportError, ModuleNotFoundError) as e:
        raise ExportError(
            f"variable {variable!r} needs a library this environment lacks to load ({e})"
        ) from None


def export(
    spec: str,
    fmt: str,
    dest: str | os.PathLike[str],
    *,
    repo: str | os.PathLike[str] = ".",
    notebook: str | os.PathLike[str] | None = None,
    trust: bool = False,
    sample_rows: Any = None,
    tolerance: float = DEFAULT_TOLERANCE,
) -> ExportResult:
    """Write one model version to ``dest`` for serving outside mlvc.

    Args:
        spec: ``REV:VARIABLE`` (a variable of a commit) or a registered model:
            ``NAME`` (its latest version), ``NAME@VERSION``, ``NAME@ALIAS``.
        fmt: ``native``, ``mlflow`` or ``onnx`` (see the module's docstring).
        dest: a new (or empty) folder.
        notebook: the notebook whose branches ``REV`` names.
        trust: allow a model whose payload is a pickle someone else wrote.
        sample_rows: rows to check the export on (a ``.npy``, Parquet, CSV or JSON-lines
            file, or an array/DataFrame); None: rows made up from the model's input
            shape (``n_features_in_``, a torch model's first ``Linear``).
        tolerance: ONNX outputs must satisfy ``|onnx - original| <= tolerance * (1 +
            |original|)``.

    Returns:
        ``format``, ``path``, ``files`` (relative paths written), ``model`` (name,
        version, commit, variable) and ``checks`` (the numeric checks' results).

    Raises:
        ExportError: a bad spec, format or folder, or sample rows that cannot be read.
        UnsupportedExportError: the format cannot hold this kind of model.
        ExportCheckError: the export does not reproduce the original's outputs.
        TrustError: the model is a pickle someone else wrote and ``trust`` is False.
        VariableNotFoundError, RevisionNotFoundError: the spec names nothing.
    """
    if fmt not in FORMATS:
        raise ExportError(f"unknown export format {fmt!r}: use one of {', '.join(FORMATS)}")
    if not tolerance > 0:
        raise ExportError(f"the tolerance must be positive, got {tolerance}")
    store = open_store(repo)
    target = _fresh_dest(dest)
    model_id, registry = _resolve_spec(store, spec, notebook)
    cid, variable = model_id["commit"], model_id["variable"]
    rec: dict[str, Any] = dict(record_of(store, cid))
    held = sorted(rec.get("variables") or {})
    if variable not in held and variable not in (rec.get("skipped") or {}):
        raise VariableNotFoundError(
            f"commit {cid[:8]} holds no variable {variable!r}; it holds {', '.join(held) or 'none'}"
        )
    manifest = read_manifest(store, cid, variable)
    model = _load(store, cid, variable, trust)
    model_type = f"{type(model).__module__}.{type(model).__qualname__}"
    rows = _read_sample(sample_rows) if sample_rows is not None else _synthetic(model)
    if rows is not None:
        rows = rows.head(MAX_CHECK_ROWS) if hasattr(rows, "head") else rows[:MAX_CHECK_ROWS]

    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        files: dict[str, str] = {}
        checks: dict[str, Any] = {}
        if fmt == "onnx":
            from . import export_onnx

            export_onnx.check_supported(model)
            if rows is None:
                raise ExportError(
                    f"cannot tell the input shape of {model_type}: pass sample rows "
                    "(--sample FILE) to convert and check it"
                )
            onnx_bytes, checks = export_onnx.convert_and_check(model, rows, tolerance)
            (work / "model.onnx").write_bytes(onnx_bytes)
            files["model.onnx"] = "the model in ONNX; run it with ONNX Runtime"
            reqs, notes = export_onnx.requirements(), list[str]()
        else:
            pyfunc = fmt == "mlflow"
            if pyfunc and not _predictable(model):
                raise UnsupportedExportError(
                    f"{model_type} has no predict method and is no torch module: MLflow's "
                    "python_function flavor cannot serve it; export it with --format native"
                )
            name, _info = _write_payload(store, cid, variable, manifest, work / "model")
            files[f"model/{name}"] = f"the payload as mlvc stores it ({manifest['format']})"
            files["model/payload.json"] = "format, meta and segment sizes of the payload"
            _write_loader(work / "code")
            files["code/mlvc_loader.py"] = "load_model(path) and MLflow's _load_pyfunc(path)"
            files["code/mlvc_runtime/"] = "mlvc's serializers, to read the payload without mlvc"
            if payload_store.needs_trust(manifest["format"], manifest["meta"]):
                for s in _copy_sources(store, cid, work / "code"):
                    files[f"code/{s}"] = "a source file of the commit (its classes may be named)"
            dists = needed_dists(manifest, model, pyfunc)
            reqs, notes = requirements(dists, rec.get("env") or {})
            if pyfunc:
                for f in write_mlflow(
                    work, model_id, rec.get("env") or {}, reqs, input_example(rows)
                ):
                    files[f] = MLFLOW_FILES[f]
            if rows is not None and _predictable(model):
                checks["reload"] = _reload_check(work, model, rows)
            else:
                checks["reload"] = {
                    "skipped": "no sample rows (pass --sample FILE)"
                    if _predictable(model)
                    else f"{model_type} has no predict method"
                }
        write_requirements(
            work / "requirements.txt",
            reqs,
            notes,
            f"{model_type} exported by mlvc from {cid[:12]}:{variable}",
        )
        files["requirements.txt"] = "pip requirements"
        files["README.md"] = "this model card"
        (work / "README.md").write_text(
            card(model_id, fmt, rec, manifest, registry, files, reqs, checks, model_type)
        )
        written = sorted(p.relative_to(work).as_posix() for p in work.rglob("*") if p.is_file())
        if target.exists():
            target.rmdir()
        work.rename(target)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    if model_id["name"] is not None and model_id["version"] is not None:
        from . import registry as registry_service

        # the export is checked and in place: the registry remembers it (history, lineage)
        registry_service.record_export(
            model_id["name"], model_id["version"], fmt, str(target), repo=store.root
        )
    return {
        "format": fmt,
        "path": str(target),
        "files": written,
        "model": model_id,
        "checks": checks,
    }
