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
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import xxhash

from ..errors import CorruptObjectError, PayloadMissingError
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


def tree_entries(manifest_id: str) -> dict[str, str]:
    """The entries of a variable's tree in a commit: its manifest only (the parts are
    kept by the payload index, :mod:`.keep`)."""
    return {MANIFEST: manifest_id}


def _exists(store: Store, sha: str) -> bool:
    """Whether an object exists, freshening it (so a concurrent gc keeps it)."""
    return objects.freshen(store.objects_dir, sha) or store.has_object(sha)


@dataclass
class WrittenPayload:
    """What writing a payload produced."""

    manifest: dict[str, Any]
    #: The blob id of every part, in order.
    part_ids: list[str]
    bytes_written: int


def _chunk_key(view: memoryview) -> str:
    return f"x{xxhash.xxh3_128_hexdigest(view)}.{len(view)}"


def _write_view(store: Store, view: memoryview) -> tuple[str, str, int]:
    """Store one chunk held in memory. Returns (blob id, xxh3, bytes newly written)."""
    n = len(view)
    xxh = xxhash.xxh3_128_hexdigest(view)
    key = f"x{xxh}.{n}" if n > SMALL else ""
    if key:
        hit = store.hash_cache.get(key)
        if hit and len(hit) == 1 and _exists(store, hit[0]):
            return hit[0], xxh, 0
    sha = objects.blob_sha([view], n)
    written = 0
    if not _exists(store, sha):
        if n <= store_mod.PACK_OBJECT_MAX:  # into the commit's pack with the small objects
            store.add_blob(view, sha)
        else:
            objects.write_stored_blob(store.objects_dir, [view], n, sha, fsync=store.fsync)
        written = n
    if key:
        store.hash_cache.put(key, (sha,))
    return sha, xxh, written


def _stream_blobs(store: Store, seg: Segment) -> tuple[list[str], list[str], int]:
    """Store a segment that only streams its bytes (e.g. from a GPU), chunk by chunk."""
    ids: list[str] = []
    hashes: list[str] = []
    source = seg.chunks(CHUNK_SIZE)
    pending: memoryview | None = None
    remaining = seg.size
    written = 0
    while remaining > 0:
        size = min(CHUNK_SIZE, remaining)

        hasher = xxhash.xxh3_128()

        def pieces(size: int = size, hasher: Any = hasher) -> Iterator[memoryview]:
            nonlocal pending
            need = size
            while need > 0:
                if pending is None:
                    pending = next(source)
                take = pending[:need]
                pending = pending[need:] if len(pending) > need else None
                need -= len(take)
                hasher.update(take)
                yield take

        sha = objects.write_stored_blob(store.objects_dir, pieces(), size, fsync=store.fsync)
        ids.append(sha)
        hashes.append(hasher.hexdigest())
        written += size
        remaining -= size
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
            key = f"f{seg.fingerprint}.{seg.size}"
            hit = store.hash_cache.get(key)
            k = len(hit) // 2 if hit else 0
            if hit and len(hit) % 2 == 0 and all(_exists(store, i) for i in hit[:k]):
                ids, hashes = list(hit[:k]), list(hit[k:])
            else:
                ids, hashes, w = _stream_blobs(store, seg)
                written += w
                store.hash_cache.put(key, (*ids, *hashes))
        elif seg.data is None:
            ids, hashes, w = _stream_blobs(store, seg)
            written += w
        else:
            ids, hashes = [], []
            for view in seg.chunks(CHUNK_SIZE):
                sha, xxh, w = _write_view(store, view)
                ids.append(sha)
                hashes.append(xxh)
                written += w
            if seg.size == 0:
                sha, xxh, _ = _write_view(store, memoryview(b""))
                ids.append(sha)
                hashes.append(xxh)
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


def needs_trust(fmt: str, meta: dict[str, Any]) -> bool:
    """Whether loading this payload executes code (pickle), wholly or in part."""
    from ..serializers import get as get_serializer

    return bool(get_serializer(fmt).unsafe or meta.get("unsafe"))


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

    @property
    def segment_names(self) -> list[str]:
        return [s["name"] for s in self._segments]

    def segment_size(self, index: int) -> int:
        return int(self._segments[index]["size"])

    def _part_sizes(self, seg: dict[str, Any]) -> Iterator[tuple[str, int, str | None]]:
        size = int(seg["size"])
        chunk = int(self.manifest.get("chunk_size", CHUNK_SIZE))
        hashes = seg.get("xxh3") or [None] * len(seg["parts"])
        for i, sha in enumerate(seg["parts"]):
            yield sha, (min(chunk, size - i * chunk) if size else 0), hashes[i]

    def readinto_segment(self, index: int, buffer: Any) -> None:
        out = memoryview(buffer).cast("B")
        seg = self._segments[index]
        if len(out) != int(seg["size"]):
            raise ValueError("buffer size does not match the segment")
        pos = 0
        for sha, n, xxh in self._part_sizes(seg):
            try:
                try:
                    self._store.read_blob_into(sha, out[pos : pos + n], xxh)
                except KeyError:
                    self._fetch(sha, n, xxh, seg["name"])
                    self._store.read_blob_into(sha, out[pos : pos + n], xxh)
            except KeyError:
                raise self._missing(sha, seg["name"], []) from None
            except PayloadMissingError:
                raise
            except CorruptObjectError as e:
                raise CorruptObjectError(
                    f"variable {self.name!r}: part {sha} of segment {seg['name']!r} is damaged: {e}"
                ) from None
            pos += n

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
