"""Shared helpers for the benchmarks: timing, peak memory, and the floors."""

from __future__ import annotations

import hashlib
import os
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
