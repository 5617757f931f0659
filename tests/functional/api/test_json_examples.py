"""docassemble's JSON examples (issue 13): `json-response.yml` and `response-json.yml` answer a
shared link with JSON, and `interview_url_action.yml` changes a shared session from a link; each
link is made in one session and fetched by a fresh client that has no cookie and no API key.

Interviews: ../shared/examples (unmodified).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlparse

from chalice.test import Client

from app import app
from tests.conftest import Api
from tests.functional.api.helpers import ApiSession, decoded_action, links, ok_json


def shared(api: Api, interview: str) -> ApiSession:
    made = api.new_session(interview)
    assert made["encrypted"] is False  # the example sets multi_user = True
    return ApiSession(api, interview, made["session"], "")


def fetch_fresh(href: str) -> Any:
    """GET `href` as a client with no cookie and no key (someone the link was shared with),
    following redirects as a browser would."""
    with Client(app) as stranger:
        for _ in range(3):
            parsed = urlparse(href)
            reply = stranger.http.get(f"{parsed.path}?{parsed.query}")
            if reply.status_code not in (302, 303):
                return reply
            href = reply.headers["Location"]
    raise AssertionError(f"{href} kept redirecting")


def test_json_response_answers_the_shared_link_with_the_preferences(examples: Any, api: Api) -> None:
    # Given: a session of json-response.yml with both answers
    session = shared(api, "json-response.yml")
    session.set({"favorite_fruit": "mango", "favorite_vegetable": "leek"})
    screen = ok_json(session.question())
    assert screen["questionText"] == "Your preferences"
    (href,) = [h for h in links(screen["subquestionText"]) if "action=" in h]

    # When: someone else fetches "this URL"
    reply = fetch_fresh(href)

    # Then: they get the preferences as JSON
    assert reply.status_code == 200, reply.body
    assert reply.headers["Content-Type"].startswith("application/json")
    assert json.loads(reply.body) == {"fruit": "mango", "vegetable": "leek"}


def test_response_json_answers_the_link_and_follows_changes(examples: Any, api: Api) -> None:
    session = shared(api, "response-json.yml")
    session.set({"favorite_fruit": "apple", "number_of_pieces": 3})
    screen = ok_json(session.question())
    assert "You currently have three pieces of apple." in screen["questionText"].replace("\n", " ")
    (href,) = [h for h in links(screen["subquestionText"]) if decoded_action(h)["action"] == "query_fruit"]
    assert "session=" in href  # interview_url_action: the session's own address, for another application

    assert json.loads(fetch_fresh(href).body) == {"fruit": "apple", "pieces": 3}
    session.set({"number_of_pieces": 5})
    # the action the link ran is done: the owner's own screen is the question again, not the JSON
    assert "You currently have five pieces of apple." in ok_json(session.question())["questionText"].replace(
        "\n", " ")
    assert json.loads(fetch_fresh(href).body) == {"fruit": "apple", "pieces": 5}


def test_interview_url_action_links_change_the_shared_session_for_anyone(examples: Any, api: Api) -> None:
    # Given: a session of interview_url_action.yml, shown over the API, with its three links
    session = shared(api, "interview_url_action.yml")
    screen = ok_json(session.question())
    assert screen["questionText"] == "The current status is normal."
    by_status = {decoded_action(h)["arguments"]["status"]: h for h in links(screen["subquestionText"])}
    assert set(by_status) == {"normal", "danger", "critical"}

    # When: someone with no cookie and no key opens the "critical" link
    page = fetch_fresh(by_status["critical"])

    # Then: they see the shared session with the new status, and so does the API
    assert page.status_code == 200 and "The current status is critical." in page.body.decode()
    assert session.variables().json["status"] == "critical"
    assert ok_json(session.question())["questionText"] == "The current status is critical."


def test_a_temporary_link_leads_to_the_session_until_it_expires(api: Api, services: Any) -> None:
    import time
    from urllib.parse import parse_qs, urlencode

    from chalicelib.runtime import links as signed_links

    # Given: a shared session whose screen offers temporary links (interview_url(temporary=…))
    session = shared(api, "pp_links.yml")
    hrefs = links(ok_json(session.question())["subquestionText"])
    day, two_hours, ordinary = hrefs
    assert ordinary == f"/interview?i=pp_links.yml&session={session.session}"
    query = parse_qs(urlparse(two_hours).query)
    assert urlparse(two_hours).path == "/goto" and query["u"] == [ordinary + "&source=mail"]
    assert 7100 < int(query["e"][0]) - time.time() <= 7200
    assert 86300 < int(parse_qs(urlparse(day).query)["e"][0]) - time.time() <= 86400

    # When/Then: someone else opens it: they reach the session's screen
    page = fetch_fresh(two_hours)
    assert page.status_code == 200 and "Links of this session" in page.body.decode()

    # A link changed, or signed for another address, or past its time, leads nowhere
    changed = two_hours.replace("source%3Dmail", "source%3Dweb")
    past = int(time.time()) - 1
    expired = "/goto?" + urlencode({"u": ordinary, "e": past, "sig": signed_links.action_signature(
        services.keys.links, "goto", ordinary, {"e": past})})
    for href, title in ((changed, "This link is not valid"), (expired, "This link has expired")):
        reply = fetch_fresh(href)
        assert reply.status_code == 400 and title in reply.body.decode()
