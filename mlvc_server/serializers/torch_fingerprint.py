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
    lanes = [
        _mix_int((int(s) & _MASK64) ^ nbytes, a, b)
        for s, (_, _, a, b) in zip(sums.tolist(), _LANES, strict=True)
    ]
    shape = "x".join(str(d) for d in tensor.shape)
    dtype = str(tensor.dtype).removeprefix("torch.")
    return f"{VERSION}:{dtype}:{shape}:{nbytes}:" + "".join(f"{h:016x}" for h in lanes)
