"""``mlvc sweep``: run a notebook over a grid of parameters, in local processes or on a
Dask cluster. The plan, the branches, resume and progress are ``service.sweeps``; this
module supplies the executors: each run is an ``mlvc run`` process (the parameters cell,
outputs and failures recorded as ``mlvc run`` records them) committing on its branch.

With ``--cluster tcp://HOST:PORT`` the runs are Dask tasks (:func:`run_job`) executed by
the cluster's workers, which must see the project at the same path (a shared
filesystem): each worker's ``mlvc run`` commits straight into the project's ``.mlvc``
store, whose ref updates are compare-and-swap, so workers on different branches never
step on each other.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import render, service
from ..errors import InvalidNameError, MlvcError

if TYPE_CHECKING:  # loaded when a sweep runs, not for every `mlvc` command
    import asyncio

    from ..service.sweeps import SweepCancel, SweepJob, SweepOutcome, SweepProgress
    from .run import WarmKernel

#: The most characters of a failed run's stderr kept in its outcome.
_ERR_TAIL = 2000
#: Seconds a cancelled Dask sweep waits for its running tasks to stop their runs before
#: it cancels their futures.
CANCEL_GRACE = 10.0


def add_parser(cmd: Callable[..., Any]) -> None:
    """The ``sweep`` subcommand (``cmd`` is the CLI's subparser factory)."""
    sp = cmd(
        "sweep",
        "Run a notebook for every combination of parameters, each on a branch sweep/NAME/COMBO.",
        notebook=False,
    )
    sp.add_argument("notebook_file", metavar="NOTEBOOK")
    sp.add_argument(
        "-p",
        "--param",
        action="append",
        type=parse_axis,
        default=[],
        metavar="NAME=V1,V2,...",
        help="a parameter and its values (JSON when they parse, else strings)",
    )
    sp.add_argument("--random", type=int, metavar="N", help="run N random combinations")
    sp.add_argument("--seed", type=int, help="the seed of --random")
    sp.add_argument("--jobs", "-j", type=int, default=2, metavar="N", help="runs at a time")
    sp.add_argument("--name", help="the sweep's name (default: the notebook's name)")
    sp.add_argument("--cluster", metavar="tcp://HOST:PORT", help="run on this Dask scheduler")
    sp.add_argument(
        "--remote",
        metavar="NAME",
        help="with --cluster: workers share no filesystem; each runs in its own copy of "
        "the project and the runs come home through this remote",
    )
    sp.add_argument(
        "--worker-project",
        metavar="PATH",
        help="with --remote: the project's copy on each worker ({worker}: the Dask "
        "worker's name; default: $MLVC_WORKER_PROJECT, else this project's path)",
    )
    sp.add_argument("--timeout", type=float, metavar="S", help="seconds a cell may run")
    sp.add_argument("--kernel", metavar="NAME", help="kernel (default: the notebook's)")


def _split_values(text: str) -> list[str]:
    """``a,[1,2],"x,y"`` -> ``a``, ``[1,2]``, ``"x,y"`` (commas inside brackets or
    quotes do not split)."""
    out, depth, quote, cur = [], 0, "", ""
    for ch in text:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        elif ch == "," and depth == 0:
            out.append(cur)
            cur = ""
            continue
        cur += ch
    out.append(cur)
    return [v.strip() for v in out]


def parse_axis(text: str) -> tuple[str, list[Any]]:
    """``lr=0.1,0.01`` -> ``("lr", [0.1, 0.01])``; values read as JSON when they parse."""
    if "=" not in text or text.startswith("="):
        raise argparse.ArgumentTypeError(f"expected NAME=V1,V2,..., got {text!r}")
    key, raw = text.split("=", 1)
    values: list[Any] = []
    for v in _split_values(raw):
        if v == "":
            raise argparse.ArgumentTypeError(f"an empty value in {text!r}")
        try:
            values.append(json.loads(v))
        except ValueError:
            values.append(v)
    return key.strip(), values


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _worker_project(template: str | None, repo: str) -> str:
    """This worker's copy of the project: ``template`` with ``{worker}`` replaced by the
    Dask worker's name, else the ``MLVC_WORKER_PROJECT`` environment variable, else the
    coordinator's path."""
    if template:
        name = ""
        if "{worker}" in template:
            import importlib

            distributed: Any = importlib.import_module("distributed")
            name = str(distributed.get_worker().name)
        return template.replace("{worker}", name)
    return os.environ.get("MLVC_WORKER_PROJECT") or repo


async def _run_async(
    job: Mapping[str, Any],
    repo: str,
    notebook: str,
    options: Mapping[str, Any],
    warm: WarmKernel | None = None,
) -> dict[str, Any]:
    """One combination, in this process, with ``mlvc run``'s semantics; what it committed."""
    from ..service.sweep_remote import prepare_worker, publish_run
    from .run import run_notebook_async

    t = time.monotonic()
    remote = options.get("remote")
    try:
        if remote:
            # no shared filesystem: run in this worker's copy, bring the run home through
            # the remote (service.sweep_remote says why)
            project = _worker_project(options.get("worker_project"), repo)
            nb_file = prepare_worker(
                project,
                url=remote["url"],
                remote=remote["name"],
                notebook=remote["notebook"],
                branch=job["branch"],
            )
            repo = project
            notebook = str(nb_file)
        res = await run_notebook_async(
            notebook,
            job["params"],
            message=job["message"],
            branch=job["branch"],
            timeout=options.get("timeout"),
            kernel=options.get("kernel"),
            repo=repo,
            warm=warm,
        )
        if remote:
            publish_run(
                repo, remote=remote["name"], notebook=remote["notebook"], branch=job["branch"]
            )
    except Exception as e:  # the run did not commit (or its commit did not leave)
        return {"status": "lost", "error": f"{type(e).__name__}: {e}", "seconds": _since(t)}
    out: dict[str, Any] = {
        "status": res.status,
        "commit": res.commit,
        "metrics": dict(res.record.get("metrics") or {}),
        "seconds": _since(t),
    }
    if res.status != "ok":
        err = res.error or {}
        text = _ANSI.sub("", res.traceback or "").strip()
        out["error"] = (text or f"{err.get('ename')}: {err.get('evalue')}")[-_ERR_TAIL:]
    return out


def _since(t: float) -> float:
    return time.monotonic() - t


def run_job(
    job: Mapping[str, Any], repo: str, notebook: str, options: Mapping[str, Any]
) -> dict[str, Any]:
    """Run one combination in this process, in a new kernel; what it committed.

    This is the task a Dask worker runs. With a shared filesystem the worker sees
    ``repo`` and ``notebook`` at these paths and commits into the project's store; with
    ``options["remote"]`` it runs in its own copy of the project and pushes the run's
    branch to the remote (:mod:`mlvc_server.service.sweep_remote`). Returns ``status``
    (``ok``, ``failed`` or ``lost``), ``commit``, ``metrics``, ``seconds`` and, unless
    ok, ``error``. The run's kernel is this process's child: when the worker dies, the
    kernel notices within a second and exits, so a killed worker commits nothing.
    """
    import asyncio

    name = options.get("cancel_event")
    if not name:
        return asyncio.run(_run_async(job, repo, notebook, options))
    import importlib

    distributed: Any = importlib.import_module("distributed")
    event = distributed.Event(name, client=distributed.get_client())
    return asyncio.run(_run_until_cancelled(job, repo, notebook, options, event))


async def _run_until_cancelled(
    job: Mapping[str, Any], repo: str, notebook: str, options: Mapping[str, Any], event: Any
) -> dict[str, Any]:
    """A Dask task's run, stopped (its kernel shut down, nothing committed) when the
    coordinator sets the sweep's Dask ``Event``: Dask cannot stop a running task."""
    import asyncio

    t = time.monotonic()
    loop = asyncio.get_running_loop()
    task = asyncio.create_task(_run_async(job, repo, notebook, options))
    over = threading.Event()

    def watch() -> None:
        while not over.is_set():
            try:
                if event.wait(timeout=0.5):
                    loop.call_soon_threadsafe(task.cancel)
                    return
            except Exception:  # the scheduler is away for a moment: ask again
                over.wait(0.5)

    threading.Thread(target=watch, daemon=True, name="mlvc-sweep-cancel").start()
    try:
        return await task
    except asyncio.CancelledError:
        return {"status": "cancelled", "seconds": _since(t)}
    finally:
        over.set()


def _job_dict(job: SweepJob) -> dict[str, Any]:
    return {"params": job.params, "branch": job.branch, "message": job.message}


def local_executor(
    jobs: int, repo: str, notebook: str, options: Mapping[str, Any]
) -> Callable[..., None]:
    """Runs ``jobs`` runs at a time in this process: each slot is a thread with an event
    loop that takes the next combination, and starts the kernel of the run after it
    while the current one computes (a fresh kernel per run: runs stay isolated; the
    price is one idle kernel per slot, and its start-up overlapping a run)."""

    def execute(
        todo: Sequence[SweepJob],
        done: Callable[[SweepJob, Mapping[str, Any]], None],
        cancel: SweepCancel,
    ) -> None:
        import asyncio

        from .run import start_kernel

        lock = threading.Lock()
        pending = deque(todo)

        async def slot() -> None:
            # a cancel (from any thread) cancels this task: the run's kernel is shut
            # down, its run reported cancelled, and no further job is taken
            me = asyncio.current_task()
            loop = asyncio.get_running_loop()
            assert me is not None

            def stop() -> None:
                with contextlib.suppress(RuntimeError):  # the loop has ended
                    loop.call_soon_threadsafe(me.cancel)

            def quiet(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
                # nbclient's helper tasks of a run stopped by the cancel fail unseen
                if not (cancel.cancelled and "never retrieved" in context.get("message", "")):
                    loop.default_exception_handler(context)

            loop.set_exception_handler(quiet)
            forget = cancel.on_cancel(stop)
            ahead: asyncio.Task[WarmKernel] | None = None
            job: SweepJob | None = None
            t = time.monotonic()
            try:
                while not cancel.cancelled:
                    with lock:
                        job = pending.popleft() if pending else None
                        more = bool(pending)
                    if job is None:
                        return
                    t = time.monotonic()
                    warm = None
                    if ahead is not None:
                        with contextlib.suppress(Exception):  # the run starts its own
                            warm = await ahead
                        ahead = None
                    if more and options.get("prestart", True):
                        ahead = asyncio.create_task(start_kernel(notebook, options.get("kernel")))
                    res = await _run_async(_job_dict(job), repo, notebook, options, warm)
                    with lock:
                        done(job, res)
                    job = None
            except asyncio.CancelledError:
                if job is not None:
                    with lock:
                        done(job, {"status": "cancelled", "seconds": _since(t)})
            finally:
                forget()
                if ahead is not None:  # let it start, then stop it (no half-started kernel)
                    with contextlib.suppress(BaseException):
                        await (await ahead).shutdown()

        def thread() -> None:
            asyncio.run(slot())

        threads = [
            threading.Thread(target=thread, daemon=True, name=f"mlvc-sweep-{i}")
            for i in range(max(1, min(jobs, len(todo))))
        ]
        for th in threads:
            th.start()
        for th in threads:
            th.join()

    return execute


def dask_executor(
    address: str, repo: str, notebook: str, options: Mapping[str, Any]
) -> Callable[..., None]:
    """Runs each job as a task on the Dask scheduler at ``address``, as many at a time as
    the cluster has threads; a task whose worker dies (and that the scheduler does not
    retry elsewhere: its ``allowed-failures``) is reported lost. With
    ``options["remote"]`` each run's commit is fetched from the remote when it ends."""
    import importlib

    try:
        distributed: Any = importlib.import_module("distributed")
    except ImportError:
        raise MlvcError(
            "--cluster needs Dask: pip install 'jupyterlab-mlvc[sweep]' "
            "(or pip install 'dask[distributed]')"
        ) from None
    remote = options.get("remote")

    def execute(
        todo: Sequence[SweepJob],
        done: Callable[[SweepJob, Mapping[str, Any]], None],
        cancel: SweepCancel,
    ) -> None:
        from ..service.sweep_remote import bring_home, share_branches

        try:
            client = distributed.Client(address, timeout=30)
        except (OSError, TimeoutError) as e:
            raise MlvcError(f"cannot reach the Dask scheduler at {address}: {e}") from None
        timer: threading.Timer | None = None
        forget: Callable[[], None] = lambda: None  # noqa: E731
        try:
            if remote:
                share_branches(
                    [j.branch for j in todo], repo=repo, notebook=notebook, remote=remote["name"]
                )
            pending = list(todo)
            futures: dict[Any, SweepJob] = {}
            running = distributed.as_completed()
            # a cancel sets this event: each running task stops its run (and reports it
            # cancelled); the futures still running CANCEL_GRACE seconds later are
            # cancelled here (their results, if any, are not waited for)
            event_name = f"mlvc-sweep-cancel-{os.urandom(8).hex()}"
            event = distributed.Event(event_name, client=client)
            task_options = {**options, "cancel_event": event_name}

            def stop() -> None:
                nonlocal timer
                with contextlib.suppress(Exception):
                    event.set()
                timer = threading.Timer(
                    CANCEL_GRACE, lambda: client.cancel(list(futures), force=True)
                )
                timer.daemon = True
                timer.start()

            forget = cancel.on_cancel(stop)

            def fill() -> None:
                # as many tasks in flight as the cluster has threads: each is sent when a
                # thread is free, so a worker that dies holds only the runs it was running
                slots = max(1, sum(client.nthreads().values()))
                while pending and len(futures) < slots and not cancel.cancelled:
                    job = pending.pop(0)
                    fut = client.submit(
                        run_job,
                        _job_dict(job),
                        repo,
                        notebook,
                        task_options,
                        key=f"mlvc-sweep-{job.label}-{os.urandom(4).hex()}",
                        pure=False,
                    )
                    futures[fut] = job
                    running.add(fut)

            fill()
            for fut in running:
                job = futures.pop(fut)
                try:
                    res = fut.result()
                except (KeyboardInterrupt, SystemExit):
                    raise
                except BaseException as e:  # a killed worker (or a cancelled future): lost
                    res = {"status": "lost", "error": f"{type(e).__name__}: {e}"}
                if remote and res.get("commit"):
                    try:
                        bring_home(
                            job.branch,
                            str(res["commit"]),
                            repo=repo,
                            notebook=notebook,
                            remote=remote["name"],
                        )
                    except MlvcError as e:
                        res = {**res, "status": "lost", "commit": None, "error": str(e)}
                done(job, res)
                fill()
        finally:
            forget()
            if timer is not None:
                timer.cancel()
            client.close()

    return execute


def _clock(seconds: float) -> str:
    s = round(seconds)
    return (
        f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"
    )


def _progress(p: SweepProgress) -> None:
    o = p.last
    if o is None:  # the start
        skipped = p.counts.get("skipped", 0)
        print(
            f"[0/{p.total}] started: {p.total} to run"
            + (f", {skipped} committed before (skipped)" if skipped else ""),
            file=sys.stderr,
            flush=True,
        )
        return
    what = o.status + (f" {o.commit[:8]}" if o.commit else "")
    eta = f"; ETA {_clock(p.eta)}" if p.eta is not None and p.done < p.total else ""
    print(
        f"[{p.done}/{p.total}] {o.job.label}: {what} ({o.seconds:.1f} s; "
        f"elapsed {_clock(p.elapsed)}{eta})",
        file=sys.stderr,
        flush=True,
    )


def run(args: argparse.Namespace) -> int:
    """``mlvc sweep``: 0 when every combination has an ok commit, 1 when one failed or
    was lost; cancelled by SIGINT (Ctrl-C) or SIGTERM, 128 + the signal's number (130,
    143) after the running runs are stopped and the summary printed."""
    if not args.param:
        raise InvalidNameError("give the parameters to sweep: -p NAME=V1,V2,...")
    nb_path = Path(args.notebook_file).resolve()
    if not nb_path.is_file():
        raise MlvcError(f"no notebook {args.notebook_file!r}")
    repo = str(Path(args.repo).resolve())
    from ..service.sweep_remote import remote_for
    from ..service.sweeps import SweepCancel, sweep

    name = args.name or nb_path.stem
    axes = dict(args.param)
    options: dict[str, Any] = {"timeout": args.timeout, "kernel": args.kernel}
    if args.remote or args.worker_project:
        if not args.cluster:
            raise InvalidNameError("--remote and --worker-project go with --cluster")
        options["remote"] = remote_for(repo=repo, notebook=nb_path, remote=args.remote)
        options["worker_project"] = args.worker_project
    executor = (
        dask_executor(args.cluster, repo, str(nb_path), options)
        if args.cluster
        else local_executor(args.jobs, repo, str(nb_path), options)
    )
    cancel = SweepCancel()
    with _cancel_on_signals(cancel) as received:
        outcomes = sweep(
            axes,
            executor,
            repo=repo,
            notebook=nb_path,
            name=name,
            random=args.random,
            seed=args.seed,
            on_progress=_progress,  # on stderr, also with --json (the panel's job reads it)
            cancel=cancel,
        )
    if args.json:
        print(json.dumps([_outcome_json(o) for o in outcomes], indent=1))
    else:
        _summary(outcomes, repo, nb_path)
    if received:
        return 128 + received[0]
    return 0 if all(o.status in ("ok", "skipped") for o in outcomes) else 1


@contextlib.contextmanager
def _cancel_on_signals(cancel: SweepCancel) -> Iterator[list[int]]:
    """While the sweep runs, SIGINT and SIGTERM cancel it (the signals received are
    collected in the list this yields); a second one exits at once."""
    import signal

    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return

    def handler(signum: int, frame: Any) -> None:
        if received:  # asked twice: stop waiting for the runs to stop
            os._exit(128 + signum)
        received.append(signum)
        print(
            f"mlvc sweep: {signal.Signals(signum).name}: cancelling (stopping the running "
            "runs; again to exit at once)",
            file=sys.stderr,
            flush=True,
        )
        # the executor's stops may block (a Dask client's call): not in a signal handler
        threading.Thread(
            target=cancel.cancel, args=(signal.Signals(signum).name,), daemon=True
        ).start()

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield received
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def _outcome_json(o: SweepOutcome) -> dict[str, Any]:
    return {
        "params": o.job.params,
        "branch": o.job.branch,
        "status": o.status,
        "commit": o.commit,
        "error": o.error,
        "seconds": round(o.seconds, 3),
    }


def _summary(outcomes: list[SweepOutcome], repo: str, nb: Path) -> None:
    ids = [o.commit for o in outcomes if o.commit]
    if ids:
        table = service.compare(repo=repo, notebook=nb, revs=ids)
        print(render.compare_text(table))
    counts: dict[str, int] = {}
    for o in outcomes:
        counts[o.status] = counts.get(o.status, 0) + 1
    print(
        f"{len(outcomes)} runs: "
        + ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
        + (" (skipped: committed by an earlier sweep)" if counts.get("skipped") else "")
    )
    for o in outcomes:
        if o.status in ("failed", "lost"):
            last = (o.error or "").strip().splitlines()[-1:] or [""]
            print(f"  {o.status}: {o.job.label} {last[0]}")
    if counts.get("cancelled"):
        print(
            f"Cancelled: {counts['cancelled']} combinations did not run (nothing committed "
            "for them). Run the same command again to run only the missing ones."
        )
    elif counts.get("lost") or counts.get("failed"):
        print("Run the same command again to rerun the failed and lost combinations.")
