"""The kernel's half of ``mlvc run`` (see :mod:`mlvc_server.run`).

The runner sends two silent execute requests to the kernel it started for the notebook:

``setup()``, before the first cell
    loads the extension as ``%load_ext mlvc_server`` does (the ``%mlvc`` magics, and the
    data-lineage audit hook, so the files the cells read are recorded), and tells the
    magics that no frontend will answer save requests: a ``%mlvc commit`` cell of a
    headless run commits the notebook as saved on disk without waiting.
``commit(request_json)``, after the last cell (or the one that failed)
    commits what ``%mlvc commit`` commits (the user's variables, the data files read and
    tracked, params and metrics logged with :func:`mlvc_server.log_metrics`, the
    environment) with the executed notebook (outputs included) that the runner wrote to
    a file, the run's status and, for a failed run, its error.

The result of ``commit`` is read through ``user_expressions`` with :func:`last_result`:
``{"ok": true, "id": COMMIT}`` or ``{"ok": false, "error": CLASS, "message": TEXT}``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..errors import MlvcError
from .remote import Result
from .session import KernelSession

__all__ = ["commit", "last_result", "setup"]

_last: dict[str, Any] = {"ok": False, "error": "NoRequest", "message": "nothing ran yet"}


def _shell() -> Any:
    from IPython import get_ipython

    shell = get_ipython()
    if shell is None:
        raise MlvcError("not running in an IPython kernel")
    return shell


def setup() -> None:
    """What ``%load_ext mlvc_server`` does, with save requests to the frontend turned off.

    The extension is not marked as loaded in IPython, so a ``%load_ext mlvc_server``
    cell of the notebook runs as usual (and finds it loaded: it does nothing).
    """
    from .. import kernel

    kernel.load_ipython_extension(_shell())
    magics = getattr(kernel, "_magics", None)
    if magics is not None:
        magics.session.no_frontend = True


def commit(request_json: str) -> None:
    """Commit the kernel's state with the executed notebook; see :func:`last_result`.

    Args:
        request_json: a JSON object with ``notebook`` (absolute path: the history the
            commit joins), ``content`` (a file holding the executed notebook),
            ``message``, ``params``, ``status`` (``"ok"`` or ``"failed"``) and ``extra``
            (more record fields: ``run``, and ``error`` for a failed run).
    """
    global _last
    try:
        request = json.loads(request_json)
        _last = {"ok": True, "id": _commit(request)}
    except Exception as exc:  # reported to the runner, never raised into the kernel
        _last = {"ok": False, "error": type(exc).__name__, "message": str(exc)}


def _commit(request: dict[str, Any]) -> str:
    from .. import service
    from .lineage import lineage

    session = KernelSession(_shell())
    session.no_frontend = True
    _, nb_file = session.notebook(str(request["notebook"]))
    root = session.repo(nb_file)
    nb_rel = session.rel_notebook(root, nb_file)
    selected, skipped = session.variables(None)
    data, _ = session.data(root, nb_rel, nb_file)
    with lineage.paused():
        cid = service.commit(
            str(request.get("message", "")),
            variables=selected,
            notebook=nb_file,
            params=request.get("params"),
            data=data,
            repo=root,
            skipped=skipped,
            kernel=session._kernel_facts(),
            notebook_content=Path(request["content"]).read_bytes(),
            status=str(request.get("status", "ok")),
            extra=request.get("extra"),
        )
    lineage.set_root(root)
    return cid


def last_result() -> Result:
    """The result of the last :func:`commit`, for the execute request's user expression."""
    return Result(_last)
