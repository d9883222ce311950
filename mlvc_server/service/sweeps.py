"""Sweeps: run a notebook once per combination of parameters, each run on its own branch.

``sweep`` plans the combinations (a grid, or ``random`` of them), names a branch for each
(``sweep/<name>/<combo>``), skips those already committed there (resume), creates the
others' branches from the notebook's HEAD, and hands the runs to an executor that the
front end supplies: the service does not know how a notebook is executed (the CLI's
``mlvc run`` does) nor where (local processes, or a Dask cluster). It reports progress
with an ETA through a callback, and returns every combination's outcome. The notebook's
current branch never moves: each run commits to its branch by name.

An executor is ``executor(jobs, on_done, cancel)``: it runs each :class:`SweepJob` (with
``mlvc run`` semantics, committing on ``job.branch``), calls ``on_done(job, outcome)`` as
each finishes, in any order, and returns when all are done. A run that raises (a killed
worker) is recorded as lost, not committed; the next sweep with the same name runs it.

Cancelling is :class:`SweepCancel`, set from any thread (the CLI's signal handler, the
server's ``DELETE`` of the job): the executor starts no more runs and stops the running
ones (their kernels shut down, nothing committed; it reports them ``{"status":
"cancelled"}`` and registers how to stop them with :meth:`SweepCancel.on_cancel`). The
sweep then records every combination without a result as ``cancelled``, deletes the
branches it made for them (those still where it made them), and returns; running the
same sweep again runs only the combinations without an ok commit.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import os
import random as random_module
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import InvalidNameError
from ..store.refs import branch_ref, validate_name
from ..store.revisions import head
from .workspace import open_store, rel_notebook

__all__ = [
    "SweepCancel",
    "SweepJob",
    "SweepOutcome",
    "SweepProgress",
    "combo_label",
    "plan",
    "sweep",
]

#: Characters a combination's label keeps (a ref name's characters, less ``+``, the
#: separator); others become ``-``.
_SAFE = re.compile(r"[^A-Za-z0-9.@=-]")


@dataclass(frozen=True)
class SweepJob:
    """One combination to run: its params, its branch and its commit message."""

    params: dict[str, Any]
    label: str
    branch: str
    message: str


@dataclass
class SweepOutcome:
    """How one combination ended: ``ok``, ``failed`` (a cell failed; committed),
    ``lost`` (the run did not commit: its worker died, or it could not start),
    ``cancelled`` (the sweep was cancelled before the run committed; nothing committed)
    or ``skipped`` (committed by an earlier sweep)."""

    job: SweepJob
    status: str
    commit: str | None = None
    error: str | None = None
    seconds: float = 0.0


@dataclass
class SweepProgress:
    """Where a sweep stands, given to the progress callback when it starts (``done``
    0, ``last`` None, ``counts`` holding the ``skipped``) and after each run (``counts``
    of the runs' outcomes). ``total`` counts the runs to run (not the skipped);
    ``eta`` is the seconds left at the pace so far (None before the first run ends, or
    once cancelled)."""

    done: int
    total: int
    elapsed: float
    eta: float | None
    last: SweepOutcome | None
    counts: dict[str, int] = field(default_factory=dict)


class SweepCancel:
    """Cancels a sweep, from any thread: :meth:`cancel` sets it once and calls what the
    executor registered with :meth:`on_cancel` (stop a run, cancel a future)."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.RLock()
        self._callbacks: dict[int, Callable[[], None]] = {}
        self._next = 0
        #: Why it was cancelled (``"SIGTERM"``, ``"cancelled from the panel"``...).
        self.reason: str | None = None

    @property
    def cancelled(self) -> bool:
        """Whether :meth:`cancel` was called."""
        return self._event.is_set()

    def cancel(self, reason: str = "cancelled") -> bool:
        """Cancel the sweep: no run starts any more, the running ones are stopped.
        False if it was cancelled already."""
        with self._lock:
            if self._event.is_set():
                return False
            self.reason = reason
            self._event.set()
            callbacks = list(self._callbacks.values())
            self._callbacks.clear()
        for fn in callbacks:
            with contextlib.suppress(Exception):  # one failing stop must not keep the rest
                fn()
        return True

    def on_cancel(self, fn: Callable[[], None]) -> Callable[[], None]:
        """Call ``fn`` when the sweep is cancelled (at once if it is); returns the
        function that unregisters it."""
        with self._lock:
            if not self._event.is_set():
                key = self._next
                self._next += 1
                self._callbacks[key] = fn

                def forget() -> None:
                    with self._lock:
                        self._callbacks.pop(key, None)

                return forget
        fn()
        return lambda: None

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until cancelled (or ``timeout`` seconds); whether it was."""
        return self._event.wait(timeout)


Executor = Callable[
    [Sequence[SweepJob], Callable[[SweepJob, Mapping[str, Any]], None], SweepCancel], None
]


def _literal(v: Any) -> str:
    return v if isinstance(v, str) else json.dumps(v, separators=(",", ":"))


def combo_label(params: Mapping[str, Any]) -> str:
    """A branch-safe name of a combination: ``lr=0.1+C=1`` (in the order given). Names
    or values with other characters are replaced, with a short hash to stay unique."""
    raw = "+".join(f"{k}={_literal(v)}" for k, v in params.items())
    safe = "+".join(_SAFE.sub("-", f"{k}={_literal(v)}") for k, v in params.items())
    if safe != raw or len(safe) > 120:
        digest = hashlib.sha1(raw.encode()).hexdigest()[:8]
        safe = f"{safe[:100]}+{digest}"
    return safe.strip(".") or hashlib.sha1(raw.encode()).hexdigest()[:8]


def plan(
    axes: Mapping[str, Sequence[Any]],
    *,
    name: str,
    notebook: str,
    random: int | None = None,
    seed: int | None = None,
) -> list[SweepJob]:
    """The jobs of a sweep: every combination of ``axes`` (the first axis varies
    slowest), or ``random`` of them drawn without replacement with ``seed``.

    Raises:
        InvalidNameError: no axes, an empty axis, a bad sweep name, or ``random`` < 1.
    """
    if not axes:
        raise InvalidNameError("a sweep needs at least one parameter: -p NAME=V1,V2,...")
    for k, values in axes.items():
        if not values:
            raise InvalidNameError(f"parameter {k!r} has no values")
    validate_name(f"sweep/{name}")
    keys = list(axes)
    combos = [dict(zip(keys, vs, strict=True)) for vs in itertools.product(*axes.values())]
    if random is not None:
        if random < 1:
            raise InvalidNameError("--random takes a number of runs >= 1")
        rng = random_module.Random(seed)
        combos = rng.sample(combos, min(random, len(combos)))
    jobs = []
    seen: set[str] = set()
    for params in combos:
        label = combo_label(params)
        if label in seen:
            continue
        seen.add(label)
        branch = f"sweep/{name}/{label}"
        validate_name(branch)
        shown = " ".join(f"{k}={_literal(v)}" for k, v in params.items())
        jobs.append(
            SweepJob(
                params=params,
                label=label,
                branch=branch,
                message=f"sweep {name}: {os.path.basename(notebook)} {shown}",
            )
        )
    return jobs


def _committed(store: Any, nb: str | None, job: SweepJob) -> str | None:
    """The commit of an earlier run of ``job`` (ok, with these params), or None."""
    from .history import log

    sha = store.ref(branch_ref(nb, job.branch))
    if sha is None:
        return None
    entries = log(repo=store.root, rev=sha.decode() if isinstance(sha, bytes) else sha, limit=1)
    if not entries:
        return None
    e = entries[0]
    if (
        e.get("status") == "ok"
        and e.get("branch") == job.branch
        and e.get("params")
        == {
            **e.get("params", {}),
            **job.params,
        }
    ):
        return e["id"]
    return None


def sweep(
    axes: Mapping[str, Sequence[Any]],
    executor: Executor,
    *,
    repo: str | os.PathLike[str] = ".",
    notebook: str | os.PathLike[str],
    name: str,
    random: int | None = None,
    seed: int | None = None,
    on_progress: Callable[[SweepProgress], None] | None = None,
    cancel: SweepCancel | None = None,
) -> list[SweepOutcome]:
    """Run a notebook once per combination of ``axes``, each on ``sweep/<name>/<combo>``.

    Args:
        axes: parameter name -> the values to try.
        executor: runs the jobs (see the module's documentation).
        notebook: the notebook to run.
        name: the sweep's name (its branches are ``sweep/<name>/...``; running the same
            name again resumes: combinations with an ok commit on their branch are
            skipped, failed, lost and cancelled ones run again).
        random, seed: run ``random`` combinations drawn with ``seed`` instead of all.
        on_progress: called after each run with a :class:`SweepProgress`.
        cancel: cancels the sweep when set (from another thread); the runs not
            committed by then end ``cancelled``.

    Returns:
        One :class:`SweepOutcome` per combination, in plan order.
    """
    store = open_store(repo, create=True)
    nb = rel_notebook(store, notebook)
    jobs = plan(axes, name=name, notebook=str(notebook), random=random, seed=seed)
    cancel = cancel if cancel is not None else SweepCancel()
    outcomes: dict[str, SweepOutcome] = {}
    todo: list[SweepJob] = []
    for job in jobs:
        cid = _committed(store, nb, job)
        if cid:
            outcomes[job.label] = SweepOutcome(job, "skipped", commit=cid)
        else:
            todo.append(job)
    start = head(store, nb)
    made: set[str] = set()  # the branches this sweep made (deleted if never run)
    for job in todo:
        ref = branch_ref(nb, job.branch)
        if store.ref(ref) is None and start:
            store.cas_ref(ref, None, start, message=f"mlvc sweep {name}: from {start[:8]}")
            made.add(job.label)
    t0 = time.monotonic()
    counts: dict[str, int] = {}

    def done(job: SweepJob, result: Mapping[str, Any]) -> None:
        status = str(result.get("status") or "lost")
        commit = result.get("commit")
        if status in ("ok", "failed") and not commit:
            status = "lost"
        if status == "lost" and cancel.cancelled and not commit:
            status = "cancelled"  # stopped by the cancel (a cancelled future, a killed run)
        out = SweepOutcome(
            job,
            status,
            commit=str(commit) if commit and status != "cancelled" else None,
            error=result.get("error"),
            seconds=float(result.get("seconds") or 0.0),
        )
        outcomes[job.label] = out
        counts[status] = counts.get(status, 0) + 1
        if on_progress is not None:
            n = sum(counts.values())
            elapsed = time.monotonic() - t0
            eta = elapsed / n * (len(todo) - n) if n and not cancel.cancelled else None
            on_progress(SweepProgress(n, len(todo), elapsed, eta, out, dict(counts)))

    if on_progress is not None:
        skipped = len(jobs) - len(todo)
        on_progress(SweepProgress(0, len(todo), 0.0, None, None, {"skipped": skipped}))
    if todo and not cancel.cancelled:
        executor(todo, done, cancel)
    for job in todo:
        if job.label not in outcomes:
            outcomes[job.label] = (
                SweepOutcome(job, "cancelled", error=cancel.reason)
                if cancel.cancelled
                else SweepOutcome(job, "lost", error="no result")
            )
    if cancel.cancelled:
        _forget_branches(
            store,
            nb,
            start,
            [o.job for o in outcomes.values() if o.status == "cancelled" and o.job.label in made],
        )
    return [outcomes[j.label] for j in jobs]


def _forget_branches(store: Any, nb: str | None, start: str | None, jobs: list[SweepJob]) -> None:
    """Delete the branches a cancelled sweep made for runs that never committed (each
    only if it still points where the sweep made it: a run that did commit keeps it)."""
    from ..errors import MlvcError

    for job in jobs:
        with contextlib.suppress(MlvcError):
            store.cas_ref(branch_ref(nb, job.branch), start, None, message="mlvc sweep: cancelled")
