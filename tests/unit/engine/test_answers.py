"""Answers: only what the screen asked for is set, and only when every value is valid."""

from __future__ import annotations

import datetime as dt

import pytest

from chalicelib.engine import assign
from chalicelib.engine.answers import Applied, StaleScreenError
from tests.unit.engine.harness import Run

FORM = """
question: About you
fields:
  - Age: age
    datatype: integer
    min: 1
    max: 130
  - E-mail: email
    datatype: email
  - Born: born
    datatype: date
  - Notes: notes
    required: False
  - Pet: pet
    choices:
      - Cat: cat
      - Dog: dog
---
mandatory: True
question: Done ${ age }
"""


def _start() -> Run:
    run = Run(FORM)
    run.turn()
    return run


def test_valid_answers_are_converted_to_their_types() -> None:
    run = _start()
    applied = run.answer({"age": "42", "email": "a@example.com", "born": "1980-02-03", "notes": "", "pet": "1"})
    assert applied.errors == ()
    assert run.answers["age"] == 42
    assert run.answers["born"] == dt.date(1980, 2, 3)
    assert run.answers["pet"] == "dog"
    assert run.answers["notes"] == ""
    assert run.question() == "Done 42"


@pytest.mark.parametrize(("field", "value", "message"), [
    ("age", "forty", "Enter a whole number."),
    ("age", "0", "Enter a value of at least 1."),
    ("age", "131", "Enter a value of no more than 130."),
    ("email", "not-an-email", "Enter a valid e-mail address, such as name@example.com."),
    ("born", "yesterday", "Enter a date as YYYY-MM-DD."),
    ("pet", "7", "Choose one of the options shown."),
    ("email", "", "This field is required."),
])
def test_one_wrong_value_sets_nothing_and_says_what_to_enter(field: str, value: str, message: str) -> None:
    run = _start()
    values = {"age": "42", "email": "a@example.com", "born": "1980-02-03", "pet": "0", field: value}
    applied = run.answer(values)
    assert [(e.variable, e.message) for e in applied.errors] == [(field, message)]
    assert not {"age", "email", "born", "pet"} & set(run.answers)
    screen = run.state.screen
    assert screen is not None and screen.question == "About you"


def test_names_the_screen_did_not_ask_for_are_never_assigned() -> None:
    run = _start()
    run.answer({"age": "5", "email": "a@example.com", "born": "2000-01-01", "pet": "0", "is_admin": "True",
                "__class__": "x", "_internal": "gone"})
    assert "is_admin" not in run.answers
    assert "_internal" not in run.answers and "__class__" not in run.answers


def test_an_answer_without_a_waiting_question_is_refused() -> None:
    run = Run(FORM)
    with pytest.raises(StaleScreenError):
        run.answer({"age": "5"})


@pytest.mark.parametrize("name", ["__import__('os').system('true')", "a; b", "x.__class__", "a[b]", "f()",
                                  "a.b()", "lambda: 1", "__builtins__", "x._private"])
def test_variable_names_that_are_code_are_refused(name: str) -> None:
    with pytest.raises(assign.BadVariableNameError):
        assign.assign({}, name, 1)


def test_plain_targets_are_assigned_without_running_code() -> None:
    namespace: dict[str, object] = {"fishes": {"blue": 1}}
    assign.assign(namespace, "fishes['red']", 2)
    assign.assign(namespace, "count", 3)
    assert namespace == {"fishes": {"blue": 1, "red": 2}, "count": 3}
    assert assign.lookup(namespace, "fishes['red']") == 2
    assign.delete(namespace, "fishes['blue']")
    assert not assign.is_defined(namespace, "fishes['blue']")


def test_a_post_to_an_end_screen_changes_nothing_and_the_screen_stays() -> None:
    run = Run("mandatory: True\nquestion: All done\n")
    assert run.question() == "All done"
    assert run.answer({}, button="0") == Applied()
    assert run.question() == "All done"  # not "ran to its end without a question"
