"""Lineage across two notebooks of one project, each in its own real kernel: prep.ipynb
writes data/clean.csv and commits (the file is recorded as its output), train.ipynb reads
it and commits; ``%mlvc lineage`` of train's commit names prep's commit by the file's
hash, and still does after prep rewrites the file."""

from __future__ import annotations

import importlib.util
import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
from harness import SAVE_TIMEOUT, Kernel, write_notebook
from jupyter_client.manager import start_new_kernel

import mlvc_server as mlvc


@pytest.fixture(scope="module")
def kernels(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Kernel, Kernel]]:
    """Two kernels in one project: one started for prep.ipynb, one for train.ipynb."""
    project = tmp_path_factory.mktemp("two-notebooks")
    started: list[Kernel] = []
    for nb, source in (("prep.ipynb", "import pandas"), ("train.ipynb", "import pandas")):
        write_notebook(project / nb, [source])
        env = dict(os.environ)
        env.update(
            JPY_SESSION_NAME=str(project / nb),
            MLVC_CONFIG_DIR=str(project.parent / f"{project.name}-config"),
            MLVC_SAVE_TIMEOUT=str(SAVE_TIMEOUT),
            MLVC_AUTHOR_NAME="Test",
            MLVC_AUTHOR_EMAIL="test@example.org",
        )
        km, kc = start_new_kernel(kernel_name="python3", cwd=str(project), env=env)
        k = Kernel(km, kc, project)
        started.append(k)
        k.run("%load_ext mlvc_server")
        k.run("import pandas as pd")
    yield started[0], started[1]
    for k in started:
        k.kc.stop_channels()
        k.km.shutdown_kernel(now=True)


def lineage_json(k: Kernel, rev: str) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(k.run(f"%mlvc lineage {rev} --format json").stdout)
    return out


def wrote_into(lin: dict[str, Any], path: str) -> list[tuple[str, str]]:
    """(hash of the data node, producer commit id) for each ``wrote`` edge into ``path``."""
    data = {n["id"]: n for n in lin["nodes"] if n["kind"] == "data" and n["path"] == path}
    return [
        (data[e["to"]]["hash"], e["from"].removeprefix("commit:"))
        for e in lin["edges"]
        if e["to"] in data and e["label"] == "wrote"
    ]


def test_train_links_to_the_prep_commit_that_wrote_what_it_read(
    kernels: tuple[Kernel, Kernel],
) -> None:
    prep, train = kernels
    project = prep.project
    (project / "raw.csv").write_text("a,b\n1,x\n2,\n3,y\n")

    prep.run("os = __import__('os'); os.makedirs('data', exist_ok=True)")
    prep.run("raw = pd.read_csv('raw.csv'); raw.dropna().to_csv('data/clean.csv', index=False)")
    prep.run('%mlvc commit -m "prep v1" --no-vars')
    prep1 = mlvc.log(repo=project, notebook=project / "prep.ipynb")[0]["id"]
    rec = mlvc.show(prep1, repo=project)
    assert set(rec["outputs"]) == {"data/clean.csv"}  # what it wrote...
    assert set(rec["data"]) == {"raw.csv"}  # ...is not what it read
    first_hash = rec["outputs"]["data/clean.csv"]["hash"]

    train.run("df = pd.read_csv('data/clean.csv'); n = len(df)")
    train.run('%mlvc commit -m "train v1"')
    train1 = mlvc.log(repo=project, notebook=project / "train.ipynb")[0]["id"]
    assert mlvc.show(train1, repo=project)["data"]["data/clean.csv"]["hash"] == first_hash

    lin = lineage_json(train, "HEAD")
    assert lin["root"] == f"commit:{train1}"
    assert wrote_into(lin, "data/clean.csv") == [(first_hash, prep1)]
    prep_node = next(n for n in lin["nodes"] if n.get("commit") == prep1)
    assert prep_node["notebook"] == "prep.ipynb" and prep_node["depth"] == 1
    assert any(n["kind"] == "data" and n["path"] == "raw.csv" for n in lin["nodes"])
    assert lin["mermaid"].startswith("flowchart LR")

    # prep rewrites the file with other content and commits again
    prep.run("raw.fillna('z').to_csv('data/clean.csv', index=False)")
    prep.run('%mlvc commit -m "prep v2" --no-vars')
    prep2 = mlvc.log(repo=project, notebook=project / "prep.ipynb")[0]["id"]
    second_hash = mlvc.show(prep2, repo=project)["outputs"]["data/clean.csv"]["hash"]
    assert second_hash != first_hash

    # the old train commit still points at the first prep commit (by hash, not path)
    assert wrote_into(lineage_json(train, train1), "data/clean.csv") == [(first_hash, prep1)]
    # a commit that wrote nothing new records no outputs
    prep.run('%mlvc commit -m "prep, nothing written" --no-vars')
    assert "outputs" not in mlvc.show("HEAD", repo=project, notebook=project / "prep.ipynb")

    # train reads the new file: its new commit points at the second prep commit
    train.run("df = pd.read_csv('data/clean.csv'); n = len(df)")
    train.run('%mlvc commit -m "train v2"')
    assert wrote_into(lineage_json(train, "HEAD"), "data/clean.csv") == [(second_hash, prep2)]


def test_the_magic_shows_a_mermaid_diagram_with_the_text_tree(
    kernels: tuple[Kernel, Kernel],
) -> None:
    _prep, train = kernels
    reply = train.run("%mlvc lineage")

    (shown,) = reply.displays
    assert shown["data"]["text/vnd.mermaid"].startswith("flowchart LR")
    text = shown["data"]["text/plain"]
    assert text.startswith("commit ") and "train.ipynb: train v2" in text.splitlines()[0]
    assert "written by: commit " in text and "prep.ipynb: prep v2" in text
    assert train.run("%mlvc lineage HEAD --format mermaid").stdout.startswith("flowchart LR")
    bad = train.run("%mlvc lineage no-such-rev", ok=False)
    assert bad.status == "error" and "unknown revision" in bad.text + str(bad.error)


#: writer -> (library, file it writes, code that writes it through a path, not ``open``)
WRITERS = {
    "df.to_parquet": ("pyarrow", "out/a.parquet", "pd.DataFrame({'a': [1]}).to_parquet(P)"),
    "pyarrow.feather.write_feather": (
        "pyarrow",
        "out/b.feather",
        "__import__('pyarrow.feather').feather.write_feather(pd.DataFrame({'a': [1]}), P)",
    ),
    "polars write_csv": (
        "polars",
        "out/c.csv",
        "__import__('polars').DataFrame({'a': [1]}).write_csv(P)",
    ),
    "safetensors save_file": (
        "safetensors",
        "out/d.safetensors",
        "from safetensors.numpy import save_file\n"
        "save_file({'w': __import__('numpy').zeros(2)}, P)",
    ),
    "h5py.File w": ("h5py", "out/e.h5", "import h5py\nwith h5py.File(P, 'w') as f: f['x'] = [1]"),
    "xgboost save_model": (
        "xgboost",
        "out/f.ubj",
        "import xgboost as xgb, numpy as np\n"
        "xgb.train({}, xgb.DMatrix(np.ones((4, 1)), label=[0, 1, 0, 1]), 1).save_model(P)",
    ),
    "lightgbm save_model": (
        "lightgbm",
        "out/g.txt",
        "import lightgbm as lgb, numpy as np\n"
        "lgb.train({'verbose': -1, 'min_data_in_leaf': 1},"
        " lgb.Dataset(np.arange(20.0).reshape(10, 2), label=[0, 1] * 5), 1).save_model(P)",
    ),
    "torch.jit.save": (
        "torch",
        "out/h.pt",
        "import torch\ntorch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), P)",
    ),
}


def test_files_written_by_writers_that_bypass_open_are_outputs(
    kernels: tuple[Kernel, Kernel],
) -> None:
    prep, _train = kernels
    installed = {name: spec for name, spec in WRITERS.items() if importlib.util.find_spec(spec[0])}
    assert "df.to_parquet" in installed  # pyarrow is a test dependency
    prep.run("import os\nos.makedirs('out', exist_ok=True)")
    for _lib, path, code in installed.values():
        prep.run(f"P = {path!r}\n{code}")
    prep.run('%mlvc commit -m "wrote through pyarrow, polars, safetensors, h5py" --no-vars')

    rec = mlvc.show("HEAD", repo=prep.project, notebook=prep.project / "prep.ipynb")
    assert set(rec["outputs"]) == {path for _lib, path, _code in installed.values()}
    assert not set(rec.get("data", {})) & set(rec["outputs"])
