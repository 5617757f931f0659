"""The promises of background tasks (docs/architecture.md, "Background tasks"; chalicelib/runtime/tasks.py).

a. a duplicate delivery never applies a callback twice;
b. a task whose worker died is reclaimed after its lease, and the sweep resends
   tasks whose message is gone;
c. a task whose code raises fails at once (no retry, no dead letter), and the
   interview sees why; one the worker never finishes is failed from the dead-letter queue;
d. one message whose storage fails in a batch fails alone (batchItemFailures);
e. the queue message is sent only after the turn that started the task committed;
f. a callback racing the user's own answers loses neither side's changes;
g. neither the queue message nor the stored task holds the secret or the
   arguments in clear;
h. a revoked task never runs, and one revoked while it runs applies no callback.

The worker is the app's real SQS handler, fed by moto's SQS (`drainer`) or
called directly with a Lambda SQS event.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
import time
import zlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pytest

from chalicelib.local.drainer import QueueDrainer
from chalicelib.runtime.services import Services
from chalicelib.runtime.sessions import SessionRef, Sessions
from chalicelib.storage import crypto
from chalicelib.storage.errors import StorageError
from chalicelib.storage.records import Sealed, SessionHead, StepRecord
from chalicelib.storage.tasks import Notification, TaskRecord, TaskWrite
from tests.conftest import REGION
from tests.doubles import WrappedStore, claims_a_task, finishes_a_task
from tests.functional.api.helpers import ok_json, plain
from tests.functional.tasks.conftest import (
    DEAD_LETTER_QUEUE,
    TASK_QUEUE,
    Start,
    TaskSession,
    queue_depth,
    queue_url,
    source,
)

# ---------------------------------------------------------------------------- helpers


def receive(sqs: Any, queue: str, count: int = 1) -> list[dict[str, Any]]:
    """Receive exactly `count` messages from the queue (as a worker would), leaving them in flight."""
    url = queue_url(sqs, queue)
    messages: list[dict[str, Any]] = []
    for _ in range(10):
        response = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"])
        messages += response.get("Messages", [])
        if len(messages) >= count:
            break
    assert len(messages) == count, messages
    return messages


def make_visible(sqs: Any, queue: str, message: dict[str, Any]) -> None:
    sqs.change_message_visibility(QueueUrl=queue_url(sqs, queue), ReceiptHandle=message["ReceiptHandle"],
                                  VisibilityTimeout=0)


def delete(sqs: Any, queue: str, message: dict[str, Any]) -> None:
    sqs.delete_message(QueueUrl=queue_url(sqs, queue), ReceiptHandle=message["ReceiptHandle"])


def lambda_event(sqs: Any, queue: str, messages: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """A Lambda SQS event of these messages, shaped as the event source mapping (and QueueDrainer) makes it."""
    account = queue_url(sqs, queue).rstrip("/").split("/")[-2]
    return {"Records": [{
        "messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
        "attributes": m.get("Attributes", {}), "messageAttributes": m.get("MessageAttributes", {}),
        "md5OfBody": m.get("MD5OfBody", ""), "eventSource": "aws:sqs", "awsRegion": REGION,
        "eventSourceARN": f"arn:aws:sqs:{REGION}:{account}:{queue}",
    } for m in messages]}


def run_tasks(event: dict[str, Any]) -> Any:
    """Invoke the app's `run_tasks` handler as Lambda does."""
    from chalice.local import LambdaContext

    from app import app

    return app.handler_map["run_tasks"](event, LambdaContext("run_tasks", 512))


def stored_task(services: Services, session: TaskSession) -> TaskRecord:
    (record,) = services.store.list_tasks(session.session)
    return record


def force(services: Services, record: TaskRecord, **changes: Any) -> TaskRecord:
    """Overwrite a task record as another worker would (conditional on its current state)."""
    changed = dataclasses.replace(record, **changes)
    services.store.write_tasks([TaskWrite(changed, record.status, record.attempts)])
    return changed


def waiting_on_task(start: Start, interview: str, variables: dict[str, Any]) -> TaskSession:
    """A session of `interview` whose answers just started its background task."""
    session = start(interview)
    ok_json(session.set(variables))
    (task,) = session.tasks()
    assert task["status"] == "queued", task
    return session


# ---------------------------------------------------------------------------- a. duplicate delivery
def test_a_duplicate_message_applies_the_callback_once(
    start: Start, drainer: QueueDrainer, fresh_aws: dict[str, Any], fast_retries: Services
) -> None:
    # Given: a session whose callback increments `counter`, and a second copy of its task message on the queue
    sqs = fresh_aws["sqs"]
    session = waiting_on_task(start, "bg_counter_callback.yml", {"value_to_add": 5})
    (message,) = receive(sqs, TASK_QUEUE)
    make_visible(sqs, TASK_QUEUE, message)
    sqs.send_message(QueueUrl=queue_url(sqs, TASK_QUEUE), MessageBody=message["Body"])

    # When: the worker drains both copies
    handled = drainer.drain()

    # Then: both were handled and acknowledged, the callback ran once, and the task is done after one attempt
    assert handled == 2
    assert queue_depth(sqs, TASK_QUEUE) == 0
    answers = session.answers()
    assert (answers["counter"], answers["answer"]) == (1, 558)
    task = session.task()
    assert (task["status"], task["attempts"]) == ("done", 1)
    screen = session.screen()
    assert screen["questionText"] == "The answer is 558."
    assert plain(screen["subquestionText"]) == "The callback ran 1 time(s)."


def test_the_same_event_invoked_twice_runs_the_task_once(
    start: Start, fresh_aws: dict[str, Any], fast_retries: Services
) -> None:
    # Given: a session whose callback increments `counter`, and the Lambda event of its task message
    sqs = fresh_aws["sqs"]
    session = waiting_on_task(start, "bg_counter_callback.yml", {"value_to_add": 5})
    event = lambda_event(sqs, TASK_QUEUE, receive(sqs, TASK_QUEUE))

    # When: run_tasks is invoked twice with the same event
    first, second = run_tasks(event), run_tasks(event)

    # Then: both invocations acknowledge the message, and the callback was applied once
    assert first == {"batchItemFailures": []}
    assert second == {"batchItemFailures": []}
    assert session.answers()["counter"] == 1
    task = session.task()
    assert (task["status"], task["attempts"]) == ("done", 1)


def test_a_redelivery_that_reclaims_the_task_during_the_callback_leaves_one_callback_applied(
    start: Start, fresh_aws: dict[str, Any], fast_retries: Services
) -> None:
    from chalicelib.web import context

    # Given: a counting session; when the first worker is about to commit its callback, its lease has run out
    # and a redelivered message reclaims the task and runs it to the end (callback included)
    sqs = fresh_aws["sqs"]
    session = waiting_on_task(start, "bg_counter_callback.yml", {"value_to_add": 5})
    event = lambda_event(sqs, TASK_QUEUE, receive(sqs, TASK_QUEUE))
    rival_ran: list[Any] = []
    overtaken = threading.Event()
    finishing: list[str] = []  # how each commit that finishes the task ended

    class OvertakenStore(WrappedStore):
        def commit(self, before: SessionHead, after: SessionHead, put: StepRecord | None,
                   delete_steps: Sequence[int] = (), extras: Mapping[str, Sealed] | None = None,
                   tasks: Sequence[TaskWrite] = (), notes: Sequence[Notification] = ()) -> None:
            if not finishes_a_task(tasks):
                return self.inner.commit(before, after, put, delete_steps, extras, tasks, notes)
            if not overtaken.is_set():  # the first worker's callback, not the rival's
                overtaken.set()
                force(fast_retries, stored_task(fast_retries, session), lease_until=time.time() - 1)
                rival_ran.append(run_tasks(event))
            self.recorded_commit(finishing, before, after, put, delete_steps, extras, tasks, notes)

    context.use_services(dataclasses.replace(fast_retries, store=OvertakenStore(fast_retries.store)))

    # When: the first worker handles the message
    response = run_tasks(event)

    # Then: the rival finished the task on a second attempt; the first worker's callback was not applied again
    assert rival_ran == [{"batchItemFailures": []}]
    assert response == {"batchItemFailures": []}
    assert finishing[0] == "committed" and finishing[-1] == "TaskStateError" and finishing.count("committed") == 1
    assert session.answers()["counter"] == 1
    task = session.task()
    assert (task["status"], task["attempts"]) == ("done", 2)


def test_a_duplicate_while_another_worker_holds_the_lease_is_acknowledged_without_running(
    start: Start, fresh_aws: dict[str, Any], fast_retries: Services
) -> None:
    # Given: a task claimed by a live worker (running, lease in the future) and a duplicate of its message
    sqs = fresh_aws["sqs"]
    session = waiting_on_task(start, "bg_counter_callback.yml", {"value_to_add": 5})
    event = lambda_event(sqs, TASK_QUEUE, receive(sqs, TASK_QUEUE))
    force(fast_retries, stored_task(fast_retries, session), status="running", attempts=1,
          lease_until=time.time() + 60)

    # When: the duplicate is delivered
    response = run_tasks(event)

    # Then: it is acknowledged, nothing ran, and the task is still the other worker's
    assert response == {"batchItemFailures": []}
    assert session.answers()["counter"] == 0
    task = session.task()
    assert (task["status"], task["attempts"]) == ("running", 1)


# ---------------------------------------------------------------------------- b. lease expiry and the sweep
def test_a_task_whose_worker_died_is_reclaimed_after_its_lease_and_finishes(
    start: Start, drainer: QueueDrainer, fresh_aws: dict[str, Any], fast_retries: Services
) -> None:
    # Given: a worker received the message, claimed the task (attempt 1) and died; its lease has run out
    sqs = fresh_aws["sqs"]
    session = waiting_on_task(start, "background_action_with_response_action.yml", {"value_to_add": 5})
    (message,) = receive(sqs, TASK_QUEUE)
    force(fast_retries, stored_task(fast_retries, session), status="running", attempts=1,
          lease_until=time.time() - 1)  # (not read through the API here: its sweep would resend the task)

    # When: the message becomes visible again (its visibility timeout ends) and the worker drains the queue
    make_visible(sqs, TASK_QUEUE, message)
    handled = drainer.drain()

    # Then: the task was reclaimed as attempt 2 and finished with the right value
    assert handled == 1
    task = session.task()
    assert (task["status"], task["attempts"]) == ("done", 2)
    assert session.answers()["answer"] == 558
    assert session.screen()["questionText"] == "The answer is 558."


def test_the_sweep_resends_a_running_task_past_its_lease_whose_message_is_gone(
    start: Start, drainer: QueueDrainer, fresh_aws: dict[str, Any], fast_retries: Services
) -> None:
    # Given: a task stuck running past its lease, its message deleted (a worker that died after acknowledging)
    sqs = fresh_aws["sqs"]
    session = waiting_on_task(start, "background_action_with_response_action.yml", {"value_to_add": 5})
    (message,) = receive(sqs, TASK_QUEUE)
    delete(sqs, TASK_QUEUE, message)
    force(fast_retries, stored_task(fast_retries, session), status="running", attempts=1,
          lease_until=time.time() - 1)
    assert queue_depth(sqs, TASK_QUEUE) == 0

    # When: the client reads the tasks list
    session.tasks()

    # Then: the task is queued again with a new message for it
    assert stored_task(fast_retries, session).status == "queued"
    (resent,) = receive(sqs, TASK_QUEUE)
    assert json.loads(resent["Body"]) == json.loads(message["Body"])
    make_visible(sqs, TASK_QUEUE, resent)

    # When: the worker drains the queue
    assert drainer.drain() == 1

    # Then: the task finishes on attempt 2 with the right value
    task = session.task()
    assert (task["status"], task["attempts"]) == ("done", 2)
    assert session.answers()["answer"] == 558


def test_the_sweep_resends_a_queued_task_whose_message_was_lost(
    start: Start, drainer: QueueDrainer, fresh_aws: dict[str, Any], fast_retries: Services
) -> None:
    # Given: a task queued long ago (more than twice the lease) whose message never reached the queue
    sqs = fresh_aws["sqs"]
    session = waiting_on_task(start, "background_action_with_response_action.yml", {"value_to_add": 5})
    delete(sqs, TASK_QUEUE, receive(sqs, TASK_QUEUE)[0])
    record = stored_task(fast_retries, session)
    force(fast_retries, record, created=record.created - 3 * fast_retries.settings.task_lease_seconds)

    # When: the client checks in (which reads the session's tasks), then the worker drains the queue
    assert session.checkin() == []
    assert queue_depth(sqs, TASK_QUEUE) == 1
    assert drainer.drain() == 1

    # Then: the task is done on its first attempt
    task = session.task()
    assert (task["status"], task["attempts"]) == ("done", 1)
    assert session.answers()["answer"] == 558


def test_the_sweep_leaves_a_task_running_within_its_lease_alone(
    start: Start, fresh_aws: dict[str, Any], fast_retries: Services
) -> None:
    # Given: a task held by a live worker (lease in the future), its message in flight
    sqs = fresh_aws["sqs"]
    session = waiting_on_task(start, "background_action_with_response_action.yml", {"value_to_add": 5})
    receive(sqs, TASK_QUEUE)
    force(fast_retries, stored_task(fast_retries, session), status="running", attempts=1,
          lease_until=time.time() + 60)

    # When: the client reads the tasks list
    (task,) = session.tasks()

    # Then: it is running, and no second message was sent
    assert (task["status"], task["attempts"]) == ("running", 1)
    assert queue_depth(sqs, TASK_QUEUE) == 1


# ---------------------------------------------------------------------------- c. failures
def test_a_task_whose_code_raises_fails_at_once_and_its_message_is_deleted(
    start: Start, drainer: QueueDrainer, fresh_aws: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    sqs = fresh_aws["sqs"]
    worker = source(drainer, "run_tasks")

    # Given: a session whose background action always raises ValueError
    session = waiting_on_task(start, "bg_always_fails.yml", {"divisor": 7})

    # When: the worker receives the message
    with caplog.at_level(logging.ERROR, logger="chalicelib.runtime.worker"):
        assert drainer.poll(worker) == 1

    # Then: the task failed on its first attempt, and its code ran once
    task = session.task()
    assert (task["status"], task["attempts"]) == ("failed", 1)
    assert task["reason"] == "ValueError in background action 'bg_task'"
    assert task["finished"] is not None
    assert len([r for r in caplog.records if "ValueError in background action" in r.getMessage()]) == 1

    # Then: the message was deleted: nothing is retried, nothing reaches the dead-letter queue
    assert drainer.poll(worker) == 0
    assert queue_depth(sqs, TASK_QUEUE) == 0
    assert queue_depth(sqs, DEAD_LETTER_QUEUE) == 0
    assert drainer.drain() == 0

    # Then: the interview's handle says what happened
    screen = session.screen()
    assert screen["questionText"] == "Failed: True."
    assert plain(screen["subquestionText"]) == (
        "Error type: ValueError. Error message: cannot divide 553 by 7. Value: None.")


def test_the_dead_letter_handler_fails_a_task_the_worker_never_finished(
    start: Start, drainer: QueueDrainer, fresh_aws: dict[str, Any], fast_retries: Services
) -> None:
    from chalicelib.web import context

    # Given: a worker that crashes on every delivery before it can claim the task (its claim never gets written)
    claims: list[str] = []

    class CrashingClaims(WrappedStore):
        def write_tasks(self, tasks: Sequence[TaskWrite], notes: Sequence[Notification] = ()) -> None:
            if claims_a_task(tasks):
                claims.append(tasks[0].record.task_id)
                raise RuntimeError("the worker crashed")
            self.inner.write_tasks(tasks, notes)

    context.use_services(dataclasses.replace(fast_retries, store=CrashingClaims(fast_retries.store)))
    session = waiting_on_task(start, "bg_always_fails.yml", {"divisor": 7})

    # When: the worker drains the queues (three deliveries, then the dead-letter queue)
    handled = drainer.drain()

    # Then: the dead-letter handler failed the task, saying why
    assert handled == 4
    assert claims == [session.task()["id"]] * 3
    assert queue_depth(fresh_aws["sqs"], TASK_QUEUE) == 0
    assert queue_depth(fresh_aws["sqs"], DEAD_LETTER_QUEUE) == 0
    task = session.task()
    assert (task["status"], task["attempts"]) == ("failed", 0)
    assert task["reason"] == "gave up after 0 attempt(s): the worker never finished it"
    screen = session.screen()
    assert screen["questionText"] == "Failed: True."
    assert plain(screen["subquestionText"]) == (
        "Error type: TaskAbandoned. Error message: gave up after 0 attempt(s): the worker never finished it. "
        "Value: None.")


# ---------------------------------------------------------------------------- d. partial batch failure
def test_one_message_whose_storage_fails_in_a_batch_is_the_only_batch_item_failure(
    start: Start, fresh_aws: dict[str, Any], fast_retries: Services
) -> None:
    from chalicelib.web import context

    # Given: one batch with two task messages, and a store that is throttled when the worker reads one's session
    sqs = fresh_aws["sqs"]
    good = waiting_on_task(start, "background_action.yml", {"value_to_add": 5})
    bad = waiting_on_task(start, "background_action.yml", {"value_to_add": 6})
    messages = receive(sqs, TASK_QUEUE, count=2)
    (bad_message,) = [m for m in messages if json.loads(m["Body"])["session"] == bad.session]

    class ThrottledStore(WrappedStore):
        def load(self, interview: str, session_id: str) -> tuple[SessionHead, StepRecord]:
            if session_id == bad.session:
                raise StorageError("ProvisionedThroughputExceededException: the table is throttled")
            return self.inner.load(interview, session_id)

    context.use_services(dataclasses.replace(fast_retries, store=ThrottledStore(fast_retries.store)))

    # When: run_tasks handles the batch
    response = run_tasks(lambda_event(sqs, TASK_QUEUE, messages))

    # Then: only the throttled message is reported; the good task is done, the other waits for its retry
    assert response == {"batchItemFailures": [{"itemIdentifier": bad_message["MessageId"]}]}
    context.use_services(fast_retries)
    good_task, bad_task = good.task(), bad.task()
    assert (good_task["status"], good_task["attempts"]) == ("done", 1)
    assert (bad_task["status"], bad_task["attempts"], bad_task["reason"]) == (
        "queued", 1, "attempt 1: StorageError; retrying")
    assert good.screen()["questionText"] == "The answer is 558."


# ---------------------------------------------------------------------------- e. outbox timing
@dataclasses.dataclass
class Sent:
    message: dict[str, str]
    head_version: int
    task_status: str | None
    value_to_add: Any


class CommitCheckingQueue:
    """A TaskQueue that, when asked to send, first records what is committed for each message."""

    def __init__(self, inner: Any, services: Services) -> None:
        self.inner = inner
        self.services = services
        self.secret = ""
        self.sent: list[Sent] = []

    def send(self, messages: Sequence[dict[str, str]]) -> None:
        for message in messages:
            head, _ = self.services.store.load(message["i"], message["session"])
            answers = Sessions(self.services).read(SessionRef(message["i"], message["session"], self.secret)).answers
            task = self.services.store.load_task(message["session"], message["task"])
            self.sent.append(Sent(dict(message), head.version, task.status if task else None,
                                  answers.get("value_to_add", "<undefined>")))
        self.inner.send(messages)

    def delay(self, receipt_handle: str, seconds: int) -> None:
        self.inner.delay(receipt_handle, seconds)


def test_the_task_message_is_sent_only_after_the_answers_that_started_it_are_committed(
    start: Start, drainer: QueueDrainer, fast_retries: Services
) -> None:
    from chalicelib.web import context

    # Given: the services' queue records, at each send, what the store holds; a background_action_test_timing.yml
    # session (its code goes on for 2 s after background_action(), and its task reads value_to_add from the answers)
    recorder = CommitCheckingQueue(fast_retries.queue, fast_retries)
    context.use_services(dataclasses.replace(fast_retries, queue=recorder))
    session = start("background_action_test_timing.yml")
    recorder.secret = session.secret

    # When: the user adds 5
    ok_json(session.set({"value_to_add": 5}))

    # Then: one message was sent, when the step holding value_to_add, the head and the task were all committed
    head, _ = fast_retries.store.load(session.interview, session.session)
    (sent,) = recorder.sent
    assert sent.message == {"i": session.interview, "session": session.session, "task": session.task()["id"]}
    assert sent.value_to_add == 5
    assert sent.task_status == "queued"
    assert sent.head_version == head.version

    # When: the worker drains the queue
    assert drainer.drain() == 1

    # Then: the worker saw value_to_add
    assert session.screen()["questionText"] == "The answer is 558."


# ---------------------------------------------------------------------------- f. racing
NOTES = 6


@pytest.fixture
def moto_endpoint(moto_aws: None) -> Iterator[str]:
    """moto's server on a local port, one request at a time (the in-process moto is not thread-safe).

    It serves the same moto backends as the in-process clients (`fresh_aws` created the resources)."""
    from chalicelib.local.moto_server import MotoServer

    server = MotoServer().start()
    yield server.url
    server.stop()


@pytest.fixture
def served(moto_endpoint: str, fast_retries: Services, api: Any) -> tuple[Services, QueueDrainer]:
    """The app's services and a drainer, every AWS call going through the moto server.

    Installed after `api` (whose admin key the server-backed account store then finds) and `fast_retries`."""
    import boto3
    from botocore.config import Config

    from app import app
    from chalicelib.runtime.queue import SqsTaskQueue
    from chalicelib.storage.accounts import DynamoAccountStore
    from chalicelib.storage.dynamodb import DynamoSessionStore
    from chalicelib.web import context

    config = Config(max_pool_connections=10, retries={"mode": "standard"})
    dynamodb, s3, sqs = (boto3.client(name, region_name=REGION, endpoint_url=moto_endpoint, config=config)
                         for name in ("dynamodb", "s3", "sqs"))
    settings = fast_retries.settings
    services = dataclasses.replace(
        fast_retries,
        store=DynamoSessionStore(settings.table_name, settings.blob_bucket, client=dynamodb, s3=s3),
        accounts=DynamoAccountStore(settings.table_name, client=dynamodb),
        queue=SqsTaskQueue(settings.task_queue, client=sqs),
    )
    context.use_services(services)
    return services, QueueDrainer(app, sqs=sqs)


def test_a_background_callback_racing_user_answers_loses_neither_sides_changes(
    start: Start, served: tuple[Services, QueueDrainer]
) -> None:
    from chalicelib.web import context

    services, drainer = served
    # Given: a session whose task's callback sets callback_value; the callback's first commit is held until
    # the user's first answer has committed, so that it must lose the race (the rest race freely)
    session = start("bg_race.yml")
    assert session.screen()["questionText"] == "Notes are being taken."
    version_before, _ = services.store.load(session.interview, session.session)
    callback_committing, first_note_committed = threading.Event(), threading.Event()
    finishing: list[str] = []  # how each commit of the callback (the commit that finishes the task) ended

    class HeldCallbackStore(WrappedStore):
        def commit(self, before: SessionHead, after: SessionHead, put: StepRecord | None,
                   delete_steps: Sequence[int] = (), extras: Mapping[str, Sealed] | None = None,
                   tasks: Sequence[TaskWrite] = (), notes: Sequence[Notification] = ()) -> None:
            if not finishes_a_task(tasks):
                return self.inner.commit(before, after, put, delete_steps, extras, tasks, notes)
            if not callback_committing.is_set():
                callback_committing.set()
                first_note_committed.wait(30)
            self.recorded_commit(finishing, before, after, put, delete_steps, extras, tasks, notes)

    context.use_services(dataclasses.replace(services, store=HeldCallbackStore(services.store)))
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            drainer.drain()
        except BaseException as err:  # reported below
            errors.append(err)

    # When: the worker runs the callback in a thread while the user posts note_1..note_6 through the API
    thread = threading.Thread(target=worker, name="worker")
    thread.start()
    assert callback_committing.wait(30)
    for n in range(1, NOTES + 1):
        ok_json(session.set({f"note_{n}": f"note number {n}"}))
        first_note_committed.set()
    thread.join(timeout=60)

    # Then: the callback's first commit lost to the user's answer, it was committed once on fresh state,
    # and every change of both sides is saved
    assert not thread.is_alive()
    assert errors == []
    assert finishing[0] == "VersionConflictError" and finishing[-1] == "committed", finishing
    assert finishing.count("committed") == 1, finishing
    answers = session.answers()
    assert answers["callback_value"] == "set by the callback"
    assert {f"note_{n}": answers.get(f"note_{n}") for n in range(1, NOTES + 1)} == {
        f"note_{n}": f"note number {n}" for n in range(1, NOTES + 1)}
    task = session.task()
    assert (task["status"], task["attempts"]) == ("done", 1)
    head, _ = services.store.load(session.interview, session.session)
    assert head.version == version_before.version + NOTES + 1


# ---------------------------------------------------------------------------- g. secrets
DISTINCT_NUMBER = 91730417
DISTINCT_REMARK = "quokka-zanzibar-5521"


def _attribute_bytes(attribute: dict[str, Any]) -> Iterator[bytes]:
    """Every string and binary value in a DynamoDB attribute; a signed (not encrypted) blob also uncompressed."""
    for kind, value in attribute.items():
        if kind == "S":
            yield value.encode()
        elif kind == "B":
            blob = bytes(value)
            yield blob
            if blob.startswith(crypto.SIGNED):
                yield zlib.decompress(blob[len(crypto.SIGNED) + 32:])  # after the HMAC-SHA256 tag
        elif kind in ("SS", "BS"):
            yield from (v.encode() if isinstance(v, str) else bytes(v) for v in value)
        elif kind == "M":
            for inner in value.values():
                yield from _attribute_bytes(inner)
        elif kind == "L":
            for inner in value:
                yield from _attribute_bytes(inner)


def stored_bytes(fresh_aws: dict[str, Any], services: Services) -> list[tuple[str, bytes]]:
    """(where, bytes) of everything in the table and the blob bucket."""
    found = []
    for page in fresh_aws["dynamodb"].get_paginator("scan").paginate(TableName=services.settings.table_name):
        for item in page["Items"]:
            where = f"{item['pk'].get('S')} {item['sk'].get('S')}"
            found += [(where, b) for attribute in item.values() for b in _attribute_bytes(attribute)]
    s3, bucket = fresh_aws["s3"], services.settings.blob_bucket
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for obj in page.get("Contents", []):
            found.append((obj["Key"], s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()))
    return found


def test_queue_messages_and_stored_tasks_hold_no_secret_and_no_argument_in_clear(
    start: Start, drainer: QueueDrainer, fresh_aws: dict[str, Any], fast_retries: Services
) -> None:
    sqs = fresh_aws["sqs"]
    # Given: an encrypted session whose task gets the user's distinctive answers as its arguments
    session = start("bg_secret_arguments.yml")
    ok_json(session.set({"value_to_add": DISTINCT_NUMBER, "private_remark": DISTINCT_REMARK}))
    task_id = session.task()["id"]
    session_key = crypto.session_key(session.secret, session.session)
    head, _ = fast_retries.store.load(session.interview, session.session)
    assert head.encrypted

    # When: the raw message is read off the queue
    (message,) = receive(sqs, TASK_QUEUE)
    body = message["Body"]

    # Then: it holds the ids and nothing else: not the secret, not the answers, not the arguments
    assert json.loads(body) == {"i": "bg_secret_arguments.yml", "session": session.session, "task": task_id}
    for secret in (session.secret, str(DISTINCT_NUMBER), DISTINCT_REMARK, "additional", "remark"):
        assert secret not in body

    # Then: the stored task's payload and key are encrypted, and no stored byte holds the secrets in clear
    record = stored_task(fast_retries, session)
    assert record.payload.startswith(crypto.SEALED)
    assert record.key_wrap.startswith(crypto.WRAPPED)
    stored = stored_bytes(fresh_aws, fast_retries)
    assert any(session.session.encode() in data for _, data in stored)  # the scan does see this session's items
    needles: tuple[bytes, ...] = (session.secret.encode(), session_key, str(DISTINCT_NUMBER).encode(),
                                  DISTINCT_REMARK.encode())
    leaks = [(where, needle) for where, data in stored for needle in needles if needle in data]
    assert leaks == []

    # When: the worker runs the task
    make_visible(sqs, TASK_QUEUE, message)
    assert drainer.drain() == 1

    # Then: the worker could open the arguments, and its result is stored sealed too
    assert session.screen()["questionText"] == f"The answer is {553 + DISTINCT_NUMBER} ({DISTINCT_REMARK})."
    assert stored_task(fast_retries, session).result.startswith(crypto.SEALED)
    needles += (str(553 + DISTINCT_NUMBER).encode(),)
    leaks = [(where, needle) for where, data in stored_bytes(fresh_aws, fast_retries) for needle in needles
             if needle in data]
    assert leaks == []


# ---------------------------------------------------------------------------- h. revoke()
def test_a_task_revoked_before_it_runs_is_acknowledged_and_never_runs(
    start: Start, drainer: QueueDrainer, fresh_aws: dict[str, Any]
) -> None:
    # Given: a session waiting on its queued task
    session = start("bg_revoke.yml")
    assert session.screen()["questionText"] == "Hang tight."
    assert session.task()["status"] == "queued"

    # When: the user runs the `cancel` action, which calls the_task.revoke()
    result = session.action("cancel")

    # Then: the task is failed as revoked at once
    assert result.status == 204, result.body
    task = session.task()
    assert (task["status"], task["attempts"], task["reason"]) == ("failed", 0, "revoked")
    assert task["finished"] is not None

    # When: the worker receives the message
    handled = drainer.drain()

    # Then: it acknowledged it without running anything
    assert handled == 1
    assert queue_depth(fresh_aws["sqs"], TASK_QUEUE) == 0
    assert session.task() == task
    answers = session.answers()
    assert answers["cancelled"] is True
    assert "task_ran" not in answers
    screen = session.screen()
    assert screen["questionText"] == "Ready: True. Failed: True. Cancelled: True."
    assert plain(screen["subquestionText"]) == "Status: failed. Ran: False. Value: None."


def test_a_task_revoked_in_the_turn_that_started_it_never_runs(
    start: Start, drainer: QueueDrainer, fresh_aws: dict[str, Any]
) -> None:
    # Given: an interview whose code revokes its task right after background_action() returns
    session = start("bg_revoke_same_turn.yml")

    # When: the worker drains the queue
    drainer.drain()

    # Then: revoke() said it cancelled the task, the task is failed as revoked, and its callback never ran
    answers = session.answers()
    assert answers["cancelled"] is True
    assert "task_ran" not in answers
    task = session.task()
    assert (task["status"], task["attempts"], task.get("reason")) == ("failed", 0, "revoked")
    assert queue_depth(fresh_aws["sqs"], TASK_QUEUE) == 0
    screen = session.screen()
    assert screen["questionText"] == "Cancelled: True."
    assert plain(screen["subquestionText"]) == "Ran: False."


def test_a_task_revoked_while_it_runs_never_applies_its_callback(
    start: Start, drainer: QueueDrainer, fresh_aws: dict[str, Any], fast_retries: Services,
    caplog: pytest.LogCaptureFixture
) -> None:
    from chalicelib.web import context

    # Given: a session waiting on its task, and a worker that, once it claimed the task and reads the session
    # to run its code, finds that the user has just run `cancel` (the_task.revoke()) through the API
    session = start("bg_revoke.yml")
    cancelled: list[int] = []
    armed = [True]

    class CancelledMeanwhile(WrappedStore):
        def load(self, interview: str, session_id: str) -> tuple[SessionHead, StepRecord]:
            if armed and stored_task(fast_retries, session).status == "running":
                armed.clear()
                cancelled.append(session.action("cancel").status)
            return self.inner.load(interview, session_id)

    context.use_services(dataclasses.replace(fast_retries, store=CancelledMeanwhile(fast_retries.store)))

    # When: the worker drains the queue
    with caplog.at_level(logging.INFO, logger="chalicelib.interviews"):
        handled = drainer.drain()

    # Then: the cancel ran while the task was running; the message was acknowledged, and the callback's code
    # never ran, so nothing of it applied
    assert cancelled == [204]
    assert handled == 1
    assert queue_depth(fresh_aws["sqs"], TASK_QUEUE) == 0
    task = session.task()
    assert (task["status"], task["attempts"], task["reason"]) == ("failed", 1, "revoked")
    assert [r.getMessage() for r in caplog.records if r.name == "chalicelib.interviews"] == []
    answers = session.answers()
    assert answers["cancelled"] is True
    assert "task_ran" not in answers
    screen = session.screen()
    assert screen["questionText"] == "Ready: True. Failed: True. Cancelled: True."
    assert plain(screen["subquestionText"]) == "Status: failed. Ran: False. Value: None."
