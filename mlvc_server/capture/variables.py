"""Choose which of a kernel's variables a commit captures.

The kernel's namespace (IPython's ``user_ns``) holds the user's values mixed with imported
modules, functions, classes and IPython's own bookkeeping (``In``, ``Out``, ``_i3``,
``_3``...). :func:`select_variables` picks the user's values without touching them: the
decision looks only at names and at ``type(value)``, never at the value itself, so lazy
proxies are not triggered and nothing is copied.
"""

from __future__ import annotations

import re
import types
from collections.abc import Iterable, Mapping
from typing import Any, Final

from .secrets import is_secret_name

__all__ = ["SECRET_REASON", "select_variables"]

#: The skip reason of a variable whose name looks like a secret.
SECRET_REASON: Final = "name looks like a secret (commit with --allow-secrets to store it)"

#: Names IPython and the interpreter put in a user namespace. Never user values, and
#: dropped silently (not reported as skipped) so that commit records stay readable.
_INTERNAL_NAMES: Final[frozenset[str]] = frozenset(
    {
        "In",
        "Out",
        "get_ipython",
        "exit",
        "quit",
        "_",
        "__",
        "___",
        "_ih",
        "_oh",
        "_dh",
        "_i",
        "_ii",
        "_iii",
        "_sh",
        "__builtins__",
        "__builtin__",
        "__name__",
        "__doc__",
        "__package__",
        "__loader__",
        "__spec__",
        "__file__",
        "__cached__",
        "__annotations__",
        "__session__",
    }
)

#: IPython's per-cell input (``_i12``) and output (``_12``) history entries.
_HISTORY_NAME: Final[re.Pattern[str]] = re.compile(r"_i?\d+")

#: Modules whose objects are interpreter / kernel machinery, not user data.
_INTERNAL_TYPE_MODULES: Final[tuple[str, ...]] = (
    "IPython.",
    "ipykernel.",
    "_sitebuiltins",
)

#: Types of values that are code rather than data (functions, methods, builtins).
_ROUTINE_TYPES: Final[tuple[type, ...]] = (
    types.FunctionType,
    types.LambdaType,
    types.MethodType,
    types.BuiltinFunctionType,
    types.BuiltinMethodType,
    types.WrapperDescriptorType,
    types.MethodWrapperType,
    types.MethodDescriptorType,
    types.ClassMethodDescriptorType,
)

#: Other callables that are code, by (type module, type name): numpy ufuncs and
#: dispatchers (``np.sqrt``, ``np.mean``), ``functools.partial``, Cython functions.
_CODE_TYPES: Final[frozenset[tuple[str, str]]] = frozenset(
    {
        ("numpy", "ufunc"),
        ("numpy", "_ArrayFunctionDispatcher"),
        ("functools", "partial"),
    }
)
_CYTHON_FUNCTION_TYPES: Final[frozenset[str]] = frozenset(
    {"cython_function_or_method", "fused_cython_function"}
)

_TYPING_MODULES: Final[frozenset[str]] = frozenset({"typing", "typing_extensions"})


def _is_internal_name(name: str) -> bool:
    """Whether ``name`` is IPython / interpreter bookkeeping (``In``, ``_i3``, dunders)."""
    if name in _INTERNAL_NAMES:
        return True
    if name.startswith("__") and name.endswith("__"):
        return True
    return _HISTORY_NAME.fullmatch(name) is not None


def _skip_reason(value: Any) -> str | None:
    """Why a value found by scanning a namespace is not user data, or None if it is.

    Only ``type(value)`` is inspected, so the value itself is never touched.
    """
    kind = type(value)
    if issubclass(kind, types.ModuleType):
        return "module"
    if issubclass(kind, type):
        return "class"
    if issubclass(kind, _ROUTINE_TYPES):
        if issubclass(kind, (types.BuiltinFunctionType, types.BuiltinMethodType)):
            return "builtin"
        return "function"
    module = getattr(kind, "__module__", None)
    type_name = getattr(kind, "__name__", None)
    if isinstance(module, str):
        if module.startswith(_INTERNAL_TYPE_MODULES) or module in ("IPython", "ipykernel"):
            return "IPython internal"
        if module in _TYPING_MODULES:
            return "type annotation"
        if (module, type_name) in _CODE_TYPES or type_name in _CYTHON_FUNCTION_TYPES:
            return "function"
    return None


def select_variables(
    namespace: Mapping[str, Any],
    names: Iterable[str] | None = None,
    *,
    include_private: bool = False,
    allow_secrets: bool = False,
) -> tuple[dict[str, Any], dict[str, str]]:
    """Pick the user's variables out of a namespace.

    With ``names=None`` every user value is taken, in the namespace's order. Skipped, with
    a reason: modules (``"module"``), functions and methods (``"function"``), builtins
    (``"builtin"``), classes and types (``"class"``), typing constructs
    (``"type annotation"``), objects of IPython/ipykernel types (``"IPython internal"``)
    and names starting with ``_`` (``"private name"``, unless ``include_private``).
    IPython's bookkeeping names (``In``, ``Out``, ``get_ipython``, ``exit``, ``quit``,
    ``_``, ``_ih``, ``_oh``, ``_dh``, ``_i``, ``_ii``, ``_iii``, ``_i<N>``, ``_<N>``)
    and dunder names (``__builtins__``, ``__name__``...) are dropped without being
    reported, even with ``include_private``: they are never user data, and a long
    session has hundreds of them.

    With explicit ``names`` the user has said what they want: every name that is
    defined is taken as given (a function or class too, which only pickle can store),
    except modules, which cannot be stored at all (``"module"``). Names that are not in
    the namespace are reported as ``"not defined"``. Duplicates are taken once, in the
    order given.

    With ``names=None``, a name that looks like a secret (``password``, ``api_token``,
    ``AWS_SECRET_ACCESS_KEY``: :func:`.secrets.is_secret_name`) is skipped with the
    reason ``"name looks like a secret"`` unless ``allow_secrets``; a name given
    explicitly is taken (the commit's secret warnings name it).

    Values are never copied or inspected; only ``type(value)`` is looked at.

    Args:
        namespace: the variables, e.g. IPython's ``user_ns`` or ``globals()``.
        names: the names to take, or None to take every user variable.
        include_private: with ``names=None``, also take names starting with ``_``.

    Returns:
        ``(selected, skipped)``: name -> value (the very objects of the namespace), and
        name -> reason for each name left out.

    Raises:
        TypeError: when ``names`` is a single string (a common slip for ``[name]``) or
            holds something that is not a string.
    """
    selected: dict[str, Any] = {}
    skipped: dict[str, str] = {}

    if names is not None:
        if isinstance(names, str):
            raise TypeError("names must be an iterable of names, not a single string")
        for name in names:
            if not isinstance(name, str):
                raise TypeError(f"variable names must be strings, got {type(name).__name__}")
            if name in selected or name in skipped:
                continue
            if name not in namespace:
                skipped[name] = "not defined"
                continue
            value = namespace[name]
            if issubclass(type(value), types.ModuleType):
                skipped[name] = "module"
                continue
            selected[name] = value
        return selected, skipped

    for name, value in list(namespace.items()):
        if not isinstance(name, str) or _is_internal_name(name):
            continue
        if name.startswith("_") and not include_private:
            skipped[name] = "private name"
            continue
        if not allow_secrets and is_secret_name(name):
            skipped[name] = SECRET_REASON
            continue
        reason = _skip_reason(value)
        if reason is not None:
            skipped[name] = reason
        else:
            selected[name] = value
    return selected, skipped
