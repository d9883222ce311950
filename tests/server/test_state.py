"""Commit, checkout and restore through the notebook's kernel (mlvc_server/server/state.py).

The kernel is a real python3 kernel started by the server for a notebook session
(``POST /api/sessions``), exactly as JupyterLab starts one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nbformat
import pytest

from mlvc_server import service
from mlvc_server.service.commits import author_identity

from .conftest import Api, Fetch, KernelSession, write_notebook


async def me(jp_fetch: Fetch) -> tuple[str, dict[str, Any]]:
    """The login cookie of a user (as a browser keeps it), and that user's identity."""
    response = await jp_fetch("api", "me")
    cookie = response.headers["Set-Cookie"].split(";")[0]
    identity = json.loads(response.body)["identity"]
    return cookie, identity


# -- without a kernel ------------------------------------------------------------------------
async def test_commit_without_a_kernel_holds_the_notebook_alone(
    jp_fetch: Fetch, api: Api, notebook: Path, jp_root_dir: Path
) -> None:
    cookie, user = await me(jp_fetch)

    response = await api.request(
        "POST",
        "commits",
        body={"message": "first try", "params": {"lr": 0.1}, "metrics": {"acc": 0.5}},
        headers={"Cookie": cookie},
    )

    assert response.code == 201
    body = json.loads(response.body)
    assert body["kernel"] == "none"
    assert body["note"] == "no kernel: the notebook alone was committed"
    made = body["commit"]
    assert response.headers["Location"].endswith(f"/mlvc/commits/{made['id']}?path=train.ipynb")
    # Jupyter's random "Anonymous ..." user is not a real identity: the commit carries
    # the one a magic or the CLI would (login, git or MLVC_AUTHOR_NAME)
    assert user["name"].startswith("Anonymous")
    assert made["message"] == "first try" and made["author"] == author_identity(None)[0]
    assert made["params"] == {"lr": 0.1} and made["metrics"] == {"acc": 0.5}
    assert made["variables"] == []
    record = await api.get("commits", made["id"])
    assert record["sources"] == []  # the server's own imports are not the notebook's
    assert (
        service.notebook_at(made["id"], repo=jp_root_dir, notebook=notebook)
        == notebook.read_bytes()
    )


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({}, "missing field 'message'"),
        ({"message": ""}, "must not be empty"),
        ({"message": "x" * 10_001}, "longer than 10000"),
        ({"message": 3}, "string"),
        ({"message": "m", "params": [1]}, "object"),
        ({"message": "m", "metrics": {"": 1}}, "empty key"),
        ({"message": "m", "variables": "X"}, "list of names"),
        ({"message": "m", "variables": ["X"] * 1001}, "more than 1000"),
        ({"message": "m", "variables": [3]}, "string"),
        ({"message": "m", "include_variables": 1}, "true or false"),
        ({"message": "m", "mesage": "typo"}, "unknown field"),
    ],
)
async def test_commit_bodies_are_validated(
    api: Api, notebook: Path, body: dict[str, Any], words: str
) -> None:
    code, err = await api.error("POST", "commits", body=body)

    assert code == 400
    assert words in err["message"]


async def test_commit_of_a_missing_notebook_is_404(api: Api) -> None:
    code, err = await api.error("POST", "commits", body={"message": "m"})

    assert code == 404 and "save it first" in err["message"]


async def test_checkout_without_a_kernel_writes_the_notebook_after_a_safety_commit(
    api: Api, notebook: Path, jp_root_dir: Path
) -> None:
    first = (await api.post("commits", body={"message": "v1"}))["commit"]["id"]
    write_notebook(notebook, "X = 2")
    second = (await api.post("commits", body={"message": "v2"}))["commit"]["id"]
    clean = await api.post("checkout", body={"rev": "HEAD", "mode": "notebook"})
    assert clean["safety_commit"] is None  # nothing unsaved
    write_notebook(notebook, "X = 3  # not committed")
    unsaved = notebook.read_bytes()

    done = await api.post("checkout", body={"rev": first})

    assert done["commit"] == first and done["branch"] == "main"
    assert done["notebook_written"] is True and done["kernel"] == "none"
    assert done["variables_restored"] == [] and done["skipped"] == {}
    safety = done["safety_commit"]
    assert safety is not None
    assert service.notebook_at(safety, repo=jp_root_dir, notebook=notebook) == unsaved
    assert service.log(repo=jp_root_dir, notebook=notebook, rev=safety, limit=1)[0]["parents"] == [
        second
    ]
    restored = nbformat.read(notebook, as_version=4)
    assert [c.source for c in restored.cells] == ["import numpy as np", "X = np.arange(10)"]

    code, err = await api.error("POST", "checkout", body={"rev": first, "mode": "variables"})
    assert code == 409 and err["reason"] == "NoKernel"
    code, _ = await api.error("POST", "checkout", body={"rev": first, "mode": "all"})
    assert code == 400
    code, _ = await api.error("POST", "checkout", body={"rev": "nope"})
    assert code == 404


async def test_checkout_of_a_branch_makes_it_current(
    api: Api, notebook: Path, jp_root_dir: Path
) -> None:
    await api.post("commits", body={"message": "on main"})
    await api.post("branches", body={"name": "idea"})
    write_notebook(notebook, "idea = 1")
    await api.post("commits", body={"message": "on idea"})

    done = await api.post("checkout", body={"rev": "main"})

    assert done["branch"] == "main" and done["safety_commit"] is None
    assert (await api.get("branches"))["current"] == "main"


async def test_restore_needs_a_kernel(api: Api, notebook: Path) -> None:
    await api.post("commits", body={"message": "m"})

    code, err = await api.error("POST", "restore", body={"rev": "HEAD", "names": ["X"]})

    assert code == 409 and err["reason"] == "NoKernel"


# -- through the kernel ----------------------------------------------------------------------
async def test_commit_checkout_and_restore_through_the_kernel(
    jp_fetch: Fetch, api: Api, kernel: KernelSession, jp_root_dir: Path
) -> None:
    cookie, user = await me(jp_fetch)
    await kernel.start()
    await kernel.run("import numpy as np\nX = np.arange(10)\nlr = 0.1\nimport mlvc_server as mlvc")
    await kernel.run("mlvc.log_metrics(step=1, loss=0.5); mlvc.log_metrics(step=2, loss=0.3)")
    count = await kernel.value("get_ipython().execution_count")

    response = await api.request(
        "POST",
        "commits",
        body={"message": "from the sidebar", "params": {"epochs": 3}},
        headers={"Cookie": cookie},
    )
    assert response.code == 201
    body = json.loads(response.body)
    assert body["kernel"] == "used" and "note" not in body
    first = body["commit"]
    assert first["author"] == author_identity(None)[0] != user["name"]
    assert set(first["variables"]) == {"X", "lr"}
    assert first["params"] == {"epochs": 3} and first["metrics"] == {"loss": 0.3}
    assert service.load(first["id"], "X", repo=jp_root_dir).tolist() == list(range(10))
    record = await api.get("commits", first["id"])
    assert record["kernel"]["language"] == "python"
    assert record["metric_series"] == {"loss": [[1, 0.5], [2, 0.3]]}
    # a silent request: the user's execution count and history are untouched
    assert await kernel.value("get_ipython().execution_count") == count
    assert await kernel.value("len(In)") == count

    await kernel.run("X = X * 100\ny = 'new'")
    done = await api.post("checkout", body={"rev": first["id"]})
    assert done["kernel"] == "used"
    assert sorted(done["variables_restored"]) == ["X", "lr"]
    assert await kernel.value("X.tolist()") == list(range(10))
    safety = done["safety_commit"]
    assert safety is not None  # X had changed: committed before it was replaced
    assert service.load(safety, "X", repo=jp_root_dir).tolist() == [i * 100 for i in range(10)]
    assert service.show(safety, repo=jp_root_dir)["author"] == author_identity(None)[0]

    # the safety commit is the branch's tip; HEAD is the commit checked out (detached)
    status = await api.get("status")
    assert status["head"] == first["id"] and status["detached"] is True
    await kernel.run("lr = 5")
    restored = await api.post("restore", body={"rev": "HEAD", "names": ["lr"]})
    assert restored == {
        "commit": first["id"],
        "restored": ["lr"],
        "failed": {},
        "safety_commit": None,
    }
    assert await kernel.value("lr") == 0.1

    code, err = await api.error("POST", "restore", body={"rev": "HEAD", "names": ["nope"]})
    assert code == 404 and err["reason"] == "VariableNotFoundError"
    partly = await api.post("restore", body={"rev": "HEAD", "names": ["lr", "nope"]})
    assert partly["restored"] == ["lr"]
    assert partly["failed"]["nope"]["error"] == "VariableNotFoundError"

    # the panel asks for a safety commit first: the value it overwrites can come back
    await kernel.run("lr = 7")
    safe = await api.post("restore", body={"rev": first["id"], "names": ["lr"], "safety": True})
    assert safe["restored"] == ["lr"] and safe["safety_commit"] is not None
    assert service.load(safe["safety_commit"], "lr", repo=jp_root_dir) == 7
    assert service.show(safe["safety_commit"], repo=jp_root_dir)["kind"] == "safety"
    assert await kernel.value("lr") == 0.1
    # X is as the safety commit (now HEAD) has it: replacing it loses nothing, though
    # lr differs (a variable the restore leaves alone needs no saving)
    again = await api.post("restore", body={"rev": first["id"], "names": ["X"], "safety": True})
    assert again["restored"] == ["X"] and again["safety_commit"] is None


async def test_commit_of_chosen_variables_or_none(api: Api, kernel: KernelSession) -> None:
    await kernel.start()
    await kernel.run("a = 1\nb = [1, 2]\nc = 'three'")

    chosen = await api.post("commits", body={"message": "two", "variables": ["a", "c", "zz"]})
    assert chosen["commit"]["variables"] == ["a", "c"]
    assert chosen["skipped"] == {"zz": "not defined"}

    none = await api.post("commits", body={"message": "none", "include_variables": False})
    assert none["kernel"] == "used" and none["commit"]["variables"] == []
