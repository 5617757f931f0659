"""`check in` screens in a real browser: the page checks in as the user types, and shows what comes back.

docassemble's check-in examples run unmodified. The page checks in 100 ms after it
loads, at once on every change of a field (a text field changes when the user tabs
away) and then every second (`fast_checkin`); the server runs the screen's
`check in` action with the form's values and the page applies what it returns: a
target filled with text or a template, a field set to a computed value, a flash.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from playwright.sync_api import Locator, Page, Request, expect

from tests.browser.conftest import CHECKIN_INTERVAL_MS, wait_until

pytestmark = pytest.mark.browser

SHOWS_MS = 10_000  # what a check-in brings shows on the page within this


def open_interview(page: Page, name: str) -> None:
    page.goto(f"/interview?i={name}")


def question(page: Page) -> Locator:
    return page.get_by_role("heading", level=1)


def continue_button(page: Page) -> Locator:
    return page.get_by_role("button", name="Continue", exact=True)


def target(page: Page, name: str) -> Locator:
    return page.locator(f".datarget{name}")


def checkins(page: Page) -> list[Request]:
    """Every check-in request the page makes from now on (appended as they are sent)."""
    sent: list[Request] = []
    page.on("request", lambda r: sent.append(r) if "/checkin?" in r.url and r.method == "POST" else None)
    return sent


def parameters_of(request: Request) -> dict[str, Any]:
    form = parse_qs(request.post_data or "", keep_blank_values=True)
    return dict(json.loads(form["parameters"][-1]))


def mark_page(page: Page) -> None:
    """A flag on this document: it is gone after any reload or navigation."""
    page.evaluate("window.sameDocument = true")


def same_document(page: Page) -> bool:
    return bool(page.evaluate("window.sameDocument === true"))


def type_and_tab_away(page: Page, label: str, text: str) -> None:
    page.get_by_label(label, exact=True).fill(text)
    page.get_by_label(label, exact=True).press("Tab")


def test_check_in_counts_the_check_ins_and_keeps_the_drafts(page: Page, fast_checkin: Any, examples: Path) -> None:
    # Given the food question of check-in.yml
    sent = checkins(page)
    open_interview(page, "check-in.yml")
    expect(question(page)).to_have_text("What is your favorite food?")

    # When the user types a food and tabs away
    type_and_tab_away(page, "Favorite food", "pizza")

    # Then the page checks in at once, naming the changed field
    for _ in range(SHOWS_MS // 100):
        if any(parameters_of(r).get("_changed") == "favorite_food" for r in sent):
            break
        page.wait_for_timeout(100)
    changed = [parameters_of(r) for r in sent if parameters_of(r).get("_changed") == "favorite_food"]
    assert changed and changed[0]["favorite_food"] == "pizza" and changed[0]["_initial"] is False
    assert parameters_of(sent[0])["_initial"] is True

    # When the user submits
    continue_button(page).click()

    # Then the final screen counts at least two check-ins and lists the draft
    expect(question(page)).to_have_text("Your favorite food")
    body = page.locator(".subquestion")
    expect(body).to_contain_text("Your favorite food is pizza.")
    expect(body).to_contain_text("Your draft choices were pizza.")
    count = re.search(r"You checked in (\d+) times\.", body.inner_text())
    assert count is not None and int(count.group(1)) >= 2


def test_target_code_shows_feedback_without_a_reload(page: Page, fast_checkin: Any, examples: Path) -> None:
    # Given the food question of target-code.yml, with an empty feedback area
    open_interview(page, "target-code.yml")
    expect(question(page)).to_have_text("What is your favorite food?")
    mark_page(page)

    # When the user types "pizza" and tabs away
    type_and_tab_away(page, "Favorite food", "pizza")

    # Then the feedback appears on this very page
    expect(target(page, "feedback")).to_have_text("What? You like PIZZA?", timeout=SHOWS_MS)
    assert same_document(page)


@pytest.mark.parametrize("name", ["target-template.yml", "target-code-template.yml"])
def test_a_template_fills_the_target(page: Page, fast_checkin: Any, examples: Path, name: str) -> None:
    # Given the food question
    open_interview(page, name)
    expect(question(page)).to_have_text("What is your favorite food?")
    mark_page(page)

    # When the user types "pizza" and tabs away
    type_and_tab_away(page, "Favorite food", "pizza")

    # Then the target shows the template's HTML: "What?" in italics, and the food in capitals
    feedback = target(page, "feedback")
    expect(feedback.locator("em")).to_have_text("What?", timeout=SHOWS_MS)
    expect(feedback).to_contain_text("PIZZA")
    assert same_document(page)


def test_one_check_in_fills_two_targets(page: Page, fast_checkin: Any, examples: Path) -> None:
    # Given the food question of target-code-multiple.yml (one target in the question, one under)
    open_interview(page, "target-code-multiple.yml")
    expect(question(page)).to_contain_text("What is your favorite food?")

    # When the user types "pizza" and tabs away
    type_and_tab_away(page, "Favorite food", "pizza")

    # Then both targets are filled
    expect(target(page, "feedback_two")).to_have_text("What? You like PIZZA?", timeout=SHOWS_MS)
    expect(target(page, "feedback_one")).to_have_text("(Please don't be gross.)")


def test_ajax_calc_fills_in_the_product(page: Page, fast_checkin: Any, examples: Path) -> None:
    # Given the calculator of ajax-calc.yml
    open_interview(page, "ajax-calc.yml")
    expect(question(page)).to_have_text("Let's calculate some stuff.")
    mark_page(page)

    # When the user types 3 in A and 4 in B and tabs away
    type_and_tab_away(page, "A", "3")
    type_and_tab_away(page, "B", "4")

    # Then C becomes 12 by itself
    expect(page.get_by_label("C", exact=True)).to_have_value(re.compile(r"^12(\.0)?$"), timeout=SHOWS_MS)
    assert same_document(page)

    # When the user continues
    continue_button(page).click()

    # Then the answer is right (C is a `number`: docassemble stores it as a float, 12.0)
    expect(question(page)).to_have_text(re.compile(r"^The correct answer is 12(\.0)?\.$"))


def test_ajax_flash_criticizes_the_food_once(page: Page, fast_checkin: Any, examples: Path) -> None:
    # Given the food question of ajax-flash.yml
    open_interview(page, "ajax-flash.yml")
    expect(question(page)).to_have_text("What is your favorite food?")
    mark_page(page)

    # When the user types a food and tabs away
    type_and_tab_away(page, "Favorite food", "pie")

    # Then the flash shows, once, even after further check-ins
    flashes = page.locator("#flash .alert")
    expect(flashes).to_have_text(["What? You like PIE?"], timeout=SHOWS_MS)
    page.wait_for_timeout(2500)  # two more check-ins at the 1 s interval
    expect(flashes).to_have_text(["What? You like PIE?"])
    assert same_document(page)


def test_country_state_enables_the_state_and_changes_its_choices(
        page: Page, fast_checkin: Any, examples: Path) -> None:
    # Given country-state.yml: State is `js enable if: val('country')`, so off until a country is chosen
    open_interview(page, "country-state.yml")
    expect(question(page)).to_have_text("Where do you live?")
    state = page.get_by_label("State", exact=True)
    expect(state).to_be_disabled()
    mark_page(page)

    # When the user picks Canada
    page.get_by_label("Country", exact=True).select_option(label="Canada")

    # Then State is enabled, and the check-in gives it Canada's provinces
    expect(state).to_be_enabled()
    expect(state.locator("option", has_text="Ontario")).to_have_count(1, timeout=SHOWS_MS)
    assert same_document(page)


def test_country_state_back_shows_the_country_and_province_chosen_before(
        page: Page, fast_checkin: Any, examples: Path) -> None:
    # Given country-state.yml answered with Canada and Quebec (from the provinces the check-in gave)
    open_interview(page, "country-state.yml")
    page.get_by_label("Country", exact=True).select_option(label="Canada")
    state = page.get_by_label("State", exact=True)
    expect(state.locator("option", has_text="Quebec")).to_have_count(1, timeout=SHOWS_MS)
    state.select_option(label="Quebec")
    continue_button(page).click()
    expect(page.locator(".subquestion")).to_contain_text("Your state code is QC.")

    # When the user presses Back
    page.get_by_role("button", name="Back").click()

    # Then the question shows Canada and Quebec selected, from Canada's provinces
    expect(question(page)).to_have_text("Where do you live?")
    expect(page.get_by_label("Country", exact=True).locator("option:checked")).to_have_text("Canada")
    expect(state.locator("option:checked")).to_have_text("Quebec")
    expect(state).to_be_enabled()


def test_an_action_that_always_answers_refresh_reloads_at_most_once_per_interval(
        page: Page, fast_checkin: Any) -> None:
    # Given a screen whose check-in action answers "refresh" every time (interval 1 s)
    loads: list[str] = []
    page.on("load", lambda _: loads.append("load"))
    started = time.monotonic()
    open_interview(page, "refresh_loop.yml")
    # When it stays open until it has reloaded, and two intervals more
    wait_until(page, lambda: len(loads) >= 2, SHOWS_MS, "a reload")
    page.wait_for_timeout(2 * CHECKIN_INTERVAL_MS)
    # Then it reloaded, but not in a loop: at most once per interval (without the guard,
    # every page's first check-in, 100 ms after loading, would reload it again)
    elapsed_ms = (time.monotonic() - started) * 1000
    assert len(loads) <= elapsed_ms / CHECKIN_INTERVAL_MS + 2, (loads, elapsed_ms)


def test_ajax_calc_javascript_flashes_the_hint(page: Page, fast_checkin: Any, examples: Path) -> None:
    open_interview(page, "ajax-calc-javascript.yml")
    expect(question(page)).to_have_text("Let's calculate some stuff.")
    page.get_by_label("A", exact=True).fill("3")
    type_and_tab_away(page, "B", "2")
    hint = page.locator("#flash .alert-success")
    expect(hint.first).to_have_text("Hint: C should be 6", timeout=SHOWS_MS)
