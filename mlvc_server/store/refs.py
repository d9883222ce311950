"""How notebooks, branches and tags map onto git ref names.

Experiments are kept per notebook so that two notebooks in one folder don't mix
histories: the branch ``main`` of ``exp/train.ipynb`` is the git ref
``refs/heads/exp/train.ipynb/main``; its tag ``champion`` is
``refs/tags/exp/train.ipynb/champion``. Commits made without a notebook (scripts, CI)
live under the key ``_``. Characters that git forbids in ref names are percent-encoded,
so any notebook file name works; branch and tag names themselves are validated instead.
"""

from __future__ import annotations

import re
from urllib.parse import quote, unquote

from ..errors import InvalidNameError

NO_NOTEBOOK = "_"
DEFAULT_BRANCH = "main"
HEADS = "refs/heads/"
TAGS = "refs/tags/"
#: Evaluations of two model versions: ``refs/mlvc/evaluations/<notebook key>/<commit>``,
#: each an immutable commit whose parents are the two versions (pushed and pulled like
#: tags; see ``service/evaluation``).
EVALUATIONS = "refs/mlvc/evaluations/"
#: The model registry: ``refs/mlvc/registry/<model name>``, the newest event commit of
#: that model (its tree holds ``model.json``; it moves on every register, promote,
#: approve... and push/pull carry it like a branch; see ``service/registry.py``).
REGISTRY = "refs/mlvc/registry/"
#: The file of a registry event commit's tree that holds the model's state.
REGISTRY_FILE = "model.json"
#: A model name: one ref component, so a model is one ref.
MODEL_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")

#: Longest encoded path component: a ref is a file, and file names stop at 255 bytes
#: (the ref's ``.lock`` file needs 5 more).
_MAX_PART = 240
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+@=-]*(/[A-Za-z0-9][A-Za-z0-9._+@=-]*)*$")


def validate_name(name: str, kind: str = "branch") -> str:
    """Check a branch or tag name; return it or raise :class:`InvalidNameError`.

    Allowed: letters, digits and ``. _ + @ = -``, ``/`` between parts; each part starts
    with a letter or digit; no ``..``, no ``@{``, no part ending in ``.lock`` or ``.``,
    no ``.ipynb`` ending (it would be ambiguous with a notebook key), at most 200 chars.
    """
    if not isinstance(name, str) or not name:
        raise InvalidNameError(f"invalid {kind} name {name!r}: it must be a non-empty string")
    reason = None
    if len(name) > 200:
        reason = "is longer than 200 characters"
    elif not _NAME_RE.match(name):
        reason = (
            "may use only letters, digits, '.', '_', '+', '@', '=', '-' and '/' between "
            "parts, each part starting with a letter or digit"
        )
    elif ".." in name or "@{" in name:
        reason = "may not contain '..' or '@{'"
    elif any(p.endswith((".lock", ".")) for p in name.split("/")):
        reason = "may not have a part ending in '.lock' or '.'"
    elif name.endswith(".ipynb"):
        reason = "may not end in '.ipynb'"
    elif name == "HEAD" or re.fullmatch(r"[0-9a-f]{4,40}", name):
        reason = "would be mistaken for a revision (HEAD or a commit id)"
    if reason:
        raise InvalidNameError(f"invalid {kind} name {name!r}: it {reason}")
    return name


def notebook_key(notebook: str | None) -> str:
    """The key of a notebook (its POSIX path relative to the project root) in ref names."""
    if not notebook:
        return NO_NOTEBOOK
    if not notebook.endswith(".ipynb"):
        raise InvalidNameError(f"notebook path {notebook!r} does not end in '.ipynb'")
    parts = []
    for part in notebook.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            raise InvalidNameError(f"notebook path {notebook!r} leaves the project")
        enc = quote(part, safe="-_,+=@").replace("~", "%7E")
        if enc.startswith("."):
            enc = "%2E" + enc[1:]
        if enc.endswith(".lock"):
            enc = enc[:-5] + "%2Elock"
        if enc.endswith("."):
            enc = enc[:-1] + "%2E"
        if len(enc.encode()) > _MAX_PART:
            raise InvalidNameError(
                f"notebook path {notebook!r} has a name too long to store "
                f"(more than {_MAX_PART} bytes once encoded)"
            )
        parts.append(enc)
    if not parts:
        return NO_NOTEBOOK
    return "/".join(parts)


def notebook_from_key(key: str) -> str | None:
    """Inverse of :func:`notebook_key`."""
    if key == NO_NOTEBOOK:
        return None
    return "/".join(unquote(p) for p in key.split("/"))


def branch_ref(notebook: str | None, branch: str) -> bytes:
    return f"{HEADS}{notebook_key(notebook)}/{branch}".encode()


def tag_ref(notebook: str | None, tag: str) -> bytes:
    return f"{TAGS}{notebook_key(notebook)}/{tag}".encode()


def evaluation_ref(notebook: str | None, cid: str) -> bytes:
    return f"{EVALUATIONS}{notebook_key(notebook)}/{cid}".encode()


def registry_ref(name: str) -> bytes:
    """The ref of model ``name`` (validated by :func:`validate_model_name`)."""
    return f"{REGISTRY}{validate_model_name(name)}".encode()


def validate_model_name(name: str) -> str:
    """Check a model name (``[A-Za-z0-9][A-Za-z0-9._-]{0,99}``, no ``..``, not ending in
    ``.lock`` or ``.``); return it or raise :class:`InvalidNameError`."""
    if (
        not isinstance(name, str)
        or not MODEL_NAME_RE.match(name)
        or ".." in name
        or name.endswith((".lock", "."))
    ):
        raise InvalidNameError(
            f"invalid model name {name!r}: use 1-100 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit (no '..', not ending in '.' or '.lock')"
        )
    return name


def split_ref(ref: bytes, prefix: str) -> tuple[str | None, str] | None:
    """Split ``refs/heads/<key>/<name>`` into (notebook, name).

    The notebook key ends at the first part ending in ``.ipynb`` (or is ``_``); branch
    names never end in ``.ipynb``, so the split is unambiguous.
    """
    s = ref.decode("utf-8", "replace")
    if not s.startswith(prefix):
        return None
    parts = s[len(prefix) :].split("/")
    if parts[0] == NO_NOTEBOOK and len(parts) > 1:
        return None, "/".join(parts[1:])
    for i, p in enumerate(parts[:-1]):
        if unquote(p).endswith(".ipynb"):
            return notebook_from_key("/".join(parts[: i + 1])), "/".join(parts[i + 1 :])
    return None


# -- checking ref names ------------------------------------------------------------------
#: The namespaces mlvc writes refs in (anything else from a remote is not stored).
LAYOUT = ("refs/heads/", "refs/tags/", "refs/remotes/", "refs/mlvc/")
_HEX40 = re.compile(rb"^[0-9a-f]{40}$")


def ref_name_problem(name: bytes) -> str | None:
    """Why ``name`` may not be a ref of this store, or None when it may.

    The rules of ``git check-ref-format`` (dulwich's implementation: no ``..``, no
    component starting with ``.`` or ending in ``.lock``, no control characters, space,
    ``~ ^ : ? * [ \\``, no ``@{``, no empty component, ...), plus mlvc's layout: the name
    is valid UTF-8, lies in one of :data:`LAYOUT`, and every component fits a file name.
    A name that passes is a relative path that stays inside the store's ``refs/``.
    """
    from dulwich.refs import Ref, check_ref_format

    if not isinstance(name, bytes) or not name:
        return "it is empty"
    if len(name) > 4096:
        return "it is longer than 4096 bytes"
    try:
        text = name.decode("utf-8")
    except UnicodeDecodeError:
        return "it is not valid UTF-8"
    if not check_ref_format(Ref(name)) or b"\x7f" in name:
        return "git's check-ref-format rules refuse it"
    if not text.startswith(LAYOUT):
        return "it is outside mlvc's namespaces (" + ", ".join(LAYOUT) + ")"
    parts = text.split("/")
    if any(p in ("", ".", "..") for p in parts):
        return "it has an empty, '.' or '..' component"
    if any(len(p.encode()) > _MAX_PART + 10 for p in parts):
        return "a component is too long for a file name"
    return None


def check_ref_name(name: bytes) -> bytes:
    """Return ``name`` if it may be a ref of this store (see :func:`ref_name_problem`).

    Raises:
        InvalidNameError: it may not, with the reason.
    """
    problem = ref_name_problem(name)
    if problem:
        shown = name.decode("utf-8", "backslashreplace")[:300] if isinstance(name, bytes) else name
        raise InvalidNameError(f"invalid ref name {shown!r}: {problem}")
    return name


def is_object_id(value: bytes | str) -> bool:
    """Whether ``value`` is a full lowercase hex SHA-1 object id."""
    raw = value.encode() if isinstance(value, str) else value
    return bool(_HEX40.match(raw))
