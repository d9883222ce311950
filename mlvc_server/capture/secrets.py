"""Likely secrets: names, values and source lines that should not land in readable
metadata (docs/security.md, "Secrets").

mlvc records what a run used. Some of that must not be copied where anyone reading the
store (or its git remote) sees it: a variable named ``AWS_SECRET_ACCESS_KEY`` or
``api_token``, an ``env = os.environ`` mapping full of tokens, a ``settings.py`` with a
password, a notebook output that printed a key. This module decides, by rules that are
cheap and never run user code:

- :func:`is_secret_name`: a variable (or mapping key, or assigned name) whose name looks
  like a secret (deny patterns, minus allow patterns such as ``tokenizer``,
  ``max_tokens``). Extra patterns: ``MLVC_SECRET_NAMES`` (deny) and
  ``MLVC_SECRET_ALLOW`` (allow), whitespace-separated regular expressions matched
  against the lower-cased name, or the ``deny``/``allow`` arguments.
- :func:`find_tokens` / :func:`redact`: strings in well-known credential formats
  (GitHub, GitLab, Slack, OpenAI, Stripe, Hugging Face, npm and PyPI tokens, AWS key
  ids, Google API keys, JWTs, PEM private keys, ``user:password@`` in URLs,
  ``password=...`` pairs).
- :func:`scan`: warnings for a commit's variables (a secret name, a token-like string, a
  mapping holding secret-named or token-like entries), to be carried in the commit
  record; :func:`scrub_meta` hides the readable preview of such a variable.
- :func:`scan_source`: secret-looking assignments and tokens in a source file.
- :func:`scan_notebook`, :func:`redact_notebook_outputs`: the same for notebook outputs.

Nothing here reads more than a bounded amount: mappings are looked at for their first
:data:`MAX_ITEMS` string entries, texts for their first :data:`MAX_TEXT` characters.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any, Final, TypedDict

__all__ = [
    "SecretWarning",
    "find_tokens",
    "is_secret_name",
    "redact",
    "redact_notebook_outputs",
    "scan",
    "scan_notebook",
    "scan_source",
    "scrub_meta",
    "variable_warnings",
]

MAX_ITEMS: Final = 1000
MAX_TEXT: Final = 1 << 20
HIDDEN: Final = "<hidden: may hold a secret>"
REDACTED: Final = "<redacted>"
DENY_ENV: Final = "MLVC_SECRET_NAMES"
ALLOW_ENV: Final = "MLVC_SECRET_ALLOW"

#: Names (lower-cased, camelCase split with ``_``) that look like secrets.
DEFAULT_DENY: Final[tuple[str, ...]] = (
    r"(^|_)(password|passwd|passphrase|pwd|passwort)s?(_|$)",
    r"secret",
    r"(^|_)(api|access|private|signing|encryption|auth|client|account|master|ssh|gpg)_?keys?(_|$)",
    r"(^|_)(access|auth|api|bearer|refresh|id|session|hf|gh|github|gitlab|slack|"
    r"openai|wandb|hub|bot|personal|oauth|csrf|xsrf)?_?tokens?(_|$)",
    r"credential",
    r"(^|_)auth(_|$)",
    r"cookie",
    r"(^|_)sas(_|$)",
    r"conn(ection)?_?str(ing)?",
    r"(^|_)dsn(_|$)",
    r"(^|_)(aws|azure|gcp|gcs|s3)_.*(key|secret)",
)
#: Names that match a deny pattern but are (almost always) not secrets.
DEFAULT_ALLOW: Final[tuple[str, ...]] = (
    r"tokeni[sz]",
    r"^tokens$",
    r"(^|_)(n|num|max|min|total|input|output|prompt|completion|special|pad|eos|bos|unk|"
    r"cls|sep|mask|new|start|end|added|extra)_tokens?(_|$)",
    r"tokens?_(ids?|type_ids?|type|count|counts|len|length|lengths|embeddings?|mask|"
    r"per_\w+|budget|limit)$",
    r"(^|_)(key|keys)_(size|len|length|col|column|name|names|field|fn|func|dim)$",
    r"password_?(len|length|policy|min|max)",
)

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")

#: (kind, pattern) of token formats.
_TOKENS: Final[tuple[tuple[str, str], ...]] = (
    ("a GitHub token", r"\b(gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})"),
    ("a GitLab token", r"\bglpat-[A-Za-z0-9_-]{20,}"),
    ("a Slack token", r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
    ("an OpenAI key", r"\bsk-(proj-)?[A-Za-z0-9_-]{20,}"),
    ("a Stripe key", r"\b[rs]k_(live|test)_[A-Za-z0-9]{16,}"),
    ("a Hugging Face token", r"\bhf_[A-Za-z0-9]{30,}"),
    ("an npm token", r"\bnpm_[A-Za-z0-9]{36}"),
    ("a PyPI token", r"\bpypi-AgE[A-Za-z0-9_-]{50,}"),
    ("an AWS access key id", r"\b(AKIA|ASIA)[0-9A-Z]{16}\b"),
    ("a Google API key", r"\bAIza[0-9A-Za-z_-]{35}"),
    ("a JWT", r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
    ("a private key", r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    ("a password in a URL", r"[a-z][a-z0-9+.-]*://[^\s/:@]+:[^\s/@]+@"),
    (
        "a password assignment",
        r"(?i:\b[\w.-]*(password|passwd|secret|api_?key|access_?key)[\w.-]*"
        r"\s*[=:]\s*['\"]?[^\s'\"]{6,})",
    ),
)
_TOKEN_RE = re.compile("|".join(f"(?P<t{i}>{p})" for i, (_k, p) in enumerate(_TOKENS)))


class SecretWarning(TypedDict):
    """A likely secret a commit stores (for the commit record's ``secrets`` list)."""

    where: str
    reason: str


@lru_cache(maxsize=16)
def _compiled(extra: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in extra))


def _patterns(default: tuple[str, ...], env: str, given: Iterable[str] | None) -> re.Pattern[str]:
    extra = tuple(os.environ.get(env, "").split())
    return _compiled(default + extra + tuple(given or ()))


def _normal(name: str) -> str:
    return _CAMEL.sub("_", name).lower().replace("-", "_")


def is_secret_name(
    name: str, deny: Iterable[str] | None = None, allow: Iterable[str] | None = None
) -> bool:
    """Whether a variable, key or assigned name looks like it holds a secret."""
    if not isinstance(name, str) or not name:
        return False
    if deny is None and allow is None:  # the common case, asked for every variable
        return _secret_by_default(name, os.environ.get(ALLOW_ENV, ""), os.environ.get(DENY_ENV, ""))
    return _secret_name(name, deny, allow)


@lru_cache(maxsize=4096)
def _secret_by_default(name: str, _allow_env: str, _deny_env: str) -> bool:
    """:func:`is_secret_name` with the default lists (and the environment's additions,
    which are part of the cache key)."""
    return _secret_name(name, None, None)


def _secret_name(name: str, deny: Iterable[str] | None, allow: Iterable[str] | None) -> bool:
    n = _normal(name)
    if _patterns(DEFAULT_ALLOW, ALLOW_ENV, allow).search(n):
        return False
    return bool(_patterns(DEFAULT_DENY, DENY_ENV, deny).search(n))


def find_tokens(text: str) -> list[str]:
    """The kinds of credential-looking strings in ``text`` (its first MAX_TEXT chars)."""
    if not isinstance(text, str):
        return []
    kinds = []
    for m in _TOKEN_RE.finditer(text[:MAX_TEXT]):
        kind = _TOKENS[int(next(k for k, v in m.groupdict().items() if v)[1:])][0]
        if kind not in kinds:
            kinds.append(kind)
    return kinds


def redact(text: str) -> str:
    """``text`` with every credential-looking string replaced by ``<redacted>``."""
    return _TOKEN_RE.sub(REDACTED, text) if isinstance(text, str) else text


def _mapping_reason(
    value: Mapping[Any, Any], deny: Iterable[str] | None, allow: Iterable[str] | None
) -> str | None:
    names: list[str] = []
    kinds: list[str] = []
    try:
        for i, (k, v) in enumerate(value.items()):
            if i >= MAX_ITEMS:
                break
            if not isinstance(v, str | bytes):
                continue
            if isinstance(k, str) and is_secret_name(k, deny, allow) and v:
                names.append(k)
            elif isinstance(v, str):
                kinds += [t for t in find_tokens(v) if t not in kinds]
    except Exception:  # a mapping whose iteration fails is not ours to judge
        return None
    if names:
        shown = ", ".join(sorted(names)[:5]) + (" ..." if len(names) > 5 else "")
        return f"it holds entries named like secrets ({shown})"
    if kinds:
        return "it holds " + ", ".join(kinds)
    return None


def value_reason(
    name: str,
    value: Any,
    deny: Iterable[str] | None = None,
    allow: Iterable[str] | None = None,
) -> str | None:
    """Why the variable ``name`` = ``value`` likely holds a secret, or None. Only names,
    ``str``/``bytes`` values and plain mappings (``dict``, ``os.environ``) are looked at;
    other objects are never inspected (no user code runs)."""
    if is_secret_name(name, deny, allow):
        return "its name looks like a secret"
    if isinstance(value, str):
        kinds = find_tokens(value)
        return "its value looks like " + ", ".join(kinds) if kinds else None
    if isinstance(value, dict) or type(value) is type(os.environ):
        return _mapping_reason(value, deny, allow)
    return None


def scan(
    variables: Mapping[str, Any],
    *,
    deny: Iterable[str] | None = None,
    allow: Iterable[str] | None = None,
) -> list[SecretWarning]:
    """Warnings for the variables a commit stores that likely hold secrets."""
    return variable_warnings(
        {name: value_reason(name, value, deny, allow) for name, value in variables.items()}
    )


def variable_warnings(reasons: Mapping[str, str | None]) -> list[SecretWarning]:
    """The warnings of :func:`scan` from each variable's :func:`value_reason` (a commit
    computes those once, for the warnings and to hide the previews)."""
    return [{"where": f"variable {name}", "reason": r} for name, r in reasons.items() if r]


def scrub_meta(meta: Mapping[str, Any]) -> dict[str, Any]:
    """A variable's record metadata with its readable preview hidden (for a variable
    :func:`value_reason` flags); other fields are kept, with tokens redacted."""
    out: dict[str, Any] = {}
    for k, v in meta.items():
        if "preview" in k:
            out[k] = HIDDEN
        elif isinstance(v, str):
            out[k] = redact(v)
        else:
            out[k] = v
    return out


_ASSIGN = re.compile(
    r"""^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*(?::[^=]+)?[=:]\s*[rbuf]*(['"])(.{4,}?)\2""",
    re.MULTILINE,
)


def scan_source(text: str, path: str = "") -> list[SecretWarning]:
    """Secret-looking assignments (``PASSWORD = "..."``) and tokens in a source file."""
    out: list[SecretWarning] = []
    where = path or "source"
    head = text[:MAX_TEXT]
    for m in _ASSIGN.finditer(head):
        if is_secret_name(m.group(1).rsplit(".", 1)[-1]):
            line = head.count("\n", 0, m.start()) + 1
            out.append(
                {
                    "where": f"{where}:{line}",
                    "reason": f"{m.group(1)} is assigned a literal that looks like a secret",
                }
            )
    if not out:
        for kind in find_tokens(head):
            out.append({"where": where, "reason": f"it holds {kind}"})
    return out


def _outputs(nb: Any) -> Iterable[tuple[int, dict[str, Any]]]:
    for i, cell in enumerate(nb.get("cells", []) if isinstance(nb, dict) else []):
        for out in cell.get("outputs", []) if isinstance(cell, dict) else []:
            if isinstance(out, dict):
                yield i, out


def _texts(out: dict[str, Any]) -> Iterable[tuple[dict[str, Any] | list[Any], Any, str]]:
    """(container, key, text) of every text in an output (stream text, text/* data)."""
    if "text" in out:
        yield out, "text", "".join(out["text"]) if isinstance(out["text"], list) else out["text"]
    data = out.get("data")
    if isinstance(data, dict):
        for mime, v in data.items():
            if mime.startswith("text/") or mime.endswith("json"):
                yield data, mime, "".join(v) if isinstance(v, list) else str(v)
    if isinstance(out.get("traceback"), list):
        yield out, "traceback", "\n".join(map(str, out["traceback"]))


def scan_notebook(content: bytes | str) -> list[SecretWarning]:
    """Credential-looking strings in a notebook's outputs."""
    try:
        nb = json.loads(content)
    except (ValueError, RecursionError):
        return []
    out: list[SecretWarning] = []
    for i, o in _outputs(nb):
        for _c, _k, text in _texts(o):
            for kind in find_tokens(text):
                out.append({"where": f"output of cell {i + 1}", "reason": f"it shows {kind}"})
    return out


def redact_notebook_outputs(content: bytes) -> tuple[bytes, int]:
    """The notebook with credential-looking strings in its outputs replaced by
    ``<redacted>`` (sources untouched), and how many outputs changed. Content that is not
    notebook JSON comes back as it was."""
    try:
        nb = json.loads(content)
    except (ValueError, RecursionError):
        return content, 0
    changed = 0
    for _i, o in _outputs(nb):
        for container, key, text in _texts(o):
            if find_tokens(text):
                new = redact(text)
                container[key] = new if key != "traceback" else new.split("\n")
                changed += 1
    if not changed:
        return content, 0
    return (json.dumps(nb, indent=1, ensure_ascii=False) + "\n").encode(), changed
