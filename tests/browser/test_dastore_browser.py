"""DAStore in a real browser: docassemble's dastore.yml (from ../shared/examples, unmodified).
A signed-in user's answer is kept in their DAStore, sealed under their own key; their next
session, in a fresh browser after they sign in there, reads it and does not ask again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import heading
from tests.browser.test_accounts import EMAIL, PASSWORD, answer, fresh, sign_in

pytestmark = pytest.mark.browser

__all__ = ["fresh"]  # the fixture, shared with test_accounts


def test_a_stored_preference_is_shown_in_the_users_next_session_in_a_fresh_browser(
        page: Page, fresh: Page, services: Any, fresh_aws: dict[str, Any], examples: Path) -> None:
    # Given: a user registers (which signs them in) and answers dastore.yml
    page.goto("/user/register")
    page.get_by_label("E-mail address").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(heading(page)).to_have_text("My interviews")
    page.goto("/interview?i=dastore.yml")
    expect(heading(page)).to_have_text("What is your favorite fruit?")
    answer(page, "Fruit", "Quince")
    expect(heading(page)).to_have_text("All done")
    expect(page.get_by_text("Quince.")).to_be_visible()

    # When: they sign in from a fresh browser and start the interview anew there
    fresh.goto("/user/sign-in")
    sign_in(fresh)
    expect(heading(fresh)).to_have_text("My interviews")
    fresh.goto("/interview?i=dastore.yml")

    # Then: the stored preference is shown, not asked for again
    expect(heading(fresh)).to_have_text("All done")
    expect(fresh.get_by_text("Quince.")).to_be_visible()
    # And: it is stored sealed, not in clear
    assert "Quince" not in repr(fresh_aws["dynamodb"].scan(TableName=services.settings.table_name)["Items"])

    # When: the user signs out there and starts it anonymously
    fresh.goto("/interviews")
    fresh.get_by_role("button", name="Sign out").click()
    expect(heading(fresh)).to_have_text("Signed out")
    fresh.goto("/interview?i=dastore.yml")

    # Then: an anonymous visitor does not see the user's preference
    expect(heading(fresh)).to_have_text("What is your favorite fruit?")
