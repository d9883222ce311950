"""The ``%mlvc`` commands: each takes the kernel session and the parsed arguments.

They print what they did in a sentence or two; errors are raised as
:class:`mlvc_server.errors.MlvcError` (the magic turns them into one red line).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .. import render, service
from ..args import checkout_data, model_failed, run_evaluation, run_lineage, run_model
from ..errors import MlvcError, NotARepositoryError
from . import autocommit, output, tracking
from .lineage import lineage
from .session import KernelSession, find_root

#: How a notebook undoes a data checkout.
_DATA_UNDO = "%mlvc data undo"

__all__ = [
    "cmd_autocommit",
    "cmd_branch",
    "cmd_canary",
    "cmd_checkout",
    "cmd_commit",
    "cmd_compare",
    "cmd_data",
    "cmd_diff",
    "cmd_evaluate",
    "cmd_evaluations",
    "cmd_init",
    "cmd_lineage",
    "cmd_log",
    "cmd_model",
    "cmd_restore",
    "cmd_shadow",
    "cmd_status",
    "cmd_tag",
    "cmd_track",
    "cmd_untrack",
]


def _where(s: KernelSession, args: argparse.Namespace) -> tuple[Path, Path | None]:
    """The project root and the notebook file; the store must exist."""
    _, nb_file = s.notebook(args.notebook)
    root = s.repo(nb_file)
    if find_root(root) is None:
        raise NotARepositoryError(
            f"no mlvc store at or above {str(root)!r} yet: commit once or run `%mlvc init`"
        )
    return root, nb_file


def _short(cid: str | None) -> str:
    return cid[:8] if cid else "-"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def cmd_init(s: KernelSession, args: argparse.Namespace) -> None:
    """``%mlvc init [PATH]``: create the store."""
    st = service.init(Path(args.path).expanduser() if args.path else Path.cwd())
    lineage.set_root(st.root)
    print(f"Initialized the mlvc store in {st.path}")


def cmd_commit(s: KernelSession, args: argparse.Namespace) -> None:
    """``%mlvc commit -m MSG ...``: commit the kernel's state."""
    rec = s.commit(
        args.message,
        names=args.vars,
        no_vars=args.no_vars,
        params=dict(args.param),
        metrics=dict(args.metric),
        notebook=args.notebook,
        branch=args.branch,
        allow_secrets=args.allow_secrets,
    )
    _print_commit(rec)


def _print_commit(rec: Mapping[str, Any], prefix: str = "Committed") -> None:
    where = f" ({rec['notebook']})" if rec.get("notebook") else ""
    parts = [_plural(len(rec.get("variables", {})), "variable")]
    if rec.get("data"):
        parts.append(_plural(len(rec["data"]), "data file"))
    line = f"{prefix} {_short(rec['id'])} on {rec.get('branch')}{where}: {', '.join(parts)}"
    print(line)
    for name, why in rec.get("skipped", {}).items():
        print(f"  skipped {name}: {why}")
    for found in rec.get("secrets", []):
        output.error(
            f"likely secret stored ({found['where']}: {found['reason']}); its preview is "
            "hidden. See docs/security.md"
        )


def cmd_status(s: KernelSession, args: argparse.Namespace) -> None:
    """``%mlvc status``: what changed since the last commit."""
    st = s.status(args.notebook)
    if st is None:
        print("No mlvc store yet: the first %mlvc commit creates one here.")
        return
    output.show_status(st)


def cmd_log(s: KernelSession, args: argparse.Namespace) -> None:
    """``%mlvc log [-n N] [--all] [--where QUERY]``: the history."""
    root, nb_file = _where(s, args)
    nb = None if args.all else nb_file
    commits = service.log(repo=root, notebook=nb, limit=args.n, where=args.where)
    if not commits and args.where:
        print("No commit matches.")
        return
    output.show_log(commits, repo=str(root), notebook=str(nb) if nb else None)


def cmd_compare(s: KernelSession, args: argparse.Namespace) -> None:
    """``%mlvc compare [REV ...] [--where Q] [--only-differing] [--sort F] [--plot]``."""
    root, nb_file = _where(s, args)
    table = service.compare(
        repo=root,
        notebook=None if args.all else nb_file,
        revs=args.revs or None,
        limit=args.n,
        where=args.where,
        sort=args.sort,
        only_differing=args.only_differing,
    )
    series = None
    if args.plot and table["rows"]:
        series = service.series(
            repo=root,
            notebook=None if args.all else nb_file,
            include_safety=True,  # the rows say which commits: keep what they hold
            ids={r["id"] for r in table["rows"]},
        )
    output.show_compare(table, plot=args.plot, series=series)


def cmd_diff(s: KernelSession, args: argparse.Namespace) -> None:
    """``%mlvc diff [A [B]]``: what differs between two commits."""
    root, nb_file = _where(s, args)
    output.show_diff(service.diff(args.a, args.b, repo=root, notebook=nb_file))


def cmd_branch(s: KernelSession, args: argparse.Namespace) -> None:
    """``%mlvc branch [NAME]``: list branches, or create one and switch to it."""
    _, nb_file = s.notebook(args.notebook)
    root = s.repo(nb_file)
    if args.name is None:
        if find_root(root) is None:
            print("* main (no commits yet)")
            return
        for b in service.branches(repo=root, notebook=nb_file):
            mark = "*" if b["current"] else " "
            print(f"{mark} {b['name']}  {_short(b['head'])}")
        return
    if getattr(args, "switch_if_exists", False) and find_root(root) is not None:
        existing = {b["name"] for b in service.branches(repo=root, notebook=nb_file)}
        if args.name in existing:
            service.switch_branch(args.name, repo=root, notebook=nb_file)
            lineage.set_root(find_root(root) or root)
            print(f"Switched to branch {args.name} (it exists); new commits go to it.")
            return
    b = service.branch(args.name, None, repo=root, notebook=nb_file)
    lineage.set_root(find_root(root) or root)
    start = f" at {_short(b['head'])}" if b["head"] else " (no commits yet)"
    print(f"Created branch {b['name']}{start}; new commits go to it.")


def cmd_tag(s: KernelSession, args: argparse.Namespace) -> None:
    """``%mlvc tag [NAME [REV]] [-f]``: list tags, or tag a commit."""
    root, nb_file = _where(s, args)
    if args.name is None:
        tags = service.tags(repo=root, notebook=nb_file)
        for t in tags:
            print(f"{t['name']}  {_short(t['commit'])}")
        if not tags:
            print("No tags.")
        return
    t = service.tag(args.name, args.rev, repo=root, notebook=nb_file, force=args.force)
    print(f"Tagged {_short(t['commit'])} as {t['name']}")


def _print_restored(restored: list[str], failed: dict[str, Any], cid: str) -> None:
    if restored:
        print(f"Restored {', '.join(restored)} from {_short(cid)}")
    for name, why in failed.items():
        output.error(f"not restored {name}: {why}")


def cmd_restore(s: KernelSession, args: argparse.Namespace) -> None:
    """``%mlvc restore REV [VAR ...] [--trust]``: variables back into the kernel."""
    _where(s, args)
    done = s.restore(args.rev, args.vars or None, trust=args.trust, notebook=args.notebook)
    if not done.restored and not done.failed:
        print(f"Commit {_short(done.record['id'])} holds no variables.")
    _print_restored(done.restored, done.failed, done.record["id"])


def cmd_checkout(s: KernelSession, args: argparse.Namespace) -> None:
    """``%mlvc checkout REV [--vars-only | --notebook-only] [--trust] [--data [PATH ...]]``."""
    _where(s, args)
    res = s.checkout(
        args.rev,
        variables=not args.notebook_only,
        write_notebook=not args.vars_only,
        trust=args.trust,
        notebook=args.notebook,
        revert=False,
        data=checkout_data(args),
    )
    said = []
    if res["safety_commit"]:
        said.append(f"Saved your current state as commit {_short(res['safety_commit'])} first.")
    if res["data"] is not None:
        said.append(render.data_checkout_text(res["data"], undo=_DATA_UNDO))
    what = []
    if res["notebook_written"]:
        what.append("notebook written")
    said.append(
        f"Checked out {_short(res['commit'])} (branch {res['branch']})"
        + (f": {', '.join(what)}" if what else "")
    )
    print("\n".join(said))
    _print_restored(res["restored"], res["failed"], res["commit"])
    known, _ = s.notebook(args.notebook)
    if res["notebook_written"] and known is not None:
        # the reload replaces this cell's output: the frontend shows the message instead
        if res["restored"]:
            said.append(f"Restored {', '.join(res['restored'])}.")
        if res["failed"]:
            said.append(f"Not restored: {', '.join(res['failed'])}.")
        s.revert_notebook(known, " ".join(said))


def _track_target(s: KernelSession, args: argparse.Namespace) -> tuple[Path, str | None]:
    _, nb_file = s.notebook(args.notebook)
    root = s.repo(nb_file)
    if find_root(root) is None:
        root = service.init(root).root
    return root, s.rel_notebook(root, nb_file)


def cmd_track(s: KernelSession, args: argparse.Namespace) -> None:
    """``%mlvc track [GLOB]``: hash files matching GLOB at every commit."""
    root, nb = _track_target(s, args)
    if args.content_max is not None:
        service.set_content_max(args.content_max, repo=root)
    if args.glob is None:
        patterns = tracking.tracked(root, nb)
        print("\n".join(patterns) if patterns else "No tracked patterns.")
        content = service.content_settings(repo=root)
        if content["patterns"] or content["max_bytes"]:
            print(render.content_settings_text(content))
        return
    pattern = tracking.normalize(args.glob, root, Path.cwd())
    added = tracking.track(root, nb, pattern)
    matching, _ = tracking.existing(root, [pattern])
    note = "" if matching else " (it matches no file yet)"
    if args.content:
        service.track_content([str(root / pattern)], repo=root)
        note += ", with its content"
    print(f"{'Tracking' if added else 'Already tracking'} {pattern!r}{note}")


def cmd_untrack(s: KernelSession, args: argparse.Namespace) -> None:
    """``%mlvc untrack GLOB``: stop tracking GLOB."""
    root, nb = _track_target(s, args)
    pattern = tracking.normalize(args.glob, root, Path.cwd())
    if args.content:
        service.untrack_content([str(root / pattern)], repo=root)
        print(f"No longer storing the content of {pattern!r} (still hashed)")
        return
    if not tracking.untrack(root, nb, pattern):
        raise MlvcError(f"{pattern!r} is not tracked (see `%mlvc track`)")
    print(f"No longer tracking {pattern!r}")


def cmd_autocommit(s: KernelSession, args: argparse.Namespace) -> None:
    """``%mlvc autocommit on|off``: commit after each successful cell that changed state."""
    if args.state == "on":
        autocommit.enable(s)
    elif args.state == "off":
        autocommit.disable(s)
    print(f"autocommit is {'on' if s.autocommit else 'off'}")


def cmd_data(s: KernelSession, args: argparse.Namespace) -> None:
    """``%mlvc data checkout REV [PATH ...]``, ``%mlvc data undo [CHECKOUT]`` and
    ``%mlvc data diff [A] [B] [--key C]``."""
    if args.data_cmd is None:
        raise MlvcError(
            "usage: %mlvc data checkout REV [PATH ...] | undo [CHECKOUT] | diff [A] [B] [--key COL]"
        )
    root, nb_file = _where(s, args)
    nb = s.rel_notebook(root, nb_file)
    with lineage.paused():  # mlvc's own reads and writes are not the user's data
        if args.data_cmd == "checkout":
            res = service.data_checkout(
                args.rev, args.paths or None, repo=root, notebook=nb, dry_run=args.dry_run
            )
            print(render.data_checkout_text(res, undo=_DATA_UNDO))
        elif args.data_cmd == "undo":
            print(render.data_undo_text(service.data_undo(args.safety, repo=root)))
        else:
            diff = service.data_diff(args.a, args.b, key=args.key, repo=root, notebook=nb)
            print(render.data_diff_text(diff))


# -- evaluations of two model versions ----------------------------------------------------
def _show_evaluation(report: Mapping[str, Any]) -> None:
    from IPython.display import display

    from .. import render

    display(  # type: ignore[no-untyped-call]
        {"text/html": render.evaluation_html(report), "text/plain": render.evaluation_text(report)},
        raw=True,
    )


def _evaluation(s: KernelSession, args: argparse.Namespace) -> Any:
    root, nb_file = _where(s, args)
    return run_evaluation(args.cmd, args, repo=root, notebook=nb_file)


def cmd_evaluate(s: KernelSession, args: argparse.Namespace) -> None:
    """``%mlvc evaluate A B --data FILE --target COL ...``: paired comparison."""
    _show_evaluation(_evaluation(s, args))


def cmd_shadow(s: KernelSession, args: argparse.Namespace) -> None:
    """``%mlvc shadow A B --inputs FILE``: how two versions disagree on inputs."""
    _show_evaluation(_evaluation(s, args))


def cmd_canary(s: KernelSession, args: argparse.Namespace) -> None:
    """``%mlvc canary A B --stream FILE --target COL``: a simulated canary."""
    _show_evaluation(_evaluation(s, args))


def cmd_evaluations(s: KernelSession, args: argparse.Namespace) -> None:
    """``%mlvc evaluations [--all]``: the stored evaluations."""
    from .. import render

    print(render.evaluations_text(_evaluation(s, args)))


# -- lineage ---------------------------------------------------------------------------------
#: The MIME type JupyterLab (4.1+) draws as a Mermaid diagram.
MERMAID_MIME = "text/vnd.mermaid"


def cmd_lineage(s: KernelSession, args: argparse.Namespace) -> None:
    """``%mlvc lineage [SPEC] [--format text|json|mermaid] [--depth N]``: where a commit
    or model version came from. The text view is shown with the graph as a Mermaid
    diagram (JupyterLab draws it; other front ends show the text)."""
    import json

    from IPython.display import display

    root, nb_file = _where(s, args)
    lin = run_lineage(args, repo=root, notebook=nb_file)
    if args.format == "json":
        print(json.dumps(render.lineage_document(lin), indent=1))
    elif args.format == "mermaid":
        print(render.lineage_mermaid(lin))
    else:
        display(  # type: ignore[no-untyped-call]
            {MERMAID_MIME: render.lineage_mermaid(lin), "text/plain": render.lineage_text(lin)},
            raw=True,
        )


# -- the model registry --------------------------------------------------------------------
def cmd_model(s: KernelSession, args: argparse.Namespace) -> None:
    """``%mlvc model ACTION ...``: the model registry (the arguments of ``mlvc model``;
    ``register`` defaults to this kernel's notebook)."""
    root, nb_file = _where(s, argparse.Namespace(notebook=getattr(args, "notebook", None)))
    out = run_model(args, repo=root, notebook=nb_file)
    if args.json:
        print(json.dumps(out, indent=1, default=str))
    else:
        print(render.model_command_text(args.model_cmd, out))
    if model_failed(args, out):
        raise MlvcError(
            f"a gate of {args.alias!r} fails: {args.name} {args.version} would be refused"
        )
