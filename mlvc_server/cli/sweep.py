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
import json
import os
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import render, service
from ..errors import InvalidNameError, MlvcError

if TYPE_CHECKING:  # loaded when a sweep runs, not for every `mlvc` command
    from ..service.sweeps import SweepJob, SweepOutcome, SweepProgress

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


def _argv(
    job: Mapping[str, Any], repo: str, notebook: str, options: Mapping[str, Any]
) -> list[str]:
    argv = [sys.executable, "-m", "mlvc_server.cli", "-C", repo, "run", notebook]
    for k, v in job["params"].items():
        argv += ["-p", f"{k}={v if isinstance(v, str) else json.dumps(v)}"]
    argv += ["--branch", job["branch"], "-m", job["message"], "--json"]
    if options.get("timeout"):
        argv += ["--timeout", str(options["timeout"])]
    if options.get("kernel"):
        argv += ["--kernel", str(options["kernel"])]
    return argv


def run_job(
    job: Mapping[str, Any], repo: str, notebook: str, options: Mapping[str, Any]
) -> dict[str, Any]:
    """Run one combination as an ``mlvc run`` process; what it committed.

    This is the task a Dask worker runs (it must see ``repo`` and ``notebook`` at these
    paths). Returns ``status`` (``ok``, ``failed`` or ``lost``), ``commit``, ``metrics``,
    ``seconds`` and, unless ok, ``error``.
    """
    t = time.monotonic()
    import subprocess

    p = subprocess.run(
        _argv(job, repo, notebook, options),
        capture_output=True,
        text=True,
        cwd=repo,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        preexec_fn=_die_with_parent if sys.platform == "linux" else None,
    )
    seconds = time.monotonic() - t
    rec = _last_json(p.stdout)
    if not isinstance(rec, dict) or "id" not in rec:
        return {"status": "lost", "error": p.stderr[-_ERR_TAIL:].strip(), "seconds": seconds}
    out: dict[str, Any] = {
        "status": rec.get("status", "ok"),
        "commit": rec["id"],
        "metrics": rec.get("metrics", {}),
        "seconds": seconds,
    }
    if out["status"] != "ok":
        out["error"] = p.stderr[-_ERR_TAIL:].strip()
    return out


def _die_with_parent() -> None:
    """In the child: get SIGKILL when the process that started it dies (Linux), so a
    killed worker takes its run with it instead of leaving it to commit unseen; the run's
    kernel follows (a kernel exits when its parent does)."""
    import ctypes
    import signal

    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def _last_json(text: str) -> Any:
    """The JSON object ``mlvc run --json`` printed (text the kernel may print before it,
    such as a progress line, is skipped)."""
    decoder = json.JSONDecoder()
    start = text.find("{")
    while start >= 0:
        try:
            return decoder.raw_decode(text, start)[0]
        except ValueError:
            start = text.find("{", start + 1)
    return None


def _job_dict(job: SweepJob) -> dict[str, Any]:
    return {"params": job.params, "branch": job.branch, "message": job.message}


def local_executor(
    jobs: int, repo: str, notebook: str, options: Mapping[str, Any]
) -> Callable[..., None]:
    """Runs ``jobs`` ``mlvc run`` processes at a time on this machine."""

    def execute(
        todo: Sequence[SweepJob], done: Callable[[SweepJob, Mapping[str, Any]], None]
    ) -> None:
        lock = threading.Lock()

        def one(job: SweepJob) -> None:
            try:
                res = run_job(_job_dict(job), repo, notebook, options)
            except Exception as e:
                res = {"status": "lost", "error": f"{type(e).__name__}: {e}"}
            with lock:
                done(job, res)

        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            list(pool.map(one, todo))

    return execute


def dask_executor(
    address: str, repo: str, notebook: str, options: Mapping[str, Any]
) -> Callable[..., None]:
    """Runs each job as a task on the Dask scheduler at ``address``, as many at a time as
    the cluster has threads; a task whose worker dies (and that the scheduler does not
    retry elsewhere: its ``allowed-failures``) is reported lost."""
    import importlib

    try:
        distributed: Any = importlib.import_module("distributed")
    except ImportError:
        raise MlvcError(
            "--cluster needs Dask: pip install 'jupyterlab-mlvc[sweep]' "
            "(or pip install 'dask[distributed]')"
        ) from None

    def execute(
        todo: Sequence[SweepJob], done: Callable[[SweepJob, Mapping[str, Any]], None]
    ) -> None:
        try:
            client = distributed.Client(address, timeout=30)
        except (OSError, TimeoutError) as e:
            raise MlvcError(f"cannot reach the Dask scheduler at {address}: {e}") from None
        try:
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
    name = args.name or nb_path.stem
    axes = dict(args.param)
    options = {"timeout": args.timeout, "kernel": args.kernel}
    executor = (
        dask_executor(args.cluster, repo, str(nb_path), options)
        if args.cluster
        else local_executor(args.jobs, repo, str(nb_path), options)
    )
    from ..service.sweeps import sweep

    outcomes = sweep(
        axes,
        executor,
        repo=repo,
        notebook=nb_path,
        name=name,
        random=args.random,
        seed=args.seed,
        on_progress=None if args.json else _progress,
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
