"""The kernel call protocol (mlvc_server/calls.py): requests are data, never code; the
kernel's envelope comes back as the result or the same typed error."""

from __future__ import annotations

import ast
import json
from typing import Any

import pytest

from mlvc_server.calls import execute_options, failure, parse_reply, request_code, success
from mlvc_server.errors import KernelCallError, TrustError, http_status


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
    assert parse_reply(reply(expr=expression({"ok": True, "result": {"id": "x"}})), 1) == {
        "id": "x"
    }
    plain = {"status": "ok", "data": {"text/plain": json.dumps({"ok": True, "result": {"a": 1}})}}
    assert parse_reply(reply(expr=plain), 1) == {"a": 1}

    with pytest.raises(TrustError, match="pickle"):
        parse_reply(
            reply(expr=expression({"ok": False, "error": "TrustError", "message": "a pickle"})), 1
        )
    with pytest.raises(KernelCallError) as busy:
        parse_reply(reply(expr=expression({"ok": False, "error": "Expired", "message": ""})), 2)
    assert http_status(busy.value) == 409 and busy.value.reason == "KernelBusy"
    with pytest.raises(KernelCallError) as other:
        parse_reply(reply(expr=expression({"ok": False, "error": "ValueError", "message": "x"})), 1)
    assert http_status(other.value) == 500


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ({"ename": "ModuleNotFoundError", "evalue": "No module named 'mlvc_server'"}, "installed"),
        ({"ename": "KeyboardInterrupt", "evalue": ""}, "stopped the request"),
    ],
)
def test_a_kernel_that_cannot_run_mlvc_is_a_409(content: dict[str, str], words: str) -> None:
    with pytest.raises(KernelCallError) as info:
        parse_reply(reply("error", **content), 1)

    assert http_status(info.value) == 409 and info.value.reason == "KernelUnavailable"
    assert words in str(info.value)


def test_the_execute_request_is_silent_and_reads_the_result_back() -> None:
    opts = execute_options({"op": "commit"})
    assert opts["silent"] is True and opts["store_history"] is False
    assert "last_result()" in opts["user_expressions"]["mlvc"]
    assert opts["code"] == request_code({"op": "commit"})


def test_envelopes_round_trip_through_the_parser() -> None:
    ok = {"status": "ok", "data": {"application/json": success({"id": "x"})}}
    assert parse_reply({"content": {"status": "ok", "user_expressions": {"mlvc": ok}}}) == {
        "id": "x"
    }
    bad = {"status": "ok", "data": {"application/json": failure(TrustError("a pickle"))}}
    with pytest.raises(TrustError, match="a pickle"):
        parse_reply({"content": {"status": "ok", "user_expressions": {"mlvc": bad}}})
