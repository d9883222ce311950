"""Live sync: tell open panels when a store's history changed, whoever changed it.

The extension registers one event schema (:data:`SCHEMA_ID`) with jupyter_server's event
system; JupyterLab's event stream (``/api/events/subscribe``) carries each event to
every open page. :class:`StoreWatcher` emits it

- at once after a request of this server that changed a store (a commit, checkout,
  branch, tag, pull from the panel), and
- within :data:`INTERVAL_S` of a change made anywhere else (the ``%mlvc`` magics, the
  Python API, the CLI, ``mlvc run``, another server): it checks the cheap
  :func:`~mlvc_server.store.stamp.store_stamp` of the stores that open panels look at,
  twice a second, with ``stat`` calls only.

A store is watched while panels ask about it: each ``GET /mlvc/log`` or ``/mlvc/status``
marks its notebook as seen, and a store none of whose notebooks was seen for
:data:`IDLE_S` is dropped (a panel asks every 20 s at least). The same stamp is the
``ETag`` of ``GET /mlvc/log``, so a frontend that cannot receive events asks cheaply
with ``If-None-Match`` and gets ``304 Not Modified`` when nothing changed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from ..store.stamp import store_stamp

#: The id of the event, as the frontend filters the event stream by it.
SCHEMA_ID: Final = "https://events.mlvc.dev/jupyterlab-mlvc/store-changed/v1"

#: The schema registered with ``serverapp.event_logger``.
SCHEMA: Final[dict[str, Any]] = {
    "$id": SCHEMA_ID,
    "version": "1",
    "title": "mlvc store changed",
    "personal-data": False,
    "description": (
        "The history of an mlvc store changed (a commit, branch, tag, checkout or pull): "
        "panels showing one of its notebooks fetch their history again."
    ),
    "type": "object",
    "required": ["store", "paths", "reason"],
    "properties": {
        "store": {
            "type": "string",
            "title": "store",
            "description": "The store's folder relative to the server root ('' for the root).",
        },
        "paths": {
            "type": "array",
            "title": "paths",
            "description": "The notebooks (server paths) open panels follow in that store.",
            "items": {"type": "string"},
        },
        "reason": {
            "type": "string",
            "title": "reason",
            "enum": ["request", "watcher"],
            "description": "request: a change this server made; watcher: one it noticed.",
        },
    },
}

#: Seconds between two checks of the watched stores.
INTERVAL_S: Final = 0.5
#: Seconds after which a store no panel asked about is no longer watched.
IDLE_S: Final = 90.0

log = logging.getLogger(__name__)


@dataclass
class _Watched:
    label: str
    stamp: str
    seen: dict[str, float] = field(default_factory=dict)


class StoreWatcher:
    """Watch the stores open panels look at, and emit :data:`SCHEMA_ID` on changes.

    Args:
        emit: Sends one event's data (``serverapp.event_logger.emit`` with the schema).
        interval: Seconds between checks.
        idle: Seconds after which an unasked-about store is dropped.
    """

    def __init__(
        self,
        emit: Callable[[dict[str, Any]], None],
        interval: float = INTERVAL_S,
        idle: float = IDLE_S,
    ) -> None:
        self._emit = emit
        self.interval = interval
        self.idle = idle
        self._stores: dict[Path, _Watched] = {}
        self._task: asyncio.Task[None] | None = None

    @property
    def watched(self) -> dict[Path, list[str]]:
        """Each watched store's root and the notebooks seen in it."""
        return {root: sorted(w.seen) for root, w in self._stores.items()}

    def watch(self, root: Path, label: str, api_path: str, stamp: str | None = None) -> None:
        """Note that a panel looks at ``api_path`` in the store at ``root`` (called from
        the event loop); start checking it.

        Args:
            root: The store's root folder.
            label: Its folder as the frontend names it (relative to the server root).
            api_path: The notebook's server path.
            stamp: Its stamp if just computed (else computed now).
        """
        watched = self._stores.get(root)
        if watched is None:
            watched = self._stores[root] = _Watched(label, stamp or store_stamp(root))
        watched.seen[api_path] = time.monotonic()
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    def check(self, reason: str = "watcher") -> int:
        """Check every watched store now; emit for each one that changed.

        Returns:
            How many events were emitted.
        """
        now = time.monotonic()
        emitted = 0
        for root, watched in list(self._stores.items()):
            watched.seen = {p: t for p, t in watched.seen.items() if now - t < self.idle}
            if not watched.seen:
                del self._stores[root]
                continue
            stamp = store_stamp(root)
            if stamp == watched.stamp:
                continue
            watched.stamp = stamp
            data = {"store": watched.label, "paths": sorted(watched.seen), "reason": reason}
            try:
                self._emit(data)
                emitted += 1
            except Exception:  # an event that cannot be sent must not stop the watcher
                log.exception("mlvc: could not emit a store-changed event")
        return emitted

    async def _run(self) -> None:
        while self._stores:
            await asyncio.sleep(self.interval)
            self.check()

    async def stop(self) -> None:
        """Stop checking (the server is shutting down)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
