"""send-email.yml in a real browser: the user's answers reach SES (moto) as one e-mail."""

from __future__ import annotations

import email
from email.message import EmailMessage
from email.policy import default as default_policy
from email.utils import parseaddr
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import REGION

pytestmark = pytest.mark.browser


def _sent_emails() -> list[EmailMessage]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    return [email.message_from_string(m.raw_data, policy=default_policy)  # type: ignore[misc]
            for m in ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages]


def test_send_email_sends_one_email_to_the_address_typed(page: Page, server: str, examples: Path,
                                                         fresh_aws: dict[str, Any]) -> None:
    import boto3

    boto3.client("ses", region_name=REGION).verify_domain_identity(Domain="mail.localhost")
    continue_button = page.get_by_role("button", name="Continue", exact=True)

    page.goto("/interview?i=send-email.yml")
    expect(page.get_by_role("heading", level=1)).to_have_text("E-mail test")
    continue_button.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("What is your e-mail address?")
    page.get_by_label("E-mail").fill("ann@example.com")
    continue_button.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("What is your name?")
    page.get_by_label("First Name").fill("Ann")
    page.get_by_label("Last Name").fill("<b>Lee</b>")
    continue_button.click()

    expect(page.locator(".subquestion")).to_contain_text("The e-mail was sent successfully.")
    (message,) = _sent_emails()
    assert parseaddr(str(message["To"])) == ("Ann <b>Lee</b>", "ann@example.com")
    assert message["Subject"] == "Greetings, Ann <b>Lee</b>!"
    html_part = message.get_body(preferencelist=("html",))
    assert html_part is not None
    html = str(html_part.get_content())
    assert "&lt;b&gt;Lee&lt;/b&gt;" in html and "<b>Lee" not in html
    # Reloading the last page sends nothing more
    page.reload()
    expect(page.locator(".subquestion")).to_contain_text("The e-mail was sent successfully.")
    assert len(_sent_emails()) == 1
