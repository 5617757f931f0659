"""Back restores answers: the screen asked again shows what the user answered before.

The answers of the step Back discards are kept as the session's prior answers
(SessionState.prior): a field whose variable is undefined again shows its prior
answer instead of its default, and `showifdef(name, default, prior=True)` gives it.
"""

from __future__ import annotations

from typing import Any

from chalicelib.engine.request import FormAnswer, Request
from chalicelib.engine.screen import ScreenView
from chalicelib.engine.state import MAX_PRIOR_BYTES, SCHEMA, SessionState
from chalicelib.runtime.sessions import AnswerStatus, SessionRef, VariableChanges
from tests.unit.runtime.conftest import Runtime

TRIP = """
question: Where to?
fields:
  - City: city
  - Nights: nights
    datatype: integer
  - Transport: transport
    choices:
      - Train: train
      - Plane: plane
  - Extras: extras
    datatype: checkboxes
    choices:
      - Breakfast: breakfast
      - Parking: parking
---
question: Who is going?
fields:
  - Name: traveller
  - Note: note
    default: ${ showifdef('city', 'nowhere', prior=True) } trip
---
mandatory: True
question: |
  To ${ city } goes ${ traveller }
"""

HOME = """
question: Where do you live?
subquestion: |
  Before: ${ showifdef('country', 'none', prior=True) }, or ${ showifdef('country', 'none') }.
fields:
  - Country: country
---
mandatory: True
question: You live in ${ country }
"""


def _request(ref: SessionRef) -> Request:
    return Request(ref.interview, ref.session_id)


def _screen(runtime: Runtime, ref: SessionRef) -> ScreenView:
    outcome = runtime.view(ref)
    assert outcome is not None and outcome.screen is not None, outcome
    return outcome.screen


def _answer(runtime: Runtime, ref: SessionRef, positions: dict[int, list[str]]) -> None:
    block = _screen(runtime, ref).block
    answered = runtime.sessions.answer_screen(ref, _request(ref), FormAnswer(block, positions, None))
    assert answered.status is AnswerStatus.SAVED, answered


def _values(screen: ScreenView) -> dict[str, Any]:
    return {f.variable: f.value for f in screen.fields}


def _trip(runtime: Runtime) -> SessionRef:
    ref, _ = runtime.sessions.start(runtime.interview("trip.yml", TRIP))
    _answer(runtime, ref, {0: ["Oslo"], 1: ["3"], 2: ["1"], 3: ["0", "1"]})
    _answer(runtime, ref, {0: ["Ada"], 1: ["fun"]})
    assert _screen(runtime, ref).question == "To Oslo goes Ada"
    return ref


def test_after_back_the_screen_asked_again_shows_the_answers_given_before(runtime: Runtime) -> None:
    # Given: both screens answered
    ref = _trip(runtime)
    # When: the user presses Back once
    runtime.sessions.back(ref)
    # Then: the second screen shows the name and note given before
    screen = _screen(runtime, ref)
    assert screen.question == "Who is going?"
    assert _values(screen) == {"traveller": "Ada", "note": "fun"}
    # And when Back again: the first screen's text, number, choice and checkboxes are as answered
    runtime.sessions.back(ref)
    first = _screen(runtime, ref)
    assert first.question == "Where to?"
    assert _values(first)["city"] == "Oslo" and _values(first)["nights"] == 3
    transport, extras = first.fields[2], first.fields[3]
    assert [c.selected for c in transport.choices] == [False, True]
    assert [c.selected for c in extras.choices] == [True, True]
    # And the answers themselves are undone: Back discards them, only the screen remembers
    assert "city" not in runtime.answers(ref) and "traveller" not in runtime.answers(ref)


def test_showifdef_with_prior_gives_the_answer_back_discarded(runtime: Runtime) -> None:
    # Given: a country answered, then Back to its screen (country is undefined again)
    ref, _ = runtime.sessions.start(runtime.interview("home.yml", HOME))
    assert _screen(runtime, ref).subquestion == "<p>Before: none, or none.</p>"
    _answer(runtime, ref, {0: ["Norway"]})
    assert _screen(runtime, ref).question == "You live in Norway"
    runtime.sessions.back(ref)
    # Then: showifdef(..., prior=True) gives the discarded answer; without prior, the alternative
    assert _screen(runtime, ref).subquestion == "<p>Before: Norway, or none.</p>"
    # And once answered again, the defined value wins over the prior one
    _answer(runtime, ref, {0: ["Chile"]})
    assert _screen(runtime, ref).question == "You live in Chile"


def test_a_newer_answer_wins_over_an_older_prior_one(runtime: Runtime) -> None:
    ref = _trip(runtime)
    runtime.sessions.back(ref)  # prior traveller Ada
    _answer(runtime, ref, {0: ["Grace"], 1: ["fun"]})
    runtime.sessions.back(ref)  # the step Back discards says Grace; its own prior still says Ada
    assert _values(_screen(runtime, ref))["traveller"] == "Grace"


def test_prior_answers_stay_bounded_and_are_forgotten_on_restart(runtime: Runtime) -> None:
    # Given: a discarded step with a value too big to remember, and a small one
    state = SessionState()
    state.remember_prior({"big": "x" * (MAX_PRIOR_BYTES + 1), "small": "s", "same": 1}, {"same": 1}, {})
    # Then: only the small one is kept (the same value in the kept step needs no remembering)
    assert dict(state.prior) == {"small": "s"}
    assert SessionState.restore(state.saved()).prior == {"small": "s"}
    many = {f"v{n}": "y" * 1000 for n in range(200)}
    state.remember_prior(many, {}, {})
    assert len(state.prior) < 100 and sum(len(v) for v in state.prior.values()) <= MAX_PRIOR_BYTES
    state.reset()
    assert dict(state.prior) == {}


def test_a_state_saved_by_schema_2_reads_with_no_prior_answers() -> None:
    saved = {**SessionState().saved(), "schema": 2}
    del saved["prior"]
    state = SessionState.restore(saved)
    assert dict(state.prior) == {} and state.saved()["schema"] == SCHEMA


def test_an_answer_given_anew_replaces_its_prior_one(runtime: Runtime) -> None:
    # Given: Back undid the traveller Ada, and the user answered Grace instead
    ref = _trip(runtime)
    runtime.sessions.back(ref)
    _answer(runtime, ref, {0: ["Grace"], 1: ["fun"]})
    # When: the interview forgets the traveller again (as `undefine` or a new path would)
    runtime.sessions.set_variables(ref, _request(ref), VariableChanges(delete=["traveller"]))
    # Then: the screen asks with no stale prior answer (not Ada)
    screen = _screen(runtime, ref)
    assert screen.question == "Who is going?" and _values(screen)["traveller"] is None
    assert "traveller" not in runtime.sessions.read(ref).state.prior
