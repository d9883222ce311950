"""The ``mlvc`` command line: the same operations as the Python API, for terminals and CI.

Every read command takes ``--json`` and then prints the structure the Python API returns.
Exit status: 0 on success, 1 on an mlvc error (the message says why), 2 on a usage error;
``fsck`` exits 1 when it finds a problem, ``run`` when a cell failed (the run is committed).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

from .. import __version__, render, service
from ..args import add_lineage_parser, parse_kv, run_lineage
from ..errors import MlvcError
from . import data, evaluate, model, sweep, sync


class _Skipped:
    """Stands in for the parser of a command that this run does not use: every call is
    accepted and ignored (building ~30 argparse parsers costs more than Python's start)."""

    def __getattr__(self, name: str) -> Any:
        return lambda *a, **kw: self


_COLUMNS: list[int] = []


def _columns() -> int:
    """The terminal's width, as ``shutil.get_terminal_size`` finds it (``COLUMNS``, then
    stdout's terminal, else 80), once per process."""
    if not _COLUMNS:
        columns = 0
        with contextlib.suppress(KeyError, ValueError):
            columns = int(os.environ["COLUMNS"])
        if columns <= 0:
            try:
                columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
            except (AttributeError, ValueError, OSError):
                columns = 0
        _COLUMNS.append(columns or 80)
    return _COLUMNS[0]


class _Formatter(argparse.HelpFormatter):
    """argparse's formatter, with the terminal's width looked up once: argparse's own makes
    one per argument added and each imports ``shutil`` and asks the terminal again."""

    def __init__(
        self,
        prog: str,
        indent_increment: int = 2,
        max_help_position: int = 24,
        width: int | None = None,
    ) -> None:
        super().__init__(
            prog, indent_increment, max_help_position, _columns() - 2 if width is None else width
        )


class _Parser(argparse.ArgumentParser):
    """The CLI's parsers (subparsers are made of the same class): with :class:`_Formatter`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)


def _command_in(argv: Sequence[str]) -> str | None:
    """The subcommand that ``argv`` names (None when it names none, or asks for help
    or the version before it: then every command's parser is built)."""
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg in ("-C", "--repo"):
            i += 2
            continue
        if arg.startswith("--repo="):
            i += 1
            continue
        if arg.startswith("-"):
            return None
        return arg
    return None


def _parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser; with ``only``, only that command's parser is built (when ``only`` names
    no command, the whole parser is, so that argparse's message lists the choices)."""
    p = _Parser(prog="mlvc", description="Version control for machine-learning experiments.")
    p.add_argument("--version", action="version", version=f"mlvc {__version__}")
    p.add_argument("-C", "--repo", default=".", help="a path inside the project (default: .)")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def cmd(name: str, help: str, *, notebook: bool = True, js: bool = True) -> Any:
        if only is not None and name != only:
            return _Skipped()
        sp = sub.add_parser(name, help=help, description=help)
        if notebook:
            sp.add_argument(
                "-N",
                "--notebook",
                help="the notebook whose history to use (default: the last one committed)",
            )
        if js:
            sp.add_argument("--json", action="store_true", help="print JSON")
        return sp

    sp = cmd("init", "Create the .mlvc store in a folder.", notebook=False, js=False)
    sp.add_argument("path", nargs="?", default=None)

    sp = cmd("status", "What a commit would record now, against HEAD.")
    sp.add_argument("--data", action="append", default=[], metavar="GLOB")

    sp = cmd("commit", "Commit a notebook (without kernel variables) with params/metrics.")
    sp.add_argument("-m", "--message", required=True)
    sp.add_argument("--param", action="append", type=parse_kv, default=[], metavar="K=V")
    sp.add_argument("--metric", action="append", type=parse_kv, default=[], metavar="K=V")
    sp.add_argument("--data", action="append", default=[], metavar="GLOB")
    sp.add_argument(
        "--output",
        action="append",
        default=[],
        metavar="GLOB",
        help="a file the run wrote (its hash links readers back to this commit: lineage)",
    )
    sp.add_argument("--branch")
    sp.add_argument(
        "--allow-secrets", action="store_true", help="keep what looks like a secret readable"
    )

    sp = cmd("log", "Commits, newest first.")
    sp.add_argument("-n", "--limit", type=int)
    sp.add_argument("--skip", type=int, default=0)
    sp.add_argument("--branch")
    sp.add_argument("--all", action="store_true", help="every notebook's commits")
    sp.add_argument(
        "--where", metavar="QUERY", help="only commits matching QUERY ('metrics.acc > 0.9')"
    )

    sp = cmd("compare", "Params x metrics of commits as a table; * marks the best of each metric.")
    sp.add_argument("revs", nargs="*", metavar="REV", help="these commits (default: the history)")
    sp.add_argument("--where", metavar="QUERY", help="only commits matching QUERY")
    sp.add_argument("--branch", help="only commits reachable from this branch")
    sp.add_argument("-n", "--limit", type=int, help="the newest N commits (default: all)")
    sp.add_argument("--all", action="store_true", help="every notebook's commits")
    sp.add_argument(
        "--only-differing", action="store_true", help="leave out columns equal in every row"
    )
    sp.add_argument("--sort", metavar="FIELD", help="metrics.NAME (best first), params.NAME...")
    sp.add_argument("--csv", action="store_true", help="print CSV")

    sp = cmd("show", "One commit's record.")
    sp.add_argument("rev", nargs="?", default="HEAD")

    sp = cmd("diff", "Differences between two commits (default HEAD~1 and HEAD).")
    sp.add_argument("a", nargs="?")
    sp.add_argument("b", nargs="?")
    sp.add_argument("--no-cells", action="store_true", help="skip the notebook cell diff")

    sp = cmd("branch", "List branches, or create NAME (and switch to it).")
    sp.add_argument("name", nargs="?")
    sp.add_argument("--from", dest="rev", metavar="REV")
    sp.add_argument("--no-switch", action="store_true")
    sp.add_argument("-d", "--delete", action="store_true")
    sp.add_argument("-s", "--switch", action="store_true", help="switch to an existing branch")

    sp = cmd("checkout", "Put a commit's notebook back (a branch also becomes current).")
    sp.add_argument("rev")
    sp.add_argument("--no-safety-commit", action="store_true")

    sp = cmd("tag", "List tags, or tag REV (default HEAD) as NAME.")
    sp.add_argument("name", nargs="?")
    sp.add_argument("rev", nargs="?")
    sp.add_argument("-f", "--force", action="store_true", help="move an existing tag")
    sp.add_argument("-d", "--delete", action="store_true")

    sp = cmd("fsck", "Verify every ref, object and payload in the store.", notebook=False)
    sp.add_argument(
        "--repair",
        action="store_true",
        help="move damaged refs back to their last complete state (old values are logged)",
    )
    sync.add_parsers(cmd)  # remote, push, pull, clone, gc, du
    data.add_parsers(cmd)  # track, data checkout, data diff
    evaluate.add_parsers(cmd)  # evaluate, shadow, canary, evaluations
    add_lineage_parser(cmd)
    if only is None or only in model.COMMANDS:
        model.add_parsers(sub)  # model register/list/show/promote/approve/gates/rollback/history

    sp = cmd(
        "run",
        "Execute a notebook headless in a kernel and commit the run (exit 1 if a cell fails).",
        notebook=False,
    )
    sp.add_argument("notebook_file", metavar="NOTEBOOK")
    sp.add_argument(
        "-p",
        "--param",
        action="append",
        type=parse_kv,
        default=[],
        metavar="NAME=VALUE",
        help="a parameter, set in a cell after the one tagged `parameters`",
    )
    sp.add_argument("-m", "--message", help="the commit message (default: run NOTEBOOK params)")
    sp.add_argument("--branch", help="commit on this branch (created from HEAD if new)")
    sp.add_argument("--timeout", type=float, metavar="S", help="seconds a cell may run")
    sp.add_argument("--kernel", metavar="NAME", help="kernel (default: the notebook's)")
    sp.add_argument("--output", metavar="PATH", help="also write the executed notebook here")
    sp.add_argument(
        "--require",
        action="append",
        default=[],
        metavar="QUERY",
        help="exit 1 unless the run's commit matches QUERY ('metrics.acc >= 0.9'); repeatable",
    )
    sweep.add_parser(cmd)
    if only is not None and only not in sub.choices:
        return _parser(None)
    return p


def _notebook(repo: str, notebook: str | None) -> str | None:
    """The notebook given, else the one the store's HEAD follows."""
    return service.default_notebook(repo=repo, notebook=notebook)


def _run(args: argparse.Namespace) -> int:
    repo = args.repo
    out: Any = None
    js = getattr(args, "json", False)
    if args.command == "init":
        st = service.init(args.path or repo)
        print(f"Initialized mlvc store in {st.path}")
        return 0
    if args.command in sync.COMMANDS:
        return sync.run(args)
    if args.command in data.COMMANDS:
        return data.run(args)
    if args.command in model.COMMANDS:
        return model.run(args)
    nbarg = getattr(args, "notebook", None)
    if args.command in evaluate.COMMANDS:
        return evaluate.run(args, _notebook(repo, nbarg))
    if args.command == "log":
        nb = None if args.all else _notebook(repo, nbarg)
        out = service.log(
            repo=repo,
            notebook=nb,
            branch=args.branch,
            limit=args.limit,
            skip=args.skip,
            where=args.where,
        )
        if not js:
            print(render.log_text(out) if out or not args.where else "No commit matches.")
    elif args.command == "compare":
        nb = None if args.all else _notebook(repo, nbarg)
        out = service.compare(
            repo=repo,
            notebook=nb,
            revs=args.revs or None,
            branch=args.branch,
            limit=args.limit,
            where=args.where,
            sort=args.sort,
            only_differing=args.only_differing,
        )
        if args.csv:
            sys.stdout.write(render.compare_csv(out))
            return 0
        if not js:
            print(render.compare_text(out))
    elif args.command == "commit":
        cid = service.commit(
            args.message,
            repo=repo,
            notebook=nbarg,
            params=dict(args.param),
            metrics=dict(args.metric),
            data=args.data or None,
            outputs=args.output or None,
            branch=args.branch,
            sources=False,
            allow_secrets=args.allow_secrets,
        )
        out = service.show(cid, repo=repo)
        if not js:
            print(f"[{out['branch']} {cid[:8]}] {args.message}")
    elif args.command == "status":
        nb = _notebook(repo, nbarg)
        out = service.status(repo=repo, notebook=nb, data=args.data or None)
        if not js:
            print(
                f"On branch {out['branch']}"
                + (f" at {out['head'][:8]}" if out["head"] else " (no commits yet)")
            )
            if out["notebook"]:
                n = out["notebook"]
                state = "changed" if n["changed"] else "unchanged" if n["exists"] else "missing"
                print(f"notebook {n['path']}: {state}")
            for path, s in out["data"].items():
                print(f"data {path}: {s}")
    elif args.command == "show":
        out = service.show(args.rev, repo=repo, notebook=_notebook(repo, nbarg))
        if not js:
            print(render.show_text(out))
    elif args.command == "diff":
        out = service.diff(
            args.a, args.b, repo=repo, notebook=_notebook(repo, nbarg), cells=not args.no_cells
        )
        if not js:
            print(render.render_diff_text(out))
    elif args.command == "branch":
        nb = _notebook(repo, nbarg)
        if args.name is None:
            out = service.branches(repo=repo, notebook=nb)
            if not js:
                for b in out:
                    print(
                        f"{'*' if b['current'] else ' '} {b['name']}"
                        + (f" {b['head'][:8]}" if b["head"] else "")
                    )
        elif args.delete:
            service.delete_branch(args.name, repo=repo, notebook=nb)
            out = {"deleted": args.name}
        elif args.switch:
            service.switch_branch(args.name, repo=repo, notebook=nb)
            out = {"current": args.name}
        else:
            out = service.branch(
                args.name, args.rev, repo=repo, notebook=nb, switch=not args.no_switch
            )
            if not js:
                print(
                    f"Created branch {args.name}"
                    + (" and switched to it" if out["current"] else "")
                )
    elif args.command == "checkout":
        nb = _notebook(repo, nbarg)
        out = service.checkout(
            args.rev, repo=repo, notebook=nb, safety_commit=not args.no_safety_commit
        )
        if not js:
            if out["safety_commit"]:
                print(f"Committed your unsaved notebook first: {out['safety_commit'][:8]}")
            print(
                f"Checked out {out['commit'][:8]} (branch {out['branch']})"
                + ("; notebook written" if out["notebook_written"] else "")
            )
            if out["variables"]:
                print(
                    "Variables in that commit (restore them in the kernel with "
                    f"%mlvc restore {out['commit'][:8]}): {', '.join(out['variables'])}"
                )
    elif args.command == "tag":
        nb = _notebook(repo, nbarg)
        if args.name is None:
            out = service.tags(repo=repo, notebook=nb)
            if not js:
                for t in out:
                    print(f"{t['name']} {t['commit'][:8]}")
        else:
            out = service.tag(
                args.name,
                args.rev,
                repo=repo,
                notebook=nb,
                force=args.force,
                delete=args.delete,
            )
            if not js:
                print(
                    f"Deleted tag {args.name}"
                    if args.delete
                    else f"Tagged {out['commit'][:8]} as {args.name}"
                )
    elif args.command == "fsck":
        out = service.fsck(repo=repo, repair=args.repair)
        if not js:
            for fix in out.get("repaired", []):
                print(f"repaired {fix['ref']}: {fix['problem']}; {fix['action']}")
            for prob in out["problems"]:
                print(f"error: {prob}")
            print(
                f"{'ok' if out['ok'] else 'FAILED'}: {out['commits']} commits, "
                f"{out['objects']} objects, {render.format_bytes(out['bytes'])} verified"
            )
        if js:
            print(json.dumps(out, indent=1))
        return 0 if out["ok"] else 1
    elif args.command == "lineage":
        lin = run_lineage(args, repo=repo, notebook=nbarg)
        if js or args.format == "json":
            print(json.dumps(render.lineage_document(lin), indent=1))
        elif args.format == "mermaid":
            print(render.lineage_mermaid(lin))
        else:
            print(render.lineage_text(lin))
        return 0
    elif args.command == "run":
        return _run_notebook(args)
    elif args.command == "sweep":
        return sweep.run(args)
    if js:
        print(json.dumps(out, indent=1, default=str))
    return 0


def _run_notebook(args: argparse.Namespace) -> int:
    """``mlvc run``: 0 when every cell ran, 1 when one failed (the run is committed)."""
    from .run import run_notebook

    for q in args.require:
        service.compile_query(q)  # a bad gate fails before the run, not after it
    res = run_notebook(
        args.notebook_file,
        dict(args.param),
        message=args.message,
        branch=args.branch,
        timeout=args.timeout,
        kernel=args.kernel,
        output=args.output,
        repo=args.repo,
        echo=not args.json,
    )
    rec = res.record
    if res.error is not None:
        print(res.traceback, file=sys.stderr)
        print(
            f"mlvc: cell {res.error['cell']} failed: {res.error['ename']}: {res.error['evalue']}",
            file=sys.stderr,
        )
    if args.json:
        print(json.dumps(rec, indent=1, default=str))
    else:
        what = "Committed" if res.status == "ok" else "Committed the failed run as"
        print(f"{what} {res.commit[:8]} on {rec.get('branch')} ({rec.get('notebook')})")
    if res.status != "ok":
        return 1
    return _check_requirements(args.require, args.repo, res.commit)


def _check_requirements(queries: list[str], repo: str, cid: str) -> int:
    """``--require``: 0 when the commit matches every query, else 1 with what was unmet."""
    if not queries:
        return 0
    summary = service.log(repo=repo, rev=cid, limit=1)[0]
    unmet = [q for q in queries if not service.matches(q, summary)]
    for q in unmet:
        print(
            f"mlvc: requirement not met: {q} (run {cid[:8]}: "
            f"metrics {render.kv_text(summary['metrics']) or 'none'}; "
            f"params {render.kv_text(summary['params']) or 'none'})",
            file=sys.stderr,
        )
    return 1 if unmet else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``mlvc`` console script."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = _parser(_command_in(argv)).parse_args(argv)
    try:
        return _run(args)
    except MlvcError as e:
        print(f"mlvc: error: {e}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # `mlvc log | head`
        return 0


if __name__ == "__main__":
    sys.exit(main())
