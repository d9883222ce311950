"""The REST handlers (mlvc_server/server.py) on a real Jupyter server."""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError, HTTPResponse

from mlvc_server.errors import (
    CorruptObjectError,
    InvalidNameError,
    MlvcError,
    NotARepositoryError,
    RefConflictError,
    RevisionNotFoundError,
    SerializationError,
    TrustError,
    VariableNotFoundError,
)
from mlvc_server.server import http_error

Fetch = Callable[..., Awaitable[HTTPResponse]]


async def fetch_error(jp_fetch: Fetch, *parts: str, **kwargs: Any) -> HTTPClientError:
    """Make a request that must fail, and return its error."""
    with pytest.raises(HTTPClientError) as info:
        await jp_fetch(*parts, **kwargs)
    return info.value


async def test_log_without_store_says_not_initialized(jp_fetch: Fetch, jp_root_dir: Path) -> None:
    (jp_root_dir / "train.ipynb").write_text("{}")

    response = await jp_fetch("mlvc", "log", params={"path": "train.ipynb"})

    assert response.code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    body = json.loads(response.body)
    assert body["initialized"] is False
    assert body["commits"] == [] and body["branches"] == [] and body["tags"] == []


async def test_log_without_credentials_is_refused(jp_fetch: Fetch) -> None:
    error = await fetch_error(
        jp_fetch, "mlvc", "log", params={"path": "train.ipynb"}, headers={"Authorization": ""}
    )

    assert error.code == 403


@pytest.mark.parametrize(
    "path",
    [
        "../x.ipynb",
        "a/../../x.ipynb",
        "/etc/passwd",
        "..",
        "a\\..\\x.ipynb",
        "",
        "x.txt",
        "a\nb.ipynb",
    ],
)
async def test_log_refuses_paths_outside_the_root(jp_fetch: Fetch, path: str) -> None:
    error = await fetch_error(jp_fetch, "mlvc", "log", params={"path": path})

    assert error.code == 400


async def test_log_refuses_a_symlink_leading_outside_the_root(
    jp_fetch: Fetch, jp_root_dir: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.ipynb").write_text("{}")
    os.symlink(outside, jp_root_dir / "link")

    error = await fetch_error(jp_fetch, "mlvc", "log", params={"path": "link/secret.ipynb"})

    assert error.code == 400
    assert "outside" in json.loads(error.response.body)["message"]  # type: ignore[union-attr]


async def test_log_refuses_a_notebook_name_too_long_to_version(jp_fetch: Fetch) -> None:
    # 60 characters of 4 bytes: a valid file name, but its percent-encoded form (which
    # names the notebook's refs in the store) is 720 bytes
    name = "\U0001d413" * 60 + ".ipynb"

    error = await fetch_error(jp_fetch, "mlvc", "log", params={"path": name})

    assert error.code == 400
    assert "too long" in json.loads(error.response.body)["message"]  # type: ignore[union-attr]


async def test_log_requires_a_path(jp_fetch: Fetch) -> None:
    error = await fetch_error(jp_fetch, "mlvc", "log")

    assert error.code == 400


@pytest.mark.parametrize("limit", ["0", "-1", "ten", "100001"])
async def test_log_refuses_a_bad_limit(jp_fetch: Fetch, limit: str) -> None:
    error = await fetch_error(
        jp_fetch, "mlvc", "log", params={"path": "train.ipynb", "limit": limit}
    )

    assert error.code == 400


@pytest.mark.parametrize(
    ("exc", "status"),
    [
        (NotARepositoryError("no store"), 404),
        (RevisionNotFoundError("no such revision"), 404),
        (InvalidNameError("bad name"), 400),
        (RefConflictError("moved"), 409),
        (TrustError("a pickle you did not write"), 403),
        (VariableNotFoundError("no x"), 404),
        (CorruptObjectError("bad bytes"), 409),
        (SerializationError("unreadable"), 422),
        (MlvcError("anything else"), 400),
    ],
)
def test_mlvc_errors_map_to_http_statuses(exc: MlvcError, status: int) -> None:
    error = http_error(exc)

    assert error.status_code == status
    assert error.reason == type(exc).__name__
    assert error.log_message is not None
    assert error.log_message % error.args == str(exc)


async def test_log_lists_the_notebooks_commits_newest_first(
    jp_fetch: Fetch, jp_root_dir: Path
) -> None:
    from mlvc_server import service

    notebook = jp_root_dir / "exp" / "train.ipynb"
    notebook.parent.mkdir()
    notebook.write_text("{}")
    repo = str(jp_root_dir)
    service.commit("first model", {"lr": 0.1}, notebook=str(notebook), repo=repo)
    service.commit(
        "smaller C", {"lr": 0.01}, notebook=str(notebook), repo=repo, metrics={"acc": 0.96}
    )

    response = await jp_fetch("mlvc", "log", params={"path": "exp/train.ipynb"})
    body = json.loads(response.body)

    assert body["initialized"] is True
    assert [c["message"] for c in body["commits"]] == ["smaller C", "first model"]
    newest = body["commits"][0]
    for key in ("id", "short_id", "message", "author", "time", "branch", "notebook"):
        assert isinstance(newest[key], str), key
    assert newest["notebook"] == "exp/train.ipynb"
    assert newest["metrics"] == {"acc": 0.96}

    limited = await jp_fetch("mlvc", "log", params={"path": "exp/train.ipynb", "limit": "1"})
    assert [c["message"] for c in json.loads(limited.body)["commits"]] == ["smaller C"]


async def test_log_of_another_notebook_in_the_store_is_empty(
    jp_fetch: Fetch, jp_root_dir: Path
) -> None:
    from mlvc_server import service

    (jp_root_dir / "a.ipynb").write_text("{}")
    service.commit("on a", {"x": 1}, notebook=str(jp_root_dir / "a.ipynb"), repo=str(jp_root_dir))

    response = await jp_fetch("mlvc", "log", params={"path": "b.ipynb"})

    body = json.loads(response.body)
    assert body["initialized"] is True
    assert body["commits"] == [] and body["total"] == 0


async def test_a_hidden_notebook_is_not_served_unless_the_server_allows_hidden_files(
    jp_fetch: Fetch, jp_root_dir: Path, jp_serverapp: Any
) -> None:
    hidden = jp_root_dir / ".secret"
    hidden.mkdir()
    (hidden / "n.ipynb").write_text(
        '{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'
    )
    for method, route in (("GET", "diff"), ("POST", "commits"), ("GET", "log")):
        kwargs: dict[str, Any] = {"params": {"path": ".secret/n.ipynb"}, "method": method}
        if method == "POST":
            kwargs["body"] = json.dumps({"message": "x"})
        error = await fetch_error(jp_fetch, "mlvc", route, **kwargs)
        assert error.code == 404, route
    assert not (jp_root_dir / ".mlvc").exists()  # nothing was committed

    jp_serverapp.contents_manager.allow_hidden = True
    made = await jp_fetch(
        "mlvc",
        "commits",
        method="POST",
        params={"path": ".secret/n.ipynb"},
        body=json.dumps({"message": "allowed"}),
    )
    assert made.code == 201


async def test_every_error_body_names_a_reason(jp_fetch: Fetch) -> None:
    error = await fetch_error(jp_fetch, "mlvc", "log", params={"path": "../x.ipynb"})
    body = json.loads(error.response.body)  # type: ignore[union-attr]
    assert error.code == 400 and body["reason"] == "BadRequest" and body["message"]
