"""The serialization time limit: plain values are serialized in the caller's thread (no
hand-off), everything else in the worker thread that the limit can abandon."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import pytest

from mlvc_server import serializers
from mlvc_server.serializers import deadline
from mlvc_server.serializers.base import Payload


class Slow:
    """User code runs when this is pickled."""

    def __reduce__(self) -> Any:
        return (Slow, ())


PLAIN = [
    1,
    2.5,
    None,
    "text",
    b"bytes",
    np.float32(1.5),
    np.arange(10),
    np.zeros((3, 4), dtype=np.complex64),
    np.array(["2024-01-01"], dtype="datetime64[D]"),
    [1, 2.0, "x", [3, 4]],
    {"layers": [64, 32], "act": "relu", "dropout": 0.1},
]
NOT_PLAIN = [
    Slow(),
    [1, Slow()],
    {"a": Slow()},
    {1: "non-string key"},
    np.array([Slow()], dtype=object),
    np.ma.masked_array([1, 2]),
    list(range(deadline._INLINE_ITEMS + 1)),
]


@pytest.mark.parametrize("value", PLAIN, ids=repr)
def test_plain_values_are_serialized_in_the_calling_thread(value: Any) -> None:
    assert deadline.runs_no_user_code(value)
    seen: list[threading.Thread] = []
    real = serializers.serialize

    def spy(obj: Any, **kw: Any) -> Payload:
        seen.append(threading.current_thread())
        return real(obj, **kw)

    serializers.serialize = spy  # type: ignore[assignment]
    try:
        payload = deadline.serialize_within(value, 5.0)
    finally:
        serializers.serialize = real  # type: ignore[assignment]
    assert seen == [threading.current_thread()]
    assert payload.size > 0


@pytest.mark.parametrize("value", NOT_PLAIN, ids=lambda v: type(v).__name__)
def test_values_that_may_run_user_code_go_to_the_worker(value: Any) -> None:
    assert not deadline.runs_no_user_code(value)
    seen: list[threading.Thread] = []
    real = serializers.serialize

    def spy(obj: Any, **kw: Any) -> Payload:
        seen.append(threading.current_thread())
        return real(obj, **kw)

    serializers.serialize = spy  # type: ignore[assignment]
    try:
        deadline.serialize_within(value, 5.0)
    finally:
        serializers.serialize = real  # type: ignore[assignment]
    # (a container serializes its leaves through the registry too: same worker thread)
    assert seen and {t.ident for t in seen} == {seen[0].ident}
    assert seen[0] is not threading.current_thread()


def test_a_plugin_serializer_turns_the_inline_path_off() -> None:
    class Plugin:
        format = "plugin-test"
        unsafe = False

        def accepts(self, obj: Any) -> bool:
            return False

    serializers.register(Plugin(), 5)  # type: ignore[arg-type]
    try:
        assert not deadline.runs_no_user_code(1)
    finally:
        serializers.unregister("plugin-test")
    assert deadline.runs_no_user_code(1)
