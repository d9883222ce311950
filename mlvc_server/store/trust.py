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


def config_dir() -> Path:
    """Where mlvc keeps per-user files (``MLVC_CONFIG_DIR`` overrides)."""
    env = os.environ.get("MLVC_CONFIG_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "mlvc"


def _key() -> bytes:
    path = config_dir() / "signing.key"
    try:
        return bytes.fromhex(path.read_text().strip())
    except (FileNotFoundError, ValueError):
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    fd = os.open(path.with_suffix(".tmp"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key.hex())
    # first writer wins, so that two processes never disagree on the key
    with contextlib.suppress(FileExistsError):
        os.link(path.with_suffix(".tmp"), path)
    os.unlink(path.with_suffix(".tmp"))
    return bytes.fromhex(path.read_text().strip())


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
