"""The plain records the session use cases take (runtime.sessions re-exports them), kept apart so
that modules `Sessions` itself uses (push_pull, effects) can name them without a circle."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from chalicelib.engine.request import Upload

SESSION_ID_LENGTH = 32


@dataclass(frozen=True)
class SessionRef:
    interview: str
    session_id: str
    secret: str | None = None
    key: bytes | None = field(default=None, repr=False)  # the session key itself (background tasks)


@dataclass(frozen=True)
class VariableChanges:
    """What an API client sets: values to assign, names to delete, the question it answered
    (a mandatory one then counts as done) and the events it dealt with."""

    values: Mapping[str, Any] = field(default_factory=dict)
    delete: Sequence[str] = ()
    question_name: str | None = None
    events_done: Sequence[str] = ()
    raw: bool = False  # set the values as sent; otherwise text that begins with an ISO date is set as a date
    files: Mapping[str, Sequence[Upload]] = field(default_factory=dict)  # uploads, set as DAFileLists
