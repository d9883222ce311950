"""The base class of the mlvc REST handlers, its settings, errors and input checks.

:class:`MlvcHandler` authenticates and authorizes each request (resource ``mlvc``),
confines notebook paths to the server's root folder, validates request bodies, runs the
blocking store work off the event loop, and is the one place that turns mlvc errors
into HTTP errors (:data:`ERROR_STATUS`).
"""

from __future__ import annotations

import asyncio
import errno
import functools
import json
import math
import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any, Final, ParamSpec, TypeVar
from urllib.parse import urlencode

from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join
from tornado import web

from ..errors import HTTP_STATUS, MlvcError, http_status

P = ParamSpec("P")
T = TypeVar("T")

#: HTTP status for each mlvc error class (the one table, in :mod:`mlvc_server.errors`).
ERROR_STATUS = HTTP_STATUS

#: The biggest request body accepted, in bytes.
MAX_BODY_BYTES: Final = 1 << 20
#: The longest commit message.
MAX_MESSAGE_CHARS: Final = 10_000
#: The most names in one list (variables, revisions).
MAX_NAMES: Final = 1_000
#: The longest name (variable, branch, tag, metric) or revision.
MAX_NAME_CHARS: Final = 256
#: The longest notebook path accepted.
MAX_PATH_CHARS: Final = 1_024
#: The longest file name most file systems allow, in bytes.
MAX_FILE_NAME_BYTES: Final = 255
#: The most entries in ``params`` or ``metrics``.
MAX_ENTRIES: Final = 1_000
#: How deeply lists and objects may nest in ``params`` or ``metrics``.
MAX_DEPTH: Final = 32


@dataclass(frozen=True)
class MlvcSettings:
    """What the handlers need to know from :class:`mlvc_server.app.MlvcApp`.

    Attributes:
        root_dir: The server's root folder, resolved; notebook paths are relative to it.
        store_root: The folder the store is looked for from (walking up), resolved; None
            to look from each notebook's own folder.
        max_variable_bytes: Skip variables bigger than this in commits the server
            starts (None: no limit).
        max_serialize_seconds: Skip variables whose serialization takes longer in
            commits the server starts (0: no limit).
        safety_commit: Whether checkout commits unsaved state first.
        kernel_timeout: Seconds to wait for a busy kernel to start the server's request.
        max_log_limit: The most commits one request lists.
        metric_names: The variable names kernel commits record as metrics (None: the
            kernel's own setting).
    """

    root_dir: Path
    store_root: Path | None = None
    max_variable_bytes: int | None = None
    max_serialize_seconds: float = 60.0
    safety_commit: bool = True
    kernel_timeout: float = 30.0
    max_log_limit: int = 10_000
    metric_names: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Notebook:
    """A notebook named by a request.

    Attributes:
        api_path: Its path relative to the server root, "/" separated, as the contents
            API and the sessions API name it.
        file: Its absolute path, symlinks resolved, inside the server root.
        start: The folder the store is looked for from (walking up).
    """

    api_path: str
    file: Path
    start: Path


def http_error(exc: MlvcError) -> web.HTTPError:
    """The HTTP error a front end should answer for ``exc``.

    Args:
        exc: An error raised by the mlvc core.

    Returns:
        A ``tornado.web.HTTPError`` whose message is the error's own text and whose
        reason phrase names the error class.
    """
    return error(http_status(exc), str(exc) or type(exc).__name__, type(exc).__name__)


def error(
    status: int,
    message: str,
    reason: str | None = None,
    headers: dict[str, str] | None = None,
) -> web.HTTPError:
    """An HTTP error whose JSON body carries ``message`` (never %-formatted).

    Args:
        status: The HTTP status.
        message: What went wrong, for people.
        reason: A short machine-readable reason (the reason phrase); None for the
            status's standard phrase without spaces (``BadRequest``, ``PayloadTooLarge``),
            so the JSON body's ``reason`` is never null.
        headers: Headers to send with the error (``Retry-After``).
    """
    if reason is None:
        phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else ""
        reason = "".join(w.capitalize() if w.islower() else w for w in phrase.split()) or None
    # The message goes in ``args`` so that a "%" in it is never taken as a format.
    err = web.HTTPError(status, "%s", message, reason=reason)
    err.headers = dict(headers or {})  # type: ignore[attr-defined]
    return err


def _finite(value: Any) -> Any:
    """``value`` with every NaN or infinite float replaced by None (strict JSON)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


class MlvcHandler(APIHandler):
    """Base class of the mlvc REST handlers."""

    auth_resource = "mlvc"

    def initialize(self, settings: MlvcSettings) -> None:
        """Receive the extension's settings (from ``MlvcApp``).

        Args:
            settings: The folders and limits the handlers work with.
        """
        self.mlvc = settings

    # -- live sync ------------------------------------------------------------------------
    @property
    def watcher(self) -> Any:
        """The extension's :class:`~mlvc_server.server.events.StoreWatcher` (None when
        the handlers run without ``MlvcApp``)."""
        return self.settings.get("mlvc_watcher")

    def on_finish(self) -> None:
        """After a request that may have changed a store, tell open panels at once."""
        super().on_finish()
        if self.request.method not in ("GET", "HEAD") and self.get_status() < 400:
            watcher = self.watcher
            if watcher is not None:
                watcher.check("request")

    # -- errors ---------------------------------------------------------------------------
    @classmethod
    def allowed_methods(cls) -> list[str]:
        """The HTTP methods this handler implements (for the ``Allow`` header)."""
        names = ("GET", "POST", "PATCH", "PUT", "DELETE")
        base = web.RequestHandler
        return [m for m in names if getattr(cls, m.lower()) is not getattr(base, m.lower())]

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """Write errors as JSON, with the message of an ``HTTPError`` formatted; a 405
        says which methods are allowed."""
        if status_code == 405:
            self.set_header("Allow", ", ".join(self.allowed_methods()))
        exc_info = kwargs.get("exc_info")
        if exc_info is not None:
            exc = exc_info[1]
            for name, value in getattr(exc, "headers", {}).items():
                self.set_header(name, value)
            if isinstance(exc, web.HTTPError) and exc.log_message and exc.args:
                formatted = web.HTTPError(
                    exc.status_code, exc.log_message % exc.args, reason=exc.reason
                )
                kwargs["exc_info"] = (type(formatted), formatted, exc_info[2])
        super().write_error(status_code, **kwargs)

    # -- notebooks --------------------------------------------------------------------------
    def notebook(self, path: str | None = None) -> Notebook:
        """The notebook a request names in its ``path`` query argument, checked.

        Args:
            path: The path to check; None to read the ``path`` query argument.

        Returns:
            The notebook, confined to the server root.

        Raises:
            tornado.web.HTTPError: 400 if the path is missing, not a ``.ipynb`` file,
                absolute, has a ".." component, or leads (through symlinks) outside the
                server root.
        """
        if path is None:
            path = self.get_query_argument("path", None)
        full = self.notebook_path(path)
        api_path = posixpath.normpath(str(path)).strip("/")
        start = self.mlvc.store_root if self.mlvc.store_root is not None else full.parent
        return Notebook(api_path=api_path, file=full, start=start)

    def notebook_path(self, path: str | None) -> Path:
        """Check a notebook path from a request and return it as an absolute path.

        Args:
            path: The path as the frontend sends it: relative to the server root, "/"
                separated.

        Returns:
            The notebook's absolute path, symlinks resolved, inside the server root.

        Raises:
            tornado.web.HTTPError: 400 if the path is missing, absolute, has a ".."
                component, does not end in ``.ipynb``, or leads (through symlinks)
                outside the server root.
        """
        root = self.mlvc.root_dir
        if not path:
            raise error(400, "missing query argument 'path'")
        if len(path) > MAX_PATH_CHARS or any(c in path for c in "\x00\\") or not path.isprintable():
            raise error(400, "invalid notebook path")
        if posixpath.isabs(path) or Path(path).is_absolute():
            raise error(400, "notebook path must be relative to the server root")
        if ".." in path.split("/"):
            raise error(400, "notebook path must not contain '..'")
        if not path.endswith(".ipynb") or posixpath.basename(path) in ("", ".ipynb"):
            raise error(400, "notebook path must name a .ipynb file")
        try:
            full = (root / path).resolve()
        except (OSError, RuntimeError, ValueError):
            raise error(400, "invalid notebook path") from None
        if not full.is_relative_to(root):
            raise error(400, "notebook path leads outside the server root")
        if not self.allow_hidden and _hidden(root, path):
            # as Jupyter's own contents API answers for a hidden file it may not show
            raise error(404, f"no notebook {path!r} (hidden files are not served)", "NotFound")
        from ..store.refs import notebook_key

        # the store names refs and state files after the notebook's (percent-encoded)
        # path: each part must fit in a file name
        try:
            parts = notebook_key(path).split("/")
        except MlvcError as exc:
            raise http_error(exc) from exc
        if any(len(part.encode()) > MAX_FILE_NAME_BYTES for part in parts):
            raise error(400, "notebook path too long: a part of it would not fit in a file name")
        return full

    @property
    def allow_hidden(self) -> bool:
        """The server's rule for hidden files (``ContentsManager.allow_hidden``)."""
        cm = getattr(self.serverapp, "contents_manager", None)
        return bool(getattr(cm, "allow_hidden", False))

    # -- the store, off the event loop -----------------------------------------------------
    async def call(self, func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a blocking mlvc call in a worker thread, mapping its errors to HTTP.

        Args:
            func: The blocking function (usually from :mod:`mlvc_server.service`).
            *args: Its positional arguments.
            **kwargs: Its keyword arguments.

        Returns:
            What ``func`` returns.

        Raises:
            tornado.web.HTTPError: For any :class:`MlvcError` the call raises.
        """
        try:
            return await asyncio.to_thread(functools.partial(func, *args, **kwargs))
        except MlvcError as exc:
            raise http_error(exc) from exc
        except OSError as exc:
            if exc.errno == errno.ENAMETOOLONG:  # a name the file system cannot hold
                raise error(400, "a name in the request is too long for the file system") from exc
            raise

    # -- the user -------------------------------------------------------------------------
    def author(self) -> str:
        """The Jupyter user making the request, as a commit author; "" (the identity a
        magic or the CLI would use: ``MLVC_AUTHOR_NAME``, git's, the login name) when
        Jupyter's identity is not a real one: the random "Anonymous ..." user a token or
        a fresh browser gets, so the same person appears under one name whether they
        click or type."""
        user = self.current_user
        username = str(getattr(user, "username", "") or "")
        name = str(getattr(user, "name", "") or "")
        if re.fullmatch(r"[0-9a-f]{32}", username) and name.startswith("Anonymous"):
            return ""
        for attr in ("name", "display_name", "username"):
            value = getattr(user, attr, None)
            if isinstance(value, str) and value.strip():
                return " ".join(value.replace("<", "").replace(">", "").split())[:200]
        return str(user) if isinstance(user, str) and user else "jupyter"

    # -- reading requests ------------------------------------------------------------------
    def json_body(self, *fields: str, required: bool = True) -> dict[str, Any]:
        """The request's JSON object.

        Args:
            *fields: The fields it may have; any other is refused (a typo would
                otherwise be ignored silently).
            required: Whether an empty body is an error (else it is ``{}``).

        Raises:
            tornado.web.HTTPError: 413 if it is over :data:`MAX_BODY_BYTES`; 400 if it
                is not a JSON object or has a field not in ``fields``.
        """
        raw = self.request.body or b""
        if len(raw) > MAX_BODY_BYTES:
            raise error(413, f"request body over {MAX_BODY_BYTES} bytes")
        if not raw.strip():
            if required:
                raise error(400, "the request needs a JSON object body")
            return {}
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise error(400, "the request body is not valid JSON") from None
        except RecursionError:
            raise error(400, "the request body is nested too deeply") from None
        if not isinstance(body, dict):
            raise error(400, "the request body must be a JSON object")
        unknown = sorted(set(body) - set(fields))
        if unknown:
            shown = ", ".join(repr(k[:50]) for k in unknown[:5])
            raise error(400, f"unknown field(s) {shown}; allowed: {', '.join(fields) or 'none'}")
        return body

    def query_int(self, name: str, default: int | None, low: int, high: int) -> int | None:
        """An integer query argument within ``[low, high]``.

        Raises:
            tornado.web.HTTPError: 400 if it is not a whole number in range.
        """
        value = self.get_query_argument(name, None)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError:
            raise error(400, f"{name} must be a whole number") from None
        if not low <= number <= high:
            raise error(400, f"{name} must be between {low} and {high}")
        return number

    def query_bool(self, name: str, default: bool) -> bool:
        """A boolean query argument (``true``/``false``, ``1``/``0``).

        Raises:
            tornado.web.HTTPError: 400 for anything else.
        """
        value = self.get_query_argument(name, None)
        if value is None:
            return default
        if value.lower() in ("true", "1", "yes"):
            return True
        if value.lower() in ("false", "0", "no"):
            return False
        raise error(400, f"{name} must be true or false")

    def query_str(
        self, name: str, max_chars: int = MAX_NAME_CHARS, *, allow_empty: bool = False
    ) -> str | None:
        """A short text query argument (None when absent, or empty and ``allow_empty``).

        Raises:
            tornado.web.HTTPError: 400 if it is empty (unless allowed), too long or has
                control characters.
        """
        value = self.get_query_argument(name, None)
        if value is None or (value == "" and allow_empty):
            return None
        if value == "":
            raise error(400, f"{name} must not be empty")
        return check_text(name, value, max_chars)

    # -- writing responses ------------------------------------------------------------------
    def write_json(self, body: Any, status: int = 200) -> None:
        """Finish the request with a JSON body (NaN and infinities become null)."""
        try:
            text = json.dumps(body, allow_nan=False)
        except ValueError:
            text = json.dumps(_finite(body), allow_nan=False)
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(text)

    def api_url(self, *parts: str, path: str | None = None) -> str:
        """The URL of an mlvc resource on this server, with ``?path=`` when given."""
        url = url_path_join(self.base_url, "mlvc", *parts)
        return url + ("?" + urlencode({"path": path}) if path is not None else "")


# -- body fields ---------------------------------------------------------------------------
def _hidden(root: Path, path: str) -> bool:
    """Whether ``path`` (relative to ``root``) is hidden as Jupyter sees it: a part that
    starts with ``.``, or a file or folder the platform marks hidden."""
    from jupyter_core.paths import is_hidden

    if any(part.startswith(".") for part in path.split("/")):
        return True
    try:
        return bool(is_hidden(str(root / path), str(root)))
    except OSError:
        return False


def check_text(name: str, value: Any, max_chars: int) -> str:
    """Check a short text value (a name, revision or metric).

    Raises:
        tornado.web.HTTPError: 400 if it is not a string, is longer than ``max_chars``
            or holds control characters.
    """
    if not isinstance(value, str):
        raise error(400, f"{name} must be a string")
    if len(value) > max_chars:
        raise error(400, f"{name} is longer than {max_chars} characters")
    if not value.isprintable():
        raise error(400, f"{name} must not contain control characters")
    return value


def field_str(
    body: dict[str, Any],
    key: str,
    *,
    required: bool = False,
    max_chars: int = MAX_NAME_CHARS,
    multiline: bool = False,
) -> str | None:
    """A string field of a request body.

    Args:
        body: The request's JSON object.
        key: The field.
        required: Whether it must be present (and not empty).
        max_chars: The longest value allowed.
        multiline: Allow newlines and tabs (a commit message).

    Raises:
        tornado.web.HTTPError: 400 when missing, of another type or too long.
    """
    if key not in body:
        if required:
            raise error(400, f"missing field {key!r}")
        return None
    value = body[key]
    if not isinstance(value, str):
        raise error(400, f"{key!r} must be a string")
    if len(value) > max_chars:
        raise error(400, f"{key!r} is longer than {max_chars} characters")
    if not value:
        raise error(400, f"{key!r} must not be empty")
    if "\x00" in value or (not multiline and not value.isprintable()):
        raise error(400, f"{key!r} must not contain control characters")
    return value


def field_bool(body: dict[str, Any], key: str, default: bool) -> bool:
    """A boolean field of a request body.

    Raises:
        tornado.web.HTTPError: 400 when present and not a boolean.
    """
    if key not in body:
        return default
    value = body[key]
    if not isinstance(value, bool):
        raise error(400, f"{key!r} must be true or false")
    return value


def field_names(body: dict[str, Any], key: str) -> list[str] | None:
    """A list of names (variables) from a request body, or None when absent or null.

    Raises:
        tornado.web.HTTPError: 400 when it is not a list of up to :data:`MAX_NAMES`
            non-empty strings of up to :data:`MAX_NAME_CHARS` characters.
    """
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, list):
        raise error(400, f"{key!r} must be a list of names")
    if len(value) > MAX_NAMES:
        raise error(400, f"{key!r} holds more than {MAX_NAMES} names")
    for item in value:
        check_text(f"each of {key!r}", item, MAX_NAME_CHARS)
        if not item:
            raise error(400, f"{key!r} holds an empty name")
    return list(dict.fromkeys(value))


def field_map(body: dict[str, Any], key: str) -> dict[str, Any] | None:
    """A ``params`` or ``metrics`` object of a request body, or None when absent.

    Raises:
        tornado.web.HTTPError: 400 when it is not an object of up to
            :data:`MAX_ENTRIES` entries with keys of up to :data:`MAX_NAME_CHARS`.
    """
    if key not in body:
        return None
    value = body[key]
    if not isinstance(value, dict):
        raise error(400, f"{key!r} must be an object")
    if len(value) > MAX_ENTRIES:
        raise error(400, f"{key!r} has more than {MAX_ENTRIES} entries")
    for k in value:
        check_text(f"each key of {key!r}", k, MAX_NAME_CHARS)
        if not k:
            raise error(400, f"{key!r} has an empty key")
    if _depth(value) > MAX_DEPTH:
        raise error(400, f"{key!r} is nested more than {MAX_DEPTH} levels deep")
    return value


def _depth(value: Any, limit: int = MAX_DEPTH + 1) -> int:
    """How deeply lists and objects nest in ``value`` (counting stops past ``limit``)."""
    if limit <= 0 or not isinstance(value, dict | list):
        return 0
    items = value.values() if isinstance(value, dict) else value
    return 1 + max((_depth(v, limit - 1) for v in items), default=0)


def field_enum(body: dict[str, Any], key: str, choices: tuple[str, ...], default: str) -> str:
    """A field that must be one of ``choices``.

    Raises:
        tornado.web.HTTPError: 400 for any other value.
    """
    if key not in body:
        return default
    value = body[key]
    if value not in choices:
        raise error(400, f"{key!r} must be one of {', '.join(choices)}")
    return str(value)


def validate_ref_name(name: str, kind: str) -> str:
    """Check a branch or tag name the way the store does.

    Raises:
        tornado.web.HTTPError: 400 with the reason.
    """
    from ..store.refs import validate_name

    try:
        return validate_name(name, kind)
    except MlvcError as exc:
        raise http_error(exc) from exc
