"""Every route in openapi.yaml refuses requests without credentials, and changes without
XSRF; the spec and the server's routes agree."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from tornado.httpclient import HTTPClientError, HTTPResponse

import mlvc_server
from mlvc_server.server import ROUTES

from .conftest import Fetch

SPEC = yaml.safe_load((Path(mlvc_server.__file__).parent / "openapi.yaml").read_text())
#: Every (method, path template) the spec describes.
OPERATIONS = [
    (method.upper(), path)
    for path, operations in SPEC["paths"].items()
    for method in operations
    if method in ("get", "post", "patch", "put", "delete")
]
CHANGES = [(m, p) for m, p in OPERATIONS if m in ("POST", "PATCH", "PUT", "DELETE")]
#: Values for the path parameters of the spec's routes.
PATH_VALUES = {"rev": "HEAD", "name": "main", "job": "0123abcd", "alias": "production"}


def url_parts(template: str) -> list[str]:
    """The parts of a route's URL, path parameters filled in."""
    filled = re.sub(r"\{(\w+)\}", lambda m: PATH_VALUES[m.group(1)], template)
    return filled.strip("/").split("/")


async def call(
    fetch: Fetch, method: str, template: str, headers: dict[str, str]
) -> tuple[int, dict[str, Any]]:
    """Make a request to a route for ``train.ipynb``; its status and JSON body."""
    kwargs: dict[str, Any] = {"method": method, "headers": headers}
    if method in ("POST", "PATCH", "PUT"):
        kwargs["body"] = "{}"
    try:
        response: HTTPResponse = await fetch(
            *url_parts(template), params={"path": "train.ipynb"}, **kwargs
        )
    except HTTPClientError as err:
        assert err.response is not None
        body = err.response.body
        return err.code, json.loads(body) if body else {}
    return response.code, json.loads(response.body) if response.body else {}


def test_the_spec_describes_every_route_and_method() -> None:
    served = set()
    for pattern, handler in ROUTES:
        template = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", pattern)
        served |= {(method, template) for method in handler.allowed_methods()}

    assert served == set(OPERATIONS)
    assert len(OPERATIONS) == 41


@pytest.mark.parametrize(("method", "template"), OPERATIONS)
@pytest.mark.parametrize("authorization", ["", "token not-the-token"])
async def test_every_route_refuses_a_request_without_credentials(
    jp_fetch: Fetch, notebook: Path, method: str, template: str, authorization: str
) -> None:
    code, body = await call(jp_fetch, method, template, {"Authorization": authorization})

    assert code == 403
    assert body.get("message")


async def login_cookie(jp_fetch: Fetch) -> str:
    """The login cookie a browser gets (here from a token-authenticated request)."""
    response = await jp_fetch("api", "me")
    return str(response.headers["Set-Cookie"].split(";")[0])


@pytest.mark.parametrize(("method", "template"), CHANGES)
async def test_every_change_with_a_login_cookie_needs_the_xsrf_token(
    jp_fetch: Fetch, notebook: Path, jp_root_dir: Path, method: str, template: str
) -> None:
    from mlvc_server import service

    service.commit("first", notebook=notebook, repo=jp_root_dir, sources=False)
    cookie = await login_cookie(jp_fetch)
    no_token = {"Authorization": ""}

    code, body = await call(jp_fetch, method, template, {**no_token, "Cookie": cookie})
    assert code == 403
    assert "XSRF" in body["message"] or "_xsrf" in body["message"]

    xsrf = "0123456789abcdef"  # any value; what counts is that the header echoes the cookie
    with_xsrf = {**no_token, "Cookie": f"{cookie}; _xsrf={xsrf}", "X-XSRFToken": xsrf}
    code, body = await call(jp_fetch, method, template, with_xsrf)
    assert code != 403, body  # past authentication and XSRF (the empty body may be a 400)


@pytest.mark.parametrize(("method", "template"), CHANGES)
async def test_a_change_with_the_token_needs_no_xsrf(
    jp_fetch: Fetch, notebook: Path, jp_root_dir: Path, method: str, template: str
) -> None:
    from mlvc_server import service

    service.commit("first", notebook=notebook, repo=jp_root_dir, sources=False)

    code, body = await call(jp_fetch, method, template, {})

    assert code != 403, body
