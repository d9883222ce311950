"""Fingerprint -> stored manifest: commit and status skip serializing unchanged values.

After a variable is written, :func:`record` notes its fingerprint
(:func:`mlvc_server.serializers.fingerprint.fingerprint`) with the id of the manifest
blob written for it. Later, :func:`lookup` returns that manifest when the fingerprint
comes again, after checking that the manifest and every part it names are still in the
store (``gc`` retention may have pruned them) and that the payload fits the commit's
rules (no pickle when ``allow_pickle`` is False, no bigger than ``max_bytes``). The
entries live in the store's fast-hash cache (:mod:`.hashcache`) as ``m<fingerprint> ->
manifest id``: shared by every process using the store, compacted by ``gc`` with it, and
only hints: a stale entry costs a serialization, never a wrong payload.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..serializers.base import Payload
from ..serializers.fingerprint import fingerprint
from . import payloads

if TYPE_CHECKING:
    from .repo import Store

#: Manifests already read, by id (immutable content).
_manifests: dict[str, dict[str, Any]] = {}
_MEMO_LIMIT = 10_000


@dataclass
class Reuse:
    """A stored payload equal to the value whose fingerprint was looked up."""

    manifest_id: str
    manifest: dict[str, Any]
    #: Every part id, in order (what the commit's payload index must keep).
    part_ids: list[str]

    @property
    def format(self) -> str:
        return str(self.manifest["format"])

    @property
    def meta(self) -> dict[str, Any]:
        meta: dict[str, Any] = self.manifest.get("meta", {})
        return meta

    @property
    def size(self) -> int:
        return int(self.manifest.get("size", 0))


def _key(fp: str) -> str:
    return "m" + fp


def _manifest(store: Store, manifest_id: str) -> dict[str, Any] | None:
    found = _manifests.get(manifest_id)
    if found is not None:
        return found
    try:
        manifest = store.read_json(manifest_id)
    except Exception:  # pruned, or not a manifest: the entry is stale
        return None
    if not isinstance(manifest, dict) or "segments" not in manifest:
        return None
    _remember(manifest_id, manifest)
    return manifest


def _remember(manifest_id: str, manifest: dict[str, Any]) -> None:
    if len(_manifests) >= _MEMO_LIMIT:
        _manifests.clear()
    _manifests[manifest_id] = manifest


def lookup(
    store: Store,
    fp: str | None,
    *,
    allow_pickle: bool = True,
    max_bytes: int | None = None,
    check_parts: bool = True,
) -> Reuse | None:
    """The stored payload recorded for fingerprint ``fp``, if it can be reused.

    Args:
        store: the store.
        fp: a fingerprint (None: no lookup, returns None).
        allow_pickle: when False, a payload that needs trust to load is not reused.
        max_bytes: a payload bigger than this is not reused.
        check_parts: check (and freshen, against a concurrent gc) every part; a commit
            must, a status need not.

    Returns:
        The manifest id, manifest and part ids, or None (serialize as usual).
    """
    if not fp:
        return None
    hit = store.hash_cache.get(_key(fp))
    if not hit or len(hit) != 1:
        return None
    manifest = _manifest(store, hit[0])
    if manifest is None:
        return None
    meta = manifest.get("meta", {})
    if not allow_pickle and payloads.needs_trust(str(manifest.get("format")), meta):
        return None
    if max_bytes is not None and int(manifest.get("size", 0)) > max_bytes:
        return None
    part_ids = [p for seg in manifest["segments"] for p in seg["parts"]]
    if check_parts:
        if not payloads.exists(store, hit[0]):
            return None
        if not all(payloads.exists(store, p) for p in set(part_ids)):
            return None
    return Reuse(hit[0], manifest, part_ids)


def record(store: Store, fp: str | None, manifest_id: str) -> None:
    """Note that the value of fingerprint ``fp`` is stored as manifest ``manifest_id``.

    Args:
        store: the store.
        fp: the value's fingerprint, computed before it was serialized (None: nothing).
        manifest_id: the blob id of the manifest written for it.
    """
    if fp:
        store.hash_cache.put(_key(fp), (manifest_id,))


@dataclass
class StoredValue:
    """What :func:`write_value` did for one variable."""

    manifest_id: str
    manifest: dict[str, Any]
    part_ids: list[str]
    bytes_written: int
    #: True when the fingerprint matched a stored payload and nothing was serialized.
    reused: bool
    fingerprint: str | None

    @property
    def format(self) -> str:
        return str(self.manifest["format"])

    @property
    def meta(self) -> dict[str, Any]:
        meta: dict[str, Any] = self.manifest.get("meta", {})
        return meta

    @property
    def size(self) -> int:
        return int(self.manifest.get("size", 0))


def write_value(
    store: Store,
    value: Any,
    serialize: Callable[[], Payload],
    *,
    allow_pickle: bool = True,
    max_bytes: int | None = None,
) -> StoredValue:
    """Store one variable, reusing the stored payload of an unchanged value.

    Fingerprints ``value``; on a hit (:func:`lookup`) returns the stored manifest without
    calling ``serialize``; otherwise calls it, writes the payload and its manifest, and
    records the fingerprint.

    Args:
        store: the store.
        value: the variable's value.
        serialize: makes the payload (e.g. ``serialize_within(value, seconds, ...)``);
            its exceptions propagate.
        allow_pickle: as for the commit (a pickled payload is not reused without it).
        max_bytes: as for the commit.

    Returns:
        The manifest id (the tree entry), manifest, part ids and bytes written.
    """
    fp = fingerprint(value)
    hit = lookup(store, fp, allow_pickle=allow_pickle, max_bytes=max_bytes)
    if hit is not None:
        return StoredValue(hit.manifest_id, hit.manifest, hit.part_ids, 0, True, fp)
    payload = serialize()
    wp = payloads.write_payload(store, payload)
    data = payloads.manifest_bytes(wp.manifest)
    manifest_id = store.add_bytes(data)
    record(store, fp, manifest_id)
    if fp:
        # the next commit looks this manifest up by its fingerprint: keep it parsed (as
        # read back from its bytes), rather than read it from the pack just written
        _remember(manifest_id, json.loads(data))
    return StoredValue(manifest_id, wp.manifest, wp.part_ids, wp.bytes_written, False, fp)


def unchanged(store: Store, value: Any, stored_parts: list[str] | None) -> bool | None:
    """For ``status``: whether ``value`` equals the stored payload with these parts.

    Args:
        store: the store.
        value: the variable's value now.
        stored_parts: the part ids of the variable in the commit compared with.

    Returns:
        True or False when the fingerprint is known to the store, None when it is not
        (serialize to find out, as before).
    """
    hit = lookup(store, fingerprint(value), check_parts=False)
    if hit is None:
        return None
    return hit.part_ids == stored_parts


__all__ = ["Reuse", "StoredValue", "lookup", "record", "unchanged", "write_value"]
