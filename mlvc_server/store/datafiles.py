"""The content of data files, stored as content-defined chunks, and put back in place.

A captured data file is a payload like a variable's: its bytes are cut into chunks by
FastCDC (the gear-hash content-defined chunker of the ``pyfastcdc`` library, Cython), so
the chunk boundaries follow the content, not the offsets: appending rows to a CSV or
editing a few of them changes only the chunks around the change, and every other chunk
is the blob the previous commit already stored. Each chunk is written by
:func:`.payloads.write_payload` (git blobs, deduplicated, skipped through the xxh3
cache) as one segment of a manifest of format :data:`FORMAT`; concatenating the
segments gives the file back. The manifest lives in the commit's tree as
``data/<escaped path>/manifest.json`` and the payload index (:mod:`.keep`) keeps its
parts under the id of that ``data`` tree, so push/pull, gc/retention, du and fsck cover
data content the way they cover variables.

A changed chunk that lies where the previous content (the last captured under the
same name) had chunks is stored as a *patch* against them when the patch is small
(:data:`PATCH_MAX`): rows edited in place at random touch every chunk, yet store only
their patches. A chunk the same length as its one base chunk is an XOR; any other is
patched against a window of the base's chunks (:data:`WINDOW`) whose zstd dictionary
is prepared once for all the chunks under it. The patched segment names the base
chunks as its parts, so everything that keeps, pushes or checks parts keeps, pushes
and checks them too.

Writing back (:func:`restore_file`) reads and un-patches the chunks on worker threads
(a base shared by several patched chunks read once), writes them into a temporary file
next to the target, checks the BLAKE3 of what it wrote against the commit's record,
and renames it into place.
"""

from __future__ import annotations

import bisect
import contextlib
import mmap
import os
import queue
import tempfile
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import xxhash
from blake3 import blake3

from ..errors import CorruptObjectError, MlvcError
from . import objects, payloads

if TYPE_CHECKING:
    from .repo import Store

__all__ = [
    "AVG_CHUNK",
    "FORMAT",
    "MAX_CHUNK",
    "CapturedFile",
    "capture_file",
    "cut",
    "entry_name",
    "restore_file",
]

#: The manifest format of a data file's content.
FORMAT: Final = "file"
#: FastCDC's target chunk size (the chunks average about AVG + MIN bytes).
AVG_CHUNK: Final = 128 << 10
MIN_CHUNK: Final = 32 << 10
MAX_CHUNK: Final = 1 << 20
#: Chunks read ahead of the one being written back.
_AHEAD: Final = 3
#: Bytes of base chunks a checkout keeps between the patched chunks that share them.
_SHARED_BASES: Final = 24 << 20


def _chunker() -> Any:
    from pyfastcdc import FastCDC

    return FastCDC(AVG_CHUNK, min_size=MIN_CHUNK, max_size=MAX_CHUNK, normalized_chunking=1)


def cut(buf: Any) -> Iterator[tuple[int, int]]:
    """The content-defined chunk boundaries of ``buf`` as ``(offset, length)``.

    Args:
        buf: bytes-like (a memory map of the file).

    Yields:
        ``(offset, length)`` of each chunk, in order, covering ``buf`` exactly.
    """
    for c in _chunker().cut_buf(buf):
        yield c.offset, c.length


def entry_name(path: str) -> str:
    """The name of a data file's tree entry in a commit's ``data`` tree (its POSIX path
    relative to the project, with ``%`` and ``/`` escaped)."""
    return path.replace("%", "%25").replace("/", "%2F")


@dataclass
class CapturedFile:
    """A data file's content, stored."""

    manifest_id: str
    part_ids: list[str]
    size: int
    chunks: int
    bytes_written: int


def capture_file(
    store: Store,
    path: str | os.PathLike[str],
    digest: str,
    same: Callable[[os.stat_result], bool] = lambda st: True,
    name: str = "",
) -> CapturedFile:
    """Store the content of the file at ``path`` as content-defined chunks.

    A file whose BLAKE3 ``digest`` was captured before (and whose parts are all still
    here) is not read again. With ``name``, the content this store last captured under
    that name is the *base* of the new one: a chunk that is new but lies where a chunk
    of the base lay (rows edited in place) is stored as a patch against that chunk
    (:func:`.payloads.make_patch`) when the patch is at most :data:`PATCH_MAX` of it.

    Args:
        store: the store.
        path: the file.
        digest: its ``"blake3:<hex>"`` as the commit records it (from the data hasher).
        same: whether a ``stat`` of the file still describes the file that was hashed
            (size and modification time); checked before and after reading, so content
            and hash cannot disagree.
        name: the file's path in the project (the key of its previous content).

    Returns:
        What was stored: the manifest blob's id, the part ids, the size, the number of
        chunks and the bytes newly written.

    Raises:
        MlvcError: the file cannot be read, or changed while it was captured.
    """
    key = f"c{digest}"
    last = f"l{xxhash.xxh3_128_hexdigest(name.encode())}" if name else ""
    hit = store.hash_cache.get(key)
    if hit and len(hit) == 1 and store.has_object(hit[0]):
        manifest = store.read_json(hit[0])
        parts = _unique(p for seg in manifest["segments"] for p in seg["parts"])
        if all(store.has_object(p) for p in parts):
            if last:
                store.hash_cache.put(last, (hit[0],))
            segs = manifest["segments"]
            return CapturedFile(hit[0], parts, int(manifest["size"]), len(segs), 0)
    base = _Base.load(store, last) if last else None
    p = os.fspath(path)
    try:
        with open(p, "rb") as f:
            st = os.fstat(f.fileno())
            size = st.st_size
            if not same(st):
                raise MlvcError(f"data file {p} changed while its content was being captured")
            if size == 0:
                segments, written = [_full(store, memoryview(b""))[0]], 0
            else:
                mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
                try:
                    with memoryview(mm) as view:
                        segments, written = _write_chunks(store, view, base)
                finally:
                    # a worker thread drops its chunk (a view of the mapping) only after
                    # the result it set was seen, and an error's traceback holds views
                    # too: then the mapping goes with its last view, not now
                    with contextlib.suppress(BufferError):
                        mm.close()
            after = os.stat(p)
    except OSError as exc:
        raise MlvcError(f"cannot read data file {p}: {exc}") from exc
    if (after.st_size, after.st_mtime_ns, after.st_ino) != (st.st_size, st.st_mtime_ns, st.st_ino):
        raise MlvcError(f"data file {p} changed while its content was being captured")
    manifest = {
        "format": FORMAT,
        "extension": "",
        "chunk_size": payloads.CHUNK_SIZE,
        "size": size,
        # the file's hash as the commit records it: checkout compares it with the
        # commit's instead of hashing the file it writes again (every chunk is checked)
        "meta": {"size": size, "digest": digest},
        "segments": segments,
    }
    manifest_id = store.add_bytes(payloads.manifest_bytes(manifest))
    store.hash_cache.put(key, (manifest_id,))
    if last:
        store.hash_cache.put(last, (manifest_id,))
    parts = _unique(p for seg in segments for p in seg["parts"])
    return CapturedFile(manifest_id, parts, size, len(segments), written)


#: A new chunk is stored as a patch against the base's chunk at its place when the patch
#: is at most this fraction of the chunk (else whole: a patch that big saves little and
#: costs a second read at checkout).
PATCH_MAX: Final = 0.25


def _unique(ids: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(ids))


@dataclass
class _Base:
    """The previous content of a file: its segments and where each starts."""

    segments: list[dict[str, Any]]
    offsets: list[int]
    size: int
    #: The parts of each segment -> its index (to find chunks both versions share).
    index: dict[tuple[str, ...], int]
    #: The whole chunk each segment rests on (:func:`_base_part`), or None.
    parts: list[_Part | None]

    @classmethod
    def load(cls, store: Store, last: str) -> _Base | None:
        hit = store.hash_cache.get(last)
        if not hit or len(hit) != 1:
            return None
        try:
            manifest = read_manifest(store, hit[0])
        except (CorruptObjectError, KeyError, ValueError):
            return None
        segments = manifest["segments"]
        offsets = []
        at = 0
        for seg in segments:
            offsets.append(at)
            at += int(seg["size"])
        index = {tuple(seg["parts"]): i for i, seg in enumerate(segments)}
        return cls(segments, offsets, at, index, [_base_part(seg) for seg in segments])

    def window(self, lo: int, hi: int) -> tuple[tuple[_Part, ...], int, int] | None:
        """The window of the base's chunks that holds its bytes ``lo:hi`` (see
        :data:`WINDOW`): its whole chunks, where ``lo`` falls in them concatenated
        (about), and its number; None when no window holds them all."""
        lo, hi = max(0, lo), min(self.size, hi)
        if lo >= hi:
            return None
        first = bisect.bisect_right(self.offsets, lo) - 1
        last = bisect.bisect_left(self.offsets, hi) - 1
        k = first // WINDOW_STEP
        start = k * WINDOW_STEP
        if last >= start + WINDOW:
            return None
        parts = tuple(dict.fromkeys(p for p in self.parts[start : start + WINDOW] if p))
        if not parts:
            return None
        # where lo falls in the window's bytes: the parts before its chunk (a patched
        # chunk stands for its base, which may be of another size), then into it
        at, seen = 0, set()
        for i in range(start, first):
            p = self.parts[i]
            if p is not None and p not in seen:
                seen.add(p)
                at += p[1]
        own = self.parts[first]
        return parts, at + min(lo - self.offsets[first], own[1] if own else 0), k

    def parts_between(self, lo: int, hi: int) -> tuple[list[_Part], int]:
        """The whole chunks under the base's bytes ``lo:hi`` (at most
        :data:`MAX_BASES`, nearest the middle first dropped last; for a patched chunk,
        its own base: patches are one level deep), and where ``lo`` falls in them
        concatenated (about: a patched chunk's base stands for it); [] outside the base."""
        lo, hi = max(0, lo), min(self.size, hi)
        if lo >= hi:
            return [], 0
        first = bisect.bisect_right(self.offsets, lo) - 1
        last = bisect.bisect_left(self.offsets, hi) - 1
        if last - first + 1 > MAX_BASES:
            mid = (first + last) // 2
            first = max(first, mid - MAX_BASES // 2)
            last = first + MAX_BASES - 1
        out: list[_Part] = []
        for seg in self.segments[first : last + 1]:
            part = _base_part(seg)
            if part is not None and part not in out:
                out.append(part)
        return out, max(0, lo - self.offsets[first])


def _write_chunks(
    store: Store, view: memoryview, base: _Base | None
) -> tuple[list[dict[str, Any]], int]:
    """Cut ``view`` into chunks and store each: known (whole or patched), patched
    against the base's chunk at its place, or whole. Returns (segments, bytes written).

    The base's chunk "at its place": between chunks both versions share (anchors), the
    new offsets are mapped linearly onto the base's, so rows inserted or removed, or a
    column that widens every row, still pair each chunk with the base's content at the
    same rows. Patches are computed on the worker threads (zstd, numpy and the reads
    release the GIL) while this thread cuts and looks up the next chunks; they are
    written in order.
    """
    segments: list[dict[str, Any] | None] = []
    written = 0
    size = len(view)
    anchor_new = anchor_old = 0  # where the last chunk both versions share ends
    pool = payloads.workers()
    pending: deque[tuple[int, Future[bytes | None], memoryview, str, list[_Part]]] = deque()
    patching = True  # False once the first BAIL_AFTER patches made were all too big
    windows = _Windows(store)
    made = kept = 0  # patches computed (zstd run), and those small enough to keep

    def settle() -> None:
        nonlocal written, patching, made, kept
        i, future, chunk, xxh, old = pending.popleft()
        patch = future.result()
        if patch is not _SKIPPED:
            made += 1
            kept += patch is not None
            if made == BAIL_AFTER and not kept:
                patching = False
        seg, w = _store_patch(store, chunk, xxh, old, patch) if patch else (None, 0)
        if seg is None:
            seg, w = _full(store, chunk, xxh)
        segments[i] = seg
        written += w

    try:
        for off, n in cut(view):
            chunk = view[off : off + n]
            xxh = xxhash.xxh3_128_hexdigest(chunk)
            seg = _known(store, chunk, xxh)
            if seg is None and base is not None:
                rest_new, rest_old = size - anchor_new, base.size - anchor_old
                lo = anchor_old + (off - anchor_new) * rest_old // max(1, rest_new)
                hi = anchor_old + (off + n - anchor_new) * rest_old // max(1, rest_new)
                old, at = base.parts_between(lo, hi) if patching else ([], 0)
                if old:
                    segments.append(None)
                    win = None if len(old) == 1 and old[0][1] == n else base.window(lo, hi)
                    if win is not None:
                        # rows moved or widened: against a window of the base, whose
                        # zstd dictionary is made once for the chunks that share it
                        old = list(win[0])
                        future = pool.submit(_window_patch, windows, chunk, win, hi - lo)
                    else:  # the same length as its base: an XOR
                        future = pool.submit(_patch_for, store, chunk, old, at, hi - lo)
                    pending.append((len(segments) - 1, future, chunk, xxh, old))
                    if len(pending) > 2 * payloads.WORKERS:
                        settle()
                    continue
            if seg is None:
                seg, w = _full(store, chunk, xxh)
                written += w
            elif base is not None:
                same = base.index.get(tuple(seg["parts"]))
                if same is not None:
                    anchor_new, anchor_old = off + n, base.offsets[same] + n
            segments.append(seg)
        while pending:
            settle()
    finally:
        for _i, future, *_rest in pending:
            future.cancel()
        for _i, future, *_rest in pending:
            if not future.cancelled():
                future.exception()  # wait: the chunk views must outlive the workers
    return [s for s in segments if s is not None], written


def _full(store: Store, chunk: memoryview, xxh: str | None = None) -> tuple[dict[str, Any], int]:
    sha, xxh, w = payloads.write_view(store, chunk, xxh)
    return {"name": "", "size": len(chunk), "parts": [sha], "xxh3": [xxh]}, w


def _patch_key(xxh: str, n: int) -> str:
    return f"d{xxh}.{n}"


def _known(store: Store, chunk: memoryview, xxh: str) -> dict[str, Any] | None:
    """The segment of a chunk stored before, whole or as a patch (None: new)."""
    n = len(chunk)
    if n > payloads.SMALL:
        hit = store.hash_cache.get(f"x{xxh}.{n}")
        sha = hit[0] if hit and len(hit) == 1 else None
    else:
        sha = objects.blob_sha([chunk], n)
    if sha is not None and payloads.exists(store, sha):
        return {"name": "", "size": n, "parts": [sha], "xxh3": [xxh]}
    hit = store.hash_cache.get(_patch_key(xxh, n))
    if hit and len(hit) % 3 == 0 and len(hit) >= 6:
        k = len(hit) // 3
        ids, xxhs, sizes = hit[:k], hit[k : 2 * k], hit[2 * k :]
        if all(payloads.exists(store, p) for p in ids):
            parts = [(i, int(z, 16), x) for i, x, z in zip(ids, xxhs, sizes, strict=True)]
            return _patch_segment(n, parts, xxh)
    return None


def _patch_segment(n: int, parts: list[_Part], xxh: str) -> dict[str, Any]:
    """A patched chunk's segment: ``parts`` are the base chunks, then the patch;
    ``content_xxh3`` is the chunk's own xxh3, which checkout checks the patched bytes
    against."""
    return {
        "name": "",
        "size": n,
        "codec": payloads.PATCH_CODEC,
        "parts": [p[0] for p in parts],
        "sizes": [p[1] for p in parts],
        "xxh3": [p[2] for p in parts],
        "content_xxh3": xxh,
    }


#: The most base chunks one patch is made against (a changed chunk whose rows lie across
#: chunk boundaries of the base is patched against all of them).
MAX_BASES: Final = 3

#: (blob id, size, xxh3) of a whole chunk.
_Part = tuple[str, int, str]


def _base_part(old: dict[str, Any]) -> _Part | None:
    """The whole chunk a base segment rests on: the segment's own part, or a patched
    segment's first base (so patches are one level deep)."""
    codec = old.get("codec")
    parts = old["parts"]
    if codec not in (None, payloads.PATCH_CODEC) or len(parts) < (2 if codec else 1):
        return None
    if not codec and len(parts) != 1:
        return None
    base_x = (old.get("xxh3") or [None])[0]
    base_n = int(old["sizes"][0]) if codec else int(old["size"])
    if not base_x or base_n == 0:
        return None
    return parts[0], base_n, base_x


#: Give up patching the rest of a file when the first this many patches computed were
#: all too big (content that shares little with the previous version: every chunk
#: re-encoded or shuffled); the rest of its new chunks are stored whole at once.
BAIL_AFTER: Final = 8
#: Samples of a new chunk looked for in the base before a patch is computed (and how
#: many of them must be there): a cheap test that skips zstd for new bytes.
SAMPLES: Final = 8
SAMPLES_FOUND: Final = 3
SAMPLE_LEN: Final = 12
#: Returned by :func:`_patch_for` when the samples said the chunk is new: no patch was
#: computed (it does not count towards :data:`BAIL_AFTER`).
_SKIPPED: Final = b""


def likely_patchable(base: Any, chunk: Any, at: int, span: int) -> bool:
    """Whether ``chunk`` probably shares most of its bytes with ``base``, from a few
    :data:`SAMPLE_LEN`-byte samples spread over it: each looked for near where the
    linear mapping puts it (``chunk[0]`` near ``base[at]``, ``len(chunk)`` bytes over
    ``span`` of the base; the window allows for rows inserted or widened), and when
    some but too few are there, two of them in all of the base (a parquet file's
    column chunks move by what the columns before them grew). Tens of microseconds
    for a chunk of shared rows or of new bytes, against 1-3 ms of zstd."""
    n = len(chunk)
    if n < SAMPLES * SAMPLE_LEN * 2:
        return True
    window = 4096 + n // 16
    hay = base if isinstance(base, bytes | bytearray) else bytes(base)
    found = 0
    missed: list[bytes] = []
    for k in range(SAMPLES):
        # spread evenly, each moved by a different odd amount: evenly spaced samples
        # can fall in step with the rows and all land on the changed column
        q = ((2 * k + 1) * (n - SAMPLE_LEN) // (2 * SAMPLES) + k * 1031 % 4093) % (n - SAMPLE_LEN)
        want = at + q * span // n
        sample = bytes(chunk[q : q + SAMPLE_LEN])
        if hay.find(sample, max(0, want - window), want + window + SAMPLE_LEN) >= 0:
            found += 1
            if found >= SAMPLES_FOUND:
                return True
        else:
            missed.append(sample)
    # some found near their place, too few: maybe rows moved further; a search of all
    # of the base costs up to a millisecond, so not for a chunk that had none of them
    return found > 0 and any(hay.find(sample) >= 0 for sample in missed[1::3][:2])


def _patch_for(
    store: Store, chunk: memoryview, bases: list[_Part], at: int = 0, span: int = 0
) -> bytes | None:
    """The patch of ``chunk`` against the whole chunks ``bases``, concatenated (run on a
    worker); None when one of them is gone (pruned) or the patch would not be small;
    :data:`_SKIPPED` when the samples say the chunk is new bytes (no zstd run)."""
    buf = bytearray(sum(n for _id, n, _x in bases))
    pos = 0
    try:
        for base_id, n, base_x in bases:
            store.read_blob_into(base_id, memoryview(buf)[pos : pos + n], base_x)
            pos += n
    except (KeyError, CorruptObjectError):
        return None
    if not likely_patchable(buf, chunk, at, span or len(chunk)):
        return _SKIPPED
    patch = payloads.make_patch(buf, chunk)
    return patch if len(patch) <= PATCH_MAX * len(chunk) else None


#: A chunk whose length changed (rows inserted, removed, widened) is patched against a
#: *window* of the base: WINDOW consecutive chunks of it, one window starting every
#: WINDOW_STEP chunks (so the at most :data:`MAX_BASES` chunks under any new chunk lie
#: in one). The chunks of a window share its zstd dictionary, made once (filling the
#: dictionary's hash table is most of a patch's cost: ~1 ms for 300 KiB, against
#: 0.1 ms to compress the chunk with it made), and a checkout reads the window once.
WINDOW: Final = 8
WINDOW_STEP: Final = WINDOW - MAX_BASES + 1
#: Windows kept prepared at once while a file is captured (its chunks come in order).
_WINDOWS_KEPT: Final = 4


class _Windows:
    """The prepared windows of one capture: (the window's bytes, its zstd dictionary
    prepared for compression), each made once by the first worker that needs it."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._ready: dict[int, tuple[bytes, Any]] = {}
        self._making: dict[int, threading.Event] = {}

    def get(self, key: int, parts: tuple[_Part, ...]) -> tuple[bytes, Any] | None:
        """Window ``key`` made of ``parts``; None when one of them is gone (pruned)."""
        with self._lock:
            ready = self._ready.get(key)
            making = self._making.get(key) if ready is None else None
            mine = ready is None and making is None
            if mine:
                self._making[key] = threading.Event()
        if making is not None:
            making.wait()
            with self._lock:
                ready = self._ready.get(key)
        if ready is not None:
            return ready
        made = None
        try:
            made = self._make(parts)
        finally:
            if mine:
                with self._lock:
                    if made is not None:
                        self._ready[key] = made
                        while len(self._ready) > _WINDOWS_KEPT:
                            del self._ready[min(self._ready)]
                    self._making.pop(key).set()
        return made

    def _make(self, parts: tuple[_Part, ...]) -> tuple[bytes, Any] | None:

        buf = bytearray(sum(n for _id, n, _x in parts))
        pos = 0
        try:
            for part_id, n, part_x in parts:
                self._store.read_blob_into(part_id, memoryview(buf)[pos : pos + n], part_x)
                pos += n
        except (KeyError, CorruptObjectError):
            return None
        data = bytes(buf)
        d = payloads.patch_dict(data)
        d.precompute_compress(compression_params=payloads.patch_params(len(data), MAX_CHUNK))
        return data, d


def _window_patch(
    windows: _Windows, chunk: memoryview, win: tuple[tuple[_Part, ...], int, int], span: int
) -> bytes | None:
    """The patch of ``chunk`` against the window ``win`` (run on a worker); None when a
    chunk of it is gone or the patch would not be small; :data:`_SKIPPED` when the
    samples say the chunk is new bytes."""
    parts, at, key = win
    made = windows.get(key, parts)
    if made is None:
        return None
    data, d = made
    if not likely_patchable(data, chunk, at, span or len(chunk)):
        return _SKIPPED
    patch = payloads.patch_with(d, chunk)
    return patch if len(patch) <= PATCH_MAX * len(chunk) else None


def _store_patch(
    store: Store, chunk: memoryview, xxh: str, bases: list[_Part], patch: bytes
) -> tuple[dict[str, Any] | None, int]:
    if not all(payloads.exists(store, b[0]) for b in bases):
        return None, 0
    patch_id, patch_x, w = payloads.write_view(store, memoryview(patch))
    parts = [*bases, (patch_id, len(patch), patch_x)]
    # the cache's values are ids: the sizes go as 32 hex digits each
    store.hash_cache.put(
        _patch_key(xxh, len(chunk)),
        (*(p[0] for p in parts), *(p[2] for p in parts), *(f"{p[1]:032x}" for p in parts)),
    )
    return _patch_segment(len(chunk), parts, xxh), w


def read_manifest(store: Store, manifest_id: str) -> dict[str, Any]:
    """The content manifest ``manifest_id`` (checked to be a data file's)."""
    try:
        manifest: dict[str, Any] = store.read_json(manifest_id)
    except KeyError:
        raise CorruptObjectError(f"content manifest {manifest_id} is missing") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise CorruptObjectError(f"object {manifest_id} is not a data file's content manifest")
    return manifest


def stream(store: Store, manifest_id: str, name: str = "") -> Iterator[memoryview]:
    """The bytes of a stored data file, one chunk at a time.

    A thread reads the next chunks while the caller uses this one (reads and writes
    overlap; both release the GIL); at most :data:`_AHEAD` + 1 chunk buffers exist. Each
    view is valid until the next one is asked for.
    """
    manifest = read_manifest(store, manifest_id)
    reader = payloads.StoredPayload(store, manifest, name)
    reader.share_bases(_SHARED_BASES)
    count = len(reader.segment_names)
    biggest = max((reader.segment_size(i) for i in range(count)), default=0)
    free: queue.Queue[bytearray] = queue.Queue()
    for _ in range(_AHEAD + 1):
        free.put(bytearray(biggest))
    ready: queue.Queue[tuple[bytearray, int] | BaseException | None] = queue.Queue()
    stop = threading.Event()

    def produce() -> None:
        try:
            for i in range(count):
                buf = free.get()
                if stop.is_set():
                    return
                n = reader.segment_size(i)
                reader.readinto_segment(i, memoryview(buf)[:n])
                ready.put((buf, n))
            ready.put(None)
        except BaseException as e:  # handed to the consumer, raised there
            ready.put(e)

    worker = threading.Thread(target=produce, name="mlvc-data-read", daemon=True)
    worker.start()
    try:
        while True:
            item = ready.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            buf, n = item
            yield memoryview(buf)[:n]
            free.put(buf)
    finally:
        stop.set()
        free.put(bytearray(0))  # wake a producer waiting for a buffer
        worker.join()


#: A checkout reads the chunks on worker threads in runs of about this many bytes (one
#: task and one ``pwrite`` per run: a task per ~160 KiB chunk cost more in thread hand-offs
#: than the reads themselves). 2 MiB measured best (benchmarks/data.py, 1 GiB): with 4 or
#: 8 MiB runs some ``pwrite`` calls stalled on the disk's writeback, and a checkout now
#: and then took 4-8 s instead of 0.4.
_RUN_BYTES: Final = 2 << 20


def _runs(sizes: list[int]) -> list[tuple[int, int, int]]:
    """Consecutive segments grouped into runs of about :data:`_RUN_BYTES`:
    ``(first index, end index, bytes)``."""
    runs: list[tuple[int, int, int]] = []
    first = total = 0
    for i, n in enumerate(sizes):
        if total and total + n > _RUN_BYTES:
            runs.append((first, i, total))
            first, total = i, 0
        total += n
    if total or first < len(sizes):
        runs.append((first, len(sizes), total))
    return runs


def _readers() -> int:
    """How many runs are read at once: every core but one, left to the writes. The writes
    go through one thread: ext4 takes the file's lock for each buffered write, so writers
    on several threads wait on each other (1 GiB on 2 cores, benchmarks/data.py: 2
    workers each reading then writing their runs 0.59 s; one thread reading and this
    one writing 0.37-0.40 s). Patched chunks too: decoding them on both cores, beside
    the writes, took 1.05 s for the version with 1% of rows edited, on one 0.82 s."""
    return max(1, payloads.WORKERS - 1)


class _Inline:
    """An executor that runs each task as it is submitted, on the caller's thread."""

    def submit(self, fn: Callable[..., int], *args: Any) -> Future[int]:
        future: Future[int] = Future()
        try:
            future.set_result(fn(*args))
        except Exception as e:  # raised by ``result()``, as from a pool
            future.set_exception(e)
        return future

    def shutdown(self, wait: bool = True) -> None:
        pass


def _write_parallel(
    store: Store, manifest: dict[str, Any], name: str, fd: int, hasher: Any | None
) -> int:
    """Read (and un-patch) the chunks on the worker threads, a run of them per task, and
    write the runs in order at their offsets from this thread, which also hashes them
    (``hasher``; None: the chunks alone are checked, a patched one against its
    ``content_xxh3``). At most :func:`_readers` runs are read at once, and at most one
    more run buffer exists. Returns the bytes written."""
    reader = payloads.StoredPayload(store, manifest, name)
    patched = {
        i: seg["content_xxh3"]
        for i, seg in enumerate(manifest["segments"])
        if seg.get("codec") and seg.get("content_xxh3")
    }
    reader.share_bases(_SHARED_BASES)
    sizes = [reader.segment_size(i) for i in range(len(reader.segment_names))]
    runs = _runs(sizes)
    biggest = max((n for _a, _b, n in runs), default=0)
    readers = _readers()
    # threads of its own: the shared pool has WORKERS threads, and a run awaited here
    # still counts as being read, so on it the reads would take every core; a file of
    # one run (most files) is read on this thread
    pool: Any = (
        ThreadPoolExecutor(readers, thread_name_prefix="mlvc-checkout")
        if len(runs) > 1
        else _Inline()
    )
    depth = readers + 1
    free: list[bytearray] = []
    pending: deque[tuple[Future[int], bytearray, int]] = deque()
    total = 0

    def job(first: int, end: int, buf: bytearray) -> int:
        view = memoryview(buf)
        off = 0
        for i in range(first, end):
            out = view[off : off + sizes[i]]
            reader.readinto_segment(i, out)
            expected = patched.get(i)
            if expected is not None and xxhash.xxh3_128_hexdigest(out) != expected:
                raise CorruptObjectError(
                    f"chunk {i} of {name or 'the data file'} does not match its recorded "
                    "hash once its patch is applied"
                )
            off += sizes[i]
        return off

    def settle() -> None:
        nonlocal total
        future, buf, at = pending.popleft()
        n = future.result()
        view = memoryview(buf)[:n]
        done = 0
        while done < n:
            done += os.pwrite(fd, view[done:], at + done)
        if hasher is not None:
            hasher.update(view)
        total += n
        free.append(buf)

    try:
        at = 0
        for first, end, n in runs:
            if len(pending) >= depth:
                settle()
            buf = free.pop() if free else bytearray(biggest)
            pending.append((pool.submit(job, first, end, buf), buf, at))
            at += n
        while pending:
            settle()
    finally:
        for future, _, _ in pending:
            future.cancel()
        for future, _, _ in pending:
            if not future.cancelled():
                future.exception()  # wait: the buffers outlive the workers
        pool.shutdown(wait=False)
    return total


def _chunks_checked(manifest: dict[str, Any]) -> bool:
    """Whether every chunk of ``manifest`` is checked against a recorded hash as it is
    read: its parts by their xxh3 (or id), a patched one's result by its
    ``content_xxh3``."""
    for seg in manifest["segments"]:
        if seg.get("codec") and not seg.get("content_xxh3"):
            return False
        hashes = seg.get("xxh3") or []
        if len(hashes) != len(seg["parts"]) or not all(hashes):
            return False
    return True


def restore_file(
    store: Store,
    manifest_id: str,
    dest: str | os.PathLike[str],
    digest: str,
    name: str = "",
    fsync: bool | None = None,
) -> int:
    """Write the stored file ``manifest_id`` to ``dest`` atomically.

    The bytes go to a temporary file in ``dest``'s folder, each chunk read, checked
    against its recorded xxh3 and written at its place by a worker thread
    (:func:`_write_parallel`); the manifest's recorded hash must equal ``digest`` (a
    manifest written before it recorded one, or whose patched chunks have no hash of
    their own: the file's BLAKE3, computed as the runs are written, must); then the file
    is renamed over ``dest``. On any failure ``dest`` is left as it was.

    Args:
        store: the store.
        manifest_id: the content manifest.
        dest: where the file goes (its folder is created).
        digest: the ``"blake3:<hex>"`` the commit recorded.
        name: the file's path, for messages.
        fsync: flush the file to disk before the rename (power-loss safety); None: as
            the store does (:attr:`Store.fsync`). Without it a killed process still
            leaves either the old file or the whole new one; a power loss may leave a
            short new file, which the recorded hash tells apart (and the replaced bytes
            are in the safety copy).

    Returns:
        The number of bytes written.

    Raises:
        CorruptObjectError: a chunk is damaged or the result does not match ``digest``.
        PayloadMissingError: a chunk was pruned and no payload remote has it.
    """
    target = os.fspath(dest)
    folder = os.path.dirname(os.path.abspath(target))
    os.makedirs(folder, exist_ok=True)
    manifest = read_manifest(store, manifest_id)
    size = int(manifest["size"])
    mismatch = CorruptObjectError(
        f"the stored content of {name or target} does not match the hash its commit recorded"
    )
    recorded = manifest.get("meta", {}).get("digest")
    if recorded is not None and recorded != digest:
        raise mismatch
    # a manifest that records the file's hash, whose every chunk is checked as it is read
    # (and every patched chunk against its own xxh3), needs no second pass over the file
    hasher = None if recorded is not None and _chunks_checked(manifest) else blake3()
    fd, tmp = tempfile.mkstemp(prefix=".mlvc-data.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb", buffering=0) as f:
            total = _write_parallel(store, manifest, name, f.fileno(), hasher)
            if total != size:
                raise mismatch
            if store.fsync if fsync is None else fsync:
                os.fsync(f.fileno())
        if hasher is not None and "blake3:" + hasher.hexdigest() != digest:
            raise mismatch
        with contextlib.suppress(OSError):
            mode = os.stat(target).st_mode & 0o777
            os.chmod(tmp, mode)
        if not os.path.exists(target):
            os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return total
