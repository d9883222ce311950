"""Git loose objects written and read without buffering whole payloads.

Large payload blobs are written as git loose objects whose zlib stream uses *stored*
(uncompressed) deflate blocks: float weights do not compress (zlib level 6 saves ~7% at
29 MB/s), so we skip the compressor and write the bytes with ``os.writev`` straight from
the caller's buffer. The result is an ordinary loose object that git, dulwich and every
other git implementation read. SHA-1 is computed once, in the same pass that would
otherwise feed a compressor.

Reading goes the other way: the stored blocks are copied with ``readinto`` into the
destination buffer (e.g. the memory of a numpy array), and the zlib Adler-32 checksum is
verified, so a flipped byte is detected as git would detect it. Objects that are not in
our layout (compressed by git, or packed) are read through dulwich.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import struct
import sys
import threading
import zlib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ..errors import CorruptObjectError

#: Largest stored deflate block.
_BLOCK = 0xFFFF
#: ``os.writev`` takes at most IOV_MAX (1024 on Linux) buffers per call.
_IOV_MAX = 1000
_ZLIB_HEADER = b"\x78\x01"
#: The header of a stored block that is not the last and holds :data:`_BLOCK` bytes.
_FULL_BLOCK = struct.pack("<BHH", 0, _BLOCK, _BLOCK ^ 0xFFFF)


#: Contents up to this size are checked with Python's builtin SHA-1 while hashlib is not
#: loaded yet: loading OpenSSL costs ~2.5 ms, its SHA-1 is ~8x faster per byte.
_SMALL_SHA = 64 * 1024

try:  # the builtin SHA-1 (no OpenSSL to load): `mlvc status` reads a few small objects
    from _sha1 import sha1 as _builtin_sha1  # type: ignore[import-not-found,unused-ignore]
except ImportError:  # pragma: no cover (an interpreter built without it)
    _builtin_sha1 = None


def object_id(kind: bytes, raw: bytes) -> str:
    """The git id of an object of type ``kind`` (b"blob", b"tree"...) and content ``raw``.

    A process that only reads a few small objects does not load OpenSSL for them.
    """
    header = b"%s %d\x00" % (kind, len(raw))
    if _builtin_sha1 is not None and len(raw) <= _SMALL_SHA and "hashlib" not in sys.modules:
        h = _builtin_sha1(header)
    else:
        import hashlib  # here, not at the top: loading OpenSSL slows every start

        h = hashlib.sha1(header)
    h.update(raw)
    return str(h.hexdigest())


def loose_path(objects_dir: Path, sha: str) -> Path:
    """Path of the loose object ``sha`` (40 hex digits) under ``objects_dir``."""
    return objects_dir / sha[:2] / sha[2:]


_tmp_counter = itertools.count()


def _tmp_file(objects_dir: Path) -> tuple[int, str]:
    """Create a new temporary file in ``objects_dir`` (cheaper than tempfile.mkstemp)."""
    while True:
        name = f"{objects_dir}/tmp_obj_{os.getpid()}_{threading.get_ident()}_{next(_tmp_counter)}"
        try:
            return os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444), name
        except FileExistsError:  # a leftover of a killed process with our pid
            continue


def discard(fd: int, path: str) -> None:
    """Close ``fd`` (if open, i.e. >= 0) and remove the unfinished file ``path``.

    Never fails: it runs while another error (often a full disk, where ``close`` may
    fail too) is on its way up, and must not leave the file behind.
    """
    if fd >= 0:
        with contextlib.suppress(OSError):
            os.close(fd)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def _place(tmp: str, objects_dir: Path, sha: str) -> None:
    """Rename a finished temporary file to its object path (or drop it if present)."""
    d = f"{objects_dir}/{sha[:2]}"
    dest = f"{d}/{sha[2:]}"
    if os.path.exists(dest):
        os.unlink(tmp)
        return
    try:
        os.replace(tmp, dest)
    except FileNotFoundError:
        os.makedirs(d, exist_ok=True)
        os.replace(tmp, dest)


def freshen(objects_dir: Path, sha: str) -> bool:
    """Set a loose object's mtime to now, as git does when it would have written an
    object that exists: gc deletes only unreachable objects older than its grace period,
    so an object a commit is about to reference again is never deleted under it.

    Returns False when there is no such loose object.
    """
    try:
        os.utime(f"{objects_dir}/{sha[:2]}/{sha[2:]}")
        return True
    except FileNotFoundError:
        return False
    except OSError:  # read-only store: nothing to protect against
        return True


def blob_sha(chunks: Iterable[Any], size: int) -> str:
    """SHA-1 git blob id of the concatenation of ``chunks`` (``size`` bytes in all)."""
    import hashlib  # here, not at the top: loading OpenSSL slows every start

    h = hashlib.sha1(b"blob %d\x00" % size)
    for c in chunks:
        h.update(c)
    return h.hexdigest()


def _stored_blocks(view: memoryview, final: bool, iov: list[Any]) -> None:
    n = len(view)
    pos = 0
    while pos < n:
        m = min(_BLOCK, n - pos)
        last = final and pos + m >= n
        iov.append(struct.pack("<BHH", 1 if last else 0, m, m ^ 0xFFFF))
        iov.append(view[pos : pos + m])
        pos += m


def _flush(fd: int, iov: list[Any]) -> None:
    for i in range(0, len(iov), _IOV_MAX):
        part = iov[i : i + _IOV_MAX]
        want = sum(len(b) for b in part)
        done = os.writev(fd, part)
        if done != want:  # short write: finish it the slow way
            rest = b"".join(bytes(b) for b in part)[done:]
            while rest:
                k = os.write(fd, rest)
                rest = rest[k:]
    iov.clear()


def write_stored_blob(
    objects_dir: Path,
    chunks: Iterable[Any],
    size: int,
    sha: str | None = None,
    *,
    fsync: bool = False,
) -> str:
    """Write a blob as a loose object with stored (uncompressed) zlib blocks.

    Args:
        objects_dir: the repository's ``objects`` directory.
        chunks: buffers whose concatenation is the blob content; iterated once. Each
            buffer is written before the next is requested, so a producer may reuse one.
        size: total length of the content (git needs it in the object header).
        sha: the blob id when already known (then it is not computed again).
        fsync: flush the file to disk before it is renamed into place.

    Returns:
        The blob id (40 hex digits). If the object already exists it is left alone.
    """
    import hashlib  # here, not at the top: loading OpenSSL slows every start

    header = b"blob %d\x00" % size
    h = hashlib.sha1(header) if sha is None else None
    adler = zlib.adler32(header)
    fd, tmp = _tmp_file(objects_dir)
    try:
        iov: list[Any] = [_ZLIB_HEADER]
        _stored_blocks(memoryview(header), size == 0, iov)
        written = 0
        for c in chunks:
            view = memoryview(c).cast("B")
            if h is not None:
                h.update(view)
            adler = zlib.adler32(view, adler)
            written += len(view)
            _stored_blocks(view, written >= size, iov)
            # write before taking the next chunk: callers may reuse the buffer (a pinned
            # staging buffer for GPU tensors)
            _flush(fd, iov)
        if written != size:
            raise ValueError(f"blob content was {written} bytes, expected {size}")
        iov.append(struct.pack(">I", adler & 0xFFFFFFFF))
        _flush(fd, iov)
        if fsync:
            os.fsync(fd)
        os.close(fd)
        fd = -1
        sha = h.hexdigest() if h is not None else sha
        assert sha is not None
        _place(tmp, objects_dir, sha)
        return sha
    except BaseException:
        discard(fd, tmp)
        raise


def write_compressed(objects_dir: Path, sha: str, legacy: bytes, *, fsync: bool = False) -> bool:
    """Write an already zlib-compressed loose object (dulwich's ``as_legacy_object``).

    Returns True when written, False when the object was already there.
    """
    if os.path.exists(f"{objects_dir}/{sha[:2]}/{sha[2:]}"):
        return False
    fd, tmp = _tmp_file(objects_dir)
    try:
        view = memoryview(legacy)
        while view:
            view = view[os.write(fd, view) :]
        if fsync:
            os.fsync(fd)
        os.close(fd)
        fd = -1
        _place(tmp, objects_dir, sha)
    except BaseException:
        discard(fd, tmp)
        raise
    return True


def read_stored_fast(path: str | os.PathLike[str], size: int, out: memoryview) -> bool:
    """Read a blob in exactly the layout :func:`write_stored_blob` makes, with one
    ``preadv`` per 512 blocks straight into ``out``. Checks every block header but not
    the Adler-32: the caller verifies the content (e.g. with the xxh3 of the manifest).

    Returns False, having trusted nothing, when the file has another layout.
    Raises FileNotFoundError when the object is absent.
    """
    header = b"blob %d\x00" % size
    n = len(out)
    nblocks = -(-n // _BLOCK)
    head_len = 2 + 5 + len(header)
    scratch = bytearray(head_len + 5 * nblocks)
    sv = memoryview(scratch)
    iov: list[memoryview] = [sv[:head_len]]
    at = head_len
    for i in range(nblocks):
        iov.append(sv[at : at + 5])
        iov.append(out[i * _BLOCK : min(n, (i + 1) * _BLOCK)])
        at += 5
    fd = os.open(path, os.O_RDONLY)
    try:
        if os.fstat(fd).st_size != head_len + 5 * nblocks + n + 4:
            return False
        if len(iov) <= _IOV_MAX:  # (most chunks: up to ~32 MiB)
            return os.preadv(fd, iov, 0) == head_len + 5 * nblocks + n and _blocks_are(
                scratch, header, n, nblocks
            )
        offset = 0
        for i in range(0, len(iov), _IOV_MAX):
            batch = iov[i : i + _IOV_MAX]
            want = sum(len(b) for b in batch)
            if os.preadv(fd, batch, offset) != want:
                return False
            offset += want
    finally:
        os.close(fd)
    return _blocks_are(scratch, header, n, nblocks)


def _blocks_are(scratch: bytearray, header: bytes, n: int, nblocks: int) -> bool:
    """Whether the bytes read around the content (zlib header, object header, the
    header of each stored block) are those of :func:`write_stored_blob`'s layout."""
    expect = _ZLIB_HEADER + struct.pack("<BHH", n == 0, len(header), len(header) ^ 0xFFFF)
    expect += header
    if nblocks:  # whole blocks, then the last (final) one
        last = n - (nblocks - 1) * _BLOCK
        expect += _FULL_BLOCK * (nblocks - 1) + struct.pack("<BHH", 1, last, last ^ 0xFFFF)
    return scratch == expect


def _read_exact(f: Any, n: int) -> bytes:
    data = f.read(n)
    if len(data) != n:
        raise CorruptObjectError("loose object is truncated")
    return bytes(data)


def read_loose_into(path: Path, size: int, out: memoryview, *, verify: str | None = None) -> None:
    """Read the content of a loose blob of ``size`` bytes into ``out``.

    Fast path for our stored-block layout; any other loose object is inflated with zlib
    in bounded pieces. Always checks the zlib Adler-32 (and the object header); with
    ``verify`` set to the expected id, also recomputes SHA-1.

    Raises:
        CorruptObjectError: the object is damaged or not the expected blob.
        FileNotFoundError: there is no such loose object.
    """
    out = out.cast("B") if out.format != "B" else out
    if len(out) != size:
        raise ValueError("destination buffer has the wrong size")
    header = b"blob %d\x00" % size
    with open(path, "rb", buffering=0) as f:
        if _read_exact(f, 2) != _ZLIB_HEADER or not _read_stored(f, header, out):
            f.seek(0)
            _inflate_into(f, header, out)
    if verify is not None and blob_sha([out], size) != verify:
        raise CorruptObjectError(f"object {verify} does not match its id")


def _read_stored(f: Any, header: bytes, out: memoryview) -> bool:
    """Parse stored blocks. Returns False (nothing trusted) if a block is compressed."""
    adler = 1
    hdr_left = len(header)
    got_header = bytearray()
    pos = 0
    final = False
    while not final:
        bh = f.read(5)
        if len(bh) < 1:
            raise CorruptObjectError("loose object is truncated")
        if bh[0] & 0x06 != 0:  # not a stored block: let zlib handle it
            return False
        if len(bh) != 5:
            raise CorruptObjectError("loose object is truncated")
        final = bool(bh[0] & 1)
        (length, nlength) = struct.unpack("<HH", bh[1:5])
        if length ^ 0xFFFF != nlength:
            raise CorruptObjectError("corrupt stored block in loose object")
        if hdr_left:
            take = min(hdr_left, length)
            part = _read_exact(f, take)
            got_header += part
            adler = zlib.adler32(part, adler)
            hdr_left -= take
            length -= take
        if length:
            if pos + length > len(out):
                raise CorruptObjectError("loose object is longer than recorded")
            dest = out[pos : pos + length]
            n = f.readinto(dest)
            if n != length:
                raise CorruptObjectError("loose object is truncated")
            adler = zlib.adler32(dest, adler)
            pos += length
    if bytes(got_header) != header or pos != len(out):
        raise CorruptObjectError("loose object does not hold the expected blob")
    (expect,) = struct.unpack(">I", _read_exact(f, 4))
    if expect != adler & 0xFFFFFFFF:
        raise CorruptObjectError("loose object fails its checksum (flipped or damaged bytes)")
    return True


def _inflate_into(f: Any, header: bytes, out: memoryview) -> None:
    d = zlib.decompressobj()
    pending = b""
    pos = 0
    try:
        while True:
            raw = f.read(1 << 20)
            if not raw:
                break
            data = pending + d.decompress(raw)
            pending = b""
            if header:
                if len(data) < len(header):
                    pending, data = data, b""
                else:
                    if data[: len(header)] != header:
                        raise CorruptObjectError("loose object does not hold the expected blob")
                    data = data[len(header) :]
                    header = b""
            if data:
                if pos + len(data) > len(out):
                    raise CorruptObjectError("loose object is longer than recorded")
                out[pos : pos + len(data)] = data
                pos += len(data)
        tail = d.flush()
    except zlib.error as e:
        raise CorruptObjectError(f"loose object cannot be inflated: {e}") from e
    if tail or header or pos != len(out) or not d.eof:
        raise CorruptObjectError("loose object does not hold the expected blob")


# -- small objects as one pack ---------------------------------------------------------------
#: git's type numbers in pack entries.
PACK_TYPES = {b"commit": 1, b"tree": 2, b"blob": 3, b"tag": 4}
#: zlib level of packed small objects: JSON and trees shrink 3-5x at level 1 already,
#: and a commit should not wait for the compressor.
_PACK_LEVEL = 1


def _entry_header(type_num: int, size: int) -> bytes:
    """A pack entry's header: type and size, 4 bits then 7 bits a byte (git's format)."""
    out = bytearray()
    c = (type_num << 4) | (size & 0x0F)
    size >>= 4
    while size:
        out.append(c | 0x80)
        c = size & 0x7F
        size >>= 7
    out.append(c)
    return bytes(out)


#: Objects up to this size are packed as stored (uncompressed) zlib streams: zlib.compress
#: costs ~15-40 µs a call whatever the size (it sets up its state each time), more than
#: a commit's small trees and its commit object gain from it (a few dozen bytes each).
_PACK_STORED_MAX = 256


def pack_entry(type_num: int, raw: bytes) -> bytes:
    """A whole object as a pack entry: its header, then its zlib stream."""
    # blobs are mostly payload parts (float data zlib hardly shrinks: DESIGN.md), stored
    # as level-0 streams; JSON and bigger trees compress well and cheaply
    if raw and (len(raw) <= _PACK_STORED_MAX or (type_num == 3 and len(raw) > 4096)):
        return _entry_header(type_num, len(raw)) + _stored_stream(raw)
    return _entry_header(type_num, len(raw)) + zlib.compress(raw, _PACK_LEVEL)


def _stored_stream(raw: bytes) -> bytes:
    """``raw`` as a zlib stream of stored blocks (what ``zlib.compress(raw, 0)`` makes,
    without setting up a compressor); ``raw`` is not empty."""
    iov: list[Any] = [_ZLIB_HEADER]
    _stored_blocks(memoryview(raw), True, iov)
    iov.append(struct.pack(">I", zlib.adler32(raw) & 0xFFFFFFFF))
    return b"".join(iov)


def write_pack(
    objects_dir: Path, items: Iterable[tuple[str, int, bytes]], *, fsync: bool = False
) -> str | None:
    """Write objects as one git pack (version 2) with its index, as ``git index-pack``
    would leave them: ``objects/pack/pack-<checksum>.pack`` and ``.idx``.

    Args:
        objects_dir: the repository's ``objects`` directory.
        items: ``(id, type number, raw content)`` of each object (whole, not deltas).
        fsync: flush both files to disk before they are renamed into place.

    Returns:
        The pack's name (``pack-<40 hex>``), or None when there was nothing to write.

    Crash safety: both files are written to temporary files in ``objects/`` (named
    like loose objects' ``tmp_obj_*``, which gc sweeps), then the pack is renamed into
    place and its index last, as git does: readers (git and dulwich) only use a pack
    whose index exists, so a reader never sees a partial pack.
    """
    entries = []
    for sha, type_num, raw in sorted(items, key=lambda e: (e[1], e[0])):
        entry = pack_entry(type_num, raw)
        entries.append((sha, zlib.crc32(entry) & 0xFFFFFFFF, entry))
    return write_pack_entries(objects_dir, entries, fsync=fsync)


def write_pack_entries(
    objects_dir: Path, entries: list[tuple[str, int, bytes]], *, fsync: bool = False
) -> str | None:
    """Write a pack and its index from ready entries: ``(id, CRC-32 of the entry, the
    entry's bytes: header and zlib stream)``, e.g. copied from other packs (no object is
    inflated or compressed again). See :func:`write_pack`."""
    import hashlib  # here, not at the top: loading OpenSSL slows every start

    if not entries:
        return None
    body: list[bytes] = [b"PACK" + struct.pack(">II", 2, len(entries))]
    offset = len(body[0])
    index: list[tuple[bytes, int, int]] = []
    for sha, crc, entry in entries:
        index.append((bytes.fromhex(sha), crc, offset))
        body.append(entry)
        offset += len(entry)
    if offset >= 1 << 31:
        raise ValueError("pack too large for 32-bit offsets (write fewer objects at a time)")
    h = hashlib.sha1()
    for b in body:
        h.update(b)
    checksum = h.digest()
    body.append(checksum)

    index.sort()
    fanout = [0] * 256
    for sha_bin, _crc, _off in index:
        fanout[sha_bin[0]] += 1
    total = 0
    for i in range(256):
        total += fanout[i]
        fanout[i] = total
    idx = bytearray(_IDX_V2)
    idx += struct.pack(">256I", *fanout)
    for sha_bin, _crc, _off in index:
        idx += sha_bin
    idx += struct.pack(f">{len(index)}I", *(crc for _s, crc, _o in index))
    idx += struct.pack(f">{len(index)}I", *(off for _s, _c, off in index))
    idx += checksum
    idx += hashlib.sha1(idx).digest()

    name = "pack-" + checksum.hex()
    pack_dir = objects_dir / "pack"
    tmps: list[tuple[int, str]] = []
    try:
        for data in (body, [bytes(idx)]):
            fd, tmp = _tmp_file(objects_dir)
            tmps.append((fd, tmp))
            _flush(fd, list(data))
            if fsync:
                os.fsync(fd)
            os.close(fd)
            tmps[-1] = (-1, tmp)
        os.makedirs(pack_dir, exist_ok=True)
        os.replace(tmps[0][1], f"{pack_dir}/{name}.pack")
        os.replace(tmps[1][1], f"{pack_dir}/{name}.idx")
    except BaseException:
        for fd, tmp in tmps:
            discard(fd, tmp)
        raise
    return name


def inflate_entry(pack: str | os.PathLike[str], offset: int) -> tuple[int, bytes] | None:
    name = os.path.basename(pack)
    try:
        fd = os.open(pack, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        # the header and, for most entries (a commit's small objects, a patch), all of
        # the entry in one call
        head = os.pread(fd, 4096, offset)
        if not head:
            raise CorruptObjectError(f"pack {name} is cut short")
        type_num = (head[0] >> 4) & 7
        size = head[0] & 0x0F
        shift, i = 4, 0
        while head[i] & 0x80:
            i += 1
            if i >= len(head):
                raise CorruptObjectError(f"pack {name} has a damaged entry header")
            size |= (head[i] & 0x7F) << shift
            shift += 7
        if type_num not in (1, 2, 3, 4):
            return None  # a delta
        at = offset + len(head)
        chunk = head[i + 1 :]
        # the rest of what the entry takes at most when deflate could not shrink it (a
        # chunk): read in one call, not in pieces of 64 KiB
        want = max(size + (size >> 10) * 5 + 64 - len(chunk), 4096)
        d = zlib.decompressobj()
        out = bytearray()
        try:
            while True:
                out += d.decompress(chunk, size + 1 - len(out))
                if d.eof or len(out) > size:
                    break
                chunk = os.pread(fd, want, at)
                if not chunk:
                    break
                at += len(chunk)
                want = 1 << 16
        except zlib.error as e:
            raise CorruptObjectError(f"an entry of pack {name} cannot be inflated: {e}") from e
        if len(out) != size:
            raise CorruptObjectError(f"an entry of pack {name} has the wrong size")
        return type_num, bytes(out)
    finally:
        os.close(fd)


_IDX_V2 = b"\xfftOc\x00\x00\x00\x02"
#: Packs of at most this many objects get an in-memory table of their ids (~100 bytes
#: an object); bigger ones (git's own packs) are searched in their index.
_TABLE_MAX = 200_000


def _readable(raw: bytes) -> bool:
    """Whether ``raw`` is a version 2 pack index that :class:`PackIndexes` searches."""
    return raw[:8] == _IDX_V2 and len(raw) >= 1032 + 40


def _table(raw: bytes) -> dict[bytes, int] | None:
    """Id -> position of a readable index's objects, for a pack of at most
    :data:`_TABLE_MAX` of them (None for a bigger one: searched in its index)."""
    n = int.from_bytes(raw[1028:1032])
    if n > _TABLE_MAX or len(raw) < 1032 + 28 * n:
        return None
    return {raw[1032 + 20 * i : 1052 + 20 * i]: i for i in range(n)}


class PackIndexes:
    """The version 2 indexes (``.idx``) of a pack folder, held in memory: which objects
    the packs hold, in a few microseconds per question (dulwich asks every pack in
    Python, ~10 µs per pack). Reloaded when the folder changes (its mtime).

    ``foreign`` is set when a pack has an index in another layout (version 1): the
    caller must then ask dulwich as well.
    """

    def __init__(self, pack_dir: Path) -> None:
        self.pack_dir = pack_dir
        self._mtime = -1
        self._idx: dict[str, bytes] = {}
        #: for packs of at most :data:`_TABLE_MAX` objects (mlvc's own): id -> position,
        #: so that asking every pack about an object it lacks (each new object a commit
        #: writes) costs a dict lookup per pack instead of a binary search in Python
        self._tables: dict[str, dict[bytes, int]] = {}
        self.foreign = False
        #: the packs that have a ``.keep`` file (git's: not to be repacked), as listed
        self.kept: frozenset[str] = frozenset()
        #: pack name -> size of its ``.pack`` (a pack's file never changes)
        self._sizes: dict[str, int] = {}
        # refreshes are serialized (two threads listing at once could publish an older
        # listing last); readers take no lock: every dict above is built whole and
        # then published, never changed in place
        self._refreshing = threading.Lock()

    def refresh(self, force: bool = False) -> None:
        """Reload the indexes when the folder changed; ``force`` re-lists it anyway (a
        folder's mtime ticks coarsely, so two packs written within one tick, or a pack
        whose index arrived after a look, may not change it visibly)."""
        try:
            mtime = os.stat(self.pack_dir).st_mtime_ns
        except FileNotFoundError:
            self._idx, self._tables, self._mtime, self.foreign = {}, {}, -1, False
            self.kept, self._sizes = frozenset(), {}
            return
        if mtime == self._mtime and not force:
            return
        with self._refreshing:
            self._relist(mtime)

    def add_written(self, name: str) -> None:
        """Take in a pack this process just wrote (its index read from its file) without
        listing the folder again, when the listing was up to date just before (the
        caller refreshed it). The folder's mtime now counts as seen: a pack another
        process wrote in that instant is found by the next thorough look (see
        ``Store.has_object``), as with :meth:`refresh`, which takes the mtime before it
        lists."""
        try:
            mtime = os.stat(self.pack_dir).st_mtime_ns
            with open(self.pack_dir / (name + ".idx"), "rb") as f:
                raw = f.read()
        except FileNotFoundError:
            self.refresh(force=True)
            return
        with self._refreshing:
            if self._mtime == -1 or not _readable(raw):
                self._relist(mtime)  # nothing listed yet, or not an index we read
                return
            idx = {**self._idx, name: raw}
            tables = dict(self._tables)
            table = _table(raw)
            if table is not None:
                tables[name] = table
            self._idx, self._tables = idx, tables
            self._mtime = mtime

    def _relist(self, mtime: int) -> None:
        names = set(os.listdir(self.pack_dir))
        current = {n[:-4] for n in names if n.endswith(".idx") and n[:-4] + ".pack" in names}
        idx = {k: v for k, v in self._idx.items() if k in current}
        tables = {k: v for k, v in self._tables.items() if k in current}
        foreign = False
        for name in current - idx.keys():
            try:
                with open(self.pack_dir / (name + ".idx"), "rb") as f:
                    raw = f.read()
            except FileNotFoundError:
                continue
            if _readable(raw):
                idx[name] = raw
                table = _table(raw)
                if table is not None:
                    tables[name] = table
            else:
                foreign = True
        self._idx, self._tables, self.foreign = idx, tables, foreign
        self.kept = frozenset(n[:-5] for n in names if n.endswith(".keep"))
        self._sizes = {k: v for k, v in self._sizes.items() if k in current}
        # last: a thread that sees the new mtime finds the new listing
        self._mtime = mtime

    def pack_size(self, name: str) -> int | None:
        """The size of pack ``name``'s ``.pack`` file (None: it is gone)."""
        size = self._sizes.get(name)
        if size is None:
            try:
                size = os.stat(f"{self.pack_dir}/{name}.pack").st_size
            except FileNotFoundError:
                return None
            self._sizes[name] = size
        return size

    def snapshot(self) -> Mapping[str, bytes]:
        """The indexes as last listed, pack name -> ``.idx`` bytes, for a caller that
        walks several packs: it stays whole while other threads refresh (a pack merged
        away meanwhile is still named here; its file may be gone)."""
        return self._idx

    def find(self, sha: str) -> tuple[str, int] | None:
        """``(pack name, offset of the entry)`` of the object, or None."""
        want = bytes.fromhex(sha)
        first = want[0]
        tables = self._tables
        for name, raw in self._idx.items():
            table = tables.get(name)
            if table is not None:
                mid = table.get(want)
                if mid is None:
                    continue
                n = int.from_bytes(raw[1028:1032])
                at = 1032 + 24 * n + 4 * mid
                return name, int.from_bytes(raw[at : at + 4])
            lo = int.from_bytes(raw[4 + 4 * first : 8 + 4 * first]) if first else 0
            hi = int.from_bytes(raw[8 + 4 * first : 12 + 4 * first])
            while lo < hi:
                mid = (lo + hi) // 2
                got = raw[1032 + 20 * mid : 1052 + 20 * mid]
                if got < want:
                    lo = mid + 1
                elif got > want:
                    hi = mid
                else:
                    n = int.from_bytes(raw[1028:1032])
                    at = 1032 + 24 * n + 4 * mid
                    return name, int.from_bytes(raw[at : at + 4])
        return None

    @staticmethod
    def ids_with_prefix(raw: bytes, prefix: str) -> list[str]:
        """The ids in one pack's index ``raw`` (a value of :meth:`snapshot`) that start
        with the hex ``prefix`` (2 digits or more; shorter: every id, filtered)."""
        if len(prefix) >= 2:
            first = int(prefix[:2], 16)
            # the fan-out table: entries starting with byte b are [fanout[b-1], fanout[b])
            lo = int.from_bytes(raw[4 + 4 * first : 8 + 4 * first]) if first else 0
            hi = int.from_bytes(raw[8 + 4 * first : 12 + 4 * first])
        else:
            lo, hi = 0, int.from_bytes(raw[1028:1032])
        out = []
        for i in range(lo, hi):
            sha = raw[1032 + 20 * i : 1052 + 20 * i].hex()
            if sha.startswith(prefix):
                out.append(sha)
        return out

    @staticmethod
    def entries(raw: bytes) -> list[tuple[str, int]]:
        """``(id, offset)`` of every object of one pack, from its index ``raw`` (a
        value of :meth:`snapshot`)."""
        return [(sha, off) for sha, _crc, off in PackIndexes.entries_crc(raw)]

    @staticmethod
    def entries_crc(raw: bytes) -> list[tuple[str, int, int]]:
        """``(id, CRC-32 of the entry, offset)`` of every object of one pack."""
        n = int.from_bytes(raw[1028:1032])
        crcs = struct.unpack(f">{n}I", raw[1032 + 20 * n : 1032 + 24 * n])
        offsets = struct.unpack(f">{n}I", raw[1032 + 24 * n : 1032 + 28 * n])
        return [(raw[1032 + 20 * i : 1052 + 20 * i].hex(), crcs[i], offsets[i]) for i in range(n)]

    def raw_entries(self, name: str, index: bytes) -> list[tuple[str, int, bytes]] | None:
        """Every entry of pack ``name`` (``index``: its ``.idx`` bytes) as ``(id,
        CRC-32, entry bytes)``, each checked against its CRC, ready for
        :func:`write_pack_entries`; None when the pack is gone or holds a delta or a
        damaged entry (then read it object by object)."""
        listed = sorted(self.entries_crc(index), key=lambda e: e[2])
        try:
            with open(self.pack_dir / (name + ".pack"), "rb") as f:
                data = f.read()
        except FileNotFoundError:
            return None
        out = []
        for i, (sha, crc, off) in enumerate(listed):
            end = listed[i + 1][2] if i + 1 < len(listed) else len(data) - 20
            entry = data[off:end]
            if off & 0x80000000 or not entry or (entry[0] >> 4) & 7 not in (1, 2, 3, 4):
                return None  # large offsets or a delta: not one of mlvc's packs
            if zlib.crc32(entry) & 0xFFFFFFFF != crc:
                return None
            out.append((sha, crc, entry))
        return out
