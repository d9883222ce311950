"""The Jupyter server extension of mlvc: configuration and handler registration."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jupyter_server.extension.application import ExtensionApp
from traitlets import Bool, Float, Int, List, TraitError, Unicode, validate

from .server import MlvcSettings, make_handlers
from .server.events import SCHEMA, SCHEMA_ID, StoreWatcher


class MlvcApp(ExtensionApp):
    """Serves the mlvc REST API under ``/mlvc/`` on the Jupyter server.

    Configure it like any Jupyter app, for example in ``jupyter_server_config.py``::

        c.MlvcApp.store_root = "/srv/projects/churn"
        c.MlvcApp.max_variable_bytes = 2 * 1024**3
        c.MlvcApp.kernel_timeout = 10

    or on the command line: ``jupyter lab --MlvcApp.safety_commit=False``.
    """

    name = "mlvc_server"
    description = "Version control for machine-learning experiments."
    load_other_extensions = True

    store_root = Unicode(
        "",
        config=True,
        help=(
            "The folder the mlvc store (.mlvc/) is looked for in, walking up from it, and "
            "where POST /mlvc/init creates it. Empty (the default): look from each "
            "notebook's own folder upward, as the kernel and the CLI do, so a store next "
            "to the notebook or in any folder above it (such as the server's root_dir) is "
            "found. Notebook paths in requests are always relative to the server's "
            "root_dir, and must stay inside it."
        ),
    )

    max_variable_bytes = Int(
        0,
        config=True,
        help=(
            "Skip variables bigger than this many bytes (serialized) in the commits the "
            "server asks a kernel to make (the sidebar's Commit, checkout's safety "
            "commit); they are named in the commit's 'skipped' with the reason. 0 (the "
            "default): no limit."
        ),
    )

    max_serialize_seconds = Float(
        60.0,
        config=True,
        help=(
            "Skip a variable whose serialization takes longer than this many seconds in "
            "the commits the server asks a kernel to make; it is named in the commit's "
            "'skipped'. 0: no limit."
        ),
    )

    safety_commit = Bool(
        True,
        config=True,
        help=(
            "Whether POST /mlvc/checkout first commits unsaved state: the notebook file "
            "when it differs from HEAD, and the kernel's variables when they differ and "
            "are about to be replaced. With False, what was not committed is lost."
        ),
    )

    kernel_timeout = Float(
        30.0,
        config=True,
        help=(
            "Seconds to wait for a notebook's kernel that is busy running a cell before "
            "answering 409 'kernel busy' (the request is then dropped, never run later). "
            "Once the kernel has started the request, the server waits for it to finish."
        ),
    )

    max_log_limit = Int(
        10_000,
        config=True,
        help=(
            "The most commits one GET /mlvc/log, /mlvc/compare or /mlvc/series returns "
            "(the largest 'limit' accepted, and the default of /mlvc/log)."
        ),
    )

    metric_names = List(
        Unicode(),
        default_value=None,
        allow_none=True,
        config=True,
        help=(
            "The variable names the commits the server asks a kernel to make record as "
            "metrics when they hold a number (a name matches an entry equal to it or to "
            "one of its '_'-separated words, or a glob such as '*_score'). None (the "
            "default): the kernel's MLVC_METRIC_NAMES environment variable, else acc, "
            "accuracy, loss, f1, auc, rmse, mae, r2, precision, recall."
        ),
    )

    @validate("max_variable_bytes", "max_log_limit")
    def _not_negative(self, proposal: dict[str, Any]) -> int:
        value = int(proposal["value"])
        if value < 0 or (proposal["trait"].name == "max_log_limit" and value < 1):
            raise TraitError(f"MlvcApp.{proposal['trait'].name} must be positive")
        return value

    @validate("max_serialize_seconds")
    def _not_negative_seconds(self, proposal: dict[str, Any]) -> float:
        value = float(proposal["value"])
        if not value >= 0:
            raise TraitError("MlvcApp.max_serialize_seconds must be 0 or more")
        return value

    @validate("kernel_timeout")
    def _positive_timeout(self, proposal: dict[str, Any]) -> float:
        value = float(proposal["value"])
        if not value > 0:
            raise TraitError("MlvcApp.kernel_timeout must be more than 0 seconds")
        return value

    def initialize_settings(self) -> None:
        """Register the store-changed event and the watcher that emits it (live sync)."""
        logger = self.serverapp.event_logger  # type: ignore[union-attr]
        if logger is not None and SCHEMA_ID not in logger.schemas.schema_ids:
            logger.register_event_schema(SCHEMA)

        def emit(data: dict[str, Any]) -> None:
            if logger is not None:
                logger.emit(schema_id=SCHEMA_ID, data=data)

        self.watcher = StoreWatcher(emit)
        self.settings["mlvc_watcher"] = self.watcher

    async def stop_extension(self) -> None:
        """Stop watching stores when the server stops."""
        watcher = getattr(self, "watcher", None)
        if watcher is not None:
            await watcher.stop()

    def initialize_handlers(self) -> None:
        """Register the REST handlers, giving them the settings they work with."""
        root_dir = Path(self.serverapp.root_dir).expanduser().resolve()  # type: ignore[union-attr]
        store_root = Path(self.store_root).expanduser().resolve() if self.store_root else None
        settings = MlvcSettings(
            root_dir=root_dir,
            store_root=store_root,
            max_variable_bytes=self.max_variable_bytes or None,
            max_serialize_seconds=self.max_serialize_seconds,
            safety_commit=self.safety_commit,
            kernel_timeout=self.kernel_timeout,
            max_log_limit=self.max_log_limit,
            metric_names=None if self.metric_names is None else tuple(self.metric_names),
        )
        self.handlers.extend(make_handlers(root_dir, store_root, settings))
