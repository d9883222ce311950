"""The pickle fallback: cloudpickle, needs trust, refuses unstorable objects with reasons."""

from __future__ import annotations

import asyncio
import io
import pickle
import socket
import sys
import tempfile
import threading
from collections import OrderedDict, defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from mlvc_server import serializers
from mlvc_server.errors import TrustError, UnsupportedTypeError
from mlvc_server.serializers.pickle_format import PickleSerializer

from .conftest import MemoryReader, concat, roundtrip


@dataclass
class Point:
    x: float
    y: float


def test_roundtrip_needs_trust() -> None:
    value = {"point": Point(1.0, 2.0), "ordered": OrderedDict(a=1), "n": range(3)}
    payload = serializers.serialize(value)
    assert payload.format == "pickle"
    assert serializers.get("pickle").unsafe is True
    reader = MemoryReader(payload)
    with pytest.raises(TrustError, match="trusted=True"):
        serializers.deserialize("pickle", payload.meta, reader)
    assert serializers.deserialize("pickle", payload.meta, reader, trusted=True) == value


def test_direct_load_also_refuses_without_trust() -> None:
    payload = serializers.serialize(range(2))
    assert payload.format == "pickle"
    with pytest.raises(TrustError):
        PickleSerializer().load(payload.meta, MemoryReader(payload))


def test_meta_and_plain_pickle_file() -> None:
    payload = serializers.serialize(range(1, 5))
    assert payload.meta["type"] == "builtins.range"
    assert payload.meta["protocol"] == 5
    assert payload.meta["python"] == "{}.{}".format(*sys.version_info[:2])
    assert "cloudpickle" in payload.meta
    assert payload.extension == "pkl"
    assert pickle.loads(concat(payload)) == range(1, 5)


def test_functions_and_lambdas_by_value() -> None:
    offset = 10
    fn = lambda x: x + offset  # noqa: E731
    back, _ = roundtrip(fn, trusted=True)
    assert back(1) == 11

    def uses_module(n: int) -> float:
        import math

        return math.sqrt(n)

    back2, _ = roundtrip(uses_module, trusted=True)
    assert back2(9) == 3.0


def test_function_using_a_global_module_is_storable() -> None:
    back, _ = roundtrip(_global_module_user, trusted=True)
    assert back() == io.DEFAULT_BUFFER_SIZE


def _global_module_user() -> int:
    return io.DEFAULT_BUFFER_SIZE


def test_various_python_objects() -> None:
    for value in [range(5), slice(1, 2), {"r": range(2), "s": slice(3)}]:
        back, payload = roundtrip(value, trusted=True)
        assert payload.format == "pickle"
        assert back == value and type(back) is type(value)
    # the standard library's value types need no pickle (json, or bytes as themselves)
    for value in [1 + 2j, b"x", bytearray(b"yz"), Decimal("0.5"), b"z" * 100_000]:
        back, payload = roundtrip(value)
        assert payload.format in ("json", "bytes")
        assert back == value and type(back) is type(value)
    # containers of plain values are held by the container format, without pickle
    for value in [
        {1, 2},
        frozenset({3}),
        defaultdict(list, a=[1]),
        Point(0, 1),
        [OrderedDict(), b"x", bytearray(b"yz")],
    ]:
        back, payload = roundtrip(value)
        assert payload.format == "container" and not payload.meta.get("unsafe")
        assert back == value and type(back) is type(value)


def _gen() -> Any:
    yield 1


async def _coro() -> None:
    return None


async def _agen() -> Any:
    yield 1


def unstorables() -> list[tuple[str, Any, str]]:
    coro = _coro()
    coro.close()
    return [
        ("generator", _gen(), "generator"),
        ("generator expression", (i for i in range(3)), "generator"),
        ("async generator", _agen(), "generator"),
        ("coroutine", coro, "coroutine"),
        ("lock", threading.Lock(), "synchronization"),
        ("rlock", threading.RLock(), "synchronization"),
        ("condition", threading.Condition(), "synchronization"),
        ("event", threading.Event(), "synchronization"),
        ("semaphore", threading.Semaphore(), "synchronization"),
        ("thread", threading.Thread(target=print), "synchronization"),
        ("asyncio lock", asyncio.Lock(), "synchronization"),
        ("text file", tempfile.TemporaryFile("w+"), "file"),
        ("named file", tempfile.NamedTemporaryFile(), "file"),
        ("BytesIO", io.BytesIO(b"abc"), "file"),
        ("StringIO", io.StringIO("abc"), "file"),
        ("socket", socket.socket(), "socket"),
        ("module", sys, "module"),
        ("frame", sys._getframe(), "frame"),
    ]


@pytest.mark.parametrize("case", unstorables(), ids=lambda c: c[0])
def test_unstorable_objects_are_refused_with_a_reason(case: tuple[str, Any, str]) -> None:
    _, obj, word = case
    try:
        with pytest.raises(UnsupportedTypeError, match=word) as info:
            serializers.serialize(obj)
        assert type(obj).__name__ in str(info.value)
        if word != "module":  # modules inside data are pickled by reference (see below)
            with pytest.raises(UnsupportedTypeError, match=word):
                serializers.serialize({"nested": [obj]})
    finally:
        close = getattr(obj, "close", None)
        if close is not None and not isinstance(obj, threading.Thread):
            close()


def test_nested_modules_allowed_only_inside_code() -> None:
    # a module as the variable itself is refused...
    with pytest.raises(UnsupportedTypeError, match="module"):
        serializers.serialize(sys)
    # ...but a function that uses one is fine (tested above), and a module inside a
    # container is pickled by reference by cloudpickle (re-imported on load).
    back, _ = roundtrip({"m": io}, trusted=True)
    assert back["m"] is io


def test_pickling_failure_says_why() -> None:
    class Unpicklable:
        def __reduce__(self) -> Any:
            raise TypeError("this object refuses to be pickled")

    with pytest.raises(UnsupportedTypeError, match="refuses to be pickled"):
        serializers.serialize(Unpicklable())


def test_too_large_pickle_is_stopped_early() -> None:
    value = [slice(bytes([i % 256]) * 1000) for i in range(10_000)]  # 10 MB, distinct
    with pytest.raises(UnsupportedTypeError, match=r"limit of .* \(100000 bytes\)"):
        serializers.serialize(value, max_bytes=100_000)
    assert serializers.serialize(value, max_bytes=20_000_000).format == "pickle"


def test_no_pickle_when_not_allowed() -> None:
    with pytest.raises(UnsupportedTypeError, match="pickle is not allowed"):
        serializers.serialize(range(3), allow_pickle=False)
