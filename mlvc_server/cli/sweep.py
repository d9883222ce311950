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
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import render, service
from ..errors import InvalidNameError, MlvcError

if TYPE_CHECKING:  # loaded when a sweep runs, not for every `mlvc` command
    import asyncio

    from ..service.sweeps import SweepJob, SweepOutcome, SweepProgress
    from .run import WarmKernel

#: The most characters of a failed run's stderr kept in its outcome.
_ERR_TAIL = 2000


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

    return asyncio.run(_run_async(job, repo, notebook, options))


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
        todo: Sequence[SweepJob], done: Callable[[SweepJob, Mapping[str, Any]], None]
    ) -> None:
        import asyncio

        from .run import start_kernel

        lock = threading.Lock()
        pending = deque(todo)

        async def slot() -> None:
            ahead: asyncio.Task[WarmKernel] | None = None
            try:
                while True:
                    with lock:
                        job = pending.popleft() if pending else None
                        more = bool(pending)
                    if job is None:
                        return
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
            finally:
                if ahead is not None:
                    with contextlib.suppress(Exception):
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
        todo: Sequence[SweepJob], done: Callable[[SweepJob, Mapping[str, Any]], None]
    ) -> None:
        from ..service.sweep_remote import bring_home, share_branches

        try:
            client = distributed.Client(address, timeout=30)
        except (OSError, TimeoutError) as e:
            raise MlvcError(f"cannot reach the Dask scheduler at {address}: {e}") from None
        try:
            if remote:
                share_branches(
                    [j.branch for j in todo], repo=repo, notebook=notebook, remote=remote["name"]
                )
            pending = list(todo)
            futures: dict[Any, SweepJob] = {}
            running = distributed.as_completed()

            def fill() -> None:
                # as many tasks in flight as the cluster has threads: each is sent when a
                # thread is free, so a worker that dies holds only the runs it was running
                slots = max(1, sum(client.nthreads().values()))
                while pending and len(futures) < slots:
                    job = pending.pop(0)
                    fut = client.submit(
                        run_job,
                        _job_dict(job),
                        repo,
                        notebook,
                        dict(options),
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
                except Exception as e:  # a killed worker: this run is lost
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
            client.close()

    return execute


def _clock(seconds: float) -> str:
    s = round(seconds)
    return (
        f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"
    )


def _progress(p: SweepProgress) -> None:
    o = p.last
    what = o.status + (f" {o.commit[:8]}" if o.commit else "")
    eta = f"; ETA {_clock(p.eta)}" if p.eta is not None and p.done < p.total else ""
    print(
        f"[{p.done}/{p.total}] {o.job.label}: {what} ({o.seconds:.1f} s; "
        f"elapsed {_clock(p.elapsed)}{eta})",
        file=sys.stderr,
        flush=True,
    )


def run(args: argparse.Namespace) -> int:
    """``mlvc sweep``: 0 when every combination has an ok commit, else 1."""
    if not args.param:
        raise InvalidNameError("give the parameters to sweep: -p NAME=V1,V2,...")
    nb_path = Path(args.notebook_file).resolve()
    if not nb_path.is_file():
        raise MlvcError(f"no notebook {args.notebook_file!r}")
    repo = str(Path(args.repo).resolve())
    from ..service.sweep_remote import remote_for
    from ..service.sweeps import sweep

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
    outcomes = sweep(
        axes,
        executor,
        repo=repo,
        notebook=nb_path,
        name=name,
        random=args.random,
        seed=args.seed,
        on_progress=_progress,  # on stderr, also with --json (the panel's job reads it)
    )
    if args.json:
        print(json.dumps([_outcome_json(o) for o in outcomes], indent=1))
    else:
        _summary(outcomes, repo, nb_path)
    return 0 if all(o.status in ("ok", "skipped") for o in outcomes) else 1


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
    if counts.get("lost") or counts.get("failed"):
        print("Run the same command again to rerun the failed and lost combinations.")
