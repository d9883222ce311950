"""``GET /mlvc/lineage`` (mlvc_server/server/lineage.py): the graph of a commit across
notebooks, checked against openapi.yaml's Lineage schema; bad input refused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import yaml

import mlvc_server
from mlvc_server import service

from .conftest import Api, write_notebook

SPEC = yaml.safe_load((Path(mlvc_server.__file__).parent / "openapi.yaml").read_text())


def check_schema(body: Any) -> None:
    """``body`` is a valid ``Lineage`` (OpenAPI 3.0 ``nullable`` as JSON Schema)."""

    def convert(node: Any) -> Any:
        if isinstance(node, dict):
            out = {k: convert(v) for k, v in node.items() if k not in ("nullable", "example")}
            if "$ref" in out:
                out["$ref"] = out["$ref"].replace("#/components/schemas/", "#/$defs/")
            if node.get("nullable") and "type" in out:
                out["type"] = [out["type"], "null"]
            return out
        if isinstance(node, list):
            return [convert(v) for v in node]
        return node

    defs = convert(SPEC["components"]["schemas"])
    schema = {"$ref": "#/$defs/Lineage", "$defs": defs}
    jsonschema.validate(body, schema)


async def test_lineage_of_a_commit_across_notebooks(
    api: Api, notebook: Path, jp_root_dir: Path
) -> None:
    write_notebook(jp_root_dir / "prep.ipynb", "import pandas")
    (jp_root_dir / "clean.csv").write_text("a\n1\n")
    prep = service.commit(
        "prep", repo=jp_root_dir, notebook=jp_root_dir / "prep.ipynb", outputs=["clean.csv"]
    )
    train = service.commit(
        "train", repo=jp_root_dir, notebook=notebook, data=["clean.csv"], sources=False
    )

    body = await api.get("lineage", rev="HEAD")

    check_schema(body)
    assert body["root"] == f"commit:{train}" and body["nodes"][0]["commit"] == train
    assert {"from": f"commit:{prep}", "to": body["nodes"][1]["id"], "label": "wrote"} in body[
        "edges"
    ]
    assert body["mermaid"].startswith("flowchart LR")
    shallow = await api.get("lineage", rev=train[:10], depth="0")
    check_schema(shallow)
    assert shallow["truncated"] and [n["kind"] for n in shallow["nodes"]] == ["commit"]


async def test_bad_requests_are_refused(api: Api, notebook: Path, jp_root_dir: Path) -> None:
    service.commit("one", repo=jp_root_dir, notebook=notebook, sources=False)

    assert (await api.error("GET", "lineage"))[0] == 400  # neither rev nor model
    assert (await api.error("GET", "lineage", rev="HEAD", model="m@1"))[0] == 400
    assert (await api.error("GET", "lineage", rev="HEAD", depth="51"))[0] == 400
    assert (await api.error("GET", "lineage", rev="a b"))[0] == 400
    code, err = await api.error("GET", "lineage", rev="no-such-branch")
    assert code == 404 and "unknown revision" in err["message"]


async def test_lineage_of_a_model_version(
    api: Api, notebook: Path, jp_root_dir: Path, jp_fetch: Any
) -> None:
    cid = service.commit(
        "train", {"w": np.arange(3.0)}, repo=jp_root_dir, notebook=notebook, sources=False
    )
    service.register("churn", cid, "w", repo=jp_root_dir, notebook=notebook)

    with_path = await api.get("lineage", model="churn@1")
    # no notebook needed: the store is found from the server's root
    response = await jp_fetch("mlvc", "lineage", params={"model": "churn"})
    without = json.loads(response.body)

    check_schema(without)
    assert without == with_path
    assert without["root"] == "model:churn@1" and without["nodes"][1]["commit"] == cid
    assert (await api.error("GET", "lineage", model="churn@9"))[0] == 404
    assert (await api.error("GET", "lineage", model="bad name!"))[0] == 400
