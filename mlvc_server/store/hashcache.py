"""The fast-hash cache: xxh3 (or an on-device fingerprint) of a chunk -> git blob ids.

Hashing every byte with xxh3 (~13-20 GB/s) is cheap; SHA-1 (~1.6 GB/s) and writing are
not. The cache lets an unchanged chunk cost only its xxh3: the key is the 128-bit xxh3
of the bytes plus their length, the value the blob id(s) already in the store. Entries
are hints, checked against the object store before use, so a stale cache can cost time
but never a wrong payload (short of a 128-bit xxh3 collision on the user's own data).

The file is append-only text (``key ids\\n``), shared by every process using the store;
a torn last line from a killed process is ignored.
"""

from __future__ import annotations

import os
from pathlib import Path


class HashCache:
    """Persistent map from content keys to blob ids (and, for fingerprints, xxh3s)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._map: dict[str, tuple[str, ...]] = {}
        self._offset = 0

    def _refresh(self) -> None:
        try:
            # a miss is most often a new value: a stat says whether anyone appended
            if os.stat(self.path).st_size == self._offset:
                return
            with open(self.path, "rb") as f:
                f.seek(self._offset)
                data = f.read()
        except FileNotFoundError:
            return
        end = data.rfind(b"\n") + 1
        for line in data[:end].split(b"\n"):
            parts = line.split(b" ")
            if len(parts) == 2 and parts[0] and parts[1]:
                ids = tuple(parts[1].decode("ascii", "replace").split(","))
                if all(len(i) in (32, 40) for i in ids):
                    self._map[parts[0].decode("ascii", "replace")] = ids
        self._offset += end

    def forget(self) -> None:
        """Drop what was read, so the next lookup reads the (rewritten) file again."""
        self._map.clear()
        self._offset = 0

    def get(self, key: str) -> tuple[str, ...] | None:
        """Blob ids recorded for ``key``, or None."""
        hit = self._map.get(key)
        if hit is None:
            self._refresh()
            hit = self._map.get(key)
        return hit

    def put(self, key: str, ids: tuple[str, ...]) -> None:
        """Record ``key`` -> ``ids`` (appended; concurrent writers are fine)."""
        if self._map.get(key) == ids:
            return
        self._map[key] = ids
        line = f"{key} {','.join(ids)}\n".encode("ascii")
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line)
            end = os.lseek(fd, 0, os.SEEK_CUR)
        finally:
            os.close(fd)
        if end == self._offset + len(line):  # nobody appended since we last read: read up
            self._offset = end
