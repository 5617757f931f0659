"""The task worker on in-memory stores: a task runs to done, a failing one is retried then
failed, a callback is applied once however often its message comes (chalicelib/runtime/tasks.py)."""

from __future__ import annotations

import json

from tests.unit.runtime.conftest import Runtime

VALUE = """\
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
      % if the_task.ready():
      Done: ${ the_task.get() }
      % else:
      Waiting
      % endif
"""

FAILING = """\
    mandatory: True
    code: |
      the_task = background_action('bg_task', divisor=0)
    ---
    event: bg_task
    code: |
      background_error_action('bg_failed', stage='division')
      ratio = 553 / action_argument('divisor')
    ---
    event: bg_failed
    code: |
      failure = [action_argument('stage'), action_argument('error_type'), action_argument('error_message')]
      background_response('handled')
    ---
    mandatory: True
    question: |
      % if the_task.ready():
      Failed: ${ the_task.failed() }, value: ${ the_task.get() }
      % else:
      Waiting
      % endif
"""

COUNTING_CALLBACK = """\
    mandatory: True
    code: |
      counter = 0
      the_task = background_action('bg_task', additional=5)
    ---
    event: bg_task
    code: |
      background_response_action('bg_resp', ans=553 + action_argument('additional'))
    ---
    event: bg_resp
    code: |
      answer = action_argument('ans')
      counter = counter + 1
      background_response()
    ---
    mandatory: True
    question: |
      % if the_task.ready():
      The answer is ${ answer }; the callback ran ${ counter } time(s).
      % else:
      Waiting
      % endif
"""


def test_a_background_action_runs_to_done_and_its_value_is_readable(runtime: Runtime) -> None:
    # Given: a session whose first turn started a task; its message (ids only) waits on the queue
    ref, _ = runtime.sessions.start(runtime.interview("value.yml", VALUE))
    assert runtime.question(ref) == "Waiting"
    (task,) = runtime.sessions.task_list(ref)
    assert json.loads(runtime.queue.pending()[0]) == {"i": "value.yml", "session": ref.session_id,
                                                      "task": task.task_id}

    # When: the worker drains the queue
    delivered = runtime.work()

    # Then: one delivery, acknowledged; the task is done on its first attempt and the interview reads its value
    assert delivered == 1
    assert [r.disposition for r in runtime.queue.received] == ["ack"]
    (task,) = runtime.sessions.task_list(ref)
    assert (task.status, task.attempts) == ("done", 1)
    assert runtime.question(ref) == "Done: 558"


def test_a_failing_task_is_retried_then_failed_and_its_error_action_runs(runtime: Runtime) -> None:
    # Given: a session whose task always divides by zero, with a background_error_action
    ref, _ = runtime.sessions.start(runtime.interview("failing.yml", FAILING))

    # When: the worker drains the queue (each retry comes back at once)
    delivered = runtime.work()

    # Then: three attempts (TASK_MAX_ATTEMPTS), the last given up to the dead letters
    assert delivered == runtime.services.settings.task_max_attempts == 3
    assert [(r.receive_count, r.disposition) for r in runtime.queue.received] == [
        (1, "retry"), (2, "retry"), (3, "give_up")]
    assert runtime.queue.pending() == []
    assert runtime.queue.dead_letters == [json.dumps(runtime.queue.sent[0], sort_keys=True)]
    (task,) = runtime.sessions.task_list(ref)
    assert (task.status, task.attempts) == ("failed", 3)

    # Then: the error action ran once with the error, and the interview sees the failure and its value
    assert runtime.answers(ref)["failure"] == ["division", "ZeroDivisionError", "division by zero"]
    assert runtime.question(ref) == "Failed: True, value: handled"


def test_a_callback_is_applied_once_when_its_message_is_delivered_twice(runtime: Runtime) -> None:
    # Given: a session whose callback counts its runs, and a second copy of its task message on the queue
    ref, _ = runtime.sessions.start(runtime.interview("counting.yml", COUNTING_CALLBACK))
    (message,) = runtime.queue.sent
    runtime.queue.send([message])

    # When: the worker drains both copies
    delivered = runtime.work()

    # Then: both were acknowledged, the callback ran once, and the task is done after one attempt
    assert delivered == 2
    assert [r.disposition for r in runtime.queue.received] == ["ack", "ack"]
    assert runtime.answers(ref)["counter"] == 1
    (task,) = runtime.sessions.task_list(ref)
    assert (task.status, task.attempts) == ("done", 1)
    assert runtime.question(ref) == "The answer is 558; the callback ran 1 time(s)."

    # When: the same message comes a third time, long after
    runtime.queue.send([message])
    assert runtime.work() == 1

    # Then: nothing changed
    assert runtime.answers(ref)["counter"] == 1
