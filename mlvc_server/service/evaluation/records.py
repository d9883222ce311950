"""Evaluations kept in the store: one immutable commit per evaluation.

An evaluation is a commit whose parents are the two versions it compared and whose tree
holds one record, ``mlvc.json``, of kind ``"evaluation"`` (the report under
``evaluation``). Its ref is ``refs/mlvc/evaluations/<notebook key>/<commit id>``: it
never moves, so push and pull carry it like a tag, gc keeps it, and ``log`` lists it in
time order with its kind.
"""

from __future__ import annotations

import time
from typing import Any

from ...store import Store
from ...store.refs import EVALUATIONS, evaluation_ref, notebook_from_key, notebook_key
from ..commits import author_identity
from ..format import RECORD, RECORD_VERSION, dumps, iso, json_value, make_summary, read_record
from ..history import cache_summary

KIND = "evaluation"


def save(store: Store, report: dict[str, Any], nb: str | None, message: str) -> str:
    """Write ``report`` as an evaluation commit of ``nb`` linked to both versions;
    return its id (also put in ``report["id"]``)."""
    name, email = author_identity(None)
    now = time.time()
    a, b = report["a"]["commit"], report["b"]["commit"]
    record: dict[str, Any] = {
        "mlvc_record": RECORD_VERSION,
        "kind": KIND,
        "message": message,
        "author": name,
        "email": email,
        "time": iso(now),
        "notebook": nb,
        "branch": None,
        "status": "ok",
        "params": json_value(report.get("settings", {})),
        "metrics": json_value(report.get("headline", {})),
        "variables": {},
        "evaluation": json_value(report),
        "timestamp": now,  # orders evaluations made within one second
    }
    tree = store.write_tree({RECORD: store.add_bytes(dumps(record))})
    parents = [a] if a == b else [a, b]
    cid = store.write_commit(tree, parents, message, f"{name} <{email}>", when=now, tz_offset=0)
    store.cas_ref(evaluation_ref(nb, cid), None, cid, message=f"mlvc evaluation: {message}")
    cache_summary(store, make_summary(cid, record, parents, int(now)))  # type: ignore[arg-type]
    report["id"] = cid
    return cid


def heads(store: Store, nb: str | None, all_notebooks: bool) -> list[str]:
    """The evaluation commits of a notebook (or of every notebook)."""
    prefix = EVALUATIONS if all_notebooks else f"{EVALUATIONS}{notebook_key(nb)}/"
    return list(store.refs_under(prefix.encode()).values())


def entry(store: Store, cid: str) -> dict[str, Any]:
    """One line of :func:`listing`: what was compared, how, and the verdict."""
    rec: dict[str, Any] = dict(read_record(store, cid))
    ev = rec.get("evaluation", {})
    return {
        "id": cid,
        "short_id": cid[:8],
        "type": ev.get("type", "evaluate"),
        "time": rec.get("time", ""),
        "timestamp": float(rec.get("timestamp", 0.0)),
        "author": rec.get("author", ""),
        "notebook": rec.get("notebook"),
        "message": rec.get("message", ""),
        "a": ev.get("a", {}),
        "b": ev.get("b", {}),
        "verdict": ev.get("verdict", {}),
        "data": ev.get("data"),
    }


def listing(store: Store, nb: str | None, all_notebooks: bool) -> list[dict[str, Any]]:
    """Every stored evaluation, newest first."""
    out = [entry(store, cid) for cid in heads(store, nb, all_notebooks)]
    out.sort(key=lambda e: (e["timestamp"], e["time"], e["id"]), reverse=True)
    return out


def report_of(store: Store, cid: str) -> dict[str, Any]:
    """The full stored report of an evaluation commit."""
    rec: dict[str, Any] = dict(read_record(store, cid))
    report: dict[str, Any] = dict(rec.get("evaluation", {}))
    report["id"] = cid
    return report


def notebook_of_ref(ref: bytes) -> str | None:
    """The notebook an evaluation ref belongs to."""
    key = ref.decode()[len(EVALUATIONS) :].rsplit("/", 1)[0]
    return notebook_from_key(key)
