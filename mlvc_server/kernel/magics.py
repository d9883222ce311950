"""The ``%mlvc`` line magic: version control of the kernel's state from a notebook cell.

    %load_ext mlvc_server
    %mlvc commit -m "baseline" --param C=1.0 --metric acc=0.95
    %mlvc log
    %mlvc diff HEAD~1 HEAD
    %mlvc restore HEAD~1 clf
    %mlvc model register churn HEAD clf

A wrong call raises IPython's ``UsageError`` (shown without a traceback). An mlvc error
(an unknown revision, a name already taken...) fails the cell with one red line, not a
traceback: :class:`MlvcCommandError`.

This module imports only the standard library and IPython's magic machinery; the store,
numpy and friends load on the first command that needs them.
"""

from __future__ import annotations

import argparse
import shlex
from typing import Any, NoReturn

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_magic, magics_class

from ..args import (
    add_checkout_data_option,
    add_evaluation_parsers,
    add_lineage_parser,
    add_model_parsers,
    parse_kv,
)
from ..errors import MlvcCommandError, MlvcError
from .session import session_for

__all__ = ["MlvcCommandError", "MlvcMagics", "build_parser"]

_DESCRIPTION = "Version control for this kernel's experiments (variables, notebook, data)."
_EPILOG = "Run `%mlvc COMMAND --help` for a command's options."


def _drop_comment(line: str) -> str:
    """The line without a trailing ``# comment``: a ``#`` that starts a word outside
    quotes (IPython hands comments to line magics; ``-m fix#3`` keeps its ``#``)."""
    quote = ""
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i]
    return line


class _Exit(Exception):
    """argparse finished (``--help``): nothing more to do."""


class _Parser(argparse.ArgumentParser):
    """argparse that raises UsageError instead of exiting the kernel."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}\n{self.format_usage().strip()}")

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if message:
            print(message)
        raise _Exit


def _names(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise argparse.ArgumentTypeError("expected variable names separated by commas")
    return names


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``%mlvc`` (one subparser per command)."""
    p = _Parser(prog="%mlvc", description=_DESCRIPTION, epilog=_EPILOG)
    sub = p.add_subparsers(dest="cmd", metavar="COMMAND", parser_class=_Parser)
    nb = _Parser(add_help=False)
    nb.add_argument(
        "--notebook", metavar="PATH", help="the notebook (default: this kernel's notebook)"
    )

    def cmd(name: str, help: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = sub.add_parser(
            name, help=help, description=help, parents=[nb]
        )
        return parser

    c = cmd("init", "create the .mlvc/ store (default: in the current folder)")
    c.add_argument("path", nargs="?", default=None, metavar="PATH")
    cmd("status", "what changed since the last commit: variables, data, notebook")
    c = cmd("commit", "commit the variables, the notebook, the data read, params and metrics")
    c.add_argument("-m", "--message", required=True, metavar="MSG")
    c.add_argument("--param", action="append", type=parse_kv, default=[], metavar="K=V")
    c.add_argument("--metric", action="append", type=parse_kv, default=[], metavar="K=V")
    only = c.add_mutually_exclusive_group()
    only.add_argument("--vars", type=_names, metavar="A,B", help="only these variables")
    only.add_argument("--no-vars", action="store_true", help="no variables")
    c.add_argument("--branch", metavar="B", help="commit to this branch")
    c.add_argument(
        "--allow-secrets",
        action="store_true",
        help="store variables named like secrets, with readable previews",
    )
    c = cmd("log", "the notebook's history, newest first")
    c.add_argument("-n", type=int, default=20, metavar="N", help="at most N commits")
    c.add_argument("--all", action="store_true", help="every notebook's history")
    c.add_argument("--where", metavar="QUERY", help="only commits matching QUERY")
    c = cmd("compare", "params x metrics of commits as a table (* marks the best)")
    c.add_argument("revs", nargs="*", metavar="REV", help="these commits (default: the history)")
    c.add_argument("--where", metavar="QUERY", help="only commits matching QUERY")
    c.add_argument("-n", type=int, default=None, metavar="N", help="the newest N commits")
    c.add_argument("--all", action="store_true", help="every notebook's history")
    c.add_argument("--only-differing", action="store_true", help="only columns that differ")
    c.add_argument("--sort", metavar="FIELD", help="metrics.NAME (best first), params.NAME...")
    c.add_argument("--plot", action="store_true", help="a Vega-Lite chart of params vs metrics")
    c = cmd("diff", "differences between two commits (default HEAD~1 -> HEAD)")
    c.add_argument("a", nargs="?", metavar="A")
    c.add_argument("b", nargs="?", metavar="B")
    c = cmd("branch", "list branches, or create NAME from HEAD and switch to it")
    c.add_argument("name", nargs="?", metavar="NAME")
    c.add_argument(
        "--switch-if-exists",
        action="store_true",
        help="switch to NAME if it exists instead of failing (a notebook run twice)",
    )
    c = cmd("checkout", "go back to REV: notebook and variables (current state saved first)")
    c.add_argument("rev", metavar="REV")
    which = c.add_mutually_exclusive_group()
    which.add_argument("--vars-only", action="store_true", help="restore variables only")
    which.add_argument("--notebook-only", action="store_true", help="write the notebook only")
    c.add_argument("--trust", action="store_true", help="load pickles that others wrote")
    add_checkout_data_option(c)
    c = cmd("restore", "put variables of REV back in the kernel (all, or VAR ...)")
    c.add_argument("rev", metavar="REV")
    c.add_argument("vars", nargs="*", metavar="VAR")
    c.add_argument("--trust", action="store_true", help="load pickles that others wrote")
    c = cmd("track", "hash files matching GLOB at every commit (no GLOB: list them)")
    c.add_argument("glob", nargs="?", metavar="GLOB")
    c.add_argument(
        "--content", action="store_true", help="also store their content (chunked, deduplicated)"
    )
    c.add_argument(
        "--content-max",
        metavar="SIZE",
        help="store the content of every data file read up to SIZE (e.g. 200M; 0: off)",
    )
    c = cmd("untrack", "stop tracking GLOB")
    c.add_argument("glob", metavar="GLOB")
    c.add_argument("--content", action="store_true", help="stop storing their content only")
    c = cmd("data", "data files a commit read: checkout REV [PATH ...], undo, diff [A] [B]")
    dsub = c.add_subparsers(dest="data_cmd", metavar="ACTION", parser_class=_Parser)
    d = dsub.add_parser("checkout", help="put the data files REV read back in place")
    d.add_argument("rev", metavar="REV")
    d.add_argument("paths", nargs="*", metavar="PATH")
    d.add_argument("-n", "--dry-run", action="store_true", help="say what would be written")
    d = dsub.add_parser("undo", help="put the files of a data checkout back (default: the last)")
    d.add_argument("safety", nargs="?", metavar="CHECKOUT", help="the name checkout printed")
    d = dsub.add_parser("diff", help="data files changed from A to B (default HEAD~1 HEAD)")
    d.add_argument("a", nargs="?", default="HEAD~1", metavar="A")
    d.add_argument("b", nargs="?", default="HEAD", metavar="B")
    d.add_argument("--key", metavar="COLUMN", help="compare rows by this column")
    c = cmd("tag", "tag REV (default HEAD) as NAME (no NAME: list tags)")
    c.add_argument("name", nargs="?", metavar="NAME")
    c.add_argument("rev", nargs="?", metavar="REV")
    c.add_argument("-f", "--force", action="store_true", help="move an existing tag")
    add_evaluation_parsers(cmd)
    add_lineage_parser(cmd)
    help = "the model registry: register, list, show, promote, approve, gates, rollback, history"
    c = sub.add_parser("model", help=help, description=help)
    add_model_parsers(
        c.add_subparsers(dest="model_cmd", metavar="ACTION", parser_class=_Parser, required=True)
    )
    c = cmd("autocommit", "commit after every successful cell that changed something")
    c.add_argument("state", nargs="?", choices=["on", "off"])
    return p


@magics_class
class MlvcMagics(Magics):
    """The ``%mlvc`` magic and the per-cell autocommit hook."""

    def __init__(self, shell: Any) -> None:
        super().__init__(shell)
        self.session = session_for(shell)
        self._parser: argparse.ArgumentParser | None = None

    @property
    def parser(self) -> argparse.ArgumentParser:
        if self._parser is None:
            self._parser = build_parser()
        return self._parser

    @line_magic
    def mlvc(self, line: str) -> None:
        """Version control for this kernel's experiments. Run ``%mlvc --help``."""
        try:
            argv = shlex.split(_drop_comment(line))
        except ValueError as e:
            raise UsageError(f"%mlvc: {e}") from None
        try:
            args = self.parser.parse_args(argv)
        except _Exit:
            return
        if args.cmd is None:
            self.parser.print_help()
            return
        from . import commands

        try:
            getattr(commands, f"cmd_{args.cmd}")(self.session, args)
        except MlvcCommandError:
            raise
        except MlvcError as e:
            raise MlvcCommandError(str(e)) from None

    def close(self) -> None:
        """Stop autocommitting (the extension is unloaded)."""
        from . import autocommit

        autocommit.disable(self.session)
