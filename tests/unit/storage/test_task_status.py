"""Task statuses are stored as text: the strings must never change, and they come back as plain strings."""

from __future__ import annotations

import pytest

from chalicelib.engine.tasks import FINISHED, TaskSnapshot, TaskStatus
from chalicelib.storage.dynamodb_tasks import task_from_item, task_to_item
from chalicelib.storage.tasks import TaskRecord


def test_the_statuses_keep_the_strings_stored_tables_and_api_clients_hold() -> None:
    assert [status.value for status in TaskStatus] == ["queued", "running", "done", "failed"]
    assert FINISHED == {"done", "failed"}


@pytest.mark.parametrize("status", list(TaskStatus))
def test_a_task_item_round_trips_its_status_as_a_plain_string(status: TaskStatus) -> None:
    item = task_to_item(TaskRecord("s" * 32, "t1", "i.yml", "act", status, 1.0))
    assert item["status"] == {"S": status.value}
    back = task_from_item(item)
    assert back.status == status and type(back.status) is str
    assert TaskSnapshot("t1", "act", back.status).finished is (status in FINISHED)
