"""Status, init, log, one commit, branches and tags over REST (mlvc_server/server/history.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlvc_server import service

from .conftest import Api, write_notebook


def commit(root: Path, message: str, **kwargs: object) -> str:
    """Commit ``train.ipynb`` from the test (no kernel), as a user of the Python API."""
    return service.commit(
        message, notebook=root / "train.ipynb", repo=root, sources=False, **kwargs
    )  # type: ignore[arg-type]


async def test_status_before_init_then_after_init(
    api: Api, notebook: Path, jp_root_dir: Path
) -> None:
    before = await api.get("status")
    assert before == {"initialized": False, "kernel": "none"}

    response = await api.request("POST", "init")
    assert response.code == 201
    assert response.headers["Location"].endswith("/mlvc/status?path=train.ipynb")
    assert (jp_root_dir / ".mlvc" / "HEAD").is_file()
    again = await api.request("POST", "init", body={})
    assert again.code == 200

    after = await api.get("status")
    assert after["initialized"] is True
    assert after["root"] == ""
    assert after["branch"] == "main" and after["head"] is None
    assert after["notebook_exists"] is True and after["notebook_changed"] is True
    assert after["kernel"] == "none"


async def test_status_says_what_changed_since_head(
    api: Api, notebook: Path, jp_root_dir: Path
) -> None:
    data = jp_root_dir / "data.csv"
    data.write_text("a,b\n1,2\n")
    cid = commit(jp_root_dir, "first", data=["data.csv"])

    clean = await api.get("status")
    assert clean["head"] == cid
    assert clean["notebook_changed"] is False and clean["data_changed"] is False

    write_notebook(notebook, "import numpy as np", "X = np.arange(20)")
    data.write_text("a,b\n1,3\n")
    dirty = await api.get("status")
    assert dirty["notebook_changed"] is True
    assert dirty["data"] == {"data.csv": "changed"} and dirty["data_changed"] is True


async def test_init_creates_the_store_next_to_the_notebook(
    jp_fetch: object, jp_root_dir: Path
) -> None:
    write_notebook(jp_root_dir / "exp" / "deep" / "train.ipynb", "x = 1")
    api = Api(jp_fetch, "exp/deep/train.ipynb")  # type: ignore[arg-type]

    body = await api.post("init")

    assert body == {"initialized": True, "created": True, "root": "exp/deep"}


async def test_log_pages_through_the_graph_with_branches_and_tags(
    api: Api, notebook: Path, jp_root_dir: Path
) -> None:
    ids = [
        commit(jp_root_dir, f"run {i}", params={"lr": 0.1 / (i + 1)}, metrics={"acc": i / 10})
        for i in range(5)
    ]
    service.tag("champion", ids[3], repo=jp_root_dir, notebook=notebook)

    first = await api.get("log", limit=2)
    assert [c["message"] for c in first["commits"]] == ["run 4", "run 3"]
    assert first["has_more"] is True and "total" not in first
    assert first["branches"] == [{"name": "main", "head": ids[4], "current": True}]
    assert first["tags"] == [{"name": "champion", "commit": ids[3]}]
    newest = first["commits"][0]
    assert newest["parents"] == [ids[3]]
    assert newest["branches"] == ["main"] and first["commits"][1]["tags"] == ["champion"]
    assert newest["params"] == {"lr": pytest.approx(0.02)} and newest["metrics"] == {"acc": 0.4}

    last = await api.get("log", limit=2, skip=4)
    assert [c["id"] for c in last["commits"]] == [ids[0]]
    assert last["has_more"] is False and last["total"] == 5


async def test_log_of_one_branch(api: Api, notebook: Path, jp_root_dir: Path) -> None:
    base = commit(jp_root_dir, "base")
    service.branch("sweep", repo=jp_root_dir, notebook=notebook)
    commit(jp_root_dir, "on sweep")

    main = await api.get("log", branch="main")
    sweep = await api.get("log", branch="sweep")

    assert [c["id"] for c in main["commits"]] == [base]
    assert [c["message"] for c in sweep["commits"]] == ["on sweep", "base"]
    code, err = await api.error("GET", "log", branch="nope")
    assert code == 404 and err["reason"] == "RevisionNotFoundError"


async def test_one_commit_record(api: Api, notebook: Path, jp_root_dir: Path) -> None:
    cid = commit(jp_root_dir, "with vars", variables={"lr": 0.1, "layers": [3, 2]})

    for rev in (cid, cid[:8], "HEAD", "main"):
        record = await api.get("commits", rev)
        assert record["id"] == cid
    assert set(record["variables"]) == {"lr", "layers"}
    assert record["notebook"] == "train.ipynb" and record["env"] and record["hardware"]

    code, err = await api.error("GET", "commits", "HEAD~5")
    assert code == 404 and err["reason"] == "RevisionNotFoundError"
    code, err = await api.error("GET", "commits", "HEAD ~1")
    assert code == 400 and "spaces" in err["message"]


async def test_reads_without_a_store_say_so(api: Api, notebook: Path) -> None:
    for part in ("branches", "tags", "diff", "compare", "series"):
        code, err = await api.error("GET", part)
        assert code == 404, part
        assert err["reason"] == "NotARepositoryError"


async def test_branches_create_list_rename_switch_delete(
    api: Api, notebook: Path, jp_root_dir: Path
) -> None:
    first = commit(jp_root_dir, "first")

    response = await api.request("POST", "branches", body={"name": "lr/sweep"})
    assert response.code == 201
    assert response.headers["Location"].endswith("/mlvc/branches/lr/sweep?path=train.ipynb")
    listed = await api.get("branches")
    assert listed["current"] == "lr/sweep"
    assert {b["name"] for b in listed["branches"]} == {"main", "lr/sweep"}
    assert await api.get("branches", "lr/sweep") == {
        "name": "lr/sweep",
        "head": first,
        "current": True,
    }

    kept = await api.post("branches", body={"name": "idea", "from": "main", "switch": False})
    assert kept == {"name": "idea", "head": first, "current": False}

    renamed = await api.request("PATCH", "branches", "lr/sweep", body={"new_name": "wide"})
    assert renamed.code == 200
    listed = await api.get("branches")
    assert listed["current"] == "wide"
    assert {b["name"] for b in listed["branches"]} == {"main", "idea", "wide"}
    second = commit(jp_root_dir, "on wide")
    assert (await api.get("branches", "wide"))["head"] == second

    switched = await api.request("PATCH", "branches", "main", body={"switch": True})
    assert switched.code == 200
    assert (await api.get("branches"))["current"] == "main"

    deleted = await api.request("DELETE", "branches", "idea")
    assert deleted.code == 204 and deleted.body == b""
    code, err = await api.error("DELETE", "branches", "main")
    assert code == 409 and err["reason"] == "RefConflictError"
    code, _ = await api.error("DELETE", "branches", "idea")
    assert code == 404
    code, err = await api.error("POST", "branches", body={"name": "wide"})
    assert code == 409 and "exists" in err["message"]
    code, _ = await api.error("PATCH", "branches", "main", body={"new_name": "wide"})
    assert code == 409
    code, _ = await api.error("PATCH", "branches", "main", body={})
    assert code == 400


async def test_tags_create_move_rename_delete(api: Api, notebook: Path, jp_root_dir: Path) -> None:
    first = commit(jp_root_dir, "first")
    second = commit(jp_root_dir, "second")

    response = await api.request("POST", "tags", body={"name": "champion", "rev": first})
    assert response.code == 201
    assert response.headers["Location"].endswith("/mlvc/tags/champion?path=train.ipynb")
    code, err = await api.error("POST", "tags", body={"name": "champion"})
    assert code == 409 and "force" in err["message"]
    moved = await api.post("tags", body={"name": "champion", "force": True})
    assert moved == {"name": "champion", "commit": second}

    renamed = await api.request("PATCH", "tags", "champion", body={"new_name": "v1"})
    assert renamed.code == 200
    assert await api.get("tags") == {"tags": [{"name": "v1", "commit": second}]}
    assert await api.get("tags", "v1") == {"name": "v1", "commit": second}

    assert (await api.request("DELETE", "tags", "v1")).code == 204
    assert await api.get("tags") == {"tags": []}
    code, _ = await api.error("DELETE", "tags", "v1")
    assert code == 404
    code, _ = await api.error("POST", "tags", body={"name": "x", "rev": "nope"})
    assert code == 404


BAD_NAMES = ["../x", "a b", "x" * 300, "HEAD", "a..b", "-x", "x.lock", "deadbeef", "", "a\x00b"]


@pytest.mark.parametrize("name", BAD_NAMES)
async def test_bad_branch_and_tag_names_are_refused(
    api: Api, notebook: Path, jp_root_dir: Path, name: str
) -> None:
    commit(jp_root_dir, "first")

    for kind in ("branches", "tags"):
        code, err = await api.error("POST", kind, body={"name": name})
        assert code == 400, (kind, name)
        assert err["message"]
    if name and "\x00" not in name:
        code, _ = await api.error("PATCH", "branches", "main", body={"new_name": name})
        assert code == 400
        code, _ = await api.error("GET", "log", branch=name)
        assert code == 400
    assert [b["name"] for b in (await api.get("branches"))["branches"]] == ["main"]
    assert (await api.get("tags"))["tags"] == []


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("not json", "JSON"),
        ("[1, 2]", "object"),
        ({"name": 3}, "string"),
        ({"name": "ok", "switch": "yes"}, "true or false"),
        ({"name": "ok", "colour": "red"}, "unknown field"),
        ({}, "missing field 'name'"),
        ("", "JSON object body"),
        ({"name": "ok", "from": "a b"}, "spaces"),
    ],
)
async def test_bad_bodies_are_refused_with_a_reason(
    api: Api, notebook: Path, jp_root_dir: Path, body: object, words: str
) -> None:
    commit(jp_root_dir, "first")

    code, err = await api.error("POST", "branches", body=body)

    assert code == 400
    assert words in err["message"]


async def test_a_body_over_one_mib_is_refused(api: Api, notebook: Path, jp_root_dir: Path) -> None:
    commit(jp_root_dir, "first")

    code, _ = await api.error("POST", "tags", body={"name": "x", "rev": "a" * (1 << 20)})

    assert code == 413


async def test_an_unsupported_method_says_what_is_allowed(api: Api, notebook: Path) -> None:
    from tornado.httpclient import HTTPClientError

    with pytest.raises(HTTPClientError) as info:
        await api.request("PUT", "branches", body={})

    assert info.value.code == 405
    assert info.value.response is not None
    assert info.value.response.headers["Allow"] == "GET, POST"
