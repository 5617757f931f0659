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

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from chalicelib.language.missing import MissingVariable

__all__ = [
    "BUTTON_COMMANDS", "UI_NOTIFICATIONS", "BackgroundResponseActionSignal", "BackgroundResponseSignal", "Command",
    "CommandSignal", "ForceAskSignal", "MessageSignal", "MissingVariable", "ResponseSignal", "Signal",
    "UiNotification",
]


class Command(enum.StrEnum):
    """What `command()` may end a turn with, and what a command button's value may name.

    A value that is saved (a button of a rendered screen) is the plain string (`.value`),
    so a pickle never names this class."""

    EXIT = "exit"  # delete the answers and leave (to `url`, if given)
    EXIT_LOGOUT = "exit_logout"
    LOGOUT = "logout"
    LEAVE = "leave"  # leave, keeping the answers
    RESTART = "restart"  # start the interview again in the same session
    NEW_SESSION = "new_session"
    REFRESH = "refresh"
    CONTINUE = "continue"
    WAIT = "wait"  # show a page that reloads itself after `sleep` seconds
    SIGNIN = "signin"
    REGISTER = "register"
    INTERVIEW_EXIT = "interview_exit"


# The commands a command button may name; any other button value is a URL to leave to.
BUTTON_COMMANDS = frozenset({Command.EXIT, Command.LEAVE, Command.RESTART, Command.NEW_SESSION, Command.REFRESH,
                             Command.CONTINUE})


class UiNotification(enum.StrEnum):
    """How the page shows what background or check-in code answered: the `extra` of a check-in
    command (static/checkin.js). Stored with a task as the plain string."""

    FLASH = "flash"  # the value is a message shown at the top of the page
    JAVASCRIPT = "javascript"  # the value is JavaScript the page runs
    FIELDS = "fields"  # the value sets fields (values or choices) of the page
    REFRESH = "refresh"  # the page reloads
    BACKGROUND_RESPONSE = "backgroundresponse"  # none of these was asked for: the value fills `[TARGET]`s


# The kinds `background_response()` and `background_action()` accept (a tuple: authors pass any value).
UI_NOTIFICATIONS = (UiNotification.FLASH, UiNotification.JAVASCRIPT, UiNotification.FIELDS, UiNotification.REFRESH)


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

    kind: str = Command.EXIT
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
    kind: str | None = None  # one of UI_NOTIFICATIONS, or None
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
