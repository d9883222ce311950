"""The ``mlvc`` commands that share and maintain a store: remote, push, pull, clone, gc, du.

Registered by :mod:`mlvc_server.cli`. ``push`` exits 1 when a ref was rejected (the
remote has commits the local branch lacks); everything else exits 0 unless an error
stops it.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from typing import Any

from .. import service
from ..args import parse_kv
from ..render import format_bytes as size

COMMANDS = frozenset({"remote", "push", "pull", "clone", "gc", "du"})


def add_parsers(cmd: Callable[..., Any]) -> None:
    """Add the commands through the CLI's ``cmd(name, help, notebook=, js=)`` helper."""
    sp = cmd("remote", "List, add or remove remotes (git URL + payload storage).", notebook=False)
    rsub = sp.add_subparsers(dest="remote_command", metavar="ACTION")
    ra = rsub.add_parser("add", help="add a remote", description="Add a remote.")
    ra.add_argument("name")
    ra.add_argument(
        "url", help="git URL: a path, file://, git://, ssh://, user@host:path, https://"
    )
    ra.add_argument(
        "--payloads",
        metavar="FSSPEC-URL",
        help="keep payload parts in object storage (s3://bucket/prefix, gs://, az://, "
        "file:///shared/folder): pushed there, fetched lazily on restore",
    )
    ra.add_argument(
        "--payload-option",
        action="append",
        type=parse_kv,
        default=[],
        metavar="K=V",
        help="an fsspec storage option for the payload remote (e.g. endpoint_url=...)",
    )
    ra.add_argument("--replace", action="store_true", help="change an existing remote")
    rl = rsub.add_parser("list", help="list remotes", description="List remotes.")
    rl.add_argument("--json", action="store_true", help="print JSON")
    rr = rsub.add_parser("remove", help="remove a remote", description="Remove a remote.")
    rr.add_argument("name")

    sp = cmd("push", "Push branches and tags (and payloads) to a remote.", notebook=False)
    sp.add_argument("remote", nargs="?", help="default: origin (or the only remote)")
    sp.add_argument("branches", nargs="*", metavar="BRANCH", help="branch, NOTEBOOK/BRANCH or ref")
    sp.add_argument("-f", "--force", action="store_true", help="overwrite diverged remote refs")

    sp = cmd("pull", "Fetch a remote and fast-forward local branches.", notebook=False)
    sp.add_argument("remote", nargs="?", help="default: origin (or the only remote)")
    sp.add_argument(
        "--accept-payloads",
        action="store_true",
        help="adopt the payload remote (where payload bytes go) that the remote publishes",
    )

    sp = cmd("clone", "Copy a remote's experiments into a new project folder.", notebook=False)
    sp.add_argument("url")
    sp.add_argument("directory", nargs="?")
    sp.add_argument("-o", "--origin", default="origin", help="name of the remote")
    sp.add_argument("--payloads", metavar="FSSPEC-URL", help="the payload remote to use")
    sp.add_argument("--payload-option", action="append", type=parse_kv, default=[], metavar="K=V")

    sp = cmd(
        "gc",
        "Free the payload bytes of commits outside a retention policy, and delete what "
        "nothing reachable needs.",
        notebook=False,
    )
    sp.add_argument("--keep-last", type=int, metavar="N", help="newest N commits per branch")
    sp.add_argument("--keep-tagged", action="store_true", help="commits a tag or alias names")
    sp.add_argument("--keep-newer-than", metavar="AGE", help="e.g. 30d, 12h, 2w")
    sp.add_argument("-n", "--dry-run", action="store_true", help="report only, change nothing")
    sp.add_argument(
        "--grace",
        metavar="AGE",
        help="never delete unreachable objects younger than this (default 1h; 'now' when "
        "no other process uses the store)",
    )

    sp = cmd(
        "du",
        "Disk usage: payload bytes per branch (and commit): unique, shared, local.",
        notebook=False,
    )
    sp.add_argument("--commits", action="store_true", help="also list every commit")


class _Progress:
    """Progress on stderr when it is a terminal (one line, rewritten)."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.last = 0.0

    def __call__(self, ev: dict[str, Any]) -> None:
        if not self.tty:
            return
        now = time.monotonic()
        if now - self.last < 0.1 and ev.get("phase") != "done":
            return
        self.last = now
        bits = [str(ev.get("phase", ""))]
        if "total" in ev:
            unit = size if "bytes" in str(ev.get("phase")) or "payload" in str(ev["phase"]) else str
            bits.append(f"{unit(ev.get('done', 0))}/{unit(ev['total'])}")
        elif "bytes" in ev:
            bits.append(size(ev["bytes"]))
        sys.stderr.write("\r\x1b[K" + " ".join(bits))
        if ev.get("phase") == "done":
            sys.stderr.write("\r\x1b[K")
        sys.stderr.flush()


def _print_refs(rows: list[dict[str, Any]]) -> None:
    for row in rows:
        if row["status"] != "up-to-date":
            print(f"  {row['message']}")
    same = sum(1 for r in rows if r["status"] == "up-to-date")
    if same:
        print(f"  {same} ref(s) up to date")


def run(args: argparse.Namespace) -> int:
    """Run one of :data:`COMMANDS`; returns the exit status."""
    repo = args.repo
    js = getattr(args, "json", False)
    out: Any = None
    code = 0
    progress = _Progress()
    if args.command == "remote":
        action = args.remote_command or "list"
        if action == "add":
            out = service.remote_add(
                args.name,
                args.url,
                repo=repo,
                payloads=args.payloads,
                payload_options=dict(args.payload_option),
                replace=args.replace,
            )
            if not js:
                extra = f" (payloads: {out['payloads']})" if out["payloads"] else ""
                print(f"Added remote {out['name']} {out['url']}{extra}")
        elif action == "remove":
            service.remote_remove(args.name, repo=repo)
            out = {"removed": args.name}
            if not js:
                print(f"Removed remote {args.name}")
        else:
            out = service.remotes(repo=repo)
            if not js:
                for r in out:
                    extra = f"  payloads: {r['payloads']}" if r["payloads"] else ""
                    print(f"{r['name']}\t{r['url']}{extra}")
    elif args.command == "push":
        out = service.push(
            args.remote, args.branches, repo=repo, force=args.force, progress=progress
        )
        code = 1 if out["rejected"] else 0
        if not js:
            print(f"To {out['url']} ({out['remote']})")
            _print_refs(out["refs"])
            p = out.get("payloads")
            if p:
                print(
                    f"  payloads: {p['uploaded']} part(s), {size(p['bytes'])} uploaded to "
                    f"{p['url']}; {p['present']} already there"
                )
                if p.get("not_here"):
                    print(
                        f"  warning: {p['not_here']} part(s) of pushed commits are not in this "
                        "store (pruned) and were not uploaded"
                    )
            if code:
                print(
                    f"mlvc: {out['rejected']} ref(s) rejected: nothing there was overwritten",
                    file=sys.stderr,
                )
    elif args.command == "pull":
        out = service.pull(
            args.remote, repo=repo, progress=progress, accept_payloads=args.accept_payloads
        )
        if not js:
            print(f"From {out['url']} ({out['remote']}): {out['objects']} object(s) received")
            _print_refs(out["refs"])
            if out["notebooks"]:
                print(f"  notebooks updated: {', '.join(out['notebooks'])}")
            if out.get("payloads_message"):
                print(f"  {out['payloads_message']}")
            if out["payloads"]:
                print(f"  payloads are fetched when restored, from {out['payloads']}")
    elif args.command == "clone":
        out = service.clone(
            args.url,
            args.directory,
            name=args.origin,
            payloads=args.payloads,
            payload_options=dict(args.payload_option),
            progress=progress,
        )
        if not js:
            branches = sum(1 for r in out["refs"] if r["kind"] == "branch")
            print(
                f"Cloned {out['url']} into {out['path']}: {branches} branch(es), "
                f"{out['objects']} object(s)"
            )
            if out["notebooks"]:
                print(f"  notebooks written: {', '.join(out['notebooks'])}")
            if out["payloads"]:
                print(f"  payloads are fetched when restored, from {out['payloads']}")
    elif args.command == "gc":
        out = service.gc(
            repo=repo,
            keep_last=args.keep_last,
            keep_tagged=args.keep_tagged,
            keep_newer_than=args.keep_newer_than,
            dry_run=args.dry_run,
            grace=args.grace,
            progress=progress,
        )
        if not js:
            verb = "would free" if out["dry_run"] else "freed"
            print(
                f"{verb} {size(out['bytes_freed'])}: {out['objects_deleted']} object(s), "
                f"{out['temp_files_deleted']} temporary file(s); payloads of "
                f"{len(out['commits_pruned'])} commit(s) pruned, {out['commits_kept']} kept"
            )
            print(
                f"objects: {size(out['bytes_before'])} -> {size(out['bytes_after'])}"
                + (" (dry run: nothing changed)" if out["dry_run"] else "")
            )
    elif args.command == "du":
        out = service.du(repo=repo, commits=args.commits)
        if not js:
            print(
                f"store on disk: {size(out['store_bytes'])}; payload bytes: "
                f"{size(out['payload_bytes_unique'])} named, "
                f"{size(out['payload_bytes_local'])} here"
            )
            for b in out["branches"]:
                print(
                    f"  {b['branch']}: {size(b['payload_bytes'])} in {b['commits']} commit(s) "
                    f"({size(b['unique_bytes'])} unique, {size(b['shared_bytes'])} shared, "
                    f"{size(b['local_bytes'])} here)"
                )
            for c in out.get("commits", []):
                print(
                    f"  {c['id'][:8]} {size(c['payload_bytes'])} "
                    f"({size(c['unique_bytes'])} unique, {size(c['shared_bytes'])} shared, "
                    f"{size(c['local_bytes'])} here) {c['message']}"
                )
    if js:
        print(json.dumps(out, indent=1, default=str))
    return code
