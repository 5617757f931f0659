"""REST API errors and edge cases (README.md, "The REST API": the errors table).

Every error is JSON {"error": "message"} with a 4xx status and no stack trace,
and the server keeps serving afterwards. The interviews used here are test
fixtures in tests/fixtures/interviews: two_questions.yml, raises.yml, undefined.yml,
undefined_later.yml.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.conftest import Api, ApiResult
from tests.functional.api.helpers import ApiSession, content_type, ok_json

Start = Callable[[str], ApiSession]

INTERVIEW = "two_questions.yml"
WRONG_KEY = "WrongKeyForTests0123456789abcdef"
USER_KEY = "UserKeyForTests0123456789abcdefg"
ACCESS_DENIED = "Access denied."


def assert_error(result: ApiResult, status: int, message: str | None = None) -> str:
    """The answer is JSON {"error": <non-empty text>} with this status and no traceback."""
    assert result.status == status, result.body
    assert content_type(result).startswith("application/json"), result.headers
    data = result.json
    assert isinstance(data, dict) and list(data) == ["error"], data
    assert isinstance(data["error"], str) and data["error"], data
    assert b"Traceback" not in result.body
    assert b'File "' not in result.body
    if message is not None:
        assert data["error"] == message
    return data["error"]


def assert_still_serving(api: Api) -> None:
    """A normal request right after the error is answered normally."""
    data = api.new_session(INTERVIEW)
    query = urlencode({"i": INTERVIEW, "session": data["session"], "secret": data["secret"]})
    screen = ok_json(api.get(f"/api/session/question?{query}"))
    assert screen["questionText"] == "What is your favorite color?"


def raw_request(api: Api, method: str, path: str, *, headers: dict[str, str] | None = None,
                body: str | None = None) -> ApiResult:
    """A request with exactly these headers (no API key unless given)."""
    response = api.client.http.request(method, path, headers=headers or {}, body=body)
    return ApiResult(response.status_code, response.body, dict(response.headers))


@pytest.fixture
def user_key(services: Any) -> str:
    """An API key owned by a user with only the `user` privilege."""
    services.accounts.create_user("someone@example.com", "user-password", privileges=("user",))
    services.accounts.add_api_key("someone@example.com", USER_KEY, "tests")
    return USER_KEY


# ---------------------------------------------------------------------------- session/new
def test_session_new_without_i_is_400(api: Api) -> None:
    # When: a session is started without naming the interview
    result = api.get("/api/session/new")

    # Then: 400 with docassemble's message
    assert_error(result, 400, "Parameter i is required.")
    assert_still_serving(api)


@pytest.mark.parametrize("name", ["no_such_interview.yml", "no_such_folder/two_questions.yml"])
def test_session_new_for_an_unknown_interview_is_404(api: Api, name: str) -> None:
    # When: a session is started for an interview that is on no interview folder
    result = api.get(f"/api/session/new?{urlencode({'i': name})}")

    # Then: 404
    assert_error(result, 404)
    assert_still_serving(api)


@pytest.mark.parametrize("name", ["../../../infra/resources.yaml", "/etc/passwd", "../conftest.py"])
def test_session_new_refuses_interview_names_outside_the_interview_path(api: Api, name: str) -> None:
    # When: the interview name climbs out of the interview folders or is absolute
    result = api.get(f"/api/session/new?{urlencode({'i': name})}")

    # Then: it is not found (nothing outside the interview path is ever loaded)
    assert_error(result, 404)
    assert_still_serving(api)


@pytest.mark.parametrize("secret", ["abc", "fifteen-chars-x"])
def test_session_new_with_a_chosen_secret_under_16_characters_is_400_and_starts_nothing(
    api: Api, services: Any, secret: str
) -> None:
    # When: the caller chooses a secret too short to protect the session's key
    result = api.get(f"/api/session/new?{urlencode({'i': INTERVIEW, 'secret': secret})}")

    # Then: 400 that says what is needed, and no session was created
    message = assert_error(result, 400)
    assert "at least 16 characters" in message and f"found {len(secret)}" in message
    assert list(services.store.list_heads()) == []
    assert_still_serving(api)


def test_session_new_with_a_chosen_secret_of_16_characters_opens_with_that_secret(api: Api) -> None:
    # When
    secret = "sixteen-chars-ok"
    data = ok_json(api.get(f"/api/session/new?{urlencode({'i': INTERVIEW, 'secret': secret})}"))

    # Then: the secret is not echoed, and it opens the session
    assert "secret" not in data
    query = urlencode({"i": INTERVIEW, "session": data["session"], "secret": secret})
    assert ok_json(api.get(f"/api/session/question?{query}"))["questionText"] == "What is your favorite color?"


# ---------------------------------------------------------------------------- session parameters
@pytest.mark.parametrize("missing", ["i", "session"])
def test_question_without_i_or_session_is_400(start: Start, missing: str) -> None:
    # Given: a session
    session = start(INTERVIEW)
    params = {key: value for key, value in session.ref.items() if key != missing}

    # When: the question is asked for without one of i and session
    result = session.api.get(f"/api/session/question?{urlencode(params)}")

    # Then: 400 with docassemble's message
    assert_error(result, 400, "Parameters i and session are required.")
    assert_still_serving(session.api)


def test_a_session_asked_for_under_another_interview_is_404(start: Start) -> None:
    # Given: a two_questions.yml session
    session = start(INTERVIEW)
    query = urlencode({"i": "raises.yml", "session": session.session, "secret": session.secret})

    # When: its id is sent with another interview's name
    result = session.api.get(f"/api/session/question?{query}")

    # Then: not found (the other interview never runs on these answers)
    assert_error(result, 404)
    assert ok_json(session.question())["questionText"] == "What is your favorite color?"


def test_question_for_an_unknown_session_is_404(start: Start) -> None:
    # Given: a real session's secret, but a session id that does not exist
    session = start(INTERVIEW)
    query = urlencode({"i": INTERVIEW, "session": "NoSuchSession0123456789abcdefghi", "secret": session.secret})

    # When: the question and the variables of that session are asked for
    question = session.api.get(f"/api/session/question?{query}")
    variables = session.api.get(f"/api/session?{query}")

    # Then: both are 404
    assert_error(question, 404)
    assert_error(variables, 404)
    assert_still_serving(session.api)


# ---------------------------------------------------------------------------- API keys
KEY_PLACEMENTS = ["query", "body", "cookie", "header", "bearer", "bearer-lowercase"]


def post_with_key(api: Api, session: ApiSession, placement: str, key: str, variables: dict[str, Any]) -> ApiResult:
    """POST /api/session with the key in exactly one place."""
    body: dict[str, Any] = {**session.ref, "variables": variables}
    headers = {"Content-Type": "application/json"}
    path = "/api/session"
    if placement == "query":
        path += "?" + urlencode({"key": key})
    elif placement == "body":
        body["key"] = key
    elif placement == "cookie":
        headers["Cookie"] = f"X-API-Key={key}"
    elif placement == "header":
        headers["X-API-Key"] = key
    elif placement == "bearer":
        headers["Authorization"] = f"Bearer {key}"
    else:
        headers["Authorization"] = f"bearer {key}"
    return raw_request(api, "POST", path, headers=headers, body=json.dumps(body))


@pytest.mark.parametrize("placement", KEY_PLACEMENTS)
def test_the_right_key_is_accepted_in_each_placement(api: Api, start: Start, placement: str) -> None:
    # Given: a session
    session = start(INTERVIEW)

    # When: a variable is set with the admin key in this one place
    result = post_with_key(api, session, placement, api.key, {"color": "green"})

    # Then: it is accepted and the next question is shown
    screen = ok_json(result)
    assert screen["questionText"] == "What is your favorite fruit?"
    assert ok_json(session.variables())["color"] == "green"


@pytest.mark.parametrize("placement", KEY_PLACEMENTS)
def test_a_wrong_key_is_refused_in_each_placement_and_nothing_is_set(
    api: Api, start: Start, placement: str
) -> None:
    # Given: a session
    session = start(INTERVIEW)

    # When: a variable is set with an unknown key in this one place
    result = post_with_key(api, session, placement, WRONG_KEY, {"color": "green"})

    # Then: 403 "Access denied." and the variable was not set
    assert_error(result, 403, ACCESS_DENIED)
    assert b"favorite" not in result.body
    assert "color" not in ok_json(session.variables())
    assert_still_serving(api)


@pytest.mark.parametrize("path", ["/api/session/new?i=two_questions.yml", "/api/interviews"])
def test_a_request_without_any_key_is_403(api: Api, path: str) -> None:
    # When: an endpoint is called with no key at all
    result = raw_request(api, "GET", path)

    # Then: 403 "Access denied."
    assert_error(result, 403, ACCESS_DENIED)
    assert_still_serving(api)


def test_the_query_key_wins_over_the_header_key(api: Api) -> None:
    # When: the query holds the right key and the header a wrong one, and then the other way round
    right_in_query = raw_request(api, "GET", f"/api/session/new?i={INTERVIEW}&key={api.key}",
                                 headers={"X-API-Key": WRONG_KEY})
    wrong_in_query = raw_request(api, "GET", f"/api/session/new?i={INTERVIEW}&key={WRONG_KEY}",
                                 headers={"X-API-Key": api.key})

    # Then: the first key found (the query's) decides, as in docassemble
    assert ok_json(right_in_query)["i"] == INTERVIEW
    assert_error(wrong_in_query, 403, ACCESS_DENIED)


# ---------------------------------------------------------------------------- secrets
def test_a_wrong_secret_is_403_and_reveals_no_answer(start: Start) -> None:
    # Given: a session with an answer in it
    session = start(INTERVIEW)
    ok_json(session.set({"color": "magenta"}))
    wrong = urlencode({"i": INTERVIEW, "session": session.session, "secret": "WrongSecret01234"})

    # When: its variables and its question are read with a wrong secret
    variables = session.api.get(f"/api/session?{wrong}")
    question = session.api.get(f"/api/session/question?{wrong}")

    # Then: both are refused with 403 and neither body holds the answer
    for result in (variables, question):
        assert_error(result, 403)
        assert b"magenta" not in result.body
        assert b"fruit" not in result.body

    # And: the right secret still opens the session
    assert ok_json(session.variables())["color"] == "magenta"


def test_a_wrong_secret_cannot_set_variables(start: Start) -> None:
    # Given: a session
    session = start(INTERVIEW)

    # When: a variable is posted with a wrong secret
    result = session.api.post("/api/session", {**session.ref, "secret": "WrongSecret01234",
                                                "variables": {"color": "green"}})

    # Then: 403 and nothing was set
    assert_error(result, 403)
    assert "color" not in ok_json(session.variables())


def test_a_missing_secret_on_an_encrypted_session_is_refused(start: Start) -> None:
    # Given: an (encrypted) session
    session = start(INTERVIEW)
    ok_json(session.set({"color": "magenta"}))

    # When: its variables are read without a secret
    result = session.api.get(f"/api/session?{urlencode({'i': INTERVIEW, 'session': session.session})}")

    # Then: refused (4xx) without revealing the answer
    assert result.status in (400, 403), result.body
    assert_error(result, result.status)
    assert b"magenta" not in result.body


# ---------------------------------------------------------------------------- actions
def test_action_without_action_is_400(start: Start) -> None:
    # Given: a session
    session = start(INTERVIEW)

    # When: an action is posted without its name
    result = session.api.post("/api/session/action", session.ref)

    # Then: 400 with docassemble's message
    assert_error(result, 400, "Parameters i, session, and action are required.")
    assert_still_serving(session.api)


def test_action_with_arguments_that_are_not_an_object_is_400(start: Start) -> None:
    # Given: a session
    session = start(INTERVIEW)

    # When: an action is posted with a list as its arguments
    result = session.action("anything", arguments=["color", "blue"])

    # Then: 400 with docassemble's message
    assert_error(result, 400, "Arguments data is not a dict.")
    assert_still_serving(session.api)


# ---------------------------------------------------------------------------- setting variables
@pytest.mark.parametrize("variables", [["color", "red"], "color=red", 5])
def test_variables_that_are_not_an_object_are_400(start: Start, variables: Any) -> None:
    # Given: a session
    session = start(INTERVIEW)

    # When: `variables` is posted as something other than an object
    result = session.api.post("/api/session", {**session.ref, "variables": variables})

    # Then: 400 with docassemble's message
    assert_error(result, 400, "Variables data is not a dict.")
    assert_still_serving(session.api)


@pytest.mark.parametrize("name", [
    "__import__('os').system('touch {marker}')",
    "a; b",
    "x.__class__",
    "color = 'x'",
    "open('{marker}', 'w')",
    "fishes[__import__('os').system('touch {marker}')]",
])
def test_a_variable_name_that_is_code_is_400_and_nothing_is_assigned(
    start: Start, tmp_path: Path, name: str
) -> None:
    # Given: a session, and a marker file that code in the name would create
    session = start(INTERVIEW)
    marker = tmp_path / "marker"
    bad_name = name.format(marker=marker)

    # When: a valid variable and a name that is code are posted together
    result = session.set({"color": "green", bad_name: "1"})

    # Then: 400, no code ran and nothing at all was assigned (not even the valid one)
    assert_error(result, 400)
    assert not marker.exists()
    variables = ok_json(session.variables())
    assert "color" not in variables
    assert {"a", "b", "x", "fishes"}.isdisjoint(variables)
    assert ok_json(session.question())["questionText"] == "What is your favorite color?"
    assert_still_serving(session.api)


def test_variable_names_may_be_attributes_and_constant_subscripts(start: Start) -> None:
    # Given: a session whose dictionary holds a dict
    session = start(INTERVIEW)
    ok_json(session.set({"fishes": {"blue": 2}}))

    # When: a subscript target is posted
    result = session.set({"fishes['blue']": 3, "fishes['red']": 1})

    # Then: it is assigned like docassemble's `fishes['blue'] = 3`
    assert result.status == 200, result.body
    assert ok_json(session.variables())["fishes"] == {"blue": 3, "red": 1}


def test_a_malformed_json_body_is_400(start: Start) -> None:
    # Given: a session
    session = start(INTERVIEW)
    body = json.dumps({**session.ref, "variables": {"color": "green"}})[:-5]

    # When: a truncated JSON body is posted as application/json
    result = raw_request(session.api, "POST", "/api/session", body=body,
                         headers={"Content-Type": "application/json", "X-API-Key": session.api.key})

    # Then: 400, and nothing was set
    assert_error(result, 400)
    assert "color" not in ok_json(session.variables())
    assert_still_serving(session.api)


def test_form_encoded_variables_work_like_json(start: Start) -> None:
    # Given: two sessions of the same interview
    by_json, by_form = start(INTERVIEW), start(INTERVIEW)

    # When: the same answer is posted as JSON to one and as a form (variables as a JSON string) to the other
    json_result = by_json.set({"color": "red"})
    form = urlencode({**by_form.ref, "variables": json.dumps({"color": "red"})})
    form_result = raw_request(by_form.api, "POST", "/api/session", body=form, headers={
        "Content-Type": "application/x-www-form-urlencoded", "X-API-Key": by_form.api.key})

    # Then: both answers are the same next question and both sessions hold the answer
    assert ok_json(form_result) == ok_json(json_result)
    assert ok_json(form_result)["questionText"] == "What is your favorite fruit?"
    assert ok_json(by_form.variables())["color"] == "red"


def test_form_encoded_variables_that_are_not_json_are_400(start: Start) -> None:
    # Given: a session
    session = start(INTERVIEW)

    # When: form-encoded `variables` is not JSON
    form = urlencode({**session.ref, "variables": "{color: red"})
    result = raw_request(session.api, "POST", "/api/session", body=form, headers={
        "Content-Type": "application/x-www-form-urlencoded", "X-API-Key": session.api.key})

    # Then: 400 and nothing was set
    assert_error(result, 400)
    assert "color" not in ok_json(session.variables())
    assert_still_serving(session.api)


def test_setting_variables_with_question_0_answers_204_and_keeps_the_answer(start: Start) -> None:
    # Given: a session
    session = start(INTERVIEW)

    # When: a variable is set with question=0
    result = session.set({"color": "red"}, question=0)

    # Then: 204 with no body, and the answer is stored and used by the next question
    assert result.status == 204, result.body
    assert result.body in (b"", "")
    assert ok_json(session.variables())["color"] == "red"
    assert ok_json(session.question())["questionText"] == "What is your favorite fruit?"


# ---------------------------------------------------------------------------- back
def test_back_at_step_1_is_400_cannot_go_back(start: Start) -> None:
    # Given: a new session, still at step 1
    session = start(INTERVIEW)

    # When: the client goes back
    result = session.back()

    # Then: 400 "Cannot go back." and the session is unchanged
    assert_error(result, 400, "Cannot go back.")
    assert ok_json(session.question())["questionText"] == "What is your favorite color?"
    assert_still_serving(session.api)


def test_back_after_an_answer_returns_the_previous_question_and_drops_the_answer(start: Start) -> None:
    # Given: a session where the first question was answered
    session = start(INTERVIEW)
    ok_json(session.set({"color": "red"}))

    # When: the client goes back
    screen = ok_json(session.back())

    # Then: the first question is current again and its answer is gone
    assert screen["questionText"] == "What is your favorite color?"
    assert "color" not in ok_json(session.variables())


# ---------------------------------------------------------------------------- deleting
def test_delete_session_answers_204_and_the_session_is_gone(start: Start) -> None:
    # Given: a session
    session = start(INTERVIEW)

    # When: it is deleted
    result = session.api.delete(f"/api/session?{session.query()}")

    # Then: 204, and afterwards it is not found
    assert result.status == 204, result.body
    assert_error(session.question(), 404)
    assert_error(session.variables(), 404)
    assert_still_serving(session.api)


def test_interviews_lists_the_sessions_for_the_admin_key(start: Start) -> None:
    # Given: two sessions of one interview and one of another
    first, second = start(INTERVIEW), start(INTERVIEW)
    other = start("raises.yml")

    # When: the admin lists all sessions, then only those of one interview
    everything = ok_json(first.api.get("/api/interviews"))
    filtered = ok_json(first.api.get(f"/api/interviews?i={INTERVIEW}"))

    # Then: the lists hold exactly those sessions, with their interview names
    assert everything["next_id"] is None
    assert sorted((item["filename"], item["session"]) for item in everything["items"]) == sorted([
        (INTERVIEW, first.session), (INTERVIEW, second.session), ("raises.yml", other.session),
    ])
    assert sorted(item["session"] for item in filtered["items"]) == sorted([first.session, second.session])


def test_interviews_is_403_for_a_key_without_admin_privilege(start: Start, user_key: str) -> None:
    # Given: a session, and a user with only the `user` privilege
    session = start(INTERVIEW)

    # When: that user's key lists and deletes sessions
    listed = session.api.get("/api/interviews", key=user_key)
    deleted = session.api.delete(f"/api/interviews?i={INTERVIEW}", key=user_key)

    # Then: both are refused and the session survives
    assert_error(listed, 403, ACCESS_DENIED)
    assert_error(deleted, 403, ACCESS_DENIED)
    assert ok_json(session.question())["questionText"] == "What is your favorite color?"


def test_a_non_admin_key_can_use_the_session_endpoints(api: Api, user_key: str) -> None:
    # When: a user with only the `user` privilege starts a session and reads its question
    data = ok_json(api.get(f"/api/session/new?i={INTERVIEW}", key=user_key))
    query = urlencode({"i": INTERVIEW, "session": data["session"], "secret": data["secret"]})
    screen = ok_json(api.get(f"/api/session/question?{query}", key=user_key))

    # Then: the session endpoints name no privilege, so any valid key may use them
    assert screen["questionText"] == "What is your favorite color?"


def test_delete_interviews_with_i_removes_only_that_interviews_sessions(start: Start) -> None:
    # Given: two sessions of one interview and one of another
    first, second = start(INTERVIEW), start(INTERVIEW)
    other = start("raises.yml")

    # When: the admin deletes the sessions of the first interview
    result = first.api.delete(f"/api/interviews?i={INTERVIEW}")

    # Then: 204; those sessions are gone and the other one remains
    assert result.status == 204, result.body
    remaining = ok_json(first.api.get("/api/interviews"))["items"]
    assert [(item["filename"], item["session"]) for item in remaining] == [("raises.yml", other.session)]
    assert_error(first.question(), 404)
    assert_error(second.question(), 404)
    assert ok_json(other.question())["questionText"] == "Divide 10 by what?"


# ---------------------------------------------------------------------------- interview code
def test_an_exception_in_interview_code_is_400_without_traceback_and_nothing_is_saved(start: Start) -> None:
    # Given: a raises.yml session on its question
    session = start("raises.yml")
    assert ok_json(session.question())["questionText"] == "Divide 10 by what?"

    # When: the answer makes the mandatory code divide by zero
    result = session.set({"divisor": 0})

    # Then: 400 with a message naming the error, and no traceback
    message = assert_error(result, 400)
    assert "division by zero" in message
    assert "ratio = 10 / divisor" not in message

    # And: the next request works; the failed answer was not saved, so the question is asked again
    again = ok_json(session.question())
    assert again["questionText"] == "Divide 10 by what?"
    assert "divisor" not in ok_json(session.variables())

    # And: a good answer completes the interview
    final = ok_json(session.set({"divisor": 5}))
    assert final["questionText"] == "The ratio is 2.0."
    assert_still_serving(session.api)


def test_session_new_succeeds_when_the_first_pass_needs_an_undefined_variable(api: Api) -> None:
    # When: a session is started for undefined.yml, whose mandatory code needs `missing_amount`
    result = api.get("/api/session/new?i=undefined.yml")

    # Then: the session is created anyway (docassemble's session/new ignores a missing variable)
    data = ok_json(result)
    assert data["i"] == "undefined.yml"
    assert data["session"] and data["secret"]


def test_a_variable_no_block_defines_is_reported_as_undefined_variable(start: Start) -> None:
    # Given: an undefined.yml session
    session = start("undefined.yml")

    # When: the question is asked for
    screen = ok_json(session.question())

    # Then: 200 with questionType undefined_variable naming the variable
    assert screen["questionType"] == "undefined_variable"
    assert screen["variable"] == "missing_amount"
    assert_still_serving(session.api)


def test_an_answer_leading_to_an_undefined_variable_is_reported_and_not_saved(start: Start) -> None:
    # Given: an undefined_later.yml session on its first question
    session = start("undefined_later.yml")
    assert ok_json(session.question())["questionText"] == "Ready to start?"

    # When: the question is answered
    posted = ok_json(session.set({"started": True}))

    # Then: 200 with questionType undefined_variable naming the variable
    assert posted["questionType"] == "undefined_variable"
    assert posted["variable"] == "missing_amount"

    # And: as in docassemble (get_question_data returns before saving), the answer was not kept
    assert "started" not in ok_json(session.variables())
    assert ok_json(session.question())["questionText"] == "Ready to start?"
    assert_still_serving(session.api)


def test_a_key_that_is_no_valid_text_is_refused_like_any_wrong_key(client: Any, admin_key: str) -> None:
    # A JSON body may carry a lone surrogate, which no key has and UTF-8 cannot encode
    response = client.http.post("/api/session/action", headers={"Content-Type": "application/json"},
                                body='{"key": "\\ud800abc", "i": "actions.yml", "session": "x", "action": "a"}')
    assert response.status_code == 403
    assert json.loads(response.body) == {"error": "Access denied."}
