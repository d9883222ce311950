"""service.export: native, MLflow and ONNX exports of committed models, and their checks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import mlvc_server as mlvc
from mlvc_server import service
from mlvc_server.errors import (
    ExportCheckError,
    ExportError,
    ModelNotFoundError,
    TrustError,
    UnsupportedExportError,
    VariableNotFoundError,
)
from mlvc_server.service.exports import FORMATS

sklearn = pytest.importorskip("sklearn")
from sklearn.linear_model import LinearRegression, LogisticRegression  # noqa: E402

NB = "train.ipynb"


def _data() -> tuple[Any, Any]:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(80, 4))
    return x, (x[:, 0] + 0.5 * x[:, 1] > 0).astype(int)


@pytest.fixture
def committed(project: Path) -> dict[str, Any]:
    """A store with a classifier, a regressor and a plain array, and a data file read."""
    x, y = _data()
    np.save(project / "train.npy", x)
    clf = LogisticRegression().fit(x, y)
    reg = LinearRegression().fit(x, x @ np.array([1.0, -2.0, 0.5, 3.0]) + 7)
    mlvc.init(project)
    cid = mlvc.commit(
        "train",
        {"clf": clf, "reg": reg, "X": x},
        notebook=NB,
        params={"C": 1.0},
        metrics={"acc": 0.93},
        data=["train.npy"],
    )
    return {"cid": cid, "clf": clf, "reg": reg, "x": x}


def test_native_export_holds_the_stored_bytes_and_loads_without_mlvc(
    committed: dict[str, Any], project: Path
) -> None:
    out = project / "exported"
    r = service.export("HEAD:clf", "native", out, notebook=NB)
    assert r["format"] == "native" and Path(r["path"]) == out.absolute()
    assert r["model"] == {
        "name": None,
        "version": None,
        "commit": committed["cid"],
        "variable": "clf",
    }
    for f in (
        "model/clf.sklearn-state",
        "model/payload.json",
        "code/mlvc_loader.py",
        "code/mlvc_runtime/serializers/sklearn_state.py",
        "requirements.txt",
        "README.md",
    ):
        assert f in r["files"], f
    # the same bytes the store holds (its segments, in order)
    info = json.loads((out / "model/payload.json").read_text())
    manifest = json.loads(
        subprocess.run(
            ["git", "--git-dir", str(project / ".mlvc"), "show", "HEAD:vars/clf/manifest.json"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    assert [s["size"] for s in info["segments"]] == [s["size"] for s in manifest["segments"]]
    blobs = b"".join(
        subprocess.run(
            ["git", "--git-dir", str(project / ".mlvc"), "cat-file", "blob", part],
            check=True,
            capture_output=True,
        ).stdout
        for seg in manifest["segments"]
        for part in seg["parts"]
    )
    assert (out / "model/clf.sklearn-state").read_bytes() == blobs
    # loaded in a fresh process with the shipped loader, without importing mlvc
    reload = r["checks"]["reload"]
    assert reload["ok"] and reload["max_abs_diff"] == 0.0 and reload["rows"] == 16
    assert reload["mlvc_imported"] is False
    # requirements pinned from the commit's environment
    env = mlvc.show("HEAD", notebook=NB)["env"]["packages"]
    reqs = (out / "requirements.txt").read_text()
    assert f"scikit-learn=={env['scikit-learn']}" in reqs and f"numpy=={env['numpy']}" in reqs
    card = (out / "README.md").read_text()
    data_hash = mlvc.show("HEAD", notebook=NB)["data"]["train.npy"]["hash"]
    for expected in (
        "# clf at",
        "| C | 1.0 |",
        "| acc | 0.93 |",
        data_hash,
        "train.npy",
        "LogisticRegression",
        "## Hardware",
        "## Environment",
        '"reload"',
    ):
        assert expected in card, expected


def test_native_export_loads_in_another_python_and_predicts_the_same(
    committed: dict[str, Any], project: Path
) -> None:
    out = project / "reg-export"
    service.export("HEAD:reg", "native", out, notebook=NB)
    x = committed["x"][:7]
    np.save(project / "rows.npy", x)
    code = (
        "import sys, numpy as np; sys.path.insert(0, sys.argv[1] + '/code'); import mlvc_loader;"
        "m = mlvc_loader.load_model(sys.argv[1] + '/model');"
        "print(type(m).__name__, 'mlvc_server' in sys.modules);"
        "np.save(sys.argv[2], m.predict(np.load(sys.argv[3])))"
    )
    proc = subprocess.run(
        [
            sys.executable,
            "-I",
            "-c",
            code,
            str(out),
            str(project / "p.npy"),
            str(project / "rows.npy"),
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=project,
    )
    assert proc.stdout.split() == ["LinearRegression", "False"]
    np.testing.assert_array_equal(np.load(project / "p.npy"), committed["reg"].predict(x))


def test_mlflow_export_is_served_by_mlflow_models_predict(
    committed: dict[str, Any], project: Path
) -> None:
    pytest.importorskip("mlflow")
    out = project / "mlflow-model"
    r = service.export("HEAD:clf", "mlflow", out, notebook=NB)
    for f in (
        "MLmodel",
        "python_env.yaml",
        "conda.yaml",
        "input_example.json",
        "serving_input_example.json",
        "requirements.txt",
    ):
        assert f in r["files"], f
    mlmodel = (out / "MLmodel").read_text()
    assert 'loader_module: "mlvc_loader"' in mlmodel and 'code: "code"' in mlmodel
    assert 'saved_input_example_info:\n  artifact_path: "input_example.json"' in mlmodel
    assert committed["cid"] in mlmodel
    import pandas as pd

    rows = committed["x"][:12]
    pd.DataFrame(rows, columns=[f"x{i}" for i in range(4)]).to_csv(project / "in.csv", index=False)
    mlflow_cli = Path(sys.executable).with_name("mlflow")
    proc = subprocess.run(
        [
            str(mlflow_cli),
            "models",
            "predict",
            "-m",
            str(out),
            "-i",
            str(project / "in.csv"),
            "-t",
            "csv",
            "--env-manager",
            "local",
            "-o",
            str(project / "pred.json"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=project,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    predictions = json.loads((project / "pred.json").read_text())["predictions"]
    assert predictions == committed["clf"].predict(rows).tolist()
    # MLflow's Python API loads it too
    import mlflow.pyfunc

    model = mlflow.pyfunc.load_model(str(out))
    np.testing.assert_array_equal(model.predict(pd.DataFrame(rows)), committed["clf"].predict(rows))


def test_onnx_export_of_a_classifier_agrees_within_the_tolerance(
    committed: dict[str, Any], project: Path
) -> None:
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("skl2onnx")
    np.save(project / "sample.npy", committed["x"][:30])
    r = service.export("HEAD:clf", "onnx", project / "onnx", notebook=NB, sample_rows="sample.npy")
    check = r["checks"]["onnx"]
    assert check["ok"] and check["rows"] == 30 and check["max_abs_diff"] < 1e-5
    assert {o["output"] for o in check["outputs"]} == {"label", "probabilities"}
    assert sorted(r["files"]) == ["README.md", "model.onnx", "requirements.txt"]
    session = ort.InferenceSession(str(project / "onnx/model.onnx"))
    labels, proba = session.run(None, {"input": committed["x"][:30].astype(np.float32)})
    np.testing.assert_array_equal(labels, committed["clf"].predict(committed["x"][:30]))
    np.testing.assert_allclose(
        proba, committed["clf"].predict_proba(committed["x"][:30]), atol=1e-5
    )


def test_onnx_check_failure_writes_nothing(committed: dict[str, Any], project: Path) -> None:
    pytest.importorskip("skl2onnx")
    out = project / "too-strict"
    # a regressor's outputs of ~10 in float32 cannot agree to 1e-12
    with pytest.raises(
        ExportCheckError, match=r"prediction: max abs diff .* outside the tolerance"
    ):
        service.export("HEAD:reg", "onnx", out, notebook=NB, tolerance=1e-12)
    assert not out.exists()
    assert not [p for p in project.iterdir() if p.name.startswith(".too-strict")]


def test_onnx_export_of_a_torch_module(project: Path) -> None:
    torch = pytest.importorskip("torch")
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(5, 16), torch.nn.Tanh(), torch.nn.Linear(16, 3))
    mlvc.init(project)
    mlvc.commit("net", {"net": net}, notebook=NB)
    r = service.export("HEAD:net", "onnx", project / "net-onnx", notebook=NB)
    check = r["checks"]["onnx"]
    assert check["ok"] and check["rows"] == 16 and check["max_abs_diff"] < 1e-5
    assert check["converter"].startswith("torch.onnx")


def test_mlflow_export_of_a_torch_module_ships_its_loader(project: Path) -> None:
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 1))
    mlvc.init(project)
    mlvc.commit("net", {"net": net}, notebook=NB)
    r = service.export("HEAD:net", "mlflow", project / "net-mlflow", notebook=NB)
    assert "model/net.safetensors" in r["files"]
    assert r["checks"]["reload"]["ok"] and r["checks"]["reload"]["max_abs_diff"] == 0.0
    reqs = (project / "net-mlflow/requirements.txt").read_text()
    assert "torch==" in reqs and "+cpu" not in reqs and "cloudpickle==" in reqs
    assert "runs the pickle of its structure" in (project / "net-mlflow/README.md").read_text()


def test_dataframe_model_checked_on_a_sample_file(project: Path) -> None:
    pd = pytest.importorskip("pandas")
    x, y = _data()
    df = pd.DataFrame(x, columns=["age", "income", "tenure", "usage"])
    clf = LogisticRegression().fit(df, y)
    mlvc.init(project)
    mlvc.commit("df", {"clf": clf}, notebook=NB)
    df.head(9).to_csv(project / "sample.csv", index=False)
    r = service.export("HEAD:clf", "mlflow", project / "m", notebook=NB, sample_rows="sample.csv")
    assert r["checks"]["reload"] == {
        "ok": True,
        "max_abs_diff": 0.0,
        "rows": 9,
        "mlvc_imported": False,
    }
    example = json.loads((project / "m/input_example.json").read_text())
    assert example["columns"] == ["age", "income", "tenure", "usage"]


def test_refusals(committed: dict[str, Any], project: Path) -> None:
    with pytest.raises(ExportError, match="unknown export format 'pmml'"):
        service.export("HEAD:clf", "pmml", project / "a", notebook=NB)
    (project / "full").mkdir()
    (project / "full/keep.txt").write_text("mine")
    with pytest.raises(ExportError, match="exists and is not an empty folder"):
        service.export("HEAD:clf", "native", project / "full", notebook=NB)
    assert (project / "full/keep.txt").read_text() == "mine"
    with pytest.raises(VariableNotFoundError, match="no variable 'nope'; it holds X, clf, reg"):
        service.export("HEAD:nope", "native", project / "b", notebook=NB)
    with pytest.raises(ExportError, match="REV:VARIABLE"):
        service.export("HEAD:", "native", project / "b", notebook=NB)
    with pytest.raises(UnsupportedExportError, match="no predict method"):
        service.export("HEAD:X", "mlflow", project / "c", notebook=NB)
    with pytest.raises(UnsupportedExportError, match="ONNX export supports scikit-learn"):
        service.export("HEAD:X", "onnx", project / "c", notebook=NB)
    with pytest.raises(ExportError, match=r"sample file .missing\.npy. does not exist"):
        service.export("HEAD:clf", "onnx", project / "c", notebook=NB, sample_rows="missing.npy")
    (project / "wide.csv").write_text("a,b,c,d,e\n1,2,3,4,5\n")
    for fmt in ("onnx", "native"):
        with pytest.raises(ExportError, match="cannot predict on the sample rows"):
            service.export("HEAD:clf", fmt, project / "c", notebook=NB, sample_rows="wide.csv")
    assert not (project / "c").exists()
    # a plain array exports natively (no predictions to compare)
    r = service.export("HEAD:X", "native", project / "arr", notebook=NB)
    assert "skipped" in r["checks"]["reload"] and "model/X.npy" in r["files"]
    assert set(FORMATS) == {"mlflow", "onnx", "native"}


class Scaler:
    """A model class only pickle holds, in a module the loading process cannot import."""

    def __init__(self, k: float) -> None:
        self.k = k

    def predict(self, x: Any) -> Any:
        return np.asarray(x).sum(axis=1) * self.k


def test_a_pickle_of_someone_else_needs_trust(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # defined in __main__ (as in a notebook): cloudpickle keeps the class by value
    ns: dict[str, Any] = {"__name__": "__main__", "np": np}
    exec(
        "class ByValue:\n"
        "    def __init__(self, k): self.k = k\n"
        "    def predict(self, x): return np.asarray(x).sum(axis=1) * self.k\n",
        ns,
    )
    by_value = ns["ByValue"]
    mlvc.init(project)
    mlvc.commit("pickled", {"m": by_value(2.0), "n": Scaler(3.0)}, notebook=NB)
    monkeypatch.setenv("MLVC_CONFIG_DIR", str(project / "someone-else"))
    with pytest.raises(TrustError):
        service.export("HEAD:m", "native", project / "p", notebook=NB)
    assert not (project / "p").exists()
    rows = np.ones((3, 2))
    r = service.export("HEAD:m", "native", project / "p", notebook=NB, trust=True, sample_rows=rows)
    assert r["checks"]["reload"]["ok"]
    # a class from a module the fresh process cannot import: refused, nothing written
    with pytest.raises(ExportCheckError, match=r"No module named .*not importable there"):
        service.export("HEAD:n", "native", project / "q", notebook=NB, trust=True, sample_rows=rows)
    assert not (project / "q").exists()


def test_export_by_registered_name_tells_who_promoted_it_and_why(
    committed: dict[str, Any], project: Path
) -> None:
    service.register("churn", "HEAD", "clf", notebook=NB, message="first model", user="ada")
    service.promote("churn", 1, "production", reason="beats the baseline by 3 points", user="bob")
    r = service.export("churn@production", "native", project / "prod", sample_rows=committed["x"])
    assert r["model"] == {
        "name": "churn",
        "version": 1,
        "commit": committed["cid"],
        "variable": "clf",
    }
    assert r["checks"]["reload"]["rows"] == 80
    card = (project / "prod/README.md").read_text()
    assert card.startswith("# churn version 1\n")
    for expected in (
        "aliases now: production",
        "registered by: ada",
        "exported as: churn@production",
        "| promote | 1 | production | bob | beats the baseline by 3 points |",
        "| register | 1 |",
    ):
        assert expected in card, expected
    by_commit = service.export("HEAD:clf", "native", project / "c", notebook=NB)["path"]
    assert (
        "registered as: churn version 1 (aliases: production)"
        in (Path(by_commit) / "README.md").read_text()
    )
    mlflow_dir = service.export("churn@1", "mlflow", project / "m1")["path"]
    assert 'mlvc_model: "churn"' in (Path(mlflow_dir) / "MLmodel").read_text()
    with pytest.raises(ModelNotFoundError, match="no alias 'staging'"):
        service.export("churn@staging", "native", project / "none")

    # exports by name are remembered (newest first; not the REV:VARIABLE one): the
    # version lists them, the history shows them, lineage draws them
    exports = service.model("churn", repo=project)["versions"][0]["exports"]
    assert [(x["format"], Path(x["path"]).name) for x in exports] == [
        ("mlflow", "m1"),
        ("native", "prod"),
    ]
    assert [e["type"] for e in service.model_history("churn", repo=project)][:2] == [
        "export",
        "export",
    ]
    graph = service.lineage("churn@1", repo=project)
    nodes = {n["id"]: n for n in graph["nodes"]}
    found = sorted(n["format"] for n in nodes.values() if n["kind"] == "export")
    assert found == ["mlflow", "native"]
    assert all(
        e["label"] == "exported" and e["from"] == "model:churn@1"
        for e in graph["edges"]
        if nodes[e["to"]]["kind"] == "export"
    )


def test_a_lightgbm_booster_is_its_own_model_file(project: Path) -> None:
    lgb = pytest.importorskip("lightgbm")
    x, y = _data()
    booster = lgb.train({"objective": "binary", "verbose": -1}, lgb.Dataset(x, y), 5)
    mlvc.init(project)
    mlvc.commit("gbm", {"booster": booster}, notebook=NB)
    r = service.export("HEAD:booster", "mlflow", project / "g", notebook=NB)
    assert "model/booster.txt" in r["files"] and r["checks"]["reload"]["ok"]
    assert "lightgbm==" in (project / "g/requirements.txt").read_text()
    # LightGBM reads the file as it is: the text model mlvc stores
    again = lgb.Booster(model_file=str(project / "g/model/booster.txt"))
    np.testing.assert_array_equal(again.predict(x), booster.predict(x))
    with pytest.raises(UnsupportedExportError, match=r"lightgbm\.basic\.Booster is neither"):
        service.export("HEAD:booster", "onnx", project / "o", notebook=NB)
