"""Retention, garbage collection and disk usage of a store.

History is never rewritten. What retention frees is the *payload bytes* of commits
outside the policy: their entries leave the payload index (:mod:`.keep`), after which
their parts are unreachable for git as well as for mlvc, and are deleted with every
other unreachable loose object. Commits, records, notebooks, manifests and everything
else a commit's tree names stay, so ``log``, ``show``, ``diff`` of metadata and
``git fsck --full`` keep working; restoring a pruned variable says so (or fetches it
from a payload remote).

Crash and concurrency safety follow git's ``gc``/``prune``:

- new state first: the payload index moves by compare-and-swap to its pruned version
  before any object is deleted, so a gc killed at any point leaves a consistent store
  (at worst some unreachable objects that the next gc deletes);
- only objects older than a grace period (default one hour) are deleted. Writers
  freshen (touch) an existing object when they reuse it instead of writing it, and
  register new index entries with freshly touched payload trees, so a commit running
  alongside gc never loses an object it is about to reference;
- reflog entries count as reachable (``git fsck`` checks them).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from dulwich.objects import Commit, Tag, Tree

from ..errors import DamagedRefError, MlvcError
from . import keep
from .refs import HEADS, REGISTRY, REGISTRY_FILE, TAGS, split_ref
from .repo import Store, repair_hint

#: Unreachable objects younger than this are never deleted (see module docstring).
DEFAULT_GRACE = 3600.0
#: Variables up to this size keep their payload whatever the policy.
SMALL_BYTES = 64 << 10
_HEX38 = re.compile(r"^[0-9a-f]{38}$")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")
_UNITS = {"": 86400.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 7 * 86400.0}

Progress = Callable[[dict[str, Any]], None]


def parse_duration(text: str) -> float:
    """Seconds in ``30d``, ``12h``, ``90m``, ``45s``, ``2w`` (a bare number is days;
    ``now`` is 0).

    Raises:
        MlvcError: anything else.
    """
    if text.strip() == "now":
        return 0.0
    m = _DURATION.match(text)
    if not m:
        raise MlvcError(f"invalid duration {text!r}: use e.g. 30d, 12h, 90m, 45s, 2w or now")
    return float(m.group(1)) * _UNITS[m.group(2)]


@dataclass(frozen=True)
class Policy:
    """Which commits keep their payload bytes. With no rule set, every commit reachable
    from a ref keeps them (gc then only deletes what nothing reachable needs). With any
    rule set, a commit keeps them if any rule keeps it, and the newest commit of every
    branch always does.

    Variables of at most ``small_bytes`` (scalars, small configs and arrays) are always
    kept: they cost little and are what a look back at an old run most often needs.

    Attributes:
        keep_last: The newest N commits of each branch.
        keep_tagged: Commits that a tag or alias names.
        keep_newer_than: Commits younger than this many seconds.
        small_bytes: Variables up to this size keep their payload in every commit.
    """

    keep_last: int | None = None
    keep_tagged: bool = False
    keep_newer_than: float | None = None
    small_bytes: int = SMALL_BYTES

    @property
    def active(self) -> bool:
        return self.keep_last is not None or self.keep_tagged or self.keep_newer_than is not None

    def as_json(self) -> dict[str, Any]:
        return {
            "keep_last": self.keep_last,
            "keep_tagged": self.keep_tagged,
            "keep_newer_than": self.keep_newer_than,
            "small_bytes": self.small_bytes,
        }


# -- reachability -------------------------------------------------------------------------
def _peel(store: Store, sha: str) -> tuple[str, int]:
    """Follow tag objects; return (id, type_num) of what a ref finally names."""
    obj = store.get(sha)
    while isinstance(obj, Tag):
        sha = obj.object[1].decode()
        obj = store.get(sha)
    return sha, obj.type_num


def _reflog_ids(store: Store) -> set[str]:
    ids: set[str] = set()
    logs = store.path / "logs"
    for dirpath, _dirs, files in os.walk(logs):
        for f in files:
            try:
                with open(os.path.join(dirpath, f), "rb") as fh:
                    for line in fh:
                        for tok in line.split(b" ", 2)[:2]:
                            if len(tok) == 40 and tok != b"0" * 40:
                                ids.add(tok.decode())
            except OSError:
                continue
    return ids


def _mark_tree(store: Store, tree_id: str, marked: set[str]) -> None:
    stack = [tree_id]
    while stack:
        t = stack.pop()
        if t in marked:
            continue
        marked.add(t)
        obj = store.get(t)
        if not isinstance(obj, Tree):
            continue
        for _name, mode, sha in obj.iteritems():
            s = sha.decode()
            if mode & 0o040000:
                stack.append(s)
            elif mode != 0o160000:  # not a submodule link
                marked.add(s)


def _remote_index(name: bytes) -> bool:
    """Whether a ref is another store's payload index fetched from a git-only remote
    (``refs/remotes/<remote>/payloads/<store id>``, see :mod:`.sync`)."""
    parts = name.split(b"/")
    return len(parts) == 5 and parts[:2] == [b"refs", b"remotes"] and parts[3] == b"payloads"


def _commit_roots(
    store: Store, *, skip_remote_indexes: bool = False
) -> tuple[dict[bytes, str], list[str], list[str]]:
    """(refs -> peeled commit id, commit ids to walk, tree ids that refs name)."""
    refs: dict[bytes, str] = {}
    commits: list[str] = []
    trees: list[str] = []
    for name, sha in store.repo.refs.as_dict().items():
        if name == b"HEAD" or (skip_remote_indexes and _remote_index(name)):
            continue
        peeled, kind = _peel(store, sha.decode())
        if kind == Commit.type_num:
            refs[name] = peeled
            commits.append(peeled)
        elif kind == Tree.type_num and name != keep.INDEX_REF:
            trees.append(peeled)
    return refs, commits, trees


def _walk_commits(store: Store, heads: Iterable[str]) -> dict[str, Commit]:
    out: dict[str, Commit] = {}
    stack = list(heads)
    while stack:
        c = stack.pop()
        if c in out:
            continue
        try:
            obj = store.commit_obj(c)
        except MlvcError:
            continue  # a reflog entry of something already gone
        out[c] = obj
        stack.extend(p.decode() for p in obj.parents)
    return out


def _payload_keys(store: Store, commit: Commit) -> list[str]:
    """The commit's ``vars`` and ``data`` tree ids (its keys in the payload index)."""
    return keep.payload_keys(store, commit.tree.decode())


# -- gc -----------------------------------------------------------------------------------
def _retained(
    store: Store,
    refs: dict[bytes, str],
    commits: dict[str, Commit],
    policy: Policy,
    now: float,
) -> set[str]:
    """Ids of the commits whose payloads the policy keeps."""
    if not policy.active:
        return set(commits)
    keep_ids: set[str] = set()
    last = max(policy.keep_last or 1, 1)
    for name, head in refs.items():
        if not name.startswith(HEADS.encode()):
            continue
        for i, c in enumerate(store.walk([head])):
            if i >= last:
                break
            keep_ids.add(c.id.decode())
    if policy.keep_tagged:
        keep_ids.update(sha for name, sha in refs.items() if name.startswith(TAGS.encode()))
    keep_ids |= registered_commits(store, refs)
    if policy.keep_newer_than is not None:
        cutoff = now - policy.keep_newer_than
        keep_ids.update(cid for cid, c in commits.items() if c.commit_time >= cutoff)
    return keep_ids


def registered_commits(store: Store, refs: dict[bytes, str]) -> set[str]:
    """The experiment commits registered in the model registry: retention keeps their
    payloads (a registered model version stays loadable whatever the policy)."""
    out: set[str] = set()
    seen: set[str] = set()
    stack = [sha for name, sha in refs.items() if name.startswith(REGISTRY.encode())]
    while stack:
        cid = stack.pop()
        if cid in seen:
            continue
        seen.add(cid)
        c = store.commit_obj(cid)
        if store.tree_lookup(c.tree.decode(), REGISTRY_FILE) is None:
            out.add(cid)  # a registered commit (the last parent of a register event)
            continue
        stack.extend(p.decode() for p in c.parents)
    return out


def _small_parts(store: Store, vars_tree: str, payload_tree: str, limit: int) -> set[str]:
    """The parts of an index entry that belong to variables of at most ``limit`` bytes
    (retention keeps them: scalars, small configs)."""
    held = keep.payload_tree_parts(store, payload_tree)
    small: set[str] = set()
    for _name, _mode, vsha in store.tree(vars_tree).iteritems():
        try:
            found = store.tree_lookup(vsha.decode(), "manifest.json")
            manifest = store.read_json(found[1]) if found else None
            if manifest is None or int(manifest["size"]) > limit:
                continue
            small.update(p for seg in manifest["segments"] for p in seg["parts"])
        except (MlvcError, KeyError, ValueError, TypeError):
            continue
    # a part of a small variable that a big one shares stays too (it is small)
    return held & small


def _mtime(store: Store, sha: str) -> float | None:
    try:
        return os.stat(f"{store.objects_dir}/{sha[:2]}/{sha[2:]}").st_mtime
    except OSError:
        return None


def gc(
    store: Store,
    policy: Policy | None = None,
    *,
    dry_run: bool = False,
    grace: float = DEFAULT_GRACE,
    now: float | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Apply the retention ``policy`` and delete what nothing reachable needs.

    Args:
        store: The store.
        policy: Which commits keep their payload bytes (None: all reachable ones).
        dry_run: Report what would be freed, change nothing.
        grace: Never delete unreachable objects (or drop fresh index entries) younger
            than this many seconds.
        now: The current time (tests).
        progress: Called with ``{"phase": ...}`` as gc goes.

    Returns:
        A report: ``commits``, ``commits_with_payloads`` (before), ``commits_kept``,
        ``commits_pruned`` (their payload bytes freed now), ``objects_deleted``,
        ``bytes_freed``, ``temp_files_deleted``, ``bytes_before``/``bytes_after`` (the
        objects folder), ``packed_unreachable`` and ``dry_run``.
    """
    from .fsck import damaged_refs

    damaged = damaged_refs(store)
    if damaged:
        # a damaged ref hides what it reaches: sweeping now could free a branch's history
        bad = sorted(damaged)[0]
        raise DamagedRefError(
            f"gc refuses to run: ref {bad.decode('utf-8', 'replace')} {damaged[bad]}: "
            + repair_hint(bad)
        )
    policy = policy or Policy()
    now = time.time() if now is None else now
    bytes_before = _dir_size(str(store.objects_dir))
    if progress:
        progress({"phase": "finding reachable commits"})

    # 1. the new payload index (retried if a commit moves it meanwhile)
    report: dict[str, Any] = {}
    #: index entries the policy prunes -> the parts they keep (of small variables)
    pruned: dict[str, set[str]] = {}

    def prune_index(buckets: keep.Buckets) -> bool:
        refs, heads, _trees = _commit_roots(store)
        commits = _walk_commits(store, heads)
        kept_commits = _retained(store, refs, commits, policy, now)
        keys_of = {cid: _payload_keys(store, c) for cid, c in commits.items()}
        reachable_vars = {k for keys in keys_of.values() for k in keys}
        kept_vars = {k for c in kept_commits for k in keys_of.get(c, [])}
        entries_before = {k for _fan, b in buckets.items() for k in b}
        pruned.clear()
        for fan, bucket in buckets.items():
            for key, tree in list(bucket.items()):
                if key in kept_vars:
                    continue
                if key not in reachable_vars:
                    # an entry of no commit we can see: a commit being written right now,
                    # or one whose branch was deleted; keep it while it is fresh
                    mt = _mtime(store, tree)
                    if mt is not None and now - mt < grace:
                        continue
                    small: set[str] = set()
                else:
                    small = _small_parts(store, key, tree, policy.small_bytes)
                if len(small) == len(store.tree(tree)):
                    continue  # only small variables: nothing worth freeing
                pruned[key] = small
                if dry_run:
                    continue
                if small:
                    buckets.edit(fan)[key] = keep.write_parts_tree(store, small)
                else:
                    del buckets.edit(fan)[key]
        report.update(
            commits=len(commits),
            commits_with_payloads=sum(
                1 for keys in keys_of.values() if any(k in entries_before for k in keys)
            ),
            commits_kept=sum(
                1
                for keys in keys_of.values()
                if any(k in entries_before and k not in pruned for k in keys)
            ),
            commits_pruned=sorted(
                c for c, keys in keys_of.items() if any(k in pruned for k in keys)
            ),
            index_entries_pruned=len(pruned),
        )
        return bool(pruned) and not dry_run

    new_index = keep.update(store, prune_index)
    if policy.active:
        # the payload indexes fetched from a git-only remote would keep every part they
        # name; they only save downloads on the next pull, so retention forgets them
        # (their entries are in our own index, which the policy just applied to)
        for ref, ref_sha in store.refs_under(b"refs/remotes/").items():
            if _remote_index(ref) and not dry_run:
                store.cas_ref(ref, ref_sha, None, message="mlvc gc: retention")
                with contextlib.suppress(FileNotFoundError):  # as git does with a ref
                    os.unlink(store.path / "logs" / ref.decode())

    # 2. everything reachable from the (new) refs, the reflogs and HEAD
    if progress:
        progress({"phase": "marking reachable objects"})
    _refs, heads, trees = _commit_roots(store, skip_remote_indexes=policy.active)
    commits = _walk_commits(store, [*heads, *_reflog_ids(store)])
    marked: set[str] = set(commits)
    for c in commits.values():
        _mark_tree(store, c.tree.decode(), marked)
    for t in trees:
        _mark_tree(store, t, marked)
    if new_index and not dry_run:
        _mark_tree(store, new_index, marked)
    elif new_index:
        # what the index would keep: the current one less what the policy prunes
        marked.add(new_index)
        for _fan, _mode, bucket in store.tree(new_index).iteritems():
            marked.add(bucket.decode())
        for key, tree in keep.read(store, new_index).items():
            if key not in pruned:
                _mark_tree(store, tree, marked)
            marked.update(pruned.get(key, set()))

    # 3. sweep unreachable loose objects older than the grace period, and stale temp files
    if progress:
        progress({"phase": "deleting unreachable objects"})
    deleted = freed = temp_deleted = 0
    for fan in sorted(os.listdir(store.objects_dir)):
        d = store.objects_dir / fan
        if fan.startswith("tmp_obj_") or fan.startswith("incoming-"):
            try:
                st = os.lstat(d)
            except OSError:
                continue
            if now - st.st_mtime >= grace:
                if not dry_run:
                    _unlink(d)
                temp_deleted += 1
                freed += st.st_size
            continue
        if len(fan) != 2 or not d.is_dir():
            continue
        for name in os.listdir(d):
            if not _HEX38.match(name):
                continue
            sha = fan + name
            if sha in marked:
                continue
            path = d / name
            try:
                st = os.lstat(path)
            except OSError:
                continue
            if now - st.st_mtime < grace:
                continue
            if not dry_run and not _unlink(path):
                continue
            deleted += 1
            freed += st.st_size
    packed_unreachable = _packed_unreachable(store, marked)
    if not dry_run:
        _compact_hash_cache(store)
    report.update(
        dry_run=dry_run,
        policy=policy.as_json(),
        grace_seconds=grace,
        objects_deleted=deleted,
        temp_files_deleted=temp_deleted,
        bytes_freed=freed,
        bytes_before=bytes_before,
        bytes_after=bytes_before - freed if dry_run else _dir_size(str(store.objects_dir)),
        packed_unreachable=packed_unreachable,
    )
    if progress:
        progress({"phase": "done"})
    return report


def _unlink(path: os.PathLike[str] | str) -> bool:
    try:
        os.unlink(path)
        return True
    except FileNotFoundError:
        return False


def _packed_unreachable(store: Store, marked: set[str]) -> int:
    """Unreachable objects inside packs (mlvc packs only small objects, which retention
    keeps; git may have left other packs). They are counted, not deleted: that needs a
    repack."""
    return len(store.packed_ids() - marked)


def _compact_hash_cache(store: Store) -> None:
    """Drop fast-hash cache lines whose first blob is gone (they would only cost a
    stat each). Lines appended concurrently may be lost: they are hints."""
    path = store.hash_cache.path
    try:
        with open(path, "rb") as f:
            lines = f.read().split(b"\n")
    except FileNotFoundError:
        return
    kept = []
    for line in lines:
        parts = line.split(b" ")
        if len(parts) != 2:
            continue
        first = parts[1].split(b",")[0].decode("ascii", "replace")
        if len(first) == 40 and store.has_object(first):
            kept.append(line)
    if len(kept) == len([x for x in lines if x]):
        return
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    tmp.write_bytes(b"".join(x + b"\n" for x in kept))
    os.replace(tmp, path)
    store.hash_cache.forget()


def _dir_size(path: str) -> int:
    total = 0
    for dirpath, _dirs, files in os.walk(path):
        for f in files:
            with contextlib.suppress(OSError):  # removed while we walk
                total += os.lstat(os.path.join(dirpath, f)).st_size
    return total


# -- du -----------------------------------------------------------------------------------
def _manifest_parts(
    store: Store, vars_tree: str, memo: dict[str, dict[str, int]]
) -> dict[str, int]:
    """Part id -> size of every variable of a ``vars`` tree."""
    hit = memo.get(vars_tree)
    if hit is not None:
        return hit
    out: dict[str, int] = {}
    for _name, _mode, vsha in store.tree(vars_tree).iteritems():
        m = store.tree_lookup(vsha.decode(), "manifest.json")
        if not m:
            continue
        manifest = json.loads(store.read_blob(m[1]))
        chunk = int(manifest.get("chunk_size", 1 << 24))
        for seg in manifest.get("segments", []):
            size = int(seg["size"])
            for i, p in enumerate(seg["parts"]):
                out[p] = min(chunk, size - i * chunk) if size else 0
    memo[vars_tree] = out
    return out


def du(store: Store, *, commits: bool = True) -> dict[str, Any]:
    """Disk usage: the store on disk, and payload bytes per branch and per commit.

    For a branch (every commit reachable from it) and for a commit: ``payload_bytes``
    (all the distinct parts it names), ``unique_bytes`` (parts no other branch, or no
    other commit, names: what deleting it, or pruning it, would free), ``shared_bytes``
    (the rest) and ``local_bytes`` (parts present in this store; the others were pruned
    or live on a payload remote).
    """
    refs, heads, _trees = _commit_roots(store)
    memo: dict[str, dict[str, int]] = {}
    all_commits = _walk_commits(store, heads)
    parts_of: dict[str, dict[str, int]] = {}
    for cid, c in all_commits.items():
        parts_of[cid] = {}
        for key in _payload_keys(store, c):
            parts_of[cid].update(_manifest_parts(store, key, memo))
    present: dict[str, bool] = {}

    def local(parts: dict[str, int]) -> int:
        total = 0
        for p, s in parts.items():
            if p not in present:
                present[p] = store.has_object(p)
            total += s if present[p] else 0
        return total

    per_branch: dict[str, tuple[list[str], dict[str, int]]] = {}
    for name, head in sorted(refs.items()):
        split = split_ref(name, HEADS)
        if split is None:
            continue
        nb, br = split
        label = f"{nb}:{br}" if nb else br
        members = [c.id.decode() for c in store.walk([head])]
        parts: dict[str, int] = {}
        for cid in members:
            parts.update(parts_of.get(cid, {}))
        per_branch[label] = (members, parts)
    owners: dict[str, int] = {}
    for _members, parts in per_branch.values():
        for p in parts:
            owners[p] = owners.get(p, 0) + 1
    branches = []
    for label, (members, parts) in per_branch.items():
        unique = sum(s for p, s in parts.items() if owners[p] == 1)
        total = sum(parts.values())
        branches.append(
            {
                "branch": label,
                "commits": len(members),
                "payload_bytes": total,
                "unique_bytes": unique,
                "shared_bytes": total - unique,
                "local_bytes": local(parts),
            }
        )
    all_parts: dict[str, int] = {}
    for parts in parts_of.values():
        all_parts.update(parts)
    out: dict[str, Any] = {
        "store_bytes": _dir_size(str(store.path)),
        "objects_bytes": _dir_size(str(store.objects_dir)),
        "payload_bytes_unique": sum(all_parts.values()),
        "payload_bytes_local": local(all_parts),
        "branches": branches,
    }
    if commits:
        users: dict[str, int] = {}
        for parts in parts_of.values():
            for p in parts:
                users[p] = users.get(p, 0) + 1
        on_branch: dict[str, list[str]] = {}
        for label, (members, _parts) in per_branch.items():
            for cid in members:
                on_branch.setdefault(cid, []).append(label)
        rows = []
        for cid, c in sorted(all_commits.items(), key=lambda kv: -kv[1].commit_time):
            parts = parts_of[cid]
            total = sum(parts.values())
            unique = sum(s for p, s in parts.items() if users[p] == 1)
            rows.append(
                {
                    "id": cid,
                    "time": c.commit_time,
                    "message": c.message.decode("utf-8", "replace").splitlines()[0]
                    if c.message
                    else "",
                    "branches": on_branch.get(cid, []),
                    "payload_bytes": total,
                    "unique_bytes": unique,
                    "shared_bytes": total - unique,
                    "local_bytes": local(parts),
                }
            )
        out["commits"] = rows
    return out
