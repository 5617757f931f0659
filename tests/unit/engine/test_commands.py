"""The fixed lists of commands and of UI notifications, as interview code meets them."""

from __future__ import annotations

import pickle

import pytest

from chalicelib.engine.errors import InterviewCodeError
from chalicelib.engine.screen import OutcomeKind
from chalicelib.engine.signals import BUTTON_COMMANDS, UI_NOTIFICATIONS, Command, UiNotification
from chalicelib.runtime.checkin import checkin_commands
from tests.unit.engine.harness import Run


@pytest.mark.parametrize("command", list(Command))
def test_every_command_ends_the_turn_with_that_command(command: Command) -> None:
    outcome = Run(f"mandatory: True\ncode: |\n  command('{command}')\n").turn()
    assert (outcome.kind, outcome.command) == (OutcomeKind.COMMAND, command)


def test_an_unknown_command_is_refused_naming_every_known_one() -> None:
    with pytest.raises(InterviewCodeError) as caught:
        Run("mandatory: True\ncode: |\n  command('exitt')\n").turn()
    assert all(str(command) in str(caught.value) for command in Command)


def test_the_buttons_of_a_message_are_commands_saved_as_plain_strings() -> None:
    view = Run("mandatory: True\ncode: |\n  message('Over', show_leave=True)\n").turn().screen
    assert view is not None
    assert [b.value for b in view.buttons] == [Command.LEAVE, Command.RESTART]
    assert all(type(b.value) is str and b.value in BUTTON_COMMANDS for b in view.buttons)
    assert b"Command" not in pickle.dumps(view)


_CHECK_IN = """\
question: Hi
field: ok
check in: ping
---
mandatory: True
code: ok
---
event: ping
code: |
  background_response({reply})
"""


def _check_in(reply: str) -> list[dict[str, object]]:
    run = Run(_CHECK_IN.format(reply=reply))
    run.turn()
    outcome = run.turn(action="ping", arguments={}, persistent_action=False, interface="checkin")
    assert outcome.kind is OutcomeKind.BACKGROUND
    return checkin_commands("ping", outcome)


@pytest.mark.parametrize("kind", UI_NOTIFICATIONS)
def test_every_ui_notification_reaches_the_page_as_the_check_in_command_extra(kind: UiNotification) -> None:
    (command,) = _check_in(f"'hello', '{kind}'")
    assert command["extra"] == kind
    assert command["value"] == (None if kind == UiNotification.REFRESH else "hello")


def test_a_reply_of_no_kind_fills_the_pages_targets() -> None:
    assert _check_in("'hello'") == [{"action": "ping", "value": "hello", "extra": UiNotification.BACKGROUND_RESPONSE}]
    assert _check_in("'refresh'") == [{"action": "ping", "value": None, "extra": UiNotification.REFRESH}]


def test_background_action_refuses_an_unknown_ui_notification_naming_the_known_ones() -> None:
    with pytest.raises(InterviewCodeError) as caught:
        Run("mandatory: True\ncode: |\n  background_action('bg', 'flashy')\n").turn()
    assert all(f"'{kind}'" in str(caught.value) for kind in UI_NOTIFICATIONS)
