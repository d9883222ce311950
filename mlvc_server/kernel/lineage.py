"""Automatic data lineage: the files the user's code reads inside the project.

An audit hook (:func:`sys.addaudithook`) sees every ``open`` event of the kernel process:
``open()``, ``io.open``, ``os.open``, ``pathlib`` reads, and the reads of libraries that
open files from Python (``pandas.read_csv``, ``numpy.load``, ``torch.load``...). Files
opened for reading inside the project folder are remembered and hashed into the next
commit's ``data``, so a commit lists what it was trained on without ``%mlvc track``.

The hook runs for every audit event of the process, so its fast path is a string
comparison and a dict lookup: events other than ``open`` return at once, and paths found
to be of no interest the first time (outside the project: the standard library, an
external virtualenv; Python files, which every import opens) are remembered and return
after one lookup. What remains is filtered once per commit
(:meth:`DataLineage.files`): hidden folders (``.mlvc``, ``.ipynb_checkpoints``, ``.venv``,
``.git``), ``site-packages`` and other environments inside the project, the notebook
itself, and every file the user's code wrote (opened with ``w``, ``a``, ``x`` or ``+``).

The files written are a commit's *outputs* (:meth:`DataLineage.outputs`): those written
since the last commit are hashed into its record's ``outputs``, so another notebook that
reads one of them links back to the commit that wrote it (``mlvc lineage``).

Readers that bypass Python's ``open`` (pyarrow's C++ filesystem behind
``pd.read_parquet``, polars, ``h5py``, safetensors) are seen through their entry
points, wrapped by :mod:`.readers` when they are imported; ``%mlvc track`` covers what
remains (a reader called through a name imported before lineage started, a C extension
of your own).
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Iterable, Iterator
from typing import Any, Final

__all__ = ["DataLineage", "lineage"]

#: File suffixes that imports open (sources are recorded separately, as ``sources``).
_CODE_SUFFIXES: Final[tuple[str, ...]] = (".py", ".pyc", ".pyi", ".pyd", ".so")
#: The flags of ``os.open`` that mean writing.
_WRITE_FLAGS: Final = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC
_MAX_PATHS: Final = 100_000


class DataLineage:
    """Remembers the project files this process opened for reading (and for writing).

    One instance per process (:data:`lineage`); its hook is installed once (audit hooks
    cannot be removed) and does nothing while :attr:`enabled` is False.

    Attributes:
        enabled: whether the hook records anything.
        reads: absolute paths opened for reading while enabled.
        writes: absolute paths opened for writing while enabled (never data inputs).
        written: the paths of :attr:`writes` opened since the last commit took them as
            its outputs (:meth:`outputs_taken`).
    """

    def __init__(self) -> None:
        self.enabled = False
        self.reads: set[str] = set()
        self.writes: set[str] = set()
        self.written: set[str] = set()
        self._prefix = ""
        self._installed = False
        self._local = threading.local()
        #: Paths (as given to ``open``) known to be of no interest: outside the project
        #: or code. Absolute ones only, so a change of directory cannot make one wrong.
        self._skip: dict[Any, None] = {}

    # -- the hook ---------------------------------------------------------------------
    def install(self, root: str | os.PathLike[str]) -> None:
        """Start recording opens below ``root`` (installs the audit hook on first call).

        Args:
            root: the project folder.
        """
        self.set_root(root)
        self.enabled = True
        if not self._installed:
            sys.addaudithook(self._make_hook())
            self._installed = True
            from . import readers

            readers.install(self.record_read)

    def record_read(self, path: str | os.PathLike[str]) -> None:
        """Record a read that the audit hook cannot see (a wrapped reader's, see
        :mod:`.readers`).

        Args:
            path: the file, absolute or relative to the current directory.
        """
        if not self.enabled or getattr(self._local, "paused", False):
            return
        absolute = os.path.abspath(os.fspath(path))
        if not absolute.startswith(self._prefix) or absolute.endswith(_CODE_SUFFIXES):
            return
        if absolute not in self.writes and len(self.reads) < _MAX_PATHS:
            self.reads.add(absolute)

    def set_root(self, root: str | os.PathLike[str]) -> None:
        """Record opens below ``root`` from now on (the project folder moved or was found).

        Args:
            root: the project folder.
        """
        prefix = os.path.join(os.path.abspath(os.fspath(root)), "")
        if prefix != self._prefix:
            self._prefix = prefix
            self._skip.clear()

    def _make_hook(self) -> Any:
        skip, seen = self._skip, self._seen

        def hook(event: str, args: tuple[Any, ...]) -> None:
            # Every audit event of the process comes here: the fast path is one string
            # comparison, then one dict lookup for files opened before (the standard
            # library, site-packages, anything outside the project).
            if event != "open":
                return
            try:
                if args[0] in skip:
                    return
            except TypeError:  # an unhashable path-like
                pass
            seen(*args)

        return hook

    def _seen(self, path: Any, mode: str | None, flags: int) -> None:
        """An ``open`` of ``path`` not known to be of no interest."""
        if not self.enabled or isinstance(path, int) or path is None:
            return  # an int is a file descriptor: opened (and seen) before
        given = path
        try:
            path = os.fsdecode(os.fspath(path))
        except TypeError:
            return
        absolute = os.path.isabs(path)
        if not absolute:
            path = os.path.join(os.getcwd(), path)
        if not path.startswith(self._prefix) or path.endswith(_CODE_SUFFIXES):
            if absolute and len(self._skip) < _MAX_PATHS:
                with contextlib.suppress(TypeError):
                    self._skip[given] = None
            return
        if getattr(self._local, "paused", False):
            return
        # os.open gives no mode: only its flags say
        writing = bool(flags & _WRITE_FLAGS) if mode is None else "r" not in mode or "+" in mode
        if writing:
            self.writes.add(path)
            if len(self.written) < _MAX_PATHS:
                self.written.add(path)
            self.reads.discard(path)
        elif path not in self.writes and len(self.reads) < _MAX_PATHS:
            self.reads.add(path)

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """Don't record the opens of this thread inside the block (mlvc's own reads)."""
        previous = getattr(self._local, "paused", False)
        self._local.paused = True
        try:
            yield
        finally:
            self._local.paused = previous

    def clear(self) -> None:
        """Forget every path recorded so far."""
        self.reads.clear()
        self.writes.clear()
        self.written.clear()

    # -- what a commit records --------------------------------------------------------
    def files(self, root: str | os.PathLike[str], exclude: Iterable[str] = ()) -> list[str]:
        """The data files read so far that a commit of ``root`` should record.

        Args:
            root: the project folder (the store's root).
            exclude: absolute paths to leave out (the notebook).

        Returns:
            POSIX paths relative to ``root`` of files that still exist, sorted.
        """
        writes = self.writes
        return _project_files([p for p in list(self.reads) if p not in writes], root, exclude)

    def outputs(self, root: str | os.PathLike[str], exclude: Iterable[str] = ()) -> list[str]:
        """The files written since the last commit took its outputs, that a commit of
        ``root`` should record as outputs (the same files :meth:`files` would keep).

        Args:
            root: the project folder (the store's root).
            exclude: absolute paths to leave out (the notebook).

        Returns:
            POSIX paths relative to ``root`` of files that still exist, sorted.
        """
        return _project_files(list(self.written), root, exclude)

    def outputs_taken(self, root: str | os.PathLike[str], taken: Iterable[str]) -> None:
        """A commit recorded these outputs (relative to ``root``): they are no longer
        written since the last commit (until written again)."""
        base = os.path.abspath(os.fspath(root))
        real = {os.path.realpath(os.path.join(base, p)) for p in taken}
        self.written = {p for p in self.written if os.path.realpath(p) not in real}


def _project_files(
    paths: Iterable[str], root: str | os.PathLike[str], exclude: Iterable[str]
) -> list[str]:
    """Of ``paths`` (absolute), the files of the project ``root`` a commit records: inside
    it, not hidden, not in an environment or a library, not excluded, still existing.

    Returns:
        POSIX paths relative to ``root``, sorted.
    """
    from ..capture import sources

    real_root = os.path.realpath(os.fspath(root))
    skip = {os.path.realpath(p) for p in exclude}
    libraries = sources.library_roots()
    out: set[str] = set()
    for path in paths:
        real = os.path.realpath(path)
        if real in skip or not sources.inside(real, real_root) or real == real_root:
            continue
        if any(sources.inside(real, lib) for lib in libraries):
            continue
        if not os.path.isfile(real):
            continue
        rel = os.path.relpath(real, real_root)
        if _excluded(rel, real_root, sources):
            continue
        out.add(rel.replace(os.sep, "/"))
    return sorted(out)


def _excluded(rel: str, real_root: str, sources: Any) -> bool:
    """Whether a file (relative to the root) lies in a hidden folder or an environment."""
    parts = rel.split(os.sep)
    if parts[-1].startswith("."):
        return True
    folder = real_root
    for part in parts[:-1]:
        if part.startswith(".") or part in sources.EXCLUDED_DIRS:
            return True
        folder = os.path.join(folder, part)
        if sources.is_env_dir(folder):
            return True
    return False


#: The process's lineage recorder (one audit hook per process).
lineage = DataLineage()
