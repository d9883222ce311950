"""Handlers that share a store: the remotes, push and pull as jobs with progress.

Push and pull can take minutes (payloads going to object storage), longer than a
request should stay open, so they run as **jobs**: ``POST /mlvc/push`` (or ``pull``)
checks its arguments, starts the work in a thread and answers ``202 Accepted`` with the
job and its URL (``Location``); ``GET /mlvc/jobs/{job}`` reports its state and
progress until it has ``succeeded`` (with the push or pull report as ``result``) or
``failed`` (with an ``error`` like an HTTP error body). One push or pull runs at a time
per store; starting another answers 409 with the running job's URL.

A sweep job can be cancelled (``DELETE /mlvc/jobs/{job}``): its work was given a
:class:`~mlvc_server.service.sweeps.SweepCancel`, which stops it; the job ends
``cancelled`` (with what the work returned, if it returned) and frees the store's slot.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jupyter_server.auth.decorator import authorized
from tornado import web

from .. import service
from ..errors import JobNotCancellableError, MlvcError, http_status
from ..service.sweeps import SweepCancel
from .base import (
    MAX_NAMES,
    MlvcHandler,
    MlvcSettings,
    check_text,
    error,
    field_bool,
    field_str,
)

#: Finished jobs kept for ``GET /mlvc/jobs/{job}`` (the oldest are forgotten first).
KEEP_FINISHED = 50
#: Seconds ``DELETE /mlvc/jobs/{job}`` waits for a cancelled job's work to stop.
CANCEL_WAIT = 20.0


def _iso(ts: float | None) -> str | None:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds") if ts else None


def _error_body(exc: BaseException) -> dict[str, Any]:
    """What a failed job reports: like the HTTP error its cause would give."""
    status = http_status(exc) if isinstance(exc, MlvcError) else 500
    message = str(exc) if isinstance(exc, MlvcError) else f"{type(exc).__name__}: {exc}"
    return {"status": status, "reason": type(exc).__name__, "message": message}


@dataclass
class Job:
    """One push or pull running (or run) in the background."""

    id: str
    kind: str
    root: Path
    state: str = "running"
    phase: str = "starting"
    done: int | None = None
    total: int | None = None
    bytes: int | None = None
    started: float = field(default_factory=time.time)
    finished: float | None = None
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    #: Seconds left, estimated by the work (a sweep) at ``eta_at``; None when not known.
    eta: float | None = None
    eta_at: float = 0.0
    #: What cancels the work; None for a job that cannot be cancelled (push, pull).
    cancel: SweepCancel | None = field(default=None, repr=False)
    thread: threading.Thread | None = field(default=None, repr=False)

    def progress(self, event: dict[str, Any]) -> None:
        """Record a progress event from the store (called from the job's thread)."""
        phase = str(event.get("phase", self.phase))
        if phase != self.phase:
            self.done = self.total = self.bytes = None
        self.phase = phase
        for key in ("done", "total", "bytes"):
            if isinstance(event.get(key), int):
                setattr(self, key, event[key])
        eta = event.get("eta")
        self.eta = float(eta) if isinstance(eta, int | float) else None
        self.eta_at = time.monotonic()

    def as_json(self) -> dict[str, Any]:
        """The job as ``GET /mlvc/jobs/{job}`` answers it."""
        return {
            "id": self.id,
            "kind": self.kind,
            "state": self.state,
            "phase": self.phase,
            "done": self.done,
            "total": self.total,
            "bytes": self.bytes,
            # counted down between the work's estimates
            "eta": None
            if self.eta is None
            else round(max(0.0, self.eta - (time.monotonic() - self.eta_at)), 1),
            "cancellable": self.cancel is not None and self.state == "running",
            "started": _iso(self.started),
            "finished": _iso(self.finished),
            "result": self.result,
            "error": self.error,
        }


class JobRegistry:
    """The jobs of one server (handed to the handlers in ``initialize``)."""

    def __init__(self) -> None:
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()

    def running(self, root: Path) -> Job | None:
        """The push or pull running on the store at ``root``, if any."""
        with self._lock:
            return next(
                (j for j in self._jobs.values() if j.root == root and j.state == "running"),
                None,
            )

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def of_store(self, root: Path) -> list[Job]:
        """The jobs kept for the store at ``root``, newest first."""
        with self._lock:
            return sorted(
                (j for j in self._jobs.values() if j.root == root),
                key=lambda j: j.started,
                reverse=True,
            )

    def start(
        self, kind: str, root: Path, work: Any, cancel: SweepCancel | None = None
    ) -> Job | None:
        """Start ``work(progress)`` in a thread as a job; None if one runs on ``root``.
        With ``cancel``, the job can be cancelled (:meth:`cancel` sets it; the work
        watches it)."""
        with self._lock:
            if any(j.root == root and j.state == "running" for j in self._jobs.values()):
                return None
            job = Job(uuid.uuid4().hex, kind, root, cancel=cancel)
            self._jobs[job.id] = job
            finished = [k for k, j in self._jobs.items() if j.state != "running"]
            for k in finished[: max(0, len(finished) - KEEP_FINISHED)]:
                del self._jobs[k]

        def run() -> None:
            try:
                result = work(job.progress)
                with self._lock:
                    job.result = result
                    if job.state == "running":
                        job.state = "cancelled" if cancel and cancel.cancelled else "succeeded"
            except Exception as exc:  # reported through the job, never lost
                with self._lock:
                    job.error = _error_body(exc)
                    if job.state == "running":
                        job.state = "cancelled" if cancel and cancel.cancelled else "failed"
            finally:
                with self._lock:
                    job.phase = "done" if job.state != "cancelled" else "cancelled"
                    job.eta = None
                    job.finished = job.finished or time.time()

        job.thread = threading.Thread(target=run, name=f"mlvc-{kind}-{job.id[:8]}", daemon=True)
        job.thread.start()
        return job

    def cancel(self, job: Job, reason: str, wait: float = CANCEL_WAIT) -> Job:
        """Cancel ``job`` and wait (``wait`` seconds at most) for its work to stop; the
        job is ``cancelled`` when this returns (the store's slot free), even if its work
        still winds down. A job that has ended is left as it is.

        Raises:
            JobNotCancellableError: the job is a push or pull.
        """
        if job.state != "running":
            return job
        if job.cancel is None:
            raise JobNotCancellableError(
                f"a {job.kind} cannot be cancelled: only sweeps can (wait for it to finish)"
            )
        job.cancel.cancel(reason)
        if job.thread is not None:
            job.thread.join(wait)
        with self._lock:
            if job.state == "running":  # still winding down: the slot is free all the same
                job.state = "cancelled"
                job.phase = "cancelled"
                job.eta = None
                job.finished = time.time()
        return job


def _store_root(start: Path) -> Path:
    from ..store import find_root

    return find_root(start)


class _SyncHandler(MlvcHandler):
    """Base of the handlers that need the job registry."""

    def initialize(self, settings: MlvcSettings, jobs: JobRegistry | None = None) -> None:
        """Receive the settings and the server's job registry."""
        super().initialize(settings)
        self.jobs = jobs if jobs is not None else JobRegistry()

    def answer_job(self, job: Job, api_path: str, status: int = 200) -> None:
        self.set_header("Location", self.api_url("jobs", job.id, path=api_path))
        self.write_json(job.as_json(), status=status)

    async def remote_name(self, body: dict[str, Any], start: Path) -> str:
        """The remote a push or pull names (default: ``origin`` or the only one),
        checked to exist (404 otherwise)."""
        name = field_str(body, "remote", max_chars=64)
        return await self.call(service.remote_name, name, repo=start)

    async def start_job(
        self, kind: str, start: Path, api_path: str, work: Any, cancel: SweepCancel | None = None
    ) -> None:
        root = await self.call(_store_root, start)
        job = self.jobs.start(kind, root, work, cancel)
        if job is None:
            running = self.jobs.running(root)
            headers = (
                {"Location": self.api_url("jobs", running.id, path=api_path)} if running else {}
            )
            raise error(
                409,
                f"a {running.kind if running else 'push or pull'} is already running on "
                "this store: wait for it to finish",
                "JobRunning",
                headers,
            )
        self.answer_job(job, api_path, status=202)


#: The base of handlers that run jobs (``server/sweeps.py`` too).
JobsHandler = _SyncHandler


class RemotesHandler(_SyncHandler):
    """``GET /mlvc/remotes?path=``: the store's remotes."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        """List the remotes: name, git URL, payload remote (option names only)."""
        nb = self.notebook()
        remotes = await self.call(service.remotes, repo=nb.start)
        self.write_json({"remotes": remotes})


class PushHandler(_SyncHandler):
    """``POST /mlvc/push?path=``: push branches, tags and payloads, as a job."""

    @web.authenticated
    @authorized
    async def post(self) -> None:
        """Start a push; answer 202 with the job (``Location``: its URL)."""
        nb = self.notebook()
        body = self.json_body("remote", "branches", "force", required=False)
        remote = await self.remote_name(body, nb.start)
        branches = body.get("branches")
        if branches is not None:
            if not isinstance(branches, list) or len(branches) > MAX_NAMES:
                raise error(400, f"'branches' must be a list of at most {MAX_NAMES} names")
            for b in branches:
                check_text("each of 'branches'", b, 512)
                if not b:
                    raise error(400, "'branches' holds an empty name")
        force = field_bool(body, "force", False)
        start = nb.start

        def work(progress: Any) -> Any:
            return service.push(remote, branches, repo=start, force=force, progress=progress)

        await self.start_job("push", start, nb.api_path, work)


class PullHandler(_SyncHandler):
    """``POST /mlvc/pull?path=``: fetch and fast-forward, as a job."""

    @web.authenticated
    @authorized
    async def post(self) -> None:
        """Start a pull; answer 202 with the job (``Location``: its URL)."""
        nb = self.notebook()
        body = self.json_body("remote", "accept_payloads", required=False)
        remote = await self.remote_name(body, nb.start)
        accept = field_bool(body, "accept_payloads", False)
        start = nb.start

        def work(progress: Any) -> Any:
            return service.pull(remote, repo=start, progress=progress, accept_payloads=accept)

        await self.start_job("pull", start, nb.api_path, work)


class JobListHandler(_SyncHandler):
    """``GET /mlvc/jobs?path=``: the jobs of the notebook's store, newest first (so a
    page loaded while a sweep runs finds it, with its progress and its cancel)."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        """Answer ``{"jobs": [...]}``: running and recently ended jobs of this store."""
        nb = self.notebook()
        root = await self.call(_store_root, nb.start)
        self.write_json({"jobs": [j.as_json() for j in self.jobs.of_store(root)]})


class JobHandler(_SyncHandler):
    """``GET /mlvc/jobs/{job}?path=``: a job's state and progress; ``DELETE``: cancel it."""

    async def _find(self, job: str) -> Job:
        nb = self.notebook()
        if not 0 < len(job) <= 64 or any(c not in "0123456789abcdef" for c in job):
            raise error(400, "a job id is 1 to 64 lowercase hex digits")
        found = self.jobs.get(job)
        if found is not None:
            root = await self.call(_store_root, nb.start)
            if found.root == root:
                return found
        raise error(404, f"no job {job[:64]!r} for this store", "JobNotFound")

    @web.authenticated
    @authorized
    async def get(self, job: str) -> None:
        """Answer the job (404 if unknown, forgotten, or of another store)."""
        found = await self._find(job)
        self.write_json(found.as_json())

    @web.authenticated
    @authorized
    async def delete(self, job: str) -> None:
        """Cancel a running sweep: its running runs stop (nothing committed for them),
        no other starts; answer the job, ``cancelled``, once its slot is free (a job
        that ended is answered as it is; 409 for a push or pull)."""
        found = await self._find(job)
        await self.call(self.jobs.cancel, found, "cancelled over REST")
        self.write_json(found.as_json())
