"""REST handlers of the mlvc server extension, under ``/mlvc/``.

Every handler derives from :class:`MlvcHandler` (``base.py``), which authenticates and
authorizes each request (resource ``mlvc``), confines notebook paths to the server's root
folder, runs the blocking store work off the event loop, and is the one place that turns
mlvc errors into HTTP errors. The endpoints are described in ``mlvc_server/openapi.yaml``:

    history.py    status, init, log, one commit, branches, tags
    analysis.py   diff, compare, series
    evaluation.py evaluations of two model versions
    lineage.py    the lineage graph of a commit or model version
    registry.py   the model registry (resource ``mlvc-registry``)
    state.py      commit, checkout, restore (through the notebook's kernel)
    kernels.py    finding a notebook's kernel and running mlvc in it
    sync.py       remotes, push and pull (as jobs with progress)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .analysis import CompareHandler, DiffHandler, SeriesHandler
from .base import ERROR_STATUS, MlvcHandler, MlvcSettings, http_error
from .data import DataCheckoutHandler, DataDiffHandler, DataUndoHandler
from .evaluation import EvaluationsHandler
from .history import (
    BranchesHandler,
    BranchHandler,
    CommitHandler,
    InitHandler,
    LogHandler,
    StatusHandler,
    TagHandler,
    TagsHandler,
)
from .lineage import LineageHandler
from .registry import (
    ApprovalsHandler,
    GatesHandler,
    ModelHandler,
    ModelHistoryHandler,
    ModelsHandler,
    ModelVersionsHandler,
    PromoteHandler,
    RollbackHandler,
)
from .state import CheckoutHandler, CommitsHandler, RestoreHandler
from .sweeps import SweepsHandler
from .sync import (
    JobHandler,
    JobListHandler,
    JobRegistry,
    PullHandler,
    PushHandler,
    RemotesHandler,
)

__all__ = ["ERROR_STATUS", "ROUTES", "MlvcHandler", "MlvcSettings", "http_error", "make_handlers"]

#: Each route (a pattern after the server's base URL) and its handler.
ROUTES: tuple[tuple[str, type[MlvcHandler]], ...] = (
    (r"/mlvc/status", StatusHandler),
    (r"/mlvc/init", InitHandler),
    (r"/mlvc/log", LogHandler),
    (r"/mlvc/commits", CommitsHandler),
    (r"/mlvc/commits/(?P<rev>.*)", CommitHandler),
    (r"/mlvc/branches", BranchesHandler),
    (r"/mlvc/branches/(?P<name>.*)", BranchHandler),
    (r"/mlvc/tags", TagsHandler),
    (r"/mlvc/tags/(?P<name>.*)", TagHandler),
    (r"/mlvc/diff", DiffHandler),
    (r"/mlvc/compare", CompareHandler),
    (r"/mlvc/series", SeriesHandler),
    (r"/mlvc/checkout", CheckoutHandler),
    (r"/mlvc/restore", RestoreHandler),
    (r"/mlvc/remotes", RemotesHandler),
    (r"/mlvc/push", PushHandler),
    (r"/mlvc/pull", PullHandler),
    (r"/mlvc/jobs", JobListHandler),
    (r"/mlvc/jobs/(?P<job>.*)", JobHandler),
    (r"/mlvc/sweeps", SweepsHandler),
    (r"/mlvc/data/diff", DataDiffHandler),
    (r"/mlvc/data/checkout", DataCheckoutHandler),
    (r"/mlvc/data/undo", DataUndoHandler),
    (r"/mlvc/evaluations", EvaluationsHandler),
    (r"/mlvc/lineage", LineageHandler),
    (r"/mlvc/models", ModelsHandler),
    (r"/mlvc/models/(?P<name>[^/]+)", ModelHandler),
    (r"/mlvc/models/(?P<name>[^/]+)/history", ModelHistoryHandler),
    (r"/mlvc/models/(?P<name>[^/]+)/versions", ModelVersionsHandler),
    (r"/mlvc/models/(?P<name>[^/]+)/promote", PromoteHandler),
    (r"/mlvc/models/(?P<name>[^/]+)/rollback", RollbackHandler),
    (r"/mlvc/models/(?P<name>[^/]+)/approvals", ApprovalsHandler),
    (r"/mlvc/models/(?P<name>[^/]+)/gates/(?P<alias>[^/]+)", GatesHandler),
)
#: Handlers that also receive the server's job registry (push and pull run as jobs).
_WITH_JOBS = (RemotesHandler, PushHandler, PullHandler, JobListHandler, JobHandler, SweepsHandler)


def make_handlers(
    root_dir: Path, store_root: Path | None, settings: MlvcSettings | None = None
) -> list[tuple[str, Any, dict[str, Any]]]:
    """The handler table of the extension (patterns before the server's base URL).

    Args:
        root_dir: The server's root folder, resolved.
        store_root: The folder the mlvc store is looked for from, resolved; None to look
            from each notebook's own folder.
        settings: The other settings; defaults when None (``root_dir`` and
            ``store_root`` given here win).

    Returns:
        ``(pattern, handler class, initialize kwargs)`` triples.
    """
    base = settings or MlvcSettings(root_dir=root_dir)
    kwargs = {
        "settings": MlvcSettings(
            root_dir=root_dir,
            store_root=store_root,
            max_variable_bytes=base.max_variable_bytes,
            max_serialize_seconds=base.max_serialize_seconds,
            safety_commit=base.safety_commit,
            kernel_timeout=base.kernel_timeout,
            max_log_limit=base.max_log_limit,
            metric_names=base.metric_names,
        )
    }
    with_jobs = {**kwargs, "jobs": JobRegistry()}
    return [
        (pattern, handler, with_jobs if issubclass(handler, _WITH_JOBS) else kwargs)
        for pattern, handler in ROUTES
    ]
