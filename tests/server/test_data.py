"""The data diff and data checkout over REST (mlvc_server/server/data.py)."""

from __future__ import annotations

from pathlib import Path

from mlvc_server import service

from .conftest import Api


def commit(root: Path, message: str) -> str:
    return service.commit(
        message, notebook=root / "train.ipynb", repo=root, sources=False, data=["data"]
    )


async def test_data_diff_and_checkout(api: Api, notebook: Path, jp_root_dir: Path) -> None:
    (jp_root_dir / "data").mkdir()
    csv = jp_root_dir / "data" / "t.csv"
    csv.write_text("id,v\n1,a\n2,b\n")
    service.track_content([str(jp_root_dir / "data" / "**")], repo=jp_root_dir)
    a = commit(jp_root_dir, "a")
    csv.write_text("id,v\n1,a\n2,B\n3,c\n")
    b = commit(jp_root_dir, "b")

    d = await api.get("data", "diff", key="id")
    assert (d["a"], d["b"], d["key"]) == (a, b, "id")
    (f,) = d["files"]
    assert f["path"] == "data/t.csv" and f["status"] == "changed"
    assert (f["size_a"], f["size_b"]) == (13, 17)
    assert f["rows"] == {"a": 2, "b": 3, "added": 1, "removed": 0, "changed": 1, "key": "id"}
    quick = await api.get("data", "diff", a=a, b=b, rows="false")
    assert "rows" not in quick["files"][0] and "schema" in quick["files"][0]

    dry = await api.post("data", "checkout", body={"rev": a, "dry_run": True})
    assert dry["restored"] == ["data/t.csv"] and dry["dry_run"]
    assert csv.read_text().endswith("3,c\n")
    done = await api.post("data", "checkout", body={"rev": a, "paths": ["data/t.csv"]})
    assert done["restored"] == ["data/t.csv"] and done["bytes"] == 13
    assert csv.read_text() == "id,v\n1,a\n2,b\n"
    assert Path(done["safety_copies"]["data/t.csv"]).read_text().endswith("3,c\n")
    assert dry["safety"] is None and done["safety"]

    undone = await api.post("data", "undo", body={"safety": done["safety"]})
    assert undone["put_back"] == ["data/t.csv"] and undone["commit"] == a
    assert csv.read_text() == "id,v\n1,a\n2,B\n3,c\n"
    code, err = await api.error("POST", "data", "undo", body={"safety": done["safety"]})
    assert code == 400 and "undone already" in err["message"]
    code, err = await api.error("POST", "data", "undo")  # no body: the last one; none left
    assert code == 404 and "no data checkout to undo" in err["message"]
    code, err = await api.error("POST", "data", "undo", body={"safety": "../../etc"})
    assert code == 400 and "not the name" in err["message"]


async def test_bad_requests_are_refused(api: Api, notebook: Path, jp_root_dir: Path) -> None:
    (jp_root_dir / "data").mkdir()
    (jp_root_dir / "data" / "t.csv").write_text("id\n1\n")
    commit(jp_root_dir, "a")
    code, err = await api.error("POST", "data", "checkout", body={"rev": "HEAD", "paths": ["x"]})
    assert code == 404 and "no data file 'x'" in err["message"]
    code, err = await api.error("POST", "data", "checkout", body={"paths": ["data/t.csv"]})
    assert code == 400
    code, err = await api.error("POST", "data", "checkout", body={"rev": "HEAD", "force": 1})
    assert code == 400 and "unknown field" in err["message"]
    code, err = await api.error(
        "POST", "data", "checkout", body={"rev": "HEAD", "paths": ["/etc/passwd"]}
    )
    assert code == 400 and "relative to the project" in err["message"]
    code, err = await api.error(
        "POST", "data", "checkout", body={"rev": "HEAD", "paths": ["../outside.csv"]}
    )
    assert code == 400 and "outside the project" in err["message"]
    code, _ = await api.error("GET", "data", "diff", a="nope")
    assert code == 404


async def test_checkout_with_data(api: Api, notebook: Path, jp_root_dir: Path) -> None:
    (jp_root_dir / "data").mkdir()
    csv = jp_root_dir / "data" / "t.csv"
    csv.write_text("id,v\n1,a\n2,b\n")
    service.track_content([str(jp_root_dir / "data" / "**")], repo=jp_root_dir)
    a = commit(jp_root_dir, "a")
    csv.write_text("id,v\n1,a\n2,B\n3,c\n")
    commit(jp_root_dir, "b")

    # the dialog's plan: what differs, and the sizes on both sides
    plan = await api.post("data", "checkout", body={"rev": a, "dry_run": True})
    assert plan["sizes"] == {"data/t.csv": 13} and plan["current_sizes"] == {"data/t.csv": 17}
    plain = await api.post("checkout", body={"rev": a, "mode": "notebook"})
    assert plain["data"] is None and csv.read_text().endswith("3,c\n")
    done = await api.post(
        "checkout", body={"rev": "main", "mode": "notebook", "data": True, "data_paths": None}
    )
    assert done["data"]["restored"] == [] and done["data"]["unchanged"] == ["data/t.csv"]
    done = await api.post(
        "checkout", body={"rev": a, "mode": "notebook", "data": True, "data_paths": ["data/t.csv"]}
    )
    assert done["data"]["restored"] == ["data/t.csv"] and done["notebook_written"]
    assert csv.read_text() == "id,v\n1,a\n2,b\n"
    assert Path(done["data"]["safety_copies"]["data/t.csv"]).read_text().endswith("3,c\n")
    code, err = await api.error(
        "POST", "checkout", body={"rev": "main", "data": True, "data_paths": ["data/x.csv"]}
    )
    assert code == 404 and "no data file 'data/x.csv'" in err["message"]
    assert csv.read_text() == "id,v\n1,a\n2,b\n"
    code, err = await api.error("POST", "checkout", body={"rev": "main", "data": "yes"})
    assert code == 400
