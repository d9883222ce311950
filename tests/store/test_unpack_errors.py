"""A fetched pack whose unpacking fails reports why, and the pack file is let go."""

from __future__ import annotations

import hashlib
import subprocess
import warnings
from pathlib import Path

import pytest

from mlvc_server.errors import CorruptObjectError
from mlvc_server.store import Store, packs


def git_pack(tmp_path: Path) -> Path:
    """A pack made by plain git, with zlib streams read straight from its mapping."""
    src = tmp_path / "src"
    subprocess.run(["git", "init", "-q", str(src)], check=True)
    for i in range(3):
        (src / f"f{i}.txt").write_text("\n".join(str(j * i) for j in range(4000)))
        subprocess.run(["git", "-C", str(src), "add", "."], check=True)
        subprocess.run(
            [
                "git",
                "-C",
                str(src),
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@t",
                "commit",
                "-qm",
                f"c{i}",
            ],
            check=True,
        )
    subprocess.run(["git", "-C", str(src), "repack", "-adq"], check=True)
    return next((src / ".git" / "objects" / "pack").glob("*.pack"))


def test_an_error_while_unpacking_is_raised_as_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure mid-pack (a full disk here) used to come out as "BufferError: cannot
    close exported pointers exist": the error's traceback held a view of the pack's
    mapping, and closing the mapping raised over it."""
    pack = git_pack(tmp_path)
    store = Store.init(tmp_path / "project")
    added = []

    def add(obj: object) -> None:
        added.append(obj)
        if len(added) == 4:
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(store, "add", add)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ResourceWarning)  # the pack file is closed too
        with pytest.raises(OSError, match="No space left"):
            packs.unpack_into(store, str(pack))
    store.close()


@pytest.mark.parametrize("checksum", ["stale", "recomputed"])
def test_a_damaged_pack_is_reported_as_damaged(tmp_path: Path, checksum: str) -> None:
    """Damage the trailing checksum catches, and damage behind a valid checksum (a
    stream that does not inflate: it was raised as a BufferError before)."""
    pack = git_pack(tmp_path)
    data = bytearray(pack.read_bytes())
    body = data[:-20]
    mid = len(body) // 2
    body[mid : mid + 2] = bytes(b ^ 0xFF for b in body[mid : mid + 2])
    trailer = hashlib.sha1(body).digest() if checksum == "recomputed" else data[-20:]
    bad = tmp_path / "bad.pack"
    bad.write_bytes(bytes(body + trailer))
    store = Store.init(tmp_path / "project")
    with warnings.catch_warnings():
        warnings.simplefilter("error", ResourceWarning)
        with pytest.raises(CorruptObjectError, match="received pack is damaged"):
            packs.unpack_into(store, str(bad))
    store.close()
