"""Argument parsing shared by the ``mlvc`` CLI and the ``%mlvc`` magics (no heavy imports)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any


def parse_kv(text: str) -> tuple[str, Any]:
    """``k=v`` with ``v`` parsed as JSON when it parses, else kept as a string."""
    if "=" not in text or text.startswith("="):
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    key, value = text.split("=", 1)
    try:
        return key, json.loads(value)
    except ValueError:
        return key, value


# -- evaluate, shadow, canary, evaluations: one definition for the CLI and the magics ----
#: The options of each evaluation command that go to its service function as they are
#: (``metric`` becomes ``metrics``). Options left unset keep the service's defaults.
_EVALUATION_OPTIONS: dict[str, tuple[str, ...]] = {
    "evaluate": ("data", "target", "metric", "slice", "seed", "level", "resamples"),
    "shadow": ("inputs", "top", "latency_rows", "tolerance"),
    "canary": ("stream", "target", "fraction", "guard", "time_column", "seed", "level"),
}
EVALUATION_COMMANDS = frozenset({*_EVALUATION_OPTIONS, "evaluations"})


def add_evaluation_parsers(cmd: Any) -> None:
    """Add ``evaluate``, ``shadow``, ``canary`` and ``evaluations`` through a front end's
    ``cmd(name, help)`` helper (which returns the subcommand's parser)."""

    def versions(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("a", metavar="A", help="the current version (a revision with a model)")
        sp.add_argument("b", metavar="B", help="the candidate version")
        sp.add_argument("--variable", help="the model variable (default: the one model of each)")
        sp.add_argument("--trust", action="store_true", help="allow pickled models of others")
        sp.add_argument("--no-record", action="store_true", help="do not store the evaluation")

    sp = cmd("evaluate", "Compare two model versions on labeled data, with paired statistics.")
    versions(sp)
    sp.add_argument("--data", required=True, help="Parquet, CSV or JSON-lines test data")
    sp.add_argument("--target", required=True, help="the target column")
    sp.add_argument("--metric", help="accuracy,f1,roc_auc or rmse,mae (first: the verdict's)")
    sp.add_argument("--slice", help="also evaluate each value (quartile) of this column")
    sp.add_argument("--seed", type=int, help="bootstrap seed (recorded)")
    sp.add_argument("--level", type=float, help="confidence level (default 0.95)")
    sp.add_argument("--resamples", type=int, help="bootstrap resamples (default 1000)")

    sp = cmd("shadow", "Replay recorded inputs through two versions: how they disagree.")
    versions(sp)
    sp.add_argument("--inputs", required=True, help="Parquet, CSV or JSON-lines inputs")
    sp.add_argument("--top", type=int, help="rows that disagree most to show (default 10)")
    sp.add_argument("--latency-rows", type=int, help="one-row calls timed (default 200)")
    sp.add_argument("--tolerance", type=float, help="regression: |A-B| allowed (default 0)")

    sp = cmd("canary", "Simulate routing a share of a labeled stream to B, sequentially tested.")
    versions(sp)
    sp.add_argument("--stream", required=True, help="time-ordered labeled rows")
    sp.add_argument("--target", required=True, help="the target column")
    sp.add_argument("--fraction", type=float, help="share routed to B (default 0.05)")
    sp.add_argument("--guard", help="the guard (default 'accuracy_drop <= 0.01')")
    sp.add_argument("--time-column", help="order the stream by this column")
    sp.add_argument("--seed", type=int, help="routing seed (recorded)")
    sp.add_argument("--level", type=float, help="confidence level (default 0.95)")

    sp = cmd("evaluations", "Stored evaluations, newest first.")
    sp.add_argument("--all", action="store_true", help="every notebook's evaluations")


def run_evaluation(command: str, args: argparse.Namespace, **where: Any) -> Any:
    """Call the service function of an evaluation command with the parsed options.

    Args:
        command: ``evaluate``, ``shadow``, ``canary`` or ``evaluations``.
        args: what :func:`add_evaluation_parsers`' parsers gave.
        **where: ``repo`` and ``notebook`` as the front end found them.

    Returns:
        The report (a list of them for ``evaluations``).
    """
    from .service import evaluation

    if command == "evaluations":
        notebook = None if args.all else where.get("notebook")
        return evaluation.evaluations(repo=where["repo"], notebook=notebook, all_notebooks=args.all)
    options = {
        ("metrics" if name == "metric" else name): getattr(args, name)
        for name in _EVALUATION_OPTIONS[command]
        if getattr(args, name) is not None
    }
    call: Callable[..., Any] = evaluation.canary
    if command == "evaluate":
        call = evaluation.evaluate
    elif command == "shadow":
        call = evaluation.shadow
    return call(
        args.a,
        args.b,
        variable=args.variable,
        trust=args.trust,
        record=not args.no_record,
        **where,
        **options,
    )


# -- lineage: one definition for the CLI and the magics ------------------------------------
LINEAGE_FORMATS = ("text", "json", "mermaid")


def add_lineage_parser(cmd: Any) -> None:
    """Add ``lineage`` through a front end's ``cmd(name, help)`` helper."""
    sp = cmd(
        "lineage",
        "Where a commit or model version came from: data read (by hash) <- the commits "
        "of any notebook that wrote it, sources, model versions and aliases.",
    )
    sp.add_argument(
        "spec",
        nargs="?",
        default="HEAD",
        metavar="SPEC",
        help="a revision (default HEAD) or a model version NAME@VERSION|ALIAS",
    )
    sp.add_argument(
        "--format", choices=LINEAGE_FORMATS, default="text", help="text (a tree), json, mermaid"
    )
    sp.add_argument("--depth", type=int, help="data hops to follow upstream (default 8)")
    which = sp.add_mutually_exclusive_group()
    which.add_argument("--rev", action="store_true", help="SPEC is a revision")
    which.add_argument("--model", action="store_true", help="SPEC is a model version")


def run_lineage(args: argparse.Namespace, **where: Any) -> Any:
    """Call ``service.lineage`` with the parsed options; ``where``: ``repo`` and
    ``notebook`` as the front end found them."""
    from .service import lineage

    of = "model" if args.model else "rev" if args.rev else "auto"
    options = {"depth": args.depth} if args.depth is not None else {}
    return lineage(args.spec, of=of, **where, **options)
