"""The kernel's view of its notebook and project, and the state operations of the magics.

The notebook is found by the rule in :mod:`mlvc_server.kernel.locate`: ``--notebook
PATH``, where the frontend said it moved, ``MLVC_NOTEBOOK``, the headless runner that
started the kernel (nbconvert, papermill, ``jupyter execute``, nbval), else the session
the kernel was started for (``__session__``, ``__vsc_ipynb_file__``,
``JPY_SESSION_NAME``). The project is the folder holding ``.mlvc/`` at or above
the notebook's folder (else the kernel's current directory, where the first commit
creates the store).

Everything that reads the store is imported on first use, so that loading the
extension stays cheap.
"""

from __future__ import annotations

import contextlib
import glob
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from ..errors import MlvcError, NotebookUnknownError, VariableNotFoundError
from . import dirty, locate, output, protocol, tracking
from .lineage import lineage

if TYPE_CHECKING:
    from ..service import CheckoutResult, Record, Status

__all__ = ["KernelSession", "Restored", "find_root", "notebook_moved", "session_for"]

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
        #: ``mlvc run --branch``: commits that name no branch go here, so a run never
        #: moves (or races for) the notebook's current branch.
        self.run_branch: str | None = None
        self.autocommit_seconds = 0.0
        #: what the last :meth:`status` took to compare the variables, and the last
        #: :meth:`commit` without saving the notebook (benchmarks)
        self.status_seconds = 0.0
        self.commit_seconds = 0.0
        self.autocommit_hook: Any = None
        self._said_no_notebook = False
        #: The notebook's absolute path after the frontend said it moved (a rename).
        self.moved_to: str | None = None
        #: name -> the commit a restore last loaded the variable from: a safety commit
        #: leaves out a variable that still holds that commit's value (nothing is lost).
        self.restored_from: dict[str, str] = {}
        self._runner: tuple[locate.Runner | None] | None = None

    # -- where things are ---------------------------------------------------------------
    def runner(self) -> locate.Runner | None:
        """The headless runner that started this kernel (looked up once)."""
        if self._runner is None:
            self._runner = (locate.runner(),)
        return self._runner[0]

    def notebook_moved(self, old: str, new: str) -> Path:
        """The frontend renamed or moved the notebook from ``old`` to ``new`` (paths
        relative to the server root): later commits name the new path.

        Returns:
            The notebook's new absolute path.
        """
        known, _ = self.notebook()
        path = locate.moved(known, old, new, cwd=Path.cwd())
        self.moved_to = str(path)
        # ipykernel's name for it, for other tools that read it
        self.shell.user_ns["__session__"] = str(path)
        return path

    def notebook(self, override: str | None = None) -> tuple[str | None, Path | None]:
        """The notebook as the kernel knows it, and its absolute path.

        Args:
            override: ``--notebook PATH``.

        Returns:
            ``(path as known, absolute path)``, or ``(None, None)`` when unknown.
        """
        known = override or self.moved_to or os.environ.get(locate.ENV) or None
        if not known:
            found = self.runner()
            if found is not None:
                if found.notebook is None:
                    raise NotebookUnknownError(
                        f"mlvc: {locate.describe(found)}, so this kernel cannot tell its "
                        f"notebook: pass --notebook PATH (or set {locate.ENV})."
                    )
                known = str(found.notebook)
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

    def revert_notebook(self, known: str, message: str | None = None) -> None:
        """Ask the frontend to reload the notebook from disk (after a checkout wrote it).

        Sent even when save requests went unanswered: it costs nothing to ask.

        Args:
            known: the notebook's path as the kernel knows it.
            message: what the frontend shows in a notification after the reload.
        """
        if not self.has_frontend:
            return
        rid = protocol.send_request("revert", known, message)
        protocol.clear_request(rid)

    # -- what a commit records ------------------------------------------------------------
    def variables(
        self, names: list[str] | None, *, allow_secrets: bool = False
    ) -> tuple[dict[str, Any], dict[str, str]]:
        """The user's variables, and those left out that are worth naming in the record
        (variables named like secrets are left out unless ``allow_secrets``)."""
        from ..capture.variables import select_variables

        selected, skipped = select_variables(self.shell.user_ns, names, allow_secrets=allow_secrets)
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

    @staticmethod
    def quiet(tracker: dirty.Tracker | None) -> Any:
        """mlvc's own reads of the namespace, not recorded as the user's."""
        return tracker.quiet() if tracker is not None else contextlib.nullcontext()

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
        notebook_content: bytes | None = None,
        status: str = "ok",
        kind: str | None = None,
        allow_secrets: bool = False,
        extra: dict[str, Any] | None = None,
        metric_names: list[str] | None = None,
    ) -> Record:
        """Commit the kernel's state: variables, notebook, data read, files written
        since the last commit (outputs), params and metrics.

        The one kernel-side commit: the magics, the widgets, the server's requests and
        ``mlvc run`` all come here.

        Args:
            message: the commit message.
            names: only these variables (None: every user variable).
            no_vars: commit no variables.
            params: hyperparameters for the record.
            metrics: metrics for the record.
            notebook: ``--notebook`` override.
            branch: commit to this branch.
            save: ask the frontend to save the notebook first.
            notebook_content: the notebook to record instead of the saved file (the
                executed notebook of a headless run).
            status: ``"ok"`` or ``"failed"`` (a failed headless run).
            kind: ``"safety"`` for a commit made to protect state before a checkout.
            allow_secrets: store variables named like secrets, with readable previews.
            extra: more record fields (``run``, ``error`` of a headless run).
            metric_names: the variable names taken as metrics (None: the
                ``MLVC_METRIC_NAMES`` environment variable, else the defaults of
                :mod:`mlvc_server.capture.params`).

        Params and metrics are also found without being given: the names assigned in
        the notebook's ``parameters`` cells and the scalar variables named like metrics
        (``acc``, ``loss``...), at their current values. What is given, and what
        ``mlvc.log_params``/``log_metrics`` logged, wins.

        Returns:
            The commit's record (``id`` added).
        """
        from .. import service

        known, nb_file = self.notebook(notebook)
        if known is None:
            self.say_no_notebook()
        elif save and notebook_content is None:
            self.save_notebook(known, nb_file)  # type: ignore[arg-type]
        root = self.repo(nb_file)
        nb_rel = self.rel_notebook(root, nb_file)
        t0 = time.perf_counter()
        tracker = dirty.tracker_for(self.shell)
        # before holding values (a reference held here would count as an alias)
        fresh = tracker.known() if tracker is not None and not no_vars else None
        with self.quiet(tracker):
            selected, skipped = (
                ({}, {}) if no_vars else self.variables(names, allow_secrets=allow_secrets)
            )
            params, metrics = self.found_values(
                nb_file, notebook_content, params, metrics, metric_names
            )
        data, _ = self.data(root, nb_rel, nb_file)
        outputs = lineage.outputs(root, [str(nb_file)] if nb_file else [])
        with (
            lineage.paused(),
            output.progress(f"Committing {len(selected)} variables"),
            service.snapshot(fresh) as memo,
        ):
            cid = service.commit(
                message,
                selected,
                repo=root,
                notebook=nb_file,
                params=params,
                metrics=metrics,
                data=data,
                outputs=[glob.escape(p) if glob.has_magic(p) else p for p in outputs],
                branch=branch or self.run_branch,
                skipped=skipped,
                kernel=self._kernel_facts(),
                notebook_content=notebook_content,
                status=status,
                kind=kind,
                allow_secrets=allow_secrets,
                extra=extra,
            )
            record = service.record(cid, repo=root)
        if tracker is not None and not no_vars and names is None:
            tracker.remember(memo, selected)
        self.commit_seconds = time.perf_counter() - t0
        lineage.outputs_taken(root, outputs)
        lineage.set_root(root)
        return record

    def found_values(
        self,
        nb_file: Path | None,
        notebook_content: bytes | None,
        params: dict[str, Any] | None,
        metrics: dict[str, Any] | None,
        metric_names: list[str] | None = None,
    ) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """``params`` and ``metrics`` with the ones found in the kernel added under them:
        the notebook's ``parameters`` cells' names and the variables named like metrics.
        What was given or logged (``mlvc.log_params``/``log_metrics``) wins."""
        from ..capture import params as found
        from ..service.workspace import workspace

        ns = self.shell.user_ns
        source: Any = notebook_content if notebook_content is not None else nb_file
        auto_params = found.notebook_params(source, ns) if source is not None else {}
        auto_metrics = found.scalar_metrics(ns, found.metric_names(metric_names))
        logged = workspace().pending
        auto_params = {k: v for k, v in auto_params.items() if k not in logged["params"]}
        auto_metrics = {
            k: v
            for k, v in auto_metrics.items()
            if k not in logged["metrics"] and k not in auto_params
        }
        merged_params = {**auto_params, **(params or {})}
        merged_metrics = {**auto_metrics, **(metrics or {})}
        return merged_params or None, merged_metrics or None

    def status(
        self, notebook: str | None = None, *, save: bool = True, details: bool = True
    ) -> Status | None:
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
        t0 = time.perf_counter()
        tracker = dirty.tracker_for(self.shell)
        fresh = tracker.known() if tracker is not None else None  # before holding values
        with self.quiet(tracker):
            selected, _ = self.variables(None)
        data, empty = self.data(root, nb_rel, nb_file)
        with lineage.paused(), service.snapshot(fresh) as memo:
            st = service.status(repo=root, notebook=nb_file, variables=selected, data=data)
        if tracker is not None:
            tracker.remember(memo, selected)
        self.status_seconds = time.perf_counter() - t0
        with lineage.paused():
            head_skipped = st.get("skipped", {})
            st["variables"] = {
                k: v for k, v in st["variables"].items() if not (v == "added" and k in head_skipped)
            }
            st["untracked_empty"] = empty
            if not details or not st["head"]:
                return st
            st["head_message"] = str(service.record(st["head"], repo=root).get("message", ""))
            nb = st.get("notebook")
            if nb and nb.get("changed"):
                old = service.notebook_at(st["head"], repo=root, notebook=nb_file)
                nb["cells"] = service.cell_counts(old, nb_file.read_bytes())  # type: ignore[union-attr]
        return st

    def changed(self, st: Status, *, variables: bool = True, notebook: bool = True) -> bool:
        """Whether a status says there is something to commit.

        Args:
            st: a :meth:`status`.
            variables: count changed variables (and data).
            notebook: count a changed notebook.
        """
        if st["head"] is None:
            return True
        if variables and any(v != "unchanged" for v in st["variables"].values()):
            return True
        if variables and any(v in ("added", "changed") for v in st["data"].values()):
            return True
        return bool(notebook and st.get("notebook") and st["notebook"].get("changed"))  # type: ignore[union-attr]

    def safety_commit(
        self,
        message: str,
        variables: bool,
        notebook_changes: bool,
        *,
        notebook: str | None = None,
        save: bool = True,
        replaced: list[str] | None = None,
    ) -> str | None:
        """Commit the current state when it differs from HEAD in what is about to be
        overwritten (a *safety commit*, ``kind: "safety"``); None when nothing would be
        lost: variables changed or added since HEAD (a variable deleted since is not
        lost), or a notebook that differs from HEAD's.

        Args:
            message: the commit message.
            variables: the kernel's variables are about to be replaced.
            notebook_changes: the notebook is about to be replaced.
            notebook: ``--notebook`` override.
            save: ask the frontend to save the notebook first.
            replaced: only these variables are about to be replaced (None: all).
        """
        if not (variables or notebook_changes):
            return None
        st = self.status(notebook, save=save, details=False)
        if st is None or st["head"] is None:
            return None
        at_risk = variables and bool(
            self.unsaved(
                [
                    k
                    for k, v in st["variables"].items()
                    if v in ("added", "changed") and (replaced is None or k in replaced)
                ],
                notebook,
            )
        )
        nb = st.get("notebook")
        if not (at_risk or (notebook_changes and nb and nb.get("changed"))):
            return None
        from ..service import SAFETY

        rec = self.commit(message, notebook=notebook, save=False, kind=SAFETY)
        return rec["id"]

    def unsaved(self, names: list[str], notebook: str | None = None) -> list[str]:
        """Of ``names`` (variables that differ from HEAD), those no commit holds as they
        are now: a variable a restore loaded and that kept the value it was loaded with
        is in the commit it came from.
        """
        from .. import service

        by_commit: dict[str, list[str]] = {}
        left = []
        for name in names:
            source = self.restored_from.get(name)
            if source is None:
                left.append(name)
            else:
                by_commit.setdefault(source, []).append(name)
        if not by_commit:
            return left
        _, nb_file = self.notebook(notebook)
        root = self.repo(nb_file)
        ns = self.shell.user_ns
        for source, group in by_commit.items():
            try:
                with lineage.paused():
                    now = service.variables_changed(
                        repo=root,
                        rev=source,
                        notebook=nb_file,
                        variables={n: ns[n] for n in group if n in ns},
                    )
            except MlvcError:  # the commit is gone (gc): count them as unsaved
                left.extend(group)
                continue
            left.extend(n for n in group if now.get(n) != "unchanged")
        return left

    def restore(
        self,
        rev: str,
        names: list[str] | None,
        *,
        trust: bool,
        notebook: str | None = None,
        root: Path | None = None,
        safety: bool = False,
    ) -> Restored:
        """Put the variables of ``rev`` back in the user namespace (the one restore:
        magics, widgets, the server and checkout come here).

        Every variable that can be loaded is; the others are named with the error
        that stopped them. Data lineage is paused meanwhile (loading is not reading data).

        Args:
            rev: the revision.
            names: only these (None: all the commit holds).
            trust: load pickles this user did not write.
            notebook: ``--notebook`` override.
            root: the project (default: found from the notebook or current folder).
            safety: commit the current variables first when they differ from HEAD.

        Raises:
            VariableNotFoundError: ``names`` were given and the commit holds none of them.
        """
        from .. import service

        _, nb_file = self.notebook(notebook)
        root = root or self.repo(nb_file)
        rec = service.record(rev, repo=root, notebook=nb_file)
        stored: dict[str, Any] = rec.get("variables", {})
        if names and not any(n in stored for n in names):
            skipped = rec.get("skipped", {})
            why = "; ".join(f"{n}: {skipped[n]}" for n in names if n in skipped)
            raise VariableNotFoundError(
                f"commit {rec['id'][:8]} holds none of {', '.join(names)}"
                + (f" (skipped when committed: {why})" if why else "")
            )
        safety_id = None
        wanted = list(names) if names else list(stored)
        if safety:
            safety_id = self.safety_commit(
                f"Before restore of {rev[:12]}",
                True,
                False,
                notebook=notebook,
                save=False,
                replaced=wanted,
            )
        with lineage.paused(), output.progress(f"Restoring {len(wanted)} variables"):
            loaded = service.load_many(
                service.workspace().store(root),
                rec["id"],
                wanted,
                trusted=trust,
                live=self.shell.user_ns,
            )
        self.shell.user_ns.update(loaded.values)
        self.restored_from.update(dict.fromkeys(loaded.values, rec["id"]))
        return Restored(rec, list(loaded.values), loaded.failed, safety_id)

    def checkout(
        self,
        rev: str,
        *,
        variables: bool = True,
        write_notebook: bool = True,
        trust: bool = False,
        notebook: str | None = None,
        revert: bool = True,
        data: bool | list[str] = False,
    ) -> CheckoutResult:
        """Go back to ``rev`` through :func:`mlvc_server.service.checkout`: the kernel
        commits its own state first if it differs from HEAD, writes the notebook and
        asks the frontend to reload it, and restores the variables.

        Args:
            rev: the revision.
            variables: restore the variables.
            write_notebook: write the notebook.
            trust: load pickles this user did not write.
            notebook: ``--notebook`` override.
            revert: ask the frontend to reload the notebook once written (False: the
                caller asks, with its message, after it has said what happened).
            data: also put back the data files ``rev`` read (True: all; or paths).

        Returns:
            :func:`mlvc_server.service.checkout`'s result.
        """
        from .. import service

        known, nb_file = self.notebook(notebook)
        root = self.repo(nb_file)

        def write(content: bytes) -> None:
            assert nb_file is not None
            service.write_file(nb_file, content)
            if known is not None and revert:
                self.revert_notebook(known)

        def restore(cid: str) -> tuple[list[str], dict[str, str]]:
            done = self.restore(cid, None, trust=trust, notebook=notebook)
            return done.restored, {k: str(v) for k, v in done.failed.items()}

        hooks = service.CheckoutHooks(
            safety_commit=lambda message, vars_, nb: self.safety_commit(
                message, vars_, nb, notebook=notebook, save=write_notebook
            ),
            write_notebook=write,
            restore=restore,
        )
        with lineage.paused():
            return service.checkout(
                rev,
                repo=root,
                notebook=nb_file,
                write_notebook=write_notebook,
                variables=variables,
                hooks=hooks,
                data=data,
            )


@dataclass
class Restored:
    """What :meth:`KernelSession.restore` did.

    Attributes:
        record: the commit's record.
        restored: the names put in the namespace.
        failed: name -> the error that stopped it.
        safety_commit: the safety commit made first, or None.
    """

    record: Record
    restored: list[str]
    failed: dict[str, MlvcError]
    safety_commit: str | None = None


_SESSIONS: dict[int, KernelSession] = {}


def notebook_moved(old: str, new: str) -> str:
    """What the frontend calls (a silent execute request) when the notebook's path
    changed: ``old`` and ``new`` are relative to the server root.

    Returns:
        The notebook's new absolute path.
    """
    from IPython import get_ipython

    return str(session_for(get_ipython()).notebook_moved(old, new))


def session_for(shell: Any) -> KernelSession:
    """The one :class:`KernelSession` of this shell (magics and widgets share it)."""
    found = _SESSIONS.get(id(shell))
    if found is None or found.shell is not shell:
        found = _SESSIONS[id(shell)] = KernelSession(shell)
    return found
