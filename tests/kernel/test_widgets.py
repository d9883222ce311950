"""The rich output of the magics: the history widget, diffs and the progress indicator."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import nbformat
import numpy as np
import pytest

import mlvc_server as mlvc
from mlvc_server.errors import TrustError
from mlvc_server.kernel import widgets


class FakeShell:
    """Stands in for the kernel's shell: a namespace and a kernel attribute."""

    def __init__(self, kernel: bool = True) -> None:
        self.user_ns: dict[str, Any] = {}
        self.kernel = object() if kernel else None

    def push(self, values: dict[str, Any]) -> None:
        self.user_ns.update(values)


class FakeHandle:
    def __init__(self) -> None:
        self.updates: list[Any] = []

    def update(self, obj: Any, **kwargs: Any) -> None:
        self.updates.append(obj)


@pytest.fixture
def project(tmp_path: Path) -> dict[str, Any]:
    nb = tmp_path / "train.ipynb"
    nbformat.write(nbformat.v4.new_notebook(), nb)
    w = np.zeros(50)
    first = mlvc.commit(
        "first", variables={"w": w, "lr": 0.1}, notebook=nb, params={"C": 1.0}, repo=tmp_path
    )
    w2 = w.copy()
    w2[:5] = 2.0
    second = mlvc.commit(
        "second", variables={"w": w2, "lr": 0.3}, notebook=nb, params={"C": 0.5}, repo=tmp_path
    )
    third = mlvc.commit(
        "third",
        variables={"w": w2, "lr": 0.3},
        notebook=nb,
        params={"C": 0.5},
        metrics={"acc": 0.9},
        repo=tmp_path,
    )
    return {
        "root": str(tmp_path),
        "nb": str(nb),
        "ids": [third, second, first],
        "log": mlvc.log(repo=tmp_path, notebook=nb),
    }


def _view(project: dict[str, Any]) -> widgets.LogView:
    return widgets.LogView(project["log"], repo=project["root"], notebook=project["nb"])


def _html_output(view: widgets.LogView) -> str:
    (out,) = view.output.outputs
    assert out["output_type"] == "display_data"
    html: str = out["data"]["text/html"]
    assert out["data"]["text/plain"]
    return html


def _text_output(view: widgets.LogView) -> str:
    (out,) = view.output.outputs
    return str(out.get("text") or out["data"]["text/plain"])


def test_history_widget_diffs_the_two_picked_commits(project: dict[str, Any]) -> None:
    view = _view(project)
    assert len(view.checkboxes) == 3
    assert view.diff_button.disabled and view.restore_button.disabled
    assert view.more_button.layout.display == "none"  # everything is shown

    view.checkboxes[0].value = True  # third (newest)
    view.checkboxes[2].value = True  # first
    assert not view.diff_button.disabled
    assert view.restore_button.disabled  # restore needs exactly one

    view.diff_button.click()
    html = _html_output(view)
    # Older → newer, whatever order they were picked in.
    assert f"{project['ids'][2][:8]}</span> first → " in html
    assert "1 → 0.5 (-0.5)" in html  # param C
    assert "10% of values changed" in html  # w


def test_a_third_pick_drops_the_first_one(project: dict[str, Any]) -> None:
    view = _view(project)
    view.checkboxes[1].value = True
    view.checkboxes[2].value = True
    view.checkboxes[0].value = True
    assert [c.value for c in view.checkboxes] == [True, False, True]
    assert [c["id"] for c in view.picked] == [project["ids"][0], project["ids"][2]]


def test_diff_of_one_picked_commit_is_against_its_parent(project: dict[str, Any]) -> None:
    view = _view(project)
    view.checkboxes[1].value = True  # second: parent is first
    view.diff_button.click()
    html = _html_output(view)
    assert f"{project['ids'][2][:8]}</span> first" in html and "0.1 → 0.3" in html

    view.checkboxes[1].value = False
    view.checkboxes[2].value = True  # the root commit has no parent
    view.diff_button.click()
    assert "no parent" in _text_output(view)


def test_restore_puts_the_variables_into_the_namespace(
    project: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    shell = FakeShell()
    monkeypatch.setattr(widgets, "_shell", lambda: shell)
    view = _view(project)
    view.checkboxes[2].value = True
    assert not view.restore_button.disabled
    view.restore_button.click()  # asks first: nothing is overwritten yet
    assert shell.user_ns == {}
    assert view.restore_button.description == "Confirm restore"
    assert "Variables with these names are replaced" in _text_output(view)
    view.restore_button.click()
    assert shell.user_ns["lr"] == 0.1
    np.testing.assert_array_equal(shell.user_ns["w"], np.zeros(50))
    assert _text_output(view) == f"Restored 2 variables from {project['ids'][2][:8]}: lr, w\n"
    assert view.restore_button.description == "Restore variables"


def test_restore_asks_again_after_the_pick_changes(
    project: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    shell = FakeShell()
    monkeypatch.setattr(widgets, "_shell", lambda: shell)
    view = _view(project)
    view.checkboxes[2].value = True
    view.restore_button.click()
    view.checkboxes[2].value = False
    view.checkboxes[1].value = True
    view.restore_button.click()  # a new pick: a new question, not a restore
    assert shell.user_ns == {}
    assert view.restore_button.description == "Confirm restore"


def test_restore_shows_a_trust_error(
    project: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    shell = FakeShell()
    monkeypatch.setattr(widgets, "_shell", lambda: shell)

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise TrustError("'model' is a pickle written by someone else: pass trust=True")

    monkeypatch.setattr(mlvc.service, "load_many", refuse)
    view = _view(project)
    view.checkboxes[0].value = True
    view.restore_button.click()
    view.restore_button.click()
    html = _html_output(view)
    assert "pickle written by someone else" in html
    assert "&#x27;model&#x27;" in html  # escaped
    assert "--jp-error-color1" in html
    assert shell.user_ns == {}


def test_long_histories_show_fifty_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    commits = [
        {"id": f"{i:040x}", "short_id": f"{i:08x}", "message": f"run {i}", "time": ""}
        for i in range(120)
    ]
    view = widgets.LogView(commits)
    assert len(view.checkboxes) == 50
    assert view.more_button.layout.display is None
    assert "50 of 120" in view._note.value
    view.more_button.click()
    view.more_button.click()
    assert len(view.checkboxes) == 120
    assert view.more_button.layout.display == "none"
    # Header row + one row per commit, each a checkbox and an HTML row.
    assert len(view._grid.children) == 2 + 2 * 120


def test_show_log_displays_the_widget_in_a_kernel(
    project: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    import ipywidgets

    shown: list[Any] = []
    monkeypatch.setattr(widgets, "_shell", lambda: FakeShell())
    monkeypatch.setattr(
        widgets, "_display_widget", lambda w, fallback, **kw: shown.append((w, fallback))
    )
    widgets.show_log(project["log"], repo=project["root"], notebook=project["nb"])
    ((widget, fallback),) = shown
    assert isinstance(widget, ipywidgets.VBox)
    # Front ends without widgets (and static views of the notebook) show the table.
    assert fallback["text/html"].startswith("<table")
    assert "third" in fallback["text/plain"]


def test_show_log_and_show_diff_print_text_outside_ipython(
    project: dict[str, Any], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(widgets, "_shell", lambda: None)
    widgets.show_log(project["log"])
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["Commit", "Message", "When", "Branch", "Metrics"]
    assert "third" in out and "acc 0.9" in out

    widgets.show_diff(mlvc.diff(repo=project["root"], notebook=project["nb"]))
    out = capsys.readouterr().out
    assert out.startswith(f"Diff {project['ids'][1][:8]} second → {project['ids'][0][:8]} third")


def test_show_log_without_widgets_displays_html_and_text(
    project: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    bundles: list[dict[str, str]] = []
    monkeypatch.setattr(widgets, "_shell", lambda: FakeShell(kernel=False))
    monkeypatch.setattr(widgets, "_publish", lambda b, **kw: bundles.append(dict(b)))
    widgets.show_log(project["log"])
    (bundle,) = bundles
    assert bundle["text/html"].startswith("<table")
    assert "third" in bundle["text/plain"]


def test_progress_shows_nothing_for_a_fast_block(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(widgets, "_shell", lambda: None)
    with widgets.progress("Committing", delay=0.2):
        pass
    time.sleep(0.3)
    assert capsys.readouterr().out == ""


def test_progress_shows_a_line_for_a_slow_block(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(widgets, "_shell", lambda: None)
    with widgets.progress("Committing", delay=0.02):
        time.sleep(0.3)
    assert capsys.readouterr().out == "Committing…\n"


def test_progress_widget_is_shown_animated_and_removed(monkeypatch: pytest.MonkeyPatch) -> None:
    shown: list[Any] = []
    handle = FakeHandle()

    def display_widget(w: Any, fallback: dict[str, str], **kw: Any) -> FakeHandle:
        assert fallback == {"text/plain": "Restoring <model>…"}
        shown.append(w)
        return handle

    monkeypatch.setattr(widgets, "_shell", lambda: FakeShell())
    monkeypatch.setattr(widgets, "_display_widget", display_widget)
    with widgets.progress("Restoring <model>", delay=0.02):
        time.sleep(0.7)
    (box,) = shown
    bar, label = box.children
    assert bar.value > 0  # it moved
    assert "Restoring &lt;model&gt;…" in label.value
    assert handle.updates == [{"text/plain": ""}]  # replaced by nothing once done
    assert box.comm is None  # closed


def test_progress_removes_the_indicator_when_the_block_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    handle = FakeHandle()
    monkeypatch.setattr(widgets, "_shell", lambda: FakeShell())
    monkeypatch.setattr(widgets, "_display_widget", lambda w, fallback, **kw: handle)
    with pytest.raises(RuntimeError), widgets.progress("Committing", delay=0.01):
        time.sleep(0.2)
        raise RuntimeError("boom")
    assert handle.updates == [{"text/plain": ""}]


def test_in_a_real_kernel_the_output_lands_in_the_running_cell(tmp_path: Path) -> None:
    """Widgets, diffs and the progress bar (shown from a thread) go to the cell's output."""
    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(kernel_name="python3", cwd=str(tmp_path))
    try:
        code = """
import sys, time, numpy as np, nbformat
import mlvc_server as mlvc
from mlvc_server.kernel import widgets
nbformat.write(nbformat.v4.new_notebook(), "t.ipynb")
mlvc.commit("one", variables={"a": np.zeros(3)}, notebook="t.ipynb")
mlvc.commit("two", variables={"a": np.ones(3)}, notebook="t.ipynb")
print(sys.executable)
with widgets.progress("Committing", delay=0.05):
    time.sleep(0.6)
widgets.show_diff(mlvc.diff(notebook="t.ipynb"))
widgets.show_log(mlvc.log(notebook="t.ipynb"), notebook="t.ipynb")
"""
        msgs: list[dict[str, Any]] = []
        reply = kc.execute_interactive(code, output_hook=msgs.append, timeout=60)
        assert reply["content"]["status"] == "ok", reply["content"]
        stdout = "".join(m["content"]["text"] for m in msgs if m["msg_type"] == "stream")
        assert stdout.strip().startswith(str(Path(__import__("sys").executable).parent.parent))
        displays = [m for m in msgs if m["msg_type"] == "display_data"]
        kinds = [sorted(m["content"]["data"]) for m in displays]
        widget_view = "application/vnd.jupyter.widget-view+json"
        # 1: the progress bar (a widget, shown by the timer thread, in this cell).
        assert widget_view in kinds[0]
        progress_id = displays[0]["content"]["transient"]["display_id"]
        updates = [m for m in msgs if m["msg_type"] == "update_display_data"]
        assert any(
            u["content"]["transient"]["display_id"] == progress_id
            and u["content"]["data"] == {"text/plain": ""}
            for u in updates
        )
        # 2: the diff as HTML + text; 3: the history widget.
        assert "100% of values changed" in displays[1]["content"]["data"]["text/plain"]
        assert "text/html" in displays[1]["content"]["data"]
        assert widget_view in kinds[2]
        assert "text/html" in kinds[2]  # the table, for front ends without widgets
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
