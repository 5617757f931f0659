"""Errors of the runtime layer (use cases over storage and the engine)."""

from __future__ import annotations


class RuntimeLayerError(Exception):
    """Base of every error raised by chalicelib.runtime."""


class ConflictError(RuntimeLayerError):
    """A turn could not commit after its retries: the session kept changing (HTTP 409)."""


class NoPreviousStepError(RuntimeLayerError):
    """Back was asked for at the first step."""


class ProtectedVariableError(RuntimeLayerError):
    """A caller asked to set or delete a name the interview does not own (HTTP 400)."""


class InvalidLinkError(RuntimeLayerError):
    """An action link that is malformed, or not made for this session (HTTP 400)."""

    def __init__(self, message: str, title: str) -> None:
        super().__init__(message)
        self.title = title


class WeakSecretError(RuntimeLayerError):
    """A caller-chosen session secret is too short to protect the session (HTTP 400)."""


class CronEventError(RuntimeLayerError):
    """A scheduled pass was asked for with a name no interview block could define (HTTP 400)."""


class StashError(RuntimeLayerError):
    """Stashed data that cannot be had: no such key, a wrong secret, or expired (HTTP 400)."""


class SendError(RuntimeLayerError):
    """SES or SNS did not take a message: a fault that may pass (throttling, the network); retried."""


class SendRejectedError(SendError):
    """SES or SNS refused the message for good (an unverified sender, an invalid address); not retried."""


class OtherSessionError(RuntimeLayerError):
    """A call on another session (create_session, set_session_variables, ...) that cannot be made: the
    session is missing, the secret does not open it, it is the current session, or this turn cannot
    change other sessions (HTTP 400)."""
