"""How the server asks a notebook's kernel to capture or restore variables.

Only the kernel holds the variables, so the server sends the kernel of the notebook's
session a silent execute request (``silent=True, store_history=False``: no execution
count, no history, no output in the notebook, no ``post_run_cell`` hooks) whose code calls
:func:`mlvc_server.kernel.remote.run` with the request as JSON, and whose
``user_expressions`` read the JSON result back. The kernel side uses the magics'
``KernelSession``, so a commit from the sidebar does what ``%mlvc commit`` does.

A kernel busy with a long cell queues the request. The server waits at most
``kernel_timeout`` seconds for the kernel to *start* it (the kernel publishes
``status: busy`` with the request as parent); after that it answers 409 ``KernelBusy``.
The request carries the same deadline, and the kernel drops it if it only gets to it
later, so a refused request never commits behind the user's back. Once the kernel has
started the request, the server waits for it to finish (a 1 GiB commit takes seconds),
checking every second that the kernel is still alive; the wait is asynchronous, so the
server answers other requests meanwhile.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from typing import Any, Final

from jupyter_core.utils import ensure_async

from .. import calls
from ..errors import KernelCallError

#: Seconds added to ``kernel_timeout`` while waiting for the kernel to start the request,
#: so that the kernel's own check of the deadline always comes first.
START_MARGIN: Final = 0.5


@dataclass(frozen=True)
class NotebookKernel:
    """The kernel of a notebook's session.

    Attributes:
        id: The kernel id.
        name: The kernel spec's name.
        manager: The server's manager of that kernel.
        language: The kernel's language (mlvc can ask only a Python kernel).
    """

    id: str
    name: str
    manager: Any
    language: str = "python"

    @property
    def state(self) -> str:
        """``starting``, ``idle``, ``busy``, ``dead`` or ``running`` (alive, state unknown)."""
        state = getattr(self.manager, "execution_state", None)
        return state if isinstance(state, str) and state else "running"


async def find_kernel(serverapp: Any, api_path: str) -> NotebookKernel | None:
    """The running kernel of the notebook's session, if there is one.

    Args:
        serverapp: The Jupyter ``ServerApp``.
        api_path: The notebook path relative to the server root.

    Returns:
        The kernel, or None when no session holds the notebook, or its kernel is gone
        or dead.
    """
    sessions = await ensure_async(serverapp.session_manager.list_sessions())
    for session in sessions:
        if str(session.get("path") or "").strip("/") != api_path:
            continue
        kernel = session.get("kernel") or {}
        kid = kernel.get("id")
        if not kid:
            continue
        try:
            km = serverapp.kernel_manager.get_kernel(kid)
        except KeyError:
            continue
        found = NotebookKernel(
            id=kid, name=str(kernel.get("name") or ""), manager=km, language=_language(km)
        )
        if found.state == "dead":
            continue
        return found
    return None


def _language(km: Any) -> str:
    """The kernel's language, lower case ("python" when its spec cannot be read)."""
    try:
        language = km.kernel_spec.language
    except Exception:  # a spec removed since the kernel started, or a remote kernel
        return "python"
    return str(language or "python").lower()


async def run_in_kernel(
    kernel: NotebookKernel, request: dict[str, Any], timeout: float
) -> dict[str, Any]:
    """Run an mlvc request in the kernel and return its result.

    Args:
        kernel: The notebook's kernel.
        request: What :mod:`mlvc_server.calls` describes (``op`` and its
            arguments); the deadline is added here.
        timeout: Seconds to wait for a busy kernel to start the request.

    Returns:
        The operation's result.

    Raises:
        KernelCallError: ``KernelBusy`` when the kernel did not start the request in
            time; ``KernelUnavailable`` when it cannot run mlvc (another language, mlvc
            not installed in its environment) or died; ``KernelProtocol`` or
            ``KernelError`` for a failure inside mlvc in the kernel.
        MlvcError: the mlvc error the operation raised in the kernel (same class).
    """
    request = {**request, "deadline": time.time() + timeout}
    client = _client(kernel.manager)
    client.start_channels()
    reply_task: asyncio.Task[dict[str, Any]] | None = None
    started_task: asyncio.Task[None] | None = None
    try:
        opts = calls.execute_options(request)
        msg_id = client.execute(opts.pop("code"), **opts)
        reply_task = asyncio.create_task(_reply(client, msg_id))
        started_task = asyncio.create_task(_started(client, msg_id))
        done, _ = await asyncio.wait(
            {reply_task, started_task},
            timeout=timeout + START_MARGIN,
            return_when=asyncio.FIRST_COMPLETED,
        )
        if not done:
            raise KernelCallError("KernelBusy", calls.busy_message(timeout))
        while not reply_task.done():
            try:
                await asyncio.wait_for(asyncio.shield(reply_task), 1.0)
            except TimeoutError:
                if not await ensure_async(kernel.manager.is_alive()):
                    raise KernelCallError(
                        "KernelUnavailable", "the kernel died while running mlvc"
                    ) from None
        reply = reply_task.result()
    finally:
        for task in (reply_task, started_task):
            if task is not None and not task.done():
                task.cancel()
        client.stop_channels()
    return calls.parse_reply(reply, timeout)


def _client(km: Any) -> Any:
    """A client of the kernel with a session of its own.

    ``km.client()`` shares the manager's session, whose id is also the ZMQ identity of
    the shell socket: a second connection under that identity takes the kernel's replies
    away from the first (the manager's, or any other ``km.client()``), for good once it
    closes. A clone with a new id keeps the key and signature scheme, and nothing else.
    """
    session = km.session.clone()
    session.session = uuid.uuid4().hex
    return km.client(session=session)


async def _reply(client: Any, msg_id: str) -> dict[str, Any]:
    while True:
        msg: dict[str, Any] = await client.get_shell_msg()
        if msg.get("parent_header", {}).get("msg_id") == msg_id:
            return msg


async def _started(client: Any, msg_id: str) -> None:
    while True:
        msg = await client.get_iopub_msg()
        if (
            msg.get("parent_header", {}).get("msg_id") == msg_id
            and msg.get("msg_type") == "status"
            and msg.get("content", {}).get("execution_state") == "busy"
        ):
            return
