"""Answering and changing a session through `Sessions`, on in-memory services (no AWS, no HTTP).

Every entry point (browser, API, worker) goes through these use cases, so what a
user notices is decided here: an answer is saved once as a new step, a wrong one
is asked again with nothing saved, an answer to an old screen changes nothing,
and only the interview's own variables can be set from outside.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from chalicelib.engine.request import FormAnswer, Request
from chalicelib.engine.state import ANONYMOUS, SessionState
from chalicelib.runtime.errors import ProtectedVariableError
from chalicelib.runtime.services import Services
from chalicelib.runtime.sessions import AnswerStatus, SessionRef, Sessions, VariableChanges
from chalicelib.settings import Settings
from chalicelib.storage.records import StepRecord
from chalicelib.storage.sealing import Place
from tests.conftest import FIXTURE_INTERVIEWS, SERVER_KEY

STEP_V1 = Path(__file__).resolve().parents[2] / "fixtures" / "steps" / "schema_v1.pickle"


@pytest.fixture
def sessions() -> Sessions:
    settings = Settings.from_env({"INTERVIEW_PATH": str(FIXTURE_INTERVIEWS), "SERVER_KEY": SERVER_KEY,
                                  "MAX_ANSWER_BYTES": "100"})
    return Sessions(Services.in_memory(settings))


def _shown(sessions: Sessions, name: str) -> tuple[SessionRef, str]:
    """A session of `name`, with its first screen shown; the screen's block."""
    ref, _ = sessions.start(name, evaluate=False)
    result = sessions.view(ref, Request(name, ref.session_id))
    assert result.outcome is not None and result.outcome.screen is not None
    return ref, result.outcome.screen.block


def _request(ref: SessionRef) -> Request:
    return Request(ref.interview, ref.session_id)


def test_a_valid_answer_is_saved_as_a_new_step_and_the_next_screen_follows(sessions: Sessions) -> None:
    ref, block = _shown(sessions, "answering.yml")
    answered = sessions.answer_screen(ref, _request(ref), FormAnswer(block, {0: ["Ada"], 1: ["36"]}))
    assert answered.status is AnswerStatus.SAVED and answered.result.head.step == 2
    data = sessions.read(ref)
    assert (data.answers["name"], data.answers["age"], data.answers["subscribed"]) == ("Ada", 36, False)
    after = sessions.view(ref, _request(ref))
    assert after.outcome is not None and after.outcome.screen is not None
    assert after.outcome.screen.question == "What now, Ada?"


def test_a_wrong_value_is_asked_again_with_its_message_and_nothing_is_saved(sessions: Sessions) -> None:
    ref, block = _shown(sessions, "answering.yml")
    before = sessions.read(ref).head
    answered = sessions.answer_screen(ref, _request(ref), FormAnswer(block, {0: ["Ada"], 1: ["-3"]}))
    assert answered.status is AnswerStatus.INVALID
    assert [(e.variable, e.message) for e in answered.result.errors] == [("age", "Enter a value of at least 0.")]
    assert answered.result.outcome is not None and answered.result.outcome.screen is not None
    assert answered.result.outcome.screen.question == "About you"  # the same screen, to ask again
    assert sessions.read(ref).head == before


def test_a_too_long_answer_is_a_field_error_not_a_saved_step(sessions: Sessions) -> None:
    ref, block = _shown(sessions, "answering.yml")
    answered = sessions.answer_screen(ref, _request(ref), FormAnswer(block, {0: ["x" * 101], 1: ["3"]}))
    assert answered.status is AnswerStatus.INVALID
    assert answered.result.errors[0].variable == "name"
    assert "This answer is too long: 101 bytes, but at most 100 bytes" in answered.result.errors[0].message
    assert "name" not in sessions.read(ref).answers


def test_an_answer_to_a_screen_no_longer_shown_changes_nothing(sessions: Sessions) -> None:
    ref, block = _shown(sessions, "answering.yml")
    sessions.answer_screen(ref, _request(ref), FormAnswer(block, {0: ["Ada"], 1: ["36"]}))
    sessions.view(ref, _request(ref))
    before = sessions.read(ref)
    # The first screen's form, posted again (a second tab, a double click)
    again = sessions.answer_screen(ref, _request(ref), FormAnswer(block, {0: ["Eve"], 1: ["20"]}))
    assert again.status is AnswerStatus.STALE
    after = sessions.read(ref)
    assert after.head == before.head and after.answers["name"] == "Ada"


def test_a_command_button_is_reported_for_the_caller_to_carry_out(sessions: Sessions) -> None:
    ref, block = _shown(sessions, "answering.yml")
    sessions.answer_screen(ref, _request(ref), FormAnswer(block, {0: ["Ada"], 1: ["36"]}))
    second = sessions.view(ref, _request(ref))
    assert second.outcome is not None and second.outcome.screen is not None
    answered = sessions.answer_screen(ref, _request(ref), FormAnswer(second.outcome.screen.block, button="1"))
    assert answered.status is AnswerStatus.COMMAND and answered.result.command == "restart"


def test_restart_forgets_the_answers_and_the_state_but_keeps_url_args(sessions: Sessions) -> None:
    ref, _ = sessions.start("answering.yml", url_args={"from": "mail"})
    block = sessions.read(ref).state.screen.block  # type: ignore[union-attr]
    sessions.answer_screen(ref, _request(ref), FormAnswer(block, {0: ["Ada"], 1: ["36"]}))
    sessions.restart(ref)
    data = sessions.read(ref)
    assert data.answers == {"url_args": {"from": "mail"}}
    # Only the restart's own save is remembered: who saved it, and when
    saved = data.state.saved()
    assert list(saved.pop("access")) == [ANONYMOUS]
    assert saved == {k: v for k, v in SessionState().saved().items() if k != "access"}


def test_an_api_client_sets_only_the_interviews_own_variables_and_nothing_on_refusal(sessions: Sessions) -> None:
    ref, block = _shown(sessions, "answering.yml")
    before = sessions.read(ref).head
    for name in ("_internal", "comma_and_list"):
        with pytest.raises(ProtectedVariableError, match=f"Variable '{name}' cannot be set or deleted"):
            sessions.set_variables(ref, _request(ref), VariableChanges({"name": "Ada", name: 1}))
    assert sessions.read(ref).head == before


def test_set_variables_reads_dates_marks_the_question_done_and_drops_handled_events(sessions: Sessions) -> None:
    ref, block = _shown(sessions, "answering.yml")
    result = sessions.set_variables(ref, _request(ref), VariableChanges(
        {"name": "Ada", "age": 36, "subscribed": True, "born": "1990-05-01"}, question_name=block))
    assert result.outcome is not None and result.outcome.screen is not None
    assert result.outcome.screen.question == "What now, Ada?"
    data = sessions.read(ref)
    assert data.answers["born"].year == 1990 and data.state.has_answered(block)
    raw = sessions.set_variables(ref, _request(ref), VariableChanges({"born": "1990-05-01"}, raw=True))
    assert raw.outcome is not None and sessions.read(ref).answers["born"] == "1990-05-01"


def test_a_session_whose_step_the_previous_version_saved_is_answered(sessions: Sessions) -> None:
    # Given: a session whose current step was saved by the first schema of the state
    ref, _ = sessions.start("schema_v1.yml", evaluate=False)
    services = sessions.services
    head, _ = services.store.load(ref.interview, ref.session_id)
    key = sessions.key_for(ref)
    old = pickle.loads(STEP_V1.read_bytes())
    sealed = services.sealer.seal(old, Place.step(ref.session_id, 2), key)
    after = head.__class__(**{**head.__dict__, "version": head.version + 1, "step": 2})
    services.store.commit(head, after, StepRecord(2, sealed.blob, sealed.kind))
    block = old["_internal"]["screen"]["block"]

    # When: the user answers the screen that step shows
    answered = sessions.answer_screen(ref, _request(ref), FormAnswer(block, {0: ["Rex"], 1: ["0"], 2: ["False"]}))

    # Then: it is saved, in the new schema, and the interview goes on
    assert answered.status is AnswerStatus.SAVED
    shown = sessions.view(ref, _request(ref))
    assert shown.outcome is not None and shown.outcome.screen is not None
    assert shown.outcome.screen.question == "Rex the Cat"
    assert "Not vaccinated." in shown.outcome.screen.subquestion
