"""What a check-in turn reads from the screen and answers the page.

A page with `check in` posts its fields' raw values every few seconds; the
screen's action runs with them as arguments (`checkin_arguments`), and how it
ended becomes docassemble's check-in commands (`checkin_commands`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalicelib.engine.render import normalize_choices
from chalicelib.engine.screen import Outcome, OutcomeKind, ScreenView
from chalicelib.engine.signals import UI_NOTIFICATIONS, UiNotification
from chalicelib.engine.state import SessionState
from chalicelib.language.markup import escape_html


def checkin_arguments(view: ScreenView, parameters: Mapping[str, Any]) -> dict[str, Any]:
    """The check-in action's arguments: the raw values by variable name. Choice fields post
    the choice's position; the action gets the choice's value as text, as in docassemble."""
    arguments = {str(k): v for k, v in parameters.items() if not str(k).startswith("_")}
    for shown in view.fields:
        if shown.variable is None or shown.variable not in arguments or not shown.choice_values:
            continue
        positions = {c.value: str(v) for c, v in zip(shown.choices, shown.choice_values, strict=False)}
        raw = arguments[shown.variable]
        arguments[shown.variable] = [positions.get(str(r), r) for r in raw] if isinstance(raw, list) \
            else positions.get(str(raw), raw)
    return arguments


def follow_replaced_choices(outcome: Outcome | None, state: SessionState) -> None:
    """A check-in that replaces a dropdown's choices changes what the page offers; the saved
    screen follows, so the answer posted later (a choice's position) is read against the
    choices the user saw."""
    if outcome is None or outcome.kind is not OutcomeKind.BACKGROUND or outcome.ui != UiNotification.FIELDS \
            or not isinstance(outcome.value, Mapping):
        return
    state.replace_choices({name: normalize_choices(spec["choices"]) for name, spec in outcome.value.items()
                           if isinstance(spec, Mapping) and "choices" in spec})


def checkin_commands(action: str, outcome: Outcome | None) -> list[dict[str, Any]]:
    """The check-in commands ({action, value, extra}, as docassemble sends them) for how the action ended."""
    if outcome is None or outcome.kind is not OutcomeKind.BACKGROUND:
        return []
    if outcome.ui == UiNotification.REFRESH:
        return [{"action": action, "value": None, "extra": UiNotification.REFRESH.value}]
    if outcome.ui in UI_NOTIFICATIONS:
        return [{"action": action, "value": outcome.value, "extra": outcome.ui}]
    if outcome.value is None:
        return []
    return [{"action": action, "value": target_html(outcome.value), "extra": UiNotification.BACKGROUND_RESPONSE.value}]


def target_html(value: Any) -> Any:
    """A reply for `[TARGET]`s, with each `content` made HTML the page may insert as is: text is
    escaped, and only markup (a template's content, or a value code marked as `Markup`) passes,
    sanitized."""
    items = value if isinstance(value, list) else [value]
    out = [{**item, "content": escape_html(item.get("content") if item.get("content") is not None else "")}
           if isinstance(item, Mapping) and "target" in item else item for item in items]
    return out if isinstance(value, list) else out[0]
