"""How background code can end, and who it runs as (README.md, "Background tasks and documents")."""

from __future__ import annotations

import html
import logging
from typing import Any

import pytest

from chalicelib.local.drainer import QueueDrainer
from tests.functional.tasks.conftest import Start

_INTERVIEW = "bg_endings.yml"


@pytest.mark.parametrize(("ending", "value"), [
    ("one", "plum"),
    ("several", [1, "two", [3]]),
    ("keywords", {"a": 1, "b": "plum"}),
    ("both", {"pargs": [1, 2], "kwargs": {"c": 3}}),
])
def test_background_response_packs_its_arguments_as_docassemble_does(start: Start, drainer: QueueDrainer,
                                                                      ending: str, value: Any) -> None:
    session = start(_INTERVIEW)
    session.set({"ending": ending})
    drainer.drain()
    assert session.task()["status"] == "done"
    assert session.screen()["questionText"] == f"Done: {html.escape(repr(value), quote=True)}"


def test_the_task_runs_as_the_user_who_started_it(start: Start, drainer: QueueDrainer) -> None:
    # Given a session started with the admin's API key
    session = start(_INTERVIEW)
    session.set({"ending": "whoami"})
    drainer.drain()
    # Then the background code saw that user, logged in, with the admin privilege, and its arguments
    text = session.screen()["questionText"]
    assert "admin@localhost" in text and "True, True, False" in text and "word" in text


def test_code_that_goes_on_to_a_question_fails_the_task_with_the_names_sought(
        start: Start, drainer: QueueDrainer, caplog: pytest.LogCaptureFixture) -> None:
    # Given: background code that ends without background_response(), so the interview goes on to its question
    session = start(_INTERVIEW)
    session.set({"ending": "none"})
    with caplog.at_level(logging.ERROR, logger="chalicelib.runtime.worker"):
        drainer.drain()
    # Then: as docassemble's QuestionError, the task failed at once, and its value is None
    task = session.task()
    assert (task["status"], task["attempts"], task["reason"]) == (
        "failed", 1, "QuestionError in background action 'bg_none'")
    assert session.screen()["questionText"] == "Done: None"
    assert any("QuestionError in background action 'bg_none'" in r.getMessage() and "sought: bg_none" in
               r.getMessage() for r in caplog.records)
    # and its own variable changes were not saved
    assert "seen_in_background" not in session.answers()


def test_command_exit_in_a_task_deletes_the_session(start: Start, drainer: QueueDrainer) -> None:
    session = start(_INTERVIEW)
    session.set({"ending": "exit"})
    drainer.drain()
    assert session.question().status == 404
