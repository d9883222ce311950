"""The kernel's entry point for the REST API: what the server asks a notebook's kernel.

The server (``mlvc_server/handlers/kernels.py``) sends a silent execute request::

    __import__('mlvc_server.kernel.remote', fromlist=['run']).run('<request as JSON>')

with ``user_expressions={"mlvc": "...remote...last_result()"}``, and reads the result
from the reply. :func:`run` never raises: every outcome, errors included, is a JSON object
``{"ok": true, "result": {...}}`` or ``{"ok": false, "error": CLASS, "message": TEXT}``
where ``CLASS`` names an :mod:`mlvc_server.errors` class (or ``Expired``, or another
exception's class).

Every request carries the notebook's absolute path (``notebook``), the folder the store
is looked for from (``repo``), the commit author (the Jupyter user), the server's
``max_variable_bytes`` and a ``deadline`` (epoch seconds): a request the kernel only gets
to after its deadline (it was queued behind a long cell and the server has answered
"kernel busy") does nothing. The operations use :class:`KernelSession`, the code of the
``%mlvc`` magics, with ``save=False`` (the frontend saves before it calls the server):

``commit``
    ``message``, ``names`` (None: every user variable), ``no_vars``, ``params``,
    ``metrics`` -> ``id``, ``branch``, ``variables`` (names), ``skipped``.
``restore``
    ``rev``, ``names`` (None: all), ``trust`` -> ``commit``, ``restored``, ``failed``
    (name -> ``{"error", "message"}``).
``checkout``
    ``rev`` (a commit id), ``variables`` (restore them), ``notebook_changes`` (the server
    will overwrite the notebook), ``safety`` (commit unsaved state first), ``trust`` ->
    ``safety_commit``, ``restored``, ``failed``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from ..errors import MlvcError, VariableNotFoundError
from .session import KernelSession, find_root

__all__ = ["last_result", "run"]

_last: dict[str, Any] = {"ok": False, "error": "NoRequest", "message": "nothing ran yet"}


class Result:
    """The last result, shown to ``user_expressions`` as ``application/json``."""

    def __init__(self, value: dict[str, Any]) -> None:
        self.value = value

    def _repr_json_(self) -> dict[str, Any]:
        return self.value

    def __repr__(self) -> str:
        return json.dumps(self.value)


class ServerSession(KernelSession):
    """A :class:`KernelSession` that works in the project the server named.

    It never asks the frontend to save or reload the notebook: the frontend saves
    before calling the server, and the server writes checked-out notebooks through the
    contents API.
    """

    def __init__(self, shell: Any, start: Path) -> None:
        super().__init__(shell)
        self.no_frontend = True
        self.start = start

    def repo(self, nb_file: Path | None) -> Path:
        """The store found from the server's folder upward, else that folder."""
        return find_root(self.start) or self.start


def run(request_json: str) -> None:
    """Do what the server asks; the result is kept for :func:`last_result`.

    Args:
        request_json: The request, a JSON object (see the module's docstring).
    """
    global _last
    try:
        request = json.loads(request_json)
        deadline = request.get("deadline")
        if isinstance(deadline, int | float) and time.time() > deadline:
            _last = {
                "ok": False,
                "error": "Expired",
                "message": "the server stopped waiting for this request",
            }
            return
        _last = {"ok": True, "result": _dispatch(request)}
    except MlvcError as exc:
        _last = {"ok": False, "error": type(exc).__name__, "message": str(exc)}
    except Exception as exc:  # reported to the server, never raised into the kernel
        _last = {"ok": False, "error": type(exc).__name__, "message": str(exc)}


def last_result() -> Result:
    """The result of the last :func:`run`, for the execute request's user expression."""
    return Result(_last)


def _dispatch(request: dict[str, Any]) -> dict[str, Any]:
    from IPython import get_ipython

    from .. import service

    shell = get_ipython()
    if shell is None:
        raise MlvcError("not running in an IPython kernel")
    session = ServerSession(shell, Path(request["repo"]))
    notebook = str(request["notebook"])
    op = request.get("op")
    with service.commit_defaults(
        author=request.get("author"),
        max_variable_bytes=request.get("max_variable_bytes"),
        max_serialize_seconds=request.get("max_serialize_seconds"),
    ):
        if op == "commit":
            return _commit(session, notebook, request)
        if op == "restore":
            return _restore(session, notebook, request["rev"], request.get("names"), request)
        if op == "checkout":
            return _checkout(session, notebook, request)
    raise MlvcError(f"unknown operation {op!r}")


def _commit(session: ServerSession, notebook: str, request: dict[str, Any]) -> dict[str, Any]:
    rec = session.commit(
        str(request.get("message", "")),
        names=request.get("names"),
        no_vars=bool(request.get("no_vars")),
        params=request.get("params"),
        metrics=request.get("metrics"),
        notebook=notebook,
        save=False,
    )
    return {
        "id": rec["id"],
        "branch": rec.get("branch"),
        "variables": sorted(rec.get("variables", {})),
        "skipped": dict(rec.get("skipped", {})),
    }


def _restore(
    session: ServerSession,
    notebook: str,
    rev: str,
    names: list[str] | None,
    request: dict[str, Any],
) -> dict[str, Any]:
    """Restore variables into the user namespace, keeping each failure's error class."""
    from .. import service
    from .lineage import lineage

    _, nb_file = session.notebook(notebook)
    root = session.repo(nb_file)
    rec = service.show(rev, root, nb_file)
    stored: dict[str, Any] = rec.get("variables", {})
    wanted = list(stored) if names is None else list(names)
    if names and not any(n in stored for n in names):
        skipped = rec.get("skipped", {})
        why = "; ".join(f"{n}: {skipped[n]}" for n in names if n in skipped)
        raise VariableNotFoundError(
            f"commit {rec['id'][:8]} holds none of {', '.join(names)}"
            + (f" (skipped when committed: {why})" if why else "")
        )
    restored: list[str] = []
    failed: dict[str, dict[str, str]] = {}
    with lineage.paused():
        for name in wanted:
            try:
                value = service.load(
                    rec["id"], name, root, nb_file, trust=bool(request.get("trust"))
                )
            except MlvcError as exc:
                failed[name] = {"error": type(exc).__name__, "message": str(exc)}
            else:
                session.shell.user_ns[name] = value
                restored.append(name)
    return {"commit": rec["id"], "restored": restored, "failed": failed}


def _checkout(session: ServerSession, notebook: str, request: dict[str, Any]) -> dict[str, Any]:
    """The kernel's half of a checkout: the safety commit, then the variables."""
    variables = bool(request.get("variables"))
    safety = None
    if request.get("safety"):
        st = session.status(notebook, save=False)
        if st is not None and st["head"] is not None:
            vars_changed = variables and any(v != "unchanged" for v in st["variables"].values())
            nb_changed = bool(request.get("notebook_changes")) and bool(
                st.get("notebook") and st["notebook"].get("changed")
            )
            if vars_changed or nb_changed:
                rev = str(request.get("label") or request["rev"])
                safety = session.commit(
                    f"mlvc: safety commit before checkout of {rev}",
                    notebook=notebook,
                    save=False,
                )["id"]
    out: dict[str, Any] = {"safety_commit": safety, "restored": [], "failed": {}}
    if variables:
        res = _restore(session, notebook, str(request["rev"]), None, request)
        out["restored"], out["failed"] = res["restored"], res["failed"]
    return out
