"""Per-cell autocommit (``%mlvc autocommit on|off``, off by default).

After each cell that ran without an error, the kernel's state is compared with HEAD
(variables by their content-addressed ids, the data files read or tracked, the saved
notebook file): when something changed, it is committed as ``auto: cell N``. Cells that
failed, and cells that are only ``%mlvc`` commands, are not committed. Autocommit does
not ask the frontend to save the notebook (that round trip would cost every cell more
than the commit): it records the notebook as last saved.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

from . import output
from .session import KernelSession

__all__ = ["disable", "enable", "run"]


def enable(s: KernelSession) -> None:
    """Commit after every successful cell from now on."""
    if s.autocommit:
        return
    s.autocommit = True
    s.shell.events.register("post_run_cell", _hook_for(s))


def disable(s: KernelSession) -> None:
    """Stop autocommitting."""
    if not s.autocommit:
        return
    s.autocommit = False
    hook, s.autocommit_hook = s.autocommit_hook, None
    if hook is not None:
        with contextlib.suppress(ValueError):
            s.shell.events.unregister("post_run_cell", hook)


def _hook_for(s: KernelSession) -> Any:
    def post_run_cell(result: Any) -> None:
        run(s, result)

    s.autocommit_hook = post_run_cell
    return post_run_cell


def run(s: KernelSession, result: Any) -> str | None:
    """Commit after a cell if it succeeded and changed something.

    Args:
        s: the kernel session.
        result: IPython's ``ExecutionResult`` of the cell.

    Returns:
        The new commit's id, or None when nothing was committed.
    """
    if not s.autocommit or not result.success:
        return None
    raw = (getattr(result.info, "raw_cell", "") or "").strip()
    if not raw or raw.startswith("%mlvc"):
        return None
    from .. import service

    t = time.perf_counter()
    try:
        # no user code runs between the check and the commit: hash each variable once
        with service.snapshot():
            st = s.status(save=False, details=False)
            if st is not None and not s.changed(st):
                return None
            n = result.execution_count
            rec = s.commit(f"auto: cell {n}", save=False)
    except Exception as e:  # never break the user's cell
        output.error(f"autocommit failed: {e}")
        return None
    finally:
        s.autocommit_seconds = time.perf_counter() - t
    print(f"mlvc: auto-committed {rec['id'][:8]} (cell {n})")
    cid: str = rec["id"]
    return cid
