"""The ``tf1`` lane sums of many tensors in one Triton kernel launch (CUDA only).

Imported lazily by :func:`mlvc_server.serializers.torch_fingerprint.tensor_fingerprints`,
only where Triton is installed (it comes with the CUDA builds of torch on Linux). Each
program reads ``ITERS`` vectors of ``BLOCK`` 64-bit words of one tensor (its address,
first word and word count are one row of ``table``), applies both lanes' position-keyed
mixer of :mod:`.torch_fingerprint` in registers and writes the two partial sums (mod
2**64) to ``out``. Each word is read once and nothing else is written.
"""

from __future__ import annotations

import triton
import triton.language as tl


@triton.jit  # type: ignore[untyped-decorator]
def tf1_partials(  # type: ignore[no-untyped-def]
    table,
    out,
    BLOCK: tl.constexpr,
    ITERS: tl.constexpr,
    k0: tl.constexpr,
    c0: tl.constexpr,
    a0: tl.constexpr,
    b0: tl.constexpr,
    k1: tl.constexpr,
    c1: tl.constexpr,
    a1: tl.constexpr,
    b1: tl.constexpr,
):
    pid = tl.program_id(0).to(tl.int64)
    addr = tl.load(table + pid * 3)
    first = tl.load(table + pid * 3 + 1)
    nwords = tl.load(table + pid * 3 + 2)
    words = addr.to(tl.pointer_type(tl.int64))
    acc0 = tl.zeros([BLOCK], dtype=tl.uint64)
    acc1 = tl.zeros([BLOCK], dtype=tl.uint64)
    for it in tl.static_range(ITERS):
        offs = first + it * BLOCK + tl.arange(0, BLOCK).to(tl.int64)
        mask = offs < nwords
        w = tl.load(words + offs, mask=mask, other=0).to(tl.uint64, bitcast=True)
        i = offs.to(tl.uint64, bitcast=True)
        x = (i * k0 + c0) ^ w
        x = x * a0
        x = x ^ (x >> 31)
        x = x * b0
        x = x ^ (x >> 29)
        acc0 += tl.where(mask, x, tl.zeros_like(x))
        y = (i * k1 + c1) ^ w
        y = y * a1
        y = y ^ (y >> 31)
        y = y * b1
        y = y ^ (y >> 29)
        acc1 += tl.where(mask, y, tl.zeros_like(y))
    tl.store(out + pid * 2, tl.sum(acc0, axis=0).to(tl.int64, bitcast=True))
    tl.store(out + pid * 2 + 1, tl.sum(acc1, axis=0).to(tl.int64, bitcast=True))
