"""``mlvc model ...``: the model registry (register, list, show, promote, approve, gates,
rollback, history). The arguments are defined once in :mod:`mlvc_server.args` (the
``%mlvc model`` magic shares them); each prints ``render.model_command_text`` or, with
``--json``, what the service returns. ``promote --dry-run`` exits 1 when a gate fails.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from .. import render, service
from ..args import add_model_parsers, model_failed, run_model

COMMANDS = frozenset({"model"})


def add_parsers(sub: Any) -> None:
    """Add the ``model`` group to the CLI's subparsers."""
    help = "The model registry: versions, aliases, gated promotion, history."
    group = sub.add_parser("model", help=help, description=help)
    add_model_parsers(group.add_subparsers(dest="model_cmd", metavar="ACTION", required=True))


def run(args: argparse.Namespace) -> int:
    """Run one ``model`` subcommand; returns the exit status."""
    notebook = None
    if args.model_cmd == "register" and not args.notebook:
        notebook = service.default_notebook(repo=args.repo, notebook=None)
    out = run_model(args, repo=args.repo, notebook=notebook)
    if args.json:
        print(json.dumps(out, indent=1, default=str))
    else:
        print(render.model_command_text(args.model_cmd, out))
    return 1 if model_failed(args, out) else 0
