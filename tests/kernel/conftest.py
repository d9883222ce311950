"""A real IPython kernel for the magics tests (jupyter_client, one kernel per module).

``kernel_factory`` starts a kernel in a fresh project folder with its own
``MLVC_CONFIG_DIR`` (so signing keys never touch the user's) and a short save timeout
(no frontend answers save requests in pytest).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator

import pytest
from harness import SAVE_TIMEOUT, Kernel, write_notebook
from jupyter_client.manager import start_new_kernel


@pytest.fixture(scope="module")
def kernel_factory(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[..., Kernel]]:
    """Start kernels in fresh project folders; every kernel is shut down at module end.

    The factory takes ``notebook`` (a path relative to the project that the kernel is
    "started for", as JupyterLab does with ``JPY_SESSION_NAME``; None: no notebook) and
    ``env`` (more environment variables).
    """
    started: list[Kernel] = []

    def start(notebook: str | None = "train.ipynb", env: dict[str, str] | None = None) -> Kernel:
        project = tmp_path_factory.mktemp("project")
        full = dict(os.environ)
        full.pop("JPY_SESSION_NAME", None)
        full.update(
            MLVC_CONFIG_DIR=str(project.parent / f"{project.name}-config"),
            MLVC_SAVE_TIMEOUT=str(SAVE_TIMEOUT),
            MLVC_AUTHOR_NAME="Test",
            MLVC_AUTHOR_EMAIL="test@example.org",
            PYTHONHASHSEED="0",
        )
        if notebook is not None:
            write_notebook(project / notebook, ["x = 1"])
            full["JPY_SESSION_NAME"] = str(project / notebook)
        full.update(env or {})
        km, kc = start_new_kernel(kernel_name="python3", cwd=str(project), env=full)
        k = Kernel(km, kc, project)
        started.append(k)
        # the kernel must run this environment (the editable install of this tree)
        assert k.value("__import__('sys').prefix") == sys.prefix
        return k

    yield start
    for k in started:
        k.kc.stop_channels()
        k.km.shutdown_kernel(now=True)
