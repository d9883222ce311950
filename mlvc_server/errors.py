"""The one exception family of mlvc. Front ends translate these into their own errors."""

from __future__ import annotations


class MlvcError(Exception):
    """Base class of every error mlvc raises on purpose."""


class NotARepositoryError(MlvcError):
    """No `.mlvc/` store was found at or above the given path."""


class RevisionNotFoundError(MlvcError):
    """A revision (id, branch, tag, HEAD~N) does not name a commit."""


class InvalidNameError(MlvcError):
    """A branch, tag or variable name is not allowed."""


class RefConflictError(MlvcError):
    """A ref moved under us (compare-and-swap failed) or already exists."""


class SerializationError(MlvcError):
    """A variable could not be written or read in its format."""


class UnsupportedTypeError(SerializationError):
    """No serializer accepts this object (and pickle was not allowed)."""


class TooLargeError(UnsupportedTypeError):
    """The pickle grew past the size limit while being written."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"its pickle exceeds the size limit of {limit} bytes")
        self.limit = limit


class SerializationTimeoutError(UnsupportedTypeError):
    """Serializing a value took longer than the time limit."""


class TrustError(MlvcError):
    """Loading this payload would execute code (pickle) that the user did not trust."""


class CorruptObjectError(MlvcError):
    """A stored object does not hash to its id, or is missing."""


class NoSpaceError(MlvcError):
    """The disk (or a quota, or a file size limit) had no room for a write to the store;
    nothing was committed."""


class PayloadMissingError(CorruptObjectError):
    """A variable's payload bytes are not in the store (pruned by retention, or never
    fetched) and no payload remote could supply them."""


class RemoteNotFoundError(MlvcError):
    """No remote of that name is configured (or none at all)."""


class VariableNotFoundError(MlvcError):
    """The commit holds no variable of that name."""


class RemoteError(MlvcError):
    """The git remote could not be reached, or refused the push."""


class DivergedError(MlvcError):
    """Some refs were not pushed: the remote has commits the local branch lacks."""


class PayloadRemoteError(MlvcError):
    """The payload remote could not be reached, or refused a read or write."""


class DataNotFoundError(MlvcError):
    """A commit read no such data file, or did not capture its content."""


class EvaluationError(MlvcError):
    """An evaluation of two model versions cannot run on the input given (the message
    says what to change)."""


class MissingColumnError(EvaluationError):
    """The data lacks a column the evaluation needs (the target, a slice, a feature)."""


class FeatureMismatchError(EvaluationError):
    """The two models need features the data does not provide in the same way."""


class RowCountError(EvaluationError):
    """Predictions and data (or the two models' predictions) have different row counts."""


class PredictionTypeError(EvaluationError):
    """A metric cannot use the predictions (non-numeric for a regression metric...)."""


class NotAModelError(EvaluationError):
    """The variable asked for (or every variable of the commit) is not a model."""


class QueryError(MlvcError):
    """A query (``--where``, ``?where=``, ``--require``) does not parse or names an unknown
    field. The message names the column and shows the query with a caret under the bad
    token.

    Attributes:
        query: the query text.
        column: the 1-based column of the bad token (0 when it is the whole query).
        token: the bad token's text.
    """

    def __init__(self, message: str, *, query: str = "", column: int = 0, token: str = "") -> None:
        super().__init__(message)
        self.query = query
        self.column = column
        self.token = token


class MlvcCommandError(MlvcError):
    """An ``%mlvc`` command failed; IPython shows it as one red line, not a traceback."""

    def _render_traceback_(self) -> list[str]:
        return [f"\x1b[0;31mmlvc: {self}\x1b[0m"]


class KernelCallError(MlvcError):
    """A notebook's kernel could not do what the server or ``mlvc run`` asked.

    Attributes:
        reason: ``KernelBusy`` (it did not start the request in time),
            ``KernelUnavailable`` (it cannot run mlvc, or died), ``KernelProtocol``
            (an unreadable reply) or ``KernelError`` (mlvc failed inside it).
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class NotebookUnknownError(MlvcError):
    """The kernel cannot tell which notebook it runs (a runner with several notebooks):
    name it with ``--notebook PATH`` or ``MLVC_NOTEBOOK``."""


class DamagedRefError(MlvcError):
    """A ref's file is empty, holds garbage or names an object the store lacks; the
    message names the repair command (``mlvc fsck --repair``)."""


class RefLockedError(RefConflictError):
    """A ref stayed locked by another writer (about 2.5 s) and was not moved."""


class ReadOnlyStoreError(MlvcError):
    """The store cannot be written (a read-only file system, or no write permission)."""


class RemoteRefusedError(MlvcError):
    """A remote sent something that may not enter the store (a bad ref name or object id);
    nothing was changed."""


class RegistryError(MlvcError):
    """A model registry operation cannot be done as asked (a missing reason, an unknown
    alias, a version the alias already holds...); the message says why."""


class ModelNotFoundError(RegistryError):
    """No registered model of that name, or no such version or alias of it."""


class GateFailedError(RegistryError):
    """A promotion gate failed; nothing changed. ``gates`` holds every gate's result
    (``GateResult`` dicts) and the message names each failed gate."""

    def __init__(self, message: str, gates: list[dict[str, object]] | None = None) -> None:
        super().__init__(message)
        self.gates = list(gates or [])


class RegistryConflictError(RefConflictError):
    """A model's registry ref kept moving under concurrent writers; nothing changed
    (try again)."""


class ExportError(MlvcError):
    """A model cannot be exported as asked (a bad spec, format or folder); nothing was
    written."""


class UnsupportedExportError(ExportError):
    """The export format cannot hold this kind of model; the message names the kinds it
    supports."""


class ExportCheckError(ExportError):
    """The exported model does not reproduce the original's outputs (within the stated
    tolerance); nothing was written."""


class JobNotCancellableError(MlvcError):
    """A server job that cannot be cancelled (a push or pull: only sweeps can)."""


#: HTTP status for each mlvc error class, for every front end that speaks HTTP; the
#: first match in order wins, anything else in the MlvcError family is a 400.
HTTP_STATUS: tuple[tuple[type[MlvcError], int], ...] = (
    (NotARepositoryError, 404),
    (RevisionNotFoundError, 404),
    (RemoteNotFoundError, 404),
    (VariableNotFoundError, 404),
    (ModelNotFoundError, 404),
    (GateFailedError, 409),
    (JobNotCancellableError, 409),
    (DataNotFoundError, 404),
    (InvalidNameError, 400),
    (QueryError, 400),
    (NotebookUnknownError, 400),
    (TrustError, 403),
    (DamagedRefError, 409),
    (ReadOnlyStoreError, 409),
    (RemoteRefusedError, 502),
    (RefConflictError, 409),
    (DivergedError, 409),
    (CorruptObjectError, 409),
    (SerializationError, 422),
    (EvaluationError, 422),
    (ExportError, 422),
    (NoSpaceError, 507),
    (RemoteError, 502),
    (PayloadRemoteError, 502),
)

#: HTTP status of a :class:`KernelCallError` by its reason.
KERNEL_CALL_STATUS: dict[str, int] = {
    "KernelBusy": 409,
    "KernelUnavailable": 409,
    "KernelProtocol": 500,
    "KernelError": 500,
}


def http_status(exc: MlvcError) -> int:
    """The HTTP status a front end answers for ``exc``."""
    if isinstance(exc, KernelCallError):
        return KERNEL_CALL_STATUS.get(exc.reason, 500)
    return next((code for cls, code in HTTP_STATUS if isinstance(exc, cls)), 400)


def by_name(name: str, message: str) -> MlvcError | None:
    """An error of the :mod:`mlvc_server.errors` class called ``name`` (as a kernel
    reports it), or None when there is no such class."""
    cls = globals().get(name)
    if isinstance(cls, type) and issubclass(cls, MlvcError) and cls is not KernelCallError:
        return cls(message)
    return None
