"""Data files tracked by name (``%mlvc track GLOB``), kept per notebook in the store.

Automatic lineage sees the files Python code opens; ``track`` names the others (files
read by C++ readers, a data folder the code lists but reads lazily). The patterns live in
``.mlvc/mlvc/track/<notebook key>.json`` as ``{"patterns": [...]}``, relative to the
project root, and every commit of that notebook hashes the files they match.
"""

from __future__ import annotations

import glob
import json
import os
from pathlib import Path

from ..errors import MlvcError

__all__ = ["existing", "normalize", "track", "tracked", "untrack"]


def _file(root: Path, notebook: str | None) -> Path:
    from ..store.refs import notebook_key

    return (
        root / ".mlvc" / "mlvc" / "track" / (notebook_key(notebook).replace("/", "%2F") + ".json")
    )


def tracked(root: Path, notebook: str | None) -> list[str]:
    """The patterns tracked for a notebook.

    Args:
        root: the project root.
        notebook: the notebook's path relative to the root (None: commits without one).

    Returns:
        The patterns, relative to ``root``, in the order they were added.
    """
    try:
        data = json.loads(_file(root, notebook).read_text())
    except (FileNotFoundError, ValueError):
        return []
    patterns = data.get("patterns", []) if isinstance(data, dict) else []
    return [p for p in patterns if isinstance(p, str)]


def _write(root: Path, notebook: str | None, patterns: list[str]) -> None:
    path = _file(root, notebook)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"patterns": patterns}, indent=1) + "\n")
    os.replace(tmp, path)


def normalize(pattern: str, root: Path, cwd: Path) -> str:
    """A pattern given relative to ``cwd`` (or absolute) made relative to ``root``.

    Args:
        pattern: a path or glob, as the user typed it.
        root: the project root.
        cwd: the folder the user's relative paths start from.

    Returns:
        The POSIX pattern relative to ``root``.

    Raises:
        MlvcError: the pattern points outside the project.
    """
    joined = os.path.normpath(os.path.join(cwd, os.path.expanduser(pattern)))
    rel = os.path.relpath(joined, root.resolve())
    if rel == ".." or rel.startswith(".." + os.sep) or os.path.isabs(rel):
        raise MlvcError(f"{pattern!r} is outside the project folder {root}")
    return rel.replace(os.sep, "/")


def track(root: Path, notebook: str | None, pattern: str) -> bool:
    """Add a pattern; return False if it was already tracked."""
    patterns = tracked(root, notebook)
    if pattern in patterns:
        return False
    _write(root, notebook, [*patterns, pattern])
    return True


def untrack(root: Path, notebook: str | None, pattern: str) -> bool:
    """Remove a pattern; return False if it was not tracked."""
    patterns = tracked(root, notebook)
    if pattern not in patterns:
        return False
    _write(root, notebook, [p for p in patterns if p != pattern])
    return True


def existing(root: Path, patterns: list[str]) -> tuple[list[str], list[str]]:
    """Split patterns into those that match a file now and those that match nothing.

    Args:
        root: the project root.
        patterns: patterns relative to ``root``.

    Returns:
        ``(matching, empty)``.
    """
    matching, empty = [], []
    for p in patterns:
        full = root / p
        if (
            full.is_file()
            or (full.is_dir() and any(f.is_file() for f in full.rglob("*")))
            or any(os.path.isfile(root / m) for m in glob.iglob(p, root_dir=root, recursive=True))
        ):
            matching.append(p)
        else:
            empty.append(p)
    return matching, empty
