"""The operations users name, one module per operation, each with one owner.

    commits.py      init, commit, log_params, log_metrics, commit_defaults
    history.py      log, show, notebook_at (and the log cache)
    state.py        status
    variables.py    load, restore, load_many
    refs.py         branches, branch, switch_branch, delete_branch, rename_branch,
                    tags, tag, rename_tag
    diffs.py        diff (params, metrics, variables, data, env, notebook cells)
    analysis.py     compare, series, metric_goal
    query.py        the query language of log/compare ``where`` (compile_query, matches)
    checkouts.py    checkout (the only checkout plan; front ends supply hooks)
    data.py         data_checkout, data_undo, data_diff, track_content, untrack_content,
                    set_content_max, content_settings (data files' content)
    evaluation/     evaluate, shadow, canary, evaluations, latest (two model versions)
    lineages.py     lineage (inputs by content hash across notebooks), producers_of
    exports.py      export (a model to a folder: native, MLflow, ONNX; checked)
    registry.py     register, models, model, resolve, load_model, check_gates, promote,
                    approve, set_gates, rollback, history (exported as model_history)
    maintenance.py  fsck, du, gc, remotes, remote_add, remote_remove, push, pull, clone
    format.py       the commit format: tree names, typed records, read helpers
    workspace.py    the open stores and caches of this process

The magics, the widgets, the CLI and the REST API translate to and from these calls and
do nothing else. Every function takes ``repo`` (a path at or below the project root) and
``notebook`` as keywords; notebook paths may be absolute or relative to the current
directory and are recorded relative to the project root.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from . import evaluation, registry
    from .analysis import LOWER_IS_BETTER, compare, metric_goal, series
    from .checkouts import (
        SAFETY,
        CheckoutHooks,
        checkout,
        notebook_safety_commit,
        safety_message,
        write_file,
    )
    from .commits import (
        MAX_SERIALIZE_SECONDS,
        commit,
        commit_defaults,
        init,
        log_metrics,
        log_params,
    )
    from .data import (
        content_settings,
        data_checkout,
        data_diff,
        data_undo,
        set_content_max,
        track_content,
        untrack_content,
    )
    from .diffs import cell_counts, diff
    from .exports import export
    from .format import (
        BranchInfo,
        CheckoutResult,
        CompareTable,
        DataCheckoutResult,
        DataDiff,
        DataUndoResult,
        Diff,
        ExportedModel,
        ExportResult,
        GateResult,
        Lineage,
        ModelInfo,
        ModelVersion,
        Promotion,
        Record,
        RegistryEvent,
        SeriesTable,
        Status,
        Summary,
        TagInfo,
    )
    from .history import default_notebook, log, notebook_at, record, show
    from .lineages import lineage, producers_of
    from .maintenance import (
        clone,
        du,
        fsck,
        gc,
        pull,
        push,
        remote_add,
        remote_name,
        remote_remove,
        remotes,
    )
    from .query import compile_query, matches
    from .refs import (
        branch,
        branches,
        delete_branch,
        rename_branch,
        rename_tag,
        switch_branch,
        tag,
        tags,
    )
    from .registry import (
        approve,
        check_gates,
        load_model,
        model,
        models,
        promote,
        register,
        resolve,
        rollback,
        set_gates,
    )
    from .registry import history as model_history
    from .state import snapshot, status, variables_changed
    from .variables import load, load_many, restore
    from .workspace import Workspace, workspace

# bound now: a submodule's import would otherwise leave the module itself under the
# name ``workspace`` (workspace.py is light: no dulwich, no serializers)
from .workspace import Workspace, workspace

#: public name -> the module of this package that defines it, ``module:name`` where the
#: module calls it otherwise (loaded on first use, so that ``mlvc log`` does not import
#: what ``commit`` or ``diff`` need)
_OWNERS: dict[str, str] = {
    "LOWER_IS_BETTER": "analysis",
    "compare": "analysis",
    "metric_goal": "analysis",
    "series": "analysis",
    "SAFETY": "checkouts",
    "CheckoutHooks": "checkouts",
    "checkout": "checkouts",
    "notebook_safety_commit": "checkouts",
    "safety_message": "checkouts",
    "write_file": "checkouts",
    "MAX_SERIALIZE_SECONDS": "commits",
    "commit": "commits",
    "commit_defaults": "commits",
    "init": "commits",
    "log_metrics": "commits",
    "log_params": "commits",
    "content_settings": "data",
    "data_checkout": "data",
    "data_diff": "data",
    "data_undo": "data",
    "set_content_max": "data",
    "track_content": "data",
    "untrack_content": "data",
    "cell_counts": "diffs",
    "diff": "diffs",
    "BranchInfo": "format",
    "CheckoutResult": "format",
    "CompareTable": "format",
    "DataCheckoutResult": "format",
    "DataDiff": "format",
    "DataUndoResult": "format",
    "Diff": "format",
    "Record": "format",
    "SeriesTable": "format",
    "Status": "format",
    "Summary": "format",
    "TagInfo": "format",
    "default_notebook": "history",
    "log": "history",
    "notebook_at": "history",
    "record": "history",
    "show": "history",
    "clone": "maintenance",
    "du": "maintenance",
    "fsck": "maintenance",
    "gc": "maintenance",
    "pull": "maintenance",
    "push": "maintenance",
    "remote_add": "maintenance",
    "remote_name": "maintenance",
    "remote_remove": "maintenance",
    "remotes": "maintenance",
    "compile_query": "query",
    "matches": "query",
    "branch": "refs",
    "branches": "refs",
    "delete_branch": "refs",
    "rename_branch": "refs",
    "rename_tag": "refs",
    "switch_branch": "refs",
    "tag": "refs",
    "tags": "refs",
    "status": "state",
    "snapshot": "state",
    "variables_changed": "state",
    "export": "exports",
    "ExportedModel": "format",
    "ExportResult": "format",
    "GateResult": "format",
    "Lineage": "format",
    "ModelInfo": "format",
    "ModelVersion": "format",
    "Promotion": "format",
    "RegistryEvent": "format",
    "lineage": "lineages",
    "producers_of": "lineages",
    "approve": "registry",
    "check_gates": "registry",
    "load_model": "registry",
    "model": "registry",
    "models": "registry",
    "promote": "registry",
    "register": "registry",
    "resolve": "registry",
    "rollback": "registry",
    "set_gates": "registry",
    "model_history": "registry:history",
    "load": "variables",
    "load_many": "variables",
    "restore": "variables",
}


def __getattr__(name: str) -> Any:
    owner = _OWNERS.get(name)
    if owner is None:
        # a module of this package (``service.history``, ``service.evaluation``...)
        from importlib.util import find_spec

        if not name.startswith("_") and find_spec(f"{__name__}.{name}"):
            return importlib.import_module(f"{__name__}.{name}")
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module, _, attr = owner.partition(":")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), attr or name)
    globals()[name] = value
    return value


__all__ = [
    "LOWER_IS_BETTER",
    "MAX_SERIALIZE_SECONDS",
    "SAFETY",
    "BranchInfo",
    "CheckoutHooks",
    "CheckoutResult",
    "CompareTable",
    "DataCheckoutResult",
    "DataDiff",
    "DataUndoResult",
    "Diff",
    "ExportResult",
    "ExportedModel",
    "GateResult",
    "Lineage",
    "ModelInfo",
    "ModelVersion",
    "Promotion",
    "Record",
    "RegistryEvent",
    "SeriesTable",
    "Status",
    "Summary",
    "TagInfo",
    "Workspace",
    "approve",
    "branch",
    "branches",
    "cell_counts",
    "check_gates",
    "checkout",
    "clone",
    "commit",
    "commit_defaults",
    "compare",
    "compile_query",
    "content_settings",
    "data_checkout",
    "data_diff",
    "data_undo",
    "default_notebook",
    "delete_branch",
    "diff",
    "du",
    "evaluation",
    "export",
    "fsck",
    "gc",
    "init",
    "lineage",
    "load",
    "load_many",
    "load_model",
    "log",
    "log_metrics",
    "log_params",
    "matches",
    "metric_goal",
    "model",
    "model_history",
    "models",
    "notebook_at",
    "notebook_safety_commit",
    "producers_of",
    "promote",
    "pull",
    "push",
    "record",
    "register",
    "registry",
    "remote_add",
    "remote_name",
    "remote_remove",
    "remotes",
    "rename_branch",
    "rename_tag",
    "resolve",
    "restore",
    "rollback",
    "safety_message",
    "series",
    "set_content_max",
    "set_gates",
    "show",
    "snapshot",
    "status",
    "switch_branch",
    "tag",
    "tags",
    "track_content",
    "untrack_content",
    "variables_changed",
    "workspace",
    "write_file",
]
