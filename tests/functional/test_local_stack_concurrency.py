"""Concurrent check-ins, submits and actions on one session all count, on the local stack
(`make run` over real HTTP: threaded web server, moto serializing each AWS request).

Issue 7 §6: with 12 check-ins at a time, reads that raced a writer failed with 500 and
their changes were lost. Fixture: tests/fixtures/interviews/checkin_counter.yml, whose
check in action, url_action link and `submits` dict each count the requests that reached
them. No test here measures time: every request must succeed, and every count must match.
"""

from __future__ import annotations

import html
import json
import re
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urljoin

import pytest

from tests.conftest import FIXTURE_INTERVIEWS, SERVER_KEY, examples_dir
from tests.functional.test_local_stack import API_KEY, Browser, make_run, stack_env

pytestmark = pytest.mark.slow

INTERVIEW = "checkin_counter.yml"
AT_A_TIME = 12
CHECKINS = 24
# Budgets no busy machine exhausts: every request must succeed, however long the races take.
RETRY_SECONDS = 200
HTTP_SECONDS = 240


@dataclass
class Session:
    """One browser's session of the counter on the running stack."""

    base: str
    cookie: str  # the Cookie header that holds it
    csrf: str
    action_link: str

    @property
    def session_id(self) -> str:
        return self.cookie.split("=", 1)[1].split(".")[0]

    @property
    def secret(self) -> str:
        return self.cookie.split("=", 1)[1].split(".")[1]

    def call(self, method: str, path: str, data: bytes | None = None, headers: dict[str, str] | None = None
             ) -> tuple[int, str]:
        request = urllib.request.Request(urljoin(self.base, path), data=data, method=method, headers=headers or {})
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirects())
        try:
            with opener.open(request, timeout=HTTP_SECONDS) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def checkin(self) -> tuple[int, str]:
        form = urlencode({"csrf_token": self.csrf, "parameters": json.dumps({"note": ""})}).encode()
        return self.call("POST", f"/checkin?i={INTERVIEW}", form, {
            "Cookie": self.cookie, "Content-Type": "application/x-www-form-urlencoded"})

    def submit(self, number: int) -> tuple[int, str]:
        body = {"i": INTERVIEW, "session": self.session_id, "secret": self.secret,
                "variables": {f"submits['s{number}']": number}, "question": False}
        return self.call("POST", "/api/session", json.dumps(body).encode(), {
            "X-API-Key": API_KEY, "Content-Type": "application/json"})

    def action(self) -> tuple[int, str]:
        return self.call("GET", self.action_link, headers={"Cookie": self.cookie})

    def answers(self) -> dict[str, Any]:
        query = urlencode({"i": INTERVIEW, "session": self.session_id, "secret": self.secret})
        status, body = self.call("GET", f"/api/session?{query}", headers={"X-API-Key": API_KEY})
        assert status == 200, body
        data: dict[str, Any] = json.loads(body)
        return data


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    env = stack_env(INTERVIEW_PATH=f"{examples_dir()}:{FIXTURE_INTERVIEWS}", TURN_RETRY_SECONDS=str(RETRY_SECONDS))
    with make_run(tmp_path_factory.mktemp("stack"), **env) as run:
        run.wait_ready()
        yield f"http://127.0.0.1:{env['PORT']}"


def _new_session(base: str) -> Session:
    web = Browser(base)
    page = web.request(f"/interview?i={INTERVIEW}")
    assert page.status == 200 and "0 check-ins, 0 actions, 0 submits." in page.text, page.body
    (set_cookie,) = page.headers.get_all("Set-Cookie") or []
    cookie = set_cookie.split(";")[0]
    link = re.search(r'<a href="([^"]*)"[^>]*>Count an action</a>', page.body)
    assert link, page.body
    return Session(base, cookie, page.hidden("_csrf"), html.unescape(link.group(1)))


def _run_all(calls: list[Callable[[], tuple[int, str]]]) -> list[tuple[int, str]]:
    with ThreadPoolExecutor(max_workers=AT_A_TIME) as pool:
        return list(pool.map(lambda call: call(), calls))


def test_concurrent_check_ins_all_count(stack: str) -> None:
    # Given: a session on the local stack whose check in action counts check-ins
    session = _new_session(stack)

    # When: 24 check-ins arrive, 12 at a time
    results = _run_all([session.checkin] * CHECKINS)

    # Then: every one was answered 200, and every one counted
    assert [status for status, _ in results] == [200] * CHECKINS, [r for r in results if r[0] != 200]
    assert session.answers()["checkins"] == CHECKINS


def test_concurrent_check_ins_submits_and_actions_all_apply(stack: str) -> None:
    # Given: a fresh session of the counter
    session = _new_session(stack)

    # When: check-ins (browser), submits (the API's variables) and actions (the page's signed link) interleave
    calls: list[Callable[[], tuple[int, str]]] = []
    for number in range(CHECKINS):
        calls += [session.checkin, lambda n=number: session.submit(n)]  # type: ignore[misc]
        if number % 2 == 0:
            calls.append(session.action)
    results = _run_all(calls)

    # Then: none failed (check-ins 200, submits 204, actions 303 back to the page), and each was applied once
    expected = sorted([200] * CHECKINS + [204] * CHECKINS + [303] * (CHECKINS // 2))
    assert sorted(status for status, _ in results) == expected, [r for r in results if r[0] >= 400]
    answers = session.answers()
    assert answers["checkins"] == CHECKINS
    assert answers["actions"] == CHECKINS // 2
    assert answers["submits"] == {f"s{n}": n for n in range(CHECKINS)}


def test_the_local_stack_turns_secure_cookies_off_for_its_plain_http(stack: str) -> None:
    from chalicelib.settings import Settings, SettingsError

    # Given: COOKIE_SECURE is on by default and only the local stack's default is off; a bad value is refused
    key = {"SERVER_KEY": SERVER_KEY}
    assert Settings.from_env(key).cookie_secure is True
    assert Settings.from_env(key, local_stack=True).cookie_secure is False
    assert Settings.from_env({**key, "COOKIE_SECURE": "1"}, local_stack=True).cookie_secure is True
    assert Settings.from_env({**key, "COOKIE_SECURE": "off"}).cookie_secure is False
    with pytest.raises(SettingsError, match="COOKIE_SECURE must be one of"):
        Settings.from_env({**key, "COOKIE_SECURE": "maybe"})
    # ...and the local stack (http://127.0.0.1) runs without COOKIE_SECURE
    web = Browser(stack)

    # When: a browser starts a session there
    page = web.request(f"/interview?i={INTERVIEW}")

    # Then: the cookie is one a browser keeps over http (no Secure flag, no __Host- prefix), and no HSTS
    (set_cookie,) = page.headers.get_all("Set-Cookie") or []
    assert set_cookie.startswith("da_") and "Secure" not in set_cookie
    assert page.headers.get("Strict-Transport-Security") is None
