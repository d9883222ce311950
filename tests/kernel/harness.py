"""Driving a real IPython kernel from a test: :class:`Kernel.run` executes a cell and
collects its stdout, stderr, displays and error (see ``conftest.kernel_factory``)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
import pytest

#: Seconds the kernel waits for a frontend to save the notebook (none will, in pytest).
SAVE_TIMEOUT = 0.4


@dataclass
class Reply:
    """What one executed cell produced."""

    status: str
    stdout: str = ""
    stderr: str = ""
    displays: list[dict[str, Any]] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    error: dict[str, Any] | None = None
    seconds: float = 0.0

    @property
    def text(self) -> str:
        """stdout, stderr and the text of every display, in one string."""
        shown = [d["data"].get("text/plain", "") for d in self.displays]
        return "\n".join([self.stdout, self.stderr, *shown])


class Kernel:
    """A running kernel and the project folder it works in."""

    def __init__(self, km: Any, kc: Any, project: Path) -> None:
        self.km, self.kc, self.project = km, kc, project

    def run(self, code: str, *, ok: bool = True, timeout: float = 60) -> Reply:
        """Execute ``code`` as a cell; with ``ok``, fail the test on an error."""
        reply = Reply(status="")

        def hook(msg: dict[str, Any]) -> None:
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream":
                if content["name"] == "stdout":
                    reply.stdout += content["text"]
                else:
                    reply.stderr += content["text"]
            elif kind in ("display_data", "execute_result"):
                reply.displays.append(content)
            elif kind == "update_display_data":
                reply.updates.append(content)
            elif kind == "error":
                reply.error = content

        t = time.perf_counter()
        msg = self.kc.execute_interactive(code, output_hook=hook, timeout=timeout)
        reply.seconds = time.perf_counter() - t
        reply.status = msg["content"]["status"]
        if reply.status == "error" and reply.error is None:  # e.g. a UsageError
            reply.error = {k: msg["content"].get(k) for k in ("ename", "evalue", "traceback")}
        if ok and reply.status != "ok":
            tb = "\n".join((reply.error or {}).get("traceback", []))
            pytest.fail(f"cell failed:\n{code}\n{tb}\n{reply.stderr}")
        return reply

    def value(self, expr: str) -> Any:
        """The value of a JSON-able Python expression evaluated in the kernel."""
        out = self.run(f"print('\\x00' + __import__('json').dumps({expr}))").stdout
        return json.loads(out.rsplit("\x00", 1)[1])


def write_notebook(path: Path, sources: list[str]) -> None:
    """Write a small notebook (cell ids c0, c1...)."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s, id=f"c{i}") for i, s in enumerate(sources)]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
