"""``POST /mlvc/sweeps?path=``: start ``mlvc sweep`` of a notebook as a job (the panel's
"Start Sweep…"), its progress read from the runs as they end.

The sweep runs as an ``mlvc sweep`` process (the front end that owns the executors,
:mod:`mlvc_server.cli.sweep`), started by the server in the project's folder; each
progress line (``[k/n] COMBO: status ...``) moves the job's ``done``/``total`` and
``phase`` (the last run) and ``eta``, and its ``--json`` outcomes are the job's
``result``. Like a push or pull, a sweep holds the store's job slot while it runs (409
``JobRunning``). Unlike them it can be cancelled (``DELETE /mlvc/jobs/{job}``): the
job's :class:`~mlvc_server.service.sweeps.SweepCancel` sends the process SIGTERM, which
``mlvc sweep`` answers by stopping its runs and printing its outcomes (the cancelled
ones ``cancelled``); the job ends ``cancelled`` with them.
"""

from __future__ import annotations

import json
import math
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jupyter_server.auth.decorator import authorized
from tornado import web

from .. import service
from ..errors import MlvcError, NotARepositoryError
from ..service.sweeps import SweepCancel
from .base import error, field_str
from .sync import JobsHandler

__all__ = ["MAX_RUNS", "SweepsHandler", "run_sweep"]

#: The most combinations a sweep started over REST may have.
MAX_RUNS = 1000
#: The most parameters, and values per parameter.
MAX_PARAMS = 16
MAX_VALUES = 100
_LINE = re.compile(r"^\[(\d+)/(\d+)\] (.*)$")
_ETA = re.compile(r"; ETA (?:(\d+):)?(\d+):(\d\d)\)$")
#: A progress line's timings, ``(7.9 s; elapsed 0:08; ETA 0:39)``: the job has its own.
_TIMES = re.compile(r" \([\d.]+ s; elapsed [^)]*\)$")
#: Seconds a cancelled sweep's process has to stop its runs before it is killed.
KILL_AFTER = 15.0
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _scalar(v: Any) -> bool:
    return (
        v is None or isinstance(v, bool | int | str) or (isinstance(v, float) and math.isfinite(v))
    )


def _eta(text: str) -> float | None:
    """The seconds of a progress line's ``ETA H:MM:SS`` (or ``M:SS``)."""
    m = _ETA.search(text)
    if not m:
        return None
    return int(m.group(1) or 0) * 3600 + int(m.group(2)) * 60 + int(m.group(3))


def run_sweep(
    argv: list[str],
    cwd: Path,
    progress: Callable[[dict[str, Any]], None],
    cancel: SweepCancel | None = None,
) -> Any:
    """Run ``mlvc sweep ... --json``; report each run's end; its outcomes. ``cancel``
    sends the process SIGTERM once it has said it started (its first progress line,
    printed with its signal handlers in place), and kills it if it has not ended
    ``KILL_AFTER`` s after the cancel.

    Raises:
        MlvcError: the sweep could not start or printed no outcomes (its error).
    """
    if cancel is not None and cancel.cancelled:
        return []
    with tempfile.TemporaryFile("w+") as out:
        proc = subprocess.Popen(
            argv,
            cwd=cwd,
            stdout=out,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        killer = threading.Timer(KILL_AFTER, proc.kill)
        killer.daemon = True
        # SIGTERM before the sweep's first line would find Python's default handler (the
        # process dies, saying nothing): a cancel that early is sent when the line comes
        lock = threading.Lock()
        ready = False

        def terminate() -> None:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)

        def stop() -> None:
            killer.start()
            with lock:
                if ready:
                    terminate()

        forget = cancel.on_cancel(stop) if cancel is not None else (lambda: None)
        tail: list[str] = []
        try:
            assert proc.stderr is not None
            for line in proc.stderr:
                text = line.strip()
                m = _LINE.match(text)
                if m and not ready:
                    with lock:
                        ready = True
                        if cancel is not None and cancel.cancelled:
                            terminate()
                if m:
                    progress(
                        {
                            "phase": _TIMES.sub("", m.group(3))[:200],
                            "done": int(m.group(1)),
                            "total": int(m.group(2)),
                            "eta": _eta(text),
                        }
                    )
                elif text:
                    tail = [*tail[-20:], line.rstrip()]
            proc.wait()
        finally:
            forget()
            killer.cancel()
        out.seek(0)
        text = out.read()
    try:
        return json.loads(text)
    except ValueError:
        if cancel is not None and cancel.cancelled:
            raise MlvcError("the sweep was cancelled before it reported its runs") from None
        last = [t for t in tail if not t.startswith("[")][-1:] or ["no output"]
        raise MlvcError(f"the sweep did not run: {last[0]}") from None


def _ensure_store(start: Path) -> None:
    from ..store import find_root

    try:
        find_root(start)
    except NotARepositoryError:
        service.init(start)


class SweepsHandler(JobsHandler):
    """``POST /mlvc/sweeps?path=``: run the notebook for every combination, as a job."""

    @web.authenticated
    @authorized
    async def post(self) -> None:
        """Start a sweep; answer 202 with the job (``Location``: its URL)."""
        nb = self.notebook()
        body = self.json_body("params", "jobs", "name", required=True)
        params = body.get("params")
        if not isinstance(params, dict) or not params or len(params) > MAX_PARAMS:
            raise error(400, f"'params' must map 1 to {MAX_PARAMS} names to their values")
        runs = 1
        argv = [sys.executable, "-m", "mlvc_server.cli", "sweep", str(nb.file)]
        for name, values in params.items():
            if not _NAME.match(str(name)):
                raise error(400, f"parameter {name!r} is not a Python variable name")
            if (
                not isinstance(values, list)
                or not 0 < len(values) <= MAX_VALUES
                or not all(_scalar(v) for v in values)
            ):
                raise error(
                    400,
                    f"the values of {name!r} must be a list of 1 to {MAX_VALUES} numbers, "
                    "strings, booleans or nulls",
                )
            runs *= len(values)
            argv += ["-p", f"{name}=" + ",".join(json.dumps(v) for v in values)]
        if runs > MAX_RUNS:
            raise error(400, f"{runs} combinations: a sweep from here runs at most {MAX_RUNS}")
        jobs = body.get("jobs", 2)
        if not isinstance(jobs, int) or isinstance(jobs, bool) or not 1 <= jobs <= 16:
            raise error(400, "'jobs' must be an integer from 1 to 16")
        name = field_str(body, "name", max_chars=100)
        if name is not None:
            argv += ["--name", name]
        argv += ["--jobs", str(jobs), "--json"]
        start = nb.start
        root = Path(start)
        # as `mlvc sweep` does: a project without a store gets one in the notebook's folder
        await self.call(_ensure_store, root)

        cancel = SweepCancel()

        def work(progress: Callable[[dict[str, Any]], None]) -> Any:
            # the total comes with the sweep's first line: the runs to run, less those
            # an earlier sweep of the same name committed
            progress({"phase": "starting", "done": 0})
            return {"outcomes": run_sweep(argv, root, progress, cancel)}

        await self.start_job("sweep", start, nb.api_path, work, cancel)
