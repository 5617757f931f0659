"""Fixtures for inbound mail: the task fixtures (drainer, start) and a way to deliver a raw mail as SES does.

`ses_store(raw)` puts a raw message into the mail bucket under a random key, as SES's
receipt rule does; the bucket's notification (moto's) puts a message on the mail
queue, which `drainer.drain()` feeds to the app's `receive_mail` handler.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from email.message import EmailMessage
from typing import Any

import pytest

from tests.conftest import Api
from tests.functional.tasks.conftest import Start, TaskSession, _empty_moto_afterwards, drainer, fast_retries  # noqa: F401

MAIL_BUCKET = "interview-mail"
MAIL_QUEUE = "interview-mail"

SesStore = Callable[[bytes], str]


@pytest.fixture
def start(api: Api) -> Start:
    """A new session through the API; a multi_user one (unencrypted) has no secret."""
    def start_session(interview: str) -> TaskSession:
        data = api.new_session(interview)
        return TaskSession(api, interview, data["session"], data.get("secret") or "")

    return start_session


@pytest.fixture
def ses_store(fresh_aws: dict[str, Any]) -> SesStore:
    def store(raw: bytes) -> str:
        key = uuid.uuid4().hex
        fresh_aws["s3"].put_object(Bucket=MAIL_BUCKET, Key=key, Body=raw)
        return key

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
