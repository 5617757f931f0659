"""Hostile and misaddressed inbound mail: refused or cut down, with a log line; nothing crashes.

Each mail goes the SES way (the mail bucket, its notification, the mail queue, the app's
`receive_mail` handler). Afterwards the mail queue and its dead-letter queue are empty
(every notification was handled, none failed), the raw mail is gone from the bucket,
and the session still works.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chalicelib.local.drainer import QueueDrainer
from chalicelib.runtime.services import Services
from chalicelib.web import context
from tests.functional.api.helpers import ok_json, plain
from tests.functional.mail.conftest import MAIL_BUCKET, MAIL_QUEUE, SesStore, mail
from tests.functional.mail.test_mail_examples import address_on
from tests.functional.tasks.conftest import Start, TaskSession, queue_depth

LOGGER = "chalicelib.runtime.mail_in"


@pytest.fixture(autouse=True)
def _needs_examples(examples: Path) -> None:
    """The receiving session is email-to-case-simple.yml from ../shared/examples."""


@pytest.fixture
def session(start: Start) -> TaskSession:
    """An email-to-case-simple.yml session, multi-user (so it receives mail), showing its address."""
    session = start("email-to-case-simple.yml")
    ok_json(session.set({"multi_user": True}))
    ok_json(session.set({"intro_seen": True}))
    return session


@pytest.fixture
def logged(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    with caplog.at_level(logging.INFO, logger=LOGGER):
        yield caplog


def mails_of(session: TaskSession) -> list[dict[str, Any]]:
    (address,) = context.sessions().mail_port(session.session).addresses()
    return list(address.mails)


def table_items(fresh_aws: dict[str, Any]) -> list[dict[str, Any]]:
    return list(fresh_aws["dynamodb"].scan(TableName="InterviewData")["Items"])


def assert_all_handled(fresh_aws: dict[str, Any]) -> None:
    assert queue_depth(fresh_aws["sqs"], MAIL_QUEUE) == 0
    assert queue_depth(fresh_aws["sqs"], MAIL_QUEUE + "-dlq") == 0
    assert fresh_aws["s3"].list_objects_v2(Bucket=MAIL_BUCKET).get("KeyCount", 0) == 0


def messages(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(r.getMessage() for r in caplog.records)


def test_mail_to_unknown_addresses_changes_nothing(
    session: TaskSession, drainer: QueueDrainer, ses_store: SesStore, fresh_aws: dict[str, Any],
    logged: pytest.LogCaptureFixture,
) -> None:
    # Given: a session with an address, and everything stored so far
    before = table_items(fresh_aws)

    # When: mails come for an address nobody made, another domain, and no recipient at all
    ses_store(mail("abcdefghij@mail.localhost", subject="Unknown"))
    ses_store(mail("someone@example.org", subject="Elsewhere"))
    ses_store(b"Subject: nobody\r\n\r\nno recipient\r\n")
    drainer.drain()

    # Then: nothing was written, each drop was logged, and the session lists no mail
    assert table_items(fresh_aws) == before
    text = messages(logged)
    assert "abcdefghij@mail.localhost dropped: no such address" in text
    assert text.count("names no address on mail.localhost") == 2
    assert mails_of(session) == []
    assert_all_handled(fresh_aws)


def test_mail_to_a_deleted_sessions_address_is_dropped(
    session: TaskSession, drainer: QueueDrainer, ses_store: SesStore, fresh_aws: dict[str, Any],
    logged: pytest.LogCaptureFixture,
) -> None:
    # Given: a session's address, then the session deleted through the API
    address = address_on(session.screen())
    deleted = session.api.delete(f"/api/session?{session.query()}")
    assert deleted.status in (200, 204), deleted.body

    # When: a mail comes for the address
    ses_store(mail(address, subject="Too late"))
    drainer.drain()

    # Then: the address went with the session: the mail is dropped as unknown, and nothing is left of either
    assert "dropped: no such address" in messages(logged)
    assert [i for i in table_items(fresh_aws) if session.session in str(i["pk"])] == []
    assert [i for i in table_items(fresh_aws) if i["pk"]["S"].startswith("mailaddr#")] == []
    assert_all_handled(fresh_aws)


def test_huge_headers_are_refused_with_a_log_line(
    session: TaskSession, drainer: QueueDrainer, ses_store: SesStore, fresh_aws: dict[str, Any],
    logged: pytest.LogCaptureFixture,
) -> None:
    # Given: a mail to the session whose header section is 100 KB (over MAIL_MAX_HEADER_BYTES, 64 KB)
    address = address_on(session.screen())
    padding = "".join(f"X-Padding-{n}: {'y' * 990}\r\n" for n in range(100))
    raw = f"To: {address}\r\nSubject: Big\r\n{padding}\r\nbody\r\n".encode()

    # When: it arrives
    ses_store(raw)
    drainer.drain()

    # Then: it is refused, saying why; the session got nothing and still shows its screen
    assert "MAIL_MAX_HEADER_BYTES=65536" in messages(logged)
    assert mails_of(session) == []
    assert session.screen()["questionText"] == "E-mails sent to case"
    assert_all_handled(fresh_aws)


def test_a_thousand_attachments_are_cut_to_the_limit_with_a_log_line(
    session: TaskSession, drainer: QueueDrainer, ses_store: SesStore, fresh_aws: dict[str, Any],
    logged: pytest.LogCaptureFixture,
) -> None:
    # Given: a mail to the session with 1,000 small attachments
    address = address_on(session.screen())
    raw = mail(address, subject="Many files", attachments=tuple((f"f{n}.txt", b"x") for n in range(1000)))

    # When: it arrives
    ses_store(raw)
    drainer.drain()

    # Then: the mail is recorded with the first 20 (MAIL_MAX_ATTACHMENTS), and the cut is logged
    (received,) = mails_of(session)
    assert received["subject"] == "Many files"
    assert [a["filename"] for a in received["attachments"]] == [f"f{n}.txt" for n in range(20)]
    assert "980 attachment(s) past MAIL_MAX_ATTACHMENTS=20 were dropped" in messages(logged)
    assert "Many files" in plain(session.screen()["subquestionText"])
    assert_all_handled(fresh_aws)


@pytest.mark.parametrize("raw_template", [
    # not a mail at all
    b"\x00\xff\xfe garbage \x00 without headers",
    # a multipart whose boundary never comes, and a broken base64 part
    b"To: {to}\r\nSubject: broken\r\nContent-Type: multipart/mixed; boundary=\"zz\"\r\n\r\n"
    b"no boundary here\r\n--zz\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n"
    b"Content-Disposition: attachment; filename=\"x.pdf\"\r\n\r\n!!!not base64!!!\r\n",
    # a header that is not a header, an undecodable charset, an encoded word that is not one
    b"To: {to}\r\nSubject: =?unknown-8bit?Q?=FF=FE?=\r\nbroken header line\r\n"
    b"Content-Type: text/plain; charset=\"no-such-charset\"\r\n\r\n\xff\xfe body\r\n",
    # multiparts nested 3,000 deep
    b"To: {to}\r\nSubject: deep\r\n" + b"".join(
        b"Content-Type: multipart/mixed; boundary=\"b%d\"\r\n\r\n--b%d\r\n" % (n, n) for n in range(3000)),
], ids=["garbage", "missing-boundary", "bad-headers", "deep-nesting"])
def test_malformed_mime_is_refused_or_read_without_a_crash(
    raw_template: bytes, session: TaskSession, drainer: QueueDrainer, ses_store: SesStore,
    fresh_aws: dict[str, Any], logged: pytest.LogCaptureFixture,
) -> None:
    # Given: a malformed mail to the session's address
    address = address_on(session.screen())

    # When: it arrives
    ses_store(raw_template.replace(b"{to}", address.encode()))
    drainer.drain()

    # Then: it was handled (delivered as far as it could be read, or refused), logged, and nothing failed
    assert any(r.name == LOGGER for r in logged.records), "no log line about the mail"
    assert not any(r.levelno >= logging.ERROR for r in logged.records), messages(logged)
    assert len(mails_of(session)) <= 1
    assert session.screen()["questionText"] == "E-mails sent to case"
    assert_all_handled(fresh_aws)


def test_a_mail_over_the_size_limit_is_refused(
    session: TaskSession, drainer: QueueDrainer, ses_store: SesStore, fresh_aws: dict[str, Any],
    fast_retries: Services, logged: pytest.LogCaptureFixture,
) -> None:
    # Given: MAIL_MAX_BYTES of 4 KB, and a 10 KB mail to the session
    small = dataclasses.replace(fast_retries.settings, mail_max_bytes=4096)
    context.use_services(dataclasses.replace(fast_retries, settings=small))
    address = address_on(session.screen())

    # When: it arrives
    ses_store(mail(address, subject="Large", body="z" * 10_000))
    drainer.drain()

    # Then: it is refused, saying why, and the session has no mail
    assert "more than MAIL_MAX_BYTES=4096" in messages(logged)
    assert mails_of(session) == []
    assert_all_handled(fresh_aws)


def test_a_queue_message_that_is_not_a_notification_is_dropped_with_a_log_line(
    services: Services, caplog: pytest.LogCaptureFixture,
) -> None:
    # Given: the mail handler, and messages on its queue that are not SES receipt notifications
    from chalicelib.runtime.mail_in import MailIn, handle_sqs_event

    event = {"Records": [{"messageId": str(n), "body": body} for n, body in enumerate(
        ["not json", "[1, 2]", '{"Records": [{"eventName": "ObjectCreated:Put"}]}',
         '{"notificationType": "Received", "receipt": {"action": {"type": "S3", "bucketName": "interview-mail"}}}',
         '{"notificationType": "Received", "receipt": {"recipients": [], "action": {"type": "SNS"}}}'])]}

    # When: they are handled
    with caplog.at_level(logging.INFO, logger=LOGGER):
        result = handle_sqs_event(MailIn(context.sessions()), event)

    # Then: each is dropped (none comes back), saying why
    assert result == {"batchItemFailures": []}
    assert messages(caplog).count("not JSON") == 1
    assert messages(caplog).count("not an SES receipt notification") == 2
    assert "names no stored mail or no recipients" in messages(caplog)
    assert "not the notification of an S3 action" in messages(caplog)
