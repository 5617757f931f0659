"""Errors of the storage layer: one base, each case its own class."""

from __future__ import annotations


class StorageError(Exception):
    """Base of every error raised by chalicelib.storage."""


class SessionNotFoundError(StorageError):
    """Raised when no session has the given interview and session id."""


class SessionExistsError(StorageError):
    """Raised when creating a session whose id is already taken."""


class VersionConflictError(StorageError):
    """Raised when a commit finds the session changed since it was read."""


class WrongSecretError(StorageError):
    """Raised when the secret given does not open an encrypted session."""


class TamperedDataError(StorageError):
    """Raised when a stored item fails its authentication check; it is never unpickled."""


class TaskStateError(StorageError):
    """Raised when a task write finds the task in another state than expected
    (claimed by another worker, already finished, or already created)."""


class AlreadyAppliedError(StorageError):
    """Raised when a commit carries the mark of an effect from another session that is there already:
    that effect was applied before (storage.effects); nothing was written."""


class AccountError(StorageError):
    """Raised for bad account operations (duplicate e-mail, bad password, ...)."""
