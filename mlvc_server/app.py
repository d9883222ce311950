"""The Jupyter server extension of mlvc: configuration and handler registration."""

from __future__ import annotations

from pathlib import Path

from jupyter_server.extension.application import ExtensionApp
from traitlets import Unicode

from .handlers import make_handlers


class MlvcApp(ExtensionApp):
    """Serves the mlvc REST API under ``/mlvc/`` on the Jupyter server.

    Configure it like any Jupyter app, for example in ``jupyter_server_config.py``::

        c.MlvcApp.store_root = "/srv/projects/churn"
    """

    name = "mlvc_server"
    description = "Version control for machine-learning experiments."
    load_other_extensions = True

    store_root = Unicode(
        "",
        config=True,
        help=(
            "The folder the mlvc store (.mlvc/) is looked for in, walking up from it. "
            "Empty (the default): look from each notebook's own folder upward, as the "
            "kernel and the CLI do, so a store next to the notebook or in any folder above "
            "it (such as the server's root_dir) is found. Notebook paths in requests are "
            "always relative to the server's root_dir, and must stay inside it."
        ),
    )

    def initialize_handlers(self) -> None:
        """Register the REST handlers, giving them the root folders they work in."""
        root_dir = Path(self.serverapp.root_dir).expanduser().resolve()  # type: ignore[union-attr]
        store_root = Path(self.store_root).expanduser().resolve() if self.store_root else None
        self.handlers.extend(make_handlers(root_dir=root_dir, store_root=store_root))
