"""The sidecar store: a bare git repository at ``<project>/.mlvc``.

Plain git reads it (``git --git-dir .mlvc log --all``). dulwich handles trees, commits
and refs; big payload blobs go through :mod:`.objects`. Writes are crash-safe: objects
are written (to temporary files renamed into place) before the ref that makes them
reachable, and refs move by compare-and-swap under git's lock files.

Small objects (trees, commits, records, manifests, small payload parts) are not written
one file each: they are gathered in memory and written as **one pack** (``.pack`` and
``.idx``, what ``git index-pack`` leaves) just before the next ref moves, or when the
store is closed or :meth:`Store.flush` is called. A commit of ~20 new objects so
creates 2 files instead of ~20. Packs are merged geometrically once there are many, so
their number stays logarithmic in the number of commits.
"""

from __future__ import annotations

import contextlib
import json
import os
import struct
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import xxhash

if TYPE_CHECKING:
    from dulwich.objects import Commit, ShaFile, Tree
    from dulwich.repo import Repo

# dulwich loads when first needed: ``mlvc log`` and ``status`` read refs, the summaries
# and a few small objects (raw_object, tree_lookup, read_blob) without it, and importing
# dulwich costs several times Python's own start

from ..errors import (
    CorruptObjectError,
    DamagedRefError,
    NotARepositoryError,
    RefConflictError,
    RefLockedError,
)
from . import objects
from .hashcache import HashCache

STORE_DIR = ".mlvc"
#: How long an object this process found in a pack, or wrote into one, counts as there
#: without asking the pack tables again (a ``stat`` of the folder and a look in each
#: pack's table). mlvc never deletes a packed object (merges copy it into the merged
#: pack first); the bound covers a ``git gc`` run by hand, which may.
PACKED_SECONDS = 300.0
_PACKED_MAX = 200_000
#: A ref lock older than this was left by a killed process (writing a ref takes µs).
STALE_LOCK_SECONDS = 30
#: How long a writer waits for a ref locked by a live writer before reporting it.
LOCK_WAIT_SECONDS = 2.5
#: Called as ``hook(store, ref)`` when :meth:`Store.cas_ref` holds the lock of ``ref`` with
#: its new value written, just before the rename that moves it (the payload index
#: registers the entries it deferred, see :func:`.keep.deferred`); a hook that raises
#: leaves ``ref`` where it was. A hook may return an undo, called (best effort) if the
#: ref's own move then fails.
BEFORE_REF_MOVE: list[Callable[[Store, bytes], Callable[[], None] | None]] = []
#: Set ``MLVC_SHARED_STORE=1`` to create stores with the umask's permissions instead of
#: private ones (0700: only their owner may read them).
SHARED_STORE_ENV = "MLVC_SHARED_STORE"


def repair_hint(name: bytes | str) -> str:
    shown = name.decode("utf-8", "backslashreplace") if isinstance(name, bytes) else name
    return (
        f"run `mlvc fsck --repair` to move {shown} back to the last good commit its reflog "
        "names (or delete the ref)"
    )


#: Objects up to this size (raw content) are gathered and written as one pack; bigger
#: ones are loose objects. (Payload parts up to this size are also what retention keeps,
#: ``gc.SMALL_BYTES``, so a pack never holds bytes that gc would want to free.)
PACK_OBJECT_MAX = 64 << 10
#: Gathered objects are written once they reach this many bytes, even before a ref moves.
_PENDING_MAX = 32 << 20
#: Packs up to this size are merged with others of their size class (see
#: :meth:`Store._merge_packs`); bigger ones (e.g. git's own) are left alone.
_MERGE_PACK_MAX = 64 << 20
#: Size classes: below _MERGE_BASE, then each _MERGE_FACTOR times bigger.
_MERGE_BASE = 16 << 10
_MERGE_FACTOR = 8
#: How many packs of one class are merged into one.
_MERGE_WIDTH = 8


_TYPES = {b"commit": 1, b"tree": 2, b"blob": 3, b"tag": 4}
_NAMES = {v: k for k, v in _TYPES.items()}


def _tree_entry(raw: bytes, name: bytes) -> tuple[int, str] | None:
    """``(mode, id)`` of the entry ``name`` of a tree's raw content, or None.

    Raises:
        CorruptObjectError: the content is not a well-formed tree.
    """
    pos, n = 0, len(raw)
    while pos < n:
        space = raw.find(b" ", pos)
        nul = raw.find(b"\x00", space + 1)
        if space < 0 or nul < 0 or nul + 21 > n:
            raise CorruptObjectError("a tree is damaged (an entry is cut short)")
        if raw[space + 1 : nul] == name:
            try:
                mode = int(raw[pos:space], 8)
            except ValueError:
                raise CorruptObjectError("a tree is damaged (a bad mode)") from None
            return mode, raw[nul + 1 : nul + 21].hex()
        pos = nul + 21
    return None


def find_root(start: str | os.PathLike[str] = ".") -> Path:
    """The project root: the nearest folder at or above ``start`` holding ``.mlvc/``."""
    p = Path(start).resolve()
    if p.is_file():
        p = p.parent
    for candidate in (p, *p.parents):
        if (candidate / STORE_DIR / "HEAD").is_file():
            return candidate
    raise NotARepositoryError(
        f"no mlvc store at or above {str(p)!r}: run `mlvc init` (or commit once) in the "
        "project folder"
    )


class Store:
    """An open ``.mlvc`` store. Use as a context manager or call :meth:`close`."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).resolve()
        self.path = self.root / STORE_DIR
        if not (
            (self.path / "HEAD").is_file()
            and (self.path / "objects").is_dir()
            and (self.path / "refs").is_dir()
        ):
            raise NotARepositoryError(f"{str(self.path)!r} is not an mlvc store")
        self._repo: Repo | None = None
        self.objects_dir = self.path / "objects"
        self.state_dir = self.path / "mlvc"
        self.state_dir.mkdir(exist_ok=True)
        self.hash_cache = HashCache(self.state_dir / "hashcache")
        #: fsync objects and refs before they are renamed into place (power-loss safety;
        #: a killed process loses nothing without it).
        self.fsync = False
        self._objects = str(self.objects_dir)
        self._packs = str(self.objects_dir / "pack")
        self._packs_mtime = -1
        self._packs_any = False
        self._locks_seen: dict[bytes, tuple[tuple[int, int], float]] = {}
        self._pack_indexes = objects.PackIndexes(self.objects_dir / "pack")
        #: small objects not written yet: id -> (git type number, raw content)
        self._pending: dict[str, tuple[int, bytes]] = {}
        self._pending_bytes = 0
        self._merge_due = False
        #: objects known packed, id -> when (``time.monotonic``), see :meth:`known_packed`
        self._packed: dict[str, float] = {}
        # one store is shared by the server's threads: a flush must finish before any
        # thread moves a ref past objects it gathered
        self._lock = threading.RLock()

    @property
    def repo(self) -> Repo:
        """The dulwich repository (opened on first use)."""
        if self._repo is None:
            from dulwich.errors import NotGitRepository
            from dulwich.repo import Repo

            try:
                self._repo = Repo(str(self.path))
            except NotGitRepository:
                raise NotARepositoryError(f"{str(self.path)!r} is not an mlvc store") from None
        return self._repo

    # -- lifecycle -------------------------------------------------------------------
    @classmethod
    def init(cls, root: str | os.PathLike[str]) -> Store:
        """Create the store under ``root`` (idempotent) and open it."""
        path = Path(root).resolve() / STORE_DIR
        if not (path / "HEAD").is_file():
            private = os.environ.get(SHARED_STORE_ENV, "") in ("", "0")
            path.mkdir(parents=True, exist_ok=True)
            if private:
                # experiments hold data, code and maybe secrets: the owner's only (the
                # folder's mode guards every file below it, whatever the umask made them)
                os.chmod(path, 0o700)
            from dulwich.repo import Repo

            repo = Repo.init_bare(str(path))
            cfg = repo.get_config()
            # Auto-gc would pack big payloads with dulwich's in-memory packer.
            cfg.set((b"gc",), b"auto", b"0")
            cfg.set((b"core",), b"bigFileThreshold", b"1073741824")
            cfg.set((b"mlvc",), b"version", b"1")
            cfg.write_to_path()
            (path / "description").write_text("mlvc experiment store\n")
            repo.close()
            (path / "mlvc").mkdir(exist_ok=True)
            (path / ".gitignore").write_text("*\n")
            if private:
                os.chmod(path / "mlvc", 0o700)
                for f in ("config", "description", "HEAD"):
                    os.chmod(path / f, 0o600)
        return cls(path.parent)

    @classmethod
    def open(cls, start: str | os.PathLike[str] = ".", *, create: bool = False) -> Store:
        """Open the store of the project containing ``start`` (creating it if asked)."""
        try:
            return cls(find_root(start))
        except NotARepositoryError:
            if not create:
                raise
            p = Path(start).resolve()
            return cls.init(p.parent if p.is_file() else p)

    def close(self) -> None:
        self.flush()
        self.merge_packs()
        if self._repo is not None:
            # a view of one of dulwich's pack mappings may still be alive (an error's
            # traceback, another thread's read): that mapping goes with its last view.
            # Everything is written by now; closing must not fail the caller.
            with contextlib.suppress(BufferError):
                self._repo.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- objects ---------------------------------------------------------------------
    def known_packed(self, sha: str) -> bool:
        """Whether this process found ``sha`` in a pack, or wrote it into one, within
        :data:`PACKED_SECONDS`: then it is there without asking the pack tables again.
        A commit meets most of its objects again (the unchanged variables' manifests
        and small parts, trees it wrote before)."""
        when = self._packed.get(sha)
        return when is not None and time.monotonic() - when < PACKED_SECONDS

    def _note_packed(self, sha: str) -> None:
        if len(self._packed) >= _PACKED_MAX:
            self._packed.clear()
        self._packed[sha] = time.monotonic()

    def has_object(self, sha: str, *, thorough: bool = True) -> bool:
        """Whether the object exists (gathered, a stat for loose objects, the pack
        indexes otherwise).

        ``thorough=False`` trusts the pack folder as last listed when its mtime has not
        changed: for writers, to which a pack written within the same mtime tick by
        another process only costs writing the object again (git allows an object in
        two packs; merging keeps one). A "no" that matters (a ref's target, a part to
        reuse) is thorough."""
        if sha in self._pending or os.path.exists(f"{self._objects}/{sha[:2]}/{sha[2:]}"):
            return True
        self._pack_indexes.refresh()
        if self._pack_indexes.find(sha) is not None:
            return True
        if not thorough:
            return False
        # not in the indexes as last listed: list the folder again before saying no (a
        # pack another thread or process just wrote may not have changed its mtime)
        self._pack_indexes.refresh(force=True)
        if self._pack_indexes.find(sha) is not None:
            return True
        if not self._pack_indexes.foreign:
            return False
        from dulwich.objects import ObjectID

        return bool(self.repo.object_store.contains_packed(ObjectID(sha.encode())))

    def in_packs(self, sha: str) -> bool:
        """Whether one of the packs holds ``sha``, by their indexes as last listed (listed
        again when the folder's mtime changed): as ``has_object(thorough=False)`` without
        looking for a loose object."""
        if self.known_packed(sha):
            return True
        self._pack_indexes.refresh()
        if self._pack_indexes.find(sha) is None:
            return False
        self._note_packed(sha)
        return True

    def add(self, obj: ShaFile) -> str:
        """Write an object (tree, commit, JSON blob), if missing: gathered into the next
        pack when small, else a zlib-compressed loose object."""
        sha = obj.id.decode()
        # an existing loose object is touched ("freshened") so that a concurrent gc keeps it
        if sha in self._pending or self.known_packed(sha) or objects.freshen(self.objects_dir, sha):
            return sha
        if not self.has_object(sha, thorough=False):
            raw = obj.as_raw_string()
            if len(raw) <= PACK_OBJECT_MAX:
                self._gather(sha, obj.type_num, raw)
            else:
                objects.write_compressed(
                    self.objects_dir, sha, obj.as_legacy_object(), fsync=self.fsync
                )
        return sha

    def add_blob(self, data: bytes | memoryview, sha: str | None = None) -> str:
        """Write a blob of at most :data:`PACK_OBJECT_MAX` bytes into the next pack, if
        the store lacks it (``sha``: its id, when the caller has it already)."""
        if sha is None:
            sha = objects.blob_sha([data], len(data))
        if sha in self._pending or self.known_packed(sha) or objects.freshen(self.objects_dir, sha):
            return sha
        if not self.has_object(sha, thorough=False):
            self._gather(sha, 3, bytes(data))
        return sha

    def _gather(self, sha: str, type_num: int, raw: bytes) -> None:
        with self._lock:
            if sha not in self._pending:
                self._pending[sha] = (type_num, raw)
                self._pending_bytes += len(raw)
            full = self._pending_bytes >= _PENDING_MAX
        if full:
            self.flush()

    def flush(self) -> None:
        """Write the gathered small objects as one pack (nothing if none are pending).

        Called before every ref moves (:meth:`cas_ref`) and by :meth:`close`; call it
        before handing the store's objects to anything that reads them without this
        object (a git subprocess, another :class:`Store`).
        """
        with self._lock:
            if not self._pending:
                return
            items = [(sha, t, raw) for sha, (t, raw) in self._pending.items()]
            # the listing up to date first: the new pack is then added to it alone
            self._pack_indexes.refresh()
            name = objects.write_pack(self.objects_dir, items, fsync=self.fsync)
            for sha, _t, _raw in items:
                self._note_packed(sha)
            self._pending = {}
            self._pending_bytes = 0
            self._merge_due = True
            # see the pack at once, even within the folder's mtime tick (the writers'
            # quick has_object trusts the listing), without listing the folder again
            if name is not None:
                self._pack_indexes.add_written(name)

    def merge_packs(self) -> None:
        """Merge small packs if a flush made enough of them (see :meth:`_merge_packs`).
        Runs after the ref moved (:meth:`cas_ref`), off a commit's critical path;
        failures (a full disk) are ignored: merging only saves lookups."""
        if not self._merge_due:
            return
        with self._lock:
            self._merge_due = False
            with contextlib.suppress(OSError, CorruptObjectError):
                self._merge_packs()

    def _merge_packs(self) -> None:
        """Merge small packs by size class, as a log-structured merge: packs of one
        class (sizes within a factor :data:`_MERGE_FACTOR`) are merged into one once
        there are :data:`_MERGE_WIDTH` of them, which lands in the next class. So every
        object is rewritten once per class (O(n log n) bytes over n commits) and there
        are at most ``_MERGE_WIDTH`` packs per class. The merged pack is in place before
        any old one is deleted, so every object stays readable throughout."""
        indexes = self._pack_indexes
        indexes.refresh()
        pack_dir = self.objects_dir / "pack"
        # one listing throughout: another thread's refresh may drop a pack that
        # another process merged away meanwhile (its file is then gone: reading it
        # raises FileNotFoundError, and this merge is given up)
        listing = indexes.snapshot()
        classes: dict[int, list[str]] = {}
        for name in listing:
            # sizes and .keep files as the listing saw them (no stat per pack per commit)
            size = indexes.pack_size(name)
            if size is None or size >= _MERGE_PACK_MAX or name in indexes.kept:
                continue
            level, bound = 0, _MERGE_BASE
            while size >= bound:
                level, bound = level + 1, bound * _MERGE_FACTOR
            classes.setdefault(level, []).append(name)
        roll = next(
            (names for _l, names in sorted(classes.items()) if len(names) >= _MERGE_WIDTH), None
        )
        if roll is None:
            return
        # entries are copied as they are (checked against their CRC), as git's repack
        # reuses them; a pack with deltas or a damaged entry is read object by object
        copied: dict[str, tuple[int, bytes]] = {}
        gathered: dict[str, tuple[int, bytes]] = {}
        for name in roll:
            raw = indexes.raw_entries(name, listing[name])
            if raw is None:
                self._read_pack(name, listing[name], gathered)
            else:
                copied.update((sha, (crc, entry)) for sha, crc, entry in raw)
        for sha, (t, content) in gathered.items():
            if sha not in copied:
                entry = objects.pack_entry(t, content)
                copied[sha] = (zlib.crc32(entry) & 0xFFFFFFFF, entry)
        merged = objects.write_pack_entries(
            self.objects_dir,
            [(sha, crc, entry) for sha, (crc, entry) in sorted(copied.items())],
            fsync=self.fsync,
        )
        for name in roll:
            if name == merged:
                continue
            # the index first: readers stop seeing the pack before its data goes
            for ext in (".idx", ".pack"):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(pack_dir / (name + ext))
        self._forget_gone_packs()

    def _read_pack(self, name: str, index: bytes, into: dict[str, tuple[int, bytes]]) -> None:
        """Every object of one pack (whole objects straight from their entries; a pack
        with deltas, written by git, through dulwich).

        Raises:
            FileNotFoundError: the pack is gone (merged away by another process).
        """
        pack = self.objects_dir / "pack" / (name + ".pack")
        if not pack.exists():
            raise FileNotFoundError(pack)
        got: dict[str, tuple[int, bytes]] = {}
        for sha, offset in objects.PackIndexes.entries(index):
            entry = objects.inflate_entry(pack, offset)
            if entry is None:  # a delta
                break
            got[sha] = entry
        else:
            into.update(got)
            return
        from dulwich.object_format import DEFAULT_OBJECT_FORMAT
        from dulwich.pack import PackData, PackInflater

        pd = PackData(str(pack), DEFAULT_OBJECT_FORMAT)
        try:
            for obj in PackInflater.for_pack_data(pd):
                into[obj.id.decode()] = (obj.type_num, obj.as_raw_string())
        finally:
            pd.close()

    def _forget_gone_packs(self) -> None:
        """Let dulwich drop the packs that were merged away (they raise
        ``PackFileDisappeared`` when iterated, e.g. by ``iter_prefix``)."""
        if self._repo is None:
            return  # dulwich has not listed the packs yet: nothing to forget
        update = getattr(self._repo.object_store, "_update_pack_cache", None)
        if update is not None:
            with contextlib.suppress(OSError):
                update()

    def packed_ids(self) -> set[str]:
        """The id of every object in a pack (packs merged away meanwhile are skipped:
        their objects are in the merged pack, which is listed)."""
        indexes = self._pack_indexes
        indexes.refresh()
        out: set[str] = set()
        for index in indexes.snapshot().values():
            out.update(sha for sha, _offset in indexes.entries(index))
        if indexes.foreign:
            from dulwich.pack import PackFileDisappeared

            for pack in self.repo.object_store.packs:
                with contextlib.suppress(PackFileDisappeared, FileNotFoundError):
                    out.update(sha.decode() for sha in pack)
        return out

    def ids_with_prefix(self, prefix: str) -> list[str]:
        """Every object id starting with ``prefix`` (hex, 2 digits or more): gathered,
        loose and packed. Packs are searched in their indexes as listed now (held in
        memory: a pack merged away meanwhile by another process still answers, and the
        merged pack is listed), through dulwich only for packs of another layout."""
        prefix = prefix.lower()
        found = {sha for sha in self._pending if sha.startswith(prefix)}
        if len(prefix) >= 2:
            with contextlib.suppress(FileNotFoundError, NotADirectoryError):
                found.update(
                    prefix[:2] + name
                    for name in os.listdir(f"{self._objects}/{prefix[:2]}")
                    if name.startswith(prefix[2:]) and len(name) == 38
                )
        indexes = self._pack_indexes
        indexes.refresh(force=True)
        for index in indexes.snapshot().values():
            found.update(objects.PackIndexes.ids_with_prefix(index, prefix))
        if indexes.foreign or len(prefix) < 2:
            from dulwich.pack import PackFileDisappeared

            for _attempt in range(3):
                try:
                    found.update(
                        s.decode() for s in self.repo.object_store.iter_prefix(prefix.encode())
                    )
                    break
                except PackFileDisappeared:  # merged by another process meanwhile
                    self._forget_gone_packs()
        return sorted(found)

    def add_bytes(self, data: bytes) -> str:
        return self.add_raw(3, data)

    def get(self, sha: str) -> ShaFile:
        """The object ``sha``.

        Raises:
            CorruptObjectError: it is missing, or damaged: it cannot be read, or its
                bytes do not hash to its id (a truncated object inflates without error).
        """
        from dulwich.errors import ApplyDeltaError, ChecksumMismatch, FileFormatException
        from dulwich.objects import ObjectID, ShaFile

        pending = self._pending.get(sha)
        if pending is not None:
            return ShaFile.from_raw_string(pending[0], pending[1], ObjectID(sha.encode()))
        try:
            # a loose object is read straight from its file: dulwich's lookup lists the
            # pack folder first, on every call (~50 µs, most of reading a small tree)
            try:
                obj = ShaFile.from_path(f"{self._objects}/{sha[:2]}/{sha[2:]}")
            except (FileNotFoundError, NotADirectoryError):
                obj = self._get_packed(sha)
            if obj.id.decode() != sha:
                raise CorruptObjectError(f"object {sha} is damaged: its bytes hash to another id")
            return obj
        except KeyError:
            raise CorruptObjectError(f"object {sha} is missing from the store") from None
        except (
            zlib.error,
            FileFormatException,
            ChecksumMismatch,
            ApplyDeltaError,
            # dulwich's parsers meet a file cut short with these (ord() of b"", int("x"))
            TypeError,
            ValueError,
            IndexError,
            EOFError,
            # a pack cut short or with a damaged entry header: dulwich asserts
            AssertionError,
            struct.error,
        ) as e:
            if isinstance(e, ChecksumMismatch):
                # dulwich refuses a whole pack whose trailer does not match: read just
                # this object's entry, so damage elsewhere in the pack does not cost it
                obj2 = self._read_entry_unchecked(sha)
                if obj2 is not None:
                    return obj2
            raise CorruptObjectError(
                f"object {sha} is damaged (flipped or lost bytes): {e}"
            ) from None

    def _get_packed(self, sha: str) -> ShaFile:
        """A packed object: straight from its entry when it is a whole object in a pack
        we can index (mlvc's packs), else through dulwich (deltas, version 1 indexes)."""
        from dulwich.objects import ObjectID, ShaFile

        self._pack_indexes.refresh()
        found = self._pack_indexes.find(sha)
        if found is None:  # a pack written within one mtime tick of the last listing
            self._pack_indexes.refresh(force=True)
            found = self._pack_indexes.find(sha)
        if found is not None and not found[1] & 0x80000000:
            try:
                entry = objects.inflate_entry(
                    self.objects_dir / "pack" / (found[0] + ".pack"), found[1]
                )
            except CorruptObjectError as e:
                raise CorruptObjectError(
                    f"object {sha} is damaged (flipped or lost bytes): {e}"
                ) from None
            if entry is not None:  # else a delta, or the pack was merged away meanwhile
                return ShaFile.from_raw_string(entry[0], entry[1])  # hashed: checked
        return self.repo.object_store[ObjectID(sha.encode())]

    def _read_entry_unchecked(self, sha: str) -> ShaFile | None:
        from dulwich.objects import ShaFile

        found = self._packed_whole(sha)
        if found is None:
            return None
        obj = ShaFile.from_raw_string(found[0], found[1])
        return obj if obj.id.decode() == sha else None

    def raw_object(self, sha: str) -> tuple[int, bytes]:
        """``(git type number, raw content)`` of object ``sha``, read without dulwich
        when it is gathered, loose or a whole object in one of our packs, and checked
        against its id; anything else (a delta, a damaged or missing object) goes
        through :meth:`get` and its errors."""
        pending = self._pending.get(sha)
        if pending is not None:
            return pending
        found: tuple[int, bytes] | None = None
        try:
            with open(f"{self._objects}/{sha[:2]}/{sha[2:]}", "rb") as f:
                data = zlib.decompress(f.read())
            head, _, raw = data.partition(b"\x00")
            kind, _, size = head.partition(b" ")
            if kind in _TYPES and int(size) == len(raw):
                found = (_TYPES[kind], raw)
        except FileNotFoundError:
            found = self._packed_whole(sha)
        except (OSError, zlib.error, ValueError):
            found = None
        if found is not None and objects.object_id(_NAMES[found[0]], found[1]) == sha:
            return found
        obj = self.get(sha)  # the slow path, with its precise errors
        return obj.type_num, obj.as_raw_string()

    def _packed_whole(self, sha: str) -> tuple[int, bytes] | None:
        """``(type number, raw content)`` of ``sha`` read straight from its pack entry,
        found through the packs' version 2 indexes, without the check of the whole
        pack's trailer that dulwich makes first: one flipped byte in a pack costs only
        the object it falls in (as with git). Not checked against its id. None when no
        pack holds it as a whole object (a delta: packs written by git) or its entry
        cannot be inflated."""
        self._pack_indexes.refresh()
        where = self._pack_indexes.find(sha)
        if where is None or where[1] & 0x80000000:
            return None
        with contextlib.suppress(CorruptObjectError):
            return objects.inflate_entry(f"{self._objects}/pack/{where[0]}.pack", where[1])
        return None

    def _packed_into(self, sha: str, out: memoryview, xxh3: str) -> bool:
        """Read blob ``sha`` into ``out`` from its entry in one of our packs, checked
        against ``xxh3``; False (nothing trusted) when it is not there as a whole blob
        of that size and hash."""
        found = self._packed_whole(sha)
        if (
            found is None
            or found[0] != 3
            or len(found[1]) != len(out)
            or xxhash.xxh3_128_hexdigest(found[1]) != xxh3
        ):
            return False
        out[:] = found[1]
        return True

    def read_blob(self, sha: str) -> bytes:
        type_num, raw = self.raw_object(sha)
        if type_num != 3:
            raise CorruptObjectError(f"object {sha} is not a blob")
        return raw

    def commit_tree(self, sha: str) -> str:
        """The tree id of commit ``sha``."""
        type_num, raw = self.raw_object(sha)
        if type_num != 1 or not raw.startswith(b"tree ") or raw[45:46] != b"\n":
            raise CorruptObjectError(f"object {sha} is not a commit")
        return raw[5:45].decode("ascii")

    def read_blob_into(self, sha: str, out: memoryview, xxh3: str | None = None) -> None:
        """Read blob ``sha`` into ``out`` (raises KeyError if absent).

        With ``xxh3`` (the 128-bit xxh3 hex digest of the content, as recorded in a
        manifest), our own stored-block objects are read with a few ``preadv`` calls and
        checked against it; other objects are inflated and checked by zlib's Adler-32.
        """
        pending = self._pending.get(sha)
        if pending is not None:
            if len(pending[1]) != len(out):
                raise CorruptObjectError(
                    f"object {sha} has {len(pending[1])} bytes, expected {len(out)}"
                )
            out[:] = pending[1]
            return
        # a small part is most likely packed (a patch, the last chunk of a file): its
        # pack entry first, then the loose object; a big one the other way round
        if xxh3 is not None and len(out) <= PACK_OBJECT_MAX and self._packed_into(sha, out, xxh3):
            return
        path = f"{self._objects}/{sha[:2]}/{sha[2:]}"
        try:
            if xxh3 is not None and objects.read_stored_fast(path, len(out), out):
                if xxhash.xxh3_128_hexdigest(out) != xxh3:
                    raise CorruptObjectError(
                        "content does not match its recorded hash (flipped or damaged bytes)"
                    )
                return
            objects.read_loose_into(Path(path), len(out), out)
            return
        except FileNotFoundError:
            pass
        # packed (a patch, small parts): a whole object of our packs is read straight
        # from its entry and checked against ``xxh3`` if given, else against its id;
        # anything else through dulwich
        if xxh3 is not None and len(out) > PACK_OBJECT_MAX and self._packed_into(sha, out, xxh3):
            return
        try:
            type_num, data = self.raw_object(sha)
        except CorruptObjectError:
            if not self.has_object(sha):
                raise KeyError(sha) from None
            raise
        if type_num != 3:
            raise CorruptObjectError(f"object {sha} is not a blob")
        if len(data) != len(out):
            raise CorruptObjectError(f"object {sha} has {len(data)} bytes, expected {len(out)}")
        out[:] = data

    def read_json(self, sha: str) -> Any:
        return json.loads(self.read_blob(sha))

    def tree(self, sha: str) -> Tree:
        from dulwich.objects import Tree

        obj = self.get(sha)
        if not isinstance(obj, Tree):
            raise CorruptObjectError(f"object {sha} is not a tree")
        return obj

    def commit_obj(self, sha: str) -> Commit:
        from dulwich.objects import Commit

        obj = self.get(sha)
        if not isinstance(obj, Commit):
            raise CorruptObjectError(f"object {sha} is not a commit")
        return obj

    def tree_lookup(self, tree_sha: str, path: str) -> tuple[int, str] | None:
        """(mode, id) of ``path`` inside a tree, or None."""
        mode, sha = 0, tree_sha
        for part in path.strip("/").split("/"):
            type_num, raw = self.raw_object(sha)
            if type_num != 2:
                raise CorruptObjectError(f"object {sha} is not a tree")
            found = _tree_entry(raw, part.encode())
            if found is None:
                return None
            mode, sha = found
        return mode, sha

    def write_tree(self, entries: dict[str, Any]) -> str:
        """Write nested trees from ``{name: blob id | (mode, id) | {sub entries}}``.

        The tree objects are built as bytes here (git's format: ``<mode> <name>\\0``
        and the 20-byte id per entry, sorted as git sorts them, a tree's name as if it
        ended with ``/``): dulwich's ``Tree`` costs ~50 µs per tree, and a commit
        writes one per variable."""
        items: list[tuple[bytes, int, str]] = []
        for name, value in entries.items():
            if isinstance(value, dict):
                items.append((name.encode(), 0o040000, self.write_tree(value)))
            elif isinstance(value, tuple):
                items.append((name.encode(), value[0], value[1]))
            else:
                items.append((name.encode(), 0o100644, value))
        items.sort(key=lambda e: e[0] + b"/" if e[1] == 0o040000 else e[0])
        raw = b"".join(
            b"%o %s\x00" % (mode, name) + bytes.fromhex(sha) for name, mode, sha in items
        )
        return self.add_raw(2, raw)

    def add_raw(self, type_num: int, raw: bytes) -> str:
        """Write an object given as its type number and raw content (as :meth:`add`)."""
        import hashlib  # here, not at the top: loading OpenSSL slows every start

        kind = (b"commit", b"tree", b"blob", b"tag")[type_num - 1]
        h = hashlib.sha1(b"%s %d\x00" % (kind, len(raw)))
        h.update(raw)
        sha = h.hexdigest()
        # what ``has_object(sha, thorough=False)`` asks, cheapest first for a commit's
        # small objects (most are new, or in one of our packs): the pack tables (one stat
        # of the folder), then the loose object (freshened if there)
        if sha in self._pending or self.in_packs(sha) or objects.freshen(self.objects_dir, sha):
            return sha
        if len(raw) <= PACK_OBJECT_MAX:
            self._gather(sha, type_num, raw)
        else:
            from dulwich.objects import ShaFile

            self.add(ShaFile.from_raw_string(type_num, raw))
        return sha

    def write_commit(
        self,
        tree: str,
        parents: list[str],
        message: str,
        author: str,
        when: float | None = None,
        tz_offset: int | None = None,
    ) -> str:
        from dulwich.objects import Commit, ObjectID

        c = Commit()
        c.tree = ObjectID(tree.encode())
        c.parents = [ObjectID(p.encode()) for p in parents]
        c.author = c.committer = author.encode()
        when = time.time() if when is None else when
        c.author_time = c.commit_time = int(when)
        if tz_offset is None:
            tz_offset = -time.timezone if time.localtime(when).tm_isdst == 0 else -time.altzone
        c.author_timezone = c.commit_timezone = tz_offset
        c.encoding = b"UTF-8"
        c.message = message.encode()
        return self.add(c)

    # -- refs ------------------------------------------------------------------------
    def ref(self, name: bytes) -> str | None:
        """The object id ``name`` points at, or None when there is no such ref.

        Raises:
            DamagedRefError: the ref exists but is empty, holds something other than an
                object id, or names an object the store lacks (the message names the
                repair command). Damage is never taken for "no commits yet".
        """
        if b"\x00" in name or any(len(p) > 255 for p in name.split(b"/")):
            return None  # no file can have that name: no such ref
        value = self.raw_ref(name)
        if value is None:
            return None
        problem = self.ref_problem(value)
        if problem:
            raise DamagedRefError(
                f"ref {name.decode('utf-8', 'replace')} {problem}: " + repair_hint(name)
            )
        return value

    def raw_ref(self, name: bytes) -> str | None:
        """What the ref ``name`` holds (its file's text, symbolic refs followed), unchecked;
        None when it does not exist."""
        try:
            for _depth in range(6):  # symbolic refs followed, as git does (not in loops)
                raw = self._ref_file_bytes(name)
                if raw is None:
                    return None
                if not raw.startswith(b"ref: "):
                    return raw.strip().decode("utf-8", "replace")
                name = raw[5:].strip()
            raise ValueError("symbolic refs loop")
        except (ValueError, OSError) as e:
            raise DamagedRefError(
                f"ref {name.decode('utf-8', 'replace')} cannot be read ({e}): " + repair_hint(name)
            ) from None

    def ref_problem(self, value: str) -> str | None:
        """Why a ref holding ``value`` is damaged, or None."""
        from .refs import is_object_id

        if not value:
            return "is empty"
        if not is_object_id(value):
            return f"holds {value[:60]!r}, not an object id"
        if not self.has_object(value):
            return f"points at {value}, which is missing from the store"
        return None

    def _ref_file_bytes(self, name: bytes) -> bytes | None:
        try:
            with open(self.path / name.decode("utf-8", "replace"), "rb") as f:
                return f.read(4096)
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            packed = self._packed_refs().get(name)
            return bytes(packed) if packed else None

    def refs_under(self, prefix: bytes) -> dict[bytes, str]:
        """Refs whose full name starts with ``prefix`` (e.g. ``refs/heads/a.ipynb/``)."""
        out: dict[bytes, str] = {}
        for name in sorted(self._ref_names()):
            if name.startswith(prefix):
                value = (self.raw_ref(name) or "").strip()
                problem = self.ref_problem(value)
                if problem:
                    raise DamagedRefError(
                        f"ref {name.decode('utf-8', 'replace')} {problem}: " + repair_hint(name)
                    )
                out[name] = value
        return out

    def _packed_refs(self) -> dict[bytes, bytes]:
        """``packed-refs``: name -> id (peeled lines and the header skipped)."""
        try:
            with open(self.path / "packed-refs", "rb") as f:
                data = f.read()
        except (FileNotFoundError, NotADirectoryError):
            return {}
        out: dict[bytes, bytes] = {}
        for line in data.splitlines():
            if line and not line.startswith((b"#", b"^")):
                sha, _, name = line.partition(b" ")
                out[name.strip()] = sha
        return out

    def _ref_names(self) -> set[bytes]:
        """The name of every ref under ``refs/``, loose or packed (lock files and
        hidden files left out, as git does)."""
        names = set(self._packed_refs())
        base = str(self.path)
        for folder, _dirs, files in os.walk(os.path.join(base, "refs")):
            rel = os.path.relpath(folder, base).replace(os.sep, "/")
            names.update(
                os.fsencode(f"{rel}/{f}")
                for f in files
                if not f.endswith(".lock") and not f.startswith(".")
            )
        return names

    def all_refs(self) -> dict[bytes, str]:
        """Every ref under ``refs/`` -> what it holds (symbolic refs followed; a ref
        that cannot be read is left out; values unchecked)."""
        out: dict[bytes, str] = {}
        for name in self._ref_names():
            try:
                value = self.raw_ref(name)
            except DamagedRefError:
                continue
            if value is not None:
                out[name] = value
        return out

    def _read_ref_file(self, name: bytes) -> str | None:
        try:
            with open(self.path / name.decode(), "rb") as f:
                value = f.read().strip()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            packed = self._packed_refs().get(name)
            return packed.decode() if packed else None
        # a damaged ref compares as what it holds: only a repair that read it moves it
        return value.decode("utf-8", "replace")

    def _swap(
        self, name: bytes, old: str | None, new: str, message: str, reflog: bool = True
    ) -> bool:
        """Compare-and-swap a loose ref under git's ``.lock`` protocol (no fsync unless
        :attr:`fsync`). Returns False if the ref is not at ``old``."""
        path = str(self.path / name.decode())
        lock = path + ".lock"
        fd = self._create_lock(name, path, lock)
        undos: list[Callable[[], None]] = []
        try:
            if self._read_ref_file(name) != old:
                os.close(fd)
                os.unlink(lock)
                return False
            if os.path.isdir(path):
                raise RefConflictError(
                    f"{name.decode()} cannot be created: refs exist below that name"
                )
            os.write(fd, new.encode() + b"\n")
            if self.fsync:
                os.fsync(fd)
            os.close(fd)
            fd = -1
            # the new value is written (a full disk would have failed it by now): what
            # must move first (the payload index) moves now; if that fails, the lock is
            # dropped and this ref stays where it was
            for hook in BEFORE_REF_MOVE:
                undo = hook(self, name)
                if undo is not None:
                    undos.append(undo)
            # objects first, then the reflog entry and the ref that name them: gathered
            # after the hooks, so a commit's objects and its payload index share a pack
            self.flush()
            if reflog:
                # while the lock is held (as git does), so that concurrent moves of one
                # ref are logged in the order they happen
                self._reflog(name, old, new, message)
            os.replace(lock, path)
        except BaseException:
            objects.discard(fd, lock)
            for undo in reversed(undos):
                with contextlib.suppress(Exception):
                    undo()
            raise
        return True

    def _create_lock(self, name: bytes, path: str, lock: str) -> int:
        """Create a ref's ``.lock`` file exclusively (FileExistsError: someone holds it),
        with its folders. A concurrent branch delete may remove a folder it emptied just
        after we made it, so that is retried."""
        for _attempt in range(20):
            try:
                return os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileNotFoundError:
                try:
                    os.makedirs(os.path.dirname(path), exist_ok=True)
                except (FileExistsError, NotADirectoryError):
                    break
            except NotADirectoryError:
                break
        raise RefConflictError(
            f"{name.decode()} cannot be created: a ref named like one of its parent folders exists"
        )

    def _reflog(self, name: bytes, old: str | None, new: str, message: str) -> None:
        who = os.environ.get("MLVC_AUTHOR_NAME", "mlvc")
        line = (
            f"{old or '0' * 40} {new} {who} <mlvc> {int(time.time())} +0000\t"
            f"{message.splitlines()[0] if message else ''}\n"
        )
        log = self.path / "logs" / name.decode()
        try:
            log.parent.mkdir(parents=True, exist_ok=True)
            with open(log, "a", encoding="utf-8") as f:
                f.write(line)
        except OSError:
            pass  # the reflog is a convenience, never a reason to fail a commit

    def _break_stale_lock(self, name: bytes) -> bool:
        lock = self.path / (name.decode() + ".lock")
        try:
            if time.time() - lock.stat().st_mtime > STALE_LOCK_SECONDS:
                lock.unlink()
                return True
        except FileNotFoundError:
            return True
        return False

    def cas_ref(
        self,
        name: bytes,
        old: str | None,
        new: str | None,
        message: str = "",
        *,
        reflog: bool = True,
    ) -> None:
        """Move ``name`` from ``old`` to ``new`` atomically (None: absent / delete).

        ``reflog=False`` leaves no reflog entry (for refs whose old values may be
        deleted, like the payload index: git fsck checks every reflog entry).

        Raises:
            RefConflictError: the ref is not at ``old`` any more (someone else moved it).
        """
        from .refs import check_ref_name, is_object_id

        check_ref_name(name)
        if new is not None and not is_object_id(new):
            raise CorruptObjectError(f"cannot point {name.decode()} at {new[:60]!r}: not an id")
        msg = message.encode()
        attempt = 0
        while True:
            try:
                if new is None:
                    from dulwich.file import FileLocked
                    from dulwich.objects import ObjectID
                    from dulwich.refs import Ref

                    for hook in BEFORE_REF_MOVE:
                        hook(self, name)
                    self.flush()
                    try:
                        ok = self.repo.refs.remove_if_equals(
                            Ref(name), ObjectID(old.encode()) if old else None, message=msg
                        )
                    except FileLocked:
                        raise FileExistsError(name.decode()) from None
                else:
                    ok = self._swap(name, old, new, message, reflog)
                break
            except FileExistsError:
                if self._break_stale_lock(name):
                    continue
                if time.monotonic() - self._lock_first_seen(name) >= LOCK_WAIT_SECONDS:
                    raise RefLockedError(
                        f"{name.decode()} stayed locked by another process for "
                        f"{LOCK_WAIT_SECONDS} s (if none is running, remove "
                        f"{name.decode()}.lock in {self.path})"
                    ) from None
                time.sleep(min(0.001 * 2**attempt, 0.05))
                attempt += 1
        self.merge_packs()
        if not ok:
            raise RefConflictError(
                f"{name.decode()} moved while we were writing (expected {old}, now "
                f"{self.ref(name)}): another process committed at the same time"
            )

    def symbolic_head(self) -> bytes | None:
        """The ref the store's HEAD points at (``refs/heads/...``), or None."""
        try:
            with open(self.path / "HEAD", "rb") as f:
                target = f.read(4096).strip()
        except OSError:
            return None
        return target[5:] if target.startswith(b"ref: ") else None

    def _lock_first_seen(self, name: bytes) -> float:
        """When (``time.monotonic``) this store first met the lock file of ``name`` that
        is there now. A retry of the same write (a commit re-parenting) then reports a
        lock that stays at once instead of waiting again."""
        try:
            st = os.stat(self.path / (name.decode() + ".lock"))
        except OSError:
            return time.monotonic()
        key = (st.st_ino, st.st_mtime_ns)
        seen = self._locks_seen.get(name)
        if seen is None or seen[0] != key:
            seen = self._locks_seen[name] = (key, time.monotonic())
        return seen[1]

    def set_head(self, ref: bytes) -> None:
        """Point the store's HEAD at ``ref`` so that plain ``git log`` shows it."""
        from dulwich.file import FileLocked
        from dulwich.refs import Ref

        from .refs import check_ref_name

        check_ref_name(ref)
        for _attempt in range(2):
            try:
                current = self.repo.refs.read_ref(Ref(b"HEAD"))
                if current == b"ref: " + ref:
                    return
                self.repo.refs.set_symbolic_ref(Ref(b"HEAD"), Ref(ref))
                return
            except FileLocked:
                # cosmetic: another process is doing the same. A lock left by a killed
                # process is broken once stale, or HEAD would never follow commits again.
                if not self._break_stale_lock(b"HEAD"):
                    return
            except OSError:
                return  # cosmetic, and the commit is made: a full disk must not fail it

    # -- walking ---------------------------------------------------------------------
    def walk(self, heads: list[str], limit: int | None = None) -> Iterator[Commit]:
        """Commits reachable from ``heads``, newest first (by commit time)."""
        import heapq

        seen: set[str] = set()
        heap: list[tuple[int, str, Commit]] = []
        for h in heads:
            if h not in seen:
                seen.add(h)
                c = self.commit_obj(h)
                heapq.heappush(heap, (-c.commit_time, h, c))
        n = 0
        while heap and (limit is None or n < limit):
            _, _sha, c = heapq.heappop(heap)
            yield c
            n += 1
            for p in c.parents:
                ps = p.decode()
                if ps not in seen:
                    seen.add(ps)
                    pc = self.commit_obj(ps)
                    heapq.heappush(heap, (-pc.commit_time, ps, pc))
