"""REST handlers of the mlvc server extension, under ``/mlvc/``.

Every handler derives from :class:`MlvcHandler`, which authenticates and authorizes
each request (resource ``mlvc``), confines notebook paths to the server's root folder,
runs the blocking service calls off the event loop, and is the one place that turns
mlvc errors into HTTP errors. The endpoints are described in ``openapi.yaml``.
"""

from __future__ import annotations

import asyncio
import functools
import json
import posixpath
from collections.abc import Callable
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from tornado import web

from .errors import InvalidNameError, MlvcError, NotARepositoryError, RevisionNotFoundError

P = ParamSpec("P")
T = TypeVar("T")

#: HTTP status for each mlvc error class; the first match in order wins, anything
#: else in the MlvcError family is a 400.
ERROR_STATUS: tuple[tuple[type[MlvcError], int], ...] = (
    (NotARepositoryError, 404),
    (RevisionNotFoundError, 404),
    (InvalidNameError, 400),
)

#: The most commits one ``GET /mlvc/log`` returns.
MAX_LOG_LIMIT = 10_000


def http_error(exc: MlvcError) -> web.HTTPError:
    """The HTTP error a front end should answer for ``exc``.

    Args:
        exc: An error raised by the mlvc core.

    Returns:
        A ``tornado.web.HTTPError`` whose message is the error's own text and whose
        reason phrase names the error class.
    """
    status = next((code for cls, code in ERROR_STATUS if isinstance(exc, cls)), 400)
    # The message goes in ``args`` so that a "%" in it is never taken as a format.
    return web.HTTPError(status, "%s", str(exc) or type(exc).__name__, reason=type(exc).__name__)


class MlvcHandler(APIHandler):
    """Base class of the mlvc REST handlers."""

    auth_resource = "mlvc"

    def initialize(self, root_dir: Path, store_root: Path | None) -> None:
        """Receive the folders this handler works in (from ``MlvcApp``).

        Args:
            root_dir: The server's root folder, resolved; notebook paths are relative to it.
            store_root: The folder the mlvc store is looked for from (walking up), resolved;
                None to look from each notebook's own folder.
        """
        self.root_dir = root_dir
        self.store_root = store_root

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """Write errors as JSON, with the message of an ``HTTPError`` formatted."""
        exc_info = kwargs.get("exc_info")
        if exc_info is not None:
            exc = exc_info[1]
            if isinstance(exc, web.HTTPError) and exc.log_message and exc.args:
                formatted = web.HTTPError(
                    exc.status_code, exc.log_message % exc.args, reason=exc.reason
                )
                kwargs["exc_info"] = (type(formatted), formatted, exc_info[2])
        super().write_error(status_code, **kwargs)

    def notebook_path(self, path: str | None) -> Path:
        """Check a notebook path from a request and return it as an absolute path.

        Args:
            path: The path as the frontend sends it: relative to the server root, "/"
                separated.

        Returns:
            The notebook's absolute path, symlinks resolved, inside ``root_dir``.

        Raises:
            tornado.web.HTTPError: 400 if the path is missing, absolute, has a ".."
                component, or leads (through symlinks) outside the server root.
        """
        if not path:
            raise web.HTTPError(400, "missing query argument 'path'")
        if "\x00" in path or "\\" in path:
            raise web.HTTPError(400, "invalid notebook path")
        if posixpath.isabs(path) or Path(path).is_absolute():
            raise web.HTTPError(400, "notebook path must be relative to the server root")
        if ".." in path.split("/"):
            raise web.HTTPError(400, "notebook path must not contain '..'")
        full = (self.root_dir / path).resolve()
        if not full.is_relative_to(self.root_dir):
            raise web.HTTPError(400, "notebook path leads outside the server root")
        return full

    def store_start(self, notebook: Path) -> str:
        """Where to start looking for the notebook's store (walking up from there)."""
        return str(self.store_root if self.store_root is not None else notebook.parent)

    async def call(self, func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a blocking mlvc call in a worker thread, mapping its errors to HTTP.

        Args:
            func: The blocking function (usually from :mod:`mlvc_server.service`).
            *args: Its positional arguments.
            **kwargs: Its keyword arguments.

        Returns:
            What ``func`` returns.

        Raises:
            tornado.web.HTTPError: For any :class:`MlvcError` the call raises.
        """
        try:
            return await asyncio.to_thread(functools.partial(func, *args, **kwargs))
        except MlvcError as exc:
            raise http_error(exc) from exc

    def write_json(self, body: Any, status: int = 200) -> None:
        """Finish the request with a JSON body."""
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(body))


class LogHandler(MlvcHandler):
    """``GET /mlvc/log?path=NOTEBOOK[&limit=N]``: the commits of one notebook."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        """Answer ``{"initialized": bool, "commits": [...]}``, newest commit first."""
        notebook = self.notebook_path(self.get_query_argument("path", None))
        limit = self._limit(self.get_query_argument("limit", None))
        from . import service  # the core loads on first use, not at server start

        try:
            commits = await self.call(
                service.log, repo=self.store_start(notebook), notebook=str(notebook), limit=limit
            )
        except web.HTTPError as err:
            if isinstance(err.__cause__, NotARepositoryError):
                self.write_json({"initialized": False, "commits": []})
                return
            raise
        self.write_json({"initialized": True, "commits": list(commits)})

    @staticmethod
    def _limit(value: str | None) -> int | None:
        if value is None or value == "":
            return None
        try:
            limit = int(value)
        except ValueError:
            raise web.HTTPError(400, "limit must be a whole number") from None
        if not 1 <= limit <= MAX_LOG_LIMIT:
            raise web.HTTPError(400, f"limit must be between 1 and {MAX_LOG_LIMIT}")
        return limit


def make_handlers(root_dir: Path, store_root: Path | None) -> list[tuple[str, Any, dict[str, Any]]]:
    """The handler table of the extension (patterns before the server's base URL).

    Args:
        root_dir: The server's root folder, resolved.
        store_root: The folder the mlvc store is looked for from, resolved; None to look
            from each notebook's own folder.

    Returns:
        ``(pattern, handler class, initialize kwargs)`` triples.
    """
    kwargs = {"root_dir": root_dir, "store_root": store_root}
    return [
        (r"/mlvc/log", LogHandler, kwargs),
    ]
