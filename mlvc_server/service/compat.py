"""Calls written for the first API, where ``repo`` (and ``notebook``) were positional.

The public functions now take ``repo`` and ``notebook`` as keywords only
(``mlvc.log(repo=".", notebook="train.ipynb")``). A call in the old positional style
still works: :func:`legacy_positional` maps the extra positional arguments onto the
names they had, in the old order, and warns once per call site with a
``DeprecationWarning``. Type checkers see only the keyword-only signature.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any, TypeVar, cast

F = TypeVar("F", bound=Callable[..., Any])


def legacy_positional(*names: str) -> Callable[[F], F]:
    """Accept ``names`` positionally after the function's own positional parameters.

    Args:
        names: the keyword-only parameters that used to be positional, in their old
            order (right after the positional parameters the function still has).
    """

    def wrap(func: F) -> F:
        # the positional-only and positional-or-keyword parameters, read from the code
        # object (inspect.signature would cost an ``import inspect`` at every start)
        inner: Any = func
        while hasattr(inner, "__wrapped__"):
            inner = inner.__wrapped__
        n_positional = inner.__code__.co_argcount

        @functools.wraps(func)
        def call(*args: Any, **kwargs: Any) -> Any:
            if len(args) > n_positional:
                extra = args[n_positional:]
                if len(extra) > len(names):
                    raise TypeError(
                        f"{func.__name__}() takes at most {n_positional + len(names)} "
                        f"positional arguments ({len(args)} given)"
                    )
                for name, value in zip(names, extra, strict=False):
                    if name in kwargs:
                        raise TypeError(f"{func.__name__}() got multiple values for {name!r}")
                    kwargs[name] = value
                given = ", ".join(f"{n}=..." for n in names[: len(extra)])
                warnings.warn(
                    f"mlvc: pass {given} to {func.__name__}() by keyword; positional "
                    "use is deprecated and will be removed",
                    DeprecationWarning,
                    stacklevel=2,
                )
                args = args[:n_positional]
            return func(*args, **kwargs)

        return cast(F, call)

    return wrap
