"""What the engine produces: a rendered screen or another outcome of a turn.

These records are plain data (HTML strings, values) so that the web layer and
the REST API can present them without touching the answers again.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from chalicelib.language.blocks import Screen


@dataclass(frozen=True)
class RenderedChoice:
    value: str  # the form value; for buttons and fixed choices, the position as text
    label: str  # HTML
    selected: bool = False
    help: str = ""


@dataclass(frozen=True)
class RenderedField:
    variable: str | None  # the concrete target, e.g. people[0].name.first
    label: str  # HTML
    datatype: str
    required: bool
    value: Any = None  # current value or default, for pre-filling
    choices: tuple[RenderedChoice, ...] = ()
    hint: str = ""
    help: str = ""
    note: str = ""  # HTML of a note/html item (no variable)
    minimum: Any = None
    maximum: Any = None
    minlength: int | None = None
    maxlength: int | None = None
    input_type: str | None = None
    js_show_if: str | None = None
    js_hide_if: str | None = None
    js_enable_if: str | None = None
    js_disable_if: str | None = None
    choice_values: tuple[Any, ...] = ()  # the real values behind `choices`, by position


@dataclass(frozen=True)
class RenderedButton:
    label: str  # HTML
    value: Any  # the value set (or the command to run)
    is_command: bool = False


@dataclass(frozen=True)
class RenderedAttachment:
    name: str
    description: str
    file_id: str
    filename: str  # without extension
    formats: tuple[str, ...]


@dataclass(frozen=True)
class ScreenView:
    """One screen, ready to show."""

    block: str
    kind: Screen
    question: str  # HTML (inline)
    subquestion: str = ""
    under: str = ""
    right: str = ""
    help: str = ""
    fields: tuple[RenderedField, ...] = ()
    buttons: tuple[RenderedButton, ...] = ()
    variable: str | None = None  # the `field:`/`yesno:` variable
    continue_label: str = "Continue"
    continue_field: str | None = None
    reload_seconds: float | None = None
    check_in: str | None = None
    prevent_back: bool = False
    event_list: tuple[str, ...] = ()
    mandatory: bool = False
    question_id: str | None = None
    is_message: bool = False
    message_url: str | None = None
    attachments: tuple[RenderedAttachment, ...] = ()


class MessagePriority(enum.StrEnum):
    """The priority of a `log()` message: LOG goes to the server log only; the others are also shown
    (a flash in the browser, the API's `message_log`), styled by priority."""

    LOG = "log"
    INFO = "info"
    SUCCESS = "success"
    WARNING = "warning"
    DANGER = "danger"
    ERROR = "error"


class OutcomeKind(enum.Enum):
    SCREEN = "screen"
    RESPONSE = "response"
    COMMAND = "command"
    BACKGROUND = "background_response"  # background or check-in code ended with background_response()
    CALLBACK = "background_response_action"  # background code asked for a callback action


@dataclass(frozen=True)
class Outcome:
    kind: OutcomeKind
    screen: ScreenView | None = None
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"
    status: int = 200
    url: str | None = None
    command: str | None = None  # a signals.Command
    sleep: float | None = None
    variable: str | None = None
    save: bool = True
    message_log: tuple[dict[str, str], ...] = field(default_factory=tuple)
    value: Any = None  # background_response's value
    ui: str | None = None  # background_response's kind: one of signals.UI_NOTIFICATIONS, or None
    action: str | None = None  # background_response_action's callback
    arguments: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FieldError:
    variable: str
    message: str
