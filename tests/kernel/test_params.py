"""Every kernel commit records params and metrics found in the kernel: the names of the
notebook's ``parameters`` cell and the scalars named like metrics; what was logged with
``mlvc.log_params``/``log_metrics`` or given wins, for the magics and for the commits
the panel asks for through ``kernel/remote.py`` alike."""

from __future__ import annotations

import json
from typing import Any

import nbformat
import pytest
from harness import Kernel

import mlvc_server as mlvc


@pytest.fixture(scope="module")
def k(kernel_factory: Any) -> Kernel:
    k = kernel_factory()
    book = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("C = 1.0\nname = 'baseline'\nlayers = [1, 2]", id="p")
    params.metadata["tags"] = ["parameters"]
    book.cells = [params, nbformat.v4.new_code_cell("acc = C / 2", id="t")]
    nbformat.write(book, k.project / "train.ipynb")
    k.run("%load_ext mlvc_server\nimport numpy as np")
    return k


def _head(k: Kernel) -> dict[str, Any]:
    return mlvc.log(repo=k.project, notebook=k.project / "train.ipynb", rev="HEAD")[0]


def test_a_magic_commit_records_params_and_metrics(k: Kernel) -> None:
    k.run("C = 0.5\nname = 'baseline'\nlayers = [1, 2]\nacc = C / 2\nval_loss = np.float64(0.25)")
    k.run("%mlvc commit -m 'first'")
    head = _head(k)
    assert head["params"] == {"C": 0.5, "name": "baseline"}  # a list is no scalar param
    assert head["metrics"] == {"acc": 0.25, "val_loss": 0.25}


def test_logged_and_given_values_win(k: Kernel) -> None:
    k.run("import mlvc_server\nmlvc_server.log_params(C=2.0)\nmlvc_server.log_metrics(acc=0.99)")
    k.run("%mlvc commit -m 'second' --param name=given")
    head = _head(k)
    assert head["params"] == {"C": 2.0, "name": "given"}
    assert head["metrics"]["acc"] == 0.99 and head["metrics"]["val_loss"] == 0.25


def test_a_panel_commit_through_the_kernel_call_has_them_too(k: Kernel) -> None:
    k.run("C = 0.1\nacc = 0.7\nmlvc_server.log_metrics(f1=0.6)")
    request = {
        "op": "commit",
        "notebook": str(k.project / "train.ipynb"),
        "repo": str(k.project),
        "message": "from the panel",
        "metric_names": ["acc", "f1", "*_loss"],
    }
    code = f"import mlvc_server.kernel.remote as _r\n_r.run({json.dumps(request)!r})"
    k.run(code)
    envelope = k.value("_r.last_result().value")
    assert envelope["ok"] is True, envelope
    head = _head(k)
    assert head["message"] == "from the panel"
    assert head["params"]["C"] == 0.1
    assert head["metrics"] == {"acc": 0.7, "f1": 0.6, "val_loss": 0.25}
