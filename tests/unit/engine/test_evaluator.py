"""The evaluator: seeking names, mandatory/initial order, actions, outcomes."""

from __future__ import annotations

import pytest

from chalicelib.engine.errors import InterviewCodeError, LoopError, UndefinedVariableError
from chalicelib.engine.screen import OutcomeKind
from chalicelib.library.functions import decode_action
from tests.unit.engine.harness import Run

FAVORITE = """
question: What is your favorite color?
fields:
  - Color: color
---
mandatory: True
question: Your favorite color is ${ color }.
"""


def test_a_needed_name_is_asked_by_the_question_that_defines_it() -> None:
    run = Run(FAVORITE)
    assert run.question() == "What is your favorite color?"
    assert not run.answer({"color": "teal"}).errors
    assert run.question() == "Your favorite color is teal."


def test_the_later_of_two_blocks_for_a_name_wins() -> None:
    run = Run(FAVORITE + "---\ncode: |\n  color = 'red'\n")
    assert run.question() == "Your favorite color is red."


def test_a_code_block_that_does_not_define_the_name_falls_back_to_earlier_blocks() -> None:
    run = Run(FAVORITE + "---\ncode: |\n  if False:\n    color = 'red'\n")
    assert run.question() == "What is your favorite color?"


def test_code_asks_for_what_it_needs_first() -> None:
    text = """
mandatory: True
code: |
  total = a + b
---
question: A?
fields:
  - A: a
    datatype: integer
---
question: B?
fields:
  - B: b
    datatype: integer
---
mandatory: True
question: Total ${ total }
"""
    run = Run(text)
    assert run.question() == "A?"
    run.answer({"a": "2"})
    assert run.question() == "B?"
    run.answer({"b": "40"})
    assert run.question() == "Total 42"


def test_mandatory_code_runs_once_and_initial_code_runs_every_turn() -> None:
    text = """
mandatory: True
code: |
  counter = 0
---
initial: True
code: |
  counter += 1
---
mandatory: True
question: Seen ${ counter }
"""
    run = Run(text)
    assert [run.question() for _ in range(3)] == ["Seen 1", "Seen 2", "Seen 3"]


def test_need_asks_before_the_question_is_shown() -> None:
    text = FAVORITE.replace("mandatory: True\nquestion:", "mandatory: True\nneed: mood\nquestion:") + \
        "---\nquestion: Mood?\nfields:\n  - Mood: mood\n"
    run = Run(text)
    assert run.question() == "Mood?"
    run.answer({"mood": "calm"})
    assert run.question() == "What is your favorite color?"


def test_reconsider_recomputes_a_value_on_every_turn() -> None:
    text = """
mandatory: True
code: |
  turns = 0
---
initial: True
code: |
  turns += 1
---
reconsider: True
code: |
  doubled = turns * 2
---
mandatory: True
question: ${ doubled }
"""
    run = Run(text)
    assert [run.question() for _ in range(2)] == ["2", "4"]


def test_an_event_action_runs_once_per_request() -> None:
    text = """
mandatory: True
code: |
  fish = 2
---
event: add
code: |
  fish += action_argument('n')
---
mandatory: True
question: ${ fish } fish
subquestion: "[more](${ url_action('add', n=3) })"
"""
    run = Run(text)
    outcome = run.turn()
    assert outcome.screen is not None and outcome.screen.question == "2 fish"
    href = outcome.screen.subquestion.split('href="')[1].split('"')[0].replace("&amp;", "&")
    action, arguments = decode_action(href.split("action=")[1].replace("%2B", "+").replace("%2F", "/"))
    assert (action, arguments) == ("add", {"n": 3})
    assert run.turn(action=action, arguments=arguments).screen.question == "5 fish"  # type: ignore[union-attr]
    assert run.question() == "5 fish"


def test_an_action_naming_a_defined_variable_asks_its_question_again() -> None:
    run = Run(FAVORITE)
    run.turn()
    run.answer({"color": "red"})
    outcome = run.turn(action="color")
    assert outcome.screen is not None
    assert outcome.screen.question == "What is your favorite color?"
    assert outcome.screen.fields[0].value == "red"
    assert outcome.screen.event_list == ("color",)
    run.answer({"color": "blue"})
    assert run.question() == "Your favorite color is blue."


def test_objects_ask_for_attributes_by_their_full_name() -> None:
    text = """
objects:
  - client: Individual
---
question: Name?
fields:
  - First: client.name.first
  - Last: client.name.last
---
mandatory: True
question: Hello ${ client }
"""
    run = Run(text)
    outcome = run.turn()
    assert outcome.screen is not None
    assert [f.variable for f in outcome.screen.fields] == ["client.name.first", "client.name.last"]
    run.answer({"client.name.first": "Ada", "client.name.last": "Lovelace"})
    assert run.question() == "Hello Ada Lovelace"


def test_generic_index_questions_ask_for_each_item() -> None:
    text = """
mandatory: True
code: |
  names = {}
  for i in range(2):
    names[i] = pets[i]
---
question: Pet number ${ i + 1 }?
fields:
  - Name: pets[i]
---
mandatory: True
question: ${ names[0] } and ${ names[1] }
---
mandatory: True
code: |
  pets = {}
"""
    run = Run(text.replace("mandatory: True\ncode: |\n  pets = {}", "code: |\n  pets = DADict('pets')"))
    assert run.question() == "Pet number 1?"
    run.answer({"pets[0]": "Rex"})
    assert run.question() == "Pet number 2?"
    run.answer({"pets[1]": "Tom"})
    assert run.question() == "Rex and Tom"


def test_response_message_and_command_end_the_turn() -> None:
    assert Run("mandatory: True\ncode: |\n  response('hi', content_type='text/plain')\n").turn().body == b"hi"
    message = Run("mandatory: True\ncode: |\n  message('Over', 'Bye')\n").turn()
    assert message.screen is not None
    assert [b.value for b in message.screen.buttons] == ["exit", "restart"]
    command = Run("mandatory: True\ncode: |\n  command('leave', url='https://example.com')\n").turn()
    assert (command.kind, command.command, command.url) == (OutcomeKind.COMMAND, "leave", "https://example.com")


def test_an_exception_in_author_code_names_the_block_and_keeps_the_trace() -> None:
    run = Run("mandatory: True\ncode: |\n  x = 1 / 0\n")
    with pytest.raises(InterviewCodeError) as caught:
        run.turn()
    assert str(caught.value) == "ZeroDivisionError in inline.yml, line 1, block 1: division by zero"
    assert 'File "inline.yml", line 3' in caught.value.trace


def test_a_name_no_block_defines_is_reported() -> None:
    with pytest.raises(UndefinedVariableError, match="needs 'nowhere'"):
        Run("mandatory: True\ncode: |\n  x = nowhere\n").turn()


def test_blocks_that_undefine_each_other_forever_stop_with_an_error() -> None:
    text = "mandatory: True\ncode: |\n  a\n---\ncode: |\n  a = b\n---\ncode: |\n  b = a\n"
    with pytest.raises(LoopError, match="goes in a circle: a → b → a"):
        Run(text).turn()


def test_task_counters_count_and_persist_when_asked() -> None:
    text = """
mandatory: True
code: |
  mark_task_as_performed('plain')
  mark_task_as_performed('kept', persistent=True)
---
mandatory: True
question: ${ times_task_performed('plain') } ${ task_performed('kept', persistent=True) }
"""
    run = Run(text)
    assert run.question() == "1 True"
    assert run.kv[("session", "tasks")] == {"kept": 1}
    assert run.state.task_count("plain") == 1 and run.state.task_count("kept") == 0


def test_url_ask_asks_each_named_variable_again_in_order() -> None:
    text = FAVORITE + "---\nquestion: Mood?\nfields:\n  - Mood: mood\n"
    run = Run(text)
    run.turn()
    run.answer({"color": "red"})
    outcome = run.turn(action="_da_force_ask", arguments={"variables": ["mood", "color"]})
    assert outcome.screen is not None and outcome.screen.question == "Mood?"
    run.answer({"mood": "calm"})
    assert run.question() == "What is your favorite color?"
    run.answer({"color": "green"})
    assert run.question() == "Your favorite color is green."
    assert run.answers["mood"] == "calm"


def test_a_one_off_force_ask_request_asks_once_instead_of_running_itself_forever() -> None:
    # The API's /api/session/action with persistent false, or a check-in, asking for url_ask's action
    text = FAVORITE + "---\nquestion: Mood?\nfields:\n  - Mood: mood\n"
    run = Run(text)
    run.turn()
    run.answer({"color": "red"})
    outcome = run.turn(action="_da_force_ask", arguments={"variables": ["mood"]}, persistent_action=False)
    assert outcome.screen is not None and outcome.screen.question == "Mood?"


def test_force_ask_inside_a_one_off_action_asks_and_does_not_run_the_action_again() -> None:
    text = FAVORITE + """---
event: ask_again
code: |
  runs = runs + 1 if defined('runs') else 1
  force_ask('color')
"""
    run = Run(text)
    run.turn()
    run.answer({"color": "red"})
    outcome = run.turn(action="ask_again", persistent_action=False)
    assert outcome.screen is not None and outcome.screen.question == "What is your favorite color?"
    assert run.answers["runs"] == 1


def test_forget_prior_clears_pending_actions_first() -> None:
    run = Run(FAVORITE + "---\nquestion: Mood?\nfields:\n  - Mood: mood\n")
    run.turn()
    run.answer({"color": "red"})
    run.turn(action="mood")
    outcome = run.turn(action="_da_priority_action", arguments={"_action": "color", "_arguments": {}})
    assert outcome.screen is not None and outcome.screen.question == "What is your favorite color?"
    run.answer({"color": "blue"})
    assert run.question() == "Your favorite color is blue."


def test_an_error_in_question_text_names_the_question_block() -> None:
    run = Run("mandatory: True\nquestion: Ratio ${ 1 / 0 }\n")
    with pytest.raises(InterviewCodeError, match="ZeroDivisionError in inline.yml, line 1, block 1"):
        run.turn()


def test_objects_blocks_accept_class_expressions() -> None:
    text = """
objects:
  - guests: DAList.using(object_type=Individual)
---
mandatory: True
code: |
  guests.appendObject()
---
mandatory: True
question: ${ guests[0].instanceName }
"""
    assert Run(text).question() == "guests[0]"


def test_an_unknown_object_class_is_a_clear_error() -> None:
    with pytest.raises(Exception, match="unknown object class 'Nonesuch' for 'thing'"):
        Run("objects:\n  - thing: Nonesuch\n---\nmandatory: True\nquestion: ${ thing }\n").turn()


def test_the_trace_of_an_author_error_shows_only_interview_frames() -> None:
    with pytest.raises(InterviewCodeError) as caught:
        Run("mandatory: True\ncode: |\n  x = 1\n  y = x / 0\n").turn()
    trace = caught.value.trace
    assert trace.startswith("Traceback (most recent call last):")
    assert 'File "inline.yml", line 4' in trace
    assert "chalicelib" not in trace and trace.rstrip().endswith("ZeroDivisionError: division by zero")


def test_a_block_re_run_in_the_same_turn_queues_its_background_task_once() -> None:
    # Given a block that starts a task, then needs a name that a code block computes,
    # so the engine runs the first block again, in the same turn, once the name exists
    text = """
mandatory: True
code: |
  runs = runs + 1 if defined('runs') else 1
  the_task = background_action('work', n=1)
  extra_needed
---
code: |
  extra_needed = 'x'
---
mandatory: True
question: Ran ${ runs } times
"""
    from chalicelib.engine.evaluator import Evaluation
    from chalicelib.engine.request import Request
    from chalicelib.library import namespace

    run = Run(text)
    ev = Evaluation(run.interview, {}, Request("inline.yml", "S" * 32), namespace.build)
    outcome = ev.run()
    # Then the block ran twice but one task is queued
    assert outcome.screen is not None and outcome.screen.question == "Ran 2 times"
    assert len(ev.outbox) == 1
