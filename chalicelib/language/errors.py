"""Author-facing errors of the language layer.

Every error names the file, the line and the block (its position in the file,
counting from 1), and says what was expected and what to do.
"""

from __future__ import annotations


class InterviewError(Exception):
    """Base of every error raised by chalicelib.language."""


class InterviewNotFoundError(InterviewError):
    """Raised when no folder on the interview path holds the requested file."""


class InterviewSyntaxError(InterviewError):
    """A YAML or structure problem in an interview file."""

    def __init__(self, message: str, *, file: str, line: int, block: int | None = None,
                 hint: str = "") -> None:
        self.message = message
        self.file = file
        self.line = line
        self.block = block
        self.hint = hint
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.file}, line {self.line}"
        if self.block is not None:
            where += f", block {self.block}"
        text = f"{where}: {self.message}"
        if not self.hint:
            return text
        return f"{text}{'' if text.endswith(('.', '?', '!')) else '.'} {self.hint}"
