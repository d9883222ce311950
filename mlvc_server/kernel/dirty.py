"""Dirty tracking: skip rehashing variables that provably did not change since the last
check (``status``, autocommit, commit).

Hashing 1 GiB of DataFrames and 1 GiB of arrays takes ~0.3 s at xxh3 speed; a cell that
touched none of them should not pay it. Like Kishu, the kernel runs cells in a user
namespace that records the names read from it (:class:`TrackedNamespace`, a ``dict``
subclass: ``LOAD_NAME`` in cells and ``LOAD_GLOBAL`` in functions defined in the notebook
call its ``__getitem__`` because it is not an exact ``dict``). A variable keeps the
fingerprint it had at the last check (:class:`Tracker`) only when all of these hold:

1. tracking runs (``MLVC_DIRTY_TRACKING`` is not ``0``, and the namespace could be
   swapped safely: see :func:`install`);
2. the name is bound to the very same object as when it was hashed (rebinding,
   ``del``, ``global x; x = ...`` in a function, ``%run``, restore are caught here);
3. no code read the name since (cells, functions defined in the notebook, widget
   callbacks, threads: every ``ns[name]``, ``ns.get``, ``ns.pop``, ``ns.setdefault``,
   attribute reads on ``sys.modules["__main__"]``), and no executed cell names it
   anywhere in its source (class bodies and ``exec`` with separate locals read globals
   without ``__getitem__``; a function holding a class body makes its names read on
   every check);
4. nothing read the namespace wholesale: ``values()``, ``items()``, ``copy()``,
   ``dict(ns)``, ``{**ns}``, pickling it, or any of :data:`EVERYTHING` (``exec``,
   ``eval``, ``globals``, ``vars``, ``locals``, ``get_ipython`` -- so every magic but
   ``%mlvc`` --, ``sys``, ``__main__``, ``__import__``...) named or read (reading
   ``Out`` reads every value in the output history);
5. no comm message (widgets) was handled, and no Python thread started after tracking
   began is alive or was alive at the last check;
6. the value is made only of types whose whole state is visible to Python's garbage
   collector: numpy arrays (not memmaps; of objects only up to 10,000 strings, numbers
   and tuples of them; whose ``.base`` is an array or ``bytes``), pandas objects (no
   Python-object columns beyond that), pyarrow arrays, and dicts/lists/tuples of them
   (no user classes, tensors, memoryviews...); and
7. none of its objects is referenced from outside it, now and when it was hashed (a
   holder could write after the hash, then let go): every object's reference count
   equals the references from its own parts, from names of the namespace, from IPython's
   output history and from this tracker (and its weak references come from its own
   parts). So no alias (``b = a[::2]``, ``torch.from_numpy(a)``, a Series of a frame, a
   closure, a thread's argument, another object holding it) can write to it unseen;
   names bound to the same object, or to objects that share parts, are dirty together.

Anything else is rehashed. Not covered: code that writes to an array's memory by
address (ctypes), C extensions that read the namespace with ``PyDict_GetItem``, and
objects found through ``gc.get_objects()``/``gc.get_referrers()``.
"""

from __future__ import annotations

import ast
import contextlib
import gc
import os
import sys
import threading
import types
import weakref
from collections.abc import Iterator
from typing import Any

__all__ = ["ENV", "EVERYTHING", "TrackedNamespace", "Tracker", "install", "tracker_for"]

#: ``MLVC_DIRTY_TRACKING=0`` turns dirty tracking off (every check rehashes).
ENV = "MLVC_DIRTY_TRACKING"
#: Names whose use may read any variable without naming it.
EVERYTHING = frozenset(
    {
        "exec",
        "eval",
        "compile",
        "globals",
        "vars",
        "locals",
        "get_ipython",
        "__import__",
        "__main__",
        "sys",
        "gc",
        "ctypes",
        "breakpoint",
    }
)
#: A value whose parts number more is not tracked (rehashed each time).
MAX_PARTS = 20_000
#: Object arrays (an index of labels) with more items are not tracked.
MAX_OBJECT_ITEMS = 10_000
_SKIP = (type, types.ModuleType)


class TrackedNamespace(dict):  # type: ignore[type-arg]
    """The user namespace: a ``dict`` that records the names read from it."""

    __slots__ = ("everything", "quiet_thread", "touched")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: names read since the tracker last took them
        self.touched: set[str] = set()
        #: something read the namespace wholesale
        self.everything = False
        #: reads by this thread are not recorded (mlvc's own, while it checks)
        self.quiet_thread: int | None = None

    def _read(self, key: Any) -> None:
        if self.quiet_thread is None or threading.get_ident() != self.quiet_thread:
            self.touched.add(key)

    def _all(self) -> None:
        if self.quiet_thread is None or threading.get_ident() != self.quiet_thread:
            self.everything = True

    def __getitem__(self, key: Any) -> Any:  # every global read of notebook code: kept short
        quiet = self.quiet_thread
        if quiet is None or quiet != _get_ident():
            self.touched.add(key)
        return _getitem(self, key)

    def get(self, key: Any, default: Any = None) -> Any:
        self._read(key)
        return dict.get(self, key, default)

    def pop(self, key: Any, *default: Any) -> Any:
        self._read(key)
        return dict.pop(self, key, *default)

    def setdefault(self, key: Any, default: Any = None) -> Any:
        self._read(key)
        return dict.setdefault(self, key, default)

    def __iter__(self) -> Iterator[Any]:
        # overridden so that dict(ns), {**ns} and update(ns) read through __getitem__
        return dict.__iter__(self)

    def values(self) -> Any:
        self._all()
        return dict.values(self)

    def items(self) -> Any:
        self._all()
        return dict.items(self)

    def copy(self) -> dict[Any, Any]:
        self._all()
        return dict(dict.items(self))

    def popitem(self) -> Any:
        self._all()
        return dict.popitem(self)

    def __reduce_ex__(self, protocol: Any) -> Any:
        self._all()
        return super().__reduce_ex__(protocol)

    def __or__(self, other: Any) -> Any:
        self._all()
        return dict.__or__(self, other)


_get_ident = threading.get_ident
_getitem = dict.__getitem__


def enabled_by_config() -> bool:
    """Whether ``MLVC_DIRTY_TRACKING`` leaves tracking on (default: on)."""
    return os.environ.get(ENV, "1").strip().lower() not in ("0", "false", "no", "off")


def _names(tree: ast.AST) -> set[str]:
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            out.add(node.id)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            out.update(node.names)
    return out


def _is_mlvc_only(raw: str) -> bool:
    """A cell of ``%mlvc`` lines only, with nothing IPython would expand (``$x``,
    ``{x}``): the magic machinery's ``user_ns.copy()`` then reads no variable."""
    lines = [ln.strip() for ln in raw.splitlines() if ln.strip()]
    return (
        bool(lines)
        and all(ln.startswith("%mlvc") for ln in lines)
        and not any(c in raw for c in "${}")
    )


class Tracker:
    """Which variables are provably unchanged since the last check, with their
    fingerprints (the module docstring states the rule)."""

    def __init__(self, shell: Any, ns: TrackedNamespace) -> None:
        self.shell = shell
        self.ns = ns
        #: name -> (the value hashed, its fingerprint)
        self.clean: dict[str, tuple[Any, str]] = {}
        #: names read on every check (functions holding class bodies)
        self.sticky: set[str] = set()
        self.threads = {t.ident for t in threading.enumerate()}
        #: threads started after tracking began, running at the last check
        self.running: set[int | None] = set()
        self.events = False
        self.mlvc_cell = False
        #: names of :data:`EVERYTHING` read by user code not yet checked, as of the last
        #: cell's end or check (mlvc's own requests read some of them too)
        self.pending: set[str] = set()
        self._quiet_prev: int | None = None
        self.active = True
        #: the names whose fingerprints the last check trusted (tests, benchmarks)
        self.trusted: frozenset[str] = frozenset()
        #: why the last check rehashed every variable ("" when it did not)
        self.why = ""

    # -- what happened since the last check ---------------------------------------------
    def pre_run_cell(self, info: Any) -> None:
        raw = getattr(info, "raw_cell", "") or ""
        self.mlvc_cell = _is_mlvc_only(raw)
        if self.mlvc_cell:
            # IPython's magic machinery reads every name (``var_expand`` merges the
            # namespace) and ``get_ipython`` (also while preparing the cell): in a cell
            # of ``%mlvc`` lines only, no user code sees those values
            if "get_ipython" not in self.pending:
                self.ns.touched.discard("get_ipython")
            self._quiet_prev = self.ns.quiet_thread
            self.ns.quiet_thread = threading.get_ident()
            return
        try:
            tree = ast.parse(self.shell.transform_cell(raw))
        except Exception:  # the cell will fail to compile, or a transform we can't read
            self.events = True
            return
        self.ns.touched.update(_names(tree))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) and any(
                isinstance(n, ast.ClassDef) for n in ast.walk(node) if n is not node
            ):
                self.sticky |= _names(node)

    def post_run_cell(self, result: Any) -> None:
        if self.mlvc_cell:
            self.ns.quiet_thread = self._quiet_prev
        self.mlvc_cell = False
        self.pending = self.ns.touched & EVERYTHING

    def mlvc_request(self) -> None:
        """mlvc's own silent execute request (the server's, ``mlvc run``'s) is running:
        its code's ``__import__`` of mlvc read no variable (one a cell read still counts;
        silent requests fire no cell events)."""
        if "__import__" not in self.pending:
            self.ns.touched.discard("__import__")

    def event(self, *_: Any) -> None:
        """A comm message (widget callback) ran outside cells: rehash everything."""
        self.events = True

    # -- the check ------------------------------------------------------------------------
    def known(self) -> dict[int, tuple[Any, str]]:
        """The fingerprints still valid, by value identity (a fingerprint memo seed).

        Takes the names read since the last check (reads from now on count for the
        next check)."""
        ns = self.ns
        touched, ns.touched = ns.touched, set()
        self.pending = set()
        everything, ns.everything = ns.everything, False
        events, self.events = self.events, False
        touched |= self.sticky
        self.trusted = frozenset()
        self.why = self._everything(touched, everything, events)
        if self.why:
            self.clean = {}
            return {}
        self.clean = {
            k: e
            for k, e in self.clean.items()
            if k not in touched and dict.get(ns, k, _MISSING) is e[0]
        }
        keep = self._exclusive(self.clean, touched)
        self.clean = {k: e for k, e in self.clean.items() if k in keep}
        self.trusted = frozenset(self.clean)
        return {id(v): (v, fp) for v, fp in self.clean.values()}

    def _everything(self, touched: set[str], everything: bool, events: bool) -> str:
        """Why every variable is rehashed this time ("" when not)."""
        if not self.active:
            return "tracking stopped"
        if everything:
            return "the namespace was read wholesale"
        if events:
            return "a comm message was handled (or a cell could not be parsed)"
        if touched & EVERYTHING:
            return f"{sorted(touched & EVERYTHING)[0]} was used"
        started = {
            t.ident: t.name
            for t in threading.enumerate()
            if t.ident not in self.threads and not t.name.startswith("mlvc-")
        }
        # a thread running at the last check may have written after it hashed, then ended
        before, self.running = self.running, set(started)
        if started:
            return f"thread {next(iter(started.values()))} is running"
        if before:
            return "a thread was running at the last check"
        return ""

    def _exclusive(
        self,
        clean: dict[str, tuple[Any, str]],
        touched: set[str],
        ours: tuple[dict[Any, tuple[Any, Any]], dict[str, Any]] = ({}, {}),
    ) -> set[str]:
        """The names of ``clean`` whose values are referenced only from themselves, the
        namespace, the output history and this tracker (rule 7), and share no part with
        a touched name's value."""
        plan = self._plan(clean, touched, ours)
        if plan is None:
            return set()
        owner, bad, allowed, weak, objs = plan
        bad |= _unexplained(objs, owner, allowed, weak)
        del objs
        # aliases: names sharing a part with a dirty name are dirty
        changed = True
        while changed:
            changed = False
            for names in owner.values():
                if len(names) > 1 and names & bad and not names <= bad:
                    bad |= names
                    changed = True
        return set(clean) - bad

    def _plan(
        self,
        clean: dict[str, tuple[Any, str]],
        touched: set[str],
        ours: tuple[dict[Any, tuple[Any, Any]], dict[str, Any]],
    ) -> tuple[dict[int, set[str]], set[str], dict[int, int], dict[int, int], list[Any]] | None:
        owner: dict[int, set[str]] = {}
        unique: dict[int, Any] = {}
        bad: set[str] = set()
        for k, (v, _) in clean.items():
            parts = _parts(v)
            if parts is None:
                bad.add(k)
                continue
            for p in parts:
                owner.setdefault(id(p), set()).add(k)
                unique[id(p)] = p
        read = [dict.get(self.ns, k, _MISSING) for k in touched]
        out_hist = dict.get(self.ns, "Out")
        if touched & {"Out", "_oh"} and isinstance(out_hist, dict):
            read += list(dict.values(out_hist))  # the output history's values were read
        for v in read:
            if v is _MISSING:
                continue
            for p in [v, *(_parts(v) or [])]:
                bad |= owner.get(id(p), set())
        del read
        allowed: dict[int, int] = {}

        def allow(v: Any) -> None:
            if id(v) in owner:
                allowed[id(v)] = allowed.get(id(v), 0) + 1

        for v in dict.values(self.ns):  # names
            allow(v)
        if isinstance(out_hist, dict):  # IPython's output history
            for v in dict.values(out_hist):
                allow(v)
        allow(getattr(getattr(self.shell, "last_execution_result", None), "result", None))
        memo, held = ours  # mlvc's own references: the snapshot memo, the selection
        for entry in memo.values():
            allow(entry[0])
        for v in held.values():
            allow(v)
        for v, _ in clean.values():  # the tracker's (value, fingerprint) tuples
            allow(v)
        weak: dict[int, int] = {}
        for p in unique.values():  # the parts' references to each other
            for r in _referents(p):
                allow(r)
            if isinstance(p, weakref.ref):
                target = p()
                if target is not None:
                    weak[id(target)] = weak.get(id(target), 0) + 1
        return owner, bad, allowed, weak, list(unique.values())

    def remember(
        self, memo: dict[Any, tuple[Any, Any]] | None, held: dict[str, Any] | None = None
    ) -> None:
        """After a check: the variables just fingerprinted (``memo`` of the snapshot)
        are clean until something touches them -- those referenced from outside
        themselves right now excepted (rule 7 at hashing time: a thread, a task or a
        callback holding one could write it after it was hashed, then let go).

        Args:
            memo: the snapshot's memo (its references are mlvc's).
            held: the caller's selection of variables (its references are mlvc's).
        """
        self.clean = {}
        if memo is None or not self.active:
            return
        from ..serializers.fingerprint import snapshot_memo

        if snapshot_memo() is not memo:
            # the snapshot block ended: drop the payloads it kept (they may hold views of
            # the values, which would count as outside references)
            for key in [key for key in memo if not isinstance(key, int)]:
                del memo[key]
        candidates = self._candidates(memo)
        keep = self._exclusive(candidates, set(), (memo, held or {}))
        self.clean = {k: e for k, e in candidates.items() if k in keep}

    def _candidates(self, memo: dict[Any, tuple[Any, Any]]) -> dict[str, tuple[Any, str]]:
        out: dict[str, tuple[Any, str]] = {}
        for k, v in dict.items(self.ns):
            hit = memo.get(id(v))
            if hit is not None and hit[0] is v and isinstance(hit[1], str):
                out[k] = (v, hit[1])
        return out

    @contextlib.contextmanager
    def quiet(self) -> Iterator[None]:
        """mlvc's own reads of the namespace (selecting variables) are not recorded."""
        prev = self.ns.quiet_thread
        self.ns.quiet_thread = threading.get_ident()
        try:
            yield
        finally:
            self.ns.quiet_thread = prev


_MISSING = object()


def _unexplained(
    objs: list[Any], owner: dict[int, set[str]], allowed: dict[int, int], weak: dict[int, int]
) -> set[str]:
    """The names owning a part with more (or fewer) references than ``allowed``, or
    weak references not among the parts. ``objs`` must be the parts' only holder here."""
    bad: set[str] = set()
    objs.insert(0, object())  # a sentinel held by the list alone: the base count
    base = -1
    for o in objs:
        n = sys.getrefcount(o)
        if base < 0:
            base = n
            continue
        if n - base != allowed.get(id(o), 0):
            bad |= owner[id(o)]
            continue
        try:
            w = weakref.getweakrefcount(o)
        except TypeError:
            w = 0
        if w != weak.get(id(o), 0):
            bad |= owner[id(o)]
    del objs[0]
    return bad


def _referents(o: Any) -> list[Any]:
    np = sys.modules.get("numpy")
    if np is not None and isinstance(o, np.ndarray) and not gc.is_tracked(o):
        return [] if o.base is None else [o.base]
    return gc.get_referents(o)


def _allowed_part(o: Any) -> bool:
    cls = type(o)
    if cls in (dict, list, tuple, set, frozenset, weakref.ref, bytes, str, slice):
        return True
    np = sys.modules.get("numpy")
    if np is not None and isinstance(o, np.ndarray):
        if isinstance(o, np.memmap):
            return False
        if o.dtype.hasobject:  # its items are references the walk does not see
            return (
                o.dtype == object
                and o.size <= MAX_OBJECT_ITEMS
                and all(_immutable_atom(x) for x in o.ravel(order="K").tolist())
            )
        base = o.base
        return base is None or isinstance(base, (np.ndarray, bytes))
    root = (getattr(cls, "__module__", "") or "").split(".")[0]
    if root == "pandas":
        # object-dtype columns hold mutable Python objects the walk does not see
        dtype = getattr(o, "dtype", None)
        return not (np is not None and isinstance(dtype, np.dtype) and dtype.hasobject)
    return root == "pyarrow"


def _parts(value: Any) -> list[Any] | None:
    """Every object ``value`` is made of (by the garbage collector's references), or
    None when one of them is of a kind whose state Python cannot see (rule 6)."""
    np = sys.modules.get("numpy")
    top = type(value)
    if not (
        top in (dict, list, tuple)
        or (np is not None and isinstance(value, np.ndarray))
        or (getattr(top, "__module__", "") or "").startswith("pandas")
    ):
        return None
    seen = {id(value)}
    order = [value]
    i = 0
    while i < len(order):
        o = order[i]
        i += 1
        if not _allowed_part(o):
            return None
        for r in _referents(o):
            if id(r) in seen or isinstance(r, _SKIP) or _shared_immutable(r, np):
                continue
            if _immutable_atom(r):
                continue  # an atom: int, str, bytes...
            seen.add(id(r))
            order.append(r)
            if len(order) > MAX_PARTS:
                return None
    return order


_ATOMS = (type(None), bool, int, float, complex, str, bytes, range, slice, type(Ellipsis))


def _immutable_atom(o: Any) -> bool:
    """A value with no state to change: numbers, strings, bytes, ``object()`` sentinels,
    numpy scalars, and tuples of those."""
    cls = type(o)
    if cls in _ATOMS or cls is object:
        return True
    if cls is tuple:
        return all(_immutable_atom(x) for x in o)
    np = sys.modules.get("numpy")
    return np is not None and isinstance(o, (np.generic, np.dtype)) and not isinstance(o, np.void)


def _shared_immutable(o: Any, np: Any) -> bool:
    """Dtypes: shared between values, immutable."""
    if np is not None and isinstance(o, np.dtype):
        return True
    pd = sys.modules.get("pandas")
    return pd is not None and isinstance(o, pd.api.extensions.ExtensionDtype)


# -- installing the tracked namespace ----------------------------------------------------
_trackers: dict[int, Tracker] = {}


def tracker_for(shell: Any) -> Tracker | None:
    """The shell's tracker, or None when tracking is off (then every check rehashes)."""
    t = _trackers.get(id(shell))
    if t is None or t.shell is not shell or not t.active or shell.user_ns is not t.ns:
        return None
    if not enabled_by_config():
        return None
    return t


def install(shell: Any, *, now: bool = False) -> None:
    """Run the shell's cells in a :class:`TrackedNamespace` from the next cell on.

    The swap happens after the cell that loads the extension (that cell keeps running in
    the old dict), or at once with ``now`` (no user cell running). It is refused --
    tracking stays off -- when code defined before holds the old namespace as its
    globals (functions, generators, frames): they would go on reading and writing the
    old dict.
    """
    if not enabled_by_config() or id(shell) in _trackers:
        return
    if isinstance(shell.user_ns, TrackedNamespace):
        _start(shell, shell.user_ns)
        return
    if now:  # no user cell is running (mlvc's own request before the first cell)
        _swap(shell)
        return

    def swap(result: Any = None) -> None:
        with contextlib.suppress(ValueError):
            shell.events.unregister("post_run_cell", swap)
        _swap(shell)

    shell.events.register("post_run_cell", swap)


def _swap(shell: Any) -> None:
    old = shell.user_ns
    if isinstance(old, TrackedNamespace) or shell.user_global_ns is not old:
        return
    holders = (
        types.FunctionType,
        types.FrameType,
        types.GeneratorType,
        types.CoroutineType,
        types.AsyncGeneratorType,
    )
    # the frames of this call (mlvc's own request among them), and the functions Python
    # makes to run a module's code (exec): they end with the request
    running: set[int] = set()
    frame: types.FrameType | None = sys._getframe()
    while frame is not None:
        running.add(id(frame))
        if frame.f_code.co_name == "<module>":
            running.add(id(frame.f_code))
        frame = frame.f_back

    def ours(r: Any) -> bool:
        if isinstance(r, types.FunctionType):
            return id(r.__code__) in running
        return id(r) in running

    if any(isinstance(r, holders) and not ours(r) for r in gc.get_referrers(old)):
        return  # tracking stays off
    ns = TrackedNamespace(dict.items(old))
    hidden = shell.user_ns_hidden
    shell.init_create_namespaces(user_module=None, user_ns=ns)
    shell.user_ns_hidden = hidden
    shell.init_sys_modules()
    completer = getattr(shell, "Completer", None)
    if completer is not None:
        completer.namespace = ns
        completer.global_namespace = ns
    _start(shell, ns)


def _start(shell: Any, ns: TrackedNamespace) -> None:
    t = Tracker(shell, ns)
    _trackers[id(shell)] = t
    shell.events.register("pre_run_cell", t.pre_run_cell)
    shell.events.register("post_run_cell", t.post_run_cell)
    kernel = getattr(shell, "kernel", None)
    handlers = getattr(kernel, "shell_handlers", None)
    if isinstance(handlers, dict):
        for name in ("comm_open", "comm_msg", "comm_close"):
            h = handlers.get(name)
            if h is not None and not getattr(h, "_mlvc_dirty", False):
                handlers[name] = _wrap(h, t)


def _wrap(handler: Any, t: Tracker) -> Any:
    import inspect

    if inspect.iscoroutinefunction(handler):

        async def wrapped_async(*args: Any, **kwargs: Any) -> Any:
            try:
                return await handler(*args, **kwargs)
            finally:
                t.event()

        wrapped_async._mlvc_dirty = True  # type: ignore[attr-defined]
        return wrapped_async

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            return handler(*args, **kwargs)
        finally:
            t.event()

    wrapped._mlvc_dirty = True  # type: ignore[attr-defined]
    return wrapped


def uninstall(shell: Any) -> None:
    """Stop tracking (the namespace stays a :class:`TrackedNamespace`; no check trusts it)."""
    t = _trackers.pop(id(shell), None)
    if t is not None:
        t.active = False
        t.clean = {}
        for event, fn in (("pre_run_cell", t.pre_run_cell), ("post_run_cell", t.post_run_cell)):
            with contextlib.suppress(ValueError):
                shell.events.unregister(event, fn)
