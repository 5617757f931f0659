"""docassemble's cron.yml and alarm-clock.yml in a real browser: a scheduled pass changes the
session the user filled in (issue 11). The pass is started as its schedule would start it, and the worker is drained
between page actions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import APP_LOCK, Worker

pytestmark = pytest.mark.browser


def test_each_hourly_pass_counts_on_the_page_after_refresh(page: Page, services: Any, worker: Worker,
                                                            examples: Path) -> None:
    from chalicelib.runtime.cron import Cron
    from chalicelib.runtime.sessions import Sessions

    # Given: the counter page of cron.yml
    page.goto("/interview?i=cron.yml")
    counter = page.get_by_role("heading", level=1)
    expect(counter).to_have_text("The value of the counter is 0.")

    for expected in (1, 2):
        # When: the hourly pass runs and its work is done
        with APP_LOCK:
            assert Cron(Sessions(services)).scheduled_pass("cron_hourly") == 1
        assert worker.drain() == 1

        # Then: the user's Refresh button shows the new count
        page.get_by_role("button", name="Refresh").click()
        expect(counter).to_have_text(f"The value of the counter is {expected}.")


def test_alarm_clock_is_answered_in_the_browser_and_its_hourly_pass_counts(
        page: Page, services: Any, worker: Worker, examples: Path) -> None:
    import datetime

    from chalicelib.runtime.cron import Cron
    from chalicelib.runtime.sessions import SessionRef, Sessions

    # Given: alarm-clock.yml answered in the browser, waking an hour from now (UTC)
    page.goto("/interview?i=alarm-clock.yml")
    page.get_by_label("E-mail").fill("sleeper@example.com")
    page.get_by_role("button", name="Continue").click()
    wake = (datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1)).strftime("%H:%M")
    page.get_by_label("Time").fill(wake)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Time zone").select_option("UTC")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Good night!")

    # When: the hourly pass runs and its work is done
    with APP_LOCK:
        assert Cron(Sessions(services)).scheduled_pass("cron_hourly") == 1
    assert worker.drain() == 1

    # Then: the session's counter moved (it is not time to send the e-mail yet)
    (head,) = list(services.store.list_heads("alarm-clock.yml"))
    answers = Sessions(services).read(SessionRef("alarm-clock.yml", head.session_id, None)).answers
    assert answers["counter"] == 2 and answers["email_sent"] is False
