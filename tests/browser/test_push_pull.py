"""Moving data between sessions in a real browser (issue 13 §2).

- interviews/case_manager.yml (the project's example): the manager opens a case file as a
  session of its own, closes it, and reads it back.
- json-response.yml and response-json.yml (docassemble's examples, unmodified): the link
  to share is fetched by someone else, in a browser context of their own, and returns JSON.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import heading

pytestmark = pytest.mark.browser


@pytest.fixture
def stranger(other_page: Page) -> Page:
    """Someone a link was shared with (no cookies of `page`)."""
    return other_page


def press_continue(page: Page) -> None:
    page.get_by_role("button", name="Continue", exact=True).click()


def test_the_case_manager_opens_a_case_file_closes_it_and_shows_what_it_holds(page: Page) -> None:
    # Given: the case manager
    page.goto("/interview?i=case_manager.yml")
    expect(heading(page)).to_have_text("Open a case")

    # When: the manager names the client and continues
    page.get_by_label("Client's name").fill("Ada Lovelace")
    press_continue(page)
    expect(heading(page)).to_have_text("A case file for Ada Lovelace is being opened")
    press_continue(page)

    # Then: the next screen reads the new case file, which says the case is open
    expect(heading(page)).to_have_text("Close the case of Ada Lovelace?")
    expect(page.locator(".subquestion")).to_contain_text("The case file says the case is open")

    # When: the manager closes it with a note
    page.get_by_label("Closing note").fill("Settled <b>out</b> of court")
    press_continue(page)
    expect(heading(page)).to_have_text("The case of Ada Lovelace is being closed")
    press_continue(page)

    # Then: the summary, read from the case file, shows it closed with the note (as text)
    expect(heading(page)).to_have_text("The case of Ada Lovelace")
    summary = page.locator(".subquestion")
    expect(summary).to_contain_text("status: closed")
    expect(summary).to_contain_text("closing_note: Settled <b>out</b> of court")
    expect(summary).to_contain_text("client_name: Ada Lovelace")


def test_json_response_share_this_url_gives_someone_else_the_json(
        page: Page, stranger: Page, examples: Path) -> None:
    # Given: the owner's answers in json-response.yml
    page.goto("/interview?i=json-response.yml")
    page.get_by_label("Fruit").fill("fig")
    press_continue(page)
    page.get_by_label("Vegetable").fill("kale")
    press_continue(page)
    expect(heading(page)).to_have_text("Your preferences")
    link = page.get_by_role("link", name="this URL").get_attribute("href")
    assert link and "session=" in link

    # When: someone else opens "this URL" in a browser of their own
    reply = stranger.request.get(link)

    # Then: they get the preferences as JSON
    assert reply.status == 200 and reply.headers["content-type"].startswith("application/json")
    assert json.loads(reply.body()) == {"fruit": "fig", "vegetable": "kale"}


def test_response_json_link_gives_someone_else_the_current_json(
        page: Page, stranger: Page, examples: Path) -> None:
    # Given: the owner's answers in response-json.yml
    page.goto("/interview?i=response-json.yml")
    page.get_by_label("Fruit").fill("pear")
    press_continue(page)
    page.get_by_label("Pieces").fill("2")
    press_continue(page)
    expect(heading(page)).to_contain_text("You currently have two pieces of pear.")
    link = page.get_by_role("link", name="this link").get_attribute("href")
    assert link

    # When/Then: someone else fetches it, and after the owner changes the number, fetches it again
    assert json.loads(stranger.request.get(link).body()) == {"fruit": "pear", "pieces": 2}
    page.get_by_role("link", name="number of pieces").click()
    page.get_by_label("Pieces").fill("7")
    press_continue(page)
    expect(heading(page)).to_contain_text("seven pieces of pear")
    assert json.loads(stranger.request.get(link).body()) == {"fruit": "pear", "pieces": 7}
