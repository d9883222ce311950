"""A crash harness: run store work in a real child process, SIGKILL it, check the store.

The harness is generic over *what* the child does (a :class:`Workload`): the commit
workloads here, and any other store operation (gc, retention, push) that wants the same
guarantees. A workload has two halves:

- ``run(root, seed, emit)`` runs in the child. It calls ``emit("done", ...)`` after each
  operation has *returned* (the harness writes that line to a pipe at once, unbuffered), so
  the parent knows exactly which operations completed before the kill.
- ``verify(root, seed, done)`` runs in the parent after the kill and raises
  ``AssertionError`` when a completed operation was lost or is damaged.

Two ways to kill the child:

- :func:`run_forked` with ``kill_after`` seconds: a random point in time.
- :func:`run_forked` with ``crash_at`` = (step, mode): a deterministic point. The child
  counts every file-system call that changes state (``os.open`` for writing, ``write``,
  ``writev``, ``replace``, ``rename``, ``link``, ``unlink``, ``mkdir``, ``fsync``, and
  ``open()`` for writing) and kills itself just before call number ``step`` (mode
  ``"before"``) or, for ``write``/``writev``, after writing half of its bytes (``"torn"``;
  a SIGKILL can cut a big ``write`` short), or makes that call and every later one fail
  with ``ENOSPC`` (``"enospc"``: the disk is full from then on). Because a killed process
  (unlike a power cut) loses nothing that reached the page cache, running every step in
  turn visits every state that a kill can leave behind.

After each trial :func:`check_store` runs the checks that hold whatever the workload:
``git fsck --full --strict`` (the real git client), ``mlvc fsck`` (every reachable byte
re-hashed), no half commit visible (every commit reachable from a ref has its record, and
every variable it names loads), no lock or temporary file that would block the next
writer. Workloads then check their own completed operations.

Children are forked from the test process (the code under test is already imported, so a
trial costs milliseconds); :func:`run_spawned` runs a fresh interpreter instead (the
``mlvc`` CLI) for the same checks.
"""

from __future__ import annotations

import builtins
import contextlib
import errno
import io
import json
import os
import select
import signal
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from mlvc_server import cli, service

#: Lines a child emits: ("ready",), ("done", *fields), ("steps", n), ("error", text).
Emit = Callable[..., None]
#: The real calls, bound before any crash point wraps them (the harness's own pipe writes
#: are not steps of the workload).
_os_write = os.write


class Workload(Protocol):
    """What a child does, and how the parent checks what it completed."""

    name: str

    def setup(self, root: Path) -> None:
        """Prepare ``root`` once, before the first trial (in the parent)."""

    def run(self, root: Path, seed: int, emit: Emit) -> None:
        """The child's work; ``emit("done", ...)`` after each operation returns."""

    def verify(self, root: Path, seed: int, done: list[list[str]]) -> None:
        """Check (in the parent) that every completed operation is intact."""


@dataclass
class ChildResult:
    """What a child did before it ended."""

    done: list[list[str]] = field(default_factory=list)
    pid: int = 0
    killed: bool = False
    returncode: int = 0
    steps: int | None = None
    #: The call the child was killed at (deterministic crash points only).
    at: str | None = None
    #: What the child reported with ``emit("note", json)``, decoded.
    notes: list[Any] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def trials(default: int) -> int:
    """How many trials to run: ``MLVC_CRASH_TRIALS`` or ``default`` (the CI figure)."""
    return int(os.environ.get("MLVC_CRASH_TRIALS", default))


def reset_caches() -> None:
    """Forget every store this process has open, so the next call reads the disk afresh."""
    service.workspace().reset()


# -- deterministic crash points ----------------------------------------------------------
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


class CrashPoints:
    """Counts state-changing file-system calls in this process; SIGKILLs at one of them."""

    def __init__(self, step: int | None, mode: str = "before", emit: Emit | None = None) -> None:
        self.step = step
        self.mode = mode
        self.count = 0
        self._emit = emit
        self._saved: list[tuple[Any, str, Any]] = []

    def _tick(
        self, name: str, data: Any = None, fd: int | None = None, *, needs_space: bool = True
    ) -> None:
        self.count += 1
        if self.mode == "enospc":  # a full disk: this call and every later one fail
            # ...except those that need no room: unlink, and a rename onto an existing
            # name (rename(2) fails with ENOSPC only for a new directory entry)
            if self.step is not None and self.count >= self.step and needs_space:
                if self.count == self.step and self._emit is not None:
                    self._emit("at", name)
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return
        if self.step is None or self.count != self.step:
            return
        if self._emit is not None:
            self._emit("at", name)
        if self.mode == "torn" and fd is not None and data is not None:
            self._torn(name, fd, data)
        os.kill(os.getpid(), signal.SIGKILL)

    def _torn(self, name: str, fd: int, data: Any) -> None:
        raw = b"".join(bytes(b) for b in data) if name == "writev" else bytes(data)
        if len(raw) > 1:
            _os_write(fd, raw[: len(raw) // 2])

    def install(self) -> None:
        """Wrap the calls (in this process only: call it in the child)."""
        real = {n: getattr(os, n) for n in ("open", "write", "writev", "replace", "rename")}
        real.update({n: getattr(os, n) for n in ("link", "unlink", "mkdir", "fsync")})
        real_open = builtins.open

        def os_open(path: Any, flags: int, *a: Any, **k: Any) -> int:
            if flags & _WRITE_FLAGS:
                self._tick("open")
            return int(real["open"](path, flags, *a, **k))

        def os_write(fd: int, data: Any) -> int:
            self._tick("write", data, fd)
            return int(real["write"](fd, data))

        def os_writev(fd: int, buffers: Sequence[Any]) -> int:
            self._tick("writev", buffers, fd)
            return int(real["writev"](fd, buffers))

        def plain(name: str) -> Callable[..., Any]:
            def call(*a: Any, **k: Any) -> Any:
                needs_space = name != "unlink" and not (
                    name in ("replace", "rename") and len(a) > 1 and os.path.lexists(a[1])
                )
                self._tick(name, needs_space=needs_space)
                return real[name](*a, **k)

            return call

        def py_open(file: Any, mode: str = "r", *a: Any, **k: Any) -> Any:
            if not any(c in mode for c in "wax+"):
                return real_open(file, mode, *a, **k)
            self._tick("open()")
            return _CountedFile(real_open(file, mode, *a, **k), self)

        for name, fn in (("open", os_open), ("write", os_write), ("writev", os_writev)):
            self._patch(os, name, fn)
        for name in ("replace", "rename", "link", "unlink", "mkdir", "fsync"):
            self._patch(os, name, plain(name))
        self._patch(builtins, "open", py_open)
        self._patch(io, "open", py_open)

    def tick_file_write(self, f: Any, data: Any) -> None:
        """A step for a write through a Python file object (torn: half of it is written
        and flushed before the kill)."""
        self.count += 1
        if self.mode == "enospc":
            if self.step is not None and self.count >= self.step:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return
        if self.step is None or self.count != self.step:
            return
        if self._emit is not None:
            self._emit("at", "file.write")
        if self.mode == "torn" and len(data) > 1:
            f.write(data[: len(data) // 2])
            f.flush()
        os.kill(os.getpid(), signal.SIGKILL)

    def _patch(self, owner: Any, name: str, value: Any) -> None:
        self._saved.append((owner, name, getattr(owner, name)))
        setattr(owner, name, value)

    def uninstall(self) -> None:
        for owner, name, value in reversed(self._saved):
            setattr(owner, name, value)
        self._saved.clear()


class _CountedFile:
    """A file opened for writing whose ``write`` calls are crash points too (a file
    truncated by ``open`` and not yet written is a state a kill can leave)."""

    def __init__(self, f: Any, points: CrashPoints) -> None:
        self._f = f
        self._points = points

    def write(self, data: Any) -> int:
        self._points.tick_file_write(self._f, data)
        return int(self._f.write(data))

    def __enter__(self) -> _CountedFile:
        self._f.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._f.__exit__(*exc)

    def __iter__(self) -> Any:
        return iter(self._f)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._f, name)


# -- children ------------------------------------------------------------------------------
def _child_main(
    workload: Workload, root: Path, seed: int, fd: int, crash_at: tuple[int, str] | None
) -> None:
    def emit(*fields: Any) -> None:
        line = " ".join(str(f) for f in fields) + "\n"
        _os_write(fd, line.encode())

    code = 0
    points: CrashPoints | None = None
    try:
        reset_caches()
        emit("ready")
        points = CrashPoints(crash_at[0], crash_at[1], emit) if crash_at else None
        if points is not None:
            points.install()
        workload.run(root, seed, emit)
        if points is not None:
            points.uninstall()
            emit("steps", points.count)
    except BaseException:
        if points is not None:
            points.uninstall()
        emit("error", json.dumps(traceback.format_exc()))
        code = 1
    os._exit(code)


def _drain(fd: int, buf: bytearray) -> None:
    while chunk := os.read(fd, 65536):
        buf += chunk


def _parse(buf: bytes, result: ChildResult) -> None:
    for line in buf.decode(errors="replace").splitlines():
        fields = line.split(" ")
        if fields[0] == "done":
            result.done.append(fields[1:])
        elif fields[0] == "note":
            result.notes.append(json.loads(" ".join(fields[1:])))
        elif fields[0] == "at":
            result.at = fields[1]
        elif fields[0] == "steps":
            result.steps = int(fields[1])
        elif fields[0] == "error":
            result.errors.append(json.loads(" ".join(fields[1:])))


@dataclass
class Forked:
    """A running child: its pid and the read end of its pipe."""

    pid: int
    fd: int


def start_forked(
    workload: Workload, root: Path, seed: int, crash_at: tuple[int, str] | None = None
) -> Forked:
    """Fork a child that runs ``workload`` (see :func:`finish_forked`)."""
    r, w = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(r)
        try:
            _child_main(workload, root, seed, w, crash_at)
        finally:
            os._exit(3)
    os.close(w)
    return Forked(pid, r)


def finish_forked(
    child: Forked, *, kill_after: float | None = None, timeout: float = 120.0
) -> ChildResult:
    """Wait for a child to end, killing it ``kill_after`` seconds after it said it was
    ready (None: let it finish). Raises AssertionError if the child raised."""
    pid, r = child.pid, child.fd
    result = ChildResult(pid=pid)
    buf = bytearray()
    deadline = time.monotonic() + timeout
    ready_at: float | None = None
    try:
        while True:
            wait = deadline - time.monotonic()
            if kill_after is not None and ready_at is not None:
                wait = min(wait, ready_at + kill_after - time.monotonic())
            if wait <= 0:
                os.kill(pid, signal.SIGKILL)
                if ready_at is None or kill_after is None:
                    raise TimeoutError(f"child {pid} ran for over {timeout} s")
                break
            readable, _, _ = select.select([r], [], [], wait)
            if not readable:
                continue
            chunk = os.read(r, 65536)
            if not chunk:
                break
            buf += chunk
            if ready_at is None and b"ready\n" in buf:
                ready_at = time.monotonic()
        _drain(r, buf)
    finally:
        os.close(r)
        _, status = os.waitpid(pid, 0)
    result.killed = os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
    result.returncode = os.waitstatus_to_exitcode(status)
    _parse(bytes(buf), result)
    if result.errors:
        raise AssertionError("the child failed:\n" + "\n".join(result.errors))
    return result


def run_forked(
    workload: Workload,
    root: Path,
    seed: int,
    *,
    kill_after: float | None = None,
    crash_at: tuple[int, str] | None = None,
    timeout: float = 120.0,
) -> ChildResult:
    """Fork a child that runs ``workload``; kill it ``kill_after`` seconds after it is
    ready (None: let it finish) or at the crash point ``crash_at``."""
    child = start_forked(workload, root, seed, crash_at)
    return finish_forked(child, kill_after=kill_after, timeout=timeout)


def mlvc_command() -> list[str]:
    """How to run the ``mlvc`` console script of this environment."""
    exe = Path(sys.executable).with_name("mlvc")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "mlvc_server.cli"]


@dataclass
class Spawned:
    """A finished command."""

    pid: int
    returncode: int
    stdout: str
    stderr: str


def run_spawned(
    argv: Sequence[str], cwd: Path, *, kill_after: float | None, timeout: float = 60.0
) -> tuple[Spawned, bool]:
    """Run a command (a fresh interpreter); SIGKILL it after ``kill_after`` seconds.

    Returns the finished process (its output) and whether it was killed.
    """
    p = subprocess.Popen(
        list(argv), cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    killed = False
    try:
        out, err = p.communicate(timeout=kill_after if kill_after is not None else timeout)
    except subprocess.TimeoutExpired:
        p.send_signal(signal.SIGKILL)
        out, err = p.communicate()
        killed = p.returncode == -signal.SIGKILL
    return Spawned(p.pid, p.returncode, out, err), killed


# -- checks --------------------------------------------------------------------------------
def git(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "--git-dir", str(root / ".mlvc"), *args], capture_output=True, text=True
    )


def leftovers(root: Path) -> list[Path]:
    """Locks and temporary files a killed writer left in the store."""
    store = root / ".mlvc"
    found = [p for p in store.rglob("*.lock")]
    found += list((store / "objects").glob("tmp_obj_*"))
    found += list((store / "mlvc").rglob("*.tmp"))
    return sorted(found)


def check_store(root: Path, *, fsck_cli: bool = False) -> dict[str, Any]:
    """The checks that hold after any kill, whatever the child was doing.

    - ``git fsck --full --strict`` is clean (objects, connectivity, reflogs);
    - ``mlvc fsck`` is clean (every reachable payload byte re-hashed).

    (:func:`check_no_half_commit` and the workload's ``verify`` check the content.)
    Returns the fsck report. ``mlvc fsck`` runs in this process (its ``main``), or with
    ``fsck_cli`` also as a subprocess.
    """
    reset_caches()
    g = git(root, "fsck", "--full", "--strict", "--no-progress")
    assert g.returncode == 0, f"git fsck failed:\n{g.stdout}\n{g.stderr}"
    assert "error" not in g.stderr.lower(), g.stderr
    if fsck_cli:
        p = subprocess.run(
            [*mlvc_command(), "-C", str(root), "fsck"], capture_output=True, text=True
        )
        assert p.returncode == 0 and p.stdout.startswith("ok:"), p.stdout + p.stderr
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = cli.main(["-C", str(root), "fsck", "--json"])
    report: dict[str, Any] = json.loads(out.getvalue())
    assert code == 0 and report["ok"], report["problems"]
    return report


def reachable_commits(root: Path) -> list[str]:
    """Every commit reachable from any branch or tag (not mlvc's own refs, such as the
    payload index, whose commits are not experiments)."""
    out = git(root, "rev-list", "--branches", "--tags")
    assert out.returncode == 0, out.stderr
    return out.stdout.split()


_checked: dict[Path, set[str]] = {}


def check_no_half_commit(root: Path, trust: bool = True) -> int:
    """Every commit a ref reaches (not checked before) has its record and loads whole.

    Returns how many commits were checked this time.
    """
    seen = _checked.setdefault(root, set())
    n = 0
    for cid in reachable_commits(root):
        if cid in seen:
            continue
        rec = service.show(cid, repo=root)
        assert rec.get("mlvc_record") == service.format.RECORD_VERSION, (cid, rec)
        values = service.restore(cid, None, repo=root, trust=trust)
        assert set(values) == set(rec["variables"]), (cid, sorted(values), rec["variables"])
        seen.add(cid)
        n += 1
    return n


def age(path: Path, seconds: float) -> None:
    """Make ``path`` look ``seconds`` old (a lock left by a process killed that long ago)."""
    t = time.time() - seconds
    os.utime(path, (t, t))


class Fn:
    """A workload made of a function run in the child (forked, so a closure will do);
    the parent checks its results itself."""

    name = "fn"

    def __init__(self, run: Callable[[Path, int, Emit], None]) -> None:
        self._run = run

    def setup(self, root: Path) -> None:
        pass

    def run(self, root: Path, seed: int, emit: Emit) -> None:
        self._run(root, seed, emit)

    def verify(self, root: Path, seed: int, done: list[list[str]]) -> None:
        pass


def wait_for(go: Path) -> None:
    """Spin until ``go`` exists (a start line for processes racing each other)."""
    while not go.exists():
        time.sleep(0.001)
