"""Control-flow signals: exceptions that stop interview code on purpose.

Author code ends a turn early by calling `response()`, `command()`,
`message()`, `force_ask()` and friends (chalicelib.library), which raise one of
these. The evaluator catches them and turns them into an Outcome. None of them
is an error, so none ends in "Error" (the house style's rule for signals).

`MissingVariable` is how the evaluator learns what to seek next: objects and
the Mako context raise it with the full name (e.g. ``user.name.first``)
instead of a bare AttributeError, so no exception text is ever parsed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from chalicelib.language.missing import MissingVariable

__all__ = [
    "BackgroundResponseActionSignal", "BackgroundResponseSignal", "CommandSignal", "ForceAskSignal",
    "MessageSignal", "MissingVariable", "ResponseSignal", "Signal",
]


class Signal(Exception):  # a signal, not an error
    """Base of every control-flow signal (MissingVariable aside, see language.missing)."""


@dataclass
class ResponseSignal(Signal):
    """`response()`/`json_response()`: send this body instead of a screen."""

    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"
    status: int = 200
    url: str | None = None  # response(url=...) is a redirect
    null: bool = False  # response(null=True): the turn saves nothing
    all_variables: bool = False

    def __post_init__(self) -> None:
        Exception.__init__(self, "response")


@dataclass
class CommandSignal(Signal):
    """`command()`: exit, leave, restart, refresh, new_session, wait, ..."""

    kind: str = "exit"
    url: str | None = None
    sleep: float | None = None
    question_text: str | None = None
    subquestion_text: str | None = None

    def __post_init__(self) -> None:
        Exception.__init__(self, f"command {self.kind}")


@dataclass
class MessageSignal(Signal):
    """`message()`: a one-off screen made in code."""

    question: str = ""
    subquestion: str | None = None
    url: str | None = None
    show_exit: bool | None = None
    show_leave: bool | None = None
    show_restart: bool | None = None
    buttons: Sequence[Mapping[str, Any]] | None = None
    dead_end: bool = False
    reload: float | None = None

    def __post_init__(self) -> None:
        Exception.__init__(self, "message")


@dataclass
class ForceAskSignal(Signal):
    """`force_ask(...)`: ask these variables (or run these actions) now, in order."""

    items: list[Any] = field(default_factory=list)

    def __post_init__(self) -> None:
        Exception.__init__(self, "force_ask")


@dataclass
class BackgroundResponseSignal(Signal):
    """`background_response(...)`: the end of background or check-in code."""

    value: Any = None
    kind: str | None = None  # flash | javascript | fields | refresh | None
    sleep: float | None = None

    def __post_init__(self) -> None:
        Exception.__init__(self, "background_response")


@dataclass
class BackgroundResponseActionSignal(Signal):
    """`background_response_action(action, **kw)`: end background code, run a callback."""

    action: str = ""
    arguments: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        Exception.__init__(self, "background_response_action")
