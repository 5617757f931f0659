"""Shared sessions, action links and new sessions in a real browser (issue 7 §5).

Two browser contexts stand for two people: the owner of a session and a guest who
got its link. Interviews: interview_url_action.yml (docassemble's example, unmodified),
tests/fixtures/interviews/shared_answers.yml and two_questions.yml.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import heading

pytestmark = pytest.mark.browser


@pytest.fixture
def guest(other_page: Page) -> Page:
    """A second person (no cookies shared with `page`)."""
    return other_page


def session_id(page: Page) -> str:
    (cookie,) = [c for c in page.context.cookies() if c["name"].startswith("da_")]
    return str(cookie["value"]).split(".")[0]


def test_a_guest_follows_an_action_from_anywhere_link_of_a_shared_session(
        page: Page, guest: Page, examples: Path) -> None:
    # Given: the owner's shared session of interview_url_action.yml, and its "danger" link
    page.goto("/interview?i=interview_url_action.yml")
    expect(heading(page)).to_have_text("The current status is normal.")
    link = page.get_by_role("link", name="danger").get_attribute("href")
    assert link and "session=" in link

    # When: a guest opens the link in their own browser
    guest.goto(link)

    # Then: the guest sees the shared session with the new status, and so does the owner
    expect(heading(guest)).to_have_text("The current status is danger.")
    page.reload()
    expect(heading(page)).to_have_text("The current status is danger.")


def test_a_guest_answers_the_questions_of_a_shared_session(page: Page, guest: Page) -> None:
    # Given: a shared session started by its owner
    page.goto("/interview?i=shared_answers.yml")
    expect(heading(page)).to_have_text("What is the project's name?")

    # When: a guest opens it by its id and answers both questions
    guest.goto(f"/interview?i=shared_answers.yml&session={session_id(page)}")
    guest.get_by_label("Name").fill("Apollo")
    guest.get_by_role("button", name="Continue").click()
    expect(heading(guest)).to_have_text("Who reviews it?")
    guest.get_by_label("Reviewer").fill("Grace")
    guest.get_by_role("button", name="Continue").click()

    # Then: the answers are the shared session's: the owner sees the end
    expect(heading(guest)).to_have_text("Apollo is reviewed by Grace.")
    page.reload()
    expect(heading(page)).to_have_text("Apollo is reviewed by Grace.")


def test_a_new_session_link_asks_before_it_replaces_the_session(page: Page) -> None:
    # Given: a user who answered the first question
    page.goto("/interview?i=two_questions.yml")
    page.get_by_label("Color").fill("red")
    page.get_by_role("button", name="Continue").click()
    expect(heading(page)).to_have_text("What is your favorite fruit?")

    # When: they open a new_session link, and choose to keep their answers
    page.goto("/interview?i=two_questions.yml&new_session=1")
    expect(heading(page)).to_have_text("Start a new session?")
    page.get_by_role("link", name="Keep my answers").click()

    # Then: they are where they were
    expect(heading(page)).to_have_text("What is your favorite fruit?")

    # When: they open it again and confirm
    page.goto("/interview?i=two_questions.yml&new_session=1")
    page.get_by_role("button", name="Start a new session").click()

    # Then: a new session starts at the first question
    expect(heading(page)).to_have_text("What is your favorite color?")
