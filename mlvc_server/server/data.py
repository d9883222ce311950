"""Handlers for data files: the data diff of two commits, data checkout and its undo."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from .. import service
from .base import MAX_NAME_CHARS, MlvcHandler, error, field_bool, field_names, field_str
from .history import MAX_REV_CHARS, check_rev


class DataDiffHandler(MlvcHandler):
    """``GET /mlvc/data/diff?path=&a=&b=&key=&rows=``: the data files two commits read."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        """Answer ``service.data_diff(a, b)`` (default ``HEAD~1`` -> ``HEAD``)."""
        nb = self.notebook()
        a = check_rev("a", self.query_str("a", MAX_REV_CHARS)) or "HEAD~1"
        b = check_rev("b", self.query_str("b", MAX_REV_CHARS)) or "HEAD"
        key = self.query_str("key", MAX_NAME_CHARS) or None
        rows = self.query_bool("rows", True)
        self.write_json(
            await self.call(
                service.data_diff, a, b, key=key, rows=rows, repo=nb.start, notebook=nb.file
            )
        )


class DataCheckoutHandler(MlvcHandler):
    """``POST /mlvc/data/checkout?path=``: put the data files a commit read back."""

    @web.authenticated
    @authorized
    async def post(self) -> None:
        """Run ``service.data_checkout``; ``paths`` are relative to the project root."""
        nb = self.notebook()
        body = self.json_body("rev", "paths", "dry_run")
        rev = check_rev("rev", field_str(body, "rev", required=True, max_chars=MAX_REV_CHARS))
        if rev is None:
            raise error(400, "'rev' must name a commit")
        paths = field_names(body, "paths")
        dry_run = field_bool(body, "dry_run", False)
        self.write_json(
            await self.call(
                service.data_checkout,
                rev,
                paths,
                repo=nb.start,
                notebook=nb.file,
                dry_run=dry_run,
                from_root=True,
            )
        )


#: The longest name of a data checkout's safety record (``20261205T031500-0123abcd-12``).
MAX_SAFETY_CHARS = 40


class DataUndoHandler(MlvcHandler):
    """``POST /mlvc/data/undo?path=``: put back the files a data checkout replaced."""

    @web.authenticated
    @authorized
    async def post(self) -> None:
        """Run ``service.data_undo`` (``safety``: a checkout's, else the last one)."""
        nb = self.notebook()
        body = self.json_body("safety", required=False)
        safety = field_str(body, "safety", max_chars=MAX_SAFETY_CHARS)
        self.write_json(await self.call(service.data_undo, safety, repo=nb.start))
