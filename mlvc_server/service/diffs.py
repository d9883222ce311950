"""Differences between two commits, as plain JSON-able data.

The structure (also what ``GET /mlvc/diff`` returns)::

    {"a": {id, message, time}, "b": {...},
     "params":    [{"key", "status", "a", "b", "delta"?}],          every key
     "metrics":   [{"key", "status", "a", "b", "delta"?}],          every key
     "variables": [{"name", "status", "a": {...}, "b": {...}, ...}], every name
     "data":      [{"path", "status", "a": {hash, size}, "b": ...}],
     "env":       {"changed": [{"key", "status", "a", "b"}], "unchanged": N},
     "hardware":  {"changed": [...], "unchanged": N},
     "notebook":  {"status", "cells": {"added", "removed", "modified"}, "diff": nbdime diff,
                   "cell_view": [{"status", "cell_type", "a", "b", "lines"?}]}}

``cell_view`` pairs the cells of both notebooks in order (nbdime's alignment): each
entry is ``unchanged``, ``added``, ``removed``, ``modified`` (source changed, with
``lines``: a line diff as ``[tag, text]``, tag one of " ", "-", "+") or ``outputs``
(only outputs or execution count changed); ``a``/``b`` hold the cell's source,
execution count and outputs (text, error, or a small PNG, truncated).

``status`` is one of ``added``, ``removed``, ``changed``, ``unchanged``. For a changed
variable: ``segments_changed`` (e.g. the tensors of a model that changed),
``segments_total``, ``bytes_changed`` and ``fraction_bytes_changed`` come from comparing
content-addressed parts (no payload is read); for arrays, with ``values=True``,
``fraction_changed`` and ``max_abs_diff`` come from the values. For a model with
hyperparameters and fitted attributes in its meta (scikit-learn), ``params`` lists the
changed hyperparameters and ``fitted_changed`` the fitted attributes that changed.
"""

from __future__ import annotations

import json
import math
import os
from typing import Any

from ..store import payloads as payload_store
from ..store.repo import Store
from ..store.revisions import resolve
from .compat import legacy_positional
from .format import (
    ENV,
    HARDWARE,
    SOURCES,
    Diff,
    notebook_blob,
    read_record,
    variable_trees,
)
from .workspace import open_store, rel_notebook

#: Notebooks bigger than this together (bytes) are not compared cell by cell at all.
MAX_NOTEBOOK_DIFF_BYTES = 64 << 20
#: Above this many cells in either notebook, or this many changed cells, cells are only
#: counted (by id), not aligned and diffed line by line (nbdime's alignment is quadratic).
MAX_CELL_DIFF_CELLS = 5_000
MAX_CELL_DIFF_CHANGES = 2_000
#: Arrays bigger than this are compared by their chunks only, not element-wise.
VALUE_DIFF_LIMIT = 256 << 20


def _entry(key: str, a: Any, b: Any, missing: object) -> dict[str, Any]:
    if a is missing:
        status = "added"
    elif b is missing:
        status = "removed"
    else:
        status = "unchanged" if a == b else "changed"
    e: dict[str, Any] = {
        "key": key,
        "status": status,
        "a": None if a is missing else a,
        "b": None if b is missing else b,
    }
    if (
        status == "changed"
        and isinstance(a, int | float)
        and isinstance(b, int | float)
        and not isinstance(a, bool)
        and not isinstance(b, bool)
    ):
        e["delta"] = b - a
    return e


def dict_diff(a: dict[str, Any], b: dict[str, Any]) -> list[dict[str, Any]]:
    """Every key of ``a`` and ``b`` with its status (keys in a stable order)."""
    missing = object()
    keys = list(a) + [k for k in b if k not in a]
    return [_entry(k, a.get(k, missing), b.get(k, missing), missing) for k in keys]


def _flatten(d: Any, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    if isinstance(d, dict):
        for k, v in d.items():
            out.update(_flatten(v, f"{prefix}{k}."))
    elif isinstance(d, list) and d and all(isinstance(x, dict) for x in d):
        for i, v in enumerate(d):
            out.update(_flatten(v, f"{prefix}{i}."))
    else:
        out[prefix[:-1]] = d
    return out


def _changed_only(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    entries = dict_diff(_flatten(a), _flatten(b))
    changed = [e for e in entries if e["status"] != "unchanged"]
    return {"changed": changed, "unchanged": len(entries) - len(changed)}


class _Side:
    def __init__(self, store: Store, cid: str) -> None:
        self.id = cid
        self.commit = store.commit_obj(cid)
        self.tree = self.commit.tree.decode()
        self.record: dict[str, Any] = dict(read_record(store, cid))
        self.store = store
        self.vars: dict[str, str] = variable_trees(store, cid)
        self._files = {"env": ENV, "hardware": HARDWARE}

    def json_file(self, key: str) -> Any:
        found = self.store.tree_lookup(self.tree, self._files[key])
        return self.store.read_json(found[1]) if found else {}

    def manifest(self, name: str) -> dict[str, Any]:
        found = self.store.tree_lookup(self.vars[name], payload_store.MANIFEST)
        if found is None:
            return {"segments": [], "meta": {}}
        m: dict[str, Any] = self.store.read_json(found[1])
        return m

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "short_id": self.id[:8],
            "message": self.record.get("message", ""),
            "time": self.record.get("time", ""),
            "branch": self.record.get("branch"),
        }


_SUMMARY_KEYS = ("type", "format", "size", "shape", "dtype", "value")


def _var_summary(rec: dict[str, Any] | None) -> dict[str, Any] | None:
    if rec is None:
        return None
    return {k: rec[k] for k in _SUMMARY_KEYS if k in rec}


def _segments_delta(ma: dict[str, Any], mb: dict[str, Any]) -> dict[str, Any]:
    sa = {s["name"]: s for s in ma.get("segments", [])}
    changed, total, bytes_changed, total_bytes = [], 0, 0, 0
    for s in mb.get("segments", []):
        total += 1
        total_bytes += int(s["size"])
        old = sa.get(s["name"])
        if old is None or old["parts"] != s["parts"]:
            changed.append(s["name"])
            bytes_changed += int(s["size"])
    return {
        "segments_changed": changed,
        "segments_total": total,
        "bytes_changed": bytes_changed,
        "fraction_bytes_changed": (bytes_changed / total_bytes) if total_bytes else 0.0,
    }


def _array_delta(a: Any, b: Any) -> dict[str, Any]:
    import numpy as np

    if a.shape != b.shape or a.dtype != b.dtype:
        return {}
    if a.size == 0:
        return {"fraction_changed": 0.0}
    ne = ~((a == b) | (np.isnan(a) & np.isnan(b))) if a.dtype.kind in "fc" else a != b
    out: dict[str, Any] = {"fraction_changed": float(np.count_nonzero(ne)) / a.size}
    if a.dtype.kind in "iufcb" and np.any(ne):
        diff = np.abs(a.astype(np.float64) - b.astype(np.float64))
        finite = diff[np.isfinite(diff)]
        out["max_abs_diff"] = float(finite.max()) if finite.size else math.inf
    elif a.dtype.kind in "iufcb":
        out["max_abs_diff"] = 0.0
    return out


#: Kinds whose change :func:`mlvc_server.serializers.describe.describe` puts in words
#: beyond what the record's value/shape/segments say.
SEMANTIC_KINDS = frozenset(
    {"estimator", "boosting", "tensor", "tensors", "frame", "keras", "container"}
)


def _semantic(
    a: _Side, b: _Side, name: str, ma: dict[str, Any], mb: dict[str, Any], values: bool
) -> dict[str, Any]:
    """The model-aware facts of a changed variable (``kind`` and ``lines``: what a
    person wants to read: hyperparameters old -> new, which tensors changed and by how
    much, a frame's rows and changed columns, container leaves)."""
    from ..serializers.describe import describe

    def read(side: str, index: int) -> bytes:
        m, st = (ma, a.store) if side == "a" else (mb, b.store)
        return payload_store.StoredPayload(st, m, name).read_segment(index)

    small = max(int(ma.get("size", 0)), int(mb.get("size", 0))) <= VALUE_DIFF_LIMIT
    try:
        facts = describe(ma, mb, read if values and small else None)
    except Exception as exc:  # a damaged or unusual payload must not break the diff
        return {"semantic_error": f"{type(exc).__name__}: {exc}"}
    out: dict[str, Any] = {"kind": facts.get("kind", "other")}
    if facts.get("lines"):
        out["lines"] = list(facts["lines"])
    return out


def _variable(a: _Side, b: _Side, name: str, values: bool) -> dict[str, Any]:
    ra = a.record.get("variables", {}).get(name)
    rb = b.record.get("variables", {}).get(name)
    ta, tb = a.vars.get(name), b.vars.get(name)
    if ta is None and tb is None:
        status = "unchanged"
    elif ta is None:
        status = "added"
    elif tb is None:
        status = "removed"
    else:
        status = "unchanged" if ta == tb else "changed"
    e: dict[str, Any] = {
        "name": name,
        "status": status,
        "a": _var_summary(ra),
        "b": _var_summary(rb),
    }
    if status != "changed" or ra is None or rb is None:
        return e
    ma, mb = a.manifest(name), b.manifest(name)
    e.update(_segments_delta(ma, mb))
    e.update(_semantic(a, b, name, ma, mb, values))
    pa, pb = ma.get("meta", {}).get("params"), mb.get("meta", {}).get("params")
    if isinstance(pa, dict) and isinstance(pb, dict):
        e["params"] = [x for x in dict_diff(pa, pb) if x["status"] != "unchanged"]
    fa, fb = ma.get("meta", {}).get("fitted"), mb.get("meta", {}).get("fitted")
    if isinstance(fa, dict) and isinstance(fb, dict):  # e.g. a model's coef_, intercept_
        e["fitted_changed"] = [
            k for k in [*fa, *(k for k in fb if k not in fa)] if fa.get(k) != fb.get(k)
        ]
    if (
        values
        and ma.get("format") == mb.get("format") == "npy"
        and int(ma.get("size", 0)) <= VALUE_DIFF_LIMIT
        and int(mb.get("size", 0)) <= VALUE_DIFF_LIMIT
    ):
        from ..serializers import deserialize

        try:
            va = deserialize("npy", ma["meta"], payload_store.StoredPayload(a.store, ma, name))
            vb = deserialize("npy", mb["meta"], payload_store.StoredPayload(b.store, mb, name))
            e.update(_array_delta(va, vb))
        except Exception as exc:  # a damaged payload must not break the diff
            e["value_error"] = str(exc)
    return e


def cell_counts(old: bytes | None, new: bytes | None) -> dict[str, int]:
    """Cells ``added``, ``removed``, ``modified`` (source) and ``outputs_changed``, by
    cell id (cheap: no alignment; what ``status`` and a diff without cells report)."""

    def cells(raw: bytes | None) -> dict[str, tuple[str, str]]:
        try:
            nb = json.loads(raw) if raw else {}
        except (ValueError, RecursionError):
            return {}
        listed = nb.get("cells", []) if isinstance(nb, dict) else []
        out = {}
        for i, c in enumerate(listed if isinstance(listed, list) else []):
            if not isinstance(c, dict):
                continue
            src = c.get("source", "")
            src = "".join(src) if isinstance(src, list) else str(src)
            try:
                outs = json.dumps(c.get("outputs", []), sort_keys=True)
            except (TypeError, ValueError, RecursionError):
                outs = repr(c.get("outputs"))
            out[str(c.get("id", i))] = (src, outs)
        return out

    a, b = cells(old), cells(new)
    return {
        "added": sum(1 for k in b if k not in a),
        "removed": sum(1 for k in a if k not in b),
        "modified": sum(1 for k in b if k in a and a[k][0] != b[k][0]),
        "outputs_changed": sum(1 for k in b if k in a and a[k][0] == b[k][0] and a[k] != b[k]),
    }


def _notebook(a: _Side, b: _Side, cells: bool, outputs: bool = True) -> dict[str, Any]:
    na = notebook_blob(a.store, a.id)
    nb = notebook_blob(b.store, b.id)
    out: dict[str, Any] = {
        "path_a": a.record.get("notebook"),
        "path_b": b.record.get("notebook"),
    }
    if na is None and nb is None:
        out["status"] = "none"
        return out
    if na is None or nb is None:
        out["status"] = "added" if na is None else "removed"
        return out
    out["status"] = "unchanged" if na == nb else "changed"
    if na == nb:
        out["cells"] = {"added": 0, "removed": 0, "modified": 0, "outputs_changed": 0}
        return out
    size = len(na) + len(nb)
    if size > MAX_NOTEBOOK_DIFF_BYTES:
        out["limit"] = (
            f"the notebooks hold {size / 2**20:.0f} MiB together (more than "
            f"{MAX_NOTEBOOK_DIFF_BYTES >> 20} MiB, mostly outputs): not compared cell by "
            "cell; clear large outputs, or diff them with nbdime"
        )
        return out
    if not cells:
        out["cells"] = cell_counts(na, nb)
        return out
    counted = cell_counts(na, nb)
    if (
        sum(counted.values()) > MAX_CELL_DIFF_CHANGES
        or max(na.count(b'"cell_type"'), nb.count(b'"cell_type"')) > MAX_CELL_DIFF_CELLS
    ):
        out["cells"] = counted
        out["limit"] = (
            f"more than {MAX_CELL_DIFF_CELLS} cells or {MAX_CELL_DIFF_CHANGES} changed "
            "cells: counted by cell id, not aligned line by line"
        )
        return out
    try:
        import nbdime
    except ImportError:  # an optional extra: count cells by id, say how to get more
        out["cells"] = cell_counts(na, nb)
        out["hint"] = 'cell-by-cell diffs need nbdime: pip install "jupyterlab-mlvc[nbdime]"'
        return out
    import nbformat

    try:
        nba = nbformat.reads(na.decode(), as_version=4)  # type: ignore[no-untyped-call]
        nbb = nbformat.reads(nb.decode(), as_version=4)  # type: ignore[no-untyped-call]
        d = nbdime.diff_notebooks(nba, nbb)
    except Exception as exc:  # a stored notebook that is not valid nbformat
        out["error"] = f"the notebooks cannot be compared cell by cell: {exc}"
        return out
    counts = {"added": 0, "removed": 0, "modified": 0, "outputs_changed": 0}
    for entry in d:
        if entry["key"] != "cells":
            continue
        for op in entry.get("diff", []):
            if op["op"] == "addrange":
                counts["added"] += len(op["valuelist"])
            elif op["op"] == "removerange":
                counts["removed"] += op["length"]
            elif op["op"] == "patch":
                keys = {sub["key"] for sub in op.get("diff", [])}
                if keys - {"outputs", "execution_count", "id", "metadata"}:
                    counts["modified"] += 1
                elif "outputs" in keys:
                    counts["outputs_changed"] += 1
    out["cells"] = counts
    out["diff"] = json.loads(json.dumps(d))
    out["cell_view"] = cell_view(nba, nbb, d)
    if not outputs:  # outputs can be most of a notebook: only when asked for
        for entry in out["cell_view"]:
            for side in ("a", "b"):
                if isinstance(entry.get(side), dict):
                    entry[side].pop("outputs", None)
        out["outputs"] = "omitted"
    return out


#: Output text kept per output in ``cell_view`` (characters).
OUTPUT_TEXT_LIMIT = 4000
#: PNG outputs kept in ``cell_view`` up to this size (base64 characters).
OUTPUT_IMAGE_LIMIT = 256 << 10


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value or "")


def _output(o: Any) -> dict[str, Any]:
    kind = o.get("output_type")
    if kind == "stream":
        return {
            "kind": "stream",
            "name": o.get("name"),
            "text": _text(o.get("text"))[:OUTPUT_TEXT_LIMIT],
        }
    if kind == "error":
        return {"kind": "error", "text": f"{o.get('ename')}: {o.get('evalue')}"[:OUTPUT_TEXT_LIMIT]}
    data = o.get("data", {})
    png = _text(data.get("image/png")).replace("\n", "")
    if png and len(png) <= OUTPUT_IMAGE_LIMIT:
        return {"kind": "image", "png": png}
    if "text/plain" in data:
        return {"kind": "text", "text": _text(data["text/plain"])[:OUTPUT_TEXT_LIMIT]}
    return {"kind": "other", "text": ", ".join(sorted(data)) or str(kind)}


def _cell(c: Any) -> dict[str, Any]:
    return {
        "source": _text(c.get("source")),
        "execution_count": c.get("execution_count"),
        "outputs": [_output(o) for o in c.get("outputs", [])],
    }


def _line_diff(a: str, b: str) -> list[list[str]]:
    import difflib

    la, lb = a.splitlines(), b.splitlines()
    lines: list[list[str]] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, la, lb, autojunk=False).get_opcodes():
        if tag == "equal":
            lines += [[" ", t] for t in la[i1:i2]]
        else:
            lines += [["-", t] for t in la[i1:i2]]
            lines += [["+", t] for t in lb[j1:j2]]
    return lines


def cell_view(nba: Any, nbb: Any, d: list[Any]) -> list[dict[str, Any]]:
    """Both notebooks' cells side by side, in order, from nbdime's diff ``d``."""
    ops: dict[int, list[Any]] = {}
    for entry in d:
        if entry["key"] == "cells":
            for op in entry.get("diff", []):
                ops.setdefault(op["key"], []).append(op)
    cells_a, cells_b = nba.get("cells", []), nbb.get("cells", [])
    out: list[dict[str, Any]] = []
    j = 0  # index into b
    i = 0
    while i <= len(cells_a):
        patched = False
        skip = 0
        for op in ops.get(i, []):
            if op["op"] == "addrange":
                for _ in op["valuelist"]:
                    c = cells_b[j]
                    out.append({"status": "added", "cell_type": c.get("cell_type"), "b": _cell(c)})
                    j += 1
            elif op["op"] == "removerange":
                skip = op["length"]
            elif op["op"] == "patch":
                patched = True
        if i == len(cells_a):
            break
        if skip:
            for c in cells_a[i : i + skip]:
                out.append({"status": "removed", "cell_type": c.get("cell_type"), "a": _cell(c)})
            i += skip
            continue
        ca, cb = cells_a[i], cells_b[j]
        e: dict[str, Any] = {"cell_type": cb.get("cell_type"), "a": _cell(ca), "b": _cell(cb)}
        if not patched:
            e["status"] = "unchanged"
        elif e["a"]["source"] != e["b"]["source"] or ca.get("cell_type") != cb.get("cell_type"):
            e["status"] = "modified"
            e["lines"] = _line_diff(e["a"]["source"], e["b"]["source"])
        elif e["a"]["outputs"] != e["b"]["outputs"] or ca.get("execution_count") != cb.get(
            "execution_count"
        ):
            e["status"] = "outputs"
        else:
            e["status"] = "unchanged"  # metadata or ids only
        out.append(e)
        i += 1
        j += 1
    return out


def diff_commits(
    store: Store,
    a_id: str,
    b_id: str,
    *,
    cells: bool = True,
    values: bool = True,
    outputs: bool = True,
) -> dict[str, Any]:
    """The diff of two commits (see the module docstring for the structure)."""
    a, b = _Side(store, a_id), _Side(store, b_id)
    ra, rb = a.record, b.record
    names = list(ra.get("variables", {})) + [
        n for n in rb.get("variables", {}) if n not in ra.get("variables", {})
    ]
    for n in list(a.vars) + list(b.vars):
        if n not in names:
            names.append(n)
    data_a: dict[str, Any] = ra.get("data", {})
    data_b: dict[str, Any] = rb.get("data", {})
    data = []
    for path in list(data_a) + [p for p in data_b if p not in data_a]:
        fa, fb = data_a.get(path), data_b.get(path)
        status = (
            "added"
            if fa is None
            else "removed"
            if fb is None
            else "unchanged"
            if fa.get("hash") == fb.get("hash")
            else "changed"
        )
        data.append({"path": path, "status": status, "a": fa, "b": fb})
    skipped = {
        "a": ra.get("skipped", {}),
        "b": rb.get("skipped", {}),
    }
    return {
        "a": a.summary(),
        "b": b.summary(),
        "params": dict_diff(ra.get("params", {}), rb.get("params", {})),
        "metrics": dict_diff(ra.get("metrics", {}), rb.get("metrics", {})),
        "variables": [_variable(a, b, n, values) for n in names],
        "skipped": skipped,
        "data": data,
        "env": _changed_only(a.json_file("env"), b.json_file("env")),
        "hardware": _changed_only(a.json_file("hardware"), b.json_file("hardware")),
        "notebook": _notebook(a, b, cells, outputs),
        "sources": _sources(a, b),
    }


def _sources(a: _Side, b: _Side) -> list[dict[str, Any]]:
    def files(side: _Side) -> dict[str, str]:
        found = side.store.tree_lookup(side.tree, SOURCES)
        out: dict[str, str] = {}
        if not found:
            return out

        def walk(tree_id: str, prefix: str) -> None:
            for name, mode, sha in side.store.tree(tree_id).iteritems():
                p = f"{prefix}{name.decode()}"
                if mode & 0o040000:
                    walk(sha.decode(), p + "/")
                else:
                    out[p] = sha.decode()

        walk(found[1], "")
        return out

    fa, fb = files(a), files(b)
    return [e | {"path": e.pop("key")} for e in dict_diff(fa, fb) if e["status"] != "unchanged"]


@legacy_positional("repo", "notebook")
def diff(
    a: str | None = None,
    b: str | None = None,
    *,
    repo: str | os.PathLike[str] = ".",
    notebook: str | os.PathLike[str] | None = None,
    cells: bool = True,
    values: bool = True,
    outputs: bool = True,
    include_safety: bool = False,
) -> Diff:
    """Differences between commits ``a`` and ``b`` (default: HEAD~1 and HEAD; with only
    ``a``: ``a`` and HEAD).

    A branch name stands for the branch's last result: when its tip is a safety commit
    (the state saved before a checkout), the newest commit under it that is not one, unless
    ``include_safety``. Commit ids, tags and ``HEAD`` are taken as they are.

    Sections: ``params``, ``metrics``, ``variables``, ``data``, ``env``, ``hardware``,
    ``notebook``, ``sources`` (see the module docstring). ``cells=False`` skips the
    notebook cell diff; ``values=False`` skips element-wise comparison of arrays.
    """
    store = open_store(repo)
    nb = rel_notebook(store, notebook)
    if a is None and b is None:
        b_id = resolve(store, "HEAD", nb)
        a_id = resolve(store, "HEAD~1", nb)
    elif b is None:
        a_id, b_id = resolve(store, a or "HEAD", nb), resolve(store, "HEAD", nb)
    else:
        a_id, b_id = resolve(store, a or "HEAD", nb), resolve(store, b, nb)
    if not include_safety:
        a_id = _result_tip(store, a, a_id, nb)
        b_id = _result_tip(store, b, b_id, nb)
    return diff_commits(store, a_id, b_id, cells=cells, values=values, outputs=outputs)


def _result_tip(store: Store, rev: str | None, cid: str, nb: str | None) -> str:
    """``cid``, or when ``rev`` names a branch whose tip it is, the newest commit of that
    branch's first-parent line that is not a safety commit (``cid`` if all are)."""
    from ..store.refs import branch_ref
    from .history import summary_of

    if not rev or store.ref(branch_ref(nb, rev)) != cid:
        return cid
    current = cid
    for _ in range(1000):
        entry = summary_of(store, current)
        if entry.get("kind") != "safety":
            return current
        parents = entry.get("parents") or []
        if not parents:
            break
        current = parents[0]
    return cid


__all__ = ["cell_counts", "dict_diff", "diff", "diff_commits"]
