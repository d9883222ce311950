"""The kernel's half of the save-before-commit protocol with the JupyterLab frontend.

The kernel cannot save the notebook: only the frontend holds what the user sees. So
before a commit reads the notebook file, the kernel displays an output with the mime
type :data:`MIME` and the data ``{"action": "save", "path": ..., "id": ..., "time": ...}``
(plus an empty ``text/plain``). The mlvc frontend extension watches the outputs of the
notebooks it shows; on such a request it saves the notebook that holds the output. The
kernel waits until the notebook file changes (polling ``stat`` every 20 ms) or a timeout
passes, then replaces the output with an empty one so the request is not kept in the
notebook. ``"action": "revert"`` (no wait) asks the frontend to reload the notebook from
disk after a checkout wrote it; its optional ``"message"`` (what ``%mlvc checkout``
printed) is shown in a notification, since the cell's output goes with the old notebook.

Without a frontend that answers (classic Notebook, VS Code, nbclient, a terminal), the
first request times out and the kernel stops waiting for the rest of the session; the
commit then records the saved file and when it was saved.
"""

from __future__ import annotations

import os
import time
import uuid
from typing import Any, Final

__all__ = ["MIME", "FileStamp", "clear_request", "send_request", "stamp", "wait_for_change"]

MIME: Final = "application/vnd.mlvc.request+json"
#: How often the notebook file is checked while waiting for the frontend to save it.
POLL_SECONDS: Final = 0.02

FileStamp = tuple[int, int] | None


def stamp(path: str | os.PathLike[str]) -> FileStamp:
    """The file's ``(mtime_ns, size)``, or None when it does not exist.

    Args:
        path: the notebook file.
    """
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


def send_request(action: str, path: str, message: str | None = None) -> str:
    """Display a request for the frontend and return its display id.

    Args:
        action: ``"save"`` or ``"revert"``.
        path: the notebook path as the kernel knows it.
        message: for ``"revert"``: what the frontend shows in a notification once the
            notebook is reloaded (the cell's own output goes with the old notebook).

    Returns:
        The request's id (also its display id), a uuid4 in hex.
    """
    from IPython.display import display

    rid = uuid.uuid4().hex
    data: dict[str, Any] = {"action": action, "path": path, "id": rid, "time": time.time()}
    if message:
        data["message"] = message
    display({MIME: data, "text/plain": ""}, raw=True, display_id=rid)  # type: ignore[no-untyped-call]
    return rid


def clear_request(rid: str) -> None:
    """Replace a request's output with an empty one (so it is not saved in the notebook).

    Args:
        rid: the id :func:`send_request` returned.
    """
    from IPython.display import update_display

    update_display({"text/plain": ""}, raw=True, display_id=rid)  # type: ignore[no-untyped-call]


def wait_for_change(path: str | os.PathLike[str], before: FileStamp, timeout: float) -> bool:
    """Wait until the file's stamp differs from ``before``.

    Args:
        path: the notebook file.
        before: its stamp before the request.
        timeout: seconds to wait at most.

    Returns:
        True if the file changed in time, False on timeout.
    """
    deadline = time.monotonic() + timeout
    while True:
        now = stamp(path)
        if now is not None and now != before:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(POLL_SECONDS)
