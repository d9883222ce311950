"""The kernel's side of :mod:`mlvc_server.calls`: what the server and ``mlvc run`` ask.

:func:`run` takes a request (JSON) and keeps its envelope for :func:`last_result`,
which the execute request's ``user_expressions`` read. It never raises. Every operation
goes through the kernel's one :class:`~mlvc_server.kernel.session.KernelSession`:

``setup``
    what ``%load_ext mlvc_server`` does (the ``%mlvc`` magics, data lineage), with save
    requests to the frontend turned off: ``mlvc run`` sends it before the first cell.
    ``branch`` (optional): every commit of this kernel that names no branch goes to it
    (the run's branch), without moving the notebook's current branch.
``commit``
    ``message``, ``names`` (None: every user variable), ``no_vars``, ``params``,
    ``metrics``, ``branch`` (None: the current branch);
    for a headless run also ``content`` (a file holding the executed
    notebook), ``status`` and ``extra`` -> ``id``, ``branch``, ``variables``, ``skipped``.
``safety``
    ``message``, ``variables``, ``notebook_changes`` -> ``id`` (None when nothing
    would be lost).
``restore``
    ``rev``, ``names`` (None: all), ``trust`` -> ``commit``, ``restored``, ``failed``
    (name -> ``{"error", "message"}``).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from .. import calls
from ..errors import MlvcError
from . import dirty
from .session import KernelSession, find_root, session_for

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
    """The kernel's session as the server's requests see it: the project the server
    named, and no save or reload requests to the frontend (the frontend saves before
    it calls the server, and the server writes notebooks through the contents API)."""

    def __init__(self, base: KernelSession, start: Path) -> None:
        super().__init__(base.shell)
        self.no_frontend = True
        self.has_frontend = False
        self.start = start
        # one memory of restores for the kernel, whichever front end restored
        self.restored_from = base.restored_from

    def repo(self, nb_file: Path | None) -> Path:
        """The store found from the server's folder upward, else that folder."""
        return find_root(self.start) or self.start


def run(request_json: str) -> None:
    """Do what the request asks; the envelope is kept for :func:`last_result`.

    Args:
        request_json: The request, a JSON object (see :mod:`mlvc_server.calls`).
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
        _last = calls.success(_dispatch(request))
    except Exception as exc:  # reported to the caller, never raised into the kernel
        _last = calls.failure(exc)


def last_result() -> Result:
    """The envelope of the last :func:`run`, for the execute request's user expression."""
    return Result(_last)


def _shell() -> Any:
    from IPython import get_ipython

    shell = get_ipython()
    if shell is None:
        raise MlvcError("not running in an IPython kernel")
    return shell


def _dispatch(request: dict[str, Any]) -> dict[str, Any]:
    from .. import service

    op = request.get("op")
    if op == "setup":
        return _setup(request.get("branch"))
    shell = _shell()
    tracker = dirty.tracker_for(shell)
    if tracker is not None:
        tracker.mlvc_request()
    base = session_for(shell)
    notebook = str(request["notebook"])
    if request.get("headless"):
        session: KernelSession = base
        base.no_frontend = True
    else:
        session = ServerSession(base, Path(request["repo"]))
    with service.commit_defaults(
        author=request.get("author"),
        max_variable_bytes=request.get("max_variable_bytes"),
        max_serialize_seconds=request.get("max_serialize_seconds"),
    ):
        if op == "commit":
            return _commit(session, notebook, request)
        if op == "safety":
            cid = session.safety_commit(
                str(request.get("message") or "Before checkout"),
                bool(request.get("variables")),
                bool(request.get("notebook_changes")),
                notebook=notebook,
                save=False,
            )
            return {"id": cid}
        if op == "restore":
            done = session.restore(
                str(request["rev"]),
                request.get("names"),
                trust=bool(request.get("trust")),
                notebook=notebook,
                safety=bool(request.get("safety")),
            )
            return {
                "commit": done.record["id"],
                "restored": done.restored,
                "failed": {
                    k: {"error": type(v).__name__, "message": str(v)}
                    for k, v in done.failed.items()
                },
                "safety_commit": done.safety_commit,
            }
    raise MlvcError(f"unknown operation {op!r}")


def _setup(branch: str | None = None) -> dict[str, Any]:
    """What ``%load_ext mlvc_server`` does, with save requests to the frontend turned off;
    with ``branch``, the session's commits go to that branch (``mlvc run --branch``).

    The extension is not marked as loaded in IPython, so a ``%load_ext mlvc_server``
    cell of the notebook runs as usual (and finds it loaded: it does nothing).
    """
    from .. import kernel

    shell = _shell()
    kernel.load_ipython_extension(shell)
    dirty.install(shell, now=True)  # before the first cell: no cell holds the old namespace
    session = session_for(shell)
    session.no_frontend = True
    session.run_branch = str(branch) if branch else None
    return {}


def _commit(session: KernelSession, notebook: str, request: dict[str, Any]) -> dict[str, Any]:
    content = request.get("content")
    rec = session.commit(
        str(request.get("message", "")),
        names=request.get("names"),
        no_vars=bool(request.get("no_vars")),
        params=request.get("params"),
        metrics=request.get("metrics"),
        notebook=notebook,
        save=False,
        notebook_content=Path(content).read_bytes() if content else None,
        status=str(request.get("status", "ok")),
        extra=request.get("extra"),
        metric_names=request.get("metric_names"),
        branch=request.get("branch"),
    )
    return {
        "id": rec["id"],
        "branch": rec.get("branch"),
        "variables": sorted(rec.get("variables", {})),
        "skipped": dict(rec.get("skipped", {})),
    }
