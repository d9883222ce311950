"""Shared helpers for the benchmarks: timing, peak memory, the floors, and a kernel."""

from __future__ import annotations

import hashlib
import json
import os
import statistics
import threading
import time
from pathlib import Path
from typing import Any

import xxhash


def rss() -> int:
    """Resident memory of this process in bytes."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class PeakRSS:
    """Samples RSS every millisecond in a thread; ``extra`` is the peak over the start."""

    def __enter__(self) -> PeakRSS:
        self.base = rss()
        self.peak = self.base
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss())
            time.sleep(0.001)

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._t.join()
        self.peak = max(self.peak, rss())

    @property
    def extra(self) -> int:
        return self.peak - self.base


def floor_commit(
    all_buffers: list[memoryview], new_buffers: list[memoryview], scratch: Path
) -> float:
    """What any content-addressed store must do at least: xxh3 every byte to find what
    changed, then SHA-1 and write the new bytes (to a file on the same disk)."""
    t = time.perf_counter()
    for b in all_buffers:
        xxhash.xxh3_128_hexdigest(b)
    for i, b in enumerate(new_buffers):
        h = hashlib.sha1(b"blob %d\x00" % len(b))
        h.update(b)
        h.hexdigest()
        with open(scratch / f"floor-{i}", "wb") as f:
            f.write(b)
    elapsed = time.perf_counter() - t
    for i in range(len(new_buffers)):
        os.unlink(scratch / f"floor-{i}")
    return elapsed


def floor_commit_files(scratch: Path, pack_bytes: int, index_bytes: int) -> float:
    """The file operations any git-compatible commit of this store's layout makes, and
    nothing else (no hashing, no Python work): the commit's pack and its index written
    to temporary files and renamed into place, two refs moved under git's ``.lock``
    protocol (the payload index, then the branch: lock, read, rename), one reflog line
    and one log-cache line appended."""
    refs = scratch / "floor-refs"
    refs.mkdir(exist_ok=True)
    for r in ("index", "branch"):
        (refs / r).write_bytes(b"0" * 40 + b"\n")
    t = time.perf_counter()
    for name, size in (("pack", pack_bytes), ("idx", index_bytes)):
        fd = os.open(scratch / f"floor-tmp-{name}", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
        os.write(fd, b"x" * size)
        os.close(fd)
        os.replace(scratch / f"floor-tmp-{name}", refs / f"floor.{name}")
    for r in ("index", "branch"):
        fd = os.open(refs / f"{r}.lock", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        os.write(fd, b"1" * 40 + b"\n")
        os.close(fd)
        with open(refs / r, "rb") as f:
            f.read()
        os.replace(refs / f"{r}.lock", refs / r)
    for log, size in (("reflog", 128), ("summaries", 580)):
        with open(refs / log, "ab") as f:
            f.write(b"z" * size)
    elapsed = time.perf_counter() - t
    for name in ("pack", "idx"):
        os.unlink(refs / f"floor.{name}")
    return elapsed


def dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def report(name: str, value: float, floor: float, budget: float, unit: str = "s") -> bool:
    ratio = value / floor if floor else float("inf")
    ok = ratio <= budget
    print(
        f"{name:<38} {value:10.4f} {unit}  floor {floor:10.4f} {unit}  "
        f"ratio {ratio:5.2f}x  budget <= {budget}x  {'OK' if ok else 'OVER'}"
    )
    return ok


def read_floor(blobs: Path, n: int, nbytes: int) -> float:
    """Seconds to read files ``blobs/0`` .. ``blobs/{n-1}`` of ``nbytes`` each into fresh
    buffers kept until all are read (what a restore must at least do: the restored value
    holds all its bytes at once, and fresh memory costs page faults)."""
    t = time.perf_counter()
    kept = []
    for i in range(n):
        buf = bytearray(nbytes)
        with open(blobs / str(i), "rb", buffering=0) as f:
            f.readinto(buf)
        kept.append(buf)
    return time.perf_counter() - t


def report_finetune(
    first: float,
    first_floor: float,
    later: list[float],
    floors: list[float],
    store_bytes: int,
    unique_bytes: int,
    restore: float,
    restore_floor: float,
    peak_extra: list[int],
) -> bool:
    """Print the fine-tune workload's figures against their floors and budgets (DESIGN.md);
    ``peak_extra`` holds each commit's extra memory, the first commit's first."""
    ok = report("first commit", first, first_floor, 2.0)
    ok &= report("later commit (median)", statistics.median(later), statistics.median(floors), 3.0)
    ok &= report(
        "later commit (worst ratio)",
        max(a / b for a, b in zip(later, floors, strict=True)),
        1.0,
        3.0,
        unit="x",
    )
    ok &= report(
        "storage after all versions (MiB)",
        store_bytes / 2**20,
        unique_bytes / 2**20,
        1.05,
        unit="MiB",
    )
    ok &= report("restore of v0", restore, restore_floor, 3.0)
    peak = max(peak_extra) / 2**20
    print(
        f"{'peak extra memory during a commit':<38} {peak:10.1f} MiB  budget <= 64 MiB  "
        f"{'OK' if peak <= 64 else 'OVER'} (first commit {peak_extra[0] / 2**20:.1f} MiB)"
    )
    return ok and peak <= 64


class Kernel:
    """A real IPython kernel in ``cwd`` (its notebook ``cwd/train.ipynb``), driven with
    jupyter_client: ``run`` a cell and get its printed text, ``value`` of an expression."""

    def __init__(self, cwd: Path, env: dict[str, str] | None = None, timeout: float = 600) -> None:
        from jupyter_client.manager import start_new_kernel

        full = dict(os.environ, MLVC_SAVE_TIMEOUT="0", MLVC_CONFIG_DIR=str(cwd / ".config"))
        full["JPY_SESSION_NAME"] = str(cwd / "train.ipynb")
        full.update(env or {})
        self.timeout = timeout
        self.km, self.kc = start_new_kernel(kernel_name="python3", cwd=str(cwd), env=full)

    def run(self, code: str) -> str:
        out: list[str] = []

        def hook(msg: dict[str, Any]) -> None:
            if msg["msg_type"] == "stream":
                out.append(msg["content"]["text"])
            elif msg["msg_type"] == "error":
                raise RuntimeError("\n".join(msg["content"]["traceback"]))

        self.kc.execute_interactive(code, output_hook=hook, timeout=self.timeout)
        return "".join(out)

    def value(self, expr: str) -> Any:
        return json.loads(self.run(f"print(__import__('json').dumps({expr}))"))

    def close(self) -> None:
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=True)
