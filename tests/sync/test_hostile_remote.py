"""A hostile (or tampered-with) git remote: ref names that would be paths outside the
store, ids that are not ids, payload URLs published to redirect uploads, credentials in
URLs (docs/security.md, "Remotes").

The ref-name attack goes through a real ``git daemon`` behind a small proxy on 127.0.0.1
that rewrites the ref advertisement, as someone in the middle of plain ``git://`` could:
git itself refuses to store such names, so this is the honest way to serve one.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

import mlvc_server as mlvc
from mlvc_server import service
from mlvc_server.errors import InvalidNameError, RemoteRefusedError
from mlvc_server.store import sync
from mlvc_server.store.remotes import add_remote, list_remotes, redact_url
from mlvc_server.store.repo import Store

from .conftest import bare, git

GOOD = b"refs/heads/_/main"


def _pkt_lines(buf: bytearray) -> Iterator[bytes]:
    """Whole pkt-lines at the start of ``buf`` (consumed)."""
    while len(buf) >= 4:
        try:
            n = int(buf[:4], 16)
        except ValueError:
            yield bytes(buf)  # not pkt-lines (never with git://): pass through
            del buf[:]
            return
        if n < 4:  # flush, delim, response-end
            yield bytes(buf[:4])
            del buf[:4]
            continue
        if len(buf) < n:
            return
        yield bytes(buf[:n])
        del buf[:n]


class RewritingProxy:
    """Forwards TCP to ``git daemon``, replacing ``old`` by ``new`` in every pkt-line the
    server sends that is not pack data (side-band 1)."""

    def __init__(self, port: int, old: bytes, new: bytes) -> None:
        self.target, self.old, self.new = port, old, new
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.rewrites = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self.target))
            threading.Thread(target=self._pipe, args=(client, server, False), daemon=True).start()
            threading.Thread(target=self._pipe, args=(server, client, True), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket, rewrite: bool) -> None:
        buf = bytearray()
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                if not rewrite:
                    dst.sendall(data)
                    continue
                buf += data
                for line in _pkt_lines(buf):
                    body = line[4:]
                    data_band = body[:1] in (b"\x01", b"\x02", b"\x03")
                    if len(line) > 4 and not data_band and self.old in body:
                        self.rewrites += 1
                        body = body.replace(self.old, self.new)
                        line = b"%04x" % (len(body) + 4) + body
                    dst.sendall(line)
            dst.sendall(bytes(buf))
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)  # pass the half-close on, as git expects

    def close(self) -> None:
        self.sock.close()


def files_outside(root: Path, inside: list[Path]) -> dict[str, float]:
    out = {}
    for p in root.rglob("*"):
        if any(p == i or p.is_relative_to(i) for i in inside):
            continue
        out[str(p)] = p.stat().st_mtime if p.is_file() else 0.0
    return out


@pytest.fixture
def served(project: Path, git_daemon: tuple[str, Path]) -> tuple[Path, str, int]:
    """A project whose commits are on a bare repository served by git daemon."""
    base_url, folder = git_daemon
    name = f"hostile-{id(project)}.git"
    bare(folder / name)
    mlvc.commit("first", variables={"x": 1}, repo=project)
    service.remote_add("origin", f"{base_url}/{name}", repo=project)
    service.push(repo=project)
    return folder / name, name, int(base_url.rsplit(":", 1)[1])


@pytest.mark.parametrize(
    "hostile",
    [
        b"refs/heads/_/../../../../../victim",
        b"refs/heads/_/..%2F..%2F/../../../../victim",
        b"refs/tags/_/x/../../../../../../victim",
        b"refs/heads/_/main\x01",
        b"refs/heads/_/.hidden/../../x.lock",
    ],
)
def test_clone_and_pull_refuse_a_ref_name_that_leaves_the_store_and_write_nothing(
    project: Path, tmp_path: Path, served: tuple[Path, str, int], hostile: bytes
) -> None:
    _folder, name, port = served
    proxy = RewritingProxy(port, GOOD, hostile)
    url = f"git://127.0.0.1:{proxy.port}/{name}"
    before = files_outside(tmp_path, [project / ".mlvc", tmp_path / "b", tmp_path / "config"])
    try:
        with pytest.raises(RemoteRefusedError, match="advertises the ref"):
            service.clone(url, tmp_path / "b")
        assert proxy.rewrites >= 1  # the attack did reach the client
        assert not (tmp_path / "victim").exists()
        assert not (tmp_path / "b" / "victim").exists()
        assert not (tmp_path / "b").exists()  # a refused clone leaves nothing behind

        # an existing store pulling from the tampered remote: refused, unchanged
        refs_before = Store(project).refs_under(b"refs/")
        service.remote_add("evil", url, repo=project)
        with pytest.raises(RemoteRefusedError):
            service.pull("evil", repo=project)
        assert Store(project).refs_under(b"refs/") == refs_before
        assert (
            files_outside(tmp_path, [project / ".mlvc", tmp_path / "b", tmp_path / "config"])
            == before
        )
        assert not (project / "victim").exists()
    finally:
        proxy.close()


def test_a_remote_ref_with_a_bad_id_is_refused(project: Path, tmp_path: Path) -> None:
    with pytest.raises(RemoteRefusedError, match="not an object id"):
        sync.checked_refs({GOOD: "../../etc/passwd"}, "git://example.org/x")
    with pytest.raises(RemoteRefusedError, match="check-ref-format"):
        sync.checked_refs({b"refs/heads/_/a..b": "0" * 40}, "git://example.org/x")
    # valid names outside mlvc's layout are left out, not refused
    kept = sync.checked_refs(
        {b"refs/heads/master": "1" * 40, b"refs/pull/1/head": "2" * 40, GOOD: "3" * 40},
        "u",
    )
    assert kept == {GOOD: "3" * 40}


def test_refs_are_written_only_through_the_checked_function(project: Path) -> None:
    store = Store(project)
    cid = store.ref(GOOD)
    for bad in (b"refs/heads/_/../../../x", b"HEAD/../x", b"refs/heads/_/a\x00b", b"x"):
        with pytest.raises(InvalidNameError):
            store.cas_ref(bad, None, cid)
    with pytest.raises(InvalidNameError):
        store.set_head(b"refs/heads/_/../../../../x")
    assert not (project / "x").exists()


# -- payload URLs published by the remote ------------------------------------------------
def test_a_published_payload_url_is_not_adopted_by_pull_without_acceptance(
    project: Path, tmp_path: Path
) -> None:
    remote = bare(tmp_path / "r.git")
    mlvc.commit("first", variables={"x": 1}, repo=project)
    store = Store(project)
    add_remote(store, "origin", str(remote), payloads=str(tmp_path / "parts"))
    service.push(repo=project)
    # a second user, already set up with their own payload remote
    mlvc.init(tmp_path / "c")
    other = Store(tmp_path / "c")
    add_remote(other, "origin", str(remote), payloads=str(tmp_path / "mine"))
    # a collaborator with push access redirects the published payload URL
    attacker = tmp_path / "attacker"
    mlvc.init(attacker)
    mlvc.commit("x", variables={"y": 2}, repo=attacker)
    add_remote(Store(attacker), "origin", str(remote), payloads=str(tmp_path / "stolen"))
    sync.pull(Store(attacker), "origin")
    sync.push(Store(attacker), "origin", force=True)
    assert "stolen" in git(remote, "show", "refs/mlvc/config:remote.json")

    out = sync.pull(other, "origin")

    assert list_remotes(other)[0].payloads == str(tmp_path / "mine")  # unchanged
    assert out["published_payloads"] == str(tmp_path / "stolen")
    assert (
        "not adopted" in out["payloads_message"] and "--accept-payloads" in out["payloads_message"]
    )
    # explicit acceptance adopts it
    r = sync.accept_published_payloads(other, "origin")
    assert r.payloads == str(tmp_path / "stolen")
    out = sync.pull(other, "origin")
    assert out["payloads_message"] is None


# -- credentials ---------------------------------------------------------------------------
def test_credentials_in_urls_never_enter_the_store_and_are_never_shown(
    project: Path, tmp_path: Path
) -> None:
    store = Store(project)
    for url, payloads in (
        ("https://ana:hunter2@git.example.org/x.git", None),
        ("https://git.example.org/x.git", "s3://ana:hunter2@bucket/p"),
        ("https://git.example.org/x.git", "az://c/p?sv=2021&sig=hunter2"),
    ):
        with pytest.raises(InvalidNameError) as e:
            add_remote(store, "origin", url, payloads=payloads)
        assert "hunter2" not in str(e.value)
    with pytest.raises(InvalidNameError, match="look like credentials"):
        add_remote(store, "origin", "x", payloads="s3://b", payload_options={"secret": "k"})
    assert "hunter2" not in (project / ".mlvc" / "config").read_text()
    assert redact_url("https://u:p@h/x?token=abc&b=1") == "https://u:***@h/x?token=***&b=***"
    assert redact_url("git@host:path") == "git@host:path"
    # a config written by hand (or by an older version) is still shown redacted
    cfg = store.repo.get_config()
    cfg.set((b"remote", b"old"), b"url", b"https://ana:hunter2@git.example.org/x.git")
    cfg.set((b"remote", b"old"), b"mlvcPayloads", b"s3://k:hunter2@bucket/p")
    cfg.write_to_path()
    shown = [r.as_json() for r in list_remotes(store)]
    assert "hunter2" not in repr(shown)
    assert shown[0]["url"] == "https://ana:***@git.example.org/x.git"


def test_remote_errors_do_not_print_credentials(project: Path) -> None:
    store = Store(project)
    cfg = store.repo.get_config()
    cfg.set((b"remote", b"origin"), b"url", b"http://ana:hunter2@127.0.0.1:9/x.git")
    cfg.write_to_path()
    with pytest.raises(sync.RemoteError) as e:
        sync.pull(store, "origin")
    assert "hunter2" not in str(e.value)
