"""Nothing lost silently (issue 12): a send whose process died between the commit and the send.

The turn's commit records each e-mail and SMS as `pending`, with the message sealed
under the server's `outbox` sub-key. Here the process "dies" right after the commit:
the messenger raises an error no send path catches, so nothing is sent or recorded.
The hourly pass's sweep then finds the send through the sparse `by_send` index and
sends it once; the counts are moto's SES/SNS sent messages.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from chalicelib.runtime.errors import SendError
from chalicelib.runtime.messaging import SWEEP_ATTEMPTS, MessageService
from chalicelib.runtime.messenger import AwsMessenger
from chalicelib.runtime.services import Services
from chalicelib.storage.outbox import SendRecord
from tests.functional.api.helpers import Api, ok_json
from tests.functional.tasks.conftest import Start
from tests.functional.tasks.test_messaging import ANN, screen_text, sent_emails, sent_sms

LATER = 3600.0  # a sweep run this long after the commit: every hold has run out


class ProcessDied(Exception):
    """The after-commit send never happened: the process was killed (nothing catches this)."""


class _DiesOnSend(AwsMessenger):
    def send_email(self, sender: str, recipients: Sequence[str], raw: bytes) -> str:
        raise ProcessDied("killed between the commit and the send")

    def send_sms(self, number: str, text: str) -> str:
        raise ProcessDied("killed between the commit and the send")


class _AlwaysThrottled(AwsMessenger):
    def send_email(self, sender: str, recipients: Sequence[str], raw: bytes) -> str:
        raise SendError("SES SendRawEmail refused the message: Throttling: slow down")


@pytest.fixture(autouse=True)
def verified_sender(fresh_aws: dict[str, Any]) -> None:
    import boto3

    from tests.conftest import REGION

    boto3.client("ses", region_name=REGION).verify_domain_identity(Domain="mail.localhost")


@pytest.fixture
def dies_on_send(services: Services) -> Iterator[None]:
    from chalicelib.web import context

    context.use_services(dataclasses.replace(services, messenger=_DiesOnSend()))
    yield
    context.use_services(services)


def died_after_commit(start: Start, interview: str = "send_both.yml") -> str:
    """A session whose turn committed an e-mail and an SMS, then died before sending them."""
    session = start(interview)
    assert session.set(ANN).status == 500  # the request died with its process
    return session.session


def send_items(fresh_aws: dict[str, Any], session_id: str) -> list[dict[str, Any]]:
    table = fresh_aws["dynamodb"]
    reply = table.query(TableName="InterviewData", KeyConditionExpression="pk = :pk AND begins_with(sk, :s)",
                        ExpressionAttributeValues={":pk": {"S": "session#" + session_id}, ":s": {"S": "send#"}},
                        ConsistentRead=True)
    items: list[dict[str, Any]] = reply["Items"]
    return items


def sweep(services: Services, later: float = LATER) -> int:
    return MessageService(services).sweep(now=time.time() + later)


def test_a_send_left_pending_by_a_dead_process_is_sent_once_by_the_sweep(
    start: Start, services: Services, fresh_aws: dict[str, Any], dies_on_send: None
) -> None:
    # Given a turn that committed an e-mail and an SMS and died before sending them
    session_id = died_after_commit(start)
    assert (sent_emails(), sent_sms()) == ([], [])
    assert [r.status for r in services.store.list_sends(session_id)] == ["pending", "pending"]

    # When the sweep runs before the committing process's hold ran out, it leaves them alone
    assert sweep(services, later=0) == 0
    assert (sent_emails(), sent_sms()) == ([], [])

    # When it runs after the hold ran out
    assert sweep(services) == 2

    # Then each message went out once, as the turn built it
    (message,) = sent_emails()
    assert (message["Subject"], message["To"]) == ("Hello Ann", "Ann <ann@example.com>")
    assert sent_sms() == [("+16502530000", "Hello Ann\nDear **Ann**, we will call (650) 253-0000.")]
    assert [r.status for r in services.store.list_sends(session_id)] == ["sent", "sent"]

    # And a second sweep sends nothing
    assert sweep(services, later=2 * LATER) == 0
    assert (len(sent_emails()), len(sent_sms())) == (1, 1)


def test_the_pending_item_holds_the_message_sealed_and_loses_it_once_sent(
    start: Start, services: Services, fresh_aws: dict[str, Any], dies_on_send: None
) -> None:
    session_id = died_after_commit(start)

    # The pending items hold a sealed payload, and nothing the user typed in clear
    pending = send_items(fresh_aws, session_id)
    assert len(pending) == 2
    for item in pending:
        assert item["payload_seal"]["S"] == "outbox-aesgcm"
        assert {"send_shard", "send_due", "payload"} <= item.keys()
        # Its text attributes (not the random ids; numbers are times and counts) hold none of it...
        text = " ".join(value["S"] for name, value in item.items() if "S" in value and name not in ("pk", "sk"))
        for typed in ("Ann", "ann@example.com", "650", "Hello"):
            assert typed not in text
        # ...nor does the sealed payload, searched for strings too long to occur in ciphertext by chance
        for typed in (b"ann@example.com", b"Hello Ann", b"253-0000"):
            assert typed not in bytes(item["payload"]["B"])

    sweep(services)

    # Once sent, the payload and the index attributes are gone
    for item in send_items(fresh_aws, session_id):
        assert item["status"]["S"] == "sent"
        assert not {"payload", "payload_seal", "payload_s3", "send_shard", "send_due"} & item.keys()


def test_two_sweepers_racing_send_once(start: Start, services: Services, dies_on_send: None) -> None:
    session_id = died_after_commit(start)
    now = time.time() + LATER

    # Given two sweepers that both listed the same due sends
    refs = list(services.store.due_sends(now))
    assert len(refs) == 2
    # When both try to take each one
    first = [services.store.claim_send(ref, now, now + 900) for ref in refs]
    second = [services.store.claim_send(ref, now, now + 900) for ref in refs]

    # Then only the first takes them, and the original process can no longer record them
    assert all(isinstance(r, SendRecord) for r in first)
    assert second == [None, None]
    original = [r for r in services.store.list_sends(session_id)]
    assert all(r.attempts == 1 for r in original)
    stale = dataclasses.replace(original[0], attempts=0, status="sent", provider_id="x")
    assert services.store.update_send(stale) is False


def test_the_hourly_pass_runs_the_sweep(start: Start, services: Services, api: Api) -> None:
    from chalicelib.web import context

    # Given sends left pending by a process that held them for one second only
    short = dataclasses.replace(services, settings=dataclasses.replace(services.settings,
                                                                       send_sweep_after_seconds=1))
    context.use_services(dataclasses.replace(short, messenger=_DiesOnSend()))
    session_id = died_after_commit(start)
    context.use_services(short)
    due = max(r.due for r in services.store.list_sends(session_id))
    deadline = time.monotonic() + 60
    while time.time() <= due + 1 and time.monotonic() < deadline:  # the hold was set at the commit
        time.sleep(0.05)

    # When the hourly pass runs (POST /api/cron, as EventBridge's cron_hourly does)
    ok_json(api.post("/api/cron", {"type": "cron_hourly"}))

    # Then the sends went out
    assert (len(sent_emails()), len(sent_sms())) == (1, 1)
    assert [r.status for r in services.store.list_sends(session_id)] == ["sent", "sent"]


def test_a_send_that_keeps_failing_in_the_sweep_is_failed_with_its_reason(
    start: Start, services: Services, dies_on_send: None, caplog: pytest.LogCaptureFixture
) -> None:
    session = start("send_both.yml")
    assert session.set(ANN).status == 500  # died after the commit
    session_id = session.session
    throttled = dataclasses.replace(services, messenger=_AlwaysThrottled())

    with caplog.at_level(logging.WARNING, logger="chalicelib.runtime.messaging"):
        for sweep_number in range(1, SWEEP_ATTEMPTS + 1):
            sweep(throttled, later=sweep_number * LATER)
            email = next(r for r in services.store.list_sends(session_id) if r.kind == "email")
            assert email.status == ("failed" if sweep_number == SWEEP_ATTEMPTS else "pending")

    assert "Throttling" in email.reason and f"sweep attempt {SWEEP_ATTEMPTS}" in email.reason
    assert email.payload == b""
    assert any("could not send email" in r.getMessage() for r in caplog.records)
    assert sent_emails() == [] and len(sent_sms()) == 1  # the SMS went out on the first sweep
    # A failed send is never tried again
    assert sweep(services, later=10 * LATER) == 0
    # And the session's task list shows it, with the reason
    from chalicelib.web import context

    context.use_services(services)
    (listed,) = session.tasks()
    assert (listed["action"], listed["status"], listed["attempts"]) == ("send_email", "failed", SWEEP_ATTEMPTS + 1)
    assert "Throttling" in listed["reason"]


def test_a_background_tasks_send_failed_by_the_sweep_is_told_in_the_task_reason(
    start: Start, services: Services, fast_retries: Services, fresh_aws: dict[str, Any]
) -> None:
    from app import app
    from chalicelib.local.drainer import QueueDrainer
    from chalicelib.web import context

    # Given a background task whose worker died right after its finishing write
    context.use_services(dataclasses.replace(fast_retries, messenger=_DiesOnSend()))
    session = start("send_background.yml")
    ok_json(session.set({"client.email": "ann@example.com", "client.phone_number": "(650) 253-0000"}))
    QueueDrainer(app, sqs=fresh_aws["sqs"]).drain()
    assert session.task()["status"] == "done"
    assert [r.status for r in services.store.list_sends(session.session)] == ["pending", "pending"]

    # When every sweep fails to send its e-mail
    throttled = dataclasses.replace(services, messenger=_AlwaysThrottled())
    for sweep_number in range(1, SWEEP_ATTEMPTS + 1):
        sweep(throttled, later=sweep_number * LATER)

    # Then the task list says so
    task = session.task()
    assert "not sent" in task["reason"] and "Throttling" in task["reason"]
    assert screen_text(session)  # the session still opens


def test_a_payload_too_big_for_its_item_is_kept_in_s3_until_sent(services: Services, fresh_aws: dict[str, Any]) -> None:
    from chalicelib.storage.dynamodb_outbox import PAYLOAD_ITEM_LIMIT

    # Given a pending send whose sealed message is larger than an item may hold (big attachments)
    big = SendRecord("s1", "v1-0", "email", 1, "pending", time.time(), payload=b"x" * (PAYLOAD_ITEM_LIMIT + 1),
                     due=time.time() - 1)
    services.store.write_tasks([], [], [big])
    (item,) = send_items(fresh_aws, "s1")
    assert "payload" not in item and item["payload_s3"]["S"].startswith("steps/s1/send-v1-0-")

    # When the sweep takes it, it gets the whole payload back
    taken = services.store.claim_send(big_ref := next(iter(services.store.due_sends(time.time()))), time.time(),
                                      time.time() + 900)
    assert big_ref.key == "v1-0" and taken is not None and taken.payload == big.payload

    # And once recorded sent, the object is gone
    assert services.store.update_send(dataclasses.replace(taken, status="sent", provider_id="id-1"))
    listed = fresh_aws["s3"].list_objects_v2(Bucket=services.settings.blob_bucket, Prefix="steps/s1/")
    assert listed.get("KeyCount", 0) == 0


def test_a_big_payload_of_a_write_that_fails_leaves_no_object(services: Services, fresh_aws: dict[str, Any]) -> None:
    from chalicelib.storage.dynamodb_outbox import PAYLOAD_ITEM_LIMIT
    from chalicelib.storage.errors import TaskStateError

    # Given a committed big send
    big = SendRecord("s2", "task-t1-0", "email", 1, "pending", time.time(), payload=b"a" * (PAYLOAD_ITEM_LIMIT + 1),
                     due=time.time() + 900)
    services.store.write_tasks([], [], [big])
    (item,) = send_items(fresh_aws, "s2")

    # When a re-run derives the same send and its write fails (the key is taken)
    with pytest.raises(TaskStateError):
        services.store.write_tasks([], [], [dataclasses.replace(big, payload=b"b" * (PAYLOAD_ITEM_LIMIT + 1))])

    # Then the committed send's payload is untouched and the failed write left nothing behind
    listed = fresh_aws["s3"].list_objects_v2(Bucket=services.settings.blob_bucket, Prefix="steps/s2/")
    assert [o["Key"] for o in listed.get("Contents", [])] == [item["payload_s3"]["S"]]
    body = fresh_aws["s3"].get_object(Bucket=services.settings.blob_bucket, Key=item["payload_s3"]["S"])["Body"]
    assert body.read() == big.payload
