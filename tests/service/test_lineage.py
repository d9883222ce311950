"""Lineage across notebooks: outputs recorded by hash, producers found by content, the
outputs index and its repair, the graph's limits."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mlvc_server import service
from mlvc_server.errors import (
    InvalidNameError,
    MlvcError,
    ModelNotFoundError,
    RevisionNotFoundError,
)
from mlvc_server.service import commits
from mlvc_server.store import producers

from .conftest import git, write_nb


def _commit(message: str, notebook: str, **kw: Any) -> str:
    return service.commit(message, repo=".", notebook=notebook, sources=False, **kw)


def _nodes(lin: Any, kind: str) -> list[dict[str, Any]]:
    return [n for n in lin["nodes"] if n["kind"] == kind]


def _producers(lin: Any, data_id: str) -> list[str]:
    """Commit ids with a ``wrote`` edge into the data node."""
    return [
        e["from"].removeprefix("commit:")
        for e in lin["edges"]
        if e["to"] == data_id and e["label"].startswith("wrote")
    ]


@pytest.fixture
def two(project: Path) -> Path:
    """prep.ipynb and train.ipynb in one project, data/ and a raw file."""
    write_nb(project / "prep.ipynb", "import pandas")
    (project / "data").mkdir()
    (project / "raw.csv").write_text("raw\n1\n2\n")
    return project


def test_outputs_are_hashed_into_the_record_like_data(two: Path) -> None:
    (two / "data/clean.csv").write_text("a\n1\n")
    cid = _commit("prep", "prep.ipynb", data=["raw.csv"], outputs=["data/clean.csv"])

    rec = service.record(cid, repo=".")
    reader = _commit("train", "train.ipynb", data=["data/clean.csv"])
    read = service.record(reader, repo=".")["data"]["data/clean.csv"]
    assert rec["outputs"]["data/clean.csv"]["hash"] == read["hash"]
    assert rec["outputs"]["data/clean.csv"]["size"] == 4
    assert "outputs" not in service.record(reader, repo=".")  # wrote nothing
    # plain git reads it
    shown = json.loads(git(two, "show", f"{cid}:mlvc.json"))
    assert shown["outputs"]["data/clean.csv"]["hash"].startswith("blake3:")


def test_a_missing_output_fails_the_commit_before_anything_is_written(two: Path) -> None:
    _commit("first", "prep.ipynb")
    head = service.log(repo=".", notebook="prep.ipynb")[0]["id"]

    with pytest.raises(MlvcError, match="not found"):
        _commit("prep", "prep.ipynb", outputs=["data/nope.csv"])
    assert service.log(repo=".", notebook="prep.ipynb")[0]["id"] == head


def test_a_read_links_to_the_commit_that_wrote_that_content_not_that_path(two: Path) -> None:
    clean = two / "data/clean.csv"
    clean.write_text("a\n1\n")
    p1 = _commit("prep v1", "prep.ipynb", data=["raw.csv"], outputs=["data/clean.csv"])
    t1 = _commit("train v1", "train.ipynb", data=["data/clean.csv"])
    clean.write_text("a\n1\n2\n")  # prep rewrites the file
    p2 = _commit("prep v2", "prep.ipynb", data=["raw.csv"], outputs=["data/clean.csv"])
    t2 = _commit("train v2", "train.ipynb", data=["data/clean.csv"])

    old = service.lineage(t1, repo=".")
    new = service.lineage(t2, repo=".")

    assert old["root"] == f"commit:{t1}" and old["nodes"][0]["id"] == old["root"]
    (data1,) = _nodes(old, "data")[:1]
    assert data1["path"] == "data/clean.csv" and data1["producers"] == 1
    assert _producers(old, data1["id"]) == [p1]
    (data2,) = _nodes(new, "data")[:1]
    assert data2["hash"] != data1["hash"]
    assert _producers(new, data2["id"]) == [p2]
    # upstream of prep: what it read, with no producer
    raw = [n for n in _nodes(old, "data") if n["path"] == "raw.csv"]
    assert raw and raw[0]["producers"] == 0
    assert {n["commit"]: n["depth"] for n in _nodes(old, "commit")} == {t1: 0, p1: 1}
    assert not old["truncated"]


def test_a_copy_under_another_path_still_links(two: Path) -> None:
    (two / "out.csv").write_text("x\n1\n")
    p = _commit("export", "prep.ipynb", outputs=["out.csv"])
    (two / "data/copy.csv").write_bytes((two / "out.csv").read_bytes())
    t = _commit("train", "train.ipynb", data=["data/copy.csv"])

    lin = service.lineage(t, repo=".")

    (edge,) = [e for e in lin["edges"] if e["from"] == f"commit:{p}"]
    assert edge["label"] == "wrote out.csv"


def test_the_index_is_filled_for_commits_it_never_saw_and_damage_is_ignored(
    two: Path,
) -> None:
    (two / "data/clean.csv").write_text("a\n1\n")
    p = _commit("prep", "prep.ipynb", outputs=["data/clean.csv"])
    t = _commit("train", "train.ipynb", data=["data/clean.csv"])
    index = two / ".mlvc" / "mlvc" / producers.FILE
    assert len(index.read_text().splitlines()) == 2  # every commit appends its line

    index.unlink()  # commits from before the index, or fetched
    service.workspace().reset()
    assert _producers(
        service.lineage(t, repo="."), _nodes(service.lineage(t, repo="."), "data")[0]["id"]
    ) == [p]
    lines = index.read_text().splitlines()
    assert {json.loads(x)["id"] for x in lines} == {p, t}

    # a flipped bit in the producer's line: the line is ignored, the record read again
    damaged = [x.replace("blake3:", "blake3:0") if p in x else x for x in lines]
    index.write_text("\n".join(damaged) + "\n")
    service.workspace().reset()
    lin = service.lineage(t, repo=".")
    assert _producers(lin, _nodes(lin, "data")[0]["id"]) == [p]


def test_only_commits_on_a_branch_or_tag_are_producers(two: Path) -> None:
    (two / "data/clean.csv").write_text("a\n1\n")
    _commit("base", "prep.ipynb")
    service.branch("scratch", None, repo=".", notebook="prep.ipynb")
    p = _commit("prep on scratch", "prep.ipynb", outputs=["data/clean.csv"])
    t = _commit("train", "train.ipynb", data=["data/clean.csv"])
    data_id = _nodes(service.lineage(t, repo="."), "data")[0]["id"]
    assert _producers(service.lineage(t, repo="."), data_id) == [p]

    service.switch_branch("main", repo=".", notebook="prep.ipynb")
    service.delete_branch("scratch", repo=".", notebook="prep.ipynb")

    lin = service.lineage(t, repo=".")
    assert _producers(lin, data_id) == []
    assert _nodes(lin, "data")[0]["producers"] == 0


def test_depth_limits_the_hops_and_says_so(two: Path) -> None:
    (two / "a.csv").write_text("a\n")
    a = _commit("a", "prep.ipynb", outputs=["a.csv"])
    (two / "b.csv").write_text("b\n")
    b = _commit("b", "train.ipynb", data=["a.csv"], outputs=["b.csv"])
    write_nb(two / "c.ipynb")
    c = _commit("c", "c.ipynb", data=["b.csv"])

    full = service.lineage(c, repo=".")
    one = service.lineage(c, repo=".", depth=1)
    zero = service.lineage(c, repo=".", depth=0)

    assert {n["commit"] for n in _nodes(full, "commit")} == {a, b, c}
    assert {n["commit"] for n in _nodes(one, "commit")} == {b, c}
    assert one["truncated"] and [n.get("truncated") for n in _nodes(one, "commit")] == [
        None,
        True,
    ]
    assert [n["commit"] for n in _nodes(zero, "commit")] == [c] and zero["truncated"]


def test_a_commit_made_after_the_reader_is_not_its_producer(
    two: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [1_700_000_100.0]
    monkeypatch.setattr(commits.time, "time", lambda: now[0])  # commit times
    (two / "data/clean.csv").write_text("same\n")
    first = _commit("prep 1", "prep.ipynb", outputs=["data/clean.csv"])
    now[0] += 100
    t = _commit("train", "train.ipynb", data=["data/clean.csv"])
    now[0] += 100
    later = _commit("prep 2 (same content)", "prep.ipynb", outputs=["data/clean.csv"])

    lin = service.lineage(t, repo=".")

    assert _producers(lin, _nodes(lin, "data")[0]["id"]) == [first]
    assert _nodes(lin, "data")[0]["producers"] == 1
    assert service.producers_of(_nodes(lin, "data")[0]["hash"], repo=".") == [
        (first, "data/clean.csv"),
        (later, "data/clean.csv"),
    ]


def test_sources_are_nodes_by_content(two: Path) -> None:
    (two / "util.py").write_text("X = 1\n")
    cid = service.commit("with sources", repo=".", notebook="train.ipynb", sources=["util.py"])

    lin = service.lineage(cid, repo=".")

    (src,) = _nodes(lin, "source")
    assert src["path"] == "util.py" and len(src["blob"]) == 40
    assert {"from": src["id"], "to": f"commit:{cid}", "label": "imported"} in lin["edges"]


def test_bad_arguments_are_typed_errors(two: Path) -> None:
    _commit("one", "train.ipynb")
    with pytest.raises(RevisionNotFoundError):
        service.lineage("nope", repo=".", of="rev")
    with pytest.raises(InvalidNameError):
        service.lineage("HEAD", repo=".", of="what")
    with pytest.raises(InvalidNameError):
        service.lineage("HEAD", repo=".", depth=-1)


def test_a_model_version_leads_back_to_its_commit_and_the_data_behind_it(two: Path) -> None:
    (two / "data/clean.csv").write_text("a\n1\n")
    prep = _commit("prep", "prep.ipynb", outputs=["data/clean.csv"])
    train = service.commit(
        "train",
        {"w": np.arange(3.0)},
        repo=".",
        notebook="train.ipynb",
        data=["data/clean.csv"],
        sources=False,
    )
    service.register("churn", train, "w", repo=".", notebook="train.ipynb")
    service.promote("churn", 1, "production", reason="first", repo=".")

    for spec, of in [("churn@production", "auto"), ("churn@1", "model"), ("churn", "auto")]:
        lin = service.lineage(spec, repo=".", of=of)
        assert lin["root"] == "model:churn@1", spec
        model = lin["nodes"][0]
        assert (model["kind"], model["name"], model["version"], model["variable"]) == (
            "model",
            "churn",
            1,
            "w",
        )
        assert {"from": f"commit:{train}", "to": "model:churn@1", "label": "registered"} in lin[
            "edges"
        ]
        assert {"from": "model:churn@1", "to": "alias:churn@production", "label": "alias"} in lin[
            "edges"
        ]
        assert _producers(lin, _nodes(lin, "data")[0]["id"]) == [prep]
        assert not _nodes(lin, "export")  # export records nothing in the store (yet)

    # the commit's own lineage names the model version registered from it
    of_commit = service.lineage(train, repo=".")
    assert of_commit["root"] == f"commit:{train}"
    assert [n["id"] for n in _nodes(of_commit, "model")] == ["model:churn@1"]
    with pytest.raises(ModelNotFoundError):
        service.lineage("churn@7", repo=".", of="model")
    with pytest.raises(RevisionNotFoundError, match="no model version"):
        service.lineage("nothing", repo=".")
