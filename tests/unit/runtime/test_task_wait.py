"""`task.wait()`, `get()`, `result()` and `failed()` inside a turn block at most WAIT_LIMIT_SECONDS
(chalicelib/library/tasks.py), then fail with a message that says what to do. The waits take no
real time: the runtime's clock is a FakeClock."""

from __future__ import annotations

import pytest

from chalicelib.engine.errors import InterviewCodeError
from chalicelib.engine.request import Request
from chalicelib.engine.screen import Outcome
from chalicelib.library.tasks import WAIT_LIMIT_SECONDS, TaskWaitTimeoutError
from chalicelib.runtime.sessions import SessionRef, VariableChanges
from tests.doubles import FakeClock
from tests.unit.runtime.conftest import Runtime

# Once `impatient` is set, the screen calls get() without asking ready() first.
IMPATIENT = """\
    mandatory: True
    code: |
      the_task = background_action('bg_task', additional=5)
    ---
    event: bg_task
    code: |
      background_response(553 + action_argument('additional'))
    ---
    mandatory: True
    question: |
      % if defined('impatient'):
      The answer is ${ the_task.get() }.
      % else:
      Waiting
      % endif
"""


def impatient(runtime: Runtime, ref: SessionRef) -> Outcome | None:
    """The user's turn that makes the screen call get()."""
    return runtime.sessions.set_variables(ref, Request(ref.interview, ref.session_id),
                                          VariableChanges({"impatient": True})).outcome


def test_get_on_a_task_that_does_not_finish_gives_up_after_the_limit_and_says_what_to_do(runtime: Runtime) -> None:
    # Given: a session whose task is queued (no worker runs), viewed with a clock that takes no real time
    ref, _ = runtime.sessions.start(runtime.interview("impatient.yml", IMPATIENT))
    assert runtime.question(ref) == "Waiting"
    clock = FakeClock()
    runtime.use(clock=clock)

    # When: the screen calls get()
    with pytest.raises(InterviewCodeError) as caught:
        impatient(runtime, ref)

    # Then: it waited WAIT_LIMIT_SECONDS (25 s) of the clock's time, no more, and failed saying what to do
    assert WAIT_LIMIT_SECONDS == 25
    assert clock.now == WAIT_LIMIT_SECONDS and clock.sleeps
    error = caught.value.error
    assert isinstance(error, TaskWaitTimeoutError) and isinstance(error, TimeoutError)
    message = str(error)
    assert "'bg_task' is still queued after waiting 25 s" in message
    assert "29 s" in message  # why: API Gateway's limit
    assert "ready()" in message and "reload:" in message and "background_response_action()" in message
    assert "impatient" not in runtime.answers(ref)  # and nothing was saved


def test_get_returns_the_value_once_the_task_finishes_while_it_waits(runtime: Runtime) -> None:
    # Given: a session whose task is queued; while the screen waits, the worker runs the task
    ref, _ = runtime.sessions.start(runtime.interview("impatient.yml", IMPATIENT))
    clock = FakeClock(on_sleep=lambda: runtime.work() and None)
    runtime.use(clock=clock)

    # When: the screen calls get()
    outcome = impatient(runtime, ref)

    # Then: get() returned the value after one pause
    assert outcome is not None and outcome.screen is not None
    assert outcome.screen.question.strip() == "The answer is 558."
    assert len(clock.sleeps) == 1
