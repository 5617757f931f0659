"""The task worker on in-memory stores: a task runs to done; an error of the interview (an exception,
a question reached) fails it at once, while a storage fault is retried after a backoff; a callback
is applied once however often its message comes, and never after the task was revoked
(chalicelib/runtime/worker.py)."""

from __future__ import annotations

import json
import logging

import pytest

from chalicelib.runtime.queue import Disposition, Handled
from chalicelib.runtime.sessions import SessionRef
from chalicelib.storage.base import SessionStore
from chalicelib.storage.errors import StorageError
from chalicelib.storage.records import SessionHead, StepRecord
from tests.doubles import WrappedStore
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
      log('dividing 553')
      ratio = 553 / action_argument('divisor')
    ---
    event: bg_failed
    code: |
      failure = [action_argument('stage'), action_argument('error_type'), action_argument('error_message'),
                 action_argument('variables')]
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
      log('callback ran')
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

CANCEL = """\
    ---
    event: cancel
    code: |
      cancelled = the_task.revoke()
"""
# The counting callback, with a `cancel` action that revokes the task, and a final screen for a task
# whose callback never ran.
REVOCABLE = COUNTING_CALLBACK.replace("${ answer }", "${ answer if defined('answer') else 'none' }") + CANCEL

ASKS = """\
    mandatory: True
    code: |
      the_task = background_action('bg_task')
    ---
    event: bg_task
    code: |
      background_error_action('bg_failed')
      background_response(553 + extra)
    ---
    question: How much extra?
    fields:
      - Extra: extra
        datatype: integer
    ---
    event: bg_failed
    code: |
      failure = [action_argument('error_type'), action_argument('error_message'), action_argument('variables')]
      background_response('handled')
    ---
    mandatory: True
    question: |
      % if the_task.ready():
      Failed: ${ the_task.failed() }, value: ${ the_task.get() }, variables: ${ ', '.join(the_task.result().variables) }
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


def test_an_exception_in_the_task_code_fails_it_at_once_and_its_error_action_runs(
        runtime: Runtime, caplog: pytest.LogCaptureFixture) -> None:
    # Given: a session whose task logs a line (its side effect) and then divides by zero, with a
    # background_error_action
    ref, _ = runtime.sessions.start(runtime.interview("failing.yml", FAILING))

    # When: the worker drains the queue
    with caplog.at_level(logging.INFO, logger="chalicelib.interviews"):
        delivered = runtime.work()

    # Then: one delivery, acknowledged: nothing retried, nothing for the dead letters
    assert delivered == 1
    assert [(r.receive_count, r.disposition) for r in runtime.queue.received] == [(1, "ack")]
    assert runtime.queue.pending() == [] and runtime.queue.dead_letters == []
    (task,) = runtime.sessions.task_list(ref)
    assert (task.status, task.attempts, task.reason) == ("failed", 1, "ZeroDivisionError")

    # Then: the task's code ran exactly once
    assert [r.getMessage() for r in caplog.records if r.name == "chalicelib.interviews"] == [
        "failing.yml: dividing 553"]

    # Then: the error action ran once with the error and the names sought (the event), and the interview
    # sees the failure and its value
    assert runtime.answers(ref)["failure"] == ["division", "ZeroDivisionError", "division by zero", ["bg_task"]]
    assert runtime.question(ref) == "Failed: True, value: handled"


def test_a_task_that_reaches_a_question_fails_and_its_error_action_gets_the_names_sought(
        runtime: Runtime) -> None:
    # Given: a session whose task needs `extra`, which only a question defines
    ref, _ = runtime.sessions.start(runtime.interview("asks.yml", ASKS))

    # When: the worker drains the queue
    assert runtime.work() == 1

    # Then: the task failed at once, as docassemble's QuestionError, whose message is the question
    (task,) = runtime.sessions.task_list(ref)
    assert (task.status, task.attempts, task.reason) == ("failed", 1, "QuestionError")
    assert [r.disposition for r in runtime.queue.received] == ["ack"]

    # Then: the error action got the missing variable and the event, newest first
    assert runtime.answers(ref)["failure"] == ["QuestionError", "How much extra?", ["extra", "bg_task"]]
    assert runtime.question(ref) == "Failed: True, value: handled, variables: extra, bg_task"


def test_a_task_that_reaches_a_question_without_an_error_action_fails_with_the_names_sought(
        runtime: Runtime) -> None:
    # Given: the same task without background_error_action
    ref, _ = runtime.sessions.start(runtime.interview("asks.yml", ASKS.replace(
        "  background_error_action('bg_failed')\n", "")))

    # When: the worker drains the queue
    assert runtime.work() == 1

    # Then: it is failed, its value is None, and result().variables names what it sought
    (task,) = runtime.sessions.task_list(ref)
    assert (task.status, task.reason) == ("failed", "QuestionError in background action 'bg_task'")
    assert runtime.question(ref) == "Failed: True, value: None, variables: extra, bg_task"


def test_a_storage_fault_is_retried_after_the_jittered_backoff_and_the_code_then_runs_once(
        runtime: Runtime, caplog: pytest.LogCaptureFixture) -> None:
    # Given: a session with a task, and a store that is throttled for the worker's first two reads of it
    ref, _ = runtime.sessions.start(runtime.interview("value.yml", VALUE.replace(
        "background_response(553", "log('adding')\n      background_response(553")))
    faults = [StorageError("throttled: ProvisionedThroughputExceededException")] * 2

    class ThrottledStore(WrappedStore):
        def load(self, interview: str, session_id: str) -> tuple[SessionHead, StepRecord]:
            if faults:
                raise faults.pop()
            return self.inner.load(interview, session_id)

    runtime.use(store=ThrottledStore(runtime.services.store), jitter=lambda: 0.5)
    (body,) = runtime.queue.pending()

    # When: the message is delivered three times
    with caplog.at_level(logging.INFO, logger="chalicelib.interviews"):
        handled = [runtime.handle(body) for _ in range(3)]

    # Then: the first two are retried after half of 2 s, then of 4 s (TASK_RETRY_SECONDS doubling, the jitter
    # a half), the task waiting queued in between; the third runs the code once and is done
    assert handled == [Handled(Disposition.RETRY, 1), Handled(Disposition.RETRY, 2), Handled(Disposition.ACK)]
    (task,) = runtime.sessions.task_list(ref)
    assert (task.status, task.attempts) == ("done", 3)
    assert [r.getMessage() for r in caplog.records if r.name == "chalicelib.interviews"] == ["value.yml: adding"]
    assert runtime.question(ref) == "Done: 558"


def test_a_storage_fault_on_the_last_attempt_fails_the_task_and_gives_the_message_up(runtime: Runtime) -> None:
    # Given: a task on its last attempt, and a store that cannot be read
    ref, _ = runtime.sessions.start(runtime.interview("value.yml", VALUE))

    class DownStore(WrappedStore):
        def load(self, interview: str, session_id: str) -> tuple[SessionHead, StepRecord]:
            raise StorageError("the table cannot be reached")

    runtime.use(store=DownStore(runtime.services.store))
    (body,) = runtime.queue.pending()
    handled = [runtime.handle(body) for _ in range(runtime.services.settings.task_max_attempts)]

    # Then: two retries, then given up to the dead-letter queue; the task is failed, saying why
    assert [h.disposition for h in handled] == [Disposition.RETRY, Disposition.RETRY, Disposition.GIVE_UP]
    (task,) = runtime.services.store.list_tasks(ref.session_id)
    assert (task.status, task.attempts, task.reason) == ("failed", 3, "gave up after 3 attempt(s): StorageError")


def cancel_while_running(runtime: Runtime, ref: SessionRef) -> list[bool]:
    """Make the user run the `cancel` action once the worker has claimed the session's task (at the
    worker's next read of the session); the list is emptied when that happened."""
    cancel = [True]

    class CancellingStore(WrappedStore):
        def load(self, interview: str, session_id: str) -> tuple[SessionHead, StepRecord]:
            if cancel and self.load_task(session_id, only_task(self, session_id)).status == "running":
                cancel.clear()
                runtime.run_action(ref, "cancel")
            return self.inner.load(interview, session_id)

    runtime.use(store=CancellingStore(runtime.services.store))
    return cancel


def test_a_task_revoked_while_it_runs_never_applies_its_callback(
        runtime: Runtime, caplog: pytest.LogCaptureFixture) -> None:
    # Given: a session whose task's callback counts its runs; the user revokes the task (the `cancel` action)
    # after the worker claimed it, while its code runs
    ref, _ = runtime.sessions.start(runtime.interview("revoked.yml", REVOCABLE))
    cancel = cancel_while_running(runtime, ref)

    # When: the worker drains the queue
    with caplog.at_level(logging.INFO, logger="chalicelib.interviews"):
        delivered = runtime.work()

    # Then: revoke() cancelled the running task; it ends revoked, and its callback never ran
    assert delivered == 1 and not cancel
    assert [r.disposition for r in runtime.queue.received] == ["ack"]
    answers = runtime.answers(ref)
    assert (answers["cancelled"], answers["counter"], "answer" in answers) == (True, 0, False)
    (task,) = runtime.sessions.task_list(ref)
    assert (task.status, task.revoked, task.reason, task.attempts) == ("failed", True, "revoked", 1)
    assert [r.getMessage() for r in caplog.records if r.name == "chalicelib.interviews"] == []


def test_revoke_without_terminate_leaves_a_running_task_to_finish(runtime: Runtime) -> None:
    # Given: the same, but the user's revoke(terminate=False) only takes a task off the queue
    ref, _ = runtime.sessions.start(runtime.interview("revoked.yml", REVOCABLE.replace(
        "revoke()", "revoke(terminate=False)")))
    cancel = cancel_while_running(runtime, ref)

    # When: the worker drains the queue
    assert runtime.work() == 1 and not cancel  # the cancel action ran while the task ran

    # Then: revoke() said no, and the task finished with its callback applied once
    answers = runtime.answers(ref)
    assert (answers["cancelled"], answers["counter"], answers["answer"]) == (False, 1, 558)
    (task,) = runtime.sessions.task_list(ref)
    assert (task.status, task.revoked) == ("done", False)


def only_task(store: SessionStore, session_id: str) -> str:
    (task,) = store.list_tasks(session_id)
    return task.task_id


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
