"""The kernel's view of its notebook and project, and the state operations of the magics.

The notebook is the one the kernel was started for: ``__session__`` in the user
namespace (ipykernel sets it from ``JPY_SESSION_NAME``, which jupyter_server sets to the
notebook's path), ``__vsc_ipynb_file__`` (VS Code), or ``JPY_SESSION_NAME`` itself;
``--notebook PATH`` overrides. The project is the folder holding ``.mlvc/`` at or above
the notebook's folder (else the kernel's current directory, where the first commit
creates the store).

Everything that reads the store is imported on first use, so that loading the
extension stays cheap.
"""

from __future__ import annotations

import glob
import json
import os
import sys
from pathlib import Path
from typing import Any, Final

from ..errors import MlvcError
from . import output, protocol, tracking
from .lineage import lineage

__all__ = ["KernelSession", "find_root"]

#: Seconds to wait for the frontend to save the notebook (``MLVC_SAVE_TIMEOUT``).
DEFAULT_SAVE_TIMEOUT: Final = 3.0
#: Why :func:`select_variables` leaves a value out that is not data: not worth recording.
_NOT_DATA: Final = frozenset(
    {
        "module",
        "function",
        "builtin",
        "class",
        "type annotation",
        "IPython internal",
        "private name",
    }
)


def find_root(start: str | os.PathLike[str]) -> Path | None:
    """The nearest folder at or above ``start`` holding an mlvc store (no dulwich import).

    Args:
        start: a file or folder.

    Returns:
        The project root, or None.
    """
    p = Path(start).resolve()
    if p.is_file() or p.suffix == ".ipynb":
        p = p.parent
    for candidate in (p, *p.parents):
        if (candidate / ".mlvc" / "HEAD").is_file():
            return candidate
    return None


class KernelSession:
    """The state of mlvc in one kernel: its notebook, project, frontend and settings.

    Attributes:
        shell: the IPython shell.
        has_frontend: whether a frontend may be listening (False in a terminal).
        no_frontend: set after a save request timed out: later commits don't wait.
        save_timeout: seconds to wait for the frontend to save the notebook.
        autocommit: whether each successful cell is committed when something changed.
        autocommit_seconds: what the last autocommit check (and commit) took.
    """

    def __init__(self, shell: Any) -> None:
        self.shell = shell
        self.has_frontend = hasattr(shell, "kernel")  # a terminal IPython has none
        self.no_frontend = False
        self.save_timeout = float(os.environ.get("MLVC_SAVE_TIMEOUT", DEFAULT_SAVE_TIMEOUT))
        self.autocommit = False
        self.autocommit_seconds = 0.0
        self.autocommit_hook: Any = None
        self._said_no_notebook = False

    # -- where things are ---------------------------------------------------------------
    def notebook(self, override: str | None = None) -> tuple[str | None, Path | None]:
        """The notebook as the kernel knows it, and its absolute path.

        Args:
            override: ``--notebook PATH``.

        Returns:
            ``(path as known, absolute path)``, or ``(None, None)`` when unknown.
        """
        known = override
        if not known:
            ns = self.shell.user_ns
            for key in ("__session__", "__vsc_ipynb_file__"):
                value = ns.get(key)
                if isinstance(value, str) and value.endswith(".ipynb"):
                    known = value
                    break
        if not known:
            env = os.environ.get("JPY_SESSION_NAME", "")
            known = env if env.endswith(".ipynb") else None
        if not known:
            return None, None
        return known, Path(os.path.abspath(os.path.expanduser(known)))

    def repo(self, nb_file: Path | None) -> Path:
        """The project root: found from the notebook's folder or the current directory
        upward, else the current directory (where the first commit creates the store)."""
        for start in (nb_file, Path.cwd()):
            if start is not None:
                root = find_root(start)
                if root is not None:
                    return root
        return Path.cwd()

    def rel_notebook(self, root: Path, nb_file: Path | None) -> str | None:
        """The notebook's path relative to the project root (None stays None).

        Raises:
            MlvcError: the notebook is outside the project.
        """
        if nb_file is None:
            return None
        try:
            return nb_file.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            raise MlvcError(
                f"notebook {str(nb_file)!r} is outside the project {str(root)!r}"
            ) from None

    def say_no_notebook(self) -> None:
        """Say once per session that commits carry no notebook."""
        if not self._said_no_notebook:
            self._said_no_notebook = True
            print(
                "mlvc: this kernel does not know its notebook, so commits hold no notebook "
                "(pass --notebook PATH to name it)."
            )

    # -- the frontend ---------------------------------------------------------------------
    def save_notebook(self, known: str, nb_file: Path) -> bool:
        """Ask the frontend to save the notebook and wait until the file changes.

        Returns:
            True if the frontend saved it; False when no frontend answers (then the
            saved file is what a commit records).
        """
        if (
            not self.has_frontend
            or self.no_frontend
            or "__vsc_ipynb_file__" in self.shell.user_ns  # VS Code does not answer
        ):
            return False
        before = protocol.stamp(nb_file)
        rid = protocol.send_request("save", known)
        try:
            saved = protocol.wait_for_change(nb_file, before, self.save_timeout)
        finally:
            protocol.clear_request(rid)
        if not saved:
            self.no_frontend = True
            print(
                f"mlvc: no frontend saved the notebook within {self.save_timeout:g} s; "
                "committing the file as last saved (later commits won't wait)."
            )
        return saved

    def revert_notebook(self, known: str) -> None:
        """Ask the frontend to reload the notebook from disk (after a checkout wrote it).

        Sent even when save requests went unanswered: it costs nothing to ask.
        """
        if not self.has_frontend:
            return
        rid = protocol.send_request("revert", known)
        protocol.clear_request(rid)

    # -- what a commit records ------------------------------------------------------------
    def variables(self, names: list[str] | None) -> tuple[dict[str, Any], dict[str, str]]:
        """The user's variables, and those left out that are worth naming in the record."""
        from ..capture.variables import select_variables

        selected, skipped = select_variables(self.shell.user_ns, names)
        if names is None:
            skipped = {k: v for k, v in skipped.items() if v not in _NOT_DATA}
        return selected, skipped

    def data(
        self, root: Path, nb_rel: str | None, nb_file: Path | None
    ) -> tuple[list[str], list[str]]:
        """The data patterns a commit hashes: files read (lineage) and tracked patterns.

        Returns:
            ``(patterns, tracked patterns that match no file)``.
        """
        read = [
            glob.escape(p) if glob.has_magic(p) else p
            for p in lineage.files(root, [str(nb_file)] if nb_file else [])
        ]
        found, empty = tracking.existing(root, tracking.tracked(root, nb_rel))
        return list(dict.fromkeys([*read, *found])), empty

    def _kernel_facts(self) -> dict[str, Any]:
        return {
            "language": "python",
            "python": sys.version.split()[0],
            "shell": type(self.shell).__name__,
            "execution_count": getattr(self.shell, "execution_count", None),
            "pid": os.getpid(),
        }

    # -- operations -----------------------------------------------------------------------
    def commit(
        self,
        message: str,
        *,
        names: list[str] | None = None,
        no_vars: bool = False,
        params: dict[str, Any] | None = None,
        metrics: dict[str, Any] | None = None,
        notebook: str | None = None,
        branch: str | None = None,
        save: bool = True,
    ) -> dict[str, Any]:
        """Commit the kernel's state: variables, notebook, data read, params and metrics.

        Args:
            message: the commit message.
            names: only these variables (None: every user variable).
            no_vars: commit no variables.
            params: hyperparameters for the record.
            metrics: metrics for the record.
            notebook: ``--notebook`` override.
            branch: commit to this branch.
            save: ask the frontend to save the notebook first.

        Returns:
            The commit's record (``id`` added).
        """
        from .. import service

        known, nb_file = self.notebook(notebook)
        if known is None:
            self.say_no_notebook()
        elif save:
            self.save_notebook(known, nb_file)  # type: ignore[arg-type]
        root = self.repo(nb_file)
        nb_rel = self.rel_notebook(root, nb_file)
        selected, skipped = ({}, {}) if no_vars else self.variables(names)
        data, _ = self.data(root, nb_rel, nb_file)
        with lineage.paused(), output.progress(f"Committing {len(selected)} variables"):
            cid = service.commit(
                message,
                variables=selected,
                notebook=nb_file,
                params=params,
                metrics=metrics,
                data=data,
                repo=root,
                branch=branch,
                skipped=skipped,
                kernel=self._kernel_facts(),
            )
            record = service._record(service._store(root), cid)
        lineage.set_root(root)
        record["id"] = cid
        return record

    def status(
        self, notebook: str | None = None, *, save: bool = True, details: bool = True
    ) -> dict[str, Any] | None:
        """What changed since the notebook's last commit, or None when there is no store.

        Args:
            notebook: ``--notebook`` override.
            save: ask the frontend to save the notebook first.
            details: add ``head_message`` and the notebook's ``cells`` (for people; the
                autocommit check goes without).

        Returns:
            :func:`mlvc_server.service.status` (variables, data, notebook) where variables
            that were unstorable at HEAD and still are don't count, plus ``head_message``,
            ``untracked_empty`` and the notebook's ``cells`` (added/removed/modified).
        """
        from .. import service

        known, nb_file = self.notebook(notebook)
        root = self.repo(nb_file)
        if find_root(root) is None:
            return None
        if known is not None and save:
            self.save_notebook(known, nb_file)  # type: ignore[arg-type]
        nb_rel = self.rel_notebook(root, nb_file)
        selected, _ = self.variables(None)
        data, empty = self.data(root, nb_rel, nb_file)
        with lineage.paused():
            st = service.status(root, nb_file, variables=selected, data=data)
            head_skipped = st.get("skipped", {})
            st["variables"] = {
                k: v for k, v in st["variables"].items() if not (v == "added" and k in head_skipped)
            }
            st["untracked_empty"] = empty
            if not details or not st["head"]:
                return st
            st["head_message"] = service._record(service._store(root), st["head"])["message"]
            nb = st.get("notebook")
            if nb and nb.get("changed"):
                old = service.notebook_at(st["head"], root, nb_file)
                nb["cells"] = _cell_changes(old, nb_file.read_bytes())  # type: ignore[union-attr]
        return st

    def changed(self, st: dict[str, Any]) -> bool:
        """Whether a status says there is something to commit."""
        if st["head"] is None:
            return True
        if any(v != "unchanged" for v in st["variables"].values()):
            return True
        if any(v in ("added", "changed") for v in st["data"].values()):
            return True
        return bool(st.get("notebook") and st["notebook"].get("changed"))

    def restore(
        self, rev: str, names: list[str] | None, *, trust: bool, notebook: str | None = None
    ) -> tuple[dict[str, Any], list[str], dict[str, str]]:
        """Put the variables of ``rev`` back in the user namespace.

        Returns:
            ``(the commit's record, names restored, name -> why not restored)``.
        """
        from .. import service

        _, nb_file = self.notebook(notebook)
        root = self.repo(nb_file)
        rec = service.show(rev, root, nb_file)
        stored: dict[str, Any] = rec.get("variables", {})
        wanted = list(names) if names else list(stored)
        restored: list[str] = []
        failed: dict[str, str] = {}
        with lineage.paused(), output.progress(f"Restoring {len(wanted)} variables"):
            for name in wanted:
                try:
                    value = service.load(rec["id"], name, root, nb_file, trust=trust)
                except MlvcError as e:  # TrustError says to pass --trust
                    failed[name] = str(e)
                else:
                    self.shell.user_ns[name] = value
                    restored.append(name)
        return rec, restored, failed

    def checkout(
        self,
        rev: str,
        *,
        variables: bool = True,
        write_notebook: bool = True,
        trust: bool = False,
        notebook: str | None = None,
    ) -> dict[str, Any]:
        """Go back to ``rev``: commit the current state first if it differs from HEAD,
        then write the notebook and/or restore the variables.

        Returns:
            :func:`mlvc_server.service.checkout`'s result plus ``restored`` and ``failed``
            (variables) and ``safety_commit`` (id or None).
        """
        from .. import service

        known, nb_file = self.notebook(notebook)
        root = self.repo(nb_file)
        target = service.log(root, nb_file, rev=rev, limit=1)[0]["id"]
        branches = {b["name"]: b for b in service.branches(root, nb_file)}
        switch = rev in branches and not branches[rev]["current"]
        st = self.status(notebook, save=write_notebook)
        safety = None
        if st is not None and st["head"] is not None:
            vars_changed = variables and any(v != "unchanged" for v in st["variables"].values())
            nb_changed = write_notebook and bool(st["notebook"] and st["notebook"]["changed"])
            if vars_changed or nb_changed:
                safety = self.commit(
                    f"mlvc: safety commit before checkout of {rev}", notebook=notebook, save=False
                )["id"]
        with lineage.paused():
            res = service.checkout(
                rev if switch else target,
                root,
                nb_file,
                write_notebook=write_notebook,
                safety_commit=False,
            )
        if res["notebook_written"] and known is not None:
            self.revert_notebook(known)
        res["safety_commit"] = safety
        res["restored"], res["failed"] = [], {}
        if variables:
            _, res["restored"], res["failed"] = self.restore(
                target, None, trust=trust, notebook=notebook
            )
        return res


def _cell_changes(old: bytes | None, new: bytes) -> dict[str, int]:
    """Cells added, removed, modified (source) and with new outputs, by cell id."""

    def cells(raw: bytes | None) -> dict[str, tuple[str, str]]:
        try:
            nb = json.loads(raw) if raw else {}
        except ValueError:
            return {}
        out = {}
        for i, c in enumerate(nb.get("cells", [])):
            src = c.get("source", "")
            src = "".join(src) if isinstance(src, list) else str(src)
            outs = json.dumps(c.get("outputs", []), sort_keys=True)
            out[str(c.get("id", i))] = (src, outs)
        return out

    a, b = cells(old), cells(new)
    return {
        "added": sum(1 for k in b if k not in a),
        "removed": sum(1 for k in a if k not in b),
        "modified": sum(1 for k in b if k in a and a[k][0] != b[k][0]),
        "outputs changed": sum(1 for k in b if k in a and a[k][0] == b[k][0] and a[k] != b[k]),
    }
