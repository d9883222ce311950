"""The server's side of asking a kernel (mlvc_server/handlers/kernels.py) and the kernel's
entry point (mlvc_server/kernel/remote.py), without a kernel."""

from __future__ import annotations

import ast
import json
import time
from typing import Any

import pytest

from mlvc_server.errors import TrustError
from mlvc_server.handlers.kernels import KernelError, _client, _result, request_code
from mlvc_server.kernel import remote


def reply(status: str = "ok", expr: dict[str, Any] | None = None, **content: Any) -> dict[str, Any]:
    """An execute_reply as the kernel sends it."""
    return {"content": {"status": status, "user_expressions": {"mlvc": expr or {}}, **content}}


def expression(result: dict[str, Any]) -> dict[str, Any]:
    return {"status": "ok", "data": {"application/json": result, "text/plain": "..."}}


def test_the_request_is_data_never_code() -> None:
    hostile = {"message": "'); import os; os.system('x'); ('", "author": '"\\\n'}

    code = request_code(hostile)

    call = ast.parse(code).body[0].value  # type: ignore[attr-defined]
    assert isinstance(call, ast.Call) and len(call.args) == 1
    assert isinstance(call.args[0], ast.Constant)
    assert json.loads(call.args[0].value) == hostile


def test_results_and_errors_come_back_typed() -> None:
    assert _result(reply(expr=expression({"ok": True, "result": {"id": "x"}})), 1) == {"id": "x"}
    plain = {"status": "ok", "data": {"text/plain": json.dumps({"ok": True, "result": {"a": 1}})}}
    assert _result(reply(expr=plain), 1) == {"a": 1}

    with pytest.raises(TrustError, match="pickle"):
        _result(
            reply(expr=expression({"ok": False, "error": "TrustError", "message": "a pickle"})), 1
        )
    with pytest.raises(KernelError) as busy:
        _result(reply(expr=expression({"ok": False, "error": "Expired", "message": ""})), 2)
    assert busy.value.status == 409 and busy.value.reason == "KernelBusy"
    with pytest.raises(KernelError) as other:
        _result(reply(expr=expression({"ok": False, "error": "ValueError", "message": "x"})), 1)
    assert other.value.status == 500


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ({"ename": "ModuleNotFoundError", "evalue": "No module named 'mlvc_server'"}, "installed"),
        ({"ename": "KeyboardInterrupt", "evalue": ""}, "stopped the request"),
    ],
)
def test_a_kernel_that_cannot_run_mlvc_is_a_409(content: dict[str, str], words: str) -> None:
    with pytest.raises(KernelError) as info:
        _result(reply("error", **content), 1)

    assert info.value.status == 409 and info.value.reason == "KernelUnavailable"
    assert words in str(info.value)


def test_each_server_client_has_a_shell_identity_of_its_own() -> None:
    from jupyter_client.manager import KernelManager

    km = KernelManager()
    a, b = _client(km), _client(km)

    assert len({a.session.bsession, b.session.bsession, km.session.bsession}) == 3
    assert a.session.key == km.session.key


def test_the_kernel_drops_a_request_past_its_deadline() -> None:
    remote.run(json.dumps({"op": "commit", "deadline": time.time() - 1}))

    assert remote.last_result().value["error"] == "Expired"


def test_the_kernel_reports_errors_instead_of_raising() -> None:
    remote.run("not json")
    assert remote.last_result().value["ok"] is False

    remote.run(json.dumps({"op": "commit", "repo": ".", "notebook": "x.ipynb"}))
    result = remote.last_result()
    assert result.value == {
        "ok": False,
        "error": "MlvcError",
        "message": "not running in an IPython kernel",
    }
    assert result._repr_json_() == result.value and json.loads(repr(result)) == result.value
