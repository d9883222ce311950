"""The one protocol by which a process outside the kernel asks it for an mlvc operation.

Only the kernel holds the variables, so the server (the sidebar's commit, restore and
checkout) and ``mlvc run`` ask the kernel with a silent execute request
(``silent=True, store_history=False``: no execution count, no history, no output, no
``post_run_cell`` hooks) whose code is :func:`request_code` and whose
``user_expressions`` carry :data:`RESULT_EXPRESSION`. The kernel side
(:func:`mlvc_server.kernel.remote.run`) never raises: it keeps an envelope,
``{"ok": true, "result": {...}}`` or ``{"ok": false, "error": CLASS, "message": TEXT}``,
which :func:`parse_reply` turns back into the result or the same mlvc error.

A request is a JSON object with ``op`` (``setup``, ``commit``, ``safety``,
``restore``), ``notebook`` (absolute path), ``repo`` (where the store is looked for),
and the operation's arguments; optionally ``author``, ``max_variable_bytes``,
``max_serialize_seconds``, ``metric_names`` (commit) and ``deadline`` (epoch seconds:
a request the kernel only gets to later does nothing and answers ``Expired``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

from .errors import KernelCallError, MlvcError, by_name

#: The kernel-side module that runs requests.
KERNEL_MODULE: Final = "mlvc_server.kernel.remote"
#: The expression whose value carries the result back (``user_expressions``).
RESULT_EXPRESSION: Final = f"__import__({KERNEL_MODULE!r}, fromlist=['last_result']).last_result()"
#: The name of that expression in ``user_expressions``.
RESULT_KEY: Final = "mlvc"


def request_code(request: Mapping[str, Any]) -> str:
    """The code of the execute request that runs ``request`` in the kernel.

    The JSON goes in as a Python string literal (``repr``), so nothing in it can be
    taken as code.
    """
    payload = json.dumps(dict(request), separators=(",", ":"))
    return f"__import__({KERNEL_MODULE!r}, fromlist=['run']).run({payload!r})"


def execute_options(request: Mapping[str, Any]) -> dict[str, Any]:
    """The keyword arguments of a client's ``execute`` for ``request``."""
    return {
        "code": request_code(request),
        "silent": True,
        "store_history": False,
        "user_expressions": {RESULT_KEY: RESULT_EXPRESSION},
        "allow_stdin": False,
        "stop_on_error": False,
    }


def success(result: Mapping[str, Any]) -> dict[str, Any]:
    """The envelope of an operation that succeeded."""
    return {"ok": True, "result": dict(result)}


def failure(exc: BaseException) -> dict[str, Any]:
    """The envelope of an operation that raised ``exc``."""
    return {"ok": False, "error": type(exc).__name__, "message": str(exc)}


def busy_message(timeout: float) -> str:
    """What to say when a kernel did not start a request within ``timeout`` seconds."""
    return (
        f"kernel busy: waited {timeout:g} s for the running cell to finish; "
        "nothing was done, try again when the cell has finished"
    )


def parse_reply(reply: Mapping[str, Any], timeout: float = 0.0) -> dict[str, Any]:
    """The operation's result from the kernel's ``execute_reply`` message.

    Args:
        reply: the ``execute_reply`` (with ``content``).
        timeout: the wait the request had (for the message of an expired request).

    Raises:
        KernelCallError: the kernel could not run mlvc (``KernelUnavailable``), gave an
            unreadable result (``KernelProtocol``), dropped an expired request
            (``KernelBusy``) or failed with an error that is not mlvc's
            (``KernelError``).
        MlvcError: the mlvc error the operation raised in the kernel (same class).
    """
    content = reply.get("content", {})
    if content.get("status") != "ok":
        ename, evalue = content.get("ename", "error"), content.get("evalue", "")
        if ename in ("ModuleNotFoundError", "ImportError"):
            message = (
                f"the kernel cannot run mlvc ({ename}: {evalue}); is jupyterlab-mlvc "
                "installed in the kernel's environment?"
            )
        elif content.get("status") == "aborted":
            message = "the kernel aborted the request (a cell before it failed)"
        else:
            message = f"the kernel stopped the request ({ename}: {evalue})"
        raise KernelCallError("KernelUnavailable", message)
    expr = content.get("user_expressions", {}).get(RESULT_KEY, {})
    if expr.get("status") != "ok":
        raise KernelCallError(
            "KernelUnavailable",
            f"the kernel gave no mlvc result ({expr.get('ename')}: {expr.get('evalue')})",
        )
    data = expr.get("data", {})
    result: Any
    if "application/json" in data:
        result = data["application/json"]
    else:
        try:
            result = json.loads(data.get("text/plain", ""))
        except ValueError:
            raise KernelCallError("KernelProtocol", "unreadable result from the kernel") from None
    if not isinstance(result, dict):
        raise KernelCallError("KernelProtocol", "unreadable result from the kernel")
    if result.get("ok"):
        value = result.get("result")
        return value if isinstance(value, dict) else {}
    name, message = str(result.get("error", "")), str(result.get("message", ""))
    if name == "Expired":
        raise KernelCallError("KernelBusy", busy_message(timeout))
    err: MlvcError | None = by_name(name, message)
    if err is not None:
        raise err
    raise KernelCallError("KernelError", f"mlvc failed in the kernel: {name}: {message}")
