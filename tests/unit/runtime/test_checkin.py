"""Check-in on in-memory stores: the `check in` action's reply, and the notifications of
finished tasks, each delivered to one check-in (Sessions.checkin)."""

from __future__ import annotations

from tests.unit.runtime.conftest import Runtime

CHECK_IN = """\
    mandatory: True
    code: |
      checkins = 0
    ---
    mandatory: True
    question: |
      Type a note
    fields:
      - Note: note
        required: False
    check in: echo
    ---
    event: echo
    code: |
      checkins += 1
      background_response('saw ' + action_argument('note'), 'flash')
"""

NO_CHECK_IN = """\
    mandatory: True
    code: |
      checkins = 0
    ---
    mandatory: True
    question: |
      Nothing to check
    fields:
      - Note: note
"""

NOTIFYING = """\
    mandatory: True
    code: |
      the_task = background_action('bg_task', 'flash', word='plum')
    ---
    event: bg_task
    code: |
      background_response('ripe ' + action_argument('word'))
    ---
    mandatory: True
    question: |
      Waiting for the plum
"""


def test_a_screen_with_check_in_returns_its_actions_commands(runtime: Runtime) -> None:
    # Given: a screen whose `check in` action flashes what it was sent
    ref, _ = runtime.sessions.start(runtime.interview("check_in.yml", CHECK_IN))

    # When: the page checks in twice with the field's current value
    first = runtime.sessions.checkin(ref, {"note": "plum"}, changed="note")
    second = runtime.sessions.checkin(ref, {"note": "pear"})

    # Then: each check-in gets the action's reply, and the action's changes are saved
    assert first == [{"action": "echo", "value": "saw plum", "extra": "flash"}]
    assert second == [{"action": "echo", "value": "saw pear", "extra": "flash"}]
    assert runtime.answers(ref)["checkins"] == 2


def test_a_screen_without_check_in_is_only_read(runtime: Runtime) -> None:
    # Given: a screen with no `check in`
    ref, started = runtime.sessions.start(runtime.interview("no_check_in.yml", NO_CHECK_IN))

    # When: the page checks in
    commands = runtime.sessions.checkin(ref, {"note": "plum"})

    # Then: no command, and nothing was written to the session
    assert commands == []
    head = runtime.sessions.read(ref).head
    assert head.version == started.head.version


def test_a_finished_tasks_notification_is_delivered_to_one_check_in(runtime: Runtime) -> None:
    # Given: a session whose task, started with ui_notification 'flash', is done
    ref, _ = runtime.sessions.start(runtime.interview("notifying.yml", NOTIFYING))
    assert runtime.sessions.checkin(ref) == []  # not done yet: nothing to say
    assert runtime.work() == 1

    # When: the page checks in twice
    first = runtime.sessions.checkin(ref)
    second = runtime.sessions.checkin(ref)

    # Then: the first check-in gets the task's value as a flash, the second nothing
    assert first == [{"action": "bg_task", "value": "ripe plum", "extra": "flash"}]
    assert second == []
