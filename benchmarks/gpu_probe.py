"""Probe (GPU machine): where the time of the device path goes, to guide tuning.

Times tf1 fingerprinting (per-tensor torch ops at two chunk sizes; the fused Triton
kernel over many tensors, checked equal), pinned D2H/H2D bandwidth, SHA-1/xxh3/adler32 on
the host, and profiles one later commit and one status.
"""

from __future__ import annotations

import cProfile
import hashlib
import io
import pstats
import sys
import tempfile
import time
import zlib
from pathlib import Path

import torch
import xxhash

sys.path.insert(0, str(Path(__file__).parent))
import mlvc_server as mlvc
from mlvc_server.serializers import torch_fingerprint as tfp

GIB = 1 << 30


def timed(fn, reps=5):  # type: ignore[no-untyped-def]
    fn()
    torch.cuda.synchronize()
    out = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        out.append(time.perf_counter() - t)
    return sorted(out)[len(out) // 2]


def main() -> None:
    dev = torch.device("cuda")
    big = torch.randn(GIB // 4, device=dev)
    for cw in (1 << 22, 1 << 24):
        s = timed(lambda cw=cw: tfp.tensor_fingerprint(big, chunk_words=cw))
        print(f"fingerprint 1 GiB, chunk_words {cw}: {s * 1000:.2f} ms", flush=True)
    small = [torch.randn(1024 * 1024, device=dev) for _ in range(256)]  # 256 x 4 MiB
    s = timed(lambda: [tfp.tensor_fingerprint(t) for t in small], reps=3)
    print(f"fingerprint 256 x 4 MiB: {s * 1000:.2f} ms = {s * 1000:.2f} ms/GiB", flush=True)
    tiny = [torch.randn(1024, device=dev) for _ in range(300)]
    s = timed(lambda: [tfp.tensor_fingerprint(t) for t in tiny], reps=3)
    print(f"fingerprint 300 x 4 KiB: {s * 1000:.2f} ms ({s * 1e6 / 300:.0f} us each)", flush=True)
    ref = tfp.tensor_fingerprint(big)
    t0 = time.perf_counter()
    fused = tfp.tensor_fingerprints([big])
    torch.cuda.synchronize()
    print(f"fused kernel first call (compile): {time.perf_counter() - t0:.2f} s", flush=True)
    print(f"fused == tf1 on 1 GiB: {fused == [ref]}, failed={tfp._kernel_failed}", flush=True)
    s = timed(lambda: tfp.tensor_fingerprints([big]))
    print(f"fused fingerprint 1 GiB: {s * 1000:.2f} ms", flush=True)
    s = timed(lambda: tfp.tensor_fingerprints(small))
    print(f"fused fingerprints 256 x 4 MiB: {s * 1000:.2f} ms", flush=True)
    s = timed(lambda: tfp.tensor_fingerprints(tiny))
    print(f"fused fingerprints 300 x 4 KiB: {s * 1000:.2f} ms", flush=True)
    # host side
    pinned = torch.empty(64 << 20, dtype=torch.uint8, pin_memory=True)
    src = big.view(torch.uint8)[: 64 << 20]
    s = timed(lambda: pinned.copy_(src))
    print(f"pinned D2H 64 MiB: {s * 1000:.2f} ms = {0.0625 / s:.1f} GiB/s", flush=True)
    s = timed(lambda: src.copy_(pinned))
    print(f"pinned H2D 64 MiB: {s * 1000:.2f} ms = {0.0625 / s:.1f} GiB/s", flush=True)
    mv = memoryview(pinned.numpy())
    for name, fn in (
        ("sha1", lambda: hashlib.sha1(mv).digest()),
        ("xxh3_128", lambda: xxhash.xxh3_128_hexdigest(mv)),
        ("adler32", lambda: zlib.adler32(mv)),
    ):
        t = time.perf_counter()
        for _ in range(4):
            fn()
        s = (time.perf_counter() - t) / 4
        print(f"host {name} 64 MiB: {s * 1000:.1f} ms = {0.0625 / s:.2f} GiB/s", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        with open(Path(tmp) / "f", "wb") as f:
            for _ in range(16):
                f.write(mv)
        print(f"host write 1 GiB: {time.perf_counter() - t:.3f} s", flush=True)
    # profile a later commit and a status
    with tempfile.TemporaryDirectory() as tmp:
        sd = {f"l{i:02d}": torch.randn(4 << 20, device=dev) for i in range(64)}  # 1 GiB
        mlvc.init(tmp)
        mlvc.commit("v1", variables={"m": sd}, repo=tmp, sources=False)
        for k in list(sd)[:6]:
            sd[k].mul_(2)
        from gpu import GPT

        from mlvc_server import serializers

        with torch.device(dev):
            gpt = GPT(vocab=50257, d=1024, layers=24, ctx=1024)
        serializers.serialize(gpt)
        mlvc.commit("gpt", variables={"gpt": gpt}, repo=tmp, sources=False)
        for label, fn in (
            ("serialize GPT-2 medium module", lambda: serializers.serialize(gpt)),
            (
                "status GPT-2 medium unchanged",
                lambda: mlvc.status(repo=tmp, variables={"gpt": gpt}),
            ),
            (
                "later commit (6 of 64 x 16 MiB changed)",
                lambda: mlvc.commit("v2", variables={"m": sd}, repo=tmp, sources=False),
            ),
            ("status unchanged", lambda: mlvc.status(repo=tmp, variables={"m": sd})),
        ):
            torch.cuda.synchronize()
            prof = cProfile.Profile()
            t = time.perf_counter()
            prof.enable()
            fn()
            torch.cuda.synchronize()
            prof.disable()
            print(f"== profile: {label}: {time.perf_counter() - t:.3f} s", flush=True)
            buf = io.StringIO()
            pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(12)
            print("\n".join(buf.getvalue().splitlines()[6:22]), flush=True)


if __name__ == "__main__":
    main()
