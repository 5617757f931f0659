"""The rest of docassemble's background-task examples in a real browser.

These examples poll with `reload:` (every 10 s) or `command('wait')` rather than a
UI notification. Each test answers the first screen, sees the waiting screen and
its self-refresh, runs the SQS worker from the test thread (`worker.drain()`),
then reloads the page as its timer would and checks the final screen.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Worker

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("fast_checkin")]


def _answer_number(page: Page, name: str, value: str, label: str = "Number") -> None:
    page.goto(f"/interview?i={name}")
    page.get_by_label(label).fill(value)
    page.get_by_role("button", name="Continue").click()


def _refresh_seconds(page: Page) -> str | None:
    tag = page.locator('meta[http-equiv="refresh"]')
    return tag.get_attribute("content") if tag.count() else None


@pytest.mark.parametrize("name", ["background_action.yml", "background_action_with_response_action.yml",
                                  "background_action_test_timing.yml"])
def test_the_answer_appears_after_the_worker_runs(page: Page, worker: Worker, name: str) -> None:
    # Given the number to add is answered
    _answer_number(page, name, "5")
    # Then the waiting screen shows and refreshes itself every 10 seconds
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hang tight.")
    assert _refresh_seconds(page) == "10"
    # When the worker runs the task and the page refreshes
    assert worker.drain() >= 1
    page.reload()
    # Then the answer is shown
    expect(page.get_by_role("heading", level=1)).to_have_text("The answer is 558.")
    assert _refresh_seconds(page) is None


def test_background_error_action_shows_the_error_details(page: Page, worker: Worker) -> None:
    _answer_number(page, "background-error-action.yml", "5")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hang tight.")
    worker.drain()
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text("There was an error.")
    text = page.locator(".subquestion").inner_text()
    assert "Failure at the calculation stage due to a ZeroDivisionError error." in text
    assert "handled_error" in text and "division by zero" in text
    assert 'File "background-error-action.yml", line 31' in text
    assert "chalicelib" not in text


@pytest.mark.parametrize(("numerator", "denominator", "result"), [("1", "0", "There was an error."),
                                                                  ("6", "3", "The result was 2.0.")])
def test_background_error_action_demo_reports_success_or_failure(page: Page, worker: Worker, numerator: str,
                                                                 denominator: str, result: str) -> None:
    page.goto("/interview?i=background-error-action-demo.yml")
    page.get_by_label("Numerator").fill(numerator)
    page.get_by_label("Denominator").fill(denominator)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Waiting for result...")
    worker.drain()
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text("Result of task")
    expect(page.locator(".subquestion")).to_have_text(result)


def test_background_action_object_waits_then_answers(page: Page, worker: Worker) -> None:
    # Given the number is answered, BackgroundAction.run() shows its "please wait" page
    _answer_number(page, "background_action_object.yml", "5")
    expect(page.get_by_role("heading", level=1)).to_have_text("Please wait")
    assert _refresh_seconds(page) == "4"
    # When the worker has run, the page's own refresh shows the answer
    worker.drain()
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text("The answer is 558.")


def test_assemble_in_background_offers_the_letter_for_download(page: Page, worker: Worker) -> None:
    # Given the sweetheart's name is answered, the page waits for the document
    _answer_number(page, "assemble-in-background.yml", "Zoë", label="Name")
    expect(page.get_by_role("heading", level=1)).to_have_text("Please wait...")
    # When the worker assembles it, the 'refresh' notification reloads the page by itself
    assert worker.drain() == 1
    expect(page.get_by_role("heading", level=1)).to_have_text("Document created", timeout=10_000)
    expect(page.locator(".subquestion")).to_contain_text("send it to Zoë immediately")
    expect(page.locator(".document-name")).to_have_text("A letter")
    # Then both formats download, as files named after the attachment
    for fmt, magic in (("PDF", b"%PDF-"), ("DOCX", b"PK")):
        with page.expect_download() as waiting:
            page.get_by_role("link", name=fmt).click()
        download = waiting.value
        assert download.suggested_filename == f"letter.{fmt.lower()}"
        path = download.path()
        assert path is not None
        with open(path, "rb") as handle:
            assert handle.read(5).startswith(magic)
    assert re.search(r"/interview/file/[0-9a-f]{32}/letter\.pdf", page.get_by_role("link", name="PDF")
                     .get_attribute("href") or "")
