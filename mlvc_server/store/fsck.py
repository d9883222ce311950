"""Integrity checks and disk usage of a store."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from typing import Any

from dulwich.objects import Blob, Commit, Tree

from ..errors import CorruptObjectError
from . import objects
from .repo import Store


def _verify_blob(store: Store, sha: str) -> int:
    """Re-hash a blob's content; returns its size. Raises CorruptObjectError."""
    path = objects.loose_path(store.objects_dir, sha)
    if path.exists():
        # stream through zlib so that a multi-GB blob never sits in memory
        import zlib

        d = zlib.decompressobj()
        h = hashlib.sha1()
        header = b""
        size = 0
        with open(path, "rb") as f:
            try:
                while chunk := f.read(1 << 22):
                    data = d.decompress(chunk)
                    if not header:
                        nul = data.find(b"\x00")
                        header, data = data[: nul + 1], data[nul + 1 :]
                        h.update(header)
                    h.update(data)
                    size += len(data)
                h.update(d.flush())
            except zlib.error as e:
                raise CorruptObjectError(f"object {sha} cannot be inflated: {e}") from e
        if not d.eof:
            raise CorruptObjectError(f"object {sha} is truncated")
        if h.hexdigest() != sha:
            raise CorruptObjectError(f"object {sha} does not match its id (damaged bytes)")
        if header != b"blob %d\x00" % size:
            raise CorruptObjectError(f"object {sha} has a wrong header")
        return size
    obj = store.get(sha)  # packed: dulwich checks the pack's CRC and we re-hash
    if not isinstance(obj, Blob):
        raise CorruptObjectError(f"object {sha} is not a blob")
    data = obj.as_raw_string()
    if hashlib.sha1(b"blob %d\x00" % len(data) + data).hexdigest() != sha:
        raise CorruptObjectError(f"object {sha} does not match its id (damaged bytes)")
    return len(data)


def fsck(store: Store) -> dict[str, Any]:
    """Check every commit, tree and blob reachable from any ref, re-hashing all bytes.

    Also checks each variable's manifest against its parts (count and sizes).
    Returns ``ok``, ``commits``, ``objects``, ``bytes`` and ``problems`` (a list of
    human-readable findings, empty when all is well).
    """
    problems: list[str] = []
    seen: dict[str, int] = {}
    commits = 0

    def check_blob(sha: str, where: str) -> int:
        if sha in seen:
            return seen[sha]
        try:
            seen[sha] = _verify_blob(store, sha)
        except CorruptObjectError as e:
            problems.append(f"{where}: {e}")
            seen[sha] = -1
        return seen[sha]

    def check_tree(sha: str, where: str) -> None:
        if sha in seen:
            return
        seen[sha] = 0
        try:
            tree = store.get(sha)
            if not isinstance(tree, Tree) or tree.id.decode() != sha:
                raise CorruptObjectError(f"object {sha} is not the tree it should be")
        except CorruptObjectError as e:
            problems.append(f"{where}: {e}")
            return
        entries = {n.decode(): (m, s.decode()) for n, m, s in tree.iteritems()}
        for name, (mode, child) in entries.items():
            if mode & 0o040000:
                check_tree(child, f"{where}/{name}")
            else:
                check_blob(child, f"{where}/{name}")
        if "manifest.json" in entries:
            check_manifest(entries, where)

    def check_manifest(entries: dict[str, tuple[int, str]], where: str) -> None:
        try:
            manifest = json.loads(store.read_blob(entries["manifest.json"][1]))
        except (CorruptObjectError, ValueError) as e:
            problems.append(f"{where}: unreadable manifest: {e}")
            return
        listed = [p for seg in manifest.get("segments", []) for p in seg.get("parts", [])]
        in_tree = [sha for name, (_m, sha) in sorted(entries.items()) if name.isdigit()]
        if listed != in_tree:
            problems.append(f"{where}: manifest and parts tree disagree")
            return
        chunk = int(manifest.get("chunk_size", 1 << 24))
        for seg in manifest.get("segments", []):
            size = int(seg["size"])
            for i, p in enumerate(seg["parts"]):
                want = min(chunk, size - i * chunk) if size else 0
                got = seen.get(p, -1)
                if got not in (-1, want):
                    problems.append(
                        f"{where}: part {p} of {seg['name']!r} has {got} bytes, expected {want}"
                    )

    heads = set()
    for name, sha in store.repo.refs.as_dict().items():
        if name == b"HEAD":
            continue
        heads.add(sha.decode())
    try:
        walker = list(store.walk(sorted(heads)))
    except CorruptObjectError as e:
        problems.append(str(e))
        walker = []
    for c in walker:
        commits += 1
        cid = c.id.decode()
        if not isinstance(c, Commit):
            problems.append(f"{cid} is not a commit")
            continue
        check_tree(c.tree.decode(), cid[:8])
    total = sum(v for v in seen.values() if v > 0)
    return {
        "ok": not problems,
        "commits": commits,
        "objects": len(seen) + commits,
        "bytes": total,
        "problems": problems,
    }


def _dir_size(path: str) -> int:
    total = 0
    for dirpath, _dirs, files in os.walk(path):
        for f in files:
            with contextlib.suppress(OSError):  # removed while we walk
                total += os.lstat(os.path.join(dirpath, f)).st_size
    return total


def du(store: Store) -> dict[str, Any]:
    """Disk usage: the store on disk, and payload bytes per branch (all / unique)."""
    from .refs import HEADS, split_ref

    per_ref: dict[str, dict[str, int]] = {}
    for name, sha in sorted(store.repo.refs.as_dict().items()):
        split = split_ref(name, HEADS)
        if split is None:
            continue
        nb, br = split
        label = f"{nb}:{br}" if nb else br
        parts: dict[str, int] = {}
        for c in store.walk([sha.decode()]):
            _collect_parts(store, c.tree.decode(), parts)
        per_ref[label] = parts
    owners: dict[str, int] = {}
    for parts in per_ref.values():
        for p in parts:
            owners[p] = owners.get(p, 0) + 1
    branches = []
    for label, parts in per_ref.items():
        branches.append(
            {
                "branch": label,
                "payload_bytes": sum(parts.values()),
                "unique_bytes": sum(s for p, s in parts.items() if owners[p] == 1),
            }
        )
    all_parts: dict[str, int] = {}
    for parts in per_ref.values():
        all_parts.update(parts)
    return {
        "store_bytes": _dir_size(str(store.path)),
        "objects_bytes": _dir_size(str(store.objects_dir)),
        "payload_bytes_unique": sum(all_parts.values()),
        "branches": branches,
    }


def _collect_parts(store: Store, tree_id: str, out: dict[str, int]) -> None:
    from ..service import VARS

    found = store.tree_lookup(tree_id, VARS)
    if not found:
        return
    for _name, _mode, vsha in store.tree(found[1]).iteritems():
        m = store.tree_lookup(vsha.decode(), "manifest.json")
        if not m:
            continue
        manifest = json.loads(store.read_blob(m[1]))
        chunk = int(manifest.get("chunk_size", 1 << 24))
        for seg in manifest.get("segments", []):
            size = int(seg["size"])
            for i, p in enumerate(seg["parts"]):
                out[p] = min(chunk, size - i * chunk) if size else 0
