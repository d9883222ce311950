"""Handlers of the model registry (``service.registry``), under ``/mlvc/models``.

Authorization: the resource is ``mlvc-registry``, so a Jupyter authorizer can let
everyone read the registry, some users register and approve (action ``write``) and only
a few move aliases (action ``execute``: promote, rollback, gates). The acting user is the
authenticated Jupyter user (recorded in the model's history).

The store is the one of the notebook named by the optional ``path`` query argument, or
else the server's store (``MlvcApp.store_root``, or the root folder).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..errors import GateFailedError
from ..service import registry
from .base import (
    MAX_MESSAGE_CHARS,
    MAX_NAME_CHARS,
    MlvcHandler,
    error,
    field_bool,
    field_str,
)
from .history import MAX_REV_CHARS, check_rev

#: The Jupyter authorization resource of the registry.
RESOURCE = "mlvc-registry"
F = TypeVar("F", bound=Callable[..., Any])


def allowed(action: str) -> Callable[[F], F]:
    """``@authorized(action)`` (on the handler's resource), typed."""
    return cast(Callable[[F], F], authorized(action))


def _version(body: dict[str, Any]) -> int:
    v = body.get("version")
    if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= 10**9:
        raise error(400, "'version' must be a whole number from 1 (a registered version)")
    return v


class RegistryHandler(MlvcHandler):
    """The base of the registry handlers: resource ``mlvc-registry``."""

    auth_resource = RESOURCE

    def repo(self) -> Path:
        """The folder the store is looked for from: the notebook's (``?path=``), else
        the server's store root, else its root folder."""
        if self.get_query_argument("path", None) is not None:
            return self.notebook().start
        return self.mlvc.store_root or self.mlvc.root_dir

    def user(self) -> str | None:
        """Who acts: the Jupyter user, or None for the server's local identity."""
        return self.author() or None


class ModelsHandler(RegistryHandler):
    """``GET /mlvc/models``: every registered model."""

    @web.authenticated
    @allowed("read")
    async def get(self) -> None:
        """Answer ``{"models": [ModelInfo]}`` (``service.registry.models``)."""
        self.write_json({"models": await self.call(registry.models, repo=self.repo())})


class ModelHandler(RegistryHandler):
    """``GET /mlvc/models/{name}``: one model."""

    @web.authenticated
    @allowed("read")
    async def get(self, name: str) -> None:
        """Answer the model's ``ModelInfo`` (versions newest first, aliases, gates)."""
        self.write_json(await self.call(registry.model, name, repo=self.repo()))


class ModelHistoryHandler(RegistryHandler):
    """``GET /mlvc/models/{name}/history``: every change, newest first."""

    @web.authenticated
    @allowed("read")
    async def get(self, name: str) -> None:
        """Answer ``{"events": [RegistryEvent]}``."""
        self.write_json({"events": await self.call(registry.history, name, repo=self.repo())})


class ModelVersionsHandler(RegistryHandler):
    """``POST /mlvc/models/{name}/versions``: register a version (action ``write``)."""

    @web.authenticated
    @allowed("write")
    async def post(self, name: str) -> None:
        """Register variable ``variable`` of commit ``rev`` (of ``notebook``, a path
        relative to the server root) as the next version; 201 with the ``ModelVersion``."""
        body = self.json_body("rev", "variable", "notebook", "message")
        rev = check_rev("rev", field_str(body, "rev", required=True, max_chars=MAX_REV_CHARS))
        variable = field_str(body, "variable", required=True, max_chars=MAX_NAME_CHARS)
        nb_path = field_str(body, "notebook", max_chars=1024)
        message = body.get("message", "")
        if not isinstance(message, str) or len(message) > MAX_MESSAGE_CHARS:
            raise error(400, f"'message' must be a string of at most {MAX_MESSAGE_CHARS} chars")
        assert rev is not None and variable is not None
        notebook = self.notebook_path(nb_path) if nb_path is not None else None
        out = await self.call(
            registry.register,
            name,
            rev,
            variable,
            repo=self.repo(),
            notebook=notebook,
            message=message,
            user=self.user(),
        )
        self.set_header("Location", self.api_url("models", name))
        self.write_json(out, status=201)


class PromoteHandler(RegistryHandler):
    """``POST /mlvc/models/{name}/promote``: move an alias (action ``execute``)."""

    @web.authenticated
    @allowed("execute")
    async def post(self, name: str) -> None:
        """Promote ``version`` to ``alias`` for ``reason`` once every gate passes; 200
        with the ``Promotion``; 409 ``{message, reason, gates}`` when a gate fails (nothing
        changed). ``dry_run`` only checks the gates."""
        body = self.json_body("version", "alias", "reason", "dry_run")
        version = _version(body)
        alias = field_str(body, "alias", required=True)
        reason = field_str(body, "reason", required=True, max_chars=MAX_MESSAGE_CHARS)
        dry_run = field_bool(body, "dry_run", False)
        assert alias is not None and reason is not None
        try:
            out = await self.call(
                registry.promote,
                name,
                version,
                alias,
                reason=reason,
                repo=self.repo(),
                user=self.user(),
                dry_run=dry_run,
            )
        except web.HTTPError as e:
            cause = e.__cause__
            if isinstance(cause, GateFailedError):
                self.write_json(
                    {"message": str(cause), "reason": "GateFailedError", "gates": cause.gates},
                    status=409,
                )
                return
            raise
        self.write_json(out)


class RollbackHandler(RegistryHandler):
    """``POST /mlvc/models/{name}/rollback``: an alias back to its previous holder."""

    @web.authenticated
    @allowed("execute")
    async def post(self, name: str) -> None:
        """Roll ``alias`` back for ``reason``; 200 with the ``Promotion``."""
        body = self.json_body("alias", "reason")
        alias = field_str(body, "alias", required=True)
        reason = field_str(body, "reason", required=True, max_chars=MAX_MESSAGE_CHARS)
        assert alias is not None and reason is not None
        out = await self.call(
            registry.rollback, name, alias, reason=reason, repo=self.repo(), user=self.user()
        )
        self.write_json(out)


class ApprovalsHandler(RegistryHandler):
    """``POST /mlvc/models/{name}/approvals``: approve a version for an alias."""

    @web.authenticated
    @allowed("write")
    async def post(self, name: str) -> None:
        """Record the user's approval of ``version`` for ``alias``; 201 with the
        ``RegistryEvent``."""
        body = self.json_body("version", "alias", "comment")
        version = _version(body)
        alias = field_str(body, "alias", required=True)
        comment = body.get("comment", "")
        if not isinstance(comment, str) or len(comment) > MAX_MESSAGE_CHARS:
            raise error(400, f"'comment' must be a string of at most {MAX_MESSAGE_CHARS} chars")
        assert alias is not None
        out = await self.call(
            registry.approve,
            name,
            version,
            alias,
            repo=self.repo(),
            user=self.user(),
            comment=comment,
        )
        self.write_json(out, status=201)


class GatesHandler(RegistryHandler):
    """``PUT /mlvc/models/{name}/gates/{alias}``: the gates of an alias (``execute``)."""

    @web.authenticated
    @allowed("execute")
    async def put(self, name: str, alias: str) -> None:
        """Replace the alias's gates (``metrics`` query, ``evaluated``, ``approvals``);
        200 with the ``ModelInfo``."""
        body = self.json_body("metrics", "evaluated", "approvals")
        metrics = body.get("metrics")
        if metrics is not None and (not isinstance(metrics, str) or len(metrics) > 4000):
            raise error(400, "'metrics' must be a query string (at most 4000 characters)")
        approvals = body.get("approvals", 0)
        if (
            isinstance(approvals, bool)
            or not isinstance(approvals, int)
            or not 0 <= approvals <= 100
        ):
            raise error(400, "'approvals' must be a whole number from 0 to 100")
        out = await self.call(
            registry.set_gates,
            name,
            alias,
            metrics=metrics or None,
            evaluated=field_bool(body, "evaluated", False),
            approvals=approvals,
            repo=self.repo(),
            user=self.user(),
        )
        self.write_json(out)


__all__ = [
    "RESOURCE",
    "ApprovalsHandler",
    "GatesHandler",
    "ModelHandler",
    "ModelHistoryHandler",
    "ModelVersionsHandler",
    "ModelsHandler",
    "PromoteHandler",
    "RollbackHandler",
]
