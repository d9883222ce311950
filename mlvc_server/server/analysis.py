"""Handlers that compare commits: diff, the compare table, metric series."""

from __future__ import annotations

from typing import Any

from jupyter_server.auth.decorator import authorized
from tornado import web

from .. import render, service
from .base import MAX_NAMES, MlvcHandler, error, validate_ref_name
from .history import MAX_QUERY_CHARS, MAX_REV_CHARS, check_rev

#: The longest ``revs`` of a compare request (73 full commit ids, 333 short ones), so that
#: the URL stays under the server's 64 KiB header limit whatever characters it holds.
MAX_REVS_CHARS = 3_000
#: Commits in a compare table or a series when the request gives no ``limit``.
DEFAULT_TABLE_LIMIT = 100


class DiffHandler(MlvcHandler):
    """``GET /mlvc/diff?path=&a=&b=&cells=&values=&outputs=``: differences of two commits."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        """Answer ``service.diff(a, b)`` (default ``HEAD~1`` -> ``HEAD``); ``cells=false``
        leaves out nbdime's cell diff, ``values=false`` the element-wise array compare;
        cell outputs come only with ``outputs=true`` (they can be most of a notebook).
        Each variable also gets ``change``: the presenter's words for it
        (:func:`mlvc_server.render.variable_change`)."""
        nb = self.notebook()
        a = check_rev("a", self.query_str("a", MAX_REV_CHARS))
        b = check_rev("b", self.query_str("b", MAX_REV_CHARS))
        if b is not None and a is None:
            raise error(400, "give 'a' with 'b'")
        cells = self.query_bool("cells", True)
        values = self.query_bool("values", True)
        outputs = self.query_bool("outputs", False)
        result = await self.call(
            service.diff,
            a,
            b,
            repo=nb.start,
            notebook=nb.file,
            cells=cells,
            values=values,
            outputs=outputs,
        )
        # what changed in each variable, in the words of `mlvc diff` and `%mlvc diff`
        for e in result.get("variables") or []:
            e["change"] = render.variable_change(e)
        self.write_json(result)


class _TableHandler(MlvcHandler):
    """Shared query parsing of the table endpoints (compare, series)."""

    def branch_and_limit(self) -> tuple[str | None, int | None]:
        """The optional ``branch`` (validated) and ``limit`` query arguments."""
        branch = self.query_str("branch")
        if branch is not None:
            validate_ref_name(branch, "branch")
        cap = self.mlvc.max_log_limit
        return branch, self.query_int("limit", min(DEFAULT_TABLE_LIMIT, cap), 1, cap)


#: The charts ``GET /mlvc/compare?plot=`` draws (:func:`mlvc_server.render.compare_vegalite`).
PLOTS = ("scatter", "parallel")


class CompareHandler(_TableHandler):
    """``GET /mlvc/compare?path=&revs=a,b,c`` or ``?branch=&limit=``, with ``where=QUERY``,
    ``sort=FIELD``, ``only_differing=true`` and ``plot=scatter|parallel``: params and
    metrics of many commits as a table (and its chart's Vega-Lite spec)."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        """Answer ``rows``, ``columns`` and ``best`` (``service.compare``)."""
        nb = self.notebook()
        raw = self.query_str("revs", MAX_REVS_CHARS)
        revs = None
        if raw is not None:
            revs = [r.strip() for r in raw.split(",") if r.strip()]
            if len(revs) > MAX_NAMES:
                raise error(400, f"revs names more than {MAX_NAMES} commits")
            for r in revs:
                check_rev("each of revs", r)
        branch, limit = self.branch_and_limit()
        where = self.query_str("where", MAX_QUERY_CHARS, allow_empty=True)
        sort = self.query_str("sort", MAX_REV_CHARS)
        only_differing = self.query_bool("only_differing", False)
        plot = self.query_str("plot")
        if plot is not None and plot not in PLOTS:
            raise error(400, f"plot must be one of {', '.join(PLOTS)}")
        table = await self.call(
            service.compare,
            repo=nb.start,
            notebook=nb.file,
            revs=revs,
            branch=branch,
            limit=limit,
            include_safety=self.query_bool("include_safety", False),
            where=where,
            sort=sort,
            only_differing=only_differing,
        )
        answer: dict[str, Any] = dict(table)
        if plot is not None:
            answer["vegalite"] = render.compare_vegalite(table, plot)
        self.write_json(answer)


class SeriesHandler(_TableHandler):
    """``GET /mlvc/series?path=&metric=&branch=&limit=&plot=steps``: metric values for
    charts (and, with ``plot``, each metric's chart across steps)."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        """Answer ``series`` (``service.series``): per metric, its value at each commit
        (oldest first) and the steps each commit logged."""
        nb = self.notebook()
        metric = self.query_str("metric", allow_empty=True)
        branch, limit = self.branch_and_limit()
        plot = self.query_str("plot")
        if plot is not None and plot != "steps":
            raise error(400, "plot must be steps")
        table = await self.call(
            service.series,
            repo=nb.start,
            notebook=nb.file,
            metric=metric,
            branch=branch,
            limit=limit,
            include_safety=self.query_bool("include_safety", False),
        )
        answer: dict[str, Any] = dict(table)
        if plot is not None:
            charts = {m: render.steps_vegalite(e["steps"], m) for m, e in table["series"].items()}
            answer["vegalite"] = {m: spec for m, spec in charts.items() if spec is not None}
        self.write_json(answer)
