"""docassemble's e-mail-to-case examples run unmodified through the REST API, SES's mail path and the worker.

A mail is stored in the mail bucket as SES's receipt rule stores it (`ses_store`); the
bucket's notification goes to the mail queue, and `drainer.drain()` feeds it to the
app's `receive_mail` handler, then the incoming_email task to the worker.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from chalicelib.local.drainer import QueueDrainer
from tests.functional.api.helpers import ok_json, plain
from tests.functional.mail.conftest import SesStore, mail
from tests.functional.tasks.conftest import Start, TaskSession

ADDRESS = re.compile(r"\b([a-z]{10})@mail\.localhost\b")


@pytest.fixture(autouse=True)
def _needs_examples(examples: Path) -> None:
    """Every test here runs an example from ../shared/examples (skips, saying why, when absent)."""


def address_on(screen: dict[str, Any]) -> str:
    found = ADDRESS.findall(plain(screen["subquestionText"]))
    assert len(set(found)) == 1, screen["subquestionText"]
    return f"{found[0]}@mail.localhost"


def past_intro(session: TaskSession) -> dict[str, Any]:
    intro = session.screen()
    assert intro["questionText"] == "E-mailing to the interview"
    return ok_json(session.set({"intro_seen": True}))


# ---------------------------------------------------------------------------- email-to-case-simple.yml
def test_simple_example_lists_the_subject_of_a_mail_sent_to_its_address(
    start: Start, drainer: QueueDrainer, ses_store: SesStore
) -> None:
    # Given: an email-to-case-simple.yml session made multi-user (unencrypted) through the API, past its intro
    session = start("email-to-case-simple.yml")
    ok_json(session.set({"multi_user": True}))
    screen = past_intro(session)
    assert screen["questionText"] == "E-mails sent to case"
    address = address_on(screen)

    # Then: the address is the same on each view, and no mail is listed yet
    again = session.screen()
    assert address_on(again) == address
    assert "Subject lines" not in plain(again["subquestionText"])

    # When: two mails reach the address through SES's bucket and the mail queue
    ses_store(mail(address, subject="First case mail"))
    ses_store(mail(address, subject="Second case mail"))
    drainer.drain()

    # Then: Refresh lists both subjects, in the order received, under the address's short code
    text = plain(session.screen()["subquestionText"])
    short = address.split("@")[0]
    assert f"Subject lines of all e-mails sent to {short}:" in text
    assert text.index("First case mail") < text.index("Second case mail")


def test_simple_example_drops_mail_to_an_encrypted_session_with_a_log_line(
    start: Start, drainer: QueueDrainer, ses_store: SesStore, caplog: pytest.LogCaptureFixture
) -> None:
    # Given: an email-to-case-simple.yml session as it is (encrypted: not multi_user)
    session = start("email-to-case-simple.yml")
    address = address_on(past_intro(session))
    before = session.answers()

    # When: a mail reaches its address
    with caplog.at_level(logging.WARNING, logger="chalicelib.runtime.mail_in"):
        ses_store(mail(address, subject="Secret"))
        drainer.drain()

    # Then: it is dropped, saying why, and the session is as it was
    assert any("encrypted" in r.getMessage() and "multi_user" in r.getMessage() for r in caplog.records)
    assert "Secret" not in plain(session.screen()["subquestionText"])
    assert session.answers() == before


# ---------------------------------------------------------------------------- email-to-case.yml
def test_case_example_runs_incoming_email_and_saves_the_mail_through_the_callback(
    start: Start, drainer: QueueDrainer, ses_store: SesStore
) -> None:
    # Given: an email-to-case.yml session (multi_user) waiting for mail at its address
    session = start("email-to-case.yml")
    waiting = past_intro(session)
    assert "Send an e-mail to:" in plain(waiting["subquestionText"])
    address = address_on(waiting)

    # When: a mail with a text body and an attachment arrives
    ses_store(mail(address, subject="Lease dispute", body="Please see the lease.",
                   attachments=(("lease.txt", b"The lease text."),)))
    drainer.drain()

    # Then: its incoming_email event ran in the background; its callback saved the mail, shown on all_done
    final = session.screen()
    assert final["questionText"] == "E-mails received"
    text = plain(final["subquestionText"])
    assert "Subject: Lease dispute" in text
    assert f"To: {address}" in text
    assert "From: Sam Sender <sam@example.com>" in text
    assert "Reply to: replies@example.com" in text
    assert "Body text: Please see the lease." in text
    assert "Attachment: lease.txt" in text
    (task,) = session.tasks()
    assert (task["action"], task["status"], task["attempts"]) == ("incoming_email", "done", 1)

    # And: the attachment downloads through the API
    url = attachment_url(session, address.split("@")[0])
    download = session.api.get(url)
    assert download.status == 200, download.body
    assert download.body == b"The lease text."


def attachment_url(session: TaskSession, short: str) -> str:
    """The download address of the one attachment of the one mail on `short` (DAEmailAttachment.url)."""
    from chalicelib.web import context

    port = context.sessions().mail_port(session.session)
    (address,) = [a for a in port.addresses() if a.short == short]
    (mail_summary,) = address.mails
    (attachment,) = mail_summary["attachments"]
    assert attachment["url"].endswith(f"&file={quote(attachment['file'])}")
    return str(attachment["url"])


def test_a_redelivered_notification_delivers_the_mail_once(
    start: Start, drainer: QueueDrainer, fresh_aws: dict[str, Any], ses_store: SesStore
) -> None:
    # Given: an email-to-case.yml session waiting for mail, and a mail stored in the bucket
    session = start("email-to-case.yml")
    address = address_on(past_intro(session))
    key = ses_store(mail(address, subject="Once"))
    notification = fresh_aws["sqs"].receive_message(
        QueueUrl=fresh_aws["sqs"].get_queue_url(QueueName="interview-mail")["QueueUrl"])["Messages"][0]["Body"]

    # When: the same notification is handled twice before the first is deleted (SQS's at-least-once)
    from chalicelib.runtime.mail_in import MailIn
    from chalicelib.web import context

    handler = MailIn(context.sessions())
    bucket_copy = fresh_aws["s3"].get_object(Bucket="interview-mail", Key=key)["Body"].read()
    handler.handle(notification)
    fresh_aws["s3"].put_object(Bucket="interview-mail", Key=key, Body=bucket_copy)  # still there on redelivery
    handler.handle(notification)
    drainer.drain()

    # Then: one mail is recorded and one incoming_email task ran
    tasks = session.tasks()
    assert [(t["action"], t["status"]) for t in tasks] == [("incoming_email", "done")]
    port = context.sessions().mail_port(session.session)
    assert [len(a.mails) for a in port.addresses()] == [1]


def test_a_session_address_only_in_bcc_receives_the_mail(
    start: Start, drainer: QueueDrainer, ses_store: SesStore
) -> None:
    # Given: two email-to-case.yml sessions waiting for mail
    first, second = start("email-to-case.yml"), start("email-to-case.yml")
    to_address, bcc_address = address_on(past_intro(first)), address_on(past_intro(second))

    # When: one mail comes To the first and Bcc the second: one stored object, both in the envelope
    raw = mail(to_address, subject="Blind copy")
    assert bcc_address not in raw.decode()
    ses_store(raw, [to_address, bcc_address])
    drainer.drain()

    # Then: both sessions got it, and ran their incoming_email event
    from chalicelib.web import context

    for session in (first, second):
        assert [(t["action"], t["status"]) for t in session.tasks()] == [("incoming_email", "done")]
        (address,) = context.sessions().mail_port(session.session).addresses()
        assert [m["subject"] for m in address.mails] == ["Blind copy"]


def test_only_the_envelopes_recipients_receive_the_mail(
    start: Start, drainer: QueueDrainer, ses_store: SesStore
) -> None:
    # Given: two sessions; a mail whose To names both, but whose envelope (this copy) is for the second only
    first, second = start("email-to-case.yml"), start("email-to-case.yml")
    first_address, second_address = address_on(past_intro(first)), address_on(past_intro(second))
    ses_store(mail(f"{first_address}, {second_address}", subject="Split"), [second_address])
    drainer.drain()

    # Then: only the second session has it
    assert first.tasks() == []
    assert [t["action"] for t in second.tasks()] == ["incoming_email"]
