"""Push, pull and clone: sharing a store through a git remote (and a payload remote).

Any git server works for history: a local path (another folder, a shared disk), git://,
ssh:// (or ``user@host:path``) and smart http(s). The remote is a plain git repository
(``git init --bare``); refs keep their names there (``refs/heads/<notebook>/<branch>``,
``refs/tags/<notebook>/<tag>``), so git users see the same branches.

What travels where:

- **History and metadata** (commits, records, notebooks, manifests, environment) always
  go through git. Commit trees do not name payload parts (see :mod:`.keep`), so this is
  small, and git negotiation sends only what the other side lacks.
- **Payload parts**, with a payload remote configured for the git remote: to object
  storage (:mod:`.payload_remote`), before the refs move, and only the parts of the
  commits being pushed that the payload remote lacks. The git push carries no payload
  bytes. A clone has the whole history at once and fetches parts lazily on restore.
  The payload URL is published on the git remote (``refs/mlvc/config``), so a clone
  finds it.
- **Payload parts without a payload remote**: through git too. Each store pushes its
  payload index as ``refs/mlvc/shared-payloads/<store id>`` (a commit whose tree is the
  index), which keeps the parts reachable on the server; pull and clone fetch every
  store's index and merge it into their own, so they get every payload (git cannot
  fetch part of a tree).

Nothing is overwritten without ``force``: a branch whose remote tip is not an ancestor
of the local one (diverged, or remote ahead) is reported with ahead/behind counts and
left as it is; pull fast-forwards local branches and keeps diverged remote tips in
remote-tracking refs ``refs/remotes/<remote>/<notebook>/<branch>``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from dulwich.errors import GitProtocolError, HangupException, NotGitRepository
from dulwich.object_store import MissingObjectFinder
from dulwich.objects import Blob, Commit, ObjectID, Tag, Tree
from dulwich.refs import Ref
from dulwich.repo import Repo

from ..errors import MlvcError, RefConflictError, RemoteError, RemoteRefusedError
from . import keep, objects
from .packs import BIG, PackReceiver, pack_records
from .payload_remote import Part, PayloadRemote
from .refs import (
    EVALUATIONS,
    HEADS,
    MODEL_NAME_RE,
    REGISTRY,
    TAGS,
    is_object_id,
    ref_name_problem,
    split_ref,
)
from .remotes import (
    Remote,
    add_remote,
    default_remote,
    get_remote,
    offer_payloads,
    redact_url,
    set_payloads,
)
from .repo import Store

Progress = Callable[[dict[str, Any]], None]
ZERO = "0" * 40
#: The remote's payload URL, published for clones (a tree holding ``remote.json``).
CONFIG_REF = b"refs/mlvc/config"
#: Each store's payload index on a git-only remote: ``<prefix><store id>``.
SHARED_PREFIX = b"refs/mlvc/shared-payloads/"
_STORE_ID = re.compile(rb"^[A-Za-z0-9_-]{1,64}$")


# -- transports -----------------------------------------------------------------------------
class _Transport:
    """What push and pull need from a remote: its refs, fetching objects, sending them."""

    def refs(self) -> dict[bytes, str]:
        raise NotImplementedError

    def fetch(self, store: Store, wants: list[str], progress: Progress | None) -> int:
        raise NotImplementedError

    def push(
        self,
        store: Store,
        updates: dict[bytes, tuple[str | None, str | None]],
        progress: Progress | None,
    ) -> dict[bytes, str | None]:
        raise NotImplementedError

    def close(self) -> None:
        pass


def _local_path(url: str) -> Path | None:
    if url.startswith("file://"):
        return Path(unquote(urlparse(url).path))
    if "://" in url:
        return None
    # scp-like ssh ("host:path") has a colon before any slash
    if ":" in url.split("/", 1)[0] and not os.path.exists(url):
        return None
    return Path(url)


def _heads(store: Store) -> list[ObjectID]:
    """Commit ids the store has at its ref tips (what negotiation offers as haves)."""
    out: list[ObjectID] = []
    for name, sha in store.repo.refs.as_dict().items():
        if name == b"HEAD" or name == keep.INDEX_REF:
            continue
        try:
            obj = store.get(sha.decode())
        except MlvcError:
            continue
        while isinstance(obj, Tag):
            obj = store.get(obj.object[1].decode())
        if isinstance(obj, Commit):
            out.append(obj.id)
    return out


class _LocalTransport(_Transport):
    """A repository on this machine: objects are copied file by file (as ``git clone
    --local`` does), refs moved with compare-and-swap under git's lock files."""

    def __init__(self, path: Path) -> None:
        try:
            self.repo = Repo(str(path))
        except (NotGitRepository, FileNotFoundError):
            raise RemoteError(
                f"{str(path)!r} is not a git repository (create one with `git init --bare {path}`)"
            ) from None
        self.objects_dir = Path(self.repo.object_store.path)

    def close(self) -> None:
        self.repo.close()

    def refs(self) -> dict[bytes, str]:
        return {bytes(k): v.decode() for k, v in self.repo.refs.as_dict().items() if k != b"HEAD"}

    def fetch(self, store: Store, wants: list[str], progress: Progress | None) -> int:
        finder = MissingObjectFinder(
            self.repo.object_store,
            haves=_heads(store),
            wants=[ObjectID(w.encode()) for w in wants],
        )
        ids = [oid.decode() for oid, _hint in finder]
        # a quarantine (as git's receive-pack has): objects land in a private folder
        # first, and enter the store bottom-up (blobs, then trees, then commits: the
        # reverse of the finder's order), so a kill leaves no object without its children
        quarantine = _quarantine(store)
        try:
            todo = []
            for i, sha in enumerate(ids):
                if not store.has_object(sha):
                    _copy_object(self.repo, self.objects_dir, quarantine, sha, store.fsync)
                    todo.append(sha)
                if progress and (i % 64 == 0 or i == len(ids) - 1):
                    progress({"phase": "receiving objects", "done": i + 1, "total": len(ids)})
            for sha in reversed(todo):
                dest = objects.loose_path(store.objects_dir, sha)
                dest.parent.mkdir(exist_ok=True)
                os.replace(objects.loose_path(quarantine, sha), dest)
            return len(todo)
        finally:
            shutil.rmtree(quarantine, ignore_errors=True)

    def push(
        self,
        store: Store,
        updates: dict[bytes, tuple[str | None, str | None]],
        progress: Progress | None,
    ) -> dict[bytes, str | None]:
        wants = [new for _old, new in updates.values() if new]
        finder = MissingObjectFinder(
            store.repo.object_store,
            haves=[ObjectID(s.encode()) for s in self.refs().values() if store.has_object(s)],
            wants=[ObjectID(w.encode()) for w in wants],
        )
        ids = [oid.decode() for oid, _hint in finder]
        for i, sha in enumerate(ids):
            if not os.path.exists(objects.loose_path(self.objects_dir, sha)):
                _copy_object(store.repo, store.objects_dir, self.objects_dir, sha, store.fsync)
            if progress and (i % 64 == 0 or i == len(ids) - 1):
                progress({"phase": "sending objects", "done": i + 1, "total": len(ids)})
        status: dict[bytes, str | None] = {}
        for ref, (old, new) in updates.items():
            old_id = ObjectID(old.encode()) if old else None
            if new is None:
                ok = self.repo.refs.remove_if_equals(Ref(ref), old_id)
            else:
                ok = self.repo.refs.set_if_equals(Ref(ref), old_id, ObjectID(new.encode()))
            status[ref] = None if ok else "the remote ref moved meanwhile"
        return status


_QUARANTINE = "incoming-"


def _quarantine(store: Store) -> Path:
    """A new quarantine folder for received objects (``.mlvc/mlvc/incoming-<pid>-<hex>``),
    after removing those left by killed processes."""
    for old in store.state_dir.glob(_QUARANTINE + "*"):
        try:
            pid = int(old.name[len(_QUARANTINE) :].split("-")[0])
            os.kill(pid, 0)
            alive = pid != os.getpid() or not old.is_dir()
        except (ValueError, ProcessLookupError):
            alive = False
        except PermissionError:
            alive = True
        if not alive:
            shutil.rmtree(old, ignore_errors=True)
    path = store.state_dir / f"{_QUARANTINE}{os.getpid()}-{uuid.uuid4().hex[:12]}"
    path.mkdir()
    return path


def _copy_object(src: Repo, src_dir: Path, dst_dir: Path, sha: str, fsync: bool) -> None:
    """Copy one object to another object folder as a loose object."""
    path = objects.loose_path(src_dir, sha)
    dest = objects.loose_path(dst_dir, sha)
    if dest.exists():
        return
    if path.exists():
        dest.parent.mkdir(exist_ok=True)
        tmp = dest.parent / f"tmp_obj_{uuid.uuid4().hex}"
        try:
            shutil.copyfile(path, tmp)
            if fsync:
                with open(tmp, "rb") as f:
                    os.fsync(f.fileno())
            os.replace(tmp, dest)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        return
    obj = src.object_store[ObjectID(sha.encode())]
    if isinstance(obj, Blob) and obj.raw_length() > BIG:
        chunks = obj.as_raw_chunks()
        objects.write_stored_blob(dst_dir, chunks, sum(map(len, chunks)), sha, fsync=fsync)
    else:
        objects.write_compressed(dst_dir, sha, obj.as_legacy_object(), fsync=fsync)


class _GitTransport(_Transport):
    """git://, ssh and smart http(s), through dulwich's client."""

    def __init__(self, url: str) -> None:
        from dulwich.client import get_transport_and_path

        self.url = url
        try:
            self.client, self.path = get_transport_and_path(url)
        except ValueError as e:
            raise RemoteError(f"cannot use {redact_url(url)!r} as a git remote: {e}") from e
        self._refs: dict[bytes, str] | None = None

    def refs(self) -> dict[bytes, str]:
        try:
            result = self.client.get_refs(self.path.encode())
        except (GitProtocolError, HangupException, OSError) as e:
            raise RemoteError(f"cannot reach {redact_url(self.url)}: {e}") from e
        self._refs = {
            bytes(k): v.decode()
            for k, v in result.refs.items()
            if v is not None and k != b"HEAD" and not k.endswith(b"^{}")
        }
        return dict(self._refs)

    def fetch(self, store: Store, wants: list[str], progress: Progress | None) -> int:
        if not wants:
            return 0
        receiver = PackReceiver(store, progress)
        walker = store.repo.get_graph_walker(heads=_heads(store))
        want_ids = [ObjectID(w.encode()) for w in wants]
        try:
            self.client.fetch_pack(
                self.path.encode(),
                lambda refs, depth=None: want_ids,
                walker,
                receiver.write,
            )
            return receiver.unpack()
        except (GitProtocolError, HangupException, OSError) as e:
            raise RemoteError(f"fetching from {redact_url(self.url)} failed: {e}") from e
        finally:
            receiver.discard()

    def push(
        self,
        store: Store,
        updates: dict[bytes, tuple[str | None, str | None]],
        progress: Progress | None,
    ) -> dict[bytes, str | None]:
        def update_refs(remote: dict[Ref, ObjectID]) -> dict[Ref, ObjectID]:
            new_refs: dict[Ref, ObjectID] = dict(remote)
            for ref, (old, new) in updates.items():
                now = remote.get(Ref(ref))
                if (now.decode() if now else None) != old:
                    raise RefConflictError(
                        f"{ref.decode()} moved on the remote while we pushed: pull and push again"
                    )
                new_refs[Ref(ref)] = ObjectID((new or ZERO).encode())
            return new_refs

        def generate(have: Any, want: Any, *, ofs_delta: bool = False, progress: Any = None) -> Any:
            return pack_records(store, set(have), set(want), _progress)

        _progress = progress
        try:
            result = self.client.send_pack(self.path.encode(), update_refs, generate)
        except (GitProtocolError, HangupException, OSError) as e:
            raise RemoteError(f"pushing to {redact_url(self.url)} failed: {e}") from e
        status = result.ref_status or {}
        return {ref: status.get(ref) for ref in updates}


def _transport(url: str) -> _Transport:
    local = _local_path(url)
    if local is not None:
        return _LocalTransport(local)
    return _GitTransport(url)


# -- checking what a remote sends --------------------------------------------------------------
def checked_refs(refs: Mapping[bytes, str], url: str) -> dict[bytes, str]:
    """The refs a remote advertises that this store may use, after checking all of them.

    Every name must pass ``git check-ref-format`` (dulwich's rules) and be valid UTF-8,
    and every value be a full object id; one that does not means a hostile or broken
    server (or someone in the middle of ``git://``/``http://``), and the whole operation
    is refused before anything is written. Valid names outside mlvc's layout (plain git
    branches, ``refs/pull/...``, a payload index of a malformed store id) are left out.

    Raises:
        RemoteRefusedError: a name or an id is not acceptable; nothing was changed.
    """
    out: dict[bytes, str] = {}
    for name, sha in refs.items():
        problem = ref_name_problem(name)
        if problem and problem.startswith("it is outside"):
            continue
        if problem is None and not is_object_id(sha):
            problem = f"it points at {str(sha)[:60]!r}, not an object id"
        if problem:
            shown = name.decode("utf-8", "backslashreplace")[:200]
            raise RemoteRefusedError(
                f"the remote {redact_url(url)} advertises the ref {shown!r}: {problem}. "
                "Refusing everything it sends (nothing was changed here); check the URL "
                "and the server (is someone rewriting plain git:// or http:// traffic?)"
            )
        if name.startswith((HEADS.encode(), TAGS.encode())):
            if split_ref(name, HEADS if name.startswith(HEADS.encode()) else TAGS) is None:
                continue  # not an mlvc branch or tag (no notebook key)
        elif name.startswith(SHARED_PREFIX):
            if not _STORE_ID.match(name[len(SHARED_PREFIX) :]):
                continue
        elif name.startswith(EVALUATIONS.encode()):
            pass  # evaluation records (checked names, immutable once made)
        elif name.startswith(REGISTRY.encode()):
            model = name[len(REGISTRY) :].decode()
            if not MODEL_NAME_RE.match(model) or ".." in model or model.endswith("."):
                continue  # not a model of the registry (one component, a model name)
        elif name != CONFIG_REF:
            continue
        out[name] = sha
    return out


def incomplete(store: Store, tips: Iterable[str], complete: set[str] | None = None) -> set[str]:
    """The ``tips`` whose history is not whole in this store: a commit, tree or blob they
    reach is missing. ``complete`` holds ids known whole (grown as commits are checked).

    A pull moves a ref only to a tip that passes this, so a pull killed after some
    objects arrived (or a remote that sends too little) never leaves a ref pointing at
    a commit whose tree or parents are missing.
    """
    done = complete if complete is not None else set()
    bad: set[str] = set()
    for tip in tips:
        if tip in done:
            continue
        if not _whole(store, tip, done):
            bad.add(tip)
    return bad


def _whole(store: Store, tip: str, done: set[str]) -> bool:
    """Whether every object ``tip`` reaches is here (stopping at ids in ``done``); on
    success, the commits, trees and tags met join ``done``. Blobs are only stat-ed."""
    seen: set[str] = set()
    stack = [tip]
    while stack:
        sha = stack.pop()
        if sha in done or sha in seen:
            continue
        seen.add(sha)
        try:
            obj = store.get(sha)
        except MlvcError:
            return False
        if isinstance(obj, Commit):
            stack.append(obj.tree.decode())
            stack.extend(p.decode() for p in obj.parents)
        elif isinstance(obj, Tag):
            stack.append(obj.object[1].decode())
        elif isinstance(obj, Tree):
            for entry in obj.iteritems():
                child = entry.sha.decode()
                if entry.mode == 0o040000:
                    stack.append(child)
                elif entry.mode != 0o160000 and not store.has_object(child):
                    return False  # a blob (gitlinks name no object of ours)
    done |= seen
    return True


# -- helpers --------------------------------------------------------------------------------
def store_id(store: Store) -> str:
    """This store's id (made on first use), naming its payload index on git remotes."""
    cfg = store.repo.get_config()
    try:
        return str(cfg.get((b"mlvc",), b"id").decode())
    except KeyError:
        sid = uuid.uuid4().hex[:16]
        cfg.set((b"mlvc",), b"id", sid.encode())
        cfg.write_to_path()
        return sid


def _ancestors(store: Store, head: str) -> set[str]:
    return {c.id.decode() for c in store.walk([head])}


def _ahead_behind(store: Store, local: str, remote: str) -> tuple[int, int]:
    a, b = _ancestors(store, local), _ancestors(store, remote)
    return len(a - b), len(b - a)


#: Ref prefixes that push and pull carry; evaluations never move, like tags; a model of
#: the registry moves like a branch (fast-forward only, see service/registry.py).
SHARED_REFS = (HEADS.encode(), TAGS.encode(), EVALUATIONS.encode(), REGISTRY.encode())
IMMUTABLE_REFS = (TAGS.encode(), EVALUATIONS.encode())


def _label(ref: bytes) -> dict[str, Any]:
    if ref.startswith(REGISTRY.encode()):
        return {"kind": "model", "notebook": None, "name": ref[len(REGISTRY) :].decode()}
    if ref.startswith(EVALUATIONS.encode()):
        return {"kind": "evaluation", "notebook": None, "name": ref.decode().rsplit("/", 1)[-1]}
    for prefix, kind in ((HEADS, "branch"), (TAGS, "tag")):
        split = split_ref(ref, prefix)
        if split:
            return {"kind": kind, "notebook": split[0], "name": split[1]}
    return {"kind": "other", "notebook": None, "name": ref.decode()}


def _tracking(remote: str, ref: bytes) -> bytes:
    return f"refs/remotes/{remote}/".encode() + ref[len(HEADS) :]


def _select(store: Store, branches: Iterable[str] | None) -> dict[bytes, str]:
    """Local branch and tag refs to push: all, or those the names pick (a branch name,
    ``notebook.ipynb/branch``, or a full ref name)."""
    refs = {
        name: sha
        for name, sha in store.refs_under(b"refs/").items()
        if name.startswith(SHARED_REFS)
    }
    names = list(branches or [])
    if not names:
        return refs
    chosen: dict[bytes, str] = {}
    for want in names:
        hits = {
            ref: sha
            for ref, sha in refs.items()
            if ref.decode() == want
            or (
                ref.startswith(HEADS.encode())
                and (
                    (lab := _label(ref))["name"] == want
                    or f"{lab['notebook']}/{lab['name']}" == want
                )
            )
        }
        if not hits:
            raise MlvcError(f"no branch named {want!r} to push")
        chosen.update(hits)
    return chosen


def _set_ref(store: Store, ref: bytes, new: str | None, message: str) -> None:
    store.cas_ref(ref, store.ref(ref), new, message=message)


def _commits_between(store: Store, heads: Iterable[str], known: Iterable[str]) -> list[Commit]:
    """Commits reachable from ``heads`` but not from ``known`` (ids we have)."""
    stop: set[str] = set()
    for k in known:
        if store.has_object(k):
            with contextlib.suppress(MlvcError):
                stop |= _ancestors(store, k)
    out = []
    for c in store.walk([h for h in heads if h]):
        if c.id.decode() not in stop:
            out.append(c)
    return out


def _parts_of_commits(store: Store, commits: Iterable[Commit]) -> tuple[list[Part], int]:
    """The parts (with size and xxh3) the commits' manifests name, and how many of them
    are not in this store."""
    parts: dict[str, Part] = {}
    seen: set[str] = set()
    for c in commits:
        for key in keep.payload_keys(store, c.tree.decode()):
            if key not in seen:
                seen.add(key)
                _add_parts(store, key, parts)
    missing = sum(1 for p in parts if not store.has_object(p))
    return list(parts.values()), missing


def _add_parts(store: Store, key: str, parts: dict[str, Part]) -> None:
    """Add the parts named by the manifests of a ``vars`` or ``data`` tree."""
    for _n, _m, vsha in store.tree(key).iteritems():
        m = store.tree_lookup(vsha.decode(), "manifest.json")
        if not m:
            continue
        manifest = store.read_json(m[1])
        chunk = int(manifest.get("chunk_size", 1 << 24))
        for seg in manifest["segments"]:
            size = int(seg["size"])
            hashes = seg.get("xxh3") or [None] * len(seg["parts"])
            for i, p in enumerate(seg["parts"]):
                n = min(chunk, size - i * chunk) if size else 0
                parts[p] = Part(p, n, hashes[i])


def _config_tree(store: Store, payloads: str) -> str:
    # never publish credentials (add_remote refuses them; older configs may hold some)
    clean = redact_url(payloads)
    blob = store.add_bytes(json.dumps({"payloads": clean}, indent=1).encode() + b"\n")
    return store.write_tree({"remote.json": blob})


def _index_commit(store: Store) -> str | None:
    """This store's payload index as a (parentless) commit, for a git-only remote."""
    index = keep.head(store)
    if index is None:
        return None
    return store.write_commit(
        index, [], "mlvc payload index\n", "mlvc <mlvc@localhost>", when=0, tz_offset=0
    )


# -- push -----------------------------------------------------------------------------------
@dataclass
class _Plan:
    ref: bytes
    local: str
    remote: str | None
    status: str
    ahead: int = 0
    behind: int = 0


def push(
    store: Store,
    remote: str | None = None,
    branches: Iterable[str] | None = None,
    *,
    force: bool = False,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Push branches and tags (all, or ``branches``) to a remote.

    Returns:
        ``remote``, ``url``, ``refs`` (one entry per ref: ``ref``, ``kind``,
        ``notebook``, ``name``, ``status`` — ``up-to-date``, ``created``,
        ``fast-forward``, ``forced``, ``rejected`` — ``ahead``, ``behind``,
        ``message``), ``rejected`` (count), ``payloads`` (what was uploaded to the
        payload remote, or None) and ``objects`` (git objects sent).

    Raises:
        RemoteNotFoundError, RemoteError, PayloadRemoteError.
    """
    r = get_remote(store, remote) if remote else default_remote(store)
    t = _transport(r.url)
    try:
        if progress:
            progress({"phase": "listing remote refs"})
        remote_refs = checked_refs(t.refs(), r.url)
        selected = _select(store, branches)
        # learn the remote commits we lack (history only: small), to count ahead/behind
        lacking = sorted(
            {s for ref, s in remote_refs.items() if ref in selected and not store.has_object(s)}
        )
        if lacking:
            t.fetch(store, lacking, progress)
        plans: list[_Plan] = []
        for ref, local in sorted(selected.items()):
            old = remote_refs.get(ref)
            if old == local:
                plans.append(_Plan(ref, local, old, "up-to-date"))
                continue
            if old is None:
                plans.append(_Plan(ref, local, old, "created"))
                continue
            ahead, behind = _ahead_behind(store, local, old)
            if behind == 0 and not ref.startswith(IMMUTABLE_REFS):
                plans.append(_Plan(ref, local, old, "fast-forward", ahead, 0))
            elif force:
                plans.append(_Plan(ref, local, old, "forced", ahead, behind))
            else:
                plans.append(_Plan(ref, local, old, "rejected", ahead, behind))
        for p in plans:
            if p.ref.startswith(HEADS.encode()) and p.remote and store.has_object(p.remote):
                with contextlib.suppress(RefConflictError):
                    _set_ref(store, _tracking(r.name, p.ref), p.remote, f"push {r.name}")
        updates: dict[bytes, tuple[str | None, str | None]] = {
            p.ref: (p.remote, p.local)
            for p in plans
            if p.status in ("created", "fast-forward", "forced")
        }
        pushed_heads = [p.local for p in plans if p.ref in updates]
        payload_report: dict[str, Any] | None = None
        if r.payloads:
            payload_report = _upload_payloads(store, r, pushed_heads, remote_refs, progress)
            tree = _config_tree(store, r.payloads)
            if remote_refs.get(CONFIG_REF) != tree and updates:
                updates[CONFIG_REF] = (remote_refs.get(CONFIG_REF), tree)
        elif updates:
            index = _index_commit(store)
            ref = SHARED_PREFIX + store_id(store).encode()
            if index and remote_refs.get(ref) != index:
                updates[ref] = (remote_refs.get(ref), index)
        status: dict[bytes, str | None] = {}
        if updates:
            if progress:
                progress({"phase": "sending objects"})
            store.flush()  # the transports read the objects through dulwich
            status = t.push(store, updates, progress)
        out_refs = []
        for p in plans:
            err = status.get(p.ref)
            state = p.status if err is None else "rejected"
            message = _push_message(p, err)
            if p.ref in updates and err is None and p.ref.startswith(HEADS.encode()):
                with contextlib.suppress(RefConflictError):
                    _set_ref(store, _tracking(r.name, p.ref), p.local, f"push {r.name}")
            out_refs.append(
                {
                    "ref": p.ref.decode(),
                    **_label(p.ref),
                    "status": state,
                    "ahead": p.ahead,
                    "behind": p.behind,
                    "local": p.local,
                    "remote": p.remote,
                    "message": message,
                }
            )
        if progress:
            progress({"phase": "done"})
        return {
            "remote": r.name,
            "url": redact_url(r.url),
            "refs": out_refs,
            "rejected": sum(1 for x in out_refs if x["status"] == "rejected"),
            "payloads": payload_report,
        }
    finally:
        t.close()


def _push_message(p: _Plan, err: str | None) -> str:
    lab = _label(p.ref)
    what = f"{lab['kind']} {lab['name']!r}" + (f" of {lab['notebook']}" if lab["notebook"] else "")
    if err is not None:
        return f"{what}: the remote refused it: {err}"
    if p.status == "rejected":
        if lab["kind"] == "model":
            return (
                f"{what} changed on the remote since your last pull ({p.behind} registry "
                "event(s) there that are not here): pull first (a pull replays your "
                "registry changes on top of the remote's), then push"
            )
        if lab["kind"] == "tag":
            return f"{what} points elsewhere on the remote: not moved (use --force to move it)"
        if p.ahead == 0:
            return f"{what} is {p.behind} commit(s) behind the remote: pull first (nothing to push)"
        return (
            f"{what} has diverged from the remote: {p.ahead} local commit(s) not on the "
            f"remote, {p.behind} remote commit(s) not here. Pull (the remote tip is kept "
            "as a remote-tracking ref), or push --force to overwrite the remote's"
        )
    if p.status == "forced":
        return f"{what}: overwrote the remote's tip ({p.behind} remote commit(s) dropped there)"
    return f"{what}: {p.status}"


def _upload_payloads(
    store: Store,
    r: Remote,
    heads: list[str],
    remote_refs: Mapping[bytes, str],
    progress: Progress | None,
) -> dict[str, Any]:
    assert r.payloads is not None
    commits = _commits_between(store, heads, remote_refs.values())
    parts, missing = _parts_of_commits(store, commits)
    here = [p for p in parts if store.has_object(p.sha)]
    remote = PayloadRemote(r.payloads, r.payload_options)
    report: dict[str, Any] = dict(remote.upload(store, here, progress))
    report.update(url=redact_url(r.payloads), commits=len(commits), not_here=missing)
    return report


# -- fetch and pull -------------------------------------------------------------------------
def fetch(
    store: Store, remote: str | None = None, *, progress: Progress | None = None
) -> dict[str, Any]:
    """Bring the remote's history (and, for a git-only remote, its payloads) and update
    the remote-tracking refs; local branches do not move (see :func:`pull`)."""
    r = get_remote(store, remote) if remote else default_remote(store)
    t = _transport(r.url)
    try:
        return _fetch(store, r, t, progress)
    finally:
        t.close()


def _fetch(store: Store, r: Remote, t: _Transport, progress: Progress | None) -> dict[str, Any]:
    if progress:
        progress({"phase": "listing remote refs"})
    remote_refs = checked_refs(t.refs(), r.url)
    wanted: dict[bytes, str] = {}
    for ref, sha in remote_refs.items():
        if (
            ref.startswith(SHARED_REFS)
            or ref == CONFIG_REF
            or (ref.startswith(SHARED_PREFIX) and not r.payloads)
        ):
            wanted[ref] = sha
    # a tip counts as here only when all it reaches is: an earlier pull killed midway may
    # have left the tip commit without its trees (local ref tips are whole: refs move
    # only to whole tips)
    whole: set[str] = {h.decode() for h in _heads(store)}
    lacking = sorted(incomplete(store, set(wanted.values()), whole))
    received = t.fetch(store, lacking, progress) if lacking else 0
    broken = incomplete(store, lacking, whole)
    if broken:
        raise RemoteError(
            f"{redact_url(r.url)} sent an incomplete history ({len(broken)} tip(s) reach "
            "objects that did not arrive, e.g. " + sorted(broken)[0] + "): nothing was "
            "changed here; pull again, and check the remote with `git fsck`"
        )
    # the payload parts of a git-only remote are kept (index merged) before any ref moves
    merged = 0
    if not r.payloads:
        merged = _merge_shared_indexes(
            store, [sha for ref, sha in wanted.items() if ref.startswith(SHARED_PREFIX)]
        )
    # remote-tracking refs: the remote's branches as they are now
    prefix = f"refs/remotes/{r.name}/".encode()
    seen: set[bytes] = set()
    for ref, sha in wanted.items():
        if ref.startswith(HEADS.encode()):
            track = _tracking(r.name, ref)
        elif ref.startswith(SHARED_PREFIX):
            track = prefix + b"payloads/" + ref[len(SHARED_PREFIX) :]
        else:
            continue
        seen.add(track)
        if store.ref(track) != sha:
            with contextlib.suppress(RefConflictError):
                # no reflog for payload indexes: gc may drop them (see gc.py)
                store.cas_ref(
                    track,
                    store.ref(track),
                    sha,
                    message=f"fetch {r.name}",
                    reflog=not ref.startswith(SHARED_PREFIX),
                )
    for ref, sha in store.refs_under(prefix).items():
        if ref not in seen:
            with contextlib.suppress(RefConflictError):
                store.cas_ref(ref, sha, None, message=f"fetch {r.name}: gone on the remote")
    published = None
    if CONFIG_REF in wanted:
        published = _published_payloads(store, wanted[CONFIG_REF])
    return {
        "remote": r.name,
        "url": redact_url(r.url),
        "remote_refs": remote_refs,
        "objects": received,
        "index_entries_merged": merged,
        "published_payloads": published,
    }


def _published_payloads(store: Store, tree: str) -> str | None:
    try:
        found = store.tree_lookup(tree, "remote.json")
        if not found:
            return None
        url = store.read_json(found[1]).get("payloads")
        return str(url) if isinstance(url, str) and url else None
    except (MlvcError, ValueError, AttributeError):
        return None


def _merge_shared_indexes(store: Store, commits: list[str]) -> int:
    """Merge other stores' payload indexes (fetched) into ours: every entry whose parts
    are all here."""
    entries: dict[str, str] = {}
    for c in commits:
        try:
            index = store.commit_obj(c).tree.decode()
            fetched = keep.read(store, index)
        except MlvcError:
            continue
        for key, tree in fetched.items():
            if key in entries:
                continue
            parts = keep.payload_tree_parts(store, tree)
            if all(store.has_object(p) for p in parts):
                entries[key] = tree
    if entries:
        keep.add(store, entries)
    return len(entries)


def pull(
    store: Store,
    remote: str | None = None,
    *,
    progress: Progress | None = None,
    accept_payloads: bool = False,
) -> dict[str, Any]:
    """Fetch, then fast-forward local branches to the remote's; create local branches
    the remote has and this store lacks; add its new tags. A branch that diverged is
    reported (ahead/behind) and left as it is, the remote tip kept in
    ``refs/remotes/<remote>/...``.

    Returns:
        ``remote``, ``url``, ``refs`` (``ref``, ``kind``, ``notebook``, ``name``,
        ``status`` — ``up-to-date``, ``created``, ``fast-forward``, ``ahead``,
        ``diverged``, ``conflict`` — ``ahead``, ``behind``, ``message``),
        ``diverged`` (count), ``objects``, ``payloads`` (the payload remote in use),
        ``published_payloads`` (the payload URL the remote publishes, when it differs
        from ``payloads``) and ``payloads_message`` (what to do about it, or None).

    A payload URL published on the remote changes where this store's later pushes send
    payload bytes, so it is not adopted unless ``accept_payloads`` (``mlvc pull
    --accept-payloads``) or :func:`accept_published_payloads`; until then it is only
    reported (and remembered for acceptance).

    Raises:
        RemoteRefusedError: the remote advertised a ref name or id that may not enter
            the store (nothing was changed).
        RemoteError: unreachable, or it sent an incomplete history (nothing changed).
    """
    r = get_remote(store, remote) if remote else default_remote(store)
    t = _transport(r.url)
    try:
        fetched = _fetch(store, r, t, progress)
    finally:
        t.close()
    remote_refs: dict[bytes, str] = fetched["remote_refs"]
    rows = []
    for ref, theirs in sorted(remote_refs.items()):
        if not ref.startswith(SHARED_REFS):
            continue
        ours = store.ref(ref)
        lab = _label(ref)
        what = f"{lab['kind']} {lab['name']!r}" + (
            f" of {lab['notebook']}" if lab["notebook"] else ""
        )
        ahead = behind = 0
        if ours == theirs:
            status = "up-to-date"
        elif ours is None:
            status = "created"
            _set_ref(store, ref, theirs, f"pull {r.name}")
        elif ref.startswith(IMMUTABLE_REFS):
            status = "conflict"
        else:
            ahead, behind = _ahead_behind(store, ours, theirs)
            if ahead == 0:
                status = "fast-forward"
                store.cas_ref(ref, ours, theirs, message=f"pull {r.name}: fast-forward")
            elif behind == 0:
                status = "ahead"
            else:
                status = "diverged"
        message = {
            "up-to-date": f"{what}: up to date",
            "created": f"{what}: new from {r.name}",
            "fast-forward": f"{what}: fast-forwarded by {behind} commit(s)",
            "ahead": f"{what}: {ahead} local commit(s) not yet pushed",
            "diverged": (
                f"{what} has diverged: {ahead} local commit(s), {behind} on {r.name}. "
                f"Both are kept: yours on the branch, theirs as "
                f"refs/remotes/{r.name}/{ref[len(HEADS) :].decode()}"
            ),
            "conflict": f"{what} points elsewhere on {r.name}: yours is kept",
        }[status]
        rows.append(
            {
                "ref": ref.decode(),
                **lab,
                "status": status,
                "ahead": ahead,
                "behind": behind,
                "message": message,
                "remote": theirs,
            }
        )
    published: str | None = fetched["published_payloads"]
    advice: str | None = None
    if published and published != r.payloads:
        if accept_payloads:
            r = set_payloads(store, r.name, published)
            advice = f"payload remote of {r.name} set to {redact_url(published)} (accepted)"
            published = None
        else:
            offer_payloads(store, r.name, published)
            advice = (
                f"{r.name} publishes the payload remote {redact_url(published)}"
                + (f" (yours is {redact_url(r.payloads)})" if r.payloads else "")
                + ": not adopted. Accept it with `mlvc pull --accept-payloads` if you "
                "trust it (later pushes would send payload bytes there)"
            )
    _point_head(store)
    return {
        "remote": r.name,
        "url": redact_url(r.url),
        "refs": rows,
        "diverged": sum(1 for x in rows if x["status"] == "diverged"),
        "objects": fetched["objects"],
        "payloads": redact_url(r.payloads) if r.payloads else None,
        "published_payloads": redact_url(published) if published else None,
        "payloads_message": advice,
        "index_entries_merged": fetched["index_entries_merged"],
    }


def accept_published_payloads(store: Store, remote: str | None = None) -> Remote:
    """Adopt the payload URL that the last pull found published on ``remote`` (and
    reported without adopting it).

    Raises:
        MlvcError: that remote published none (or it was accepted already).
    """
    from .remotes import offered_payloads

    r = get_remote(store, remote) if remote else default_remote(store)
    offered = offered_payloads(store, r.name)
    if not offered:
        raise MlvcError(f"{r.name} has published no payload remote to accept (pull first)")
    return set_payloads(store, r.name, offered)


def _point_head(store: Store) -> None:
    """A store without commits of its own gets HEAD on a branch it now has."""
    current = store.repo.refs.read_ref(Ref(b"HEAD")) or b""
    if current.startswith(b"ref: ") and store.ref(current[5:]):
        return
    heads = store.refs_under(HEADS.encode())
    if heads:
        newest = max(heads, key=lambda ref: store.commit_obj(heads[ref]).commit_time)
        store.set_head(newest)


def clone(
    url: str,
    directory: str | os.PathLike[str],
    *,
    name: str = "origin",
    payloads: str | None = None,
    payload_options: dict[str, Any] | None = None,
    progress: Progress | None = None,
    accept_payloads: bool = True,
) -> dict[str, Any]:
    """A new project folder with a store holding the remote's history.

    With a payload remote (given, or published by the remote), no payload bytes are
    downloaded: restore fetches them when needed. Without one, every payload comes
    through git.

    Raises:
        MlvcError: ``directory`` holds a store already (or is a non-empty file).
    """
    root = Path(directory)
    if (root / ".mlvc").exists():
        raise MlvcError(f"{str(root)!r} holds an mlvc store already")
    made_root = not root.exists()
    root.mkdir(parents=True, exist_ok=True)
    store = Store.init(root)
    ok = False
    try:
        add_remote(store, name, url, payloads=payloads, payload_options=payload_options)
        # a clone starts without a payload remote of its own: the one the remote publishes
        # is taken (and said so), unless ``accept_payloads`` is False
        report = pull(store, name, progress=progress, accept_payloads=accept_payloads)
        report["path"] = str(store.root)
        ok = True
        return report
    finally:
        store.close()
        if not ok:  # a clone that failed (a refused remote, no network) leaves nothing
            shutil.rmtree(root / ".mlvc", ignore_errors=True)
            if made_root:
                shutil.rmtree(root, ignore_errors=True)
