"""A wrapped session key lives only as long as the task that needs it; task and notification items expire.

The worker opens an encrypted session with the session key wrapped under the
server's `wrap` sub-key in the task item. Every write that ends a task (done,
failed, a callback's commit, the dead-letter handler, revoke) drops that wrap
and the payload in the same conditional write, so the server key plus a table
read opens no session that once ran a task. Task and notification items carry
the table's TTL attribute `expires_at`.
"""

from __future__ import annotations

import dataclasses
import json
import time
from typing import Any

import pytest

from chalicelib.local.drainer import QueueDrainer
from chalicelib.runtime.services import Services
from chalicelib.runtime.sessions import Sessions
from chalicelib.runtime.worker import Worker
from chalicelib.storage import crypto
from chalicelib.storage.errors import TamperedDataError
from chalicelib.storage.tasks import TaskWrite
from tests.functional.api.helpers import ok_json
from tests.functional.tasks.conftest import Start, TaskSession

DAY = 86400


def raw_items(fresh_aws: dict[str, Any], services: Services, session: TaskSession, prefix: str) -> list[Any]:
    """The session's items whose sort key starts with `prefix`, as DynamoDB holds them."""
    return fresh_aws["dynamodb"].query(
        TableName=services.settings.table_name, KeyConditionExpression="pk = :pk AND begins_with(sk, :p)",
        ExpressionAttributeValues={":pk": {"S": f"session#{session.session}"}, ":p": {"S": prefix}},
    )["Items"]


def task_item(fresh_aws: dict[str, Any], services: Services, session: TaskSession) -> dict[str, Any]:
    (item,) = raw_items(fresh_aws, services, session, "task#")
    return item


def assert_ended_without_key(item: dict[str, Any], status: str, services: Services) -> None:
    """The item of a task that ended: no wrapped key, no payload, and an expiry TASK_RECORD_DAYS on."""
    assert item["status"] == {"S": status}
    assert "key_wrap" not in item and "payload" not in item
    finished = float(item["finished"]["N"])
    assert int(item["expires_at"]["N"]) == int(finished + services.settings.task_record_days * DAY)


def started(start: Start, interview: str, variables: dict[str, Any]) -> TaskSession:
    session = start(interview)
    ok_json(session.set(variables))
    assert session.task()["status"] == "queued"
    return session


def test_a_queued_task_holds_the_key_wrapped_under_the_wrap_sub_key_and_expires_long_after_any_lease(
    start: Start, fresh_aws: dict[str, Any], fast_retries: Services
) -> None:
    # Given: an encrypted session that just started a task
    session = started(start, "bg_secret_arguments.yml", {"value_to_add": 1, "private_remark": "r"})
    # When: its task item is read raw
    item = task_item(fresh_aws, fast_retries, session)
    # Then: the wrapped key opens with the `wrap` sub-key only, not with the server key itself
    wrapped, aad = bytes(item["key_wrap"]["B"]), f"{session.session}:task:{item['sk']['S'][5:]}:key".encode()
    assert crypto.unwrap_key(wrapped, fast_retries.keys.wrap, aad) == crypto.session_key(session.secret,
                                                                                          session.session)
    with pytest.raises(TamperedDataError):
        crypto.unwrap_key(wrapped, fast_retries.settings.server_key, aad)
    # Then: the item expires, but long after any lease or retry (30 days at least)
    created = float(item["created"]["N"])
    assert int(item["expires_at"]["N"]) >= int(created) + 30 * DAY


def test_a_task_that_finishes_drops_its_key_and_payload_and_keeps_its_result_until_it_expires(
    start: Start, drainer: QueueDrainer, fresh_aws: dict[str, Any], fast_retries: Services
) -> None:
    # Given: a started task
    session = started(start, "bg_secret_arguments.yml", {"value_to_add": 1, "private_remark": "quokka"})
    # When: the worker runs it
    assert drainer.drain() == 1
    # Then: the write that finished it dropped the wrapped key and the payload
    assert_ended_without_key(task_item(fresh_aws, fast_retries, session), "done", fast_retries)
    # Then: the tasks list still shows it, and the interview still reads its (sealed) result
    assert session.task()["status"] == "done"
    assert session.screen()["questionText"] == "The answer is 554 (quokka)."


def test_a_notification_expires_after_task_record_days(
    start: Start, drainer: QueueDrainer, fresh_aws: dict[str, Any], fast_retries: Services
) -> None:
    # Given: a task that flashes a message when done
    session = started(start, "background_action_flash.yml", {"value_to_add": 1})
    # When: it ran, and its notification waits for a check-in
    assert drainer.drain() == 1
    (note,) = raw_items(fresh_aws, fast_retries, session, "note#")
    # Then: the notification item expires with the task, and is still delivered meanwhile
    (task,) = raw_items(fresh_aws, fast_retries, session, "task#")
    assert abs(int(note["expires_at"]["N"]) - int(task["expires_at"]["N"])) <= 1
    assert [c["extra"] for c in session.checkin()] == ["flash"]


def test_the_tasks_list_shows_a_finished_task_until_it_expires(
    start: Start, drainer: QueueDrainer, fast_retries: Services
) -> None:
    # Given: a finished task, listed
    session = started(start, "bg_secret_arguments.yml", {"value_to_add": 1, "private_remark": "r"})
    assert drainer.drain() == 1
    assert session.task()["status"] == "done"
    # When: its expiry passes (DynamoDB's TTL may take days more to delete the item)
    (record,) = fast_retries.store.list_tasks(session.session)
    expired = dataclasses.replace(record, expires_at=time.time() - 1)
    fast_retries.store.write_tasks([TaskWrite(expired, record.status, record.attempts)])
    # Then: it is no longer listed
    assert session.tasks() == []


def test_a_callback_that_finishes_a_task_drops_its_key_in_the_same_commit(
    start: Start, drainer: QueueDrainer, fresh_aws: dict[str, Any], fast_retries: Services
) -> None:
    # Given / When: a task whose response action runs as a turn of the session
    session = started(start, "bg_counter_callback.yml", {"value_to_add": 1})
    assert drainer.drain() == 1
    # Then
    assert session.screen()["questionText"] == "The answer is 554."
    assert_ended_without_key(task_item(fresh_aws, fast_retries, session), "done", fast_retries)


def test_a_task_that_fails_for_good_drops_its_key(
    start: Start, drainer: QueueDrainer, fresh_aws: dict[str, Any], fast_retries: Services
) -> None:
    # Given / When: a task that raises on every attempt
    session = started(start, "bg_always_fails.yml", {"divisor": 7})
    drainer.drain()
    # Then
    assert_ended_without_key(task_item(fresh_aws, fast_retries, session), "failed", fast_retries)
    assert session.screen()["questionText"] == "Failed: True."


def test_the_dead_letter_handler_drops_the_key_of_the_task_it_fails(
    start: Start, fresh_aws: dict[str, Any], fast_retries: Services
) -> None:
    # Given: a task whose message reached the dead-letter queue without the task ever finishing
    session = started(start, "bg_always_fails.yml", {"divisor": 7})
    task_id = session.task()["id"]
    # When
    Worker(Sessions(fast_retries)).abandon(json.dumps({"i": session.interview, "session": session.session,
                                                    "task": task_id}))
    # Then
    assert_ended_without_key(task_item(fresh_aws, fast_retries, session), "failed", fast_retries)
    assert session.screen()["questionText"] == "Failed: True."


def test_a_revoked_task_drops_its_key(start: Start, fresh_aws: dict[str, Any], fast_retries: Services) -> None:
    # Given: a session waiting on its queued task
    session = start("bg_revoke.yml")
    assert "key_wrap" in task_item(fresh_aws, fast_retries, session)
    # When: the interview revokes it
    assert session.action("cancel").status == 204
    # Then
    assert_ended_without_key(task_item(fresh_aws, fast_retries, session), "failed", fast_retries)


def test_a_task_revoked_in_the_turn_that_made_it_never_stores_a_key(
    start: Start, fresh_aws: dict[str, Any], fast_retries: Services
) -> None:
    session = start("bg_revoke_same_turn.yml")
    assert_ended_without_key(task_item(fresh_aws, fast_retries, session), "failed", fast_retries)
