"""The MlvcApp settings, on a server configured with them (mlvc_server/app.py)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError, HTTPResponse

from .conftest import Api, KernelSession, write_notebook


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any], jp_root_dir: Path) -> dict[str, Any]:
    """The test server, with every mlvc setting changed from its default."""
    return {
        **jp_server_config,
        "MlvcApp": {
            "kernel_timeout": 0.5,
            "safety_commit": False,
            "max_log_limit": 3,
            "store_root": str(jp_root_dir / "project"),
            "max_variable_bytes": 1000,
            "max_serialize_seconds": 1.0,
        },
    }


@pytest.fixture
def notebook(jp_root_dir: Path) -> Path:
    """``project/train.ipynb``: inside the configured store root."""
    return write_notebook(jp_root_dir / "project" / "train.ipynb", "x = 1")


@pytest.fixture
def api(jp_fetch: Any) -> Api:
    return Api(jp_fetch, "project/train.ipynb")


async def test_the_store_is_created_at_store_root(
    api: Api, notebook: Path, jp_root_dir: Path
) -> None:
    body = await api.post("init")

    assert body["root"] == "project"
    assert (jp_root_dir / "project" / ".mlvc" / "HEAD").is_file()


async def test_max_log_limit_caps_pages(api: Api, notebook: Path) -> None:
    for i in range(4):
        await api.post("commits", body={"message": f"c{i}"})

    page = await api.get("log")
    assert len(page["commits"]) == 3 and page["limit"] == 3 and page["has_more"] is True
    code, _ = await api.error("GET", "log", limit=4)
    assert code == 400
    assert len((await api.get("compare"))["rows"]) == 3


async def test_checkout_without_safety_commit(api: Api, notebook: Path) -> None:
    first = (await api.post("commits", body={"message": "v1"}))["commit"]["id"]
    write_notebook(notebook, "x = 2  # unsaved")

    done = await api.post("checkout", body={"rev": first})

    assert done["safety_commit"] is None and done["notebook_written"] is True
    assert len((await api.get("log"))["commits"]) == 1


async def refused(request: Awaitable[HTTPResponse]) -> HTTPResponse:
    """The response of a request that must fail."""
    with pytest.raises(HTTPClientError) as info:
        await request
    assert info.value.response is not None
    return info.value.response


@pytest.fixture
def project_kernel(
    jp_fetch: Any,
    jp_serverapp: Any,
    notebook: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[KernelSession]:
    """A kernel session for ``project/train.ipynb`` (started by the test)."""
    monkeypatch.setenv("MLVC_CONFIG_DIR", str(tmp_path / "mlvc-config"))
    session = KernelSession(jp_fetch, jp_serverapp, "project/train.ipynb")
    yield session
    if session.client is not None:
        session.client.stop_channels()


async def test_big_variables_are_skipped_and_a_busy_kernel_is_not_waited_for(
    api: Api, project_kernel: KernelSession, jp_root_dir: Path
) -> None:
    await project_kernel.start()
    await project_kernel.run(
        "small = 1\nbig = bytes(5000)\n"
        "import time\n"
        "class Slow:\n"
        "    def __reduce__(self):\n"
        "        time.sleep(4)\n"
        "        return (Slow, ())\n"
        "slow = Slow()"
    )
    made = await api.post("commits", body={"message": "sizes"})
    assert made["commit"]["variables"] == ["small"]
    assert "big" in made["skipped"]
    assert "slow" in made["skipped"], made["skipped"]

    project_kernel.start_cell("import time; time.sleep(3)")
    await asyncio.sleep(0.3)
    assert (await api.get("status"))["kernel"] == "busy"
    waiting = asyncio.ensure_future(refused(api.request("POST", "commits", body={"message": "x"})))
    await asyncio.sleep(0.1)
    assert len((await api.get("log"))["commits"]) == 1
    assert not waiting.done()  # the log was answered while the commit waits for the kernel
    response = await waiting
    code, err = response.code, json.loads(response.body)

    assert code == 409 and err["reason"] == "KernelBusy"
    assert response.headers["Retry-After"] == "5"
    assert err["message"].startswith("kernel busy: waited 0.5 s for the running cell to finish")
    assert (await api.get("status"))["kernel"] == "busy"  # refused before the cell ended
    await project_kernel.run("pass", timeout=30)  # the long cell, then the dropped request
    assert [c["message"] for c in (await api.get("log"))["commits"]] == ["sizes"]


@pytest.mark.parametrize(
    "setting",
    [
        {"kernel_timeout": 0},
        {"max_log_limit": 0},
        {"max_variable_bytes": -1},
        {"max_serialize_seconds": -1},
    ],
)
def test_settings_out_of_range_are_refused(setting: dict[str, Any]) -> None:
    from traitlets import TraitError

    from mlvc_server.app import MlvcApp

    with pytest.raises(TraitError):
        MlvcApp(**setting)


def test_every_setting_is_documented() -> None:
    from mlvc_server.app import MlvcApp

    docs = (Path(__file__).parents[2] / "docs" / "rest.md").read_text()
    for name in (
        "store_root",
        "max_variable_bytes",
        "max_serialize_seconds",
        "safety_commit",
        "kernel_timeout",
        "max_log_limit",
    ):
        trait = MlvcApp.class_traits()[name]
        assert trait.metadata.get("config") and len(trait.help) > 40, name
        assert f"`MlvcApp.{name}`" in docs, name
