"""Accounts in the browser and their sessions (issue 14 §1–3), through the app on moto.

Fixture: tests/fixtures/interviews/account_probe.yml (shows who the turn runs as, then asks
a name and a quest).
"""

from __future__ import annotations

import dataclasses
import email
import html
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlencode

import pytest

from chalicelib.runtime.messenger import MemoryMessenger
from chalicelib.web import context

PROBE = "account_probe.yml"
PASSWORD = "Correct-Horse-42"


class Browser:
    """A cookie jar around the chalice test client (one cookie per name, as a browser keeps them)."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.jar: dict[str, str] = {}

    def _header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.jar.items())

    def _keep(self, response: Any) -> Any:
        for value in response.headers.get("Set-Cookie", []):
            name, _, rest = value.partition("=")
            cookie_value = rest.split(";")[0]
            if "Max-Age=0" in value:
                self.jar.pop(name, None)
            else:
                self.jar[name] = cookie_value
        return response

    def get(self, path: str) -> Any:
        return self._keep(self.client.http.get(path, headers={"cookie": self._header(), "accept": "text/html"}))

    def post(self, path: str, form: dict[str, str]) -> Any:
        return self._keep(self.client.http.post(path, body=urlencode(form), headers={
            "cookie": self._header(), "content-type": "application/x-www-form-urlencoded"}))

    def page(self, path: str) -> str:
        response = self.get(path)
        while response.status_code in (302, 303):
            response = self.get(response.headers["Location"])
        return str(response.body.decode())

    def submit(self, path: str, fields: dict[str, str]) -> Any:
        """Open the form page at `path` and post it with `fields` and its own CSRF token."""
        form_page = self.page(path)
        return self.post(_form_action(form_page), {"_csrf": _hidden(form_page, "_csrf"), **fields})

    def answer(self, value: str) -> str:
        """Answer the probe's current question with `value`; the next page."""
        shown = self.page(f"/interview?i={PROBE}")
        response = self.post(_form_action(shown, "screen"), {
            "_csrf": _hidden(shown, "_csrf"), "_screen": _hidden(shown, "_screen"), "_f0": value})
        return self.page(f"/interview?i={PROBE}") if response.status_code == 303 else str(response.body.decode())


def _hidden(page: str, name: str) -> str:
    match = re.search(f'name="{name}" value="([^"]*)"', page)
    assert match, f"no {name} in the page:\n{page}"
    return html.unescape(match.group(1))


def _form_action(page: str, css: str = "") -> str:
    css_part = f' class="{css}"' if css else ""
    pattern = r'<form method="post" action="([^"]*)"' + css_part
    match = re.search(pattern, page)
    assert match, f"no form in:\n{page}"
    return html.unescape(match.group(1))


def _register(client: Any, address: str = "ada@example.com") -> Browser:
    browser = Browser(client)
    response = browser.submit("/user/register", {"email": address, "password": PASSWORD, "first_name": "Ada"})
    assert response.status_code == 303, response.body.decode()
    return browser


def _sign_in(browser: Browser, address: str, password: str, next_url: str = "") -> Any:
    return browser.submit("/user/sign-in", {"email": address, "password": password, "next": next_url})


def _resume_links(page: str) -> list[str]:
    return [html.unescape(link) for link in re.findall(r'<a href="([^"]*\?resume=[^"]*)"', page)]


def _table_items(fresh_aws: dict[str, Any], table: str) -> list[dict[str, Any]]:
    return list(fresh_aws["dynamodb"].scan(TableName=table)["Items"])


@pytest.fixture
def outbox(services: Any) -> Iterator[MemoryMessenger]:
    messenger = MemoryMessenger()
    context.use_services(dataclasses.replace(services, messenger=messenger))
    yield messenger
    context.use_services(services)


# ---------------------------------------------------------------------------- the whole story
def test_an_anonymous_session_is_adopted_and_resumed_from_another_browser(client: Any, services: Any,
                                                                         fresh_aws: dict[str, Any]) -> None:
    # Given: a registered user, signed out, who answers half the probe anonymously
    _register(client)
    browser = Browser(client)
    first = browser.page(f"/interview?i={PROBE}")
    assert "Signed in: False" in first
    assert "What is your quest?" in browser.answer("Sir Lancelot of Camelot")

    # When: they sign in from the interview's page and come back to it
    signed = _sign_in(browser, "ada@example.com", PASSWORD, f"/interview?i={PROBE}")
    assert signed.status_code == 303 and signed.headers["Location"] == f"/interview?i={PROBE}"
    back = browser.page(f"/interview?i={PROBE}")

    # Then: the answer is kept, the session is theirs, and My interviews lists it
    assert "What is your quest?" in back
    listed = browser.page("/interviews")
    assert "Account probe" in listed and len(_resume_links(listed)) == 1

    # When: they sign out, and sign in from a fresh browser that never saw the session
    out = browser.submit("/user/sign-out", {})
    assert out.status_code == 200 and not any("da_user" in name for name in browser.jar)
    fresh = Browser(client)
    _sign_in(fresh, "ada@example.com", PASSWORD)
    links = _resume_links(fresh.page("/interviews"))

    # Then: the fresh browser resumes the session where it was and finishes it
    assert len(links) == 1
    resumed = fresh.page(links[0])
    assert "What is your quest?" in resumed
    assert "Done, Sir Lancelot of Camelot: the Holy Grail." in fresh.answer("the Holy Grail")

    # And: nothing the user answered is stored in clear anywhere in the table
    stored = repr(_table_items(fresh_aws, services.settings.table_name)).encode()
    assert b"Lancelot" not in stored and b"Holy Grail" not in stored

    # When: they delete all their interviews, confirming
    asked = fresh.submit("/interviews", {"_action": "delete_all"})
    assert "Delete all your interviews?" in asked.body.decode()
    done = fresh.submit("/interviews", {"_action": "delete_all_confirmed"})

    # Then: My interviews is empty, and the session is gone from the store
    assert "1 session was deleted." in done.body.decode()
    assert "You have no saved interviews." in fresh.page("/interviews")
    assert not list(services.store.list_heads(interview=PROBE))


def test_registering_signs_in_and_the_interview_sees_the_user(client: Any) -> None:
    # Given / When: a new user registers
    browser = _register(client, "grace@example.com")

    # Then: the interview runs as that user, and their new session is listed as theirs at once
    shown = browser.page(f"/interview?i={PROBE}")
    assert "Signed in: True. E-mail: grace@example.com." in shown
    assert "My interviews" in shown
    assert len(_resume_links(browser.page("/interviews"))) == 1


def test_several_sessions_of_one_interview_are_each_resumable(client: Any) -> None:
    # Given: a signed-in user with a first session answered, who starts a second one
    browser = _register(client)
    browser.answer("First Knight")
    confirm = browser.page(f"/interview?i={PROBE}&new_session=1")
    browser.post(_form_action(confirm), {"_csrf": _hidden(confirm, "_csrf"), "_new_session": "1"})
    browser.answer("Second Knight")

    # When: another browser of theirs lists and resumes both
    other = Browser(client)
    _sign_in(other, "ada@example.com", PASSWORD)
    links = _resume_links(other.page("/interviews"))

    # Then: there are two, each opening at its own second question
    assert len(links) == 2
    for link in links:
        assert "What is your quest?" in other.page(link)


# ---------------------------------------------------------------------------- passwords
def test_a_password_change_keeps_sessions_readable_and_the_old_password_opens_nothing(client: Any) -> None:
    # Given: a user with a session begun anonymously (adopted) and one begun signed in
    browser = Browser(client)
    browser.answer("Adopted Answer")
    _register(client)
    _sign_in(browser, "ada@example.com", PASSWORD)
    browser.page(f"/interview?i={PROBE}")  # adopts it
    own = _register(client, "bob@example.com")
    own.answer("Bob's Own")

    # When: Ada changes her password
    changed = browser.submit("/user/change-password", {"old_password": PASSWORD, "new_password": "Brand-New-Pass-7"})
    assert "Your password is changed" in changed.body.decode()

    # Then: the old password signs in nowhere, and the new one opens her session from a fresh browser
    stale = Browser(client)
    refused = _sign_in(stale, "ada@example.com", PASSWORD)
    assert refused.status_code == 400 and "not right" in refused.body.decode()
    assert "You have no" not in stale.page("/interviews") and not _resume_links(stale.page("/interviews"))
    fresh = Browser(client)
    _sign_in(fresh, "ada@example.com", "Brand-New-Pass-7")
    links = _resume_links(fresh.page("/interviews"))
    assert len(links) == 1 and "What is your quest?" in fresh.page(links[0])


def test_a_wrong_current_password_changes_nothing_and_weak_passwords_are_refused(client: Any) -> None:
    # Given: a signed-in user
    browser = _register(client)
    # When / Then: a wrong current password, a weak new one and a short one are refused, saying why
    wrong = browser.submit("/user/change-password",
                           {"old_password": "not-my-password", "new_password": "Other-Pass-99"})
    assert wrong.status_code == 400 and "The current password is not right" in wrong.body.decode()
    weak = browser.submit("/user/change-password", {"old_password": PASSWORD, "new_password": "aaaaaaaaaaaa"})
    assert weak.status_code == 400 and "different characters" in weak.body.decode()
    assert _sign_in(Browser(client), "ada@example.com", PASSWORD).status_code == 303
    short = Browser(client).submit("/user/register", {"email": "eve@example.com", "password": "short"})
    assert short.status_code == 400 and "10 to 254 characters" in short.body.decode()


def test_a_reset_link_sets_a_new_password_once_and_old_sessions_stay_shut(client: Any, outbox: MemoryMessenger
                                                                          ) -> None:
    # Given: a user with a session begun while signed in
    browser = _register(client)
    browser.answer("Before Reset")

    # When: someone asks for reset links for the account and for an unknown address
    asked = Browser(client).submit("/user/forgot-password", {"email": "ada@example.com"})
    unknown = Browser(client).submit("/user/forgot-password", {"email": "nobody@example.com"})

    # Then: both pages say the same, and only the account's address gets a mail with a link
    assert asked.body.decode().count("If an account has this e-mail address") == 1
    assert "If an account has this e-mail address" in unknown.body.decode()
    assert [sent.recipients for sent in outbox.sent] == [("ada@example.com",)]
    text = email.message_from_bytes(outbox.sent[0].raw).get_payload(decode=True).decode()  # type: ignore[union-attr]
    link = re.search(r"https?://\S+/user/forgot-password\?token=\S+", text)
    assert link and "cannot be opened" in text
    path = link.group(0).split("://", 1)[1].split("/", 1)[1]

    # When: the link is used to set a new password
    resetter = Browser(client)
    form = resetter.page("/" + path)
    assert "cannot be opened any more" in form
    done = resetter.post(_form_action(form), {"_csrf": _hidden(form, "_csrf"), "token": _hidden(form, "token"),
                                              "new_password": "After-Reset-Pass-3"})

    # Then: the user is signed in with the new password; the link does not work again
    assert "Your new password is set" in done.body.decode()
    again = Browser(client).page("/" + path)
    assert "not valid any more" in again
    # And: the session saved under the old key is listed but cannot be opened
    links = _resume_links(resetter.page("/interviews"))
    assert len(links) == 1
    opened = resetter.get(links[0])
    assert opened.status_code == 404 and "before the password was reset" in opened.body.decode()


# ---------------------------------------------------------------------------- abuse
def test_sign_in_is_rate_limited_per_account(client: Any) -> None:
    # Given: an account
    _register(client)
    attacker = Browser(client)

    # When: someone tries ten wrong passwords, then the right one
    statuses = [_sign_in(attacker, "ada@example.com", f"guess-number-{n}").status_code for n in range(10)]
    blocked = _sign_in(attacker, "ada@example.com", PASSWORD)

    # Then: the wrong ones fail alike, and the eleventh attempt is refused even with the right password
    assert statuses == [400] * 10
    assert blocked.status_code == 429 and "Too many attempts" in blocked.body.decode()
    assert "da_user" not in attacker.jar


def test_forms_without_their_csrf_token_are_refused(client: Any) -> None:
    # Given: a signed-in user with a session
    browser = _register(client)
    browser.answer("Kept Answer")

    # When: pages of another site post to the account forms without the token
    forged = [browser.post("/user/sign-out", {}),
              browser.post("/interviews", {"_action": "delete_all_confirmed"}),
              browser.post("/user/change-password", {"old_password": PASSWORD, "new_password": "Hijacked-Pass-1"}),
              Browser(client).post("/user/sign-in", {"email": "ada@example.com", "password": PASSWORD})]

    # Then: every one is refused, and nothing changed
    assert [r.status_code for r in forged] == [400] * 4
    assert all("This form has expired" in r.body.decode() for r in forged)
    assert len(_resume_links(browser.page("/interviews"))) == 1
    assert _sign_in(Browser(client), "ada@example.com", PASSWORD).status_code == 303


def test_sign_in_goes_only_to_a_page_of_this_site(client: Any) -> None:
    _register(client)
    response = _sign_in(Browser(client), "ada@example.com", PASSWORD, "//evil.example/steal")
    assert response.headers["Location"] == "/interviews"


def test_another_users_session_cannot_be_resumed_or_deleted(client: Any) -> None:
    # Given: Ada's session, and Bob signed in
    ada = _register(client)
    ada.answer("Ada Only")
    link = _resume_links(ada.page("/interviews"))[0]
    bob = _register(client, "bob@example.com")

    # When: Bob opens Ada's resume link and posts a delete of her session
    opened = bob.get(link)
    session_id = re.search(r"resume=([A-Za-z0-9]+)", link).group(1)  # type: ignore[union-attr]
    token = _hidden(bob.page("/interviews"), "_csrf")
    deleted = bob.post("/interviews", {"_csrf": token, "_action": "delete", "i": PROBE, "session": session_id})

    # Then: both are 404, and Ada still has her session
    assert opened.status_code == 404 and deleted.status_code == 404
    assert len(_resume_links(ada.page("/interviews"))) == 1


def test_a_forged_sign_in_cookie_is_no_sign_in(client: Any) -> None:
    browser = _register(client)
    name = next(n for n in browser.jar if "da_user" in n)
    token = browser.jar[name]
    browser.jar[name] = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert "Signed in: False" in browser.page(f"/interview?i={PROBE}")
    assert browser.get("/interviews").status_code == 303


# ---------------------------------------------------------------------------- the API
def test_api_secret_and_own_interviews(client: Any, services: Any, api: Any) -> None:
    # Given: a user with a browser session, and an API key of theirs
    browser = _register(client)
    browser.answer("Api Answer")
    services.accounts.add_api_key("ada@example.com", "k" * 8 + "ada-api-key-0001")
    own_key = "k" * 8 + "ada-api-key-0001"

    # When / Then: the secret needs the right password, and says nothing more on failure
    assert api.get("/api/secret?username=ada@example.com").status == 400
    bad = api.get(f"/api/secret?username=ada@example.com&password={quote('wrong-password')}")
    unknown = api.get(f"/api/secret?username=nobody@example.com&password={quote(PASSWORD)}")
    assert bad.status == 403 and unknown.status == 403 and bad.json == unknown.json
    good = api.get(f"/api/secret?username=ada@example.com&password={quote(PASSWORD)}")
    assert good.status == 200 and isinstance(good.json, str) and len(good.json) == 43

    # When / Then: the user's own key lists their session, and deletes it
    listed = api.get("/api/user/interviews", key=own_key).json["items"]
    assert [item["filename"] for item in listed] == [PROBE]
    assert api.get("/api/user/interviews").json["items"] == []  # the admin has none of their own
    assert api.delete("/api/user/interviews", key=own_key).status == 204
    assert api.get("/api/user/interviews", key=own_key).json["items"] == []


def test_with_register_confirm_email_a_new_account_signs_in_only_after_the_mailed_link(
        client: Any, services: Any) -> None:
    # Given: REGISTER_CONFIRM_EMAIL on
    messenger = MemoryMessenger()
    confirming = dataclasses.replace(services, messenger=messenger,
                                     settings=dataclasses.replace(services.settings, register_confirm_email=True))
    context.use_services(confirming)
    try:
        # When: someone registers
        browser = Browser(client)
        made = browser.submit("/user/register", {"email": "ada@example.com", "password": PASSWORD})

        # Then: they are not signed in, and cannot sign in until they open the mailed link
        assert "Check your e-mail" in made.body.decode() and not any("da_user" in n for n in browser.jar)
        assert _sign_in(Browser(client), "ada@example.com", PASSWORD).status_code == 400
        sent = email.message_from_bytes(messenger.sent[0].raw)
        text = sent.get_payload(decode=True).decode()  # type: ignore[union-attr]
        link = re.search(r"https?://\S+/user/register\?confirm=\S+", text)
        assert link
        path = "/" + link.group(0).split("://", 1)[1].split("/", 1)[1]
        forged = Browser(client).get(path.replace("confirm=", "confirm=x"))
        assert forged.status_code == 400 and "not valid" in forged.body.decode()
        confirmed = Browser(client).page(path)
        assert "Your e-mail address is confirmed" in confirmed
        assert _sign_in(Browser(client), "ada@example.com", PASSWORD).status_code == 303
    finally:
        context.use_services(services)


def test_the_users_secret_opens_their_browser_session_through_the_api(client: Any, api: Any) -> None:
    # Given: a session the user answered in the browser while signed in, and their secret
    browser = _register(client)
    browser.answer("Secret Keeper")
    link = _resume_links(browser.page("/interviews"))[0]
    session_id = re.search(r"resume=([A-Za-z0-9]+)", link).group(1)  # type: ignore[union-attr]
    secret = api.get(f"/api/secret?username=ada@example.com&password={quote(PASSWORD)}").json

    # When / Then: the API opens it with that secret, and not with a made-up one
    opened = api.get(f"/api/session?i={PROBE}&session={session_id}&secret={secret}")
    assert opened.status == 200 and opened.json["name"] == "Secret Keeper"
    made_up = "A" * 43
    assert api.get(f"/api/session?i={PROBE}&session={session_id}&secret={made_up}").status == 403


def test_a_user_stored_before_keys_existed_gets_one_key_at_first_sign_in(api: Any) -> None:
    # Given: the tests' admin, stored with a password hash only (as users were before per-user keys)
    from tests.conftest import ADMIN_PASSWORD

    # When: its secret is asked for twice
    first = api.get(f"/api/secret?username=admin@localhost&password={quote(ADMIN_PASSWORD)}")
    second = api.get(f"/api/secret?username=admin@localhost&password={quote(ADMIN_PASSWORD)}")

    # Then: a key was made once and kept: both answers are the same secret
    assert first.status == 200 and first.json == second.json
