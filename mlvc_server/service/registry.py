"""The model registry: named models, numbered versions, aliases, promotion gates.

A model is one ref, ``refs/mlvc/registry/<name>``, pointing at its newest **event
commit**. Each event commit's tree holds ``model.json``: the model's whole state after
the event (versions, aliases, gates, approvals) plus the event itself (who, when, why,
the gate results). Its parents are the previous event (if any) and, for a ``register``
event, the experiment commit registered, so gc keeps that commit and push, pull and
clone carry it. Plain git reads it::

    git --git-dir .mlvc show refs/mlvc/registry/churn:model.json

The ref moves only by compare-and-swap: a writer that loses a race re-reads the state,
re-checks the gates and tries again (a few times, then :class:`RegistryConflictError`),
so concurrent promotions serialize and no update is lost.

Gates (per alias, set with :func:`set_gates`), all checked on :func:`promote`:

- ``metrics``: a query (the grammar of :mod:`.query`) over the version's commit summary,
  e.g. ``metrics.auc >= 0.8``;
- ``evaluated``: when the alias has a holder, a stored evaluation of the holder (A)
  against the candidate (B) must exist (``mlvc evaluate``) and must not find the holder
  better (``verdict.better != "a"``); an evaluation the other way round counts too;
- ``approvals``: at least N distinct users other than the promoter approved the version
  for that alias (:func:`approve`).

:func:`rollback` moves an alias back to the holder it had before (the promotions of an
alias form a stack; a rollback pops it) and checks no gate: it is the way back.
"""

from __future__ import annotations

import copy
import os
import random
import re
import time
from collections.abc import Callable
from typing import Any

from ..errors import (
    GateFailedError,
    InvalidNameError,
    MlvcError,
    ModelNotFoundError,
    RefConflictError,
    RegistryConflictError,
    RegistryError,
)
from ..store import Store
from ..store.refs import REGISTRY, REGISTRY_FILE, registry_ref, validate_model_name
from ..store.revisions import resolve as resolve_rev
from .commits import author_identity
from .format import (
    GateResult,
    GateSettings,
    ModelInfo,
    ModelVersion,
    Promotion,
    RegistryEvent,
    dumps,
    iso,
    json_value,
    make_summary,
    read_manifest,
    read_record,
    validate_var_name,
)
from .query import compile_query
from .variables import load_variable
from .workspace import open_store, rel_notebook

__all__ = [
    "MODEL_FILE",
    "approve",
    "check_gates",
    "history",
    "load_model",
    "model",
    "models",
    "promote",
    "register",
    "resolve",
    "rollback",
    "set_gates",
]

MODEL_FILE = REGISTRY_FILE
REGISTRY_VERSION = 1
#: Compare-and-swap attempts before a write gives up with RegistryConflictError.
MAX_ATTEMPTS = 12
#: An alias: starts with a letter (so it is never mistaken for a version number).
_ALIAS_RE = re.compile(r"^[A-Za-z][A-Za-z0-9._-]{0,99}$")
#: Names that ``NAME@...`` reads as something other than an alias.
RESERVED_ALIASES = frozenset({"latest"})
EVENT_TYPES = ("register", "promote", "rollback", "approve", "gates", "unalias")

Repo = str | os.PathLike[str]
State = dict[str, Any]


# -- names and input --------------------------------------------------------------------
def validate_alias(alias: str) -> str:
    """Check an alias name; return it or raise :class:`InvalidNameError`."""
    if not isinstance(alias, str) or not _ALIAS_RE.match(alias) or alias.endswith((".lock", ".")):
        raise InvalidNameError(
            f"invalid alias {alias!r}: use 1-100 letters, digits, '.', '_' or '-', "
            "starting with a letter"
        )
    if alias in RESERVED_ALIASES:
        raise InvalidNameError(f"{alias!r} is reserved (NAME@{alias} names the newest version)")
    return alias


def _version_number(version: int | str) -> int:
    if isinstance(version, bool):
        raise RegistryError(f"version {version!r} is not a version number")
    if isinstance(version, int):
        n = version
    elif isinstance(version, str) and version.strip().isdigit() and len(version.strip()) < 10:
        n = int(version.strip())
    else:
        raise RegistryError(f"version {version!r} is not a version number (1, 2, ...)")
    if n < 1:
        raise RegistryError(f"version {n} is not a version number (they start at 1)")
    return n


def _reason(reason: str | None, what: str) -> str:
    if not isinstance(reason, str) or not reason.strip():
        raise RegistryError(f"a {what} needs a reason (--reason): it is recorded in the history")
    return reason.strip()


def _user(user: str | None) -> tuple[str, str]:
    return author_identity(user)


def parse_spec(spec: str) -> tuple[str, str | None]:
    """``NAME`` -> (NAME, None); ``NAME@3`` / ``NAME@production`` / ``NAME@latest`` ->
    (NAME, what follows the ``@``)."""
    if not isinstance(spec, str) or not spec.strip():
        raise InvalidNameError("a model is named NAME, NAME@VERSION or NAME@ALIAS")
    name, sep, at = spec.strip().partition("@")
    validate_model_name(name)
    if sep and not at:
        raise InvalidNameError(f"{spec!r}: nothing after '@' (use NAME@3 or NAME@production)")
    return name, (at if sep else None)


# -- reading the state --------------------------------------------------------------------
def _empty(name: str) -> State:
    return {
        "mlvc_registry": REGISTRY_VERSION,
        "name": name,
        "versions": {},
        "aliases": {},
        "gates": {},
        "approvals": {},
        "holders": {},
        "event": {},
    }


def read_event_commit(store: Store, cid: str) -> State | None:
    """The ``model.json`` of an event commit, or None when ``cid`` is not one."""
    found = store.tree_lookup(store.commit_obj(cid).tree.decode(), MODEL_FILE)
    if found is None:
        return None
    state: State = store.read_json(found[1])
    if not isinstance(state, dict) or "versions" not in state:
        return None
    for key in ("aliases", "gates", "approvals", "holders"):
        state.setdefault(key, {})
    return state


def _head(store: Store, name: str) -> tuple[str | None, State]:
    head = store.ref(registry_ref(name))
    if head is None:
        return None, _empty(name)
    state = read_event_commit(store, head)
    if state is None:
        raise RegistryError(f"refs/mlvc/registry/{name} points at {head[:8]}, not a registry event")
    return head, state


def _state(store: Store, name: str) -> tuple[str, State]:
    head, state = _head(store, name)
    if head is None:
        known = ", ".join(sorted(_names(store))[:10]) or "none yet"
        raise ModelNotFoundError(f"no registered model {name!r} (models: {known})")
    return head, state


def _names(store: Store) -> list[str]:
    prefix = REGISTRY.encode()
    return [ref[len(prefix) :].decode() for ref in store.refs_under(prefix)]


def _entry(state: State, version: int) -> dict[str, Any]:
    entry = state["versions"].get(str(version))
    if entry is None:
        have = sorted(int(v) for v in state["versions"])
        raise ModelNotFoundError(
            f"model {state['name']!r} has no version {version}"
            + (f" (versions {have[0]}-{have[-1]})" if have else " (no versions yet)")
        )
    out: dict[str, Any] = entry
    return out


def _latest(state: State) -> int:
    return max((int(v) for v in state["versions"]), default=0)


def _model_version(state: State, entry: dict[str, Any]) -> ModelVersion:
    v = int(entry["version"])
    return {
        "name": state["name"],
        "version": v,
        "commit": entry["commit"],
        "short_id": entry["commit"][:8],
        "variable": entry["variable"],
        "notebook": entry.get("notebook"),
        "branch": entry.get("branch"),
        "registered_by": entry.get("registered_by", ""),
        "time": entry.get("time", ""),
        "message": entry.get("message", ""),
        "params": entry.get("params", {}),
        "metrics": entry.get("metrics", {}),
        "kind": entry.get("kind", ""),
        "aliases": sorted(a for a, held in state["aliases"].items() if held == v),
    }


def _gate_settings(raw: dict[str, Any]) -> GateSettings:
    return {
        "metrics": raw.get("metrics") or None,
        "evaluated": bool(raw.get("evaluated", False)),
        "approvals": int(raw.get("approvals", 0)),
    }


def _info(state: State) -> ModelInfo:
    versions = sorted(state["versions"].values(), key=lambda e: -int(e["version"]))
    return {
        "name": state["name"],
        "versions": [_model_version(state, e) for e in versions],
        "aliases": {a: int(v) for a, v in sorted(state["aliases"].items())},
        "gates": {a: _gate_settings(g) for a, g in sorted(state["gates"].items())},
        "latest": _latest(state),
    }


def _event(cid: str, state: State) -> RegistryEvent:
    ev = state.get("event", {})
    return {
        "id": cid,
        "type": ev.get("type", ""),
        "user": ev.get("user", ""),
        "time": ev.get("time", ""),
        "version": ev.get("version"),
        "alias": ev.get("alias"),
        "previous": ev.get("previous"),
        "reason": ev.get("reason", ""),
        "gates": list(ev.get("gates", [])),
    }


def previous_event(store: Store, cid: str, state: State) -> str | None:
    """The event before ``cid`` (its first parent, unless ``cid`` is the first event:
    a first ``register`` has only the registered commit as parent)."""
    parents = [p.decode() for p in store.commit_obj(cid).parents]
    if state.get("event", {}).get("type") == "register":
        return parents[0] if len(parents) == 2 else None
    return parents[0] if parents else None


def event_chain(store: Store, head: str, stop: str | None = None) -> list[tuple[str, State]]:
    """The events from ``head`` back to the first (or to ``stop``, excluded), newest
    first, each with its state."""
    out: list[tuple[str, State]] = []
    cid: str | None = head
    while cid is not None and cid != stop:
        state = read_event_commit(store, cid)
        if state is None:
            break
        out.append((cid, state))
        cid = previous_event(store, cid, state)
    return out


# -- writing ------------------------------------------------------------------------------
Change = Callable[[State], str | None]


def _write(store: Store, name: str, head: str | None, state: State, extra: str | None) -> str:
    ev = state["event"]
    who = ev.get("user", "")
    email = ev.get("email", "")
    parents = ([head] if head else []) + ([extra] if extra else [])
    subject = f"{ev['type']} {name}"
    if ev.get("version") is not None:
        subject += f" v{ev['version']}"
    if ev.get("alias"):
        subject += f" @{ev['alias']}"
    if ev.get("reason"):
        subject += f": {ev['reason'].splitlines()[0][:200]}"
    tree = store.write_tree({MODEL_FILE: store.add_bytes(dumps(state))})
    return store.write_commit(
        tree, parents, subject, f"{who} <{email}>", when=time.time(), tz_offset=0
    )


def update(store: Store, name: str, change: Change, *, create: bool = False) -> tuple[str, State]:
    """Apply ``change`` to the model's newest state and move its ref by compare-and-swap.

    ``change`` edits the state it gets (a copy), sets ``state["event"]`` and returns the
    experiment commit to link as an extra parent (or None); it may raise to refuse
    (nothing is written then). On a lost race it runs again on the new state.

    Raises:
        ModelNotFoundError: no such model (unless ``create``).
        RegistryConflictError: the ref kept moving (:data:`MAX_ATTEMPTS` tries).
    """
    ref = registry_ref(name)
    for attempt in range(MAX_ATTEMPTS):
        head, state = _head(store, name) if create else _state(store, name)
        new = copy.deepcopy(state)
        new["event"] = {}
        extra = change(new)
        cid = _write(store, name, head, new, extra)
        try:
            store.cas_ref(ref, head, cid, message=f"mlvc registry: {new['event']['type']}")
        except RefConflictError:
            time.sleep(random.uniform(0.001, 0.01 * (attempt + 1)))
            continue
        return cid, new
    raise RegistryConflictError(
        f"model {name!r} kept changing while we wrote ({MAX_ATTEMPTS} tries): nothing "
        "changed; try again"
    )


def _stamp(state: State, kind: str, user: tuple[str, str], **fields: Any) -> None:
    state["event"] = {
        "type": kind,
        "user": user[0],
        "email": user[1],
        "time": iso(time.time()),
        "version": None,
        "alias": None,
        "previous": None,
        "reason": "",
        "gates": [],
        **fields,
    }


# -- gates --------------------------------------------------------------------------------
def _summary(store: Store, cid: str) -> dict[str, Any]:
    c = store.commit_obj(cid)
    return make_summary(
        cid, read_record(store, cid), [p.decode() for p in c.parents], c.commit_time
    )


def _metrics_gate(store: Store, entry: dict[str, Any], expr: str) -> GateResult:
    summary = _summary(store, entry["commit"])
    ok = bool(compile_query(expr)(summary))
    shown = ", ".join(f"{k}={v}" for k, v in sorted(summary["metrics"].items())[:8]) or "none"
    verb = "holds" if ok else "does not hold"
    return {"gate": "metrics", "ok": ok, "detail": f"{expr} {verb} (metrics: {shown})"}


def _evaluated_gate(store: Store, state: State, entry: dict[str, Any], alias: str) -> GateResult:
    from . import evaluation

    holder = state["aliases"].get(alias)
    v = int(entry["version"])
    if holder is None or int(holder) == v:
        return {"gate": "evaluated", "ok": True, "detail": "no current holder to compare with"}
    held = _entry(state, int(holder))
    a, b = held["commit"], entry["commit"]
    report = evaluation.latest(a, b, repo=store.root)
    holder_side = "a"
    if report is None:
        report = evaluation.latest(b, a, repo=store.root)
        holder_side = "b"
    if report is None:
        return {
            "gate": "evaluated",
            "ok": False,
            "detail": (
                f"no stored evaluation of version {holder} ({a[:8]}, holds {alias}) against "
                f"version {v} ({b[:8]}): run `mlvc evaluate {a[:8]} {b[:8]} --data ...`"
            ),
        }
    verdict = report.get("verdict", {})
    better = verdict.get("better")
    ok = better != holder_side
    said = verdict.get("text") or f"better: {better}"
    detail = f"evaluation {str(report.get('id', ''))[:8]} of version {holder} vs {v}: {said}" + (
        "" if ok else f" (the holder, version {holder}, is better)"
    )
    return {"gate": "evaluated", "ok": ok, "detail": detail}


def _approvals_gate(state: State, v: int, alias: str, need: int, promoter: str) -> GateResult:
    given = state["approvals"].get(alias, {}).get(str(v), [])
    users = sorted({a["user"] for a in given if a.get("user") and a["user"] != promoter})
    ok = len(users) >= need
    who = ", ".join(users) or "nobody"
    return {
        "gate": "approvals",
        "ok": ok,
        "detail": f"{len(users)} of {need} approval(s) from users other than {promoter} ({who})",
    }


def _gates(store: Store, state: State, v: int, alias: str, promoter: str) -> list[GateResult]:
    entry = _entry(state, v)
    settings = _gate_settings(state["gates"].get(alias, {}))
    out: list[GateResult] = []
    if settings["metrics"]:
        out.append(_metrics_gate(store, entry, settings["metrics"]))
    if settings["evaluated"]:
        out.append(_evaluated_gate(store, state, entry, alias))
    if settings["approvals"] > 0:
        out.append(_approvals_gate(state, v, alias, settings["approvals"], promoter))
    return out


# -- state transitions (shared by the operations and by replay) ---------------------------
def _apply_promote(
    store: Store, state: State, v: int, alias: str, who: tuple[str, str], text: str, **extra: Any
) -> None:
    name = state["name"]
    _entry(state, v)
    previous = state["aliases"].get(alias)
    if previous is not None and int(previous) == v:
        raise RegistryError(f"{name}@{alias} is version {v} already")
    results = _gates(store, state, v, alias, who[0])
    if not all(g["ok"] for g in results):
        raise _refusal(name, v, alias, results)
    state["aliases"][alias] = v
    stack = state["holders"].setdefault(alias, [])
    if previous is not None and (not stack or stack[-1] != previous):
        stack.append(previous)
    stack.append(v)
    _stamp(state, "promote", who, version=v, alias=alias, previous=previous, reason=text, **extra)
    state["event"]["gates"] = results


def _apply_rollback(
    state: State, alias: str, who: tuple[str, str], text: str, **extra: Any
) -> None:
    name = state["name"]
    current = state["aliases"].get(alias)
    if current is None:
        raise ModelNotFoundError(f"model {name!r} has no alias {alias!r} to roll back")
    stack = [int(x) for x in state["holders"].get(alias, [])]
    if not stack or stack[-1] != int(current):
        stack.append(int(current))
    stack.pop()
    while stack and str(stack[-1]) not in state["versions"]:
        stack.pop()
    if not stack:
        raise RegistryError(
            f"{name}@{alias} (version {current}) has no earlier holder to roll back to"
        )
    target = stack[-1]
    state["aliases"][alias] = target
    state["holders"][alias] = stack
    _stamp(
        state,
        "rollback",
        who,
        version=target,
        alias=alias,
        previous=int(current),
        reason=text,
        **extra,
    )


def _apply_approve(
    state: State, v: int, alias: str, who: tuple[str, str], comment: str, **extra: Any
) -> None:
    name = state["name"]
    _entry(state, v)
    given = state["approvals"].setdefault(alias, {}).setdefault(str(v), [])
    if any(a.get("user") == who[0] for a in given):
        raise RegistryError(f"{who[0]} approved {name} version {v} for {alias!r} already")
    stamp = extra.get("time") or iso(time.time())
    given.append({"user": who[0], "time": stamp, "comment": comment})
    _stamp(state, "approve", who, version=v, alias=alias, reason=comment, **extra)


# -- operations ---------------------------------------------------------------------------
def register(
    name: str,
    rev: str,
    variable: str,
    *,
    repo: Repo = ".",
    notebook: str | os.PathLike[str] | None = None,
    message: str = "",
    user: str | None = None,
) -> ModelVersion:
    """Register variable ``variable`` of commit ``rev`` as the next version of ``name``
    (versions are numbered 1, 2, ... per name; a new name starts a model).

    Raises:
        InvalidNameError: a bad model or variable name.
        RevisionNotFoundError: ``rev`` names no commit.
        VariableNotFoundError: the commit holds no such variable.
    """
    validate_model_name(name)
    validate_var_name(variable)
    if not isinstance(message, str):
        raise RegistryError("the message is text")
    store = open_store(repo)
    nb = rel_notebook(store, notebook)
    cid = resolve_rev(store, rev, nb)
    manifest = read_manifest(store, cid, variable)
    rec = read_record(store, cid)
    who = _user(user)
    entry: dict[str, Any] = {
        "commit": cid,
        "variable": variable,
        "notebook": rec.get("notebook") or nb,
        "branch": rec.get("branch"),
        "registered_by": who[0],
        "time": iso(time.time()),
        "message": message,
        "params": json_value(rec.get("params", {})),
        "metrics": json_value(rec.get("metrics", {})),
        "kind": str(manifest.get("format", "")),
    }

    def change(state: State) -> str:
        v = _latest(state) + 1
        state["versions"][str(v)] = {"version": v, **entry}
        _stamp(state, "register", who, version=v, reason=message)
        return cid

    _cid, state = update(store, name, change, create=True)
    return _model_version(state, state["versions"][str(state["event"]["version"])])


def models(*, repo: Repo = ".") -> list[ModelInfo]:
    """Every registered model, by name."""
    store = open_store(repo)
    return [_info(_state(store, n)[1]) for n in sorted(_names(store))]


def model(name: str, *, repo: Repo = ".") -> ModelInfo:
    """One model: versions (newest first), aliases, gates.

    Raises:
        ModelNotFoundError: no model of that name.
    """
    validate_model_name(name)
    return _info(_state(open_store(repo), name)[1])


def _resolve_in(state: State, at: str | None) -> dict[str, Any]:
    if at is None or at == "latest":
        latest = _latest(state)
        if latest == 0:
            raise ModelNotFoundError(f"model {state['name']!r} has no versions yet")
        return _entry(state, latest)
    if at.isdigit():
        return _entry(state, _version_number(at))
    held = state["aliases"].get(at)
    if held is None:
        known = ", ".join(sorted(state["aliases"])) or "none"
        raise ModelNotFoundError(f"model {state['name']!r} has no alias {at!r} (aliases: {known})")
    return _entry(state, int(held))


def resolve(spec: str, *, repo: Repo = ".") -> ModelVersion:
    """The version ``spec`` names: ``NAME`` (the newest), ``NAME@3``, ``NAME@latest`` or
    ``NAME@production`` (an alias).

    Raises:
        InvalidNameError: a malformed spec.
        ModelNotFoundError: no such model, version or alias.
    """
    name, at = parse_spec(spec)
    _head_id, state = _state(open_store(repo), name)
    return _model_version(state, _resolve_in(state, at))


def load_model(spec: str, *, repo: Repo = ".", trust: bool = False) -> Any:
    """The object ``spec`` names (see :func:`resolve`), loaded from its commit. Safe
    formats (skops, safetensors, numpy, JSON...) need no ``trust``; a pickle someone
    else wrote does (see :func:`mlvc_server.service.load`).

    Raises:
        ModelNotFoundError, TrustError, VariableNotFoundError, CorruptObjectError.
    """
    mv = resolve(spec, repo=repo)
    return load_variable(open_store(repo), mv["commit"], mv["variable"], trust)


def check_gates(
    name: str, version: int | str, alias: str, *, repo: Repo = ".", user: str | None = None
) -> list[GateResult]:
    """The result of every gate set on ``alias`` for ``version`` (promoted by ``user``);
    an empty list when the alias has no gates."""
    validate_model_name(name)
    validate_alias(alias)
    store = open_store(repo)
    _h, state = _state(store, name)
    return _gates(store, state, _version_number(version), alias, _user(user)[0])


def _refusal(name: str, v: int, alias: str, results: list[GateResult]) -> GateFailedError:
    failed = [g for g in results if not g["ok"]]
    said = "; ".join(f"{g['gate']} gate failed: {g['detail']}" for g in failed)
    return GateFailedError(
        f"promotion of {name} version {v} to {alias!r} refused ({said}); nothing changed",
        [dict(g) for g in results],
    )


def promote(
    name: str,
    version: int | str,
    alias: str,
    *,
    reason: str,
    repo: Repo = ".",
    user: str | None = None,
    dry_run: bool = False,
) -> Promotion:
    """Point ``alias`` at ``version`` once every gate of the alias passes (checked again
    if another writer moved the model meanwhile). With ``dry_run``, only report the
    gates (``promoted`` False; a failed gate does not raise).

    Raises:
        GateFailedError: a gate failed (``.gates`` holds all results); nothing changed.
        ModelNotFoundError: no such model or version.
        RegistryError: no reason, or the alias holds that version already.
    """
    validate_model_name(name)
    validate_alias(alias)
    text = _reason(reason, "promotion")
    v = _version_number(version)
    who = _user(user)
    store = open_store(repo)
    if dry_run:
        _h, state = _state(store, name)
        results = _gates(store, state, v, alias, who[0])
        return {
            "name": name,
            "alias": alias,
            "version": v,
            "previous": state["aliases"].get(alias),
            "promoted": False,
            "gates": results,
            "event": None,
        }

    def change(state: State) -> None:
        _apply_promote(store, state, v, alias, who, text)

    cid, state = update(store, name, change)
    ev = _event(cid, state)
    return {
        "name": name,
        "alias": alias,
        "version": v,
        "previous": ev["previous"],
        "promoted": True,
        "gates": ev["gates"],
        "event": ev,
    }


def rollback(
    name: str, alias: str, *, reason: str, repo: Repo = ".", user: str | None = None
) -> Promotion:
    """Move ``alias`` back to the version it held before its last promotion (no gate is
    checked: it is the way back). Rolling back twice goes two promotions back.

    Raises:
        RegistryError: no reason, or the alias had no earlier holder.
        ModelNotFoundError: no such model or alias.
    """
    validate_model_name(name)
    validate_alias(alias)
    text = _reason(reason, "rollback")
    who = _user(user)
    store = open_store(repo)

    def change(state: State) -> None:
        _apply_rollback(state, alias, who, text)

    cid, state = update(store, name, change)
    ev = _event(cid, state)
    return {
        "name": name,
        "alias": alias,
        "version": int(state["aliases"][alias]),
        "previous": ev["previous"],
        "promoted": True,
        "gates": [],
        "event": ev,
    }


def approve(
    name: str,
    version: int | str,
    alias: str,
    *,
    repo: Repo = ".",
    user: str | None = None,
    comment: str = "",
) -> RegistryEvent:
    """Record ``user``'s approval of ``version`` for ``alias`` (the approvals gate counts
    distinct users other than the promoter).

    Raises:
        RegistryError: this user approved it already.
        ModelNotFoundError: no such model or version.
    """
    validate_model_name(name)
    validate_alias(alias)
    v = _version_number(version)
    who = _user(user)
    if not isinstance(comment, str):
        raise RegistryError("the comment is text")

    def change(state: State) -> None:
        _apply_approve(state, v, alias, who, comment)

    cid, state = update(open_store(repo), name, change)
    return _event(cid, state)


def _describe(settings: GateSettings) -> str:
    parts = []
    if settings["metrics"]:
        parts.append(f"metrics: {settings['metrics']}")
    if settings["evaluated"]:
        parts.append("evaluated against the holder")
    if settings["approvals"]:
        parts.append(f"{settings['approvals']} approval(s)")
    return ", ".join(parts) or "no gates"


def set_gates(
    name: str,
    alias: str,
    *,
    metrics: str | None = None,
    evaluated: bool = False,
    approvals: int = 0,
    repo: Repo = ".",
    user: str | None = None,
) -> ModelInfo:
    """Set the gates a promotion to ``alias`` must pass (replacing the alias's gates;
    all off removes them).

    Raises:
        QueryError: ``metrics`` is not a valid query.
        RegistryError: ``approvals`` is not a whole number >= 0.
    """
    validate_model_name(name)
    validate_alias(alias)
    if metrics is not None and not isinstance(metrics, str):
        raise RegistryError("the metrics gate is a query (text), e.g. 'metrics.auc >= 0.8'")
    expr = metrics.strip() if metrics else None
    if expr:
        compile_query(expr)
    if isinstance(approvals, bool) or not isinstance(approvals, int) or not 0 <= approvals <= 100:
        raise RegistryError(f"approvals {approvals!r} must be a whole number from 0 to 100")
    settings: GateSettings = {"metrics": expr, "evaluated": bool(evaluated), "approvals": approvals}
    who = _user(user)

    def change(state: State) -> None:
        if expr or evaluated or approvals:
            state["gates"][alias] = dict(settings)
        else:
            state["gates"].pop(alias, None)
        _stamp(state, "gates", who, alias=alias, reason=_describe(settings))
        return None

    _cid, state = update(open_store(repo), name, change)
    return _info(state)


def history(name: str, *, repo: Repo = ".") -> list[RegistryEvent]:
    """Every recorded change of the model, newest first."""
    validate_model_name(name)
    store = open_store(repo)
    head, _state_now = _state(store, name)
    return [_event(cid, state) for cid, state in event_chain(store, head)]


# -- pull of a diverged model ---------------------------------------------------------------
def replay(store: Store, name: str, theirs: str) -> dict[str, Any]:
    """Put this store's registry events that ``theirs`` (the remote's head of model
    ``name``, fetched) lacks on top of it, and move the model's ref there: what a pull
    does when both sides changed the model.

    Each local-only event is applied again, in order, to the remote's state: a
    registered version gets the next free number there (``renumbered`` maps old to new,
    and later events of that version follow it); a promotion re-checks its gates on the
    merged state; a rollback pops the merged alias history; an approval already given
    there, or a promotion that no longer passes, is skipped (listed in ``skipped``).
    The events keep their user, time and reason and name the event they replay.

    Returns:
        ``replayed`` (count), ``skipped`` (messages), ``renumbered`` ({old: new}),
        ``head`` (the new event commit).

    Raises:
        RegistryConflictError: the model moved here while replaying (pull again).
    """
    ref = registry_ref(name)
    ours = store.ref(ref)
    if ours is None or ours == theirs:
        return {"replayed": 0, "skipped": [], "renumbered": {}, "head": theirs}
    remote_events = {cid for cid, _s in event_chain(store, theirs)}
    local_only = [(c, st) for c, st in event_chain(store, ours) if c not in remote_events]
    head = theirs
    state = read_event_commit(store, theirs)
    if state is None:
        raise RegistryError(f"the remote's refs/mlvc/registry/{name} is not a registry event")
    renumbered: dict[int, int] = {}
    skipped: list[str] = []
    replayed = 0
    for cid, old in reversed(local_only):
        ev = dict(old.get("event", {}))
        kind = ev.get("type")
        who = (str(ev.get("user", "")), str(ev.get("email", "")))
        keep: dict[str, Any] = {"time": ev.get("time", ""), "replayed": cid}
        new = copy.deepcopy(state)
        extra: str | None = None
        version = ev.get("version")
        v = renumbered.get(int(version), int(version)) if version is not None else None
        try:
            if kind == "register" and version is not None:
                entry = dict(old["versions"][str(version)])
                v = _latest(new) + 1
                if v != int(version):
                    renumbered[int(version)] = v
                entry["version"] = v
                new["versions"][str(v)] = entry
                _stamp(new, "register", who, version=v, reason=ev.get("reason", ""), **keep)
                extra = entry["commit"]
            elif kind == "promote" and v is not None:
                _apply_promote(store, new, v, ev["alias"], who, ev.get("reason", ""), **keep)
            elif kind == "rollback":
                _apply_rollback(new, ev["alias"], who, ev.get("reason", ""), **keep)
            elif kind == "approve" and v is not None:
                _apply_approve(new, v, ev["alias"], who, ev.get("reason", ""), **keep)
            elif kind == "gates":
                alias = ev["alias"]
                if alias in old.get("gates", {}):
                    new["gates"][alias] = copy.deepcopy(old["gates"][alias])
                else:
                    new["gates"].pop(alias, None)
                _stamp(new, "gates", who, alias=alias, reason=ev.get("reason", ""), **keep)
            else:
                skipped.append(f"{cid[:8]}: unknown event {kind!r}, not replayed")
                continue
        except MlvcError as e:
            skipped.append(f"{kind} {name} v{v} ({cid[:8]}, by {who[0]}): {e}")
            continue
        head = _write(store, name, head, new, extra)
        state = new
        replayed += 1
    try:
        store.cas_ref(ref, ours, head, message="mlvc registry: pull (replayed local events)")
    except RefConflictError:
        raise RegistryConflictError(
            f"model {name!r} changed here while the pull replayed it: nothing changed; pull again"
        ) from None
    return {
        "replayed": replayed,
        "skipped": skipped,
        "renumbered": {str(k): n for k, n in renumbered.items()},
        "head": head,
    }
