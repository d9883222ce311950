"""A strong content fingerprint of a tensor, computed where the tensor lives (GPU or CPU).

The store uses it to decide that a GPU tensor is unchanged without copying it to the host.

Construction (``tf1``). The tensor's bytes (C order) are split into 64-bit words
``w[0..n)``, the last one zero-padded. Two independent lanes ``L`` each compute::

    x_i   = w_i XOR (i * K_L + C_L)                  # position-keyed
    y_i   = mix_L(x_i)                               # multiply / xorshift (splitmix-style)
    S_L   = sum_i y_i  (mod 2**64)
    h_L   = mix_L(S_L XOR nbytes)

with ``mix_L(x) = x *= A_L; x ^= x >>> 31; x *= B_L; x ^= x >>> 29`` (odd multipliers,
logical shifts; every step is a bijection of 64-bit words). The fingerprint is
``tf1:<dtype>:<shape>:<nbytes>:<h_0><h_1>`` (two 64-bit lanes in hex).

What it guarantees:

* equal bytes, dtype and shape give equal fingerprints on every device (integer sums
  are exact modulo 2**64, so the reduction order does not matter);
* a change confined to one 64-bit word (any single element of a dtype of 1, 2, 4 or 8
  bytes: a flipped bit, ``+0.0`` vs ``-0.0``, another NaN payload, two elements swapped
  inside one word) changes ``S_L`` with certainty, since ``y_i`` is a bijection of
  ``w_i``, hence changes both lanes;
* any other change (several words, elements moved across words, complex128 elements that
  span two words) goes unnoticed only if both 64-bit lanes collide, about ``2**-128``
  for unstructured data if the mixers behave like random functions;
* a different dtype, shape or byte length always gives a different fingerprint.

It is not cryptographic: someone who wants a collision can construct one. It only guards
against accidental equality, which is what deduplication of a user's own tensors needs.
"""

from __future__ import annotations

import warnings
from typing import Any

VERSION = "tf1"
_MASK64 = (1 << 64) - 1
#: (position multiplier K, position offset C, mixer A, mixer B) per lane; all odd.
_LANES = (
    (0x9E3779B97F4A7C15, 0x632BE59BD9B4E019, 0xBF58476D1CE4E5B9, 0x94D049BB133111EB),
    (0xD6E8FEB86659FD93, 0x2545F4914F6CDD1D, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9),
)
#: Words hashed per step, bounding the temporary memory on the device (~4 x 32 MiB).
CHUNK_WORDS = 1 << 22


def _signed(value: int) -> int:
    value &= _MASK64
    return value - (1 << 64) if value >= 1 << 63 else value


def _lsr(torch: Any, x: Any, shift: int) -> Any:
    """Logical right shift of int64 tensors (torch's ``>>`` is arithmetic)."""
    return torch.bitwise_and(x >> shift, (1 << (64 - shift)) - 1)


def _mix_tensor(torch: Any, x: Any, a: int, b: int) -> Any:
    x.mul_(_signed(a))
    x.bitwise_xor_(_lsr(torch, x, 31))
    x.mul_(_signed(b))
    x.bitwise_xor_(_lsr(torch, x, 29))
    return x


def _mix_int(x: int, a: int, b: int) -> int:
    x = (x * a) & _MASK64
    x ^= x >> 31
    x = (x * b) & _MASK64
    x ^= x >> 29
    return x


def tensor_bytes(tensor: Any) -> Any:
    """A flat ``uint8`` view of a tensor's bytes in C order (a copy only when the tensor
    is not contiguous or carries a lazy conjugate/negative bit).

    Args:
        tensor: a strided tensor on any device.

    Returns:
        A 1-D ``torch.uint8`` tensor on the same device.
    """
    import torch

    t = tensor.detach()
    if t.is_conj():
        t = t.resolve_conj()
    if t.is_neg():
        t = t.resolve_neg()
    t = t.contiguous()
    if t.numel() == 0 or t.element_size() == 0:
        return torch.empty(0, dtype=torch.uint8, device=t.device)
    return t.reshape(-1).view(torch.uint8)


def _words(torch: Any, chunk: Any) -> Any:
    try:
        return chunk.view(torch.int64)
    except RuntimeError:  # storage offset not 8-byte aligned
        return chunk.clone().view(torch.int64)


def tensor_fingerprint(tensor: Any, chunk_words: int = CHUNK_WORDS) -> str:
    """The ``tf1`` fingerprint of a tensor, computed on its own device.

    Args:
        tensor: a strided tensor (CPU, CUDA or any device torch computes on).
        chunk_words: 64-bit words per step (bounds temporary memory).

    Returns:
        ``"tf1:<dtype>:<shape>:<nbytes>:<32 hex digits>"``.
    """
    import torch

    data = tensor_bytes(tensor)
    nbytes = int(data.numel())
    full = nbytes // 8
    device = data.device
    sums = torch.zeros(len(_LANES), dtype=torch.int64, device=device)
    starts = list(range(0, full, chunk_words))
    if nbytes % 8:
        starts.append(full)
    for start in starts:
        if start < full:
            end = min(full, start + chunk_words)
            words = _words(torch, data[start * 8 : end * 8])
        else:  # the zero-padded last word
            end = full + 1
            tail = torch.zeros(8, dtype=torch.uint8, device=device)
            tail[: nbytes - full * 8] = data[full * 8 :]
            words = tail.view(torch.int64)
        for lane, (k, c, a, b) in enumerate(_LANES):
            x = torch.arange(start, end, dtype=torch.int64, device=device)
            x.mul_(_signed(k)).add_(_signed(c)).bitwise_xor_(words)
            sums[lane] += _mix_tensor(torch, x, a, b).sum()
    return _finish([int(v) for v in sums.tolist()], nbytes, tensor)


# ------------------------------------------------------------------ fused (Triton)
#: 64-bit words per lane in each program's vector, and vectors per program.
_BLOCK = 1024
_ITERS = 16
_SPAN = _BLOCK * _ITERS
_kernel: Any = None
_kernel_failed = False
#: Devices on which the fused kernel was checked against the torch-ops path.
_verified: set[str] = set()


def _fused_kernel() -> Any:
    """The Triton kernel computing tf1's lane sums of many tensors in one launch, or
    None where Triton is not installed (it comes with CUDA builds of torch on Linux)."""
    global _kernel, _kernel_failed
    if _kernel_failed:
        return None
    if _kernel is not None:
        return _kernel
    try:
        from ._tf1_triton import tf1_partials
    except Exception:  # any import failure means: no fused path
        _kernel_failed = True
        return None
    _kernel = tf1_partials
    return _kernel


def _finish(sums: list[int], nbytes: int, tensor: Any) -> str:
    lanes = [
        _mix_int((s & _MASK64) ^ nbytes, a, b) for s, (_, _, a, b) in zip(sums, _LANES, strict=True)
    ]
    shape = "x".join(str(d) for d in tensor.shape)
    dtype = str(tensor.dtype).removeprefix("torch.")
    return f"{VERSION}:{dtype}:{shape}:{nbytes}:" + "".join(f"{h:016x}" for h in lanes)


def _fusable(tensor: Any, data: Any) -> bool:
    n = int(data.numel())
    return n > 0 and n % 8 == 0 and data.data_ptr() % 8 == 0


def tensor_fingerprints(tensors: list[Any], *, fused: bool | None = None) -> list[str]:
    """The ``tf1`` fingerprints of many tensors, equal to :func:`tensor_fingerprint` of
    each, with few device round trips.

    On CUDA, where Triton is available, the lane sums of every tensor are computed by
    one fused kernel launch per device (each word read once, no temporaries), and the
    partial sums come back in one copy; tensors it cannot take (a length that is not a
    multiple of 8 bytes, an unaligned start) and other devices use the torch-ops path.

    Args:
        tensors: strided tensors on any devices.
        fused: force (True) or forbid (False) the Triton path; None: on CUDA tensors
            when Triton imports.

    Returns:
        One fingerprint per tensor, in order.
    """
    out: list[str | None] = [None] * len(tensors)
    by_device: dict[Any, list[tuple[int, Any, Any]]] = {}
    kernel = _fused_kernel() if fused is not False else None
    global _kernel_failed
    for index, t in enumerate(tensors):
        data = tensor_bytes(t)
        use = kernel is not None and (fused or data.device.type == "cuda") and _fusable(t, data)
        if use:
            by_device.setdefault(data.device, []).append((index, t, data))
        else:
            out[index] = tensor_fingerprint(t)
    for device, items in by_device.items():
        done: list[tuple[int, str]] | None = None
        if not _kernel_failed:
            try:
                if str(device) not in _verified:
                    _self_check(kernel, device)
                    _verified.add(str(device))
                done = _fused_group(kernel, device, items)
            except Exception as exc:  # a kernel that fails to build or run
                _kernel_failed = True
                warnings.warn(
                    f"the fused fingerprint kernel failed ({type(exc).__name__}: {exc}); "
                    "using the slower torch-ops path",
                    RuntimeWarning,
                    stacklevel=2,
                )
        if done is None:
            done = [(index, tensor_fingerprint(t)) for index, t, _ in items]
        for index, fp in done:
            out[index] = fp
    return [fp for fp in out if fp is not None]


def _self_check(kernel: Any, device: Any) -> None:
    """Compare the fused kernel with the torch-ops path once per device, on random words
    that span several programs, a ragged last vector and a one-word tensor, so that a
    compiler that builds the kernel differently can never give wrong fingerprints.

    Raises:
        RuntimeError: they disagree (the caller falls back to the torch-ops path).
    """
    import torch

    gen = torch.Generator(device=device).manual_seed(20)
    probes = [
        torch.randint(-(2**62), 2**62, (2 * _SPAN + 77,), generator=gen, device=device),
        torch.randint(0, 256, (8,), dtype=torch.uint8, generator=gen, device=device),
    ]
    fused = _fused_group(kernel, device, [(i, t, tensor_bytes(t)) for i, t in enumerate(probes)])
    if [fp for _, fp in fused] != [tensor_fingerprint(t) for t in probes]:
        raise RuntimeError("its results differ from the reference on this device")


def _fused_group(
    kernel: Any, device: Any, items: list[tuple[int, Any, Any]]
) -> list[tuple[int, str]]:
    """Fingerprints of the tensors of one device with one launch of the fused kernel."""
    import numpy as np
    import torch

    rows: list[tuple[int, int, int]] = []
    spans: list[int] = []
    for _, _, data in items:
        nwords = int(data.numel()) // 8
        starts = range(0, nwords, _SPAN)
        rows.extend((data.data_ptr(), s, nwords) for s in starts)
        spans.append(len(starts))
    table = torch.tensor(rows, dtype=torch.int64).to(device, non_blocking=False)
    partials = torch.empty((len(rows), 2), dtype=torch.int64, device=device)
    consts = dict(
        zip(("k0", "c0", "a0", "b0", "k1", "c1", "a1", "b1"), _LANES[0] + _LANES[1], strict=True)
    )
    if device.type == "cuda":
        with torch.cuda.device(device):
            kernel[(len(rows),)](table, partials, BLOCK=_BLOCK, ITERS=_ITERS, **consts)
    else:
        kernel[(len(rows),)](table, partials, BLOCK=_BLOCK, ITERS=_ITERS, **consts)
    host = partials.cpu().numpy().view(np.uint64)
    bounds = np.cumsum([0, *spans])
    with np.errstate(over="ignore"):
        sums = np.add.reduceat(host, bounds[:-1], axis=0, dtype=np.uint64)
    return [
        (index, _finish([int(v) for v in lane_sums], int(data.numel()), t))
        for (index, t, data), lane_sums in zip(items, sums, strict=True)
    ]
