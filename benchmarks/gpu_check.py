"""GPU check (run on a machine with CUDA): commit a model that lives on the GPU.

Checks what the foundation promises for device tensors and prints the figures:
- the model is not moved off the device (its tensors keep their device and data_ptr);
- device memory grows by at most the fingerprint's bounded scratch, not by a model copy;
- host memory grows by at most the pinned staging buffer, not by the model size;
- an unchanged GPU tensor is recognised by its on-device fingerprint: the second commit
  copies only the changed tensors to the host;
- restore gives the exact bytes back.

    python benchmarks/gpu_check.py [--mib 1024] [--tensors 64]
    python benchmarks/gpu_check.py --standin   # CPU tensors down the device path (no CUDA)
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).parent))
from _common import PeakRSS

import mlvc_server as mlvc
from mlvc_server.serializers import torch_format
from mlvc_server.serializers.torch_fingerprint import tensor_fingerprint


class _NoCuda:
    """torch.cuda's memory calls, answering zero (the CPU stand-in)."""

    def synchronize(self) -> None:
        pass

    def memory_allocated(self) -> int:
        return 0

    def max_memory_allocated(self) -> int:
        return 0

    def reset_peak_memory_stats(self) -> None:
        pass

    def get_device_name(self) -> str:
        return "CPU stand-in"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mib", type=int, default=1024)
    ap.add_argument("--tensors", type=int, default=64)
    ap.add_argument("--standin", action="store_true", help="CPU stand-in (debugging only)")
    args = ap.parse_args()
    if args.standin:
        torch_format.HOST_DEVICES = ()
        dev = torch.device("cpu")
        args.mib = min(args.mib, 64)
        cuda: Any = _NoCuda()
    elif not torch.cuda.is_available():
        print("no CUDA device: nothing to check (--standin runs the CPU stand-in)")
        return 2
    else:
        dev = torch.device("cuda")
        cuda = torch.cuda
    n = args.tensors
    per = args.mib * (1 << 20) // n // 4
    sd = {f"layer{i:02d}.weight": torch.randn(per, device=dev) for i in range(n)}
    ptrs = {k: t.data_ptr() for k, t in sd.items()}
    big = torch.randn((1 << 28) if dev.type == "cuda" else (1 << 24), device=dev)
    cuda.synchronize()
    tensor_fingerprint(big)
    cuda.synchronize()
    t = time.perf_counter()
    tensor_fingerprint(big)
    cuda.synchronize()
    fp_time = time.perf_counter() - t
    big_bytes = big.numel() * 4
    del big
    copies = {"n": 0, "bytes": 0}
    real = torch_format._materialize

    def counting(t_: torch.Tensor, slice_bytes: int | None = None):  # type: ignore[no-untyped-def]
        copies["n"] += 1
        copies["bytes"] += t_.numel() * t_.element_size()
        yield from real(t_, slice_bytes)

    torch_format._materialize = counting  # type: ignore[assignment]
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        mlvc.init(tmp)
        mlvc.commit("warm", variables={"w": {"x": torch.ones(10, device=dev)}}, repo=tmp)
        cuda.synchronize()
        dev_before = cuda.memory_allocated()
        cuda.reset_peak_memory_stats()
        with PeakRSS() as mem1:
            t = time.perf_counter()
            c1 = mlvc.commit("v1", variables={"model": sd}, repo=tmp, sources=False)
            first = time.perf_counter() - t
        dev_peak1 = cuda.max_memory_allocated() - dev_before
        first_copies = dict(copies)
        copies.update(n=0, bytes=0)
        keys = list(sd)
        changed = keys[: max(1, n // 10)]
        originals = {k: sd[k].detach().cpu().clone() for k in changed}
        with torch.no_grad():
            for k in changed:
                sd[k].mul_(1.01)
        with PeakRSS() as mem2:
            t = time.perf_counter()
            mlvc.commit("v2", variables={"model": sd}, repo=tmp, sources=False)
            second = time.perf_counter() - t
        restored = mlvc.load(c1, "model", repo=tmp)
    same_place = all(sd[k].device.type == dev.type and sd[k].data_ptr() == ptrs[k] for k in sd)
    print(f"device: {cuda.get_device_name()}; model {args.mib} MiB in {n} tensors")
    gib = big_bytes / 2**30
    print(f"fingerprint on the device: {fp_time * 1000 / gib:.1f} ms/GiB")
    print(
        f"first commit {first:.3f} s, tensors copied {first_copies['n']}, "
        f"host RSS +{mem1.extra / 2**20:.0f} MiB, device peak +{dev_peak1 / 2**20:.0f} MiB"
    )
    print(
        f"second commit {second:.3f} s, tensors copied {copies['n']} "
        f"({copies['bytes'] / 2**20:.0f} MiB), host RSS +{mem2.extra / 2**20:.0f} MiB"
    )
    exact = all(
        torch.equal(restored[k], originals[k] if k in originals else sd[k].cpu()) for k in keys
    )
    checks = {
        "model stayed on the device (same data_ptr)": same_place,
        "second commit copied only the changed tensors": copies["n"] == len(changed),
        "host memory bounded (< 256 MiB extra)": max(mem1.extra, mem2.extra) < 256 << 20,
        "restore exact": exact,
    }
    for name, good in checks.items():
        print(f"  {'OK ' if good else 'FAIL'} {name}")
        ok &= good
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
