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
from ..service import evaluation

COMMANDS = frozenset({"evaluate", "shadow", "canary", "evaluations"})


def _common(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("a", metavar="A", help="the current version (a revision with a model)")
    sp.add_argument("b", metavar="B", help="the candidate version")
    sp.add_argument("--variable", help="the model variable (default: the one model of each)")
    sp.add_argument("--trust", action="store_true", help="allow pickled models of others")
    sp.add_argument("--no-record", action="store_true", help="do not store the evaluation")


def add_parsers(cmd: Callable[..., Any]) -> None:
    """Add the commands through the CLI's ``cmd(name, help, notebook=, js=)`` helper."""
    sp = cmd("evaluate", "Compare two model versions on labeled data, with paired statistics.")
    _common(sp)
    sp.add_argument("--data", required=True, help="Parquet, CSV or JSON-lines test data")
    sp.add_argument("--target", required=True, help="the target column")
    sp.add_argument("--metric", help="accuracy,f1,roc_auc or rmse,mae (first: the verdict's)")
    sp.add_argument("--slice", help="also evaluate each value (quartile) of this column")
    sp.add_argument("--seed", type=int, help="bootstrap seed (recorded)")
    sp.add_argument("--level", type=float, default=evaluation.DEFAULT_LEVEL)
    sp.add_argument("--resamples", type=int, default=evaluation.DEFAULT_RESAMPLES)

    sp = cmd("shadow", "Replay recorded inputs through two versions: how they disagree.")
    _common(sp)
    sp.add_argument("--inputs", required=True, help="Parquet, CSV or JSON-lines inputs")
    sp.add_argument("--top", type=int, default=10, help="rows that disagree most to show")
    sp.add_argument("--latency-rows", type=int, default=200, help="one-row calls timed")
    sp.add_argument("--tolerance", type=float, default=0.0, help="regression: |A-B| allowed")

    sp = cmd("canary", "Simulate routing a share of a labeled stream to B, sequentially tested.")
    _common(sp)
    sp.add_argument("--stream", required=True, help="time-ordered labeled rows")
    sp.add_argument("--target", required=True, help="the target column")
    sp.add_argument("--fraction", type=float, default=0.05, help="share routed to B")
    sp.add_argument("--guard", default="accuracy_drop <= 0.01")
    sp.add_argument("--time-column", help="order the stream by this column")
    sp.add_argument("--seed", type=int, help="routing seed (recorded)")
    sp.add_argument("--level", type=float, default=evaluation.DEFAULT_LEVEL)

    sp = cmd("evaluations", "Stored evaluations, newest first.")
    sp.add_argument("--all", action="store_true", help="every notebook's evaluations")


def run(args: argparse.Namespace, notebook: str | None) -> int:
    """Run one of :data:`COMMANDS`; returns the exit status."""
    repo = args.repo
    out: Any
    if args.command == "evaluations":
        out = evaluation.evaluations(
            repo=repo, notebook=None if args.all else notebook, all_notebooks=args.all
        )
        print(json.dumps(out, indent=1, default=str) if args.json else render.evaluations_text(out))
        return 0
    common = {
        "variable": args.variable,
        "repo": repo,
        "notebook": notebook,
        "trust": args.trust,
        "record": not args.no_record,
    }
    if args.command == "evaluate":
        out = evaluation.evaluate(
            args.a,
            args.b,
            data=args.data,
            target=args.target,
            metrics=args.metric,
            slice=args.slice,
            seed=args.seed,
            level=args.level,
            resamples=args.resamples,
            **common,
        )
    elif args.command == "shadow":
        out = evaluation.shadow(
            args.a,
            args.b,
            inputs=args.inputs,
            top=args.top,
            latency_rows=args.latency_rows,
            tolerance=args.tolerance,
            **common,
        )
    else:
        out = evaluation.canary(
            args.a,
            args.b,
            stream=args.stream,
            target=args.target,
            fraction=args.fraction,
            guard=args.guard,
            time_column=args.time_column,
            seed=args.seed,
            level=args.level,
            **common,
        )
    print(json.dumps(out, indent=1, default=str) if args.json else render.evaluation_text(out))
    return 0
