"""Fixtures for inbound mail: the task fixtures (drainer, start) and a way to deliver a raw mail as SES does.

`ses_store(raw, recipients)` does what SES's receipt rule does: it puts a raw message
into the mail bucket under a random key and publishes SES's notification, with the
envelope's recipients (by default the mail's To and Cc), to the mail topic (moto's SNS),
which puts it on the mail queue; `drainer.drain()` feeds it to the app's `receive_mail`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses
from typing import Any

import pytest

from tests.conftest import Api
from tests.functional.tasks.conftest import Start, TaskSession, _empty_moto_afterwards, drainer, fast_retries  # noqa: F401

MAIL_BUCKET = "interview-mail"
MAIL_QUEUE = "interview-mail"

SesStore = Callable[..., str]


@pytest.fixture
def start(api: Api) -> Start:
    """A new session through the API; a multi_user one (unencrypted) has no secret."""
    def start_session(interview: str) -> TaskSession:
        data = api.new_session(interview)
        return TaskSession(api, interview, data["session"], data.get("secret") or "")

    return start_session


@pytest.fixture
def ses_store(fresh_aws: dict[str, Any]) -> SesStore:
    import boto3

    from chalicelib.local.ses_receipt import SesReceipt
    from chalicelib.runtime.mail_bucket import S3MailBucket
    from tests.conftest import REGION

    receipt = SesReceipt(S3MailBucket(MAIL_BUCKET, client=fresh_aws["s3"]), boto3.client("sns", region_name=REGION))

    def store(raw: bytes, recipients: Sequence[str] | None = None) -> str:
        if recipients is None:  # what a sending server puts in RCPT TO for a mail without Bcc
            parsed = BytesParser(policy=policy.default).parsebytes(raw, headersonly=True)
            recipients = [a for _, a in getaddresses([str(v) for v in parsed.get_all("To", []) +
                                                      parsed.get_all("Cc", [])]) if a]
        return receipt.receive(raw, recipients, "sam@example.com")

    return store


def mail(to: str, subject: str = "Hello", body: str = "The body.", sender: str = "Sam Sender <sam@example.com>",
         attachments: tuple[tuple[str, bytes], ...] = (), html: str | None = None) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Reply-To"] = "replies@example.com"
    message.set_content(body)
    if html is not None:
        message.add_alternative(html, subtype="html")
    for filename, data in attachments:
        message.add_attachment(data, maintype="application", subtype="octet-stream", filename=filename)
    return bytes(message)
