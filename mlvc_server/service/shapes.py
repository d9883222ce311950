"""The shapes the service returns: the ``TypedDict`` s of commits, statuses, diffs of
data, lineage and the model registry. The REST API answers the same shapes
(``mlvc_server/openapi.yaml``) and the frontend reads them (``src/wire.ts``).

They are importable from :mod:`mlvc_server.service.format` as before; they live here so
that reading a commit (``mlvc log``, ``mlvc status``) does not pay for building ~25
``TypedDict`` classes at every start.
"""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict


class Summary(TypedDict):
    """One commit in a log: what ``mlvc log --json`` and ``GET /mlvc/log`` list."""

    id: str
    short_id: str
    message: str
    author: str
    email: str
    time: str
    branch: str | None
    notebook: str | None
    status: str
    params: dict[str, Any]
    metrics: dict[str, Any]
    variables: list[str]
    parents: list[str]
    branches: list[str]
    tags: list[str]
    kind: NotRequired[str]


class Record(TypedDict, total=False):
    """A commit's record (``mlvc.json``), plus, from :func:`show`, ``id``, ``parents``,
    ``env``, ``hardware``, ``branches`` and ``tags``."""

    mlvc_record: int
    id: str
    message: str
    author: str
    email: str
    time: str
    notebook: str | None
    notebook_saved_at: str
    branch: str | None
    status: str
    kind: str
    params: dict[str, Any]
    metrics: dict[str, Any]
    metric_series: dict[str, list[list[Any]]]
    variables: dict[str, dict[str, Any]]
    skipped: dict[str, str]
    data: dict[str, dict[str, Any]]
    outputs: dict[str, dict[str, Any]]
    sources: list[str]
    timings: dict[str, float]
    bytes_written: int
    kernel: dict[str, Any]
    parents: list[str]
    env: dict[str, Any]
    hardware: dict[str, Any]
    branches: list[str]
    tags: list[str]
    run: dict[str, Any]
    error: dict[str, Any]
    secrets: list[dict[str, str]]


class NotebookStatus(TypedDict):
    path: str
    exists: bool
    changed: bool
    cells: NotRequired[dict[str, int]]


class Status(TypedDict):
    """What a commit would record now, against HEAD (:func:`status`)."""

    branch: str
    head: str | None
    detached: bool
    notebook: NotebookStatus | None
    skipped: dict[str, str]
    variables: dict[str, str]
    data: dict[str, str]
    head_message: NotRequired[str]
    untracked_empty: NotRequired[list[str]]


class BranchInfo(TypedDict):
    name: str
    head: str | None
    current: bool


class TagInfo(TypedDict):
    name: str
    commit: str | None


class CheckoutResult(TypedDict):
    """What a checkout did (:func:`mlvc_server.service.checkout`)."""

    commit: str
    branch: str
    safety_commit: str | None
    notebook_written: bool
    variables: list[str]
    restored: list[str]
    failed: dict[str, str]
    #: The data checkout done with it (``data=``), or None when none was asked.
    data: DataCheckoutResult | None


class CompareTable(TypedDict):
    rows: list[dict[str, Any]]
    columns: dict[str, list[str]]
    best: dict[str, Any]


class SeriesTable(TypedDict):
    series: dict[str, dict[str, Any]]


class DataCheckoutResult(TypedDict):
    """What a data checkout did (:func:`mlvc_server.service.data_checkout`).

    Attributes:
        commit: the commit whose data was brought back.
        restored: files written (or, with ``dry_run``, that would be).
        unchanged: files already as the commit read them.
        not_captured: files the commit hashed without capturing their content.
        safety_copies: path -> where the current file was kept before it was replaced.
        bytes: bytes written.
        dry_run: nothing was written.
        sizes: path -> its size as the commit read it (files restored or not captured).
        current_sizes: path -> the size of the file there now (files restored that
            exist).
        safety: the name of this checkout's safety record, which
            :func:`mlvc_server.service.data_undo` takes to put the files back as they
            were (None when nothing was written).
    """

    commit: str
    restored: list[str]
    unchanged: list[str]
    not_captured: list[str]
    safety_copies: dict[str, str]
    bytes: int
    dry_run: bool
    sizes: dict[str, int]
    current_sizes: dict[str, int]
    safety: str | None


class DataUndoResult(TypedDict):
    """What undoing a data checkout did (:func:`mlvc_server.service.data_undo`).

    Attributes:
        safety: the checkout undone (its safety record).
        commit: the commit whose data that checkout had brought back.
        put_back: files put back as they were before the checkout (from their safety
            copies).
        removed: files the checkout had created (there was none before), removed.
        left_alone: path -> why it was not touched (changed since the checkout, its
            safety copy gone).
    """

    safety: str
    commit: str
    put_back: list[str]
    removed: list[str]
    left_alone: dict[str, str]


class DataFileDiff(TypedDict):
    """One data file in a data diff."""

    path: str
    status: str
    size_a: int | None
    size_b: int | None
    captured: bool
    schema: NotRequired[dict[str, Any]]
    rows: NotRequired[dict[str, Any]]
    note: NotRequired[str]


class DataDiff(TypedDict):
    """The data files two commits read (:func:`mlvc_server.service.data_diff`)."""

    a: str
    b: str
    key: str | None
    files: list[DataFileDiff]


# -- lineage ---------------------------------------------------------------------------
class LineageNode(TypedDict):
    """One node of a lineage graph (:func:`mlvc_server.service.lineage`).

    ``kind`` says which other fields it has:

    - ``commit``: ``commit`` (id), ``short_id``, ``notebook``, ``branch``, ``message``,
      ``author``, ``time``, ``status``; ``depth`` (0 for the commit asked about, +1 per
      data hop upstream); ``truncated`` when its inputs were not followed (depth limit).
    - ``data``: a file as a commit read it: ``path``, ``hash``, ``size``;
      ``producers`` (how many commits wrote this exact content, all shown or not).
    - ``source``: a local source file a commit imported: ``path``, ``blob`` (git id).
    - ``model``: a registered model version: ``name``, ``version``, ``variable``,
      ``commit``.
    - ``alias``: ``name``, ``alias``, ``version`` (the version it points at).
    - ``export``: an exported copy of a model version (``mlvc model export NAME@...``):
      ``name``, ``version``, ``format``, ``path``, ``user``, ``time``.
    """

    id: str
    kind: str
    label: str
    commit: NotRequired[str]
    short_id: NotRequired[str]
    notebook: NotRequired[str | None]
    branch: NotRequired[str | None]
    message: NotRequired[str]
    author: NotRequired[str]
    time: NotRequired[str]
    status: NotRequired[str]
    depth: NotRequired[int]
    truncated: NotRequired[bool]
    path: NotRequired[str]
    hash: NotRequired[str]
    size: NotRequired[int | None]
    producers: NotRequired[int]
    blob: NotRequired[str]
    name: NotRequired[str]
    version: NotRequired[int]
    variable: NotRequired[str]
    alias: NotRequired[str]
    format: NotRequired[str]
    user: NotRequired[str]


#: One edge of a lineage graph, in the direction data flows: ``from`` the producer
#: ``to`` what it made. Labels: ``wrote`` (commit -> data; ``wrote PATH`` when the
#: producer wrote the same content under another path), ``read`` (data -> commit),
#: ``imported`` (source -> commit), ``registered`` (commit -> model), ``alias``
#: (model -> alias), ``exported`` (model -> export).
LineageEdge = TypedDict("LineageEdge", {"from": str, "to": str, "label": str})


class Lineage(TypedDict):
    """Where a commit or a model version came from (:func:`mlvc_server.service.lineage`).

    Attributes:
        root: the id of the node asked about (a commit or a model version).
        nodes: every node, the root first, then in the order they were found.
        edges: the edges, in the direction data flows.
        truncated: some inputs were not followed (the depth or node limit).
    """

    root: str
    nodes: list[LineageNode]
    edges: list[LineageEdge]
    truncated: bool


# -- the model registry (service/registry.py) -------------------------------------------
class ModelVersion(TypedDict):
    """One registered version of a model: which variable of which commit."""

    name: str
    version: int
    commit: str
    short_id: str
    variable: str
    notebook: str | None
    branch: str | None
    registered_by: str
    time: str
    message: str
    params: dict[str, Any]
    metrics: dict[str, Any]
    kind: str
    aliases: list[str]
    exports: NotRequired[list[ExportRecord]]


class ExportRecord(TypedDict):
    """One export of a model version (``mlvc model export NAME@...``), newest first."""

    format: str
    path: str
    user: str
    time: str


class GateSettings(TypedDict):
    """The gates a promotion to one alias must pass (none set: any promotion passes)."""

    metrics: str | None
    evaluated: bool
    approvals: int


class ModelInfo(TypedDict):
    """A registered model: its versions (newest first), aliases and gates."""

    name: str
    versions: list[ModelVersion]
    aliases: dict[str, int]
    gates: dict[str, GateSettings]
    latest: int


class GateResult(TypedDict):
    """One gate checked for a promotion."""

    gate: str
    ok: bool
    detail: str


class RegistryEvent(TypedDict):
    """One recorded change of a model (``id`` is its event commit)."""

    id: str
    type: str
    user: str
    time: str
    version: int | None
    alias: str | None
    previous: int | None
    reason: str
    gates: list[GateResult]


class Promotion(TypedDict):
    """What a promotion (or a rollback) did; ``promoted`` is False for a dry run."""

    name: str
    alias: str
    version: int
    previous: int | None
    promoted: bool
    gates: list[GateResult]
    event: RegistryEvent | None


class ExportedModel(TypedDict):
    """Which model an export holds: a registered ``name`` and ``version`` (None when it
    was named as ``REV:VARIABLE``), its ``commit`` and ``variable``."""

    name: str | None
    version: int | None
    commit: str
    variable: str


class ExportResult(TypedDict):
    """What :func:`mlvc_server.service.export` wrote: the ``format``, the folder
    (``path``), the ``files`` in it (relative), the ``model`` and the ``checks`` run on
    it (``reload``: the export loaded in a fresh process predicts as the original;
    ``onnx``: ONNX Runtime's outputs against the original's, within a tolerance)."""

    format: str
    path: str
    files: list[str]
    model: ExportedModel
    checks: dict[str, Any]
