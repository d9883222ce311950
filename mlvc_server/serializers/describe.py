"""Semantic diffs: what changed in one variable between two commits, in the model's terms.

:func:`describe` is a pure function over the two stored manifests of a variable (the
``manifest.json`` of each commit: ``format``, ``meta``, ``segments`` with their part ids)
and returns structured facts plus short human lines, for the one diff presenter (panel,
magics, CLI):

- a scalar (``json``/``npy`` scalar): ``value`` old -> new (``lines``: ``"1 -> 2"``);
- an array: shape/dtype, and with a ``read`` callback the share of values changed and the
  largest absolute difference;
- a DataFrame/Series: row count, columns added/removed, dtype changes, and the columns
  whose stored column chunks changed (from the segment names ``rg<i>/<column>``);
- a scikit-learn estimator: hyperparameters (``get_params``) old -> new, fitted
  attributes that changed, number of fitted sub-estimators;
- a LightGBM/XGBoost/CatBoost model: parameters old -> new, tree and iteration counts;
- a torch state_dict/module (``safetensors``): tensors added/removed/reshaped, the
  sub-modules they belong to, and per changed tensor (with ``read``) the share of values
  changed and the largest absolute difference;
- a Keras model: layers added/removed, parameter count, weights changed;
- a container: leaves added/removed/changed, each changed leaf described in turn.

What the diff needs is recorded in ``meta`` at dump time by each serializer (``params``,
``fitted``, ``n_trees``, ``tensors``, ``columns``, ``layers``, ``weights``...), so no
payload is read unless ``read`` is given and values are compared.

``read(side, index)`` returns the bytes of segment ``index`` of the manifest of ``side``
(``"a"`` old, ``"b"`` new); the service builds it from ``StoredPayload.read_segment``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

#: ``read(side, segment_index) -> bytes``.
Reader = Callable[[str, int], bytes]
#: Tensors / arrays bigger than this are not compared value by value.
VALUE_LIMIT = 256 << 20
#: At most this many entries in a list of names (the count is always given).
LIST_LIMIT = 50


def _fmt(value: Any) -> str:
    text = json.dumps(value, default=repr) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _change(a: Any, b: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"a": a, "b": b}
    if (
        isinstance(a, int | float)
        and isinstance(b, int | float)
        and not isinstance(a, bool)
        and not isinstance(b, bool)
    ):
        out["delta"] = b - a
    return out


def _param_changes(pa: Any, pb: Any) -> list[dict[str, Any]]:
    if not isinstance(pa, dict) or not isinstance(pb, dict):
        return []
    missing = object()
    out = []
    for key in [*pa, *(k for k in pb if k not in pa)]:
        a, b = pa.get(key, missing), pb.get(key, missing)
        if a == b:
            continue
        entry = {"key": key, **_change(None if a is missing else a, None if b is missing else b)}
        entry["status"] = "added" if a is missing else "removed" if b is missing else "changed"
        out.append(entry)
    return out


def _param_lines(changes: list[dict[str, Any]]) -> list[str]:
    return [f"{c['key']}: {_fmt(c['a'])} -> {_fmt(c['b'])}" for c in changes[:LIST_LIMIT]]


def _segments_by_name(manifest: dict[str, Any]) -> dict[str, tuple[int, list[str]]]:
    return {
        str(s["name"]): (i, list(s.get("parts", [])))
        for i, s in enumerate(manifest.get("segments", []))
    }


def _changed_segments(ma: dict[str, Any], mb: dict[str, Any]) -> list[str]:
    sa = _segments_by_name(ma)
    return [
        name
        for name, (_, parts) in _segments_by_name(mb).items()
        if sa.get(name, (0, None))[1] != parts
    ]


def _kind(manifest: dict[str, Any]) -> str:
    fmt = manifest.get("format")
    meta = manifest.get("meta", {})
    if fmt == "json":
        return "scalar" if "value" in meta else "json"
    if fmt == "npy":
        return "scalar" if meta.get("scalar") else "array"
    if fmt == "parquet":
        return "frame"
    if fmt == "sklearn":
        return "estimator"
    if fmt in ("lightgbm", "xgboost", "catboost"):
        return "boosting"
    if fmt == "safetensors":
        return "tensor" if meta.get("kind") == "tensor" else "tensors"
    if fmt == "keras":
        return "keras"
    if fmt == "container":
        return "container"
    return "other"


def describe(
    old: dict[str, Any] | None, new: dict[str, Any] | None, read: Reader | None = None
) -> dict[str, Any]:
    """What changed in a variable between two stored versions.

    Args:
        old: the variable's manifest in the older commit (None: it was added).
        new: its manifest in the newer commit (None: it was removed).
        read: optional ``read(side, segment_index) -> bytes`` to compare values of arrays
            and tensors (share of values changed, largest absolute difference).

    Returns:
        ``{"status", "kind", "lines", ...facts}``: ``status`` is ``added``, ``removed``,
        ``changed`` or ``unchanged``; ``kind`` one of ``scalar``, ``array``, ``frame``,
        ``estimator``, ``boosting``, ``tensor``, ``tensors``, ``keras``, ``container``,
        ``other``; ``lines`` short human sentences; the facts depend on the kind (see the
        module docstring).
    """
    if old is None and new is None:
        return {"status": "unchanged", "kind": "other", "lines": []}
    if old is None or new is None:
        manifest = new if old is None else old
        assert manifest is not None
        meta = manifest.get("meta", {})
        status = "added" if old is None else "removed"
        line = f"{status}: {meta.get('type', manifest.get('format'))}"
        if "value" in meta:
            line += f" = {_fmt(meta['value'])}"
        return {"status": status, "kind": _kind(manifest), "lines": [line]}
    ka, kb = _kind(old), _kind(new)
    ma, mb = old.get("meta", {}), new.get("meta", {})
    same_parts = [s.get("parts") for s in old.get("segments", [])] == [
        s.get("parts") for s in new.get("segments", [])
    ]
    if same_parts and old.get("format") == new.get("format") and ma == mb:
        return {"status": "unchanged", "kind": kb, "lines": []}
    out: dict[str, Any] = {"status": "changed", "kind": kb, "lines": []}
    if ma.get("type") != mb.get("type") or old.get("format") != new.get("format"):
        out["type"] = {"a": ma.get("type"), "b": mb.get("type")}
        out["format"] = {"a": old.get("format"), "b": new.get("format")}
        if ka == "scalar" and kb == "scalar":  # 1 -> 0.01: the values say enough
            out["value"] = _change(ma.get("value"), mb.get("value"))
            out["lines"].append(f"{_fmt(ma.get('value'))} -> {_fmt(mb.get('value'))}")
        else:
            out["lines"].append(f"type: {ma.get('type')} -> {mb.get('type')}")
        return out
    handler = _HANDLERS.get(kb)
    if handler is not None:
        handler(old, new, read, out)
    else:
        changed = _changed_segments(old, new)
        out["parts_changed"] = changed[:LIST_LIMIT]
        out["lines"].append(
            f"{len(changed)} of {len(new.get('segments', []))} stored parts changed"
        )
    return out


# -- per kind -------------------------------------------------------------------------------
def _scalar(
    old: dict[str, Any], new: dict[str, Any], read: Reader | None, out: dict[str, Any]
) -> None:
    a, b = old["meta"].get("value"), new["meta"].get("value")
    out["value"] = _change(a, b)
    out["lines"].append(f"{_fmt(a)} -> {_fmt(b)}")


def _npy_array(manifest: dict[str, Any], side: str, read: Reader) -> Any:
    import numpy as np

    from .npy_format import parse_header

    shape, dtype, fortran = parse_header(read(side, 0))
    data = read(side, 1)
    arr = np.frombuffer(data, dtype=dtype, count=math.prod(shape)) if data else np.empty(0, dtype)
    return arr.reshape(shape, order="F" if fortran else "C")


def value_delta(a: Any, b: Any) -> dict[str, Any]:
    """Share of values changed and the largest absolute difference of two arrays of the
    same shape (NaN equal to NaN). Empty when shapes or dtypes differ."""
    import numpy as np

    if a.shape != b.shape or a.dtype != b.dtype:
        return {}
    if a.size == 0:
        return {"fraction_changed": 0.0}
    ne = ~((a == b) | (np.isnan(a) & np.isnan(b))) if a.dtype.kind in "fc" else a != b
    out: dict[str, Any] = {"fraction_changed": float(np.count_nonzero(ne)) / a.size}
    if a.dtype.kind in "iufcb":
        if np.any(ne):
            diff = np.abs(a.astype(np.float64) - b.astype(np.float64))
            finite = diff[np.isfinite(diff)]
            out["max_abs_diff"] = float(finite.max()) if finite.size else math.inf
        else:
            out["max_abs_diff"] = 0.0
    return out


def _delta_line(name: str, delta: dict[str, Any]) -> str:
    line = f"{name}: {delta['fraction_changed']:.1%} of values changed"
    if "max_abs_diff" in delta:
        line += f", max |delta| {delta['max_abs_diff']:.4g}"
    return line


def _array(
    old: dict[str, Any], new: dict[str, Any], read: Reader | None, out: dict[str, Any]
) -> None:
    ma, mb = old["meta"], new["meta"]
    for key in ("shape", "dtype"):
        if ma.get(key) != mb.get(key):
            out[key] = {"a": ma.get(key), "b": mb.get(key)}
            out["lines"].append(f"{key}: {_fmt(ma.get(key))} -> {_fmt(mb.get(key))}")
    if read is None or "shape" in out or "dtype" in out:
        return
    if max(int(old.get("size", 0)), int(new.get("size", 0))) > VALUE_LIMIT:
        return
    delta = value_delta(_npy_array(old, "a", read), _npy_array(new, "b", read))
    if delta:
        out.update(delta)
        out["lines"].append(_delta_line("values", delta))


def _column_of(segment: str) -> str | None:
    # parquet column chunks are named rg<i>/<column> (one segment per column chunk)
    head, sep, column = segment.partition("/")
    return column if sep and head.startswith("rg") and head[2:].isdigit() else None


def _frame(
    old: dict[str, Any], new: dict[str, Any], read: Reader | None, out: dict[str, Any]
) -> None:
    ma, mb = old["meta"], new["meta"]
    ra, rb = (ma.get("shape") or [None])[0], (mb.get("shape") or [None])[0]
    if ra != rb:
        out["rows"] = _change(ra, rb)
        out["lines"].append(f"rows: {ra} -> {rb}")
    ca = {c["name"]: c.get("dtype") for c in ma.get("columns", [])}
    cb = {c["name"]: c.get("dtype") for c in mb.get("columns", [])}
    added = [c for c in cb if c not in ca]
    removed = [c for c in ca if c not in cb]
    retyped = [{"name": c, "a": ca[c], "b": cb[c]} for c in cb if c in ca and ca[c] != cb[c]]
    if added:
        out["columns_added"] = added[:LIST_LIMIT]
        out["lines"].append(f"columns added: {', '.join(added[:LIST_LIMIT])}")
    if removed:
        out["columns_removed"] = removed[:LIST_LIMIT]
        out["lines"].append(f"columns removed: {', '.join(removed[:LIST_LIMIT])}")
    if retyped:
        out["dtypes_changed"] = retyped[:LIST_LIMIT]
        out["lines"].extend(
            f"{r['name']}: dtype {r['a']} -> {r['b']}" for r in retyped[:LIST_LIMIT]
        )
    if list(ca) != list(cb) and not added and not removed:
        out["columns_reordered"] = True
        out["lines"].append("columns reordered")
    changed_segments = _changed_segments(old, new)
    columns = [c for c in dict.fromkeys(map(_column_of, changed_segments)) if c is not None]
    if columns:
        changed = [c for c in columns if c in ca and c in cb]
        out["columns_changed"] = changed[:LIST_LIMIT]
        if changed:
            out["lines"].append(f"values changed in columns: {', '.join(changed[:LIST_LIMIT])}")
        if any(c.startswith("__index_level_") for c in columns):
            out["index_changed"] = True
            out["lines"].append("index changed")
    elif changed_segments and len(new.get("segments", [])) == 1:
        out["lines"].append("values changed (stored as one part: no per-column detail)")
    elif changed_segments and not out["lines"]:
        out["lines"].append("values or index changed")


def _estimator(
    old: dict[str, Any], new: dict[str, Any], read: Reader | None, out: dict[str, Any]
) -> None:
    ma, mb = old["meta"], new["meta"]
    changes = _param_changes(ma.get("params"), mb.get("params"))
    out["params"] = changes
    out["lines"].extend(_param_lines(changes))
    fa, fb = ma.get("fitted"), mb.get("fitted")
    if isinstance(fa, dict) and isinstance(fb, dict):
        fitted = [k for k in [*fa, *(k for k in fb if k not in fa)] if fa.get(k) != fb.get(k)]
        out["fitted_changed"] = fitted[:LIST_LIMIT]
        if fitted:
            out["lines"].append(f"fitted attributes changed: {', '.join(fitted[:LIST_LIMIT])}")
        if not fa and fb:
            out["lines"].append("fitted")
    for key, label in (("n_estimators_fitted", "fitted estimators"), ("n_iter", "iterations")):
        if ma.get(key) != mb.get(key):
            out[key] = _change(ma.get(key), mb.get(key))
            out["lines"].append(f"{label}: {ma.get(key)} -> {mb.get(key)}")
    if not out["lines"]:
        out["lines"].append("refit: same hyperparameters, other fitted values")


def _boosting(
    old: dict[str, Any], new: dict[str, Any], read: Reader | None, out: dict[str, Any]
) -> None:
    ma, mb = old["meta"], new["meta"]
    changes = _param_changes(ma.get("params"), mb.get("params"))
    out["params"] = changes
    out["lines"].extend(_param_lines(changes))
    for key, label in (
        ("n_trees", "trees"),
        ("n_iterations", "iterations"),
        ("best_iteration", "best iteration"),
        ("n_features", "features"),
    ):
        if ma.get(key) != mb.get(key):
            out[key] = _change(ma.get(key), mb.get(key))
            out["lines"].append(f"{label}: {ma.get(key)} -> {mb.get(key)}")
    if not out["lines"]:
        out["lines"].append("retrained: same parameters and tree count, other trees")


_NUMPY_OF_TORCH = {
    "float64": "float64",
    "float32": "float32",
    "float16": "float16",
    "int64": "int64",
    "int32": "int32",
    "int16": "int16",
    "int8": "int8",
    "uint8": "uint8",
    "bool": "bool",
}


def _tensor_array(data: bytes, dtype: str, shape: list[int]) -> Any:
    import numpy as np

    if dtype == "bfloat16":  # the high half of a float32
        raw = np.frombuffer(data, dtype=np.uint16).astype(np.uint32) << 16
        return raw.view(np.float32).reshape(shape)
    name = _NUMPY_OF_TORCH.get(dtype)
    if name is None:
        return None
    return np.frombuffer(data, dtype=name).reshape(shape)


def _modules(names: list[str]) -> list[str]:
    return list(dict.fromkeys(n.rpartition(".")[0] or n for n in names))


def _tensors(
    old: dict[str, Any], new: dict[str, Any], read: Reader | None, out: dict[str, Any]
) -> None:
    ta: dict[str, Any] = old["meta"].get("tensors", {})
    tb: dict[str, Any] = new["meta"].get("tensors", {})
    added = [n for n in tb if n not in ta]
    removed = [n for n in ta if n not in tb]
    reshaped = [
        {"name": n, "a": [ta[n]["shape"], ta[n]["dtype"]], "b": [tb[n]["shape"], tb[n]["dtype"]]}
        for n in tb
        if n in ta and (ta[n]["shape"], ta[n]["dtype"]) != (tb[n]["shape"], tb[n]["dtype"])
    ]
    if old["meta"].get("kind") != new["meta"].get("kind"):
        out["lines"].append(f"kind: {old['meta'].get('kind')} -> {new['meta'].get('kind')}")
    if added:
        out["tensors_added"] = added[:LIST_LIMIT]
        mods = [m for m in _modules(added) if not any(x.startswith(m + ".") or x == m for x in ta)]
        out["lines"].append(
            f"tensors added: {len(added)}"
            + (f" (new modules: {', '.join(mods[:10])})" if mods else "")
        )
    if removed:
        out["tensors_removed"] = removed[:LIST_LIMIT]
        out["lines"].append(f"tensors removed: {len(removed)} ({', '.join(removed[:10])})")
    if reshaped:
        out["tensors_reshaped"] = reshaped[:LIST_LIMIT]
        out["lines"].extend(
            f"{r['name']}: {r['a'][0]} {r['a'][1]} -> {r['b'][0]} {r['b'][1]}"
            for r in reshaped[:10]
        )
    sa, sb = _segments_by_name(old), _segments_by_name(new)
    skip = {r["name"] for r in reshaped}
    changed = [
        n
        for n in tb
        if n in ta and n not in skip and n in sb and sa.get(n, (0, None))[1] != sb[n][1]
    ]
    details: list[dict[str, Any]] = []
    budget = VALUE_LIMIT
    for name in changed:
        entry: dict[str, Any] = {
            "name": name,
            "shape": tb[name]["shape"],
            "dtype": tb[name]["dtype"],
        }
        nbytes = int(tb[name].get("nbytes", 0))
        if read is not None and nbytes <= budget and name in sa:
            a = _tensor_array(read("a", sa[name][0]), ta[name]["dtype"], ta[name]["shape"])
            b = _tensor_array(read("b", sb[name][0]), tb[name]["dtype"], tb[name]["shape"])
            if a is not None and b is not None:
                entry.update(value_delta(a, b))
                budget -= nbytes
        details.append(entry)
    out["tensors_changed"] = details[:LIST_LIMIT]
    out["tensors_changed_count"] = len(changed)
    out["tensors_total"] = len(tb)
    if changed:
        out["lines"].append(f"{len(changed)} of {len(tb)} tensors changed")
        out["lines"].extend(
            _delta_line(d["name"], d) if "fraction_changed" in d else f"{d['name']}: changed"
            for d in details[:10]
        )


def _tensor(
    old: dict[str, Any], new: dict[str, Any], read: Reader | None, out: dict[str, Any]
) -> None:
    ma, mb = old["meta"], new["meta"]
    for key in ("shape", "dtype"):
        if ma.get(key) != mb.get(key):
            out[key] = {"a": ma.get(key), "b": mb.get(key)}
            out["lines"].append(f"{key}: {_fmt(ma.get(key))} -> {_fmt(mb.get(key))}")
    if "shape" in out or "dtype" in out or read is None:
        if not out["lines"]:
            out["lines"].append("values changed")
        return
    tensors = _tensors_result(old, new, read)
    detail = (tensors.get("tensors_changed") or [{}])[0]
    if "fraction_changed" in detail:
        out.update({k: detail[k] for k in ("fraction_changed", "max_abs_diff") if k in detail})
        out["lines"].append(_delta_line("values", detail))
    else:
        out["lines"].append("values changed")


def _tensors_result(
    old: dict[str, Any], new: dict[str, Any], read: Reader | None
) -> dict[str, Any]:
    result: dict[str, Any] = {"lines": []}
    _tensors(old, new, read, result)
    return result


def _keras(
    old: dict[str, Any], new: dict[str, Any], read: Reader | None, out: dict[str, Any]
) -> None:
    ma, mb = old["meta"], new["meta"]
    la = {layer[0]: layer for layer in ma.get("layers", [])}
    lb = {layer[0]: layer for layer in mb.get("layers", [])}
    added = [name for name in lb if name not in la]
    removed = [name for name in la if name not in lb]
    if added:
        out["layers_added"] = [{"name": n, "class": lb[n][1], "params": lb[n][2]} for n in added]
        out["lines"].append("layers added: " + ", ".join(f"{n} ({lb[n][1]})" for n in added[:10]))
    if removed:
        out["layers_removed"] = [{"name": n, "class": la[n][1]} for n in removed]
        out["lines"].append(
            "layers removed: " + ", ".join(f"{n} ({la[n][1]})" for n in removed[:10])
        )
    if ma.get("n_params") != mb.get("n_params"):
        out["n_params"] = _change(ma.get("n_params"), mb.get("n_params"))
        out["lines"].append(f"parameters: {ma.get('n_params')} -> {mb.get('n_params')}")
    if ma.get("optimizer") != mb.get("optimizer"):
        out["optimizer"] = {"a": ma.get("optimizer"), "b": mb.get("optimizer")}
        out["lines"].append(f"optimizer: {ma.get('optimizer')} -> {mb.get('optimizer')}")
    wa, wb = ma.get("weights", {}), mb.get("weights", {})
    changed = [n for n in wb if n in wa and wa[n] != wb[n]]
    out["weights_changed"] = changed[:LIST_LIMIT]
    if changed:
        out["lines"].append(f"{len(changed)} of {len(wb)} weights changed")
    if not out["lines"]:
        out["lines"].append("changed (config or optimizer state)")


def _container(
    old: dict[str, Any], new: dict[str, Any], read: Reader | None, out: dict[str, Any]
) -> None:
    la = _leaves(old)
    lb = _leaves(new)
    added = [p for p in lb if p not in la]
    removed = [p for p in la if p not in lb]
    changed: list[dict[str, Any]] = []
    for path in lb:
        if path not in la:
            continue
        sub_a, start_a = la[path]
        sub_b, start_b = lb[path]
        sub_read = None
        if read is not None:
            sub_read = _offset_reader(read, start_a, start_b)
        leaf = describe(sub_a, sub_b, sub_read)
        if leaf["status"] != "unchanged":
            changed.append({"path": path, **leaf})
    out["leaves_added"] = added[:LIST_LIMIT]
    out["leaves_removed"] = removed[:LIST_LIMIT]
    out["leaves_changed"] = changed[:LIST_LIMIT]
    if added:
        out["lines"].append(f"leaves added: {', '.join(added[:10])}")
    if removed:
        out["lines"].append(f"leaves removed: {', '.join(removed[:10])}")
    for leaf in changed[:10]:
        out["lines"].extend(f"{leaf['path']}: {line}" for line in leaf["lines"][:5])
    ta = (old["meta"].get("manifest") or {}).get("tree")
    tb = (new["meta"].get("manifest") or {}).get("tree")
    if ta != tb and not added and not removed:
        inline = _inline_changes(ta, tb, "")
        out["inline_changed"] = inline[:LIST_LIMIT]
        out["lines"].extend(f"{c['path']}: {_fmt(c['a'])} -> {_fmt(c['b'])}" for c in inline[:10])


def _inline_changes(a: Any, b: Any, path: str) -> list[dict[str, Any]]:
    """Differences between two container trees outside their leaves (inline values)."""
    if a == b:
        return []
    if isinstance(a, dict) and isinstance(b, dict) and a.keys() == b.keys():
        out: list[dict[str, Any]] = []
        for k in a:
            out.extend(_inline_changes(a[k], b[k], f"{path}.{k}" if path else str(k)))
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        out = []
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            out.extend(_inline_changes(x, y, f"{path}[{i}]"))
        return out
    return [{"path": path or "(root)", "a": a, "b": b}]


#: Where a container leaf's segments are: ``("run", first)`` (its own segments, from
#: ``first`` on) or ``("pack", pack segment, offset, sizes)`` (slices of a shared pack).
Locator = tuple[Any, ...]


def _leaves(manifest: dict[str, Any]) -> dict[str, tuple[dict[str, Any], Locator]]:
    """Path -> (a manifest of the leaf alone, where its segments are).

    A leaf stored in its own segments keeps their parts; a small leaf packed with others
    into a shared segment gets one synthetic part per segment from its own hash, so two
    versions compare equal exactly when the leaf's bytes are equal.
    """
    leaves = (manifest.get("meta", {}).get("manifest") or {}).get("leaves", [])
    segments = manifest.get("segments", [])
    out: dict[str, tuple[dict[str, Any], Locator]] = {}
    position = 1  # segment 0 is the container's own manifest
    for leaf in leaves:
        count = int(leaf.get("segments", 0))
        prefix = f"{leaf['path']}:"
        locator: Locator
        if "sizes" in leaf:
            sizes = [int(n) for n in leaf["sizes"]]
            own = [
                {"name": str(i), "size": n, "parts": [f"{leaf.get('xxh3')}:{i}"]}
                for i, n in enumerate(sizes)
            ]
            locator = ("pack", int(leaf["seg"]), int(leaf.get("at", 0)), sizes)
        else:
            start = int(leaf.get("seg", position))
            own = [
                {
                    **s,
                    "name": str(s["name"])[len(prefix) :]
                    if str(s["name"]).startswith(prefix)
                    else s["name"],
                }
                for s in segments[start : start + count]
            ]
            locator = ("run", start)
            position = start + count
        out[str(leaf["path"])] = (
            {
                "format": leaf.get("format"),
                "meta": leaf.get("meta", {}),
                "segments": own,
                "size": leaf.get("size", 0),
            },
            locator,
        )
    return out


def _offset_reader(read: Reader, loc_a: Locator, loc_b: Locator) -> Reader:
    """A reader of one leaf's segments over the reader of the whole container."""

    def sub(side: str, index: int) -> bytes:
        loc = loc_a if side == "a" else loc_b
        if loc[0] == "run":
            return read(side, int(loc[1]) + index)
        _, seg, at, sizes = loc
        start = int(at) + sum(sizes[:index])
        return read(side, int(seg))[start : start + int(sizes[index])]

    return sub


def _json(
    old: dict[str, Any], new: dict[str, Any], read: Reader | None, out: dict[str, Any]
) -> None:
    la, lb = old["meta"].get("length"), new["meta"].get("length")
    if la != lb and la is not None and lb is not None:
        out["length"] = _change(la, lb)
        out["lines"].append(f"length: {la} -> {lb}")
    else:
        out["lines"].append("value changed")


_HANDLERS: dict[
    str, Callable[[dict[str, Any], dict[str, Any], Reader | None, dict[str, Any]], None]
] = {
    "scalar": _scalar,
    "json": _json,
    "array": _array,
    "frame": _frame,
    "estimator": _estimator,
    "boosting": _boosting,
    "tensors": _tensors,
    "tensor": _tensor,
    "keras": _keras,
    "container": _container,
}


__all__ = ["Reader", "describe", "value_delta"]
