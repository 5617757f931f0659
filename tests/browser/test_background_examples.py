"""Background tasks in a real browser: the page checks in and applies what finished tasks send.

docassemble's background-task examples run unmodified. Each test answers the
first screen, runs the SQS worker from the test thread (`worker.drain()`, which
keeps one thread inside moto at a time) and watches the waiting screen change by
itself: a flash message, a refresh, a script, a filled-in field. The check-in
interval is 1 s here (`fast_checkin`). Further tests feed checkin.js crafted
replies (through `page.route`) to pin down how it applies each kind of command.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from playwright.sync_api import Dialog, Locator, Page, Request, Route, expect

from tests.browser.conftest import CHECKIN_INTERVAL_MS, Worker, wait_until

pytestmark = pytest.mark.browser

NOTICE_MS = 10_000  # a finished task shows on the page within this


def open_interview(page: Page, name: str) -> None:
    page.goto(f"/interview?i={name}")


def question(page: Page) -> Locator:
    return page.get_by_role("heading", level=1)


def flashes(page: Page) -> Locator:
    return page.locator("#flash .alert")


def continue_button(page: Page) -> Locator:
    return page.get_by_role("button", name="Continue", exact=True)


def checkins(page: Page) -> list[Request]:
    """Every check-in request the page makes from now on (appended as they are sent)."""
    sent: list[Request] = []
    page.on("request", lambda r: sent.append(r) if "/checkin?" in r.url and r.method == "POST" else None)
    return sent


def form_of(request: Request) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(request.post_data or "", keep_blank_values=True).items()}


def mark_page(page: Page) -> None:
    """A flag on this document: it is gone after any reload or navigation."""
    page.evaluate("window.sameDocument = true")


def same_document(page: Page) -> bool:
    return bool(page.evaluate("window.sameDocument === true"))


def ask_for_558(page: Page, name: str, waiting: str) -> None:
    """Open `name`, add 5 to 553, and land on the waiting screen."""
    open_interview(page, name)
    expect(question(page)).to_have_text("How much shall I add to 553?")
    page.get_by_label("Number").fill("5")
    continue_button(page).click()
    expect(question(page)).to_have_text(waiting)


# --- the examples ------------------------------------------------------------------------------


@pytest.mark.parametrize("name, final_question, final_text", [
    ("background_action_flash.yml", "All done.", "The answer is 558."),
    ("background_response_action_flash.yml", "The answer is 558.", None),
])
def test_flash_appears_without_a_reload_and_continue_shows_the_result(
        page: Page, fast_checkin: Any, worker: Worker, examples: Path,
        name: str, final_question: str, final_text: str | None) -> None:
    # Given the waiting screen, with no message yet
    ask_for_558(page, name, "Your answer will appear shortly.")
    expect(flashes(page)).to_have_count(0)
    mark_page(page)

    # When the worker runs the task
    assert worker.drain() >= 1

    # Then the message appears on this very page (no reload)
    expect(flashes(page)).to_have_text(["The answer is 558."], timeout=NOTICE_MS)
    assert same_document(page)
    expect(question(page)).to_have_text("Your answer will appear shortly.")

    # When the user presses Continue (the refresh button)
    continue_button(page).click()

    # Then the final screen shows the result
    expect(question(page)).to_have_text(final_question)
    if final_text is not None:
        expect(page.locator(".subquestion blockquote")).to_have_text(final_text)


def test_refresh_reloads_the_page_by_itself_with_a_get(
        page: Page, fast_checkin: Any, worker: Worker, examples: Path) -> None:
    # Given the waiting screen of background_action_refresh.yml
    ask_for_558(page, "background_action_refresh.yml", "Hang tight.")
    expect(page.locator(".subquestion")).to_have_text("Still waiting for an answer.")
    navigations: list[Request] = []
    page.on("request", lambda r: navigations.append(r) if r.is_navigation_request() else None)

    # When the worker runs the task
    assert worker.drain() >= 1

    # Then the page reloads by itself and shows the answer
    expect(question(page)).to_have_text("The answer is 558.", timeout=NOTICE_MS)

    # And it got there with one GET of the interview (not by submitting the form again)
    assert [(r.method, r.url.split("/", 3)[-1]) for r in navigations] == [
        ("GET", "interview?i=background_action_refresh.yml")]


def test_javascript_runs_in_the_page(page: Page, fast_checkin: Any, worker: Worker, examples: Path) -> None:
    # Given the waiting screen, and a user who accepts any alert
    ask_for_558(page, "background_action_javascript.yml", "Your answer will appear shortly.")
    alerts: list[str] = []

    def accept(dialog: Dialog) -> None:
        alerts.append(f"{dialog.type}: {dialog.message}")
        dialog.accept()

    page.on("dialog", accept)

    # When the worker runs the task
    with page.expect_event("dialog", timeout=NOTICE_MS):
        assert worker.drain() >= 1

    # Then the task's script ran: it showed the answer in an alert
    assert alerts == ["alert: The answer is 558."]

    # And Continue shows the final screen
    continue_button(page).click()
    expect(question(page)).to_have_text("All done.")
    assert alerts == ["alert: The answer is 558."]


def test_fields_fills_in_the_waiting_screens_field(
        page: Page, fast_checkin: Any, worker: Worker, examples: Path) -> None:
    # Given the waiting screen, whose Number field is empty
    ask_for_558(page, "background_action_fields.yml", "Your answer will appear shortly.")
    number = page.get_by_label("Number")
    expect(number).to_have_value("")
    mark_page(page)

    # When the worker runs the task
    assert worker.drain() >= 1

    # Then the field gets 558 by itself, on this very page
    expect(number).to_have_value("558", timeout=NOTICE_MS)
    assert same_document(page)

    # And the filled-in answer can be sent on
    continue_button(page).click()
    expect(question(page)).to_have_text("All done.")
    expect(page.locator(".subquestion blockquote")).to_have_text("{'the_number': 558}")


# --- the check-in itself ------------------------------------------------------------------------


def test_checkin_carries_the_pages_csrf_token_and_is_refused_without_it(
        page: Page, fast_checkin: Any, examples: Path) -> None:
    sent = checkins(page)

    # Given the waiting screen of background_action_flash.yml
    ask_for_558(page, "background_action_flash.yml", "Your answer will appear shortly.")
    token = page.locator("form.screen input[name=_csrf]").input_value()

    # Then the page checks in at once, then every interval (not more often), with the page's token
    started = time.monotonic()
    with page.expect_request(lambda r: "/checkin?" in r.url, timeout=NOTICE_MS):
        pass
    code = form_of(sent[-1])["checkinCode"]  # one code per page load: this page's check-ins

    def this_pages() -> list[Request]:
        return [r for r in sent if form_of(r)["checkinCode"] == code]

    wait_until(page, lambda: len(this_pages()) >= 3, NOTICE_MS, "three check-ins")
    elapsed_ms = (time.monotonic() - started) * 1000
    here = this_pages()
    assert len(here) <= elapsed_ms / CHECKIN_INTERVAL_MS + 2, ([r.post_data for r in here], elapsed_ms)
    forms = [form_of(r) for r in here]
    assert all(f["csrf_token"] == token for f in forms), forms
    assert [json.loads(f["parameters"])["_initial"] for f in forms] == [True] + [False] * (len(forms) - 1)
    assert all(r.url.endswith("/checkin?i=background_action_flash.yml") for r in here)
    response = here[0].response()
    assert response is not None and response.status == 200
    assert response.json() == {"success": True, "commands": [], "checkin_code": code}

    # And a check-in without the token (same cookies) is refused
    url = "/checkin?i=background_action_flash.yml"
    refused = page.request.post(url, form={"checkinCode": "1"})
    assert refused.status == 403
    assert refused.json()["success"] is False
    wrong = page.request.post(url, form={"csrf_token": token[:-2] + "xx", "checkinCode": "1"})
    assert wrong.status == 403
    right = page.request.post(url, form={"csrf_token": token, "checkinCode": "1"})
    assert right.status == 200 and right.json()["success"] is True


def test_a_flash_arrives_exactly_once(page: Page, fast_checkin: Any, worker: Worker, examples: Path) -> None:
    sent = checkins(page)
    ask_for_558(page, "background_action_flash.yml", "Your answer will appear shortly.")
    assert worker.drain() >= 1
    expect(flashes(page)).to_have_count(1, timeout=NOTICE_MS)
    before = len(sent)

    # When two more check-ins happen
    wait_until(page, lambda: len(sent) >= before + 2, NOTICE_MS, "two more check-ins")

    # Then there is still one message
    expect(flashes(page)).to_have_text(["The answer is 558."])


def test_no_checkin_when_the_interval_is_zero(page: Page, services: Any, examples: Path) -> None:
    import dataclasses

    from chalicelib.web import context

    context.use_services(dataclasses.replace(services, settings=dataclasses.replace(
        services.settings, checkin_interval=0)))
    sent = checkins(page)
    open_interview(page, "background_action_flash.yml")
    expect(question(page)).to_have_text("How much shall I add to 553?")
    assert page.locator("body").get_attribute("data-checkin-url") is None
    assert page.locator("script[src$='/static/checkin.js']").count() == 0
    page.wait_for_timeout(500)
    assert sent == []


# --- how checkin.js applies each command (crafted replies) --------------------------------------


@pytest.fixture
def replies(page: Page) -> Iterator[Callable[..., None]]:
    """Answer the page's check-ins with crafted replies: `replies(commands, code=...)` queues one.

    A reply carries the request's own checkinCode unless `code` is given; once the
    queue is empty the check-ins get no commands."""
    queue: list[tuple[list[dict[str, Any]], str | None]] = []

    def answer(route: Route) -> None:
        code = form_of(route.request).get("checkinCode", "")
        commands, forced = queue.pop(0) if queue else ([], None)
        route.fulfill(status=200, content_type="application/json", body=json.dumps(
            {"success": True, "commands": commands, "checkin_code": code if forced is None else forced}))

    page.route("**/checkin?*", answer)

    def add(commands: list[dict[str, Any]], code: str | None = None) -> None:
        queue.append((commands, code))

    yield add
    page.unroute("**/checkin?*")


def command(extra: str, value: Any) -> dict[str, Any]:
    return {"action": "bg_task", "value": value, "extra": extra}


def open_pick_things(page: Page) -> None:
    open_interview(page, "all_kinds.yml")
    page.get_by_role("button", name="Yes").click()
    page.get_by_role("button", name="No").click()
    expect(question(page)).to_have_text("Pick things")


def test_flash_is_text_a_stale_reply_is_ignored_and_a_bad_script_does_not_stop_the_rest(
        page: Page, fast_checkin: Any, replies: Callable[..., None]) -> None:
    replies([command("flash", "stale")], code="not-this-page")
    replies([command("flash", "<b>bold</b>"), command("javascript", "throw new Error('boom')"),
             command("javascript", "document.title = 'ran'"), command("flash", "after")])
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    open_interview(page, "all_kinds.yml")

    expect(flashes(page)).to_have_text(["<b>bold</b>", "after"], timeout=NOTICE_MS)
    assert page.locator("#flash b").count() == 0
    expect(page).to_have_title("ran")
    assert any("boom" in e for e in errors), errors


def test_fields_sets_every_kind_of_input(page: Page, fast_checkin: Any, replies: Callable[..., None]) -> None:
    open_pick_things(page)
    replies([command("fields", {"size": "L", "colour": "blue", "extras": ["sugar"], "agree": True,
                                "city": "Rome", "day": "2024-02-29", "note": "hi"})])

    expect(page.get_by_label("Large")).to_be_checked(timeout=NOTICE_MS)
    expect(page.get_by_label("Small")).not_to_be_checked()
    expect(page.get_by_label("Colour").locator("option:checked")).to_have_text("Blue")
    expect(page.get_by_label("Sugar")).to_be_checked()
    expect(page.get_by_label("Milk")).not_to_be_checked()
    expect(page.get_by_label("Agree")).to_be_checked()
    expect(page.get_by_label("City")).to_have_value("Rome")
    expect(page.get_by_label("Day")).to_have_value("2024-02-29")
    expect(page.get_by_label("Note")).to_have_value("hi")

    # And the next check-in reports the form's values by variable name
    with page.expect_request(lambda r: "/checkin?" in r.url, timeout=NOTICE_MS) as next_checkin:
        pass
    parameters = json.loads(form_of(next_checkin.value)["parameters"])
    # (choices as the form posts them: by position)
    assert parameters == {"_initial": False, "_changed": None, "size": "1", "colour": "1",
                          "extras": ["1"], "agree": "True", "city": "Rome", "day": "2024-02-29",
                          "note": "hi"}


@pytest.mark.parametrize("choices", [
    ["Green", "Red"],
    {"green": "Green", "red": "Red"},
    [{"green": "Green"}, {"red": "Red"}],
    [["green", "Green"], ["red", "Red"]],
    [{"value": "green", "label": "Green"}, {"value": "red", "label": "Red"}],
], ids=["strings", "dict", "one-item-dicts", "pairs", "value-label-dicts"])
def test_fields_replaces_a_dropdowns_choices(
        page: Page, fast_checkin: Any, replies: Callable[..., None], choices: Any) -> None:
    open_pick_things(page)
    value = "Red" if choices == ["Green", "Red"] else "red"
    replies([command("fields", {"colour": {"choices": choices, "value": value}})])

    colour = page.get_by_label("Colour")
    expect(colour.locator("option")).to_have_text(["Select...", "Green", "Red"], timeout=NOTICE_MS)
    expect(colour.locator("option:checked")).to_have_text("Red")


def test_backgroundresponse_fills_the_target(
        page: Page, fast_checkin: Any, replies: Callable[..., None], examples: Path) -> None:
    replies([command("backgroundresponse", {"target": "feedback", "content": "What? You like <em>PIE</em>?"})])
    open_interview(page, "target-code.yml")
    target = page.locator(".datargetfeedback")
    expect(target.locator("em")).to_have_text("PIE", timeout=NOTICE_MS)
    expect(target).to_have_text("What? You like PIE?")

    replies([command("backgroundresponse", [{"target": "feedback", "content": "<i>Yum</i>"},
                                            {"target": "nowhere", "content": "x"}])])
    expect(target.locator("i")).to_have_text("Yum", timeout=NOTICE_MS)
