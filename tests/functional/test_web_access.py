"""Who may do what through the browser routes: signed action links, confirmed new sessions,
session ids, shared sessions, cookies (issue 7 §5).

Fixtures: tests/fixtures/interviews/checkin_counter.yml (a url_action link that counts),
shared_answers.yml (a multi_user session with two questions), two_questions.yml.
"""

from __future__ import annotations

import dataclasses
import html
import json
import re
from typing import Any
from urllib.parse import quote

import pytest

from chalicelib.library.functions import encode_action
from chalicelib.web import context
from tests.functional.test_web_bad_input import Browser, _hidden

COUNTER = "checkin_counter.yml"
SHARED = "shared_answers.yml"
QUESTIONS = "two_questions.yml"


def _link(page: str, text: str) -> str:
    found = re.search(rf'<a href="([^"]*)"[^>]*>{re.escape(text)}</a>', page)
    assert found, f"no link {text!r} in:\n{page}"
    return html.unescape(found.group(1))


def _session_id(browser: Browser) -> str:
    return browser.cookie.split("=", 1)[1].split(".")[0]


def _post(browser: Browser, path: str, form: dict[str, str]) -> Any:
    """A form post that keeps the cookie it sets (Browser.post does not)."""
    response = browser.post(path, form)
    for value in response.headers.get("Set-Cookie", []):
        browser.cookie = value.split(";")[0]
    return response


def _answer(browser: Browser, url: str, **fields: str) -> Any:
    page = browser.page(url)
    action = html.unescape(re.search(r'<form method="post" action="([^"]*)" class="screen"', page).group(1))  # type: ignore[union-attr]
    return browser.post(action, {"_csrf": _hidden(page, "_csrf"), "_screen": _hidden(page, "_screen"), **fields})


# ---------------------------------------------------------------------------- action links
def test_the_pages_own_link_runs_its_action_and_a_made_up_one_runs_nothing(client: Any, services: Any) -> None:
    # Given: a user on the counter's page, with its url_action link
    browser = Browser(client)
    page = browser.page(f"/interview?i={COUNTER}")
    assert "0 check-ins, 0 actions" in page

    # When: they open a link someone made up (a cross-site link with an action of their choosing)
    forged = f"/interview?i={COUNTER}&action={quote(encode_action('count_action', {}), safe='')}"
    response = browser.get(forged)

    # Then: a clear 400 page, and the action did not run
    assert response.status_code == 400
    assert "This link is not valid for this session" in response.body.decode()
    assert browser.answers(services, COUNTER)["actions"] == 0

    # And: the page's own link runs the action once
    followed = browser.get(_link(page, "Count an action"))
    assert followed.status_code == 303
    assert "0 check-ins, 1 actions" in browser.page(followed.headers["Location"])


def test_an_action_link_made_for_another_session_or_altered_runs_nothing(client: Any, services: Any) -> None:
    # Given: two browsers with a session each, and the link the first one's page shows
    first, second = Browser(client), Browser(client)
    link = _link(first.page(f"/interview?i={COUNTER}"), "Count an action")
    second.page(f"/interview?i={COUNTER}")

    # When: the second browser opens the first one's link, and the first one opens it with other arguments
    elsewhere = second.get(link)
    altered = first.get(link.replace(quote(encode_action("count_action", {}), safe=""),
                                     quote(encode_action("count_action", {"n": 1}), safe="")))

    # Then: both are refused and neither session counted an action
    assert (elsewhere.status_code, altered.status_code) == (400, 400)
    assert first.answers(services, COUNTER)["actions"] == 0
    assert second.answers(services, COUNTER)["actions"] == 0


def test_an_action_link_opened_without_a_session_starts_nothing(client: Any) -> None:
    # Given: a link from one browser's page
    link = _link(Browser(client).page(f"/interview?i={COUNTER}"), "Count an action")

    # When: a browser without a session of the interview opens it
    response = Browser(client).get(link)

    # Then: 400, and no session was made for it
    assert response.status_code == 400
    assert "Set-Cookie" not in response.headers


# ---------------------------------------------------------------------------- new_session / reset
@pytest.mark.parametrize("flag", ["new_session", "reset"])
def test_starting_over_a_held_session_asks_first_and_keeps_the_answers(client: Any, services: Any,
                                                                       flag: str) -> None:
    # Given: a browser without a session, for which the link starts one at once (as before)...
    browser = Browser(client)
    started = browser.get(f"/interview?i={QUESTIONS}&{flag}=1")
    assert "Set-Cookie" in started.headers and "What is your favorite color?" in started.body.decode()
    # ...and that then answered the first question
    _answer(browser, f"/interview?i={QUESTIONS}", _f0="red", _continue="1")
    cookie = browser.cookie

    # When: it opens a link with new_session=1 (or reset=1), as a cross-site link could make it
    response = browser.get(f"/interview?i={QUESTIONS}&{flag}=1")

    # Then: a page asks to confirm with a POST form; nothing was started or thrown away
    body = response.body.decode()
    assert response.status_code == 200
    assert "Start a new session?" in body
    assert re.search(r'<form method="post" action="[^"]*"[^>]*>.*name="_new_session" value="1"', body)
    assert "Set-Cookie" not in response.headers and browser.cookie == cookie
    assert browser.answers(services, QUESTIONS)["color"] == "red"


def test_confirming_the_new_session_starts_it_with_the_links_url_args(client: Any, services: Any) -> None:
    # Given: the confirmation page of a new_session link that carries a URL argument
    browser = Browser(client)
    _answer(browser, f"/interview?i={QUESTIONS}", _f0="red", _continue="1")
    old = _session_id(browser)
    confirm = browser.page(f"/interview?i={QUESTIONS}&new_session=1&from=mail")
    assert _session_id(browser) == old
    action = html.unescape(re.search(r'<form method="post" action="([^"]*)"', confirm).group(1))  # type: ignore[union-attr]

    # When: another site posts the confirmation without the token, then the user presses the button
    forged = _post(browser, action, {"_new_session": "1"})
    assert forged.status_code == 400 and _session_id(browser) == old
    response = _post(browser, action, {"_csrf": _hidden(confirm, "_csrf"), "_new_session": "1"})

    # Then: a new session, with the link's url_args, and the first question again
    assert response.status_code == 303
    assert _session_id(browser) != old
    answers = browser.answers(services, QUESTIONS)
    assert "color" not in answers and answers["url_args"] == {"from": "mail"}
    assert "What is your favorite color?" in browser.page(response.headers["Location"])


def test_start_over_on_an_error_page_is_a_post_with_the_csrf_token(client: Any) -> None:
    # Given: a browser whose cookie holds a secret that does not open its session
    browser = Browser(client)
    browser.page(f"/interview?i={QUESTIONS}")
    browser.cookie = browser.cookie.split(".")[0] + ".WrongSecret0123456789"

    # When: it opens the interview
    refused = browser.get(f"/interview?i={QUESTIONS}")

    # Then: 403, and "Start over" is a POST form (no GET link throws a session away)...
    body = refused.body.decode()
    assert refused.status_code == 403
    assert "new_session=1" not in body
    form = re.search(r'<form method="post" action="([^"]*)" class="start-over-form">', body)
    assert form

    # ...which starts a new session
    started = _post(browser, html.unescape(form.group(1)), {"_csrf": _hidden(body, "_csrf"), "_new_session": "1"})
    assert started.status_code == 303
    assert "What is your favorite color?" in browser.page(started.headers["Location"])


# ---------------------------------------------------------------------------- session ids
@pytest.mark.parametrize("session", ["../../etc", "short", "x" * 33, "A" * 32 + "\n",
                                     "NoSuchSession0123456789abcdefgh!"])
def test_a_malformed_session_id_is_400_on_every_browser_route(client: Any, session: str) -> None:
    # Given: a browser with a session
    browser = Browser(client)
    page = browser.page(f"/interview?i={QUESTIONS}")
    query = f"i={QUESTIONS}&session={quote(session)}"

    # When: each browser route is asked for a session id that is not one
    shown = browser.get(f"/interview?{query}")
    document = browser.get(f"/interview/file/abc123/letter.pdf?{query}")
    posted = browser.post(f"/interview?{query}", {"_csrf": _hidden(page, "_csrf"), "_f0": "red"})
    checked_in = client.http.post(f"/checkin?{query}", body=f"csrf_token={_hidden(page, '_csrf')}",
                                  headers={"cookie": browser.cookie,
                                           "content-type": "application/x-www-form-urlencoded"})

    # Then: 400 (a page, or JSON for the check-in) and no session was started
    assert (shown.status_code, posted.status_code, checked_in.status_code, document.status_code) == (400,) * 4
    assert "session id" in shown.body.decode()
    assert "Set-Cookie" not in shown.headers
    assert json.loads(checked_in.body)["success"] is False


# ---------------------------------------------------------------------------- shared sessions
def test_a_browser_that_opened_a_shared_session_answers_that_session(client: Any, services: Any) -> None:
    # Given: a shared (multi_user) session started by one browser
    owner = Browser(client)
    assert "What is the project" in owner.page(f"/interview?i={SHARED}")
    shared = f"/interview?i={SHARED}&session={_session_id(owner)}"

    # When: another browser opens it by its id and answers its question
    guest = Browser(client)
    answered = _answer(guest, shared, _f0="Apollo", _continue="1")

    # Then: the answer went to the shared session (the owner sees the next question), the guest's
    # next screen keeps posting to it, and the guest got no session of its own
    assert answered.status_code == 200 and "Who reviews it?" in answered.body.decode()
    action = re.search(r'<form method="post" action="([^"]*)" class="screen"', answered.body.decode())
    assert action is not None and html.unescape(action.group(1)) == shared
    assert "Who reviews it?" in guest.page(shared)
    assert "Who reviews it?" in owner.page(f"/interview?i={SHARED}")
    assert guest.cookie == ""
    _answer(guest, shared, _f0="Grace", _continue="1")
    assert "Apollo is reviewed by Grace." in owner.page(f"/interview?i={SHARED}")


def test_a_shared_sessions_page_checks_in_to_that_session(client: Any) -> None:
    # Given: a guest's page of a shared session
    owner = Browser(client)
    owner.page(f"/interview?i={SHARED}")
    guest = Browser(client)
    page = guest.page(f"/interview?i={SHARED}&session={_session_id(owner)}")
    checkin_url = html.unescape(re.search(r'data-checkin-url="([^"]*)"', page).group(1))  # type: ignore[union-attr]

    # When: the page checks in
    response = client.http.post(checkin_url, body=f"csrf_token={_hidden(page, '_csrf')}&parameters=%7B%7D",
                                headers={"content-type": "application/x-www-form-urlencoded"})

    # Then: it names the shared session, and the check-in is answered
    assert f"session={_session_id(owner)}" in checkin_url
    assert response.status_code == 200 and json.loads(response.body)["success"] is True


def test_an_encrypted_session_cannot_be_answered_by_its_id_alone(client: Any, services: Any) -> None:
    # Given: an ordinary (encrypted) session of one browser
    owner = Browser(client)
    owner.page(f"/interview?i={QUESTIONS}")

    # When: another browser posts an answer to it by its id
    response = Browser(client).post(f"/interview?i={QUESTIONS}&session={_session_id(owner)}",
                                    {"_csrf": "x", "_f0": "red"})

    # Then: refused, and nothing was saved
    assert response.status_code in (400, 403)
    assert "color" not in owner.answers(services, QUESTIONS)


# ---------------------------------------------------------------------------- cookies
def test_the_session_cookie_is_secure_and_host_only_by_default(client: Any, services: Any) -> None:
    # When: a browser starts a session with the default settings
    response = Browser(client).get(f"/interview?i={QUESTIONS}")

    # Then: the cookie is __Host- prefixed, Secure, HttpOnly, Path=/ and has no Domain; the page has HSTS
    (cookie,) = response.headers["Set-Cookie"]
    assert cookie.startswith("__Host-da_")
    flags = [flag.strip() for flag in cookie.split(";")[1:]]
    assert {"Path=/", "HttpOnly", "Secure", "SameSite=Lax"} <= set(flags)
    assert not any(flag.lower().startswith("domain") for flag in flags)
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")

    # And: with COOKIE_SECURE off (the local stack's plain http), a plain cookie that works, and no HSTS
    settings = dataclasses.replace(services.settings, cookie_secure=False)
    context.use_services(dataclasses.replace(services, settings=settings))
    browser = Browser(client)
    response = browser.get(f"/interview?i={QUESTIONS}")
    (cookie,) = response.headers["Set-Cookie"]
    assert cookie.startswith("da_") and "Secure" not in cookie
    assert "Strict-Transport-Security" not in response.headers
    _answer(browser, f"/interview?i={QUESTIONS}", _f0="red", _continue="1")
    assert "What is your favorite fruit?" in browser.page(f"/interview?i={QUESTIONS}")


# ---------------------------------------------------------------------------- one error table
def test_a_check_in_whose_code_fails_answers_like_the_other_routes(client: Any, services: Any) -> None:
    # Given: the counter's page
    browser = Browser(client)
    page = browser.page(f"/interview?i={COUNTER}")

    # When: a check-in makes the check in action's code fail (note "boom" divides by zero)
    response = client.http.post(
        f"/checkin?i={COUNTER}", body=f"csrf_token={_hidden(page, '_csrf')}&parameters=%7B%22note%22%3A%22boom%22%7D",
        headers={"cookie": browser.cookie, "content-type": "application/x-www-form-urlencoded"})

    # Then: the status and message the API gives for failing interview code (400), not a 500; nothing counted
    body = json.loads(response.body)
    assert response.status_code == 400
    assert body["success"] is False and "division by zero" in body["error"]
    assert "Traceback" not in body["error"]
    assert browser.answers(services, COUNTER)["checkins"] == 0
