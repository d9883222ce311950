"""Handlers that change state through the notebook's kernel: commit, checkout, restore."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

from jupyter_core.utils import ensure_async
from jupyter_server.auth.decorator import authorized
from tornado import web

from .. import service
from ..errors import KernelCallError, MlvcError, http_status
from .base import (
    MAX_MESSAGE_CHARS,
    MlvcHandler,
    Notebook,
    error,
    field_bool,
    field_enum,
    field_map,
    field_names,
    field_str,
    http_error,
)
from .history import MAX_REV_CHARS, check_rev
from .kernels import NotebookKernel, find_kernel, run_in_kernel

T = TypeVar("T")

#: What the sidebar may say when no kernel was there to capture variables.
NO_KERNEL_NOTE = "no kernel: the notebook alone was committed"
#: ... and when the notebook's kernel is not a Python kernel.
OTHER_KERNEL_NOTE = "the kernel is not a Python kernel: the notebook alone was committed"

#: The 409 message when a kernel is needed, by note.
NO_KERNEL_ERRORS = {
    NO_KERNEL_NOTE: "no kernel is running for this notebook",
    OTHER_KERNEL_NOTE: "the notebook's kernel is not a Python kernel",
}


async def python_kernel(serverapp: Any, nb: Notebook) -> tuple[NotebookKernel | None, str]:
    """The notebook's kernel if mlvc can ask it (Python), and a note when it cannot."""
    kernel = await find_kernel(serverapp, nb.api_path)
    if kernel is None:
        return None, NO_KERNEL_NOTE
    if kernel.language != "python":
        return None, OTHER_KERNEL_NOTE
    return kernel, ""


class KernelHandler(MlvcHandler):
    """A handler that may ask the notebook's kernel to do part of its work."""

    def kernel_request(self, nb: Notebook, op: str, **args: Any) -> dict[str, Any]:
        """The request for :func:`mlvc_server.kernel.remote.run`: ``op``, its arguments,
        the notebook, where its store is, the author and the size limit."""
        return {
            "op": op,
            "notebook": str(nb.file),
            "repo": str(nb.start),
            "author": self.author(),
            "max_variable_bytes": self.mlvc.max_variable_bytes,
            "max_serialize_seconds": self.mlvc.max_serialize_seconds,
            "metric_names": (
                None if self.mlvc.metric_names is None else list(self.mlvc.metric_names)
            ),
            **args,
        }

    async def in_kernel(
        self, kernel: NotebookKernel, nb: Notebook, op: str, **args: Any
    ) -> dict[str, Any]:
        """Run an operation in the kernel, mapping its errors to HTTP.

        Raises:
            tornado.web.HTTPError: 409 when the kernel is busy past ``kernel_timeout``
                or cannot run mlvc; the mapped status of an mlvc error it raised.
        """
        request = self.kernel_request(nb, op, **args)
        try:
            return await run_in_kernel(kernel, request, self.mlvc.kernel_timeout)
        except KernelCallError as exc:
            headers = {"Retry-After": "5"} if exc.reason == "KernelBusy" else None
            raise error(http_status(exc), str(exc), exc.reason, headers) from exc
        except MlvcError as exc:
            raise http_error(exc) from exc

    def check_exists(self, nb: Notebook) -> None:
        """Raise 404 when the notebook file does not exist."""
        if not nb.file.is_file():
            raise error(404, f"notebook {nb.api_path!r} does not exist (save it first)", "NotFound")


class CommitsHandler(KernelHandler):
    """``POST /mlvc/commits?path=``: commit the open notebook, through its kernel."""

    @web.authenticated
    @authorized
    async def post(self) -> None:
        """Commit the notebook's kernel state (the same code path as ``%mlvc commit``) or,
        with no kernel running, the notebook alone. 201 with the new commit."""
        nb = self.notebook()
        body = self.json_body("message", "params", "metrics", "variables", "include_variables")
        message = field_str(
            body, "message", required=True, max_chars=MAX_MESSAGE_CHARS, multiline=True
        )
        params = field_map(body, "params")
        metrics = field_map(body, "metrics")
        names = field_names(body, "variables")
        include = field_bool(body, "include_variables", True)
        self.check_exists(nb)
        kernel, note = await python_kernel(self.serverapp, nb)
        if kernel is not None:
            made = await self.in_kernel(
                kernel,
                nb,
                "commit",
                message=message,
                names=names,
                no_vars=not include,
                params=params,
                metrics=metrics,
            )
            cid, skipped = made["id"], made.get("skipped", {})
        else:
            cid = await self.call(
                service.commit,
                message or "",
                None,
                repo=nb.start,
                notebook=nb.file,
                params=params,
                metrics=metrics,
                author=self.author(),
                sources=False,
            )
            skipped = {}
        summary = (await self.call(service.log, repo=nb.start, notebook=nb.file, rev=cid, limit=1))[
            0
        ]
        self.set_header("Location", self.api_url("commits", cid, path=nb.api_path))
        out: dict[str, Any] = {
            "commit": summary,
            "kernel": "used" if kernel is not None else "none",
            "skipped": skipped,
        }
        if kernel is None:
            out["note"] = note
        self.write_json(out, status=201)


class CheckoutHandler(KernelHandler):
    """``POST /mlvc/checkout?path=``: go back to a commit (notebook, variables or both)."""

    @web.authenticated
    @authorized
    async def post(self) -> None:
        """Run :func:`mlvc_server.service.checkout` with the server's hooks: the safety
        commit and the variables through the notebook's kernel (when one runs), the
        notebook through the contents API."""
        nb = self.notebook()
        body = self.json_body("rev", "mode", "trust", "data", "data_paths")
        rev = check_rev("rev", field_str(body, "rev", required=True, max_chars=MAX_REV_CHARS))
        assert rev is not None
        mode = field_enum(body, "mode", ("both", "notebook", "variables"), "both")
        trust = field_bool(body, "trust", False)
        data_paths = field_names(body, "data_paths")
        data: bool | list[str] = field_bool(body, "data", False) and (data_paths or True)
        kernel, note = await python_kernel(self.serverapp, nb)
        if kernel is None and mode == "variables":
            raise error(409, NO_KERNEL_ERRORS[note], "NoKernel")
        loop = asyncio.get_running_loop()

        def wait(coro: Coroutine[Any, Any, T]) -> T:
            """Run a coroutine on the server's loop from the checkout's worker thread."""
            return asyncio.run_coroutine_threadsafe(coro, loop).result()

        author = self.author()
        failures: dict[str, dict[str, str]] = {}
        hooks = service.CheckoutHooks(write_notebook=lambda c: wait(self.write_notebook(nb, c)))
        if kernel is not None:

            def safety(message: str, variables: bool, notebook: bool) -> str | None:
                done = wait(
                    self.in_kernel(
                        kernel,
                        nb,
                        "safety",
                        message=message,
                        variables=variables,
                        notebook_changes=notebook,
                    )
                )
                cid = done.get("id")
                return str(cid) if cid else None

            def restore(cid: str) -> tuple[list[str], dict[str, str]]:
                done = wait(self.in_kernel(kernel, nb, "restore", rev=cid, trust=trust))
                failures.update(done["failed"])
                failed = {k: str(v.get("message", v)) for k, v in done["failed"].items()}
                return list(done["restored"]), failed

            hooks.safety_commit = safety
            hooks.restore = restore
        else:
            hooks.safety_commit = lambda message, _v, _n: service.notebook_safety_commit(
                message, repo=nb.start, notebook=nb.file, author=author
            )
        moved = await self.call(
            service.checkout,
            rev,
            repo=nb.start,
            notebook=nb.file,
            write_notebook=mode in ("both", "notebook"),
            variables=mode in ("both", "variables"),
            safety_commit=self.mlvc.safety_commit,
            hooks=hooks,
            data=data,
            data_from_root=True,
        )
        self.write_json(
            {
                "commit": moved["commit"],
                "branch": moved["branch"],
                "safety_commit": moved["safety_commit"],
                "notebook_written": moved["notebook_written"],
                "variables_restored": moved["restored"],
                "skipped": moved["failed"],
                "failed": failures,
                "kernel": "used" if kernel is not None else "none",
                "data": moved["data"],
            }
        )

    async def write_notebook(self, nb: Notebook, content: bytes) -> None:
        """Save a stored notebook through the Jupyter contents API (so an open document
        and collaborative editing see a normal save)."""
        import nbformat

        cm = self.serverapp.contents_manager  # type: ignore[union-attr]
        model: dict[str, Any]
        try:
            node = nbformat.reads(content.decode("utf-8"), as_version=4)  # type: ignore[no-untyped-call]
            model = {"type": "notebook", "format": "json", "content": node}
        except Exception:  # not a valid notebook: put the bytes back as they were stored
            model = {
                "type": "file",
                "format": "text",
                "content": content.decode("utf-8", "replace"),
            }
        try:
            await ensure_async(cm.save(model, nb.api_path))
        except web.HTTPError:
            raise
        except Exception as exc:
            raise error(500, f"could not write the notebook: {exc}", "ContentsError") from exc


class RestoreHandler(KernelHandler):
    """``POST /mlvc/restore?path=``: restore single variables into the kernel."""

    @web.authenticated
    @authorized
    async def post(self) -> None:
        """Load ``names`` (all when null) of ``rev`` into the kernel's namespace; with
        ``safety``, commit the kernel's changed variables first."""
        nb = self.notebook()
        body = self.json_body("rev", "names", "trust", "safety")
        rev = check_rev("rev", field_str(body, "rev", required=True, max_chars=MAX_REV_CHARS))
        names = field_names(body, "names")
        trust = field_bool(body, "trust", False)
        safety = field_bool(body, "safety", False)
        kernel, note = await python_kernel(self.serverapp, nb)
        if kernel is None:
            raise error(409, NO_KERNEL_ERRORS[note], "NoKernel")
        done = await self.in_kernel(
            kernel, nb, "restore", rev=rev, names=names, trust=trust, safety=safety
        )
        failed: dict[str, dict[str, str]] = done.get("failed", {})
        if failed and not done.get("restored"):
            kinds = {f["error"] for f in failed.values()}
            first = next(iter(failed.values()))
            status = (
                403 if "TrustError" in kinds else 404 if kinds == {"VariableNotFoundError"} else 409
            )
            reason = "TrustError" if status == 403 else first["error"]
            raise error(status, "; ".join(f["message"] for f in failed.values()), reason)
        self.write_json(
            {
                "commit": done["commit"],
                "restored": done["restored"],
                "failed": failed,
                "safety_commit": done.get("safety_commit"),
            }
        )
