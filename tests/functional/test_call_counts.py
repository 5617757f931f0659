"""AWS calls per route: a turn is at most one read and one write, a view of an unchanged screen one
read and no write (counted with a botocore event hook on the clients the app uses, so a regression
fails here, whatever the machine's speed)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.conftest import Api
from tests.functional.api.helpers import ApiSession
from tests.functional.test_web_bad_input import Browser, _hidden

WRITES = {"TransactWriteItems", "PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"}


class Calls:
    """The AWS operations made since `reset()`, by service and name."""

    def __init__(self) -> None:
        self.made: Counter[str] = Counter()

    def record(self, model: Any, **_: Any) -> None:
        self.made[f"{model.service_model.service_name}.{model.name}"] += 1

    def reset(self) -> None:
        self.made.clear()

    def of(self, service: str) -> dict[str, int]:
        return {name.split(".", 1)[1]: n for name, n in self.made.items() if name.startswith(service + ".")}


@pytest.fixture
def calls(fresh_aws: dict[str, Any]) -> Iterator[Calls]:
    counter = Calls()
    for client in fresh_aws.values():
        client.meta.events.register("before-call", counter.record, unique_id="call-counts")
    yield counter
    for client in fresh_aws.values():
        client.meta.events.unregister("before-call", unique_id="call-counts")


def _during(calls: Calls, action: Callable[[], Any]) -> dict[str, int]:
    calls.reset()
    action()
    return calls.of("dynamodb")


def test_the_browser_walk_reads_once_per_page_and_writes_once_per_answer(client: Any, calls: Calls) -> None:
    browser = Browser(client)
    page = browser.page("/interview?i=two_questions.yml")  # a new session: created, then shown
    assert "What is your favorite color?" in page

    # Showing the same screen again: one Query, nothing written
    again = _during(calls, lambda: browser.page("/interview?i=two_questions.yml"))
    assert again == {"Query": 1}

    # The answer: one read and one transaction (the answer and the next screen, saved together),
    # and the reply is the next screen's page
    form = {"_csrf": _hidden(page, "_csrf"), "_screen": _hidden(page, "_screen"), "_f0": "blue"}
    posted: list[Any] = []
    answer = _during(calls, lambda: posted.append(browser.post("/interview?i=two_questions.yml", form)))
    assert posted[0].status_code == 200 and "What is your favorite fruit?" in posted[0].body.decode()
    assert answer == {"Query": 1, "TransactWriteItems": 1}

    # Reloading it shows the screen the answer already saved: one read, no write
    shown: list[str] = []
    after = _during(calls, lambda: shown.append(browser.page("/interview?i=two_questions.yml")))
    assert shown[0] == posted[0].body.decode()
    assert after == {"Query": 1}

    # A check-in of a screen without `check in`, in a session without tasks: one read
    checkin = _during(calls, lambda: client.http.post(
        "/checkin?i=two_questions.yml", body="{}", headers={"cookie": browser.cookie,
                                                             "content-type": "application/json",
                                                             "x-csrf-token": _hidden(shown[0], "_csrf")}))
    assert checkin == {"Query": 1}


def test_the_api_reads_once_to_show_and_writes_once_to_set(api: Api, calls: Calls) -> None:
    data = api.new_session("two_questions.yml")
    session = ApiSession(api, "two_questions.yml", data["session"], data["secret"])
    session.question()  # the key is looked up (and cached) and the first screen saved

    shown = _during(calls, session.question)
    assert shown == {"Query": 1}
    assert _during(calls, session.question) == {"Query": 1}

    result: list[Any] = []
    changed = _during(calls, lambda: result.append(session.set({"color": "red"})))
    assert result[0].status == 200 and result[0].json["questionText"].strip() == "What is your favorite fruit?"
    assert changed == {"Query": 1, "TransactWriteItems": 1}
    assert _during(calls, session.question) == {"Query": 1}


def test_a_screen_that_changes_when_shown_is_still_saved(client: Any, calls: Calls) -> None:
    # page_views.yml counts its own page views: each view changes the answers, so each is written
    browser = Browser(client)
    assert "Seen 1 times." in browser.page("/interview?i=page_views.yml")
    second = _during(calls, lambda: browser.page("/interview?i=page_views.yml"))
    assert second == {"Query": 1, "TransactWriteItems": 1}
    assert "Seen 3 times." in browser.page("/interview?i=page_views.yml")


def test_a_check_in_that_runs_its_action_reads_once_and_writes_once(client: Any, calls: Calls) -> None:
    # checkin_counter.yml's screen has `check in: count_checkin`, which counts each check-in
    browser = Browser(client)
    page = browser.page("/interview?i=checkin_counter.yml")
    assert "0 check-ins" in page

    def check_in() -> Any:
        return client.http.post("/checkin?i=checkin_counter.yml", body='{"parameters": {"note": ""}}',
                                headers={"cookie": browser.cookie, "content-type": "application/json",
                                         "x-csrf-token": _hidden(page, "_csrf")})

    check_in()
    counted = _during(calls, check_in)
    assert counted == {"Query": 1, "TransactWriteItems": 1}
    assert "2 check-ins" in browser.page("/interview?i=checkin_counter.yml")


def test_an_upload_is_one_read_and_one_write_and_its_download_one_read(client: Any, calls: Calls) -> None:
    import re

    from tests.upload_files import multipart, pdf, png

    browser = Browser(client)
    page = browser.page("/interview?i=uploads.yml")
    files = {"_f0": [("a.pdf", pdf(), "application/pdf")], "_f1": [("b.png", png(), "image/png")]}
    body, content_type = multipart({"_csrf": _hidden(page, "_csrf"), "_screen": _hidden(page, "_screen")}, files)
    posted: list[Any] = []
    answer = _during(calls, lambda: posted.append(client.http.post(
        "/interview?i=uploads.yml", body=body, headers={"cookie": browser.cookie, "content-type": content_type})))
    assert answer == {"Query": 1, "TransactWriteItems": 1}
    assert calls.of("s3").get("PutObject") == 2  # the two files, sealed, before the commit

    link = re.findall(r'href="(/interview/upload/[^"]+)"', posted[0].body.decode())[0].replace("&amp;", "&")
    download = _during(calls, lambda: browser.get(link))
    assert download == {"Query": 1}
    assert calls.of("s3") == {"GetObject": 1}


def test_a_turn_that_stores_snapshots_is_still_one_read_and_one_write(api: Api, calls: Calls) -> None:
    # snapshot_survey.yml stores two snapshots (one persistent) on every turn once answered
    data = api.new_session("snapshot_survey.yml")
    session = ApiSession(api, "snapshot_survey.yml", data["session"], data["secret"])
    session.question()
    result: list[Any] = []
    changed = _during(calls, lambda: result.append(session.set({"favorite_fruit": "Quince"})))
    assert result[0].status == 200 and result[0].json["questionText"].strip() == "Thank you: Quince"
    assert changed == {"Query": 1, "TransactWriteItems": 1}
    assert _during(calls, session.question) == {"Query": 1}  # the same snapshots again: nothing written


def test_account_routes_stay_within_their_reads_and_writes(client: Any, calls: Calls) -> None:
    from tests.functional.accounts.test_accounts_web import PASSWORD, PROBE, _register, _resume_links, _sign_in
    from tests.functional.accounts.test_accounts_web import Browser as AccountBrowser

    _register(client)
    browser = AccountBrowser(client)
    browser.answer("Counted Answer")  # an anonymous session

    # Signing in: the user's item, and one counter per account and per client
    assert _during(calls, lambda: _sign_in(browser, "ada@example.com", PASSWORD)) == {"GetItem": 1,
                                                                                     "UpdateItem": 2}
    # The first view after signing in adopts the session: its one read, and one write, once
    assert _during(calls, lambda: browser.page(f"/interview?i={PROBE}")) == {"Query": 1, "TransactWriteItems": 1}
    assert _during(calls, lambda: browser.page(f"/interview?i={PROBE}")) == {"Query": 1}
    # My interviews: one Query of the owner index; resuming: the head and the wrapped secret
    listed: list[str] = []
    assert _during(calls, lambda: listed.append(browser.page("/interviews"))) == {"Query": 1}
    link = _resume_links(listed[0])[0]
    assert _during(calls, lambda: browser.get(link)) == {"Query": 1, "GetItem": 1}


def test_a_change_to_another_session_is_one_turn_on_each_and_a_read_of_it_one_query(
        api: Api, calls: Calls) -> None:
    # Given: session A of pp_parent.yml, which made session B of pp_child.yml
    parent = api.new_session("pp_parent.yml")
    a = ApiSession(api, "pp_parent.yml", parent["session"], parent["secret"])
    assert a.action("make_child", arguments={"i": "pp_child.yml", "values": {"name": "B"}}).status == 204

    # A's turn that runs an action in B: A's read, the check that B opens (one Query), A's commit;
    # then B's turn (one read, one commit) and the record that the change was applied
    poke = _during(calls, lambda: a.action("poke", arguments={"i": "pp_child.yml", "action": "bump"}))
    assert poke == {"Query": 3, "TransactWriteItems": 2, "PutItem": 1}

    # A's turn that reads B: A's read, B's read, A's commit of what it read
    pull = _during(calls, lambda: a.action("pull", arguments={"i": "pp_child.yml"}))
    assert pull == {"Query": 2, "TransactWriteItems": 1}

    # The list of A's changes: the check that A opens, and the list
    listed = _during(calls, lambda: api.get(f"/api/session/effects?{a.query()}"))
    assert listed == {"Query": 2}


def test_a_temporary_link_costs_no_aws_call(api: Api, client: Any, calls: Calls) -> None:
    from tests.functional.api.helpers import links

    data = api.new_session("pp_links.yml")
    session = ApiSession(api, "pp_links.yml", data["session"], "")
    (_, two_hours, _) = links(session.question().json["subquestionText"])
    replies: list[Any] = []
    assert _during(calls, lambda: replies.append(client.http.get(two_hours))) == {}
    assert replies[0].status_code == 303
