"""Variables' payloads as content-addressed chunks (git blobs) named by a manifest.

A variable ``model`` is stored in a commit's tree as ``vars/model/manifest.json``: the
format, meta, and the segments with the ids of their parts. The parts are the bytes, in
order: each segment (a tensor, an .npy header, the .npy data, ...) split into chunks of
at most CHUNK_SIZE bytes, one git blob each. Concatenating the parts in manifest order
gives the serialized file (a valid ``.npy``, ``.safetensors``, parquet ... file).
Identical chunks are one blob, so unchanged tensors and unchanged slices of big arrays
cost nothing in later commits.

The commit tree does not name the parts as entries (see :mod:`.keep`): the payload index
keeps them, so that retention can free the bytes of old commits while their history
stays complete for git. Stores written before this layout have the parts as tree
entries ``vars/<name>/000000...``; they are read the same way (through the manifest).
"""

from __future__ import annotations

import io
import json
import os
import threading
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import xxhash
import zstandard  # at import, so that a kernel's `imported` does not change later

from ..errors import CorruptObjectError, PayloadMissingError, VariableNotFoundError
from ..serializers.base import Payload, Segment
from . import objects, trust
from . import repo as store_mod

if TYPE_CHECKING:
    from .repo import Store

#: Size of the chunks inside big segments. Big enough that per-object costs vanish,
#: small enough that a loose object never nears git's 512 MiB big-file limit.
CHUNK_SIZE = 16 << 20
#: Below this, hashing with SHA-1 directly is as cheap as consulting the cache.
SMALL = 64 << 10
MANIFEST = "manifest.json"
#: Threads that hash and write (or read and check) the chunks of big streamed segments
#: (SHA-1, xxh3, Adler-32 and the file I/O release the GIL). Each in flight holds one
#: CHUNK_SIZE host buffer, so a streamed write holds at most ``WORKERS + 1`` of them.
WORKERS = max(1, min(8, os.cpu_count() or 1))
#: The folder of a commit's tree that holds the variables (``vars/<name>/manifest.json``).
VARS = "vars"


def tree_entries(manifest_id: str) -> dict[str, str]:
    """The entries of a variable's tree in a commit: its manifest only (the parts are
    kept by the payload index, :mod:`.keep`)."""
    return {MANIFEST: manifest_id}


def exists(store: Store, sha: str, *, thorough: bool = True) -> bool:
    """Whether an object exists, freshening it (so a concurrent gc keeps it) when it is
    loose. The pack tables are asked first (what this process found packed a moment
    ago is not even looked up again): a packed part costs no failed ``utime``.

    ``thorough=False`` is for a writer about to write the object if it is missing: the
    pack folder is not listed again to make sure of a "no" (a pack written meanwhile by
    another process only costs writing the object twice), as ``Store.has_object``."""
    return (
        store.in_packs(sha)
        or objects.freshen(store.objects_dir, sha)
        or store.has_object(sha, thorough=thorough)
    )


@dataclass
class WrittenPayload:
    """What writing a payload produced."""

    manifest: dict[str, Any]
    #: The blob id of every part, in order.
    part_ids: list[str]
    bytes_written: int


def _chunk_key(view: memoryview) -> str:
    """The fast-hash cache key of a chunk held in memory ("" when it is too small to
    bother: SHA-1 is as cheap as the cache)."""
    return f"x{xxhash.xxh3_128_hexdigest(view)}.{len(view)}" if len(view) > SMALL else ""


def _fingerprint_key(seg: Segment) -> str:
    """The cache key of a segment with a device fingerprint (its parts and their xxh3s)."""
    return f"f{seg.fingerprint}.{seg.size}"


def _data_views(seg: Segment) -> Iterator[memoryview]:
    """The chunks of a segment held in memory; an empty segment is one empty chunk."""
    empty = True
    for view in seg.chunks(CHUNK_SIZE):
        empty = False
        yield view
    if empty:
        yield memoryview(b"")


def _cached_view_id(store: Store, key: str) -> str | None:
    """The blob id the cache records for an in-memory chunk's key, if any."""
    hit = store.hash_cache.get(key) if key else None
    return hit[0] if hit and len(hit) == 1 else None


def _cached_fingerprint(store: Store, seg: Segment) -> tuple[list[str], list[str]] | None:
    """(part ids, their xxh3s) the cache records for a fingerprinted segment, if any."""
    hit = store.hash_cache.get(_fingerprint_key(seg))
    if not hit or len(hit) % 2:
        return None
    k = len(hit) // 2
    return list(hit[:k]), list(hit[k:])


def _streamed_chunks(seg: Segment) -> Iterator[tuple[int, Iterator[memoryview]]]:
    """A segment that only streams its bytes (e.g. from a GPU) regrouped into chunks of
    CHUNK_SIZE: ``(size, pieces)`` per chunk. Consume each ``pieces`` before the next
    item (the producer reuses its buffer). An empty segment has no chunks."""
    source = seg.chunks(CHUNK_SIZE)
    pending: memoryview | None = None
    remaining = seg.size

    def pieces(size: int) -> Iterator[memoryview]:
        nonlocal pending
        need = size
        while need > 0:
            if pending is None:
                pending = next(source)
            take = pending[:need]
            pending = pending[need:] if len(pending) > need else None
            need -= len(take)
            yield take

    while remaining > 0:
        size = min(CHUNK_SIZE, remaining)
        yield size, pieces(size)
        remaining -= size


def _hashed(pieces: Iterator[memoryview], hasher: Any) -> Iterator[memoryview]:
    for piece in pieces:
        hasher.update(piece)
        yield piece


def write_view(store: Store, view: memoryview, xxh: str | None = None) -> tuple[str, str, int]:
    """Store one chunk held in memory (``xxh``: its xxh3 when already computed).

    Returns:
        (blob id, xxh3, bytes newly written).
    """
    n = len(view)
    if xxh is None:
        xxh = xxhash.xxh3_128_hexdigest(view)
    key = f"x{xxh}.{n}" if n > SMALL else ""
    hit = _cached_view_id(store, key)
    if hit and exists(store, hit):
        return hit, xxh, 0
    sha = objects.blob_sha([view], n)
    written = 0
    if not exists(store, sha, thorough=False):
        if n <= store_mod.PACK_OBJECT_MAX:  # into the commit's pack with the small objects
            store.add_blob(view, sha)
        else:
            objects.write_stored_blob(store.objects_dir, [view], n, sha, fsync=store.fsync)
        written = n
    if key:
        store.hash_cache.put(key, (sha,))
    return sha, xxh, written


_pool_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None


def workers() -> ThreadPoolExecutor:
    """The shared pool of :data:`WORKERS` threads that hash, write and read chunks."""
    return _workers()


def _workers() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(WORKERS, thread_name_prefix="mlvc-chunks")
        return _pool


#: Chunk buffers kept between streamed writes (touching fresh memory costs page faults).
_spare_buffers: list[bytearray] = []


def _take_buffer() -> bytearray:
    with _pool_lock:
        while _spare_buffers:
            buf = _spare_buffers.pop()
            if len(buf) == CHUNK_SIZE:
                return buf
    return bytearray(CHUNK_SIZE)


def _give_buffers(bufs: list[bytearray]) -> None:
    with _pool_lock:
        room = WORKERS + 1 - len(_spare_buffers)
        _spare_buffers.extend(bufs[: max(0, room)])


def _write_chunk(store: Store, buf: memoryview) -> tuple[str, str]:
    """Hash and write one chunk (run on a worker). Returns (blob id, xxh3)."""
    sha = objects.write_stored_blob(store.objects_dir, [buf], len(buf), fsync=store.fsync)
    return sha, xxhash.xxh3_128_hexdigest(buf)


def _stream_blobs(store: Store, seg: Segment) -> tuple[list[str], list[str], int]:
    """Store a segment that only streams its bytes (e.g. from a GPU), chunk by chunk.

    With more than one worker, each chunk is copied out of the producer's (reused)
    buffer into one of ``WORKERS + 1`` chunk buffers and hashed and written on a worker
    while the next one streams in; otherwise it is written straight from the stream.
    """
    ids: list[str] = []
    hashes: list[str] = []
    written = 0
    if WORKERS == 1 or seg.size <= CHUNK_SIZE:
        for size, pieces in _streamed_chunks(seg):
            hasher = xxhash.xxh3_128()
            sha = objects.write_stored_blob(
                store.objects_dir, _hashed(pieces, hasher), size, fsync=store.fsync
            )
            ids.append(sha)
            hashes.append(hasher.hexdigest())
            written += size
        return ids, hashes, written
    pool = _workers()
    free: list[bytearray] = []
    pending: deque[tuple[Future[tuple[str, str]], bytearray]] = deque()

    def collect() -> None:
        future, buf = pending.popleft()
        sha, xxh = future.result()
        ids.append(sha)
        hashes.append(xxh)
        free.append(buf)

    try:
        for size, pieces in _streamed_chunks(seg):
            if len(pending) > WORKERS:
                collect()
            buf = free.pop() if free else _take_buffer()
            view = memoryview(buf)[:size]
            pos = 0
            for piece in pieces:
                view[pos : pos + len(piece)] = piece
                pos += len(piece)
            pending.append((pool.submit(_write_chunk, store, view), buf))
            written += size
        while pending:
            collect()
    finally:
        for future, _ in pending:
            future.cancel()
        for future, _ in pending:
            if not future.cancelled():
                future.exception()  # wait: the buffer must outlive its worker
        _give_buffers(free + [buf for _, buf in pending])
    return ids, hashes, written


def write_payload(store: Store, payload: Payload) -> WrittenPayload:
    """Write every chunk of ``payload`` that the store lacks; return its manifest."""
    segments: list[dict[str, Any]] = []
    part_ids: list[str] = []
    written = 0
    for seg in payload.segments:
        ids: list[str]
        hashes: list[str]
        if seg.data is None and seg.fingerprint:
            # the cache maps the device fingerprint to the part ids and their xxh3s
            hit = _cached_fingerprint(store, seg)
            if hit and all(exists(store, i) for i in hit[0]):
                ids, hashes = hit
            else:
                ids, hashes, w = _stream_blobs(store, seg)
                written += w
                store.hash_cache.put(_fingerprint_key(seg), (*ids, *hashes))
        elif seg.data is None:
            ids, hashes, w = _stream_blobs(store, seg)
            written += w
        else:
            ids, hashes = [], []
            for view in _data_views(seg):
                sha, xxh, w = write_view(store, view)
                ids.append(sha)
                hashes.append(xxh)
                written += w
        segments.append({"name": seg.name, "size": seg.size, "parts": ids, "xxh3": hashes})
        part_ids.extend(ids)
    manifest: dict[str, Any] = {
        "format": payload.format,
        "extension": payload.extension,
        "chunk_size": CHUNK_SIZE,
        "size": payload.size,
        "meta": payload.meta,
        "segments": segments,
    }
    if needs_trust(payload.format, payload.meta):
        manifest["signature"] = trust.sign(payload.format, payload.meta, part_ids)
    return WrittenPayload(manifest, part_ids, written)


def predict_part_ids(store: Store, payload: Payload) -> list[str]:
    """The part ids :func:`write_payload` would give ``payload``, writing nothing.

    It splits and keys the segments with the writer's own helpers, so the two cannot
    drift: an unchanged value predicts exactly the ids of its stored manifest (what
    ``status`` compares). The fast-hash cache answers first: an in-memory chunk costs its
    xxh3, a device tensor whose fingerprint the cache knows costs nothing more (its
    bytes never leave the device). Otherwise the bytes are hashed with SHA-1, a device
    tensor streamed through its bounded staging buffer, as a commit would.

    Args:
        store: the store whose cache to consult (not modified).
        payload: what a serializer produced.

    Returns:
        The blob id of every part, in manifest order.
    """
    ids: list[str] = []
    for seg in payload.segments:
        if seg.data is None:
            hit = _cached_fingerprint(store, seg) if seg.fingerprint else None
            if hit is not None:
                ids.extend(hit[0])
                continue
            ids.extend(objects.blob_sha(pieces, size) for size, pieces in _streamed_chunks(seg))
            continue
        for view in _data_views(seg):
            cached = _cached_view_id(store, _chunk_key(view))
            ids.append(cached or objects.blob_sha([view], len(view)))
    return ids


def needs_trust(fmt: str, meta: dict[str, Any]) -> bool:
    """Whether loading this payload executes code (pickle), wholly or in part."""
    from ..serializers import get as get_serializer

    if fmt == "file":  # a data file's bytes (store/datafiles.py): never loaded as code
        return False

    return bool(get_serializer(fmt).unsafe or meta.get("unsafe"))


#: The codec of a segment stored as a patch against other chunks: ``parts`` are the
#: base chunks' blobs (concatenated: the base) and the patch's, last; ``sizes`` their
#: sizes (see :func:`make_patch`).
PATCH_CODEC = "zstd-patch"
_XOR = b"x"
_DICT = b"d"


def part_sizes(manifest: dict[str, Any], seg: dict[str, Any]) -> list[int]:
    """The size of each part of a segment: its ``sizes`` when it has them (a patched
    segment), else the segment cut at the manifest's ``chunk_size``."""
    if "sizes" in seg:
        return [int(n) for n in seg["sizes"]]
    size = int(seg["size"])
    chunk = int(manifest.get("chunk_size", CHUNK_SIZE))
    return [(min(chunk, size - i * chunk) if size else 0) for i in range(len(seg["parts"]))]


def make_patch(base: Any, target: Any) -> bytes:
    """A patch that rebuilds ``target`` from ``base``: one mode byte, then a zstd frame.

    - ``x``: same length: the XOR of the two, compressed (zstd level 1 runs over the
      zeros of unchanged bytes at ~1 GB/s): what in-place edits give;
    - ``d``: any length: ``target`` compressed with ``base`` as a raw-content dictionary
      (zstd's "patch-from"; the fast strategy with a hash table big enough for the base,
      the window covering base and target): rows inserted, removed, widened.
    """
    import numpy as np

    if len(base) == len(target):
        x = np.bitwise_xor(np.frombuffer(base, np.uint8), np.frombuffer(target, np.uint8))
        xored: Any = x.data
        return _XOR + zstandard.ZstdCompressor(level=1, write_checksum=False).compress(xored)
    d = patch_dict(base)
    params = patch_params(len(base), len(target))
    return _DICT + zstandard.ZstdCompressor(dict_data=d, compression_params=params).compress(target)


def patch_params(base: int, target: int) -> zstandard.ZstdCompressionParameters:
    """zstd's parameters of a ``d`` patch of up to ``target`` bytes against ``base``
    bytes: the fast strategy, a window over base and target, and a hash table of one
    slot per 4-8 bytes of the base (the fast strategy keeps one position per slot, so
    a much smaller table forgets most of a big base: 2^14 for 300 KiB finds no rows; a
    bigger one costs its filling: 2^17 takes 1.4x the time of 2^16 for the same
    patch)."""
    return zstandard.ZstdCompressionParameters(
        window_log=min(27, max(10, (base + target).bit_length())),
        hash_log=min(22, max(16, base.bit_length() - 3)),
        chain_log=min(22, max(16, base.bit_length() - 3)),
        search_log=1,
        min_match=6,
        target_length=0,
        strategy=zstandard.STRATEGY_FAST,
        write_checksum=0,
        write_content_size=1,
    )


def patch_with(dictionary: zstandard.ZstdCompressionDict, target: Any) -> bytes:
    """A ``d`` patch of ``target`` against a base whose :func:`patch_dict` was
    prepared (``precompute_compress``) with :func:`patch_params` for it (shared by
    threads: zstd only reads a prepared dictionary)."""
    return _DICT + zstandard.ZstdCompressor(dict_data=dictionary).compress(target)


_local = threading.local()


def _dctx() -> zstandard.ZstdDecompressor:
    """This thread's decompressor without a dictionary (one context, reused)."""
    d: zstandard.ZstdDecompressor | None = getattr(_local, "dctx", None)
    if d is None:
        d = _local.dctx = zstandard.ZstdDecompressor()
    return d


def _xor_into(out: memoryview, patch: Any, base: Any = None) -> None:
    """Apply an ``x`` patch: ``out`` gets ``base`` XOR the decompressed patch; without
    ``base``, ``out`` holds the base and is changed in place (ValueError if the patch
    is damaged)."""
    import numpy as np

    size = len(out)
    try:
        raw = _dctx().decompress(memoryview(patch)[1:], max_output_size=size)
    except zstandard.ZstdError as e:
        raise ValueError(str(e)) from None
    if len(raw) != size:
        raise ValueError(f"it gives {len(raw)} bytes, expected {size}")
    o = np.frombuffer(out, np.uint8)
    b = o if base is None else np.frombuffer(base, np.uint8)
    np.bitwise_xor(b, np.frombuffer(raw, np.uint8), out=o)


def patch_mode(patch: Any) -> bytes:
    """The mode byte of a :func:`make_patch` patch (``x`` or ``d``)."""
    return bytes(memoryview(patch)[:1])


def patch_dict(base: Any) -> zstandard.ZstdCompressionDict:
    """The zstd dictionary of a ``d`` patch's base (raw content)."""
    return zstandard.ZstdCompressionDict(bytes(base), dict_type=zstandard.DICT_TYPE_RAWCONTENT)


def apply_patch(base: Any, patch: Any, size: int) -> bytes:
    """``target`` back from ``base`` and :func:`make_patch`'s patch (ValueError if the
    patch is damaged or does not give ``size`` bytes)."""
    out = bytearray(size)
    apply_patch_into(base, patch, memoryview(out))
    return bytes(out)


def apply_patch_into(
    base: Any, patch: Any, out: memoryview, dictionary: zstandard.ZstdCompressionDict | None = None
) -> None:
    """Write ``target`` (``len(out)`` bytes) from ``base`` and the patch into ``out``
    (ValueError if the patch is damaged or gives another size). ``dictionary``: the
    base's :func:`patch_dict` when the caller holds it already (shared by patches)."""
    size = len(out)
    mode, frame = patch_mode(patch), memoryview(patch)[1:]
    if mode == _XOR:
        if len(base) != size:
            raise ValueError(f"the base has {len(base)} bytes, expected {size}")
        _xor_into(out, patch, base)
        return
    if mode != _DICT:
        raise ValueError(f"unknown patch mode {mode!r}")
    d = dictionary if dictionary is not None else patch_dict(base)
    try:
        got = zstandard.ZstdDecompressor(dict_data=d).decompress(frame, max_output_size=size)
    except zstandard.ZstdError as e:
        raise ValueError(str(e)) from None
    if len(got) != size:
        raise ValueError(f"it gives {len(got)} bytes, expected {size}")
    out[:] = got


class _SharedBases:
    """Base chunks and base dictionaries shared by the patched segments of one payload
    read once through (see :meth:`StoredPayload.share_bases`): each is counted at the
    start, kept from its first use (while the bytes held stay under ``limit``) and
    dropped at its last, so memory stays bounded and nothing is read twice that fits."""

    def __init__(self, segments: list[dict[str, Any]], limit: int) -> None:
        self._lock = threading.Lock()
        self._limit = limit
        self._held = 0
        self._uses: dict[Any, int] = {}
        for seg in segments:
            if seg.get("codec") == PATCH_CODEC and len(seg["parts"]) >= 2:
                bases = tuple(seg["parts"][:-1])
                self._uses[bases] = self._uses.get(bases, 0) + 1
                if self._uses[bases] == 1:  # a part is read once per set of bases
                    for sha in dict.fromkeys(bases):
                        self._uses[sha] = self._uses.get(sha, 0) + 1
        self._parts: dict[Any, Any] = {}
        #: Keys being read by one thread, which others wait for.
        self._loading: dict[Any, threading.Event] = {}
        self._dicts: dict[tuple[str, ...], zstandard.ZstdCompressionDict] = {}

    def wanted(self, sha: str) -> bool:
        """Whether part ``sha`` is the base of more than one segment."""
        return self._uses.get(sha, 0) > 1

    def _take(self, key: Any, fetch: Any, size: Any) -> Any:
        with self._lock:
            value = self._parts.get(key)
            loading = self._loading.get(key) if value is None else None
            mine = value is None and loading is None and self._uses.get(key, 0) > 1
            if mine:
                self._loading[key] = threading.Event()
        if loading is not None:  # another thread reads it: wait for that
            loading.wait()
            with self._lock:
                value = self._parts.get(key)
        if value is None:
            try:
                value = fetch()
            finally:
                if mine:
                    with self._lock:
                        # kept (below) before the waiters look
                        if value is not None and self._held + size(value) <= self._limit:
                            self._parts[key] = value
                            self._held += size(value)
                        self._loading.pop(key).set()
        with self._lock:
            left = self._uses.get(key, 1) - 1
            self._uses[key] = left
            if left <= 0:
                if self._parts.pop(key, None) is not None:
                    self._held -= size(value)
            elif (
                key not in self._parts
                and key not in self._loading
                and self._held + size(value) <= self._limit
            ):
                self._parts[key] = value
                self._held += size(value)
        return value

    def part(self, sha: str, fetch: Any) -> Any:
        """Base chunk ``sha`` (``fetch()`` reads it when it is not held)."""
        return self._take(sha, fetch, len)

    def base(self, key: tuple[str, ...], fetch: Any) -> tuple[Any, Any]:
        """(the concatenated bases ``key``, their dictionary or None): held while other
        segments rest on the same bases (with the dictionary made for them)."""
        if self._uses.get(key, 0) <= 1 and key not in self._parts:
            self._uses.pop(key, None)
            return fetch(), None
        value = self._take(key, lambda: (fetch(), None), lambda v: len(v[0]))
        base, _ = value
        with self._lock:
            d = self._dicts.get(key)
            if key not in self._parts:
                self._dicts.pop(key, None)
        return base, d

    def dictionary(self, key: tuple[str, ...], base: Any) -> zstandard.ZstdCompressionDict:
        """The dictionary of bases ``key`` (made once while they are held)."""
        d = patch_dict(base)
        with self._lock:
            if key in self._parts:
                if key not in self._dicts:
                    # zstd's decompression form of the dictionary is made on first use,
                    # without a lock of its own: made here, before another thread uses it
                    zstandard.ZstdDecompressor(dict_data=d).decompress(_EMPTY_FRAME)
                    self._dicts[key] = d
                d = self._dicts[key]
        return d


_EMPTY_FRAME = zstandard.ZstdCompressor(write_content_size=True).compress(b"")


def manifest_bytes(manifest: dict[str, Any]) -> bytes:
    return json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode()


class StoredPayload:
    """A :class:`~mlvc_server.serializers.base.PayloadReader` over a stored variable."""

    def __init__(
        self, store: Store, manifest: dict[str, Any], name: str = "", commit: str = ""
    ) -> None:
        self._store = store
        self.manifest = manifest
        self.name = name
        self.commit = commit
        self._segments: list[dict[str, Any]] = manifest["segments"]
        #: Parts that were missing here and fetched from a payload remote.
        self.fetched: list[str] = []
        self._shared: _SharedBases | None = None

    def share_bases(self, limit: int = 32 << 20) -> None:
        """Keep the base chunks (and zstd dictionaries) that several patched segments
        rest on from their first read to their last use, up to ``limit`` bytes: a
        reader that goes through the segments once (a checkout) reads each base once.
        Segments may then be read from several threads, each once."""
        self._shared = _SharedBases(self._segments, limit)

    @property
    def segment_names(self) -> list[str]:
        return [s["name"] for s in self._segments]

    def segment_size(self, index: int) -> int:
        return int(self._segments[index]["size"])

    def _part_sizes(self, seg: dict[str, Any]) -> Iterator[tuple[str, int, str | None]]:
        hashes = seg.get("xxh3") or [None] * len(seg["parts"])
        for i, (sha, n) in enumerate(
            zip(seg["parts"], part_sizes(self.manifest, seg), strict=False)
        ):
            yield sha, n, hashes[i]

    def readinto_segment(self, index: int, buffer: Any, offset: int | None = None) -> None:
        """Fill ``buffer`` with the segment's bytes from ``offset`` on.

        Without ``offset`` the buffer must hold the whole segment; with it, any slice of
        the segment is read (parts wholly inside the slice are read in place, the parts
        it cuts through are read whole and copied), so a big segment can be brought in
        through a bounded buffer.
        """
        out = memoryview(buffer).cast("B")
        seg = self._segments[index]
        size = int(seg["size"])
        parts = seg["parts"]
        if len(parts) == 1 and not offset and len(out) == size and not seg.get("codec"):
            # one whole part (a data file's chunk, a small variable): read in place
            self._read_part(parts[0], out, (seg.get("xxh3") or (None,))[0], seg["name"])
            return
        if seg.get("codec") and offset is not None and (offset, len(out)) != (0, size):
            whole = bytearray(size)
            self.readinto_segment(index, whole)
            out[:] = memoryview(whole)[offset : offset + len(out)]
            return
        if seg.get("codec"):
            if len(out) != size:
                raise ValueError("buffer size does not match the segment")
            self._decode(seg, out)
            return
        if offset is None:
            if len(out) != size:
                raise ValueError("buffer size does not match the segment")
            offset = 0
        if offset < 0 or offset + len(out) > size:
            raise ValueError("the range is outside the segment")
        end = offset + len(out)
        start = 0
        jobs: list[tuple[str, memoryview, str | None]] = []
        for sha, n, xxh in self._part_sizes(seg):
            lo, hi = max(start, offset), min(start + n, end)
            if lo < hi or (n == 0 and size == 0):
                if lo == start and hi == start + n:
                    jobs.append((sha, out[lo - offset : hi - offset], xxh))
                else:
                    whole = bytearray(n)
                    self._read_part(sha, memoryview(whole), xxh, seg["name"])
                    out[lo - offset : hi - offset] = whole[lo - start : hi - start]
            start += n
            if start >= end:
                break
        if len(jobs) == 1 or WORKERS == 1:
            for sha, view, xxh in jobs:
                self._read_part(sha, view, xxh, seg["name"])
            return
        futures = [
            _workers().submit(self._read_part, sha, view, xxh, seg["name"])
            for sha, view, xxh in jobs
        ]
        errors = [e for e in (f.exception() for f in futures) if e is not None]
        if errors:  # every read has ended: the buffer is no longer being written
            raise errors[0]

    def _decode(self, seg: dict[str, Any], out: memoryview) -> None:
        """Read a segment stored as a patch (``codec`` :data:`PATCH_CODEC`): its parts
        are the base chunks, concatenated, then the patch."""
        if seg["codec"] != PATCH_CODEC or len(seg["parts"]) < 2:
            raise CorruptObjectError(
                f"variable {self.name!r}: segment {seg['name']!r} has an unknown codec "
                f"{seg.get('codec')!r} (written by a newer mlvc?)"
            )
        parts = list(self._part_sizes(seg))
        bases = parts[:-1]
        patch_id, patch_n, patch_x = parts[-1]
        patch = bytearray(patch_n)
        self._read_part(patch_id, memoryview(patch), patch_x, seg["name"])
        shared = self._shared
        try:
            if (
                len(bases) == 1
                and bases[0][1] == len(out)
                and patch_mode(patch) == _XOR
                and (shared is None or not shared.wanted(bases[0][0]))
            ):
                # the base straight into the output, un-XORed there: no base buffer
                self._read_part(bases[0][0], out, bases[0][2], seg["name"])
                _xor_into(out, patch)
                return
            key = tuple(sha for sha, _n, _x in bases)
            dictionary = None
            if shared is not None:
                base, dictionary = shared.base(key, lambda: self._read_bases(bases, seg["name"]))
            else:
                base = self._read_bases(bases, seg["name"])
            if dictionary is None and patch_mode(patch) == _DICT and shared is not None:
                dictionary = shared.dictionary(key, base)
            apply_patch_into(base, patch, out, dictionary)
        except ValueError as e:
            raise CorruptObjectError(
                f"variable {self.name!r}: the patch {patch_id} of segment {seg['name']!r} "
                f"does not apply: {e}"
            ) from None

    def _read_bases(self, bases: list[tuple[str, int, str | None]], segment: str) -> Any:
        """The base chunks of a patched segment, concatenated (each read once when
        :meth:`share_bases` is on and it is shared)."""
        shared = self._shared
        chunks: list[Any] = []
        for sha, n, xxh in bases:

            def read(sha: str = sha, n: int = n, xxh: str | None = xxh) -> bytearray:
                buf = bytearray(n)
                self._read_part(sha, memoryview(buf), xxh, segment)
                return buf

            chunks.append(shared.part(sha, read) if shared is not None else read())
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    def _read_part(self, sha: str, out: memoryview, xxh: str | None, segment: str) -> None:
        try:
            try:
                self._store.read_blob_into(sha, out, xxh)
            except KeyError:
                self._fetch(sha, len(out), xxh, segment)
                self._store.read_blob_into(sha, out, xxh)
        except KeyError:
            raise self._missing(sha, segment, []) from None
        except PayloadMissingError:
            raise
        except CorruptObjectError as e:
            raise CorruptObjectError(
                f"variable {self.name!r}: part {sha} of segment {segment!r} is damaged: {e}"
            ) from None

    def segment_matches(self, index: int, fingerprint: str) -> bool:
        """Whether a tensor with this device ``fingerprint`` holds exactly the stored
        bytes of segment ``index``, by the fast-hash cache (False when it does not know):
        restoring onto a device then skips the tensors that are already right."""
        seg = self._segments[index]
        hit = _cached_fingerprint(
            self._store, Segment(seg["name"], None, int(seg["size"]), fingerprint)
        )
        return hit is not None and hit[0] == list(seg["parts"])

    def _fetch(self, sha: str, size: int, xxh: str | None, segment: str) -> None:
        """Bring a missing part from a payload remote (raises PayloadMissingError)."""
        from .payload_remote import Part, configured

        remotes = configured(self._store)
        for remote in remotes:
            if remote.download(self._store, Part(sha, size, xxh)):
                self.fetched.append(sha)
                return
        raise self._missing(sha, segment, [r.url for r in remotes])

    def _missing(self, sha: str, segment: str, tried: list[str]) -> PayloadMissingError:
        where = f" of commit {self.commit[:8]}" if self.commit else ""
        head = (
            f"the payload of variable {self.name!r}{where} is missing from this store: its "
            f"part "
            f"{sha[:12]} (segment {segment!r}) was pruned by `mlvc gc` (retention) or never "
            "fetched (a clone whose payloads live in object storage)."
        )
        if tried:
            return PayloadMissingError(
                f"{head} The payload remote(s) {', '.join(tried)} do not have it either: "
                "push it from a store that still has it, or restore another commit."
            )
        return PayloadMissingError(
            f"{head} No payload remote is configured: add the one that holds it "
            "(`mlvc remote add NAME URL --payloads FSSPEC-URL`) and it is fetched "
            "automatically on restore."
        )

    def read_segment(self, index: int) -> bytes:
        buf = bytearray(self.segment_size(index))
        self.readinto_segment(index, buf)
        return bytes(buf)

    def open(self) -> io.RawIOBase:
        return _ConcatStream(self)


def open_variable(store: Store, commit: str, name: str) -> StoredPayload:
    """The stored payload of variable ``name`` in commit ``commit`` (a full id).

    Raises:
        VariableNotFoundError: the commit holds no such variable.
    """
    tree = store.commit_obj(commit).tree.decode()
    found = store.tree_lookup(tree, f"{VARS}/{name}/{MANIFEST}")
    if found is None:
        raise VariableNotFoundError(f"commit {commit[:8]} holds no variable {name!r}")
    return StoredPayload(store, store.read_json(found[1]), name, commit)


class _ConcatStream(io.RawIOBase):
    def __init__(self, payload: StoredPayload) -> None:
        self._payload = payload
        self._index = 0
        self._buf = b""
        self._pos = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        view = memoryview(b).cast("B")
        while self._pos >= len(self._buf):
            if self._index >= len(self._payload.segment_names):
                return 0
            self._buf = self._payload.read_segment(self._index)
            self._pos = 0
            self._index += 1
        n = min(len(view), len(self._buf) - self._pos)
        view[:n] = self._buf[self._pos : self._pos + n]
        self._pos += n
        return n
