"""Lineage for readers that open files outside Python's ``open``.

The audit hook of :mod:`.lineage` sees every ``open`` made from Python; readers written
in C++ or Rust open their files themselves and are invisible to it: pyarrow (and so
``pd.read_parquet``, ``pd.read_feather``), polars, h5py (HDF5's C library),
safetensors, XGBoost and LightGBM files, TorchScript and ONNX Runtime. For these, the
entry points users call are wrapped: each call records the path it was given (a file,
every file of a folder read as a dataset, or of a glob) as a read, and then runs the
reader unchanged.

Wrapping happens when the module is imported (a finder on ``sys.meta_path`` runs after
the module's own code) and, for modules already imported when lineage starts, at once.
A wrapper is marked, so wrapping twice is a no-op, and never changes the reader's
arguments, result or errors. Readers through Python file objects (``np.load``,
``np.memmap``, ``torch.load``, ``pd.read_csv``) already reach the audit hook.

Writers that bypass ``open`` the same way (``df.to_parquet`` through pyarrow, polars'
``write_*``, safetensors' ``save_file``, ``h5py.File(name, "w")``, XGBoost's
``save_model``...) are wrapped too: the files they wrote are reported after the call,
as outputs of the next commit.
"""

from __future__ import annotations

import functools
import glob
import importlib.abc
import importlib.machinery
import os
import sys
import threading
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any, Final

__all__ = ["WRAPPED", "WRITERS", "install"]

#: module -> (attribute, path parameter[, its position]) of the reader entry points. The
#: path is the keyword argument of that name or the positional one at that position
#: (default: the first, after ``self`` for methods).
WRAPPED: Final[dict[str, tuple[tuple[str, str] | tuple[str, str, int], ...]]] = {
    "pyarrow.parquet": (
        ("read_table", "source"),
        ("read_pandas", "source"),
        ("read_metadata", "where"),
        ("read_schema", "where"),
        ("ParquetFile.__init__", "source"),
        ("ParquetDataset.__init__", "path_or_paths"),
    ),
    "pyarrow.feather": (("read_table", "source"), ("read_feather", "source")),
    "pyarrow.csv": (("read_csv", "input_file"), ("open_csv", "input_file")),
    "pyarrow.json": (("read_json", "input_file"),),
    "pyarrow.orc": (("read_table", "source"), ("ORCFile.__init__", "source")),
    "pyarrow.dataset": (("dataset", "source"),),
    "polars": (
        ("read_parquet", "source"),
        ("scan_parquet", "source"),
        ("read_csv", "source"),
        ("scan_csv", "source"),
        ("read_ipc", "source"),
        ("scan_ipc", "source"),
        ("read_ndjson", "source"),
        ("scan_ndjson", "source"),
        ("read_json", "source"),
        ("read_avro", "source"),
        ("read_excel", "source"),
    ),
    "h5py": (("File.__init__", "name"),),
    "safetensors": (("safe_open", "filename"),),
    "safetensors.torch": (("load_file", "filename"), ("safe_open", "filename")),
    "safetensors.numpy": (("load_file", "filename"), ("safe_open", "filename")),
    # model files read by C++: XGBoost (XGBModel.load_model calls Booster.load_model;
    # a DMatrix can be given a file or a "path?format=csv" URI), LightGBM datasets,
    # TorchScript, ONNX Runtime
    "xgboost": (
        ("Booster.load_model", "fname"),
        ("Booster.__init__", "model_file", 3),
        ("DMatrix.__init__", "data"),
    ),
    "lightgbm": (("Dataset.__init__", "data"),),
    "torch.jit": (("load", "f"),),
    "onnxruntime": (("InferenceSession.__init__", "path_or_bytes"),),
}
#: module -> (attribute, path parameter, its position) of the writer entry points that
#: bypass ``open`` too (``df.to_parquet`` calls ``pyarrow.parquet.write_table``): the
#: files they write are a commit's outputs. Positions count ``self`` for methods.
WRITERS: Final[dict[str, tuple[tuple[str, str, int], ...]]] = {
    # pandas opens a local parquet/ORC target with pyarrow's C++ ``OSFile``: its methods
    "pandas": (("DataFrame.to_parquet", "path", 1), ("DataFrame.to_orc", "path", 1)),
    "pyarrow.parquet": (("write_table", "where", 1), ("write_to_dataset", "root_path", 1)),
    "pyarrow.feather": (("write_feather", "dest", 1),),
    "pyarrow.csv": (("write_csv", "output_file", 1),),
    "pyarrow.orc": (("write_table", "where", 1),),
    "polars": tuple(
        (f"DataFrame.write_{kind}", "file", 1)
        for kind in ("parquet", "csv", "ipc", "ndjson", "json", "avro", "excel")
    ),
    "safetensors.torch": (("save_file", "filename", 1),),
    "safetensors.numpy": (("save_file", "filename", 1),),
    "xgboost": (("Booster.save_model", "fname", 1),),
    "lightgbm": (("Booster.save_model", "filename", 1), ("Dataset.save_binary", "filename", 1)),
    "torch.jit": (("save", "f", 1),),
}
_MARK: Final = "__mlvc_reader__"
_lock = threading.Lock()
_record: Callable[[str], None] | None = None
_record_write: Callable[[str], None] | None = None


def _paths(value: Any) -> list[str]:
    """The local paths a reader's path argument names (a folder: its files)."""
    if isinstance(value, (list, tuple)):
        return [p for v in value for p in _paths(v)]
    if isinstance(value, bytes):
        value = os.fsdecode(value)
    elif isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str) or ("://" in value and not value.startswith("file://")):
        return []
    value = value.removeprefix("file://")
    if not os.path.exists(value):
        if "?" in value and os.path.exists(value.partition("?")[0]):
            return [value.partition("?")[0]]  # XGBoost's "data.csv?format=csv"
        if glob.has_magic(value):  # polars' "data/*.parquet", "data/**/*.csv"
            return [p for m in sorted(glob.glob(value, recursive=True)) for p in _paths(m)]
    if os.path.isdir(value):
        out: list[str] = []
        for dirpath, dirnames, files in os.walk(value):
            dirnames[:] = [d for d in dirnames if not d.startswith((".", "_"))]
            out.extend(os.path.join(dirpath, f) for f in files if not f.startswith((".", "_")))
        return out
    return [value]


def _wrap(fn: Callable[..., Any], param: str, index: int, mode_of: str | None) -> Any:
    if getattr(fn, _MARK, False):
        return fn

    @functools.wraps(fn)
    def reader(*args: Any, **kwargs: Any) -> Any:
        record = _record
        if record is not None:
            try:
                mode = kwargs.get("mode") if mode_of else None
                if mode_of and mode is None and len(args) > index + 1:
                    mode = args[index + 1]
                value = args[index] if len(args) > index else kwargs.get(param)
                if mode is None or str(mode) == "r":
                    for p in _paths(value):
                        record(p)
                elif _record_write is not None and isinstance(value, (str, os.PathLike)):
                    _record_write(os.fspath(value))  # h5py.File(name, "w"): an output
            except Exception:  # lineage must never break the user's read
                pass
        return fn(*args, **kwargs)

    setattr(reader, _MARK, True)
    return reader


def _wrap_writer(fn: Callable[..., Any], param: str, position: int) -> Any:
    if getattr(fn, _MARK, False):
        return fn

    @functools.wraps(fn)
    def writer(*args: Any, **kwargs: Any) -> Any:
        result = fn(*args, **kwargs)
        record = _record_write
        if record is not None:
            try:  # after the write: the files exist (a folder: every file written in it)
                value = args[position] if len(args) > position else kwargs.get(param)
                for p in _paths(value):
                    record(p)
            except Exception:  # lineage must never break the user's write
                pass
        return result

    setattr(writer, _MARK, True)
    return writer


def _lookup(module: ModuleType, attr: str) -> tuple[Any, str, Any] | None:
    owner: Any = module
    *path, name = attr.split(".")
    try:
        for part in path:
            owner = getattr(owner, part)
        return owner, name, getattr(owner, name)
    except AttributeError:
        return None


def _patch(module: ModuleType) -> None:
    """Wrap the reader entry points of an imported module (idempotent)."""
    for attr, param, *at in WRAPPED.get(module.__name__, ()):
        found = _lookup(module, attr)
        if found is None:
            continue
        owner, name, fn = found
        index = at[0] if at else int("." in attr)  # after a method's self
        # h5py.File(name, mode="r"): only reads are data inputs
        mode_of = "mode" if module.__name__ == "h5py" else None
        try:
            setattr(owner, name, _wrap(fn, param, index, mode_of))
        except (AttributeError, TypeError):  # an immutable (extension) type
            continue
    for attr, param, position in WRITERS.get(module.__name__, ()):
        found = _lookup(module, attr)
        if found is None:
            continue
        owner, name, fn = found
        try:
            setattr(owner, name, _wrap_writer(fn, param, position))
        except (AttributeError, TypeError):
            continue


class _Finder(importlib.abc.MetaPathFinder):
    """Wraps the readers of a watched module right after it is imported."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in WRAPPED and fullname not in WRITERS:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None and spec.loader is not None and hasattr(spec.loader, "exec_module"):
                spec.loader = _Loader(spec.loader)
                return spec
            if spec is not None:
                return spec
        return None


class _Loader(importlib.abc.Loader):
    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        module: ModuleType | None = self._inner.create_module(spec)
        return module

    def exec_module(self, module: ModuleType) -> None:
        self._inner.exec_module(module)
        _patch(module)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def install(
    record: Callable[[str], None], record_write: Callable[[str], None] | None = None
) -> None:
    """Start recording the reads of the wrapped readers with ``record(path)`` (and the
    files the wrapped writers wrote with ``record_write(path)``).

    Args:
        record: called with each path (absolute or relative to the current directory)
            a wrapped reader is asked to read.
        record_write: called with each file a wrapped writer wrote, after it did.
    """
    global _record, _record_write
    with _lock:
        _record = record
        _record_write = record_write
        if not any(isinstance(f, _Finder) for f in sys.meta_path):
            sys.meta_path.insert(0, _Finder())
        for name in {*WRAPPED, *WRITERS}:
            module = sys.modules.get(name)
            if module is not None:
                _patch(module)
