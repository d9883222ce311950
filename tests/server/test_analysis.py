"""Diff, compare and series over REST (mlvc_server/server/analysis.py)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import numpy as np
import pytest

from mlvc_server import render, service

from .conftest import Api, write_notebook


def commit(root: Path, message: str, **kwargs: object) -> str:
    return service.commit(
        message, notebook=root / "train.ipynb", repo=root, sources=False, **kwargs
    )  # type: ignore[arg-type]


async def test_diff_of_two_commits_with_and_without_the_cell_diff(
    api: Api, notebook: Path, jp_root_dir: Path
) -> None:
    a = commit(jp_root_dir, "a", variables={"w": np.zeros(4)}, params={"lr": 0.1})
    write_notebook(notebook, "import numpy as np", "X = np.arange(20)", "print(X)")
    b = commit(jp_root_dir, "b", variables={"w": np.ones(4)}, params={"lr": 0.2})

    full = await api.get("diff", a=a, b=b)
    assert full["a"]["id"] == a and full["b"]["id"] == b
    assert full["params"] == [
        {"key": "lr", "status": "changed", "a": 0.1, "b": 0.2, "delta": pytest.approx(0.1)}
    ]
    (w,) = full["variables"]
    assert w["name"] == "w" and w["status"] == "changed"
    assert full["notebook"]["status"] == "changed"
    assert full["notebook"]["cells"]["added"] == 1 and full["notebook"]["cells"]["modified"] == 1
    assert isinstance(full["notebook"]["diff"], list) and full["notebook"]["diff"]

    quick = await api.get("diff", a=a, b=b, cells="false")
    assert "diff" not in quick["notebook"]
    default = await api.get("diff")  # HEAD~1 -> HEAD
    assert default["a"]["id"] == a and default["b"]["id"] == b

    code, _ = await api.error("GET", "diff", a=a, b="nope")
    assert code == 404
    code, err = await api.error("GET", "diff", a=a, cells="maybe")
    assert code == 400 and "true or false" in err["message"]
    code, _ = await api.error("GET", "diff", b=b)
    assert code == 400


async def test_compare_table_with_the_best_of_each_metric(
    api: Api, notebook: Path, jp_root_dir: Path
) -> None:
    c1 = commit(jp_root_dir, "1", params={"lr": 0.1}, metrics={"acc": 0.8, "val_loss": 0.5})
    c2 = commit(
        jp_root_dir, "2", params={"lr": 0.01, "C": 1}, metrics={"acc": 0.9, "val_loss": 0.6}
    )
    c3 = commit(jp_root_dir, "3", params={"lr": 0.05}, metrics={"acc": 0.9, "rmse": 2.0})

    table = await api.get("compare")
    assert [r["id"] for r in table["rows"]] == [c3, c2, c1]
    assert table["columns"] == {"params": ["C", "lr"], "metrics": ["acc", "rmse", "val_loss"]}
    assert table["best"]["acc"] == {"goal": "max", "value": 0.9, "ids": [c3, c2]}
    assert table["best"]["val_loss"] == {"goal": "min", "value": 0.5, "ids": [c1]}
    assert table["best"]["rmse"]["goal"] == "min"

    chosen = await api.get("compare", revs=f"{c1[:8]},HEAD,{c1}")
    assert [r["id"] for r in chosen["rows"]] == [c1, c3]
    limited = await api.get("compare", limit=1)
    assert [r["id"] for r in limited["rows"]] == [c3]

    code, _ = await api.error("GET", "compare", revs="HEAD,nope")
    assert code == 404
    code, _ = await api.error("GET", "compare", revs=",".join(["HEAD"] * 1001))
    assert code == 400
    code, _ = await api.error("GET", "compare", revs="a" * 3001)
    assert code == 400


@pytest.mark.parametrize(
    ("name", "goal"),
    [
        ("acc", "max"),
        ("val_loss", "min"),
        ("trainloss", "min"),
        ("mean_squared_error", "min"),
        ("RMSE", "min"),
        ("f1", "max"),
        ("auc", "max"),
        ("epoch-time", "min"),
        ("errors_fixed", "max"),
    ],
)
def test_metric_goal_rule(name: str, goal: str) -> None:
    assert service.metric_goal(name) == goal


async def test_series_across_commits_and_within_a_commit(
    api: Api, notebook: Path, jp_root_dir: Path
) -> None:
    first = commit(jp_root_dir, "1", metrics={"loss": 0.9, "acc": 0.5})
    for step, loss in enumerate([0.8, 0.6, 0.4]):
        service.log_metrics(step=step, loss=loss)
    second = commit(jp_root_dir, "2", metrics={"acc": 0.7, "note": "text"})

    body = await api.get("series")
    loss = body["series"]["loss"]
    assert loss["goal"] == "min"
    assert [(p["id"], p["value"]) for p in loss["points"]] == [(first, 0.9), (second, 0.4)]
    assert loss["steps"] == [
        {
            "id": second,
            "short_id": second[:8],
            "branch": "main",
            "message": "2",
            "steps": [[0, 0.8], [1, 0.6], [2, 0.4]],
        }
    ]
    assert "note" not in body["series"]
    assert "vegalite" not in body

    # the chart of the steps, as `%mlvc compare --plot` draws it: a line per run
    charted = await api.get("series", plot="steps")
    assert list(charted["vegalite"]) == ["loss"]  # the only metric with steps
    spec = charted["vegalite"]["loss"]
    assert spec == render.steps_vegalite(loss["steps"], "loss")
    assert spec["data"]["values"][0] == {
        "id": second,
        "run": second[:8],
        "branch": "main",
        "message": "2",
        "step": 0,
        "value": 0.8,
    }
    line, points = spec["layer"]
    assert line["encoding"]["detail"]["field"] == "id"
    assert line["encoding"]["color"]["field"] == "branch"
    assert line["encoding"]["x"]["axis"]["values"] == [0, 1, 2]  # whole steps labelled
    assert spec["params"] == [{"name": render.SELECTED_PARAM, "value": []}]
    assert render.SELECTED_PARAM in line["encoding"]["strokeWidth"]["condition"]["test"]
    assert "step" in [t["field"] for t in points["encoding"]["tooltip"]]
    code, err = await api.error("GET", "series", plot="pie")
    assert code == 400 and "plot must be steps" in err["message"]

    only_acc = await api.get("series", metric="acc")
    assert list(only_acc["series"]) == ["acc"]
    assert [p["value"] for p in only_acc["series"]["acc"]["points"]] == [0.5, 0.7]
    assert (await api.get("series", metric="nothing")) == {"series": {}}


async def test_the_diff_leaves_cell_outputs_out_unless_asked(
    api: Api, notebook: Path, jp_root_dir: Path
) -> None:
    nb = nbformat.read(notebook, as_version=4)
    nb.cells[0].outputs = [nbformat.v4.new_output("stream", text="big output\n")]
    nbformat.write(nb, notebook)
    service.commit("a", repo=jp_root_dir, notebook=notebook, sources=False)
    nb.cells[0].outputs = [nbformat.v4.new_output("stream", text="other output\n")]
    nbformat.write(nb, notebook)
    service.commit("b", repo=jp_root_dir, notebook=notebook, sources=False)

    plain = await api.get("diff")
    full = await api.get("diff", outputs="true")

    assert plain["notebook"]["outputs"] == "omitted"
    assert all("outputs" not in (e.get("b") or {}) for e in plain["notebook"]["cell_view"])
    assert any((e.get("b") or {}).get("outputs") for e in full["notebook"]["cell_view"])


async def test_diff_says_what_changed_in_the_presenters_words(
    api: Api, notebook: Path, jp_root_dir: Path
) -> None:
    pd = pytest.importorskip("pandas")
    from mlvc_server import render

    a = commit(jp_root_dir, "a", variables={"df": pd.DataFrame({"x": [1, 2, 3]}), "w": 1.0})
    b = commit(jp_root_dir, "b", variables={"df": pd.DataFrame({"x": [1, 2, 3, 4]}), "w": 2.0})
    got = {e["name"]: e for e in (await api.get("diff", a=a, b=b))["variables"]}
    # the frame's own lines, not "1 of 1 parts"; a float's values old -> new
    assert got["df"]["kind"] == "frame" and "rows: 3 -> 4" in got["df"]["lines"]
    assert "rows: 3 → 4" in got["df"]["change"] and "parts" not in got["df"]["change"]
    assert "1 → 2" in got["w"]["change"]
    # the same words as `mlvc diff` and `%mlvc diff`
    for e in service.diff(a, b, repo=jp_root_dir, notebook=notebook)["variables"]:
        assert got[e["name"]]["change"] == render.variable_change(e)
