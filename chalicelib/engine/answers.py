"""Apply a user's answer to the screen they were shown.

The screen kept in the session state (`SessionState.screen`) says which
variables the screen asked for; only those can be set. A posted value for any
other name is ignored. If any value is invalid, nothing is set and the errors
are returned so that the same screen is shown again with a message per field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.engine import assign
from chalicelib.engine.convert import InvalidInput, convert
from chalicelib.engine.errors import EngineError
from chalicelib.engine.screen import FieldError, ScreenView
from chalicelib.engine.state import SessionState
from chalicelib.language.blocks import Screen


class StaleScreenError(EngineError):
    """The answer was for a screen that is no longer the current one."""


@dataclass(frozen=True)
class Answer:
    """What the user sent for the current screen.

    `values` maps variable names to raw values; `button` is the position of the
    pressed button (as text), if any.
    """

    values: Mapping[str, Any]
    button: str | None = None


@dataclass(frozen=True)
class Applied:
    errors: tuple[FieldError, ...] = ()
    command: Any = None  # a command button's value (exit, restart, ...)


def apply_answer(answers: dict[str, Any], state: SessionState, answer: Answer) -> Applied:
    """Validate and assign; on any error assign nothing."""
    view = state.screen
    if view is None:
        raise StaleScreenError("there is no question waiting for an answer")
    if view.kind is Screen.DEADEND:
        return Applied()  # an end screen takes no answer: a post to it changes nothing
    updates, errors, command = _collect(view, answer)
    if errors:
        return Applied(errors=tuple(errors))
    for name, value in updates.items():
        assign.assign(answers, name, value)
    state.forget_prior(updates)
    pending = state.current_action()
    if view.event_list and pending is not None and pending.name in view.event_list:
        state.pop_action(pending.name)
    if view.mandatory and command is None:
        state.mark_answered(view.block)
    state.screen_answered()
    return Applied(command=command)


def _collect(view: ScreenView, answer: Answer) -> tuple[dict[str, Any], list[FieldError], Any]:
    updates: dict[str, Any] = {}
    errors: list[FieldError] = []
    command = None
    if view.kind is Screen.FIELDS:
        for shown in view.fields:
            if shown.variable is None:
                continue
            try:
                updates[shown.variable] = convert(shown, answer.values.get(shown.variable))
            except InvalidInput as err:
                errors.append(FieldError(shown.variable, str(err)))
        if view.continue_field:
            updates[view.continue_field] = True
    elif view.kind is Screen.CONTINUE and view.variable:
        updates[view.variable] = True
    elif view.buttons:
        button = _pressed(view, answer)
        if button is None:
            errors.append(FieldError(view.variable or "_button", "Choose one of the buttons."))
        elif button.is_command:
            command = button.value
        elif view.variable:
            updates[view.variable] = button.value
    return updates, errors, command


def _pressed(view: ScreenView, answer: Answer) -> Any:
    raw = answer.button
    if raw is None and view.variable is not None:
        raw = _api_button(view, answer.values.get(view.variable))
    try:
        index = int(str(raw))
    except (TypeError, ValueError):
        return None
    return view.buttons[index] if 0 <= index < len(view.buttons) else None


def _api_button(view: ScreenView, value: Any) -> str | None:
    """API clients send the value itself; find the button that sets it."""
    if value is None and view.variable is None:
        return None
    for index, button in enumerate(view.buttons):
        if button.value == value or str(button.value) == str(value):
            return str(index)
    return None
