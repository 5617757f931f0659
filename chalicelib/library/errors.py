"""Errors of the library layer: what the functions and objects interview code calls raise."""

from __future__ import annotations


class LibraryError(Exception):
    """Base of every error raised by chalicelib.library."""


class TaskWaitTimeoutError(LibraryError, TimeoutError):
    """`task.wait()` (or `get()`, `result()`, `failed()`) gave up: the task did not finish in time."""
