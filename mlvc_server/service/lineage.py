"""Lineage: where a commit (or a registered model version) came from, across notebooks.

A commit records the data files it read (``data``: path -> hash) and the files it wrote
(``outputs``, the same hashes). Lineage links them by *content*: a data file a commit
read points back to the commits, in any notebook, whose outputs have the same hash, and
from those to what *they* read, and so on. A later rewrite of the file (another hash)
never moves an old link, and a file copied or renamed between the two still links.

The graph (:class:`~.format.Lineage`) has nodes of kinds ``commit``, ``data``,
``source``, ``model``, ``alias`` and ``export`` and edges in the direction data flows
(``wrote``, ``read``, ``imported``, ``registered``, ``alias``, ``exported``). The
front ends present it with :mod:`mlvc_server.render` (a text tree, Mermaid).

Finding the producers of a hash must not read every record of a large store on each
call: the outputs index (:mod:`mlvc_server.store.producers`) holds each commit's output
hashes, appended by every commit, and the commits reachable from the branches and tags
come from the log cache (``walk_summaries``). Only commits the index has not seen
(older than the index, or fetched) are read, once.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from ..errors import InvalidNameError, ModelNotFoundError, RevisionNotFoundError
from ..store import Store, producers
from ..store.refs import HEADS, TAGS
from ..store.revisions import resolve
from . import registry
from .format import (
    SOURCES,
    Lineage,
    LineageEdge,
    LineageNode,
    ModelVersion,
    Record,
    read_record,
)
from .history import load_summaries, walk_summaries
from .workspace import open_store, rel_notebook

__all__ = ["DEFAULT_DEPTH", "MAX_NODES", "MAX_PRODUCERS", "lineage", "producers_of"]

#: How many data hops upstream lineage follows by default.
DEFAULT_DEPTH = 8
#: Most producers shown for one data file (the count of all is on the data node).
MAX_PRODUCERS = 3
#: Most nodes in one graph; past it, inputs are not followed (``truncated``).
MAX_NODES = 2000
#: Most characters of a commit message in a label.
_LABEL_MESSAGE = 60
_KINDS = ("auto", "rev", "model")


def _reachable(store: Store) -> Iterator[dict[str, Any]]:
    """The summaries (with ``ts``) of every commit reachable from a branch or tag."""
    heads: list[str] = []
    for prefix in (HEADS, TAGS):
        for sha in store.refs_under(prefix.encode()).values():
            try:
                heads.append(resolve(store, sha))
            except RevisionNotFoundError:
                continue  # a tag of something that is not a commit
    cache = load_summaries(store)
    return walk_summaries(store, sorted(set(heads)), cache, None)


def _outputs_of(rec: Record) -> dict[str, str]:
    out: dict[str, str] = {}
    for path, info in (rec.get("outputs") or {}).items():
        h = info.get("hash") if isinstance(info, dict) else None
        if isinstance(path, str) and isinstance(h, str):
            out[path] = h
    return out


class _Index:
    """Output hash -> the commits that wrote it, for the reachable commits."""

    def __init__(self, store: Store) -> None:
        self.times: dict[str, int] = {}
        self.by_hash: dict[str, list[tuple[str, str]]] = {}
        written = producers.load(store)
        missing: dict[str, dict[str, str]] = {}
        for s in _reachable(store):
            cid = s["id"]
            self.times[cid] = s["ts"]
            outputs = written.get(cid)
            if outputs is None:
                outputs = missing[cid] = _outputs_of(read_record(store, cid))
            for path, h in outputs.items():
                self.by_hash.setdefault(h, []).append((cid, path))
        producers.append(store, missing)

    def producers(self, h: str, reader: str) -> list[tuple[str, str]]:
        """``(commit, path)`` of the commits other than ``reader`` that wrote content
        ``h`` no later than the reader was made (a commit cannot have read what was
        written after it), newest first."""
        t = self.times.get(reader, 2**62)
        found = [
            (c, p) for c, p in self.by_hash.get(h, []) if c != reader and self.times.get(c, 0) <= t
        ]
        return sorted(found, key=lambda cp: (-self.times.get(cp[0], 0), cp))


def producers_of(content_hash: str, *, repo: str | os.PathLike[str] = ".") -> list[tuple[str, str]]:
    """The commits whose outputs include a file with this content.

    Args:
        content_hash: ``"blake3:<hex>"`` as records hold it.
        repo: a path inside the project.

    Returns:
        ``(commit id, path it wrote)``, oldest commit first.
    """
    index = _Index(open_store(repo))
    found = index.by_hash.get(content_hash, [])
    return sorted(found, key=lambda cp: (index.times.get(cp[0], 0), cp))


def _first_line(text: str) -> str:
    line = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    return line if len(line) <= _LABEL_MESSAGE else line[: _LABEL_MESSAGE - 1] + "…"


class _Builder:
    def __init__(self, store: Store, depth: int) -> None:
        self.store = store
        self.depth = depth
        self.nodes: dict[str, LineageNode] = {}
        self.edges: list[LineageEdge] = []
        self._edge_keys: set[tuple[str, str, str]] = set()
        self.truncated = False
        self._index: _Index | None = None

    @property
    def index(self) -> _Index:
        if self._index is None:
            self._index = _Index(self.store)
        return self._index

    def node(self, node: LineageNode) -> str:
        self.nodes.setdefault(node["id"], node)
        return node["id"]

    def edge(self, src: str, dst: str, label: str) -> None:
        key = (src, dst, label)
        if key not in self._edge_keys:
            self._edge_keys.add(key)
            self.edges.append({"from": src, "to": dst, "label": label})

    def commit(self, cid: str, level: int) -> str:
        """Add commit ``cid`` and (below the depth limit) its inputs; its node id."""
        nid = f"commit:{cid}"
        if nid in self.nodes:
            return nid
        rec = read_record(self.store, cid)
        notebook = rec.get("notebook")
        message = _first_line(str(rec.get("message", "")))
        node: LineageNode = {
            "id": nid,
            "kind": "commit",
            "label": f"{cid[:8]} {notebook or '(no notebook)'}: {message}".rstrip(": "),
            "commit": cid,
            "short_id": cid[:8],
            "notebook": notebook,
            "branch": rec.get("branch"),
            "message": message,
            "author": str(rec.get("author", "")),
            "time": str(rec.get("time", "")),
            "status": str(rec.get("status", "ok")),
            "depth": level,
        }
        self.node(node)
        self.sources(cid, rec)
        data = rec.get("data") or {}
        if data and (level >= self.depth or len(self.nodes) >= MAX_NODES):
            node["truncated"] = True
            self.truncated = True
            return nid
        for path, info in sorted(data.items()):
            h = info.get("hash") if isinstance(info, dict) else None
            if not isinstance(h, str):
                continue
            size = info.get("size")
            found = self.index.producers(h, cid)
            did = self.node(
                {
                    "id": f"data:{path}@{h}",
                    "kind": "data",
                    "label": path,
                    "path": path,
                    "hash": h,
                    "size": size if isinstance(size, int) else None,
                    "producers": len(found),
                }
            )
            self.edge(did, nid, "read")
            for producer, wrote in found[:MAX_PRODUCERS]:
                pid = self.commit(producer, level + 1)
                self.edge(pid, did, "wrote" if wrote == path else f"wrote {wrote}")
            if len(found) > MAX_PRODUCERS:
                self.truncated = True
        return nid

    def sources(self, cid: str, rec: Record) -> None:
        """The local source files the commit imported, one node per content."""
        paths = rec.get("sources") or []
        if not paths:
            return
        tree = self.store.commit_obj(cid).tree.decode()
        for path in paths:
            found = self.store.tree_lookup(tree, f"{SOURCES}/{path}")
            blob = found[1] if found else ""
            sid = self.node(
                {
                    "id": f"source:{path}@{blob}",
                    "kind": "source",
                    "label": path,
                    "path": path,
                    "blob": blob,
                }
            )
            self.edge(sid, f"commit:{cid}", "imported")

    def model(self, mv: ModelVersion) -> str:
        """Add a model version (registered from its commit, already added) and its
        aliases; its node id."""
        name, version = mv["name"], int(mv["version"])
        mid = self.node(
            {
                "id": f"model:{name}@{version}",
                "kind": "model",
                "label": f"{name} v{version}",
                "name": name,
                "version": version,
                "variable": mv.get("variable", ""),
                "commit": mv["commit"],
            }
        )
        self.edge(f"commit:{mv['commit']}", mid, "registered")
        for alias in mv.get("aliases") or []:
            aid = self.node(
                {
                    "id": f"alias:{name}@{alias}",
                    "kind": "alias",
                    "label": f"{name}@{alias}",
                    "name": name,
                    "alias": alias,
                    "version": version,
                }
            )
            self.edge(mid, aid, "alias")
        # exports: none recorded by the store yet (``mlvc model export`` writes files
        # only), so no ``export`` nodes; the kind is reserved for when it does
        return mid

    def result(self, root: str) -> Lineage:
        nodes = [self.nodes[root], *(n for k, n in self.nodes.items() if k != root)]
        return {"root": root, "nodes": nodes, "edges": self.edges, "truncated": self.truncated}


def lineage(
    spec: str,
    *,
    repo: str | os.PathLike[str] = ".",
    notebook: str | os.PathLike[str] | None = None,
    of: str = "auto",
    depth: int = DEFAULT_DEPTH,
) -> Lineage:
    """The lineage graph of a commit or of a registered model version.

    Args:
        spec: a revision (``HEAD``, an id, a branch or tag, ``main~2``) or a model
            version (``NAME``, ``NAME@3``, ``NAME@production``).
        repo: a path inside the project.
        notebook: the notebook the revision is looked up in (None: any notebook).
        of: ``"rev"`` or ``"model"`` to say which ``spec`` is; ``"auto"``: a model
            version first when ``spec`` has an ``@`` and one matches, else a revision,
            else a model version.
        depth: data hops to follow upstream (0: the commit and its own inputs'
            hashes only).

    Returns:
        The graph: the commit or model version, the data files it read (path and
        hash) with the commits of any notebook that wrote that exact content, what
        those read in turn, the source files each imported, and for a model version
        (or a commit registered as one) the model versions and their aliases.

    Raises:
        RevisionNotFoundError: ``spec`` names neither a commit nor a model version.
        ModelNotFoundError: with ``of="model"``: no such model, version or alias.
        InvalidNameError: a bad ``of`` or ``depth``, or (``of="model"``) a bad spec.
    """
    if of not in _KINDS:
        raise InvalidNameError(f"'of' must be one of {', '.join(_KINDS)}, not {of!r}")
    if not isinstance(depth, int) or isinstance(depth, bool) or not 0 <= depth <= 100:
        raise InvalidNameError(f"depth must be a whole number from 0 to 100, not {depth!r}")
    store = open_store(repo)
    nb = rel_notebook(store, notebook)
    builder = _Builder(store, depth)
    mv: ModelVersion | None = None
    if of == "model":
        mv = registry.resolve(spec, repo=store.root)
    elif of == "auto" and "@" in spec:
        mv = _model_or_none(spec, store)
    if mv is not None:
        builder.commit(mv["commit"], 0)
        return builder.result(builder.model(mv))
    try:
        cid = resolve(store, spec, nb)
    except RevisionNotFoundError as exc:
        mv = _model_or_none(spec, store) if of == "auto" else None
        if mv is None:
            raise RevisionNotFoundError(
                f"{exc}" + (" (and no model version of that name)" if of == "auto" else "")
            ) from None
        builder.commit(mv["commit"], 0)
        return builder.result(builder.model(mv))
    root = builder.commit(cid, 0)
    for info in registry.models(repo=store.root):
        for version in info["versions"]:
            if version["commit"] == cid:
                builder.model(version)
    return builder.result(root)


def _model_or_none(spec: str, store: Store) -> ModelVersion | None:
    """The model version ``spec`` names, or None when it names none (or is no spec)."""
    try:
        return registry.resolve(spec, repo=store.root)
    except (ModelNotFoundError, InvalidNameError):
        return None
