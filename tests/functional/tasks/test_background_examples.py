"""docassemble's background-task examples run unmodified through the REST API and the SQS worker.

Each test answers the example's question through `POST /api/session`, checks the
screen shown while the task waits on the queue, runs the worker (`drainer.drain()`
feeds the queue to the app's real `run_tasks` / `fail_abandoned_tasks` handlers),
then checks the tasks list, the check-in commands and the final screen. Expected
texts follow the example files in ../shared/examples and docassemble's documented
behaviour of background tasks (README.md, "Background tasks and documents").
"""

from __future__ import annotations

import html
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from chalicelib.local.drainer import QueueDrainer
from tests.functional.api.helpers import ok_json, plain
from tests.functional.tasks.conftest import TASK_QUEUE, Start, TaskSession, queue_depth

WAITING = "Hang tight.\nStill waiting for an answer."
WAITING_SUBQUESTION = "This screen will reload every ten seconds until the answer is available."
TASK_KEYS = {"id", "action", "status", "created", "finished", "attempts"}


@pytest.fixture(autouse=True)
def _needs_examples(examples: Path) -> None:
    """Every test here runs an example from ../shared/examples (skips, saying why, when absent)."""


def assert_queued(task: dict[str, Any]) -> None:
    assert set(task) == TASK_KEYS, task
    assert task["action"] == "bg_task"
    assert task["status"] == "queued"
    assert task["attempts"] == 0
    assert task["finished"] is None
    datetime.fromisoformat(task["created"])


def assert_done(task: dict[str, Any], attempts: int = 1) -> None:
    assert set(task) == TASK_KEYS, task
    assert task["action"] == "bg_task"
    assert task["status"] == "done"
    assert task["attempts"] == attempts
    assert datetime.fromisoformat(task["finished"]) >= datetime.fromisoformat(task["created"])


def answer_553_question(session: TaskSession, value: int = 5) -> dict[str, Any]:
    """Answer "How much shall I add to 553?" (checking that it is the current question); the next screen."""
    question = session.screen()
    assert question["questionType"] == "fields"
    assert question["questionText"] == "How much shall I add to 553?"
    assert [(f["label"], f["variable_name"], f["datatype"]) for f in question["fields"]] == [
        ("Number", "value_to_add", "integer")]
    return ok_json(session.set({"value_to_add": value}))


def assert_hang_tight(screen: dict[str, Any]) -> None:
    assert screen["questionType"] == "deadend"
    assert screen["questionText"] == WAITING
    assert plain(screen["subquestionText"]) == WAITING_SUBQUESTION
    assert screen["reload_after"] == 10000
    assert screen["fields"] == []


def pre_blocks(markup: str) -> list[str]:
    """The text of each <pre><code> block (indent() output rendered by Markdown)."""
    import html

    return [html.unescape(block) for block in re.findall(r"<pre><code>(.*?)</code></pre>", markup, re.S)]


# ---------------------------------------------------------------------------- background_action.yml
def test_background_action_waits_while_queued_then_shows_the_answer_558(
    start: Start, drainer: QueueDrainer, fresh_aws: dict[str, Any]
) -> None:
    # Given: a background_action.yml session on its first question
    session = start("background_action.yml")

    # When: the user adds 5
    waiting = answer_553_question(session, 5)

    # Then: the waiting screen reloads every 10 s, and the task is queued with one message on the queue
    assert_hang_tight(waiting)
    assert_queued(session.task())
    assert queue_depth(fresh_aws["sqs"], TASK_QUEUE) == 1

    # When: the page reloads before the worker ran
    # Then: it is still the waiting screen
    assert_hang_tight(session.screen())

    # When: the worker drains the queue
    handled = drainer.drain()

    # Then: it handled the one message, the task is done after one attempt, and the answer shows
    assert handled == 1
    assert_done(session.task())
    assert queue_depth(fresh_aws["sqs"], TASK_QUEUE) == 0
    final = session.screen()
    assert final["questionType"] == "deadend"
    assert final["questionText"] == "The answer is 558."
    assert "subquestionText" not in final
    assert final["fields"] == []


# ---------------------------------------------------------------- background_action_with_response_action.yml
def test_background_response_action_callback_saves_answer_558(start: Start, drainer: QueueDrainer) -> None:
    # Given: a background_action_with_response_action.yml session waiting on its task
    session = start("background_action_with_response_action.yml")
    assert_hang_tight(answer_553_question(session, 5))
    assert_queued(session.task())
    assert "answer" not in session.answers()

    # When: the worker drains the queue
    assert drainer.drain() == 1

    # Then: the callback bg_resp ran as a saved turn: `answer` is 558, the task is done, the final screen says so
    assert session.answers()["answer"] == 558
    assert_done(session.task())
    final = session.screen()
    assert final["questionType"] == "deadend"
    assert final["questionText"] == "The answer is 558."


# ---------------------------------------------------------------------------- background-error-action.yml
def test_background_error_action_fails_at_once_and_its_callback_shows_the_error(
    start: Start, drainer: QueueDrainer, fresh_aws: dict[str, Any]
) -> None:
    # Given: a background-error-action.yml session waiting on its task (which divides by zero)
    session = start("background-error-action.yml")
    assert_hang_tight(answer_553_question(session, 5))

    # When: the worker drains the queues
    handled = drainer.drain()

    # Then: one attempt was handled (an error in the interview's code is not retried); both queues are empty
    assert handled == 1
    assert queue_depth(fresh_aws["sqs"], TASK_QUEUE) == 0
    assert queue_depth(fresh_aws["sqs"], TASK_QUEUE + "-dlq") == 0

    # Then: the task is failed after its one attempt, with the error type as its reason
    task = session.task()
    assert set(task) == TASK_KEYS | {"reason"}
    assert (task["action"], task["status"], task["attempts"], task["reason"]) == (
        "bg_task", "failed", 1, "ZeroDivisionError")
    assert task["finished"] is not None

    # Then: the error callback bg_fail saved errmess
    assert session.answers()["errmess"] == "Failure at the calculation stage due to a ZeroDivisionError error"

    # Then: the error screen shows the message, the callback's value, the type, the trace and the message
    screen = session.screen()
    assert screen["questionType"] == "deadend"
    assert screen["questionText"] == "There was an error."
    sub = screen["subquestionText"]
    assert "<p>The saved error message was\nFailure at the calculation stage due to a ZeroDivisionError error.</p>" \
        in sub
    assert "<p>The value was\n<code>handled_error</code>.</p>" in sub
    assert "<p>The error was\n<code>ZeroDivisionError</code>.</p>" in sub
    assert "<p>The variables were\n<code>[&#x27;bg_task&#x27;]</code>.</p>" in sub  # the event being sought
    trace, message = pre_blocks(sub)
    assert trace.startswith("Traceback (most recent call last):\n")
    assert 'File "background-error-action.yml", line 31' in trace  # the line that divides by zero
    assert trace.rstrip("\n").endswith("ZeroDivisionError: division by zero")
    assert "chalicelib" not in trace
    assert message == "division by zero\n"


# ---------------------------------------------------------------------------- background-error-action-demo.yml
def test_background_error_action_demo_shows_there_was_an_error_for_one_divided_by_zero(
    start: Start, drainer: QueueDrainer
) -> None:
    # Given: a background-error-action-demo.yml session on its numbers question
    session = start("background-error-action-demo.yml")
    question = session.screen()
    assert question["questionText"] == "Give me some numbers."
    assert [(f["label"], f["variable_name"]) for f in question["fields"]] == [("Numerator", "b"), ("Denominator", "c")]

    # When: the user gives b=1, c=0
    waiting = ok_json(session.set({"b": 1, "c": 0}))

    # Then: the waiting screen shows while the task is queued
    assert waiting["questionText"] == "Waiting for result..."
    assert waiting["reload_after"] == 10000
    assert_queued(session.task())

    # When: the worker drains the queues
    drainer.drain()

    # Then: the task failed, bg_failure set computation_ok to False, and the result screen says there was an error
    task = session.task()
    assert (task["status"], task["attempts"], task["reason"]) == ("failed", 1, "ZeroDivisionError")
    assert session.answers()["computation_ok"] is False
    result = session.screen()
    assert result["questionText"] == "Result of task"
    assert plain(result["subquestionText"]) == "There was an error."


def test_background_error_action_demo_shows_the_result_2_0_for_six_divided_by_three(
    start: Start, drainer: QueueDrainer
) -> None:
    # Given: a second background-error-action-demo.yml session
    session = start("background-error-action-demo.yml")

    # When: the user gives b=6, c=3 and the worker drains the queue
    assert ok_json(session.set({"b": 6, "c": 3}))["questionText"] == "Waiting for result..."
    assert drainer.drain() == 1

    # Then: the task is done after one attempt, bg_success saved the answer, and the screen shows 2.0
    assert_done(session.task())
    answers = session.answers()
    assert (answers["computation_ok"], answers["answer"]) == (True, 2.0)
    result = session.screen()
    assert result["questionText"] == "Result of task"
    assert plain(result["subquestionText"]) == "The result was 2.0."


# ---------------------------------------------------------------------------- background_action_object.yml
def test_background_action_object_answers_wait_then_the_answer_558(start: Start, drainer: QueueDrainer) -> None:
    # Given: a background_action_object.yml session (a BackgroundAction object)
    session = start("background_action_object.yml")

    # When: the user adds 5
    first = answer_553_question(session, 5)

    # Then: the answer is the `wait` command while the task is queued, and stays so on reload
    assert first["questionType"] == "wait"
    assert first["questionText"] == ""
    assert_queued(session.task())
    assert session.screen()["questionType"] == "wait"

    # When: the worker drains the queue
    assert drainer.drain() == 1

    # Then: the mandatory question shows the answer
    assert_done(session.task())
    final = session.screen()
    assert final["questionType"] == "deadend"
    assert final["questionText"] == "The answer is 558."
    assert session.answers()["answer"] == 558


# ---------------------------------------------------------------------------- background_action_test_timing.yml
def test_background_action_test_timing_worker_sees_value_to_add_and_answers_558(
    start: Start, drainer: QueueDrainer
) -> None:
    # Given: a background_action_test_timing.yml session (its code sleeps 2 s after starting the task,
    # and the task reads value_to_add from the saved answers, not from its arguments)
    session = start("background_action_test_timing.yml")

    # When: the user adds 5 and the worker drains the queue
    assert_hang_tight(answer_553_question(session, 5))
    assert_queued(session.task())
    assert drainer.drain() == 1

    # Then: the task saw the committed value_to_add: the answer is 558 after one attempt
    assert_done(session.task())
    assert session.screen()["questionText"] == "The answer is 558."


# ---------------------------------------------------------------------------- ui_notification examples
CHECKIN_EXAMPLES = {
    "background_action_flash.yml": ("The answer is 558.", "flash"),
    "background_response_action_flash.yml": ("The answer is 558.", "flash"),
    "background_action_javascript.yml": ("alert('The answer is 558.');", "javascript"),
    "background_action_fields.yml": ({"the_number": 558}, "fields"),
    "background_action_refresh.yml": (None, "refresh"),
}


def assert_ui_waiting_screen(name: str, screen: dict[str, Any]) -> None:
    """The example's screen while its task is queued."""
    if name == "background_action_refresh.yml":
        assert screen["questionType"] == "deadend"
        assert screen["questionText"] == "Hang tight."
        assert plain(screen["subquestionText"]) == "Still waiting for an answer."
        assert "reload_after" not in screen
    elif name == "background_action_fields.yml":
        assert screen["questionType"] == "fields"
        assert screen["questionText"] == "Your answer will appear shortly."
        assert plain(screen["subquestionText"]) == "Wait for it!"
        assert [(f["label"], f["variable_name"]) for f in screen["fields"]] == [("Number", "the_number")]
    else:
        assert screen["questionType"] == "multiple_choice"
        assert screen["questionText"] == "Your answer will appear shortly."
        assert screen["fields"] == [{"number": 0, "choices": [{"label": "Continue", "value": "refresh",
                                                                "command": True}]}]


def assert_ui_final_screen(name: str, screen: dict[str, Any]) -> None:
    assert screen["questionType"] == "deadend"
    if name in ("background_response_action_flash.yml", "background_action_refresh.yml"):
        assert screen["questionText"] == "The answer is 558."
        assert "subquestionText" not in screen
        return
    quoted = {"background_action_flash.yml": "The answer is 558.",
              "background_action_javascript.yml": "alert('The answer is 558.');",
              "background_action_fields.yml": "{'the_number': 558}"}[name]
    assert screen["questionText"] == "All done."
    escaped = html.escape(quoted, quote=True)  # the value is text: its quotes are escaped too
    assert screen["subquestionText"] == f"<p>The response was:</p>\n<blockquote>\n<p>{escaped}</p>\n</blockquote>"


@pytest.mark.parametrize("name", list(CHECKIN_EXAMPLES))
def test_ui_notification_example_delivers_its_bg_task_command_to_exactly_one_checkin(
    start: Start, drainer: QueueDrainer, name: str
) -> None:
    value, extra = CHECKIN_EXAMPLES[name]
    # Given: a session of the example waiting on its task, with nothing to deliver yet
    session = start(name)
    assert_ui_waiting_screen(name, answer_553_question(session, 5))
    assert_queued(session.task())
    assert session.checkin() == []

    # When: the worker drains the queue
    assert drainer.drain() == 1

    # Then: the next check-in returns docassemble's command for the task, exactly once
    assert session.checkin() == [{"action": "bg_task", "value": value, "extra": extra}]
    assert session.checkin() == []

    # Then: the task is done, and the final screen is the example's
    assert_done(session.task())
    assert_ui_final_screen(name, session.screen())
