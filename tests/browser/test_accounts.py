"""Accounts in a real browser (issue 14 §1–3): register, answer anonymously, sign in (the session is
adopted), sign out, sign in from a fresh browser, resume and finish, My interviews, Delete all.

Interview: tests/fixtures/interviews/account_probe.yml (who the turn runs as, a name, a quest).
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import heading

pytestmark = pytest.mark.browser

PROBE = "account_probe.yml"
EMAIL = "ada@example.com"
PASSWORD = "Correct-Horse-42"


@pytest.fixture
def fresh(other_page: Page) -> Page:
    """Another browser of the same person (no cookies)."""
    return other_page


def sign_in(page: Page, password: str = PASSWORD) -> None:
    page.get_by_label("E-mail address").fill(EMAIL)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def answer(page: Page, label: str, value: str) -> None:
    page.get_by_label(label).fill(value)
    page.get_by_role("button", name="Continue").click()


def test_register_answer_sign_in_resume_elsewhere_and_delete_all(page: Page, fresh: Page, services: Any,
                                                                  fresh_aws: dict[str, Any]) -> None:
    # Given: a user registers (which signs them in), then signs out
    page.goto("/user/register")
    expect(page.locator("input[type=email][autocomplete=username]")).to_be_visible()
    expect(page.locator("input[type=password][autocomplete=new-password]")).to_be_visible()
    page.get_by_label("E-mail address").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(heading(page)).to_have_text("My interviews")
    page.get_by_role("button", name="Sign out").click()
    expect(heading(page)).to_have_text("Signed out")

    # And: answers half the interview anonymously
    page.goto(f"/interview?i={PROBE}")
    expect(page.get_by_text("Signed in: False")).to_be_visible()
    answer(page, "Name", "Sir Galahad the Pure")
    expect(heading(page)).to_have_text("What is your quest?")

    # When: they follow the page's "Sign in" link and sign in
    page.get_by_role("link", name="Sign in").click()
    sign_in(page)

    # Then: they are back at their question: the anonymous session is now theirs
    expect(heading(page)).to_have_text("What is your quest?")
    page.get_by_role("link", name="My interviews").click()
    expect(page.get_by_role("cell", name="Account probe", exact=True)).to_be_visible()

    # When: they sign out, and sign in from a fresh browser
    page.get_by_role("button", name="Sign out").click()
    expect(heading(page)).to_have_text("Signed out")
    fresh.goto("/user/sign-in")
    sign_in(fresh)
    expect(heading(fresh)).to_have_text("My interviews")

    # Then: the fresh browser resumes the session and finishes it
    fresh.get_by_role("link", name="Resume").click()
    expect(heading(fresh)).to_have_text("What is your quest?")
    answer(fresh, "Quest", "to seek the Grail")
    expect(heading(fresh)).to_have_text("Done, Sir Galahad the Pure: to seek the Grail.")

    # And: no answer is stored in clear in the table
    items = repr(fresh_aws["dynamodb"].scan(TableName=services.settings.table_name)["Items"])
    assert "Galahad" not in items and "Grail" not in items

    # When: they delete all their interviews, confirming
    fresh.goto("/interviews")
    expect(fresh.get_by_role("link", name="Resume")).to_have_count(1)
    fresh.get_by_role("button", name="Delete all").click()
    expect(heading(fresh)).to_have_text("Delete all your interviews?")
    fresh.get_by_role("button", name="Delete all").click()

    # Then: My interviews is empty
    expect(fresh.get_by_text("You have no saved interviews.")).to_be_visible()


def test_a_wrong_password_opens_nothing(page: Page, fresh: Page) -> None:
    # Given: a user with a session
    page.goto("/user/register")
    page.get_by_label("E-mail address").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.goto(f"/interview?i={PROBE}")
    expect(page.get_by_text(f"Signed in: True. E-mail: {EMAIL}.")).to_be_visible()

    # When: someone signs in with a wrong password in another browser
    fresh.goto("/user/sign-in")
    sign_in(fresh, "not-the-password")

    # Then: a generic message, and My interviews is not reachable
    expect(fresh.get_by_role("alert")).to_have_text(
        "The e-mail address or the password is not right. Check both and try again.")
    fresh.goto("/interviews")
    expect(heading(fresh)).to_have_text("Sign in")
