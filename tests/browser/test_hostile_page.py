"""Hostile answers in a real browser: no dialog ever fires, and the pages keep to their
Content-Security-Policy while everything still works (the check-in, `js show if`).

Uses tests/fixtures/interviews/every_sink.yml, which shows its `name` answer (and the
`planted` URL argument) in every place a screen has, fills a [TARGET] on check-in,
and logs a flash message.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import CHECKIN_INTERVAL_MS

pytestmark = pytest.mark.browser

PAYLOADS = [
    "<img src=x onerror=alert(1)>",
    '"><script>alert(2)</script>',
    "*hi*{: onmouseover=alert(3) } [x](javascript:alert(4))",
    "<svg onload=alert(5)>",
    "' onfocus='alert(6)' autofocus='",
    '" onmouseover="alert(7)" x="',
]


def test_hostile_answers_fire_no_dialog_anywhere(page: Page, fast_checkin: Any) -> None:
    dialogs: list[str] = []
    violations: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)
    for payload in PAYLOADS:
        # Given the payload as a URL argument and as the answer to the first question
        response = page.goto(f"/interview?i=every_sink.yml&new_session=1&planted={quote(payload, safe='')}")
        assert response is not None
        assert "script-src 'self' 'unsafe-eval'" in response.headers["content-security-policy"]
        confirm = page.get_by_role("button", name="Start a new session")
        if confirm.count():  # a browser that holds a session is asked before it is replaced
            confirm.click()
        page.get_by_label("Name").fill(payload)
        page.get_by_role("button", name="Continue").click()

        # When the next screen shows it everywhere and checks in (filling the [TARGET])
        expect(page.get_by_role("heading", level=1)).to_contain_text(payload.strip())
        page.get_by_label("b").check()
        expect(page.locator(".datargetfeedback")).to_contain_text(f"T {payload.strip()}",
                                                                  timeout=10 * CHECKIN_INTERVAL_MS)
        page.get_by_text("Help", exact=True).click()
        page.hover(".note em")
        for link in page.locator("#question a").all():  # none: the payload is text
            link.click()

        # Then the payload is plain text in the flash, and nothing ran
        expect(page.locator("#flash .alert")).to_contain_text(payload.strip())
    assert dialogs == []
    assert violations == []
