"""An end screen (no fields, no buttons) takes no answer: whatever is posted to it, the session stays.

docassemble shows such a screen for good; an empty post to it (the browser's form, the API's
set_variables with nothing, a check-in) must neither mark it answered nor add a step.
"""

from __future__ import annotations

from chalicelib.engine.request import FormAnswer, Request
from chalicelib.runtime.sessions import AnswerStatus, SessionRef, VariableChanges
from tests.unit.runtime.conftest import Runtime

END = """
mandatory: True
code: |
  seen = True
---
mandatory: True
question: |
  All done
subquestion: |
  Nothing more to do.
"""

EVENT_END = """
mandatory: True
code: |
  name
  final_screen
---
question: Your name?
fields:
  - Name: name
---
event: final_screen
question: |
  Goodbye, ${ name }
"""


def _start(runtime: Runtime, name: str, text: str) -> tuple[SessionRef, str]:
    ref, _ = runtime.sessions.start(runtime.interview(name, text))
    result = runtime.sessions.view(ref, Request(ref.interview, ref.session_id))
    assert result.outcome is not None and result.outcome.screen is not None
    return ref, result.outcome.screen.block


def test_an_empty_form_post_to_an_end_screen_saves_nothing_and_shows_it_again(runtime: Runtime) -> None:
    # Given: a session on its mandatory end screen
    ref, block = _start(runtime, "end.yml", END)
    before = runtime.sessions.read(ref).head
    # When: the page posts the (empty) form of that screen
    answered = runtime.sessions.answer_screen(ref, Request(ref.interview, ref.session_id), FormAnswer(block))
    # Then: nothing is saved (no new step to go Back to) and the same screen follows
    assert answered.status is AnswerStatus.UNCHANGED
    assert answered.result.outcome is not None and answered.result.outcome.screen is not None
    assert answered.result.outcome.screen.question == "All done"
    assert runtime.sessions.read(ref).head == before
    assert runtime.question(ref) == "All done"


def test_an_api_post_with_nothing_to_an_end_screen_leaves_it_current(runtime: Runtime) -> None:
    # Given: a session on an event end screen, reached after one answer
    ref, _ = _start(runtime, "event_end.yml", EVENT_END)
    runtime.sessions.set_variables(ref, Request(ref.interview, ref.session_id), VariableChanges({"name": "Ada"}))
    assert runtime.question(ref) == "Goodbye, Ada"
    before = runtime.sessions.read(ref).head
    # When: an API client sets nothing, naming the end screen as the question it answered
    data = runtime.sessions.read(ref)
    assert data.state.screen is not None
    result = runtime.sessions.set_variables(ref, Request(ref.interview, ref.session_id),
                                            VariableChanges(question_name=data.state.screen.block))
    # Then: the same screen, no new step, and later views still show it
    assert result.outcome is not None and result.outcome.screen is not None
    assert result.outcome.screen.question == "Goodbye, Ada"
    assert runtime.sessions.read(ref).head == before
    assert runtime.question(ref) == "Goodbye, Ada"


def test_naming_a_mandatory_end_screen_with_variables_set_does_not_mark_it_done(runtime: Runtime) -> None:
    # Given: a session on its mandatory end screen
    ref, block = _start(runtime, "end.yml", END)
    # When: an API client sets a variable and names the end screen as answered
    result = runtime.sessions.set_variables(ref, Request(ref.interview, ref.session_id),
                                            VariableChanges({"note": "x"}, question_name=block))
    # Then: the value is set, and the end screen is still the screen (the interview does not run off its end)
    assert result.outcome is not None and result.outcome.screen is not None
    assert result.outcome.screen.question == "All done"
    assert runtime.answers(ref)["note"] == "x"
    assert runtime.question(ref) == "All done"


def test_a_check_in_to_an_end_screen_changes_nothing(runtime: Runtime) -> None:
    ref, block = _start(runtime, "end.yml", END)
    before = runtime.sessions.read(ref).head
    assert runtime.sessions.checkin(ref, {}, initial=True) == []
    assert runtime.sessions.answer_screen(ref, Request(ref.interview, ref.session_id),
                                          FormAnswer(block)).status is AnswerStatus.UNCHANGED
    assert runtime.sessions.read(ref).head == before
    assert runtime.question(ref) == "All done"
