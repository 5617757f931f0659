"""Bad input through the browser routes: clear messages, nothing lost, nothing assigned."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest

_BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"  # what Chromium sends


class Browser:
    """A cookie-keeping driver of the chalice test client."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.cookie = ""

    def get(self, path: str) -> Any:
        response = self.client.http.get(path, headers={"cookie": self.cookie, "accept": _BROWSER_ACCEPT})
        for value in response.headers.get("Set-Cookie", []):
            self.cookie = value.split(";")[0]
        return response

    def post(self, path: str, form: dict[str, str]) -> Any:
        body = "&".join(f"{k}={v}" for k, v in form.items())
        return self.client.http.post(path, body=body, headers={
            "cookie": self.cookie, "content-type": "application/x-www-form-urlencoded"})

    def page(self, path: str) -> str:
        return str(self.get(path).body.decode())

    def answers(self, services: Any, interview: str) -> dict[str, Any]:
        from chalicelib.runtime.sessions import SessionRef, Sessions

        session_id, secret = self.cookie.split("=", 1)[1].split(".")
        answers = Sessions(services).read(SessionRef(interview, session_id, secret)).answers
        return answers


def _hidden(page: str, name: str) -> str:
    match = re.search(f'name="{name}" value="([^"]*)"', page)
    assert match, f"no {name} in the page"
    return match.group(1)


def test_malformed_yaml_shows_file_line_and_block(client: Any) -> None:
    response = client.http.get("/interview?i=broken.yml")
    assert response.status_code == 500  # the interview's fault, not the user's (the API answers 400)
    assert "broken.yml, line 11, block 3: this is not valid YAML" in response.body.decode()


def test_an_unknown_interview_is_a_404_page(client: Any) -> None:
    response = client.http.get("/interview?i=nope.yml")
    assert response.status_code == 404
    assert "no interview named &#x27;nope.yml&#x27;" in response.body.decode()


@pytest.mark.parametrize("name", ["../etc/passwd.yml", "/etc/hosts", "x.txt"])
def test_interview_names_cannot_leave_the_interview_path(client: Any, name: str) -> None:
    assert client.http.get(f"/interview?i={name}").status_code == 404


def test_a_wrong_field_type_re_asks_with_a_message_and_saves_nothing(client: Any, services: Any) -> None:
    browser = Browser(client)
    page = browser.page("/interview?i=age_then_crash.yml")
    response = browser.post("/interview?i=age_then_crash.yml", {
        "_csrf": _hidden(page, "_csrf"), "_screen": _hidden(page, "_screen"), "_f0": "forty"})
    body = response.body.decode()
    assert response.status_code == 200
    assert "How old are you?" in body
    assert '<p class="error" id="f0-error">Enter a whole number.</p>' in body
    assert 'aria-invalid="true"' in body
    assert "age" not in browser.answers(services, "age_then_crash.yml")


def test_a_post_naming_variables_not_on_the_screen_assigns_none_of_them(client: Any, services: Any) -> None:
    browser = Browser(client)
    page = browser.page("/interview?i=age_then_crash.yml")
    browser.post("/interview?i=age_then_crash.yml", {
        "_csrf": _hidden(page, "_csrf"), "_screen": _hidden(page, "_screen"), "_f0": "30", "_f1": "x",
        "ratio": "5", "is_admin": "True"})
    answers = browser.answers(services, "age_then_crash.yml")
    assert answers["age"] == 30
    assert not {"ratio", "is_admin"} & set(answers)
    assert "You are 30." in browser.page("/interview?i=age_then_crash.yml")


def test_a_post_without_the_csrf_token_is_refused_and_saves_nothing(client: Any, services: Any) -> None:
    browser = Browser(client)
    page = browser.page("/interview?i=age_then_crash.yml")
    response = browser.post("/interview?i=age_then_crash.yml", {"_screen": _hidden(page, "_screen"), "_f0": "30"})
    assert response.status_code == 400
    assert "age" not in browser.answers(services, "age_then_crash.yml")


def test_an_answer_for_an_old_screen_is_ignored(client: Any, services: Any) -> None:
    browser = Browser(client)
    page = browser.page("/interview?i=age_then_crash.yml")
    browser.post("/interview?i=age_then_crash.yml", {
        "_csrf": _hidden(page, "_csrf"), "_screen": "some-other-screen", "_f0": "30"})
    assert "age" not in browser.answers(services, "age_then_crash.yml")


def test_an_exception_in_interview_code_shows_a_clean_page_and_logs_the_trace(
        client: Any, caplog: pytest.LogCaptureFixture) -> None:
    browser = Browser(client)
    page = browser.page("/interview?i=age_then_crash.yml")
    browser.post("/interview?i=age_then_crash.yml", {
        "_csrf": _hidden(page, "_csrf"), "_screen": _hidden(page, "_screen"), "_f0": "120"})
    with caplog.at_level(logging.ERROR):
        response = browser.get("/interview?i=age_then_crash.yml")
    body = response.body.decode()
    assert response.status_code == 500  # the interview's fault, not the user's (the API answers 400)
    assert "Sorry, something went wrong" in body
    assert "Traceback" not in body and "ZeroDivisionError" not in body
    assert 'name="_back"' in body
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "Traceback" in logged and "ZeroDivisionError" in logged and 'age_then_crash.yml", line' in logged
    # And the user can go back and answer again
    back = browser.post("/interview?i=age_then_crash.yml", {"_csrf": _hidden(body, "_csrf"), "_back": "1"})
    assert back.status_code == 303
    assert "How old are you?" in browser.page("/interview?i=age_then_crash.yml")


def test_log_messages_with_a_priority_are_flashed_on_the_page(client: Any) -> None:
    browser = Browser(client)
    body = browser.page("/interview?i=flash.yml")
    assert '<div class="alert alert-success">Saved &lt;for now&gt;.</div>' in body
    assert "only for the server" not in body


@pytest.mark.parametrize(("method", "path"), [("GET", "/api/nope"), ("POST", "/api/session/nope"),
                                              ("DELETE", "/api/stash")])
def test_unknown_api_endpoints_answer_json_404(client: Any, method: str, path: str) -> None:
    response = client.http.request(method, path, headers={"Content-Type": "application/json"}, body="{}")
    assert response.status_code == 404
    assert "Unknown API endpoint" in response.json_body["error"]
