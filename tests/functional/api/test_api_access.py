"""Who may do what through the REST API (issue 7 §5): deleting a session needs its secret or
the admin privilege, session ids are checked, API writes cannot replace internal state or
library names, and answers are not cached.

Fixture interview: tests/fixtures/interviews/two_questions.yml.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.functional.api.helpers import ApiSession, ok_json
from tests.functional.api.test_api_errors import INTERVIEW, USER_KEY, assert_error

Start = Callable[[str], ApiSession]
SECRET_REFUSED = "Unable to decrypt interview dictionary: the secret is wrong or missing."


@pytest.fixture
def user_key(services: Any) -> str:
    """An API key owned by a user with only the `user` privilege."""
    services.accounts.create_user("someone@example.com", "user-password", privileges=("user",))
    services.accounts.add_api_key("someone@example.com", USER_KEY, "tests")
    return USER_KEY


# ---------------------------------------------------------------------------- DELETE /api/session
@pytest.mark.parametrize("secret", [None, "WrongSecret01234"])
def test_deleting_an_encrypted_session_needs_its_secret(start: Start, user_key: str, secret: str | None) -> None:
    # Given: an encrypted session, and a key without the admin privilege
    session = start(INTERVIEW)
    ok_json(session.set({"color": "red"}))
    query = {"i": INTERVIEW, "session": session.session, **({"secret": secret} if secret else {})}

    # When: that key deletes the session without its secret, or with a wrong one
    result = session.api.delete(f"/api/session?{urlencode(query)}", key=user_key)

    # Then: 403 like every other session route, and the session is still there
    assert_error(result, 403, SECRET_REFUSED)
    assert ok_json(session.variables())["color"] == "red"

    # And: with the secret the same key deletes it; deleting it again is still 204, as in docassemble
    assert session.api.delete(f"/api/session?{session.query()}", key=user_key).status == 204
    assert_error(session.question(), 404)
    assert session.api.delete(f"/api/session?{session.query()}", key=user_key).status == 204


def test_the_admin_privilege_deletes_without_the_secret(start: Start, user_key: str) -> None:
    # Given: two sessions (the `start` key is the admin's)
    session, other = start(INTERVIEW), start(INTERVIEW)

    # When: a plain user, then the admin, delete them naming only the interview and the session
    by_user = other.api.delete(f"/api/session?{urlencode({'i': INTERVIEW, 'session': other.session})}",
                               key=user_key)
    by_admin = session.api.delete(f"/api/session?{urlencode({'i': INTERVIEW, 'session': session.session})}")

    # Then: only the admin's deletion happened
    assert by_user.status == 403 and by_admin.status == 204, (by_user.body, by_admin.body)
    assert_error(session.question(), 404)
    assert ok_json(other.question())["questionText"] == "What is your favorite color?"


# ---------------------------------------------------------------------------- session ids
@pytest.mark.parametrize("session_id", ["../../etc/passwd", "x" * 33, "NoSuchSession0123456789abcdefgh!"])
@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/api/session/question"), ("GET", "/api/session"), ("POST", "/api/session"),
    ("DELETE", "/api/session"), ("POST", "/api/session/action"), ("POST", "/api/session/back"),
    ("GET", "/api/session/file"), ("GET", "/api/session/tasks"), ("POST", "/api/session/checkin"),
    ("GET", "/api/interviews"), ("DELETE", "/api/interviews"),
])
def test_a_session_id_that_is_not_one_is_400_on_every_route(start: Start, method: str, path: str,
                                                             session_id: str) -> None:
    # Given: a session, so that a lax check could match something
    session = start(INTERVIEW)
    fields = {"i": INTERVIEW, "session": session_id, "secret": session.secret, "action": "x",
              "file": "abc/x.pdf", "variables": {}}

    # When: the route is called with a malformed session id
    if method == "POST":
        result = session.api.post(path, fields)
    else:
        query = urlencode({k: v for k, v in fields.items() if k != "variables"})
        result = session.api._call(method, f"{path}?{query}")

    # Then: 400 naming the parameter, and the real session is untouched
    message = assert_error(result, 400)
    assert "session" in message
    assert ok_json(session.question())["questionText"] == "What is your favorite color?"


# ---------------------------------------------------------------------------- what the API may write
@pytest.mark.parametrize("name", ["_internal", "_internal['answered']", "_secret_flag", "url_action", "DAList",
                                  "user_info", "comma_and_list['x']"])
def test_api_writes_to_internal_or_library_names_are_400_and_nothing_is_set(start: Start, name: str) -> None:
    # Given: a session
    session = start(INTERVIEW)

    # When: a write names an internal or library name next to a good one
    result = session.set({"color": "green", name: "x"})

    # Then: 400 naming the variable; nothing at all was set, and the interview still works
    message = assert_error(result, 400)
    assert name.split(".")[0].split("[")[0] in message
    assert "color" not in ok_json(session.variables())
    assert ok_json(session.set({"color": "blue"}))["questionText"] == "What is your favorite fruit?"


@pytest.mark.parametrize("name", ["_internal", "comma_and_list"])
def test_api_deletes_of_internal_or_library_names_are_400(start: Start, name: str) -> None:
    session = start(INTERVIEW)
    result = session.api.post("/api/session", {**session.ref, "delete_variables": [name]})
    assert name in assert_error(result, 400)
    assert ok_json(session.question())["questionText"] == "What is your favorite color?"


# ---------------------------------------------------------------------------- caching
def test_api_answers_are_not_cached(start: Start) -> None:
    # Given: a session with an answer
    session = start(INTERVIEW)
    ok_json(session.set({"color": "red"}))

    # When: its question, its variables, and an error are read
    answers = [session.question(), session.variables(), session.api.get(f"/api/session?{session.query()}x")]

    # Then: every answer says no-store
    for result in answers:
        headers = {k.lower(): v for k, v in result.headers.items()}
        assert headers.get("cache-control") == "no-store", result.headers
