"""Errors of the engine: problems found while evaluating an interview."""

from __future__ import annotations


class EngineError(Exception):
    """Base of every error raised by chalicelib.engine."""


class BadVariableNameError(EngineError):
    """Raised when a posted variable name is not a plain name, attribute or subscript."""


class UndefinedVariableError(EngineError):
    """No block of the interview can define a name that the interview needs."""

    def __init__(self, name: str, interview: str) -> None:
        self.name = name
        super().__init__(
            f"the interview {interview} needs {name!r}, but no question or code block defines it; "
            f"add a block that sets {name}"
        )


class InterviewCodeError(EngineError):
    """Author code raised an exception; carries the block and the traceback text."""

    def __init__(self, where: str, error: BaseException, trace: str, variables: list[str] | None = None) -> None:
        self.where = where
        self.error = error
        self.trace = trace
        self.variables = list(variables or [])  # the names being sought when it failed, newest first
        super().__init__(f"{type(error).__name__} in {where}: {error}")


class LoopError(EngineError):
    """The interview keeps asking for the same thing without progress."""
