"""Data workload: first hash of a 1 GiB file (budget >= 1 GB/s) and the re-check of the
unchanged file (budget <= 1 ms, a stat cache). The floor is reading the file's bytes.

    python benchmarks/data.py [--gib 1]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from mlvc_server.capture import DataHasher


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--gib", type=float, default=1.0)
    args = ap.parse_args()
    size = int(args.gib * (1 << 30))
    with tempfile.TemporaryDirectory(dir=Path.cwd()) as tmp:
        root = Path(tmp)
        path = root / "train.bin"
        block = os.urandom(1 << 24)
        with open(path, "wb") as f:
            for _ in range(size // len(block)):
                f.write(block[:-1] + bytes([len(block) % 251]))  # not one repeated block
        # floor: read every byte (page cache warm, as for the hash below)
        buf = bytearray(1 << 24)
        t = time.perf_counter()
        with open(path, "rb", buffering=0) as f:
            while f.readinto(buf):
                pass
        read_floor = time.perf_counter() - t
        hasher = DataHasher(root / "cache.json")
        t = time.perf_counter()
        hasher.hash_files(["train.bin"], root)
        first = time.perf_counter() - t
        times = []
        for _ in range(20):
            t = time.perf_counter()
            hasher.hash_files(["train.bin"], root)
            times.append(time.perf_counter() - t)
        recheck = statistics.median(times)
    gbps = size / first / 1e9
    ok = gbps >= 1.0 and recheck <= 0.001
    print(f"data workload: {size / 2**30:.2f} GiB file")
    print(
        f"first hash        {first:7.3f} s = {gbps:5.2f} GB/s  floor (read) {read_floor:6.3f} s  "
        f"ratio {first / read_floor:4.1f}x  budget >= 1 GB/s  {'OK' if gbps >= 1 else 'OVER'}"
    )
    print(
        f"unchanged recheck {recheck * 1000:7.3f} ms  budget <= 1 ms  "
        f"{'OK' if recheck <= 0.001 else 'OVER'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
