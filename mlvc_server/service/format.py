"""The commit format: what a commit's tree holds, the typed records, and how to read them.

A commit made by mlvc has in its tree (readable with plain git)::

    mlvc.json        the record (:class:`Record`): message, author, params, metrics,
                     variable index, data index (files read), outputs (files
                     written), sources, timings, ...
    env.json         the software environment
    hardware.json    the hardware
    <notebook>.ipynb the notebook as the user saw it (outputs kept)
    vars/<name>/manifest.json   each variable's payload manifest (parts kept by the
                     payload index, see :mod:`mlvc_server.store.keep`)
    data/<escaped path>/manifest.json   the captured content of a data file it read
                     (content-defined chunks, :mod:`mlvc_server.store.datafiles`)
    sources/...      the local source files the notebook imported

Every reader of commits goes through the helpers here, so the tree names live in one
place. The typed records (``Summary``, ``Record``, ``Status``...: the shapes the service
returns, the same ones the REST API answers, ``mlvc_server/openapi.yaml``, and the
frontend reads, ``src/wire.ts``) are importable from here; they are defined in
:mod:`.shapes` and loaded on first use, so that reading a commit does not build them.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InvalidNameError, VariableNotFoundError

if TYPE_CHECKING:
    from ..store import Store
    from .shapes import BranchInfo as BranchInfo
    from .shapes import CheckoutResult as CheckoutResult
    from .shapes import CompareTable as CompareTable
    from .shapes import DataCheckoutResult as DataCheckoutResult
    from .shapes import DataDiff as DataDiff
    from .shapes import DataFileDiff as DataFileDiff
    from .shapes import DataUndoResult as DataUndoResult
    from .shapes import ExportedModel as ExportedModel
    from .shapes import ExportRecord as ExportRecord
    from .shapes import ExportResult as ExportResult
    from .shapes import GateResult as GateResult
    from .shapes import GateSettings as GateSettings
    from .shapes import Lineage as Lineage
    from .shapes import LineageEdge as LineageEdge
    from .shapes import LineageNode as LineageNode
    from .shapes import ModelInfo as ModelInfo
    from .shapes import ModelVersion as ModelVersion
    from .shapes import NotebookStatus as NotebookStatus
    from .shapes import Promotion as Promotion
    from .shapes import Record as Record
    from .shapes import RegistryEvent as RegistryEvent
    from .shapes import SeriesTable as SeriesTable
    from .shapes import Status as Status
    from .shapes import Summary as Summary
    from .shapes import TagInfo as TagInfo

RECORD = "mlvc.json"
ENV = "env.json"
HARDWARE = "hardware.json"
VARS = "vars"
#: A variable's tree entry (``vars/<name>/manifest.json``), as ``store.payloads.MANIFEST``:
#: named here too, so that reading a commit's layout loads no payload code.
MANIFEST = "manifest.json"
DATA = "data"
SOURCES = "sources"
RECORD_VERSION = 1
#: Meta entries bigger than this (as JSON) are kept in the manifest only, not the record.
RECORD_META_LIMIT = 2048


# -- typed records: the shapes live in shapes.py (see __getattr__ below) ----------
#: A diff of two commits (see :mod:`mlvc_server.service.diffs` for the sections).
Diff = dict[str, Any]


# -- values ----------------------------------------------------------------------------
def iso(ts: float) -> str:
    """An epoch time as ISO 8601 in UTC, to the second."""
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


def json_value(v: Any) -> Any:
    """A JSON-able form of a param/metric value (numpy scalars become Python numbers)."""
    if isinstance(v, bool | int | str) or v is None:
        return v
    if isinstance(v, float):
        return v if math.isfinite(v) else str(v)
    item = getattr(v, "item", None)
    if callable(item):
        try:
            return json_value(item())
        except (TypeError, ValueError):
            pass
    if isinstance(v, list | tuple):
        return [json_value(x) for x in v]
    if isinstance(v, dict):
        return {str(k): json_value(x) for k, x in v.items()}
    return repr(v)


_ENCODER = json.JSONEncoder(sort_keys=True, ensure_ascii=False)
#: Mappings down to this depth get one entry per line (a record's fields, then each
#: variable, metric, parameter...); deeper values are written on their entry's line.
_LINE_DEPTH = 2


def dumps(obj: Any) -> bytes:
    """The canonical JSON bytes of a record file (sorted keys, stable): one line per
    field and per entry of a field's mapping (each variable, metric, data file...), so
    ``git show``/``git diff`` of a record read line by line. Written with the C encoder
    line by line: three times faster than ``indent=`` (Python's own encoder), which
    took a few hundred microseconds of every commit."""
    return _lines(obj, 0).encode()


def _lines(obj: Any, depth: int) -> str:
    # deeper values, other values, and mappings with other keys (json's own rules and
    # errors for them) on one line
    if (
        depth >= _LINE_DEPTH
        or not isinstance(obj, dict)
        or not obj
        or not all(isinstance(k, str) for k in obj)
    ):
        return _ENCODER.encode(obj)
    pad = " " * (depth + 1)
    inner = ",\n".join(
        f"{pad}{_ENCODER.encode(k)}: {_lines(obj[k], depth + 1)}" for k in sorted(obj)
    )
    return "{\n" + inner + "\n" + " " * depth + "}"


def validate_var_name(name: str) -> None:
    """Raise :class:`InvalidNameError` for a name that cannot be a tree entry."""
    if (
        not isinstance(name, str)
        or not name
        or "/" in name
        or "\x00" in name
        or name.startswith(".")
        or len(name) > 200
    ):
        raise InvalidNameError(
            f"variable name {name!r} cannot be stored (no '/', no leading '.', 1-200 chars)"
        )


# -- reading a commit ------------------------------------------------------------------
def read_record(store: Store, cid: str) -> Record:
    """The record of commit ``cid``; for a commit not made by mlvc, what git says."""
    found = store.tree_lookup(store.commit_tree(cid), RECORD)
    if found is None:
        # a commit not made by mlvc (e.g. pushed by plain git): describe what we can
        c = store.commit_obj(cid)
        return {
            "message": c.message.decode("utf-8", "replace"),
            "author": c.author.decode("utf-8", "replace").split(" <")[0],
            "time": iso(c.commit_time),
            "params": {},
            "metrics": {},
            "variables": {},
        }
    rec: Record = store.read_json(found[1])
    return rec


def read_tree_json(store: Store, cid: str, name: str) -> dict[str, Any]:
    """A JSON file of the commit's tree (``env.json``, ``hardware.json``), {} if absent."""
    found = store.tree_lookup(store.commit_tree(cid), name)
    if found is None:
        return {}
    out: dict[str, Any] = store.read_json(found[1])
    return out


def notebook_blob(store: Store, cid: str) -> bytes | None:
    """The notebook stored in commit ``cid`` (JSON bytes), or None."""
    rec = read_record(store, cid)
    path = rec.get("notebook")
    if not path:
        return None
    found = store.tree_lookup(store.commit_tree(cid), Path(path).name)
    return store.read_blob(found[1]) if found else None


def variable_trees(store: Store, cid: str) -> dict[str, str]:
    """Variable name -> the id of its tree in commit ``cid``."""
    found = store.tree_lookup(store.commit_tree(cid), VARS)
    if found is None:
        return {}
    return {name.decode(): sha.decode() for name, _mode, sha in store.tree(found[1]).iteritems()}


def read_manifest(store: Store, cid: str, name: str) -> dict[str, Any]:
    """The payload manifest of variable ``name`` in commit ``cid``.

    Raises:
        VariableNotFoundError: the commit holds no such variable (or it was skipped).
    """
    tree = store.commit_tree(cid)
    found = store.tree_lookup(tree, f"{VARS}/{name}/{MANIFEST}")
    if found is None:
        why = read_record(store, cid).get("skipped", {}).get(name)
        if why:
            raise VariableNotFoundError(f"variable {name!r} was skipped in {cid[:8]}: {why}")
        raise VariableNotFoundError(f"commit {cid[:8]} holds no variable {name!r}")
    manifest: dict[str, Any] = store.read_json(found[1])
    return manifest


def manifest_part_ids(manifest: dict[str, Any]) -> list[str]:
    """The ids of a payload's parts, in order."""
    return [p for seg in manifest["segments"] for p in seg["parts"]]


def make_summary(cid: str, rec: Record, parents: list[str], ts: int) -> dict[str, Any]:
    """The log-cache entry of a commit (a :class:`Summary` without ``branches`` and
    ``tags``, plus ``ts``, the commit time in epoch seconds, for ordering)."""
    out: dict[str, Any] = {
        "id": cid,
        "ts": ts,
        "short_id": cid[:8],
        "message": rec.get("message", ""),
        "author": rec.get("author", ""),
        "email": rec.get("email", ""),
        "time": rec.get("time", ""),
        "branch": rec.get("branch"),
        "notebook": rec.get("notebook"),
        "status": rec.get("status", "ok"),
        "params": rec.get("params", {}),
        "metrics": rec.get("metrics", {}),
        "variables": sorted(rec.get("variables", {})),
        "parents": parents,
    }
    kind = rec.get("kind")
    if kind:
        out["kind"] = kind
    return out


#: The ``TypedDict`` s of :mod:`.shapes`, importable from here.
_SHAPES = frozenset(
    {
        "Summary",
        "Record",
        "NotebookStatus",
        "Status",
        "BranchInfo",
        "TagInfo",
        "CheckoutResult",
        "CompareTable",
        "SeriesTable",
        "DataCheckoutResult",
        "DataFileDiff",
        "DataDiff",
        "DataUndoResult",
        "LineageNode",
        "LineageEdge",
        "Lineage",
        "ModelVersion",
        "ExportRecord",
        "GateSettings",
        "ModelInfo",
        "GateResult",
        "RegistryEvent",
        "Promotion",
        "ExportedModel",
        "ExportResult",
    }
)


def __getattr__(name: str) -> Any:
    """The shapes of :mod:`.shapes`, loaded on first use."""
    if name in _SHAPES:
        from . import shapes

        return getattr(shapes, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
