"""Integrity checks of a store (disk usage is in :mod:`.gc`)."""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

from dulwich.objects import Blob, Commit, Tree

from ..errors import CorruptObjectError
from . import keep, objects, payloads
from .repo import Store, repair_hint


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

    Also checks each variable's manifest against its parts (sizes; the tree entries of
    stores written before the payload index). Parts that are not here, and that the
    payload index does not keep, were pruned by retention: they are counted in
    ``pruned_parts``, not reported as problems.
    Every ref is checked first (:func:`damaged_refs`): an empty one, one holding
    garbage or one naming a missing object is a problem (with the repair command), never
    "no commits".
    Returns ``ok``, ``commits``, ``objects``, ``bytes``, ``pruned_parts``, ``problems``
    (a list of human-readable findings, empty when all is well) and ``damaged_refs``.
    """
    problems: list[str] = []
    seen: dict[str, int] = {}
    commits = 0
    manifests: list[tuple[dict[str, Any], str]] = []

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
        if in_tree and listed != in_tree:
            problems.append(f"{where}: manifest and parts tree disagree")
            return
        manifests.append((manifest, where))

    def check_parts(manifest: dict[str, Any], where: str) -> int:
        pruned = 0
        for seg in manifest.get("segments", []):
            for p, want in zip(seg["parts"], payloads.part_sizes(manifest, seg), strict=False):
                if p not in seen and not store.has_object(p):
                    pruned += 1
                    continue
                got = check_blob(p, f"{where}/{seg['name']}")
                if got == -1:
                    # reported where it was met first (maybe the payload index): also say
                    # which commit and variable lose their bytes
                    problems.append(f"{where}: part {p} of {seg['name']!r} is damaged or missing")
                elif got != want:
                    problems.append(
                        f"{where}: part {p} of {seg['name']!r} has {got} bytes, expected {want}"
                    )
        return pruned

    heads = set()
    damaged = damaged_refs(store)
    for name, why in damaged.items():
        problems.append(f"ref {name.decode('utf-8', 'replace')} {why}: {repair_hint(name)}")
    for name, value in ref_values(store).items():
        if name in damaged:
            continue
        if name == keep.INDEX_REF:  # a tree: the parts the store keeps
            check_tree(value, "payload index")
            continue
        heads.add(value)
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
    pruned = 0
    for manifest, where in manifests:
        pruned += check_parts(manifest, where)
    total = sum(v for v in seen.values() if v > 0)
    return {
        "ok": not problems,
        "commits": commits,
        "objects": len(seen) + commits,
        "bytes": total,
        "pruned_parts": pruned,
        "problems": problems,
        "damaged_refs": sorted(n.decode("utf-8", "replace") for n in damaged),
    }


# -- refs ------------------------------------------------------------------------------------
def ref_values(store: Store) -> dict[bytes, str]:
    """Every ref of the store (loose files under ``refs/`` and packed refs) with what it
    holds, unchecked (symbolic refs followed; ``HEAD`` and lock files left out)."""
    out: dict[bytes, str] = {}
    with_packed = store.repo.refs.get_packed_refs()
    for packed, sha in with_packed.items():
        out[bytes(packed)] = sha.decode("utf-8", "replace")
    top = store.path / "refs"
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames.sort()
        for f in sorted(filenames):
            if f.endswith(".lock"):
                continue
            rel = os.path.relpath(os.path.join(dirpath, f), store.path).replace(os.sep, "/")
            name = rel.encode()
            value = store.raw_ref(name)
            if value is not None:
                out[name] = value
    return out


def damaged_refs(store: Store) -> dict[bytes, str]:
    """The refs that are damaged, with why: empty, garbage, or naming a missing object."""
    out: dict[bytes, str] = {}
    for name, value in ref_values(store).items():
        problem = store.ref_problem(value.strip())
        if problem:
            out[name] = problem
    return out


def _reflog_ids(store: Store, name: bytes) -> list[str]:
    """The ids the ref's reflog names, newest first."""
    try:
        lines = (store.path / "logs" / name.decode()).read_bytes().splitlines()
    except (OSError, UnicodeDecodeError):
        return []
    ids = []
    for line in reversed(lines):
        fields = line.split(b" ", 2)
        if len(fields) >= 2:
            ids.append(fields[1].decode("ascii", "replace"))
    return ids


def repair_refs(store: Store) -> list[dict[str, Any]]:
    """Repair every damaged ref (``mlvc fsck --repair``): move it back to the newest entry
    of its reflog whose history is whole in the store, or, when there is none, delete it
    (its damaged value is kept in ``.mlvc/mlvc/damaged-refs.log``).

    Returns one entry per damaged ref: ``ref``, ``problem``, ``action`` (``"restored"`` or
    ``"deleted"``) and ``to`` (the id it points at now, or None).
    """
    from .sync import incomplete

    report: list[dict[str, Any]] = []
    whole: set[str] = set()
    for name, problem in damaged_refs(store).items():
        raw = store.raw_ref(name)
        good = next(
            (
                sha
                for sha in _reflog_ids(store, name)
                if store.ref_problem(sha) is None and not incomplete(store, [sha], whole)
            ),
            None,
        )
        shown = name.decode("utf-8", "replace")
        with open(store.state_dir / "damaged-refs.log", "a", encoding="utf-8") as f:
            f.write(json.dumps({"ref": shown, "value": raw, "problem": problem}) + "\n")
        path = store.path / name.decode()
        if good is not None:
            if not store._swap(name, raw, good, "mlvc fsck --repair: back to the last good entry"):
                raise CorruptObjectError(f"{shown} moved while it was repaired: run it again")
            report.append({"ref": shown, "problem": problem, "action": "restored", "to": good})
        else:
            path.unlink(missing_ok=True)
            report.append({"ref": shown, "problem": problem, "action": "deleted", "to": None})
    return report
