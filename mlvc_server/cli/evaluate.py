"""The ``mlvc`` commands that compare two model versions: evaluate, shadow, canary,
evaluations. Registered by :mod:`mlvc_server.cli`; each prints the report
(``render.evaluation_text``) or, with ``--json``, the structure the service returns.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any

from .. import render
from ..args import EVALUATION_COMMANDS, add_evaluation_parsers, run_evaluation

COMMANDS = EVALUATION_COMMANDS


def add_parsers(cmd: Callable[..., Any]) -> None:
    """Add the commands through the CLI's ``cmd(name, help, notebook=, js=)`` helper."""
    add_evaluation_parsers(cmd)


def run(args: argparse.Namespace, notebook: str | None) -> int:
    """Run one of :data:`COMMANDS`; returns the exit status."""
    out = run_evaluation(args.command, args, repo=args.repo, notebook=notebook)
    if args.json:
        print(json.dumps(out, indent=1, default=str))
    elif args.command == "evaluations":
        print(render.evaluations_text(out))
    else:
        print(render.evaluation_text(out))
    return 0
