"""send_email and send_sms through the REST API, the worker and moto's SES and SNS (issue 12).

Every message is counted where it lands: moto's SES keeps each raw e-mail it
accepted, and its SNS each SMS. A message must arrive exactly once, whatever
happens to the turn or task that sent it (a version conflict, a duplicate queue
message, a retried attempt).
"""

from __future__ import annotations

import dataclasses
import email
import logging
from collections.abc import Mapping, Sequence
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

import pytest

from chalicelib.local.drainer import QueueDrainer
from chalicelib.runtime.errors import SendError
from chalicelib.runtime.messenger import AwsMessenger
from chalicelib.runtime.services import Services
from chalicelib.storage.errors import StorageError
from chalicelib.storage.outbox import SendRecord
from chalicelib.storage.records import Sealed, SessionHead, StepRecord
from chalicelib.storage.tasks import Notification, TaskWrite
from tests.conftest import REGION
from tests.doubles import WrappedStore, finishes_a_task
from tests.functional.api.helpers import ok_json, plain
from tests.functional.tasks.conftest import TASK_QUEUE, Start, TaskSession
from tests.functional.tasks.test_task_guarantees import lambda_event, receive, run_tasks

ANN = {"client.name.first": "Ann", "client.email": "ann@example.com", "client.phone_number": "(650) 253-0000"}


@pytest.fixture(autouse=True)
def verified_sender(fresh_aws: dict[str, Any]) -> None:
    """SES sends only from a verified identity: DEFAULT_SENDER's domain, as the README says to do on AWS."""
    import boto3

    boto3.client("ses", region_name=REGION).verify_domain_identity(Domain="mail.localhost")


def sent_emails() -> list[EmailMessage]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    return [email.message_from_string(m.raw_data, policy=default_policy)  # type: ignore[misc]
            for m in ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages]


def sent_sms() -> list[tuple[str, str]]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sns.models import sns_backends

    return list(sns_backends[DEFAULT_ACCOUNT_ID][REGION].sms_messages.values())


def part(message: EmailMessage, subtype: str) -> str:
    body = message.get_body(preferencelist=(subtype,))
    assert body is not None, f"no text/{subtype} part in {message}"
    return str(body.get_content())


def screen_text(session: TaskSession) -> str:
    return plain(session.screen()["subquestionText"])


# ---------------------------------------------------------------------------- the examples and the basics
def test_send_email_example_sends_the_template_to_the_recipient(start: Start) -> None:
    # Given send-email.yml, answered up to its e-mail address
    session = start("send-email.yml")
    ok_json(session.set({"intro_provided": True}))
    ok_json(session.set({"recipient.name.first": "Ann", "recipient.name.last": "Lee"}))
    assert (sent_emails(), sent_sms()) == ([], [])
    ok_json(session.set({"recipient.email": "ann@example.com"}))

    # Then the screen says it was sent, and SES got one e-mail: the template's subject, text and HTML
    assert "The e-mail was sent successfully." in screen_text(session)
    (message,) = sent_emails()
    assert message["To"] == "Ann Lee <ann@example.com>"
    assert message["From"] == "noreply@mail.localhost"
    assert message["Subject"] == "Greetings, Ann Lee!"
    assert "**docassemble** interview" in part(message, "plain")
    assert "<strong>docassemble</strong> interview" in part(message, "html")


def test_a_turn_sends_one_email_and_one_sms_and_marks_the_task(start: Start) -> None:
    session = start("send_both.yml")
    ok_json(session.set(ANN))

    assert screen_text(session) == "E-mail True, SMS True, told True."
    (message,) = sent_emails()
    assert message["Subject"] == "Hello Ann"
    assert sent_sms() == [("+16502530000", "Hello Ann\nDear **Ann**, we will call (650) 253-0000.")]
    # Showing the screen again sends nothing more
    session.screen()
    assert (len(sent_emails()), len(sent_sms())) == (1, 1)


def test_values_in_the_html_part_are_escaped_as_on_screens(start: Start) -> None:
    session = start("send_both.yml")
    ok_json(session.set({**ANN, "client.name.first": '<img src=x onerror="alert(1)">'}))

    (message,) = sent_emails()
    html = part(message, "html")
    assert "<img" not in html
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html
    assert "<strong>" in html  # the author's Markdown is still HTML


@pytest.mark.parametrize(("field", "value"), [("client.email", "not an address"),
                                               ("client.email", "ann@example.com\nBcc: eve@example.com"),
                                               ("client.phone_number", "12345")])
def test_a_bad_address_or_number_gives_false_and_a_log_line(
    start: Start, field: str, value: str, caplog: pytest.LogCaptureFixture
) -> None:
    session = start("send_both.yml")
    with caplog.at_level(logging.WARNING, logger="chalicelib.interviews"):
        ok_json(session.set({**ANN, field: value}))

    email_ok, sms_ok = field != "client.email", field != "client.phone_number"
    assert screen_text(session) == f"E-mail {email_ok}, SMS {sms_ok}, told {email_ok}."
    assert (len(sent_emails()), len(sent_sms())) == (int(email_ok), int(sms_ok))
    assert any("sent nothing" in r.getMessage() for r in caplog.records)


def test_an_assembled_document_is_attached_and_a_url_is_refused(start: Start) -> None:
    session = start("send_attachment.yml")
    ok_json(session.set({"reader": "reader@example.com"}))

    assert screen_text(session) == "Sent True, URL False."
    (message,) = sent_emails()
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_filename() == "letter.pdf"
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content().startswith(b"%PDF")


# ---------------------------------------------------------------------------- exactly once
class _ConflictOnce(WrappedStore):
    """Before the first commit that records sends, another writer commits the session (a lost race)."""

    def __init__(self, inner: Any) -> None:
        super().__init__(inner)
        self.conflicts = 0

    def commit(self, before: SessionHead, after: SessionHead, put: StepRecord | None,
               delete_steps: Sequence[int] = (), extras: Mapping[str, Sealed] | None = None,
               tasks: Sequence[TaskWrite] = (), notes: Sequence[Notification] = (),
               sends: Sequence[SendRecord] = ()) -> None:
        if sends and not self.conflicts:
            self.conflicts += 1
            head, _ = self.inner.load(before.interview, before.session_id)
            self.inner.commit(head, dataclasses.replace(head, version=head.version + 1), None)
        self.inner.commit(before, after, put, delete_steps, extras, tasks, notes, sends)


def test_a_turn_that_loses_a_race_and_runs_again_sends_once(start: Start, services: Services) -> None:
    from chalicelib.web import context

    store = _ConflictOnce(services.store)
    context.use_services(dataclasses.replace(services, store=store))
    session = start("send_both.yml")
    ok_json(session.set(ANN))

    assert store.conflicts == 1
    assert screen_text(session) == "E-mail True, SMS True, told True."
    assert (len(sent_emails()), len(sent_sms())) == (1, 1)
    assert [r.status for r in services.store.list_sends(session.session)] == ["sent", "sent"]


def test_a_task_message_delivered_twice_sends_once(start: Start, fresh_aws: dict[str, Any],
                                                   fast_retries: Services) -> None:
    session = start("send_background.yml")
    ok_json(session.set({"client.email": "ann@example.com", "client.phone_number": "+44 20 7946 0958"}))
    event = lambda_event(fresh_aws["sqs"], TASK_QUEUE, receive(fresh_aws["sqs"], TASK_QUEUE))

    run_tasks(event)
    run_tasks(event)

    assert session.task()["status"] == "done"
    (message,) = sent_emails()
    assert (message["Subject"], message["To"]) == ("From the task", "ann@example.com")
    assert sent_sms() == [("+442079460958", "Sent in the background.")]


def test_a_retried_task_sends_once(start: Start, drainer: QueueDrainer, fast_retries: Services) -> None:
    from chalicelib.web import context

    # Given a worker whose first write finishing the task fails (storage throttled)
    failures: list[str] = []

    class FailsToFinishOnce(WrappedStore):
        def write_tasks(self, tasks: Sequence[TaskWrite], notes: Sequence[Notification] = (),
                        sends: Sequence[SendRecord] = ()) -> None:
            if finishes_a_task(tasks) and not failures:
                failures.append(f"{len(sends)} sends")
                raise StorageError("throttled")
            self.inner.write_tasks(tasks, notes, sends)

    context.use_services(dataclasses.replace(fast_retries, store=FailsToFinishOnce(fast_retries.store)))
    session = start("send_background.yml")
    ok_json(session.set({"client.email": "ann@example.com", "client.phone_number": "(650) 253-0000"}))

    # When the worker drains the queue (the first attempt fails, the second finishes)
    drainer.drain()

    # Then the messages of the failed attempt were never sent, and the second attempt's once
    assert failures == ["2 sends"]
    task = session.task()
    assert (task["status"], task["attempts"]) == ("done", 2)
    assert (len(sent_emails()), len(sent_sms())) == (1, 1)


# ---------------------------------------------------------------------------- failed sends
class _FlakyMessenger(AwsMessenger):
    """SES/SNS that fail `failures` times with a fault that may pass, then work."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    def send_email(self, sender: str, recipients: Sequence[str], raw: bytes) -> str:
        if self.failures:
            self.failures -= 1
            raise SendError("SES SendRawEmail refused the message: Throttling: slow down")
        return super().send_email(sender, recipients, raw)


def test_a_send_that_fails_once_is_retried_and_sent(start: Start, services: Services) -> None:
    from chalicelib.web import context

    context.use_services(dataclasses.replace(services, messenger=_FlakyMessenger(failures=1)))
    session = start("send_both.yml")
    ok_json(session.set(ANN))

    assert len(sent_emails()) == 1
    assert sorted(r.status for r in services.store.list_sends(session.session)) == ["sent", "sent"]


def test_a_send_that_keeps_failing_is_recorded_failed_and_logged(
    start: Start, services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    from chalicelib.web import context

    context.use_services(dataclasses.replace(services, messenger=_FlakyMessenger(failures=99)))
    session = start("send_both.yml")
    with caplog.at_level(logging.ERROR, logger="chalicelib.runtime.messaging"):
        ok_json(session.set(ANN))

    assert sent_emails() == []
    records = {r.kind: r for r in services.store.list_sends(session.session)}
    assert records["email"].status == "failed"
    assert "Throttling" in records["email"].reason
    assert records["sms"].status == "sent"
    assert any("could not send email" in r.getMessage() for r in caplog.records)
    # The session's task list shows the failed e-mail, with why
    (listed,) = session.tasks()
    assert (listed["action"], listed["status"]) == ("send_email", "failed")
    assert "Throttling" in listed["reason"]


def test_a_background_send_refused_by_ses_is_told_in_the_task_reason(
    start: Start, drainer: QueueDrainer, fast_retries: Services
) -> None:
    from chalicelib.web import context

    # Given DEFAULT_SENDER on a domain SES has not verified
    settings = dataclasses.replace(fast_retries.settings, default_sender="noreply@unverified.example")
    context.use_services(dataclasses.replace(fast_retries, settings=settings))
    session = start("send_background.yml")
    ok_json(session.set({"client.email": "ann@example.com", "client.phone_number": "(650) 253-0000"}))

    drainer.drain()

    task = session.task()
    assert task["status"] == "done"
    assert "not sent" in task["reason"] and "MessageRejected" in task["reason"]
    assert (len(sent_emails()), len(sent_sms())) == (0, 1)
