"""Payload parts in object storage (fsspec: S3, GCS, Azure, a shared folder).

A payload remote holds one object per part, under ``<url>/parts/<2 hex>/<38 hex>``: the
part's raw bytes (not a git object), named by its git blob id. So any tool can read
them, and a part is uploaded once whatever the number of commits, branches or clones
that use it.

- **Upload** (on push) lists what the remote has, then uploads only the parts missing
  from it (or present with the wrong size, e.g. cut by an earlier interruption on a
  store that is not atomic). Each part is read back from the local store verified
  against its xxh3 first, so damaged bytes are never uploaded. A re-run after an
  interruption uploads only what is still missing.
- **Download** (lazily, when a restore needs a part that is not here) checks size,
  xxh3 and the SHA-1 of the blob before the part is stored as a loose object.

Object stores make a ``PUT`` visible only once complete; on a plain folder (``file://``)
each part is written to a temporary name and renamed into place.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import xxhash

from ..errors import CorruptObjectError, PayloadRemoteError
from . import objects
from .remotes import redact_url
from .repo import Store

#: Upload in batches of about this many bytes (object stores run a batch concurrently;
#: a batch is what an upload holds in memory).
BATCH_BYTES = 32 << 20

Progress = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class Part:
    """A payload part: its blob id, size and (when recorded) xxh3."""

    sha: str
    size: int
    xxh3: str | None = None


class PayloadRemote:
    """A payload remote at an fsspec URL."""

    def __init__(self, url: str, options: dict[str, Any] | None = None) -> None:
        try:
            import fsspec
        except ImportError:  # pragma: no cover - fsspec is a dependency
            raise PayloadRemoteError("payload remotes need fsspec (pip install fsspec)") from None
        self.url = url
        #: the URL as messages show it (no password, no query values)
        self.shown = redact_url(url)
        try:
            self.fs, root = fsspec.core.url_to_fs(url, **(options or {}))
        except (ImportError, ValueError) as e:
            raise PayloadRemoteError(f"cannot open payload remote {self.shown!r}: {e}") from e
        self.root = root.rstrip("/")
        protocol = self.fs.protocol
        self.local = "file" in (protocol if isinstance(protocol, tuple) else (protocol,))

    def key(self, sha: str) -> str:
        """Where part ``sha`` lives on the remote."""
        return f"{self.root}/parts/{sha[:2]}/{sha[2:]}"

    def listing(self) -> dict[str, int]:
        """Every part on the remote: blob id -> size."""
        base = f"{self.root}/parts"
        try:
            self.fs.invalidate_cache(base)  # a listing cached by fsspec may be stale
            found = self.fs.find(base, detail=True)
        except FileNotFoundError:
            return {}
        except Exception as e:
            raise PayloadRemoteError(f"cannot list payload remote {self.shown}: {e}") from e
        out: dict[str, int] = {}
        for path, info in found.items():
            rel = path.rstrip("/").split("/")
            if len(rel) >= 2 and len(rel[-2]) == 2 and len(rel[-1]) == 38:
                out[rel[-2] + rel[-1]] = int(info.get("size") or 0)
        return out

    def _put(self, batch: dict[str, bytes | bytearray]) -> None:
        if self.local:
            for path, data in batch.items():
                os.makedirs(os.path.dirname(path), exist_ok=True)
                tmp = f"{path}.tmp-{uuid.uuid4().hex}"
                with open(tmp, "wb") as f:
                    f.write(data)
                os.replace(tmp, path)
            return
        try:
            self.fs.pipe(batch)
        except Exception as e:
            raise PayloadRemoteError(f"upload to {self.shown} failed: {e}") from e

    def upload(
        self, store: Store, parts: Iterable[Part], progress: Progress | None = None
    ) -> dict[str, int]:
        """Upload the parts the remote lacks.

        Returns:
            ``parts`` (how many were asked for), ``uploaded``, ``bytes`` uploaded,
            ``present`` (already there).

        Raises:
            PayloadRemoteError: the remote failed; CorruptObjectError: a local part is
            damaged or missing (nothing damaged is uploaded).
        """
        wanted = {p.sha: p for p in parts}
        have = self.listing()
        todo = [p for p in wanted.values() if have.get(p.sha) != p.size]
        total = sum(p.size for p in todo)
        done = 0
        batch: dict[str, bytes | bytearray] = {}
        batch_bytes = 0
        for p in todo:
            buf = bytearray(p.size)
            try:
                store.read_blob_into(p.sha, memoryview(buf), p.xxh3)
            except KeyError:
                raise CorruptObjectError(
                    f"part {p.sha} is not in this store (pruned?): it cannot be uploaded"
                ) from None
            batch[self.key(p.sha)] = buf
            batch_bytes += p.size
            if batch_bytes >= BATCH_BYTES:
                self._put(batch)
                done += batch_bytes
                batch, batch_bytes = {}, 0
                if progress:
                    progress({"phase": "uploading payloads", "done": done, "total": total})
        if batch:
            self._put(batch)
            done += batch_bytes
        if progress:
            progress({"phase": "uploading payloads", "done": done, "total": total})
        if todo:
            after = self.listing()
            bad = [p.sha for p in todo if after.get(p.sha) != p.size]
            if bad:
                raise PayloadRemoteError(
                    f"{len(bad)} part(s) did not arrive whole on {self.shown} (e.g. {bad[0]}); "
                    "push again to upload them"
                )
        return {
            "parts": len(wanted),
            "uploaded": len(todo),
            "bytes": done,
            "present": len(wanted) - len(todo),
        }

    def download(self, store: Store, part: Part) -> bool:
        """Fetch one part into the store, verified. False when the remote lacks it.

        Raises:
            CorruptObjectError: the remote's copy is damaged (wrong size or hash).
            PayloadRemoteError: the remote failed.
        """
        try:
            data = self.fs.cat_file(self.key(part.sha))
        except FileNotFoundError:
            return False
        except Exception as e:
            raise PayloadRemoteError(f"cannot read {part.sha} from {self.shown}: {e}") from e
        if len(data) != part.size:
            raise CorruptObjectError(
                f"part {part.sha} on {self.shown} has {len(data)} bytes, expected {part.size}"
            )
        if part.xxh3 is not None and xxhash.xxh3_128_hexdigest(data) != part.xxh3:
            raise CorruptObjectError(f"part {part.sha} on {self.shown} is damaged (xxh3 differs)")
        if objects.blob_sha([data], len(data)) != part.sha:
            raise CorruptObjectError(f"part {part.sha} on {self.shown} is damaged (SHA-1 differs)")
        objects.write_stored_blob(store.objects_dir, [data], len(data), part.sha, fsync=store.fsync)
        return True


def configured(store: Store) -> list[PayloadRemote]:
    """The payload remotes of every configured remote (origin first)."""
    from .remotes import list_remotes

    out = []
    for r in sorted(list_remotes(store), key=lambda r: (r.name != "origin", r.name)):
        if r.payloads:
            out.append(PayloadRemote(r.payloads, r.payload_options))
    return out


def fetch_part(store: Store, part: Part) -> str | None:
    """Fetch a missing part from the first payload remote that has it.

    Returns:
        The URL of the payload remote it came from, or None when none has it (or none
        is configured).
    """
    for remote in configured(store):
        if remote.download(store, part):
            return remote.url
    return None
