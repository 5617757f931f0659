"""How screens behave in a real browser: keyboard use, answers re-asked, and where the page's files come from.

Uses docassemble's examples from ../shared/examples and the fixture interviews
tests/fixtures/interviews/number_check.yml (an integer field with min 1) and two_questions.yml.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, Request, expect

pytestmark = pytest.mark.browser


def open_interview(page: Page, name: str) -> None:
    page.goto(f"/interview?i={name}")


def question(page: Page) -> Locator:
    return page.get_by_role("heading", level=1)


def field_box(page: Page, label: str) -> Locator:
    """The block holding a field's label, input and error message."""
    return page.locator(".field").filter(has=page.get_by_label(label))


# --- answering ----------------------------------------------------------------------------


def test_an_answer_is_one_request_and_a_reload_shows_the_next_screen_again_with_a_get(page: Page) -> None:
    # Given the first question of two_questions.yml
    open_interview(page, "two_questions.yml")
    navigations: list[Request] = []
    page.on("request", lambda r: navigations.append(r) if r.is_navigation_request() else None)

    # When the user answers it
    page.get_by_label("Color").fill("blue")
    page.get_by_role("button", name="Continue").click()

    # Then the next screen is the reply to the answer itself: one POST, no redirect
    expect(question(page)).to_have_text("What is your favorite fruit?")
    assert [r.method for r in navigations] == ["POST"] and navigations[0].redirected_to is None

    # When the user reloads the page (no "resubmit the form?" prompt is ever accepted here)
    page.on("dialog", lambda dialog: dialog.dismiss())
    page.reload()

    # Then the browser asked with a GET, and the same screen is shown: the answer was not posted again
    expect(question(page)).to_have_text("What is your favorite fruit?")
    assert [r.method for r in navigations] == ["POST", "GET"]
    page.get_by_label("Fruit").fill("kiwi")
    page.get_by_role("button", name="Continue").click()
    expect(question(page)).to_have_text("You like blue kiwi.")


# --- keyboard --------------------------------------------------------------------------------


def test_first_field_has_the_focus_and_enter_submits_the_answer(page: Page, examples: Path) -> None:
    # Given the fruit question of persistent-task.yml
    open_interview(page, "persistent-task.yml")
    fruit = page.get_by_label("Fruit")

    # Then the cursor is already in the first field
    expect(fruit).to_be_focused()

    # When the user types an answer and presses Enter, without touching the mouse
    page.keyboard.type("banana")
    page.keyboard.press("Enter")

    # Then the answer is taken
    expect(question(page)).to_have_text("You like banana")


def test_tab_walks_back_link_and_continue_in_order_and_enter_activates_them(page: Page, examples: Path) -> None:
    # Given the review screen of actions.yml
    open_interview(page, "actions.yml")
    expect(question(page)).to_have_text("Review your information.")

    # When the user tabs to "Change this" and presses Enter
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Change this")).to_be_focused()
    page.keyboard.press("Enter")

    # Then the color question shows with the cursor in its field
    expect(question(page)).to_have_text("What is your favorite color?")
    color = page.get_by_label("Favorite Color")
    expect(color).to_be_focused()

    # When the user replaces the answer and presses Enter
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type("green")
    page.keyboard.press("Enter")

    # Then the review screen says green, and Tab visits Back, the link and Continue in that order
    expect(page.locator(".subquestion")).to_contain_text("Your favorite color is green.")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Back")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Change this")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Continue")).to_be_focused()

    # When the user presses Enter on Continue
    page.keyboard.press("Enter")

    # Then the interview ends with green
    expect(question(page)).to_have_text("Information submitted.")
    expect(page.locator(".subquestion")).to_contain_text("your favorite color is green.")


# --- answers that are not valid --------------------------------------------------------------


def test_letters_in_a_whole_number_field_reask_the_question_with_an_error_at_the_field(page: Page) -> None:
    # Given the number question (an integer, at least 1)
    open_interview(page, "number_check.yml")
    expect(question(page)).to_have_text("How many apples do you have?")
    apples = page.get_by_label("Apples")
    expect(apples).to_be_focused()

    # When the user types letters and presses Enter
    page.keyboard.type("abc")
    expect(apples).to_have_value("")  # a number field does not take letters: nothing is sent
    page.keyboard.press("Enter")

    # Then the same question shows again, with an error message next to the field
    expect(question(page)).to_have_text("How many apples do you have?")
    expect(page.get_by_role("alert").first).to_contain_text("Please correct the answers marked below.")
    error = field_box(page, "Apples").locator("p.error")
    expect(error).to_have_text("This field is required.")  # the browser sent an empty answer
    expect(apples).to_have_attribute("aria-invalid", "true")
    expect(apples).to_have_attribute("aria-describedby", "f0-error")
    expect(apples).to_be_focused()

    # When the user opens the interview again
    open_interview(page, "number_check.yml")

    # Then nothing was kept: the question asks again, empty and without an error
    expect(question(page)).to_have_text("How many apples do you have?")
    expect(page.get_by_label("Apples")).to_have_value("")
    expect(page.locator("p.error")).to_have_count(0)


def test_a_number_below_the_minimum_is_refused_and_a_valid_one_is_taken(page: Page) -> None:
    # Given the number question (an integer, at least 1)
    open_interview(page, "number_check.yml")
    apples = page.get_by_label("Apples")

    # When the user answers 0
    apples.fill("0")
    page.get_by_role("button", name="Continue").click()

    # Then the question shows again with the minimum next to the field
    expect(question(page)).to_have_text("How many apples do you have?")
    expect(field_box(page, "Apples").locator("p.error")).to_have_text("Enter a value of at least 1.")

    # When the user answers 3
    page.get_by_label("Apples").fill("3")
    page.get_by_role("button", name="Continue").click()

    # Then the answer is taken
    expect(question(page)).to_have_text("You have 3 apples.")
    expect(page.locator("p.error")).to_have_count(0)


# --- where the page's files come from --------------------------------------------------------


@pytest.mark.parametrize("name", ["actions.yml", "persistent-task.yml", "message.yml"])
def test_page_loads_its_css_and_js_from_the_app_itself(
        page: Page, server: str, examples: Path, outside: list[str], name: str) -> None:
    requests: list[Request] = []
    page.on("requestfinished", lambda request: requests.append(request))

    # When the user opens the interview
    open_interview(page, name)
    expect(question(page)).to_be_visible()
    page.wait_for_load_state("load")

    # Then every stylesheet and script on the page comes from the app's own address
    sources = page.eval_on_selector_all(
        "link[href], script[src]", "els => els.map(e => e.href || e.src)")
    assert sources, "the page links no stylesheet or script"
    assert all(src.startswith(f"{server}/static/") for src in sources), sources
    assert f"{server}/static/app.css" in sources and f"{server}/static/app.js" in sources

    # And they loaded, with the right types, and the stylesheet is in use
    for url, kind in ((f"{server}/static/app.css", "text/css"), (f"{server}/static/app.js", "javascript")):
        request = next((r for r in requests if r.url == url), None)
        assert request is not None, f"{url} was not requested"
        response = request.response()
        assert response is not None and response.status == 200, url
        assert kind in response.headers["content-type"], response.headers
    assert page.evaluate("document.styleSheets.length") >= 1
    assert page.evaluate("document.styleSheets[0].cssRules.length") > 0

    # And nothing at all was fetched from another site
    assert all(r.url.startswith(f"{server}/") for r in requests), [r.url for r in requests]
    assert outside == []
