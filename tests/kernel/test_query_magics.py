"""``%mlvc log --where`` and ``%mlvc compare [--plot]`` in a real kernel."""

from __future__ import annotations

from typing import Any

import pytest
from harness import Kernel

import mlvc_server as mlvc

QUERY = "metrics.acc > 0.85 and params.C < 5"


@pytest.fixture(scope="module")
def k(kernel_factory: Any) -> Kernel:
    k = kernel_factory()
    k.run("%load_ext mlvc_server")
    for c, acc in ((0.1, 0.8), (1, 0.9), (10, 0.95), (2, 0.97)):
        k.run(f"%mlvc commit -m 'C={c}' --no-vars --param C={c} --metric acc={acc}")
    return k


def test_log_where_lists_the_commits_of_the_python_api(k: Kernel) -> None:
    expected = mlvc.log(repo=k.project, notebook=k.project / "train.ipynb", where=QUERY)
    assert {c["params"]["C"] for c in expected} == {1, 2}
    text = k.run(f"%mlvc log --where '{QUERY}'").text
    for c in expected:
        assert c["short_id"] in text
    assert "C=0.1" not in text and "C=10" not in text
    assert "No commit matches." in k.run("%mlvc log --where 'params.C > 100'").text


def test_a_bad_query_is_one_red_line(k: Kernel) -> None:
    r = k.run("%mlvc log --where 'metrics.acc >'", ok=False)
    assert r.error is not None
    assert "column 14" in "\n".join(r.error["traceback"])


def test_compare_table_and_vegalite_plot(k: Kernel) -> None:
    r = k.run("%mlvc compare --where 'metrics.acc >= 0.9' --sort metrics.acc --plot")
    table = [d for d in r.displays if "text/html" in d["data"]]
    assert table and "<table" in table[0]["data"]["text/html"]
    plain = table[0]["data"]["text/plain"].splitlines()
    assert plain[0].split()[:3] == ["commit", "branch", "params.C"]
    assert plain[2].rstrip().endswith("0.97 *")  # sorted best first, best marked
    assert len(plain) == 2 + 3
    spec = next(
        d["data"]["application/vnd.vegalite.v5+json"]
        for d in r.displays
        if "application/vnd.vegalite.v5+json" in d["data"]
    )
    assert spec["$schema"].endswith("vega-lite/v5.json")
    assert len(spec["data"]["values"]) == 3
    (chart,) = spec["concat"]
    assert chart["encoding"]["x"]["title"] == "params.C"
    assert chart["encoding"]["y"]["title"] == "metrics.acc"
    assert chart["encoding"]["color"]["field"] == "branch"
    assert chart["encoding"]["tooltip"][0]["field"] == "run"
    assert {v["id"][:8] for v in spec["data"]["values"]} == {
        v["run"][:8] for v in spec["data"]["values"]
    }
    # then parallel coordinates: a line per run over params.C and metrics.acc, each
    # axis scaled to its own range and labelled with its ends
    specs = [
        d["data"]["application/vnd.vegalite.v5+json"]
        for d in r.displays
        if "application/vnd.vegalite.v5+json" in d["data"]
    ]
    assert len(specs) == 2
    lines, points, labels = specs[1]["layer"]
    assert lines["mark"]["type"] == "line" and lines["encoding"]["detail"]["field"] == "id"
    assert lines["encoding"]["x"]["sort"] == ["params.C", "metrics.acc"]
    acc = sorted(v["value"] for v in lines["data"]["values"] if v["axis"] == "metrics.acc")
    scaled = sorted(v["scaled"] for v in lines["data"]["values"] if v["axis"] == "metrics.acc")
    assert scaled[0] == 0.0 and scaled[-1] == 1.0 and len(acc) == 3
    ends = {(x["axis"], x["label"]) for x in labels["data"]["values"]}
    assert ("metrics.acc", f"{acc[-1]:.4g}") in ends and ("metrics.acc", f"{acc[0]:.4g}") in ends
    assert points["encoding"]["tooltip"][0]["field"] == "run"


def test_compare_plot_draws_the_steps_of_the_runs_that_logged_them(k: Kernel) -> None:
    # last in this module: it adds a commit
    k.run(
        "import mlvc_server as mlvc\n"
        "for s, l in enumerate([0.9, 0.5, 0.2]):\n"
        "    mlvc.log_metrics(step=s, loss=l)"
    )
    k.run("%mlvc commit -m 'stepped' --no-vars --param C=3 --metric acc=0.99")
    stepped = mlvc.log(repo=k.project, notebook=k.project / "train.ipynb", limit=1)[0]

    def specs(line: str) -> list[dict[str, Any]]:
        r = k.run(line)
        return [
            d["data"]["application/vnd.vegalite.v5+json"]
            for d in r.displays
            if "application/vnd.vegalite.v5+json" in d["data"]
        ]

    drawn = specs("%mlvc compare --where 'metrics.acc >= 0.95' --plot")
    assert len(drawn) == 3  # scatter, parallel coordinates, loss across steps
    steps = drawn[2]
    assert "metrics.loss across steps" in steps["description"]
    assert [(v["id"], v["step"], v["value"]) for v in steps["data"]["values"]] == [
        (stepped["id"], 0, 0.9),
        (stepped["id"], 1, 0.5),
        (stepped["id"], 2, 0.2),
    ]
    assert steps["layer"][0]["mark"]["type"] == "line"
    # runs that logged no steps: no steps chart
    assert len(specs("%mlvc compare --where 'metrics.acc < 0.95' --plot")) == 2
