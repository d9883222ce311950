"""Variables: load one, or several, from a commit (the kernel puts them in its namespace).

Loading a pickled payload runs code from whoever wrote it: it needs ``trust`` unless
this user signed it (:mod:`mlvc_server.store.trust`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .. import serializers
from ..errors import MlvcError, TrustError
from ..store import Store, keep, trust
from ..store import payloads as payload_store
from ..store.revisions import resolve
from .compat import legacy_positional
from .format import VARS, manifest_part_ids, read_manifest, variable_trees
from .workspace import open_store, rel_notebook


def load_variable(store: Store, cid: str, name: str, trusted: bool) -> Any:
    """One variable of a resolved commit.

    Raises:
        VariableNotFoundError, TrustError, CorruptObjectError: see :func:`load`.
    """
    manifest = read_manifest(store, cid, name)
    reader = payload_store.StoredPayload(store, manifest, name, cid)
    try:
        return _deserialize(cid, name, manifest, reader, trusted)
    finally:
        if reader.fetched:
            _keep_fetched(store, cid, name, manifest)


def _keep_fetched(store: Store, cid: str, name: str, manifest: dict[str, Any]) -> None:
    """Register a variable fetched from a payload remote in the payload index, so that
    gc keeps it unless the retention policy drops its commit."""
    parts = manifest_part_ids(manifest)
    found = store.tree_lookup(store.commit_obj(cid).tree.decode(), VARS)
    if found and all(store.has_object(p) for p in parts):
        keep.add(store, {found[1]: keep.write_payload_tree(store, {name: parts})})


def _deserialize(
    cid: str,
    name: str,
    manifest: dict[str, Any],
    reader: payload_store.StoredPayload,
    trusted: bool,
) -> Any:
    fmt = manifest["format"]
    if payload_store.needs_trust(fmt, manifest["meta"]) and not trusted:
        if not trust.verify(
            manifest.get("signature"), fmt, manifest["meta"], manifest_part_ids(manifest)
        ):
            raise TrustError(
                f"variable {name!r} in {cid[:8]} is a pickle ({fmt}) that you did not write: "
                "loading it runs code from whoever wrote it. Pass trust=True (--trust) if "
                "you trust its author."
            )
        trusted = True
    return serializers.deserialize(fmt, manifest["meta"], reader, trusted=trusted)


@legacy_positional("repo", "notebook")
def load(
    rev: str,
    name: str,
    *,
    repo: str | os.PathLike[str] = ".",
    notebook: str | os.PathLike[str] | None = None,
    trust: bool = False,
) -> Any:
    """One variable of a commit.

    Raises:
        VariableNotFoundError: the commit holds no such variable (or it was skipped).
        TrustError: it is a pickle this user did not write, and ``trust`` is False.
        CorruptObjectError: its bytes are damaged or missing.
    """
    store = open_store(repo)
    cid = resolve(store, rev, rel_notebook(store, notebook))
    return load_variable(store, cid, name, trust)


@dataclass
class Loaded:
    """What :func:`load_many` brought back.

    Attributes:
        commit: the resolved commit id.
        values: name -> value, for the variables that loaded.
        failed: name -> the error that stopped it (its class tells why).
    """

    commit: str
    values: dict[str, Any] = field(default_factory=dict)
    failed: dict[str, MlvcError] = field(default_factory=dict)


def load_in_place(store: Store, cid: str, name: str, live: Any) -> bool:
    """Copy variable ``name`` of ``cid`` into the live value's own memory when it is a
    torch tensor, state_dict or module with the same tensors (same names, shapes and
    dtypes): the model keeps its device and every ``data_ptr``, and no second copy of
    it is made on the device. No pickle runs, so no trust is needed.

    Returns:
        True when done in place; False when the live value cannot take it (then load it
        as usual).
    """
    manifest = read_manifest(store, cid, name)
    if manifest.get("format") != "safetensors" or "torch" not in sys.modules:
        return False
    from ..serializers import torch_format

    if torch_format.in_place_mismatch(live, manifest["meta"]) is not None:
        return False
    reader = payload_store.StoredPayload(store, manifest, name, cid)
    torch_format.load_into(live, manifest["meta"], reader)
    return True


def load_many(
    store: Store,
    cid: str,
    names: Iterable[str] | None,
    trusted: bool,
    live: Mapping[str, Any] | None = None,
) -> Loaded:
    """Every variable it can of ``names`` (None: all the commit holds), naming the rest.

    One variable that cannot be loaded (missing library, damaged bytes, no trust)
    never stops the others. With ``live`` (the values the variables have now, e.g. the
    kernel's namespace), a torch model whose tensors match is restored into its own
    memory (:func:`load_in_place`) and comes back as the same object.
    """
    wanted = list(variable_trees(store, cid)) if names is None else list(names)
    out = Loaded(cid)
    for n in wanted:
        try:
            current = live.get(n) if live is not None else None
            if current is not None and load_in_place(store, cid, n, current):
                out.values[n] = current
                continue
            out.values[n] = load_variable(store, cid, n, trusted)
        except MlvcError as e:
            out.failed[n] = e
        except (ImportError, ModuleNotFoundError) as e:
            out.failed[n] = MlvcError(
                f"variable {n!r} needs a library this environment lacks ({e}); "
                'install it (e.g. pip install "jupyterlab-mlvc[ml]") and restore again'
            )
    return out


@legacy_positional("repo", "notebook")
def restore(
    rev: str,
    names: Iterable[str] | None = None,
    *,
    repo: str | os.PathLike[str] = ".",
    notebook: str | os.PathLike[str] | None = None,
    trust: bool = False,
) -> dict[str, Any]:
    """The variables of a commit (all, or ``names``) as a dict name -> value.

    Raises:
        MlvcError: the first error when a variable asked for cannot be loaded (use
            :func:`load_many` to get every variable it can and the reasons for the rest).
    """
    store = open_store(repo)
    cid = resolve(store, rev, rel_notebook(store, notebook))
    loaded = load_many(store, cid, names, trust)
    if loaded.failed:
        raise next(iter(loaded.failed.values()))
    return loaded.values
