"""Evaluation of two model versions (service/evaluation): the statistics on simulated
data with a known truth, the report against scikit-learn's metrics, stored records, and
the typed errors of bad input."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score
from sklearn.tree import DecisionTreeClassifier

import mlvc_server as mlvc
from mlvc_server import cli, service
from mlvc_server.errors import (
    EvaluationError,
    FeatureMismatchError,
    MissingColumnError,
    NotAModelError,
    PredictionTypeError,
    RowCountError,
    http_status,
)
from mlvc_server.service import evaluation
from mlvc_server.service.evaluation import stats


# -- calibration on simulated data with a known truth -----------------------------------
def simulate(
    rng: np.random.Generator, n: int, acc_a: float, acc_b: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Labels and two classifiers' predictions whose errors are independent, with
    population accuracies ``acc_a`` and ``acc_b``."""
    y = rng.integers(0, 2, n)
    right_a = rng.random(n) < acc_a
    right_b = rng.random(n) < acc_b
    return y, np.where(right_a, y, 1 - y), np.where(right_b, y, 1 - y)


def accuracy(y: np.ndarray, pa: np.ndarray, pb: np.ndarray, seed: int, resamples: int = 1000):
    rng = np.random.default_rng(seed)
    return stats.compare_classification(
        "accuracy", stats.cells(y, pa, pb), resamples=resamples, level=0.95, rng=rng
    )


def test_95_percent_bootstrap_intervals_cover_the_true_difference_95_percent_of_the_time() -> None:
    rng = np.random.default_rng(20261204)
    sims, truth = 400, 0.83 - 0.80
    covered = 0
    for i in range(sims):
        c = accuracy(*simulate(rng, 2000, 0.80, 0.83), seed=i)
        covered += c.ci[0] <= truth <= c.ci[1]
    assert 0.93 <= covered / sims <= 0.97


def test_two_identical_or_equally_good_models_are_rarely_called_different() -> None:
    from scipy.stats import binomtest

    rng = np.random.default_rng(7)
    sims = 400
    identical = 0
    for i in range(sims):
        y, pa, _ = simulate(rng, 2000, 0.80, 0.80)
        identical += accuracy(y, pa, pa.copy(), seed=i, resamples=200).better is not None
    assert identical == 0
    # two different models of the same accuracy: the verdict's test has level 5% (exact
    # McNemar, slightly conservative), so the rate is 5% or less up to simulation noise:
    # fail when it is significantly above (one-sided binomial test at 1%)
    called = sum(
        accuracy(*simulate(rng, 2000, 0.80, 0.80), seed=i, resamples=200).better is not None
        for i in range(sims)
    )
    assert binomtest(called, sims, 0.05, alternative="greater").pvalue > 0.01, called / sims


def test_a_2_point_accuracy_gain_on_20000_rows_is_detected_at_least_90_percent_of_the_time() -> (
    None
):
    rng = np.random.default_rng(11)
    sims = 100
    found = sum(
        accuracy(*simulate(rng, 20_000, 0.80, 0.82), seed=i, resamples=200).better == "b"
        for i in range(sims)
    )
    assert found / sims >= 0.90


def test_regression_bootstrap_intervals_cover_the_true_mae_difference() -> None:
    rng = np.random.default_rng(3)
    sims, n = 200, 300
    # errors of A ~ N(0, 1), of B ~ N(0, 0.9): E|e| = sigma * sqrt(2 / pi)
    truth = (0.9 - 1.0) * np.sqrt(2 / np.pi)
    covered = 0
    for i in range(sims):
        y = rng.normal(size=n)
        c = stats.compare_regression(
            "mae",
            y,
            y + rng.normal(size=n),
            y + 0.9 * rng.normal(size=n),
            resamples=500,
            level=0.95,
            rng=np.random.default_rng(i),
        )
        covered += c.ci[0] <= truth <= c.ci[1]
    assert 0.90 <= covered / sims <= 0.99  # 200 simulations: +-3 points of noise


def test_the_confidence_sequence_holds_at_every_row_at_once() -> None:
    rng = np.random.default_rng(5)
    sims, misses = 200, 0
    for _ in range(sims):
        x = (rng.random(3000) < 0.3).astype(float)
        lo, hi = stats.eb_confidence_sequence(x, 0.05)
        misses += bool(np.any((lo > 0.3) | (hi < 0.3)))
    assert misses / sims <= 0.05
    lo, hi = stats.eb_confidence_sequence(np.full(5000, 1.0), 0.05)
    assert hi[-1] == 1.0 and lo[-1] > 0.99 and np.all(np.diff(lo[100:]) >= -1e-9)


def test_point_estimates_match_scikit_learn_and_delong_is_antisymmetric() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 2000)
    sa, sb = y + rng.normal(size=2000), y + 3 * rng.normal(size=2000)
    pa, pb = (sa > 0.5).astype(int), (sb > 0.5).astype(int)
    c = stats.cells(y, pa, pb)
    for metric, fn in (("accuracy", accuracy_score), ("f1", f1_score)):
        r = stats.compare_classification(
            metric, c, resamples=200, level=0.95, rng=np.random.default_rng(0)
        )
        assert r.a == pytest.approx(fn(y, pa)) and r.b == pytest.approx(fn(y, pb))
    multi = rng.integers(0, 3, 500)
    m = stats.compare_classification(
        "f1",
        stats.cells(multi, (multi + (rng.random(500) < 0.3)) % 3, multi),
        resamples=200,
        level=0.95,
        rng=np.random.default_rng(0),
    )
    assert m.b == 1.0
    d = stats.delong(y == 1, sa, sb, 0.95)
    assert d.a == pytest.approx(roc_auc_score(y, sa)) and d.b == pytest.approx(roc_auc_score(y, sb))
    back = stats.delong(y == 1, sb, sa, 0.95)
    assert back.p_value == pytest.approx(d.p_value) and back.diff == pytest.approx(-d.diff)
    assert d.better == "a" and d.ci[1] < 0


def test_psi_and_ks_of_shifted_distributions() -> None:
    rng = np.random.default_rng(1)
    a = rng.normal(size=5000)
    assert stats.psi(a, rng.normal(size=5000)) < 0.02
    assert stats.psi(a, rng.normal(1.0, 1, size=5000)) > 0.25
    assert stats.ks(a, a + 1)[1] < 1e-10


# -- the service, on models committed to a store ------------------------------------------
@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MLVC_CONFIG_DIR", str(tmp_path / "config"))
    root = tmp_path / "p"
    root.mkdir()
    mlvc.init(root)
    monkeypatch.chdir(root)
    return root


def frame(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    df = pd.DataFrame(x, columns=["f0", "f1", "f2"])
    df["y"] = (x[:, 0] + 0.7 * x[:, 1] + rng.normal(scale=0.8, size=n) > 0).astype(int)
    df["region"] = rng.choice(["north", "south"], n)
    return df


@pytest.fixture
def two(project: Path) -> tuple[str, str]:
    df = frame(4000)
    df.iloc[:3000].to_parquet(project / "test.parquet")
    train = frame(2000, seed=1)
    feats = train[["f0", "f1", "f2"]]
    a = mlvc.commit(
        "tree", {"model": DecisionTreeClassifier(max_depth=1).fit(feats, train.y)}, repo=project
    )
    b = mlvc.commit("logreg", {"model": LogisticRegression().fit(feats, train.y)}, repo=project)
    return a, b


def test_evaluate_reports_paired_statistics_and_stores_the_verdict(
    project: Path, two: tuple[str, str]
) -> None:
    a, b = two
    r = evaluation.evaluate(
        a, b, data="test.parquet", target="y", slice="region", seed=3, repo=project
    )

    df = pd.read_parquet(project / "test.parquet")
    model_b = mlvc.load(b, "model", repo=project)
    acc = r["metrics"]["accuracy"]
    assert acc["b"] == pytest.approx(accuracy_score(df.y, model_b.predict(df[["f0", "f1", "f2"]])))
    assert acc["ci"][0] < acc["diff"] < acc["ci"][1] and acc["ci"][0] > 0
    assert "McNemar" in acc["test"] and "bootstrap" in acc["ci_method"]
    assert "DeLong" in r["metrics"]["roc_auc"]["test"]
    assert r["verdict"]["better"] == "b" and r["verdict"]["text"].startswith("B is better")
    assert [s["value"] for s in r["slices"]] == ["north", "south"]
    assert sum(s["rows"] for s in r["slices"]) == 3000
    assert r["data"]["hash"].startswith("blake3:") and r["data"]["rows"] == 3000
    assert r["settings"]["seed"] == 3

    again = evaluation.evaluate(
        a, b, data="test.parquet", target="y", slice="region", seed=3, repo=project, record=False
    )
    assert again["metrics"] == r["metrics"] and again["id"] is None  # the seed reproduces it

    stored = evaluation.latest(a, b, repo=project)
    assert stored is not None and stored["id"] == r["id"]
    assert stored["verdict"] == r["verdict"]
    assert evaluation.latest(b, a, repo=project) is None
    (listed,) = evaluation.evaluations(repo=project)
    assert listed["id"] == r["id"] and listed["a"]["commit"] == a and listed["type"] == "evaluate"
    log = service.log(repo=project)
    assert log[0]["id"] == r["id"] and log[0]["kind"] == "evaluation"
    assert set(log[0]["parents"]) == {a, b}
    assert [c["id"] for c in log[1:]] == [b, a]
    assert service.show("HEAD", repo=project)["id"] == b  # the branch did not move
    # plain git sees the evaluation, and fsck is happy with it
    refs = subprocess.run(
        ["git", "--git-dir", str(project / ".mlvc"), "for-each-ref", "refs/mlvc/evaluations"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert r["id"] in refs
    assert service.fsck(repo=project)["ok"]


def test_regression_metrics_and_the_cli(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(600, 2))
    yv = x @ [2.0, -1.0] + rng.normal(scale=0.5, size=600)
    df = pd.DataFrame(x, columns=["u", "v"]).assign(t=yv)
    df.to_csv(project / "reg.csv", index=False)
    good = LinearRegression().fit(df[["u", "v"]], yv)
    bad = LinearRegression().fit(df[["u", "v"]], yv + rng.normal(scale=3, size=600))
    a = mlvc.commit("bad", {"reg": bad}, repo=project)
    b = mlvc.commit("good", {"reg": good}, repo=project)

    assert cli.main(["evaluate", a, b, "--data", "reg.csv", "--target", "t", "--seed", "1"]) == 0
    text = capsys.readouterr().out
    assert "rmse" in text and "paired t-test on per-row squared errors" in text
    assert "verdict: B is better" in text
    assert cli.main(["evaluations", "--json"]) == 0
    (entry,) = json.loads(capsys.readouterr().out)
    assert entry["verdict"]["metric"] == "rmse" and entry["verdict"]["better"] == "b"
    assert cli.main(["log"]) == 0
    assert "[evaluation]" in capsys.readouterr().out


def test_shadow_and_canary(project: Path, two: tuple[str, str]) -> None:
    a, b = two
    frame(2000, seed=5).drop(columns=["y"]).to_parquet(project / "requests.parquet")
    s = evaluation.shadow(a, b, inputs="requests.parquet", latency_rows=10, top=3, repo=project)
    assert 0 < s["disagreement"]["rate"] < 1
    assert s["shift"]["psi"] > 0 and 0 < s["shift"]["ks"] <= 1
    assert s["latency"]["A"]["calls"] == 10 and s["latency"]["B"]["p50_ms"] > 0
    assert len(s["top"]) == 3 and s["top"][0]["gap"] >= s["top"][-1]["gap"]

    stream = frame(40_000, seed=9)
    stream.to_parquet(project / "stream.parquet")
    worse = evaluation.canary(
        b, a, stream="stream.parquet", target="y", fraction=0.2, seed=0, repo=project
    )
    assert worse["decision"] == "rollback"
    assert worse["decided_after"]["routed_rows"] < worse["routed_rows"]
    better = evaluation.canary(
        a,
        b,
        stream="stream.parquet",
        target="y",
        fraction=0.2,
        guard="accuracy_drop <= 0.01",
        seed=0,
        repo=project,
    )
    assert better["decision"] == "promote" and better["at_decision"]["ci"][0] > -0.01
    kinds = {e["type"] for e in evaluation.evaluations(repo=project)}
    assert kinds == {"shadow", "canary"}
    with pytest.raises(EvaluationError, match="guard"):
        evaluation.canary(a, b, stream="stream.parquet", target="y", guard="f1 >= 2")


class FixedRows:
    """A classifier that always answers three predictions (pickled: signed by its writer)."""

    classes_ = np.array([0, 1])

    def predict(self, x: Any) -> np.ndarray:
        return np.zeros(3)


def test_bad_input_gets_a_typed_error(project: Path, two: tuple[str, str]) -> None:
    a, b = two
    with pytest.raises(MissingColumnError, match="target column 'label'"):
        evaluation.evaluate(a, b, data="test.parquet", target="label")
    with pytest.raises(MissingColumnError, match="slice"):
        evaluation.evaluate(a, b, data="test.parquet", target="y", slice="nope")

    other = frame(500)
    narrow = mlvc.commit(
        "two features",
        {
            "model": LogisticRegression().fit(
                other[["f0", "f1"]].rename(columns={"f1": "g"}), other.y
            )
        },
    )
    with pytest.raises(FeatureMismatchError, match="different features"):
        evaluation.evaluate(a, narrow, data="test.parquet", target="y")

    rows = mlvc.commit("fixed", {"model": FixedRows()})
    with pytest.raises(RowCountError, match="for 3000 rows"):
        evaluation.evaluate(a, rows, data="test.parquet", target="y", metrics="accuracy")

    labelled = frame(300)
    labelled["y"] = np.where(labelled.y == 1, "yes", "no")
    labelled.to_csv("labels.csv", index=False)
    words = LogisticRegression().fit(labelled[["f0", "f1", "f2"]], labelled.y)
    w1 = mlvc.commit("words", {"model": words})
    with pytest.raises(PredictionTypeError, match="not numbers"):
        evaluation.evaluate(w1, w1, data="labels.csv", target="y", metrics="rmse")

    arr = mlvc.commit("an array", {"model": np.arange(3), "other": 1})
    with pytest.raises(NotAModelError, match="not a model"):
        evaluation.evaluate(a, arr, data="test.parquet", target="y", variable="model")
    with pytest.raises(NotAModelError, match="no model variable"):
        evaluation.evaluate(a, arr, data="test.parquet", target="y")
    with pytest.raises(EvaluationError, match="unknown metric"):
        evaluation.evaluate(a, b, data="test.parquet", target="y", metrics="auc")
    with pytest.raises(EvaluationError, match="does not exist"):
        evaluation.evaluate(a, b, data="missing.parquet", target="y")
    assert http_status(MissingColumnError("x")) == 422
    assert evaluation.evaluations() == []  # nothing was stored


def test_the_little_bootstraps_agree_with_the_full_bootstrap_on_many_rows() -> None:
    rng = np.random.default_rng(4)
    n = 60_000
    y = rng.normal(size=n)
    pa, pb = y + rng.standard_t(5, size=n), y + 0.95 * rng.standard_t(5, size=n)
    for metric in ("mae", "rmse"):
        full = stats.compare_regression(
            metric, y, pa, pb, resamples=400, level=0.95, rng=np.random.default_rng(0)
        )
        little = stats.compare_regression(
            metric, y, pa, pb, resamples=1000, level=0.95, rng=np.random.default_rng(0)
        )
        assert "row indices" in full.ci_method and "little bootstraps" in little.ci_method
        width = full.ci[1] - full.ci[0]
        assert little.ci[0] == pytest.approx(full.ci[0], abs=0.1 * width)
        assert little.ci[1] == pytest.approx(full.ci[1], abs=0.1 * width)


def test_labels_from_predict_proba_match_predict() -> None:
    from mlvc_server.service.evaluation.inputs import Version, argmax_of_proba, predict

    df = frame(3000)
    feats = df[["f0", "f1", "f2"]]
    for model in (LogisticRegression(), DecisionTreeClassifier(max_depth=3)):
        model.fit(feats, df.y)
        assert argmax_of_proba(model)
        got = predict(Version("A", "r", "c" * 40, "m", model), feats, len(df), scores=True)
        assert np.array_equal(got.labels, model.predict(feats))
        assert np.array_equal(got.scores, model.predict_proba(feats)[:, 1])
    assert not argmax_of_proba(LinearRegression())


def test_evaluations_are_no_rows_of_compare_or_points_of_series(
    project: Path, two: tuple[str, str]
) -> None:
    a, b = two
    evaluation.evaluate(a, b, data="test.parquet", target="y", metrics="accuracy", seed=0)

    assert [r["id"] for r in service.compare()["rows"]] == [b, a]
    assert "accuracy_diff" not in service.series()["series"]


def test_an_evaluation_cannot_be_checked_out(project: Path, two: tuple[str, str]) -> None:
    a, b = two
    r = evaluation.evaluate(a, b, data="test.parquet", target="y", metrics="accuracy", seed=0)

    with pytest.raises(EvaluationError, match="not a run to go back to"):
        service.checkout(r["id"], safety_commit=False)
    assert service.show("HEAD")["id"] == b
