"""Remotes of a store: named git URLs, each optionally with a payload remote.

They live in the store's git config (``.mlvc/config``), so plain ``git --git-dir .mlvc
push origin`` knows them too::

    [remote "origin"]
        url = git@example.org:team/experiments.git
        fetch = +refs/heads/*:refs/remotes/origin/*
        mlvcPayloads = s3://team-bucket/mlvc
        mlvcPayloadOptions = {"endpoint_url": "https://minio.example.org"}

``mlvcPayloads`` is an fsspec URL (``s3://``, ``gs://``, ``az://``, ``file://`` or a
plain folder) where the payload parts of commits pushed to this remote are kept;
``mlvcPayloadOptions`` are fsspec storage options (JSON). Credentials belong in the
usual places (``AWS_*`` variables, ``~/.aws``, ``GOOGLE_APPLICATION_CREDENTIALS``,
``AZURE_STORAGE_*``, fsspec's own config files under ``~/.config/fsspec/`` or
``FSSPEC_<PROTOCOL>_<OPTION>`` variables; for git, ssh keys or a git credential helper),
never here: :func:`add_remote` refuses URLs with a password or query-string values and
storage options named like credentials, so that they never enter the store nor get
published to the remote. URLs are shown through :func:`redact_url` wherever they are
printed (``remote list``, push and pull reports, error messages).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ..errors import InvalidNameError, MlvcError, RemoteNotFoundError
from .repo import Store

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")

__all__ = ["Remote", "RemoteNotFoundError", "add_remote", "get_remote", "list_remotes"]


@dataclass
class Remote:
    """A configured remote."""

    name: str
    url: str
    payloads: str | None = None
    payload_options: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """The remote as the CLI (``--json``) and the REST API show it (options are
        listed by name only: they may hold secrets)."""
        return {
            "name": self.name,
            "url": redact_url(self.url),
            "payloads": redact_url(self.payloads) if self.payloads else None,
            "payload_options": sorted(self.payload_options),
        }


#: Storage option names that hold credentials (refused in ``mlvcPayloadOptions``).
_SECRET_OPTION = re.compile(
    r"(secret|passw|token|credential|(^|_)key$|account_key|sas|signature|session|auth)",
    re.IGNORECASE,
)


def redact_url(url: str) -> str:
    """``url`` with any password and every query-string value replaced by ``***`` (user
    names and hosts are kept). Non-URL strings (paths, scp-like ``host:path``) come back
    unchanged."""
    if not isinstance(url, str) or "://" not in url:
        return url
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if "@" in netloc:
            userinfo, host = netloc.rsplit("@", 1)
            user = userinfo.split(":", 1)[0]
            netloc = f"{user}:***@{host}" if ":" in userinfo else f"{user}@{host}"
        query = "&".join(
            (q.split("=", 1)[0] + "=***") if "=" in q else "***"
            for q in parts.query.split("&")
            if q
        )
        return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
    except ValueError:
        return "<a URL that cannot be parsed>"


def url_credentials(url: str) -> str | None:
    """What credentials ``url`` carries ("a password", "a query string"), or None."""
    if not isinstance(url, str) or "://" not in url:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if "@" in parts.netloc and ":" in parts.netloc.rsplit("@", 1)[0]:
        return "a password"
    if parts.query and parts.scheme not in ("file",):
        return "a query string (tokens, signatures)"
    return None


def _refuse_credentials(what: str, url: str) -> None:
    found = url_credentials(url)
    if found:
        raise InvalidNameError(
            f"the {what} {redact_url(url)!r} holds {found}: credentials may not be stored "
            "in the store's config (they would be printed, and a payload URL is published "
            "to the git remote). Use the storage's own credential mechanisms instead: "
            "environment variables (AWS_*, AZURE_STORAGE_*, GOOGLE_APPLICATION_CREDENTIALS), "
            "~/.aws or fsspec's config (~/.config/fsspec, FSSPEC_* variables); for git, an "
            "ssh key or a credential helper"
        )


def validate_remote_name(name: str) -> str:
    """Check a remote name (letters, digits, ``. _ -``; at most 64 characters)."""
    if not isinstance(name, str) or not _NAME_RE.match(name) or name.endswith(".lock"):
        raise InvalidNameError(
            f"invalid remote name {name!r}: use letters, digits, '.', '_' and '-' "
            "(starting with a letter or digit, at most 64 characters)"
        )
    return name


def _section(name: str) -> tuple[bytes, bytes]:
    return (b"remote", name.encode())


def list_remotes(store: Store) -> list[Remote]:
    """Every configured remote, by name."""
    cfg = store.repo.get_config()
    out = []
    for section in cfg.sections():
        if len(section) != 2 or section[0] != b"remote":
            continue
        name = section[1].decode()
        try:
            url = cfg.get(section, b"url").decode()
        except KeyError:
            continue
        out.append(_remote(cfg, name, url))
    return sorted(out, key=lambda r: r.name)


def _remote(cfg: Any, name: str, url: str) -> Remote:
    section = _section(name)
    try:
        payloads: str | None = cfg.get(section, b"mlvcPayloads").decode()
    except KeyError:
        payloads = None
    try:
        options = json.loads(cfg.get(section, b"mlvcPayloadOptions").decode())
    except (KeyError, ValueError):
        options = {}
    return Remote(name, url, payloads or None, options if isinstance(options, dict) else {})


def get_remote(store: Store, name: str) -> Remote:
    """The remote ``name``.

    Raises:
        RemoteNotFoundError: none of that name.
    """
    for r in list_remotes(store):
        if r.name == name:
            return r
    known = ", ".join(r.name for r in list_remotes(store)) or "none"
    raise RemoteNotFoundError(
        f"no remote named {name!r} (configured: {known}); add one with `mlvc remote add NAME URL`"
    )


def default_remote(store: Store) -> Remote:
    """``origin`` if configured, else the only remote.

    Raises:
        RemoteNotFoundError: none configured, or several and none is ``origin``.
    """
    remotes = list_remotes(store)
    for r in remotes:
        if r.name == "origin":
            return r
    if len(remotes) == 1:
        return remotes[0]
    if not remotes:
        raise RemoteNotFoundError(
            "this store has no remote: add one with `mlvc remote add origin URL`"
        )
    raise RemoteNotFoundError(
        "several remotes and none is named origin: say which ("
        + ", ".join(r.name for r in remotes)
        + ")"
    )


def add_remote(
    store: Store,
    name: str,
    url: str,
    *,
    payloads: str | None = None,
    payload_options: dict[str, Any] | None = None,
    replace: bool = False,
) -> Remote:
    """Configure a remote (``replace`` to change an existing one).

    Raises:
        InvalidNameError: a bad name or an empty URL.
        RemoteNotFoundError: never; MlvcError if it exists and ``replace`` is False.
    """
    validate_remote_name(name)
    if not url or any(c in url for c in "\n\r\x00"):
        raise InvalidNameError(f"invalid URL {url!r} for remote {name!r}")
    if payloads is not None and (not payloads or any(c in payloads for c in "\n\r\x00")):
        raise InvalidNameError(f"invalid payload URL {redact_url(payloads)!r}")
    _refuse_credentials("URL", url)
    if payloads:
        _refuse_credentials("payload URL", payloads)
    secret = sorted(k for k in payload_options or {} if _SECRET_OPTION.search(str(k)))
    if secret:
        raise InvalidNameError(
            f"payload options {secret} look like credentials: they may not be stored in "
            "the store's config. Give them through the storage's own mechanisms "
            "(environment variables, ~/.aws, fsspec's config: ~/.config/fsspec or "
            "FSSPEC_<PROTOCOL>_<OPTION> variables)"
        )
    cfg = store.repo.get_config()
    section = _section(name)
    if cfg.has_section(section) and not replace:
        raise MlvcError(
            f"remote {name!r} exists already (remove it first, or use --replace to change it)"
        )
    if cfg.has_section(section):
        del cfg[section]
    cfg.set(section, b"url", url.encode())
    cfg.set(section, b"fetch", f"+refs/heads/*:refs/remotes/{name}/*".encode())
    if payloads:
        cfg.set(section, b"mlvcPayloads", payloads.encode())
    if payload_options:
        cfg.set(section, b"mlvcPayloadOptions", json.dumps(payload_options).encode())
    cfg.write_to_path()
    return get_remote(store, name)


def offer_payloads(store: Store, name: str, payloads: str) -> None:
    """Remember the payload URL that remote ``name`` publishes, without adopting it
    (:func:`offered_payloads`; ``sync.accept_published_payloads`` adopts it). A URL with
    credentials is remembered without them."""
    cfg = store.repo.get_config()
    section = _section(name)
    value = redact_url(payloads).encode()
    try:
        if cfg.get(section, b"mlvcPublishedPayloads") == value:
            return
    except KeyError:
        pass
    cfg.set(section, b"mlvcPublishedPayloads", value)
    cfg.write_to_path()


def offered_payloads(store: Store, name: str) -> str | None:
    """The payload URL remote ``name`` published at the last pull that was not adopted."""
    cfg = store.repo.get_config()
    try:
        value = cfg.get(_section(name), b"mlvcPublishedPayloads").decode()
    except KeyError:
        return None
    r = get_remote(store, name)
    return value if value and value != r.payloads else None


def set_payloads(
    store: Store, name: str, payloads: str, payload_options: dict[str, Any] | None = None
) -> Remote:
    """Set (or change) the payload remote of the remote ``name``."""
    r = get_remote(store, name)
    return add_remote(
        store,
        name,
        r.url,
        payloads=payloads,
        payload_options=payload_options if payload_options is not None else r.payload_options,
        replace=True,
    )


def remove_remote(store: Store, name: str) -> None:
    """Forget the remote ``name`` and its remote-tracking refs.

    Raises:
        RemoteNotFoundError: none of that name.
    """
    get_remote(store, name)
    cfg = store.repo.get_config()
    del cfg[_section(name)]
    cfg.write_to_path()
    prefix = f"refs/remotes/{name}/".encode()
    for ref, sha in store.refs_under(prefix).items():
        store.cas_ref(ref, sha, None, message=f"mlvc remote remove {name}")
