"""History: log, show and the notebook of a commit.

``log`` walks commits newest first through a cache of summaries
(``.mlvc/mlvc/summaries.jsonl``, derived from immutable commits): a commit in the cache
costs a dict lookup, others are read once and appended.
"""

from __future__ import annotations

import heapq
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ..errors import RevisionNotFoundError
from ..store import Store, summaries
from ..store.refs import EVALUATIONS, HEADS, TAGS, branch_ref, notebook_key, split_ref
from ..store.revisions import last_notebook, notebook_refs, resolve
from .compat import legacy_positional
from .format import (
    ENV,
    HARDWARE,
    make_summary,
    notebook_blob,
    read_record,
    read_tree_json,
)
from .workspace import open_store, rel_notebook

if TYPE_CHECKING:
    from .format import Record, Summary


# -- the summaries cache (owned by store/summaries.py: verified lines only) --------------
def cache_summary(store: Store, summary: dict[str, Any]) -> None:
    """Append a commit's summary to the log cache (a full disk here never fails a commit
    that is already made)."""
    summaries.append(store, summary)


def load_summaries(store: Store) -> dict[str, dict[str, Any]]:
    """The cached summaries by commit id: only lines that verify (a damaged line is
    ignored, and its commit read again from the store)."""
    return summaries.load(store)


def walk_summaries(
    store: Store, heads: list[str], cache: dict[str, dict[str, Any]], limit: int | None
) -> Iterator[dict[str, Any]]:
    """Summaries of the commits reachable from ``heads``, newest first. Commits in the log
    cache cost a dict lookup; others are read once and added to the cache."""

    def get(cid: str) -> dict[str, Any]:
        s = cache.get(cid)
        if s is None or "ts" not in s:
            c = store.commit_obj(cid)
            parents = [p.decode() for p in c.parents]
            s = make_summary(cid, read_record(store, cid), parents, c.commit_time)
            cache[cid] = s
            cache_summary(store, s)
        return s

    def generation(cid: str) -> int:
        # 1 + the longest path to a root: a child always outranks its parents, which
        # orders commits made within the same second (commit times are whole seconds).
        stack = [cid]
        while stack:
            s = get(stack[-1])
            if "gen" in s:
                stack.pop()
                continue
            todo = [p for p in s["parents"] if "gen" not in get(p)]
            if todo:
                stack.extend(todo)
                continue
            s["gen"] = 1 + max((get(p)["gen"] for p in s["parents"]), default=0)
            stack.pop()
        gen: int = get(cid)["gen"]
        return gen

    heap: list[tuple[int, int, str]] = []
    seen: set[str] = set()

    def push(cid: str) -> None:
        if cid not in seen:
            seen.add(cid)
            heapq.heappush(heap, (-get(cid)["ts"], -generation(cid), cid))

    for h in heads:
        push(h)
    n = 0
    while heap and (limit is None or n < limit):
        *_, cid = heapq.heappop(heap)
        s = get(cid)
        yield s
        n += 1
        for p in s["parents"]:
            push(p)


def decorations(store: Store) -> dict[str, dict[str, list[str]]]:
    """Commit id -> ``branches`` and ``tags`` pointing at it."""
    deco: dict[str, dict[str, list[str]]] = {}
    for name, sha in store.all_refs().items():
        for prefix, kind in ((HEADS, "branches"), (TAGS, "tags")):
            split = split_ref(name, prefix)
            if split:
                deco.setdefault(sha, {}).setdefault(kind, []).append(split[1])
    return deco


def _notebook_heads(store: Store, nb: str | None, all_notebooks: bool) -> list[str]:
    if all_notebooks:
        heads = [
            sha
            for name, sha in store.refs_under(HEADS.encode()).items()
            if split_ref(name, HEADS) is not None
        ]
    else:
        heads = [sha for _name, sha in notebook_refs(store, HEADS, nb)]
    # evaluations of two versions (``kind: "evaluation"``) are listed in time order too
    evals = EVALUATIONS if all_notebooks else f"{EVALUATIONS}{notebook_key(nb)}/"
    heads.extend(store.refs_under(evals.encode()).values())
    return heads


@legacy_positional("repo", "notebook")
def log(
    *,
    repo: str | os.PathLike[str] = ".",
    notebook: str | os.PathLike[str] | None = None,
    branch: str | None = None,
    rev: str | None = None,
    limit: int | None = None,
    skip: int = 0,
    where: str | None = None,
) -> list[Summary]:
    """Commit summaries, newest first.

    Args:
        repo: a path inside the project.
        notebook: only this notebook's history (all branches); None: every notebook.
        branch: only commits reachable from this branch (of ``notebook``).
        rev: only commits reachable from this revision.
        limit, skip: pagination (of the commits that match ``where``).
        where: only commits matching this query (``metrics.acc > 0.9 and params.C < 1``;
            see :mod:`mlvc_server.service.query`).

    Each summary has ``id``, ``short_id``, ``message``, ``author``, ``email``, ``time``,
    ``branch``, ``notebook``, ``status``, ``params``, ``metrics``, ``variables`` (names),
    ``parents``, ``branches`` and ``tags`` (the refs pointing at it), and ``kind`` for a
    commit mlvc made on its own (``"safety"``) or an evaluation of two versions
    (``"evaluation"``, listed unless ``branch`` or ``rev`` is given).
    """
    pred = None
    if where is not None:
        from .query import compile_query  # lark loads only for a query

        pred = compile_query(where)
    store = open_store(repo)
    nb = rel_notebook(store, notebook)
    if rev:
        heads = [resolve(store, rev, nb)]
    elif branch:
        sha = store.ref(branch_ref(nb, branch))
        if sha is None:
            raise RevisionNotFoundError(f"no branch {branch!r} for {nb or 'this store'}")
        heads = [sha]
    else:
        heads = _notebook_heads(store, nb, notebook is None)
    cache = load_summaries(store)
    deco = decorations(store)
    out: list[Summary] = []
    stop = None if limit is None else skip + limit
    walk_limit = stop if pred is None else None
    seen = 0
    for summ in walk_summaries(store, heads, cache, walk_limit):
        if stop is not None and seen >= stop:
            break
        d = deco.get(summ["id"], {})
        entry: Any = {k: v for k, v in summ.items() if k not in ("ts", "gen")}
        entry["branches"] = d.get("branches", [])
        entry["tags"] = d.get("tags", [])
        if pred is not None and not pred(entry):
            continue
        seen += 1
        if seen > skip:
            out.append(entry)
    return out


def summary_of(store: Store, cid: str) -> Summary:
    """The log entry of one commit."""
    return log(repo=store.root, rev=cid, limit=1)[0]


@legacy_positional("repo", "notebook")
def show(
    rev: str = "HEAD",
    *,
    repo: str | os.PathLike[str] = ".",
    notebook: str | os.PathLike[str] | None = None,
) -> Record:
    """The full record of a commit: the record JSON plus ``id``, ``parents``, ``env``,
    ``hardware``, ``branches`` and ``tags``."""
    store = open_store(repo)
    nb = rel_notebook(store, notebook)
    cid = resolve(store, rev, nb)
    return record_of(store, cid)


@legacy_positional("repo", "notebook")
def record(
    rev: str = "HEAD",
    *,
    repo: str | os.PathLike[str] = ".",
    notebook: str | os.PathLike[str] | None = None,
) -> Record:
    """A commit's record (``mlvc.json``) with its ``id``: what :func:`show` gives without
    reading the environment, the hardware and every ref (the kernel's commit, status and
    restore need only this, after every cell with autocommit)."""
    store = open_store(repo)
    cid = resolve(store, rev, rel_notebook(store, notebook))
    rec = read_record(store, cid)
    rec["id"] = cid
    return rec


def record_of(store: Store, cid: str) -> Record:
    """:func:`show` for a resolved commit id."""
    c = store.commit_obj(cid)
    rec = read_record(store, cid)
    rec["env"] = read_tree_json(store, cid, ENV)
    rec["hardware"] = read_tree_json(store, cid, HARDWARE)
    rec.setdefault("skipped", {})
    rec.setdefault("data", {})
    rec.setdefault("sources", [])
    rec["id"] = cid
    rec["parents"] = [p.decode() for p in c.parents]
    d = decorations(store).get(cid, {})
    rec["branches"] = d.get("branches", [])
    rec["tags"] = d.get("tags", [])
    return rec


@legacy_positional("repo", "notebook")
def notebook_at(
    rev: str = "HEAD",
    *,
    repo: str | os.PathLike[str] = ".",
    notebook: str | os.PathLike[str] | None = None,
) -> bytes | None:
    """The notebook (JSON bytes) stored in a commit, or None if it holds none."""
    store = open_store(repo)
    nb = rel_notebook(store, notebook)
    return notebook_blob(store, resolve(store, rev, nb))


def default_notebook(
    *, repo: str | os.PathLike[str] = ".", notebook: str | os.PathLike[str] | None = None
) -> str | None:
    """``notebook`` when given, else the absolute path of the notebook last committed to
    (the one the store's HEAD follows), else None: what a terminal command means when
    it names no notebook."""
    if notebook:
        return str(notebook)
    store = open_store(repo)
    nb = last_notebook(store)
    return str(store.root / nb) if nb else None
