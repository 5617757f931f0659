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


def test_code_that_ends_without_background_response_is_done_with_no_value_and_a_warning(
        start: Start, drainer: QueueDrainer, caplog: pytest.LogCaptureFixture) -> None:
    session = start(_INTERVIEW)
    session.set({"ending": "none"})
    with caplog.at_level(logging.WARNING, logger="chalicelib.runtime.tasks"):
        drainer.drain()
    assert session.task()["status"] == "done"
    assert session.screen()["questionText"] == "Done: None"
    assert any("ended without background_response()" in r.getMessage() for r in caplog.records)
    # and its own variable changes were not saved
    assert "seen_in_background" not in session.answers()


def test_command_exit_in_a_task_deletes_the_session(start: Start, drainer: QueueDrainer) -> None:
    session = start(_INTERVIEW)
    session.set({"ending": "exit"})
    drainer.drain()
    assert session.question().status == 404
