"""The HTML and text views of histories and diffs, on diffs made by the real service."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import nbformat
import numpy as np
import pytest

import mlvc_server as mlvc
from mlvc_server import render as rendering
from mlvc_server.render import (
    render_diff_html,
    render_diff_text,
    render_log_html,
    render_log_text,
)


def _write_notebook(path: Path, sources: list[str]) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    nbformat.write(nb, path)


@pytest.fixture
def project(tmp_path: Path) -> dict[str, Any]:
    """A project with two commits of train.ipynb: params, metrics, arrays and a cell changed."""
    nb = tmp_path / "train.ipynb"
    _write_notebook(nb, ["x = 1"])
    weights = np.arange(100, dtype=np.float64)
    a = mlvc.commit(
        "first <model>",
        variables={"weights": weights, "X": np.ones((5, 4)), "lr": 0.1, "gone": "bye"},
        notebook=nb,
        params={"C": 1.0, "seed": 0},
        metrics={"acc": 0.95},
        repo=tmp_path,
    )
    _write_notebook(nb, ["x = 1", "y = 2"])
    weights2 = weights.copy()
    weights2[:10] += 1.5
    b = mlvc.commit(
        "smaller C & more",
        variables={"weights": weights2, "X": np.ones((5, 4)), "lr": 0.3, "new": [1, 2]},
        notebook=nb,
        params={"C": 0.1, "seed": 0, "max_iter": 300},
        metrics={"acc": 0.96},
        repo=tmp_path,
    )
    diff = mlvc.diff(a, b, repo=tmp_path, notebook=nb)
    return {
        "a": a,
        "b": b,
        "diff": diff,
        "log": mlvc.log(repo=tmp_path, notebook=nb),
        "root": tmp_path,
    }


def _parse(html: str) -> ET.Element:
    """The HTML as an element tree: fails on unbalanced tags or unescaped text."""
    return ET.fromstring(f"<root>{html}</root>")


def _rows(tree: ET.Element) -> list[list[str]]:
    return [
        ["".join(cell.itertext()) for cell in tr]
        for tr in tree.iter("tr")
        if tr.find("th") is None or tr.find("td") is not None
    ]


def test_diff_html_shows_each_changed_item_with_its_change(project: dict[str, Any]) -> None:
    html = render_diff_html(project["diff"])
    tree = _parse(html)
    rows = {(r[0] or "", r[1]): r[2] for r in _rows(tree)}
    by_name = {name: change for (_section, name), change in rows.items()}

    assert by_name["C"] == "1 → 0.1 (-0.9)"
    assert by_name["max_iter"] == "added 300"
    assert by_name["acc"] == "0.95 → 0.96 (+0.01)"
    assert "float64 (100,)" in by_name["weights"]
    assert "10% of values changed, max |Δ| 1.5" in by_name["weights"]
    assert "0.1 → 0.3 (+0.2)" in by_name["lr"]
    assert by_name["new"] == "added list"
    assert by_name["gone"] == "removed str"
    assert by_name["train.ipynb"] == "1 cell added"
    # Unchanged items are counted, not listed one per row.
    assert "X" not in by_name
    text = "".join(tree.itertext())
    assert "1 unchanged" in text  # seed, X
    assert re.search(r"\d+ unchanged", text)
    # Section headings appear once each, in order.
    sections = [th.text for th in tree.iter("th") if th.text]
    assert sections[:4] == ["Params", "Metrics", "Variables", "Notebook"]


def test_diff_html_escapes_user_strings_and_uses_theme_colors(project: dict[str, Any]) -> None:
    html = render_diff_html(project["diff"])
    assert "first &lt;model&gt;" in html
    assert "smaller C &amp; more" in html
    assert "<model>" not in html
    assert "var(--jp-ui-font-color1" in html
    assert "var(--jp-border-color2" in html
    assert "var(--jp-success-color1" in html  # added
    assert "var(--jp-error-color1" in html  # removed


def test_diff_text_is_aligned_and_says_the_same(project: dict[str, Any]) -> None:
    text = render_diff_text(project["diff"])
    lines = text.splitlines()
    a, b = project["a"][:8], project["b"][:8]
    assert lines[0] == f"Diff {a} first <model> → {b} smaller C & more"
    assert re.search(r"^Params\s+C\s+1 → 0\.1 \(-0\.9\)$", text, re.M)
    assert re.search(r"^\s+max_iter\s+added: 300$", text, re.M)
    assert re.search(r"^Metrics\s+acc\s+0\.95 → 0\.96 \(\+0\.01\)$", text, re.M)
    assert re.search(r"^(Variables)?\s+gone\s+removed: str$", text, re.M)
    # The name column starts at the same offset on every row that has a name.
    body = [line for line in lines[1:] if not line.strip().endswith("unchanged")]
    starts = {len(line) - len(line[12:].lstrip()) for line in body if line[12:].strip()}
    assert len(starts) == 1


def test_model_diff_names_changed_tensors_params_and_fitted_attributes() -> None:
    entry = {
        "name": "model",
        "status": "changed",
        "a": {"type": "torch.nn.Module", "format": "safetensors", "size": 1 << 20},
        "b": {"type": "torch.nn.Module", "format": "safetensors", "size": 1 << 20},
        "segments_changed": ["fc1.weight", "fc1.bias", "out.weight"],
        "segments_total": 64,
        "bytes_changed": 49152,
        "fraction_bytes_changed": 0.047,
        "params": [{"key": "C", "status": "changed", "a": 1.0, "b": 0.5, "delta": -0.5}],
        "fitted_changed": ["coef_", "intercept_"],
    }
    text = rendering.variable_change(entry)
    assert text.startswith("Module")
    assert "3 of 64 parts changed (fc1.weight, fc1.bias, out.weight)" in text
    assert "4.7% of bytes: 48 KiB new" in text
    assert "C 1 → 0.5 (-0.5)" in text
    assert "fitted coef_, intercept_ changed" in text


def test_diff_of_a_commit_with_itself_says_no_differences(project: dict[str, Any]) -> None:
    same = mlvc.diff(project["b"], project["b"], repo=project["root"])
    text = render_diff_text(same)
    # Every item is unchanged: each section is one count, no item is listed.
    assert re.search(r"^Params\s+3 unchanged$", text, re.M)
    assert re.search(r"^Variables\s+4 unchanged$", text, re.M)
    assert re.search(r"^Notebook\s+train\.ipynb\s+unchanged$", text, re.M)
    assert all("→" not in line for line in text.splitlines()[1:])
    empty = {"a": same["a"], "b": same["b"]}
    assert "No differences." in render_diff_html(empty)
    assert render_diff_text(empty).endswith("No differences.")


def test_log_html_is_a_table_of_commits(project: dict[str, Any]) -> None:
    now = dt.datetime.fromisoformat(project["log"][0]["time"]) + dt.timedelta(minutes=5)
    html = render_log_html(project["log"], now=now)
    tree = _parse(html)
    assert [th.text for th in tree.iter("th")] == ["Commit", "Message", "When", "Branch", "Metrics"]
    rows = _rows(tree)
    assert rows == [
        [project["b"][:8], "smaller C & more", "5 min ago", "main", "acc 0.96"],
        [project["a"][:8], "first <model>", "5 min ago", "main", "acc 0.95"],
    ]
    # The absolute time is on hover, and the full id too.
    titles = [el.get("title") for el in tree.iter("span") if el.get("title")]
    assert project["b"] in titles
    assert any(re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", t or "") for t in titles)
    assert "&lt;model&gt;" in html


def test_log_shows_the_newest_fifty_and_says_how_many_more() -> None:
    commits = [
        {
            "id": f"{i:040x}",
            "short_id": f"{i:08x}",
            "message": f"run {i}",
            "time": "2026-01-01T00:00:00+00:00",
            "branch": "main",
            "metrics": {"acc": i / 100, "loss": 1.0, "f1": 0.5, "auc": 0.7},
            "tags": ["champion"] if i == 3 else [],
        }
        for i in range(120)
    ]
    tree = _parse(render_log_html(commits))
    assert len(_rows(tree)) == 50
    assert "Showing the newest 50 of 120 commits" in "".join(tree.itertext())
    assert "champion" in _rows(tree)[3][1]
    assert _rows(tree)[1][4] == "acc 0.01 · loss 1 · f1 0.5 · +1 more"

    text = render_log_text(commits)
    lines = text.splitlines()
    assert len(lines) == 1 + 50 + 1
    assert lines[-1] == "(showing the newest 50 of 120 commits)"
    assert "run 3 [champion]" in text
    # Aligned columns: "When" starts at the same offset on every row.
    col = lines[0].index("When")
    assert all(line[col - 2 : col] == "  " for line in lines[1:51])


def test_empty_history() -> None:
    assert "No commits yet." in render_log_html([])
    assert render_log_text([]) == "No commits yet."


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [(10, "just now"), (120, "2 min ago"), (3 * 3600, "3 h ago"), (3 * 86400, "3 days ago")],
)
def test_relative_time(seconds: int, expected: str) -> None:
    t = dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.UTC)
    now = t + dt.timedelta(seconds=seconds)
    assert rendering.relative_time(t.isoformat(), now) == expected


def test_relative_time_of_an_old_commit_is_its_date() -> None:
    now = dt.datetime(2026, 5, 1, tzinfo=dt.UTC)
    assert rendering.relative_time("2025-01-02T12:00:00+00:00", now) == "2025-01-02"
    assert rendering.relative_time("not a time", now) == "not a time"


def test_values_and_deltas_are_short() -> None:
    assert rendering.format_value(0.1 + 0.2) == "0.3"
    assert rendering.format_value(True) == "True"
    assert rendering.format_value({"b": 1, "a": [1, 2]}) == '{"a": [1, 2], "b": 1}'
    assert rendering.format_value("x" * 100).endswith("…")
    assert rendering.format_delta(3) == "+3"
    assert rendering.format_delta(-0.0049999) == "-0.005"
    assert rendering.format_bytes(1536) == "1.5 KiB"


def test_terminal_escapes_in_user_strings_are_not_passed_to_the_terminal() -> None:
    from mlvc_server.render import log_text, show_text

    hostile = "fine\x1b]0;owned\x07\x1b[2J done"
    commit = {
        "id": "a" * 40,
        "short_id": "aaaaaaaa",
        "message": hostile,
        "author": "x\x1b[31m",
        "time": "2026-01-01T00:00:00+00:00",
    }
    for text in (log_text([commit]), show_text(commit)):
        assert "\x1b" not in text and "\x07" not in text
        assert "fine" in text and "done" in text


def test_steps_chart_draws_a_line_per_run_and_only_lines_when_there_are_many_steps() -> None:
    from mlvc_server.render import MOST_STEP_POINTS, steps_vegalite

    def run(c: str, steps: list[list[float]]) -> dict[str, object]:
        return {"id": c * 40, "short_id": c * 8, "branch": f"b-{c}", "message": c, "steps": steps}

    steps = [run("a", [[0, 0.5], [1, 0.7]]), run("b", [[0, 0.6]])]
    spec = steps_vegalite(steps, "acc")
    assert spec is not None
    assert len(spec["data"]["values"]) == 3
    assert spec["data"]["values"][2] == {
        "id": "b" * 40,
        "run": "b" * 8,
        "branch": "b-b",
        "message": "b",
        "step": 0,
        "value": 0.6,
    }
    line, points = spec["layer"]
    assert points["mark"]["type"] == "point"
    assert line["encoding"]["y"]["title"] == "metrics.acc"
    assert line["encoding"]["x"]["title"] == "step"
    assert [t["field"] for t in line["encoding"]["tooltip"]] == ["run", "branch", "message"]
    # only the runs asked for; none with steps: no chart
    only_b = steps_vegalite(steps, "acc", ids={"b" * 40})
    assert only_b is not None and {v["id"] for v in only_b["data"]["values"]} == {"b" * 40}
    assert steps_vegalite(steps, "acc", ids=set()) is None
    assert steps_vegalite([], "acc") is None
    # fractional steps: no whole-number axis
    frac = steps_vegalite([run("c", [[0.5, 1.0], [1.5, 2.0]])], "acc")
    assert frac is not None and "axis" not in frac["layer"][0]["encoding"]["x"]
    # many steps: lines only (points would each carry a tooltip)
    many = steps_vegalite([run("d", [[i, i] for i in range(MOST_STEP_POINTS + 1)])], "acc")
    assert many is not None and len(many["layer"]) == 1
    assert many["layer"][0]["encoding"]["x"]["axis"] == {"format": "d", "tickMinStep": 1}
