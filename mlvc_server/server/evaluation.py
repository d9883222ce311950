"""Handlers of evaluations of two model versions: run one, list them."""

from __future__ import annotations

import posixpath
from pathlib import Path
from typing import Any

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..service import evaluation
from .base import MAX_PATH_CHARS, MlvcHandler, error, field_enum, field_str
from .history import MAX_REV_CHARS, check_rev

TYPES = ("evaluate", "shadow", "canary")
FIELDS = (
    "type",
    "a",
    "b",
    "data",
    "target",
    "metrics",
    "slice",
    "seed",
    "level",
    "resamples",
    "variable",
    "fraction",
    "guard",
    "time_column",
    "top",
    "record",
)


def _number(body: dict[str, Any], key: str, low: float, high: float, *, integer: bool) -> Any:
    if key not in body or body[key] is None:
        return None
    v = body[key]
    if (
        isinstance(v, bool)
        or not isinstance(v, (int, float))
        or (integer and not isinstance(v, int))
    ):
        raise error(400, f"{key!r} must be {'an integer' if integer else 'a number'}")
    if not low <= v <= high:
        raise error(400, f"{key!r} must be between {low} and {high}")
    return v


class EvaluationsHandler(MlvcHandler):
    """``GET /mlvc/evaluations?path=&all=``: stored evaluations; ``POST`` runs one."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        """Answer ``evaluations`` (``service.evaluation.evaluations``), newest first."""
        nb = self.notebook()
        every = self.query_bool("all", False)
        self.write_json(
            {
                "evaluations": await self.call(
                    evaluation.evaluations,
                    repo=nb.start,
                    notebook=None if every else nb.file,
                    all_notebooks=every,
                )
            }
        )

    def data_file(self, value: str) -> Path:
        """A data file named relative to the server root, confined to it."""
        root = self.mlvc.root_dir
        if len(value) > MAX_PATH_CHARS or posixpath.isabs(value) or Path(value).is_absolute():
            raise error(400, "'data' must be a path relative to the server root")
        if ".." in value.split("/"):
            raise error(400, "'data' must not contain '..'")
        full = (root / value).resolve()
        if not full.is_relative_to(root):
            raise error(400, "'data' leads outside the server root")
        return full

    @web.authenticated
    @authorized
    async def post(self) -> None:
        """Run an evaluation of ``a`` against ``b`` (models loaded in their safe formats
        in the server: pickles need their writer's signature) and store it. 201 with the
        report (``service.evaluation.evaluate``, ``shadow`` or ``canary``)."""
        nb = self.notebook()
        body = self.json_body(*FIELDS)
        kind = field_enum(body, "type", TYPES, "evaluate")
        a = check_rev("a", field_str(body, "a", required=True, max_chars=MAX_REV_CHARS))
        b = check_rev("b", field_str(body, "b", required=True, max_chars=MAX_REV_CHARS))
        assert a is not None and b is not None
        data = self.data_file(str(field_str(body, "data", required=True, max_chars=4096)))
        record = body.get("record", True)
        if not isinstance(record, bool):
            raise error(400, "'record' must be true or false")
        common: dict[str, Any] = {
            "repo": nb.start,
            "notebook": nb.file,
            "variable": field_str(body, "variable"),
            "record": record,
        }
        metrics = body.get("metrics")
        if metrics is not None and not (
            isinstance(metrics, list) and all(isinstance(m, str) for m in metrics)
        ):
            raise error(400, "'metrics' must be a list of metric names")
        level = _number(body, "level", 0.5, 0.999999, integer=False)
        seed = _number(body, "seed", 0, 2**63 - 1, integer=True)
        result: dict[str, Any]
        if kind == "evaluate":
            resamples = _number(body, "resamples", 100, 100_000, integer=True)
            result = await self.call(
                evaluation.evaluate,
                a,
                b,
                data=data,
                target=str(field_str(body, "target", required=True)),
                metrics=metrics,
                slice=field_str(body, "slice"),
                seed=seed,
                level=level or evaluation.DEFAULT_LEVEL,
                resamples=resamples or evaluation.DEFAULT_RESAMPLES,
                **common,
            )
        elif kind == "shadow":
            top = _number(body, "top", 0, 1000, integer=True)
            result = await self.call(
                evaluation.shadow, a, b, inputs=data, top=10 if top is None else top, **common
            )
        else:
            fraction = _number(body, "fraction", 1e-6, 1, integer=False)
            result = await self.call(
                evaluation.canary,
                a,
                b,
                stream=data,
                target=str(field_str(body, "target", required=True)),
                fraction=fraction or 0.05,
                guard=field_str(body, "guard") or "accuracy_drop <= 0.01",
                time_column=field_str(body, "time_column"),
                seed=seed,
                level=level or evaluation.DEFAULT_LEVEL,
                **common,
            )
        self.write_json(result, status=201)
