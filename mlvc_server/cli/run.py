"""``mlvc run``: execute a notebook headless in a real kernel, then commit the run.

The notebook runs with nbclient in a kernel started in the notebook's folder, as
JupyterLab would start it (``JPY_SESSION_NAME`` names the notebook, so the ``%mlvc``
magics in its cells know their history). Parameters follow papermill's convention: a
code cell tagged ``injected-parameters`` that assigns them is put right after the cell
tagged ``parameters`` (at the top when there is none), replacing an earlier injected one.

Before the first cell the kernel silently loads the extension (``%load_ext
mlvc_server``: the data-lineage hook then sees every file the cells read); after the last
cell, or the first one that fails, the kernel commits what ``%mlvc commit`` commits (its
variables, the data files read, params and metrics logged with ``mlvc.log_metrics``, the
environment) with the executed notebook, outputs included, in the notebook's history. The
parameters are the commit's params. A run that fails (an error in a cell, a cell over
``timeout``, a kernel that dies) is committed all the same with ``status: "failed"`` and
an ``error`` (``ename``, ``evalue``, ``cell``: its index, ``cell_id``); a dead kernel's
variables are lost, so that commit holds the notebook alone.

The user's notebook file is not changed: ``output`` names a file to write the executed
notebook to (it may be the notebook itself).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import keyword
import math
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import calls
from ..errors import InvalidNameError, MlvcError, NotARepositoryError, RefConflictError
from ..service.format import Record

__all__ = [
    "RunResult",
    "WarmKernel",
    "inject_parameters",
    "python_literal",
    "remove_dead_sockets",
    "run_notebook",
    "run_notebook_async",
    "start_kernel",
]

#: papermill's tags: the cell holding the defaults, and the cell ``mlvc run`` adds after it.
PARAMETERS_TAG = "parameters"
INJECTED_TAG = "injected-parameters"
#: Seconds the kernel may take to commit after the last cell (variables are written then).
COMMIT_TIMEOUT = 600.0


@dataclass
class RunResult:
    """What :func:`run_notebook` did.

    Attributes:
        commit: the id of the commit that records the run.
        status: ``"ok"`` or ``"failed"``.
        error: for a failed run, ``ename``, ``evalue``, ``cell`` (index) and ``cell_id``.
        traceback: for a failed run, the error's traceback as text (ANSI colours kept).
        notebook: the executed notebook (an ``nbformat.NotebookNode``).
        seconds: how long the run took, commit included.
    """

    commit: str
    status: str
    error: dict[str, Any] | None = None
    traceback: str = ""
    notebook: Any = None
    seconds: float = 0.0
    record: Record = field(default_factory=lambda: Record())


def python_literal(value: Any) -> str:
    """Python source for a parameter value parsed from JSON (or kept as a string).

    Args:
        value: a str, int, float, bool, None, or a list or dict of those.

    Returns:
        An expression that evaluates to ``value`` (``float('nan')`` for NaN).
    """
    if isinstance(value, float) and not math.isfinite(value):
        return f"float({str(value)!r})"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(python_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        items = (f"{python_literal(k)}: {python_literal(v)}" for k, v in value.items())
        return "{" + ", ".join(items) + "}"
    return repr(value)


def _tags(cell: Any) -> list[str]:
    tags = cell.get("metadata", {}).get("tags", [])
    return [str(t) for t in tags] if isinstance(tags, list) else []


def inject_parameters(nb: Any, params: Mapping[str, Any]) -> int | None:
    """Put a cell assigning ``params`` into ``nb``, as papermill does.

    The new code cell, tagged ``injected-parameters``, goes right after the first cell
    tagged ``parameters``, or first when there is none. Cells injected by an earlier run
    are removed. With no params nothing is injected.

    Args:
        nb: an nbformat v4 notebook (changed in place).
        params: name -> value; names must be Python identifiers.

    Returns:
        The index of the injected cell, or None.

    Raises:
        InvalidNameError: a name is not a Python identifier.
    """
    import nbformat

    for name in params:
        if not name.isidentifier() or keyword.iskeyword(name):
            raise InvalidNameError(f"parameter {name!r} is not a Python variable name")
    nb.cells = [c for c in nb.cells if INJECTED_TAG not in _tags(c)]
    if not params:
        return None
    source = "# Parameters\n" + "".join(f"{k} = {python_literal(v)}\n" for k, v in params.items())
    cell = nbformat.v4.new_code_cell(source)  # type: ignore[no-untyped-call]
    cell.metadata["tags"] = [INJECTED_TAG]
    at = next((i + 1 for i, c in enumerate(nb.cells) if PARAMETERS_TAG in _tags(c)), 0)
    nb.cells.insert(at, cell)
    return at


def _read(path: Path) -> Any:
    """The notebook as nbformat 4.5 or later (cells get ids: ``inject_parameters`` adds one)."""
    import nbformat
    from nbformat.corpus.words import generate_corpus_id

    nb = nbformat.read(path, as_version=4)  # type: ignore[no-untyped-call]
    if nb.nbformat_minor < 5:
        nb.nbformat_minor = 5
        for cell in nb.cells:
            cell.setdefault("id", generate_corpus_id())  # type: ignore[no-untyped-call]
    return nb


def _project_root(nb_file: Path, repo: str | os.PathLike[str]) -> Path:
    """The store the run commits to: found from the notebook's folder, else from ``repo``,
    else created in ``repo``. The notebook must lie inside it."""
    from .. import service
    from ..store import find_root

    root: Path | None = None
    for start in (nb_file, Path(repo)):
        try:
            root = find_root(start)
            break
        except NotARepositoryError:
            continue
    if root is None:
        root = service.init(repo).root
    if not nb_file.is_relative_to(root):
        raise MlvcError(f"notebook {str(nb_file)!r} is outside the project {str(root)!r}")
    return root


def _ensure_branch(branch: str, root: Path, nb_file: Path) -> None:
    """Create ``branch`` from the notebook's HEAD when it does not exist. The notebook's
    current branch does not move: the run commits to ``branch`` by name (runs in parallel
    on other branches, and the user's own work, keep theirs)."""
    from .. import service

    with contextlib.suppress(RefConflictError):  # it exists
        service.branch(branch, None, repo=root, notebook=nb_file, switch=False)


def _kernel_env(nb_file: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["JPY_SESSION_NAME"] = str(nb_file)  # the kernel's notebook, as in JupyterLab
    env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    return env


def _kernel_stdout() -> Any:
    """What the kernel's process writes to its own stdout (subprocesses, C libraries)
    goes to our stderr: our stdout carries only the result (``--json``)."""
    try:
        return sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):
        return subprocess.DEVNULL


async def _kernel_call(kc: Any, request: dict[str, Any], timeout: float | None) -> dict[str, Any]:
    """Run an mlvc request in the kernel of ``kc`` (:mod:`mlvc_server.calls`); its result."""
    opts = calls.execute_options(request)
    # jupyter_client's default output hook prints what the request displays (a
    # "Committing N variables…" progress line) on our stdout, which carries `--json`
    reply: dict[str, Any] = await kc.execute_interactive(
        opts.pop("code"), timeout=timeout, output_hook=_ignore_output, **opts
    )
    return calls.parse_reply(reply, timeout or 0.0)


def _being_cancelled() -> bool:
    """Whether the running task was asked to stop (a cancelled sweep), even if a library
    on the way turned the ``CancelledError`` into something else."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


@dataclass
class WarmKernel:
    """A fresh kernel started ahead of its run (:func:`start_kernel`), mlvc imported in
    it: the run takes it instead of starting one, and shuts it down after."""

    km: Any
    kc: Any

    async def shutdown(self) -> None:
        """Stop it unused."""
        with contextlib.suppress(Exception):
            self.kc.stop_channels()
        with contextlib.suppress(Exception):
            await self.km.shutdown_kernel(now=True)


def _kernel_manager(client: Any) -> Any:
    """The kernel manager of a run: its kernel listens on local (IPC) sockets where the
    system has them, so no TCP port is opened for it, and ipykernel does not warn on
    every run that TCP is not encrypted."""
    import uuid

    from jupyter_core.paths import jupyter_runtime_dir

    km = client.create_kernel_manager()
    # a name of its own (the default is relative to the folder, where the kernels of a
    # sweep would meet), short enough for a socket path (at most 107 bytes, with the
    # "-<port>" jupyter_client adds)
    folder = jupyter_runtime_dir()
    ip = os.path.join(folder, f"mlvc-{uuid.uuid4().hex[:12]}-ipc")
    if os.name == "posix" and len(os.fsencode(ip)) <= 96:
        os.makedirs(folder, exist_ok=True)
        if folder not in _swept:
            _swept.add(folder)
            remove_dead_sockets(folder)
        km.transport = "ipc"
        km.ip = ip
    return km


#: The runtime folders whose dead sockets this process removed (each once per process).
_swept: set[str] = set()
#: A socket file younger than this is never taken for dead (its kernel may be starting).
DEAD_SOCKET_AGE = 60.0


def remove_dead_sockets(folder: str | os.PathLike[str]) -> list[str]:
    """Remove the socket files (``mlvc-<id>-ipc-<n>``) of run kernels that died without
    removing them: a run, a sweep or a Dask worker killed outright leaves its kernel's
    five sockets behind. A socket that nothing listens on any more refuses a
    connection; one that is listening, or younger than :data:`DEAD_SOCKET_AGE`, is
    left alone. Returns the names removed."""
    import re
    import socket
    import stat

    removed: list[str] = []
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    now = time.time()
    for name in names:
        if not re.fullmatch(r"mlvc-[0-9a-f]{12}-ipc-\d+", name):
            continue
        path = os.path.join(folder, name)
        try:
            st = os.lstat(path)
        except OSError:
            continue
        if not stat.S_ISSOCK(st.st_mode) or now - st.st_mtime < DEAD_SOCKET_AGE:
            continue
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        probe.setblocking(False)
        try:
            probe.connect(path)
        except ConnectionRefusedError:  # nothing listens: its kernel is gone
            with contextlib.suppress(OSError):
                os.unlink(path)
                removed.append(name)
        except OSError:  # listening with a full backlog, or not ours to judge
            pass
        finally:
            probe.close()
    return removed


async def start_kernel(notebook: str | os.PathLike[str], kernel: str | None = None) -> WarmKernel:
    """Start the kernel that a run of ``notebook`` would start (same kernelspec, folder
    and environment) and set mlvc up in it (what ``mlvc run`` does before the first
    cell), in this event loop.

    A sweep starts the next run's kernel while the current run computes, so the kernel's
    start-up is off the runs' path. Each run still gets a kernel of its own that nothing
    ran in before (only mlvc is loaded), so runs stay isolated.
    """
    from jupyter_client.kernelspec import NoSuchKernel
    from nbclient import NotebookClient

    nb_file = Path(notebook).resolve()
    client = NotebookClient(_read(nb_file), kernel_name=kernel or "")
    client.km = _kernel_manager(client)
    try:
        await client.async_start_new_kernel(
            env=_kernel_env(nb_file), cwd=str(nb_file.parent), stdout=_kernel_stdout()
        )
    except NoSuchKernel as e:
        raise MlvcError(f"no kernel named {e.name!r} (see `jupyter kernelspec list`)") from None
    await client.async_start_new_kernel_client()
    kc = client.kc
    warm = WarmKernel(client.km, kc)
    try:
        await _kernel_call(kc, {"op": "setup"}, 120)
    except BaseException:
        await warm.shutdown()
        raise
    return warm


class _Runner:
    """One run: the client, the kernel, what failed where."""

    def __init__(
        self,
        nb: Any,
        nb_file: Path,
        *,
        timeout: float | None,
        kernel: str | None,
        echo: bool,
        warm: WarmKernel | None = None,
    ) -> None:
        from nbclient import NotebookClient

        self.nb = nb
        self.nb_file = nb_file
        self.echo = echo
        self.client = NotebookClient(
            nb,
            km=warm.km if warm else None,
            timeout=timeout,
            kernel_name=warm.km.kernel_name if warm else kernel or "",
            allow_errors=False,
            # a cell over the timeout is interrupted and fails like any other error
            interrupt_on_timeout=True,
            error_on_timeout={
                "ename": "CellTimeoutError",
                "evalue": f"the cell ran longer than {timeout} s and was interrupted",
                "traceback": [f"CellTimeoutError: the cell ran longer than {timeout} s"],
            },
            resources={"metadata": {"path": str(nb_file.parent)}},
        )
        if warm is not None:
            self.client.kc = warm.kc
        self.error: dict[str, Any] | None = None
        self.traceback = ""
        self.kernel_dead = False
        self.cells_run = 0

    async def _call(self, request: dict[str, Any], timeout: float | None) -> dict[str, Any]:
        """Run an mlvc request in the kernel (:mod:`mlvc_server.calls`); its result."""
        assert self.client.kc is not None
        return await _kernel_call(self.client.kc, request, timeout)

    async def _cells(self) -> None:
        from nbclient.exceptions import CellExecutionError, DeadKernelError

        client = self.client
        for index, cell in enumerate(self.nb.cells):
            if cell.cell_type != "code":
                continue
            if self.echo:
                first = "".join(cell.source).strip().splitlines()[:1]
                print(f"[{index}] {first[0][:70] if first else ''}", file=sys.stderr)
            try:
                await client.async_execute_cell(
                    cell, index, execution_count=client.code_cells_executed + 1
                )
            except CellExecutionError as e:
                self._failed(index, cell, e.ename, e.evalue, e.traceback)
                return
            except DeadKernelError as e:
                if _being_cancelled():  # nbclient reports a cancelled cell as a dead kernel
                    raise asyncio.CancelledError from None
                evalue = str(e) or "the kernel died"
                cell.outputs.append(_error_output("DeadKernelError", evalue))
                self._failed(index, cell, "DeadKernelError", evalue, evalue)
                self.kernel_dead = True
                return
            self.cells_run += 1

    def _failed(self, index: int, cell: Any, ename: str, evalue: str, tb: str) -> None:
        self.cells_run += 1
        self.error = {"ename": ename, "evalue": evalue, "cell": index, "cell_id": cell.get("id")}
        self.traceback = tb

    async def run(self, commit_request: dict[str, Any], output: Path | None) -> str:
        """Start the kernel, run the cells, write ``output``, commit; the commit's id."""
        client = self.client
        if client.km is None:
            client.km = _kernel_manager(client)
        # the kernel is shut down after the run, also a warm one started for it
        async with client.async_setup_kernel(
            env=_kernel_env(self.nb_file),
            cwd=str(self.nb_file.parent),
            stdout=_kernel_stdout(),
            cleanup_kc=True,
        ):
            try:
                return await self._run_in_kernel(commit_request, output)
            except asyncio.CancelledError:
                # a cancelled sweep: stop the kernel now, not after a graceful wait
                client.shutdown_kernel = "immediate"
                raise

    async def _run_in_kernel(self, commit_request: dict[str, Any], output: Path | None) -> str:
        import nbformat

        client = self.client
        kc = client.kc
        assert kc is not None
        info = await client.async_wait_for_reply(kc.kernel_info())
        if info is not None and "language_info" in info["content"]:
            self.nb.metadata["language_info"] = info["content"]["language_info"]
        try:
            await self._call({"op": "setup", "branch": commit_request.get("branch")}, 120)
        except MlvcError as e:
            raise MlvcError(
                f"the kernel {client.kernel_name!r} cannot load mlvc ({e}); "
                "install jupyterlab-mlvc in the kernel's environment"
            ) from None
        await self._cells()
        if _being_cancelled():  # a cancel that something on the way swallowed
            raise asyncio.CancelledError
        client.set_widgets_metadata()
        if output is not None:
            nbformat.write(self.nb, output)  # type: ignore[no-untyped-call]
        if self.kernel_dead:
            return self._commit_outside(commit_request)
        return await self._commit_inside(commit_request)

    def _finish_request(self, request: dict[str, Any]) -> dict[str, Any]:
        km = self.client.km
        kernel = (km.kernel_name if km is not None else "") or self.client.kernel_name
        run = dict(request["extra"]["run"], kernel=kernel, cells_executed=self.cells_run)
        extra: dict[str, Any] = {"run": run}
        if self.error is not None:
            extra["error"] = self.error
        return {**request, "status": "failed" if self.error else "ok", "extra": extra}

    async def _commit_inside(self, request: dict[str, Any]) -> str:
        import nbformat

        request = self._finish_request(request)
        with tempfile.TemporaryDirectory(prefix="mlvc-run-") as tmp:
            content = Path(tmp) / "executed.ipynb"
            content.write_text(nbformat.writes(self.nb) + "\n", encoding="utf-8")  # type: ignore[no-untyped-call]
            request = {**request, "op": "commit", "headless": True, "content": str(content)}
            try:
                result = await self._call(request, COMMIT_TIMEOUT)
            except MlvcError as e:
                raise MlvcError(f"the kernel could not commit the run: {e}") from None
        return str(result["id"])

    def _commit_outside(self, request: dict[str, Any]) -> str:
        """The kernel died: commit the executed notebook from here (no variables)."""
        import nbformat

        from .. import service

        request = self._finish_request(request)
        return service.commit(
            request["message"],
            repo=request["repo"],
            notebook=self.nb_file,
            params=request["params"],
            notebook_content=nbformat.writes(self.nb) + "\n",  # type: ignore[no-untyped-call]
            sources=False,
            branch=request.get("branch"),
            status=request["status"],
            extra=request["extra"],
        )


def _ignore_output(msg: dict[str, Any]) -> None:
    """An mlvc request's own output (progress indicators) is not shown by ``mlvc run``."""


def _error_output(ename: str, evalue: str) -> Any:
    import nbformat

    return nbformat.v4.new_output(  # type: ignore[no-untyped-call]
        "error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"]
    )


def run_notebook(
    notebook: str | os.PathLike[str],
    params: Mapping[str, Any] | None = None,
    *,
    message: str | None = None,
    branch: str | None = None,
    timeout: float | None = None,
    kernel: str | None = None,
    output: str | os.PathLike[str] | None = None,
    repo: str | os.PathLike[str] = ".",
    echo: bool = False,
) -> RunResult:
    """Execute ``notebook`` headless with ``params`` injected, and commit the run.

    Args:
        notebook: the notebook file; the commit joins its history.
        params: parameters to inject (the commit's params).
        message: the commit message (default ``run NOTEBOOK name=value ...``).
        branch: commit on this branch (created from HEAD when new). The notebook's
            current branch does not move; the run's kernel commits to ``branch``
            (its ``%mlvc commit`` cells and autocommits too), so runs in parallel on
            other branches never race for the current branch.
        timeout: seconds each cell may run (None: no limit).
        kernel: the kernel to run (default: the notebook's kernelspec, else ``python3``).
        output: also write the executed notebook to this file.
        repo: where the store is looked for (and created) when none is found from the
            notebook's folder upward.
        echo: print each code cell's first line to stderr as it starts.

    Returns:
        The run's commit, status and error.

    Raises:
        MlvcError: the notebook or a parameter name is bad, or the kernel cannot load mlvc
            (nothing is committed then).
    """
    return asyncio.run(
        run_notebook_async(
            notebook,
            params,
            message=message,
            branch=branch,
            timeout=timeout,
            kernel=kernel,
            output=output,
            repo=repo,
            echo=echo,
        )
    )


async def run_notebook_async(
    notebook: str | os.PathLike[str],
    params: Mapping[str, Any] | None = None,
    *,
    message: str | None = None,
    branch: str | None = None,
    timeout: float | None = None,
    kernel: str | None = None,
    output: str | os.PathLike[str] | None = None,
    repo: str | os.PathLike[str] = ".",
    echo: bool = False,
    warm: WarmKernel | None = None,
) -> RunResult:
    """:func:`run_notebook` in the running event loop (a sweep runs its runs in one loop
    per slot, starting the next run's kernel while the current run computes); ``warm``
    is a kernel from :func:`start_kernel` to run in instead of starting one."""
    from .. import service

    t0 = time.perf_counter()
    nb_file = Path(notebook).resolve()
    if not nb_file.is_file():
        raise MlvcError(f"no notebook {str(notebook)!r}")
    params = dict(params or {})
    from ..capture.data import hash_file

    # the file as it was run: `mlvc status` tells it unchanged though the commit holds
    # the executed notebook (outputs, injected parameters)
    source = hash_file(nb_file)
    nb = _read(nb_file)
    injected = inject_parameters(nb, params)
    root = _project_root(nb_file, repo)
    if branch:
        _ensure_branch(branch, root, nb_file)
    rel = nb_file.relative_to(root).as_posix()
    if message is None:
        shown = " ".join(
            f"{k}={v if isinstance(v, str) else json.dumps(v)}" for k, v in params.items()
        )
        message = f"run {rel}" + (f" {shown}" if shown else "")
    runner = _Runner(nb, nb_file, timeout=timeout, kernel=kernel, echo=echo, warm=warm)
    request = {
        "notebook": str(nb_file),
        "repo": str(root),
        "message": message,
        "params": params,
        # explicit, so that runs in parallel on other branches (a sweep) cannot move it
        "branch": branch,
        "extra": {
            "run": {
                "tool": "mlvc run",
                "parameters": params,
                "injected_cell": injected,
                "timeout": timeout,
                "source": source,
            }
        },
    }
    from jupyter_client.kernelspec import NoSuchKernel

    try:
        cid = await runner.run(request, Path(output) if output is not None else None)
    except NoSuchKernel as e:
        raise MlvcError(f"no kernel named {e.name!r} (see `jupyter kernelspec list`)") from None
    status = "failed" if runner.error else "ok"
    return RunResult(
        commit=cid,
        status=status,
        error=runner.error,
        traceback=runner.traceback,
        notebook=nb,
        seconds=time.perf_counter() - t0,
        record=service.show(cid, repo=root, notebook=nb_file),
    )
