"""Hostile input through the REST API (issue 7, §3): JSON {"error"} with 413 or 400, nothing
saved, and the session still answers. What is asserted is the refusal, never a time."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.conftest import Api, ApiResult
from tests.functional.api.helpers import ApiSession, ok_json

MAX_REQUEST = 1024 * 1024  # the defaults of MAX_REQUEST_BYTES and MAX_ANSWER_BYTES
MAX_ANSWER = 64 * 1024
INTERVIEW = "two_questions.yml"


def _raw_post(api: Api, path: str, body: str, content_type: str = "application/json") -> ApiResult:
    response = api.client.http.post(path, body=body, headers={"X-API-Key": api.key, "Content-Type": content_type})
    return ApiResult(response.status_code, response.body, dict(response.headers))


def _refused(result: ApiResult, status: int) -> str:
    assert result.status == status, result.body
    message: str = result.json["error"]
    return message


def _unchanged(session: ApiSession, before: dict[str, Any]) -> None:
    after = ok_json(session.variables())
    assert {k: v for k, v in after.items() if k != "_internal"} == \
        {k: v for k, v in before.items() if k != "_internal"}
    assert ok_json(session.question())["questionType"] == "fields"


@pytest.fixture
def session(start: Callable[[str], ApiSession]) -> ApiSession:
    opened = start(INTERVIEW)
    ok_json(opened.question())
    return opened


def test_a_body_over_max_request_bytes_is_413_and_saves_nothing(api: Api, session: ApiSession) -> None:
    before = ok_json(session.variables())
    body = json.dumps({**session.ref, "variables": {"first": "f"}, "padding": ""})
    body = body[:-2] + "p" * (MAX_REQUEST + 1 - len(body)) + '"}'
    message = _refused(_raw_post(api, "/api/session", body), 413)
    assert message == (f"The request is too large: {MAX_REQUEST + 1:,} bytes, but at most {MAX_REQUEST:,} bytes "
                       "are accepted (MAX_REQUEST_BYTES). Send less at a time.")
    _unchanged(session, before)


@pytest.mark.parametrize("value", ["v" * MAX_ANSWER, ["v" * 1000] * 70, {"k": "é" * (MAX_ANSWER // 2)}])
def test_a_variable_over_max_answer_bytes_is_413_and_saves_nothing(session: ApiSession, value: Any) -> None:
    before = ok_json(session.variables())
    message = _refused(session.set({"first": "ok", "note": value}), 413)
    assert message.startswith("The entry of variables 'note' is too large: ")
    assert message.endswith(f"but at most {MAX_ANSWER:,} bytes are accepted for one value (MAX_ANSWER_BYTES). "
                            "Send a shorter value.")
    _unchanged(session, before)
    assert session.set({"note": "v" * (MAX_ANSWER - 10)}).status == 200  # just under the limit, with its name
    assert ok_json(session.variables())["note"] == "v" * (MAX_ANSWER - 10)


@pytest.mark.parametrize("digits", [101, 5000, 300_000])
def test_a_huge_json_integer_is_400_and_saves_nothing(api: Api, session: ApiSession, digits: int) -> None:
    before = ok_json(session.variables())
    body = json.dumps({**session.ref, "variables": {"first": "X"}})[:-2] + f', "count": {"7" * digits}}}}}'
    message = _refused(_raw_post(api, "/api/session", body), 400)
    assert message == (f"A number in the request has {digits:,} digits; whole numbers of at most 100 digits are "
                       "accepted.")
    _unchanged(session, before)
    assert session.set({"count": int("7" * 100)}).status == 200
    assert ok_json(session.variables())["count"] == int("7" * 100)


def test_a_huge_integer_in_form_encoded_variables_is_400(api: Api, session: ApiSession) -> None:
    before = ok_json(session.variables())
    form = urlencode({**session.ref, "variables": '{"count": ' + "7" * 300_000 + "}"})
    message = _refused(_raw_post(api, "/api/session", form, "application/x-www-form-urlencoded"), 400)
    assert message.startswith("A number in the request has 300,000 digits")
    _unchanged(session, before)


@pytest.mark.parametrize("depth", [40, 5000])
def test_values_nested_too_deeply_are_400_and_save_nothing(api: Api, session: ApiSession, depth: int) -> None:
    before = ok_json(session.variables())
    body = json.dumps({**session.ref, "variables": {"first": "X"}})[:-2] + \
        ', "deep": ' + "[" * depth + "]" * depth + "}}"
    message = _refused(_raw_post(api, "/api/session", body), 400)
    assert message == "The request nests lists and objects too deeply; at most 32 levels are accepted."
    _unchanged(session, before)


def test_a_variable_name_too_long_to_parse_is_400(session: ApiSession) -> None:
    before = ok_json(session.variables())
    message = _refused(session.set({"a" + ".a" * 30_000: 1}), 400)
    assert message.endswith("a variable name of 60,001 characters is too long; names of at most 1000 characters "
                            "are accepted")
    _unchanged(session, before)


def test_an_action_argument_over_max_answer_bytes_is_413(session: ApiSession) -> None:
    before = ok_json(session.variables())
    message = _refused(session.action("anything", arguments={"big": "a" * MAX_ANSWER}), 413)
    assert message.startswith("The entry of arguments 'big' is too large")
    _unchanged(session, before)


def test_a_url_argument_over_max_answer_bytes_is_413_and_starts_no_session(api: Api, services: Any) -> None:
    message = _refused(api.get(f"/api/session/new?i={INTERVIEW}&from={'u' * MAX_ANSWER}"), 413)
    assert message.startswith("The URL parameter 'from' is too large")
    assert list(services.store.list_heads(interview=INTERVIEW)) == []


def test_a_check_in_parameter_over_max_answer_bytes_is_413(api: Api, session: ApiSession) -> None:
    result = api.post("/api/session/checkin", {**session.ref, "parameters": {"first": "f" * MAX_ANSWER}})
    assert _refused(result, 413).startswith("The entry of parameters 'first' is too large")


@pytest.mark.parametrize("name", ["a" * 5000 + ".yml", "sub/" + "a" * 300 + ".yml"])
def test_an_interview_name_too_long_for_a_file_is_404(api: Api, client: Any, name: str) -> None:
    assert _refused(api.get(f"/api/session/new?i={name}"), 404) == (
        f"an interview name of {len(name):,} characters is not valid: expected a .yml file relative to the "
        "interview path, of at most 1024 characters and 255 bytes between slashes")
    assert client.http.get(f"/interview?i={name}").status_code == 404


@pytest.mark.parametrize(("data", "message"), [
    ({"variables": {f"v{n}": n for n in range(1001)}}, "The request has 1,001 values; at most 1,000 are accepted"),
    ({"delete_variables": [f"v{n}" for n in range(1001)]},
     "The request has 1,001 names in delete_variables; at most 1,000 are accepted"),
])
def test_too_many_variables_in_one_request_are_413_and_save_nothing(
        session: ApiSession, data: dict[str, Any], message: str) -> None:
    before = ok_json(session.variables())
    assert _refused(session.api.post("/api/session", {**session.ref, **data}), 413).startswith(message)
    _unchanged(session, before)
