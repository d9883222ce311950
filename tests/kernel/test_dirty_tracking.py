"""Dirty tracking in a real kernel: a variable keeps its fingerprint only when provably
untouched since the last check, and every way of changing it is caught.

Each case commits fresh variables, checks once (``%mlvc status``: every variable hashed),
runs the adversarial cell, then checks again: the changed variable must show as changed
(a stale fingerprint would say "unchanged"), and, where it proves the fast path ran, the
untouched ones must have been trusted without hashing.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import pytest
from harness import Kernel

TRACKER = "__import__('mlvc_server.kernel.dirty', fromlist=['x']).tracker_for(get_ipython())"

SETUP = """
import numpy as np, pandas as pd, torch
a = np.arange(8.0)
other = np.zeros(5)
df = pd.DataFrame({"x": np.arange(6), "y": np.linspace(0, 1, 6)})
"""


@pytest.fixture(scope="module")
def k(kernel_factory: Any) -> Kernel:
    k = kernel_factory()
    k.run("%load_ext mlvc_server")
    assert k.value("type(get_ipython().user_ns).__name__") == "TrackedNamespace"
    return k


def _changed(text: str) -> set[str]:
    line = next(ln for ln in text.splitlines() if ln.startswith("Variables:"))
    out: set[str] = set()
    for kind in ("changed", "added", "removed"):
        m = re.search(rf"\d+ {kind} \(([^)]*)\)", line)
        if m:
            out |= {n.strip() for n in m.group(1).split(",")}
    return out


def check_after(k: Kernel, setup: str, cell: str) -> tuple[set[str], set[str], str]:
    """Commit ``SETUP`` + ``setup``, check, run ``cell``, check again.

    Returns:
        (variables reported changed/added/removed, names the last check trusted, why it
        rehashed everything).
    """
    k.run(SETUP + setup)
    k.run("%mlvc commit -m setup")
    k.run("%mlvc status")  # a check after the commit's: all hashed, none read since
    k.run(cell)
    changed = _changed(k.run("%mlvc status").stdout)
    trusted, why = k.value(f"(sorted({TRACKER}.trusted), {TRACKER}.why)")
    return changed, set(trusted), why


def test_untouched_variables_are_trusted_without_hashing(k: Kernel) -> None:
    changed, trusted, why = check_after(k, "", "pass")
    assert changed == set()
    assert {"a", "other", "df"} <= trusted, why


def test_in_place_numpy_edit(k: Kernel) -> None:
    changed, trusted, _ = check_after(k, "", "a[0] = 100")
    assert changed == {"a"}
    assert {"other", "df"} <= trusted and "a" not in trusted


def test_changed_variable_is_trusted_once_hashed_and_still_changed(k: Kernel) -> None:
    changed, _, _ = check_after(k, "", "a[0] = 5")
    assert changed == {"a"}
    k.run("%mlvc status")  # hashes (and serializes) the changed array
    k.run("pass")
    assert _changed(k.run("%mlvc status").stdout) == {"a"}
    assert "a" in k.value(f"sorted({TRACKER}.trusted)")


def test_alias_of_the_same_array(k: Kernel) -> None:
    changed, trusted, _ = check_after(k, "b = a", "a[1] = -1")
    assert changed == {"a", "b"}
    assert "b" not in trusted


def test_numpy_view_named_and_written(k: Kernel) -> None:
    changed, _, _ = check_after(k, "v = a[2:]", "v[0] = 7")
    assert changed == {"a", "v"}


def test_view_held_by_an_object_of_a_user_class(k: Kernel) -> None:
    setup = "class Holder: pass\nh = Holder()\nh.view = a[1:]\n"
    changed, trusted, _ = check_after(k, setup, "h.view[0] = 9")
    assert "a" in changed and "a" not in trusted


def test_function_defined_earlier_mutates_a_global(k: Kernel) -> None:
    changed, _, _ = check_after(k, "def f():\n    a[0] = 3\n", "f()")
    assert changed == {"a"}


def test_function_rebinds_a_global(k: Kernel) -> None:
    setup = "def g():\n    global a\n    a = np.ones(3)\n"
    changed, _, _ = check_after(k, setup, "g()")
    assert changed == {"a"}


def test_function_reads_a_global_in_a_class_body(k: Kernel) -> None:
    # a class body reads globals with PyDict_GetItem, not through the namespace
    # (its names are read on every later check: this one uses its own array)
    setup = "z = np.ones(3)\ndef mk():\n    class C:\n        ref = z\n    C.ref[0] = 14\n"
    changed, _, _ = check_after(k, setup, "mk()")
    assert changed == {"z"}


@pytest.mark.parametrize(
    "cell",
    [
        "exec('a[0] = 11')",
        "exec('a[0] = 11', globals(), {})",
        "globals()['a'][0] = 12",
        "globals().get('a')[0] = 13",
        "list(globals().values())",
        "vars()['a'][0] = 15",
        "eval('a.__setitem__(0, 16)')",
    ],
)
def test_namespace_read_without_naming_the_variable(k: Kernel, cell: str) -> None:
    changed, trusted, why = check_after(k, "", cell)
    if "list(" not in cell:
        assert changed == {"a"}
    assert trusted == set() and why


def test_main_module_attribute(k: Kernel) -> None:
    changed, _, _ = check_after(k, "import __main__ as m", "m.a[0] = 2")
    assert changed == {"a"}


def test_closure_holds_the_array(k: Kernel) -> None:
    setup = (
        "def mkcb():\n    ref = a\n    def cb():\n        ref[0] = 42\n    return cb\ncb = mkcb()\n"
    )
    changed, trusted, _ = check_after(k, setup, "cb()")
    assert changed == {"a"} and "a" not in trusted


def test_del_and_reassign(k: Kernel) -> None:
    changed, _, _ = check_after(k, "", "del other")
    assert changed == {"other"}
    changed, _, _ = check_after(k, "", "a = a.copy()\na[0] = 1")
    assert changed == {"a"}


def test_run_magic_changes_variables(k: Kernel) -> None:
    (k.project / "edit.py").write_text("a[0] = 77\nother = np.ones(2)\n")
    changed, trusted, why = check_after(k, "", "%run -i edit.py")
    assert changed == {"a", "other"}
    assert trusted == set() and why
    (k.project / "rebind.py").write_text("import numpy as np\nother = np.ones(3)\n")
    changed, _, _ = check_after(k, "", "%run rebind.py")
    assert changed == {"other"}


def test_pandas_in_place_edits(k: Kernel) -> None:
    changed, trusted, _ = check_after(k, "", "df.iloc[0, 0] = 99")
    assert changed == {"df"} and {"a", "other"} <= trusted
    changed, _, _ = check_after(k, "", "df['y'] += 1")
    assert changed == {"df"}


def test_frame_block_held_elsewhere(k: Kernel) -> None:
    setup = "vals = df._mgr.blocks[0].values\n"
    changed, trusted, _ = check_after(k, setup, "vals[0, 0] = -5")
    assert "df" in changed and "df" not in trusted


def test_displayed_frame_written_through_underscore(k: Kernel) -> None:
    k.run(SETUP)
    k.run("%mlvc commit -m setup")
    k.run("df")  # the output history holds it as _ and Out[n]
    k.run("%mlvc status")
    k.run("_.iloc[1, 0] = 123")
    assert "df" in _changed(k.run("%mlvc status").stdout)


def test_torch_tensor_sharing_an_arrays_memory(k: Kernel) -> None:
    changed, trusted, _ = check_after(k, "t = torch.from_numpy(a)", "t.add_(1)")
    assert "a" in changed and "a" not in trusted


def test_numpy_view_of_a_tensor(k: Kernel) -> None:
    setup = "w = torch.zeros(4)\nwn = w.numpy()\n"
    changed, trusted, _ = check_after(k, setup, "wn[0] = 1")
    assert {"w", "wn"} <= changed and "w" not in trusted


def test_comm_message_handled_outside_cells(k: Kernel) -> None:
    # a widget-like callback that writes through the raw dict: no read is recorded
    setup = (
        "def _on_open(comm, msg):\n"
        "    dict.__getitem__(get_ipython().user_ns, 'a')[0] = 555\n"
        "get_ipython().kernel.comm_manager.register_target('mlvc-test', _on_open)\n"
    )
    k.run(SETUP + setup)
    k.run("%mlvc commit -m setup")
    k.run("%mlvc status")
    msg = k.kc.session.msg(
        "comm_open", {"comm_id": uuid.uuid4().hex, "target_name": "mlvc-test", "data": {}}
    )
    k.kc.shell_channel.send(msg)
    time.sleep(0.5)
    assert "a" in _changed(k.run("%mlvc status").stdout)
    assert "comm" in k.value(f"{TRACKER}.why")


def test_background_thread_started_by_the_user(k: Kernel) -> None:
    # the thread writes through the raw dict it was given: no read is recorded
    setup = (
        "import threading\n"
        "_go, _done, _stop = threading.Event(), threading.Event(), threading.Event()\n"
        "def _work(ns=get_ipython().user_ns):\n"
        "    _go.wait(30)\n"
        "    dict.__getitem__(ns, 'a')[0] = 808\n"
        "    _done.set()\n"
        "    _stop.wait(30)\n"
        "threading.Thread(target=_work, daemon=True).start()\n"
    )
    k.run(SETUP + setup)
    k.run("%mlvc commit -m setup")
    k.run("%mlvc status")
    k.run("_go.set(); _done.wait(10)")
    try:
        assert "a" in _changed(k.run("%mlvc status").stdout)
        assert "thread" in k.value(f"{TRACKER}.why")
    finally:
        k.run("_stop.set()")


def test_holder_writes_after_the_hash_then_lets_go(k: Kernel) -> None:
    # a generator holds the array when it is hashed; it writes, then is dropped, in a
    # cell that names only the generator
    setup = "def _later(x):\n    yield\n    x[0] = 4242\n    yield\n_g = _later(a)\nnext(_g)\n"
    changed, trusted, _ = check_after(k, setup, "next(_g)\ndel _g")
    assert "a" in changed and "a" not in trusted


def test_thread_given_the_array_writes_after_the_hash_then_ends(k: Kernel) -> None:
    setup = (
        "import threading\n"
        "_go = threading.Event()\n"
        "def _w(x):\n"
        "    _go.wait(30)\n"
        "    x[0] = 999\n"
        "_th = threading.Thread(target=_w, args=(a,), daemon=True)\n"
        "_th.start()\n"
    )
    changed, _, why = check_after(k, setup, "_go.set(); _th.join()")
    assert "a" in changed and "thread" in why


def test_autocommit_commits_changes_and_skips_untouched_cells(k: Kernel) -> None:
    k.run(SETUP)
    k.run("%mlvc commit -m setup")
    k.run("%mlvc autocommit on")
    try:
        assert "auto-committed" in k.run("a[0] = 31").stdout
        assert "auto-committed" not in k.run("1 + 1").stdout
        assert "auto-committed" in k.run("df.iloc[0, 1] = 0.5").stdout
    finally:
        k.run("%mlvc autocommit off")


def test_opt_out_and_refused_swap(kernel_factory: Any) -> None:
    off = kernel_factory(env={"MLVC_DIRTY_TRACKING": "0"})
    off.run("%load_ext mlvc_server")
    off.run("x = 1")
    assert off.value("type(get_ipython().user_ns).__name__") == "dict"
    # a function defined before loading keeps the old namespace as its globals: no swap
    late = kernel_factory()
    late.run("n = 0\ndef bump():\n    global n\n    n += 1\n")
    late.run("%load_ext mlvc_server")
    late.run("bump()")
    assert late.value("type(get_ipython().user_ns).__name__") == "dict"
    assert late.value("n") == 1
    assert late.value(TRACKER + " is None")


def _silent(k: Kernel, request: dict[str, Any]) -> dict[str, Any]:
    """Run an mlvc request as the server and ``mlvc run`` do: a silent execute."""
    from mlvc_server import calls

    msg_id = k.kc.execute(**calls.execute_options(request))
    reply = k.kc.get_shell_msg(timeout=60)
    while reply["parent_header"].get("msg_id") != msg_id:
        reply = k.kc.get_shell_msg(timeout=60)
    envelope = reply["content"]["user_expressions"][calls.RESULT_KEY]
    assert envelope["status"] == "ok", envelope
    return dict(envelope["data"])


def test_server_request_trusts_untouched_variables(k: Kernel) -> None:
    k.run(SETUP)
    k.run("%mlvc commit -m setup")
    k.run("%mlvc status")
    notebook = str(k.project / "train.ipynb")
    _silent(k, {"op": "commit", "notebook": notebook, "headless": True, "message": "srv"})
    trusted, why = k.value(f"(sorted({TRACKER}.trusted), {TRACKER}.why)")
    assert {"a", "other", "df"} <= set(trusted), why
    # a cell that used __import__ still makes the next request's check rehash everything
    k.run("%mlvc status")
    k.run("__import__('numpy')")
    _silent(k, {"op": "commit", "notebook": notebook, "headless": True, "message": "srv2"})
    assert k.value(f"{TRACKER}.why") == "__import__ was used"


def test_mlvc_run_setup_swaps_before_the_first_cell(kernel_factory: Any) -> None:
    fresh = kernel_factory()
    _silent(fresh, {"op": "setup"})
    assert fresh.value("type(get_ipython().user_ns).__name__") == "TrackedNamespace"
    fresh.run("def f():\n    return 1\n")
    assert fresh.value("f()") == 1
