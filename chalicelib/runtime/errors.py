"""Errors of the runtime layer (use cases over storage and the engine)."""

from __future__ import annotations


class RuntimeLayerError(Exception):
    """Base of every error raised by chalicelib.runtime."""


class ConflictError(RuntimeLayerError):
    """A turn could not commit after its retries: the session kept changing (HTTP 409)."""


class NoPreviousStepError(RuntimeLayerError):
    """Back was asked for at the first step."""


class WeakSecretError(RuntimeLayerError):
    """A caller-chosen session secret is too short to protect the session (HTTP 400)."""
