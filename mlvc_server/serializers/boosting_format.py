"""``lightgbm``, ``xgboost``, ``catboost``: boosted-tree models in their library's own
model format, never pickle.

* LightGBM: ``Booster.model_to_string(num_iteration=-1)`` (the text model, every
  iteration), loaded with ``lightgbm.Booster(model_str=...)``;
* XGBoost: ``Booster.save_raw("ubj")`` (Universal Binary JSON), loaded with
  ``Booster.load_model``;
* CatBoost: its ``cbm`` binary model, loaded with ``load_model(blob=...)``.

The three parse data, they execute nothing from the payload. A raw booster is one
segment, ``model``. A scikit-learn wrapper (``LGBMClassifier``, ``XGBRegressor``,
``CatBoostClassifier``...) is ``[state, arrays, array_N..., model]``: the wrapper's own
attributes (hyperparameters, ``classes_``, the label encoder...) in the safe state format
of :mod:`.sklearn_state` (the wrapper classes of that library are the only non-sklearn
classes it may rebuild), and the booster as above. A wrapper holding something that
format refuses (a custom objective function) is declined and falls through to pickle.

``meta`` records what a diff shows: ``params`` (``get_params`` of a wrapper, the
booster's training parameters otherwise), ``n_trees``, ``n_iterations``,
``best_iteration`` and ``n_features``.
"""

from __future__ import annotations

import os
import sys
import tempfile
from typing import Any

from ..errors import SerializationError
from .base import Decline, Payload, PayloadReader, Segment, qualified_type_name, type_root_module
from .sklearn_state import Unencodable, decode_state, encode_state

_LGBM_WRAPPERS = frozenset(
    f"lightgbm.sklearn.{n}" for n in ("LGBMModel", "LGBMClassifier", "LGBMRegressor", "LGBMRanker")
)
_XGB_WRAPPERS = frozenset(
    f"xgboost.sklearn.{n}"
    for n in (
        "XGBModel",
        "XGBClassifier",
        "XGBRegressor",
        "XGBRanker",
        "XGBRFClassifier",
        "XGBRFRegressor",
    )
)
_CATBOOST_CLASSES = frozenset(
    f"catboost.core.{n}"
    for n in ("CatBoost", "CatBoostClassifier", "CatBoostRegressor", "CatBoostRanker")
)


def _jsonable_params(params: dict[str, Any]) -> dict[str, Any]:
    from .json_format import encode, is_plain, preview

    return {str(k): encode(v) if is_plain(v) else preview(v) for k, v in params.items()}


def _segment_reader(reader: PayloadReader) -> Any:
    def segment(index: int) -> bytearray:
        buf = bytearray(reader.segment_size(index))
        reader.readinto_segment(index, buf)
        return buf

    return segment


class _BoostingSerializer:
    """What the three share: a wrapper's state plus the booster's own model bytes."""

    format = ""
    unsafe = False
    library = ""
    wrappers: frozenset[str] = frozenset()

    def accepts(self, obj: Any) -> bool:
        if type_root_module(obj) != self.library or self.library not in sys.modules:
            return False
        return self._booster_class(obj) or qualified_type_name(obj) in self.wrappers

    def _booster_class(self, obj: Any) -> bool:
        raise NotImplementedError

    def estimate_size(self, obj: Any) -> int | None:
        return None

    def _booster_of(self, obj: Any) -> Any:
        raise NotImplementedError

    def _model_bytes(self, booster: Any) -> bytes:
        raise NotImplementedError

    def _load_booster(self, data: bytearray, meta: dict[str, Any]) -> Any:
        raise NotImplementedError

    def _facts(self, booster: Any) -> dict[str, Any]:
        raise NotImplementedError

    def _wrapper_state(self, obj: Any) -> dict[str, Any]:
        state = dict(vars(obj))
        state.pop("_Booster", None)
        return state

    def _attach(self, obj: Any, booster: Any) -> None:
        obj._Booster = booster

    def dump(self, obj: Any) -> Payload:
        """``[model]`` for a booster, ``[state, arrays, ..., model]`` for a wrapper."""
        wrapper = not self._booster_class(obj)
        booster = self._booster_of(obj)
        meta: dict[str, Any] = {"type": qualified_type_name(obj), "kind": "booster"}
        segments: list[Segment] = []
        if wrapper:
            meta["kind"] = "wrapper"
            try:
                meta["params"] = _jsonable_params(obj.get_params(deep=False))
            except Exception:
                meta["params"] = {}
            try:
                state, array_segs, _ = encode_state(self._wrapper_state(obj), self.wrappers)
            except Unencodable as exc:
                raise Decline(f"the model wrapper holds {exc}") from exc
            segments = [Segment("state", state, len(state)), *array_segs]
        if booster is not None:
            data = self._model_bytes(booster)
            meta.update(self._facts(booster))
            if not wrapper:
                meta["params"] = meta.pop("booster_params", {})
            else:
                meta.pop("booster_params", None)
            meta["model_segment"] = len(segments)
            segments.append(Segment("model", data, len(data)))
        return Payload(format=self.format, segments=segments, meta=meta, extension="bin")

    def load(self, meta: dict[str, Any], reader: PayloadReader) -> Any:
        """Rebuild the booster (and the wrapper around it)."""
        segment = _segment_reader(reader)
        booster = None
        if meta.get("model_segment") is not None:
            booster = self._load_booster(segment(int(meta["model_segment"])), meta)
        if meta.get("kind") != "wrapper":
            if booster is None:
                raise SerializationError(f"the {self.format} payload holds no model")
            return booster
        name = str(meta.get("type", ""))
        if name not in self.wrappers:
            raise SerializationError(f"refusing to rebuild {name!r}: not a {self.library} model")
        from .sklearn_state import allowed_class

        cls = allowed_class(name, extra=self.wrappers)
        obj: Any = cls.__new__(cls)  # type: ignore[call-overload]
        obj.__dict__.update(decode_state(reader.read_segment(0), segment, self.wrappers))
        if booster is not None:
            self._attach(obj, booster)
        return obj


class LightGBMSerializer(_BoostingSerializer):
    """LightGBM boosters and their scikit-learn wrappers as the text model."""

    format = "lightgbm"
    library = "lightgbm"
    wrappers = _LGBM_WRAPPERS

    def _booster_class(self, obj: Any) -> bool:
        return isinstance(obj, sys.modules["lightgbm"].Booster)

    def _booster_of(self, obj: Any) -> Any:
        return obj if self._booster_class(obj) else getattr(obj, "_Booster", None)

    def _model_bytes(self, booster: Any) -> bytes:
        text: str = booster.model_to_string(num_iteration=-1)
        return text.encode()

    def _load_booster(self, data: bytearray, meta: dict[str, Any]) -> Any:
        import lightgbm

        booster = lightgbm.Booster(model_str=data.decode())
        if meta.get("best_iteration") is not None:
            booster.best_iteration = int(meta["best_iteration"])
        return booster

    def _facts(self, booster: Any) -> dict[str, Any]:
        return {
            "n_trees": int(booster.num_trees()),
            "n_iterations": int(booster.current_iteration()),
            "best_iteration": int(getattr(booster, "best_iteration", 0) or 0),
            "n_features": int(booster.num_feature()),
            "booster_params": _jsonable_params(dict(getattr(booster, "params", {}) or {})),
        }


class XGBoostSerializer(_BoostingSerializer):
    """XGBoost boosters and their scikit-learn wrappers as UBJSON."""

    format = "xgboost"
    library = "xgboost"
    wrappers = _XGB_WRAPPERS

    def _booster_class(self, obj: Any) -> bool:
        return isinstance(obj, sys.modules["xgboost"].Booster)

    def _booster_of(self, obj: Any) -> Any:
        return obj if self._booster_class(obj) else getattr(obj, "_Booster", None)

    def _model_bytes(self, booster: Any) -> bytes:
        return bytes(booster.save_raw(raw_format="ubj"))

    def _load_booster(self, data: bytearray, meta: dict[str, Any]) -> Any:
        import xgboost

        booster = xgboost.Booster()
        booster.load_model(data)
        return booster

    def _facts(self, booster: Any) -> dict[str, Any]:
        import json

        rounds = int(booster.num_boosted_rounds())
        facts: dict[str, Any] = {"n_iterations": rounds, "n_features": int(booster.num_features())}
        try:
            config = json.loads(booster.save_config())
            learner = config.get("learner", {})
            params = dict(learner.get("learner_train_param", {}))
            params.update(learner.get("gradient_booster", {}).get("tree_train_param", {}))
            params.update(learner.get("objective", {}).get("reg_loss_param", {}))
            facts["booster_params"] = params
            trees_per_round = int(
                learner.get("gradient_booster", {})
                .get("gbtree_model_param", {})
                .get("num_parallel_tree", 1)
            )
            groups = int(learner.get("learner_model_param", {}).get("num_class", 0)) or 1
            facts["n_trees"] = rounds * trees_per_round * groups
        except Exception:  # an older booster without a readable config
            facts["booster_params"] = {}
        best = booster.attr("best_iteration")
        if best is not None:
            facts["best_iteration"] = int(best)
        return facts


class CatBoostSerializer(_BoostingSerializer):
    """CatBoost models (the wrappers are the models) as the ``cbm`` binary format."""

    format = "catboost"
    library = "catboost"
    wrappers = _CATBOOST_CLASSES

    def _booster_class(self, obj: Any) -> bool:
        return False  # every CatBoost model class is its own wrapper

    def _booster_of(self, obj: Any) -> Any:
        return obj if obj.is_fitted() else None

    def _wrapper_state(self, obj: Any) -> dict[str, Any]:
        return {"params": obj.get_params()}

    def _model_bytes(self, booster: Any) -> bytes:
        fd, path = tempfile.mkstemp(suffix=".cbm")
        os.close(fd)
        try:
            booster.save_model(path, format="cbm")
            with open(path, "rb") as f:
                return f.read()
        finally:
            os.unlink(path)

    def _load_booster(self, data: bytearray, meta: dict[str, Any]) -> Any:
        return bytes(data)

    def _attach(self, obj: Any, booster: Any) -> None:
        obj.load_model(blob=booster)

    def load(self, meta: dict[str, Any], reader: PayloadReader) -> Any:
        name = str(meta.get("type", ""))
        if name not in self.wrappers:
            raise SerializationError(f"refusing to rebuild {name!r}: not a CatBoost model")
        from .sklearn_state import allowed_class

        state = decode_state(reader.read_segment(0), _segment_reader(reader), self.wrappers)
        obj = allowed_class(name, extra=self.wrappers)(**state["params"])
        if meta.get("model_segment") is not None:
            obj.load_model(blob=reader.read_segment(int(meta["model_segment"])))
        return obj

    def _facts(self, booster: Any) -> dict[str, Any]:
        return {
            "n_trees": int(booster.tree_count_),
            "n_iterations": int(booster.tree_count_),
            "best_iteration": int(booster.get_best_iteration() or 0),
            "n_features": len(booster.feature_names_ or []),
        }
