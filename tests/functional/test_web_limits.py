"""Hostile input through the browser routes (issue 7, §3): a clear refusal, nothing saved,
and the next page still works. What is asserted is the refusal, never a time."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest

from chalicelib.settings import Settings, SettingsError
from tests.conftest import SERVER_KEY
from tests.functional.test_web_bad_input import Browser, _hidden

MAX_REQUEST = 1024 * 1024  # the defaults of MAX_REQUEST_BYTES and MAX_ANSWER_BYTES
MAX_ANSWER = 64 * 1024
FIELDS = "bounded_fields.yml"  # name, email_address, children (integer), income (currency), height (number)
ORDINARY = {"_f0": "Ann", "_f1": "ann@example.com", "_f2": "2", "_f3": "$1,200.50", "_f4": "1.75"}


def _post(browser: Browser, interview: str, form: dict[str, str]) -> Any:
    return browser.client.http.post(f"/interview?i={interview}", body=urlencode(form), headers={
        "cookie": browser.cookie, "content-type": "application/x-www-form-urlencoded"})


def _answer(browser: Browser, interview: str, values: dict[str, str]) -> Any:
    page = browser.page(f"/interview?i={interview}")
    return _post(browser, interview, {"_csrf": _hidden(page, "_csrf"), "_screen": _hidden(page, "_screen"),
                                      **values})


def _taken(response: Any) -> bool:
    """The answer was saved: the reply is the next screen, not "Your details" asked again."""
    body = response.body.decode()
    return response.status_code == 200 and "Your details" not in body and 'class="error"' not in body


def test_ordinary_answers_are_taken(client: Any, services: Any) -> None:
    browser = Browser(client)
    assert _taken(_answer(browser, FIELDS, ORDINARY))
    assert "email=ann@example.com children=2 income=1200.5 height=1.75" in browser.page(f"/interview?i={FIELDS}")


@pytest.mark.parametrize(("field", "value", "message"), [
    ("_f2", "1e1000000", "Enter a whole number with at most 15 digits."),
    ("_f2", "9" * 60_000, "Enter a whole number with at most 15 digits."),
    ("_f2", "9" * 300_000, "This answer is too long: 300,000 bytes, but at most 65,536 bytes are accepted. "
                           "Shorten it."),
    ("_f3", "$" + "9" * 60_000, "Enter a number of at most 50 characters, with at most 15 digits before the decimal "
                                "point."),
    ("_f4", "1e1000000", "Enter a number of at most 50 characters, with at most 15 digits before the decimal point."),
    ("_f1", "a@" * 5000, "Enter an e-mail address of at most 254 characters, such as name@example.com."),
    ("_f1", "a@" + "." * 10_000 + "@", "Enter an e-mail address of at most 254 characters, such as name@example.com."),
])
def test_a_hostile_answer_asks_the_screen_again_and_saves_nothing(
        client: Any, services: Any, field: str, value: str, message: str) -> None:
    browser = Browser(client)
    response = _answer(browser, FIELDS, {**ORDINARY, field: value})
    assert response.status_code == 200
    body = response.body.decode()
    assert "Your details" in body
    assert f'<p class="error" id="{field[1:]}-error">{message}</p>' in body
    assert not {"name", "email_address", "children", "income", "height"} & set(browser.answers(services, FIELDS))
    # The next page works, and a good answer is then taken
    assert browser.get(f"/interview?i={FIELDS}").status_code == 200
    assert _taken(_answer(browser, FIELDS, ORDINARY))
    assert "Thanks, Ann" in browser.page(f"/interview?i={FIELDS}")


def test_an_answer_over_max_answer_bytes_asks_the_screen_again_and_saves_nothing(client: Any, services: Any) -> None:
    browser = Browser(client)
    response = _answer(browser, FIELDS, {**ORDINARY, "_f0": "é" * (MAX_ANSWER // 2) + "x"})  # é is two bytes
    assert response.status_code == 200
    assert (f'<p class="error" id="f0-error">This answer is too long: {MAX_ANSWER + 1:,} bytes, but at most '
            f"{MAX_ANSWER:,} bytes are accepted. Shorten it.</p>") in response.body.decode()
    assert "name" not in browser.answers(services, FIELDS)
    # One byte less is taken
    assert _taken(_answer(browser, FIELDS, {**ORDINARY, "_f0": "n" * MAX_ANSWER}))
    assert browser.answers(services, FIELDS)["name"] == "n" * MAX_ANSWER


def test_a_body_over_max_request_bytes_is_a_413_page_and_saves_nothing(client: Any, services: Any) -> None:
    browser = Browser(client)
    page = browser.page(f"/interview?i={FIELDS}")
    form = {"_csrf": _hidden(page, "_csrf"), "_screen": _hidden(page, "_screen"), **ORDINARY}
    form["_padding"] = "p" * (MAX_REQUEST - len(urlencode(form)))  # a field no screen asks for
    response = _post(browser, FIELDS, form)
    assert response.status_code == 413
    body = response.body.decode()
    assert f"The request is too large: {MAX_REQUEST + 10:,} bytes, but at most {MAX_REQUEST:,} bytes" in body
    assert "Traceback" not in body
    assert "name" not in browser.answers(services, FIELDS)
    assert browser.get(f"/interview?i={FIELDS}").status_code == 200


def test_a_url_argument_over_max_answer_bytes_is_a_413_page_and_starts_nothing(client: Any, services: Any) -> None:
    browser = Browser(client)
    response = browser.get(f"/interview?i={FIELDS}&from={'u' * MAX_ANSWER}")
    assert response.status_code == 413
    assert "The URL argument &#x27;from&#x27; is too large" in response.body.decode()
    assert "Set-Cookie" not in response.headers
    assert list(services.store.list_heads(interview=FIELDS)) == []


def test_a_check_in_over_the_limits_answers_json_413(client: Any, services: Any) -> None:
    browser = Browser(client)
    page = browser.page(f"/interview?i={FIELDS}")
    token = _hidden(page, "_csrf")
    big_body = browser.client.http.post(f"/checkin?i={FIELDS}", body="x" * (MAX_REQUEST + 1), headers={
        "cookie": browser.cookie, "content-type": "application/x-www-form-urlencoded"})
    assert big_body.status_code == 413
    assert json.loads(big_body.body)["error"].startswith("The request is too large")
    big_value = browser.client.http.post(f"/checkin?i={FIELDS}", headers={
        "cookie": browser.cookie, "content-type": "application/json"}, body=json.dumps({
            "csrf_token": token, "parameters": {"name": "n" * MAX_ANSWER}}))
    assert big_value.status_code == 413
    assert json.loads(big_value.body)["error"].startswith("The check-in parameter 'name' is too large")


@pytest.mark.parametrize(("name", "value", "error"), [
    ("MAX_REQUEST_BYTES", "100", "MAX_REQUEST_BYTES must be at least 1024, found 100"),
    ("MAX_ANSWER_BYTES", "lots", "MAX_ANSWER_BYTES must be a whole number, found 'lots'"),
])
def test_the_limits_are_settings_with_defaults(name: str, value: str, error: str) -> None:
    defaults = Settings.from_env({"SERVER_KEY": SERVER_KEY})
    assert (defaults.max_request_bytes, defaults.max_answer_bytes) == (MAX_REQUEST, MAX_ANSWER)
    assert Settings.from_env({"SERVER_KEY": SERVER_KEY, name: "200000"}).__getattribute__(name.lower()) == 200000
    with pytest.raises(SettingsError, match=error):
        Settings.from_env({"SERVER_KEY": SERVER_KEY, name: value})


def _multipart(fields: list[tuple[str, str]], boundary: str = "b0undary") -> str:
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
             for name, value in fields]
    return "".join(parts) + f"--{boundary}--\r\n"


def test_a_multipart_form_is_read_and_one_with_too_many_fields_is_a_413_page(client: Any, services: Any) -> None:
    browser = Browser(client)
    page = browser.page(f"/interview?i={FIELDS}")
    tokens = [("_csrf", _hidden(page, "_csrf")), ("_screen", _hidden(page, "_screen"))]
    headers = {"cookie": browser.cookie, "content-type": "multipart/form-data; boundary=b0undary"}
    # Many small parts (slow for a MIME parser, one by one) are refused before any is read
    many = client.http.post(f"/interview?i={FIELDS}", headers=headers,
                            body=_multipart([*tokens, *ORDINARY.items(), *[("_x", "x")] * 5000]))
    assert many.status_code == 413
    assert "The request has 5,007 fields; at most 1,000 are accepted in one request." in many.body.decode()
    assert "name" not in browser.answers(services, FIELDS)
    # An ordinary multipart form is read as a browser sends it
    taken = client.http.post(f"/interview?i={FIELDS}", headers=headers,
                             body=_multipart([*tokens, *{**ORDINARY, "_f0": "Ann\r\nLee"}.items()]))
    assert _taken(taken)
    assert browser.answers(services, FIELDS)["name"] == "Ann\r\nLee"


def test_a_urlencoded_form_with_too_many_fields_is_a_413_page(client: Any, services: Any) -> None:
    browser = Browser(client)
    response = _answer(browser, FIELDS, {**ORDINARY, **{f"_x{n}": "" for n in range(1000)}})
    assert response.status_code == 413
    assert "The request has 1,007 fields; at most 1,000 are accepted in one request." in response.body.decode()
    assert "name" not in browser.answers(services, FIELDS)
