"""Signatures on payloads whose loading executes code (pickle).

Each user has a secret key outside every store (``$MLVC_CONFIG_DIR/signing.key``,
default ``~/.config/mlvc/signing.key``, mode 0600). A pickle payload written by this user
carries an HMAC-SHA256 over its format, meta and the ids of its parts (git ids are
SHA-1 of the content, so the HMAC covers every byte). Restore loads a pickle payload
only when its signature checks out with this user's key, or when the caller says
``trust=True``. A planted or foreign pickle therefore needs an explicit decision.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import secrets
from pathlib import Path
from typing import Any

from ..errors import TrustError


def config_dir() -> Path:
    """Where mlvc keeps per-user files (``MLVC_CONFIG_DIR`` overrides)."""
    env = os.environ.get("MLVC_CONFIG_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "mlvc"


#: Length of a signing key, in bytes.
_KEY_BYTES = 32


def _read_key(path: Path) -> bytes | None:
    """The key in ``path``; None when there is no such file.

    Raises:
        TrustError: the file exists but does not hold a key.
    """
    try:
        key = bytes.fromhex(path.read_text().strip())
    except FileNotFoundError:
        return None
    except (ValueError, UnicodeDecodeError):
        key = b""
    if len(key) != _KEY_BYTES:
        raise TrustError(
            f"the signing key {str(path)!r} is damaged. Remove it and a new one is made; "
            "pickled variables signed with the old key will then need trust=True"
        )
    return key


def _key() -> bytes:
    path = config_dir() / "signing.key"
    key = _read_key(path)
    if key is not None:
        return key
    path.parent.mkdir(parents=True, exist_ok=True)
    # a temporary file of our own, complete before it is linked into place: processes
    # starting at once never read a half-written key, and the first link wins, so that
    # they never disagree on the key
    tmp = path.with_name(f".signing.key.{os.getpid()}.{secrets.token_hex(8)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_bytes(_KEY_BYTES).hex())
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    key = _read_key(path)
    if key is None:  # linked above, by us or by another process, then removed
        raise TrustError(f"the signing key {str(path)!r} vanished while it was being made")
    return key


def _message(fmt: str, meta: dict[str, Any], part_ids: list[str]) -> bytes:
    return json.dumps([fmt, meta, part_ids], sort_keys=True, separators=(",", ":")).encode()


def sign(fmt: str, meta: dict[str, Any], part_ids: list[str]) -> str:
    """Signature of a payload by this user."""
    mac = hmac.new(_key(), _message(fmt, meta, part_ids), hashlib.sha256).hexdigest()
    return f"hmac-sha256:{mac}"


def verify(signature: str | None, fmt: str, meta: dict[str, Any], part_ids: list[str]) -> bool:
    """Whether ``signature`` was made by this user for exactly this payload."""
    if not signature or not signature.startswith("hmac-sha256:"):
        return False
    return hmac.compare_digest(signature, sign(fmt, meta, part_ids))
