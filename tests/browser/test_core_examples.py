"""docassemble's core examples (screens, actions, commands), unmodified, in a real browser.

Each test drives headless Chromium the way a user would: it reads headings and
text, follows links, types into labelled fields and presses buttons. The example
files are read from ../shared/examples at run time (the `examples` fixture skips,
saying why, when they are absent).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

pytestmark = pytest.mark.browser


def open_interview(page: Page, name: str) -> None:
    page.goto(f"/interview?i={name}")


def question(page: Page) -> Locator:
    return page.get_by_role("heading", level=1)


def subquestion(page: Page) -> Locator:
    return page.locator(".subquestion")


def under(page: Page) -> Locator:
    return page.locator(".under")


def continue_button(page: Page) -> Locator:
    return page.get_by_role("button", name="Continue", exact=True)


def back_button(page: Page) -> Locator:
    return page.get_by_role("button", name="Back")


# --- actions.yml -----------------------------------------------------------------------------


def test_actions_change_this_link_reasks_the_color_and_the_new_answer_reaches_the_end(
        page: Page, examples: Path) -> None:
    # Given the review screen of actions.yml, which says the color is blue
    open_interview(page, "actions.yml")
    expect(question(page)).to_have_text("Review your information.")
    expect(subquestion(page)).to_contain_text("Your favorite color is blue.")

    # When the user follows "Change this"
    page.get_by_role("link", name="Change this").click()

    # Then the color question shows with blue filled in
    expect(question(page)).to_have_text("What is your favorite color?")
    color = page.get_by_label("Favorite Color")
    expect(color).to_have_value("blue")

    # When the user answers green
    color.fill("green")
    continue_button(page).click()

    # Then the review screen says green
    expect(question(page)).to_have_text("Review your information.")
    expect(subquestion(page)).to_contain_text("Your favorite color is green.")

    # When the user confirms
    continue_button(page).click()

    # Then the final screen reports green
    expect(question(page)).to_have_text("Information submitted.")
    expect(subquestion(page)).to_contain_text("You have submitted the fact that your favorite color is green.")


def test_actions_back_button_returns_to_the_previous_screen(page: Page, examples: Path) -> None:
    # Given the user changed the color to green with the "Change this" action
    open_interview(page, "actions.yml")
    expect(back_button(page)).to_have_count(0)  # the first screen has nowhere to go back to
    page.get_by_role("link", name="Change this").click()
    page.get_by_label("Favorite Color").fill("green")
    continue_button(page).click()
    expect(subquestion(page)).to_contain_text("Your favorite color is green.")

    # When the user presses Back
    back_button(page).click()

    # Then the color question shows again, with the answer undone (blue, as before it was given)
    expect(question(page)).to_have_text("What is your favorite color?")
    expect(page.get_by_label("Favorite Color")).to_have_value("blue")

    # When the user presses Back once more
    back_button(page).click()

    # Then the review screen from before the change shows, saying blue
    expect(question(page)).to_have_text("Review your information.")
    expect(subquestion(page)).to_contain_text("Your favorite color is blue.")


# --- actions-parameters.yml ------------------------------------------------------------------


def test_actions_parameters_links_add_fishes_of_their_color(page: Page, examples: Path) -> None:
    # Given the review screen with 2 blue and 3 red fishes
    open_interview(page, "actions-parameters.yml")
    expect(subquestion(page)).to_contain_text("You have 2 blue fishes.")
    expect(subquestion(page)).to_contain_text("You have 3 red fishes.")

    # When the user adds a blue fish twice
    page.get_by_role("link", name="Add blue fish").click()
    expect(subquestion(page)).to_contain_text("You have 3 blue fishes.")
    page.get_by_role("link", name="Add blue fish").click()

    # Then there are 4 blue fishes and still 3 red ones
    expect(subquestion(page)).to_contain_text("You have 4 blue fishes.")
    expect(subquestion(page)).to_contain_text("You have 3 red fishes.")

    # When the user adds a red fish once
    page.get_by_role("link", name="Add red fish").click()

    # Then there are 4 red fishes
    expect(subquestion(page)).to_contain_text("You have 4 red fishes.")
    expect(subquestion(page)).to_contain_text("You have 4 blue fishes.")

    # When the user continues
    continue_button(page).click()

    # Then the final screen counts both colors
    expect(question(page)).to_have_text("Information submitted.")
    expect(subquestion(page)).to_have_text("You have 4 blue fishes and 4 red fishes.")


# --- reload.yml ------------------------------------------------------------------------------


def test_reload_screen_refreshes_every_10_seconds_and_counts_each_view(page: Page, examples: Path) -> None:
    # Given the first view of reload.yml
    open_interview(page, "reload.yml")

    # Then it counts one view and asks the browser to refresh it after 10 seconds
    expect(question(page)).to_have_text("You have viewed this screen 1 time.")
    expect(page.locator('meta[http-equiv="refresh"]')).to_have_attribute("content", "10")

    # When the page is reloaded (as the meta refresh does), twice
    page.reload()
    expect(question(page)).to_have_text("You have viewed this screen 2 times.")
    page.reload()

    # Then each view is counted
    expect(question(page)).to_have_text("You have viewed this screen 3 times.")

    # When the user continues
    continue_button(page).click()

    # Then the interview is done, and that screen does not refresh itself
    expect(question(page)).to_have_text("All done with the interview.")
    expect(page.locator('meta[http-equiv="refresh"]')).to_have_count(0)


@pytest.mark.slow
def test_reload_screen_refreshes_by_itself_after_10_seconds(page: Page, examples: Path) -> None:
    # Given the first view of reload.yml
    open_interview(page, "reload.yml")
    expect(question(page)).to_have_text("You have viewed this screen 1 time.")

    # When nobody touches the page for 10 seconds
    # Then the browser has reloaded it by itself and the counter went up
    expect(question(page)).to_have_text("You have viewed this screen 2 times.", timeout=15_000)


# --- response.yml ----------------------------------------------------------------------------


def test_response_sends_the_raw_json_body(page: Page, examples: Path) -> None:
    # When the user opens response.yml
    response = page.goto("/interview?i=response.yml")

    # Then the browser gets the JSON document itself, not an HTML page
    assert response is not None
    assert response.status == 200
    assert response.headers["content-type"].split(";")[0].strip() == "application/json"
    assert response.text() == '{"fruit": "apple", "pieces": 2}'
    assert json.loads(response.text()) == {"fruit": "apple", "pieces": 2}
    expect(page.locator("body")).to_have_text('{"fruit": "apple", "pieces": 2}')


# --- message.yml -----------------------------------------------------------------------------


def test_message_offers_exit_and_restart_and_exit_leaves_the_interview(page: Page, examples: Path) -> None:
    # Given message.yml
    open_interview(page, "message.yml")

    # Then the message shows with Exit and Restart buttons
    expect(question(page)).to_have_text("The interview is over.")
    expect(subquestion(page)).to_have_text("Better luck next time!")
    expect(page.get_by_role("button", name="Exit", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Restart", exact=True)).to_be_visible()

    # When the user presses Restart
    page.get_by_role("button", name="Restart", exact=True).click()

    # Then the interview starts again and shows the same message
    expect(question(page)).to_have_text("The interview is over.")
    expect(subquestion(page)).to_have_text("Better luck next time!")

    # When the user presses Exit
    page.get_by_role("button", name="Exit", exact=True).click()

    # Then the "You have left the interview" page shows
    expect(question(page)).to_have_text("You have left the interview")
    expect(page.get_by_text("Your answers have been deleted.")).to_be_visible()
    expect(page.get_by_role("button")).to_have_count(0)


# --- command.yml -----------------------------------------------------------------------------


def test_command_exit_redirects_the_browser_to_google(
        page: Page, examples: Path, outside: list[str]) -> None:
    # When the user opens command.yml (every other site is a local stub page)
    open_interview(page, "command.yml")

    # Then the browser ends up on google.com
    expect(page).to_have_url("https://google.com/")
    expect(page.get_by_role("heading", name="External site (stub)")).to_be_visible()
    assert outside == ["https://google.com/"]


# --- exit.yml --------------------------------------------------------------------------------


def test_exit_button_goes_to_stanford_and_the_interview_starts_over_afterwards(
        page: Page, examples: Path, outside: list[str]) -> None:
    # Given exit.yml, which asks where to go
    open_interview(page, "exit.yml")
    expect(question(page)).to_have_text("Where do you want to go?")
    expect(page.get_by_role("button", name="Harvard")).to_be_visible()

    # When the user presses Stanford
    page.get_by_role("button", name="Stanford").click()

    # Then the browser is sent to stanford.edu
    expect(page).to_have_url("http://stanford.edu/")
    assert outside == ["http://stanford.edu/"]

    # When the user opens the interview again
    open_interview(page, "exit.yml")

    # Then it starts over: the exit deleted the session and its answer
    expect(question(page)).to_have_text("Where do you want to go?")
    expect(page.get_by_role("button", name="Stanford")).to_be_visible()
    assert outside == ["http://stanford.edu/"]


# --- leave.yml -------------------------------------------------------------------------------


def test_leave_button_goes_to_harvard_and_the_kept_session_goes_there_again(
        page: Page, examples: Path, outside: list[str]) -> None:
    # Given leave.yml, which asks where to go
    open_interview(page, "leave.yml")
    expect(question(page)).to_have_text("Where do you want to go?")

    # When the user presses Harvard
    page.get_by_role("button", name="Harvard").click()

    # Then the browser is sent to harvard.edu
    expect(page).to_have_url("http://www.harvard.edu/")

    # When the user opens the interview again
    open_interview(page, "leave.yml")

    # Then the session and its answer were kept: the browser is sent to harvard.edu again
    expect(page).to_have_url("http://www.harvard.edu/")
    assert outside == ["http://www.harvard.edu/", "http://www.harvard.edu/"]


# --- persistent-task.yml ---------------------------------------------------------------------


def test_persistent_task_stays_performed_after_going_back(page: Page, examples: Path) -> None:
    # Given the fruit question, whose under text says the task is not performed yet
    open_interview(page, "persistent-task.yml")
    expect(question(page)).to_have_text("What is your favorite fruit?")
    expect(under(page)).to_have_text("The task has not been performed.")

    # When the user answers apple
    page.get_by_label("Fruit").fill("apple")
    continue_button(page).click()

    # Then the final screen shows the fruit and the task as performed
    expect(question(page)).to_have_text("You like apple")
    expect(under(page)).to_have_text("The task has been performed.")

    # When the user presses Back
    back_button(page).click()

    # Then the fruit question shows again, and the persistent task is still performed
    expect(question(page)).to_have_text("What is your favorite fruit?")
    expect(under(page)).to_have_text("The task has been performed.")
