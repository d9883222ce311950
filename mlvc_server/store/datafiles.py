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

Writing back (:func:`restore_file`) streams one chunk at a time (at most
:data:`MAX_CHUNK` bytes of buffer) into a temporary file next to the target, checks the
BLAKE3 of what it wrote against the commit's record, and renames it into place.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import queue
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from blake3 import blake3

from ..errors import CorruptObjectError, MlvcError
from ..serializers.base import Payload, Segment
from . import payloads

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
) -> CapturedFile:
    """Store the content of the file at ``path`` as content-defined chunks.

    A file whose BLAKE3 ``digest`` was captured before (and whose parts are all still
    here) is not read again.

    Args:
        store: the store.
        path: the file.
        digest: its ``"blake3:<hex>"`` as the commit records it (from the data hasher).
        same: whether a ``stat`` of the file still describes the file that was hashed
            (size and modification time); checked before and after reading, so content
            and hash cannot disagree.

    Returns:
        What was stored: the manifest blob's id, the part ids, the size, the number of
        chunks and the bytes newly written.

    Raises:
        MlvcError: the file cannot be read, or changed while it was captured.
    """
    key = f"c{digest}"
    hit = store.hash_cache.get(key)
    if hit and len(hit) == 1 and store.has_object(hit[0]):
        manifest = store.read_json(hit[0])
        parts = [p for seg in manifest["segments"] for p in seg["parts"]]
        if all(store.has_object(p) for p in parts):
            return CapturedFile(hit[0], parts, int(manifest["size"]), len(parts), 0)
    p = os.fspath(path)
    try:
        with open(p, "rb") as f:
            st = os.fstat(f.fileno())
            size = st.st_size
            if not same(st):
                raise MlvcError(f"data file {p} changed while its content was being captured")
            if size == 0:
                wp = _write(store, [Segment("", b"", 0)], 0)
            else:
                with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
                    view = memoryview(mm)
                    try:
                        segments = [Segment("", view[o : o + n], n) for o, n in cut(view)]
                        wp = _write(store, segments, size)
                        del segments
                    finally:
                        view.release()
            after = os.stat(p)
    except OSError as exc:
        raise MlvcError(f"cannot read data file {p}: {exc}") from exc
    if (after.st_size, after.st_mtime_ns, after.st_ino) != (st.st_size, st.st_mtime_ns, st.st_ino):
        raise MlvcError(f"data file {p} changed while its content was being captured")
    manifest_id = store.add_bytes(payloads.manifest_bytes(wp.manifest))
    store.hash_cache.put(key, (manifest_id,))
    return CapturedFile(manifest_id, wp.part_ids, size, len(wp.part_ids), wp.bytes_written)


def _write(store: Store, segments: list[Segment], size: int) -> payloads.WrittenPayload:
    payload = Payload(FORMAT, segments, meta={"size": size}, extension="")
    return payloads.write_payload(store, payload)


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


def restore_file(
    store: Store, manifest_id: str, dest: str | os.PathLike[str], digest: str, name: str = ""
) -> int:
    """Write the stored file ``manifest_id`` to ``dest`` atomically.

    The bytes go to a temporary file in ``dest``'s folder, chunk by chunk; their BLAKE3
    must equal ``digest``; then the file is flushed to disk and renamed over ``dest``. On
    any failure ``dest`` is left as it was.

    Args:
        store: the store.
        manifest_id: the content manifest.
        dest: where the file goes (its folder is created).
        digest: the ``"blake3:<hex>"`` the commit recorded.
        name: the file's path, for messages.

    Returns:
        The number of bytes written.

    Raises:
        CorruptObjectError: a chunk is damaged or the result does not match ``digest``.
        PayloadMissingError: a chunk was pruned and no payload remote has it.
    """
    target = os.fspath(dest)
    folder = os.path.dirname(os.path.abspath(target))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".mlvc-data.", suffix=".tmp", dir=folder)
    hasher = blake3()
    total = 0
    try:
        with os.fdopen(fd, "wb", buffering=0) as f:
            for view in stream(store, manifest_id, name):
                hasher.update(view)
                f.write(view)
                total += len(view)
            os.fsync(f.fileno())
        if "blake3:" + hasher.hexdigest() != digest:
            raise CorruptObjectError(
                f"the stored content of {name or target} does not match the hash its commit "
                "recorded"
            )
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
