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
