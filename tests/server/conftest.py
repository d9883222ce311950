"""Helpers for the REST tests: notebooks on disk, JSON requests, a kernel session.

The server comes from pytest-jupyter (``jp_fetch``, ``jp_serverapp``, ``jp_root_dir``),
configured in ``tests/conftest.py`` with mlvc enabled and credentials required.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from tornado.httpclient import HTTPClientError, HTTPResponse

Fetch = Callable[..., Awaitable[HTTPResponse]]


def write_notebook(path: Path, *sources: str) -> Path:
    """Write a valid notebook with one code cell per source."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src, id=f"c{i}") for i, src in enumerate(sources)]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


class Api:
    """JSON requests to ``/mlvc/`` for one notebook."""

    def __init__(self, fetch: Fetch, path: str) -> None:
        self.fetch = fetch
        self.path = path

    async def request(
        self,
        method: str,
        *parts: str,
        body: Any = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> HTTPResponse:
        """Make a request (the notebook's ``path`` added to the query)."""
        query = {"path": self.path, **(params or {})}
        kwargs: dict[str, Any] = {"method": method, "params": query}
        if headers is not None:
            kwargs["headers"] = headers
        if body is not None:
            kwargs["body"] = body if isinstance(body, str | bytes) else json.dumps(body)
        elif method in ("POST", "PATCH", "PUT"):
            kwargs["body"] = ""
        return await self.fetch("mlvc", *parts, **kwargs)

    async def get(self, *parts: str, **params: Any) -> Any:
        """GET and decode the JSON answer."""
        return json.loads((await self.request("GET", *parts, params=params)).body)

    async def post(self, *parts: str, body: Any = None, **params: Any) -> Any:
        """POST and decode the JSON answer."""
        response = await self.request("POST", *parts, body=body, params=params)
        return json.loads(response.body)

    async def error(
        self, method: str, *parts: str, body: Any = None, **params: Any
    ) -> tuple[int, dict[str, Any]]:
        """A request that must fail: its status and JSON error."""
        with pytest.raises(HTTPClientError) as info:
            await self.request(method, *parts, body=body, params=params)
        response = info.value.response
        assert response is not None
        return info.value.code, json.loads(response.body)


@pytest.fixture
def notebook(jp_root_dir: Path) -> Path:
    """``train.ipynb`` in the server root, with two cells."""
    return write_notebook(jp_root_dir / "train.ipynb", "import numpy as np", "X = np.arange(10)")


@pytest.fixture
def api(jp_fetch: Fetch) -> Api:
    """Requests for ``train.ipynb``."""
    return Api(jp_fetch, "train.ipynb")


class KernelSession:
    """A notebook session started through ``POST /api/sessions``, and a client to run
    code in its kernel as the user would."""

    def __init__(self, fetch: Fetch, serverapp: Any, path: str) -> None:
        """Prepare a session for the notebook at ``path`` (relative to the server root)."""
        self.fetch, self.serverapp, self.path = fetch, serverapp, path
        self.id = ""
        self.kernel_id = ""
        self.client: Any = None

    async def start(self) -> None:
        """Start the session and its kernel, and connect a client."""
        body = {"path": self.path, "type": "notebook", "kernel": {"name": "python3"}}
        response = await self.fetch("api", "sessions", method="POST", body=json.dumps(body))
        model = json.loads(response.body)
        self.id, self.kernel_id = model["id"], model["kernel"]["id"]
        km = self.serverapp.kernel_manager.get_kernel(self.kernel_id)
        session = km.session.clone()  # its own session id: its own shell identity
        session.session = uuid.uuid4().hex
        self.client = km.client(session=session)
        self.client.start_channels()
        await self.client.wait_for_ready(timeout=60)

    async def run(self, code: str, timeout: float = 60) -> dict[str, Any]:
        """Execute a cell and return its reply's content (failing the test on error)."""
        reply = await self.client.execute_interactive(code, timeout=timeout, output_hook=_quiet)
        content: dict[str, Any] = reply["content"]
        assert content["status"] == "ok", content
        return content

    def start_cell(self, code: str) -> str:
        """Send a cell without waiting for it (a long-running cell)."""
        msg_id: str = self.client.execute(code)
        return msg_id

    async def value(self, expr: str) -> Any:
        """The JSON value of ``expr`` in the kernel."""
        reply = await self.client.execute_interactive(
            "", user_expressions={"v": f"__import__('json').dumps({expr})"}, output_hook=_quiet
        )
        data = reply["content"]["user_expressions"]["v"]
        assert data["status"] == "ok", data
        return json.loads(eval(data["data"]["text/plain"]))


def _quiet(msg: dict[str, Any]) -> None:
    """Swallow a cell's output."""


@pytest.fixture
def kernel(
    jp_fetch: Fetch,
    jp_serverapp: Any,
    notebook: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[KernelSession]:
    """A python3 kernel session for ``train.ipynb``; the test starts it (``await
    kernel.start()``: pytest-jupyter runs async tests, not async fixtures). The server
    shuts the kernel down when the test ends."""
    monkeypatch.setenv("MLVC_CONFIG_DIR", str(tmp_path / "mlvc-config"))
    session = KernelSession(jp_fetch, jp_serverapp, "train.ipynb")
    yield session
    if session.client is not None:
        session.client.stop_channels()
