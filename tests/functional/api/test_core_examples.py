"""docassemble's "core" examples (screens, actions, commands) run unmodified through the REST API.

Expected screens follow the example files in ../shared/examples and the question
JSON of docassemble's session API (as chalicelib/web/api_json.py makes it).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.functional.api.helpers import ApiSession, content_type, decoded_action, links, ok_json, plain

Start = Callable[[str], ApiSession]


@pytest.fixture(autouse=True)
def _needs_examples(examples: Path) -> None:
    """Every test here runs an example from ../shared/examples (skips, saying why, when absent)."""


# ---------------------------------------------------------------------------- actions.yml
def test_actions_review_screen_shows_blue_and_a_link_to_the_color_action(start: Start) -> None:
    # Given: a new actions.yml session (its mandatory code sets color to blue)
    session = start("actions.yml")

    # When: the client asks for the current question
    screen = ok_json(session.question())

    # Then: it is the settrue review screen for info_is_verified, with a url_action('color') link
    assert screen["questionType"] == "settrue"
    assert screen["questionText"] == "Review your information."
    assert [field["variable_name"] for field in screen["fields"]] == ["info_is_verified"]
    assert screen["event_list"] == ["info_is_verified"]
    assert plain(screen["subquestionText"]) == "Your favorite color is blue. Change this"
    (href,) = links(screen["subquestionText"])
    assert "action=" in href
    assert decoded_action(href) == {"action": "color", "arguments": {}}


def test_actions_persistent_color_action_asks_for_the_color_and_the_new_color_reaches_the_end(
    start: Start,
) -> None:
    # Given: an actions.yml session on its review screen
    session = start("actions.yml")
    ok_json(session.question())

    # When: the client runs the color action persistently
    result = session.action("color", persistent=True)

    # Then: the action answers 204 and the color question is now current, defaulting to blue
    assert result.status == 204, result.body
    assert result.body in (b"", "")
    screen = ok_json(session.question())
    assert screen["questionType"] == "fields"
    assert screen["questionText"] == "What is your favorite color?"
    assert screen["event_list"] == ["color"]
    (field,) = screen["fields"]
    assert field["variable_name"] == "color"
    assert field["label"] == "Favorite Color"
    assert field["default"] == "blue"

    # When: the client answers red
    review = ok_json(session.set({"color": "red"}, event_list=screen["event_list"]))

    # Then: the review screen is back and says red
    assert review["questionText"] == "Review your information."
    assert plain(review["subquestionText"]) == "Your favorite color is red. Change this"

    # When: the client verifies the information
    final = ok_json(session.set({"info_is_verified": True}))

    # Then: the mandatory dead end says red
    assert final["questionType"] == "deadend"
    assert final["questionText"] == "Information submitted."
    assert plain(final["subquestionText"]) == "You have submitted the fact that your favorite color is red."
    assert final["fields"] == []

    # And: GET /api/session holds both answers
    variables = ok_json(session.variables())
    assert variables["color"] == "red"
    assert variables["info_is_verified"] is True


def test_actions_non_persistent_color_action_leaves_the_review_screen_current(start: Start) -> None:
    # Given: an actions.yml session on its review screen
    session = start("actions.yml")
    ok_json(session.question())

    # When: the client runs the color action without `persistent`
    result = session.action("color")

    # Then: 204, and the action did not stay: the review screen is still the current question
    assert result.status == 204, result.body
    screen = ok_json(session.question())
    assert screen["questionText"] == "Review your information."
    assert plain(screen["subquestionText"]) == "Your favorite color is blue. Change this"


# ---------------------------------------------------------------------------- actions-parameters.yml
def test_actions_parameters_review_screen_links_add_actions_with_their_color_argument(start: Start) -> None:
    # Given: a new actions-parameters.yml session
    session = start("actions-parameters.yml")

    # When: the client asks for the current question
    screen = ok_json(session.question())

    # Then: it counts 2 blue and 3 red fishes and links add(color=blue) and add(color=red)
    assert screen["questionType"] == "settrue"
    assert screen["questionText"] == "Review your information."
    assert [field["variable_name"] for field in screen["fields"]] == ["info_is_verified"]
    assert plain(screen["subquestionText"]) == (
        "You have 2 blue fishes. Add blue fish You have 3 red fishes. Add red fish"
    )
    assert [decoded_action(href) for href in links(screen["subquestionText"])] == [
        {"action": "add", "arguments": {"color": "blue"}},
        {"action": "add", "arguments": {"color": "red"}},
    ]


def test_actions_parameters_add_action_with_color_argument_adds_one_fish_per_call(start: Start) -> None:
    # Given: an actions-parameters.yml session with 2 blue and 3 red fishes
    session = start("actions-parameters.yml")
    ok_json(session.question())

    # When: the client runs add(color=blue), not persistent, twice
    first = session.action("add", arguments={"color": "blue"})
    second = session.action("add", arguments={"color": "blue"})

    # Then: each answers 204 and the review screen now counts 4 blue fishes (red unchanged)
    assert (first.status, second.status) == (204, 204), (first.body, second.body)
    screen = ok_json(session.question())
    assert screen["questionText"] == "Review your information."
    assert plain(screen["subquestionText"]) == (
        "You have 4 blue fishes. Add blue fish You have 3 red fishes. Add red fish"
    )

    # When: the client verifies the information
    final = ok_json(session.set({"info_is_verified": True}))

    # Then: the final screen reports both counts
    assert final["questionType"] == "deadend"
    assert final["questionText"] == "Information submitted."
    assert plain(final["subquestionText"]) == "You have 4 blue fishes and 3 red fishes."
    assert ok_json(session.variables())["fishes"] == {"blue": 4, "red": 3}


# ---------------------------------------------------------------------------- reload.yml
def test_reload_question_carries_reload_after_and_counts_each_view(start: Start) -> None:
    # Given: a new reload.yml session (session/new evaluated once: the counter is 1)
    session = start("reload.yml")

    # When: the client views the question twice
    first = ok_json(session.question())
    second = ok_json(session.question())

    # Then: both ask to reload after 10 s and each view ran the initial block once more
    assert first["reload_after"] == 10000
    assert second["reload_after"] == 10000
    assert first["questionType"] == "settrue"
    assert [field["variable_name"] for field in first["fields"]] == ["acknowledged"]
    assert plain(first["questionText"]) == "You have viewed this screen 2 times."
    assert plain(second["questionText"]) == "You have viewed this screen 3 times."


def test_reload_acknowledging_ends_the_interview(start: Start) -> None:
    # Given: a reload.yml session on its question
    session = start("reload.yml")
    ok_json(session.question())

    # When: the client sets acknowledged
    final = ok_json(session.set({"acknowledged": True}))

    # Then: the final mandatory screen is shown, without reloading
    assert final["questionType"] == "deadend"
    assert final["questionText"] == "All done with the interview."
    assert "reload_after" not in final


# ---------------------------------------------------------------------------- response.yml
def test_response_question_returns_the_raw_json_body_of_response(start: Start) -> None:
    # Given: a new response.yml session (its mandatory code calls response())
    session = start("response.yml")

    # When: the client asks for the current question
    result = session.question()

    # Then: the body is exactly what response() was given, with its content type
    assert result.status == 200, result.body
    assert content_type(result).startswith("application/json")
    assert result.body == b'{"fruit": "apple", "pieces": 2}'
    assert result.json == {"fruit": "apple", "pieces": 2}


def test_response_post_session_returns_the_same_raw_body(start: Start) -> None:
    # Given: a response.yml session
    session = start("response.yml")

    # When: the client posts (no) variables
    result = session.set({})

    # Then: POST /api/session passes response() through exactly like the GET
    assert result.status == 200, result.body
    assert content_type(result).startswith("application/json")
    assert result.body == b'{"fruit": "apple", "pieces": 2}'


# ---------------------------------------------------------------------------- message.yml
def test_message_is_a_multiple_choice_screen_with_exit_and_restart_command_buttons(start: Start) -> None:
    # Given: a new message.yml session (its mandatory code calls message())
    session = start("message.yml")

    # When: the client asks for the current question
    screen = ok_json(session.question())

    # Then: the message is a buttons screen whose choices are the Exit and Restart commands
    assert screen["questionType"] == "multiple_choice"
    assert screen["questionVariety"] == "buttons"
    assert screen["questionText"] == "The interview is over."
    assert plain(screen["subquestionText"]) == "Better luck next time!"
    (field,) = screen["fields"]
    assert "variable_name" not in field
    assert [(choice["label"], choice["value"]) for choice in field["choices"]] == [
        ("Exit", "exit"), ("Restart", "restart"),
    ]
    assert all(choice.get("command") is True for choice in field["choices"])
    assert all("variable_name" not in choice for choice in field["choices"])


# ---------------------------------------------------------------------------- command.yml
def test_command_exit_is_returned_as_question_json_and_does_not_delete_the_session(start: Start) -> None:
    # Given: a new command.yml session (its mandatory code calls command('exit', url=...))
    session = start("command.yml")

    # When: the client asks for the current question
    screen = ok_json(session.question())

    # Then: the command comes back as questionType exit, with the URL as the question text
    assert screen["questionType"] == "exit"
    assert screen["questionText"] == "https://google.com"

    # And: over the API the session survives the exit
    assert session.variables().status == 200
    again = ok_json(session.question())
    assert (again["questionType"], again["questionText"]) == ("exit", "https://google.com")


# ---------------------------------------------------------------------------- exit.yml, leave.yml
@pytest.mark.parametrize("command", ["exit", "leave"])
def test_buttons_screen_offers_stanford_and_harvard_for_target_url(start: Start, command: str) -> None:
    # Given: a new exit.yml / leave.yml session
    session = start(f"{command}.yml")

    # When: the client asks for the current question
    screen = ok_json(session.question())

    # Then: a buttons field sets target_url to one of the two URLs
    assert screen["questionType"] == "multiple_choice"
    assert screen["questionVariety"] == "buttons"
    assert screen["questionText"] == "Where do you want to go?"
    assert screen["event_list"] == ["target_url"]
    (field,) = screen["fields"]
    assert field["variable_name"] == "target_url"
    assert [(choice["label"], choice["value"]) for choice in field["choices"]] == [
        ("Stanford", "http://stanford.edu/"), ("Harvard", "http://www.harvard.edu/"),
    ]


@pytest.mark.parametrize("command", ["exit", "leave"])
def test_setting_target_url_returns_the_command_with_that_url(start: Start, command: str) -> None:
    # Given: an exit.yml / leave.yml session on its buttons screen
    session = start(f"{command}.yml")
    ok_json(session.question())

    # When: the client picks Harvard
    result = ok_json(session.set({"target_url": "http://www.harvard.edu/"}))

    # Then: the command named in the interview comes back with the chosen URL
    assert result["questionType"] == command
    assert result["questionText"] == "http://www.harvard.edu/"

    # And: the session is still there
    assert ok_json(session.variables())["target_url"] == "http://www.harvard.edu/"


# ---------------------------------------------------------------------------- persistent-task.yml
def test_persistent_task_stays_performed_after_going_back(start: Start) -> None:
    # Given: a new persistent-task.yml session
    session = start("persistent-task.yml")

    # When: the client views the fruit question
    first = ok_json(session.question())

    # Then: the `under` text of the default screen parts says the task is not performed
    assert first["questionType"] == "fields"
    assert first["questionText"] == "What is your favorite fruit?"
    assert plain(first["subquestionText"]) == "Note whether the task has been performed yet."
    assert [field["variable_name"] for field in first["fields"]] == ["favorite_fruit"]
    assert plain(first["underText"]) == "The task has not been performed."

    # When: the client answers apple
    final = ok_json(session.set({"favorite_fruit": "apple"}))

    # Then: the final screen is shown and the task is performed
    assert final["questionType"] == "deadend"
    assert final["questionText"] == "You like apple"
    assert plain(final["subquestionText"]) == (
        "Press the Back button and then notice whether the task has been performed."
    )
    assert plain(final["underText"]) == "The task has been performed."

    # When: the client goes back
    back = ok_json(session.back())

    # Then: the fruit question is current again, and the persistent task is still performed
    assert back["questionText"] == "What is your favorite fruit?"
    assert plain(back["underText"]) == "The task has been performed."
    assert plain(ok_json(session.question())["underText"]) == "The task has been performed."


# ---------------------------------------------------------------------------- country-state.yml
def test_country_state_back_shows_the_country_and_state_chosen_before(start: Start) -> None:
    # Given: country-state.yml answered (Canada, Quebec), on its final screen
    session = start("country-state.yml")
    ok_json(session.question())
    final = ok_json(session.set({"country": "CA", "state": "QC"}))
    assert plain(final["subquestionText"]) == "Your country code is CA . Your state code is QC ."

    # When: the client goes back
    assert session.back().status == 200

    # Then: the question shows again with the earlier answers as its fields' defaults and selected choices,
    # and the state list is Canada's (showifdef('country', 'US', prior=True) gives the discarded CA)
    screen = ok_json(session.question())
    assert screen["questionText"] == "Where do you live?"
    country, state = screen["fields"]
    assert (country["variable_name"], country["default"]) == ("country", "CA")
    assert [c["value"] for c in country["choices"] if c.get("selected")] == ["CA"]
    assert (state["variable_name"], state["default"]) == ("state", "QC")
    assert [c["value"] for c in state["choices"] if c.get("selected")] == ["QC"]
    assert "ON" in [c["value"] for c in state["choices"]] and "TX" not in [c["value"] for c in state["choices"]]
    # And the answers themselves were undone by Back
    assert "country" not in ok_json(session.variables())
