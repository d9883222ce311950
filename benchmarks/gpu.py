"""A model that lives on a CUDA device: commit, later commit, status, restore onto it.

Two models, built on the device (no downloads): a torch state_dict of ``--gib`` GiB in
64 float32 tensors, and a GPT-2-medium-sized ``nn.Module`` (24 blocks, d=1024, vocab
50257, tied embedding: 355 M parameters, 1.42 GiB float32). For each:

* first commit, against its floor: a pinned device-to-host copy of every byte (64 MiB
  slices through one pinned buffer) and a write of it to files on the same disk;
* a later commit after an optimizer step on a few blocks (or a change of a few tensors),
  against the same floor over the changed bytes only;
* status of the unchanged model, in ms per GiB on the device (budget <= 5 ms/GiB);
* restore onto the device into the model's own tensors (``torch_format.load_into``),
  after the step (the changed tensors only) and after every tensor was clobbered,
  against its floor: reading the bytes from files into a pinned buffer and copying them
  to the device;
* for each phase the peak host RSS over its start, and the peak device memory allocated
  over the model.

The floors of the commits leave out what a content-addressed store must also do (SHA-1
of the new bytes for their git ids, xxh3 for the manifest): the "+hash" column adds
them, measured in the same run, so the ratio the issue asks for and the one that any
git-backed store can reach are both visible.

    python benchmarks/gpu.py [--gib 2] [--json out.json]
    python benchmarks/gpu.py --standin   # CPU tensors down the device path, small sizes

``--standin`` runs everything on CPU tensors sent down the device path (fingerprint,
sliced staging) to debug the script without a GPU; its figures say nothing about CUDA.
Exits 1 when a budget is missed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
import xxhash
from torch import nn

sys.path.insert(0, str(Path(__file__).parent))
from _common import PeakRSS

import mlvc_server as mlvc
from mlvc_server.serializers import torch_format
from mlvc_server.serializers.torch_fingerprint import tensor_bytes, tensor_fingerprint
from mlvc_server.store import Store, find_root
from mlvc_server.store import payloads as ps

GIB = 1 << 30
MIB = 1 << 20


# ----------------------------------------------------------------------------- models
class Block(nn.Module):
    def __init__(self, d: int) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(d)
        self.attn_qkv = nn.Linear(d, 3 * d)
        self.attn_proj = nn.Linear(d, d)
        self.ln_2 = nn.LayerNorm(d)
        self.mlp_fc = nn.Linear(d, 4 * d)
        self.mlp_proj = nn.Linear(4 * d, d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.ln_1(x)
        x = x + self.attn_proj(self.attn_qkv(h)[..., : h.shape[-1]])
        return x + self.mlp_proj(torch.nn.functional.gelu(self.mlp_fc(self.ln_2(x))))


class GPT(nn.Module):
    """The shape of GPT-2 medium (attention simplified: only the weights matter here)."""

    def __init__(self, vocab: int, d: int, layers: int, ctx: int) -> None:
        super().__init__()
        self.wte = nn.Embedding(vocab, d)
        self.wpe = nn.Embedding(ctx, d)
        self.h = nn.ModuleList(Block(d) for _ in range(layers))
        self.ln_f = nn.LayerNorm(d)
        self.lm_head = nn.Linear(d, vocab, bias=False)
        self.lm_head.weight = self.wte.weight

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        x = self.wte(idx) + self.wpe(torch.arange(idx.shape[-1], device=idx.device))
        for block in self.h:
            x = block(x)
        return self.lm_head(self.ln_f(x))


def unique_tensors(obj: Any) -> dict[str, torch.Tensor]:
    named = obj.state_dict(keep_vars=True) if isinstance(obj, nn.Module) else obj
    out: dict[str, torch.Tensor] = {}
    seen: set[int] = set()
    for k, t in named.items():
        if t.data_ptr() not in seen:
            seen.add(t.data_ptr())
            out[k] = t.detach()
    return out


def nbytes(tensors: dict[str, torch.Tensor]) -> int:
    return sum(t.numel() * t.element_size() for t in tensors.values())


# ----------------------------------------------------------------------------- floors
def sync(dev: torch.device) -> None:
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def staging_buffer(dev: torch.device) -> torch.Tensor:
    return torch.empty(torch_format.SLICE_BYTES, dtype=torch.uint8, pin_memory=dev.type == "cuda")


def floor_commit(
    tensors: list[torch.Tensor], scratch: Path, dev: torch.device
) -> tuple[float, float]:
    """(pinned copy + write, the same + SHA-1 and xxh3) of ``tensors``' bytes, in seconds.
    The files stay (the restore floor reads them); each file holds one tensor."""
    staging = staging_buffer(dev)
    host = staging.numpy()
    slice_bytes = len(host)
    sync(dev)
    copy_write = 0.0
    hashing = 0.0
    for i, t in enumerate(tensors):
        flat = tensor_bytes(t)
        n = int(flat.numel())
        start_t = time.perf_counter()
        with open(scratch / f"floor-{i}", "wb") as f:
            for start in range(0, n, slice_bytes):
                size = min(slice_bytes, n - start)
                staging[:size].copy_(flat[start : start + size])
                f.write(memoryview(host[:size]))
        copy_write += time.perf_counter() - start_t
        # what git ids add: SHA-1 and xxh3 of the same bytes (from the host copy)
        for start in range(0, n, slice_bytes):
            size = min(slice_bytes, n - start)
            staging[:size].copy_(flat[start : start + size])
            h0 = time.perf_counter()
            hashlib.sha1(memoryview(host[:size])).digest()
            xxhash.xxh3_128_hexdigest(memoryview(host[:size]))
            hashing += time.perf_counter() - h0
    return copy_write, copy_write + hashing


def floor_restore(tensors: list[torch.Tensor], scratch: Path, dev: torch.device) -> float:
    """Read each tensor's floor file into a pinned buffer and copy it to the device."""
    staging = staging_buffer(dev)
    host = staging.numpy()
    slice_bytes = len(host)
    sync(dev)
    t0 = time.perf_counter()
    for i, t in enumerate(tensors):
        flat = tensor_bytes(t)
        n = int(flat.numel())
        with open(scratch / f"floor-{i}", "rb", buffering=0) as f:
            for start in range(0, n, slice_bytes):
                size = min(slice_bytes, n - start)
                f.readinto(memoryview(host[:size]))
                flat[start : start + size].copy_(staging[:size])
    sync(dev)
    return time.perf_counter() - t0


def drop_floor_files(scratch: Path) -> None:
    for p in scratch.glob("floor-*"):
        p.unlink()


# ----------------------------------------------------------------------------- harness
class Phase:
    """Time, peak host RSS over the start, peak device memory over the start."""

    def __init__(self, dev: torch.device) -> None:
        self.dev = dev
        self.seconds = 0.0
        self.host = 0
        self.device = 0

    def run(self, fn: Callable[[], Any]) -> Any:
        sync(self.dev)
        if self.dev.type == "cuda":
            base = torch.cuda.memory_allocated(self.dev)
            torch.cuda.reset_peak_memory_stats(self.dev)
        with PeakRSS() as mem:
            t0 = time.perf_counter()
            out = fn()
            sync(self.dev)
            self.seconds = time.perf_counter() - t0
        self.host = mem.extra
        if self.dev.type == "cuda":
            self.device = torch.cuda.max_memory_allocated(self.dev) - base
        return out


RESULTS: list[dict[str, Any]] = []


def row(
    model: str,
    name: str,
    phase: Phase,
    floor: float | None,
    budget: float | None,
    note: str = "",
    hashed_floor: float | None = None,
) -> bool:
    ratio = phase.seconds / floor if floor else None
    ok = budget is None or (ratio is not None and ratio <= budget)
    RESULTS.append(
        {
            "model": model,
            "phase": name,
            "seconds": phase.seconds,
            "floor": floor,
            "floor_with_hashes": hashed_floor,
            "ratio": ratio,
            "budget": budget,
            "host_peak_mib": phase.host / MIB,
            "device_peak_mib": phase.device / MIB,
            "note": note,
            "ok": ok,
        }
    )
    fl = f"{floor:8.3f} s" if floor is not None else " " * 10
    rt = f"{ratio:5.2f}x" if ratio is not None else "      "
    hf = (
        f" (+hash floor {hashed_floor:.3f} s = {phase.seconds / hashed_floor:.2f}x)"
        if (hashed_floor)
        else ""
    )
    bd = f"<= {budget}x {'OK' if ok else 'OVER'}" if budget is not None else ""
    print(
        f"{model:<10} {name:<28} {phase.seconds:8.3f} s  floor {fl} {rt} {bd:<12} "
        f"host +{phase.host / MIB:5.0f} MiB  device +{phase.device / MIB:5.0f} MiB"
        f"{hf} {note}",
        flush=True,
    )
    return ok


def bench_model(
    label: str,
    model: Any,
    step: Callable[[], None],
    dev: torch.device,
    repo: Path,
    scratch: Path,
) -> bool:
    ok = True
    tensors = unique_tensors(model)
    size = nbytes(tensors)
    ptrs = {k: t.data_ptr() for k, t in tensors.items()}
    print(f"-- {label}: {size / GIB:.2f} GiB in {len(tensors)} tensors", flush=True)
    fp0 = {k: tensor_fingerprint(t) for k, t in tensors.items()}

    # first commit
    p = Phase(dev)
    c1 = p.run(
        lambda: mlvc.commit(f"{label} v1", variables={label: model}, repo=repo, sources=False)
    )
    floor, hashed = floor_commit(list(tensors.values()), scratch, dev)
    ok &= row(label, "first commit", p, floor, None, "(no budget)", hashed)

    # status, unchanged model (after a warm-up call)
    mlvc.status(repo=repo, variables={label: model})
    times = []
    for _ in range(3):
        p = Phase(dev)
        st = p.run(lambda: mlvc.status(repo=repo, variables={label: model}))
        times.append(p.seconds)
        if st["variables"][label] != "unchanged":
            print(f"   FAIL status says {st['variables'][label]!r} for the unchanged model")
            ok = False
    p.seconds = statistics.median(times)
    ms_per_gib = p.seconds * 1000 / (size / GIB)
    good = ms_per_gib <= 5.0
    ok &= good
    row(
        label,
        "status, unchanged",
        p,
        None,
        None,
        f"{ms_per_gib:.2f} ms/GiB budget <= 5 {'OK' if good else 'OVER'}",
    )

    # restore the whole model onto the device after every tensor was clobbered
    reader_store = Store(find_root(repo))

    def restore(cid: str) -> torch_format.InPlaceLoad:
        reader = ps.open_variable(reader_store, cid, label)
        return torch_format.load_into(model, reader.manifest["meta"], reader)

    with torch.no_grad():
        for t in tensors.values():
            t.zero_()
    p = Phase(dev)
    stats = p.run(lambda: restore(c1))
    floor = floor_restore(list(tensors.values()), scratch, dev)
    same = {k: tensor_fingerprint(t) for k, t in tensors.items()} == fp0
    ok &= row(
        label,
        "restore all onto the device",
        p,
        floor,
        2.0,
        f"copied {stats.copied}/{stats.tensors} exact={same}",
    )
    ok &= same
    drop_floor_files(scratch)

    # a training step on a few layers, then a later commit
    step()
    sync(dev)
    changed = [k for k, t in tensors.items() if tensor_fingerprint(t) != fp0[k]]
    ch_tensors = [tensors[k] for k in changed]
    ch_bytes = nbytes({k: tensors[k] for k in changed})
    p = Phase(dev)
    p.run(lambda: mlvc.commit(f"{label} v2", variables={label: model}, repo=repo, sources=False))
    floor, hashed = floor_commit(ch_tensors, scratch, dev)
    ok &= row(
        label,
        "later commit",
        p,
        floor,
        2.0,
        f"{len(changed)} tensors, {ch_bytes / MIB:.0f} MiB changed",
        hashed,
    )
    st = mlvc.status(repo=repo, variables={label: model})
    if st["variables"][label] != "unchanged":
        print(f"   FAIL status after the later commit: {st['variables'][label]!r}")
        ok = False

    # restore v1 onto the device: only the changed tensors move
    p = Phase(dev)
    stats = p.run(lambda: restore(c1))
    floor = floor_restore(ch_tensors, scratch, dev)  # the files hold the v2 bytes: same size
    with torch.no_grad():  # put v1 back for the check (the floor overwrote with v2 bytes)
        restore(c1)
    same = {k: tensor_fingerprint(t) for k, t in tensors.items()} == fp0
    ok &= row(
        label,
        "restore v1 after the step",
        p,
        floor,
        2.0,
        f"copied {stats.copied}, skipped {stats.skipped} exact={same}",
    )
    ok &= same
    drop_floor_files(scratch)
    kept = all(t.data_ptr() == ptrs[k] and t.device.type == dev.type for k, t in tensors.items())
    print(f"   {'OK ' if kept else 'FAIL'} every tensor kept its device and data_ptr", flush=True)
    ok &= kept
    return ok


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--gib", type=float, default=2.0, help="size of the state_dict model")
    ap.add_argument("--standin", action="store_true", help="CPU stand-in, small sizes")
    ap.add_argument("--json", help="write the figures here")
    ap.add_argument("--only", choices=["state_dict", "module"], help="run one model only")
    args = ap.parse_args()
    if args.standin:
        torch_format.HOST_DEVICES = ()
        dev = torch.device("cpu")
        gib = min(args.gib, 1 / 16)
        gpt = {"vocab": 8192, "d": 256, "layers": 6, "ctx": 256}
    else:
        if not torch.cuda.is_available():
            print("no CUDA device (use --standin to run on the CPU stand-in)")
            return 2
        dev = torch.device("cuda")
        gib = args.gib
        gpt = {"vocab": 50257, "d": 1024, "layers": 24, "ctx": 1024}
        print(f"device: {torch.cuda.get_device_name(dev)}, torch {torch.__version__}")
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "project"
        scratch = Path(tmp) / "scratch"
        repo.mkdir()
        scratch.mkdir()
        os.environ.setdefault("MLVC_CONFIG_DIR", str(Path(tmp) / "config"))
        mlvc.init(repo)
        mlvc.commit("warm", variables={"w": {"x": torch.ones(10, device=dev)}}, repo=repo)

        if args.only in (None, "state_dict"):
            n = 64
            per = int(gib * GIB) // n // 4
            gen = torch.Generator(device=dev).manual_seed(0)
            sd = {
                f"layer{i:02d}.weight": torch.randn(per, device=dev, generator=gen)
                for i in range(n)
            }

            def sd_step() -> None:
                with torch.no_grad():
                    for k in list(sd)[:4]:
                        sd[k].mul_(1.01)

            ok &= bench_model("state_dict", sd, sd_step, dev, repo, scratch)
            del sd

        if args.only in (None, "module"):
            with torch.device(dev):
                torch.manual_seed(0)
                model = GPT(**gpt)
            params = [p for i in (3, 17) if i < len(model.h) for p in model.h[i].parameters()]
            opt = torch.optim.AdamW(params, lr=1e-4)
            for p in model.parameters():
                p.requires_grad_(any(p is q for q in params))
            idx = torch.randint(0, gpt["vocab"], (2, 64), device=dev)

            def module_step() -> None:
                loss = model(idx).float().logsumexp(-1).mean()
                loss.backward()
                opt.step()
                opt.zero_grad(set_to_none=True)

            ok &= bench_model("module", model, module_step, dev, repo, scratch)
    if args.json:
        Path(args.json).write_text(json.dumps(RESULTS, indent=1))
    print("ALL OK" if ok else "SOME BUDGETS MISSED OR CHECKS FAILED", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
