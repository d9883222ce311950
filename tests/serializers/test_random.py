"""The random format: generators come back in their state (the next draws are the same),
without pickle."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import pytest

from mlvc_server import serializers
from mlvc_server.errors import SerializationError

from .conftest import MemoryReader, roundtrip


def _draws(g: Any) -> list[float]:
    if isinstance(g, random.Random):
        return [g.random(), g.gauss(0, 1), g.gauss(0, 1)]
    if isinstance(g, np.random.RandomState):
        return [*g.random_sample(3), *g.standard_normal(3)]  # the cached gauss too
    return [*g.random(3), *g.standard_normal(3), *g.integers(0, 2**62, 3)]


GENERATORS = {
    "default_rng": lambda: np.random.default_rng(42),
    "MT19937": lambda: np.random.Generator(np.random.MT19937(1)),
    "Philox": lambda: np.random.Generator(np.random.Philox(2)),
    "SFC64": lambda: np.random.Generator(np.random.SFC64(3)),
    "PCG64DXSM": lambda: np.random.Generator(np.random.PCG64DXSM(4)),
    "RandomState": lambda: np.random.RandomState(5),
    "RandomState(PCG64)": lambda: np.random.RandomState(np.random.PCG64(6)),
    "random.Random": lambda: random.Random(7),
}


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_a_generator_comes_back_in_its_state(name: str) -> None:
    g = GENERATORS[name]()
    _draws(g)  # used: mid-stream, a half-used gauss pair cached
    if isinstance(g, np.random.RandomState | random.Random):
        g.standard_normal() if isinstance(g, np.random.RandomState) else g.gauss(0, 1)
    back, payload = roundtrip(g)  # no trust needed
    assert payload.format == "random" and not serializers.get("random").unsafe
    assert type(back) is type(g)
    assert _draws(back) == _draws(g)


def test_an_unknown_generator_is_refused_on_load() -> None:
    payload = serializers.serialize(np.random.default_rng(0))
    payload.segments[0].data = payload.segments[0].data.replace(b'"PCG64"', b'"os.system"')
    payload.segments[0].size = len(payload.segments[0].data)
    with pytest.raises(SerializationError, match="unknown random generator"):
        serializers.deserialize("random", payload.meta, MemoryReader(payload))
