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
    data.py         data_checkout, data_diff, track_content, untrack_content,
                    set_content_max, content_settings (data files' content)
    evaluation/     evaluate, shadow, canary, evaluations, latest (two model versions)
    lineage.py      lineage (inputs by content hash across notebooks), producers_of
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
    set_content_max,
    track_content,
    untrack_content,
)
from .diffs import cell_counts, diff
from .format import (
    BranchInfo,
    CheckoutResult,
    CompareTable,
    DataCheckoutResult,
    DataDiff,
    Diff,
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
from .lineage import lineage, producers_of
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
from .state import status
from .variables import load, load_many, restore
from .workspace import Workspace, workspace

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
    "Diff",
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
    "default_notebook",
    "delete_branch",
    "diff",
    "du",
    "evaluation",
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
    "status",
    "switch_branch",
    "tag",
    "tags",
    "track_content",
    "untrack_content",
    "workspace",
    "write_file",
]
