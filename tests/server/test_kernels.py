"""The kernel call protocol (mlvc_server/calls.py), the server's client of it
(mlvc_server/server/kernels.py) and the kernel's entry point (mlvc_server/kernel/remote.py),
without a kernel."""

from __future__ import annotations

import json
import time

from mlvc_server.kernel import remote
from mlvc_server.server.kernels import _client


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
