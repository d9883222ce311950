"""Rich output of the ``%mlvc`` magics: the commit history, diffs and a progress indicator.

In a kernel with ipywidgets, :func:`show_log` shows an interactive table: pick two commits
and press *Diff* to see their diff below it, or pick one and press *Restore variables* to
put its variables back into the kernel's namespace. Without ipywidgets (or outside a
kernel) the same table is displayed as HTML with an aligned ``text/plain`` fallback.

Importing this module is cheap: IPython, ipywidgets and the service layer are imported
only when a function needs them.
"""

from __future__ import annotations

import contextlib
import contextvars
import importlib
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from ..errors import MlvcError
from ..render import (
    LOG_COLUMNS,
    LOG_PAGE,
    log_row_cells,
    render_diff_html,
    render_diff_text,
    render_log_html,
    render_log_text,
)

__all__ = [
    "LogView",
    "progress",
    "render_diff_html",
    "render_diff_text",
    "render_log_html",
    "render_log_text",
    "show_diff",
    "show_log",
]

#: Columns of a history row in the widget view (id, message, when, branch, metrics).
_ROW_GRID = "7em minmax(12em, 2fr) 6.5em minmax(5em, 8em) minmax(8em, 1.5fr)"
_ROW_STYLE = (
    f"display:grid;grid-template-columns:{_ROW_GRID};gap:0 10px;align-items:baseline;"
    "padding-top:4px;"
    "font-family:var(--jp-ui-font-family);font-size:var(--jp-ui-font-size1);"
    "color:var(--jp-ui-font-color1);line-height:1.6;"
)
_HEAD_STYLE = (
    "font-weight:600;color:var(--jp-ui-font-color2);"
    "border-bottom:var(--jp-border-width) solid var(--jp-border-color2);"
)
_ERROR_STYLE = "color:var(--jp-error-color1);white-space:pre-wrap;"


# -- environment -------------------------------------------------------------------------
def _shell() -> Any:
    """The running IPython shell, or None outside IPython."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a dependency of the kernel
        return None
    return get_ipython()


def _widgets() -> ModuleType | None:
    """ipywidgets, when it is installed and a kernel (which has a front end) runs us."""
    if getattr(_shell(), "kernel", None) is None:
        return None
    try:
        return importlib.import_module("ipywidgets")
    except ImportError:
        return None


def _publish(bundle: Mapping[str, str], *, display_id: bool = False) -> Any:
    """Display a MIME bundle; outside IPython print its text. Returns the display handle."""
    if _shell() is None:
        print(bundle.get("text/plain", ""))
        return None
    return _display()(dict(bundle), raw=True, display_id=True if display_id else None)


def _display_widget(widget: Any, fallback: Mapping[str, str], *, display_id: bool = False) -> Any:
    """Display a widget with ``fallback`` (HTML, text) for front ends without widgets.

    The fallback is also what a saved notebook shows where the widget cannot live again
    (nbconvert, GitHub, a reopened notebook without the widget state).
    """
    bundle = dict(widget._repr_mimebundle_() or {})
    bundle.update(fallback)
    return _display()(bundle, raw=True, display_id=True if display_id else None)


def _display() -> Callable[..., Any]:
    from IPython.display import display

    return display


# -- diff --------------------------------------------------------------------------------
def diff_bundle(diff: Mapping[str, Any]) -> dict[str, str]:
    """The MIME bundle of a diff: ``text/html`` and ``text/plain``."""
    return {"text/html": render_diff_html(diff), "text/plain": render_diff_text(diff)}


def show_diff(diff: Mapping[str, Any]) -> None:
    """Display a diff (the structure of :func:`mlvc_server.service.diff`).

    Changed values read ``a → b (+delta)``; variables show type, shape and dtype and how
    much of them changed; unchanged items are counted.
    """
    _publish(diff_bundle(diff))


# -- history -----------------------------------------------------------------------------
def log_bundle(commits: Sequence[Mapping[str, Any]], *, page: int = LOG_PAGE) -> dict[str, str]:
    """The MIME bundle of a history: an HTML table and aligned text of the newest ``page``."""
    return {
        "text/html": render_log_html(commits, limit=page),
        "text/plain": render_log_text(commits, limit=page),
    }


def show_log(
    commits: list[dict[str, Any]],
    *,
    repo: str | None = None,
    notebook: str | None = None,
    page: int = LOG_PAGE,
) -> None:
    """Display the commit history (summaries from :func:`mlvc_server.service.log`).

    With ipywidgets in a kernel: a table where two commits can be picked and diffed, and
    one restored into the namespace (see :class:`LogView`). Otherwise an HTML table with
    a plain-text fallback.

    Args:
        commits: commit summaries, newest first.
        repo: the project the commits belong to (for Diff and Restore).
        notebook: the notebook whose history this is (for Diff and Restore).
        page: how many commits to show at first (the widget's *Show more* adds as many).
    """
    if _widgets() is None or not commits:
        _publish(log_bundle(commits, page=page))
        return
    view = LogView(commits, repo=repo, notebook=notebook, page=page)
    _display_widget(view.widget, log_bundle(commits, page=page))


def _row_html(cells: Sequence[str], *, head: bool = False) -> str:
    style = _ROW_STYLE + (_HEAD_STYLE if head else "")
    inner = "".join(f'<div style="overflow:hidden;text-overflow:ellipsis">{c}</div>' for c in cells)
    return f'<div style="{style}">{inner}</div>'


class LogView:
    """The interactive history: one checkbox per commit, Diff and Restore buttons.

    Checking a third commit unchecks the one checked first, so at most two are picked.
    *Diff* compares the two picked commits (older → newer), or one commit with its
    parent; *Restore variables* loads the picked commit's variables into the kernel's
    namespace. Results and errors appear in :attr:`output`.

    Attributes:
        widget: the top-level widget to display.
        checkboxes: one per shown commit, in the order of ``commits``.
        diff_button, restore_button, more_button: the actions.
        output: where diffs and messages appear.
    """

    def __init__(
        self,
        commits: Sequence[Mapping[str, Any]],
        *,
        repo: str | None = None,
        notebook: str | None = None,
        page: int = LOG_PAGE,
    ) -> None:
        w = importlib.import_module("ipywidgets")
        self._w = w
        self._commits = list(commits)
        self._repo = repo or "."
        self._notebook = notebook
        self._page = page
        self._picked: list[int] = []  # indices into commits, in the order checked
        self._confirming: str | None = None  # the commit a restore waits to confirm
        self.checkboxes: list[Any] = []
        self._grid = w.GridBox(
            [w.HTML(""), w.HTML(_row_html(LOG_COLUMNS, head=True))],
            layout=w.Layout(grid_template_columns="28px 1fr", align_items="flex-start"),
        )
        self.diff_button = w.Button(
            description="Diff",
            tooltip="Diff the two checked commits, or the checked one with its parent",
            disabled=True,
        )
        self.restore_button = w.Button(
            description="Restore variables",
            tooltip="Load the checked commit's variables into the kernel",
            disabled=True,
        )
        self.more_button = w.Button(description="Show more", tooltip="Show older commits")
        self._note = w.HTML("")
        self.output = w.Output()
        self.diff_button.on_click(lambda _b: self.diff())
        self.restore_button.on_click(lambda _b: self.restore())
        self.more_button.on_click(lambda _b: self.show_more())
        self.widget = w.VBox(
            [
                self._grid,
                w.HBox(
                    [self.diff_button, self.restore_button, self.more_button, self._note],
                    layout=w.Layout(align_items="center", margin="4px 0 0 0"),
                ),
                self.output,
            ]
        )
        self.show_more()

    # -- rows ------------------------------------------------------------------------------
    def show_more(self) -> None:
        """Add the next page of older commits to the table."""
        w = self._w
        start = len(self.checkboxes)
        children = list(self._grid.children)
        for i, commit in enumerate(self._commits[start : start + self._page], start):
            box = w.Checkbox(
                value=False,
                indent=False,
                tooltip=f"Pick {commit.get('short_id', '')}",
                layout=w.Layout(width="24px", margin="0"),
            )
            box.observe(lambda change, i=i: self._on_check(i, change["new"]), names="value")
            self.checkboxes.append(box)
            children += [box, w.HTML(_row_html(log_row_cells(commit)))]
        self._grid.children = tuple(children)
        shown, total = len(self.checkboxes), len(self._commits)
        self.more_button.layout.display = None if shown < total else "none"
        self._note.value = (
            f'<span style="color:var(--jp-ui-font-color2)">{shown} of {total} commits</span>'
            if shown < total
            else ""
        )

    def _on_check(self, index: int, checked: bool) -> None:
        if checked and index not in self._picked:
            self._picked.append(index)
            while len(self._picked) > 2:
                self.checkboxes[self._picked[0]].value = False  # fires _on_check(…, False)
        elif not checked and index in self._picked:
            self._picked.remove(index)
        self.diff_button.disabled = not self._picked
        self.restore_button.disabled = len(self._picked) != 1
        if self._confirming is not None:
            self._confirming = None
            self.restore_button.description = "Restore variables"

    @property
    def picked(self) -> list[dict[str, Any]]:
        """The checked commits, newest first."""
        return [dict(self._commits[i]) for i in sorted(self._picked)]

    # -- actions -----------------------------------------------------------------------------
    def _show(self, output: dict[str, Any]) -> None:
        self.output.outputs = (output,)

    def _message(self, text: str, *, error: bool = False) -> None:
        if error:
            from html import escape

            self._show(
                {
                    "output_type": "display_data",
                    "data": {
                        "text/html": f'<div style="{_ERROR_STYLE}">{escape(text)}</div>',
                        "text/plain": text,
                    },
                    "metadata": {},
                }
            )
        else:
            self._show({"output_type": "stream", "name": "stdout", "text": text + "\n"})

    def diff(self) -> None:
        """Show the diff of the checked commits below the table."""
        from ..errors import MlvcError
        from ..service import diff

        picked = self.picked
        if len(picked) == 2:
            a, b = picked[1]["id"], picked[0]["id"]
        elif len(picked) == 1 and picked[0].get("parents"):
            a, b = picked[0]["parents"][0], picked[0]["id"]
        elif len(picked) == 1:
            self._message("This commit has no parent: pick a second commit to diff with.")
            return
        else:
            self._message("Pick one or two commits first.")
            return
        try:
            d = diff(a, b, repo=self._repo, notebook=self._notebook, cells=False)
        except MlvcError as e:
            self._message(str(e), error=True)
            return
        self._show({"output_type": "display_data", "data": diff_bundle(d), "metadata": {}})

    def restore(self) -> None:
        """Restore the checked commit's variables into the kernel's namespace, after a
        confirmation: the first click says what will be overwritten, the second
        (*Confirm restore*) restores, committing the current variables first when they
        differ from HEAD (the kernel session's one restore)."""
        from .session import session_for

        picked = self.picked
        if len(picked) != 1:
            self._message("Pick exactly one commit to restore.")
            return
        commit = picked[0]
        shell = _shell()
        if shell is None:
            self._message("Variables can only be restored inside IPython.", error=True)
            return
        short = commit.get("short_id") or str(commit["id"])[:8]
        names = list(commit.get("variables") or [])
        if self._confirming != commit["id"]:
            self._confirming = commit["id"]
            self.restore_button.description = "Confirm restore"
            listed = ", ".join(names) if names else "its variables"
            self._message(
                f"Restore {listed} from {short}? Variables with these names are replaced; "
                "your current variables are committed first if they changed. "
                "Click Confirm restore."
            )
            return
        self._confirming = None
        self.restore_button.description = "Restore variables"
        try:
            done = session_for(shell).restore(
                commit["id"],
                None,
                trust=False,
                notebook=self._notebook,
                root=Path(self._repo),
                safety=True,
            )
        except MlvcError as e:
            self._message(str(e), error=True)
            return
        if done.failed and not done.restored:
            self._message("; ".join(str(e) for e in done.failed.values()), error=True)
            return
        n = len(done.restored)
        noun = "variable" if n == 1 else "variables"
        text = f"Restored {n} {noun} from {short}: {', '.join(sorted(done.restored)) or '(none)'}"
        if done.safety_commit:
            text += f" (your state was saved as {done.safety_commit[:8]} first)"
        for name, err in done.failed.items():
            text += f"\nnot restored {name}: {err}"
        self._message(text)


# -- progress ----------------------------------------------------------------------------
class _Indicator:
    """A shown progress indicator: a widget in a kernel, a text line elsewhere."""

    def __init__(self, description: str) -> None:
        self._description = description
        self._start = time.monotonic()
        self._handle: Any = None
        self._bar: Any = None
        self._label: Any = None
        w = _widgets()
        if w is not None:
            self._bar = w.IntProgress(
                value=0, min=0, max=100, bar_style="info", layout=w.Layout(width="12em")
            )
            self._label = w.HTML(self._text(1.0))
            self._box = w.HBox([self._bar, self._label], layout=w.Layout(align_items="center"))
            self._handle = _display_widget(
                self._box, {"text/plain": f"{description}…"}, display_id=True
            )
        else:
            self._handle = _publish({"text/plain": f"{description}…"}, display_id=True)

    def _text(self, elapsed: float) -> str:
        from html import escape

        return f"⏳ {escape(self._description)}… {elapsed:.0f} s"

    def tick(self) -> None:
        """Advance the bar (a bouncing, indeterminate bar) and the elapsed time."""
        if self._bar is not None:
            self._bar.value = (self._bar.value + 10) % 110
            self._label.value = self._text(time.monotonic() - self._start)

    def close(self) -> None:
        """Remove the indicator from the output."""
        if self._handle is not None:
            self._handle.update({"text/plain": ""}, raw=True)
        if self._bar is not None:
            self._box.close()
            self._bar.close()
            self._label.close()


@contextlib.contextmanager
def progress(description: str, *, delay: float = 1.0) -> Iterator[None]:
    """Show a progress indicator while the block runs, if it runs longer than ``delay`` s.

    A timer thread displays the indicator after ``delay`` seconds (in the output of the
    cell that runs the block) and animates it; it is removed when the block ends. A block
    that ends sooner displays nothing.

    Args:
        description: what is going on, e.g. ``"Committing 3 variables"``.
        delay: seconds to wait before showing anything.
    """
    done = threading.Event()
    lock = threading.Lock()
    shown: list[_Indicator] = []

    def reveal() -> None:
        if done.wait(delay):
            return
        with lock:
            if done.is_set():
                return
            indicator = _Indicator(description)
            shown.append(indicator)
        while not done.wait(0.25):
            indicator.tick()

    # The copied context carries the kernel's parent header, so the indicator appears in
    # the output of the cell that runs the block.
    context = contextvars.copy_context()
    timer = threading.Thread(target=context.run, args=(reveal,), name="mlvc-progress", daemon=True)
    timer.start()
    try:
        yield
    finally:
        with lock:
            done.set()
        timer.join(timeout=5)
        for indicator in shown:
            indicator.close()
