"""What the magics show: the widgets views when they are there, plain text otherwise.

:mod:`mlvc_server.kernel.widgets` renders ipywidgets (or HTML) views of the log and of a
diff, and a progress indicator. The magics go through the functions here, which fall
back to the CLI's text output when that module (or one of its functions) is missing.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator, Mapping, Sequence
from types import ModuleType
from typing import Any

__all__ = ["error", "progress", "show_compare", "show_diff", "show_log", "show_status"]


def _widgets() -> ModuleType | None:
    try:
        from . import widgets
    except ModuleNotFoundError as e:
        if e.name != f"{__package__}.widgets":
            raise
        return None
    return widgets


def show_log(commits: Sequence[Mapping[str, Any]], *, repo: str, notebook: str | None) -> None:
    """Show commit summaries, newest first.

    Args:
        commits: what :func:`mlvc_server.service.log` returned.
        repo: the project root.
        notebook: the notebook's path (None: every notebook).
    """
    w = _widgets()
    fn = getattr(w, "show_log", None)
    if fn is not None:
        fn(commits, repo=repo, notebook=notebook)
        return
    from ..render import log_text

    print(log_text(commits))


def show_diff(diff: Mapping[str, Any]) -> None:
    """Show a diff (what :func:`mlvc_server.service.diff` returned)."""
    w = _widgets()
    fn = getattr(w, "show_diff", None)
    if fn is not None:
        fn(diff)
        return
    from ..render import render_diff_text

    print(render_diff_text(diff))


def show_compare(
    table: Mapping[str, Any], *, plot: bool = False, series: Mapping[str, Any] | None = None
) -> None:
    """Show a compare table (``service.compare``): an HTML table with the text table as
    ``text/plain``; with ``plot``, Vega-Lite charts after the table: each param against
    each metric, parallel coordinates, and each metric across the steps of the runs
    that logged steps (from ``series``, ``service.series`` of the table's rows)
    (``application/vnd.vegalite.v5+json``, which JupyterLab, Notebook 7 and VS Code
    render)."""
    from IPython import display as ipy_display

    from ..render import compare_html, compare_text, compare_vegalite, steps_vegalite

    display: Any = ipy_display.display
    display({"text/html": compare_html(table), "text/plain": compare_text(table)}, raw=True)
    if plot:
        for kind, what in (
            ("scatter", "params against metrics"),
            ("parallel", "parallel coordinates"),
        ):
            display(
                {
                    "application/vnd.vegalite.v5+json": compare_vegalite(table, kind),
                    "text/plain": f"A Vega-Lite chart: {what} "
                    "(shown by JupyterLab, Notebook 7 and VS Code).",
                },
                raw=True,
            )
        for metric, entry in ((series or {}).get("series") or {}).items():
            spec = steps_vegalite(entry["steps"], metric)
            if spec is not None:
                display(
                    {
                        "application/vnd.vegalite.v5+json": spec,
                        "text/plain": f"A Vega-Lite chart: metrics.{metric} across steps, "
                        "a line per run (shown by JupyterLab, Notebook 7 and VS Code).",
                    },
                    raw=True,
                )


@contextlib.contextmanager
def progress(description: str) -> Iterator[None]:
    """A progress indicator around an operation, shown if it takes more than a second.

    Args:
        description: what is going on ("Committing 12 variables").
    """
    fn = getattr(_widgets(), "progress", None)
    if fn is None:
        yield
        return
    with fn(description):
        yield


def _names(title: str, names: list[str], limit: int = 8) -> str:
    shown = ", ".join(names[:limit]) + (
        f", +{len(names) - limit} more" if len(names) > limit else ""
    )
    return f"{len(names)} {title} ({shown})"


def show_status(st: Mapping[str, Any]) -> None:
    """Print what changed since the last commit (see :meth:`KernelSession.status`)."""
    head = st.get("head")
    where = f"{st['notebook']['path']}, " if st.get("notebook") else ""
    line = f"{where}branch {st['branch']}"
    if head:
        line += f", HEAD {head[:8]} {st.get('head_message', '')!r}"
    else:
        line += ", no commits yet"
    print(line)
    by: dict[str, list[str]] = {}
    for name, s in st["variables"].items():
        by.setdefault(s, []).append(name)
    parts = [_names(s, by[s]) for s in ("changed", "added", "removed") if by.get(s)]
    unchanged = len(by.get("unchanged", []))
    print(
        "Variables: "
        + ("; ".join(parts) if parts else "no changes")
        + (f"; {unchanged} unchanged" if unchanged else "")
    )
    files: dict[str, list[str]] = {}
    for path, s in st["data"].items():
        files.setdefault(s, []).append(path)
    parts = [_names(s, files[s]) for s in ("changed", "added", "missing") if files.get(s)]
    same = len(files.get("unchanged", []))
    if parts or same:
        print(
            "Data: "
            + ("; ".join(parts) if parts else "no changes")
            + (f"; {same} unchanged" if same else "")
        )
    else:
        print("Data: none read or tracked")
    nb = st.get("notebook")
    if nb:
        if not nb.get("exists"):
            print("Notebook: not saved yet")
        elif not nb.get("changed"):
            print("Notebook: no changes")
        else:
            c = nb.get("cells") or {}
            detail = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in c.items() if n)
            print(f"Notebook: changed ({detail or 'metadata only'})")
    for p in st.get("untracked_empty", []):
        print(f"Tracked pattern {p!r} matches no file")


def error(message: str) -> None:
    """Print a one-line warning to stderr (shown red in notebooks)."""
    print(f"mlvc: {message}", file=sys.stderr, flush=True)
