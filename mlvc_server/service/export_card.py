"""The model card (``README.md``) of an export: what the version is made of (commit,
params, metrics, data read with hashes, sources, environment, hardware), its registry
history (who registered, approved, promoted it, when and why) and the checks' results."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from importlib import metadata
from typing import Any

from .. import serializers as serializers_pkg
from ..store import payloads as payload_store
from .format import ExportedModel


def mlvc_version() -> str:
    """The installed mlvc's version ("unknown" when running from a plain checkout)."""
    try:
        return metadata.version("jupyterlab-mlvc")
    except metadata.PackageNotFoundError:
        return "unknown"


# -- the model card --------------------------------------------------------------------
def table_lines(rows: dict[str, Any]) -> list[str]:
    """A two-column Markdown table of ``rows`` (name, value), sorted by name."""
    if not rows:
        return ["(none)", ""]
    out = ["| name | value |", "| --- | --- |"]
    for k, v in sorted(rows.items()):
        text = (json.dumps(v) if not isinstance(v, str) else v).replace("|", "\\|")
        out.append(f"| {k} | {text} |")
    return [*out, ""]


def usage_lines(fmt: str) -> list[str]:
    """How to load an export of format ``fmt`` (indented code)."""
    if fmt == "onnx":
        return [
            "    import onnxruntime, numpy as np",
            '    s = onnxruntime.InferenceSession("model.onnx")',
            '    s.run(None, {"input": rows.astype(np.float32)})',
        ]
    out = [
        "    import sys; sys.path.insert(0, 'code')",
        "    import mlvc_loader",
        "    model = mlvc_loader.load_model('model')",
    ]
    if fmt == "mlflow":
        out += ["", "    mlflow models predict -m . -i input.csv -t csv --env-manager local"]
    return out


def card(
    model: ExportedModel,
    fmt: str,
    rec: dict[str, Any],
    manifest: dict[str, Any],
    registry: dict[str, Any] | None,
    files: dict[str, str],
    reqs: list[str],
    checks: dict[str, Any],
    model_type: str,
) -> str:
    """The Markdown model card of an export (see the module's docstring)."""
    cid = model["commit"]
    title = (
        f"{model['name']} version {model['version']}"
        if model["name"]
        else f"{model['variable']} at {cid[:8]}"
    )
    meta = manifest["meta"]
    lines = [
        f"# {title}",
        "",
        f"Exported by mlvc {mlvc_version()} as `{fmt}` on "
        f"{datetime.now(UTC).isoformat(timespec='seconds')}.",
        "",
        "## Model",
        "",
        f"- variable `{model['variable']}` of commit `{cid}`",
        f"- type `{model_type}`, stored as `{manifest['format']}`"
        + (f" ({meta['backend']} backend)" if meta.get("backend") else ""),
        f"- notebook `{rec.get('notebook')}`, branch `{rec.get('branch')}`",
        f"- committed by {rec.get('author', '?')} on {rec.get('time', '?')}: "
        f"{json.dumps(rec.get('message', ''))}",
        "",
    ]
    lines += ["Files:", "", *(f"- `{k}`: {v}" for k, v in files.items()), ""]
    lines += ["How to load it:", "", *usage_lines(fmt), ""]
    if fmt != "onnx" and payload_store.needs_trust(manifest["format"], meta):
        lines += [
            "Loading this model runs the pickle of its structure "
            f"({meta.get('trust_reason', 'a pickled payload')}): load it only if you trust "
            "who exported it.",
            "",
        ]
    if registry:
        lines += ["## Registry", ""]
        lines += [f"- {k}: {v}" for k, v in registry.get("facts", {}).items()]
        lines += [""]
        events = registry.get("events") or []
        if events:
            lines += [
                "| when | event | version | alias | who | why | gates |",
                "| --- | --- | --- | --- | --- | --- | --- |",
            ]
            for e in events:
                gates = ", ".join(
                    f"{g.get('gate')} {'ok' if g.get('ok') else 'failed'}"
                    for g in e.get("gates") or []
                )
                reason = str(e.get("reason") or "").replace("|", "\\|")
                lines.append(
                    f"| {e.get('time')} | {e.get('type')} | {e.get('version')} | "
                    f"{e.get('alias') or ''} | "
                    f"{e.get('user')} | {reason} | {gates} |"
                )
            lines += [""]
    lines += ["## Parameters", "", *table_lines(rec.get("params") or {})]
    lines += ["## Metrics", "", *table_lines(rec.get("metrics") or {})]
    if meta.get("params"):
        lines += ["## Hyperparameters of the model", "", *table_lines(meta["params"])]
    lines += ["## Lineage", "", "Data files the commit read:", ""]
    data = rec.get("data") or {}
    if data:
        lines += ["| path | hash | size |", "| --- | --- | --- |"]
        lines += [f"| {p} | `{d.get('hash')}` | {d.get('size')} |" for p, d in sorted(data.items())]
    else:
        lines += ["(none recorded)"]
    lines += ["", "Source files recorded with the commit:", ""]
    lines += [f"- `{s}`" for s in rec.get("sources") or []] or ["(none)"]
    parents = rec.get("parents") or []
    lines += ["", f"Parent commits: {', '.join(f'`{p}`' for p in parents) or '(none)'}", ""]
    env = rec.get("env") or {}
    py = env.get("python") or {}
    plat = env.get("platform") or {}
    lines += [
        "## Environment",
        "",
        f"- Python {py.get('version', '?')} ({py.get('implementation', '?')}) on "
        f"{plat.get('system', '?')} {plat.get('machine', '')}",
        "- requirements (the ONNX Runtime the check ran with):"
        if fmt == "onnx"
        else "- requirements (pinned from the commit's environment):",
        "",
    ]
    lines += [f"      {r}" for r in reqs] + [""]
    hw = rec.get("hardware") or {}
    cpu = hw.get("cpu") or {}
    gpus = hw.get("gpus") or []
    mem = (hw.get("memory") or {}).get("total_bytes")
    lines += [
        "## Hardware it was trained on",
        "",
        f"- CPU: {cpu.get('model', '?')} ({cpu.get('logical_cores', '?')} logical cores)",
        f"- memory: {serializers_pkg.human_size(int(mem)) if mem else '?'}",
        f"- GPUs: {', '.join(str(g.get('name', g)) for g in gpus) if gpus else 'none'}",
        "",
        "## Checks",
        "",
        "```json",
        json.dumps(checks, indent=1, sort_keys=True),
        "```",
        "",
    ]
    return "\n".join(lines)
