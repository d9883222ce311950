"""A real ``jupyter server`` in a subprocess, for tools that need a live URL (the
schemathesis fuzz run, ``benchmarks/rest.py``).

It listens on 127.0.0.1 on a free port with a random token, serves a given root folder
with the mlvc extension enabled, and keeps its config, runtime files and mlvc signing key
in a folder of its own, so nothing of the user's is read or written.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class LiveServer:
    """A Jupyter server with mlvc, started by :meth:`start`, stopped by :meth:`stop`.

    Attributes:
        root: The folder it serves.
        home: Its config, runtime and log folder.
        port: Its port on 127.0.0.1.
        token: Its token (``Authorization: token <token>``).
    """

    def __init__(self, root: Path, home: Path, mlvc: dict[str, Any] | None = None) -> None:
        """Prepare a server for ``root``, keeping its own files in ``home``.

        Args:
            root: The folder to serve.
            home: A folder for its config, runtime files and log.
            mlvc: ``MlvcApp`` settings.
        """
        self.root, self.home = root, home
        self.port = free_port()
        self.token = secrets.token_hex(24)
        self.mlvc = mlvc or {}
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The server's base URL, ending in "/"."""
        return f"http://127.0.0.1:{self.port}/"

    @property
    def headers(self) -> dict[str, str]:
        """The Authorization header."""
        return {"Authorization": f"token {self.token}"}

    def start(self, timeout: float = 60) -> LiveServer:
        """Start the server and wait until it answers."""
        config_dir = self.home / "config"
        config_dir.mkdir(parents=True, exist_ok=True)
        config = {
            "ServerApp": {
                "jpserver_extensions": {"mlvc_server": True},
                "allow_root": True,
                "open_browser": False,
                "ip": "127.0.0.1",
                "port": self.port,
                "port_retries": 0,
                "root_dir": str(self.root),
                "allow_unauthenticated_access": False,
            },
            "IdentityProvider": {"token": self.token},
            "MlvcApp": self.mlvc,
        }
        (config_dir / "jupyter_server_config.json").write_text(json.dumps(config))
        env = {
            **os.environ,
            "JUPYTER_CONFIG_DIR": str(config_dir),
            "JUPYTER_RUNTIME_DIR": str(self.home / "runtime"),
            "MLVC_CONFIG_DIR": str(self.home / "mlvc-config"),
            "MLVC_SAVE_TIMEOUT": "0.2",
            "JUPYTER_PLATFORM_DIRS": "1",
        }
        log = open(self.home / "server.log", "wb")  # noqa: SIM115 - closed by the process
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jupyter_server",
                f"--config={config_dir}/jupyter_server_config.json",
            ],
            cwd=self.root,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyter server exited: see {self.home / 'server.log'}")
            try:
                self.request("GET", "api/status")
                return self
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"jupyter server did not start in {timeout} s")

    def stop(self) -> None:
        """Stop the server (its kernels with it)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        params: dict[str, Any] | None = None,
    ) -> tuple[int, Any]:
        """A JSON request; its status and decoded body (None when empty).

        Args:
            method: GET, POST...
            path: The path after the base URL (``mlvc/log``).
            body: A JSON-able body.
            params: Query arguments.
        """
        url = self.url + path + ("?" + urllib.parse.urlencode(params) if params else "")
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(url, data=data, method=method, headers=self.headers)
        try:
            with urllib.request.urlopen(req, timeout=120) as response:
                raw = response.read()
                return response.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as err:
            raw = err.read()
            return err.code, json.loads(raw) if raw else None

    def start_kernel(self, notebook: str) -> Any:
        """Start a python3 kernel session for ``notebook`` (as JupyterLab does) and return
        a started blocking client of that kernel."""
        from jupyter_client import BlockingKernelClient

        status, model = self.request(
            "POST",
            "api/sessions",
            {"path": notebook, "type": "notebook", "kernel": {"name": "python3"}},
        )
        if status != 201:
            raise RuntimeError(f"could not start a session: {status} {model}")
        kid = model["kernel"]["id"]
        connection = self.home / "runtime" / f"kernel-{kid}.json"
        client = BlockingKernelClient(connection_file=str(connection))
        client.load_connection_file()
        client.start_channels()
        client.wait_for_ready(timeout=60)
        return client

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def run_cell(client: Any, code: str, timeout: float = 60) -> dict[str, Any]:
    """Execute ``code`` in a kernel (blocking client) and fail loudly on an error."""
    reply: dict[str, Any] = client.execute_interactive(
        code, timeout=timeout, output_hook=lambda msg: None
    )
    if reply["content"]["status"] != "ok":
        raise RuntimeError(f"cell failed: {reply['content']}")
    return reply
