"""DAStore through the browser, with docassemble's examples dastore.yml and dastore2.yml
(from ../shared/examples, unmodified): a value kept for the user outlives the session and
is read by the user's next session, in any browser they sign in to, sealed under their key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.functional.accounts.test_accounts_web import PASSWORD, Browser, _form_action, _hidden, _register, _sign_in


def _answer(browser: Browser, interview: str, value: str) -> str:
    shown = browser.page(f"/interview?i={interview}")
    response = browser.post(_form_action(shown, "screen"), {
        "_csrf": _hidden(shown, "_csrf"), "_screen": _hidden(shown, "_screen"), "_f0": value})
    return browser.page(f"/interview?i={interview}") if response.status_code == 303 else str(response.body.decode())


def test_a_users_dastore_value_is_read_by_their_next_session_in_another_browser(
        client: Any, services: Any, fresh_aws: dict[str, Any], examples: Path) -> None:
    # Given: a signed-in user who answers dastore.yml's question
    browser = _register(client)
    assert "What is your favorite fruit?" in browser.page("/interview?i=dastore.yml")
    done = _answer(browser, "dastore.yml", "Quince")
    assert "Your favorite fruit is" in done and "Quince." in done

    # When: they sign in from another browser and start the interview afresh
    other = Browser(client)
    _sign_in(other, "ada@example.com", PASSWORD)
    again = other.page("/interview?i=dastore.yml")

    # Then: the question is not asked again: the stored preference is read
    assert "All done" in again and "Quince." in again
    # And: the stored value is sealed, not in clear
    stored = repr(fresh_aws["dynamodb"].scan(TableName=services.settings.table_name)["Items"])
    assert "Quince" not in stored

    # And: another user does not see it
    stranger = _register(client, "bob@example.com")
    assert "What is your favorite fruit?" in stranger.page("/interview?i=dastore.yml")


def test_an_anonymous_users_dastore_lives_with_the_session_and_dastore2_updates_it(
        client: Any, examples: Path) -> None:
    # Given / When: an anonymous user answers dastore.yml, and another anonymous browser starts it
    first = Browser(client)
    first.page("/interview?i=dastore.yml")
    assert "Kiwi." in _answer(first, "dastore.yml", "Kiwi")
    second = Browser(client)

    # Then: the second browser (another temporary user) is asked
    assert "What is your favorite fruit?" in second.page("/interview?i=dastore.yml")

    # When: a signed-in user answers dastore2.yml twice, in two sessions
    user = _register(client)
    user.page("/interview?i=dastore2.yml")
    assert "Fig." in _answer(user, "dastore2.yml", "Fig")
    fresh = Browser(client)
    _sign_in(fresh, "ada@example.com", PASSWORD)
    fresh.page("/interview?i=dastore2.yml")

    # Then: the second session's answer updates the stored dictionary
    assert "Plum." in _answer(fresh, "dastore2.yml", "Plum")


def test_daglobal_attributes_are_shared_by_the_sessions_of_an_interview(client: Any, services: Any,
                                                                      fresh_aws: dict[str, Any]) -> None:
    # Given / When: two people visit the probe, each in a browser of their own
    counts = []
    for name in ("Alice Visitor", "Bob Visitor"):
        browser = Browser(client)
        browser.page("/interview?i=daglobal_probe.yml")
        counts.append(_answer(browser, "daglobal_probe.yml", name))

    # Then: the counter outside the sessions saw both visits, and its key is listed
    assert "Visit number 1" in counts[0] and "Visit number 2" in counts[1]
    assert "Stored: True. Keys: probe-visits." in counts[1]
    # And: the count is not saved in the session's answers (it lives outside them)
    from chalicelib.runtime.sessions import SessionRef, Sessions

    session_id, secret = next(v for n, v in browser.jar.items() if "da_" in n and "." in v).split(".")
    answers = Sessions(services).read(SessionRef("daglobal_probe.yml", session_id, secret)).answers
    assert answers["visitor_name"] == "Bob Visitor" and "count" not in vars(answers["visits"])
