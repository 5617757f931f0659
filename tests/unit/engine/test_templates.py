"""`template` blocks are lazy (docassemble's DALazyTemplate): rendered when used, from the answers then."""

from __future__ import annotations

from tests.unit.engine.harness import Run

LATER = """
mandatory: True
code: |
  greeting
  color
---
question: Your favorite color?
fields:
  - Color: color
---
question: Your name?
fields:
  - Name: name
---
template: greeting
subject: |
  Hello ${ name }
content: |
  Dear **${ name }**, welcome.
---
mandatory: True
question: |
  ${ greeting.subject }
subquestion: |
  ${ greeting }

  Plain: ${ greeting.content }
"""

CHANGED = """
mandatory: True
code: |
  count = 1
  note
  count = 2
---
template: note
content: |
  The count is ${ count }.
---
mandatory: True
question: |
  ${ note.content }
"""


def test_a_template_defined_before_its_names_renders_them_when_used() -> None:
    # Given: mandatory code that defines the template before anything asks the name it refers to
    run = Run(LATER)
    # When: the interview runs, defining the template asks nothing; the name is asked when it is used
    assert run.question() == "Your favorite color?"
    run.answer({"color": "red"})
    assert run.question() == "Your name?"
    run.answer({"name": "Ada"})
    outcome = run.turn()
    # Then: the screen that uses the template shows the name given after it was defined
    assert outcome.screen is not None
    assert outcome.screen.question == "Hello Ada"
    assert "Dear <strong>Ada</strong>, welcome." in outcome.screen.subquestion
    assert "Plain: Dear **Ada**, welcome." in outcome.screen.subquestion


def test_a_template_shows_the_current_value_of_a_name_changed_after_it_was_defined() -> None:
    run = Run(CHANGED)
    assert run.question() == "The count is 2."


def test_a_template_follows_an_answer_changed_in_a_later_turn() -> None:
    run = Run(LATER)
    run.question()
    run.answer({"color": "red"})
    run.question()
    run.answer({"name": "Ada"})
    run.turn()
    run.answers["name"] = "Grace"
    outcome = run.turn()
    assert outcome.screen is not None and outcome.screen.question == "Hello Grace"

