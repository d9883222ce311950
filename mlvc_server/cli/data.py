"""The ``mlvc`` commands for data files: ``track`` (whose content commits capture) and
``data checkout`` / ``data undo`` / ``data diff``.

Registered by :mod:`mlvc_server.cli`.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any

from .. import render, service

COMMANDS = frozenset({"track", "data"})


def add_parsers(cmd: Callable[..., Any]) -> None:
    """Add the commands through the CLI's ``cmd(name, help, notebook=, js=)`` helper."""
    sp = cmd(
        "track",
        "Capture the content of data files at every commit (no option: list the settings).",
        notebook=False,
    )
    sp.add_argument(
        "--content",
        action="append",
        default=[],
        metavar="GLOB",
        help="capture the files matching GLOB (** crosses folders), e.g. 'data/**'",
    )
    sp.add_argument(
        "--remove", action="store_true", help="stop capturing the --content patterns given"
    )
    sp.add_argument(
        "--content-max",
        metavar="SIZE",
        help="capture every data file a commit reads up to SIZE (e.g. 200M; 0: off); "
        "MLVC_DATA_CONTENT_MAX overrides it",
    )

    sp = cmd("data", "Data files the commits read: checkout, undo, diff.", notebook=False, js=False)
    dsub = sp.add_subparsers(dest="data_command", metavar="ACTION", required=True)

    def sub(name: str, help: str) -> Any:
        p = dsub.add_parser(name, help=help, description=help)
        p.add_argument("-N", "--notebook", help="the notebook whose history to use")
        p.add_argument("--json", action="store_true", help="print JSON")
        return p

    c = sub(
        "checkout",
        "Put the data files commit REV read back in place (current files that differ are "
        "kept under .mlvc/mlvc/data-safety/).",
    )
    c.add_argument("rev")
    c.add_argument("paths", nargs="*", metavar="PATH", help="files, folders or globs")
    c.add_argument("-n", "--dry-run", action="store_true", help="say what would be written")
    u = sub(
        "undo",
        "Put back the files a data checkout replaced, and remove those it created (files "
        "changed since are left alone).",
    )
    u.add_argument(
        "safety",
        nargs="?",
        metavar="CHECKOUT",
        help="the name the checkout printed (default: the last one not undone)",
    )

    d = sub("diff", "Data files changed between commits A and B (default HEAD~1 and HEAD).")
    d.add_argument("a", nargs="?", default="HEAD~1")
    d.add_argument("b", nargs="?", default="HEAD")
    d.add_argument("--key", metavar="COLUMN", help="compare rows of CSV/parquet by this column")
    d.add_argument("--no-rows", action="store_true", help="compare files and schemas only")


def run(args: argparse.Namespace) -> int:
    """Run one of :data:`COMMANDS`; returns the exit status."""
    repo = args.repo
    js = getattr(args, "json", False)
    out: Any
    text: str
    if args.command == "track":
        if args.content:
            fn = service.untrack_content if args.remove else service.track_content
            fn(args.content, repo=repo)
        if args.content_max is not None:
            service.set_content_max(args.content_max, repo=repo)
        out = service.content_settings(repo=repo)
        text = render.content_settings_text(out)
    elif args.data_command == "undo":  # no notebook: the record names the files
        out = service.data_undo(args.safety, repo=repo)
        text = render.data_undo_text(out)
    else:
        nb = service.default_notebook(repo=repo, notebook=args.notebook)
        if args.data_command == "checkout":
            out = service.data_checkout(
                args.rev, args.paths or None, repo=repo, notebook=nb, dry_run=args.dry_run
            )
            text = render.data_checkout_text(out)
        else:
            out = service.data_diff(
                args.a, args.b, key=args.key, repo=repo, notebook=nb, rows=not args.no_rows
            )
            text = render.data_diff_text(out)
    print(json.dumps(out, indent=1, default=str) if js else text)
    return 0
