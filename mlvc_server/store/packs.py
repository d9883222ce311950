"""Pack streams for push and fetch, without dulwich's whole-object compression.

dulwich's own pack generation zlib-compresses every object at the default level (about
29 MB/s on float weights, which do not compress) and its fetch leaves the received pack
in ``objects/pack``, where mlvc's gc could not prune single parts. So:

- **Sending** (:func:`pack_records`): objects go out one at a time, as they are needed.
  A payload part written by mlvc (a loose object of stored deflate blocks) is re-framed
  into a pack entry of stored blocks straight from the file — no compressor, and at most
  one part (16 MiB) in memory. Other objects go through dulwich as usual.
- **Receiving** (:func:`unpack_into`): the pack is written to a temporary file in
  ``objects/``, checked (its SHA-1 trailer), and every object in it (deltas resolved,
  thin-pack bases taken from the store) is written as a loose object — big blobs with
  stored blocks, like a commit writes them — after which the pack file is deleted.
"""

from __future__ import annotations

import contextlib
import io
import os
import struct
import zlib
from collections.abc import Callable, Iterator
from typing import Any

from dulwich.object_format import DEFAULT_OBJECT_FORMAT
from dulwich.object_store import MissingObjectFinder
from dulwich.objects import Blob, ObjectID
from dulwich.pack import (
    PackChunkGenerator,
    PackData,
    PackInflater,
    UnpackedObject,
    full_unpacked_object,
    pack_object_header,
)

from ..errors import CorruptObjectError
from . import objects
from .repo import Store

#: Blobs bigger than this are sent and stored with stored (uncompressed) deflate blocks.
BIG = 64 << 10
_BLOB = 3
_STORED_BLOCK = 0xFFFF

Progress = Callable[[dict[str, Any]], None]


def _stored_zlib(view: memoryview) -> Iterator[bytes]:
    """A zlib stream of ``view`` made of stored blocks, in pieces of about 1 MiB."""
    yield b"\x78\x01"
    n = len(view)
    pos = 0
    piece: list[bytes] = []
    size = 0
    if n == 0:
        yield struct.pack("<BHH", 1, 0, 0xFFFF)
    while pos < n:
        m = min(_STORED_BLOCK, n - pos)
        last = pos + m >= n
        piece.append(struct.pack("<BHH", 1 if last else 0, m, m ^ 0xFFFF))
        piece.append(bytes(view[pos : pos + m]))
        pos += m
        size += m
        if size >= 1 << 20:
            yield b"".join(piece)
            piece, size = [], 0
    if piece:
        yield b"".join(piece)
    yield struct.pack(">I", zlib.adler32(view) & 0xFFFFFFFF)


class _Lazy:
    """An iterable of a stored-block pack entry, read from the store when iterated."""

    def __init__(self, store: Store, sha: str, size: int, header: bool) -> None:
        self.store, self.sha, self.size, self.header = store, sha, size, header

    def __iter__(self) -> Iterator[bytes]:
        buf = bytearray(self.size)
        view = memoryview(buf)
        self.store.read_blob_into(self.sha, view)
        if self.header:
            yield bytes(pack_object_header(_BLOB, None, self.size, DEFAULT_OBJECT_FORMAT))
        yield from _stored_zlib(view)


_header_mode: bool | None = None


def _comp_chunks_need_header() -> bool | None:
    """How this dulwich writes ``UnpackedObject.comp_chunks`` into a pack: as they are
    (True: we must put the object header in them), after the header (False), or not
    usable (None). Found once by packing a tiny blob and reading it back."""
    global _header_mode
    if _header_mode is not None:
        return _header_mode
    blob = Blob.from_string(b"mlvc pack probe")
    for mode in (True, False):
        rec = UnpackedObject(_BLOB, sha=blob.sha().digest(), decomp_len=15)
        chunks: list[bytes] = []
        if mode:
            chunks.append(bytes(pack_object_header(_BLOB, None, 15, DEFAULT_OBJECT_FORMAT)))
        chunks.extend(_stored_zlib(memoryview(b"mlvc pack probe")))
        rec.comp_chunks = chunks
        data = b"".join(
            PackChunkGenerator(
                num_records=1, records=iter([rec]), object_format=DEFAULT_OBJECT_FORMAT
            )
        )
        try:
            pd = PackData.from_file(io.BytesIO(data), DEFAULT_OBJECT_FORMAT, len(data))
            got = [o.id for o in PackInflater.for_pack_data(pd)]
            pd.close()
        except Exception:
            continue
        if got == [blob.id]:
            _header_mode = mode
            return mode
    return None


def _loose_blob_size(store: Store, sha: str) -> int | None:
    """Size of a loose blob written by mlvc (stored blocks), from its first bytes."""
    path = objects.loose_path(store.objects_dir, sha)
    try:
        with open(path, "rb") as f:
            head = f.read(64)
    except OSError:
        return None
    if len(head) < 8 or head[:2] != b"\x78\x01" or head[2] & 0x06:
        return None
    (length,) = struct.unpack("<H", head[3:5])
    hdr = head[7 : 7 + length]
    if not hdr.startswith(b"blob ") or not hdr.endswith(b"\x00"):
        return None
    try:
        return int(hdr[5:-1])
    except ValueError:
        return None


def _record(store: Store, sha: str, header_mode: bool | None) -> UnpackedObject:
    if header_mode is not None:
        size = _loose_blob_size(store, sha)
        if size is not None and size > BIG:
            rec = UnpackedObject(_BLOB, sha=bytes.fromhex(sha), decomp_len=size)
            rec.comp_chunks = _Lazy(store, sha, size, header_mode)  # type: ignore[assignment]
            return rec
    return full_unpacked_object(store.get(sha))


def pack_records(
    store: Store,
    have: set[ObjectID],
    want: set[ObjectID],
    progress: Progress | None = None,
) -> tuple[int, Iterator[UnpackedObject]]:
    """What to send to a remote that has ``have`` and wants ``want`` (a dulwich
    ``generate_pack_data`` function's result): the count, and the records, made one at a
    time while the pack is written."""
    finder = MissingObjectFinder(store.repo.object_store, haves=have, wants=want)
    ids = [oid.decode() for oid, _hint in finder]
    mode = _comp_chunks_need_header()

    def records() -> Iterator[UnpackedObject]:
        for i, sha in enumerate(ids):
            if progress and (i % 64 == 0 or i == len(ids) - 1):
                progress({"phase": "sending objects", "done": i + 1, "total": len(ids)})
            yield _record(store, sha, mode)

    return len(ids), records()


class PackReceiver:
    """A file in ``objects/`` that a fetched pack is written to, then unpacked."""

    def __init__(self, store: Store, progress: Progress | None = None) -> None:
        self.store = store
        self.path = store.objects_dir / f"incoming-{os.getpid()}-{id(self)}.pack"
        self._f = open(self.path, "wb")  # noqa: SIM115 - closed in unpack/discard
        self.bytes = 0
        self.progress = progress

    def write(self, data: bytes) -> int:
        self._f.write(data)
        self.bytes += len(data)
        if self.progress:
            self.progress({"phase": "receiving objects", "bytes": self.bytes})
        return len(data)

    def discard(self) -> None:
        if not self._f.closed:
            self._f.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)

    def unpack(self) -> int:
        """Write every object of the received pack as a loose object; return the count."""
        self._f.close()
        try:
            if self.bytes == 0:
                return 0
            return unpack_into(self.store, str(self.path), self.progress)
        finally:
            self.discard()


def _inflated(pd: PackData, ext_ref: Callable[[bytes], tuple[int, bytes]]) -> Iterator[Any]:
    """The pack's objects, deltas resolved.

    Raises:
        CorruptObjectError: the pack is damaged (its checksum, a stream that does not
            inflate, a delta whose base it lacks).
    """
    try:
        pd.check()
        yield from PackInflater.for_pack_data(pd, resolve_ext_ref=ext_ref)
    except Exception as e:
        raise CorruptObjectError(f"the received pack is damaged: {e}") from e


def unpack_into(store: Store, pack_path: str, progress: Progress | None = None) -> int:
    """Write every object of a pack file (thin packs too) as loose objects.

    Raises:
        CorruptObjectError: the pack is damaged.
    """
    obj_store = store.repo.object_store

    def ext_ref(sha: bytes) -> tuple[int, bytes]:
        key = sha if len(sha) == 40 else sha.hex().encode()
        return obj_store.get_raw(ObjectID(key))

    pd = PackData(pack_path, DEFAULT_OBJECT_FORMAT)
    n = 0
    try:
        total = len(pd)
        for obj in _inflated(pd, ext_ref):
            sha = obj.id.decode()
            if isinstance(obj, Blob) and obj.raw_length() > BIG:
                if not store.has_object(sha):
                    chunks = obj.as_raw_chunks()
                    objects.write_stored_blob(
                        store.objects_dir, chunks, sum(map(len, chunks)), sha, fsync=store.fsync
                    )
            else:
                store.add(obj)
            n += 1
            if progress and (n % 64 == 0 or n == total):
                progress({"phase": "unpacking objects", "done": n, "total": total})
    finally:
        try:
            pd.close()
        except BufferError:
            # a view of the mapping is still alive (the traceback of the error being
            # raised holds one): the mapping goes with its last view; dulwich dropped it
            # before failing, so closing again closes the file. The error is not masked.
            pd.close()
    return n
