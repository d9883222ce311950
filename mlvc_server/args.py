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


# -- checkout's data option: one definition for the CLI and the magic ---------------------
def add_checkout_data_option(sp: argparse.ArgumentParser) -> None:
    """``--data [PATH ...]`` of ``checkout``: also put back the data files the commit
    read (all of them that differ, or those PATHs and globs)."""
    sp.add_argument(
        "--data",
        nargs="*",
        metavar="PATH",
        default=None,
        help="also put back the data files REV read (all that differ, or PATHs/globs); "
        "each replaced file is kept as a safety copy",
    )


def checkout_data(args: argparse.Namespace) -> bool | list[str]:
    """``checkout``'s ``data=`` from ``--data``: False without it, True for all, else
    the paths."""
    chosen = getattr(args, "data", None)
    if chosen is None:
        return False
    return list(chosen) or True


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


# -- the model registry: ``mlvc model ...`` and ``%mlvc model ...`` -------------------------
#: The subcommands of the ``model`` group (dest ``model_cmd``).
MODEL_COMMANDS = (
    "register",
    "list",
    "show",
    "promote",
    "approve",
    "gates",
    "rollback",
    "history",
    "export",
)


def add_model_parsers(sub: Any) -> None:
    """Add the ``model`` group's subcommands to ``sub`` (the group's subparsers action,
    ``dest="model_cmd"``); every one takes ``--json``."""

    def cmd(name: str, help: str) -> argparse.ArgumentParser:
        sp: argparse.ArgumentParser = sub.add_parser(name, help=help, description=help)
        sp.add_argument("--json", action="store_true", help="print JSON")
        return sp

    sp = cmd("register", "Register VARIABLE of commit REV as the next version of model NAME.")
    sp.add_argument("name", metavar="NAME")
    sp.add_argument("rev", metavar="REV")
    sp.add_argument("variable", metavar="VARIABLE")
    sp.add_argument("--notebook", "-N", metavar="PATH", help="the notebook REV belongs to")
    sp.add_argument("-m", "--message", default="", metavar="MSG")
    cmd("list", "The registered models: latest version, aliases, gated aliases.")
    sp = cmd("show", "A model (NAME) or one version (NAME@3, NAME@production, NAME@latest).")
    sp.add_argument("spec", metavar="SPEC")
    sp = cmd("promote", "Point --alias at VERSION once every gate of the alias passes.")
    sp.add_argument("name", metavar="NAME")
    sp.add_argument("version", metavar="VERSION")
    sp.add_argument("--alias", required=True, metavar="ALIAS")
    sp.add_argument("--reason", required=True, metavar="TEXT", help="recorded in the history")
    sp.add_argument(
        "--dry-run", action="store_true", help="only check the gates (exit 1 if one fails)"
    )
    sp = cmd("approve", "Approve VERSION for --alias (the approvals gate counts distinct users).")
    sp.add_argument("name", metavar="NAME")
    sp.add_argument("version", metavar="VERSION")
    sp.add_argument("--alias", required=True, metavar="ALIAS")
    sp.add_argument("--comment", default="", metavar="TEXT")
    sp = cmd("gates", "Set the gates of --alias (replacing its gates; none given: remove them).")
    sp.add_argument("name", metavar="NAME")
    sp.add_argument("--alias", required=True, metavar="ALIAS")
    sp.add_argument("--metrics", metavar="QUERY", help="a query the version must match")
    sp.add_argument(
        "--evaluated",
        action="store_true",
        help="a stored evaluation must not find the current holder better",
    )
    sp.add_argument("--approvals", type=int, default=0, metavar="N", help="N distinct approvers")
    sp = cmd("rollback", "Move --alias back to the version it held before.")
    sp.add_argument("name", metavar="NAME")
    sp.add_argument("--alias", required=True, metavar="ALIAS")
    sp.add_argument("--reason", required=True, metavar="TEXT")
    sp = cmd("history", "Every change of model NAME, newest first: who, when, why, gates.")
    sp.add_argument("name", metavar="NAME")
    sp = cmd("export", "Write a model version to DIR for serving (checked before it is kept).")
    sp.add_argument("spec", metavar="SPEC", help="NAME, NAME@VERSION, NAME@ALIAS or REV:VARIABLE")
    sp.add_argument("dir", metavar="DIR", help="a new (or empty) folder")
    sp.add_argument("--format", required=True, choices=("mlflow", "onnx", "native"))
    sp.add_argument("--sample", metavar="FILE", help=".npy, Parquet, CSV or JSON-lines rows")
    sp.add_argument(
        "--tolerance", type=float, default=1e-4, help="ONNX: |onnx-original| <= T*(1+|original|)"
    )
    sp.add_argument("--trust", action="store_true", help="allow a pickle someone else wrote")
    sp.add_argument("--notebook", "-N", metavar="PATH", help="the notebook REV belongs to")


def run_model(
    args: argparse.Namespace, *, repo: Any, notebook: Any = None, user: str | None = None
) -> Any:
    """Call the registry service for a parsed ``model`` subcommand.

    Args:
        args: what :func:`add_model_parsers`' parsers gave.
        repo: the project.
        notebook: the front end's default notebook (``register`` without ``--notebook``).
        user: who acts (None: the local identity).
    """
    from .service import registry

    c = args.model_cmd
    if c == "register":
        return registry.register(
            args.name,
            args.rev,
            args.variable,
            repo=repo,
            notebook=args.notebook or notebook,
            message=args.message,
            user=user,
        )
    if c == "list":
        return registry.models(repo=repo)
    if c == "show":
        name, at = registry.parse_spec(args.spec)
        return (
            registry.model(name, repo=repo)
            if at is None
            else registry.resolve(args.spec, repo=repo)
        )
    if c == "promote":
        return registry.promote(
            args.name,
            args.version,
            args.alias,
            reason=args.reason,
            repo=repo,
            user=user,
            dry_run=args.dry_run,
        )
    if c == "approve":
        return registry.approve(
            args.name, args.version, args.alias, repo=repo, user=user, comment=args.comment
        )
    if c == "gates":
        return registry.set_gates(
            args.name,
            args.alias,
            metrics=args.metrics,
            evaluated=args.evaluated,
            approvals=args.approvals,
            repo=repo,
            user=user,
        )
    if c == "rollback":
        return registry.rollback(args.name, args.alias, reason=args.reason, repo=repo, user=user)
    if c == "history":
        return registry.history(args.name, repo=repo)
    if c == "export":
        from .service.exports import export

        return export(
            args.spec,
            args.format,
            args.dir,
            repo=repo,
            notebook=args.notebook or notebook,
            trust=args.trust,
            sample_rows=args.sample,
            tolerance=args.tolerance,
        )
    raise argparse.ArgumentTypeError(f"unknown model command {c!r}")


def model_failed(args: argparse.Namespace, out: Any) -> bool:
    """Whether a ``model`` command's result means failure (a dry run with a failed gate)."""
    return bool(
        args.model_cmd == "promote"
        and isinstance(out, dict)
        and not out.get("promoted")
        and not all(g["ok"] for g in out.get("gates", []))
    )
