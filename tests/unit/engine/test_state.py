"""The engine's session state: saved as plain, versioned data, and read back from every schema."""

from __future__ import annotations

import copy
import pickle
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

import pytest

from chalicelib.engine.answers import Answer, apply_answer
from chalicelib.engine.screen import RenderedChoice, ScreenView
from chalicelib.engine.state import SCHEMA, STATE_KEY, SessionState, StateError, screen_from_plain, screen_to_plain
from tests.unit.engine.harness import Run

STEP_V1 = Path(__file__).resolve().parents[2] / "fixtures" / "steps" / "schema_v1.pickle"
FORM = """
mandatory: True
question: Pets
fields:
  - Name: pet_name
  - Kind: pet_kind
    choices:
      - Cat
      - Dog
---
mandatory: True
question: ${ pet_name } the ${ pet_kind }
"""


def _plain_only(value: Any, path: str = "state") -> None:
    """Fail if the saved form holds anything but builtin containers and scalars (choice values aside)."""
    if isinstance(value, dict):
        for key, item in value.items():
            assert isinstance(key, str), f"{path} has a key {key!r}"
            _plain_only(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _plain_only(item, f"{path}[{index}]")
    else:
        assert value is None or isinstance(value, (str, int, float, bool)), f"{path} holds {type(value).__name__}"


def test_a_step_saved_by_the_first_schema_is_read_and_answered() -> None:
    # Given: the answers of a step as the first schema saved them (the screen as a pickled ScreenView)
    answers = pickle.loads(STEP_V1.read_bytes())
    assert "schema" not in answers[STATE_KEY] and isinstance(answers[STATE_KEY]["screen"]["view"], ScreenView)

    # When: the state is taken out of them and the user answers the screen it shows
    state = SessionState.take(answers)
    screen = state.screen
    assert screen is not None and screen.question == "About your pet"
    assert [f.variable for f in screen.fields] == ["pet_name", "pet_kind", "vaccinated"]
    applied = apply_answer(answers, state, Answer({"pet_name": "Rex", "pet_kind": "1", "vaccinated": "True"}))

    # Then: the answer is read against the saved screen's choices, and what is saved now is the new schema
    assert applied.errors == ()
    assert (answers["pet_name"], answers["pet_kind"], answers["vaccinated"]) == ("Rex", "Dog", True)
    assert STATE_KEY not in answers
    saved = state.saved()
    assert saved["schema"] == SCHEMA and saved["screen"] is None
    assert state.has_answered(screen.block)


def test_the_saved_form_is_plain_data_that_reads_back_to_the_same_state() -> None:
    run = Run(FORM)
    run.turn()
    saved = run.saved_state
    _plain_only({k: v for k, v in saved.items() if k != "screen"})
    screen = copy.deepcopy(saved["screen"])
    choice_values = [f.pop("choice_values") for f in screen["fields"]]
    _plain_only(screen, "state.screen")
    assert choice_values == [[], ["Cat", "Dog"]]
    restored = SessionState.restore(saved)
    assert restored.screen == run.state.screen and restored.saved() == saved


def test_a_screen_saved_with_a_field_since_removed_or_without_one_since_added_still_reads() -> None:
    run = Run(FORM)
    run.turn()
    view = run.state.screen
    assert view is not None
    plain = screen_to_plain(view)
    plain["a_field_removed_since"] = "ignored"
    del plain["under"]  # a field added later, with a default
    plain["fields"][1]["old_choice_flag"] = True
    again = screen_from_plain(plain)
    assert again == replace(view, under="")


def test_a_screen_missing_a_field_without_default_says_what_to_do() -> None:
    run = Run(FORM)
    run.turn()
    assert run.state.screen is not None
    plain = screen_to_plain(run.state.screen)
    del plain["question"]
    with pytest.raises(StateError, match="give new fields of the screen records a default"):
        screen_from_plain(plain)


def test_a_state_from_a_newer_schema_is_refused_with_what_to_do() -> None:
    with pytest.raises(StateError, match=r"schema 99; this version reads 1 to 4: run the newer version"):
        SessionState.restore({"schema": 99})
    with pytest.raises(StateError, match="should be a mapping, found list"):
        SessionState.restore([1, 2])


def test_every_screen_field_has_a_default_but_the_first_three() -> None:
    # A new field of ScreenView needs a default, or every open session's saved screen stops reading.
    required = [f.name for f in fields(ScreenView) if f.default is f.default_factory]  # both MISSING
    assert required == ["block", "kind", "question"]


def test_the_event_stack_runs_first_what_is_pushed_first_and_drops_what_a_caller_dealt_with() -> None:
    state = SessionState()
    state.push_action("first_pushed")
    state.push_actions([_action("ask_a"), _action("ask_b")])
    top = state.current_action()
    assert top is not None and top.name == "ask_a"
    state.pop_action("ask_a")
    state.drop_actions({"first_pushed"})
    assert [a["action"] for a in state.saved()["actions"]] == ["ask_b"]
    state.replace_actions("only", {"x": 1})
    assert state.saved()["actions"] == [{"action": "only", "arguments": {"x": 1}}]


def test_replacing_choices_changes_only_the_named_field_and_clears_its_value() -> None:
    run = Run(FORM)
    run.turn()
    state = run.state
    state.replace_choices({"pet_kind": ((RenderedChoice("0", "Fish"),), ("Fish",))})
    assert state.screen is not None
    kinds = state.screen.fields[1]
    assert [c.label for c in kinds.choices] == ["Fish"] and kinds.choice_values == ("Fish",) and kinds.value is None
    assert state.screen.fields[0] == run.state.screen.fields[0]  # type: ignore[union-attr]


def _action(name: str) -> Any:
    from chalicelib.engine.state import PendingAction

    return PendingAction(name)
