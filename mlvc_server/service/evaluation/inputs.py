"""What an evaluation reads: the two models (from their commits, in their safe formats),
the data file (hashed), and the predictions of both on exactly the same rows."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ...errors import (
    EvaluationError,
    FeatureMismatchError,
    MissingColumnError,
    NotAModelError,
    RowCountError,
    VariableNotFoundError,
)
from ...store import Store
from ...store.revisions import resolve
from ..format import read_record
from ..variables import load_variable
from ..workspace import workspace

#: Formats a model variable can be stored in (scikit-learn's safe format, or a pickle
#: for estimators skops cannot hold).
MODEL_FORMATS = ("sklearn", "pickle", "cloudpickle")
TABLE_SUFFIXES = (".parquet", ".pq", ".csv", ".jsonl", ".ndjson", ".json")


@dataclass
class Version:
    """One side of an evaluation: the commit, the variable and the loaded model."""

    label: str  # "A" or "B"
    rev: str
    commit: str
    variable: str
    model: Any

    def as_dict(self) -> dict[str, Any]:
        return {
            "rev": self.rev,
            "commit": self.commit,
            "variable": self.variable,
            "type": f"{type(self.model).__module__}.{type(self.model).__qualname__}",
        }


@dataclass
class Predictions:
    """A model's outputs on the rows of the data, and the time they took."""

    labels: NDArray[Any]
    scores: NDArray[np.float64] | None = None  # positive-class probability (binary)
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


def model_variable(store: Store, cid: str, rev: str, variable: str | None) -> str:
    """The variable holding the model: ``variable``, or the one variable of the commit
    stored in scikit-learn's format, else the one pickle.

    Raises:
        VariableNotFoundError: ``variable`` is not in the commit.
        NotAModelError: no variable, or several, could be the model.
    """
    index = read_record(store, cid).get("variables", {})
    if variable is not None:
        if variable not in index:
            raise VariableNotFoundError(
                f"{rev} ({cid[:8]}) holds no variable {variable!r}"
                + (f"; it holds {', '.join(sorted(index))}" if index else "")
            )
        return variable
    # scikit-learn's own format first (a pickled random generator is no model)
    for formats in (MODEL_FORMATS[:1], MODEL_FORMATS):
        found = sorted(n for n, e in index.items() if e.get("format") in formats)
        if len(found) == 1:
            return found[0]
        if found:
            break
    if not found:
        raise NotAModelError(
            f"{rev} ({cid[:8]}) holds no model variable (a scikit-learn estimator or a "
            f"pickled object with predict); its variables: {', '.join(sorted(index)) or 'none'}"
        )
    raise NotAModelError(
        f"{rev} ({cid[:8]}) holds several variables that may be models "
        f"({', '.join(found)}); name one with --variable"
    )


def load_version(
    store: Store, label: str, rev: str, nb: str | None, variable: str | None, trust: bool
) -> Version:
    """Resolve ``rev``, find its model variable and load it (safe formats; a pickle
    needs ``trust`` unless this user wrote it).

    Raises:
        NotAModelError: the variable has no ``predict``.
    """
    cid = resolve(store, rev, nb)
    name = model_variable(store, cid, rev, variable)
    model = load_variable(store, cid, name, trust)
    if not callable(getattr(model, "predict", None)):
        raise NotAModelError(
            f"variable {name!r} of {rev} ({cid[:8]}) is a {type(model).__name__}, not a "
            "model: it has no predict method"
        )
    return Version(label, rev, cid, name, model)


def read_table(path: str | os.PathLike[str]) -> Any:
    """A data file as a pandas DataFrame: Parquet, CSV or JSON lines.

    Raises:
        EvaluationError: the file is missing or of another kind.
    """
    import pandas as pd

    p = Path(path)
    if not p.is_file():
        raise EvaluationError(f"data file {str(path)!r} does not exist")
    suffix = p.suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise EvaluationError(f"cannot read {str(path)!r}: use a {', '.join(TABLE_SUFFIXES)} file")
    try:
        if suffix in (".parquet", ".pq"):
            return pd.read_parquet(p)
        if suffix == ".csv":
            return pd.read_csv(p)
        return pd.read_json(p, lines=suffix != ".json")
    except Exception as e:  # each reader fails on a bad file in its own way
        raise EvaluationError(
            f"cannot read {str(path)!r} as {suffix[1:]}: {type(e).__name__}: {e}"
        ) from None


def hash_data(store: Store, path: str | os.PathLike[str]) -> dict[str, Any]:
    """The data file's path, content hash (BLAKE3), size and time, as commits record it."""
    from ...capture import DataHasher

    p = Path(path).resolve()
    try:
        rel = p.relative_to(store.root).as_posix()
        records = workspace().data_hasher(store).hash_files([rel], store.root)
    except ValueError:  # outside the project: hash it where it is
        rel = str(p)
        records = DataHasher(None).hash_files([p.name], p.parent)
    (rec,) = records.values()
    return {"path": rel, **rec}


def require_columns(df: Any, columns: list[str], what: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise MissingColumnError(
            f"the data has no {what} column {', '.join(map(repr, missing))}; its columns: "
            f"{', '.join(map(str, list(df.columns)[:30]))}"
        )


def features(df: Any, versions: list[Version], exclude: list[str]) -> dict[str, Any]:
    """The feature matrix (or frame) each model takes, by label.

    A model that records its feature names (``feature_names_in_``) gets those columns;
    one that does not gets every column but ``exclude``, which must be as many as it
    takes (``n_features_in_``).

    Raises:
        FeatureMismatchError: a model needs columns the data lacks, or another count.
    """
    out: dict[str, Any] = {}
    needs: dict[str, list[str]] = {}
    for v in versions:
        names = getattr(v.model, "feature_names_in_", None)
        if names is not None:
            names = [str(c) for c in names]
            needs[v.label] = names
    for v in versions:
        if v.label in needs:
            names = needs[v.label]
            missing = [c for c in names if c not in df.columns]
            if missing:
                other = [o for o in needs if o != v.label]
                differ = other and set(needs[other[0]]) != set(names)
                raise FeatureMismatchError(
                    f"model {v.label} ({v.rev}) needs column(s) {', '.join(map(repr, missing))} "
                    "that the data lacks"
                    + (
                        f"; the two models need different features (A: {needs.get('A')}, "
                        f"B: {needs.get('B')})"
                        if differ
                        else ""
                    )
                )
            out[v.label] = df[names]
            continue
        cols = [c for c in df.columns if c not in exclude]
        n_in = getattr(v.model, "n_features_in_", None)
        if n_in is not None and int(n_in) != len(cols):
            raise FeatureMismatchError(
                f"model {v.label} ({v.rev}) takes {int(n_in)} features but the data has "
                f"{len(cols)} columns besides {', '.join(map(repr, exclude))}"
                + (
                    "; the two models need different features"
                    if any(getattr(o.model, "n_features_in_", n_in) != n_in for o in versions)
                    else ""
                )
            )
        out[v.label] = df[cols].to_numpy()
    return out


def predict(v: Version, x: Any, rows: int, *, scores: bool) -> Predictions:
    """The model's predictions on ``x`` (and, for a binary classifier when ``scores``,
    the probability of the positive class), checked to have one per row.

    Raises:
        RowCountError: the model returned another number of predictions.
        EvaluationError: the model failed on the data.
    """
    t0 = time.perf_counter()
    if scores and argmax_of_proba(v.model):
        both = _labels_from_proba(v, x, rows)
        if both is not None:
            return Predictions(both[0], both[1], time.perf_counter() - t0)
    labels = _checked(v, _call(v, "predict", x), rows)
    out = Predictions(labels, None, time.perf_counter() - t0)
    if scores:
        out.scores = positive_scores(v, x, rows)
        out.seconds = time.perf_counter() - t0
    return out


#: scikit-learn classifiers whose ``predict`` is the class of the largest
#: ``predict_proba`` (by definition, or through a monotone link): with scores asked for,
#: one ``predict_proba`` call gives both (checked against ``predict`` on a sample).
ARGMAX_PREDICT = frozenset(
    {
        "BernoulliNB",
        "DecisionTreeClassifier",
        "ExtraTreeClassifier",
        "ExtraTreesClassifier",
        "GaussianNB",
        "GradientBoostingClassifier",
        "HistGradientBoostingClassifier",
        "KNeighborsClassifier",
        "LogisticRegression",
        "MultinomialNB",
        "RandomForestClassifier",
    }
)
_SAMPLE = 2048


def argmax_of_proba(model: Any) -> bool:
    """Whether ``model`` (or a Pipeline's last step) is in :data:`ARGMAX_PREDICT`."""
    last = model
    steps = getattr(model, "steps", None)
    if type(model).__name__ == "Pipeline" and steps:
        last = steps[-1][1]
    cls = type(last)
    return cls.__module__.startswith("sklearn.") and cls.__name__ in ARGMAX_PREDICT


def _call(v: Version, method: str, x: Any) -> Any:
    try:
        return getattr(v.model, method)(x)
    except Exception as e:  # a model fails on bad data in its own way
        raise EvaluationError(
            f"model {v.label} ({v.rev}) failed to {method}: {type(e).__name__}: {e}"
        ) from None


def _checked(v: Version, out: Any, rows: int) -> NDArray[Any]:
    labels = np.asarray(out)
    if labels.ndim > 1 and labels.shape[1:] == (1,) * (labels.ndim - 1):
        labels = labels.reshape(-1)
    if labels.ndim != 1 or len(labels) != rows:
        raise RowCountError(
            f"model {v.label} ({v.rev}) returned {labels.shape} predictions for {rows} rows"
        )
    return labels


def _labels_from_proba(
    v: Version, x: Any, rows: int
) -> tuple[NDArray[Any], NDArray[np.float64]] | None:
    """Labels and positive-class scores from one ``predict_proba`` call, or None when
    the model is not binary or its ``predict`` disagrees on the first rows."""
    classes = getattr(v.model, "classes_", None)
    if classes is None or len(classes) != 2:
        return None
    proba = np.asarray(_call(v, "predict_proba", x), dtype=np.float64)
    if proba.ndim != 2 or len(proba) != rows:
        raise RowCountError(
            f"model {v.label} ({v.rev}) returned {proba.shape} scores for {rows} rows"
        )
    labels = np.asarray(classes)[np.argmax(proba, axis=1)]
    head = x.iloc[:_SAMPLE] if hasattr(x, "iloc") else x[:_SAMPLE]
    if not np.array_equal(np.asarray(_call(v, "predict", head)), labels[:_SAMPLE]):
        return None
    return labels, proba[:, 1]


def positive_scores(v: Version, x: Any, rows: int) -> NDArray[np.float64] | None:
    """Probability (or decision score) of the positive class of a binary classifier,
    or None when the model gives neither."""
    model = v.model
    classes = getattr(model, "classes_", None)
    if classes is None or len(classes) != 2:
        return None
    try:
        if callable(getattr(model, "predict_proba", None)):
            proba = np.asarray(model.predict_proba(x), dtype=np.float64)
            s = proba[:, 1]
        elif callable(getattr(model, "decision_function", None)):
            s = np.asarray(model.decision_function(x), dtype=np.float64).reshape(-1)
        else:
            return None
    except Exception as e:  # a model fails on bad data in its own way
        raise EvaluationError(
            f"model {v.label} ({v.rev}) failed to score: {type(e).__name__}: {e}"
        ) from None
    if len(s) != rows:
        raise RowCountError(f"model {v.label} ({v.rev}) returned {len(s)} scores for {rows} rows")
    return s


def is_classifier(model: Any) -> bool:
    """A classifier (scikit-learn's own test, else: it has ``classes_``)."""
    try:
        from sklearn.base import is_classifier as sk_is_classifier

        if sk_is_classifier(model):
            return True
    except Exception:  # no scikit-learn, or an object its tags machinery rejects
        pass
    return getattr(model, "classes_", None) is not None
