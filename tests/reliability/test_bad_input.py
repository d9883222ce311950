"""Bad input: malformed, huge and hostile requests to every REST endpoint, hostile branch
and tag names, notebooks that are not nbformat, variables whose serialization raises or
never ends. Each gets a clear 4xx or a clear error and changes nothing
(docs/reliability.md, "Bad input"; docs/security.md).

The REST cases run against one live ``jupyter server`` (a subprocess, tests/server/live.py)
and are generated from the route table, so an endpoint added later is covered too.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import numpy as np
import pytest

from mlvc_server import service
from mlvc_server.errors import InvalidNameError, MlvcError
from mlvc_server.server import ROUTES

from .harness import git

NB = "train.ipynb"

#: Revisions that must never reach git as options, leave the store, or crash a parser.
HOSTILE_REVS = [
    "--upload-pack=touch${IFS}pwned",
    "--output=/tmp/x",
    "-n1",
    "../../../../etc/passwd",
    "refs/../../config",
    "refs/heads/../../../../../../etc/hostname",
    "/etc/passwd",
    "HEAD~" + "9" * 200,
    "HEAD^{tree}",
    "HEAD@{0}",
    "@{-1}",
    ":/first",
    "HEAD:mlvc.json",
    "main..sweep",
    "a\x00b",
    "\x00",
    "\x1b[31m",
    "x" * 5000,
    "\u202emain",
    "*",
    "~",
]
#: Branch and tag names that must be refused.
HOSTILE_NAMES = [
    "--upload-pack=x",
    "-f",
    "../x",
    "a/../b",
    "a//b",
    "/a",
    "a/",
    ".hidden",
    "a.lock",
    "a..b",
    "a@{b",
    "HEAD",
    "deadbeef",
    "x" * 300,
    "a\x00b",
    "a b",
    "a\tb",
    "\u202eb",
    "a~1",
    "a^",
    "a:b",
    "a?b",
    "a*b",
    "a[b",
    "a\\b",
    "x.ipynb",
    " ",
]
#: Notebook paths (the ``path`` query argument) that must be refused or not found.
HOSTILE_PATHS = [
    "../outside.ipynb",
    "../../../../etc/passwd",
    "/etc/x.ipynb",
    "sub/../../outside.ipynb",
    "train.ipynb\x00.txt",
    "x" * 2000 + ".ipynb",
    "..\\outside.ipynb",
    "escape.ipynb",  # a symlink inside the root that leads outside it
    "\u202etrain.ipynb",
    "train.ipynb/",
    "",
]


class Client:
    """Raw HTTP requests to a live server: any bytes in the URL, any body."""

    def __init__(self, server: Any) -> None:
        self.server = server
        self.sent = 0

    def request(
        self,
        method: str,
        route: str,
        query: dict[str, str | bytes] | None = None,
        body: bytes | None = None,
    ) -> tuple[int, Any]:
        url = self.server.url + route
        if query:
            url += "?" + urllib.parse.urlencode(query)
        if body is None and method in ("POST", "PATCH", "PUT"):
            body = b""
        req = urllib.request.Request(url, data=body, method=method, headers=self.server.headers)
        self.sent += 1
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                raw = r.read()
                return r.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                return e.code, json.loads(raw) if raw else None
            except ValueError:
                return e.code, raw.decode(errors="replace")


def snapshot(root: Path) -> dict[str, Any]:
    """What a request must not change: every ref, HEAD, the objects, current branches."""
    store = root / ".mlvc"
    return {
        "refs": git(root, "show-ref").stdout,
        "HEAD": (store / "HEAD").read_text(),
        "objects": sorted(p.name for p in (store / "objects").rglob("*") if p.is_file()),
        "current": sorted(
            (p.name, p.read_text()) for p in (store / "mlvc" / "current").glob("*") if p.is_file()
        ),
        "outside": sorted(p.name for p in root.parent.iterdir()),
    }


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Client, Path]]:
    from server.live import LiveServer

    base = tmp_path_factory.mktemp("hostile")
    root = base / "root"
    root.mkdir()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 1", id="c0")]
    nbformat.write(nb, root / NB)
    (base / "outside.ipynb").write_text(nbformat.writes(nb))
    os.symlink(base / "outside.ipynb", root / "escape.ipynb")
    env = os.environ.get("MLVC_CONFIG_DIR")
    os.environ["MLVC_CONFIG_DIR"] = str(base / "config")
    try:
        service.commit("first", notebook=root / NB, repo=root, sources=False, params={"a": 1})
        service.commit("second", notebook=root / NB, repo=root, sources=False, params={"a": 2})
        service.branch("sweep", repo=root, notebook=root / NB, switch=False)
        service.tag("champion", "HEAD~1", repo=root, notebook=root / NB)
    finally:
        if env is None:
            os.environ.pop("MLVC_CONFIG_DIR")
        else:
            os.environ["MLVC_CONFIG_DIR"] = env
    with LiveServer(root, base / "home", mlvc={"kernel_timeout": 2}) as server:
        yield Client(server), root


def routes() -> list[tuple[str, str]]:
    """(URL with a sample for each path parameter, method) for every route and method."""
    out = []
    for pattern, handler in ROUTES:
        url = pattern.lstrip("/")
        url = url.replace("(?P<rev>.*)", "HEAD").replace("(?P<name>.*)", "sweep")
        url = url.replace("(?P<job>[0-9a-f]{1,64})", "abc")
        for method in handler.allowed_methods():
            out.append((url, method))
    return out


def check(
    client: Client, root: Path, cases: list[tuple[str, str, dict[str, Any], bytes | None]]
) -> int:
    """Send each case; each must get a 4xx with a JSON message, and change nothing."""
    before = snapshot(root)
    bad = []
    for method, route, query, body in cases:
        status, answer = client.request(method, route, query, body)
        clear = isinstance(answer, dict) and bool(answer.get("message"))
        if not (400 <= status < 500 and clear):
            shown = {k: repr(v)[:60] for k, v in (query or {}).items()}
            bad.append((method, route[:80], shown, (body or b"")[:60], status, str(answer)[:120]))
    assert bad == [], "\n".join(map(str, bad))
    assert snapshot(root) == before, "a refused request changed the store"
    print(f"fuzz figures: {len(cases)} hostile requests, each a clear 4xx, none changed a thing")
    return len(cases)


def test_hostile_notebook_paths_are_refused_by_every_endpoint(live: tuple[Client, Path]) -> None:
    client, root = live
    cases = []
    for route, method in routes():
        for path in HOSTILE_PATHS:
            body = b"{}" if method in ("POST", "PATCH") else None
            cases.append((method, route, {"path": path}, body))
        cases.append((method, route, {"path": b"\xff\xfe.ipynb"}, None))  # not UTF-8
    assert check(client, root, cases) > 100


def test_hostile_revisions_and_names_in_urls_are_refused(live: tuple[Client, Path]) -> None:
    client, root = live
    q = {"path": NB}
    cases: list[tuple[str, str, dict[str, Any], bytes | None]] = []
    for rev in HOSTILE_REVS:
        quoted = urllib.parse.quote(rev, safe="")
        cases.append(("GET", f"mlvc/commits/{quoted}", q, None))
        cases.append(("GET", "mlvc/diff", {**q, "a": rev, "b": "HEAD"}, None))
        cases.append(("GET", "mlvc/diff", {**q, "a": "HEAD", "b": rev}, None))
        if rev.isprintable():  # (tornado turns control characters in queries into spaces)
            cases.append(("GET", "mlvc/compare", {**q, "revs": f"HEAD,{rev}"}, None))
    for name in HOSTILE_NAMES:
        quoted = urllib.parse.quote(name, safe="")
        for kind in ("branches", "tags"):
            cases.append(("GET", f"mlvc/{kind}/{quoted}", q, None))
            cases.append(("DELETE", f"mlvc/{kind}/{quoted}", q, None))
            body = json.dumps({"new_name": "fine"}).encode()
            cases.append(("PATCH", f"mlvc/{kind}/{quoted}", q, body))
        cases.append(("GET", "mlvc/log", {**q, "branch": name}, None))
        cases.append(("GET", "mlvc/compare", {**q, "branch": name}, None))
    for raw in (b"\xff", b"\xc3\x28", b"\xed\xa0\x80"):  # not UTF-8, a lone surrogate
        cases.append(("GET", "mlvc/log", {**q, "branch": raw}, None))
        cases.append(("GET", "mlvc/diff", {**q, "a": raw}, None))
        cases.append(("GET", "mlvc/commits/%" + raw.hex("%").upper(), q, None))
    for limit in ("-1", "0", "1e9", "NaN", "9" * 5000, "0x10", ""):
        cases.append(("GET", "mlvc/log", {**q, "limit": limit}, None))
    assert check(client, root, cases) > 100


def bodies() -> list[tuple[bytes, str]]:
    """Request bodies no endpoint may accept, and why."""
    deep = b"[" * 200_000 + b"]" * 200_000
    deep_obj = b'{"name": ' + b'{"a": ' * 50_000 + b"1" + b"}" * 50_000 + b"}"
    return [
        (b"x" * (2 << 20), "over 1 MiB"),
        (b'{"name": "' + b"a" * (2 << 20) + b'"}', "a 2 MiB string"),
        (deep, "200,000 nested arrays"),
        (deep_obj, "50,000 nested objects"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b'{"name": "\xed\xa0\x80"}', "a lone surrogate"),
        (b"[]", "an array"),
        (b"null", "null"),
        (b"1" * 5000, "a 5,000-digit number"),
        (b'{"name": "ok", "name": "--upload-pack=x"}', "a duplicate key"),
        (b'{"__proto__": {}}', "an unknown field"),
        (b"{", "truncated JSON"),
    ]


def test_malformed_huge_and_deep_bodies_are_refused_by_every_endpoint(
    live: tuple[Client, Path],
) -> None:
    client, root = live
    cases = []
    for route, method in routes():
        if method not in ("POST", "PATCH", "PUT"):
            continue
        for body, _why in bodies():
            cases.append((method, route, {"path": NB}, body))
    assert check(client, root, cases) > 100


def test_hostile_fields_in_bodies_are_refused(live: tuple[Client, Path]) -> None:
    client, root = live
    q = {"path": NB}
    deep: Any = 1
    for _ in range(400):  # parses, but nests deeper than anything should recurse over
        deep = {"a": deep}
    fields: list[tuple[str, str, dict[str, Any]]] = []
    for name in HOSTILE_NAMES:
        fields += [
            ("POST", "mlvc/branches", {"name": name}),
            ("POST", "mlvc/tags", {"name": name}),
            ("PATCH", "mlvc/branches/sweep", {"new_name": name}),
            ("PATCH", "mlvc/tags/champion", {"new_name": name}),
        ]
    for rev in HOSTILE_REVS:
        fields += [
            ("POST", "mlvc/tags", {"name": "t", "rev": rev}),
            ("POST", "mlvc/branches", {"name": "b", "from": rev}),
            ("POST", "mlvc/checkout", {"rev": rev}),
            ("POST", "mlvc/restore", {"rev": rev}),
        ]
    fields += [
        ("POST", "mlvc/commits", {"message": "m\x00"}),
        ("POST", "mlvc/commits", {"message": "m" * 20_000}),
        ("POST", "mlvc/commits", {"message": "m", "params": {"a": deep}}),
        ("POST", "mlvc/commits", {"message": "m", "metrics": {"x" * 300: 1}}),
        ("POST", "mlvc/commits", {"message": "m", "params": {str(i): i for i in range(1001)}}),
        ("POST", "mlvc/commits", {"message": "m", "variables": ["a\x00"]}),
        ("POST", "mlvc/restore", {"rev": "HEAD", "names": ["../../x"] * 1001}),
        ("POST", "mlvc/restore", {"rev": "HEAD", "trust": "yes"}),
        ("POST", "mlvc/checkout", {"rev": "HEAD", "mode": "--all"}),
    ]
    cases = [(method, route, q, json.dumps(body).encode()) for method, route, body in fields]
    assert check(client, root, cases) > 100


# -- the Python API and the CLI ------------------------------------------------------------
@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MLVC_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.chdir(tmp_path)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 1", id="c0")]
    nbformat.write(nb, tmp_path / NB)
    return tmp_path


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_branch_and_tag_names_are_refused_by_the_api(project: Path, name: str) -> None:
    service.commit("first", notebook=NB, sources=False)
    before = snapshot(project)
    calls = [
        lambda: service.branch(name, notebook=NB),
        lambda: service.tag(name, notebook=NB),
        lambda: service.rename_branch("main", name, notebook=NB),
        lambda: service.commit("x", notebook=NB, branch=name, sources=False),
    ]
    for call in calls:
        with pytest.raises(InvalidNameError, match=r"invalid (branch|tag) name"):
            call()
    assert snapshot(project) == before


@pytest.mark.parametrize("rev", [*HOSTILE_REVS, "HEAD~" + "9" * 5000])
def test_hostile_revisions_are_refused_by_the_api_and_the_cli(project: Path, rev: str) -> None:
    from mlvc_server import cli
    from mlvc_server.errors import RevisionNotFoundError

    service.commit("first", notebook=NB, sources=False)
    with pytest.raises(RevisionNotFoundError):
        service.show(rev, notebook=NB)
    if "\x00" not in rev:  # (a NUL cannot be in a command line)
        assert cli.main(["show", "-N", NB, "--", rev]) == 1


@pytest.mark.parametrize(
    "content",
    [
        b"not json at all",
        b'{"cells": "nope"}',
        b'{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"cell_type": 1}]}',
        b"\xff\xfe\x00\x00",
        b"[" * 100_000,
        b"",
    ],
    ids=["text", "cells-not-a-list", "bad-cell", "not-utf8", "deep", "empty"],
)
def test_a_notebook_that_is_not_nbformat_is_committed_as_is_and_diffed_with_a_reason(
    project: Path, content: bytes
) -> None:
    a = service.commit("good", notebook=NB, sources=False)
    (project / NB).write_bytes(content)
    b = service.commit("bad", notebook=NB, sources=False)  # the user's bytes, kept exactly
    assert service.notebook_at(b, notebook=NB) == content
    d = service.diff(a, b, notebook=NB)
    assert d["notebook"]["status"] == "changed"
    assert "cannot be compared" in d["notebook"]["error"]
    assert service.fsck()["ok"]


@pytest.mark.parametrize("content", [{"nbformat": 4}, [], 42], ids=["bare", "list", "number"])
def test_notebook_content_that_nbformat_cannot_write_is_refused_clearly(
    project: Path, content: Any
) -> None:
    service.commit("first", notebook=NB, sources=False)
    before = snapshot(project)
    with pytest.raises(MlvcError, match="not an nbformat notebook"):
        service.commit("x", notebook=NB, notebook_content=content, sources=False)
    assert snapshot(project) == before


def test_notebook_content_that_is_not_valid_is_kept_and_diffed_with_a_reason(
    project: Path,
) -> None:
    a = service.commit("first", notebook=NB, sources=False)
    b = service.commit("x", notebook=NB, notebook_content={"cells": "nope"}, sources=False)
    assert "cannot be compared" in service.diff(a, b, notebook=NB)["notebook"]["error"]


# -- variables whose serialization raises or never ends -----------------------------------
class Raises:
    def __reduce__(self) -> Any:
        raise RuntimeError("boom")


class Spins:
    def __reduce__(self) -> Any:
        while True:
            pass


class Sleeps:
    def __reduce__(self) -> Any:
        time.sleep(60)


class Huge:
    def __reduce__(self) -> Any:
        raise MemoryError


def test_a_variable_whose_serialization_raises_or_never_ends_is_skipped_and_named(
    project: Path,
) -> None:
    cid = service.commit(
        "mixed",
        variables={
            "ok": np.arange(5),
            "raises": Raises(),
            "spins": Spins(),
            "sleeps": Sleeps(),
            "oom": Huge(),
            "cfg": {"lr": 0.1},
        },
        sources=False,
        max_serialize_seconds=0.5,
    )
    rec = service.show(cid)
    assert sorted(rec["variables"]) == ["cfg", "ok"]
    skipped = rec["skipped"]
    assert "boom" in skipped["raises"]
    assert "MemoryError" in skipped["oom"]
    for name, kind in (("spins", "Spins"), ("sleeps", "Sleeps")):
        assert f"{kind}: serializing it took longer than 0.5 s" in skipped[name]
        assert "max_serialize_seconds" in skipped[name]
    assert service.load(cid, "ok").tolist() == [0, 1, 2, 3, 4]


def test_the_serialization_limit_has_a_default_and_can_be_set_per_block(project: Path) -> None:
    assert service.MAX_SERIALIZE_SECONDS == 60
    with service.commit_defaults(max_serialize_seconds=0.3):
        cid = service.commit("x", variables={"spins": Spins(), "a": 1}, sources=False)
    assert "took longer than 0.3 s" in service.show(cid)["skipped"]["spins"]
    assert service.load(cid, "a") == 1


def test_a_stuck_serialization_stops_holding_the_cpu_when_it_is_python_code(
    project: Path,
) -> None:
    import threading

    before = {t.ident for t in threading.enumerate()}
    service.commit("x", variables={"spins": Spins()}, sources=False, max_serialize_seconds=0.2)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        stuck = [t for t in threading.enumerate() if t.ident not in before and t.is_alive()]
        if not stuck:
            break  # the worker that ran the spinning __reduce__ has ended
        time.sleep(0.05)
    else:
        raise AssertionError(f"the spinning serializer still runs: {stuck}")


def test_the_serializing_worker_of_a_thread_ends_with_that_thread(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from mlvc_server.serializers import deadline

    monkeypatch.setattr(deadline, "_IDLE_CHECK_SECONDS", 0.05)
    before = set(threading.enumerate())
    t = threading.Thread(target=service.commit, args=("x",), kwargs={"variables": {"a": 1}})
    t.start()
    t.join()
    deadline_at = time.monotonic() + 10
    while time.monotonic() < deadline_at:
        workers = [w for w in threading.enumerate() if w not in before]
        if not workers:
            break  # a thread that committed once leaves no idle worker behind
        time.sleep(0.05)
    else:
        raise AssertionError(f"workers outlive their thread: {workers}")
