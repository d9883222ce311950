"""Fine-tune workload: a 256 MiB model of 64 float32 tensors, 10 versions, 10% of the
tensors changed per version (some replaced, some changed in place as an optimizer does).

Prints each figure against its floor measured in the same run (see DESIGN.md budgets):
first commit <= 2x, later commits <= 3x, storage <= 1.05x unique bytes, restore <= 3x
reading the bytes back, extra memory during a commit <= 64 MiB.

    python benchmarks/finetune.py [--mib 256] [--versions 10] [--tensors 64]
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from _common import PeakRSS, dir_bytes, floor_commit, read_floor, report_finetune

import mlvc_server as mlvc


def views(sd: dict[str, torch.Tensor], keys: list[str] | None = None) -> list[memoryview]:
    return [memoryview(sd[k].numpy()).cast("B") for k in (keys or list(sd))]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mib", type=int, default=256)
    ap.add_argument("--versions", type=int, default=10)
    ap.add_argument("--tensors", type=int, default=64)
    args = ap.parse_args()
    n = args.tensors
    per = args.mib * (1 << 20) // n // 4
    gen = torch.Generator().manual_seed(0)
    sd = {f"layer{i:02d}.weight": torch.randn(per, generator=gen) for i in range(n)}
    changed_per_version = max(1, n // 10)

    with tempfile.TemporaryDirectory(dir=Path.cwd()) as tmp:
        root = Path(tmp)
        # warm-up in another store so lazy imports and caches don't count
        warm = root / "warm"
        warm.mkdir()
        mlvc.commit("warm", variables={"m": {"w": torch.ones(1000)}}, repo=warm, sources=False)
        proj = root / "proj"
        proj.mkdir()
        mlvc.init(proj)

        unique: dict[bytes, int] = {}

        def note_unique(keys: list[str]) -> None:
            import xxhash

            for k in keys:
                b = memoryview(sd[k].numpy()).cast("B")
                unique[xxhash.xxh3_128_digest(b)] = len(b)

        # each floor is measured before and after the commit it matches and the smaller
        # is kept, so page-cache warmth favours neither side
        first_floor = floor_commit(views(sd), views(sd), root)
        gc.collect()
        with PeakRSS() as mem_first:
            t = time.perf_counter()
            cid0 = mlvc.commit("v0", variables={"model": sd}, repo=proj, sources=False)
            first = time.perf_counter() - t
        first_floor = min(first_floor, floor_commit(views(sd), views(sd), root))
        note_unique(list(sd))

        later, floors, mems = [], [], []
        for v in range(1, args.versions):
            keys = list(sd)
            changed = [keys[(v * 7 + j * 11) % n] for j in range(changed_per_version)]
            for j, k in enumerate(changed):
                if j % 2:
                    sd[k].add_(0.001)  # in place, as an optimizer step
                else:
                    sd[k] = torch.randn(per, generator=gen)  # replaced
            floor = floor_commit(views(sd), views(sd, changed), root)
            gc.collect()
            with PeakRSS() as mem:
                t = time.perf_counter()
                mlvc.commit(f"v{v}", variables={"model": sd}, repo=proj, sources=False)
                later.append(time.perf_counter() - t)
            floors.append(min(floor, floor_commit(views(sd), views(sd, changed), root)))
            mems.append(mem.extra)
            note_unique(changed)

        store_bytes = dir_bytes(proj / ".mlvc" / "objects")
        unique_bytes = sum(unique.values())

        # restore: v0 back into memory, against reading the same bytes from files
        blobs = root / "readback"
        blobs.mkdir()
        first_sd = mlvc.load(cid0, "model", repo=proj)
        for i, (_k, t_) in enumerate(first_sd.items()):
            (blobs / str(i)).write_bytes(t_.numpy().tobytes())
        del first_sd
        gc.collect()
        # the restored model must hold all its bytes at once, so the floor keeps them too
        # (fresh memory costs page faults; reusing one freed buffer would hide them)
        restore_floor = read_floor(blobs, n, per * 4)
        t = time.perf_counter()
        mlvc.load(cid0, "model", repo=proj)
        restore = time.perf_counter() - t

    print(
        f"fine-tune workload: {args.mib} MiB model, {n} float32 tensors, "
        f"{args.versions} versions, {changed_per_version} tensors changed per version"
    )
    ok = report_finetune(
        first,
        first_floor,
        later,
        floors,
        store_bytes,
        unique_bytes,
        restore,
        restore_floor,
        [mem_first.extra, *mems],
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
