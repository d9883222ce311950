"""Real servers on 127.0.0.1 for the sync tests, started and stopped by the tests.

- ``git daemon`` (git://) and ``git http-backend`` (smart http, behind a small CGI
  bridge) serve bare repositories made with ``git init --bare``: the real git server
  side, not dulwich's.
- moto's S3 server (in a thread) is the object storage for payload remotes.

Each server listens on a free port picked by the OS.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import mlvc_server as mlvc

GIT_DAEMON = "/usr/lib/git-core/git-daemon"
GIT_HTTP_BACKEND = "/usr/lib/git-core/git-http-backend"


def git(repo: Path, *args: str, check: bool = True) -> str:
    """Run plain git on a (bare) repository; its stdout."""
    return subprocess.run(
        ["git", "--git-dir", str(repo), *args], check=check, capture_output=True, text=True
    ).stdout


def bare(path: Path) -> Path:
    """A new bare git repository, as a team would create on its server."""
    subprocess.run(["git", "init", "-q", "--bare", str(path)], check=True)
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port}")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project with a store, the author set, this user's signing key in tmp."""
    monkeypatch.setenv("MLVC_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("MLVC_AUTHOR_NAME", "Ana")
    monkeypatch.setenv("MLVC_AUTHOR_EMAIL", "ana@example.org")
    root = tmp_path / "a"
    root.mkdir()
    mlvc.init(root)
    return root


def weights(seed: int, n: int = 3, size: int = 300_000) -> dict[str, Any]:
    """Variables like a small model's: a few float arrays and a scalar."""
    rng = np.random.default_rng(seed)
    out: dict[str, Any] = {f"w{i}": rng.normal(size=size).astype(np.float32) for i in range(n)}
    out["lr"] = 0.01 * (seed + 1)
    return out


@pytest.fixture(scope="session")
def git_daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """``git daemon`` serving a folder of bare repositories read-write: (base URL, folder)."""
    if not os.path.exists(GIT_DAEMON):
        pytest.skip("git-daemon is not installed")
    base = tmp_path_factory.mktemp("daemon")
    port = free_port()
    proc = subprocess.Popen(
        [
            GIT_DAEMON,
            "--reuseaddr",
            "--export-all",
            "--enable=receive-pack",
            f"--base-path={base}",
            "--listen=127.0.0.1",
            f"--port={port}",
            str(base),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, proc)
        yield f"git://127.0.0.1:{port}", base
    finally:
        proc.terminate()
        proc.wait(10)


class _CGIBridge(BaseHTTPRequestHandler):
    """Runs ``git http-backend`` for each request (the CGI protocol, by hand)."""

    root: Path

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    self.rfile.readline()
                    return bytes(out)
                out += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _cgi(self) -> None:
        path, _, query = self.path.partition("?")
        body = self._body()
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GIT_PROJECT_ROOT": str(self.root),
            "GIT_HTTP_EXPORT_ALL": "1",
            "REMOTE_USER": "tester",  # lets http-backend accept pushes
            "REQUEST_METHOD": self.command,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "HTTP_CONTENT_ENCODING": self.headers.get("Content-Encoding", ""),
            "GIT_PROTOCOL": self.headers.get("Git-Protocol", ""),
            "SERVER_PROTOCOL": "HTTP/1.1",
        }
        proc = subprocess.run([GIT_HTTP_BACKEND], input=body, env=env, capture_output=True)
        head, _, payload = proc.stdout.partition(b"\r\n\r\n")
        status = 200
        headers: list[tuple[str, str]] = []
        for line in head.split(b"\r\n"):
            if b":" not in line:
                continue
            k, v = line.decode("latin-1").split(":", 1)
            if k.lower() == "status":
                status = int(v.strip().split()[0])
            else:
                headers.append((k, v.strip()))
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = _cgi
    do_POST = _cgi


@pytest.fixture(scope="session")
def http_git(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """Smart http (``git http-backend``): (base URL, folder of bare repositories)."""
    if not os.path.exists(GIT_HTTP_BACKEND):
        pytest.skip("git-http-backend is not installed")
    base = tmp_path_factory.mktemp("http")
    handler = type("Bridge", (_CGIBridge,), {"root": base})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", base
    finally:
        server.shutdown()
        thread.join(10)


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """moto's S3 server on 127.0.0.1; its endpoint URL."""
    server_mod = pytest.importorskip("moto.server")
    pytest.importorskip("s3fs")
    server = server_mod.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3(s3_server: str, monkeypatch: pytest.MonkeyPatch) -> Callable[[], tuple[str, dict[str, str]]]:
    """A function making a fresh bucket: (``s3://bucket/prefix``, storage options)."""
    import boto3

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    client = boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1")
    made: list[str] = []

    def make() -> tuple[str, dict[str, str]]:
        name = f"mlvc-{len(made)}-{os.getpid()}-{int(time.time() * 1e6) % 10**9}"
        client.create_bucket(Bucket=name)
        made.append(name)
        return f"s3://{name}/team", {"endpoint_url": s3_server}

    return make


def remote_repo(kind: str, tmp_path: Path, daemon: Any, http: Any) -> tuple[str, Path]:
    """A new bare repository reached through ``kind``: (URL, its folder)."""
    name = f"exp-{time.monotonic_ns()}.git"
    if kind == "local":
        return str(bare(tmp_path / name)), tmp_path / name
    base_url, folder = daemon if kind == "git" else http
    return f"{base_url}/{name}", bare(folder / name)
