"""``?where=`` on ``GET /mlvc/log`` and ``GET /mlvc/compare``: the same commits as the
Python API, and a 400 naming the column of a bad token."""

from __future__ import annotations

from pathlib import Path

from mlvc_server import service

from .conftest import Api

QUERY = 'metrics.acc > 0.9 and params.C < 2 and branch ~ "sweep-*" and kind != "safety"'


def commit(root: Path, message: str, branch: str | None, c: float, acc: float) -> str:
    return service.commit(
        message,
        notebook=root / "train.ipynb",
        repo=root,
        sources=False,
        branch=branch,
        params={"C": c},
        metrics={"acc": acc},
    )


async def test_where_on_log_and_compare(api: Api, notebook: Path, jp_root_dir: Path) -> None:
    commit(jp_root_dir, "a", None, 0.1, 0.8)
    commit(jp_root_dir, "b", None, 1.0, 0.93)
    c = commit(jp_root_dir, "c", "sweep-1", 0.5, 0.97)
    commit(jp_root_dir, "d", "sweep-1", 5, 0.91)
    e = commit(jp_root_dir, "e", "sweep-2", 1.5, 0.95)
    expected = [x["id"] for x in service.log(repo=jp_root_dir, notebook=notebook, where=QUERY)]
    assert sorted(expected) == sorted([c, e])
    page = await api.get("log", where=QUERY)
    assert [x["id"] for x in page["commits"]] == expected
    assert page["total"] == 2 and not page["has_more"]
    first = await api.get("log", where=QUERY, limit="1")
    assert [x["id"] for x in first["commits"]] == expected[:1] and first["has_more"]
    table = await api.get("compare", where=QUERY, sort="metrics.acc")
    assert [r["id"] for r in table["rows"]] == [c, e]
    everything = await api.get("log", where="")
    assert len(everything["commits"]) == 5
    slim = await api.get("compare", only_differing="true", where="params.C = 0.1 or params.C = 1")
    assert slim["columns"] == {"params": ["C"], "metrics": ["acc"]}


async def test_a_bad_query_is_a_400_naming_the_column(api: Api, notebook: Path) -> None:
    commit(notebook.parent, "a", None, 0.1, 0.8)
    code, body = await api.error("GET", "log", where="metrics.acc > and")
    assert code == 400
    assert "column 15" in body["message"] and "unexpected 'and'" in body["message"]
    code, body = await api.error("GET", "compare", where="nope = 1")
    assert code == 400 and "unknown field 'nope'" in body["message"]
    code, body = await api.error("GET", "compare", sort="nope")
    assert code == 400 and "cannot sort by" in body["message"]


async def test_compare_answers_the_chart_spec_of_the_magic(
    api: Api, notebook: Path, jp_root_dir: Path
) -> None:
    from mlvc_server import render

    ids = [commit(jp_root_dir, m, None, c, a) for m, c, a in (("a", 0.1, 0.8), ("b", 1, 0.9))]
    table = await api.get("compare", plot="scatter")
    assert "vegalite" in table
    plain = {k: v for k, v in table.items() if k != "vegalite"}
    assert table["vegalite"] == render.compare_vegalite(plain, "scatter")
    assert {v["id"] for v in table["vegalite"]["data"]["values"]} == set(ids)
    par = await api.get("compare", plot="parallel")
    assert par["vegalite"]["layer"][0]["encoding"]["x"]["sort"] == ["params.C", "metrics.acc"]
    # the panel outlines the selected runs through one top-level param (a signal it
    # sets without drawing again): every chart declares it, empty, and tests it
    for spec in (table["vegalite"], par["vegalite"]):
        assert spec["params"] == [{"name": render.SELECTED_PARAM, "value": []}]
    point = table["vegalite"]["concat"][0]["encoding"]
    assert (
        point["stroke"]["condition"]["test"] == f"indexof({render.SELECTED_PARAM}, datum.id) >= 0"
    )
    assert "vegalite" not in await api.get("compare")
    code, body = await api.error("GET", "compare", plot="pie")
    assert code == 400 and "scatter, parallel" in body["message"]
