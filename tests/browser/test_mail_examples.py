"""email-to-case.yml in a real browser: the page shows the address, a mail arrives, Refresh shows it.

The mail is stored in the mail bucket and announced on the mail topic as SES does; the
worker (run from the test thread, holding APP_LOCK) hands the notification to the app's
mail handler and then runs the session's incoming_email event.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import boto3
import pytest
from playwright.sync_api import Page, expect

from chalicelib.local.ses_receipt import SesReceipt
from chalicelib.runtime.mail_bucket import S3MailBucket
from tests.browser.conftest import APP_LOCK, Worker
from tests.conftest import REGION
from tests.functional.mail.conftest import MAIL_BUCKET, mail

pytestmark = pytest.mark.browser


def test_a_mail_sent_to_the_shown_address_appears_after_refresh(
        page: Page, worker: Worker, fresh_aws: dict[str, Any], examples: Path) -> None:
    # Given the waiting screen of email-to-case.yml, showing the session's address
    page.goto("/interview?i=email-to-case.yml")
    expect(page.get_by_role("heading", level=1)).to_have_text("E-mailing to the interview")
    page.get_by_role("button", name="Continue", exact=True).click()
    expect(page.locator(".subquestion")).to_contain_text("Send an e-mail to:")
    found = re.search(r"[a-z]{10}@mail\.localhost", page.locator(".subquestion").inner_text())
    assert found, page.content()

    # When a mail to it arrives through SES's bucket and notification, and the worker runs
    with APP_LOCK:
        receipt = SesReceipt(S3MailBucket(MAIL_BUCKET, client=fresh_aws["s3"]), boto3.client("sns", region_name=REGION))
        receipt.receive(mail(found.group(0), subject="Court date moved", body="See you then."), [found.group(0)])
    assert worker.drain() >= 2  # the notification, then the incoming_email task

    # Then Refresh shows the mail the incoming_email event saved
    page.get_by_role("button", name="Refresh").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("E-mails received")
    expect(page.locator(".subquestion")).to_contain_text("Subject: Court date moved")
    expect(page.locator(".subquestion")).to_contain_text("Body text: See you then.")
